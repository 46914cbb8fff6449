/* sigmoid(x) = 1/(1 + e^-x).  Include pattern: see vmath/exp.h.
 *
 * Stable forms on e = exp(-|x|) in [0, 1] (never overflows):
 *   sigmoid(|x|) = 1/(1 + e),  sigmoid(-|x|) = e/(1 + e);
 *   sigmoid'(x) = sigmoid(x) sigmoid(-x) = e/(1 + e)^2  (never s(1 - s) from x,
 *   which cancels for large x: sigmoid'(40) = 4.2e-18, not 0);
 *   from the output (docs/api.md): y (1 - y), evaluated as fma(-y, y, y).
 * e is taken as a double-word e + el (ag_exp_dw) and each result is rounded
 * once from exact or double-word pieces, so the errors stay near 1 ULP.
 */
/* Uses (included before it by ops/all.h): vmath/exp.h, ops/d32.h. */

#if AG_IS_F32
/* float32, evaluated in double (ops/d32.h): e = e^-|x| (exp_d32.h, 2^-37
 * relative; saturating at e^-708, which rounds every result here to the same
 * float as 0 would): sigmoid = 1/(1 + e) or e/(1 + e), sigmoid' = e/(1 + e)^2,
 * each within 2^-36 relative before the one rounding to float; from the
 * output y - y^2 (y^2 exact in double, one rounding in double). */
/* sigmoid(x) (minus = 0) or sigmoid(-x) (minus = 1) by one division: the
 * numerator is 1 or e (also for softplus' and log_sigmoid') */
AG_INLINE dvec ag_sigmoid_pm_d32_(dvec x, int minus)
{
    dvec e = ag_d32_exp_negabs(x);
    dmask pos = d_ge(x, DC(0));
    dvec num = minus ? d_select(pos, e, DC(1)) : d_select(pos, DC(1), e);
    return d_div(num, d_add(DC(1), e));                /* NaN: 1 + e is NaN */
}
/* r = 1/(1 + e) and *e (silu') */
AG_INLINE dvec ag_sigmoid_d32_(dvec x, dvec *e)
{
    *e = ag_d32_exp_negabs(x);
    return d_div(DC(1), d_add(DC(1), *e));
}
AG_INLINE dvec ag_sigmoid_forward_d32(dvec x, dvec p0, dvec p1)
{
    (void)p0; (void)p1;
    return ag_sigmoid_pm_d32_(x, 0);
}
AG_INLINE dvec ag_sigmoid_derivative_d32(dvec x, dvec p0, dvec p1)
{
    (void)p0; (void)p1;
    dvec e = ag_d32_exp_negabs(x), d = d_add(DC(1), e);
    return d_div(e, d_mul(d, d));
}
AG_INLINE dvec ag_sigmoid_derivative_from_output_d32(dvec y, dvec p0, dvec p1)
{
    (void)p0; (void)p1;
    return d_fnma(y, y, y);
}
AG_D32_OP(sigmoid, 0)
/* derivative from the output in float: fma(-y, y, y) = y - y^2 with one
 * rounding, the correctly rounded value (<= 0.5 ULP, no widening needed);
 * its backward dy (y - y^2) in float with the residuals of ops/d32.h
 * (within 0.5 + 2^-21 ULP), from the double path where |y| > 1, |y| < 2^-58
 * or dy is 0, tiny, huge or not finite. */
AG_INLINE ag_f32v ag_sigmoid_derivative_from_output_f32(ag_f32v y, ag_f32v p0, ag_f32v p1)
{
    (void)p0; (void)p1;
    return ag_f32_fnma(y, y, y);
}
AG_D32_WRAP_BW_(ag_sigmoid_backward_from_output_wide_f32_, ag_sigmoid_derivative_from_output_d32)
/* z and c of ops/d32.h's ag_f32_dw_minus_square_ */
AG_INLINE void ag_sigmoid_zc_f32_(ag_f32v y, ag_f32v *z, ag_f32v *c)
{
    *z = *c = ag_f32_select(ag_f32_ge(y, ag_f32_set1(0.5f)), ag_f32_sub(ag_f32_set1(1.0f), y), y);
}
AG_F32_BW_MINUS_SQUARE_(ag_sigmoid_backward_from_output_f32, ag_sigmoid_zc_f32_, 0x1p-58f,
                        ag_sigmoid_backward_from_output_wide_f32_)
#else /* float64 */

/* 1/(1 + e + el) = r + *c to about 2^-2p, for e in [0, 1] (or NaN), |el|
 * tiny: 1 + e is split exactly (Fast2Sum d + dl), r = 1/d, and the exact
 * FMA residual t = 1 - r (d + dl) gives the correction c = r t. */
AG_INLINE vec AG_FN(ag_sigmoid_recip_)(vec e, vec el, vec *c)
{
    vec one = AG_C(1);
    vec d = v_add(one, e);
    vec dl = v_add(v_sub(e, v_sub(d, one)), el);
    vec r = v_div(one, d);
    vec t = v_fnma(r, dl, v_fnma(r, d, one));
    *c = v_mul(r, t);
    return r;
}

/* For e + el = exp(-|x|) and es + esl = (e + el) 2^k (any scaling): returns
 * p = 1/(1 + e) and *n = es/(1 + e), each rounded once. */
AG_INLINE vec AG_FN(ag_sigmoid_parts_)(vec e, vec el, vec es, vec esl, vec *n)
{
    vec c, r = AG_FN(ag_sigmoid_recip_)(e, el, &c);
    *n = v_fma(es, r, v_fma(esl, r, v_mul(es, c)));
    return v_add(r, c);
}

/* (es + esl)/(1 + e + el)^2, rounded once: (r + c)^2 = rr + (rrl + 2 r c). */
AG_INLINE vec AG_FN(ag_sigmoid_dd_)(vec e, vec el, vec es, vec esl)
{
    vec c, r = AG_FN(ag_sigmoid_recip_)(e, el, &c);
    vec rr = v_mul(r, r);
    vec q = v_fma(v_add(r, r), c, v_fms(r, r, rr));
    return v_fma(es, rr, v_fma(es, q, v_mul(esl, rr)));
}

AG_INLINE vec AG_FN(ag_sigmoid_forward)(vec x, vec p0, vec p1)
{
    (void)p0; (void)p1;
    vec el, e = AG_FN(ag_exp_dw)(v_neg(v_abs(x)), AG_C(0), AG_C(0), &el), n;
    vec p = AG_FN(ag_sigmoid_parts_)(e, el, e, el, &n);
    return v_select(v_ge(x, AG_C(0)), p, n);          /* NaN: n is NaN */
}

AG_INLINE vec AG_FN(ag_sigmoid_derivative)(vec x, vec p0, vec p1)
{
    (void)p0; (void)p1;
    vec el, e = AG_FN(ag_exp_dw)(v_neg(v_abs(x)), AG_C(0), AG_C(0), &el);
    return AG_FN(ag_sigmoid_dd_)(e, el, e, el);
}

AG_INLINE vec AG_FN(ag_sigmoid_derivative_from_output)(vec y, vec p0, vec p1)
{
    (void)p0; (void)p1;
    return v_fnma(y, y, y);                           /* y - y^2, rounded once */
}

AG_PLAIN_BACKWARD(sigmoid, 1)

#endif /* AG_IS_F32 */
