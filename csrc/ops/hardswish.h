/* hardswish(x) = x relu6(x + 3) / 6: x for x >= 3, a signed zero for x <= -3 (never -inf * 0), x (x + 3) / 6 between;
 * hardswish' = 0 for x <= -3, 1 for x >= 3 (PyTorch's kink values), (2x + 3) / 6 between.
 * NaN in gives NaN out (ag_ops_nanpass where a result is selected from constants).
 * Include pattern (per-dtype guard): see vmath/exp.h. */
#include "piecewise.h"

#if AG_IS_F32
#  ifndef AG_OPS_HARDSWISH_F32
#  define AG_OPS_HARDSWISH_F32
#  define AG_OPS_BODY_
#  endif
#elif !defined(AG_OPS_HARDSWISH_F64)
#  define AG_OPS_HARDSWISH_F64
#  define AG_OPS_BODY_
#endif

#ifdef AG_OPS_BODY_
#undef AG_OPS_BODY_

static inline vec AG_FN(ag_hardswish_forward)(vec x, vec p0, vec p1)
{
    (void)p0; (void)p1;
    vec mid = v_div(v_mul(x, v_add(x, AG_C(3))), AG_C(6));
    return v_select(v_ge(x, AG_C(3)), x, v_select(v_le(x, AG_C(-3)), v_copysign(AG_C(0), x), mid));
}

static inline vec AG_FN(ag_hardswish_derivative)(vec x, vec p0, vec p1)
{
    (void)p0; (void)p1;
    vec mid = v_div(v_add(v_add(x, x), AG_C(3)), AG_C(6));
    return v_select(v_ge(x, AG_C(3)), AG_C(1), v_select(v_le(x, AG_C(-3)), AG_C(0), mid));
}

#endif
