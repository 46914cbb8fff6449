/* Vector log1p = log(1 + x) on the SIMD shim; include pattern: see exp.h.
 *
 *   vec ag_log1p(vec x)
 *       log(1 + x) for every x, <= 1 ULP (measured max in test_vmath.c).
 *       log1p(+-0) = +-0, tiny/subnormal x -> x, log1p(-1) = -inf,
 *       log1p(x < -1) = NaN, log1p(+inf) = +inf, NaN -> NaN.
 *
 *   vec ag_log1p_dw(vec x, vec *lo)
 *       the same value (bit-identical) and *lo, with hi + lo = log1p(x) to
 *       about 0.2 ULP of hi (lo = 0 for the special values above): for
 *       results that are rounded again after further exact steps (softplus,
 *       log_sigmoid).
 *
 * Method (fdlibm's log1p, branch-free): u = fl(1 + x) and c = (1 + x) - u
 * exactly (Fast2Sum with the larger of 1, x first).  u = 2^k m with
 * m in [sqrt(2)/2, sqrt(2)), f = m - 1 exactly, so
 *   log1p(x) = k ln2 + log(1 + f) + log(1 + c/u) ~ k ln2 + log(1 + f) + c/u.
 * (for 1 + x in [sqrt(2)/2, sqrt(2)]: f = x, k = c = 0).
 * With s = f/(2 + f) (|s| <= 0.1716), z = s^2 and hfsq = f^2/2,
 *   log(1 + f) = 2 atanh(s) = f - hfsq + s (hfsq + R(z)),  R(z) = 2 atanh(s)/s - 2,
 * summed as k ln2_hi - ((hfsq - (s (hfsq + R) + (k ln2_lo + c/u))) - f)
 * (the last two subtractions by 2Sum for ag_log1p_dw).
 * s and c/u come from one division: 1/(m (m + 1)).
 */
/* Uses (included before it by ops/all.h): vmath/exp.h. */

AG_INLINE vec AG_FN(ag_log1p_dw)(vec x, vec *lo_out)
{
#if AG_IS_F32
    const AG_T ln2hi = 0x1.62e4p-1f, ln2lo = 0x1.7f7d1cp-20f;
    const AG_T tiny = 0x1p-25f, kmin = -126.0f;
#else
    const AG_T ln2hi = 0x1.62e42feep-1, ln2lo = 0x1.a39ef35793c76p-33;
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
    vec lo = v_fma(k, v_set1(ln2lo), cu);
    vec X = v_sub(hfsq, v_fma(s, v_add(hfsq, R), lo));
    vec in = v_sub(X, f), b = v_sub(in, X);            /* 2Sum: in + il = X - f */
    vec il = v_add(v_sub(X, v_sub(in, b)), v_sub(v_neg(f), b));
    vec K = v_mul(k, v_set1(ln2hi));                   /* exact */
    vec res = v_sub(K, in);                            /* 2Sum: res + rl = K - in */
    b = v_sub(res, K);
    vec rl = v_add(v_sub(K, v_sub(res, b)), v_sub(v_neg(in), b));
    rl = v_sub(rl, il);
    /* special values */
    res = v_select(v_lt(v_abs(x), v_set1(tiny)), x, res);
    res = v_select(v_eq(x, AG_C(-1)), AG_C(-INFINITY), res);
    res = v_select(v_lt(x, AG_C(-1)), AG_C(NAN), res);
    res = v_select(v_eq(x, AG_C(INFINITY)), x, res);
    vmask sp = v_mor(v_lt(v_abs(x), v_set1(tiny)), v_mor(v_le(x, AG_C(-1)), v_eq(x, AG_C(INFINITY))));
    *lo_out = v_select(sp, AG_C(0), rl);
    return res;
}

AG_INLINE vec AG_FN(ag_log1p)(vec x)
{
    vec lo;
    return AG_FN(ag_log1p_dw)(x, &lo);
}
