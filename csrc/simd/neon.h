/* AArch64 Advanced SIMD (NEON/ASIMD) implementation of the SIMD shim; semantics in scalar.h.
 * 4 float lanes, 2 double lanes.  min/max, comparisons and the horizontal reductions are
 * written to give x86's answers (minps/maxps return b when either operand is NaN; the
 * reductions pair lanes in the order avx2.h does), not NEON's own fmin/fmax. */
#ifndef AG_SIMD_NEON_H
#define AG_SIMD_NEON_H

#include <arm_neon.h>
#include <stddef.h>
#include <stdint.h>

#define AG_f32_LANES 4
#define AG_f64_LANES 2

typedef float32x4_t ag_f32v;
typedef uint32x4_t ag_f32m;
typedef float64x2_t ag_f64v;
typedef uint64x2_t ag_f64m;

/* Bitwise NOT of a mask (A64 has no 64-bit-lane vmvnq). */
static inline uint32x4_t ag_neon_not_u32_(uint32x4_t m) { return vmvnq_u32(m); }
static inline uint64x2_t ag_neon_not_u64_(uint64x2_t m)
{
    return vreinterpretq_u64_u32(vmvnq_u32(vreinterpretq_u32_u64(m)));
}
/* Whether any lane of a mask is set. */
static inline int ag_neon_any_u32_(uint32x4_t m) { return vmaxvq_u32(m) != 0; }
static inline int ag_neon_any_u64_(uint64x2_t m) { return vmaxvq_u32(vreinterpretq_u32_u64(m)) != 0; }
/* Whether every lane of a mask is set. */
static inline int ag_neon_all_u32_(uint32x4_t m) { return vminvq_u32(m) != 0; }
static inline int ag_neon_all_u64_(uint64x2_t m) { return vminvq_u32(vreinterpretq_u32_u64(m)) != 0; }

/* Operations whose intrinsics differ only by the f32/f64 suffix (S), mask type U (suffix US). */
#define AG_NEON_SHIM(sfx, T, V, U, S, US, N)                                                    \
static inline V ag_##sfx##_set1(T a) { return vdupq_n_##S(a); }                                 \
static inline V ag_##sfx##_load(const T *p) { return vld1q_##S(p); }                            \
static inline void ag_##sfx##_store(T *p, V a) { vst1q_##S(p, a); }                             \
static inline V ag_##sfx##_load_tail(const T *p, ptrdiff_t n)                                   \
{ T t[N] = { 0 }; for (ptrdiff_t i = 0; i < n; i++) t[i] = p[i]; return vld1q_##S(t); }         \
static inline void ag_##sfx##_store_tail(T *p, ptrdiff_t n, V a)                                \
{ T t[N]; vst1q_##S(t, a); for (ptrdiff_t i = 0; i < n; i++) p[i] = t[i]; }                     \
static inline V ag_##sfx##_add(V a, V b) { return vaddq_##S(a, b); }                            \
static inline V ag_##sfx##_sub(V a, V b) { return vsubq_##S(a, b); }                            \
static inline V ag_##sfx##_mul(V a, V b) { return vmulq_##S(a, b); }                            \
static inline V ag_##sfx##_div(V a, V b) { return vdivq_##S(a, b); }                            \
static inline V ag_##sfx##_neg(V a) { return vnegq_##S(a); }                                    \
static inline V ag_##sfx##_abs(V a) { return vabsq_##S(a); }                                    \
static inline V ag_##sfx##_fma(V a, V b, V c) { return vfmaq_##S(c, a, b); }                    \
static inline V ag_##sfx##_fms(V a, V b, V c) { return vfmaq_##S(vnegq_##S(c), a, b); }         \
static inline V ag_##sfx##_fnma(V a, V b, V c) { return vfmsq_##S(c, a, b); }                   \
static inline V ag_##sfx##_min(V a, V b) { return vbslq_##S(vcltq_##S(a, b), a, b); }           \
static inline V ag_##sfx##_max(V a, V b) { return vbslq_##S(vcgtq_##S(a, b), a, b); }           \
static inline V ag_##sfx##_round(V a) { return vrndnq_##S(a); }                                 \
static inline U ag_##sfx##_lt(V a, V b) { return vcltq_##S(a, b); }                             \
static inline U ag_##sfx##_le(V a, V b) { return vcleq_##S(a, b); }                             \
static inline U ag_##sfx##_gt(V a, V b) { return vcgtq_##S(a, b); }                             \
static inline U ag_##sfx##_ge(V a, V b) { return vcgeq_##S(a, b); }                             \
static inline U ag_##sfx##_eq(V a, V b) { return vceqq_##S(a, b); }                             \
static inline U ag_##sfx##_isnan(V a) { return ag_neon_not_##US##_(vceqq_##S(a, a)); }          \
static inline V ag_##sfx##_select(U m, V a, V b) { return vbslq_##S(m, a, b); }                 \
static inline U ag_##sfx##_mand(U a, U b) { return vandq_##US(a, b); }                          \
static inline U ag_##sfx##_mor(U a, U b) { return vorrq_##US(a, b); }                           \
static inline int ag_##sfx##_any(U m) { return ag_neon_any_##US##_(m); }                        \
static inline int ag_##sfx##_all(U m) { return ag_neon_all_##US##_(m); }                        \
static inline V ag_##sfx##_and(V a, V b)                                                        \
{ return vreinterpretq_##S##_##US(vandq_##US(vreinterpretq_##US##_##S(a), vreinterpretq_##US##_##S(b))); } \
static inline V ag_##sfx##_or(V a, V b)                                                         \
{ return vreinterpretq_##S##_##US(vorrq_##US(vreinterpretq_##US##_##S(a), vreinterpretq_##US##_##S(b))); } \
static inline V ag_##sfx##_copysign(V mag, V sgn)                                               \
{ return vbslq_##S(vreinterpretq_##US##_##S(vdupq_n_##S((T)-0.0)), sgn, mag); }                 \
static inline V ag_##sfx##_ldexp(V x, V n)                                                      \
{ V h = vrndmq_##S(vmulq_##S(n, vdupq_n_##S((T)0.5)));                                          \
  return vmulq_##S(vmulq_##S(x, ag_##sfx##_pow2i(h)), ag_##sfx##_pow2i(vsubq_##S(n, h))); }

static inline float32x4_t ag_f32_pow2i(float32x4_t n)
{
    int32x4_t e = vaddq_s32(vcvtnq_s32_f32(n), vdupq_n_s32(127));
    return vreinterpretq_f32_s32(vshlq_n_s32(e, 23));
}
static inline float64x2_t ag_f64_pow2i(float64x2_t n)
{
    int64x2_t e = vaddq_s64(vcvtnq_s64_f64(n), vdupq_n_s64(1023));
    return vreinterpretq_f64_s64(vshlq_n_s64(e, 52));
}

AG_NEON_SHIM(f32, float, float32x4_t, uint32x4_t, f32, u32, 4)
AG_NEON_SHIM(f64, double, float64x2_t, uint64x2_t, f64, u64, 2)
#undef AG_NEON_SHIM

static inline float32x4_t ag_f32_getexp(float32x4_t x)
{
    int32x4_t e = vreinterpretq_s32_u32(vshrq_n_u32(vreinterpretq_u32_f32(x), 23));
    return vcvtq_f32_s32(vsubq_s32(e, vdupq_n_s32(127)));
}
static inline float32x4_t ag_f32_getmant(float32x4_t x)
{
    uint32x4_t m = vandq_u32(vreinterpretq_u32_f32(x), vdupq_n_u32(0x007fffff));
    return vreinterpretq_f32_u32(vorrq_u32(m, vdupq_n_u32(0x3f800000)));
}
static inline float64x2_t ag_f64_getexp(float64x2_t x)
{
    int64x2_t e = vreinterpretq_s64_u64(vshrq_n_u64(vreinterpretq_u64_f64(x), 52));
    return vcvtq_f64_s64(vsubq_s64(e, vdupq_n_s64(1023)));
}
static inline float64x2_t ag_f64_getmant(float64x2_t x)
{
    uint64x2_t m = vandq_u64(vreinterpretq_u64_f64(x), vdupq_n_u64(0x000fffffffffffffULL));
    return vreinterpretq_f64_u64(vorrq_u64(m, vdupq_n_u64(0x3ff0000000000000ULL)));
}

/* Reductions: lanes {0+2, 1+3}, then their sum (as avx2.h after its 128-bit halves). */
static inline float ag_f32_hsum(float32x4_t a)
{
    float32x2_t s = vadd_f32(vget_low_f32(a), vget_high_f32(a));
    return vget_lane_f32(s, 0) + vget_lane_f32(s, 1);
}
static inline float ag_f32_hmax(float32x4_t a)
{
    float32x2_t lo = vget_low_f32(a), hi = vget_high_f32(a);
    float32x2_t s = vbsl_f32(vcgt_f32(lo, hi), lo, hi);
    float s0 = vget_lane_f32(s, 0), s1 = vget_lane_f32(s, 1);
    return s0 > s1 ? s0 : s1;
}
static inline double ag_f64_hsum(float64x2_t a) { return vgetq_lane_f64(a, 0) + vgetq_lane_f64(a, 1); }
static inline double ag_f64_hmax(float64x2_t a)
{
    double s0 = vgetq_lane_f64(a, 0), s1 = vgetq_lane_f64(a, 1);
    return s0 > s1 ? s0 : s1;
}

/* float32 <-> float64 (semantics in scalar.h): 4 floats <-> 2 x 2 doubles */
#define AG_F32_WIDE_PARTS 2
static inline float64x2_t ag_f32_widen_lo(float32x4_t a) { return vcvt_f64_f32(vget_low_f32(a)); }
static inline float64x2_t ag_f32_widen_hi(float32x4_t a) { return vcvt_high_f64_f32(a); }
static inline float32x4_t ag_f32_narrow(float64x2_t lo, float64x2_t hi)
{
    return vcvt_high_f32_f64(vcvt_f32_f64(lo), hi);
}

/* x * 2^n rounded once, n integral in [-2044, 2046] (avx512.h has it in one instruction). */
#define ag_f64_scalef ag_f64_ldexp

/* float memory as f64 lanes (softmax family: float32 computed in double); tails as above. */
static inline float64x2_t ag_f64_load_f32(const float *p) { return vcvt_f64_f32(vld1_f32(p)); }
static inline float64x2_t ag_f64_load_f32_tail(const float *p, ptrdiff_t n)
{
    float t[2] = { 0.0f, 0.0f };
    for (ptrdiff_t i = 0; i < n; i++) t[i] = p[i];
    return vcvt_f64_f32(vld1_f32(t));
}
static inline void ag_f64_store_f32(float *p, float64x2_t a) { vst1_f32(p, vcvt_f32_f64(a)); }
static inline void ag_f64_store_f32_tail(float *p, ptrdiff_t n, float64x2_t a)
{
    float t[2];
    vst1_f32(t, vcvt_f32_f64(a));
    for (ptrdiff_t i = 0; i < n; i++) p[i] = t[i];
}

#endif
