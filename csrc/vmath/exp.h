/* Vector exp, written once on the SIMD shim (generic.h) for the current AG_SFX.
 *
 * Include pattern of every csrc/vmath and csrc/ops header.  A body is compiled
 * once per dtype pass: isa/dtype_passes.h defines AG_T/AG_SFX/AG_IS_F32 for
 * float, includes ops/all.h, which includes every math header exactly once in
 * dependency order, then does the same for double.  So a math header includes
 * nothing of its own (its "Uses:" line names what ops/all.h puts before it)
 * and has no guard: its body is simply
 *
 *     ... AG_INLINE vec AG_FN(...) ...
 *
 * or, for an op whose float32 functions are evaluated in double (ops/d32.h),
 *
 *     #if AG_IS_F32
 *     ... d32 functions, AG_D32_OP(op, fo) ...
 *     #else
 *     ... AG_INLINE vec AG_FN(...) ...
 *     #endif
 *
 * The dtype-independent double headers (vmath/d32.h, exp_d32.h, log1p_d32.h,
 * ops/d32.h) keep ordinary include guards: one copy per translation unit.
 *
 * Every function name goes through AG_FN, so the f32 and f64 copies differ
 * (ag_exp_f32, ag_exp_f64); they are static inline, so each ISA translation
 * unit keeps its own copies.
 *
 * Contracts (ULP errors measured against long double libm by
 * csrc/tests/test_vmath.c, which also checks that the scalar, AVX2 and
 * AVX-512 paths are bit-identical):
 *
 *   vec ag_exp(vec x)
 *       e^x for every x.  Max error 0.65 ULP in the normal range, 0.75 ULP
 *       in the subnormal range (one final rounding).  exp(+-0) = 1 exactly,
 *       exp(+inf) = +inf, exp(-inf) = +0, overflow gives +inf (x > ln(MAX)),
 *       gradual underflow to subnormals and +0, NaN -> NaN.
 *
 *   vec ag_exp_hilo(vec hi, vec lo)
 *       e^(hi + lo), where hi + lo is an unevaluated sum, e.g. the exact split
 *       of -z^2 with an FMA:  p = v_mul(z, z); hi = v_neg(p);
 *       lo = v_neg(v_fms(z, z, p))  (so hi + lo == -z^2 exactly).
 *       Requirements: |lo| <= 2^-10 whenever the result matters (an FMA split
 *       gives |lo| <= ulp(hi)/2, far below that for |hi| < 2^11).  lo is
 *       clamped to [-2^-10, 2^-10] and a NaN lo is treated as -2^-10, so a lo
 *       made NaN by a split of an infinite hi (inf - inf) is harmless: the
 *       result is then decided by hi alone (exp_hilo(-inf, NaN) = +0,
 *       exp_hilo(+inf, NaN) = +inf).  NaN hi -> NaN.  Accuracy as ag_exp,
 *       relative to the exact e^(hi+lo).
 *
 *   vec ag_exp_scaled(vec x, vec k)
 *       e^x * 2^k for integral k with 0 <= k <= 100, rounded once: for scaling a
 *       result whose e^x factor would be subnormal (silu, mish tails).
 *       Same accuracy and special values as ag_exp (with 2^k applied).
 *
 *   vec ag_exp_dw(vec x, vec lo, vec k, vec *elo)
 *       e^(x + lo) 2^k as a double-word hi + *elo, hi as ag_exp_scaled
 *       (bit-identical for lo = 0); hi + elo is within 0.21 ULP of hi of the
 *       exact value while hi is normal (the low part is meaningless, but
 *       harmless, when hi is subnormal or 0; it is NaN when hi is inf).
 *       lo and k as for ag_exp_hilo and ag_exp_scaled.  For ops that need
 *       e^x to better than its own rounding (sigmoid, silu, mish: one
 *       rounding at the end).
 *
 * Method: clamp x to [XMIN, XMAX] (beyond them the result is 0 or inf anyway),
 * n = round(x/ln2), Cody-Waite r = (x - n*ln2_hi) + (lo - n*ln2_lo), where the
 * first part rh is exact and the second rl tiny; e^r = 1 + r + r^2 P(r) with
 * P below, summed as (1 + rh) [exact by Fast2Sum] + (rl + r^2 P); finally
 * 2^n by v_ldexp's two exact steps, so subnormal results are rounded once.
 * No tables (the shim has no gather), so the same code runs on every ISA.
 */
#include <math.h> /* INFINITY, NAN */

#ifndef AG_C
/* A constant of the current dtype, broadcast. */
#define AG_C(c) v_set1((AG_T)(c))
#endif

/* P3(r) with expm1(r) = r + r^2/2 + r^3 P3(r) on |r| <= 0.3473 (ln2/2 plus
 * slack for the rounding of x/ln2).  Shared by exp and expm1.  Near-minimax
 * fits of P(r) = 1/2 + r P3(r) = (expm1(r) - r)/r^2 for the relative error of
 * expm1 (Lawson IRLS in mpmath, coefficients rounded to the dtype):
 *   f32: degree 5 in P, |expm1 rel err| < 2^-28.7 (exp: < 2^-30.5);
 *   f64: degree 10 in P, |expm1 rel err| < 2^-60.0 (exp: < 2^-61.3). */
AG_INLINE vec AG_FN(ag_exp_poly3_)(vec r)
{
#if AG_IS_F32
    vec p = AG_C(0x1.a0337ap-13f);
    p = v_fma(p, r, AG_C(0x1.6d735p-10f));
    p = v_fma(p, r, AG_C(0x1.11118ap-7f));
    p = v_fma(p, r, AG_C(0x1.5554bp-5f));
    p = v_fma(p, r, AG_C(0x1.555554p-3f));
#else
    /* Estrin's scheme (pairs c_i + c_{i+1} r, then r^2, r^4, r^8): 4 multiply-adds deep
     * instead of Horner's 9; every term is positive or far smaller than c0 = 1/6, so no
     * partial sum cancels and the evaluation error stays a few 2^-53 of P3, which enters
     * e^r multiplied by r^3 <= 0.042 */
    vec r2 = v_mul(r, r), r4 = v_mul(r2, r2), r8 = v_mul(r4, r4);
    vec p01 = v_fma(AG_C(0x1.555555555553ep-5), r, AG_C(0x1.5555555555559p-3));
    vec p23 = v_fma(AG_C(0x1.6c16c16c1f282p-10), r, AG_C(0x1.111111110f673p-7));
    vec p45 = v_fma(AG_C(0x1.a01a017b5b03bp-16), r, AG_C(0x1.a01a01b00218p-13));
    vec p67 = v_fma(AG_C(0x1.27e536a09ac12p-22), r, AG_C(0x1.71ddf7fe03b5ap-19));
    vec p89 = v_fma(AG_C(0x1.1ee8801d2d53p-29), r, AG_C(0x1.af5f69115eca2p-26));
    vec p = v_fma(r4, v_fma(r2, p67, p45), v_fma(r2, p23, p01));
    p = v_fma(r8, p89, p);
#endif
    return p;
}

/* Cody-Waite constants: ln2_hi has trailing zeros so n*ln2_hi is exact for
 * |n| < 2^8 (f32) / 2^11 (f64); |ln2_hi + ln2_lo - ln2| < 2^-44 / 2^-86. */
#if AG_IS_F32
#define AG_EXP_LOG2E_ 0x1.715476p+0f
#define AG_EXP_LN2HI_ 0x1.62e4p-1f
#define AG_EXP_LN2LO_ 0x1.7f7d1cp-20f
#define AG_EXP_XMAX_ 89.0f   /* > ln(FLT_MAX) = 88.72: result inf        */
#define AG_EXP_XMIN_ -104.0f /* e^-104 < 2^-150: result 0                */
#define AG_EXP_NMIN_ -150.0f /* round(XMIN/ln2)                          */
#define AG_EXP_XMINS_ -174.0f /* e^-174 2^100 < 2^-150 (ag_exp_scaled)   */
#define AG_EXP_NMINS_ -251.0f
#else
#define AG_EXP_LOG2E_ 0x1.71547652b82fep+0
#define AG_EXP_LN2HI_ 0x1.62e42feep-1
#define AG_EXP_LN2LO_ 0x1.a39ef35793c76p-33
#define AG_EXP_XMAX_ 710.0   /* > ln(DBL_MAX) = 709.78: result inf       */
#define AG_EXP_XMIN_ -746.0  /* e^-746 < 2^-1075: result 0               */
#define AG_EXP_NMIN_ -1076.0 /* round(XMIN/ln2)                          */
#define AG_EXP_XMINS_ -816.0 /* e^-816 2^100 < 2^-1075 (ag_exp_scaled)   */
#define AG_EXP_NMINS_ -1177.0
#endif

/* e^(x + lo) = p 2^n for finite |lo| <= 2^-10 (see the contract above);
 * returns p in [0.7, 1.42] (or NaN), n, integral and NaN-free, and the low
 * part pl with p + pl = e^r to about 0.2 ULP of p.  x is
 * first clamped to [xmin, XMAX]; nmin = round(xmin/ln2). */
AG_INLINE vec AG_FN(ag_exp_core_)(vec x, vec lo, AG_T xmin, AG_T nmin, vec *n_out, vec *pl_out)
{
    x = v_max(v_set1(xmin), v_min(AG_C(AG_EXP_XMAX_), x)); /* NaN stays NaN */
    vec n = v_round(v_mul(x, AG_C(AG_EXP_LOG2E_)));
    n = v_max(n, v_set1(nmin));                           /* no-op, but NaN -> nmin (pow2i needs a number) */
    vec rh = v_fnma(n, AG_C(AG_EXP_LN2HI_), x);           /* exact */
    vec rl = v_fnma(n, AG_C(AG_EXP_LN2LO_), lo);
    vec r = v_add(rh, rl);
    vec u = v_fma(v_mul(r, r), v_fma(r, AG_FN(ag_exp_poly3_)(r), AG_C(0.5)), rl); /* rl + r^2 P */
    vec s = v_add(AG_C(1), rh);                           /* Fast2Sum: s + e = 1 + rh exactly */
    vec e = v_sub(rh, v_sub(s, AG_C(1)));
    vec eu = v_add(e, u);
    vec p = v_add(s, eu);                                 /* e^r, < 0.65 ULP */
    *pl_out = v_sub(eu, v_sub(p, s));                     /* p + pl = s + eu exactly (Fast2Sum) */
    *n_out = n;
    return p;
}

AG_INLINE vec AG_FN(ag_exp)(vec x)
{
    vec n, pl, p = AG_FN(ag_exp_core_)(x, AG_C(0), AG_EXP_XMIN_, AG_EXP_NMIN_, &n, &pl);
    return v_ldexp(p, n);
}

AG_INLINE vec AG_FN(ag_exp_hilo)(vec hi, vec lo)
{
    lo = v_min(v_max(lo, AG_C(-0x1p-10)), AG_C(0x1p-10)); /* NaN -> -2^-10 */
    vec n, pl, p = AG_FN(ag_exp_core_)(hi, lo, AG_EXP_XMIN_, AG_EXP_NMIN_, &n, &pl);
    return v_ldexp(p, n);
}

AG_INLINE vec AG_FN(ag_exp_scaled)(vec x, vec k)
{
    vec n, pl, p = AG_FN(ag_exp_core_)(x, AG_C(0), AG_EXP_XMINS_, AG_EXP_NMINS_, &n, &pl);
    return v_ldexp(p, v_add(n, k));
}

AG_INLINE vec AG_FN(ag_exp_dw)(vec x, vec lo, vec k, vec *elo)
{
    lo = v_min(v_max(lo, AG_C(-0x1p-10)), AG_C(0x1p-10)); /* NaN -> -2^-10 */
    vec n, pl, p = AG_FN(ag_exp_core_)(x, lo, AG_EXP_XMINS_, AG_EXP_NMINS_, &n, &pl);
    vec hi = v_ldexp(p, v_add(n, k));
    *elo = v_mul(hi, v_mul(pl, v_sub(AG_C(2), p)));     /* pl 2^(n+k) = hi pl/p; 1/p ~ 2 - p within 18% is plenty for pl */
    return hi;
}

#undef AG_EXP_LOG2E_
#undef AG_EXP_LN2HI_
#undef AG_EXP_LN2LO_
#undef AG_EXP_XMAX_
#undef AG_EXP_XMIN_
#undef AG_EXP_NMIN_
#undef AG_EXP_XMINS_
#undef AG_EXP_NMINS_
