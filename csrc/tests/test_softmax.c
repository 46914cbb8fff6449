/* The softmax family in C (csrc/softmax.c over csrc/loops/softmax_body.h), without Python:
 * - softmax rows sum to 1 within n eps; log_softmax and logsumexp agree with it;
 * - special rows: all -inf, +inf, NaN, huge logits (exact one-hots), empty axes;
 * - every ISA this CPU has gives the scalar path's bits, for every op, dtype, tail
 *   length, one-piece and many-piece rows, columns, packed (strided, float16) rows;
 * - 1, 2 and 3 threads give the same bits; in place equals out of place;
 * - a row and a column of the same values give the same bits;
 * - the caller's floating-point exception flags are left as they were.
 * Build: make -C csrc test. */
#include <fenv.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "../include/actgrad.h"
#include "../convert.h"
#include "testutil.h"
#include "isa_paths.h"

#define isas tu_isa_names

static ptrdiff_t dsize(int dt) { return dt == AG_FLOAT32 ? 4 : dt == AG_FLOAT16 ? 2 : 8; }
static int out_dtype(int dt) { return dt == AG_FLOAT32 || dt == AG_FLOAT16 ? dt : AG_FLOAT64; }
static int is_backward(int op) { return op == AG_SOFTMAX_BACKWARD || op == AG_LOG_SOFTMAX_BACKWARD; }

/* Runs op on C-contiguous (outer, n, inner) arrays a, b of dtype dt into out. */
static int run(int op, int dt, ptrdiff_t outer, ptrdiff_t n, ptrdiff_t inner, const void *a,
               const void *b, void *out)
{
    ptrdiff_t s = dsize(dt), so = dsize(out_dtype(dt));
    ag_sm_array A = { (char *)a, n * inner * s, inner * s, s, dt };
    ag_sm_array B = { (char *)b, n * inner * s, inner * s, s, dt };
    ag_sm_array O = { (char *)out, n * inner * so, inner * so, so, out_dtype(dt) };
    if (op == AG_LOGSUMEXP) O.so = inner * so;
    return ag_softmax(op, outer, n, inner, &A, is_backward(op) ? &B : NULL, &O);
}

/* Bitwise equality, any NaN matching any NaN. */
static int same(const void *x, const void *y, ptrdiff_t n, int dt)
{
    for (ptrdiff_t i = 0; i < n; i++) {
        double u = dt == AG_FLOAT32 ? ((const float *)x)[i] : ((const double *)x)[i];
        double v = dt == AG_FLOAT32 ? ((const float *)y)[i] : ((const double *)y)[i];
        if (isnan(u) && isnan(v)) continue;
        if (memcmp(&u, &v, sizeof u) != 0) return 0;
    }
    return 1;
}

/* Random logits in about [-30, 30] with some specials, as dtype dt. */
static void fill(void *p, int dt, ptrdiff_t n, int specials)
{
    static const double sp[] = { 0.0, -0.0, 1e30, -1e30, 80.0, -80.0, 1e-40 };
    for (ptrdiff_t i = 0; i < n; i++) {
        double v = (urand() - 0.5) * 60;
        if (specials && rng() % 16 == 0) v = sp[rng() % (sizeof sp / sizeof *sp)];
        if (dt == AG_FLOAT32) ((float *)p)[i] = (float)v;
        else ((double *)p)[i] = v;
    }
}

static double get(const void *p, int dt, ptrdiff_t i)
{
    return dt == AG_FLOAT32 ? ((const float *)p)[i] : ((const double *)p)[i];
}

static void test_sums(void)
{
    const ptrdiff_t ns[] = { 1, 2, 7, 33, 1000, 40000, 300001 };
    for (int d = 0; d < 2; d++) {
        int dt = d ? AG_FLOAT64 : AG_FLOAT32;
        double eps = d ? 0x1p-53 : 0x1p-24;
        for (size_t t = 0; t < sizeof ns / sizeof *ns; t++) {
            ptrdiff_t n = ns[t];
            void *x = malloc(n * 8), *y = malloc(n * 8), *l = malloc(n * 8), *lse = malloc(8);
            fill(x, dt, n, 0);
            run(AG_SOFTMAX, dt, 1, n, 1, x, NULL, y);
            run(AG_LOG_SOFTMAX, dt, 1, n, 1, x, NULL, l);
            run(AG_LOGSUMEXP, dt, 1, n, 1, x, NULL, lse);
            double s = 0, worst = 0;
            for (ptrdiff_t i = 0; i < n; i++) {
                s += get(y, dt, i);
                /* log_softmax = x - lse, softmax = exp(log_softmax) */
                double want = get(x, dt, i) - get(lse, dt, 0);
                worst = fmax(worst, fabs(get(l, dt, i) - want) / fmax(fabs(want), 1));
                if (get(y, dt, i) > 1e-30)
                    worst = fmax(worst, fabs(get(y, dt, i) - exp(get(l, dt, i))) / get(y, dt, i));
            }
            char what[96];
            snprintf(what, sizeof what, "%s n=%td: softmax sums to 1 within n eps", d ? "f64" : "f32", n);
            check(fabs(s - 1) <= n * eps + 4 * eps, what);
            snprintf(what, sizeof what, "%s n=%td: log_softmax, logsumexp, softmax agree", d ? "f64" : "f32", n);
            check(worst < (d ? 1e-13 : 1e-5), what);
            free(x), free(y), free(l), free(lse);
        }
    }
}

/* softmax, log_softmax and logsumexp of the row x[0..n) (float64 values, computed in dtype dt)
 * laid out as: 0 a row (n < 32: the short-row path), 1 the row followed by 40 -inf
 * (a one-piece row: the -inf change nothing), 2 two equal columns. */
static void special_row(int dt, int layout, const double *x, int n, double *y, double *l, double *lse)
{
    enum { PAD = 40 };
    double xd[2 * (4 + PAD)], yd[2 * (4 + PAD)], ld[2 * (4 + PAD)], lsed[2];
    float xf[2 * (4 + PAD)], yf[2 * (4 + PAD)], lf[2 * (4 + PAD)], lsef[2];
    int len = layout == 1 ? n + PAD : n, inner = layout == 2 ? 2 : 1;
    for (int i = 0; i < len * inner; i++) {
        double v = i / inner < n ? x[i / inner] : -INFINITY;
        xd[i] = v, xf[i] = (float)v;
    }
    int d = dt == AG_FLOAT64;
    run(AG_SOFTMAX, dt, 1, len, inner, d ? (void *)xd : (void *)xf, NULL, d ? (void *)yd : (void *)yf);
    run(AG_LOG_SOFTMAX, dt, 1, len, inner, d ? (void *)xd : (void *)xf, NULL, d ? (void *)ld : (void *)lf);
    run(AG_LOGSUMEXP, dt, 1, len, inner, d ? (void *)xd : (void *)xf, NULL, d ? (void *)lsed : (void *)lsef);
    for (int i = 0; i < n; i++) {
        y[i] = d ? yd[i * inner + inner - 1] : yf[i * inner + inner - 1];
        l[i] = d ? ld[i * inner] : lf[i * inner];
    }
    *lse = d ? lsed[0] : lsef[0];
}

static void test_special_rows(void)
{
    const double inf = INFINITY;
    struct { double x[4]; int n; double sm[4]; double lse; } rows[] = {
        { { -inf, -inf, -inf }, 3, { NAN, NAN, NAN }, -inf },
        { { 1, inf, 2 }, 3, { NAN, NAN, NAN }, inf },
        { { 1, NAN, 2 }, 3, { NAN, NAN, NAN }, NAN },
        { { inf, NAN, -inf }, 3, { NAN, NAN, NAN }, NAN },
        { { -inf, NAN }, 2, { NAN, NAN }, NAN },
        { { 1e30, -1e30, 0 }, 3, { 1, 0, 0 }, 1e30 },
        { { -1e4, 1e4, 0, 1e4 }, 4, { 0, 0.5, 0, 0.5 }, 1e4 + 0.6931471805599453 },
        { { -inf, 3, -inf }, 3, { 0, 1, 0 }, 3 },
        { { 5 }, 1, { 1 }, 5 },
    };
    for (int d = 0; d < 2; d++)
        for (size_t r = 0; r < sizeof rows / sizeof *rows; r++)
            for (int layout = 0; layout < 3; layout++) {
                double y[4], l[4], lse, want = rows[r].lse;
                int n = rows[r].n, ok = 1;
                special_row(d ? AG_FLOAT64 : AG_FLOAT32, layout, rows[r].x, n, y, l, &lse);
                for (int i = 0; i < n; i++) {
                    double w = rows[r].sm[i], lw = d ? log(w) : (float)log(w);
                    ok &= isnan(w) ? isnan(y[i]) && isnan(l[i]) : y[i] == w && (w == 0 || l[i] == lw);
                }
                ok &= isnan(want) ? isnan(lse) : lse == (d ? want : (float)want);
                char what[80];
                snprintf(what, sizeof what, "%s special row %zu, layout %d", d ? "f64" : "f32", r, layout);
                check(ok, what);
            }

    /* a long row (many pieces) whose first pieces are all -inf: those give +0 */
    ptrdiff_t n = 100000;
    float *x = malloc(n * 4), *y = malloc(n * 4), *z = malloc(n * 4);
    for (ptrdiff_t i = 0; i < n; i++) x[i] = i < 60000 ? -INFINITY : (float)(urand() * 10);
    run(AG_SOFTMAX, AG_FLOAT32, 1, n, 1, x, NULL, y);
    run(AG_SOFTMAX, AG_FLOAT32, 1, n - 60000, 1, x + 60000, NULL, z);
    int ok = 1;
    for (ptrdiff_t i = 0; i < n; i++)
        ok &= i < 60000 ? y[i] == 0 && !signbit(y[i]) : fabs(y[i] - z[i - 60000]) <= 4 * 0x1p-24 * z[i - 60000];
    check(ok, "long row with all -inf pieces");
    free(x), free(y), free(z);

    /* a long row's backward: each piece's sum of dy*y is a pair of floats good to ~2^-43
     * relative; the pieces combine in double, and S must reach the float32 kernel as a pair
     * again: rounded to one float it would be off by up to 2^-24 relative.  Allowed: 4 ULPs
     * plus the error of an S good to 2^-33, y S 2^-33 (dy - S cancels to 1e-3 of dy or more). */
    {
        ptrdiff_t m = 100000;
        float *xs = malloc(m * 4), *ys = malloc(m * 4), *dys = malloc(m * 4), *g = malloc(m * 4);
        for (ptrdiff_t i = 0; i < m; i++) xs[i] = (float)((urand() - 0.5) * 20);
        run(AG_SOFTMAX, AG_FLOAT32, 1, m, 1, xs, NULL, ys);
        for (ptrdiff_t i = 0; i < m; i++) dys[i] = (float)(1.0 + (urand() - 0.5) * 1e-3);
        run(AG_SOFTMAX_BACKWARD, AG_FLOAT32, 1, m, 1, dys, ys, g);
        long double S = 0;
        for (ptrdiff_t i = 0; i < m; i++) S += (long double)dys[i] * ys[i];   /* products exact */
        double worst = 0;
        for (ptrdiff_t i = 0; i < m; i++) {
            long double want = (long double)ys[i] * (dys[i] - S);
            double ulp = want == 0 ? 0x1p-149 : fmax(ldexp(1.0, ilogb((double)want) - 23), 0x1p-149);
            double tol = 4 * ulp + 0x1p-33 * ys[i] * fabs((double)S);
            worst = fmax(worst, (double)fabsl(g[i] - want) / tol);
        }
        char what[96];
        snprintf(what, sizeof what, "long row softmax_backward float32 (error / allowed %.3g)", worst);
        check(worst <= 1, what);
        free(xs), free(ys), free(dys), free(g);
    }

    /* logsumexp of an empty axis is -inf; softmax of it writes nothing */
    double lse[3] = { 0, 0, 0 }, none = 0;
    check(run(AG_LOGSUMEXP, AG_FLOAT64, 3, 0, 1, &none, NULL, lse) == 0 &&
          lse[0] == -INFINITY && lse[2] == -INFINITY, "logsumexp over an empty axis is -inf");

    /* log_softmax of a dominant logit keeps relative accuracy: [0, -20] -> -log1p(e^-20) */
    float xf[2] = { 0, -20 }, lf[2];
    run(AG_LOG_SOFTMAX, AG_FLOAT32, 1, 2, 1, xf, NULL, lf);
    double want = -log1p(exp(-20.0));
    check(fabs(lf[0] - want) <= 2 * 0x1p-24 * fabs(want), "log_softmax([0,-20])[0] relative accuracy");
}

/* Every ISA gives the scalar bits: each op and dtype over many shapes. */
static void test_isas(void)
{
    struct { ptrdiff_t outer, n, inner; } shapes[] = {
        { 3, 1, 1 }, { 2, 5, 1 }, { 2, 17, 1 }, { 1, 31, 1 }, { 2, 64, 1 }, { 1, 67, 1 }, { 3, 1000, 1 },
        { 1, 40000, 1 }, { 1, 100003, 1 }, { 2, 37, 3 }, { 2, 37, 16 }, { 1, 9, 45 }, { 3, 5, 8 },
    };
    const int ops[] = { AG_SOFTMAX, AG_LOG_SOFTMAX, AG_LOGSUMEXP, AG_SOFTMAX_BACKWARD, AG_LOG_SOFTMAX_BACKWARD };
    for (int p = 1; p < TU_NISA; p++) {
        if (!ag_isa_supported(isas[p])) {
            printf("%s path skipped: this CPU lacks it\n", isas[p]);
            continue;
        }
        int bad = 0;
        for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++)
            for (int d = 0; d < 2; d++)
                for (size_t o = 0; o < sizeof ops / sizeof *ops; o++) {
                    int dt = d ? AG_FLOAT64 : AG_FLOAT32, op = ops[o];
                    ptrdiff_t len = shapes[s].outer * shapes[s].n * shapes[s].inner;
                    void *a = malloc(len * 8), *b = malloc(len * 8), *r = malloc(len * 8), *q = malloc(len * 8);
                    rng_state = 12345 + s;
                    fill(a, dt, len, 1);
                    if (is_backward(op)) {
                        fill(b, dt, len, 0);
                        ag_set_isa("scalar");
                        run(op == AG_SOFTMAX_BACKWARD ? AG_SOFTMAX : AG_LOG_SOFTMAX, dt,
                            shapes[s].outer, shapes[s].n, shapes[s].inner, b, NULL, b);
                    }
                    ag_set_isa("scalar");
                    run(op, dt, shapes[s].outer, shapes[s].n, shapes[s].inner, a, b, r);
                    ag_set_isa(isas[p]);
                    run(op, dt, shapes[s].outer, shapes[s].n, shapes[s].inner, a, b, q);
                    ptrdiff_t nout = op == AG_LOGSUMEXP ? shapes[s].outer * shapes[s].inner : len;
                    if (!same(r, q, nout, dt)) {
                        bad++;
                        printf("  %s differs from scalar: op %d f%d shape (%td, %td, %td)\n", isas[p], op,
                               d ? 64 : 32, shapes[s].outer, shapes[s].n, shapes[s].inner);
                    }
                    free(a), free(b), free(r), free(q);
                }
        char what[64];
        snprintf(what, sizeof what, "%s path bit-identical to scalar", isas[p]);
        check(!bad, what);
    }
    ag_set_isa(tu_best_isa());
}

/* Threads, in place, packed rows and float16. */
static void test_threads_layouts(void)
{
    const ptrdiff_t n = 1000003;   /* one row of many pieces */
    float *x = malloc(n * 4), *y1 = malloc(n * 4), *y2 = malloc(n * 4), *y3 = malloc(n * 4);
    fill(x, AG_FLOAT32, n, 1);
    const int ops[] = { AG_SOFTMAX, AG_LOG_SOFTMAX, AG_SOFTMAX_BACKWARD };
    for (int o = 0; o < 3; o++) {
        int op = ops[o];
        ag_set_num_threads(1);
        run(op, AG_FLOAT32, 1, n, 1, x, x, y1);
        ag_set_num_threads(2);
        run(op, AG_FLOAT32, 1, n, 1, x, x, y2);
        ag_set_num_threads(3);
        run(op, AG_FLOAT32, 1, n, 1, x, x, y3);
        check(same(y1, y2, n, AG_FLOAT32) && same(y1, y3, n, AG_FLOAT32), "one long row: 1, 2, 3 threads agree");
        run(op, AG_FLOAT32, 1000, n / 1000, 1, x, x, y2);   /* many rows */
        ag_set_num_threads(1);
        run(op, AG_FLOAT32, 1000, n / 1000, 1, x, x, y1);
        check(same(y1, y2, n / 1000 * 1000, AG_FLOAT32), "many rows: 1 and 3 threads agree");
    }
    ag_set_num_threads(2);

    /* in place */
    memcpy(y2, x, n * 4);
    run(AG_SOFTMAX, AG_FLOAT32, 1, n, 1, x, NULL, y1);
    run(AG_SOFTMAX, AG_FLOAT32, 1, n, 1, y2, NULL, y2);
    check(same(y1, y2, n, AG_FLOAT32), "in place, long row");
    memcpy(y2, x, 3000 * 4);
    run(AG_LOG_SOFTMAX, AG_FLOAT32, 30, 10, 10, x, NULL, y1);
    run(AG_LOG_SOFTMAX, AG_FLOAT32, 30, 10, 10, y2, NULL, y2);
    check(same(y1, y2, 3000, AG_FLOAT32), "in place, columns");

    /* a strided axis (packed rows) equals the contiguous row: x viewed with stride 2 */
    ptrdiff_t m = 777;
    float *xs = malloc(2 * m * 4), *xc = malloc(m * 4), *ys = malloc(2 * m * 4);
    for (ptrdiff_t i = 0; i < m; i++) xs[2 * i] = xc[i] = x[i], xs[2 * i + 1] = NAN;
    for (int op = AG_SOFTMAX; op <= AG_LOG_SOFTMAX; op++) {
        ag_sm_array A = { (char *)xs, 0, 8, 0, AG_FLOAT32 }, O = { (char *)ys, 0, 8, 0, AG_FLOAT32 };
        ag_softmax(op, 1, m, 1, &A, NULL, &O);
        run(op, AG_FLOAT32, 1, m, 1, xc, NULL, y1);
        int ok = 1;
        for (ptrdiff_t i = 0; i < m; i++) ok &= ys[2 * i] == y1[i];
        check(ok, "strided row equals contiguous row");
    }

    /* float16 in and out: the float32 result rounded once */
    uint16_t *h = malloc(m * 2), *hy = malloc(m * 2);
    for (ptrdiff_t i = 0; i < m; i++) h[i] = ag_float_to_half(x[i] / 4), xc[i] = ag_half_to_float(h[i]);
    run(AG_SOFTMAX, AG_FLOAT16, 1, m, 1, h, NULL, hy);
    run(AG_SOFTMAX, AG_FLOAT32, 1, m, 1, xc, NULL, y1);
    int ok = 1;
    for (ptrdiff_t i = 0; i < m; i++) ok &= hy[i] == ag_float_to_half(y1[i]);
    check(ok, "float16 softmax is the float32 one rounded");
    free(x), free(y1), free(y2), free(y3), free(xs), free(xc), free(ys), free(h), free(hy);
}

/* Backward outputs of 8 MiB or more on the rows path are written through a buffer and
 * streamed out (softmax.c, SM_STREAM_BYTES): the same bits as a strided output (not
 * streamed), for every op (the forward ones store directly) and dtype, many rows and one
 * long row of pieces, 1 and 2 threads, in place. */
static void test_streaming(void)
{
    for (int d = 0; d < 2; d++) {
        const int dt = d ? AG_FLOAT64 : AG_FLOAT32;
        const ptrdiff_t s = dsize(dt), total = (9 << 20) / s + 3;   /* 9 MiB and a bit */
        char *x = malloc(total * s), *b = malloc(total * s), *y = malloc(total * s);
        char *ys = malloc(2 * total * s), *xi = malloc(total * s);
        fill(x, dt, total, 1);
        fill(b, dt, total, 0);
        const ptrdiff_t shapes[2][2] = { { total / 1000, 1000 }, { 1, total } };
        for (int sh = 0; sh < 2; sh++) {
            const ptrdiff_t outer = shapes[sh][0], n = shapes[sh][1], len = outer * n;
            for (int op = AG_SOFTMAX; op <= AG_LOG_SOFTMAX_BACKWARD; op++) {
                if (op == AG_LOGSUMEXP) continue;
                const void *bb = is_backward(op) ? b : NULL;
                ag_sm_array A = { x, n * s, s, 0, dt }, B = { b, n * s, s, 0, dt };
                ag_sm_array O = { ys, 2 * n * s, 2 * s, 0, dt };
                ag_set_num_threads(1);
                ag_softmax(op, outer, n, 1, &A, is_backward(op) ? &B : NULL, &O);   /* strided: not streamed */
                int ok = 1;
                for (int th = 1; th <= 2; th++) {
                    ag_set_num_threads(th);
                    run(op, dt, outer, n, 1, x, bb, y);
                    for (ptrdiff_t i = 0; i < len; i++) ok &= memcmp(y + i * s, ys + 2 * i * s, s) == 0 ||
                                                               (get(y, dt, i) != get(y, dt, i) &&
                                                                get(ys, dt, 2 * i) != get(ys, dt, 2 * i));
                }
                memcpy(xi, x, len * s);   /* in place: out = a */
                run(op, dt, outer, n, 1, xi, bb, xi);
                ok &= same(xi, y, len, dt);
                check(ok, "streamed output equals the strided (unstreamed) one, in place too");
            }
        }
        free(x), free(b), free(y), free(ys), free(xi);
    }
    ag_set_num_threads(2);
}

static void test_flags(void)
{
    double x[3] = { -INFINITY, -INFINITY, -INFINITY }, y[3];
    feclearexcept(FE_ALL_EXCEPT);
    run(AG_SOFTMAX, AG_FLOAT64, 1, 3, 1, x, NULL, y);
    run(AG_LOGSUMEXP, AG_FLOAT64, 1, 3, 1, x, NULL, y);
    check(!fetestexcept(FE_INVALID | FE_OVERFLOW | FE_DIVBYZERO), "no FP flags leak to the caller");
}

/* A row and a column holding the same values give the same bits (rows and columns sum in the
 * same slots): each column of a (1, n, 3) array against the contiguous row of its values, for
 * every op and dtype, lengths around the slot and vector counts (n < 32 compares the short-row
 * path, which packs rows into columns, with the column kernels). */
static void test_rows_equal_columns(void)
{
    const ptrdiff_t ns[] = { 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 64, 100, 1000, 5000 };
    for (int d = 0; d < 2; d++) {
        int dt = d ? AG_FLOAT64 : AG_FLOAT32;
        for (size_t t = 0; t < sizeof ns / sizeof *ns; t++) {
            ptrdiff_t n = ns[t];
            char *x = malloc(3 * n * 8), *b = malloc(3 * n * 8), *yc = malloc(3 * n * 8);
            char *xr = malloc(n * 8), *br = malloc(n * 8), *yr = malloc(n * 8);
            fill(x, dt, 3 * n, 1);
            fill(b, dt, 3 * n, 0);
            for (int op = AG_SOFTMAX; op <= AG_LOG_SOFTMAX_BACKWARD; op++) {
                int ok = 1;
                run(op, dt, 1, n, 3, x, b, yc);
                for (int c = 0; c < 3; c++) {
                    for (ptrdiff_t k = 0; k < n; k++) {
                        memcpy(xr + k * dsize(dt), x + (k * 3 + c) * dsize(dt), (size_t)dsize(dt));
                        memcpy(br + k * dsize(dt), b + (k * 3 + c) * dsize(dt), (size_t)dsize(dt));
                    }
                    run(op, dt, 1, n, 1, xr, br, yr);
                    if (op == AG_LOGSUMEXP) {
                        ok &= same(yr, yc + c * dsize(dt), 1, dt);
                        continue;
                    }
                    for (ptrdiff_t k = 0; k < n; k++)
                        ok &= same(yr + k * dsize(dt), yc + (k * 3 + c) * dsize(dt), 1, dt);
                }
                char what[96];
                snprintf(what, sizeof what, "%s op %d n=%td: rows and columns give the same bits",
                         d ? "f64" : "f32", op, n);
                check(ok, what);
            }
            free(x), free(b), free(yc), free(xr), free(br), free(yr);
        }
    }
}

int main(void)
{
    ag_set_num_threads(2);
    test_sums();
    test_special_rows();
    test_isas();
    test_threads_layouts();
    test_rows_equal_columns();
    test_streaming();
    test_flags();
    printf("test_softmax: %d passed, %d failed\n", passed, failed);
    return failed != 0;
}
