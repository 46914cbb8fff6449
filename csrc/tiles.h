/* Moving float or double elements for the loss drivers (csrc/losses*.c): element
 * access by dtype, strided 2-D copies, register transposes of contiguous rows, and
 * non-temporal streaming stores.  Memory movement only: the arithmetic is in the
 * kernels (loops/losses_body.h). */
#ifndef AG_TILES_H
#define AG_TILES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

static inline ptrdiff_t min2(ptrdiff_t a, ptrdiff_t b) { return a < b ? a : b; }

static inline double get(const void *p, ptrdiff_t i, int f32)
{
    return f32 ? ((const float *)p)[i] : ((const double *)p)[i];
}

static inline void put(void *p, ptrdiff_t i, int f32, double v)
{
    if (f32) ((float *)p)[i] = (float)v;
    else ((double *)p)[i] = v;
}

/* dst[i*dss + c*dcs] = src[i*sss + c*scs] for i < n, c < C, in elements. */
#define COPY2D(T) for (ptrdiff_t i = 0; i < n; i++) for (ptrdiff_t c = 0; c < C; c++) \
    ((T *)dst)[i * dss + c * dcs] = ((const T *)src)[i * sss + c * scs]
static inline void copy2d(int f32, ptrdiff_t n, ptrdiff_t C, void *dst, ptrdiff_t dss, ptrdiff_t dcs,
                          const void *src, ptrdiff_t sss, ptrdiff_t scs)
{
    if (f32) COPY2D(float);
    else COPY2D(double);
}
#undef COPY2D

/* dst[c*ds + r] = src[r*ss + c] for r < rows, c < cols: copy2d for the packed tiles of
 * contiguous rows (pack: rows = samples; unpack: rows = classes), by 4x4 (float) or 2x2
 * (double) register transposes where SSE2 is there.  The last block of each dimension
 * overlaps the one before instead of leaving an edge (it rewrites equal values). */
static inline void transpose(int f32, ptrdiff_t rows, ptrdiff_t cols, void *dst, ptrdiff_t ds,
                             const void *src, ptrdiff_t ss)
{
#if defined(__SSE2__)
    const ptrdiff_t k = f32 ? 4 : 2;
    if (rows >= k && cols >= k) {
        for (ptrdiff_t r0 = 0;; r0 += k) {
            const ptrdiff_t r = min2(r0, rows - k);
            for (ptrdiff_t c0 = 0;; c0 += k) {
                const ptrdiff_t c = min2(c0, cols - k);
                if (f32) {
                    const float *x = (const float *)src + r * ss + c;
                    float *d = (float *)dst + c * ds + r;
                    __m128 a = _mm_loadu_ps(x), b = _mm_loadu_ps(x + ss);
                    __m128 e = _mm_loadu_ps(x + 2 * ss), h = _mm_loadu_ps(x + 3 * ss);
                    _MM_TRANSPOSE4_PS(a, b, e, h);
                    _mm_storeu_ps(d, a);
                    _mm_storeu_ps(d + ds, b);
                    _mm_storeu_ps(d + 2 * ds, e);
                    _mm_storeu_ps(d + 3 * ds, h);
                } else {
                    const double *x = (const double *)src + r * ss + c;
                    double *d = (double *)dst + c * ds + r;
                    __m128d a = _mm_loadu_pd(x), b = _mm_loadu_pd(x + ss);
                    _mm_storeu_pd(d, _mm_unpacklo_pd(a, b));
                    _mm_storeu_pd(d + ds, _mm_unpackhi_pd(a, b));
                }
                if (c0 + k >= cols) break;
            }
            if (r0 + k >= rows) break;
        }
        return;
    }
#endif
    copy2d(f32, rows, cols, dst, 1, ds, src, ss, 1);
}

/* dst[0, n) = src[0, n) with non-temporal stores where the ISA has them (the
 * caller issues the fence); 16-byte aligned from the first aligned element. */
static inline void stream_copy(char *dst, const char *src, size_t bytes)
{
#if defined(__SSE2__)
    size_t head = (size_t)(-(uintptr_t)dst & 15);
    if (head > bytes) head = bytes;
    memcpy(dst, src, head);
    size_t i = head;
    for (; i + 16 <= bytes; i += 16)
        _mm_stream_si128((__m128i *)(dst + i), _mm_loadu_si128((const __m128i *)(src + i)));
    memcpy(dst + i, src + i, bytes - i);
#else
    memcpy(dst, src, bytes);
#endif
}

static inline void stream_fence(void)
{
#if defined(__SSE2__)
    _mm_sfence();
#endif
}

#endif
