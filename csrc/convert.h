/* Loading array elements of any supported dtype into a float or double buffer and
 * storing them back: the strided / mixed-dtype side of the elementwise driver. */
#ifndef AG_CONVERT_H
#define AG_CONVERT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "include/actgrad.h"

/* IEEE binary16 <-> binary32, portable C (no F16C), round to nearest even. */
static inline float ag_half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, e = (h >> 10) & 0x1fu, m = h & 0x3ffu, bits;
    float f;
    if (e == 0x1f) {
        bits = sign | 0x7f800000u | (m << 13);        /* inf, NaN (payload kept) */
    } else if (e == 0) {
        f = (float)m * 0x1p-24f;                        /* zero, subnormal: exact */
        memcpy(&bits, &f, sizeof bits);
        bits |= sign;
    } else {
        bits = sign | ((e + 112u) << 23) | (m << 13);   /* rebias 15 -> 127 */
    }
    memcpy(&f, &bits, sizeof f);
    return f;
}

static inline uint16_t ag_float_to_half(float f)
{
    uint32_t x, ax;
    memcpy(&x, &f, sizeof x);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
    ax = x & 0x7fffffffu;
    if (ax >= 0x7f800000u)                              /* inf; NaN stays NaN (quiet bit set) */
        return sign | 0x7c00u | (ax > 0x7f800000u ? 0x200u | ((ax >> 13) & 0x3ffu) : 0u);
    if (ax >= 0x477ff000u)                              /* >= 65520 rounds to inf */
        return sign | 0x7c00u;
    if (ax < 0x38800000u) {                             /* below 2^-14: subnormal or zero */
        float a, r;
        memcpy(&a, &ax, sizeof a);
        /* a * 2^24 < 1024 is exact; adding and removing 2^23 rounds it to an
         * integer, to nearest even; 1024 is the encoding of 2^-14. */
        r = (a * 0x1p24f + 0x1p23f) - 0x1p23f;
        return sign | (uint16_t)r;
    }
    /* normal: round the 13 dropped mantissa bits to nearest even (a carry
     * propagates into the exponent correctly), then rebias 127 -> 15 */
    ax += 0xfffu + ((ax >> 13) & 1u);
    return sign | (uint16_t)((ax >> 13) - (112u << 10));
}

/* buf[i] = p[i * step] for the float16 / float32 dtypes. */
static inline void ag_load_f32(int dtype, const char *p, ptrdiff_t step, ptrdiff_t n, float *buf)
{
    if (dtype == AG_FLOAT16)
        for (ptrdiff_t i = 0; i < n; i++) buf[i] = ag_half_to_float(*(const uint16_t *)(p + i * step));
    else
        for (ptrdiff_t i = 0; i < n; i++) buf[i] = *(const float *)(p + i * step);
}

/* buf[i] = p[i * step] for bool, the integer types and float64 (integers beyond
 * 2^53 round as NumPy's casts do). */
static inline void ag_load_f64(int dtype, const char *p, ptrdiff_t step, ptrdiff_t n, double *buf)
{
#define AG_LOAD_CASE(code, T) \
    case code: for (ptrdiff_t i = 0; i < n; i++) buf[i] = (double)*(const T *)(p + i * step); break;
    switch (dtype) {
    case AG_BOOL: for (ptrdiff_t i = 0; i < n; i++) buf[i] = *(const uint8_t *)(p + i * step) != 0; break;
    AG_LOAD_CASE(AG_INT8, int8_t)
    AG_LOAD_CASE(AG_UINT8, uint8_t)
    AG_LOAD_CASE(AG_INT16, int16_t)
    AG_LOAD_CASE(AG_UINT16, uint16_t)
    AG_LOAD_CASE(AG_INT32, int32_t)
    AG_LOAD_CASE(AG_UINT32, uint32_t)
    AG_LOAD_CASE(AG_INT64, int64_t)
    AG_LOAD_CASE(AG_UINT64, uint64_t)
    default: AG_LOAD_CASE(AG_FLOAT64, double)
    }
#undef AG_LOAD_CASE
}

/* p[i * step] = buf[i], written as float16 or float32. */
static inline void ag_store_f32(int dtype, const float *buf, ptrdiff_t n, char *p, ptrdiff_t step)
{
    if (dtype == AG_FLOAT16)
        for (ptrdiff_t i = 0; i < n; i++) *(uint16_t *)(p + i * step) = ag_float_to_half(buf[i]);
    else
        for (ptrdiff_t i = 0; i < n; i++) *(float *)(p + i * step) = buf[i];
}

static inline void ag_store_f64(const double *buf, ptrdiff_t n, char *p, ptrdiff_t step)
{
    for (ptrdiff_t i = 0; i < n; i++) *(double *)(p + i * step) = buf[i];
}

#endif
