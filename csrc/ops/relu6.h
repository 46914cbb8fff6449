/* relu6(x) = min(max(x, 0), 6); relu6' = 1 on (0, 6), 0 elsewhere (0 at both kinks); from the output: [0 < y < 6].
 * NaN in gives NaN out (ag_ops_nanpass where a result is selected from constants).
 * Include pattern: see vmath/exp.h. */
/* Uses (included before it by ops/all.h): ops/piecewise.h, ops/d32.h. */

AG_INLINE vec AG_FN(ag_relu6_forward)(vec x, vec p0, vec p1)
{
    (void)p0; (void)p1;
    return v_min(AG_C(6), v_add(v_max(AG_C(0), x), AG_C(0)));
}

AG_INLINE vec AG_FN(ag_relu6_derivative)(vec x, vec p0, vec p1)
{
    (void)p0; (void)p1;
    return ag_ops_nanpass(x, v_select(v_mand(v_gt(x, AG_C(0)), v_lt(x, AG_C(6))), AG_C(1), AG_C(0)));
}

AG_INLINE vec AG_FN(ag_relu6_derivative_from_output)(vec y, vec p0, vec p1)
{
    (void)p0; (void)p1;
    return ag_ops_nanpass(y, v_select(v_mand(v_gt(y, AG_C(0)), v_lt(y, AG_C(6))), AG_C(1), AG_C(0)));
}

AG_PLAIN_BACKWARD(relu6, 1)
