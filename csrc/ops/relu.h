/* relu(x) = max(x, 0), relu(-0) = +0; relu'(0) = 0 (PyTorch); from the output: [y > 0].
 * NaN in gives NaN out (ag_ops_nanpass where a result is selected from constants).
 * Include pattern: see vmath/exp.h. */
/* Uses (included before it by ops/all.h): ops/piecewise.h, ops/d32.h. */

AG_INLINE vec AG_FN(ag_relu_forward)(vec x, vec p0, vec p1)
{
    (void)p0; (void)p1;
    return v_add(v_max(AG_C(0), x), AG_C(0));   /* v_max passes NaN; + 0 turns -0 into +0 */
}

AG_INLINE vec AG_FN(ag_relu_derivative)(vec x, vec p0, vec p1)
{
    (void)p0; (void)p1;
    return ag_ops_nanpass(x, v_select(v_gt(x, AG_C(0)), AG_C(1), AG_C(0)));
}

AG_INLINE vec AG_FN(ag_relu_derivative_from_output)(vec y, vec p0, vec p1)
{
    (void)p0; (void)p1;
    return ag_ops_nanpass(y, v_select(v_gt(y, AG_C(0)), AG_C(1), AG_C(0)));
}

AG_PLAIN_BACKWARD(relu, 1)
