/* Fuzz harness of the softmax family's plain C API (include/ag_softmax.h): ag_softmax over
 * every op and dtype class, arrays viewed as (outer, n, inner) laid out in memory in any axis
 * order, with any signs and gaps, output aliasing the input, any thread count.
 *
 * libFuzzer-compatible; built and run with gcc by `make -C csrc fuzz` through fuzz/driver.c
 * (corpus fuzz/corpus_softmax).  clang + libFuzzer: as fuzz_elementwise.c, with
 * csrc/softmax.c instead of csrc/elementwise.c.
 *
 * Input layout (missing bytes read as 0):
 *   [0] op (AG_SOFTMAX .. AG_LOG_SOFTMAX_BACKWARD)  [1] dtype of a  [2] dtype of b (same class)
 *   [3] out dtype choice (float16 or float32 where the class is float32)
 *   [4] outer (0..5)  [5..6] n (0..1200)  [7] inner (0..5)
 *   [8] flags: 1 long rows (16385 + n: split into pieces and combined)  2 out aliases a
 *              4 b aliases a  8 raise FE_INEXACT before the call
 *   [9..11] layout of a, b, out: axis order (6), axis signs (3 bits), gap on the fastest axis
 *   [12] thread count (1..4)   [16..] data: raw element bytes of a, then b, cycled.
 *
 * Checks, besides ASan/UBSan reports:
 *   - every SIMD path, every layout and thread count give bitwise the result of the scalar
 *     path on C-contiguous copies (NaN == NaN); nothing outside out's elements is written;
 *     the inputs are not modified; the caller's floating-point flags are unchanged;
 *   - softmax rows of finite inputs lie in [0, 1] and sum to 1 within (n + 2) eps of the
 *     output type; log_softmax <= 0; logsumexp >= the row max (and -inf for n == 0);
 *     a NaN anywhere in a row of a gives NaN in every output of that row. */
#include <fenv.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../include/actgrad.h"
#include "../include/ag_softmax.h"
#include "../convert.h"

#include "fuzzutil.h"

typedef struct {
    int op, dt[3], has_b, alias_out, alias_b, fpflag, nthreads, layout[3];
    ptrdiff_t outer, n, inner;
    unsigned char *val[2];   /* logical a and b, C order (outer, n, inner), their dtypes */
} scase;

static void sfail(const scase *c, const char *what, ptrdiff_t o, ptrdiff_t k, ptrdiff_t i)
{
    fprintf(stderr, "\nFUZZ INVARIANT FAILED: %s\n  op=%d dtypes=%d,%d,%d outer=%td n=%td inner=%td "
            "at (%td,%td,%td) isa=%s layouts=%d,%d,%d alias_out=%d alias_b=%d threads=%d\n",
            what, c->op, c->dt[0], c->dt[1], c->dt[2], c->outer, c->n, c->inner, o, k, i, ag_isa_name(),
            c->layout[0], c->layout[1], c->layout[2], c->alias_out, c->alias_b, c->nthreads);
    abort();
}

/* An array of (outer, n, inner) elements of size es in an exact-size, canary-filled buffer,
 * laid out by `code`: axis order, axis signs, a gap on the fastest axis. */
typedef struct { unsigned char *mem, *base; size_t bytes; ptrdiff_t so, sk, si; } sarr;

static sarr make_arr(ptrdiff_t dims[3], int es, int code)
{
    static const int perms[6][3] = { { 0, 1, 2 }, { 0, 2, 1 }, { 1, 0, 2 }, { 1, 2, 0 }, { 2, 0, 1 }, { 2, 1, 0 } };
    const int *perm = perms[(code & 0xff) % 6];   /* perm[0] slowest ... perm[2] fastest */
    int signs = (code >> 3) & 7, gap = 1 + ((code >> 6) & 1);
    ptrdiff_t stride[3], step = (ptrdiff_t)es * gap, span = 1;
    for (int q = 2; q >= 0; q--) {
        int ax = perm[q];
        stride[ax] = step;
        step *= dims[ax] > 0 ? dims[ax] : 1;
    }
    sarr a;
    ptrdiff_t lo = 0, hi = 0;
    for (int ax = 0; ax < 3; ax++) {
        if (signs >> ax & 1) stride[ax] = -stride[ax];
        ptrdiff_t ext = (dims[ax] > 0 ? dims[ax] - 1 : 0) * stride[ax];
        if (ext < 0) lo += ext; else hi += ext;
    }
    span = hi - lo + es;
    a.bytes = (size_t)span;
    a.mem = malloc(a.bytes);
    memset(a.mem, 0xA5, a.bytes);
    a.base = a.mem - lo;
    a.so = stride[0]; a.sk = stride[1]; a.si = stride[2];
    return a;
}

static unsigned char *at(const sarr *a, ptrdiff_t o, ptrdiff_t k, ptrdiff_t i)
{
    return a->base + o * a->so + k * a->sk + i * a->si;
}

/* Runs the op at the given layouts and returns out's logical elements (C order), malloc'ed. */
static unsigned char *run(const scase *c, const int layout[3], int check_canaries)
{
    ptrdiff_t dims[3] = { c->outer, c->n, c->inner };
    ptrdiff_t odims[3] = { c->outer, c->op == AG_LOGSUMEXP ? 1 : c->n, c->inner };
    const int eo = esize_of[c->dt[2]];
    sarr arr[2], out;
    for (int q = 0; q < 1 + c->has_b; q++) {
        if (q == 1 && c->alias_b) { arr[1] = arr[0]; continue; }
        arr[q] = make_arr(dims, esize_of[c->dt[q]], layout[q]);
        for (ptrdiff_t o = 0; o < c->outer; o++)
            for (ptrdiff_t k = 0; k < c->n; k++)
                for (ptrdiff_t i = 0; i < c->inner; i++)
                    memcpy(at(&arr[q], o, k, i), c->val[q] + ((o * c->n + k) * c->inner + i) * esize_of[c->dt[q]],
                           (size_t)esize_of[c->dt[q]]);
    }
    out = c->alias_out ? arr[0] : make_arr(odims, eo, layout[2]);
    ag_sm_array A = { (char *)arr[0].base, arr[0].so, arr[0].sk, arr[0].si, c->dt[0] };
    ag_sm_array B = { c->has_b ? (char *)arr[1].base : NULL, c->has_b ? arr[1].so : 0, c->has_b ? arr[1].sk : 0,
                      c->has_b ? arr[1].si : 0, c->dt[1] };
    ag_sm_array O = { (char *)out.base, out.so, out.sk, out.si, c->dt[2] };
    ag_set_num_threads(c->nthreads);
    feclearexcept(FE_ALL_EXCEPT);
    if (c->fpflag) feraiseexcept(FE_INEXACT);
    int before = fetestexcept(FE_ALL_EXCEPT);
    int rc = ag_softmax(c->op, c->outer, c->n, c->inner, &A, c->has_b ? &B : NULL, &O);
    int after = fetestexcept(FE_ALL_EXCEPT);
    feclearexcept(FE_ALL_EXCEPT);
    if (rc != 0) sfail(c, "ag_softmax refused valid arguments", -1, -1, -1);
    if (after != before) sfail(c, "the caller's floating-point flags changed", -1, -1, -1);

    unsigned char *res = malloc((size_t)(c->outer * odims[1] * c->inner * eo) + 1);
    for (ptrdiff_t o = 0; o < c->outer; o++)
        for (ptrdiff_t k = 0; k < odims[1]; k++)
            for (ptrdiff_t i = 0; i < c->inner; i++)
                memcpy(res + ((o * odims[1] + k) * c->inner + i) * eo, at(&out, o, k, i), (size_t)eo);
    if (check_canaries) {
        /* bytes of out that are not elements keep their canary (element bytes are overwritten) */
        unsigned char *mark = calloc(out.bytes, 1);
        for (ptrdiff_t o = 0; o < c->outer; o++)
            for (ptrdiff_t k = 0; k < odims[1]; k++)
                for (ptrdiff_t i = 0; i < c->inner; i++)
                    memset(mark + (at(&out, o, k, i) - out.mem), 1, (size_t)eo);
        for (size_t b = 0; b < out.bytes; b++)
            if (!mark[b] && out.mem[b] != 0xA5) sfail(c, "a byte outside out's elements was written", -1, -1, -1);
        free(mark);
        for (int q = 0; q < 1 + c->has_b && !c->alias_out; q++)
            for (ptrdiff_t o = 0; o < c->outer; o++)
                for (ptrdiff_t k = 0; k < c->n; k++)
                    for (ptrdiff_t i = 0; i < c->inner; i++)
                        if (memcmp(at(&arr[q], o, k, i), c->val[q] + ((o * c->n + k) * c->inner + i) * esize_of[c->dt[q]],
                                   (size_t)esize_of[c->dt[q]]))
                            sfail(c, "an input was modified", o, k, i);
    }
    if (!c->alias_out) free(out.mem);
    free(arr[0].mem);
    if (c->has_b && !c->alias_b) free(arr[1].mem);
    return res;
}

static void invariants(const scase *c, const unsigned char *ref)
{
    const int eo = esize_of[c->dt[2]], ea = esize_of[c->dt[0]];
    const double eps = c->dt[2] == AG_FLOAT16 ? 0x1p-11 : c->dt[2] == AG_FLOAT32 ? 0x1p-24 : 0x1p-53;
    const ptrdiff_t on = c->op == AG_LOGSUMEXP ? 1 : c->n;
    for (ptrdiff_t o = 0; o < c->outer; o++)
        for (ptrdiff_t i = 0; i < c->inner; i++) {
            int nan_row = 0, finite_row = 1;
            double mx = -INFINITY;
            for (ptrdiff_t k = 0; k < c->n; k++) {
                double v = load_elem(c->dt[0], c->val[0] + ((o * c->n + k) * c->inner + i) * ea);
                if (c->has_b) {
                    double w = load_elem(c->dt[1], c->val[1] + ((o * c->n + k) * c->inner + i) * esize_of[c->dt[1]]);
                    finite_row &= isfinite(w);
                }
                nan_row |= isnan(v);
                finite_row &= isfinite(v);
                if (c->dt[0] == AG_FLOAT16 || c->dt[0] == AG_FLOAT32) v = (float)v;
                if (v > mx) mx = v;
            }
            /* logsumexp >= the row max, as the output dtype holds it: +-inf beyond its range
             * (a float32 max of -1.6e21 has a float16 logsumexp of -inf) */
            const double big = c->dt[2] == AG_FLOAT16 ? 65520.0 : c->dt[2] == AG_FLOAT32 ? 0x1.ffffffp127 : INFINITY;
            const double mxo = fabs(mx) >= big ? copysign(INFINITY, mx) : mx;
            const double lse_floor = isinf(mxo) ? mxo : mxo - fabs(mxo) * eps;
            double sum = 0;
            for (ptrdiff_t k = 0; k < on; k++) {
                double r = load_elem(c->dt[2], ref + ((o * on + k) * c->inner + i) * eo);
                if (nan_row && !isnan(r)) sfail(c, "NaN in a row did not give NaN in all its outputs", o, k, i);
                if (!finite_row) continue;
                if (c->op == AG_SOFTMAX && !(r >= 0 && r <= 1)) sfail(c, "softmax outside [0, 1]", o, k, i);
                if (c->op == AG_LOG_SOFTMAX && !(r <= 0)) sfail(c, "log_softmax > 0", o, k, i);
                if (c->op == AG_LOGSUMEXP && c->n > 0 && !(r >= lse_floor))
                    sfail(c, "logsumexp below the row max", o, k, i);
                sum += r;
            }
            if (c->op == AG_LOGSUMEXP && c->n == 0 &&
                load_elem(c->dt[2], ref + (o * c->inner + i) * eo) != -INFINITY)
                sfail(c, "logsumexp of an empty row is not -inf", o, 0, i);
            if (c->op == AG_SOFTMAX && finite_row && c->n > 0 && !(fabs(sum - 1) <= (double)(c->n + 2) * eps))
                sfail(c, "softmax row does not sum to 1 within (n + 2) eps", o, -1, i);
        }
}

static uint8_t hb(const uint8_t *d, size_t size, size_t i) { return i < size ? d[i] : 0; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const isas[] = { AG_ISAS(AG_ISA_NAME_STR) };
    static const int f32class[] = { AG_FLOAT16, AG_FLOAT32 };
    static const int f64class[] = { AG_BOOL, AG_INT8, AG_UINT8, AG_INT16, AG_UINT16, AG_INT32, AG_UINT32,
                                    AG_INT64, AG_UINT64, AG_FLOAT64 };
    scase c;
    memset(&c, 0, sizeof c);
    c.op = AG_SOFTMAX + hb(data, size, 0) % (AG_LOG_SOFTMAX_BACKWARD - AG_SOFTMAX + 1);
    c.has_b = c.op == AG_SOFTMAX_BACKWARD || c.op == AG_LOG_SOFTMAX_BACKWARD;
    int f32 = hb(data, size, 1) & 1;
    c.dt[0] = f32 ? f32class[(hb(data, size, 1) >> 1) % 2] : f64class[(hb(data, size, 1) >> 1) % 10];
    c.dt[1] = f32 ? f32class[hb(data, size, 2) % 2] : f64class[hb(data, size, 2) % 10];
    c.dt[2] = f32 ? f32class[hb(data, size, 3) % 2] : AG_FLOAT64;
    c.outer = hb(data, size, 4) % 6;
    c.n = (hb(data, size, 5) | hb(data, size, 6) << 8) % 1201;
    c.inner = hb(data, size, 7) % 6;
    uint8_t flags = hb(data, size, 8);
    if (flags & 1) {   /* long rows: pieces; few of them */
        c.n = 16385 + c.n * 16;
        if (c.outer * c.inner > 2) c.outer = 1, c.inner = 2;
    }
    c.alias_b = c.has_b && (flags & 4) && c.dt[1] == c.dt[0];
    c.alias_out = (flags & 2) && c.op != AG_LOGSUMEXP && c.dt[2] == c.dt[0];
    c.fpflag = (flags & 8) != 0;
    c.nthreads = 1 + hb(data, size, 12) % 4;
    for (int q = 0; q < 3; q++) c.layout[q] = hb(data, size, 9 + (size_t)q);
    /* FUZZ_SOFTMAX_SAME_LAYOUT=1: the reference is the scalar path at the fuzzed layout, not on
     * C-contiguous copies, so only the SIMD path, thread count and aliasing vary against it (for
     * narrowing a failure down).  Unset (as `make fuzz` runs it), any layout dependence is
     * reported: rows and columns sum in the same slots (loops/softmax_body.h). */
    static int same_layout = -1;
    if (same_layout < 0) same_layout = getenv("FUZZ_SOFTMAX_SAME_LAYOUT") != NULL;
    if (c.alias_b) c.layout[1] = c.layout[0];
    if (c.alias_out) c.layout[2] = c.layout[0];

    const size_t dlen = size > 16 ? size - 16 : 0;
    const ptrdiff_t count = c.outer * c.n * c.inner;
    size_t pos = 0;
    for (int q = 0; q < 2; q++) {
        int es = esize_of[c.dt[q]];
        c.val[q] = malloc((size_t)(count * es) + 1);
        for (ptrdiff_t e = 0; e < count * es; e++) c.val[q][e] = dlen ? data[16 + pos++ % dlen] : 0;
    }
    if (c.alias_b) memcpy(c.val[1], c.val[0], (size_t)(count * esize_of[c.dt[0]]));

    const char *before = ag_isa_name();
    ag_set_isa("scalar");
    scase contiguous = c;
    contiguous.alias_out = same_layout ? c.alias_out : 0;
    contiguous.nthreads = 1;
    const int clayout[3] = { 0, 0, 0 };
    unsigned char *ref = run(&contiguous, same_layout ? c.layout : clayout, 0);
    invariants(&c, ref);
    const ptrdiff_t ocount = c.outer * (c.op == AG_LOGSUMEXP ? 1 : c.n) * c.inner;
    for (int s = 0; s < (int)(sizeof isas / sizeof *isas); s++) {
        if (!ag_isa_supported(isas[s])) continue;
        ag_set_isa(isas[s]);
        unsigned char *res = run(&c, c.layout, 1);
        const ptrdiff_t on = c.op == AG_LOGSUMEXP ? 1 : c.n;
        for (ptrdiff_t e = 0; e < ocount; e++)
            if (!same_out(c.dt[2], res + e * esize_of[c.dt[2]], ref + e * esize_of[c.dt[2]])) {
                fprintf(stderr, "  got %a, expected %a\n", load_elem(c.dt[2], res + e * esize_of[c.dt[2]]),
                        load_elem(c.dt[2], ref + e * esize_of[c.dt[2]]));
                sfail(&c, "result differs from the scalar path on contiguous copies", e / (on * c.inner),
                      e / c.inner % on, e % c.inner);
            }
        free(res);
    }
    ag_set_isa(before);
    free(ref);
    free(c.val[0]);
    free(c.val[1]);
    return 0;
}
