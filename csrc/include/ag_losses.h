/* Losses and their gradients (csrc/losses.c): cross-entropy over a class axis,
 * binary cross-entropy with logits, mean squared error.  Plain pointers, counts
 * and element strides; float or double data (`f32`); no Python.
 *
 * Each call checks its index targets before writing anything, runs over the
 * thread pool for large inputs, reduces the loss deterministically (fixed-size
 * chunks of samples summed in double, in a fixed order: the result is bitwise
 * the same for any thread count), and leaves the caller's floating-point
 * exception flags as they were. */
#ifndef AG_LOSSES_H
#define AG_LOSSES_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum ag_reduction { AG_REDUCE_NONE, AG_REDUCE_MEAN, AG_REDUCE_SUM };

enum ag_loss_status {
    AG_LOSS_OK,
    AG_LOSS_BAD_TARGET,   /* an index target outside [0, C) that is not ignore_index; nothing written */
    AG_LOSS_NOMEM         /* scratch memory could not be allocated; outputs unspecified */
};

/* Cross-entropy, PyTorch's F.cross_entropy: logits viewed as (outer, C, inner),
 * a sample per (outer, inner) position, its classes along the middle axis. */
typedef struct {
    int f32;                  /* every floating array is float (1) or double (0) */
    ptrdiff_t outer, C, inner;
    const void *x;            /* logits */
    ptrdiff_t xs[3];          /* strides of x over (outer, C, inner); probs and dx share them */
    const int64_t *target;    /* index targets over (outer, inner), or NULL (probs) */
    ptrdiff_t ts[2];
    int64_t ignore_index;     /* index targets equal to it have loss 0 and gradient 0 */
    const void *probs;        /* probability targets laid out like x, or NULL (index targets) */
    const void *weight;       /* C class weights, or NULL */
    double label_smoothing;   /* in [0, 1] */
    int reduction;            /* enum ag_reduction */
    double grad;              /* upstream gradient: of the mean or sum loss, or of each */
    const void *grads;        /*   sample's loss times grads (reduction none) over */
    ptrdiff_t gs[2];          /*   (outer, inner), strides may be 0; NULL: all 1 */
    void *loss;               /* reduction none: losses over (outer, inner), or NULL */
    ptrdiff_t ls[2];
    void *dx;                 /* d loss / d logits laid out like x (may be x), or NULL; it must
                                 not otherwise share memory with an input (src/actgrad/_losses.py
                                 gives the C core a scratch array then) */
} ag_ce_args;

/* Mean: sum of the losses / the sum of the weights of the non-ignored index
 * targets (the number of samples for probability targets); NaN when that is 0.
 * *total (when not NULL) receives the mean or sum loss. */
int ag_cross_entropy(const ag_ce_args *a, double *total, int64_t *bad_target);

/* An operand broadcast over a flat array: element k is p[(k / rep) % period]
 * (rep >= 1, period >= 1); p NULL means absent. */
typedef struct {
    const void *p;
    ptrdiff_t rep, period;
} ag_bcast;

/* BCE with logits and MSE over n contiguous elements (PyTorch's
 * F.binary_cross_entropy_with_logits and F.mse_loss). */
typedef struct {
    int f32;
    ptrdiff_t n;
    const void *x, *t;          /* logits (predictions) and targets */
    ag_bcast weight, pos_weight; /* BCE only; p NULL: absent */
    int reduction;              /* mean divides by n */
    double grad;                /* upstream gradient: of the mean or sum loss, or of each */
    ag_bcast grads;             /*   element's loss times grads (reduction none); p NULL: all 1 */
    void *loss;                 /* reduction none: n losses, or NULL */
    void *dx;                   /* n gradients, or NULL; x itself or sharing no memory with an input */
} ag_pointwise_args;

int ag_bce_with_logits(const ag_pointwise_args *a, double *total);
int ag_mse(const ag_pointwise_args *a, double *total);

#ifdef __cplusplus
}
#endif

#endif
