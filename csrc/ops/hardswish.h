/* hardswish(x) = x relu6(x + 3) / 6: x for x >= 3, a signed zero for x <= -3 (never -inf * 0), x (x + 3) / 6 between;
 * hardswish' = 0 for x <= -3, 1 for x >= 3 (PyTorch's kink values), (2x + 3) / 6 between.
 * NaN in gives NaN out (ag_ops_nanpass where a result is selected from constants).
 * Include pattern: see vmath/exp.h. */
/* Uses (included before it by ops/all.h): ops/piecewise.h, ops/d32.h. */

#if AG_IS_F32
/* float32, evaluated in double (ops/d32.h): x (x + 3) (1/6) and
 * (2x + 3) (1/6), 1/6 rounded to double (2^-54 relative) and a multiply in
 * place of the division: at most 3 roundings of 2^-53 and the constant's,
 * < 2^-51 relative, before the one to float (0.5 + 2^-27 ULP); no sum
 * cancels (x + 3 > 0 on the middle piece, 2x + 3 exact in double). */
AG_INLINE dvec ag_hardswish_forward_d32(dvec x, dvec p0, dvec p1)
{
    (void)p0; (void)p1;
    dvec mid = d_mul(d_mul(x, d_add(x, DC(3))), DC(1.0 / 6));
    return d_select(d_ge(x, DC(3)), x, d_select(d_le(x, DC(-3)), d_copysign(DC(0), x), mid));
}
AG_INLINE dvec ag_hardswish_derivative_d32(dvec x, dvec p0, dvec p1)
{
    (void)p0; (void)p1;
    dvec mid = d_mul(d_fma(DC(2), x, DC(3)), DC(1.0 / 6));
    return d_select(d_ge(x, DC(3)), DC(1), d_select(d_le(x, DC(-3)), DC(0), mid));
}
AG_D32_OP(hardswish, 0)
#else /* float64 */

AG_INLINE vec AG_FN(ag_hardswish_forward)(vec x, vec p0, vec p1)
{
    (void)p0; (void)p1;
    vec mid = v_div(v_mul(x, v_add(x, AG_C(3))), AG_C(6));
    return v_select(v_ge(x, AG_C(3)), x, v_select(v_le(x, AG_C(-3)), v_copysign(AG_C(0), x), mid));
}

AG_INLINE vec AG_FN(ag_hardswish_derivative)(vec x, vec p0, vec p1)
{
    (void)p0; (void)p1;
    vec mid = v_div(v_add(v_add(x, x), AG_C(3)), AG_C(6));
    return v_select(v_ge(x, AG_C(3)), AG_C(1), v_select(v_le(x, AG_C(-3)), AG_C(0), mid));
}

AG_PLAIN_BACKWARD(hardswish, 0)

#endif /* AG_IS_F32 */
