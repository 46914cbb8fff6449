/* AVX2 + FMA (x86-64-v3) implementation of the SIMD shim; semantics in scalar.h. */
#ifndef AG_SIMD_AVX2_H
#define AG_SIMD_AVX2_H

#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>

#define AG_f32_LANES 8
#define AG_f64_LANES 4

typedef __m256 ag_f32v;
typedef __m256 ag_f32m;
typedef __m256d ag_f64v;
typedef __m256d ag_f64m;

/* Operations whose intrinsics differ only by the _ps/_pd suffix. */
#define AG_AVX2_SHIM(sfx, T, V, S)                                                               \
static inline V ag_##sfx##_set1(T a) { return _mm256_set1_##S(a); }                              \
static inline V ag_##sfx##_load(const T *p) { return _mm256_loadu_##S(p); }                      \
static inline void ag_##sfx##_store(T *p, V a) { _mm256_storeu_##S(p, a); }                      \
static inline V ag_##sfx##_add(V a, V b) { return _mm256_add_##S(a, b); }                        \
static inline V ag_##sfx##_sub(V a, V b) { return _mm256_sub_##S(a, b); }                        \
static inline V ag_##sfx##_mul(V a, V b) { return _mm256_mul_##S(a, b); }                        \
static inline V ag_##sfx##_div(V a, V b) { return _mm256_div_##S(a, b); }                        \
static inline V ag_##sfx##_fma(V a, V b, V c) { return _mm256_fmadd_##S(a, b, c); }             \
static inline V ag_##sfx##_fms(V a, V b, V c) { return _mm256_fmsub_##S(a, b, c); }             \
static inline V ag_##sfx##_fnma(V a, V b, V c) { return _mm256_fnmadd_##S(a, b, c); }           \
static inline V ag_##sfx##_min(V a, V b) { return _mm256_min_##S(a, b); }                        \
static inline V ag_##sfx##_max(V a, V b) { return _mm256_max_##S(a, b); }                        \
static inline V ag_##sfx##_round(V a) { return _mm256_round_##S(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); } \
static inline V ag_##sfx##_lt(V a, V b) { return _mm256_cmp_##S(a, b, _CMP_LT_OQ); }             \
static inline V ag_##sfx##_le(V a, V b) { return _mm256_cmp_##S(a, b, _CMP_LE_OQ); }             \
static inline V ag_##sfx##_gt(V a, V b) { return _mm256_cmp_##S(a, b, _CMP_GT_OQ); }             \
static inline V ag_##sfx##_ge(V a, V b) { return _mm256_cmp_##S(a, b, _CMP_GE_OQ); }             \
static inline V ag_##sfx##_eq(V a, V b) { return _mm256_cmp_##S(a, b, _CMP_EQ_OQ); }             \
static inline V ag_##sfx##_isnan(V a) { return _mm256_cmp_##S(a, a, _CMP_UNORD_Q); }            \
static inline V ag_##sfx##_select(V m, V a, V b) { return _mm256_blendv_##S(b, a, m); }          \
static inline V ag_##sfx##_mand(V a, V b) { return _mm256_and_##S(a, b); }                       \
static inline V ag_##sfx##_and(V a, V b) { return _mm256_and_##S(a, b); }                        \
static inline V ag_##sfx##_or(V a, V b) { return _mm256_or_##S(a, b); }                          \
static inline V ag_##sfx##_mor(V a, V b) { return _mm256_or_##S(a, b); }                         \
static inline int ag_##sfx##_any(V m) { return _mm256_movemask_##S(m) != 0; }                    \
static inline int ag_##sfx##_all(V m) { return _mm256_movemask_##S(m) == (1 << 32 / sizeof(T)) - 1; } \
static inline V ag_##sfx##_neg(V a) { return _mm256_xor_##S(a, _mm256_set1_##S((T)-0.0)); }     \
static inline V ag_##sfx##_abs(V a) { return _mm256_andnot_##S(_mm256_set1_##S((T)-0.0), a); }  \
static inline V ag_##sfx##_copysign(V mag, V sgn)                                                \
{ V s = _mm256_set1_##S((T)-0.0);                                                                \
  return _mm256_or_##S(_mm256_andnot_##S(s, mag), _mm256_and_##S(s, sgn)); }                     \
static inline V ag_##sfx##_ldexp(V x, V n)                                                       \
{ V h = _mm256_round_##S(_mm256_mul_##S(n, _mm256_set1_##S((T)0.5)), _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC); \
  return _mm256_mul_##S(_mm256_mul_##S(x, ag_##sfx##_pow2i(h)), ag_##sfx##_pow2i(_mm256_sub_##S(n, h))); }

/* Lane-count masks for tails: lane i is active when i < n. */
static inline __m256i ag_avx2_tailmask32_(ptrdiff_t n)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
static inline __m256i ag_avx2_tailmask64_(ptrdiff_t n)
{
    return _mm256_cmpgt_epi64(_mm256_set1_epi64x(n), _mm256_setr_epi64x(0, 1, 2, 3));
}

/* 2^n for integral n: n + bias + 1.5 2^m (m = 23, 52) is exact and holds n + bias in its
 * low bits, which the shift moves into the exponent field: two operations instead of a
 * conversion to integers and back. */
static inline __m256 ag_f32_pow2i(__m256 n)
{
    __m256 y = _mm256_add_ps(n, _mm256_set1_ps(0x1.8p23f + 127.0f));
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_castps_si256(y), 23));
}
static inline __m256d ag_f64_pow2i(__m256d n)
{
    __m256d y = _mm256_add_pd(n, _mm256_set1_pd(0x1.8p52 + 1023.0));
    return _mm256_castsi256_pd(_mm256_slli_epi64(_mm256_castpd_si256(y), 52));
}

AG_AVX2_SHIM(f32, float, __m256, ps)
AG_AVX2_SHIM(f64, double, __m256d, pd)
#undef AG_AVX2_SHIM

static inline __m256 ag_f32_load_tail(const float *p, ptrdiff_t n)
{
    return _mm256_maskload_ps(p, ag_avx2_tailmask32_(n));
}
static inline void ag_f32_store_tail(float *p, ptrdiff_t n, __m256 a)
{
    _mm256_maskstore_ps(p, ag_avx2_tailmask32_(n), a);
}
static inline __m256d ag_f64_load_tail(const double *p, ptrdiff_t n)
{
    return _mm256_maskload_pd(p, ag_avx2_tailmask64_(n));
}
static inline void ag_f64_store_tail(double *p, ptrdiff_t n, __m256d a)
{
    _mm256_maskstore_pd(p, ag_avx2_tailmask64_(n), a);
}

static inline __m256 ag_f32_getexp(__m256 x)
{
    __m256i e = _mm256_srli_epi32(_mm256_castps_si256(x), 23);
    return _mm256_cvtepi32_ps(_mm256_sub_epi32(e, _mm256_set1_epi32(127)));
}
static inline __m256 ag_f32_getmant(__m256 x)
{
    __m256i m = _mm256_and_si256(_mm256_castps_si256(x), _mm256_set1_epi32(0x007fffff));
    return _mm256_castsi256_ps(_mm256_or_si256(m, _mm256_set1_epi32(0x3f800000)));
}
static inline __m256d ag_f64_getexp(__m256d x)
{
    /* The biased exponent e < 2^11 placed in the mantissa of 2^52 reads as 2^52 + e. */
    __m256i e = _mm256_srli_epi64(_mm256_castpd_si256(x), 52);
    __m256d big = _mm256_castsi256_pd(_mm256_or_si256(e, _mm256_set1_epi64x(0x4330000000000000LL)));
    return _mm256_sub_pd(big, _mm256_set1_pd(0x1p52 + 1023.0));
}
static inline __m256d ag_f64_getmant(__m256d x)
{
    __m256i m = _mm256_and_si256(_mm256_castpd_si256(x), _mm256_set1_epi64x(0x000fffffffffffffLL));
    return _mm256_castsi256_pd(_mm256_or_si256(m, _mm256_set1_epi64x(0x3ff0000000000000LL)));
}

static inline float ag_f32_hsum(__m256 a)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}
static inline float ag_f32_hmax(__m256 a)
{
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}
static inline double ag_f64_hsum(__m256d a)
{
    __m128d s = _mm_add_pd(_mm256_castpd256_pd128(a), _mm256_extractf128_pd(a, 1));
    return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}
static inline double ag_f64_hmax(__m256d a)
{
    __m128d s = _mm_max_pd(_mm256_castpd256_pd128(a), _mm256_extractf128_pd(a, 1));
    return _mm_cvtsd_f64(_mm_max_sd(s, _mm_unpackhi_pd(s, s)));
}

/* float32 <-> float64 (semantics in scalar.h): 8 floats <-> 2 x 4 doubles */
#define AG_F32_WIDE_PARTS 2
static inline __m256d ag_f32_widen_lo(__m256 a) { return _mm256_cvtps_pd(_mm256_castps256_ps128(a)); }
static inline __m256d ag_f32_widen_hi(__m256 a) { return _mm256_cvtps_pd(_mm256_extractf128_ps(a, 1)); }
static inline __m256 ag_f32_narrow(__m256d lo, __m256d hi)
{
    return _mm256_set_m128(_mm256_cvtpd_ps(hi), _mm256_cvtpd_ps(lo));
}

/* x * 2^n for integral n in [-1022, 1023] and x in [0.5, 2]: exact (a normal result;
 * avx512.h has it in one instruction). */
static inline ag_f64v ag_f64_scalef(ag_f64v x, ag_f64v n) { return ag_f64_mul(x, ag_f64_pow2i(n)); }

/* float memory as f64 lanes (softmax family: float32 computed in double); tails as above. */
static inline __m256d ag_f64_load_f32(const float *p) { return _mm256_cvtps_pd(_mm_loadu_ps(p)); }
static inline __m256d ag_f64_load_f32_tail(const float *p, ptrdiff_t n)
{ return _mm256_cvtps_pd(_mm_maskload_ps(p, _mm256_castsi256_si128(ag_avx2_tailmask32_(n)))); }
static inline void ag_f64_store_f32(float *p, __m256d a) { _mm_storeu_ps(p, _mm256_cvtpd_ps(a)); }
static inline void ag_f64_store_f32_tail(float *p, ptrdiff_t n, __m256d a)
{ _mm_maskstore_ps(p, _mm256_castsi256_si128(ag_avx2_tailmask32_(n)), _mm256_cvtpd_ps(a)); }

#endif
