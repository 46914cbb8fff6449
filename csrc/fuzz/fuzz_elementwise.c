/* Fuzz harness of the plain C API (include/actgrad.h): ag_elementwise over every op, call
 * and dtype, with any length, strides, offsets, aliasing, parameters and thread count.
 *
 * libFuzzer-compatible (LLVMFuzzerTestOneInput).  Builds:
 *   gcc (no libFuzzer needed):  make -C csrc fuzz FUZZ_SECONDS=60   (uses fuzz/driver.c)
 *   clang + libFuzzer:          clang -std=c11 -O1 -g -ffp-contract=off -fno-math-errno -pthread \
 *                                 -fsanitize=fuzzer,address,undefined -Icsrc/include \
 *                                 csrc/fuzz/fuzz_elementwise.c csrc/dispatch.c csrc/elementwise.c \
 *                                 csrc/parallel.c csrc/isa/kernels_*.c -lm -o fuzz_elementwise
 *                               ./fuzz_elementwise -max_total_time=60 csrc/fuzz/corpus
 *
 * Input layout (missing bytes read as 0; everything is reduced modulo its range, so every
 * input is a valid case):
 *   [0] op  [1] call  [2] dtype  [3..4] length (little-endian, mod 4097)
 *   [5] flags: 1 big (2^18 + length elements, threaded)  2 output aliases an input (in place)
 *              4 in place on the second array  8 the two arrays alias each other
 *              16 parameters vary per element  32 raise FE_INEXACT before the call
 *              64 unchecked parameters (any double: only "no crash" and path identity checked)
 *   [6..8] element strides of array 0, array 1, output (signed, -3..3; the output's never 0)
 *   [9..11] offsets in elements (0..15) of the same
 *   [12] [13] parameter 0 and 1: an index into special_params, else raw bits from the data
 *   [14] thread count (1..4, bits 0-1); in place, bits 2-6: the output lies 0..31 elements
 *        behind the input in the direction of travel (partly overlapping it, as NumPy passes
 *        f(buf[k:], out=buf[:-k]) without a copy); bit 7: also run a backward call as NumPy's
 *        ufunc.accumulate and ufunc.reduce call it (the output fed back as the first input)
 *   [15] per-element parameters: stride code and run length
 *   [16..] data: raw bytes of the array elements in the input dtype, cycled as needed.
 *
 * Checks, besides ASan/UBSan reports:
 *   - every SIMD path the machine has (ag_set_isa), at the fuzzed layout and contiguous at an
 *     offset, gives bitwise the result of the scalar kernel run on contiguous copies in the
 *     compute type (NaN == NaN): strided == contiguous, any alignment, any path, any thread count;
 *   - float16 results are the float32 kernel's rounded to nearest even (the compiler's _Float16
 *     conversions are the reference where available), integers/bool are computed in float64;
 *   - nothing is written outside the output's elements (canary bytes in the gaps and around),
 *     inputs are not modified, the caller's floating-point flags are unchanged;
 *   - NaN in any array input gives NaN; sigmoid in [0, 1], tanh in [-1, 1] (and similar ranges);
 *   - backward(dy, x) is dy * f'(x) rounded once: within 1 ULP of dy * derivative(x) (float32
 *     also: or of dy times the float64 kernel's f', see check_backward; also the _from_output
 *     pair).
 * Parameters are valid by construction (the C core trusts Python's checks in _optable.py,
 * mirrored in repair_params below), except in the unchecked mode.
 * An invariant that fails prints the case and aborts, like a sanitizer report. */
#include <fenv.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../include/actgrad.h"
#include "../convert.h"

#define MAXLEN 4096
#define BIGLEN (1 << 18)

#include "fuzzutil.h"

/* float32 -> float16 independent of convert.h where the compiler has _Float16. */
static uint16_t float_to_half(float f)
{
#ifdef __FLT16_MAX__
    _Float16 v = (_Float16)f;
    uint16_t h;
    memcpy(&h, &v, 2);
    return h;
#else
    return ag_float_to_half(f);
#endif
}


/* Distance in ULPs of two non-NaN values of the compute type (-0 and +0 are 0 apart). */
static uint64_t ulp_dist(int f32, double a, double b)
{
    int64_t ia, ib;
    if (f32) {
        float fa = (float)a, fb = (float)b;
        int32_t ja, jb;
        memcpy(&ja, &fa, 4); memcpy(&jb, &fb, 4);
        ia = ja < 0 ? (int64_t)INT32_MIN - ja : ja;
        ib = jb < 0 ? (int64_t)INT32_MIN - jb : jb;
    } else {
        memcpy(&ia, &a, 8); memcpy(&ib, &b, 8);
        if (ia < 0) ia = INT64_MIN - ia;   /* a monotonic integer line through 0 */
        if (ib < 0) ib = INT64_MIN - ib;
    }
    uint64_t ua = (uint64_t)ia + 0x8000000000000000ULL, ub = (uint64_t)ib + 0x8000000000000000ULL;
    return ua > ub ? ua - ub : ub - ua;
}

/* ---- parameters ---- */

static const double special_params[] = {
    1.0, 0.5, 2.0, 0.01, 0.2, -1.0, -0.5, 0.0, -0.0, 1e-300, -1e-300, 4.9406564584124654e-324,
    1e300, -1e300, INFINITY, -INFINITY, NAN, 20.0, -20.0, 3.0, 6.0, 1e-8, 100.0, 1.6732632423543772,
    -2.0, 0.25, 1e-45, 3.4028234663852886e38, 1e39, -6.0, 0x1p-126, 0x1p-149,
};
#define NSPECIAL ((int)(sizeof special_params / sizeof special_params[0]))

static int op_is(int op, const char *name) { const char *s = ag_op_name(op); return s && strcmp(s, name) == 0; }

static int from_output_call(int call) { return call == AG_DERIVATIVE_FROM_OUTPUT || call == AG_BACKWARD_FROM_OUTPUT; }

static double positive(double p) { return p > 0 ? p : (fabs(p) > 0 ? fabs(p) : 1.0); }

/* Makes (p0, p1) pass the checks the Python layer applies (src/actgrad/_optable.py):
 *   leaky_relu, elu: from-output calls need p0 > 0;  celu: p0 != 0, from-output p0 > 0;
 *   softplus: beta > 0 (threshold anything);  hardtanh: min_val <= max_val (no NaN).
 * An op with parameters unknown here gets ordered values in [0.25, 4]. */
static void repair_params(int op, int call, double *p0, double *p1)
{
    if (op_is(op, "leaky_relu") || op_is(op, "elu")) {
        if (from_output_call(call)) *p0 = positive(*p0);
    } else if (op_is(op, "celu")) {
        if (*p0 == 0) *p0 = 1.0;
        if (from_output_call(call)) *p0 = positive(*p0);
    } else if (op_is(op, "softplus")) {
        *p0 = positive(*p0);
    } else if (op_is(op, "hardtanh")) {
        if (isnan(*p0)) *p0 = -1.0;
        if (isnan(*p1)) *p1 = 1.0;
        if (*p0 > *p1) { double t = *p0; *p0 = *p1; *p1 = t; }
    } else if (ag_op_nparams(op) > 0) {
        double a = isfinite(*p0) ? fmin(fmax(fabs(*p0), 0.25), 4.0) : 1.0;
        double b = isfinite(*p1) ? fmin(fmax(fabs(*p1), 0.25), 4.0) : 2.0;
        *p0 = fmin(a, b);
        *p1 = fmax(a, b);
    }
}

/* ---- the case ---- */

typedef struct {
    int op, call, dtype, out_dtype, f32, narr, nparams;
    ptrdiff_t n;
    int stride[3], off[3];   /* in elements: array 0, array 1, output */
    int inplace;             /* -1, or the array the output aliases */
    int shift;               /* in place: the output lies `shift` elements behind that array */
    int chain;               /* also run as ufunc.accumulate and ufunc.reduce (backward calls) */
    int alias_ab;            /* array 1 is array 0's memory */
    int per_elem, pstride;   /* parameters per element, their stride in doubles */
    int checked, fpflag, nthreads;
    unsigned char *vals[2];  /* n logical elements of each array, contiguous, input dtype */
    double *pv[2];           /* n values of each parameter */
} fcase;

static uint8_t hb(const uint8_t *d, size_t size, size_t i) { return i < size ? d[i] : 0; }

static int stride_code(uint8_t b) { return (int)((int8_t)b % 4); }

static void fail(const fcase *c, const char *what, ptrdiff_t i)
{
    fprintf(stderr,
            "\nFUZZ INVARIANT FAILED: %s\n  op=%s call=%d dtype=%d n=%td element=%td isa=%s\n"
            "  strides=%d,%d,%d offsets=%d,%d,%d inplace=%d alias_ab=%d per_elem=%d pstride=%d "
            "checked=%d threads=%d\n",
            what, ag_op_name(c->op), c->call, c->dtype, c->n, i, ag_isa_name(), c->stride[0], c->stride[1],
            c->stride[2], c->off[0], c->off[1], c->off[2], c->inplace, c->alias_ab, c->per_elem, c->pstride,
            c->checked, c->nthreads);
    if (i >= 0 && i < c->n) {
        for (int k = 0; k < c->narr; k++)
            fprintf(stderr, "  array %d element: %.17g\n", k, load_elem(c->dtype, c->vals[k] + i * esize_of[c->dtype]));
        for (int k = 0; k < c->nparams; k++) fprintf(stderr, "  param %d: %.17g\n", k, c->pv[k][i]);
    }
    abort();
}

/* The expected output, in the compute type (ref_c, n doubles holding floats when f32) and
 * in the output dtype (ref_o): the scalar kernel on contiguous compute-type copies. */
static void reference(const fcase *c, int call, double *ref_c, unsigned char *ref_o)
{
    ag_kernel_fn k = ag_kernels_scalar.elementwise[c->op][call][c->f32 ? 0 : 1];
    ptrdiff_t n = c->n;
    int arr = (call == AG_BACKWARD || call == AG_BACKWARD_FROM_OUTPUT) ? 2 : 1;
    ptrdiff_t cs = c->f32 ? 4 : 8;
    unsigned char *in[2], *out = malloc((size_t)(n * cs));
    for (int a = 0; a < 2; a++) {
        in[a] = malloc((size_t)(n * cs));
        /* the arrays of a unary call: its one array is array 0 (or array 1 for the
         * derivative that checks a backward call) */
        int src = arr == 2 ? a : (c->narr == 2 ? 1 : 0);
        for (ptrdiff_t i = 0; i < n; i++) {
            double v = load_elem(c->dtype, c->vals[src] + i * esize_of[c->dtype]);
            if (c->f32) { float f = (float)v; memcpy(in[a] + i * cs, &f, 4); }
            else memcpy(in[a] + i * cs, &v, 8);
        }
    }
    const void *ka = in[0], *kb = arr == 2 ? in[1] : NULL;
    if (!c->per_elem) {
        double prm[2] = { c->pv[0][0], c->pv[1][0] };
        k(n, ka, kb, out, prm);
    } else {
        for (ptrdiff_t i = 0; i < n; i++) {
            double prm[2] = { c->pv[0][i], c->pv[1][i] };
            k(1, (const char *)ka + i * cs, kb ? (const char *)kb + i * cs : NULL, out + i * cs, prm);
        }
    }
    for (ptrdiff_t i = 0; i < n; i++) {
        double v;
        if (c->f32) { float f; memcpy(&f, out + i * cs, 4); v = f; }
        else memcpy(&v, out + i * cs, 8);
        ref_c[i] = v;
        if (!ref_o) continue;
        unsigned char *o = ref_o + i * esize_of[c->out_dtype];
        if (c->out_dtype == AG_FLOAT16) { uint16_t h = float_to_half((float)v); memcpy(o, &h, 2); }
        else if (c->out_dtype == AG_FLOAT32) { float f = (float)v; memcpy(o, &f, 4); }
        else memcpy(o, &v, 8);
    }
    free(in[0]); free(in[1]); free(out);
}

/* ---- one run of ag_elementwise at a layout ---- */

#define CANARY 0xA5

typedef struct { unsigned char *mem, *base; size_t bytes; } operand;

/* Exactly the bytes a strided operand spans (ASan flags any access outside), canary-filled. */
static operand alloc_operand(ptrdiff_t n, int stride, int off, int es)
{
    operand o;
    ptrdiff_t span = n > 0 ? (n - 1) * (ptrdiff_t)abs(stride) + 1 : 1;
    o.bytes = (size_t)((off + span) * es);
    o.mem = malloc(o.bytes);
    memset(o.mem, CANARY, o.bytes);
    o.base = o.mem + (ptrdiff_t)off * es + (stride < 0 ? (n - 1) * (ptrdiff_t)(-stride) * es : 0);
    return o;
}

/* Whether byte offset rel from element 0's first byte lies inside one of the n elements
 * (element j covers [j*step, j*step + es) with step = stride*es; |step| >= es or step == 0). */
static int slot_of(ptrdiff_t n, int stride, int es, ptrdiff_t rel)
{
    if (stride == 0) return rel >= 0 && rel < es;
    ptrdiff_t step = (ptrdiff_t)stride * es;
    ptrdiff_t j = step > 0 ? (rel >= 0 ? rel / step : -1) : (es - 1 - rel >= 0 ? (es - 1 - rel) / -step : -1);
    if (j < 0 || j >= n) return 0;
    return rel >= j * step && rel < j * step + es;
}

static void run_layout(const fcase *c, const int stride[3], const int off[3], const unsigned char *ref_o)
{
    const ptrdiff_t n = c->n;
    const int es = esize_of[c->dtype], eo = esize_of[c->out_dtype];
    operand arr[2] = { { 0 }, { 0 } }, out, prm[2] = { { 0 }, { 0 } };
    const int sh = c->shift;   /* 0 unless in place */
    for (int k = 0; k < c->narr; k++) {
        if (k == 1 && c->alias_ab) { arr[1] = arr[0]; continue; }
        const int shifted = sh && (k == c->inplace || c->alias_ab);   /* aliased: both are that array */
        arr[k] = alloc_operand(n + (shifted ? sh : 0), stride[k], off[k], es);
        if (shifted) arr[k].base += (ptrdiff_t)sh * stride[k] * es;   /* elements sh .. sh + n - 1 */
        for (ptrdiff_t i = 0; i < n; i++)
            memcpy(arr[k].base + i * stride[k] * es, c->vals[k] + i * es, (size_t)es);
    }
    const int ostride = c->inplace >= 0 ? stride[c->inplace] : stride[2];
    out = c->inplace >= 0 ? arr[c->inplace] : alloc_operand(n, ostride, off[2], eo);
    if (sh) out.base -= (ptrdiff_t)sh * ostride * eo;

    char *args[5];
    ptrdiff_t steps[5];
    int a = 0;
    for (int k = 0; k < c->narr; k++) { args[a] = (char *)arr[k].base; steps[a++] = (ptrdiff_t)stride[k] * es; }
    for (int k = 0; k < c->nparams; k++) {
        if (!c->per_elem) {
            prm[k] = alloc_operand(1, 0, 0, 8);
            memcpy(prm[k].base, &c->pv[k][0], 8);
            args[a] = (char *)prm[k].base; steps[a++] = 0;
        } else {
            prm[k] = alloc_operand(n, c->pstride, 0, 8);
            for (ptrdiff_t i = 0; i < n; i++) memcpy(prm[k].base + i * c->pstride * 8, &c->pv[k][i], 8);
            args[a] = (char *)prm[k].base; steps[a++] = (ptrdiff_t)c->pstride * 8;
        }
    }
    args[a] = (char *)out.base; steps[a] = (ptrdiff_t)ostride * eo;

    ag_loop loop = { c->op, c->call, c->dtype };
    ag_set_num_threads(c->nthreads);
    feclearexcept(FE_ALL_EXCEPT);
    if (c->fpflag) feraiseexcept(FE_INEXACT);
    int flags_before = fetestexcept(FE_ALL_EXCEPT);
    ag_elementwise(&loop, n, args, steps);
    int flags_after = fetestexcept(FE_ALL_EXCEPT);
    feclearexcept(FE_ALL_EXCEPT);
    if (flags_after != flags_before) fail(c, "the caller's floating-point flags changed", -1);

    for (ptrdiff_t i = 0; i < n; i++)
        if (!same_out(c->out_dtype, out.base + i * ostride * eo, ref_o + i * eo)) {
            double got = load_elem(c->out_dtype, out.base + i * ostride * eo);
            double want = load_elem(c->out_dtype, ref_o + i * eo);
            fprintf(stderr, "  got %a, expected %a (layout strides %d,%d,%d)\n", got, want, stride[0], stride[1], ostride);
            fail(c, "result differs from the scalar kernel on contiguous copies", i);
        }
    /* nothing written outside the output's elements; inputs unchanged */
    for (size_t b = 0; b < out.bytes; b++)
        if (!slot_of(n + sh, ostride, eo, out.mem + b - out.base) && out.mem[b] != CANARY)
            fail(c, "a byte outside the output's elements was written", -1);
    for (ptrdiff_t i = n > sh ? n - sh : 0; i < n; i++)   /* the input's elements past the output */
        if (memcmp(arr[c->inplace].base + i * ostride * es, c->vals[c->inplace] + i * es, (size_t)es) != 0)
            fail(c, "an input element outside the overlapping output was modified", i);
    for (int k = 0; k < c->narr; k++) {
        if (k == c->inplace || (c->alias_ab && c->inplace >= 0)) continue;   /* holds the output */
        for (ptrdiff_t i = 0; i < n; i++)
            if (memcmp(arr[k].base + i * stride[k] * es, c->vals[k] + i * es, (size_t)es) != 0)
                fail(c, "an input array was modified", i);
        for (size_t b = 0; b < arr[k].bytes; b++)
            if (!slot_of(n, stride[k], es, arr[k].mem + b - arr[k].base) && arr[k].mem[b] != CANARY)
                fail(c, "a byte around an input array was written", -1);
    }
    for (int k = 0; k < c->nparams; k++) free(prm[k].mem);
    if (c->inplace < 0) free(out.mem);
    free(arr[0].mem);
    if (c->narr == 2 && !c->alias_ab) free(arr[1].mem);
}

/* ---- invariants of the reference ---- */

static void check_invariants(const fcase *c, const double *ref_c)
{
    const int es = esize_of[c->dtype];
    for (ptrdiff_t i = 0; i < c->n; i++) {
        double r = ref_c[i];
        int nan_in = 0;
        for (int k = 0; k < c->narr; k++) nan_in |= isnan(load_elem(c->dtype, c->vals[k] + i * es));
        if (nan_in) {
            if (!isnan(r)) fail(c, "NaN in did not give NaN out", i);
            continue;
        }
        if (isnan(r)) continue;   /* NaN from numbers (e.g. 0 * inf in a backward) is not checked */
        double lo = -INFINITY, hi = INFINITY;
        if (c->call == AG_FORWARD) {
            if (op_is(c->op, "sigmoid") || op_is(c->op, "hardsigmoid")) lo = 0, hi = 1;
            else if (op_is(c->op, "tanh") || op_is(c->op, "softsign")) lo = -1, hi = 1;
            else if (op_is(c->op, "relu")) lo = 0;
            else if (op_is(c->op, "relu6")) lo = 0, hi = 6;
            else if (op_is(c->op, "log_sigmoid")) hi = 0;
            else if (op_is(c->op, "hardtanh")) {
                double p0 = c->pv[0][i], p1 = c->pv[1][i];
                if (c->f32) p0 = (float)p0, p1 = (float)p1;
                lo = p0, hi = p1;
            }
        } else if (c->call == AG_DERIVATIVE) {
            if (op_is(c->op, "sigmoid")) lo = 0, hi = 0.25;
            else if (op_is(c->op, "tanh") || op_is(c->op, "relu") || op_is(c->op, "relu6") ||
                     op_is(c->op, "softsign")) lo = 0, hi = 1;
        }
        if (!(r >= lo && r <= hi)) fail(c, "result outside the function's range", i);
    }
}

/* ufunc.accumulate(x) and ufunc.reduce(x) of a backward call, as NumPy calls the inner loop:
 * (out[:-1], x[1:], out[1:]) and (r, x[1:], r) with r's step 0.  Each element reads the
 * output just written: the result is the scalar kernel applied one element at a time. */
static void run_chain(const fcase *c)
{
    const ptrdiff_t n = c->n, es = esize_of[c->dtype];
    const int f32 = c->dtype == AG_FLOAT32;
    const double prm[2] = { c->pv[0][0], c->pv[1][0] };
    unsigned char *want = malloc((size_t)(n * es)), *got = malloc((size_t)(n * es) + 1), r[8];
    memcpy(want, c->vals[0], (size_t)es);
    for (ptrdiff_t i = 1; i < n; i++)
        ag_kernels_scalar.elementwise[c->op][c->call][f32 ? 0 : 1](1, want + (i - 1) * es, c->vals[1] + i * es,
                                                                  want + i * es, prm);
    ag_loop loop = { c->op, c->call, c->dtype };
    ag_set_num_threads(c->nthreads);
    memcpy(got, c->vals[0], (size_t)es);
    char *args[5] = { (char *)got, (char *)c->vals[1] + es, (char *)&prm[0], (char *)&prm[1], NULL };
    ptrdiff_t steps[5] = { es, es, 0, 0, 0 };
    args[2 + c->nparams] = (char *)got + es;
    steps[2 + c->nparams] = es;
    ag_elementwise(&loop, n - 1, args, steps);
    for (ptrdiff_t i = 0; i < n; i++)
        if (!same_out(c->dtype, got + i * es, want + i * es)) fail(c, "accumulate differs from in-order evaluation", i);
    memcpy(r, c->vals[0], (size_t)es);
    args[0] = args[2 + c->nparams] = (char *)r;
    steps[0] = steps[2 + c->nparams] = 0;
    ag_elementwise(&loop, n - 1, args, steps);
    if (!same_out(c->dtype, r, want + (n - 1) * es)) fail(c, "reduce differs from in-order evaluation", n - 1);
    free(want);
    free(got);
}

/* Whether backward result r agrees with dy * d rounded to the compute precision: the same
 * NaN-ness, else within 1 ULP. */
static int agrees(int f32, double r, double dy, double d)
{
    double e;
    if (f32) { volatile float p = (float)(dy * d); e = p; }
    else { volatile double p = dy * d; e = p; }
    if (isnan(e) || isnan(r)) return isnan(e) && isnan(r);
    return ulp_dist(f32, e, r) <= 1;
}

/* backward(dy, x) is dy * f'(x) rounded once.  float64: dy * derivative(x) within 1 ULP.
 * float32 (float16 is computed in float32): the kernel forms dy * f'(x) in double from a double
 * f' and rounds once, and takes the float derivative where dy is 0 or inf (csrc/ops/d32.h).
 * It agrees with dy * derivative(x) of the float32 kernel except where that derivative is
 * rounded to a subnormal or 0 at a finite dy; there the float64 kernel's f' of the same
 * inputs (parameters rounded to float) is the reference.  The float64 f' is not the reference
 * everywhere: a kink decided in float (softplus' test of beta x against the threshold in
 * float32) may take the other branch. */
/* Whether a parameter of element i, or its product with the input x, loses its range in
 * float (a nonzero value that becomes 0 or subnormal, a finite one that becomes inf): a
 * float32 call then decides kinks such as softplus' test of beta x against the threshold on
 * values the float and double evaluations see differently, which the backward invariant does
 * not judge (a known limit of parameters at the edge of float's range). */
static int param_degenerate_in_float(const fcase *c, ptrdiff_t i, double x)
{
    for (int k = 0; k < c->nparams; k++) {
        double p = c->pv[k][c->per_elem ? i : 0];
        float f = (float)p, fx = f * (float)x;
        double dx = (double)f * (double)(float)x;
        if ((p != 0 && fpclassify(f) != FP_NORMAL && !isnan(f)) || (isinf(f) && !isinf(p))) return 1;
        if (dx != 0 && !isnan(dx) && (fpclassify(fx) == FP_SUBNORMAL || fx == 0 || (isinf(fx) && !isinf(dx))))
            return 1;
    }
    return 0;
}

static void check_backward(const fcase *c, const double *ref_c)
{
    if (c->call != AG_BACKWARD && c->call != AG_BACKWARD_FROM_OUTPUT) return;
    const int es = esize_of[c->dtype];
    const int dcall = c->call == AG_BACKWARD ? AG_DERIVATIVE : AG_DERIVATIVE_FROM_OUTPUT;
    double *d = malloc((size_t)c->n * sizeof *d), *d64 = NULL, *pv[2] = { NULL, NULL };
    reference(c, dcall, d, NULL);
    if (c->f32) {
        fcase c64 = *c;
        c64.f32 = 0;
        for (int k = 0; k < 2; k++) {
            pv[k] = malloc((size_t)c->n * sizeof *pv[k]);
            for (ptrdiff_t i = 0; i < c->n; i++) pv[k][i] = (float)c->pv[k][i];
            c64.pv[k] = pv[k];
        }
        d64 = malloc((size_t)c->n * sizeof *d64);
        reference(&c64, dcall, d64, NULL);
    }
    for (ptrdiff_t i = 0; i < c->n; i++) {
        double dy = load_elem(c->dtype, c->vals[0] + i * es);
        double r = ref_c[i];
        if (agrees(c->f32, r, dy, d[i]) ||
            (c->f32 && param_degenerate_in_float(c, i, load_elem(c->dtype, c->vals[1] + i * es))))
            continue;
        if (c->f32 && isfinite(dy) && isfinite(d64[i]) && agrees(1, r, dy, d64[i]))
            continue;
        fail(c, isnan(r) || isnan(dy * d[i]) ? "backward != dy * derivative (NaN)"
                                             : "backward != dy * derivative within 1 ULP", i);
    }
    free(pv[0]);
    free(pv[1]);
    free(d64);
    free(d);
}

/* ---- decoding ---- */

static double param_value(const uint8_t *data, size_t size, uint8_t sel, size_t salt)
{
    if (sel < NSPECIAL) return special_params[sel];
    uint64_t bits = 0;
    size_t dlen = size > 16 ? size - 16 : 0;
    for (int b = 0; b < 8; b++)
        bits |= (uint64_t)(dlen ? data[16 + (salt * 8 + (size_t)sel + (size_t)b) % dlen] : 0) << (8 * b);
    double v;
    memcpy(&v, &bits, 8);
    return v;
}

static int decode(const uint8_t *data, size_t size, fcase *c)
{
    memset(c, 0, sizeof *c);
    c->op = hb(data, size, 0) % AG_NOPS;
    c->dtype = hb(data, size, 2) % AG_NDTYPES;
    /* the call: the n-th of those this op has */
    int calls[AG_NCALLS], ncalls = 0;
    for (int k = 0; k < AG_NCALLS; k++)
        if (ag_kernels_scalar.elementwise[c->op][k][0]) calls[ncalls++] = k;
    if (!ncalls) return 0;
    c->call = calls[hb(data, size, 1) % ncalls];
    c->out_dtype = ag_loop_out_dtype(&(ag_loop){ c->op, c->call, c->dtype });
    c->f32 = c->dtype == AG_FLOAT16 || c->dtype == AG_FLOAT32;
    c->narr = (c->call == AG_BACKWARD || c->call == AG_BACKWARD_FROM_OUTPUT) ? 2 : 1;
    c->nparams = ag_op_nparams(c->op);
    uint8_t flags = hb(data, size, 5);
    c->n = (hb(data, size, 3) | hb(data, size, 4) << 8) % (MAXLEN + 1);
    if (flags & 1) c->n += BIGLEN;
    for (int k = 0; k < 3; k++) {
        c->stride[k] = stride_code(hb(data, size, 6 + (size_t)k));
        c->off[k] = hb(data, size, 9 + (size_t)k) % 16;
    }
    if (c->stride[2] == 0) c->stride[2] = 1;
    c->alias_ab = c->narr == 2 && (flags & 8);
    if (c->alias_ab) c->stride[1] = c->stride[0], c->off[1] = c->off[0];
    c->inplace = -1;
    if ((flags & 2) && c->out_dtype == c->dtype) {
        c->inplace = (c->narr == 2 && (flags & 4)) ? 1 : 0;
        if (c->stride[c->inplace] == 0) c->stride[c->inplace] = c->stride[2];
        if (c->alias_ab) c->stride[0] = c->stride[1] = c->stride[c->inplace];
    }
    c->per_elem = c->nparams > 0 && (flags & 16);
    uint8_t pb = hb(data, size, 15);
    static const int pstrides[4] = { 1, -1, 2, -3 };
    c->pstride = pstrides[pb & 3];
    int runlen = 1 + (pb >> 2);
    c->fpflag = (flags & 32) != 0;
    c->checked = !(flags & 64);
    c->nthreads = 1 + hb(data, size, 14) % 4;
    c->shift = c->inplace >= 0 ? (hb(data, size, 14) >> 2) % 32 : 0;
    c->chain = (hb(data, size, 14) & 0x80) && c->narr == 2 && (c->dtype == AG_FLOAT32 || c->dtype == AG_FLOAT64);

    const int es = esize_of[c->dtype];
    const size_t dlen = size > 16 ? size - 16 : 0;
    for (int k = 0; k < 2; k++) {
        c->vals[k] = malloc((size_t)(c->n > 0 ? c->n : 1) * (size_t)es);
        c->pv[k] = malloc((size_t)(c->n > 0 ? c->n : 1) * sizeof(double));
    }
    for (int k = 0; k < c->narr; k++)
        for (ptrdiff_t i = 0; i < c->n; i++)
            for (int b = 0; b < es; b++) {
                ptrdiff_t src = c->stride[k] == 0 ? 0 : i;   /* stride 0: one element read n times */
                c->vals[k][i * es + b] = dlen ? data[16 + ((size_t)(k * c->n + src) * (size_t)es + (size_t)b) % dlen] : 0;
            }
    if (c->alias_ab) memcpy(c->vals[1], c->vals[0], (size_t)(c->n * es));
    for (ptrdiff_t i = 0; i < (c->n > 0 ? c->n : 1); i++) {
        double p0, p1;
        if (!c->per_elem || i == 0) {
            p0 = param_value(data, size, hb(data, size, 12), 0);
            p1 = param_value(data, size, hb(data, size, 13), 1);
        } else if (i % runlen) {
            p0 = c->pv[0][i - 1], p1 = c->pv[1][i - 1];
        } else {   /* a new run: another special or raw value */
            size_t r = (size_t)(i / runlen);
            p0 = param_value(data, size, (uint8_t)(hb(data, size, 12) + 7 * r), 2 * r);
            p1 = param_value(data, size, (uint8_t)(hb(data, size, 13) + 11 * r), 2 * r + 1);
        }
        if (c->checked) repair_params(c->op, c->call, &p0, &p1);
        c->pv[0][i] = p0;
        c->pv[1][i] = p1;
    }
    return 1;
}

static void free_case(fcase *c)
{
    for (int k = 0; k < 2; k++) { free(c->vals[k]); free(c->pv[k]); }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const isas[] = { AG_ISAS(AG_ISA_NAME_STR) };
    fcase c;
    if (!decode(data, size, &c)) return 0;
    if (c.n > 0) {
        double *ref_c = malloc((size_t)c.n * sizeof *ref_c);
        unsigned char *ref_o = malloc((size_t)c.n * (size_t)esize_of[c.out_dtype]);
        reference(&c, c.call, ref_c, ref_o);
        if (c.checked) {
            check_invariants(&c, ref_c);
            check_backward(&c, ref_c);
        }
        const char *before = ag_isa_name();
        const int contig[3] = { 1, 1, 1 };
        for (int s = 0; s < (int)(sizeof isas / sizeof *isas); s++) {
            if (!ag_isa_supported(isas[s])) continue;
            ag_set_isa(isas[s]);
            run_layout(&c, c.stride, c.off, ref_o);
            run_layout(&c, contig, c.off, ref_o);
            if (c.chain) run_chain(&c);
        }
        ag_set_isa(before);
        free(ref_c);
        free(ref_o);
    } else {   /* n == 0 must not touch anything: pass pointers to nothing */
        char *args[5] = { NULL, NULL, NULL, NULL, NULL };
        ptrdiff_t steps[5] = { 0, 0, 0, 0, 0 };
        ag_loop loop = { c.op, c.call, c.dtype };
        ag_elementwise(&loop, 0, args, steps);
    }
    free_case(&c);
    return 0;
}
