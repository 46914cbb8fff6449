/* The plain C API of the actgrad core: no Python headers, plain pointers, lengths and strides.
 *
 * Kernels are looked up by op (enum ag_op, one per kernel of the activation table,
 * csrc/gen/ops.inc) and call (enum ag_call), and run on the SIMD path chosen at
 * run time (ag_isa_name). */
#ifndef ACTGRAD_H
#define ACTGRAD_H

#include <stddef.h>
#include "ag_kernels.h"
#include "ag_parallel.h"
#include "ag_softmax.h"
#include "ag_losses.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- SIMD dispatch (csrc/dispatch.c) ---- */

/* The kernel table in use.  Chosen on first use: the best ISA this CPU and OS
 * support, or the one the environment variable ACTGRAD_ISA names if it is
 * supported (a name of the registry, include/ag_isas.h: scalar, neon, avx2, avx512). */
const ag_kernel_table *ag_kernels(void);

/* Name of the ISA in use, e.g. "avx512", "avx2", "neon" or "scalar". */
const char *ag_isa_name(void);

/* The i-th name of the ISA registry (scalar first, then worst to best; every
 * architecture's), or NULL past the end. */
const char *ag_isa_registry(int i);

/* Whether this machine can run the named ISA's kernels (1) or not (0; also for unknown names). */
int ag_isa_supported(const char *name);

/* Use the named ISA from now on (for tests and benchmarks; not thread-safe
 * against calls running at the same time).  Returns 0, or -1 for an unknown
 * name, -2 for an ISA this machine cannot run (the ISA in use is kept). */
int ag_set_isa(const char *name);

/* ---- Elementwise driver (csrc/elementwise.c) ---- */

/* Element types the driver reads; outputs are float16, float32 or float64. */
enum ag_dtype {
    AG_BOOL, AG_INT8, AG_UINT8, AG_INT16, AG_UINT16, AG_INT32, AG_UINT32, AG_INT64, AG_UINT64,
    AG_FLOAT16, AG_FLOAT32, AG_FLOAT64, AG_NDTYPES
};

/* One inner loop: the op and call, and the dtype of the array inputs.  float16
 * is computed in float32 and written as float16; float32 and float64 in their own
 * precision; bool and integers in float64, written as float64. */
typedef struct {
    int op;         /* enum ag_op */
    int call;       /* enum ag_call */
    int dtype;      /* enum ag_dtype of the 1 (unary calls) or 2 (backward calls) arrays */
} ag_loop;

/* The dtype the loop writes: AG_FLOAT16, AG_FLOAT32 or AG_FLOAT64. */
int ag_loop_out_dtype(const ag_loop *loop);

/* Number of numeric parameters of an op (0, 1 or 2), and its kernel name (NULL if op is out of range). */
int ag_op_nparams(int op);
const char *ag_op_name(int op);

/* Runs a loop over n elements laid out like a NumPy ufunc inner loop:
 * args = the array inputs (1 or 2), then one double per numeric parameter, then
 * the output; steps = their byte strides (a parameter's stride may be 0 or not).
 * The output may be the same memory as an input (same start and stride); other
 * overlaps are not allowed.  Large n runs over the thread pool; the results do
 * not depend on the thread count.  The caller's floating-point exception flags
 * are left as they were. */
void ag_elementwise(const ag_loop *loop, ptrdiff_t n, char *const *args, const ptrdiff_t *steps);

/* The same with NumPy's PyUFuncGenericFunction signature (data is an ag_loop *). */
void ag_ufunc_loop(char **args, const ptrdiff_t *dimensions, const ptrdiff_t *steps, void *data);

#ifdef __cplusplus
}
#endif

#endif
