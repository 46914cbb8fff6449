/* exp and expm1 in double precision, sized for float32 results.
 *
 * For kernels that widen float32 inputs to double, evaluate in double and
 * round once to float (vmath/d32.h, simd/scalar.h's widen/narrow): the
 * double result only has to be accurate to a few 2^-30 relative for the one
 * final rounding to float to be within 0.5 ULP + 2^-7 ULP of the exact
 * value, so the polynomial is sized for that, not for 2^-53.
 * Written on the fixed f64 shim names (d_add == ag_f64_add), so it is
 * the same code in a float or a double pass; the body is defined once per
 * translation unit (include after the ISA's shim header, any number of
 * times).  Every ISA runs the same operations, so results are bit-identical
 * on every path (csrc/tests/test_vmath.c).
 *
 * Contracts (relative errors measured against long double libm by
 * test_vmath.c over the ranges below; the bound proved by the analysis below
 * is 2^-36.5):
 *
 *   ag_f64v ag_d32_exp(ag_f64v x)
 *       e^x, relative error < 2^-36 for -708 <= x <= 709.  x < -708
 *       (also -inf) gives +0 (e^x < 2^-1021, below every float32 by far),
 *       x > 709 gives +inf (e^x > 2^1022), NaN -> NaN.  exp(0) = 1 exactly.
 *
 *   ag_f64v ag_d32_exp_sat(ag_f64v x)
 *       e^max(-708, min(x, 709)) with the same accuracy: the saturating
 *       form, 4 operations cheaper, for callers whose result does not care
 *       (e^-708 = 3.3e-308 and e^709 = 8.2e307 round to 0 and inf in float32,
 *       and a product of e^-708 with any two float32 magnitudes is < 2^-765).
 *       NaN -> NaN.
 *
 *   ag_f64v ag_d32_exp_negabs(ag_f64v x), ag_d32_expm1_negabs(ag_f64v x),
 *   ag_f64v ag_d32_exp_negabs_flush(ag_f64v x)
 *       ag_d32_exp_sat(-|x|), ag_d32_expm1(-|x|) and ag_d32_exp(-|x|), bit for bit,
 *       in 2-4 operations fewer.
 *
 *   ag_f64v ag_d32_expm1(ag_f64v x)
 *       e^x - 1, relative error < 2^-36 for x <= 709 (no cancellation near
 *       0: expm1(x) ~ x to that relative accuracy for tiny and subnormal
 *       x, and expm1(+-0) = +-0); saturating like ag_d32_exp_sat: x < -708
 *       (also -inf) gives -1, x > 709 gives e^709 - 1.  NaN -> NaN.
 *
 * Method: x is clamped to [-708, 709], n = round(x log2(e)) in [-1021, 1023],
 * r = x - n ln2 with one FMA (ln2 rounded to double: the error of n ln2 is
 * < 1023 * 2^-54 < 2^-44 absolute, so |r| <= 0.3466 and r is within 2^-44
 * of the exact reduced argument, a relative error of 2^-44 in e^r).  On
 * |r| <= 0.3466, expm1(r) = r + r^2 Q(r), Q of degree 6, a weighted
 * least-squares fit (IRLS, mpmath) of (expm1(r) - r)/r^2 for the relative
 * error of expm1: |error| < 2^-37.4 relative, measured in mpmath on 2000
 * points with the coefficients rounded to double; its evaluation in double
 * (Estrin's scheme, ag_d32_expm1_poly_) adds < 2^-52.8 (mpmath, 4001 points).
 * Then e^x = (1 + q) 2^n (q = expm1(r) to 2^-37.4 relative, so 1 + q to
 * 2^-37.4 too as |q| < |1 + q|), and e^x - 1 = q (n = 0) or
 * fma(2^n, q, 2^n - 1) (n != 0: |x| >= ln2/2, |e^x - 1| >= 0.29 while
 * |2^n q| <= 0.41 |2^n| ... no cancellation beyond a factor 2).  2^n is
 * exact (v_pow2i, n >= -1021); in exp and exp_sat (1 + q) 2^n is one FMA,
 * fma(2^n, q, 2^n): 1 + q is in [0.7, 1.42] and (1 + q) 2^n >= 0.7 2^-1021
 * is normal, so the FMA's one rounding gives 2^n round(1 + q), the same bits
 * on every ISA, one dependent operation after q instead of an add and a
 * scaling.  Cost per vector: exp 2 + 10 + 1 FMA/mul/add,
 * one round, one pow2i, 2 min/max (exp_sat), + 2 compares and blends (exp).
 */
#ifndef AG_VMATH_EXP_D32_H
#define AG_VMATH_EXP_D32_H

#include <math.h> /* INFINITY */
#include "d32.h"

#define AG_D32_LOG2E_ 0x1.71547652b82fep+0
#define AG_D32_LN2_ 0x1.62e42fefa39efp-1
#define AG_D32_XMIN_ -708.0
#define AG_D32_XMAX_ 709.0

/* r = xc - k ln2 and k = round(xc / ln2), for xc already clamped to [XMIN, XMAX]. */
AG_INLINE ag_f64v ag_d32_reduce_clamped_(ag_f64v xc, ag_f64v *k)
{
    *k = d_round(d_mul(xc, DC(AG_D32_LOG2E_)));
    return d_fnma(*k, DC(AG_D32_LN2_), xc);
}

/* r = x - n ln2 and n (NaN-free) for x <= XMAX (or NaN) clamped to [XMIN, XMAX]; NaN x
 * gives NaN r. */
AG_INLINE ag_f64v ag_d32_reduce_le_(ag_f64v x, ag_f64v *n)
{
    ag_f64v k, r = ag_d32_reduce_clamped_(d_max(DC(AG_D32_XMIN_), x), &k);
    *n = d_max(k, DC(-1021.0));                                       /* no-op, but NaN -> -1021 */
    return r;
}

/* the same for any x */
AG_INLINE ag_f64v ag_d32_reduce_(ag_f64v x, ag_f64v *n)
{
    return ag_d32_reduce_le_(d_min(DC(AG_D32_XMAX_), x), n);
}

/* expm1(r) on |r| <= 0.3466 to 2^-37.4 relative (Q above), Q by Estrin's scheme:
 * Q = (q0 + q1 r) + r^2 (q2 + q3 r) + r^4 ((q4 + q5 r) + r^2 q6), a dependency chain of
 * 4 multiply-adds after r^2 instead of Horner's 7. */
AG_INLINE ag_f64v ag_d32_expm1_poly_(ag_f64v r)
{
    ag_f64v r2 = d_mul(r, r);
    ag_f64v q = ag_f64_estrin6(r, r2, d_mul(r2, r2), 0x1.000000001715fp-1, 0x1.5555557350012p-3,
                               0x1.555554f3742ebp-5, 0x1.1110b222c0b70p-7, 0x1.6c1766ca5b0ccp-10,
                               0x1.a16f61d432c7dp-13, 0x1.a00397e126f86p-16);
    return d_fma(r2, q, r);
}

/* (1 + expm1(r)) 2^n rounded once: 1 + q in [0.7, 1.42] */
AG_INLINE ag_f64v ag_d32_exp_rn_(ag_f64v r, ag_f64v n)
{
    ag_f64v s = d_pow2i(n);
    return d_fma(s, ag_d32_expm1_poly_(r), s);
}

AG_INLINE ag_f64v ag_d32_exp_sat(ag_f64v x)
{
    ag_f64v n, r = ag_d32_reduce_(x, &n);
    return ag_d32_exp_rn_(r, n);
}

/* ag_d32_exp_sat(-|x|), 2 operations fewer: -|x| is x with its sign bit set, and <= 0
 * needs no clamp from above.  NaN -> NaN. */
AG_INLINE ag_f64v ag_d32_exp_negabs(ag_f64v x)
{
    ag_f64v n, r = ag_d32_reduce_le_(d_or(x, DC(-0.0)), &n);
    return ag_d32_exp_rn_(r, n);
}

/* ag_d32_exp(-|x|), bit for bit: ag_d32_exp_negabs with the +0 below XMIN (log_sigmoid) */
AG_INLINE ag_f64v ag_d32_exp_negabs_flush(ag_f64v x)
{
    return d_select(d_gt(d_abs(x), DC(-AG_D32_XMIN_)), DC(0), ag_d32_exp_negabs(x));
}

/* ag_d32_exp_le0_coarse(x): e^x for x <= 0 within 2^-28 relative (+0 below XMIN and at
 * -inf), for a result that is rounded to float after few operations (the softmax family,
 * whose e is stored as float): x clamped from below only (NaN -> XMIN: its row is NaN
 * anyway, and scalef needs a number), the reduction above, e^r by a degree-6 near-minimax
 * polynomial (Lawson IRLS in mpmath; relative error 2^-28.3 on |r| <= 0.3468), times 2^n
 * exactly (scalef: a normal double).  About 15 operations per vector, 6 fewer than
 * ag_d32_exp.  ag_d32_exp_le0_coarse_sat(x) is e^max(x, XMIN), 2 operations fewer, for
 * float32 softmax: its e^-708 in place of +0 rounds to the same float +0 when stored, and
 * leaves a plain sum >= 1 unchanged. */
AG_INLINE ag_f64v ag_d32_exp_le0_coarse_sat(ag_f64v x)
{
    ag_f64v n, r = ag_d32_reduce_clamped_(d_max(x, DC(AG_D32_XMIN_)), &n);
    ag_f64v r2 = d_mul(r, r);
    ag_f64v p = ag_f64_estrin6(r, r2, d_mul(r2, r2), 1, 1, 0x1.fffffb977db29p-2, 0x1.5554910116424p-3,
                               0x1.5558f30f760bcp-5, 0x1.123a210f8881fp-7, 0x1.6a23c02b22196p-10);
    return ag_f64_scalef(p, n);
}

AG_INLINE ag_f64v ag_d32_exp_le0_coarse(ag_f64v x)
{
    return d_select(d_lt(x, DC(AG_D32_XMIN_)), DC(0), ag_d32_exp_le0_coarse_sat(x));
}

AG_INLINE ag_f64v ag_d32_exp(ag_f64v x)
{
    ag_f64v e = ag_d32_exp_sat(x);
    e = d_select(d_lt(x, DC(AG_D32_XMIN_)), DC(0), e);
    return d_select(d_gt(x, DC(AG_D32_XMAX_)), DC(INFINITY), e);
}

/* (2^n - 1) + 2^n expm1(r), rounded once */
AG_INLINE ag_f64v ag_d32_expm1_rn_(ag_f64v r, ag_f64v n)
{
    ag_f64v q = ag_d32_expm1_poly_(r), s = d_pow2i(n);
    return d_fma(s, q, d_sub(s, DC(1)));         /* n = 0: q exactly (s = 1) */
}

AG_INLINE ag_f64v ag_d32_expm1(ag_f64v x)
{
    ag_f64v n, r = ag_d32_reduce_(x, &n);
    return d_or(ag_d32_expm1_rn_(r, n), d_and(x, DC(-0.0)));   /* x's sign, for x = -0 */
}

/* ag_d32_expm1(-|x|), bit for bit, in 3 operations fewer (as ag_d32_exp_negabs) */
AG_INLINE ag_f64v ag_d32_expm1_negabs(ag_f64v x)
{
    ag_f64v n, r = ag_d32_reduce_le_(d_or(x, DC(-0.0)), &n);
    return d_or(ag_d32_expm1_rn_(r, n), DC(-0.0));              /* <= 0: only -0 changes */
}

#undef AG_D32_LOG2E_
#undef AG_D32_LN2_

#endif
