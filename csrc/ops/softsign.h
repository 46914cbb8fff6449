/* softsign(x) = x / (1 + |x|), exactly +-1 at +-inf (never inf / inf);
 * softsign' = (1 / (1 + |x|))^2 (the square of 1 + |x| would overflow for |x| > 1.8e19 in float32);
 * from the output: (1 - |y|)^2.
 * NaN in gives NaN out (ag_ops_nanpass where a result is selected from constants).
 * Include pattern (per-dtype guard): see vmath/exp.h. */
#include "piecewise.h"

#if AG_IS_F32
#  ifndef AG_OPS_SOFTSIGN_F32
#  define AG_OPS_SOFTSIGN_F32
#  define AG_OPS_BODY_
#  endif
#elif !defined(AG_OPS_SOFTSIGN_F64)
#  define AG_OPS_SOFTSIGN_F64
#  define AG_OPS_BODY_
#endif

#ifdef AG_OPS_BODY_
#undef AG_OPS_BODY_

static inline vec AG_FN(ag_softsign_forward)(vec x, vec p0, vec p1)
{
    (void)p0; (void)p1;
    vec r = v_div(x, v_add(AG_C(1), v_abs(x)));
    return v_select(v_eq(v_abs(x), AG_C(INFINITY)), v_copysign(AG_C(1), x), r);
}

static inline vec AG_FN(ag_softsign_derivative)(vec x, vec p0, vec p1)
{
    (void)p0; (void)p1;
    vec t = v_div(AG_C(1), v_add(AG_C(1), v_abs(x)));
    return v_mul(t, t);
}

static inline vec AG_FN(ag_softsign_derivative_from_output)(vec y, vec p0, vec p1)
{
    (void)p0; (void)p1;
    vec t = v_sub(AG_C(1), v_abs(y));
    return v_mul(t, t);
}

#endif
