/* The softmax-family driver (csrc/softmax.c): plain C, no Python headers. */
#ifndef AG_SOFTMAX_H
#define AG_SOFTMAX_H

#include <stddef.h>
#include "ag_kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

/* An array viewed as (outer, n, inner), the softmax axis in the middle: element
 * (o, k, i) is at data + o*so + k*sk + i*si (byte strides of any sign). */
typedef struct {
    char *data;
    ptrdiff_t so, sk, si;
    int dtype;             /* enum ag_dtype */
} ag_sm_array;

/* Runs op (enum ag_softmax_op) along the n axis of every (o, i):
 *   AG_SOFTMAX, AG_LOG_SOFTMAX   out = softmax(a), log_softmax(a)
 *   AG_LOGSUMEXP                 out(o, i) = log sum_k exp(a(o, k, i)) (out's sk unused;
 *                                -inf when n == 0)
 *   AG_SOFTMAX_BACKWARD          out = b (a - sum_k a b)      (a = dy or v, b = y)
 *   AG_LOG_SOFTMAX_BACKWARD      out = a - exp(b) sum_k a     (a = dy, b = y)
 * b is NULL for the forward ops.  Inputs of dtype float16 or float32 are computed in
 * float32 and written as float16 or float32; bool, integers and float64 are computed
 * in float64 and written as float64 (a and b must fall in the same one of these two
 * classes).  out may be the same memory as an input with the same strides; other
 * overlaps are not allowed.  Rows run on the thread pool, and the results do not
 * depend on the thread count or the SIMD path.  The caller's floating-point
 * exception flags are left as they were.  Returns 0, or -1 for invalid arguments or
 * when memory ran out (some outputs may have been written then). */
int ag_softmax(int op, ptrdiff_t outer, ptrdiff_t n, ptrdiff_t inner,
               const ag_sm_array *a, const ag_sm_array *b, const ag_sm_array *out);

#ifdef __cplusplus
}
#endif

#endif
