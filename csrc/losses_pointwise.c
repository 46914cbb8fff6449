/* Elementwise loss drivers: BCE with logits and MSE over n contiguous elements, with
 * broadcast operands read as runs (ag_bcast), over the thread pool.
 *
 * Reduction in a fixed order: eight interleaved sums in double over a chunk of PT_CHUNK
 * elements (summed by one thread: the kernels add each run's element k to sum k mod 8, in
 * order, ag_pointwise_run.sum), folded as below; the chunks' sums in order.  So the loss is
 * bitwise the same for every thread count and SIMD path, and a float32 sum or mean of
 * nonnegative terms is within 1 ULP of the exact sum of its float32 terms (the double
 * sum's relative error, below n 2^-53, stays far under half a float ULP, then one
 * rounding). */
#include <fenv.h>
#include <stdlib.h>
#include "include/actgrad.h"
#include "tiles.h"
#include "fpflags.h"

#define PT_CHUNK 4096             /* elements per partial sum of BCE/MSE */

typedef struct {
    const ag_pointwise_args *a;
    ag_pointwise_fn kernel;
    size_t esz;
    double scale;
    double *partial;   /* NULL: no reduced loss wanted */
} pt_job;

/* The run of operand b starting at element k: its pointer and step (0 or 1)
 * into *p, *step; returns the run's length. */
static ptrdiff_t bcast_run(const ag_bcast *b, ptrdiff_t k, size_t esz, const void **p, ptrdiff_t *step)
{
    const char *base = (const char *)b->p;
    *p = base;
    *step = 0;
    if (!base || b->period == 1) return PTRDIFF_MAX;
    if (b->rep == 1) {
        *p = base + (size_t)(k % b->period) * esz;
        *step = 1;
        return b->period - k % b->period;
    }
    *p = base + (size_t)((k / b->rep) % b->period) * esz;
    return b->rep - k % b->rep;
}

static void pt_range(void *ctx, ptrdiff_t begin, ptrdiff_t end)
{
    const pt_job *j = (const pt_job *)ctx;
    const ag_pointwise_args *a = j->a;
    for (ptrdiff_t c0 = begin; c0 < end; c0 += PT_CHUNK) {
        const ptrdiff_t c1 = min2(c0 + PT_CHUNK, end);
        _Alignas(64) double acc[8] = { 0, 0, 0, 0, 0, 0, 0, 0 };
        for (ptrdiff_t k = c0; k < c1;) {
            ag_pointwise_run r;
            const size_t at = (size_t)k * j->esz;
            ptrdiff_t n = c1 - k;
            n = min2(n, bcast_run(&a->weight, k, j->esz, &r.w, &r.ws));
            n = min2(n, bcast_run(&a->pos_weight, k, j->esz, &r.pw, &r.pws));
            n = min2(n, bcast_run(&a->grads, k, j->esz, &r.g, &r.gs));
            r.n = n;
            r.x = (const char *)a->x + at;
            r.t = (const char *)a->t + at;
            r.scale = j->scale;
            r.loss = a->loss ? (char *)a->loss + at : NULL;
            r.sum = j->partial ? acc : NULL;
            r.dx = a->dx ? (char *)a->dx + at : NULL;
            j->kernel(&r);
            k += n;
        }
        if (j->partial)
            j->partial[c0 / PT_CHUNK] = ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7]));
    }
}

/* dx = unit * grad * grads_k * d loss/dx (/ n for the mean): unit 2 for MSE (d/dx (x - t)^2 = 2 (x - t)), 1 for BCE. */
static int pointwise(const ag_pointwise_args *a, double *total, ag_pointwise_fn kernel,
                     double unit, ptrdiff_t grain)
{
    pt_job j = { a, kernel, a->f32 ? sizeof(float) : sizeof(double), unit * a->grad, NULL };
    if (a->reduction == AG_REDUCE_MEAN) j.scale /= (double)a->n;
    const ptrdiff_t nchunks = (a->n + PT_CHUNK - 1) / PT_CHUNK;
    double small[64];
    if (total && a->reduction != AG_REDUCE_NONE) {
        j.partial = nchunks <= 64 ? small : malloc((size_t)nchunks * sizeof(double));
        if (!j.partial) return AG_LOSS_NOMEM;
    }
    ag_parallel_for(a->n, grain, PT_CHUNK, pt_range, &j);
    if (total) {
        double sum = 0;
        for (ptrdiff_t c = 0; j.partial && c < nchunks; c++) sum += j.partial[c];
        *total = a->reduction == AG_REDUCE_MEAN ? sum / (double)a->n : sum;
    }
    if (j.partial != small) free(j.partial);
    return AG_LOSS_OK;
}

int ag_bce_with_logits(const ag_pointwise_args *a, double *total)
{
    fexcept_t flags;
    ag_flags_save(&flags);
    int rc = pointwise(a, total, ag_kernels()->bce_logits[!a->f32], 1.0, 1 << 14);
    ag_flags_restore(&flags);
    return rc;
}

int ag_mse(const ag_pointwise_args *a, double *total)
{
    fexcept_t flags;
    ag_flags_save(&flags);
    int rc = pointwise(a, total, ag_kernels()->mse[!a->f32], 2.0, 1 << 16);
    ag_flags_restore(&flags);
    return rc;
}
