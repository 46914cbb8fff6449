/* softplus(x; beta, threshold) = log(1 + e^(beta x))/beta, and x where
 * beta x > threshold (PyTorch 2.13; beta x rounded in the dtype, as PyTorch).
 * Include pattern: see vmath/exp.h.
 *
 * With z = beta x split exactly as zh + zl (FMA), e = exp(-|z|) in [0, 1]
 * (ag_exp_dw with zl, so the tail e^z keeps full relative accuracy for
 * beta != 1; log1p(e + el) by ag_log1p01_dw, as a double-word);
 * max(z, 0) + log1p is summed as a double-word and divided by beta with one
 * correction step, so the result is rounded about once):
 *   softplus = (max(z, 0) + log1p(e))/beta        (log(1 + e^z) = max(z,0) + log1p(e^-|z|));
 *   softplus' = 1 where zh > threshold, else sigmoid(z) (PyTorch: at
 *               zh == threshold it is sigmoid(threshold)), from ops/sigmoid.h;
 *   from the output (docs/api.md): 1 where beta y > threshold, else
 *               1 - exp(-beta y) = -expm1(-beta y).
 */
/* Uses (included before it by ops/all.h): vmath/exp.h, vmath/expm1.h, vmath/log1p.h, ops/sigmoid.h, ops/d32.h, vmath/log1p_d32.h. */

#if AG_IS_F32
/* float32, evaluated in double (ops/d32.h): z = beta x (exact in double),
 * t = e^-|z| (exp_d32.h), softplus = (max(z, 0) + log1p(t)) (1/beta) (two terms
 * of the same sign; log1p_d32.h; 1/beta, rounded (2^-53), is computed once per call
 * where a division per element would cost a divider pass), softplus' = sigmoid(z)
 * (ops/sigmoid.h), from
 * the output -expm1(-beta y); each within 2^-35 relative before the one
 * rounding.  The switch to the linear branch is PyTorch's: beta x rounded to
 * float compared with the threshold, so it is made on the float side. */
AG_INLINE dvec ag_softplus_sp_d32_(dvec x, dvec beta, dvec thr)
{
    (void)thr;
    dvec z = d_mul(beta, x);
    dvec t = ag_d32_exp_negabs(z);
    return d_mul(d_add(d_max(DC(0), z), ag_d32_log1p01(t)), d_div(DC(1), beta));   /* NaN stays NaN */
}
AG_INLINE dvec ag_softplus_sig_d32_(dvec x, dvec beta, dvec thr)
{
    (void)thr;
    return ag_sigmoid_pm_d32_(d_mul(beta, x), 0);
}
AG_INLINE dvec ag_softplus_fo_d32_(dvec y, dvec beta, dvec thr)
{
    (void)thr;
    return d_neg(ag_d32_expm1(d_neg(d_mul(beta, y))));
}
AG_D32_WRAP_(ag_softplus_sp_f32_, ag_softplus_sp_d32_)
AG_D32_WRAP_(ag_softplus_sig_f32_, ag_softplus_sig_d32_)
AG_D32_WRAP_BW_(ag_softplus_sig_bw_f32_, ag_softplus_sig_d32_)
AG_D32_WRAP_(ag_softplus_fo_f32_, ag_softplus_fo_d32_)
AG_D32_WRAP_BW_(ag_softplus_fo_bw_f32_, ag_softplus_fo_d32_)
AG_INLINE ag_f32v ag_softplus_forward_f32(ag_f32v x, ag_f32v beta, ag_f32v thr)
{
    return v_select(v_gt(v_mul(beta, x), thr), x, ag_softplus_sp_f32_(x, beta, thr));
}
AG_INLINE ag_f32v ag_softplus_derivative_f32(ag_f32v x, ag_f32v beta, ag_f32v thr)
{
    return v_select(v_gt(v_mul(beta, x), thr), AG_C(1), ag_softplus_sig_f32_(x, beta, thr));
}
AG_INLINE ag_f32v ag_softplus_backward_f32(ag_f32v dy, ag_f32v x, ag_f32v beta, ag_f32v thr)
{
    return v_select(v_gt(v_mul(beta, x), thr), dy, ag_softplus_sig_bw_f32_(dy, x, beta, thr));
}
AG_INLINE ag_f32v ag_softplus_derivative_from_output_f32(ag_f32v y, ag_f32v beta, ag_f32v thr)
{
    return v_select(v_gt(v_mul(beta, y), thr), AG_C(1), ag_softplus_fo_f32_(y, beta, thr));
}
AG_INLINE ag_f32v ag_softplus_backward_from_output_f32(ag_f32v dy, ag_f32v y, ag_f32v beta, ag_f32v thr)
{
    return v_select(v_gt(v_mul(beta, y), thr), dy, ag_softplus_fo_bw_f32_(dy, y, beta, thr));
}
#else /* float64 */

/* zh + zl = beta x exactly (zl = 0 where zh is +-inf or NaN); returns
 * e + *el = exp(-|beta x|). */
AG_INLINE vec AG_FN(ag_softplus_e_)(vec x, vec beta, vec *zh, vec *zl, vec *el)
{
    vec h = v_mul(beta, x);
    vec l = v_fms(beta, x, h);
    l = v_select(v_isnan(l), AG_C(0), l);
    *zh = h;
    *zl = l;
    return AG_FN(ag_exp_dw)(v_neg(v_abs(h)), v_select(v_ge(h, AG_C(0)), v_neg(l), l), AG_C(0), el);
}

AG_INLINE vec AG_FN(ag_softplus_forward)(vec x, vec beta, vec threshold)
{
    vec zh, zl, el, e = AG_FN(ag_softplus_e_)(x, beta, &zh, &zl, &el);
    vec ll, l = AG_FN(ag_log1p01_dw)(e, el, &ll);
    vmask pos = v_gt(zh, AG_C(0));
    vec zp = v_select(pos, zh, AG_C(0));
    vec m = v_add(zp, l), b = v_sub(m, zp);                           /* 2Sum: m + ml = max(z,0) + l */
    vec ml = v_add(v_sub(zp, v_sub(m, b)), v_sub(l, b));
    ml = v_add(ml, v_add(ll, v_select(pos, zl, AG_C(0))));
    vec rb = v_div(AG_C(1), beta);                                    /* loop-invariant */
    vec q = v_div(m, beta);                                           /* (m + ml)/beta, one rounding: */
    vec rem = v_add(v_fnma(q, beta, m), ml);                          /* q + (m + ml - q beta)/beta */
    vmask lin = v_mor(v_gt(zh, threshold), v_eq(zh, AG_C(INFINITY))); /* also threshold = inf */
    vec r = v_fma(rem, rb, q);                                        /* NaN zh: l, q are NaN */
    r = v_select(v_isnan(r), q, r);  /* beta = inf (0 inf) or 1/beta = inf: the correction is NaN, q is the limit */
    return v_select(lin, x, r);
}

AG_INLINE vec AG_FN(ag_softplus_derivative)(vec x, vec beta, vec threshold)
{
    vec zh, zl, el, e = AG_FN(ag_softplus_e_)(x, beta, &zh, &zl, &el), n;
    vec p = AG_FN(ag_sigmoid_parts_)(e, el, e, el, &n);
    vec s = v_select(v_ge(zh, AG_C(0)), p, n);
    return v_select(v_gt(zh, threshold), AG_C(1), s);
}

AG_INLINE vec AG_FN(ag_softplus_derivative_from_output)(vec y, vec beta, vec threshold)
{
    vec z = v_mul(beta, y);
    vec d = v_neg(AG_FN(ag_expm1)(v_neg(z)));
    return v_select(v_gt(z, threshold), AG_C(1), d);
}

AG_PLAIN_BACKWARD(softplus, 1)

#endif /* AG_IS_F32 */
