/* relu6(x) = min(max(x, 0), 6); relu6' = 1 on (0, 6), 0 elsewhere (0 at both kinks); from the output: [0 < y < 6].
 * NaN in gives NaN out (ag_ops_nanpass where a result is selected from constants).
 * Include pattern (per-dtype guard): see vmath/exp.h. */
#include "piecewise.h"

#include "d32.h"

#if AG_IS_F32
#  ifndef AG_OPS_RELU6_F32
#  define AG_OPS_RELU6_F32
#  define AG_OPS_BODY_
#  endif
#elif !defined(AG_OPS_RELU6_F64)
#  define AG_OPS_RELU6_F64
#  define AG_OPS_BODY_
#endif

#ifdef AG_OPS_BODY_
#undef AG_OPS_BODY_

static inline vec AG_FN(ag_relu6_forward)(vec x, vec p0, vec p1)
{
    (void)p0; (void)p1;
    return v_min(AG_C(6), v_add(v_max(AG_C(0), x), AG_C(0)));
}

static inline vec AG_FN(ag_relu6_derivative)(vec x, vec p0, vec p1)
{
    (void)p0; (void)p1;
    return ag_ops_nanpass(x, v_select(v_mand(v_gt(x, AG_C(0)), v_lt(x, AG_C(6))), AG_C(1), AG_C(0)));
}

static inline vec AG_FN(ag_relu6_derivative_from_output)(vec y, vec p0, vec p1)
{
    (void)p0; (void)p1;
    return ag_ops_nanpass(y, v_select(v_mand(v_gt(y, AG_C(0)), v_lt(y, AG_C(6))), AG_C(1), AG_C(0)));
}

AG_PLAIN_BACKWARD(relu6, 1)

#endif
