/* hardtanh(x; lo, hi) = min(max(x, lo), hi); hardtanh' = 1 on (lo, hi), 0 at both bounds and outside (also when lo == hi).
 * NaN in gives NaN out (ag_ops_nanpass where a result is selected from constants).
 * Include pattern: see vmath/exp.h. */
/* Uses (included before it by ops/all.h): ops/piecewise.h, ops/d32.h. */

AG_INLINE vec AG_FN(ag_hardtanh_forward)(vec x, vec lo, vec hi)
{
    return v_min(hi, v_max(lo, x));
}

AG_INLINE vec AG_FN(ag_hardtanh_derivative)(vec x, vec lo, vec hi)
{
    return ag_ops_nanpass(x, v_select(v_mand(v_gt(x, lo), v_lt(x, hi)), AG_C(1), AG_C(0)));
}

AG_INLINE vec AG_FN(ag_hardtanh_derivative_from_output)(vec y, vec lo, vec hi)
{
    return ag_ops_nanpass(y, v_select(v_mand(v_gt(y, lo), v_lt(y, hi)), AG_C(1), AG_C(0)));
}

AG_PLAIN_BACKWARD(hardtanh, 1)
