/* Vector tanh on the SIMD shim; include pattern: see exp.h.
 *
 *   vec ag_tanh(vec x)
 *       tanh x for every x, <= 1 ULP (measured max in test_vmath.c).
 *       Odd: tanh(-0) = -0; tanh(+-inf) = +-1; tiny/subnormal x -> x; NaN -> NaN.
 *
 * Method on y = |x|, sign restored with copysign:
 *   y <  A: tanh y = y + y^3 P(y^2)  (odd near-minimax polynomial);
 *   y >= A: tanh y = (E - 1)/(E + 1), E = e^(2y) (2y clamped to 44 / 80,
 *           where tanh rounds to 1).  E - 1 and E + 1 are split exactly
 *           (Fast2Sum, E >= 1: num + nl, dh + dl), and the quotient q = num/dh
 *           gets one correction with the residual (num + nl) - q (dh + dl),
 *           so the error is about 0.5 ULP plus that of E, damped by
 *           d ln tanh/d ln E = 2E/(E^2 - 1) <= 0.62 for y >= A = 0.625.
 */
/* Uses (included before it by ops/all.h): vmath/exp.h. */

AG_INLINE vec AG_FN(ag_tanh)(vec x)
{
    vec y = v_abs(x);
    vec z = v_mul(y, y);
    /* P(z) ~ (tanh(y) - y)/y^3 on y in [0, 0.625]: near-minimax fits (Lawson
     * IRLS in mpmath) of the relative error of tanh:
     * f32 degree 5, < 2^-28.4; f64 degree 10, < 2^-55.9. */
#if AG_IS_F32
    vec p = AG_C(0x1.18e174p-9f);
    p = v_fma(p, z, AG_C(-0x1.0bf4dep-7f));
    p = v_fma(p, z, AG_C(0x1.638b52p-6f));
    p = v_fma(p, z, AG_C(-0x1.b9ee9p-5f));
    p = v_fma(p, z, AG_C(0x1.111066p-3f));
    p = v_fma(p, z, AG_C(-0x1.555554p-2f));
#else
    vec p = AG_C(-0x1.0da6d03d40ea8p-16);
    p = v_fma(p, z, AG_C(0x1.4390f1d05ff96p-14));
    p = v_fma(p, z, AG_C(-0x1.df556361ce596p-13));
    p = v_fma(p, z, AG_C(0x1.33660fee19f67p-11));
    p = v_fma(p, z, AG_C(-0x1.7d68a2b27fca3p-10));
    p = v_fma(p, z, AG_C(0x1.d6cf28017253fp-9));
    p = v_fma(p, z, AG_C(-0x1.226e162b825b2p-7));
    p = v_fma(p, z, AG_C(0x1.664f477ad5bd9p-6));
    p = v_fma(p, z, AG_C(-0x1.ba1ba1b5062a9p-5));
    p = v_fma(p, z, AG_C(0x1.111111110accap-3));
    p = v_fma(p, z, AG_C(-0x1.55555555554ffp-2));
#endif
    vec small = v_fma(v_mul(y, z), p, y);
#if AG_IS_F32
    vec E = AG_FN(ag_exp)(v_min(AG_C(44.0f), v_add(y, y)));  /* NaN stays */
#else
    vec E = AG_FN(ag_exp)(v_min(AG_C(80.0), v_add(y, y)));
#endif
    vec num = v_sub(E, AG_C(1));
    vec nl = v_sub(AG_C(-1), v_sub(num, E));       /* Fast2Sum: num + nl = E - 1 */
    vec dh = v_add(E, AG_C(1));
    vec dl = v_sub(AG_C(1), v_sub(dh, E));
    vec r = v_div(AG_C(1), dh);
    vec q = v_mul(num, r);
    vec rem = v_add(v_fnma(q, dl, v_fnma(q, dh, num)), nl);  /* (E - 1) - q (dh + dl) */
    vec big = v_fma(rem, r, q);
    vec res = v_select(v_lt(y, AG_C(0.625)), small, big);
    return v_copysign(res, x);
}
