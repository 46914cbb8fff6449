/* The contiguous elementwise kernels of one ISA, generated from the activation table. */
#ifndef AG_KERNELS_H
#define AG_KERNELS_H

#include <stddef.h>
#include "ag_isas.h"

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

/* The softmax family (csrc/loops/softmax_body.h, driven by csrc/softmax.c). */
enum ag_softmax_op {
    AG_SOFTMAX, AG_LOG_SOFTMAX, AG_LOGSUMEXP, AG_SOFTMAX_BACKWARD, AG_LOG_SOFTMAX_BACKWARD,
    AG_SOFTMAX_SCALE    /* apply only: out = a e^(m0 - m) / S where a holds e^(x - m0) */
};

/* Row and column kernels of one dtype T (float or double; the void pointers are T *).
 * A reduction returns st = {m, S_hi, S_lo}: the row max m and S = S_hi + S_lo (a
 * double-word) = sum exp(x - m) for the forward ops (computed in double for both dtypes:
 * S_hi, S_lo are doubles), and m = 0 with S = sum a*b or sum a (T values) for the backward
 * ones.  Reductions run in a fixed order of slots that depends only on n, the same in the
 * row and the column kernels, so every ISA and every layout returns the same bits. */
typedef struct {
    /* st of x[0..n); if keep == AG_SOFTMAX also y[i] = exp(x[i] - m) rounded to T (y may
     * be x). */
    void (*stats)(int keep, ptrdiff_t n, const void *x, void *y, double st[3]);
    /* st = {0, sum a*b} over [0, n) (sum a if b is NULL). */
    void (*dot)(ptrdiff_t n, const void *a, const void *b, double st[3]);
    /* st of the concatenation of k pieces, from their st (3k doubles), combined in order. */
    void (*combine)(ptrdiff_t k, const double *parts, double st[3]);
    /* out[0..n) of an elementwise op given the row's st: AG_SOFTMAX (a = x),
     * AG_SOFTMAX_SCALE (a = exp(x - m0), e.g. from stats of a piece whose max is m0),
     * AG_LOG_SOFTMAX (a = x), AG_SOFTMAX_BACKWARD and AG_LOG_SOFTMAX_BACKWARD (a = dy,
     * b = y).  m0 is read by AG_SOFTMAX_SCALE only.  out may be a or b. */
    void (*apply)(int op, ptrdiff_t n, const void *a, const void *b, const double st[3], double m0,
                  void *out);
    /* log(sum exp(x)) of a row from its st. */
    double (*logsumexp)(const double st[3]);
    /* Column kernels: ncols independent rows laid side by side, element (k, c) of a row
     * block at p + k*s + c (s in elements); each column is reduced in its own SIMD lane,
     * so its result does not depend on the ISA or on how columns are grouped.
     * col_forward: AG_SOFTMAX, AG_LOG_SOFTMAX into y (y may be x), or AG_LOGSUMEXP
     * into y[0..ncols) (sy unused). */
    void (*col_forward)(int op, ptrdiff_t n, ptrdiff_t ncols, const void *x, ptrdiff_t sx,
                        void *y, ptrdiff_t sy);
    /* col_backward: AG_SOFTMAX_BACKWARD or AG_LOG_SOFTMAX_BACKWARD (a = dy, b = y). */
    void (*col_backward)(int op, ptrdiff_t n, ptrdiff_t ncols, const void *a, ptrdiff_t sa,
                         const void *b, ptrdiff_t sb, void *out, ptrdiff_t so);
} ag_softmax_kernels;
/* ---- Loss kernels (csrc/loops/losses_body.h, driven by csrc/losses.c) ----
 * Pointers to data are float (table index 0) or double (index 1) arrays; strides
 * and counts are in elements. */

/* A block of cross-entropy samples.  Sample i's loss, with z = x - max(x) over
 * its classes, s = sum_c e^z_c, smoothed target q'_c = on q_c + off and class
 * weights w_c:
 *     loss_i = sum_c w_c q'_c (log s - z_c) = A log s - sum_c w_c q'_c z_c,
 *     A = sum_c w_c q'_c,
 *     d loss_i / d x_c = scale_i (A e^z_c / s - w_c q'_c),
 * where q is the one-hot row of the class index y_i, or a row of probabilities.
 * An ignored sample (y_i < 0) has loss 0 and gradient 0. */
#define AG_CE_BLOCK 128     /* the most samples in one ag_ce_block */

typedef struct {
    ptrdiff_t n, C;       /* samples (n <= AG_CE_BLOCK), classes */
    const void *x;        /* logits: class c of sample i at x[i*ss + c*cs] */
    const void *q;        /* probability targets laid out like x, or NULL (index targets) */
    void *g;              /* d loss / d logits laid out like x (may be x), or NULL */
    ptrdiff_t ss, cs;     /* ce_rows needs cs == 1, ce_cols ss == 1 */
    const void *w;        /* C class weights, or NULL (all 1) */
    double on, off;       /* 1 - label_smoothing, label_smoothing / C */
    double wsum;          /* sum of the weights (C when w is NULL) */
    const ptrdiff_t *y;   /* index targets: n classes in [0, C), or -1 (ignored) */
    const void *scale;    /* n gradient multipliers (read when g is not NULL) */
    void *loss;           /* n per-sample losses, or NULL (not computed) */
} ag_ce_block;

typedef void (*ag_ce_fn)(const ag_ce_block *b);

/* A contiguous run of an elementwise loss (BCE with logits, MSE). */
typedef struct {
    ptrdiff_t n;
    const void *x, *t;       /* n logits (predictions) and targets */
    const void *w, *pw, *g;  /* weight, pos_weight, upstream gradient: NULL (absent), or */
    ptrdiff_t ws, pws, gs;   /* n values (step 1) or one value for all (step 0) */
    double scale;            /* gradient multiplier: dx = scale * g * d loss/dx (g = 1 if NULL) */
    void *loss;              /* n losses, or NULL */
    double *sum;             /* 8 running sums of the losses, or NULL: sum[k % 8] += loss[k] for
                              * k = 0 .. n-1 in order, in double (losses_pointwise.c's order) */
    void *dx;                /* n gradients, or NULL */
} ag_pointwise_run;

typedef void (*ag_pointwise_fn)(const ag_pointwise_run *r);

typedef struct {
    const char *isa;
    ag_kernel_fn elementwise[AG_NOPS][AG_NCALLS][2];   /* NULL where a call does not exist */
    ag_softmax_kernels softmax[2];                     /* [0] float, [1] double */

    /* ---- losses (csrc/loops/losses_body.h), [0] float, [1] double ---- */
    ag_ce_fn ce_rows[2];        /* vectors along each sample's classes (cs == 1) */
    ag_ce_fn ce_cols[2];        /* vectors across samples (ss == 1), loops over classes */
    ag_pointwise_fn bce_logits[2];
    ag_pointwise_fn mse[2];
} ag_kernel_table;

/* ag_kernels_<name> of every row of the ISA registry built for this architecture. */
#define AG_KERNELS_EXTERN_(name, arch, shim, target, check) \
    AG_ISA_IF(arch)(extern const ag_kernel_table ag_kernels_##name;)
AG_ISAS(AG_KERNELS_EXTERN_)
#undef AG_KERNELS_EXTERN_

#endif
