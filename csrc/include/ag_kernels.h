/* The contiguous elementwise kernels of one ISA, generated from the activation table. */
#ifndef AG_KERNELS_H
#define AG_KERNELS_H

#include <stddef.h>

enum ag_call {
    AG_FORWARD, AG_DERIVATIVE, AG_BACKWARD, AG_DERIVATIVE_FROM_OUTPUT, AG_BACKWARD_FROM_OUTPUT,
    AG_NCALLS
};

enum ag_op {
#define AG_OP(name, nparams, from_output, cost) AG_OP_##name,
#include "../gen/ops.inc"
#undef AG_OP
    AG_NOPS
};

/* out[i] = f(a[i]) or, for the backward calls, a[i] * f'(b[i]) with a = dy;
 * params[0..1] are the op's numeric parameters (unused ones ignored).
 * a, b and out are float (dtype 0) or double (dtype 1) arrays of length n;
 * out may equal a or b. */
typedef void (*ag_kernel_fn)(ptrdiff_t n, const void *a, const void *b, void *out,
                             const double *params);

typedef struct {
    const char *isa;
    ag_kernel_fn elementwise[AG_NOPS][AG_NCALLS][2];   /* NULL where a call does not exist */
} ag_kernel_table;

extern const ag_kernel_table ag_kernels_scalar;
#if defined(__x86_64__) || defined(_M_X64)
extern const ag_kernel_table ag_kernels_avx2;
extern const ag_kernel_table ag_kernels_avx512;
#endif

#endif
