/* Fuzz harness of the loss drivers' plain C API (include/ag_losses.h): ag_cross_entropy with
 * index or probability targets, ag_bce_with_logits and ag_mse, float and double, every
 * reduction, weights, pos_weight and upstream gradients as broadcast runs, label smoothing,
 * ignore_index and out-of-range targets, logits laid out in any axis order with gaps, the
 * gradient written in place over the logits, any thread count, every SIMD path.
 *
 * libFuzzer-compatible; built and run with gcc by `make -C csrc fuzz` through fuzz/driver.c
 * (corpus fuzz/corpus_losses).  clang + libFuzzer: as fuzz_elementwise.c, with
 * csrc/losses.c and csrc/losses_pointwise.c instead of csrc/elementwise.c.
 *
 * Input layout (missing bytes read as 0):
 *   [0] kind: cross-entropy with index targets, with probabilities, BCE with logits, MSE
 *   [1] flags: 1 float32  2 weight  4 pos_weight (BCE) / label smoothing (CE)  8 per-sample
 *       upstream gradients (reduction none)  16 no gradient  32 gradient in place over x
 *       64 large (several thread ranges)  128 raise FE_INEXACT before the call
 *   [2] reduction  [3] outer (0..6)  [4..5] C (0..300; pointwise: n = 0..5000)  [6] inner (0..6)
 *   [7] thread count (1..4)  [8] targets: ignore_index and out-of-range values
 *   [9] layout of x (CE): axis order (6), a gap of 1 on the fastest axis
 *   [10..11] broadcast pattern of weight / pos_weight / grads (rep, period)
 *   [12] label smoothing, [13] upstream grad
 *   [16..] data: raw element bytes of x, then of the probability/target values, cycled.
 *
 * Checks, besides ASan/UBSan reports:
 *   - every SIMD path, thread count and in-place gradient give bitwise the scalar path's
 *     single-threaded result at the same layout (NaN == NaN): loss total, per-sample losses,
 *     gradient; nothing outside the gradient's and losses' elements is written; the inputs
 *     are not modified; the caller's floating-point flags are unchanged;
 *   - a target outside [0, C) that is not ignore_index returns AG_LOSS_BAD_TARGET naming the
 *     first one in sample order, and writes nothing;
 *   - on moderate finite inputs, the losses and gradients agree with a long double reference
 *     of PyTorch's formulas (relative 1e-4 float, 1e-10 double, of the terms' size). */
#include <fenv.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../include/actgrad.h"
#include "../include/ag_losses.h"

#include "fuzzutil.h"

enum { CE_INDEX, CE_PROBS, BCE, MSE };

typedef struct {
    int kind, f32, weight, extra, per_sample, no_grad, in_place, fpflag, reduction, nthreads, layout;
    ptrdiff_t outer, C, inner, n;       /* CE: outer, C, inner; pointwise: n */
    ptrdiff_t rep, period;              /* broadcast runs of weight/pos_weight/grads (pointwise) */
    double smoothing, grad;
    int64_t ignore_index;
    double *x, *q, *w, *pw, *g;         /* logical values (C order), converted per dtype */
    int64_t *t;
} lcase;

static void lfail(const lcase *c, const char *what, ptrdiff_t i)
{
    fprintf(stderr, "\nFUZZ INVARIANT FAILED: %s\n  kind=%d f32=%d outer=%td C=%td inner=%td n=%td at %td isa=%s "
            "reduction=%d weight=%d extra=%d per_sample=%d in_place=%d layout=%d threads=%d rep=%td period=%td\n",
            what, c->kind, c->f32, c->outer, c->C, c->inner, c->n, i, ag_isa_name(), c->reduction, c->weight,
            c->extra, c->per_sample, c->in_place, c->layout, c->nthreads, c->rep, c->period);
    abort();
}

static uint8_t hb(const uint8_t *d, size_t size, size_t i) { return i < size ? d[i] : 0; }

static size_t esz(const lcase *c) { return c->f32 ? sizeof(float) : sizeof(double); }

static void put_v(const lcase *c, void *p, ptrdiff_t i, double v)
{
    if (c->f32) ((float *)p)[i] = (float)v;
    else ((double *)p)[i] = v;
}

static double get_v(const lcase *c, const void *p, ptrdiff_t i)
{
    return c->f32 ? ((const float *)p)[i] : ((const double *)p)[i];
}

/* Element i of a and b: the same bits or both NaN (else both are printed). */
static int same_v(const lcase *c, const void *a, const void *b, ptrdiff_t i)
{
    const int dt = c->f32 ? AG_FLOAT32 : AG_FLOAT64;
    const unsigned char *pa = (const unsigned char *)a + (size_t)i * esz(c), *pb = (const unsigned char *)b + (size_t)i * esz(c);
    if (same_out(dt, pa, pb)) return 1;
    fprintf(stderr, "  got %a, expected %a\n", load_elem(dt, pa), load_elem(dt, pb));
    return 0;
}

/* An array of `count` elements with `pad` canary elements on each side. */
#define PAD 8
static const unsigned char CANARY = 0xA5;

static void *canary_alloc(const lcase *c, ptrdiff_t count)
{
    unsigned char *m = malloc((size_t)(count + 2 * PAD) * esz(c) + 1);
    memset(m, CANARY, (size_t)(count + 2 * PAD) * esz(c));
    return m + PAD * esz(c);
}

static void canary_free(const lcase *c, void *p) { if (p) free((unsigned char *)p - PAD * esz(c)); }

static void check_pads(const lcase *c, const void *p, ptrdiff_t count, const char *what)
{
    const unsigned char *m = (const unsigned char *)p - PAD * esz(c);
    for (size_t b = 0; b < PAD * esz(c); b++)
        if (m[b] != CANARY || m[(size_t)(count + PAD) * esz(c) + b] != CANARY) lfail(c, what, -1);
}

/* A copy of an input's `count` elements, to check after the call that it is unchanged. */
static void *snapshot(const lcase *c, const void *p, ptrdiff_t count)
{
    void *m = malloc((size_t)count * esz(c) + 1);
    if (count) memcpy(m, p, (size_t)count * esz(c));
    return m;
}

static void unchanged(const lcase *c, const void *p, void *snap, ptrdiff_t count, const char *what)
{
    if (p && count && memcmp(p, snap, (size_t)count * esz(c)) != 0) lfail(c, what, -1);
    free(snap);
}

/* ---- cross-entropy ---- */

typedef struct { void *x, *q, *dx, *loss; double total; int rc; int64_t bad; ptrdiff_t xcount; } ce_result;

/* Element (o, k, i) of the logits in the layout of c->layout: its offset in elements. */
static void ce_strides(const lcase *c, ptrdiff_t xs[3], ptrdiff_t *count)
{
    static const int perms[6][3] = { { 0, 1, 2 }, { 0, 2, 1 }, { 1, 0, 2 }, { 1, 2, 0 }, { 2, 0, 1 }, { 2, 1, 0 } };
    const int *perm = perms[c->layout % 6];   /* perm[0] slowest ... perm[2] fastest */
    const ptrdiff_t dims[3] = { c->outer, c->C, c->inner };
    ptrdiff_t s = 1 + ((c->layout >> 3) & 1);  /* a gap on the fastest axis */
    for (int a = 2; a >= 0; a--) {
        xs[perm[a]] = s;
        s *= dims[perm[a]] > 0 ? dims[perm[a]] : 1;
    }
    *count = s;
}

static ce_result run_ce(const lcase *c, int nthreads)
{
    ce_result r;
    memset(&r, 0, sizeof r);
    ag_ce_args a;
    memset(&a, 0, sizeof a);
    ptrdiff_t xs[3];
    ce_strides(c, xs, &r.xcount);
    const ptrdiff_t S = c->outer * c->inner;
    r.x = canary_alloc(c, r.xcount);
    for (ptrdiff_t o = 0; o < c->outer; o++)
        for (ptrdiff_t k = 0; k < c->C; k++)
            for (ptrdiff_t i = 0; i < c->inner; i++)
                put_v(c, r.x, o * xs[0] + k * xs[1] + i * xs[2], c->x[(o * c->C + k) * c->inner + i]);
    if (c->kind == CE_PROBS) {
        r.q = canary_alloc(c, r.xcount);
        for (ptrdiff_t o = 0; o < c->outer; o++)
            for (ptrdiff_t k = 0; k < c->C; k++)
                for (ptrdiff_t i = 0; i < c->inner; i++)
                    put_v(c, r.q, o * xs[0] + k * xs[1] + i * xs[2], c->q[(o * c->C + k) * c->inner + i]);
    }
    void *w = NULL, *g = NULL;
    if (c->weight) {
        w = canary_alloc(c, c->C);
        for (ptrdiff_t k = 0; k < c->C; k++) put_v(c, w, k, c->w[k]);
    }
    if (c->per_sample) {
        g = canary_alloc(c, S);
        for (ptrdiff_t s = 0; s < S; s++) put_v(c, g, s, c->g[s]);
    }
    if (!c->no_grad) r.dx = c->in_place ? r.x : canary_alloc(c, r.xcount);
    if (c->reduction == AG_REDUCE_NONE) r.loss = canary_alloc(c, S);
    a.f32 = c->f32;
    a.outer = c->outer; a.C = c->C; a.inner = c->inner;
    a.x = r.x;
    memcpy(a.xs, xs, sizeof xs);
    a.target = c->kind == CE_INDEX ? c->t : NULL;
    a.ts[0] = c->inner; a.ts[1] = 1;
    a.ignore_index = c->ignore_index;
    a.probs = r.q;
    a.weight = w;
    a.label_smoothing = c->smoothing;
    a.reduction = c->reduction;
    a.grad = c->grad;
    a.grads = g;
    a.gs[0] = c->inner; a.gs[1] = 1;
    a.loss = r.loss;
    a.ls[0] = c->inner; a.ls[1] = 1;
    a.dx = r.dx;
    ag_set_num_threads(nthreads);
    fexcept_t before, after;
    feclearexcept(FE_ALL_EXCEPT);
    if (c->fpflag) feraiseexcept(FE_INEXACT);
    fegetexceptflag(&before, FE_ALL_EXCEPT);
    void *sx = snapshot(c, r.x, r.xcount), *sq = r.q ? snapshot(c, r.q, r.xcount) : NULL;
    void *sw = w ? snapshot(c, w, c->C) : NULL, *sg = g ? snapshot(c, g, S) : NULL;
    int64_t bad = 0;
    r.rc = ag_cross_entropy(&a, c->reduction != AG_REDUCE_NONE ? &r.total : NULL, &bad);
    if (c->in_place) free(sx);
    else unchanged(c, r.x, sx, r.xcount, "logits modified");
    if (sq) unchanged(c, r.q, sq, r.xcount, "probabilities modified");
    if (sw) unchanged(c, w, sw, c->C, "weight modified");
    if (sg) unchanged(c, g, sg, S, "upstream gradients modified");
    fegetexceptflag(&after, FE_ALL_EXCEPT);
    if (memcmp(&before, &after, sizeof before) != 0) lfail(c, "floating-point flags changed", -1);
    r.bad = bad;
    check_pads(c, r.x, r.xcount, "written outside the logits/gradient");
    if (r.dx && r.dx != r.x) check_pads(c, r.dx, r.xcount, "written outside the gradient");
    if (r.loss) check_pads(c, r.loss, S, "written outside the losses");
    canary_free(c, w);
    canary_free(c, g);
    return r;
}

static void free_ce(const lcase *c, ce_result *r)
{
    if (r->dx != r->x) canary_free(c, r->dx);
    canary_free(c, r->x);
    canary_free(c, r->q);
    canary_free(c, r->loss);
}

/* The first index target outside [0, C) that is not ignore_index, in sample order. */
static int first_bad(const lcase *c, int64_t *bad)
{
    for (ptrdiff_t s = 0; c->kind == CE_INDEX && s < c->outer * c->inner; s++)
        if (c->t[s] != c->ignore_index && (c->t[s] < 0 || c->t[s] >= c->C)) { *bad = c->t[s]; return 1; }
    return 0;
}

/* PyTorch's formulas in long double on the logical arrays: per-sample loss and gradient. */
static void ce_reference(const lcase *c, long double *loss, long double *dx, long double *total, long double *gsize)
{
    long double termmax = 0;   /* the largest |A e^z / s| or |w q'| term of a gradient, unscaled */
    const ptrdiff_t C = c->C, S = c->outer * c->inner;
    long double den = 0, sum = 0;
    for (ptrdiff_t s = 0; s < S; s++) {
        const ptrdiff_t o = s / (c->inner ? c->inner : 1), i = s % (c->inner ? c->inner : 1);
        const double *x = c->x + o * C * c->inner + i;   /* class k at x[k * inner] */
        long double m = -INFINITY, e = 0;
        for (ptrdiff_t k = 0; k < C; k++) m = fmaxl(m, c->f32 ? (float)x[k * c->inner] : x[k * c->inner]);
        for (ptrdiff_t k = 0; k < C; k++) e += expl((c->f32 ? (float)x[k * c->inner] : x[k * c->inner]) - m);
        const long double lse = m + logl(e);
        const int ignored = c->kind == CE_INDEX && c->t[s] == c->ignore_index;
        long double A = 0, L = 0, ws = 0;
        for (ptrdiff_t k = 0; k < C && !ignored; k++) {
            long double q = c->kind == CE_INDEX ? (c->t[s] == k) : (c->f32 ? (float)c->q[(o * C + k) * c->inner + i]
                                                                           : c->q[(o * C + k) * c->inner + i]);
            long double w = c->weight ? (c->f32 ? (float)c->w[k] : c->w[k]) : 1;
            long double qq = (1 - c->smoothing) * q + c->smoothing / C;
            long double xk = c->f32 ? (float)x[k * c->inner] : x[k * c->inner];
            A += w * qq;
            L += w * qq * (lse - xk);
            termmax = fmaxl(termmax, fabsl(w * qq));
        }
        if (c->kind == CE_INDEX && !ignored) ws = c->weight ? (c->f32 ? (float)c->w[c->t[s]] : c->w[c->t[s]]) : 1;
        else if (c->kind == CE_PROBS) ws = 1;
        den += ws;
        termmax = fmaxl(termmax, fabsl(A));
        loss[s] = ignored ? 0 : L;
        sum += loss[s];
        for (ptrdiff_t k = 0; k < C; k++) {
            long double q = c->kind == CE_INDEX ? (c->t[s] == k) : (c->f32 ? (float)c->q[(o * C + k) * c->inner + i]
                                                                           : c->q[(o * C + k) * c->inner + i]);
            long double w = c->weight ? (c->f32 ? (float)c->w[k] : c->w[k]) : 1;
            long double qq = (1 - c->smoothing) * q + c->smoothing / C;
            long double xk = c->f32 ? (float)x[k * c->inner] : x[k * c->inner];
            dx[(o * C + k) * c->inner + i] = ignored ? 0 : A * expl(xk - lse) - w * qq;
        }
    }
    long double scale = c->f32 ? (float)c->grad : c->grad;
    if (c->reduction == AG_REDUCE_MEAN) scale /= den;
    for (ptrdiff_t s = 0; s < S; s++) {
        long double k = c->per_sample ? (long double)(c->f32 ? (float)c->g[s] : c->g[s]) : 1;
        for (ptrdiff_t cc = 0; cc < C; cc++) {
            const ptrdiff_t o = s / c->inner, i = s % c->inner;
            dx[(o * C + cc) * c->inner + i] *= (c->reduction == AG_REDUCE_NONE ? k : 1) * scale;
        }
    }
    long double gmax = c->reduction == AG_REDUCE_NONE && c->per_sample ? 0 : 1;
    for (ptrdiff_t s = 0; c->reduction == AG_REDUCE_NONE && c->per_sample && s < S; s++)
        gmax = fmaxl(gmax, fabsl((long double)(c->f32 ? (float)c->g[s] : c->g[s])));
    *gsize = termmax * gmax * fabsl(scale);
    *total = c->reduction == AG_REDUCE_MEAN ? sum / den : sum;
}

static int close_to(const lcase *c, double got, long double want, long double size)
{
    const long double tol = c->f32 ? 1e-4L : 1e-10L;
    return fabsl((long double)got - want) <= tol * (fabsl(want) + size) + (c->f32 ? 1e-30L : 1e-300L);
}

static void ce_case(lcase *c, const char *const *isas)
{
    ag_set_isa("scalar");
    ce_result ref = run_ce(c, 1);
    int64_t bad = 0;
    const int expect_bad = first_bad(c, &bad);
    const ptrdiff_t S = c->outer * c->inner;
    ptrdiff_t xs[3], count;
    ce_strides(c, xs, &count);
    if (expect_bad) {
        if (ref.rc != AG_LOSS_BAD_TARGET || ref.bad != bad) lfail(c, "bad target not reported (or not the first)", -1);
        for (ptrdiff_t e = 0; ref.dx && ref.dx != ref.x && e < count; e++)
            if (((unsigned char *)ref.dx)[e * (ptrdiff_t)esz(c)] != CANARY) lfail(c, "gradient written on a bad target", e);
    } else if (ref.rc != AG_LOSS_OK) {
        lfail(c, "status not OK", ref.rc);
    }
    /* the reference formulas, on moderate finite inputs with positive weights */
    int moderate = !expect_bad && c->C > 0 && S > 0;
    for (ptrdiff_t e = 0; moderate && e < S * c->C; e++)
        moderate = fabs(c->x[e]) < 30 && (c->kind != CE_PROBS || (c->q[e] >= 0 && c->q[e] <= 1));
    for (ptrdiff_t k = 0; moderate && c->weight && k < c->C; k++) moderate = c->w[k] > 0.01 && c->w[k] < 100;
    for (ptrdiff_t s = 0; moderate && c->per_sample && s < S; s++) moderate = fabs(c->g[s]) < 100;
    if (moderate) {
        long double *rl = malloc(sizeof(long double) * (size_t)S), *rd = malloc(sizeof(long double) * (size_t)(S * c->C));
        long double total, gmax;
        ce_reference(c, rl, rd, &total, &gmax);
        long double den_ok = 1;
        if (c->reduction == AG_REDUCE_MEAN && c->kind == CE_INDEX) {   /* all ignored: NaN, checked below */
            den_ok = 0;
            for (ptrdiff_t s = 0; s < S; s++) den_ok += c->t[s] != c->ignore_index;
        }
        long double lsize = 0;
        for (ptrdiff_t s = 0; s < S; s++) lsize += fabsl(rl[s]);
        if (c->reduction != AG_REDUCE_NONE && den_ok > 0 && !close_to(c, ref.total, total, lsize + 1))
            lfail(c, "loss total differs from the long double reference", -1);
        for (ptrdiff_t s = 0; ref.loss && s < S; s++)
            if (!close_to(c, get_v(c, ref.loss, s), rl[s], 1)) lfail(c, "loss differs from the reference", s);
        for (ptrdiff_t o = 0; ref.dx && den_ok > 0 && o < c->outer; o++)
            for (ptrdiff_t k = 0; k < c->C; k++)
                for (ptrdiff_t i = 0; i < c->inner; i++) {
                    long double want = rd[(o * c->C + k) * c->inner + i];
                    double got = get_v(c, ref.dx, o * xs[0] + k * xs[1] + i * xs[2]);
                    if (!close_to(c, got, want, gmax) && fprintf(stderr, "  got %a, expected %La\n", got, want))
                        lfail(c, "gradient differs from the reference", (o * c->C + k) * c->inner + i);
                }
        free(rl);
        free(rd);
    }
    for (int s = 0; s < 3; s++) {
        if (!ag_isa_supported(isas[s])) continue;
        ag_set_isa(isas[s]);
        ce_result r = run_ce(c, c->nthreads);
        if (r.rc != ref.rc || r.bad != ref.bad) lfail(c, "status differs from the scalar path", r.rc);
        if (!expect_bad) {
            if (c->reduction != AG_REDUCE_NONE && !(r.total == ref.total || (isnan(r.total) && isnan(ref.total))))
                lfail(c, "loss total differs from the scalar path", -1);
            for (ptrdiff_t e = 0; r.loss && e < S; e++)
                if (!same_v(c, r.loss, ref.loss, e)) lfail(c, "loss differs from the scalar path", e);
            for (ptrdiff_t e = 0; r.dx && e < count; e++)
                if (!same_v(c, r.dx, ref.dx, e)) lfail(c, "gradient differs from the scalar path", e);
        }
        free_ce(c, &r);
    }
    free_ce(c, &ref);
}

/* ---- BCE with logits and MSE ---- */

typedef struct { void *x, *dx, *loss; double total; int rc; } pt_result;

static pt_result run_pt(const lcase *c, int nthreads)
{
    pt_result r;
    memset(&r, 0, sizeof r);
    const ptrdiff_t n = c->n;
    void *x = canary_alloc(c, n), *t = canary_alloc(c, n), *w = NULL, *pw = NULL, *g = NULL;
    for (ptrdiff_t k = 0; k < n; k++) { put_v(c, x, k, c->x[k]); put_v(c, t, k, c->q[k]); }
    if (c->weight) { w = canary_alloc(c, c->period); for (ptrdiff_t k = 0; k < c->period; k++) put_v(c, w, k, c->w[k]); }
    if (c->extra) { pw = canary_alloc(c, c->period); for (ptrdiff_t k = 0; k < c->period; k++) put_v(c, pw, k, c->w[c->period + k]); }
    if (c->per_sample) { g = canary_alloc(c, c->period); for (ptrdiff_t k = 0; k < c->period; k++) put_v(c, g, k, c->g[k]); }
    r.x = x;
    if (!c->no_grad) r.dx = c->in_place ? x : canary_alloc(c, n);
    if (c->reduction == AG_REDUCE_NONE) r.loss = canary_alloc(c, n);
    ag_pointwise_args a;
    memset(&a, 0, sizeof a);
    a.f32 = c->f32;
    a.n = n;
    a.x = x;
    a.t = t;
    a.weight = (ag_bcast){ w, c->rep, c->period };
    a.pos_weight = (ag_bcast){ pw, c->rep, c->period };
    a.reduction = c->reduction;
    a.grad = c->grad;
    a.grads = (ag_bcast){ g, c->rep, c->period };
    a.loss = r.loss;
    a.dx = r.dx;
    ag_set_num_threads(nthreads);
    fexcept_t before, after;
    feclearexcept(FE_ALL_EXCEPT);
    if (c->fpflag) feraiseexcept(FE_INEXACT);
    fegetexceptflag(&before, FE_ALL_EXCEPT);
    double *tot = c->reduction != AG_REDUCE_NONE ? &r.total : NULL;
    void *sx = snapshot(c, x, n), *st = snapshot(c, t, n);
    void *sw = w ? snapshot(c, w, c->period) : NULL, *sp = pw ? snapshot(c, pw, c->period) : NULL;
    void *sg = g ? snapshot(c, g, c->period) : NULL;
    r.rc = c->kind == BCE ? ag_bce_with_logits(&a, tot) : ag_mse(&a, tot);
    if (c->in_place) free(sx);
    else unchanged(c, x, sx, n, "logits modified");
    unchanged(c, t, st, n, "targets modified");
    if (sw) unchanged(c, w, sw, c->period, "weight modified");
    if (sp) unchanged(c, pw, sp, c->period, "pos_weight modified");
    if (sg) unchanged(c, g, sg, c->period, "upstream gradients modified");
    fegetexceptflag(&after, FE_ALL_EXCEPT);
    if (memcmp(&before, &after, sizeof before) != 0) lfail(c, "floating-point flags changed", -1);
    check_pads(c, x, n, "written outside the logits/gradient");
    check_pads(c, t, n, "written outside the targets");
    if (r.dx && r.dx != x) check_pads(c, r.dx, n, "written outside the gradient");
    if (r.loss) check_pads(c, r.loss, n, "written outside the losses");
    canary_free(c, t);
    canary_free(c, w);
    canary_free(c, pw);
    canary_free(c, g);
    return r;
}

static void free_pt(const lcase *c, pt_result *r)
{
    if (r->dx != r->x) canary_free(c, r->dx);
    canary_free(c, r->x);
    canary_free(c, r->loss);
}

static void pt_case(lcase *c, const char *const *isas)
{
    ag_set_isa("scalar");
    pt_result ref = run_pt(c, 1);
    if (ref.rc != AG_LOSS_OK) lfail(c, "status not OK", ref.rc);
    const ptrdiff_t n = c->n;
    /* the reference formulas on moderate finite inputs */
    int moderate = n > 0 && fabs(c->grad) < 100;
    for (ptrdiff_t k = 0; moderate && k < n; k++) moderate = fabs(c->x[k]) < 30 && fabs(c->q[k]) < 30;
    for (ptrdiff_t k = 0; moderate && k < 2 * c->period; k++) moderate = fabs(c->w[k]) < 100 && fabs(c->g[k % c->period]) < 100;
    if (moderate) {
        long double sum = 0, tsize = 0;
        for (ptrdiff_t k = 0; k < n; k++) {
            const ptrdiff_t b = (k / c->rep) % c->period;
            long double x = c->f32 ? (float)c->x[k] : c->x[k], t = c->f32 ? (float)c->q[k] : c->q[k];
            long double w = c->weight ? (c->f32 ? (float)c->w[b] : c->w[b]) : 1;
            long double pw = c->extra ? (c->f32 ? (float)c->w[c->period + b] : c->w[c->period + b]) : 1;
            long double gk = c->per_sample && c->reduction == AG_REDUCE_NONE ? (c->f32 ? (float)c->g[b] : c->g[b]) : 1;
            long double L, d, dsize, size, sp = fmaxl(-x, 0) + log1pl(expl(-fabsl(x)));
            if (c->kind == BCE) {
                long double lw = 1 + (pw - 1) * t, sig = 1 / (1 + expl(-x));
                L = w * ((1 - t) * x + lw * sp);
                d = w * (lw * sig - pw * t);
                size = fabsl(w) * (fabsl((1 - t) * x) + fabsl(lw * sp) + fabsl((pw - 1) * t * sp));
                dsize = fabsl(w) * (fabsl(lw * sig) + fabsl(pw * t) + fabsl((pw - 1) * t * sig));
            } else {
                L = (x - t) * (x - t);
                d = 2 * (x - t);
                size = L;
                dsize = 2 * (fabsl(x) + fabsl(t));
            }
            const long double sc = gk * (c->f32 ? (float)c->grad : c->grad) / (c->reduction == AG_REDUCE_MEAN ? n : 1);
            if (ref.loss && !close_to(c, get_v(c, ref.loss, k), L, size)) lfail(c, "loss differs from the reference", k);
            if (ref.dx && !close_to(c, get_v(c, ref.dx, k), d * sc, dsize * fabsl(sc)))
                lfail(c, "gradient differs from the reference", k);
            sum += L;
            tsize += size;
        }
        if (c->reduction != AG_REDUCE_NONE) {
            const long double want = c->reduction == AG_REDUCE_MEAN ? sum / n : sum;
            if (!close_to(c, ref.total, want, c->reduction == AG_REDUCE_MEAN ? tsize / n : tsize))
                lfail(c, "loss total differs from the reference", -1);
        }
    }
    for (int s = 0; s < 3; s++) {
        if (!ag_isa_supported(isas[s])) continue;
        ag_set_isa(isas[s]);
        pt_result r = run_pt(c, c->nthreads);
        if (r.rc != AG_LOSS_OK) lfail(c, "status not OK", r.rc);
        if (c->reduction != AG_REDUCE_NONE && !(r.total == ref.total || (isnan(r.total) && isnan(ref.total))))
            lfail(c, "loss total differs from the scalar path", -1);
        for (ptrdiff_t k = 0; r.loss && k < n; k++)
            if (!same_v(c, r.loss, ref.loss, k)) lfail(c, "loss differs from the scalar path", k);
        for (ptrdiff_t k = 0; r.dx && k < n; k++)
            if (!same_v(c, r.dx, ref.dx, k)) lfail(c, "gradient differs from the scalar path", k);
        free_pt(c, &r);
    }
    free_pt(c, &ref);
}

/* ---- decoding ---- */

static const double special_vals[] = { 0.0, -0.0, 1.0, -1.0, 0.5, 2.0, 1e-8, 30.0, -30.0, 1e4, -1e4,
                                       INFINITY, -INFINITY, NAN, 88.7, -103.9, 709.0, -745.0 };

/* Value k of the data stream: raw bytes as a double or float, or a special value. */
static double value(const uint8_t *data, size_t size, size_t *pos, int f32)
{
    const size_t dlen = size > 16 ? size - 16 : 0;
    if (!dlen) return 0.0;
    uint8_t sel = data[16 + (*pos)++ % dlen];
    if (sel < 96) return special_vals[sel % (sizeof special_vals / sizeof special_vals[0])];
    if (sel < 192) return ((double)(int8_t)data[16 + (*pos)++ % dlen]) / 16.0;   /* moderate */
    unsigned char b[8];
    for (int i = 0; i < 8; i++) b[i] = data[16 + (*pos)++ % dlen];
    if (f32) { float f; memcpy(&f, b, 4); return f; }
    double d;
    memcpy(&d, b, 8);
    return d;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const isas[] = { "scalar", "avx2", "avx512" };
    lcase c;
    memset(&c, 0, sizeof c);
    c.kind = hb(data, size, 0) % 4;
    uint8_t flags = hb(data, size, 1);
    c.f32 = flags & 1;
    c.weight = (flags & 2) != 0;
    c.extra = (flags & 4) != 0 && c.kind != MSE;
    c.reduction = hb(data, size, 2) % 3;
    c.per_sample = (flags & 8) && c.reduction == AG_REDUCE_NONE;
    c.no_grad = (flags & 16) != 0;
    c.in_place = (flags & 32) && !c.no_grad;
    c.fpflag = (flags & 128) != 0;
    c.nthreads = 1 + hb(data, size, 7) % 4;
    c.layout = hb(data, size, 9);
    c.grad = (double)(int8_t)hb(data, size, 13) / 8.0;
    if (c.kind == MSE) c.weight = 0;
    const int big = (flags & 64) != 0;
    if (c.kind <= CE_PROBS) {
        c.outer = hb(data, size, 3) % 7;
        c.C = (hb(data, size, 4) | hb(data, size, 5) << 8) % 301;
        c.inner = hb(data, size, 6) % 7;
        if (big) { c.outer = 1 + c.outer * 300; c.C = 1 + c.C % 40; }
        c.smoothing = c.extra ? (hb(data, size, 12) % 5) / 4.0 : 0.0;
    } else {
        c.n = (hb(data, size, 4) | hb(data, size, 5) << 8) % 5001;
        if (big) c.n = 60000 + c.n * 20;
        c.rep = 1 + hb(data, size, 10) % 40;
        c.period = 1 + hb(data, size, 11) % 9;
        if (hb(data, size, 10) & 0x80) { c.rep = 1; c.period = c.n > 0 ? c.n : 1; }   /* a full array */
    }
    const ptrdiff_t S = c.outer * c.inner, X = c.kind <= CE_PROBS ? S * c.C : c.n;
    const ptrdiff_t P = c.kind <= CE_PROBS ? c.C : 2 * c.period;
    size_t pos = 0;
    c.x = malloc(sizeof(double) * (size_t)(X + 1));
    c.q = malloc(sizeof(double) * (size_t)(X + 1));
    c.w = malloc(sizeof(double) * (size_t)(P + 1));
    c.g = malloc(sizeof(double) * (size_t)((S > c.period ? S : c.period) + 1));
    c.t = malloc(sizeof(int64_t) * (size_t)(S + 1));
    for (ptrdiff_t e = 0; e < X; e++) c.x[e] = value(data, size, &pos, c.f32);
    for (ptrdiff_t e = 0; e < X; e++) {
        double v = value(data, size, &pos, c.f32);
        c.q[e] = c.kind == CE_PROBS && (hb(data, size, 8) & 1) ? fabs(v) / (1 + fabs(v)) : v;  /* often in [0, 1] */
    }
    for (ptrdiff_t k = 0; k < P; k++) {
        double v = value(data, size, &pos, c.f32);
        c.w[k] = hb(data, size, 8) & 2 ? v : 0.5 + fabs(v) / (1 + fabs(v));   /* often positive */
    }
    for (ptrdiff_t s = 0; s < (S > c.period ? S : c.period); s++) c.g[s] = value(data, size, &pos, 0);
    /* targets: valid classes, ignore_index, and (rarely) out-of-range values */
    static const int64_t ignores[] = { -100, 0, -1, 3, INT64_MIN };
    c.ignore_index = ignores[(hb(data, size, 8) >> 2) % 5];
    const size_t dlen = size > 16 ? size - 16 : 0;
    for (ptrdiff_t s = 0; s < S; s++) {
        uint8_t b = dlen ? data[16 + (pos++ + (size_t)s) % dlen] : 0;
        c.t[s] = c.C > 0 ? (int64_t)(b % c.C) : c.ignore_index;
        if (b % 11 == 0) c.t[s] = c.ignore_index;
        if ((hb(data, size, 8) & 0x80) && b % 53 == 1) c.t[s] = (b & 1) ? -2 - (int64_t)b : c.C + b;
    }
    if (c.kind <= CE_PROBS) ce_case(&c, isas);
    else pt_case(&c, isas);
    free(c.x);
    free(c.q);
    free(c.w);
    free(c.g);
    free(c.t);
    return 0;
}
