/* The loss drivers (csrc/losses.c) on every SIMD path this CPU has, without Python:
 * - cross-entropy against a long double reference, for index and probability targets,
 *   weights, label smoothing, ignore_index, every reduction, and logits laid out as
 *   C-order, F-order, classes contiguous with inner > 1, padded, and reversed arrays
 *   (the ROWS, COLS and PACK paths), float and double, in place too;
 * - a bad index target is reported (the first in sample order) before anything is written;
 * - all targets ignored: mean NaN, gradient 0;
 * - bitwise identical losses and gradients for 1 and 2 threads;
 * - BCE with logits and MSE against the reference, with broadcast weight/pos_weight/grad
 *   runs, finite for logits of +-1e4;
 * - the caller's floating-point exception flags are left as they were;
 * - every SIMD path gives the scalar path's bits (cross-entropy rows and columns, float32
 *   sums, which are within 1 ULP of their terms); unused classes' weights are not read.
 * Build: make -C csrc test. */
#include <fenv.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "../include/actgrad.h"
#include "testutil.h"
#include "isa_paths.h"

/* The math of both dtypes on the scalar shim, for the accuracy test of ag_exp_le0. */
#include "../simd/scalar.h"
#include "../simd/generic.h"
#include "../isa/dtype_passes.h"

/* Error of y in ULPs of the exact r (subnormal ULP below the normal range). */
static double ulp_err(double y, long double r, int f32)
{
    int e;
    frexpl(r, &e);
    const int emin = f32 ? -125 : -1021, mant = f32 ? 24 : 53;
    return (double)(fabsl((long double)y - r) / ldexpl(1.0L, (e < emin ? emin : e) - mant));
}

static void test_exp_le0(void)
{
    double worst[2] = { 0, 0 };
    int special = 1;
    for (int i = 0; i < 400000; i++) {
        double z = i < 200000 ? -urand() * 110 : -urand() * 760;  /* f32 range, then f64 range */
        float zf = (float)z;
        if (i < 200000) worst[0] = fmax(worst[0], ulp_err(ag_exp_le0_f32(zf), expl((long double)zf), 1));
        worst[1] = fmax(worst[1], ulp_err(ag_exp_le0_f64(z), expl((long double)z), 0));
    }
    special &= ag_exp_le0_f32(0.0f) == 1.0f && ag_exp_le0_f64(-0.0) == 1.0;
    special &= ag_exp_le0_f32(-INFINITY) == 0.0f && ag_exp_le0_f64(-INFINITY) == 0.0;
    special &= isnan(ag_exp_le0_f32(NAN)) && isnan(ag_exp_le0_f64(NAN));
    printf("ag_exp_le0: max error %.3f ULP (f32), %.3f ULP (f64)\n", worst[0], worst[1]);
    check(worst[0] <= 1.0 && worst[1] <= 1.0, "ag_exp_le0 within 1 ULP over [-110, 0] / [-760, 0]");
    check(special, "ag_exp_le0(+-0) = 1, (-inf) = 0, NaN -> NaN");
}

static double getv(const void *p, ptrdiff_t i, int f32) { return f32 ? ((const float *)p)[i] : ((const double *)p)[i]; }
static void setv(void *p, ptrdiff_t i, int f32, double v)
{
    if (f32) ((float *)p)[i] = (float)v;
    else ((double *)p)[i] = v;
}

/* ---- cross-entropy ---- */

typedef struct {
    ptrdiff_t O, C, I;
    int f32, probs, weighted, red, layout;
    double eps, grad;
} ce_case;

/* Element strides of a layout of (O, C, I) and the offset of element (0, 0, 0). */
static ptrdiff_t layout(const ce_case *k, ptrdiff_t s[3], ptrdiff_t *size)
{
    ptrdiff_t O = k->O, C = k->C, I = k->I;
    switch (k->layout) {
    case 0: s[0] = C * I; s[1] = I; s[2] = 1; *size = O * C * I; return 0;           /* C order */
    case 1: s[0] = 1; s[1] = O; s[2] = O * C; *size = O * C * I; return 0;           /* F order */
    case 2: s[0] = I * C; s[1] = 1; s[2] = C; *size = O * C * I; return 0;           /* classes contiguous */
    case 3: s[0] = 2 * C * I + 3; s[1] = 2 * I; s[2] = 1; *size = O * s[0] + 1; return 0;  /* padded */
    default: s[0] = -C * I; s[1] = I; s[2] = 1; *size = O * C * I;                   /* outer reversed */
        return O > 0 ? (O - 1) * C * I : 0;
    }
}

/* Reference: per-sample losses (long double) and the gradient, on logical (O, C, I) arrays. */
static long double ce_reference(const ce_case *k, const double *x, const double *q, const int64_t *y,
                                const double *w, const double *grads, double *loss, double *g, double *gterm)
{
    const ptrdiff_t O = k->O, C = k->C, I = k->I;
    const long double on = 1.0L - k->eps, off = C ? k->eps / (long double)C : 0;
    long double total = 0, den = 0;
    for (ptrdiff_t s = 0; s < O * I; s++) {
        int64_t ys = q ? 0 : y[s];
        if (!q && ys != -100) den += w ? w[ys] : 1;
    }
    if (q) den = (long double)(O * I);
    for (ptrdiff_t o = 0; o < O; o++)
        for (ptrdiff_t i = 0; i < I; i++) {
            const ptrdiff_t s = o * I + i;
            double *gs = g + o * C * I + i;
            const double *xs = x + o * C * I + i;
            if (!q && y[s] == -100) {
                loss[s] = 0;
                for (ptrdiff_t c = 0; c < C; c++) gs[c * I] = 0;
                continue;
            }
            long double m = -INFINITY, sum = 0, l = 0, A = 0;
            for (ptrdiff_t c = 0; c < C; c++) m = fmaxl(m, xs[c * I]);
            for (ptrdiff_t c = 0; c < C; c++) sum += expl(xs[c * I] - m);
            const long double lse = m + logl(sum);
            for (ptrdiff_t c = 0; c < C; c++) {
                long double qq = q ? on * q[o * C * I + c * I + i] + off : on * (c == y[s]) + off;
                long double wq = (w ? w[c] : 1) * qq;
                if (wq != 0) l += wq * (lse - xs[c * I]);
                A += wq;
            }
            const long double sc = k->red == AG_REDUCE_MEAN ? k->grad / den
                                   : k->red == AG_REDUCE_SUM ? k->grad : k->grad * grads[s];
            for (ptrdiff_t c = 0; c < C; c++) {
                long double qq = q ? on * q[o * C * I + c * I + i] + off : on * (c == y[s]) + off;
                gs[c * I] = (double)(sc * (A * expl(xs[c * I] - lse) - (w ? w[c] : 1) * qq));
            }
            loss[s] = (double)l;
            total += l;
            *gterm = fmax(*gterm, (double)fabsl(sc * A));  /* size of the gradient's terms */
        }
    return k->red == AG_REDUCE_MEAN ? total / den : total;
}

static int close_to(double a, double r, double tol, double scale)
{
    if (isnan(r)) return isnan(a);
    return fabs(a - r) <= tol * (fabs(r) + scale);
}

/* Runs a case through ag_cross_entropy (into the given layout) and checks it against the
 * reference; returns the total and leaves the logical gradient and losses in gout, lout. */
static void ce_run(const ce_case *k, int in_place, const char *what)
{
    const ptrdiff_t O = k->O, C = k->C, I = k->I, S = O * I, n = O * C * I;
    const size_t es = k->f32 ? 4 : 8;
    double *x = malloc((n + 1) * 8), *q = malloc((n + 1) * 8), *w = malloc((C + 1) * 8);
    double *grads = malloc((S + 1) * 8), *rl = malloc((S + 1) * 8), *rg = malloc((n + 1) * 8);
    int64_t *y = malloc((S + 1) * 8);
    for (ptrdiff_t i = 0; i < n; i++) x[i] = (urand() - 0.5) * 16;
    for (ptrdiff_t s = 0; s < S; s++) {
        double z = 0;
        for (ptrdiff_t c = 0; c < C; c++) z += q[(s / I) * C * I + c * I + s % I] = urand();
        for (ptrdiff_t c = 0; c < C; c++) q[(s / I) * C * I + c * I + s % I] /= z;
        y[s] = (s % 7 == 3) ? -100 : (int64_t)(rng() % (uint64_t)C);
        grads[s] = urand() * 2 - 0.5;
    }
    for (ptrdiff_t c = 0; c < C; c++) w[c] = 0.25 + urand();
    if (k->f32)  /* the reference sees the float-rounded inputs */
        for (ptrdiff_t i = 0; i < n; i++) { x[i] = (float)x[i]; q[i] = (float)q[i]; }
    for (ptrdiff_t c = 0; c < C && k->f32; c++) w[c] = (float)w[c];
    for (ptrdiff_t s = 0; s < S && k->f32; s++) grads[s] = (float)grads[s];
    double gterm = 0;
    long double rtot = ce_reference(k, x, k->probs ? q : NULL, y, k->weighted ? w : NULL, grads, rl, rg, &gterm);

    ptrdiff_t st[3], size;
    const ptrdiff_t base = layout(k, st, &size);
    char *xb = calloc(size + 1, es), *qb = calloc(size + 1, es), *gb = calloc(size + 1, es);
    char *wb = malloc((C + 1) * es), *grb = malloc((S + 1) * es), *lb = malloc((S + 1) * es);
    for (ptrdiff_t o = 0; o < O; o++)
        for (ptrdiff_t c = 0; c < C; c++)
            for (ptrdiff_t i = 0; i < I; i++) {
                setv(xb, base + o * st[0] + c * st[1] + i * st[2], k->f32, x[o * C * I + c * I + i]);
                setv(qb, base + o * st[0] + c * st[1] + i * st[2], k->f32, q[o * C * I + c * I + i]);
            }
    for (ptrdiff_t c = 0; c < C; c++) setv(wb, c, k->f32, w[c]);
    for (ptrdiff_t s = 0; s < S; s++) setv(grb, s, k->f32, grads[s]);
    ag_ce_args a;
    memset(&a, 0, sizeof a);
    a.f32 = k->f32;
    a.outer = O; a.C = C; a.inner = I;
    a.x = xb + base * es;
    memcpy(a.xs, st, sizeof st);
    a.target = k->probs ? NULL : y;
    a.ts[0] = I; a.ts[1] = 1;
    a.ignore_index = -100;
    a.probs = k->probs ? qb + base * es : NULL;
    a.weight = k->weighted ? wb : NULL;
    a.label_smoothing = k->eps;
    a.reduction = k->red;
    a.grad = k->grad;
    a.grads = k->red == AG_REDUCE_NONE ? grb : NULL;
    a.gs[0] = I; a.gs[1] = 1;
    a.loss = k->red == AG_REDUCE_NONE ? lb : NULL;
    a.ls[0] = I; a.ls[1] = 1;
    a.dx = in_place ? (void *)(xb + base * es) : (void *)(gb + base * es);
    double total = 0;
    int64_t bad = 0;
    int rc = ag_cross_entropy(&a, &total, &bad);
    char *gout = in_place ? xb : gb;

    const double tol = k->f32 ? 2e-6 * (1 + log((double)C + 1)) : 1e-14 * (1 + log((double)C + 1));
    int ok = rc == AG_LOSS_OK;
    if (k->red != AG_REDUCE_NONE) ok &= close_to(total, (double)rtot, tol * 4, 0);
    for (ptrdiff_t s = 0; s < S && k->red == AG_REDUCE_NONE; s++) {
        ok &= close_to(getv(lb, s, k->f32), rl[s], tol * 4, 1);
    }
    for (ptrdiff_t o = 0; o < O; o++)
        for (ptrdiff_t c = 0; c < C; c++)
            for (ptrdiff_t i = 0; i < I; i++)
            {
                ok &= close_to(getv(gout, base + o * st[0] + c * st[1] + i * st[2], k->f32),
                               rg[o * C * I + c * I + i], tol * 4, gterm);
            }
    if (!ok) {
        printf("  case O=%td C=%td I=%td f32=%d probs=%d w=%d red=%d layout=%d eps=%g inplace=%d: total %.17g ref %.17Lg\n",
               O, C, I, k->f32, k->probs, k->weighted, k->red, k->layout, k->eps, in_place, total, rtot);
    }
    check(ok, what);
    free(x); free(q); free(w); free(grads); free(rl); free(rg); free(y);
    free(xb); free(qb); free(gb); free(wb); free(grb); free(lb);
}

static void test_ce_reference(const char *isa)
{
    static const ptrdiff_t shapes[][3] = { { 37, 10, 1 }, { 5, 3, 7 }, { 1, 300, 3 }, { 13, 17, 1 }, { 64, 1, 1 },
                                           { 3, 33, 9 }, { 0, 5, 1 }, { 130, 5, 1 }, { 2, 70, 1 }, { 9, 2, 11 } };
    char what[160];
    int nfail = failed;
    for (size_t sh = 0; sh < sizeof shapes / sizeof *shapes; sh++)
        for (int f32 = 0; f32 < 2; f32++)
            for (int lay = 0; lay < 5; lay++)
                for (int opt = 0; opt < 8; opt++) {
                    ce_case k = { shapes[sh][0], shapes[sh][1], shapes[sh][2], f32, opt & 1, (opt >> 1) & 1,
                                  (int)(opt + sh + lay) % 3, lay, (opt & 4) ? 0.2 : 0.0, 1.5 };
                    snprintf(what, sizeof what, "%s: cross-entropy matches the reference", isa);
                    ce_run(&k, 0, what);
                    if (lay == (int)(sh % 5) && !k.probs) {
                        snprintf(what, sizeof what, "%s: cross-entropy in place (dx == x)", isa);
                        ce_run(&k, 1, what);
                    }
                }
    if (failed == nfail) printf("%s: cross-entropy reference cases passed\n", isa);
}

static void test_ce_targets(void)
{
    enum { N = 50, C = 6 };
    double x[N * C], g[N * C], loss[N], total = 0;
    int64_t y[N];
    for (int i = 0; i < N * C; i++) x[i] = urand();
    for (int i = 0; i < N; i++) y[i] = i % C;
    y[17] = C;    /* the first bad one */
    y[30] = -5;
    for (int i = 0; i < N * C; i++) g[i] = 12345;
    for (int i = 0; i < N; i++) loss[i] = 12345;
    ag_ce_args a;
    memset(&a, 0, sizeof a);
    a.outer = N; a.C = C; a.inner = 1; a.x = x; a.xs[0] = C; a.xs[1] = 1; a.xs[2] = 1;
    a.target = y; a.ts[0] = 1; a.ignore_index = -100; a.reduction = AG_REDUCE_NONE; a.grad = 1;
    a.loss = loss; a.ls[0] = 1; a.dx = g;
    int64_t bad = 0;
    int rc = ag_cross_entropy(&a, NULL, &bad);
    int untouched = 1;
    for (int i = 0; i < N * C; i++) untouched &= g[i] == 12345;
    for (int i = 0; i < N; i++) untouched &= loss[i] == 12345;
    check(rc == AG_LOSS_BAD_TARGET && bad == C, "the first bad target is reported");
    check(untouched, "nothing is written when a target is bad");
    y[17] = -100;
    rc = ag_cross_entropy(&a, NULL, &bad);
    check(rc == AG_LOSS_BAD_TARGET && bad == -5, "a negative target other than ignore_index is bad");
    a.ignore_index = -5;
    rc = ag_cross_entropy(&a, NULL, &bad);
    check(rc == AG_LOSS_BAD_TARGET && bad == -100, "-100 is bad when ignore_index is -5");

    /* all ignored: mean NaN, gradient 0, no exception flags */
    for (int i = 0; i < N; i++) y[i] = 3;
    a.ignore_index = 3;
    a.reduction = AG_REDUCE_MEAN;
    a.loss = NULL;
    a.label_smoothing = 0.1;
    feclearexcept(FE_ALL_EXCEPT);
    rc = ag_cross_entropy(&a, &total, &bad);
    int zero = 1;
    for (int i = 0; i < N * C; i++) zero &= g[i] == 0;
    check(rc == AG_LOSS_OK && isnan(total) && zero, "all targets ignored: mean NaN, gradient 0");
    check(fetestexcept(FE_ALL_EXCEPT) == 0, "exception flags are left clear");
    feraiseexcept(FE_OVERFLOW);  /* with FE_INEXACT too on aarch64 glibc */
    const int callers = fetestexcept(FE_ALL_EXCEPT);
    a.ignore_index = -100;
    x[0] = INFINITY;
    ag_cross_entropy(&a, &total, &bad);
    check(callers & FE_OVERFLOW && fetestexcept(FE_ALL_EXCEPT) == callers, "the caller's flags are kept");
    check(isnan(total) && isnan(g[1]), "an infinite logit gives NaN (as PyTorch)");
}

/* Bitwise equality of doubles or floats, NaN matching NaN. */
static int same(const void *a, const void *b, ptrdiff_t n, int f32)
{
    for (ptrdiff_t i = 0; i < n; i++) {
        double u = getv(a, i, f32), v = getv(b, i, f32);
        if (!(isnan(u) && isnan(v)) && memcmp(&u, &v, sizeof u)) return 0;
    }
    return 1;
}

static void test_ce_threads(void)
{
    static const ptrdiff_t shapes[][3] = { { 3001, 37, 1 }, { 20, 11, 1500 }, { 40000, 5, 1 }, { 7, 5000, 1 } };
    for (size_t sh = 0; sh < sizeof shapes / sizeof *shapes; sh++)
        for (int f32 = 0; f32 < 2; f32++) {
            const ptrdiff_t O = shapes[sh][0], C = shapes[sh][1], I = shapes[sh][2], n = O * C * I;
            const size_t es = f32 ? 4 : 8;
            char *x = malloc(n * es), *g1 = malloc(n * es), *g2 = malloc(n * es);
            int64_t *y = malloc(O * I * 8);
            for (ptrdiff_t i = 0; i < n; i++) setv(x, i, f32, (urand() - 0.5) * 10);
            for (ptrdiff_t s = 0; s < O * I; s++) y[s] = (int64_t)(rng() % (uint64_t)C);
            ag_ce_args a;
            memset(&a, 0, sizeof a);
            a.f32 = f32; a.outer = O; a.C = C; a.inner = I; a.x = x;
            a.xs[0] = C * I; a.xs[1] = I; a.xs[2] = 1;
            a.target = y; a.ts[0] = I; a.ts[1] = 1; a.ignore_index = -100;
            a.label_smoothing = 0.05; a.reduction = AG_REDUCE_MEAN; a.grad = 1;
            double t1, t2;
            int64_t bad;
            ag_set_num_threads(1);
            a.dx = g1;
            ag_cross_entropy(&a, &t1, &bad);
            ag_set_num_threads(2);
            a.dx = g2;
            ag_cross_entropy(&a, &t2, &bad);
            check(memcmp(&t1, &t2, sizeof t1) == 0 && same(g1, g2, n, f32),
                  "cross-entropy: 1 and 2 threads give bitwise identical loss and gradient");
            free(x); free(g1); free(g2); free(y);
        }
    ag_set_num_threads(ag_default_num_threads());
}

/* A gradient larger than CE_STREAM_BYTES is streamed out of a tile buffer: the same
 * bits as two halves (along outer) computed without streaming.  Rows (ce_rows, classes
 * contiguous) and (N, C, H W) with the classes along axis 1 (ce_cols). */
static void test_ce_stream(void)
{
    static const ptrdiff_t shapes[][3] = { { 2200, 1000, 1 }, { 2, 21, 60000 } };  /* 8.8, 10 MB */
    for (size_t sh = 0; sh < sizeof shapes / sizeof *shapes; sh++) {
        const ptrdiff_t O = shapes[sh][0], C = shapes[sh][1], I = shapes[sh][2], n = O * C * I;
        float *x = malloc(sizeof(float) * n), *g = malloc(sizeof(float) * n), *h = malloc(sizeof(float) * n);
        float *l1 = malloc(sizeof(float) * O * I), *l2 = malloc(sizeof(float) * O * I);
        int64_t *y = malloc(8 * O * I);
        for (ptrdiff_t i = 0; i < n; i++) x[i] = (float)((urand() - 0.5) * 12);
        for (ptrdiff_t s = 0; s < O * I; s++) y[s] = (int64_t)(rng() % (uint64_t)C);
        ag_ce_args a;
        memset(&a, 0, sizeof a);
        a.f32 = 1; a.outer = O; a.C = C; a.inner = I; a.x = x; a.xs[0] = C * I; a.xs[1] = I; a.xs[2] = 1;
        a.target = y; a.ts[0] = I; a.ts[1] = 1; a.ignore_index = -100; a.label_smoothing = 0.1;
        a.reduction = AG_REDUCE_NONE; a.grad = 1; a.loss = l1; a.ls[0] = I; a.ls[1] = 1; a.dx = g;
        int64_t bad;
        ag_cross_entropy(&a, NULL, &bad);
        for (int half = 0; half < 2; half++) {
            a.outer = O / 2;
            a.x = x + half * (O / 2) * C * I; a.target = y + half * (O / 2) * I;
            a.loss = l2 + half * (O / 2) * I; a.dx = h + half * (O / 2) * C * I;
            ag_cross_entropy(&a, NULL, &bad);
        }
        check(same(g, h, n, 1) && same(l1, l2, O * I, 1), "a streamed gradient equals the cached one");
        free(x); free(g); free(h); free(l1); free(l2); free(y);
    }
}

/* ---- BCE with logits, MSE ---- */

/* The losses and gradients, and the sizes of the terms each is a sum of (ls, gs): the
 * formulas cancel (x = -10, t = 0: -10 + 10.00005), so errors scale with the terms. */
static void pointwise_reference(int mse, ptrdiff_t n, const double *x, const double *t, const ag_bcast *w,
                                const ag_bcast *pw, const ag_bcast *gr, double *loss, double *g, double gscale,
                                double *ls, double *gs)
{
    for (ptrdiff_t k = 0; k < n; k++) {
        const double *wp = w->p, *pwp = pw->p, *grp = gr->p;
        long double wk = wp ? wp[(k / w->rep) % w->period] : 1, pk = pwp ? pwp[(k / pw->rep) % pw->period] : 1;
        long double G = gscale * (grp ? grp[(k / gr->rep) % gr->period] : 1);
        long double xk = x[k], tk = t[k];
        if (mse) {
            loss[k] = (double)((xk - tk) * (xk - tk));
            g[k] = (double)(2 * (xk - tk) * G);
            ls[k] = loss[k];
            gs[k] = (double)fabsl(2 * (fabsl(xk) + fabsl(tk)) * G);
            continue;
        }
        long double lw = 1 + (pk - 1) * tk, e = expl(-fabsl(xk));
        long double sig = xk >= 0 ? 1 / (1 + e) : e / (1 + e);
        loss[k] = (double)(wk * ((1 - tk) * xk + lw * (fmaxl(-xk, 0) + log1pl(e))));
        g[k] = (double)(wk * (lw * sig - pk * tk) * G);
        ls[k] = (double)fabsl(wk * (fabsl((1 - tk) * xk) + lw * (fmaxl(-xk, 0) + log1pl(e))));
        gs[k] = (double)fabsl(wk * (lw + pk * tk) * G);
    }
}

static void test_pointwise(const char *isa)
{
    enum { A = 7, B = 5, D = 33, N = A * B * D };
    static double x[N], t[N], wB[B], pwD[D], gr[N], rl[N], rg[N], rls[N], rgs[N];
    static float xf[N], tf[N], wBf[B], pwDf[D], grf[N];
    static double loss[N], g[N];
    char what[160];
    for (int k = 0; k < N; k++) {
        x[k] = (k % 11 == 0) ? ((k & 1) ? 1e4 : -1e4) : (urand() - 0.5) * 30;
        t[k] = urand();
        gr[k] = urand() - 0.3;
    }
    for (int b = 0; b < B; b++) wB[b] = urand() + 0.5;
    for (int d = 0; d < D; d++) pwD[d] = urand() * 3;
    for (int k = 0; k < N; k++) { xf[k] = (float)x[k]; tf[k] = (float)t[k]; grf[k] = (float)gr[k]; }
    for (int b = 0; b < B; b++) wBf[b] = (float)wB[b];
    for (int d = 0; d < D; d++) pwDf[d] = (float)pwD[d];
    for (int f32 = 0; f32 < 2; f32++)
        for (int mse = 0; mse < 2; mse++)
            for (int red = 0; red < 3; red++) {
                double xr[N], tr[N], wr[B], pwr[D], grr[N];
                for (int k = 0; k < N; k++) {
                    xr[k] = f32 ? xf[k] : x[k]; tr[k] = f32 ? tf[k] : t[k]; grr[k] = f32 ? grf[k] : gr[k];
                }
                for (int b = 0; b < B; b++) wr[b] = f32 ? wBf[b] : wB[b];
                for (int d = 0; d < D; d++) pwr[d] = f32 ? pwDf[d] : pwD[d];
                /* weight over the middle axis (rep D, period B), pos_weight over the last (rep 1, period D) */
                ag_bcast w = { mse ? NULL : wr, D, B }, pw = { mse ? NULL : pwr, 1, D };
                ag_bcast gref = { red == AG_REDUCE_NONE ? grr : NULL, 1, N };
                double gscale = red == AG_REDUCE_MEAN ? 0.75 / N : red == AG_REDUCE_SUM ? 0.75 : 1;
                pointwise_reference(mse, N, xr, tr, &w, &pw, &gref, rl, rg, gscale, rls, rgs);
                ag_pointwise_args a;
                memset(&a, 0, sizeof a);
                a.f32 = f32; a.n = N;
                a.x = f32 ? (void *)xf : (void *)x; a.t = f32 ? (void *)tf : (void *)t;
                a.weight = (ag_bcast){ mse ? NULL : (f32 ? (void *)wBf : (void *)wB), D, B };
                a.pos_weight = (ag_bcast){ mse ? NULL : (f32 ? (void *)pwDf : (void *)pwD), 1, D };
                a.reduction = red;
                a.grad = red == AG_REDUCE_NONE ? 1 : 0.75;
                a.grads = (ag_bcast){ red == AG_REDUCE_NONE ? (f32 ? (void *)grf : (void *)gr) : NULL, 1, N };
                a.loss = red == AG_REDUCE_NONE ? (void *)loss : NULL;
                a.dx = g;
                double total = 0;
                int rc = mse ? ag_mse(&a, &total) : ag_bce_with_logits(&a, &total);
                const double tol = f32 ? 4e-7 : 1e-15;
                long double rsum = 0, lsum = 0;
                for (int k = 0; k < N; k++) { rsum += rl[k]; lsum += rls[k]; }
                int ok = rc == AG_LOSS_OK, finite = 1;
                if (red != AG_REDUCE_NONE)
                    ok &= close_to(total, (double)(red == AG_REDUCE_MEAN ? rsum / N : rsum), f32 ? 2e-6 : 1e-14,
                                   (double)(red == AG_REDUCE_MEAN ? lsum / N : lsum));
                for (int k = 0; k < N; k++) {
                    double gk = getv(g, k, f32);
                    ok &= close_to(gk, rg[k], 4 * tol, rgs[k]);
                    finite &= isfinite(gk);
                    if (red == AG_REDUCE_NONE) {
                        ok &= close_to(getv(loss, k, f32), rl[k], 4 * tol, rls[k]);
                        finite &= isfinite(getv(loss, k, f32));
                    }
                }
                snprintf(what, sizeof what, "%s: %s (f32=%d, reduction %d) matches the reference, broadcast runs",
                         isa, mse ? "mse" : "bce_with_logits", f32, red);
                check(ok, what);
                check(finite && isfinite(total), "finite for logits of +-1e4");
            }
}

/* The reduced BCE/MSE loss is the ordered double sum that losses_pointwise.c defines, bit for
 * bit: chunks of 4096 elements; in a chunk, the runs a kernel call gets (cut where a broadcast
 * operand's run ends: here pos_weight of period P over the last axis, P = 0 none); element k
 * of a run into sum k mod 8, in order; the sums folded ((0 + 4) + (2 + 6)) + ((1 + 5) +
 * (3 + 7)); the chunks' sums in order.  The terms are the path's own reduction="none" losses. */
static void test_pointwise_order(const char *isa)
{
    enum { NMAX = 10001, CHUNK = 4096 };
    static const ptrdiff_t lengths[] = { 1, 7, 8, 9, 17, 100, 4095, 4096, 4097, 10001 };
    static const ptrdiff_t periods[] = { 0, 3, 13 };
    static char xb[NMAX * 8], tb[NMAX * 8], lb[NMAX * 8], pwb[13 * 8];
    int ok = 1;
    for (int f32 = 0; f32 < 2; f32++)
        for (int mse = 0; mse < 2; mse++)
            for (size_t li = 0; li < sizeof lengths / sizeof *lengths; li++)
                for (size_t pi = 0; pi < (mse ? 1 : sizeof periods / sizeof *periods); pi++) {
                    const ptrdiff_t n = lengths[li], P = periods[pi];
                    for (ptrdiff_t k = 0; k < n; k++) {
                        setv(xb, k, f32, (urand() - 0.5) * 16);
                        setv(tb, k, f32, urand());
                    }
                    for (ptrdiff_t k = 0; k < P; k++) setv(pwb, k, f32, 0.5 + urand());
                    ag_pointwise_args a;
                    memset(&a, 0, sizeof a);
                    a.f32 = f32; a.n = n; a.x = xb; a.t = tb; a.grad = 1;
                    a.pos_weight = (ag_bcast){ P ? (void *)pwb : NULL, 1, P ? P : 1 };
                    double total, unused;
                    a.reduction = AG_REDUCE_SUM;
                    mse ? ag_mse(&a, &total) : ag_bce_with_logits(&a, &total);
                    a.reduction = AG_REDUCE_NONE; a.loss = lb;
                    mse ? ag_mse(&a, &unused) : ag_bce_with_logits(&a, &unused);
                    double ref = 0;
                    for (ptrdiff_t c0 = 0; c0 < n; c0 += CHUNK) {
                        const ptrdiff_t c1 = c0 + CHUNK < n ? c0 + CHUNK : n;
                        double acc[8] = { 0, 0, 0, 0, 0, 0, 0, 0 };
                        for (ptrdiff_t k = c0, run = c0; k < c1; k++) {
                            if (P && k % P == 0) run = k;            /* a new run of pos_weight */
                            acc[(k - run) % 8] += getv(lb, k, f32);
                        }
                        ref += ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7]));
                    }
                    ok &= memcmp(&total, &ref, sizeof ref) == 0;
                }
    char what[160];
    snprintf(what, sizeof what, "%s: bce/mse sums are the driver's ordered double sum of their own losses, "
             "bit for bit (n = 1 .. 10001, runs cut by a broadcast)", isa);
    check(ok, what);
}

static void test_pointwise_threads(void)
{
    enum { N = 300001 };
    double *x = malloc(N * 8), *t = malloc(N * 8), *g1 = malloc(N * 8), *g2 = malloc(N * 8), pw[3] = { 0.5, 2, 3 };
    for (int k = 0; k < N; k++) { x[k] = (urand() - 0.5) * 20; t[k] = urand() < 0.5; }
    for (int mse = 0; mse < 2; mse++) {
        ag_pointwise_args a;
        memset(&a, 0, sizeof a);
        a.n = N; a.x = x; a.t = t; a.pos_weight = (ag_bcast){ mse ? NULL : pw, 1, 3 };
        a.reduction = AG_REDUCE_MEAN; a.grad = 1;
        double t1, t2;
        ag_set_num_threads(1);
        a.dx = g1;
        mse ? ag_mse(&a, &t1) : ag_bce_with_logits(&a, &t1);
        ag_set_num_threads(2);
        a.dx = g2;
        mse ? ag_mse(&a, &t2) : ag_bce_with_logits(&a, &t2);
        check(memcmp(&t1, &t2, sizeof t1) == 0 && same(g1, g2, N, 0),
              "bce/mse: 1 and 2 threads give bitwise identical loss and gradient");
    }
    ag_set_num_threads(ag_default_num_threads());
    /* +-inf and NaN logits, the mean of nothing: the caller's flags stay clear */
    x[0] = INFINITY; x[1] = -INFINITY; x[2] = NAN;
    feclearexcept(FE_ALL_EXCEPT);
    ag_pointwise_args a;
    memset(&a, 0, sizeof a);
    a.n = 3; a.x = x; a.t = t; a.reduction = AG_REDUCE_MEAN; a.grad = 1; a.dx = g1;
    double total;
    ag_bce_with_logits(&a, &total);
    a.n = 0;
    ag_mse(&a, &total);
    check(fetestexcept(FE_ALL_EXCEPT) == 0 && isnan(total), "bce/mse leave the flags clear; mean of nothing is NaN");
    free(x); free(t); free(g1); free(g2);
}

/* Every SIMD path gives the scalar path's bits: cross-entropy rows of every length up to 70
 * (the row sums' lane layout, masked tails) and columns, with smoothing or probabilities,
 * and a few lengths whose exp sums run in several blocks (columns beyond 64 classes, rows
 * from 528 float64 / 1056 float32 classes); BCE/MSE sums of float32 terms (the driver adds
 * them in double). */
static void test_isa_identity(void)
{
    static const char *isas[] = { "scalar", "avx2", "avx512" };
    enum { S = 9, CMAX = 2085, NP = 5000 };
    for (int f32 = 0; f32 < 2; f32++)
        for (int probs = 0; probs < 2; probs++) {
            static double x[S * CMAX], q[S * CMAX];
            static int64_t y[S];
            int ok = 1;
            for (ptrdiff_t C = 1; C <= CMAX; C = C < 70 ? C + 1 : C == 70 ? 600 : C == 600 ? 1100 : C + 985) {
                static char xb[S * CMAX * 8], qb[S * CMAX * 8], g[3][2][S * CMAX * 8];
                double tot[3][2] = { { 0, 0 }, { 0, 0 }, { 0, 0 } };
                for (ptrdiff_t i = 0; i < S * C; i++) { x[i] = (urand() - 0.5) * 30; q[i] = urand() / C; }
                for (ptrdiff_t s = 0; s < S; s++) y[s] = (int64_t)(rng() % (uint64_t)C);
                for (ptrdiff_t i = 0; i < S * C; i++) { setv(xb, i, f32, x[i]); setv(qb, i, f32, q[i]); }
                for (int k = 0; k < 3; k++) {
                    if (ag_set_isa(isas[k]) != 0) { memcpy(g[k], g[0], sizeof g[0]); memcpy(tot[k], tot[0], sizeof tot[0]); continue; }
                    for (int cols = 0; cols < 2; cols++) {   /* (S, C) rows, then (1, C, S) columns */
                        ag_ce_args a;
                        memset(&a, 0, sizeof a);
                        a.f32 = f32; a.outer = cols ? 1 : S; a.C = C; a.inner = cols ? S : 1; a.x = xb;
                        a.xs[0] = cols ? C * S : C; a.xs[1] = cols ? S : 1; a.xs[2] = 1;
                        a.target = probs ? NULL : y; a.ts[0] = cols ? S : 1; a.ts[1] = 1; a.ignore_index = -100;
                        a.probs = probs ? qb : NULL; a.label_smoothing = probs ? 0 : 0.1;
                        a.reduction = AG_REDUCE_SUM; a.grad = 1; a.dx = g[k][cols];
                        int64_t bad;
                        ag_cross_entropy(&a, &tot[k][cols], &bad);
                    }
                }
                for (int cols = 0; cols < 2; cols++)
                    ok &= memcmp(&tot[0][cols], &tot[1][cols], 8) == 0 && memcmp(&tot[0][cols], &tot[2][cols], 8) == 0 &&
                          same(g[0][cols], g[1][cols], S * C, f32) && same(g[0][cols], g[2][cols], S * C, f32);
            }
            check(ok, f32 ? "cross-entropy float: every SIMD path gives the scalar bits (C = 1..70, 600, 1100, 2085)"
                          : "cross-entropy double: every SIMD path gives the scalar bits (C = 1..70, 600, 1100, 2085)");
        }
    /* BCE/MSE float32 sums: the same bits on every path, within 1 ULP of the exact sum */
    static float xf[NP], tf[NP], lf[NP];
    for (int i = 0; i < NP; i++) { xf[i] = (float)((urand() - 0.5) * 8); tf[i] = (float)urand(); }
    for (int mse = 0; mse < 2; mse++) {
        double tot[3] = { 0, 0, 0 };
        int ok = 1;
        for (int k = 0; k < 3; k++) {
            if (ag_set_isa(isas[k]) != 0) { tot[k] = tot[0]; continue; }
            ag_pointwise_args a;
            memset(&a, 0, sizeof a);
            a.f32 = 1; a.n = NP; a.x = xf; a.t = tf; a.reduction = AG_REDUCE_SUM; a.grad = 1;
            mse ? ag_mse(&a, &tot[k]) : ag_bce_with_logits(&a, &tot[k]);
            a.reduction = AG_REDUCE_NONE; a.loss = lf;
            double unused;
            mse ? ag_mse(&a, &unused) : ag_bce_with_logits(&a, &unused);
            long double exact = 0;
            for (int i = 0; i < NP; i++) exact += lf[i];
            ok &= ulp_err((float)tot[k], exact, 1) <= 1.0;
        }
        ok &= memcmp(&tot[0], &tot[1], 8) == 0 && memcmp(&tot[0], &tot[2], 8) == 0;
        check(ok, mse ? "mse float sum: same bits on every path, within 1 ULP of its float terms"
                      : "bce float sum: same bits on every path, within 1 ULP of its float terms");
    }
    ag_set_isa("scalar");
}

/* Index targets without smoothing read only weight[target]: an inf or NaN weight on a class
 * that no target uses changes neither the loss nor the gradient (PyTorch). */
static void test_ce_unused_weight(void)
{
    static const char *isas[] = { "scalar", "avx2", "avx512" };
    enum { S = 6, C = 20 };
    double x[S * C], w[C], wbad[C], g1[S * C], g2[S * C];
    int64_t y[S];
    for (int i = 0; i < S * C; i++) x[i] = (urand() - 0.5) * 6;
    for (int c = 0; c < C; c++) w[c] = wbad[c] = 0.5 + urand();
    for (int s = 0; s < S; s++) y[s] = s % (C - 2);
    for (int k = 0; k < 3; k++) {
        if (ag_set_isa(isas[k]) != 0) continue;
        for (int cols = 0; cols < 2; cols++)
            for (int b = 0; b < 2; b++) {
                wbad[C - 1] = b ? NAN : INFINITY;
                wbad[C - 2] = -INFINITY;
                ag_ce_args a;
                memset(&a, 0, sizeof a);
                a.f32 = 0; a.outer = cols ? 1 : S; a.C = C; a.inner = cols ? S : 1; a.x = x;
                a.xs[0] = cols ? C * S : C; a.xs[1] = cols ? S : 1; a.xs[2] = 1;
                a.target = y; a.ts[0] = cols ? S : 1; a.ts[1] = 1; a.ignore_index = -100;
                a.reduction = AG_REDUCE_MEAN; a.grad = 1;
                double t1, t2;
                int64_t bad;
                a.weight = w; a.dx = g1;
                ag_cross_entropy(&a, &t1, &bad);
                a.weight = wbad; a.dx = g2;
                ag_cross_entropy(&a, &t2, &bad);
                check(t1 == t2 && isfinite(t2) && same(g1, g2, S * C, 0),
                      "an inf/NaN weight on an unused class is not read (rows and columns)");
            }
    }
    ag_set_isa("scalar");
}

int main(void)
{
    const char *const *isas = tu_isa_names;
    for (int i = 0; i < TU_NISA; i++) {
        if (ag_set_isa(isas[i]) != 0) {
            printf("%s path skipped: this CPU lacks it\n", isas[i]);
            continue;
        }
        test_ce_reference(isas[i]);
        test_pointwise(isas[i]);
        test_pointwise_order(isas[i]);
    }
    test_exp_le0();
    test_ce_targets();
    test_ce_threads();
    test_ce_stream();
    test_pointwise_threads();
    test_isa_identity();
    test_ce_unused_weight();
    printf("test_losses: %d passed, %d failed\n", passed, failed);
    return failed != 0;
}
