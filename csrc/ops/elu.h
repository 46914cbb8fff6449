/* elu(x; alpha) = x for x > 0, alpha (e^x - 1) otherwise.
 * Include pattern: see vmath/exp.h.
 *   elu   = alpha expm1(x) for x <= 0 (rounded once, ag_expm1_mul; no cancellation near 0;
 *           elu(-0) = -0, elu(-inf) = -alpha);
 *   elu'  = 1 for x > 0, alpha e^x otherwise (PyTorch: elu'(0) = alpha),
 *           alpha (e + el) rounded once (ag_exp_dw, scaled so that a
 *           subnormal e^x is not rounded before the product);
 *   from the output (docs/api.md): 1 for y > 0, y + alpha otherwise.
 */
/* Uses (included before it by ops/all.h): vmath/exp.h, vmath/expm1.h, ops/d32.h. */

#if AG_IS_F32
/* float32, evaluated in double (ops/d32.h): elu = alpha expm1(x) for x <= 0
 * (exp_d32.h: 2^-37 relative, -1 at -inf), elu' = alpha e^x (as e^-|x|, the
 * same where it is taken; saturating at e^-708, rounding to the same float as
 * the exact value), from the output
 * y + alpha (one rounding in double); each rounded once to float. */
AG_INLINE dvec ag_elu_forward_d32(dvec x, dvec alpha, dvec p1)
{
    (void)p1;
    return d_select(d_gt(x, DC(0)), x, d_mul(alpha, ag_d32_expm1(x)));
}
AG_INLINE dvec ag_elu_derivative_d32(dvec x, dvec alpha, dvec p1)
{
    (void)p1;
    return d_select(d_gt(x, DC(0)), DC(1), d_mul(alpha, ag_d32_exp_negabs(x)));
}
AG_INLINE dvec ag_elu_derivative_from_output_d32(dvec y, dvec alpha, dvec p1)
{
    (void)p1;
    return d_select(d_gt(y, DC(0)), DC(1), d_add(y, alpha));
}
AG_D32_OP(elu, 0)
/* derivative from the output in float: 1 (y > 0) or y + alpha with one
 * rounding, the correctly rounded value (<= 0.5 ULP, no widening needed);
 * NaN: y + alpha is NaN.  Its backward: dy for y > 0; for y < 0, dy (y +
 * alpha) in float with the residuals of ops/d32.h (y + alpha = d + dl exactly,
 * d = RN(y + alpha), |dl| <= 1/2 ULP of d: within 0.5 + 2^-22 ULP) where
 * y + alpha is 0 (then +0, as y < 0) or in [2^-60, 2^27] in magnitude: with
 * |dy| <= 2^100, |dy d| <= 2^127 does not overflow (where it did, RN(w dl) could
 * be an inf of the other sign and decide the result); the double path for the
 * other lanes, and where y is +-0 or NaN or dy is 0, tiny, huge or not finite. */
AG_INLINE ag_f32v ag_elu_derivative_from_output_f32(ag_f32v y, ag_f32v alpha, ag_f32v p1)
{
    (void)p1;
    return ag_f32_select(ag_f32_gt(y, ag_f32_set1(0.0f)), ag_f32_set1(1.0f), ag_f32_add(y, alpha));
}
AG_D32_WRAP_BW_(ag_elu_backward_from_output_wide_f32_, ag_elu_derivative_from_output_d32)
AG_INLINE ag_f32v ag_elu_backward_from_output_f32(ag_f32v dy, ag_f32v y, ag_f32v alpha, ag_f32v p1)
{
    ag_f32v dl, d = ag_f32_dw_add_(y, alpha, &dl), ad = ag_f32_abs(d);
    ag_f32m pos = ag_f32_gt(y, ag_f32_set1(0.0f));
    ag_f32v r = ag_f32_select(pos, dy, ag_f32_dw_times_(dy, dy, d, dl));
    ag_f32m d_ok = ag_f32_mor(ag_f32_mand(ag_f32_ge(ad, ag_f32_set1(0x1p-60f)),
                                          ag_f32_le(ad, ag_f32_set1(0x1p27f))),
                              ag_f32_eq(d, ag_f32_set1(0.0f)));
    ag_f32m ok = ag_f32_mand(ag_f32_dy_usual_(dy),
                             ag_f32_mor(pos, ag_f32_mand(ag_f32_lt(y, ag_f32_set1(0.0f)), d_ok)));
    return ag_f32_all(ok) ? r : ag_f32_select(ok, r, ag_elu_backward_from_output_wide_f32_(dy, y, alpha, p1));
}
#else /* float64 */

AG_INLINE vec AG_FN(ag_elu_forward)(vec x, vec alpha, vec p1)
{
    (void)p1;
    return v_select(v_gt(x, AG_C(0)), x, AG_FN(ag_expm1_mul)(x, AG_C(-0.0), alpha, AG_C(0)));
}

AG_INLINE vec AG_FN(ag_elu_derivative)(vec x, vec alpha, vec p1)
{
    (void)p1;
    const AG_T k = 53, rk = 0x1p-53;
    vec el, e = AG_FN(ag_exp_dw)(x, AG_C(0), v_set1(k), &el);
    vec neg = v_mul(v_fma(alpha, e, v_mul(alpha, el)), v_set1(rk));
    return v_select(v_gt(x, AG_C(0)), AG_C(1), neg);
}

AG_INLINE vec AG_FN(ag_elu_derivative_from_output)(vec y, vec alpha, vec p1)
{
    (void)p1;
    return v_select(v_gt(y, AG_C(0)), AG_C(1), v_add(y, alpha));
}

AG_PLAIN_BACKWARD(elu, 1)

#endif /* AG_IS_F32 */
