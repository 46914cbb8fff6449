/* Vector expm1 = e^x - 1 on the SIMD shim; include pattern: see exp.h.
 *
 *   vec ag_expm1(vec x)
 *       e^x - 1 for every x, <= 1 ULP (measured max in test_vmath.c).
 *       expm1(+-0) = +-0, tiny/subnormal x -> x, expm1(+inf) = +inf,
 *       expm1(-inf) = -1, overflow -> +inf, NaN -> NaN.
 *
 *   vec ag_expm1_mul(vec x, vec lo, vec a, vec al)
 *       (a + al) * expm1(x + lo), rounded once (no separate rounding of
 *       expm1): for alpha*expm1 in elu/selu/celu.  a, al finite; lo as in
 *       ag_exp_hilo (|lo| <= 2^-10, NaN lo treated as -2^-10); pass
 *       lo = -0.0 (keeps expm1(-0) = -0) and al = 0 for a plain product.
 *
 * Method: as exp (exp.h), x + lo = n*ln2 + rh + rl with rh exact, and
 * expm1(r) = rh + q, q = rh^2/2 + (rl (rh + rl/2) + rl + r^3 P3(r)) (P3 shared with
 * exp; rh^2/2 split exactly with an FMA; r = rh + rl only in the r^3 term).
 * Then
 *   e^x - 1 = 2^n (rh + q) + 2^n - 1 = 2 * (t*rh + (t - 1/2) + t*q),  t = 2^(n-1).
 * t - 1/2 is split exactly (2Sum), t*rh is exact, and their sum is split
 * exactly again (Fast2Sum, |t - 1/2| >= |t*rh| or t - 1/2 == 0), so only the
 * small term t*q and the last addition round.  Using 2^(n-1) and a final
 * exact doubling keeps t = 2^(n-1) representable up to the overflow bound.
 */
/* Uses (included before it by ops/all.h): vmath/exp.h. */

/* expm1(x + lo) = k (S + C), with |C| <= 0.2 |S|, k = 2 (k = 1 for tiny x,
 * where S = x, C = lo) and S finite. */
AG_INLINE vec AG_FN(ag_expm1_core_)(vec x, vec lo, vec *C, vec *k)
{
#if AG_IS_F32
    const AG_T log2e = 0x1.715476p+0f, ln2hi = 0x1.62e4p-1f, ln2lo = 0x1.7f7d1cp-20f;
    const AG_T xmax = 89.0f;    /* result inf */
    const AG_T xmin = -18.0f;   /* e^-18 < 2^-25: result -1; n >= -26 */
    const AG_T tiny = 0x1p-25f; /* |x| < tiny: expm1(x) rounds to x */
#else
    const AG_T log2e = 0x1.71547652b82fep+0, ln2hi = 0x1.62e42feep-1, ln2lo = 0x1.a39ef35793c76p-33;
    const AG_T xmax = 710.0;    /* result inf */
    const AG_T xmin = -40.0;    /* e^-40 < 2^-54: result -1; n >= -58 */
    const AG_T tiny = 0x1p-54;
#endif
    lo = v_min(v_max(lo, AG_C(-0x1p-10)), AG_C(0x1p-10));    /* NaN -> -2^-10 */
    vec xc = v_max(v_set1(xmin), v_min(v_set1(xmax), x));   /* NaN stays NaN */
    vec n = v_round(v_mul(xc, v_set1(log2e)));
    n = v_max(n, v_set1(-64));                     /* no-op, but NaN -> a number for pow2i */
    vec rh = v_fnma(n, v_set1(ln2hi), xc);        /* exact */
    vec rl = v_fnma(n, v_set1(ln2lo), lo);
    vec r = v_add(rh, rl);
    vec hr = v_mul(AG_C(0.5), rh);
    vec h = v_mul(hr, rh), hl = v_fms(hr, rh, h);  /* h + hl = rh^2/2 exactly */
    vec q = v_fma(rl, v_fma(AG_C(0.5), rl, rh), rl);
    q = v_add(v_fma(v_mul(r, v_mul(r, r)), AG_FN(ag_exp_poly3_)(r), q), hl);
    q = v_add(h, q);                               /* expm1(r) - rh */
    vec t = v_pow2i(v_sub(n, AG_C(1)));
    vec v = v_sub(t, AG_C(0.5));                   /* 2Sum: v + vl = t - 1/2 */
    vec b = v_sub(v, t);
    vec vl = v_add(v_sub(t, v_sub(v, b)), v_sub(AG_C(-0.5), b));
    vec w = v_mul(t, rh);                          /* exact */
    vec s = v_add(v, w);                           /* Fast2Sum: s + e = v + w */
    vec e = v_sub(w, v_sub(s, v));
    vec c = v_fma(t, q, v_add(e, vl));
    vmask tn = v_lt(v_abs(x), v_set1(tiny));
    *C = v_select(tn, lo, c);
    *k = v_select(tn, AG_C(1), AG_C(2));
    return v_select(tn, x, s);
}

AG_INLINE vec AG_FN(ag_expm1)(vec x)
{
    vec C, k, S = AG_FN(ag_expm1_core_)(x, AG_C(-0.0), &C, &k);  /* -0: expm1(-0) = -0 + -0 */
    return v_mul(v_add(S, C), k);
}

AG_INLINE vec AG_FN(ag_expm1_mul)(vec x, vec lo, vec a, vec al)
{
    vec C, k, S = AG_FN(ag_expm1_core_)(x, lo, &C, &k);
    return v_mul(v_fma(a, S, v_fma(al, S, v_mul(a, C))), k);
}
