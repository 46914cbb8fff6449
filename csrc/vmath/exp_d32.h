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
 * test_vmath.c over the ranges below, where the analysis below bounds them):
 *
 *   ag_f64v ag_d32_exp(ag_f64v x)
 *       e^x, relative error < 2^-37 for -708 <= x <= 709 (measured 2^-37.48).
 *       x < -708 (also -inf) gives +0 (e^x < 2^-1021, below every float32 by
 *       far), x > 709 gives +inf (e^x > 2^1022), NaN -> NaN.  exp(0) = 1
 *       exactly.
 *
 *   ag_f64v ag_d32_exp_sat(ag_f64v x)
 *       e^max(-708, min(x, 709)) with the same accuracy: the saturating
 *       form, 2 compares and blends cheaper, for callers whose result does not
 *       care (e^-708 = 3.3e-308 and e^709 = 8.2e307 round to 0 and inf in
 *       float32, and a product of e^-708 with any two float32 magnitudes is
 *       < 2^-765).  NaN -> NaN.
 *
 *   ag_f64v ag_d32_expm1(ag_f64v x)
 *       e^x - 1, relative error < 2^-39 for x <= 709 (no cancellation near
 *       0: expm1(x) ~ x to that relative accuracy for tiny and subnormal
 *       x, and expm1(+-0) = +-0); saturating like ag_d32_exp_sat: x < -708
 *       (also -inf) gives -1, x > 709 gives e^709 - 1.  NaN -> NaN.
 *
 * exp, exp_sat, expm1: the table method.  x is clamped to [-708, 709]; one
 * FMA gives y = x 16/ln2 + 1.5 2^52 rounded, i.e. k = round(x 16/ln2) in the
 * low bits of y (|k| <= 16366 < 2^51), and k = y - 1.5 2^52 exactly;
 * r = x - k ln2/16 with one FMA (ln2/16 rounded to double: |k| |error| <
 * 2^14 2^-59 = 2^-45 absolute, so |r| <= ln2/32 (1 + 2^-40) and r is within
 * 2^-45 of the exact reduced argument, a relative error of 2^-45 in e^r).
 * Then e^x = s e^r with s = 2^(k/16) = 2^floor(k/16) t, t = 2^((k mod 16)/16)
 * from a 16-entry table indexed by the low 4 bits of y (ag_f64_lookup16; each
 * entry rounded, 2^-53).  2^floor(k/16) is ag_f64_scalef's floor of k/16
 * (exact: k is small), at least -1022 (also NaN -> -1022, as scalef needs a
 * number); every scaled value below is normal, so the scaling is exact on
 * every ISA and the results are bit-identical.
 *   exp: e^r = 1 + r + r^2 (c2 + c3 r + c4 r^2), a weighted least-squares
 *   (Lawson IRLS, mpmath) fit for the relative error on |r| <= ln2/32:
 *   < 2^-37.48 measured in mpmath on 20000 points with the coefficients
 *   rounded to double; Horner in double adds < 2^-51; t p rounds once
 *   (2^-53); the sum is < 2^-37.4.  t p is in [0.98, 2.05) and e^x >= e^-708
 *   > 2^-1022.  Cost per vector: 8 FMA/mul, 1 sub, 3 min/max, one lookup (one
 *   permute on AVX-512), one scalef.
 *   expm1: q = expm1(r) = r + r^2 Q(r), Q of degree 3 fitted likewise for
 *   the relative error of expm1: < 2^-41.1; e^x - 1 = fma(s, q, s - 1).
 *   k = 0 (s = 1): q exactly.  k != 0: |x| >= ln2/32, so |e^x - 1| >= 0.0214,
 *   while |s - 1| <= 2 |e^x - 1| (the worst case is k = 1, r = -ln2/32) and
 *   |s q| <= 1.05 |e^x - 1|; the errors are 2 * 2^-53 (s - 1), 1.05 * 2^-41
 *   (q), 2^-53 / 0.0214 < 2^-47.4 (t) and 2^-53 (the fma), relative: < 2^-40.
 *   s >= 2^-1022 is normal, and s q + s - 1 stays below e^709 (2^1023).
 * The softmax family's exp (ag_d32_exp_le0_coarse): no table.  x is clamped
 * from below to -708, n = round(x log2(e)) in [-1021, 0], r = x - n ln2 with
 * one FMA (ln2 rounded to double: the error of n ln2 is < 1023 * 2^-54 <
 * 2^-44 absolute, so |r| <= 0.3466 and r is within 2^-44 of the exact
 * reduced argument), e^r by the polynomial described there, then 2^n.
 */
#ifndef AG_VMATH_EXP_D32_H
#define AG_VMATH_EXP_D32_H

#include <math.h> /* INFINITY */
#include "d32.h"

#define AG_D32_LOG2E_ 0x1.71547652b82fep+0
#define AG_D32_LN2_ 0x1.62e42fefa39efp-1
#define AG_D32_XMIN_ -708.0
#define AG_D32_XMAX_ 709.0
#define AG_D32_SHIFT_ 0x1.8p52                  /* y + SHIFT rounds y to an integer */
#define AG_D32_16_LOG2E_ 0x1.71547652b82fep+4   /* 16 / ln2 */
#define AG_D32_LN2_16_ 0x1.62e42fefa39efp-5     /* ln2 / 16 */

/* r = xc - k ln2 and k = round(xc / ln2), for xc already clamped to [XMIN, XMAX]. */
static inline ag_f64v ag_d32_reduce_clamped_(ag_f64v xc, ag_f64v *k)
{
    *k = d_round(d_mul(xc, DC(AG_D32_LOG2E_)));
    return d_fnma(*k, DC(AG_D32_LN2_), xc);
}

/* 2^(j/16), j = 0..15, each rounded to double (relative error <= 2^-53). */
static const double ag_d32_exp2_16ths_[16] = {
    0x1.0000000000000p+0, 0x1.0b5586cf9890fp+0, 0x1.172b83c7d517bp+0, 0x1.2387a6e756238p+0,
    0x1.306fe0a31b715p+0, 0x1.3dea64c123422p+0, 0x1.4bfdad5362a27p+0, 0x1.5ab07dd485429p+0,
    0x1.6a09e667f3bcdp+0, 0x1.7a11473eb0187p+0, 0x1.8ace5422aa0dbp+0, 0x1.9c49182a3f090p+0,
    0x1.ae89f995ad3adp+0, 0x1.c199bdd85529cp+0, 0x1.d5818dcfba487p+0, 0x1.ea4afa2a490dap+0,
};

/* The table method (see the header comment): x clamped to [XMIN, XMAX] (NaN stays NaN),
 * returns r, *t = 2^((k mod 16)/16) and *n = k/16 (ag_f64_scalef floors it; NaN -> -1022). */
static inline ag_f64v ag_d32_reduce16_(ag_f64v x, ag_f64v *t, ag_f64v *n)
{
    ag_f64v xc = d_max(DC(AG_D32_XMIN_), d_min(DC(AG_D32_XMAX_), x));
    ag_f64v y = d_fma(xc, DC(AG_D32_16_LOG2E_), DC(AG_D32_SHIFT_));        /* k + 1.5 2^52 */
    ag_f64v k = d_sub(y, DC(AG_D32_SHIFT_));
    *t = ag_f64_lookup16(ag_d32_exp2_16ths_, y);
    *n = d_max(d_mul(k, DC(0.0625)), DC(-1022.0));
    return d_fnma(k, DC(AG_D32_LN2_16_), xc);
}

static inline ag_f64v ag_d32_exp_sat(ag_f64v x)
{
    ag_f64v t, n, r = ag_d32_reduce16_(x, &t, &n);
    ag_f64v p = DC(0x1.5552104b98d72p-5);              /* e^r, 2^-37.48 (the header's fit) */
    p = d_fma(p, r, DC(0x1.55571d6b7323ep-3));
    p = d_fma(p, r, DC(0x1.00000006d8eccp-1));
    p = d_fma(p, r, DC(1));
    p = d_fma(p, r, DC(1));
    return ag_f64_scalef(d_mul(t, p), n);              /* exact: t p in [0.98, 2.05), normal */
}

/* e^x for x <= 0 within 2^-28 relative (+0 below XMIN and at -inf), for a result that is
 * rounded to float after few operations (the softmax family, whose e is stored as float):
 * x clamped from below only (NaN -> XMIN: its row is NaN anyway, and scalef needs a
 * number), the reduction above, e^r by a degree-6 near-minimax polynomial (Lawson IRLS in
 * mpmath; relative error 2^-28.3 on |r| <= 0.3468), times 2^n exactly (scalef: a normal
 * double).  About 12 operations per vector, 6 fewer than ag_d32_exp. */
static inline ag_f64v ag_d32_exp_le0_coarse(ag_f64v x)
{
    ag_f64v n, r = ag_d32_reduce_clamped_(d_max(x, DC(AG_D32_XMIN_)), &n);
    ag_f64v p = DC(0x1.6a23c02b22196p-10);
    p = d_fma(p, r, DC(0x1.123a210f8881fp-7));
    p = d_fma(p, r, DC(0x1.5558f30f760bcp-5));
    p = d_fma(p, r, DC(0x1.5554910116424p-3));
    p = d_fma(p, r, DC(0x1.fffffb977db29p-2));
    p = d_fma(p, r, DC(1));
    p = d_fma(p, r, DC(1));
    return d_select(d_lt(x, DC(AG_D32_XMIN_)), DC(0), ag_f64_scalef(p, n));
}

static inline ag_f64v ag_d32_exp(ag_f64v x)
{
    ag_f64v e = ag_d32_exp_sat(x);
    e = d_select(d_lt(x, DC(AG_D32_XMIN_)), DC(0), e);
    return d_select(d_gt(x, DC(AG_D32_XMAX_)), DC(INFINITY), e);
}

static inline ag_f64v ag_d32_expm1(ag_f64v x)
{
    ag_f64v t, n, r = ag_d32_reduce16_(x, &t, &n);
    ag_f64v q = DC(0x1.1111717848568p-7);              /* expm1(r), 2^-41.1 (the header's fit) */
    q = d_fma(q, r, DC(0x1.55570a93fa197p-5));
    q = d_fma(q, r, DC(0x1.55555555d35bap-3));
    q = d_fma(q, r, DC(0x1.fffffffe5c05dp-2));
    q = d_fma(d_mul(r, r), q, r);
    ag_f64v s = ag_f64_scalef(t, n);                   /* 2^(k/16), exact */
    ag_f64v e = d_fma(s, q, d_sub(s, DC(1)));          /* k = 0: q exactly (s = 1) */
    return d_or(e, d_and(x, DC(-0.0)));                /* the sign of x, for x = -0 (e has it otherwise) */
}

#undef AG_D32_LOG2E_
#undef AG_D32_LN2_
#undef AG_D32_SHIFT_
#undef AG_D32_16_LOG2E_
#undef AG_D32_LN2_16_

#endif
