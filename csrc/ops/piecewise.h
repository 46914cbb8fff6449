/* Shared by the piecewise-linear activations: a result chosen from constants by
 * comparisons would turn NaN into a number, so the input's NaN is passed through.
 * Include pattern (per-dtype guard): see vmath/exp.h. */
#include "../vmath/exp.h"   /* AG_C */

#if AG_IS_F32
#  ifndef AG_OPS_PIECEWISE_F32
#  define AG_OPS_PIECEWISE_F32
#  define AG_OPS_BODY_
#  endif
#elif !defined(AG_OPS_PIECEWISE_F64)
#  define AG_OPS_PIECEWISE_F64
#  define AG_OPS_BODY_
#endif

#ifdef AG_OPS_BODY_
#undef AG_OPS_BODY_
#define ag_ops_nanpass AG_FN(ag_ops_nanpass)
static inline vec ag_ops_nanpass(vec x, vec r) { return v_select(v_isnan(x), x, r); }
#endif
