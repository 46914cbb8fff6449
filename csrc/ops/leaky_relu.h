/* leaky_relu(x; s) = x for x > 0, s x otherwise; leaky_relu'(0) = s (PyTorch); from the output: 1 if y > 0 else s (s > 0).
 * NaN in gives NaN out (ag_ops_nanpass where a result is selected from constants).
 * Include pattern: see vmath/exp.h. */
/* Uses (included before it by ops/all.h): ops/piecewise.h, ops/d32.h. */

AG_INLINE vec AG_FN(ag_leaky_relu_forward)(vec x, vec slope, vec p1)
{
    (void)p1;
    return v_select(v_gt(x, AG_C(0)), x, v_mul(slope, x));
}

AG_INLINE vec AG_FN(ag_leaky_relu_derivative)(vec x, vec slope, vec p1)
{
    (void)p1;
    return ag_ops_nanpass(x, v_select(v_gt(x, AG_C(0)), AG_C(1), slope));
}

AG_INLINE vec AG_FN(ag_leaky_relu_derivative_from_output)(vec y, vec slope, vec p1)
{
    (void)p1;
    return ag_ops_nanpass(y, v_select(v_gt(y, AG_C(0)), AG_C(1), slope));
}

AG_PLAIN_BACKWARD(leaky_relu, 1)
