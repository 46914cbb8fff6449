/* silu(x) = x sigmoid(x) (alias swish).  Include pattern: see vmath/exp.h.
 *
 * With e = exp(-|x|) (ops/sigmoid.h: sigmoid(|x|) = 1/(1+e), sigmoid(-|x|) = e/(1+e)):
 *   silu   = x sigmoid(x);
 *   silu'  = sigmoid(x) (1 + x sigmoid(-x))   (= s + x s (1 - s), one fma, no s(1-s)).
 * Tail: for x < 0 the factor sigmoid(x) ~ e^x is subnormal well before the
 * result is (x in [-104, -87] f32, [-745, -708] f64), so it is computed
 * scaled by 2^64 (ag_exp_dw) and the product unscaled by 2^-64: one
 * rounding.  x is clamped to +-MAX in products so that no inf * 0 occurs:
 * silu(-inf) = -0, silu'(+inf) = 1, silu'(-inf) = -0.
 */
/* Uses (included before it by ops/all.h): vmath/exp.h, ops/sigmoid.h, ops/d32.h. */

#if AG_IS_F32
/* float32, evaluated in double (ops/d32.h): e = e^-|x|, silu = x/(1 + e)
 * (x >= 0) or x e/(1 + e) (x < 0), two roundings after e; r = 1/(1 + e)
 * (ops/sigmoid.h), s = sigmoid(x) = r or e r, 1 - s = e r or r (never formed
 * by a subtraction): silu' = s (1 + x (1 - s)); every piece within
 * 2^-36 relative, so silu' is within 2^-35 of its largest term near its root
 * (-1.278).  x is clamped to [-1e4, 1e4] where it multiplies a vanishing
 * factor (e saturates at e^-708: x e stays far below every float, and
 * +-inf * 0 never occurs); silu(+inf) = +inf. */
AG_INLINE dvec ag_silu_forward_d32(dvec x, dvec p0, dvec p1)
{
    (void)p0; (void)p1;
    dvec e = ag_d32_exp_negabs(x);
    dvec num = d_select(d_ge(x, DC(0)), x, d_mul(d_max(DC(-1e4), x), e));   /* NaN stays NaN */
    return d_div(num, d_add(DC(1), e));
}
AG_INLINE dvec ag_silu_derivative_d32(dvec x, dvec p0, dvec p1)
{
    (void)p0; (void)p1;
    dvec e, r = ag_sigmoid_d32_(x, &e), er = d_mul(e, r);
    dmask pos = d_ge(x, DC(0));
    dvec s = d_select(pos, r, er), b = d_select(pos, er, r);
    dvec xc = d_max(DC(-1e4), d_min(DC(1e4), x));
    return d_mul(s, d_fma(xc, b, DC(1)));
}
AG_D32_OP(silu, 0)
#else /* float64 */

#ifndef AG_TAIL_SCALE_
#define AG_TAIL_SCALE_ 64          /* 2^64 lifts e^x out of the subnormals */
#endif

/* a = sigmoid(x) s, b = sigmoid(-x), *inv = 1/s with s = 2^64 for x < 0, else 1
 * (for the derivative). */
AG_INLINE vec AG_FN(ag_silu_parts_)(vec x, vec *b, vec *inv)
{
    vmask neg = v_lt(x, AG_C(0));
    vec esl, es = AG_FN(ag_exp_dw)(v_neg(v_abs(x)), AG_C(0), v_select(neg, AG_C(AG_TAIL_SCALE_), AG_C(0)), &esl);
    *inv = v_select(neg, AG_C(0x1p-64), AG_C(1));
    vec ns, p = AG_FN(ag_sigmoid_parts_)(v_mul(es, *inv), v_mul(esl, *inv), es, esl, &ns);
    *b = v_select(neg, p, ns);
    return v_select(neg, ns, p);
}

#define AG_SILU_MAX_ 0x1.fffffffffffffp+1023

/* x sigmoid(x) = x A (r + c) with A = 1 (x >= 0) or (e + el) 2^64 (x < 0):
 * the product x A is split exactly (FMA) and the whole rounded once.  For
 * x > 40, silu(x) rounds to x (x e^-x < 2^-54 x); that also gives silu(inf). */
AG_INLINE vec AG_FN(ag_silu_forward)(vec x, vec p0, vec p1)
{
    (void)p0; (void)p1;
    vmask neg = v_lt(x, AG_C(0));
    vec esl, es = AG_FN(ag_exp_dw)(v_neg(v_abs(x)), AG_C(0), v_select(neg, AG_C(AG_TAIL_SCALE_), AG_C(0)), &esl);
    vec inv = v_select(neg, AG_C(0x1p-64), AG_C(1));
    vec c, r = AG_FN(ag_sigmoid_recip_)(v_mul(es, inv), v_mul(esl, inv), &c);
    vec xc = v_max(AG_C(-AG_SILU_MAX_), x);            /* -inf -> -MAX, NaN stays */
    vec A = v_select(neg, es, AG_C(1)), Al = v_select(neg, esl, AG_C(0));
    vec N = v_mul(xc, A), Nl = v_fma(xc, Al, v_fms(xc, A, N)); /* N + Nl = x (A + Al) */
    vec y = v_mul(v_fma(N, r, v_fma(Nl, r, v_mul(N, c))), inv);
    y = v_select(v_gt(x, AG_C(40)), x, y);
    return v_copysign(y, x);                           /* silu(-inf) = silu(-0) = -0 */
}

AG_INLINE vec AG_FN(ag_silu_derivative)(vec x, vec p0, vec p1)
{
    (void)p0; (void)p1;
    vec b, inv, a = AG_FN(ag_silu_parts_)(x, &b, &inv);
    vec xc = v_min(AG_C(AG_SILU_MAX_), v_max(AG_C(-AG_SILU_MAX_), x));
    return v_mul(v_mul(a, v_fma(xc, b, AG_C(1))), inv);
}

#undef AG_SILU_MAX_

AG_PLAIN_BACKWARD(silu, 0)

#endif /* AG_IS_F32 */
