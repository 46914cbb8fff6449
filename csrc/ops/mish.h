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

/* The pieces, for s = 2^64 (x < 0) or 1 (x >= 0): T = Ns/G, 1 - T = W/G,
 * 1/G = r + c (G = N + W split exactly by 2Sum, then as ag_sigmoid_recip_),
 * e = exp(-|x|), es = e s, inv = 1/s. */
static inline vec AG_FN(ag_mish_parts_)(vec x, vec *W, vec *r, vec *c, vec *e, vec *es, vec *inv)
{
    vmask neg = v_lt(x, AG_C(0));
    *es = AG_FN(ag_exp_scaled)(v_neg(v_abs(x)), v_select(neg, AG_C(64), AG_C(0)));
    *inv = v_select(neg, AG_C(0x1p-64), AG_C(1));
    *e = v_mul(*es, *inv);
    vec one = AG_C(1);
    vec A = v_select(neg, *e, one), As = v_select(neg, *es, one), B = v_select(neg, one, *e);
    vec N = v_fma(A, A, v_mul(v_add(A, A), B));       /* A^2 + 2AB, one rounding */
    vec Ns = v_fma(As, A, v_mul(v_add(As, As), B));   /* the same, scaled */
    *W = v_mul(v_add(B, B), B);                        /* 2B^2 */
    vec G = v_add(N, *W), b = v_sub(G, N);             /* 2Sum: G + Gl = N + W */
    vec Gl = v_add(v_sub(N, v_sub(G, b)), v_sub(*W, b));
    *r = v_div(one, G);
    vec t = v_fnma(*r, Gl, v_fnma(*r, G, one));       /* 1 - r (G + Gl) */
    *c = v_mul(*r, t);
    return Ns;
}

/* x < 0: x Ns (r + c) with x Ns split exactly, rounded once;
 * x >= 0: x - x w, w = W (r + c) = 1 - T, rounded once. */
static inline vec AG_FN(ag_mish_forward)(vec x, vec p0, vec p1)
{
    (void)p0; (void)p1;
    vec W, r, c, e, es, inv, Ns = AG_FN(ag_mish_parts_)(x, &W, &r, &c, &e, &es, &inv);
    vec xc = v_min(AG_C(AG_MISH_MAX_), v_max(AG_C(-AG_MISH_MAX_), x));
    vec M = v_mul(xc, Ns), Ml = v_fms(xc, Ns, M);
    vec yn = v_mul(v_fma(M, r, v_fma(Ml, r, v_mul(M, c))), inv);
    vec w = v_fma(W, r, v_mul(W, c));
    vec yp = v_fnma(xc, w, x);
    return v_copysign(v_select(v_lt(x, AG_C(0)), yn, yp), x);  /* mish(-0) = -0 */
}

static inline vec AG_FN(ag_mish_derivative)(vec x, vec p0, vec p1)
{
    (void)p0; (void)p1;
    vec W, r, c, e, es, inv, Ns = AG_FN(ag_mish_parts_)(x, &W, &r, &c, &e, &es, &inv);
    vmask neg = v_lt(x, AG_C(0));
    vec w = v_fma(W, r, v_mul(W, c));                  /* 1 - T */
    vec Ts = v_select(neg, v_fma(Ns, r, v_mul(Ns, c)), v_sub(AG_C(1), w));
    vec ns, p = AG_FN(ag_sigmoid_parts_)(e, es, &ns);
    vec sig = v_select(neg, ns, p);                    /* sigmoid(x) s */
    vec xc = v_min(AG_C(AG_MISH_MAX_), v_max(AG_C(-AG_MISH_MAX_), x));
    vec sech2 = v_mul(w, v_sub(AG_C(2), w));           /* (1 - T)(1 + T) */
    return v_mul(v_fma(v_mul(xc, sech2), sig, Ts), inv);
}

#undef AG_MISH_MAX_

#endif /* AG_OPS_BODY_ */
