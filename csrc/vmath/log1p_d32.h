/* log1p in double precision, sized for float32 results (see exp_d32.h for
 * the idea and the include rules: fixed f64 names, body once per unit).
 *
 *   ag_f64v ag_d32_log1p01(ag_f64v u)
 *       log(1 + u) for 0 <= u <= 1 (the softplus / log_sigmoid argument
 *       e^-|z|), relative error < 2^-40 (also for tiny and subnormal u:
 *       log1p(u) = u to that accuracy, log1p(+0) = +0).  NaN -> NaN.
 *       Outside [0, 1] unspecified.
 *
 * Method: w = 1 + u rounded, with the exact error c = u - (w - 1)
 * (Fast2Sum, u <= 1); w in [1, 2]; k = 1 and m = w/2 if w > sqrt 2, else
 * k = 0 and m = w, so m in [0.707, 1.415] and f = m - 1 is exact (Sterbenz).
 * log(m) = 2 atanh(s), s = f/(2 + f), |s| <= 0.1716, s^2 <= 0.02944:
 * 2 atanh(s) = 2s + 2s z (1/3 + z/5 + ... + z^5/13), z = s^2 (the Taylor
 * series; the first omitted term is 2s z^7/15 < 2s 2^-40.1 relative).
 * log1p(u) = k ln2 + log(m) + c/w (log(1 + c/w) = c/w to 2^-106), and c/w
 * is taken as c (2 - w) (2 - w exact, Sterbenz; no second division):
 * c/w - c (2 - w) = c (w - 1)^2/w, |c| <= 2^-52 and |w - 1| <= 1.0000001 u,
 * so the difference is <= 2^-51.9 u^2 <= 2^-51.3 log1p(u) (log1p(u) >= u ln2
 * on [0, 1]); for tiny u (w = 1, c = u) it is exact.  For
 * k = 1, log(m) >= -0.347 against ln2: no cancellation.  Rounding: s
 * carries 2 roundings (2^-52 relative), the sum a few more: < 2^-49 each.
 */
#ifndef AG_VMATH_LOG1P_D32_H
#define AG_VMATH_LOG1P_D32_H

#include "d32.h"

AG_INLINE ag_f64v ag_d32_log1p01(ag_f64v u)
{
    ag_f64v one = DC(1);
    ag_f64v w = d_add(one, u);
    ag_f64v c = d_sub(u, d_sub(w, one));                  /* w + c = 1 + u exactly */
    ag_f64m big = d_gt(w, DC(0x1.6a09e667f3bcdp+0));
    ag_f64v m = d_select(big, d_mul(w, DC(0.5)), w);
    ag_f64v f = d_sub(m, one);                            /* exact */
    ag_f64v s = d_div(f, d_add(DC(2), f));
    ag_f64v z = d_mul(s, s);
    ag_f64v z2 = d_mul(z, z);                             /* Estrin: 3 multiply-adds deep, not 5 */
    ag_f64v p = d_fma(z2, d_fma(DC(1.0 / 13), z, DC(1.0 / 11)), d_fma(DC(1.0 / 9), z, DC(1.0 / 7)));
    p = d_fma(z2, p, d_fma(DC(1.0 / 5), z, DC(1.0 / 3)));
    ag_f64v s2 = d_add(s, s);
    ag_f64v lm = d_fma(d_mul(s2, z), p, s2);              /* log(m) */
    ag_f64v k = d_select(big, DC(0x1.62e42fefa39efp-1), DC(0));
    return d_add(d_add(k, lm), d_mul(c, d_sub(DC(2), w)));   /* c/w, see above */
}

#endif
