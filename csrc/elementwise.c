/* The elementwise driver: runs a contiguous kernel of the table over arrays of any
 * layout and dtype, over the thread pool for large inputs.
 *
 * Contiguous float32/float64 arrays with constant parameters go straight to the
 * kernel, one call per thread range.  Anything else (strides, float16, bool and
 * integers, parameters that vary per element) is processed in blocks of AG_BLOCK
 * elements: each non-contiguous or converted operand is packed into a buffer, the
 * kernel runs on the buffers, and the result is converted and scattered back. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "include/actgrad.h"
#include "convert.h"
#include "fpflags.h"

#define AG_BLOCK 512

static const unsigned char op_nparams[AG_NOPS] = {
#define AG_OP(name, nparams, from_output, cost) nparams,
#include "gen/ops.inc"
#undef AG_OP
};

/* Elements per thread range: about 2^17 copies' worth of work, so one range
 * costs tens of microseconds and waking a thread for it pays off. */
static const unsigned op_grain[AG_NOPS] = {
#define AG_OP(name, nparams, from_output, cost) (1u << 17) / (cost),
#include "gen/ops.inc"
#undef AG_OP
};

static const char *const op_names[AG_NOPS] = {
#define AG_OP(name, nparams, from_output, cost) #name,
#include "gen/ops.inc"
#undef AG_OP
};

int ag_op_nparams(int op) { return (op >= 0 && op < AG_NOPS) ? op_nparams[op] : 0; }

const char *ag_op_name(int op) { return (op >= 0 && op < AG_NOPS) ? op_names[op] : NULL; }

static int computes_in_f32(int dtype) { return dtype == AG_FLOAT16 || dtype == AG_FLOAT32; }

int ag_loop_out_dtype(const ag_loop *loop)
{
    return loop->dtype == AG_FLOAT16 || loop->dtype == AG_FLOAT32 ? loop->dtype : AG_FLOAT64;
}

static int is_backward(int call) { return call == AG_BACKWARD || call == AG_BACKWARD_FROM_OUTPUT; }

typedef struct {
    ag_kernel_fn kernel;
    int dtype, out_dtype, f32, narr, nparams;
    ptrdiff_t size;          /* bytes per element of the compute type */
    int direct[3];           /* operand k (arrays, then out) is contiguous in the compute type */
    int params_const;
    int seq;                 /* one element at a time, in order (see classify_overlap) */
    char *const *args;       /* arrays, params, out */
    const ptrdiff_t *steps;
} job;

/* Runs of equal parameters compare bits, not values: -0.0 == 0.0 would merge a run of
 * -0.0 into one of 0.0 (and give the sign of zero of the wrong parameter). */
static int same_param(double a, double b) { return memcmp(&a, &b, sizeof a) == 0; }

static ptrdiff_t param_run(const job *j, ptrdiff_t i, ptrdiff_t len, double prm[2])
{
    for (int k = 0; k < j->nparams; k++)
        prm[k] = *(const double *)(j->args[j->narr + k] + i * j->steps[j->narr + k]);
    if (j->params_const) return len;
    for (ptrdiff_t r = 1; r < len; r++)
        for (int k = 0; k < j->nparams; k++)
            if (!same_param(*(const double *)(j->args[j->narr + k] + (i + r) * j->steps[j->narr + k]), prm[k]))
                return r;
    return len;
}

static void run_range(void *ctx, ptrdiff_t begin, ptrdiff_t end)
{
    const job *j = (const job *)ctx;
    _Alignas(64) union { float f[AG_BLOCK]; double d[AG_BLOCK]; } buf[3];  /* one block's operands */
    const int out = j->narr + j->nparams;
    const int all_direct = j->direct[0] && j->direct[1] && j->direct[2];
    for (ptrdiff_t i = begin; i < end;) {
        double prm[2] = { 0.0, 0.0 };
        ptrdiff_t len = end - i;
        if (!(all_direct && j->params_const) && len > AG_BLOCK) len = AG_BLOCK;
        if (j->seq) len = 1;
        len = param_run(j, i, len, prm);

        const void *in[2] = { NULL, NULL };
        for (int k = 0; k < j->narr; k++) {
            const char *p = j->args[k] + i * j->steps[k];
            if (j->direct[k]) { in[k] = p; continue; }
            if (j->f32) ag_load_f32(j->dtype, p, j->steps[k], len, buf[k].f);
            else ag_load_f64(j->dtype, p, j->steps[k], len, buf[k].d);
            in[k] = &buf[k];
        }
        char *o = j->args[out] + i * j->steps[out];
        void *dst = j->direct[2] ? (void *)o : (void *)&buf[2];
        j->kernel(len, in[0], in[1], dst, prm);
        if (!j->direct[2]) {
            if (j->f32) ag_store_f32(j->out_dtype, buf[2].f, len, o, j->steps[out]);
            else ag_store_f64(buf[2].d, len, o, j->steps[out]);
        }
        i += len;
    }
}

static const unsigned char dtype_size[AG_NDTYPES] = { 1, 1, 1, 2, 2, 4, 4, 8, 8, 2, 4, 8 };

/* The bytes [lo, hi) that n elements of `size` bytes at p, step bytes apart, occupy. */
static void byte_span(const char *p, ptrdiff_t step, ptrdiff_t n, ptrdiff_t size, uintptr_t *lo, uintptr_t *hi)
{
    uintptr_t a = (uintptr_t)p, last = (uintptr_t)(p + (n - 1) * step);
    *lo = a < last ? a : last;
    *hi = (a < last ? last : a) + (uintptr_t)size;
}

enum { OV_NONE, OV_COPY, OV_SEQ };

/* How input k (size isz) must be read when the output (size osz) may share its bytes.
 * The result must be that of NumPy's definition of the inner loop: element i is read,
 * computed and written before element i + 1 is read.
 *   OV_NONE  disjoint, or the same elements (in place): any order and split gives that;
 *   OV_COPY  every element of the input is read before the output element that overwrites
 *            it would be written, in a forward pass (out behind the input in the direction of
 *            travel, same step): reading a snapshot of the input gives the same result, and
 *            then blocks, SIMD and threads may go in any order;
 *   OV_SEQ   anything else (ufunc.reduce/accumulate/reduceat, which read what they wrote,
 *            an output that overlaps itself, a backward overlap): one element at a time. */
static int classify_overlap(const char *in, ptrdiff_t is, ptrdiff_t isz, const char *out, ptrdiff_t os,
                            ptrdiff_t osz, ptrdiff_t n)
{
    uintptr_t ilo, ihi, olo, ohi;
    byte_span(in, is, n, isz, &ilo, &ihi);
    byte_span(out, os, n, osz, &olo, &ohi);
    if (ihi <= olo || ohi <= ilo) return OV_NONE;
    if (in == out && is == os && isz == osz) return OV_NONE;
    const ptrdiff_t as = os < 0 ? -os : os;
    if (is == os && isz == osz && as >= osz && (os > 0 ? in > out : in < out)) return OV_COPY;
    return OV_SEQ;
}

void ag_elementwise(const ag_loop *loop, ptrdiff_t n, char *const *args, const ptrdiff_t *steps)
{
    if (loop->op < 0 || loop->op >= AG_NOPS || loop->call < 0 || loop->call >= AG_NCALLS || n <= 0)
        return;
    if (loop->dtype < 0 || loop->dtype >= AG_NDTYPES) return;
    job j;
    j.dtype = loop->dtype;
    j.out_dtype = ag_loop_out_dtype(loop);
    j.f32 = computes_in_f32(loop->dtype);
    j.kernel = ag_kernels()->elementwise[loop->op][loop->call][j.f32 ? 0 : 1];
    if (!j.kernel) return;
    j.narr = is_backward(loop->call) ? 2 : 1;
    j.nparams = op_nparams[loop->op];
    j.size = j.f32 ? (ptrdiff_t)sizeof(float) : (ptrdiff_t)sizeof(double);
    j.seq = 0;

    /* Inputs that share bytes with the output: see classify_overlap. */
    const int nin = j.narr + j.nparams, out = nin;
    char *arg[5];
    ptrdiff_t step[5];
    void *copies[4] = { NULL, NULL, NULL, NULL };
    const ptrdiff_t osz = dtype_size[j.out_dtype];
    for (int k = 0; k <= nin; k++) { arg[k] = args[k]; step[k] = steps[k]; }
    if (n > 1 && (steps[out] < osz && steps[out] > -osz)) j.seq = 1;  /* the output overlaps itself */
    for (int k = 0; k < nin && !j.seq; k++) {
        const ptrdiff_t isz = k < j.narr ? dtype_size[j.dtype] : (ptrdiff_t)sizeof(double);
        int how = classify_overlap(args[k], steps[k], isz, args[out], steps[out], osz, n);
        if (how == OV_COPY) {
            char *c = malloc((size_t)n * (size_t)isz);
            if (!c) how = OV_SEQ;
            else {
                for (ptrdiff_t i = 0; i < n; i++) memcpy(c + i * isz, args[k] + i * steps[k], (size_t)isz);
                copies[k] = c;
                arg[k] = c;
                step[k] = isz;
            }
        }
        if (how == OV_SEQ) j.seq = 1;
    }
    if (j.seq)  /* the snapshots are not needed: the inputs are read in order */
        for (int k = 0; k < nin; k++) { free(copies[k]); copies[k] = NULL; arg[k] = args[k]; step[k] = steps[k]; }

    j.args = arg;
    j.steps = step;
    const int native = loop->dtype == AG_FLOAT32 || loop->dtype == AG_FLOAT64;
    j.direct[0] = j.direct[1] = j.direct[2] = 1;
    for (int k = 0; k < j.narr; k++) j.direct[k] = native && step[k] == j.size;
    j.direct[2] = native && step[out] == j.size;
    j.params_const = 1;
    for (int k = 0; k < j.nparams; k++) j.params_const &= step[j.narr + k] == 0;

    /* The kernels may raise spurious flags in lanes whose result is discarded
     * (and benign ones such as inexact); callers see their own flags unchanged. */
    fexcept_t flags;
    ag_flags_save(&flags);
    if (j.seq) run_range(&j, 0, n);
    else ag_parallel_for(n, op_grain[loop->op], 64, run_range, &j);
    ag_flags_restore(&flags);
    for (int k = 0; k < nin; k++) free(copies[k]);
}

void ag_ufunc_loop(char **args, const ptrdiff_t *dimensions, const ptrdiff_t *steps, void *data)
{
    ag_elementwise((const ag_loop *)data, dimensions[0], args, steps);
}
