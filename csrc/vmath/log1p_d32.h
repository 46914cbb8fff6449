/* log1p in double precision, sized for float32 results (see exp_d32.h for
 * the idea and the include rules: fixed f64 names, body once per unit).
 *
 *   ag_f64v ag_d32_log1p01(ag_f64v u)
 *       log(1 + u) for 0 <= u <= 1 (the softplus / log_sigmoid argument
 *       e^-|z|), relative error < 2^-41 (also for tiny and subnormal u:
 *       log1p(u) = u to that accuracy, log1p(+0) = +0).  NaN -> NaN.
 *       Outside [0, 1] unspecified.
 *
 * Method: log1p(u) = u + u^2 Q(u), Q of degree 14 a weighted least-squares
 * fit (Lawson IRLS, mpmath references on 3001 Chebyshev points of [0, 1]) of
 * (log1p(u) - u)/u^2 for the error relative to log1p(u): 2^-41.47 with the
 * coefficients rounded to double (mpmath, 4000 points).  Over all float32
 * inputs (tools/exhaustive_f32.py) softplus then misrounds 795 results (the
 * atanh form with a division it replaced: 679; degree 12, 2^-37.95, two
 * operations fewer: 14190), each within 0.5 ULP + 2^-17.  log1p's singularity
 * at u = -1 is one interval length from [0, 1], so a polynomial gains about
 * 2.5 bits per degree there: no range reduction and no division (the
 * atanh form needs both).  Q by Estrin's scheme (5 operations deep, not
 * Horner's 14); its terms alternate in sign, but their magnitudes sum to about
 * 2, against |Q| >= 0.3, so the evaluation adds a few 2^-52 of Q, and u^2 Q is
 * at most 0.44 of the result.  The leading u is exact: tiny and subnormal u
 * give u (u^2 Q is below half an ULP of u, or 0), +0 gives +0.
 */
#ifndef AG_VMATH_LOG1P_D32_H
#define AG_VMATH_LOG1P_D32_H

#include "d32.h"

AG_INLINE ag_f64v ag_d32_log1p01(ag_f64v u)
{
    ag_f64v u2 = d_mul(u, u), u4 = d_mul(u2, u2), u8 = d_mul(u4, u4);
    ag_f64v q01 = d_fma(DC(0x1.55555539505a8p-2), u, DC(-0x1.ffffffffc5565p-2));
    ag_f64v q23 = d_fma(DC(0x1.9998d8cf08b88p-3), u, DC(-0x1.fffff6cf769d0p-3));
    ag_f64v q45 = d_fma(DC(0x1.24470fc63383bp-3), u, DC(-0x1.554bff2e2e84ap-3));
    ag_f64v q67 = d_fma(DC(0x1.ba056fc875d38p-4), u, DC(-0x1.fcbb1015442e1p-4));
    ag_f64v q89 = d_fma(DC(0x1.1c7b97114b810p-4), u, DC(-0x1.72b5bb710e11dp-4));
    ag_f64v q1011 = d_fma(DC(0x1.84297c20ccb8cp-6), u, DC(-0x1.7558af2055898p-5));
    ag_f64v q1213 = d_fma(DC(0x1.162c1becec0e0p-9), u, DC(-0x1.2410fb09c9a50p-7));
    ag_f64v q0_3 = d_fma(u2, q23, q01), q4_7 = d_fma(u2, q67, q45);
    ag_f64v q8_11 = d_fma(u2, q1011, q89), q12_14 = d_fma(u2, DC(-0x1.f27dc3c619600p-13), q1213);
    ag_f64v q = d_fma(u8, d_fma(u4, q12_14, q8_11), d_fma(u4, q4_7, q0_3));
    return d_fma(u2, q, u);
}

#endif
