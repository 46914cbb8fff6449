/* Double-precision names for the float32 kernels evaluated in double.
 *
 * A float32 kernel widens its float lanes to double (ag_f32_widen_lo/hi,
 * simd/scalar.h), evaluates in double and rounds once (ag_f32_narrow).  Its
 * double code is written on these fixed-dtype aliases of the shim's f64
 * operations (d_add == ag_f64_add, ...), `dvec` / `dmask` the f64 vector and
 * mask types and DC(c) a broadcast double constant, so that it can be
 * written inside the float32 pass of a header (where v_add means ag_f32_add).
 * ag_f64_estrin6 evaluates a degree-6 polynomial on them.  Include after the ISA's shim
 * header; idempotent.
 */
#ifndef AG_VMATH_D32_H
#define AG_VMATH_D32_H

#define dvec ag_f64v
#define dmask ag_f64m
#define DC(c) ag_f64_set1((double)(c))
#define d_set1 ag_f64_set1
#define d_load ag_f64_load
#define d_store ag_f64_store
#define d_load_tail ag_f64_load_tail
#define d_store_tail ag_f64_store_tail
#define d_add ag_f64_add
#define d_sub ag_f64_sub
#define d_mul ag_f64_mul
#define d_div ag_f64_div
#define d_sqrt ag_f64_sqrt
#define d_neg ag_f64_neg
#define d_abs ag_f64_abs
#define d_fma ag_f64_fma
#define d_fms ag_f64_fms
#define d_fnma ag_f64_fnma
#define d_min ag_f64_min
#define d_max ag_f64_max
#define d_round ag_f64_round
#define d_floor ag_f64_floor
#define d_trunc ag_f64_trunc
#define d_lt ag_f64_lt
#define d_le ag_f64_le
#define d_gt ag_f64_gt
#define d_ge ag_f64_ge
#define d_eq ag_f64_eq
#define d_ne ag_f64_ne
#define d_isnan ag_f64_isnan
#define d_select ag_f64_select
#define d_mand ag_f64_mand
#define d_mor ag_f64_mor
#define d_mnot ag_f64_mnot
#define d_any ag_f64_any
#define d_and ag_f64_and
#define d_or ag_f64_or
#define d_xor ag_f64_xor
#define d_andnot ag_f64_andnot
#define d_copysign ag_f64_copysign
#define d_pow2i ag_f64_pow2i
#define d_ldexp ag_f64_ldexp
#define d_getexp ag_f64_getexp
#define d_getmant ag_f64_getmant
#define d_hsum ag_f64_hsum
#define d_hmax ag_f64_hmax

/* c0 + c1 x + ... + c6 x^6 by Estrin's scheme, for x2 = x^2 and x4 = x^4 (the caller often
 * needs them too): (c0 + c1 x) + x^2 (c2 + c3 x) + x^4 ((c4 + c5 x) + x^2 c6), three
 * multiply-adds deep instead of Horner's six. */
AG_INLINE ag_f64v ag_f64_estrin6(
    ag_f64v x, ag_f64v x2, ag_f64v x4, double c0, double c1, double c2, double c3, double c4,
    double c5, double c6)
{
    ag_f64v p01 = d_fma(DC(c1), x, DC(c0)), p23 = d_fma(DC(c3), x, DC(c2));
    ag_f64v p46 = d_fma(DC(c6), x2, d_fma(DC(c5), x, DC(c4)));
    return d_fma(x4, p46, d_fma(x2, p23, p01));
}

#endif
