/* Cost of the softmax family's and the losses' kernels, one SIMD path (the best by
 * default), median of 15 samples:
 *   - in cache: ns per element of each kernel on one row that stays in L1/L2 (the compute
 *     cost: cycles per element = ns x the clock in GHz);
 *   - at size: ns per element of the drivers (ag_softmax, ag_cross_entropy, ag_bce...) on
 *     arrays far larger than the caches, with 1 and 2 threads, next to a memcpy of the same
 *     bytes read and written (the copy roofline; the drivers read their input(s) and write
 *     one output).
 *   make -C csrc softmax-speed [SPEED_ARGS="-n 1000 -r 16000 -p avx512"]
 * Options: -n N row length (default 1000), -r R rows at size (default 16000), -p path,
 * -o k|d kernels or drivers only, -w 0,2,4 only these drivers (their indices in dnames). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "../include/actgrad.h"
#include "../tests/isa_paths.h"
#include "timing.h"

typedef void (*run_fn)(void *ctx);

/* Median of 15 samples of the time of one call of fn, each sample >= min_s long. */
static double seconds(run_fn fn, void *ctx, double min_s)
{
    int reps = 1;
    for (;;) {
        double t = now();
        for (int r = 0; r < reps; r++) fn(ctx);
        if (now() - t > min_s) break;
        reps *= 2;
    }
    double s[15];
    for (int k = 0; k < 15; k++) {
        double t = now();
        for (int r = 0; r < reps; r++) fn(ctx);
        s[k] = (now() - t) / reps;
    }
    qsort(s, 15, sizeof *s, cmp_double);
    return s[7];
}

typedef struct {
    const ag_softmax_kernels *k;
    const ag_kernel_table *t;
    int what;
    ptrdiff_t n, rows;
    void *x, *y, *z;
    double st[3];
    int f32;
    int64_t *tgt;
} ctx_t;

enum { K_MAX_STATS, K_STATS_KEEP, K_APPLY_SCALE, K_APPLY_LOGSM, K_APPLY_SM, K_DOT, K_APPLY_BWD,
       K_COL_SM, K_COL_LSM, K_COL_BWD, K_CE_ROWS, K_BCE, K_NK };
static const char *const knames[K_NK] = {
    "stats (max+sumexp)", "stats keep (softmax)", "apply SCALE", "apply LOG_SOFTMAX",
    "apply SOFTMAX (exp)", "dot (bwd sweep 1)", "apply SOFTMAX_BWD", "col_forward SOFTMAX",
    "col_forward LOG_SM", "col_backward SM_BWD", "ce_rows (with grad)", "bce_logits (grad+loss)"
};

static void run_kernel(void *p)
{
    ctx_t *c = (ctx_t *)p;
    const ag_softmax_kernels *k = c->k;
    size_t es = c->f32 ? 4 : 8;
    for (ptrdiff_t r = 0; r < c->rows; r++) {
        char *x = (char *)c->x + r * c->n * es, *y = (char *)c->y + r * c->n * es, *z = (char *)c->z + r * c->n * es;
        switch (c->what) {
        case K_MAX_STATS: k->stats(AG_LOG_SOFTMAX, c->n, x, NULL, c->st); break;
        case K_STATS_KEEP: k->stats(AG_SOFTMAX, c->n, x, y, c->st); break;
        case K_APPLY_SCALE: k->apply(AG_SOFTMAX_SCALE, c->n, y, NULL, c->st, c->st[0], y); break;
        case K_APPLY_LOGSM: k->apply(AG_LOG_SOFTMAX, c->n, x, NULL, c->st, 0, y); break;
        case K_APPLY_SM: k->apply(AG_SOFTMAX, c->n, x, NULL, c->st, 0, y); break;
        case K_DOT: k->dot(c->n, x, z, c->st); break;
        case K_APPLY_BWD: k->apply(AG_SOFTMAX_BACKWARD, c->n, x, z, c->st, 0, y); break;
        default: break;
        }
    }
    switch (c->what) {
    case K_COL_SM: k->col_forward(AG_SOFTMAX, c->rows, c->n, c->x, c->n, c->y, c->n); break;
    case K_COL_LSM: k->col_forward(AG_LOG_SOFTMAX, c->rows, c->n, c->x, c->n, c->y, c->n); break;
    case K_COL_BWD: k->col_backward(AG_SOFTMAX_BACKWARD, c->rows, c->n, c->x, c->n, c->z, c->n, c->y, c->n); break;
    case K_CE_ROWS: {
        ptrdiff_t y[AG_CE_BLOCK];
        double scale[AG_CE_BLOCK], loss[AG_CE_BLOCK];
        for (ptrdiff_t i = 0; i < AG_CE_BLOCK; i++) { y[i] = (i * 37) % c->n; scale[i] = 1e-3; }
        if (c->f32) for (ptrdiff_t i = 0; i < AG_CE_BLOCK; i++) ((float *)scale)[i] = 1e-3f;
        for (ptrdiff_t r0 = 0; r0 < c->rows; r0 += AG_CE_BLOCK) {
            ptrdiff_t nb = c->rows - r0 < AG_CE_BLOCK ? c->rows - r0 : AG_CE_BLOCK;
            ag_ce_block b = { nb, c->n, (char *)c->x + r0 * c->n * es, NULL, (char *)c->y + r0 * c->n * es,
                              c->n, 1, NULL, 1.0, 0.0, (double)c->n, y, scale, loss };
            c->t->ce_rows[!c->f32](&b);
        }
        break;
    }
    case K_BCE: {
        _Alignas(64) double sum[8] = { 0 };
        ptrdiff_t total = c->rows * c->n;
        for (ptrdiff_t i = 0; i < total; i += 256) {
            ptrdiff_t m = total - i < 256 ? total - i : 256;
            ag_pointwise_run r = { m, (char *)c->x + i * es, (char *)c->z + i * es, NULL, NULL, NULL,
                                   0, 0, 0, 1e-3, NULL, sum, (char *)c->y + i * es };
            c->t->bce_logits[!c->f32](&r);
        }
        break;
    }
    default: break;
    }
}

/* ---- drivers at size ---- */
typedef struct {
    int what, f32;
    ptrdiff_t rows, n;
    void *x, *y, *z;
    int64_t *tgt;
} drv_t;

enum { D_COPY, D_COPY3, D_SM, D_LSM, D_BWD, D_SM_T, D_CE, D_BCE, D_NK };
static const char *const dnames[D_NK] = {
    "copy (1 read 1 write)", "copy 3-stream (2r+1w)", "softmax", "log_softmax", "softmax_backward",
    "softmax axis 0 of (n, rows)", "cross_entropy_with_grad", "bce_with_logits_with_grad"
};

static void run_driver(void *p)
{
    drv_t *d = (drv_t *)p;
    size_t es = d->f32 ? 4 : 8, bytes = (size_t)(d->rows * d->n) * es;
    int dt = d->f32 ? AG_FLOAT32 : AG_FLOAT64;
    ptrdiff_t row = d->n * (ptrdiff_t)es;
    ag_sm_array a = { d->x, row, (ptrdiff_t)es, 0, dt }, b = { d->z, row, (ptrdiff_t)es, 0, dt },
                o = { d->y, row, (ptrdiff_t)es, 0, dt };
    switch (d->what) {
    case D_COPY: memcpy(d->y, d->x, bytes); break;
    case D_COPY3: {
        /* y = x + z in blocks (two reads, one write) */
        for (size_t i = 0; i < bytes; i += 8) {
            uint64_t u, v;
            memcpy(&u, (char *)d->x + i, 8); memcpy(&v, (char *)d->z + i, 8);
            u ^= v; memcpy((char *)d->y + i, &u, 8);
        }
        break;
    }
    case D_SM: ag_softmax(AG_SOFTMAX, d->rows, d->n, 1, &a, NULL, &o); break;
    case D_LSM: ag_softmax(AG_LOG_SOFTMAX, d->rows, d->n, 1, &a, NULL, &o); break;
    case D_BWD: ag_softmax(AG_SOFTMAX_BACKWARD, d->rows, d->n, 1, &a, &b, &o); break;
    case D_SM_T: {   /* (n, rows) over axis 0: outer 1, n classes, rows columns */
        ag_sm_array at = { d->x, 0, (ptrdiff_t)(d->rows * es), (ptrdiff_t)es, dt };
        ag_sm_array ot = { d->y, 0, (ptrdiff_t)(d->rows * es), (ptrdiff_t)es, dt };
        ag_softmax(AG_SOFTMAX, 1, d->n, d->rows, &at, NULL, &ot);
        break;
    }
    case D_CE: {
        ag_ce_args c;
        memset(&c, 0, sizeof c);
        c.f32 = d->f32; c.outer = d->rows; c.C = d->n; c.inner = 1;
        c.x = d->x; c.xs[0] = d->n; c.xs[1] = 1; c.xs[2] = 1;
        c.target = d->tgt; c.ts[0] = 1; c.ts[1] = 1; c.ignore_index = -100;
        c.dx = d->y; c.gs[0] = 0; c.gs[1] = 0; c.reduction = AG_REDUCE_MEAN; c.grad = 1.0;
        double total; int64_t bad;
        ag_cross_entropy(&c, &total, &bad);
        break;
    }
    case D_BCE: {
        ag_pointwise_args c;
        memset(&c, 0, sizeof c);
        c.f32 = d->f32; c.n = d->rows * d->n; c.x = d->x; c.t = d->z; c.dx = d->y;
        c.reduction = AG_REDUCE_MEAN; c.grad = 1.0;
        double total;
        ag_bce_with_logits(&c, &total);
        break;
    }
    default: break;
    }
}

int main(int argc, char **argv)
{
    ptrdiff_t n = 1000, rows = 16000;
    const char *path = NULL, *only = NULL, *which = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "-n")) n = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "-r")) rows = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "-p")) path = argv[i + 1];
        else if (!strcmp(argv[i], "-o")) only = argv[i + 1];   /* "k" kernels only, "d" drivers only */
        else if (!strcmp(argv[i], "-w")) which = argv[i + 1];  /* drivers: e.g. "0,2,3" (indices) */
        else { fprintf(stderr, "usage: %s [-n N] [-r R] [-p path] [-o k|d]\n", argv[0]); return 2; }
    }
    if (path && ag_set_isa(path) != 0) { fprintf(stderr, "no path %s\n", path); return 2; }
    const ag_kernel_table *t = ag_kernels();
    printf("path %s, row n = %td\n", t->isa, n);
    /* in cache: 16 rows (64 KiB of float32 at n = 1000) */
    ptrdiff_t crow = 16;
    if (!only || only[0] == 'k') {
        printf("%-26s %10s %10s   (ns/element, in cache, %td rows of %td, one thread)\n", "kernel", "f32", "f64", crow, n);
        for (int w = 0; w < K_NK; w++) {
            printf("%-26s", knames[w]);
            for (int f32 = 1; f32 >= 0; f32--) {
                size_t es = f32 ? 4 : 8;
                void *x = aligned_alloc(64, crow * n * es + 64), *y = aligned_alloc(64, crow * n * es + 64),
                     *z = aligned_alloc(64, crow * n * es + 64);
                for (ptrdiff_t i = 0; i < crow * n; i++) {
                    double v = 4.0 * sin(0.7 * i) * cos(0.013 * i), u = 0.5 + 0.4 * sin(0.3 * i);
                    if (f32) { ((float *)x)[i] = (float)v; ((float *)z)[i] = (float)u; }
                    else { ((double *)x)[i] = v; ((double *)z)[i] = u; }
                }
                ctx_t c = { &t->softmax[!f32], t, w, n, crow, x, y, z, { 0 }, f32, NULL };
                t->softmax[!f32].stats(AG_SOFTMAX, n, x, y, c.st);
                double s = seconds(run_kernel, &c, 2e-3);
                printf(" %10.3f", s / (crow * n) * 1e9);
                free(x); free(y); free(z);
            }
            printf("\n");
            fflush(stdout);
        }
    }
    if (!only || only[0] == 'd') {
        printf("%-30s %9s %9s %9s %9s   (ns/element, %td x %td, memory; ratio = copy/this)\n",
               "driver", "f32 1thr", "f32 2thr", "f64 1thr", "f64 2thr", rows, n);
        int64_t *tgt = malloc(rows * sizeof *tgt);
        for (ptrdiff_t i = 0; i < rows; i++) tgt[i] = (i * 7919) % n;
        for (int w = 0; w < D_NK; w++) {
            if (which && !strchr(which, '0' + w)) continue;
            printf("%-30s", dnames[w]);
            for (int f32 = 1; f32 >= 0; f32--) {
                size_t es = f32 ? 4 : 8;
                void *x = aligned_alloc(64, rows * n * es), *y = aligned_alloc(64, rows * n * es),
                     *z = aligned_alloc(64, rows * n * es);
                for (ptrdiff_t i = 0; i < rows * n; i++) {
                    double v = 4.0 * sin(0.7 * i) * cos(0.013 * i), u = 0.5 + 0.4 * sin(0.3 * i);
                    if (f32) { ((float *)x)[i] = (float)v; ((float *)z)[i] = (float)u; ((float *)y)[i] = 0; }
                    else { ((double *)x)[i] = v; ((double *)z)[i] = u; ((double *)y)[i] = 0; }
                }
                if (w == D_BWD)   /* dy = x scaled, y = softmax(x) */
                    for (ptrdiff_t i = 0; i < rows * n; i++) {
                        if (f32) ((float *)z)[i] = 1e-3f * ((float *)z)[i];
                        else ((double *)z)[i] = 1e-3 * ((double *)z)[i];
                    }
                for (int th = 1; th <= 2; th++) {
                    ag_set_num_threads(th);
                    drv_t d = { w, f32, rows, n, x, y, z, tgt };
                    double s = seconds(run_driver, &d, 0.05);
                    printf(" %9.4f", s / (rows * n) * 1e9);
                }
                free(x); free(y); free(z);
            }
            printf("\n");
            fflush(stdout);
        }
        free(tgt);
    }
    return 0;
}
