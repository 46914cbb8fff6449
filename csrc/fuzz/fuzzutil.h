/* Shared by the fuzz harnesses: element sizes, reading one element of any dtype as a double,
 * a float16 conversion independent of csrc/convert.h (where the compiler has _Float16), and
 * "same bits or both NaN". */
#ifndef AG_FUZZUTIL_H
#define AG_FUZZUTIL_H

#include <math.h>
#include <stdint.h>
#include <string.h>
#include "../include/actgrad.h"
#include "../convert.h"

/* ---- the element types ---- */

static const int esize_of[AG_NDTYPES] = {
    [AG_BOOL] = 1, [AG_INT8] = 1, [AG_UINT8] = 1, [AG_INT16] = 2, [AG_UINT16] = 2,
    [AG_INT32] = 4, [AG_UINT32] = 4, [AG_INT64] = 8, [AG_UINT64] = 8,
    [AG_FLOAT16] = 2, [AG_FLOAT32] = 4, [AG_FLOAT64] = 8,
};

/* float16 -> float32 independent of convert.h where the compiler has _Float16. */
static float half_to_float(uint16_t h)
{
#ifdef __FLT16_MAX__
    _Float16 v;
    memcpy(&v, &h, 2);
    return (float)v;
#else
    return ag_half_to_float(h);
#endif
}


/* Element i of a contiguous array of `dtype` in the compute type (float or double). */
static double load_elem(int dtype, const unsigned char *p)
{
    union { uint8_t u8; int8_t i8; uint16_t u16; int16_t i16; uint32_t u32; int32_t i32;
            uint64_t u64; int64_t i64; float f; double d; } v;
    memcpy(&v, p, (size_t)esize_of[dtype]);
    switch (dtype) {
    case AG_BOOL: return v.u8 != 0;
    case AG_INT8: return v.i8;
    case AG_UINT8: return v.u8;
    case AG_INT16: return v.i16;
    case AG_UINT16: return v.u16;
    case AG_INT32: return v.i32;
    case AG_UINT32: return v.u32;
    case AG_INT64: return (double)v.i64;
    case AG_UINT64: return (double)v.u64;
    case AG_FLOAT16: return half_to_float(v.u16);
    case AG_FLOAT32: return v.f;
    default: return v.d;
    }
}

static int is_nan_bits(int dtype, const unsigned char *p)
{
    if (dtype == AG_FLOAT16) { uint16_t h; memcpy(&h, p, 2); return (h & 0x7c00u) == 0x7c00u && (h & 0x3ffu); }
    if (dtype == AG_FLOAT32) { float f; memcpy(&f, p, 4); return isnan(f); }
    if (dtype == AG_FLOAT64) { double d; memcpy(&d, p, 8); return isnan(d); }
    return 0;
}

/* Same bits, or both NaN. */
static int same_out(int dtype, const unsigned char *a, const unsigned char *b)
{
    if (memcmp(a, b, (size_t)esize_of[dtype]) == 0) return 1;
    return is_nan_bits(dtype, a) && is_nan_bits(dtype, b);
}

#endif
