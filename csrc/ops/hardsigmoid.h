/* hardsigmoid(x) = relu6(x + 3) / 6, computed as written (x/6 + 0.5 would round twice); hardsigmoid' = 1/6 on (-3, 3), 0 elsewhere; from the output: 1/6 if 0 < y < 1.
 * NaN in gives NaN out (ag_ops_nanpass where a result is selected from constants).
 * Include pattern: see vmath/exp.h. */
/* Uses (included before it by ops/all.h): ops/piecewise.h, ops/d32.h. */

#if AG_IS_F32
/* float32, evaluated in double (ops/d32.h): relu6(x + 3) (1/6) with x + 3,
 * the constant 1/6 and the product rounded in double (< 2^-51 relative), then
 * once to float (0.5 + 2^-27 ULP); a multiply in place of the division. */
AG_INLINE dvec ag_hardsigmoid_forward_d32(dvec x, dvec p0, dvec p1)
{
    (void)p0; (void)p1;
    return d_mul(d_min(DC(6), d_max(DC(0), d_add(x, DC(3)))), DC(1.0 / 6));
}
AG_INLINE dvec ag_hardsigmoid_derivative_d32(dvec x, dvec p0, dvec p1)
{
    (void)p0; (void)p1;
    dvec r = d_select(d_mand(d_gt(x, DC(-3)), d_lt(x, DC(3))), DC(1.0 / 6), DC(0));
    return d_select(d_isnan(x), x, r);
}
AG_INLINE dvec ag_hardsigmoid_derivative_from_output_d32(dvec y, dvec p0, dvec p1)
{
    (void)p0; (void)p1;
    dvec r = d_select(d_mand(d_gt(y, DC(0)), d_lt(y, DC(1))), DC(1.0 / 6), DC(0));
    return d_select(d_isnan(y), y, r);
}
AG_D32_OP(hardsigmoid, 1)
#else /* float64 */

AG_INLINE vec AG_FN(ag_hardsigmoid_forward)(vec x, vec p0, vec p1)
{
    (void)p0; (void)p1;
    return v_div(v_min(AG_C(6), v_max(AG_C(0), v_add(x, AG_C(3)))), AG_C(6));
}

AG_INLINE vec AG_FN(ag_hardsigmoid_derivative)(vec x, vec p0, vec p1)
{
    (void)p0; (void)p1;
    return ag_ops_nanpass(x, v_select(v_mand(v_gt(x, AG_C(-3)), v_lt(x, AG_C(3))), AG_C(1.0 / 6), AG_C(0)));
}

AG_INLINE vec AG_FN(ag_hardsigmoid_derivative_from_output)(vec y, vec p0, vec p1)
{
    (void)p0; (void)p1;
    return ag_ops_nanpass(y, v_select(v_mand(v_gt(y, AG_C(0)), v_lt(y, AG_C(1))), AG_C(1.0 / 6), AG_C(0)));
}

AG_PLAIN_BACKWARD(hardsigmoid, 1)

#endif /* AG_IS_F32 */
