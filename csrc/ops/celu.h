/* celu(x; alpha) = max(0, x) + min(0, alpha (e^(x/alpha) - 1)).
 * Include pattern: see vmath/exp.h.
 *   celu  = x for x > 0, alpha expm1(x/alpha) otherwise (celu(-inf) = -alpha),
 *           x/alpha carried as z + zl so its rounding does not reach the
 *           exponential (celu'(-20) with alpha = 0.3 would be off by 100 ULP);
 *   celu' = 1 for x > 0, e^(x/alpha) otherwise (celu'(0) = 1);
 *   from the output (docs/api.md): 1 for y > 0, 1 + y/alpha = (alpha + y)/alpha otherwise.
 */
/* Uses (included before it by ops/all.h): vmath/exp.h, vmath/expm1.h, ops/d32.h. */

#if AG_IS_F32
/* float32, evaluated in double (ops/d32.h): z = x (1/alpha), two roundings
 * in double (2^-52 relative; 1/alpha depends on the parameter only, so the
 * division is loop-invariant; expm1's condition number |z| <= 110 where the
 * result is a float makes that < 2^-45), celu = alpha expm1(z) for x <= 0,
 * celu' = e^z, from the output (alpha + y) (1/alpha): alpha + y is exact
 * unless |y| < 2^-29 |alpha| (then it rounds, but is near alpha), so three
 * roundings of 2^-53 relative and no cancellation where y is near -alpha
 * (1 + y (1/alpha) would cancel there).  alpha = 0: 1/alpha = inf, z = -inf
 * for x < 0 and (alpha + y) (1/alpha) = -inf for y < 0, NaN for y = 0, as
 * x/0 and y/0 would give. */
AG_INLINE dvec ag_celu_forward_d32(dvec x, dvec alpha, dvec p1)
{
    (void)p1;
    return d_select(d_gt(x, DC(0)), x, d_mul(alpha, ag_d32_expm1(d_mul(x, d_div(DC(1), alpha)))));
}
AG_INLINE dvec ag_celu_derivative_d32(dvec x, dvec alpha, dvec p1)
{
    (void)p1;
    return d_select(d_gt(x, DC(0)), DC(1), ag_d32_exp_sat(d_mul(x, d_div(DC(1), alpha))));
}
AG_INLINE dvec ag_celu_derivative_from_output_d32(dvec y, dvec alpha, dvec p1)
{
    (void)p1;
    return d_select(d_gt(y, DC(0)), DC(1), d_mul(d_add(alpha, y), d_div(DC(1), alpha)));
}
AG_D32_OP(celu, 1)
#else /* float64 */

/* z + zl = x/alpha to ~2^-2p: z = x (1/alpha), zl = (x - z alpha)/alpha (FMA
 * residual); 1/alpha is loop-invariant.  The residual is NaN where it computes
 * inf * 0: at x = +-inf (z = +-inf decides the result) and at alpha = inf (z =
 * x/alpha = +-0 exactly); it is 0 there. */
AG_INLINE vec AG_FN(ag_celu_z_)(vec x, vec alpha, vec *zl)
{
    vec ra = v_div(AG_C(1), alpha);
    vec z = v_mul(x, ra);
    vec r = v_mul(v_fnma(z, alpha, x), ra);
    *zl = v_select(v_isnan(r), AG_C(0), r);
    return z;
}

AG_INLINE vec AG_FN(ag_celu_forward)(vec x, vec alpha, vec p1)
{
    (void)p1;
    vec zl, z = AG_FN(ag_celu_z_)(x, alpha, &zl);
    vec neg = AG_FN(ag_expm1_mul)(z, zl, alpha, AG_C(0));
    return v_select(v_gt(x, AG_C(0)), x, neg);
}

AG_INLINE vec AG_FN(ag_celu_derivative)(vec x, vec alpha, vec p1)
{
    (void)p1;
    vec zl, z = AG_FN(ag_celu_z_)(x, alpha, &zl);
    return v_select(v_gt(x, AG_C(0)), AG_C(1), AG_FN(ag_exp_hilo)(z, zl));
}

/* 1 + y/alpha = (alpha + y)/alpha: alpha + y is exact where the result is
 * small (y near -alpha), so no cancellation. */
AG_INLINE vec AG_FN(ag_celu_derivative_from_output)(vec y, vec alpha, vec p1)
{
    (void)p1;
    return v_select(v_gt(y, AG_C(0)), AG_C(1), v_div(v_add(alpha, y), alpha));
}

AG_PLAIN_BACKWARD(celu, 1)

#endif /* AG_IS_F32 */
