/* Cross-entropy driver: cuts the samples into blocks for the kernels of the table
 * (loops/losses_body.h), over the thread pool, with a deterministic reduction.
 * (BCE with logits and MSE: losses_pointwise.c.)
 *
 * Layouts.  Logits are (outer, C, inner) with any strides; an
 * inner of 1 is folded so that the samples run along `inner`.  A block of
 * samples goes to one of:
 *   ROWS  classes contiguous (stride 1) and C >= CE_ROWS_MIN: ce_rows reads each
 *         sample's row in place (vectors along the classes);
 *   COLS  samples contiguous (inner stride 1, e.g. (N, C, H, W) with axis 1):
 *         ce_cols, vectors across samples, a loop over the classes, on the C x
 *         block tile copied class by class (contiguous runs) into a compact
 *         buffer -- the whole array is never transposed.  In place, the tile's
 *         rows sit a class stride apart, often a multiple of 4 KB (H W = 16384):
 *         all in the same L1 sets, evicting each other between the passes;
 *   PACK  otherwise: the block is copied into a small buffer in the layout of
 *         ce_cols (C < CE_ROWS_MIN: short rows waste most lanes of a vector and
 *         pay a horizontal max and sum per sample; a C x 64 tile has neither) or
 *         of ce_rows, and the gradient copied back.
 * The tile of a block stays in L1/L2 across the kernels' three passes, so the
 * logits come from memory once and the gradient goes back once.  A gradient
 * larger than the caches (CE_STREAM_BYTES) is streamed out of a tile with
 * non-temporal stores (ROWS: ce_rows writes it into an L1 tile for this; COLS:
 * the tile's class rows): ordinary stores would first read every line of it
 * (read-for-ownership), 12 bytes of traffic per float element instead of 8.
 * For COLS the rows sit a class stride apart, where the read-for-ownership also
 * costs a stream per class: (8, 21, 128, 128) float32 with its gradient took
 * 2.2 ms streamed against 3.6-3.8 ms stored (2 threads, Zen 2).
 *
 * Deterministic reduction: sample k's loss is added, in order, to the double
 * partial sum of chunk k / chunk; ag_parallel_for's ranges are whole chunks, so
 * each chunk is summed by one thread in the same order whatever the thread
 * count, and the partials are added in chunk order at the end.  A sample's loss
 * never depends on its block (lanes and rows are independent). */
#include <fenv.h>
#include <stdlib.h>
#include <string.h>
#include "include/actgrad.h"
#include "tiles.h"
#include "fpflags.h"

#define CE_ROWS_MIN 16            /* classes: fewer go through packed ce_cols tiles */
#define CE_TILE_ELEMS 4096        /* logits in a packed tile (stack buffers) */
#define CE_GRAIN_ELEMS (1 << 15)  /* logits per thread range, at least */
#define CE_CHUNK_ELEMS 4096       /* logits per partial sum (about) */
#define CE_STREAM_BYTES (1 << 23) /* gradients from this size on are streamed out */

enum { ROWS, COLS, PACK };

typedef struct {
    const ag_ce_args *a;
    ag_ce_fn kernel;
    int mode, f32;
    size_t esz;
    ptrdiff_t inner, so, sc, si, to, ti, go, gi, lo, li; /* inner folded, see ag_cross_entropy */
    ptrdiff_t tile;         /* samples per block */
    ptrdiff_t pss, pcs;     /* PACK: the buffer's sample and class strides */
    double scale, on, off, wsum;
    ptrdiff_t chunk;
    double *partial;        /* NULL: no reduced loss wanted */
    int want_loss;
    int stream;             /* ROWS, COLS: gradient through the tile buffer, streamed out */
    _Atomic int nomem;      /* set by a range that could not allocate its buffers */
} ce_job;

static void ce_block(ce_job *j, ptrdiff_t k, ptrdiff_t n, ag_ce_block *b, void *xb, void *qb, void *gb)
{
    const ag_ce_args *a = j->a;
    const ptrdiff_t o = k / j->inner, s = k % j->inner, off = (o * j->so + s * j->si) * (ptrdiff_t)j->esz;
    const char *x = (const char *)a->x + off;
    const char *q = a->probs ? (const char *)a->probs + off : NULL;
    char *g = a->dx ? (char *)a->dx + off : NULL;
    b->n = n;
    if (j->mode == COLS) {  /* the tile's class rows, each n contiguous samples */
        const size_t run = (size_t)n * j->esz, xs = (size_t)j->sc * j->esz, bs = (size_t)j->pcs * j->esz;
        for (ptrdiff_t c = 0; c < a->C; c++) {
            memcpy((char *)xb + c * bs, x + c * xs, run);
            for (size_t l = 0; l < run; l += 64) __builtin_prefetch(x + c * xs + run + l);  /* the next tile */
        }
        for (ptrdiff_t c = 0; q && c < a->C; c++) memcpy((char *)qb + c * bs, q + c * xs, run);
        b->x = xb; b->q = q ? qb : NULL; b->g = g ? gb : NULL;
        b->ss = 1; b->cs = j->pcs;
        j->kernel(b);
        for (ptrdiff_t c = 0; g && c < a->C; c++) {
            if (j->stream) stream_copy(g + c * xs, (char *)gb + c * bs, run);
            else memcpy(g + c * xs, (char *)gb + c * bs, run);
        }
        return;
    }
    if (j->mode == ROWS) {
        b->x = x; b->q = q; b->g = j->stream ? gb : g;
        b->ss = j->si;
        b->cs = 1;
        j->kernel(b);
        if (j->stream) stream_copy(g, gb, (size_t)(n * a->C) * j->esz);  /* rows contiguous: si == C */
        return;
    }
    const int tr = j->sc == 1 && j->pss == 1;  /* contiguous rows into columns: transposes */
    if (tr) transpose(j->f32, n, a->C, xb, j->pcs, x, j->si);
    else copy2d(j->f32, n, a->C, xb, j->pss, j->pcs, x, j->si, j->sc);
    if (q && tr) transpose(j->f32, n, a->C, qb, j->pcs, q, j->si);
    else if (q) copy2d(j->f32, n, a->C, qb, j->pss, j->pcs, q, j->si, j->sc);
    b->x = xb; b->q = q ? qb : NULL; b->g = g ? gb : NULL;
    b->ss = j->pss; b->cs = j->pcs;
    j->kernel(b);
    if (g && tr) transpose(j->f32, a->C, n, g, j->si, gb, j->pcs);
    else if (g) copy2d(j->f32, n, a->C, g, j->si, j->sc, gb, j->pss, j->pcs);
}

/* Adds the losses of samples [k, k + n), in order, to their chunks' partial sums. */
static void ce_add_partials(ce_job *j, ptrdiff_t k, ptrdiff_t n, const void *loss)
{
    for (ptrdiff_t i = 0; i < n;) {
        const ptrdiff_t c = (k + i) / j->chunk, stop = min2(n, (c + 1) * j->chunk - k);
        double sum = j->partial[c];
        for (; i < stop; i++) sum += get(loss, i, j->f32);
        j->partial[c] = sum;
    }
}

static void ce_range(void *ctx, ptrdiff_t begin, ptrdiff_t end)
{
    ce_job *j = (ce_job *)ctx;
    const ag_ce_args *a = j->a;
    ptrdiff_t y[AG_CE_BLOCK];
    _Alignas(64) double scale[AG_CE_BLOCK], loss[AG_CE_BLOCK];  /* float or double data */
    _Alignas(64) char stack[3][CE_TILE_ELEMS * sizeof(double)];
    char *buf[3] = { stack[0], stack[1], stack[2] }, *heap = NULL;
    const size_t tile_bytes = (size_t)(j->tile * a->C) * j->esz;
    if ((j->mode != ROWS || j->stream) && tile_bytes > sizeof stack[0]) {
        heap = malloc(3 * tile_bytes);
        if (!heap) { j->nomem = 1; return; }
        for (int i = 0; i < 3; i++) buf[i] = heap + i * tile_bytes;
    }
    ag_ce_block b = { 0, a->C, NULL, NULL, NULL, 0, 0, a->weight, j->on, j->off, j->wsum,
                      a->target ? y : NULL, scale, j->want_loss ? loss : NULL };
    for (ptrdiff_t k = begin; k < end;) {
        const ptrdiff_t o = k / j->inner, s0 = k % j->inner;
        const ptrdiff_t n = min2(min2(end - k, j->inner - s0), j->tile);
        if (a->target) {
            const int64_t *t = a->target + o * j->to + s0 * j->ti, ig = a->ignore_index;
            const ptrdiff_t ti = j->ti;
            for (ptrdiff_t i = 0; i < n; i++) y[i] = t[i * ti] == ig ? -1 : (ptrdiff_t)t[i * ti];
        }
        if (a->dx && a->grads) {
            for (ptrdiff_t i = 0; i < n; i++)
                put(scale, i, j->f32, j->scale * get(a->grads, o * j->go + (s0 + i) * j->gi, j->f32));
        } else if (a->dx) {   /* one scale for all: a fill the compiler vectorizes */
            if (j->f32) {
                const float sc = (float)j->scale;
                for (ptrdiff_t i = 0; i < n; i++) ((float *)scale)[i] = sc;
            } else {
                for (ptrdiff_t i = 0; i < n; i++) scale[i] = j->scale;
            }
        }
        ce_block(j, k, n, &b, buf[0], buf[1], buf[2]);
        if (j->partial) ce_add_partials(j, k, n, loss);
        for (ptrdiff_t i = 0; i < n && j->want_loss && !j->partial; i++)
            put(a->loss, o * j->lo + (s0 + i) * j->li, j->f32, get(loss, i, j->f32));
        k += n;
    }
    if (j->stream) stream_fence();
    free(heap);
}

/* Checks the index targets (first bad one in sample order) and returns the
 * mean's denominator: the sum of the weights of the non-ignored targets (their
 * count without weights: the same double, counted in an integer rather than by a
 * chain of dependent additions of 1.0). */
static int ce_check(const ag_ce_args *a, const ce_job *j, ptrdiff_t outer, double *den, int64_t *bad)
{
    double d = 0;
    ptrdiff_t count = 0;
    for (ptrdiff_t o = 0; o < outer; o++)
        for (ptrdiff_t s = 0; s < j->inner; s++) {
            int64_t t = a->target[o * j->to + s * j->ti];
            if (t == a->ignore_index) continue;
            if (t < 0 || t >= a->C) { *bad = t; return AG_LOSS_BAD_TARGET; }
            if (a->weight) d += get(a->weight, (ptrdiff_t)t, j->f32);
            else count++;
        }
    *den = a->weight ? d : (double)count;
    return AG_LOSS_OK;
}

static int cross_entropy(const ag_ce_args *a, double *total, int64_t *bad_target)
{
    ce_job j;
    memset(&j, 0, sizeof j);
    j.a = a;
    j.f32 = a->f32;
    j.esz = a->f32 ? sizeof(float) : sizeof(double);
    ptrdiff_t outer = a->outer, C = a->C;
    j.inner = a->inner;
    j.so = a->xs[0]; j.sc = a->xs[1]; j.si = a->xs[2];
    j.to = a->ts[0]; j.ti = a->ts[1]; j.go = a->gs[0]; j.gi = a->gs[1]; j.lo = a->ls[0]; j.li = a->ls[1];
    if (j.inner == 1) {  /* fold: the samples run along inner */
        j.inner = outer; outer = 1;
        j.si = j.so; j.ti = j.to; j.gi = j.go; j.li = j.lo;
    }
    const ptrdiff_t S = outer * j.inner;
    double den = (double)S;
    if (a->target) {
        int rc = ce_check(a, &j, outer, &den, bad_target);
        if (rc != AG_LOSS_OK) return rc;
    }
    j.on = 1.0 - a->label_smoothing;
    j.off = C ? a->label_smoothing / (double)C : 0.0;
    j.wsum = (double)C;
    if (a->weight) {
        j.wsum = 0;
        for (ptrdiff_t c = 0; c < C; c++) j.wsum += get(a->weight, c, j.f32);
    }
    j.scale = a->reduction == AG_REDUCE_MEAN ? a->grad / den : a->grad;

    /* layout: see the top of the file */
    const ag_kernel_table *kt = ag_kernels();
    j.tile = AG_CE_BLOCK;
    if (j.sc == 1 && C >= CE_ROWS_MIN) j.mode = ROWS;
    else if (j.si == 1 && j.inner > 1) j.mode = COLS;
    else j.mode = PACK;
    const int cols = j.mode == COLS || (j.mode == PACK && C < CE_ROWS_MIN);
    j.kernel = cols ? kt->ce_cols[!j.f32] : kt->ce_rows[!j.f32];
    j.stream = (j.mode == COLS || (j.mode == ROWS && j.si == C)) && a->dx
               && (double)(S * C) * (double)j.esz >= CE_STREAM_BYTES;
    if (j.mode != ROWS || j.stream) {  /* a tile of about CE_TILE_ELEMS (whole vectors of samples for ce_cols) */
        const ptrdiff_t fit = C ? (CE_TILE_ELEMS + C - 1) / C : AG_CE_BLOCK;
        j.tile = min2(AG_CE_BLOCK, cols ? (fit < 16 ? 16 : (fit + 15) / 16 * 16) : fit);
        j.pss = cols ? 1 : C;
        j.pcs = cols ? j.tile : 1;
    }

    j.chunk = C ? (CE_CHUNK_ELEMS + C - 1) / C : CE_CHUNK_ELEMS;
    const ptrdiff_t nchunks = (S + j.chunk - 1) / j.chunk;
    double small[64];
    if (total && a->reduction != AG_REDUCE_NONE) {
        j.partial = nchunks <= 64 ? small : malloc((size_t)nchunks * sizeof(double));
        if (!j.partial) return AG_LOSS_NOMEM;
        memset(j.partial, 0, (size_t)nchunks * sizeof(double));
    }
    j.want_loss = j.partial != NULL || (a->reduction == AG_REDUCE_NONE && a->loss != NULL);

    if (C > 0) {
        const ptrdiff_t grain = C < CE_GRAIN_ELEMS ? CE_GRAIN_ELEMS / C : 1;
        ag_parallel_for(S, grain, j.chunk, ce_range, &j);
    } else if (a->loss) {  /* no classes: every sample is ignored (checked above) or has loss 0 */
        for (ptrdiff_t k = 0; k < S; k++) put(a->loss, (k / j.inner) * j.lo + (k % j.inner) * j.li, j.f32, 0.0);
    }
    if (total) {
        double sum = 0;
        for (ptrdiff_t c = 0; j.partial && c < nchunks; c++) sum += j.partial[c];
        *total = a->reduction == AG_REDUCE_MEAN ? sum / den : sum;
    }
    if (j.partial != small) free(j.partial);
    return j.nomem ? AG_LOSS_NOMEM : AG_LOSS_OK;
}

/* The kernels may raise flags in lanes whose results are discarded, and 0/0 is the
 * mean of nothing: callers see their own flags unchanged. */
int ag_cross_entropy(const ag_ce_args *a, double *total, int64_t *bad_target)
{
    fexcept_t flags;
    ag_flags_save(&flags);
    int rc = cross_entropy(a, total, bad_target);
    ag_flags_restore(&flags);
    return rc;
}

