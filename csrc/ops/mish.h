/* mish(x) = x tanh(softplus(x)).  Include pattern: see vmath/exp.h.
 *
 * With n = e^x, tanh(log(1 + n)) = n(n + 2)/(n(n + 2) + 2).  In terms of
 * e = exp(-|x|) in [0, 1], put (A, B) = (e, 1) for x < 0 and (1, e) for
 * x >= 0 (numerator and denominator multiplied by e^2 there); then
 *   T    = tanh(softplus(x)) = A(A + 2B)/G,   G = A(A + 2B) + 2B^2,
 *   1-T  = w = 2B^2/G,   1+T = 2 - w,   sech^2(softplus x) = w (2 - w),
 *   mish  = x T   (x >= 0: x - x w, one rounding),
 *   mish' = T + x sech^2(softplus x) sigmoid(x)   (ops/sigmoid.h for sigmoid).
 * Tail: for x < 0, T ~ e^x and sigmoid(x) ~ e^x are made from e 2^64
 * (ag_exp_scaled) and the result unscaled once, as in silu.  x is clamped to
 * +-MAX in products (no inf * 0): mish(-inf) = -0, mish'(+inf) = 1.
 */
#include "../vmath/exp.h"
#include "sigmoid.h"

#if AG_IS_F32
#  ifndef AG_OPS_MISH_F32
#  define AG_OPS_MISH_F32
#  define AG_OPS_BODY_
#  endif
#elif !defined(AG_OPS_MISH_F64)
#  define AG_OPS_MISH_F64
#  define AG_OPS_BODY_
#endif

#ifdef AG_OPS_BODY_
#undef AG_OPS_BODY_

#if AG_IS_F32
#define AG_MISH_MAX_ 0x1.fffffep+127f
#else
#define AG_MISH_MAX_ 0x1.fffffffffffffp+1023
#endif

/* Returns T s (s = 2^64 for x < 0, else 1); *w = 1 - T, *es = e s, *e, *inv = 1/s. */
static inline vec AG_FN(ag_mish_parts_)(vec x, vec *w, vec *es, vec *e, vec *inv)
{
    vmask neg = v_lt(x, AG_C(0));
    *es = AG_FN(ag_exp_scaled)(v_neg(v_abs(x)), v_select(neg, AG_C(64), AG_C(0)));
    *inv = v_select(neg, AG_C(0x1p-64), AG_C(1));
    *e = v_mul(*es, *inv);
    vec one = AG_C(1);
    vec A = v_select(neg, *e, one), As = v_select(neg, *es, one), B = v_select(neg, one, *e);
    vec N = v_fma(A, A, v_mul(v_add(A, A), B));       /* A^2 + 2AB, one rounding */
    vec Ns = v_fma(As, A, v_mul(v_add(As, As), B));   /* the same, scaled */
    vec W = v_mul(v_add(B, B), B);                     /* 2B^2 */
    vec q = v_div(one, v_add(N, W));
    *w = v_mul(W, q);
    return v_select(neg, v_mul(Ns, q), v_sub(one, *w));
}

static inline vec AG_FN(ag_mish_forward)(vec x, vec p0, vec p1)
{
    (void)p0; (void)p1;
    vec w, es, e, inv, Ts = AG_FN(ag_mish_parts_)(x, &w, &es, &e, &inv);
    vec xc = v_min(AG_C(AG_MISH_MAX_), v_max(AG_C(-AG_MISH_MAX_), x));
    vec r = v_select(v_lt(x, AG_C(0)), v_mul(v_mul(xc, Ts), inv), v_fnma(xc, w, x));
    return v_copysign(r, x);                           /* mish(-0) = -0 */
}

static inline vec AG_FN(ag_mish_derivative)(vec x, vec p0, vec p1)
{
    (void)p0; (void)p1;
    vec w, es, e, inv, Ts = AG_FN(ag_mish_parts_)(x, &w, &es, &e, &inv);
    vec ns, p = AG_FN(ag_sigmoid_parts_)(e, es, &ns);
    vec sig = v_select(v_lt(x, AG_C(0)), ns, p);      /* sigmoid(x) s */
    vec xc = v_min(AG_C(AG_MISH_MAX_), v_max(AG_C(-AG_MISH_MAX_), x));
    vec sech2 = v_mul(w, v_sub(AG_C(2), w));
    return v_mul(v_fma(v_mul(xc, sech2), sig, Ts), inv);
}

#undef AG_MISH_MAX_

#endif /* AG_OPS_BODY_ */
