/* The elementwise driver: runs a contiguous kernel of the table over arrays of any
 * layout and dtype, over the thread pool for large inputs.
 *
 * Contiguous float32/float64 arrays with constant parameters go straight to the
 * kernel, one call per thread range.  Anything else (strides, float16, bool and
 * integers, parameters that vary per element) is processed in blocks of AG_BLOCK
 * elements: each non-contiguous or converted operand is packed into a buffer, the
 * kernel runs on the buffers, and the result is converted and scattered back. */
#include <fenv.h>
#include <string.h>
#include "include/actgrad.h"
#include "convert.h"

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

void ag_elementwise(const ag_loop *loop, ptrdiff_t n, char *const *args, const ptrdiff_t *steps)
{
    if (loop->op < 0 || loop->op >= AG_NOPS || loop->call < 0 || loop->call >= AG_NCALLS || n <= 0)
        return;
    job j;
    j.dtype = loop->dtype;
    j.out_dtype = ag_loop_out_dtype(loop);
    j.f32 = computes_in_f32(loop->dtype);
    j.kernel = ag_kernels()->elementwise[loop->op][loop->call][j.f32 ? 0 : 1];
    if (!j.kernel) return;
    j.narr = is_backward(loop->call) ? 2 : 1;
    j.nparams = op_nparams[loop->op];
    j.size = j.f32 ? (ptrdiff_t)sizeof(float) : (ptrdiff_t)sizeof(double);
    j.args = args;
    j.steps = steps;
    const int native = loop->dtype == AG_FLOAT32 || loop->dtype == AG_FLOAT64;
    j.direct[0] = j.direct[1] = j.direct[2] = 1;
    for (int k = 0; k < j.narr; k++) j.direct[k] = native && steps[k] == j.size;
    j.direct[2] = native && steps[j.narr + j.nparams] == j.size;
    j.params_const = 1;
    for (int k = 0; k < j.nparams; k++) j.params_const &= steps[j.narr + k] == 0;

    /* The kernels may raise spurious flags in lanes whose result is discarded
     * (and benign ones such as inexact); callers see their own flags unchanged. */
    fexcept_t flags;
    fegetexceptflag(&flags, FE_ALL_EXCEPT);
    ag_parallel_for(n, op_grain[loop->op], 64, run_range, &j);
    fesetexceptflag(&flags, FE_ALL_EXCEPT);
}

void ag_ufunc_loop(char **args, const ptrdiff_t *dimensions, const ptrdiff_t *steps, void *data)
{
    ag_elementwise((const ag_loop *)data, dimensions[0], args, steps);
}
