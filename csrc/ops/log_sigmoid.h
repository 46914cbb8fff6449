/* log_sigmoid(x) = log(1/(1 + e^-x)) = -softplus(-x).
 * Include pattern: see vmath/exp.h.
 *
 * With e = exp(-|x|) in [0, 1]:
 *   log_sigmoid = min(x, 0) - log1p(e)   (log(1 + e^-x) = max(-x, 0) + log1p(e^-|x|));
 *     both terms <= 0, no cancellation; min(0, x) keeps NaN; e = e + el
 *     (ag_exp_dw), log1p(e + el) as a double-word (ag_log1p01_dw), the
 *     difference by 2Sum: one rounding;
 *   log_sigmoid' = sigmoid(-x): e/(1 + e) for x >= 0, 1/(1 + e) for x < 0;
 *   from the output (docs/api.md): 1 - exp(y) = -expm1(y).
 */
/* Uses (included before it by ops/all.h): vmath/exp.h, vmath/expm1.h, vmath/log1p.h, ops/sigmoid.h, ops/d32.h, vmath/log1p_d32.h. */

#if AG_IS_F32
/* float32, evaluated in double (ops/d32.h): with e = e^-|x| (exp_d32.h) and
 * log1p on [0, 1] (log1p_d32.h), log_sigmoid = min(x, 0) - log1p(e) (two
 * terms of the same sign: no cancellation), log_sigmoid' = sigmoid(-x) =
 * e/(1 + e) or 1/(1 + e), from the output -expm1(y) (y <= 0); each within 2^-35
 * relative before the one rounding. */
AG_INLINE dvec ag_log_sigmoid_forward_d32(dvec x, dvec p0, dvec p1)
{
    (void)p0; (void)p1;
    dvec e = ag_d32_exp_negabs_flush(x);                 /* exact 0 below -708: log_sigmoid(inf) = +0 */
    return d_sub(d_min(DC(0), x), ag_d32_log1p01(e));   /* NaN: min passes it */
}
AG_INLINE dvec ag_log_sigmoid_derivative_d32(dvec x, dvec p0, dvec p1)
{
    (void)p0; (void)p1;
    return ag_sigmoid_pm_d32_(x, 1);
}
AG_INLINE dvec ag_log_sigmoid_derivative_from_output_d32(dvec y, dvec p0, dvec p1)
{
    (void)p0; (void)p1;
    return d_neg(ag_d32_expm1(y));
}
AG_D32_OP(log_sigmoid, 1)
#else /* float64 */

AG_INLINE vec AG_FN(ag_log_sigmoid_forward)(vec x, vec p0, vec p1)
{
    (void)p0; (void)p1;
    vec el, e = AG_FN(ag_exp_dw)(v_neg(v_abs(x)), AG_C(0), AG_C(0), &el);
    vec ll, l = AG_FN(ag_log1p01_dw)(e, el, &ll);
    vec m = v_min(AG_C(0), x);
    vec y = v_sub(m, l), b = v_sub(y, m);                             /* 2Sum: y + yl = m - l */
    vec yl = v_add(v_sub(m, v_sub(y, b)), v_sub(v_neg(l), b));
    yl = v_select(v_isnan(yl), AG_C(0), yl);                          /* x = -inf */
    return v_add(y, v_sub(yl, ll));
}

AG_INLINE vec AG_FN(ag_log_sigmoid_derivative)(vec x, vec p0, vec p1)
{
    (void)p0; (void)p1;
    vec el, e = AG_FN(ag_exp_dw)(v_neg(v_abs(x)), AG_C(0), AG_C(0), &el), n;
    vec p = AG_FN(ag_sigmoid_parts_)(e, el, e, el, &n);
    return v_select(v_ge(x, AG_C(0)), n, p);        /* NaN: p is NaN */
}

AG_INLINE vec AG_FN(ag_log_sigmoid_derivative_from_output)(vec y, vec p0, vec p1)
{
    (void)p0; (void)p1;
    return v_neg(AG_FN(ag_expm1)(y));
}

AG_PLAIN_BACKWARD(log_sigmoid, 1)

#endif /* AG_IS_F32 */
