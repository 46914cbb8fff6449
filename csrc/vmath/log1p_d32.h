/* log1p in double precision, sized for float32 results (see exp_d32.h for
 * the idea and the include rules: fixed f64 names, body once per unit).
 *
 *   ag_f64v ag_d32_log1p01(ag_f64v u)
 *       log(1 + u) for 0 <= u <= 1 (the softplus / log_sigmoid argument
 *       e^-|z|), relative error < 2^-37.5 (also for tiny and subnormal u:
 *       log1p(u) = u to that accuracy, log1p(+0) = +0).  NaN -> NaN.
 *       Outside [0, 1] unspecified.
 *
 * Method: log1p(u) = u + u^2 Q(u), Q of degree 12 a weighted least-squares
 * fit (Lawson IRLS, mpmath references on 3001 Chebyshev points of [0, 1]) of
 * (log1p(u) - u)/u^2 for the error relative to log1p(u): 2^-37.95 with the
 * coefficients rounded to double (mpmath, 4000 points).  log1p's singularity
 * at u = -1 is one interval length from [0, 1], so a polynomial gains about
 * 2.5 bits per degree there: no range reduction and no division (the
 * atanh form needs both).  Q by Estrin's scheme, 4 multiply-adds deep after
 * u^8; its terms alternate in sign, but their magnitudes sum to less than 2,
 * against |Q| >= 0.3, so the evaluation adds a few 2^-52 of Q, and u^2 Q is
 * at most 0.44 of the result.  The leading u is exact: tiny and subnormal u
 * give u (u^2 Q is below half an ULP of u, or 0), +0 gives +0.
 */
#ifndef AG_VMATH_LOG1P_D32_H
#define AG_VMATH_LOG1P_D32_H

#include "d32.h"

AG_INLINE ag_f64v ag_d32_log1p01(ag_f64v u)
{
    ag_f64v u2 = d_mul(u, u), u4 = d_mul(u2, u2), u8 = d_mul(u4, u4);
    ag_f64v q01 = d_fma(DC(0x1.5555512d74c4ep-2), u, DC(-0x1.fffffff33c756p-2));
    ag_f64v q23 = d_fma(DC(0x1.998b9bdf24c63p-3), u, DC(-0x1.ffff0d8f3f726p-3));
    ag_f64v q45 = d_fma(DC(0x1.21cfc67978daap-3), u, DC(-0x1.54da3981383a9p-3));
    ag_f64v q67 = d_fma(DC(0x1.88bcff25e6664p-4), u, DC(-0x1.ea1e19696bf18p-4));
    ag_f64v q89 = d_fma(DC(0x1.3db0fb57939b8p-5), u, DC(-0x1.15adc6f6fb634p-4));
    ag_f64v q1011 = d_fma(DC(0x1.1a2df959f30f0p-8), u, DC(-0x1.09c78c6457a40p-6));
    ag_f64v q0_3 = d_fma(u2, q23, q01), q4_7 = d_fma(u2, q67, q45);
    ag_f64v q8_11 = d_fma(u2, q1011, q89);
    ag_f64v q8_12 = d_fma(u4, DC(-0x1.194a7504edcc0p-11), q8_11);
    ag_f64v q = d_fma(u8, q8_12, d_fma(u4, q4_7, q0_3));
    return d_fma(u2, q, u);
}

#endif
