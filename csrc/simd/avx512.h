/* AVX-512 (F + DQ + VL + BW, x86-64-v4) implementation of the SIMD shim; semantics in scalar.h. */
#ifndef AG_SIMD_AVX512_H
#define AG_SIMD_AVX512_H

#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>

#define AG_f32_LANES 16
#define AG_f64_LANES 8

typedef __m512 ag_f32v;
typedef __mmask16 ag_f32m;
typedef __m512d ag_f64v;
typedef __mmask8 ag_f64m;

/* Operations whose intrinsics differ only by the _ps/_pd suffix and mask width. */
#define AG_AVX512_SHIM(sfx, T, V, M, S, SI)                                                      \
static inline V ag_##sfx##_set1(T a) { return _mm512_set1_##S(a); }                              \
static inline V ag_##sfx##_load(const T *p) { return _mm512_loadu_##S(p); }                      \
static inline void ag_##sfx##_store(T *p, V a) { _mm512_storeu_##S(p, a); }                      \
static inline V ag_##sfx##_load_tail(const T *p, ptrdiff_t n)                                    \
{ return _mm512_maskz_loadu_##S((M)((1u << n) - 1u), p); }                                       \
static inline void ag_##sfx##_store_tail(T *p, ptrdiff_t n, V a)                                 \
{ _mm512_mask_storeu_##S(p, (M)((1u << n) - 1u), a); }                                           \
static inline V ag_##sfx##_add(V a, V b) { return _mm512_add_##S(a, b); }                        \
static inline V ag_##sfx##_sub(V a, V b) { return _mm512_sub_##S(a, b); }                        \
static inline V ag_##sfx##_mul(V a, V b) { return _mm512_mul_##S(a, b); }                        \
static inline V ag_##sfx##_div(V a, V b) { return _mm512_div_##S(a, b); }                        \
static inline V ag_##sfx##_fma(V a, V b, V c) { return _mm512_fmadd_##S(a, b, c); }             \
static inline V ag_##sfx##_fms(V a, V b, V c) { return _mm512_fmsub_##S(a, b, c); }             \
static inline V ag_##sfx##_fnma(V a, V b, V c) { return _mm512_fnmadd_##S(a, b, c); }           \
static inline V ag_##sfx##_min(V a, V b) { return _mm512_min_##S(a, b); }                        \
static inline V ag_##sfx##_max(V a, V b) { return _mm512_max_##S(a, b); }                        \
static inline V ag_##sfx##_round(V a) { return _mm512_roundscale_##S(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); } \
static inline M ag_##sfx##_lt(V a, V b) { return _mm512_cmp_##S##_mask(a, b, _CMP_LT_OQ); }      \
static inline M ag_##sfx##_le(V a, V b) { return _mm512_cmp_##S##_mask(a, b, _CMP_LE_OQ); }      \
static inline M ag_##sfx##_gt(V a, V b) { return _mm512_cmp_##S##_mask(a, b, _CMP_GT_OQ); }      \
static inline M ag_##sfx##_ge(V a, V b) { return _mm512_cmp_##S##_mask(a, b, _CMP_GE_OQ); }      \
static inline M ag_##sfx##_eq(V a, V b) { return _mm512_cmp_##S##_mask(a, b, _CMP_EQ_OQ); }      \
static inline M ag_##sfx##_isnan(V a) { return _mm512_cmp_##S##_mask(a, a, _CMP_UNORD_Q); }      \
static inline V ag_##sfx##_select(M m, V a, V b) { return _mm512_mask_blend_##S(m, b, a); }      \
static inline M ag_##sfx##_mand(M a, M b) { return (M)(a & b); }                                 \
static inline M ag_##sfx##_mor(M a, M b) { return (M)(a | b); }                                  \
static inline int ag_##sfx##_any(M m) { return m != 0; }                                         \
static inline int ag_##sfx##_all(M m) { return m == (M)-1; }                                     \
static inline V ag_##sfx##_and(V a, V b)                                                         \
{ return _mm512_cast##SI##_##S(_mm512_and_si512(_mm512_cast##S##_si512(a), _mm512_cast##S##_si512(b))); }    \
static inline V ag_##sfx##_or(V a, V b)                                                          \
{ return _mm512_cast##SI##_##S(_mm512_or_si512(_mm512_cast##S##_si512(a), _mm512_cast##S##_si512(b))); }     \
static inline V ag_##sfx##_xor_(V a, V b)                                                         \
{ return _mm512_cast##SI##_##S(_mm512_xor_si512(_mm512_cast##S##_si512(a), _mm512_cast##S##_si512(b))); }    \
static inline V ag_##sfx##_andnot_(V a, V b)                                                      \
{ return _mm512_cast##SI##_##S(_mm512_andnot_si512(_mm512_cast##S##_si512(a), _mm512_cast##S##_si512(b))); } \
static inline V ag_##sfx##_neg(V a) { return ag_##sfx##_xor_(a, _mm512_set1_##S((T)-0.0)); }     \
static inline V ag_##sfx##_abs(V a) { return ag_##sfx##_andnot_(_mm512_set1_##S((T)-0.0), a); }  \
static inline V ag_##sfx##_copysign(V mag, V sgn)                                                \
{ V s = _mm512_set1_##S((T)-0.0);                                                                \
  return ag_##sfx##_or(ag_##sfx##_andnot_(s, mag), ag_##sfx##_and(s, sgn)); }                     \
static inline V ag_##sfx##_getexp(V x) { return _mm512_getexp_##S(x); }                          \
static inline V ag_##sfx##_getmant(V x) { return _mm512_getmant_##S(x, _MM_MANT_NORM_1_2, _MM_MANT_SIGN_src); } \
static inline T ag_##sfx##_hsum(V a) { return _mm512_reduce_add_##S(a); }                        \
static inline T ag_##sfx##_hmax(V a) { return _mm512_reduce_max_##S(a); }

/* 2^n as scalef(1, n): one instruction (exact for the contract's integral n). */
static inline __m512 ag_f32_pow2i(__m512 n) { return _mm512_scalef_ps(_mm512_set1_ps(1.0f), n); }
static inline __m512d ag_f64_pow2i(__m512d n) { return _mm512_scalef_pd(_mm512_set1_pd(1.0), n); }

AG_AVX512_SHIM(f32, float, __m512, __mmask16, ps, si512)
AG_AVX512_SHIM(f64, double, __m512d, __mmask8, pd, si512)
#undef AG_AVX512_SHIM

/* x * 2^n in one instruction: scalef rounds the exact product once, which is what scalar.h's
 * two steps give over the range its contract allows (the first step, by 2^floor(n/2), is
 * exact there), so the results are the same bits, subnormal ones included. */
static inline __m512 ag_f32_ldexp(__m512 x, __m512 n) { return _mm512_scalef_ps(x, n); }
static inline __m512d ag_f64_ldexp(__m512d x, __m512d n) { return _mm512_scalef_pd(x, n); }

/* float32 <-> float64 (semantics in scalar.h): 16 floats <-> 2 x 8 doubles */
#define AG_F32_WIDE_PARTS 2
static inline __m512d ag_f32_widen_lo(__m512 a) { return _mm512_cvtps_pd(_mm512_castps512_ps256(a)); }
static inline __m512d ag_f32_widen_hi(__m512 a)
{
    return _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(a), 1)));
}
static inline __m512 ag_f32_narrow(__m512d lo, __m512d hi)
{
    return _mm512_insertf32x8(_mm512_castps256_ps512(_mm512_cvtpd_ps(lo)), _mm512_cvtpd_ps(hi), 1);
}

/* x * 2^n for integral n in [-1022, 1023] and x in [0.5, 2]: exact (a normal result). */
static inline __m512d ag_f64_scalef(__m512d x, __m512d n) { return _mm512_scalef_pd(x, n); }

/* float memory as f64 lanes (softmax family: float32 computed in double); tails as above. */
static inline __m512d ag_f64_load_f32(const float *p) { return _mm512_cvtps_pd(_mm256_loadu_ps(p)); }
static inline __m512d ag_f64_load_f32_tail(const float *p, ptrdiff_t n)
{ return _mm512_cvtps_pd(_mm256_maskz_loadu_ps((__mmask8)((1u << n) - 1u), p)); }
static inline void ag_f64_store_f32(float *p, __m512d a) { _mm256_storeu_ps(p, _mm512_cvtpd_ps(a)); }
static inline void ag_f64_store_f32_tail(float *p, ptrdiff_t n, __m512d a)
{ _mm256_mask_storeu_ps(p, (__mmask8)((1u << n) - 1u), _mm512_cvtpd_ps(a)); }

#endif
