/* The softmax-family driver: runs the kernels of csrc/loops/softmax_body.h over an
 * array of any layout and dtype viewed as (outer, n, inner), on the thread pool.
 * docs/softmax.md describes the passes; the contract is in ag_softmax.h.
 *
 * Rows (the axis is contiguous, or any layout the column path does not take).  A row
 * of up to SM_ROW_BYTES per array is one piece, done in sweeps over data in L2: max;
 * exp and sum, storing e (softmax) or x - m (log_softmax) into y while the exp keeps the
 * core busy; the output (y/S, or y - log S).
 * It is read from memory once and written once.  A longer row is cut into pieces of
 * SM_PIECE_BYTES, each reduced the same way (the second sweep re-reads it from L1/L2);
 * the pieces' (max m_c, sum S_c) are combined in order into (M, S); then the outputs
 * are written: log_softmax x - M - log S and the backward passes read their inputs
 * a second time (two reads, one write: Dukhan & Ablavatski's two-pass softmax), while
 * softmax rescales the exp it stored by e^(m_c - M)/S.  That reads and writes y once
 * more but computes each exp once: here exp costs more than the extra memory traffic
 * (an AVX2 exp sweep ~2.5 cycles/element, the rescale ~0.3).  The pieces of one row run
 * on all threads.  Pieces and their combination order depend on n alone, so the results
 * do not depend on the thread count.
 *
 * Columns (inner > 1, float32/float64 operands contiguous along inner).  Each SIMD
 * lane reduces one column; a block of columns 4 KiB wide is swept row by row (whole
 * pages, in memory order), and no transposed copy is made (packing tiles of rows
 * would add a copy in and out).  The block (n x 4 KiB) is re-read from L2/L3 by the
 * later sweeps, so for n up to ~10^3 the array is read from memory about once.
 *
 * Short rows (n < SM_SHORT_N, the axis last or only outer axes before it): a row costs
 * ~150 cycles of reductions and constants besides its elements, so blocks of rows are
 * packed transposed into a buffer and run through the column kernels, one row per
 * SIMD lane (64 rows of 10 floats: ~2300 cycles instead of ~12500).
 *
 * Anything else (a strided axis, float16, bool and integers) is packed row by row
 * into a contiguous buffer of the compute type and unpacked afterwards.
 *
 * Streaming (backward passes on the rows path, outputs of SM_STREAM_BYTES or more, far
 * beyond the caches): the output sweep writes a row (or a long row's pieces) into a buffer
 * that stays in L1/L2, which is then copied out with non-temporal stores (tiles.h), as the
 * cross-entropy driver does.  Ordinary stores to out would first read each of its lines
 * from memory (read-for-ownership): 16 bytes of traffic per float32 element instead of 12,
 * on passes that are memory-bound (~0.3 ns of arithmetic per element against ~0.4 of
 * memory).  The forward passes are compute-bound (the exp costs ~0.6 ns per element in L1
 * on Zen 4), so the extra copy sweep would cost about what the saved traffic gains; they
 * store directly.  The arithmetic and its bits are unchanged. */
#include <fenv.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include "include/actgrad.h"
#include "convert.h"
#include "tiles.h"
#include "fpflags.h"

#define SM_ROW_BYTES (128 * 1024)   /* longest row (per array) done in one piece */
#define SM_PIECE_BYTES (32 * 1024)  /* piece of a longer row: fits in L1/L2 */
#define SM_COL_BYTES 4096           /* width of a column block (the kernels' AG_SM_COLS) */
#define SM_SHORT_N 32               /* rows shorter than this go through the column kernels */
#define SM_SHORT_ROWS 256           /* rows per block of the short-row path */
#define SM_SHORT_STACK (24 * 1024)  /* its three buffers up to this size are on the stack */
#define SM_GRAIN (1 << 16)          /* elements per thread range: ~20-50 us of work */
#define SM_STREAM_BYTES (1 << 23)   /* backward outputs from this size on are streamed out (rows path) */

typedef struct {
    int op, f32;
    ptrdiff_t size, outer, n, inner;
    ag_sm_array a, b, o;
    int has_b, direct[3];           /* a, b, out rows contiguous in the compute type */
    int stream;                     /* direct out rows written through a buffer, streamed out (backward) */
    const ag_softmax_kernels *k;
    ptrdiff_t piece, npieces;
    atomic_int failed;
} job;

/* One row: its operands in the array (element k at p + k*sk) and as contiguous
 * compute-type rows (the array itself where direct, else buffers); st holds the
 * pieces' reductions, row their combination. */
typedef struct {
    const job *j;
    const char *a, *b;
    char *o;
    char *pa, *pb, *po;
    double *st, row[3];
} row_ctx;

static int is_forward(int op) { return op == AG_SOFTMAX || op == AG_LOG_SOFTMAX || op == AG_LOGSUMEXP; }

static void load_row(const job *j, int dtype, const char *src, ptrdiff_t step, ptrdiff_t len, char *dst)
{
    if (j->f32) ag_load_f32(dtype, src, step, len, (float *)dst);
    else ag_load_f64(dtype, src, step, len, (double *)dst);
}

static void store_row(const job *j, const char *src, ptrdiff_t len, char *dst, ptrdiff_t step)
{
    if (j->f32) ag_store_f32(j->o.dtype, (const float *)src, len, dst, step);
    else ag_store_f64((const double *)src, len, dst, step);
}

static void store_one(const job *j, double v, char *dst)
{
    if (j->f32) {
        float f = (float)v;
        ag_store_f32(j->o.dtype, &f, 1, dst, 0);
    } else {
        ag_store_f64(&v, 1, dst, 0);
    }
}

/* Sweep 1 over pieces [p0, p1): pack the inputs, reduce each piece. */
static void row_reduce(void *ctx, ptrdiff_t p0, ptrdiff_t p1)
{
    row_ctx *r = (row_ctx *)ctx;
    const job *j = r->j;
    for (ptrdiff_t p = p0; p < p1; p++) {
        ptrdiff_t off = p * j->piece, len = j->n - off < j->piece ? j->n - off : j->piece;
        ptrdiff_t boff = off * j->size;
        if (!j->direct[0]) load_row(j, j->a.dtype, r->a + off * j->a.sk, j->a.sk, len, r->pa + boff);
        if (j->has_b && !j->direct[1]) load_row(j, j->b.dtype, r->b + off * j->b.sk, j->b.sk, len, r->pb + boff);
        if (is_forward(j->op)) {
            /* a one-piece softmax keeps e = exp(x - m) in out and scales it in sweep 2 */
            int keep = j->op == AG_SOFTMAX && j->npieces == 1;
            j->k->stats(j->op, len, r->pa + boff, keep ? r->po + boff : NULL, r->st + 3 * p);
        } else {
            const void *b = j->op == AG_SOFTMAX_BACKWARD ? r->pb + boff : NULL;
            j->k->dot(len, r->pa + boff, b, r->st + 3 * p);
        }
    }
}

/* Sweep 2 over pieces [p0, p1): the outputs, unpacked where not direct. */
static void row_apply(void *ctx, ptrdiff_t p0, ptrdiff_t p1)
{
    row_ctx *r = (row_ctx *)ctx;
    const job *j = r->j;
    ptrdiff_t off = p0 * j->piece, end = p1 * j->piece < j->n ? p1 * j->piece : j->n;
    if (j->op != AG_SOFTMAX || j->npieces > 1) {   /* from the inputs (softmax: exp again) */
        ptrdiff_t boff = off * j->size;
        j->k->apply(j->op, end - off, r->pa + boff, j->has_b ? r->pb + boff : NULL, r->row, 0, r->po + boff);
    } else {                                      /* one piece: out holds e^(x - m) */
        j->k->apply(AG_SOFTMAX_SCALE, j->n, r->po, NULL, r->row, r->row[0], r->po);
    }
    if (j->stream) {
        stream_copy(r->o + off * j->size, r->po + off * j->size, (size_t)((end - off) * j->size));
        stream_fence();
    } else if (!j->direct[2]) {
        store_row(j, r->po + off * j->size, end - off, r->o + off * j->o.sk, j->o.sk);
    }
}

static void run_row(row_ctx *r)
{
    const job *j = r->j;
    ptrdiff_t grain = SM_GRAIN / j->piece > 1 ? SM_GRAIN / j->piece : 1;
    ag_parallel_for(j->npieces, grain, 1, row_reduce, r);
    if (j->npieces == 1) {
        r->row[0] = r->st[0], r->row[1] = r->st[1], r->row[2] = r->st[2];
    } else {
        j->k->combine(j->npieces, r->st, r->row);
    }
    if (j->op == AG_LOGSUMEXP) store_one(j, j->k->logsumexp(r->row), r->o);
    else ag_parallel_for(j->npieces, grain, 1, row_apply, r);
}

static char *take(char **next, ptrdiff_t bytes)
{
    char *p = *next;
    *next += bytes;
    return p;
}

/* Rows [r0, r1) of the (outer, inner) grid, row q = (q / inner, q % inner). */
static void rows_range(void *ctx, ptrdiff_t r0, ptrdiff_t r1)
{
    job *j = (job *)ctx;
    int nbuf = !j->direct[0] + (j->has_b && !j->direct[1]) +
               (j->op != AG_LOGSUMEXP && (!j->direct[2] || j->stream));
    double st1[3];
    char *buf = nbuf ? malloc((size_t)(nbuf * j->n * j->size)) : NULL;
    double *st = j->npieces > 1 ? malloc((size_t)j->npieces * 3 * sizeof(double)) : st1;
    if ((nbuf && !buf) || !st) {
        atomic_store(&j->failed, 1);
        free(buf);
        if (st != st1) free(st);
        return;
    }
    const ptrdiff_t row_bytes = j->n * j->size;
    row_ctx r = { .j = j, .st = st };
    for (ptrdiff_t q = r0; q < r1; q++) {
        ptrdiff_t o = q / j->inner, i = q % j->inner;
        char *next = buf;   /* the buffers, in the order a, b, out */
        r.a = j->a.data + o * j->a.so + i * j->a.si;
        r.b = j->has_b ? j->b.data + o * j->b.so + i * j->b.si : NULL;
        r.o = j->o.data + o * j->o.so + i * j->o.si;
        r.pa = j->direct[0] ? (char *)r.a : take(&next, row_bytes);
        r.pb = !j->has_b || j->direct[1] ? (char *)r.b : take(&next, row_bytes);
        r.po = j->op == AG_LOGSUMEXP || (j->direct[2] && !j->stream) ? r.o : take(&next, row_bytes);
        run_row(&r);
    }
    free(buf);
    if (st != st1) free(st);
}

/* Column tiles [u0, u1) of the (outer, ceil(inner / w)) grid, w columns (4 KiB) each. */
static void cols_range(void *ctx, ptrdiff_t u0, ptrdiff_t u1)
{
    const job *j = (const job *)ctx;
    const ptrdiff_t w = SM_COL_BYTES / j->size, ntiles = (j->inner + w - 1) / w;
    _Alignas(64) char tmp[SM_COL_BYTES];   /* logsumexp results of a tile whose out is strided */
    for (ptrdiff_t u = u0; u < u1; u++) {
        ptrdiff_t o = u / ntiles, c = (u % ntiles) * w, nc = j->inner - c < w ? j->inner - c : w;
        const char *a = j->a.data + o * j->a.so + c * j->size;
        char *out = j->o.data + o * j->o.so + c * j->o.si;
        if (is_forward(j->op)) {
            int tmp_out = j->op == AG_LOGSUMEXP && j->o.si != j->size;
            j->k->col_forward(j->op, j->n, nc, a, j->a.sk / j->size, tmp_out ? tmp : out, j->o.sk / j->size);
            if (tmp_out) store_row(j, tmp, nc, out, j->o.si);
        } else {
            const char *b = j->b.data + o * j->b.so + c * j->size;
            j->k->col_backward(j->op, j->n, nc, a, j->a.sk / j->size, b, j->b.sk / j->size,
                               out, j->o.sk / j->size);
        }
    }
}

/* Short rows [r0, r1) (inner == 1): blocks of rows packed as columns, element (row q, k)
 * at buf + (k*rows + q - q0) elements. */
static void short_rows_range(void *ctx, ptrdiff_t r0, ptrdiff_t r1)
{
    job *j = (job *)ctx;
    const ptrdiff_t n = j->n, size = j->size;
    const ptrdiff_t block = (r1 - r0 < SM_SHORT_ROWS ? r1 - r0 : SM_SHORT_ROWS) * n * size;
    _Alignas(64) char stack[SM_SHORT_STACK];   /* a small call's buffers: no malloc */
    char *buf = 3 * block <= SM_SHORT_STACK ? stack : malloc((size_t)(3 * block));
    if (!buf) {
        atomic_store(&j->failed, 1);
        return;
    }
    char *pa = buf, *pb = buf + block, *po = pb + block;
    /* operands whose rows are contiguous in the compute type are packed and unpacked by
     * register transposes (tiles.h); the others element by element, converted */
    const int native = j->f32 ? AG_FLOAT32 : AG_FLOAT64;
    const int ta = j->a.dtype == native && j->a.sk == size && j->a.so % size == 0;
    const int tb = j->has_b && j->b.dtype == native && j->b.sk == size && j->b.so % size == 0;
    const int to = j->o.dtype == native && j->o.sk == size && j->o.so % size == 0;
    for (ptrdiff_t q0 = r0; q0 < r1; q0 += SM_SHORT_ROWS) {
        ptrdiff_t rows = r1 - q0 < SM_SHORT_ROWS ? r1 - q0 : SM_SHORT_ROWS;
        if (ta) transpose(j->f32, rows, n, pa, rows, j->a.data + q0 * j->a.so, j->a.so / size);
        if (tb) transpose(j->f32, rows, n, pb, rows, j->b.data + q0 * j->b.so, j->b.so / size);
        for (ptrdiff_t k = 0; k < n && !(ta && (tb || !j->has_b)); k++) {
            if (!ta)
                load_row(j, j->a.dtype, j->a.data + q0 * j->a.so + k * j->a.sk, j->a.so, rows, pa + k * rows * size);
            if (j->has_b && !tb)
                load_row(j, j->b.dtype, j->b.data + q0 * j->b.so + k * j->b.sk, j->b.so, rows, pb + k * rows * size);
        }
        if (j->op == AG_LOGSUMEXP) {
            j->k->col_forward(j->op, n, rows, pa, rows, po, 0);
            store_row(j, po, rows, j->o.data + q0 * j->o.so, j->o.so);
            continue;
        }
        if (j->has_b) j->k->col_backward(j->op, n, rows, pa, rows, pb, rows, po, rows);
        else j->k->col_forward(j->op, n, rows, pa, rows, po, rows);
        if (to) {
            transpose(j->f32, n, rows, j->o.data + q0 * j->o.so, j->o.so / size, po, rows);
            continue;
        }
        for (ptrdiff_t k = 0; k < n; k++)
            store_row(j, po + k * rows * size, rows, j->o.data + q0 * j->o.so + k * j->o.sk, j->o.so);
    }
    if (buf != stack) free(buf);
}

static int computes_in_f32(int dtype) { return dtype == AG_FLOAT16 || dtype == AG_FLOAT32; }

/* The column path: float32/float64 operands, contiguous along inner, axis strides in whole elements. */
static int columns_apply(const job *j)
{
    const int native = j->f32 ? AG_FLOAT32 : AG_FLOAT64;
    const ag_sm_array *ops[3] = { &j->a, j->has_b ? &j->b : &j->a, &j->o };
    if (j->inner < 2) return 0;
    for (int q = 0; q < 3; q++) {
        int is_lse_out = q == 2 && j->op == AG_LOGSUMEXP;
        if (ops[q]->dtype != native) return 0;
        if (!is_lse_out && (ops[q]->si != j->size || ops[q]->sk % j->size != 0)) return 0;
    }
    return 1;
}

int ag_softmax(int op, ptrdiff_t outer, ptrdiff_t n, ptrdiff_t inner,
               const ag_sm_array *a, const ag_sm_array *b, const ag_sm_array *out)
{
    if (op < AG_SOFTMAX || op > AG_LOG_SOFTMAX_BACKWARD || outer < 0 || n < 0 || inner < 0 ||
        !a || !out || (!is_forward(op) && !b))
        return -1;
    job j = { .op = op, .outer = outer, .n = n, .inner = inner, .a = *a, .o = *out };
    j.has_b = !is_forward(op);
    if (j.has_b) j.b = *b;
    j.f32 = computes_in_f32(a->dtype);
    if (j.has_b && computes_in_f32(b->dtype) != j.f32) return -1;
    if (j.f32 ? !computes_in_f32(out->dtype) : out->dtype != AG_FLOAT64) return -1;
    if (outer == 0 || inner == 0) return 0;

    fexcept_t flags;   /* masked lanes and inf - inf in special rows raise flags nobody asked for */
    ag_flags_save(&flags);
    if (n == 0) {      /* softmax of nothing is nothing; logsumexp of nothing is -inf */
        if (op == AG_LOGSUMEXP)
            for (ptrdiff_t o = 0; o < outer; o++)
                for (ptrdiff_t i = 0; i < inner; i++)
                    store_one(&j, -INFINITY, out->data + o * out->so + i * out->si);
        ag_flags_restore(&flags);
        return 0;
    }
    j.size = j.f32 ? (ptrdiff_t)sizeof(float) : (ptrdiff_t)sizeof(double);
    j.k = &ag_kernels()->softmax[j.f32 ? 0 : 1];
    const int native = j.f32 ? AG_FLOAT32 : AG_FLOAT64;
    j.direct[0] = a->dtype == native && a->sk == j.size;
    j.direct[1] = j.has_b && b->dtype == native && b->sk == j.size;
    j.direct[2] = out->dtype == native && out->sk == j.size;
    j.piece = n * j.size <= SM_ROW_BYTES ? n : SM_PIECE_BYTES / j.size;
    j.npieces = (n + j.piece - 1) / j.piece;
    atomic_init(&j.failed, 0);

    if (inner == 1 && n < SM_SHORT_N) {
        ptrdiff_t grain = SM_GRAIN / n;
        ag_parallel_for(outer, grain, SM_SHORT_ROWS, short_rows_range, &j);
    } else if (columns_apply(&j)) {
        ptrdiff_t w = SM_COL_BYTES / j.size, units = outer * ((inner + w - 1) / w);
        ptrdiff_t grain = SM_GRAIN / (n * w) > 1 ? SM_GRAIN / (n * w) : 1;
        ag_parallel_for(units, grain, 1, cols_range, &j);
    } else {
        ptrdiff_t grain = SM_GRAIN / n > 1 ? SM_GRAIN / n : 1;
        j.stream = j.direct[2] && !is_forward(op) &&
                   (double)outer * (double)n * (double)inner * (double)j.size >= SM_STREAM_BYTES;
        ag_parallel_for(outer * inner, grain, 1, rows_range, &j);
    }
    ag_flags_restore(&flags);
    return atomic_load(&j.failed) ? -1 : 0;
}
