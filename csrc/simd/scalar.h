/* One-lane reference implementation of the SIMD shim.
 *
 * Every ISA header (scalar.h, avx2.h, avx512.h, neon.h) defines the same set of
 * `static inline` operations for f32 and f64, named ag_<sfx>_<op>.  Kernels
 * never name an intrinsic: they use the type-generic aliases of generic.h
 * (v_add, v_fma, ...), which resolve to the current AG_SFX.
 *
 * Semantics shared by all ISAs (so every path gives bit-identical results):
 *   - arithmetic and fma are correctly rounded IEEE operations;
 *   - v_min(a, b) / v_max(a, b) return b when either operand is NaN
 *     (x86 minps/maxps); put the variable second to propagate NaN;
 *   - comparisons are ordered (false on NaN) except v_isnan;
 *   - v_round rounds to nearest-even;
 *   - and / or (ag_<sfx>_and, ag_<sfx>_or): bitwise on the lanes' bit patterns;
 *   - v_load_tail reads exactly n < LANES elements, other lanes are 0;
 *   - v_pow2i(n): 2^n for integral n in [-126, 127] (f32) / [-1022, 1023] (f64);
 *   - v_ldexp(x, n): x * 2^n rounded once, for integral n in [-2*126, 2*127] (f32) /
 *     [-2*1022, 2*1023] (f64) and x with x * 2^floor(n/2) normal, 0, inf or NaN (here two
 *     steps, the first exact; avx512.h: one scalef);
 *   - v_getexp(x), v_getmant(x): for normal finite x > 0, the unbiased
 *     exponent e (as a float) and the mantissa m in [1, 2) with x = m * 2^e.
 *
 * float32 <-> float64 conversions (the float32 kernels evaluated in double;
 * block at the end of each ISA header):
 *   - AG_F32_WIDE_PARTS: how many ag_f64v one ag_f32v widens to: 2 on AVX2
 *     (8 floats -> 2 x 4 doubles) and AVX-512 (16 -> 2 x 8), 1 here, where
 *     both vector types have one lane;
 *   - ag_f32_widen_lo(a) / ag_f32_widen_hi(a): the low / high half of the
 *     lanes of a, each converted exactly to double (one scalar: both give it);
 *   - ag_f32_narrow(lo, hi): the lanes of lo then of hi, each rounded once to
 *     float (nearest-even; overflow to +-inf, gradual underflow to
 *     subnormals and +-0, NaN stays NaN); here the one lane of lo, hi unused.
 *   narrow(widen_lo(a), widen_hi(a)) == a bitwise for every non-NaN a.
 */
#ifndef AG_SIMD_SCALAR_H
#define AG_SIMD_SCALAR_H

#include <math.h>
#include <stdint.h>
#include <stddef.h>
#include <string.h>

#define AG_f32_LANES 1
#define AG_f64_LANES 1

typedef float ag_f32v;
typedef int ag_f32m;
typedef double ag_f64v;
typedef int ag_f64m;

/* The body below is written once and expanded for float and double. */
#define AG_SCALAR_SHIM(sfx, T, UT, MANT_BITS, EXP_BIAS, FMA, RINT, FLOOR, COPYSIGN) \
static inline T ag_##sfx##_set1(T a) { return a; }                                          \
static inline T ag_##sfx##_load(const T *p) { return *p; }                                  \
static inline void ag_##sfx##_store(T *p, T a) { *p = a; }                                  \
static inline T ag_##sfx##_load_tail(const T *p, ptrdiff_t n) { return n > 0 ? *p : (T)0; } \
static inline void ag_##sfx##_store_tail(T *p, ptrdiff_t n, T a) { if (n > 0) *p = a; }    \
static inline T ag_##sfx##_add(T a, T b) { return a + b; }                                 \
static inline T ag_##sfx##_sub(T a, T b) { return a - b; }                                 \
static inline T ag_##sfx##_mul(T a, T b) { return a * b; }                                 \
static inline T ag_##sfx##_div(T a, T b) { return a / b; }                                 \
static inline T ag_##sfx##_neg(T a) { return -a; }                                         \
static inline T ag_##sfx##_fma(T a, T b, T c) { return FMA(a, b, c); }                     \
static inline T ag_##sfx##_fms(T a, T b, T c) { return FMA(a, b, -c); }                    \
static inline T ag_##sfx##_fnma(T a, T b, T c) { return FMA(-a, b, c); }                   \
static inline T ag_##sfx##_min(T a, T b) { return a < b ? a : b; }                         \
static inline T ag_##sfx##_max(T a, T b) { return a > b ? a : b; }                         \
static inline T ag_##sfx##_round(T a) { return RINT(a); }                                  \
static inline int ag_##sfx##_lt(T a, T b) { return __builtin_isless(a, b); }               \
static inline int ag_##sfx##_le(T a, T b) { return __builtin_islessequal(a, b); }          \
static inline int ag_##sfx##_gt(T a, T b) { return __builtin_isgreater(a, b); }            \
static inline int ag_##sfx##_ge(T a, T b) { return __builtin_isgreaterequal(a, b); }       \
static inline int ag_##sfx##_eq(T a, T b) { return !__builtin_islessgreater(a, b) && !__builtin_isunordered(a, b); } \
static inline int ag_##sfx##_isnan(T a) { return __builtin_isunordered(a, a); }            \
static inline T ag_##sfx##_select(int m, T a, T b) { return m ? a : b; }                   \
static inline int ag_##sfx##_mand(int a, int b) { return a & b; }                          \
static inline int ag_##sfx##_mor(int a, int b) { return a | b; }                           \
static inline int ag_##sfx##_any(int m) { return m; }                                      \
static inline int ag_##sfx##_all(int m) { return m; }                                      \
static inline UT ag_##sfx##_bits_(T a) { UT u; memcpy(&u, &a, sizeof u); return u; }       \
static inline T ag_##sfx##_from_bits_(UT u) { T a; memcpy(&a, &u, sizeof a); return a; }   \
static inline T ag_##sfx##_and(T a, T b) { return ag_##sfx##_from_bits_(ag_##sfx##_bits_(a) & ag_##sfx##_bits_(b)); } \
static inline T ag_##sfx##_or(T a, T b) { return ag_##sfx##_from_bits_(ag_##sfx##_bits_(a) | ag_##sfx##_bits_(b)); }  \
static inline T ag_##sfx##_abs(T a) { return ag_##sfx##_from_bits_(ag_##sfx##_bits_(a) & ~((UT)1 << (8 * sizeof(T) - 1))); } \
static inline T ag_##sfx##_copysign(T mag, T sgn) { return COPYSIGN(mag, sgn); }           \
static inline T ag_##sfx##_pow2i(T n)                                                      \
{ return ag_##sfx##_from_bits_((UT)((int64_t)n + EXP_BIAS) << MANT_BITS); }                \
static inline T ag_##sfx##_ldexp(T x, T n)                                                 \
{ T h = FLOOR(n * (T)0.5);                                                                 \
  return x * ag_##sfx##_pow2i(h) * ag_##sfx##_pow2i(n - h); }                              \
static inline T ag_##sfx##_getexp(T x)                                                     \
{ return (T)((int64_t)(ag_##sfx##_bits_(x) >> MANT_BITS) - EXP_BIAS); }                    \
static inline T ag_##sfx##_getmant(T x)                                                    \
{ UT m = ((UT)1 << MANT_BITS) - 1;                                                         \
  return ag_##sfx##_from_bits_((ag_##sfx##_bits_(x) & m) | ((UT)EXP_BIAS << MANT_BITS)); } \
static inline T ag_##sfx##_hsum(T a) { return a; }                                         \
static inline T ag_##sfx##_hmax(T a) { return a; }

AG_SCALAR_SHIM(f32, float, uint32_t, 23, 127, fmaf, rintf, floorf, copysignf)
AG_SCALAR_SHIM(f64, double, uint64_t, 52, 1023, fma, rint, floor, copysign)

#undef AG_SCALAR_SHIM

/* float32 <-> float64 (semantics above) */
#define AG_F32_WIDE_PARTS 1
static inline double ag_f32_widen_lo(float a) { return (double)a; }
static inline double ag_f32_widen_hi(float a) { return (double)a; }
static inline float ag_f32_narrow(double lo, double hi) { (void)hi; return (float)lo; }

/* x * 2^n for integral n in [-1022, 1023] and x in [0.5, 2]: exact (a normal result;
 * avx512.h has it in one instruction). */
static inline ag_f64v ag_f64_scalef(ag_f64v x, ag_f64v n) { return ag_f64_mul(x, ag_f64_pow2i(n)); }

/* float memory as f64 lanes (softmax family: float32 computed in double). */
static inline double ag_f64_load_f32(const float *p) { return *p; }
static inline double ag_f64_load_f32_tail(const float *p, ptrdiff_t n) { return n > 0 ? *p : 0.0; }
static inline void ag_f64_store_f32(float *p, double a) { *p = (float)a; }
static inline void ag_f64_store_f32_tail(float *p, ptrdiff_t n, double a) { if (n > 0) *p = (float)a; }

#endif
