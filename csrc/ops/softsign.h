/* softsign(x) = x / (1 + |x|); for |x| >= 1 as sign(x) (1 - 1/(1 + |x|)), which is
 * monotone (each step is a correctly rounded monotone operation; x / (1 + |x|) is not:
 * a rounded-up 1 + |x| can make a larger |x| give a smaller result) and exactly +-1
 * at +-inf (never inf / inf); both forms give exactly 1/2 at |x| = 1;
 * softsign' = (1 / (1 + |x|))^2 (the square of 1 + |x| would overflow for |x| > 1.8e19 in float32);
 * from the output: (1 - |y|)^2.
 * NaN in gives NaN out (ag_ops_nanpass where a result is selected from constants).
 * Include pattern: see vmath/exp.h. */
/* Uses (included before it by ops/all.h): ops/piecewise.h, ops/d32.h. */

#if AG_IS_F32
/* float32, evaluated in double (ops/d32.h): t = 1/(1 + |x|), softsign =
 * sign(x) (|x| t or 1 - t) (1 - t >= 1/2 for |x| >= 1: no cancellation, and
 * +-1 at +-inf), softsign' = t^2, from the output (1 - |y|)^2: at most 4
 * roundings of 2^-53 before the one to float. */
AG_INLINE dvec ag_softsign_forward_d32(dvec x, dvec p0, dvec p1)
{
    (void)p0; (void)p1;
    dvec a = d_abs(x), t = d_div(DC(1), d_add(DC(1), a));
    return d_copysign(d_select(d_lt(a, DC(1)), d_mul(a, t), d_sub(DC(1), t)), x);
}
AG_INLINE dvec ag_softsign_derivative_d32(dvec x, dvec p0, dvec p1)
{
    (void)p0; (void)p1;
    dvec t = d_div(DC(1), d_add(DC(1), d_abs(x)));
    return d_mul(t, t);
}
AG_INLINE dvec ag_softsign_derivative_from_output_d32(dvec y, dvec p0, dvec p1)
{
    (void)p0; (void)p1;
    dvec t = d_sub(DC(1), d_abs(y));
    return d_mul(t, t);
}
AG_D32_OP(softsign, 1)
#else /* float64 */

AG_INLINE vec AG_FN(ag_softsign_forward)(vec x, vec p0, vec p1)
{
    (void)p0; (void)p1;
    vec a = v_abs(x), one = AG_C(1);
    vmask small = v_lt(a, one);
    vec t = v_div(v_select(small, a, one), v_add(one, a));   /* |x|/(1+|x|) or 1/(1+|x|) */
    return v_copysign(v_select(small, t, v_sub(one, t)), x);
}

AG_INLINE vec AG_FN(ag_softsign_derivative)(vec x, vec p0, vec p1)
{
    (void)p0; (void)p1;
    vec t = v_div(AG_C(1), v_add(AG_C(1), v_abs(x)));
    return v_mul(t, t);
}

AG_INLINE vec AG_FN(ag_softsign_derivative_from_output)(vec y, vec p0, vec p1)
{
    (void)p0; (void)p1;
    vec t = v_sub(AG_C(1), v_abs(y));
    return v_mul(t, t);
}

AG_PLAIN_BACKWARD(softsign, 1)

#endif /* AG_IS_F32 */
