/* Vector log1p = log(1 + x) on the SIMD shim; include pattern: see exp.h.
 *
 *   vec ag_log1p(vec x)
 *       log(1 + x) for every x, <= 1 ULP (measured max in test_vmath.c).
 *       log1p(+-0) = +-0, tiny/subnormal x -> x, log1p(-1) = -inf,
 *       log1p(x < -1) = NaN, log1p(+inf) = +inf, NaN -> NaN.
 *
 *   vec ag_log1p01_dw(vec e, vec el, vec *lo)
 *       log1p(e + el) for 0 <= e <= 1 and a low part el as hi + *lo, by the
 *       same steps without the general case's exponent split and special
 *       values, in half the operations (softplus, log_sigmoid: e^-|x| as
 *       ag_exp_dw's pair; BCE): hi + lo within 0.4 ULP of hi (test_vmath.c
 *       measures 0.39).  The error is largest near |f| = 0.41 (below): the
 *       roundings of hfsq, of X and of s (a few u on a term s (hfsq + R) of
 *       0.07 of the result) each add about 0.12 ULP of the result.
 *
 * Method (fdlibm's log1p, branch-free): u = fl(1 + x) and c = (1 + x) - u
 * exactly (Fast2Sum with the larger of 1, x first).  u = 2^k m with
 * m in [sqrt(2)/2, sqrt(2)), f = m - 1 exactly, so
 *   log1p(x) = k ln2 + log(1 + f) + log(1 + c/u) ~ k ln2 + log(1 + f) + c/u.
 * (for 1 + x in [sqrt(2)/2, sqrt(2)]: f = x, k = c = 0).
 * With s = f/(2 + f) (|s| <= 0.1716), z = s^2 and hfsq = f^2/2,
 *   log(1 + f) = 2 atanh(s) = f - hfsq + s (hfsq + R(z)),  R(z) = 2 atanh(s)/s - 2,
 * summed as k ln2_hi - ((hfsq - (s (hfsq + R) + (k ln2_lo + c/u))) - f)
 * (the last two subtractions by 2Sum, or Fast2Sum where the order of the
 * terms is known: exact, so ag_log1p01_dw also returns their errors).
 * s and c/u come from one division: 1/(m (m + 1)).
 */
/* Uses (included before it by ops/all.h): vmath/exp.h. */

/* log(2^k (1 + f)) + corr as hi + *lo_out, for f = m - 1 exact with m in [sqrt(2)/2, sqrt(2)],
 * s = f/(2 + f) (to a few roundings: s enters only through s (hfsq + R), at most 0.07 of
 * the result), k integral and corr a small correction (c/u above, and any low part of the
 * argument divided by 1 + x): the sum of the method above. */
AG_INLINE vec AG_FN(ag_log1p_sum_)(vec f, vec s, vec k, vec corr, vec *lo_out)
{
#if AG_IS_F32
    const AG_T ln2hi = 0x1.62e4p-1f, ln2lo = 0x1.7f7d1cp-20f;
#else
    const AG_T ln2hi = 0x1.62e42feep-1, ln2lo = 0x1.a39ef35793c76p-33;
#endif
    vec z = v_mul(s, s);
    /* R(z) = z P(z) ~ 2 atanh(s)/s - 2 on z <= 0.02947: near-minimax fits
     * (Lawson IRLS in mpmath) of the absolute error of s R(z) / (2 s):
     * f32 degree 2, < 2^-30.0; f64 degree 6, < 2^-59.1. */
#if AG_IS_F32
    vec p = AG_C(0x1.31e682p-2f);
    p = v_fma(p, z, AG_C(0x1.995e9ap-2f));
    p = v_fma(p, z, AG_C(0x1.55557ap-1f));
#else
    /* Estrin's scheme (vmath/d32.h; positive terms) */
    vec z2 = v_mul(z, z);
    vec p = ag_f64_estrin6(z, z2, v_mul(z2, z2), 0x1.5555555555593p-1, 0x1.999999997fb2bp-2,
                           0x1.2492494217e99p-2, 0x1.c71c51e7c4f7cp-3, 0x1.74664635b4c87p-3,
                           0x1.39a0f42cd0b22p-3, 0x1.2f0d964dd29p-3);
#endif
    vec R = v_mul(z, p);
    vec hfsq = v_mul(AG_C(0.5), v_mul(f, f));
    vec lo = v_fma(k, v_set1(ln2lo), corr);
    vec X = v_sub(hfsq, v_fma(s, v_add(hfsq, R), lo));
    vec in = v_sub(X, f), b = v_sub(in, X);            /* 2Sum: in + il = X - f */
    vec il = v_add(v_sub(X, v_sub(in, b)), v_sub(v_neg(f), b));
    vec K = v_mul(k, v_set1(ln2hi));                   /* exact */
    /* Fast2Sum, res + rl = K - in: K = 0, or |K| >= ln2hi > 0.35 >= |in| */
    vec res = v_sub(K, in);
    *lo_out = v_sub(v_sub(v_sub(K, res), in), il);     /* rl - il */
    return res;
}

AG_INLINE vec AG_FN(ag_log1p)(vec x)
{
#if AG_IS_F32
    const AG_T tiny = 0x1p-25f, kmin = -126.0f;
#else
    const AG_T tiny = 0x1p-54, kmin = -1022.0;
#endif
    vec one = AG_C(1);
    vec u = v_add(one, x);
    vec c = v_select(v_ge(x, one), v_sub(one, v_sub(u, x)), v_sub(x, v_sub(u, one)));
    vec k = v_getexp(u);
    vec m = v_getmant(u);
    vmask big = v_gt(m, AG_C(0x1.6a09e667f3bcdp+0));   /* sqrt(2) */
    m = v_select(big, v_mul(m, AG_C(0.5)), m);
    k = v_select(big, v_add(k, one), k);
    /* For 1 + x in [sqrt(2)/2, sqrt(2)], f = x, k = 0, c = 0 exactly: this
     * keeps the correction c/u (only approximately evaluated) away from small x. */
    vmask mid = v_mand(v_gt(x, AG_C(-0x1.2bec33p-2)), v_lt(x, AG_C(0x1.a827999fcef32p-2)));
    m = v_select(mid, u, m);
    k = v_select(mid, AG_C(0), k);
    c = v_select(mid, AG_C(0), c);
    vec f = v_select(mid, x, v_sub(m, one));           /* exact */
    vec inv = v_div(one, v_mul(m, v_add(m, one)));
    vec s = v_mul(v_mul(f, m), inv);                   /* f/(2 + f) = (m - 1)/(m + 1) */
    vec cu = v_mul(v_mul(v_mul(c, v_add(m, one)), inv), /* c/u = c 2^-k / m */
                   v_pow2i(v_max(v_neg(k), v_set1(kmin))));
    vec rl, res = AG_FN(ag_log1p_sum_)(f, s, k, cu, &rl);   /* rl unused: optimized away */
    /* special values */
    res = v_select(v_lt(v_abs(x), v_set1(tiny)), x, res);
    res = v_select(v_eq(x, AG_C(-1)), AG_C(-INFINITY), res);
    res = v_select(v_lt(x, AG_C(-1)), AG_C(NAN), res);
    return v_select(v_eq(x, AG_C(INFINITY)), x, res);
}

/* log1p(e + el) = hi + *lo_out for 0 <= e <= 1 (or NaN) and a tiny low part el (|el| <= a few
 * ULP of e, or 0): the argument of softplus and log_sigmoid, e^-|x| as ag_exp_dw's pair.  The
 * same steps as ag_log1p on this range without its special cases and the exponent split:
 * 1 + e is in [1, 2], so k is 0 (e < sqrt(2) - 1: f = e exactly, m = fl(1 + e)) or 1 (m =
 * fl(1 + e)/2, f = m - 1 exact, c = 1 + e - fl(1 + e) exact by Fast2Sum as e <= 1), and
 * (c + el)/(1 + e) is one correction, (c + el) (m + 1) inv h with h = 2^-k, from the same
 * division as s (the relative error of fl(1 + e) is harmless on a term of 2^-52 of the
 * result).  Every step is one of ag_log1p's, so the accuracy is the same (for el = 0 the
 * same bits, except that an e whose fl(1 + e) is fl(sqrt 2) may take the other, equally
 * accurate branch), in about half the operations.  e = 0 gives +0 (+0). */
AG_INLINE vec AG_FN(ag_log1p01_dw)(vec e, vec el, vec *lo_out)
{
    vec one = AG_C(1);
    vmask big = v_gt(e, AG_C(0x1.a827999fcef32p-2));   /* sqrt(2) - 1 */
    vec w = v_add(one, e);
    vec h = v_select(big, AG_C(0.5), one);
    vec m = v_mul(w, h);
    vec f = v_select(big, v_sub(m, one), e);           /* exact */
    vec c = v_select(big, v_sub(e, v_sub(w, one)), AG_C(0));
    vec mp = v_add(m, one);
    vec inv = v_div(one, v_mul(m, mp));
    vec s = v_mul(v_mul(f, m), inv);
    vec corr = v_mul(v_mul(v_mul(v_add(c, el), mp), inv), h);
    return AG_FN(ag_log1p_sum_)(f, s, v_select(big, one, AG_C(0)), corr, lo_out);
}

