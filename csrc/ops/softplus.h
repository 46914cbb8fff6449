/* softplus(x; beta, threshold) = log(1 + e^(beta x))/beta, and x where
 * beta x > threshold (PyTorch 2.13; beta x rounded in the dtype, as PyTorch).
 * Include pattern (per-dtype guard): see vmath/exp.h.
 *
 * With z = beta x split exactly as zh + zl (FMA), e = exp(-|z|) in [0, 1]
 * (ag_exp_hilo, so the tail e^z keeps full relative accuracy for beta != 1):
 *   softplus = (max(z, 0) + log1p(e))/beta        (log(1 + e^z) = max(z,0) + log1p(e^-|z|));
 *   softplus' = 1 where zh > threshold, else sigmoid(z) (PyTorch: at
 *               zh == threshold it is sigmoid(threshold)), from ops/sigmoid.h;
 *   from the output (API.md): 1 where beta y > threshold, else
 *               1 - exp(-beta y) = -expm1(-beta y).
 */
#include "../vmath/exp.h"
#include "../vmath/expm1.h"
#include "../vmath/log1p.h"
#include "sigmoid.h"

#if AG_IS_F32
#  ifndef AG_OPS_SOFTPLUS_F32
#  define AG_OPS_SOFTPLUS_F32
#  define AG_OPS_BODY_
#  endif
#elif !defined(AG_OPS_SOFTPLUS_F64)
#  define AG_OPS_SOFTPLUS_F64
#  define AG_OPS_BODY_
#endif

#ifdef AG_OPS_BODY_
#undef AG_OPS_BODY_

/* zh + zl = beta x exactly (zl = 0 where zh is +-inf or NaN); returns
 * e = exp(-|beta x|). */
static inline vec AG_FN(ag_softplus_e_)(vec x, vec beta, vec *zh, vec *zl)
{
    vec h = v_mul(beta, x);
    vec l = v_fms(beta, x, h);
    l = v_select(v_isnan(l), AG_C(0), l);
    *zh = h;
    *zl = l;
    return AG_FN(ag_exp_hilo)(v_neg(v_abs(h)), v_select(v_ge(h, AG_C(0)), v_neg(l), l));
}

static inline vec AG_FN(ag_softplus_forward)(vec x, vec beta, vec threshold)
{
    vec zh, zl, e = AG_FN(ag_softplus_e_)(x, beta, &zh, &zl);
    vec l = AG_FN(ag_log1p)(e);
    vec m = v_select(v_gt(zh, AG_C(0)), v_add(zh, v_add(l, zl)), l);  /* NaN zh: l is NaN */
    return v_select(v_gt(zh, threshold), x, v_div(m, beta));
}

static inline vec AG_FN(ag_softplus_derivative)(vec x, vec beta, vec threshold)
{
    vec zh, zl, e = AG_FN(ag_softplus_e_)(x, beta, &zh, &zl), n;
    vec p = AG_FN(ag_sigmoid_parts_)(e, e, &n);
    vec s = v_select(v_ge(zh, AG_C(0)), p, n);
    return v_select(v_gt(zh, threshold), AG_C(1), s);
}

static inline vec AG_FN(ag_softplus_derivative_from_output)(vec y, vec beta, vec threshold)
{
    vec z = v_mul(beta, y);
    vec d = v_neg(AG_FN(ag_expm1)(v_neg(z)));
    return v_select(v_gt(z, threshold), AG_C(1), d);
}

#endif /* AG_OPS_BODY_ */
