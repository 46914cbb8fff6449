/* The body of csrc/isa/kernels.c: every kernel (elementwise, softmax, losses) for float and double, and the
 * exported table ag_kernels_<AG_ISA>. Include after isa_begin.h (which includes the shim). */
#include "../simd/generic.h"
#include "../include/ag_kernels.h"

/* every kernel for float, then double (each pass includes the math first) */
#define AG_DTYPE_BODY "../loops/all.h"
#include "dtype_passes.h"

#define AG_PAIR(name, call) { k_##name##_##call##_f32, k_##name##_##call##_f64 }
#define AG_PAIR_IF_1(name, call) AG_PAIR(name, call)
#define AG_PAIR_IF_0(name, call) { NULL, NULL }
#define AG_OP(name, nparams, fo, cost) [AG_OP_##name] = {                                   \
    AG_PAIR(name, forward), AG_PAIR(name, derivative), AG_PAIR(name, backward),          \
    AG_CAT(AG_PAIR_IF_, fo)(name, derivative_from_output),          \
    AG_CAT(AG_PAIR_IF_, fo)(name, backward_from_output) },
const ag_kernel_table AG_CAT(ag_kernels_, AG_ISA) = {
    AG_ISA_NAME,
    {
#include "../gen/ops.inc"
    },
    { AG_SM_KERNELS_F32, AG_SM_KERNELS_F64 },   /* loops/softmax_body.h */
    /* losses (loops/losses_body.h) */
    .ce_rows = { k_ce_rows_f32, k_ce_rows_f64 },
    .ce_cols = { k_ce_cols_f32, k_ce_cols_f64 },
    .bce_logits = { k_bce_logits_f32, k_bce_logits_f64 },
    .mse = { k_mse_f32, k_mse_f64 },
};
#undef AG_OP
