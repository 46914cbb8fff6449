/* selu(x) = scale x for x > 0, scale alpha (e^x - 1) otherwise, with
 * PyTorch's alpha = 1.6732632423543772848170429916717 and
 * scale = 1.0507009873554804934193349852946.
 * Include pattern: see vmath/exp.h.
 *   selu  = scale x | (scale alpha) expm1(x); the constants are applied as
 *           hi + lo pairs, each result rounded once (ag_expm1_mul for the second);
 *   selu' = scale for x > 0, scale alpha e^x otherwise (selu'(0) = scale alpha),
 *           rounded once from e^x = e + el (ag_exp_dw, scaled as in elu');
 *   from the output (docs/api.md): scale for y > 0, y + scale alpha otherwise.
 */
/* Uses (included before it by ops/all.h): vmath/exp.h, vmath/expm1.h, ops/d32.h. */

#if AG_IS_F32
/* float32, evaluated in double (ops/d32.h): as elu with scale and
 * scale alpha rounded to double (2^-53 relative): selu = S x or SA expm1(x),
 * selu' = S or SA e^x, from the output S or y + SA. */
#define AG_SELU_S_D32_ 0x1.0cfabd6a91132p+0
#define AG_SELU_SA_D32_ 0x1.c212cc640f031p+0
AG_INLINE dvec ag_selu_forward_d32(dvec x, dvec p0, dvec p1)
{
    (void)p0; (void)p1;
    /* x >= 0 (+-0 too: S x = SA expm1(x) = x's zero) takes S x, so expm1(x) = expm1(-|x|) */
    return d_select(d_ge(x, DC(0)), d_mul(DC(AG_SELU_S_D32_), x),
                    d_mul(DC(AG_SELU_SA_D32_), ag_d32_expm1_negabs(x)));
}
AG_INLINE dvec ag_selu_derivative_d32(dvec x, dvec p0, dvec p1)
{
    (void)p0; (void)p1;
    return d_select(d_gt(x, DC(0)), DC(AG_SELU_S_D32_),
                    d_mul(DC(AG_SELU_SA_D32_), ag_d32_exp_negabs(x)));
}
AG_INLINE dvec ag_selu_derivative_from_output_d32(dvec y, dvec p0, dvec p1)
{
    (void)p0; (void)p1;
    return d_select(d_gt(y, DC(0)), DC(AG_SELU_S_D32_), d_add(y, DC(AG_SELU_SA_D32_)));
}
AG_D32_OP(selu, 1)
#else /* float64 */

/* scale = S_HI + S_LO, scale * alpha = SA_HI + SA_LO (to 2^-50 / 2^-109 relative) */
#define AG_SELU_S_HI_ 0x1.0cfabd6a91132p+0
#define AG_SELU_S_LO_ 0x1.6fc7d272f2695p-55
#define AG_SELU_SA_HI_ 0x1.c212cc640f031p+0
#define AG_SELU_SA_LO_ 0x1.05161b045a1fep-56
#define AG_SELU_MAX_ 0x1.fffffffffffffp+1023

/* (hi + lo) v with one rounding (v finite) */
AG_INLINE vec AG_FN(ag_selu_mul_)(vec v, vec hi, vec lo)
{
    return v_fma(hi, v, v_mul(lo, v));
}

AG_INLINE vec AG_FN(ag_selu_forward)(vec x, vec p0, vec p1)
{
    (void)p0; (void)p1;
    vec xc = v_min(AG_C(AG_SELU_MAX_), x);             /* +inf -> MAX (scale MAX = inf) */
    vec pos = AG_FN(ag_selu_mul_)(xc, AG_C(AG_SELU_S_HI_), AG_C(AG_SELU_S_LO_));
    vec neg = AG_FN(ag_expm1_mul)(x, AG_C(-0.0), AG_C(AG_SELU_SA_HI_), AG_C(AG_SELU_SA_LO_));
    return v_select(v_gt(x, AG_C(0)), pos, neg);
}

AG_INLINE vec AG_FN(ag_selu_derivative)(vec x, vec p0, vec p1)
{
    (void)p0; (void)p1;
    const AG_T k = 53, rk = 0x1p-53;
    vec el, e = AG_FN(ag_exp_dw)(x, AG_C(0), v_set1(k), &el);
    vec neg = v_fma(AG_C(AG_SELU_SA_HI_), e, v_fma(AG_C(AG_SELU_SA_LO_), e, v_mul(AG_C(AG_SELU_SA_HI_), el)));
    neg = v_mul(neg, v_set1(rk));
    return v_select(v_gt(x, AG_C(0)), AG_C(AG_SELU_S_HI_), neg);
}

AG_INLINE vec AG_FN(ag_selu_derivative_from_output)(vec y, vec p0, vec p1)
{
    (void)p0; (void)p1;
    vec neg = v_add(v_add(y, AG_C(AG_SELU_SA_HI_)), AG_C(AG_SELU_SA_LO_));
    return v_select(v_gt(y, AG_C(0)), AG_C(AG_SELU_S_HI_), neg);
}

#undef AG_SELU_S_HI_
#undef AG_SELU_S_LO_
#undef AG_SELU_SA_HI_
#undef AG_SELU_SA_LO_
#undef AG_SELU_MAX_

AG_PLAIN_BACKWARD(selu, 1)

#endif /* AG_IS_F32 */
