/* tanh.  Include pattern: see vmath/exp.h.
 *
 * forward: vmath ag_tanh (odd, tanh(-0) = -0).
 * derivative: 1 - tanh^2 x = 4 e/(1 + e)^2 = 4 sigmoid(2|x|) sigmoid(-2|x|)
 *   with e = exp(-2|x|), accurate (relative) in the tails; 4e is made by
 *   ag_exp_dw (k = 2) so it is rounded once even when e is subnormal.
 * from the output (docs/api.md): 1 - y^2 = fma(-y, y, 1), rounded once.
 */
/* Uses (included before it by ops/all.h): vmath/tanh.h, ops/sigmoid.h, ops/d32.h. */

#if AG_IS_F32
/* float32, evaluated in double (ops/d32.h): m = expm1(-2|x|) (exp_d32.h,
 * 2^-37 relative, no cancellation for small |x|), tanh = sign(x) (-m)/(2 + m)
 * (2 + m in [1, 2]: no cancellation); tanh' = 4e/(1 + e)^2, e = e^-2|x|
 * (saturating at e^-708: rounds to the same float as the exact value);
 * from the output 1 - y^2, one rounding in double (y^2 exact). */
AG_INLINE dvec ag_tanh_forward_d32(dvec x, dvec p0, dvec p1)
{
    (void)p0; (void)p1;
    dvec m = ag_d32_expm1_negabs(d_add(x, x));
    return d_copysign(d_div(d_neg(m), d_add(DC(2), m)), x);   /* tanh(-0) = -0 */
}
AG_INLINE dvec ag_tanh_derivative_d32(dvec x, dvec p0, dvec p1)
{
    (void)p0; (void)p1;
    dvec e = ag_d32_exp_negabs(d_add(x, x));
    dvec d = d_add(DC(1), e);
    return d_div(d_mul(DC(4), e), d_mul(d, d));
}
AG_INLINE dvec ag_tanh_derivative_from_output_d32(dvec y, dvec p0, dvec p1)
{
    (void)p0; (void)p1;
    return d_fnma(y, y, DC(1));
}
AG_D32_OP(tanh, 0)
/* derivative from the output in float: fma(-y, y, 1) = 1 - y^2 with one
 * rounding, the correctly rounded value (<= 0.5 ULP, no widening needed);
 * its backward dy (1 - y^2) in float with the residuals of ops/d32.h
 * (within 0.5 + 2^-21 ULP), from the double path where |y| > 1 or dy is 0,
 * tiny, huge or not finite. */
AG_INLINE ag_f32v ag_tanh_derivative_from_output_f32(ag_f32v y, ag_f32v p0, ag_f32v p1)
{
    (void)p0; (void)p1;
    return ag_f32_fnma(y, y, ag_f32_set1(1.0f));
}
AG_D32_WRAP_BW_(ag_tanh_backward_from_output_wide_f32_, ag_tanh_derivative_from_output_d32)
/* z and c of ops/d32.h's ag_f32_dw_minus_square_ */
AG_INLINE void ag_tanh_zc_f32_(ag_f32v y, ag_f32v *z, ag_f32v *c)
{
    ag_f32v ay = ag_f32_abs(y), t = ag_f32_sub(ag_f32_set1(1.0f), ay);
    ag_f32m hi = ag_f32_ge(ay, ag_f32_set1(0.5f));
    *z = ag_f32_select(hi, t, ay);
    *c = ag_f32_select(hi, ag_f32_add(t, t), ag_f32_set1(1.0f));
}
AG_F32_BW_MINUS_SQUARE_(ag_tanh_backward_from_output_f32, ag_tanh_zc_f32_, 0.0f,
                        ag_tanh_backward_from_output_wide_f32_)
#else /* float64 */

AG_INLINE vec AG_FN(ag_tanh_forward)(vec x, vec p0, vec p1)
{
    (void)p0; (void)p1;
    return AG_FN(ag_tanh)(x);
}

AG_INLINE vec AG_FN(ag_tanh_derivative)(vec x, vec p0, vec p1)
{
    (void)p0; (void)p1;
    vec y = v_abs(x);
    vec e4l, e4 = AG_FN(ag_exp_dw)(v_neg(v_add(y, y)), AG_C(0), AG_C(2), &e4l); /* 4 e^(-2|x|) */
    vec q = AG_C(0.25);
    return AG_FN(ag_sigmoid_dd_)(v_mul(e4, q), v_mul(e4l, q), e4, e4l);
}

AG_INLINE vec AG_FN(ag_tanh_derivative_from_output)(vec y, vec p0, vec p1)
{
    (void)p0; (void)p1;
    return v_fnma(y, y, AG_C(1));
}

AG_PLAIN_BACKWARD(tanh, 1)

#endif /* AG_IS_F32 */
