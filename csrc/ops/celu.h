/* celu(x; alpha) = max(0, x) + min(0, alpha (e^(x/alpha) - 1)).
 * Include pattern (per-dtype guard): see vmath/exp.h.
 *   celu  = x for x > 0, alpha expm1(x/alpha) otherwise (celu(-inf) = -alpha);
 *   celu' = 1 for x > 0, e^(x/alpha) otherwise (celu'(0) = 1);
 *   from the output (API.md): 1 for y > 0, 1 + y/alpha otherwise.
 */
#include "../vmath/exp.h"
#include "../vmath/expm1.h"

#if AG_IS_F32
#  ifndef AG_OPS_CELU_F32
#  define AG_OPS_CELU_F32
#  define AG_OPS_BODY_
#  endif
#elif !defined(AG_OPS_CELU_F64)
#  define AG_OPS_CELU_F64
#  define AG_OPS_BODY_
#endif

#ifdef AG_OPS_BODY_
#undef AG_OPS_BODY_

static inline vec AG_FN(ag_celu_forward)(vec x, vec alpha, vec p1)
{
    (void)p1;
    vec neg = v_mul(alpha, AG_FN(ag_expm1)(v_div(x, alpha)));
    return v_select(v_gt(x, AG_C(0)), x, neg);
}

static inline vec AG_FN(ag_celu_derivative)(vec x, vec alpha, vec p1)
{
    (void)p1;
    return v_select(v_gt(x, AG_C(0)), AG_C(1), AG_FN(ag_exp)(v_div(x, alpha)));
}

static inline vec AG_FN(ag_celu_derivative_from_output)(vec y, vec alpha, vec p1)
{
    (void)p1;
    return v_select(v_gt(y, AG_C(0)), AG_C(1), v_add(AG_C(1), v_div(y, alpha)));
}

#endif /* AG_OPS_BODY_ */
