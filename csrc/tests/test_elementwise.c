/* The elementwise driver (csrc/elementwise.c) and dispatch (csrc/dispatch.c), without Python:
 * - strided, converted (float16, bool, integers) and per-element-parameter inputs give
 *   exactly the contiguous kernel's results;
 * - results do not depend on the thread count; in place works; inputs overlapping the output
 *   (shifted, ufunc.reduce/accumulate) give the results NumPy defines;
 * - float16 conversions round to nearest even and keep inf/NaN;
 * - the caller's floating-point exception flags are left as they were;
 * - ACTGRAD_ISA-style switching (ag_set_isa) refuses unknown or unsupported paths.
 * Build: make -C csrc test. */
#include <fenv.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "../include/actgrad.h"
#include "../convert.h"
#include "testutil.h"
#include "isa_paths.h"

#define N 3001   /* several 512-element blocks and an odd tail */

static int same_f64(const double *a, const double *b, ptrdiff_t n)
{
    for (ptrdiff_t i = 0; i < n; i++)
        if (!(a[i] == b[i] || (isnan(a[i]) && isnan(b[i])))) return 0;
    return 1;
}

/* Contiguous float64 reference for op/call with constant params. */
static void reference(int op, int call, const double *a, const double *b, const double *prm, double *out)
{
    ag_kernels()->elementwise[op][call][1](N, a, b, out, prm);
}

static void test_strided_and_params(void)
{
    static double x[2 * N], dy[3 * N], out[2 * N], ref[N], xs[N], dys[N], slope[N];
    for (int i = 0; i < 2 * N; i++) x[i] = (urand() - 0.5) * 20;
    for (int i = 0; i < 3 * N; i++) dy[i] = urand() - 0.5;
    for (int i = 0; i < N; i++) { xs[i] = x[2 * i]; dys[i] = dy[3 * i]; }

    /* backward of leaky_relu with x stride 2, dy stride 3, out stride 2, constant slope */
    double p = 0.25;
    reference(AG_OP_leaky_relu, AG_BACKWARD, dys, xs, (double[]){ p, 0 }, ref);
    ag_loop loop = { AG_OP_leaky_relu, AG_BACKWARD, AG_FLOAT64 };
    char *args[4] = { (char *)dy, (char *)x, (char *)&p, (char *)out };
    ptrdiff_t steps[4] = { 3 * sizeof(double), 2 * sizeof(double), 0, 2 * sizeof(double) };
    ag_elementwise(&loop, N, args, steps);
    int ok = 1;
    for (int i = 0; i < N; i++) ok &= out[2 * i] == ref[i];
    check(ok, "strided backward equals contiguous kernel");

    /* per-element parameter: runs of equal slopes, and all different */
    for (int i = 0; i < N; i++) slope[i] = (i / 700) * 0.1 + 0.05;
    ag_loop fwd = { AG_OP_leaky_relu, AG_FORWARD, AG_FLOAT64 };
    char *fargs[3] = { (char *)xs, (char *)slope, (char *)out };
    ptrdiff_t fsteps[3] = { sizeof(double), sizeof(double), sizeof(double) };
    ag_elementwise(&fwd, N, fargs, fsteps);
    ok = 1;
    for (int i = 0; i < N; i++) ok &= out[i] == (xs[i] > 0 ? xs[i] : slope[i] * xs[i]);
    check(ok, "leaky_relu with a parameter per element (runs)");
    for (int i = 0; i < N; i++) slope[i] = urand();
    ag_elementwise(&fwd, N, fargs, fsteps);
    ok = 1;
    for (int i = 0; i < N; i++) ok &= out[i] == (xs[i] > 0 ? xs[i] : slope[i] * xs[i]);
    check(ok, "leaky_relu with a different parameter per element");

    /* in place: out is x */
    memcpy(out, xs, sizeof xs);
    reference(AG_OP_leaky_relu, AG_FORWARD, xs, NULL, (double[]){ p, 0 }, ref);
    char *iargs[3] = { (char *)out, (char *)&p, (char *)out };
    ptrdiff_t isteps[3] = { sizeof(double), 0, sizeof(double) };
    ag_elementwise(&fwd, N, iargs, isteps);
    check(same_f64(out, ref, N), "in place");
}

static void test_threads(void)
{
    enum { M = 400001 };
    double *x = malloc(M * sizeof *x), *a = malloc(M * sizeof *a), *b = malloc(M * sizeof *b);
    for (int i = 0; i < M; i++) x[i] = (urand() - 0.5) * 60;
    ag_loop loop = { AG_OP_mish, AG_FORWARD, AG_FLOAT64 };
    char *args1[2] = { (char *)x, (char *)a }, *args2[2] = { (char *)x, (char *)b };
    ptrdiff_t steps[2] = { sizeof(double), sizeof(double) };
    ag_set_num_threads(1);
    ag_elementwise(&loop, M, args1, steps);
    for (int t = 2; t <= 7; t += 5) {
        ag_set_num_threads(t);
        ag_elementwise(&loop, M, args2, steps);
        check(memcmp(a, b, M * sizeof *a) == 0, "1 thread and N threads bitwise identical");
    }
    ag_set_num_threads(ag_default_num_threads());
    free(x); free(a); free(b);
}

static void test_conversions(void)
{
    /* float16: exact round trip of every finite half, RNE of halfway cases, overflow, NaN */
    int ok = 1;
    for (uint32_t h = 0; h < 0x10000; h++) {
        float f = ag_half_to_float((uint16_t)h);
        if (isnan(f)) ok &= (ag_float_to_half(f) & 0x7c00) == 0x7c00 && (ag_float_to_half(f) & 0x3ff);
        else ok &= ag_float_to_half(f) == h;
    }
    check(ok, "every float16 round-trips through float32");
    check(ag_float_to_half(1.0f + 0x1p-11f) == 0x3c00, "1 + 2^-11 rounds to even (1)");
    check(ag_float_to_half(1.0f + 3 * 0x1p-11f) == 0x3c02, "1 + 3*2^-11 rounds to even (1 + 2^-9)");
    check(ag_float_to_half(65519.0f) == 0x7bff && ag_float_to_half(65520.0f) == 0x7c00, "overflow to inf at 65520");
    check(ag_float_to_half(0x1p-25f) == 0 && ag_float_to_half(0x1.8p-25f) == 1, "subnormal rounding");
    check(ag_float_to_half(-0.0f) == 0x8000, "-0 keeps its sign");

    /* int16 input is computed in float64 */
    static int16_t xi[N];
    static double xd[N], out[N], ref[N];
    for (int i = 0; i < N; i++) { xi[i] = (int16_t)(i - N / 2); xd[i] = xi[i]; }
    reference(AG_OP_softplus, AG_FORWARD, xd, NULL, (double[]){ 1.0, 20.0 }, ref);
    ag_loop loop = { AG_OP_softplus, AG_FORWARD, AG_INT16 };
    double beta = 1.0, thr = 20.0;
    char *args[4] = { (char *)xi, (char *)&beta, (char *)&thr, (char *)out };
    ptrdiff_t steps[4] = { sizeof(int16_t), 0, 0, sizeof(double) };
    check(ag_loop_out_dtype(&loop) == AG_FLOAT64, "integers give float64");
    ag_elementwise(&loop, N, args, steps);
    check(same_f64(out, ref, N), "int16 input equals float64 input");

    /* float16 input and output: computed in float32 */
    static uint16_t h[N], ho[N];
    static float f[N], fo[N];
    for (int i = 0; i < N; i++) { h[i] = ag_float_to_half((float)((urand() - 0.5) * 16)); f[i] = ag_half_to_float(h[i]); }
    ag_kernels()->elementwise[AG_OP_sigmoid][AG_FORWARD][0](N, f, NULL, fo, (double[]){ 0, 0 });
    ag_loop hl = { AG_OP_sigmoid, AG_FORWARD, AG_FLOAT16 };
    char *hargs[2] = { (char *)h, (char *)ho };
    ptrdiff_t hsteps[2] = { 2, 2 };
    ag_elementwise(&hl, N, hargs, hsteps);
    ok = 1;
    for (int i = 0; i < N; i++) ok &= ho[i] == ag_float_to_half(fo[i]);
    check(ok, "float16 computed in float32 and rounded once");
}

static void test_fp_flags(void)
{
    double x[4] = { 1000.0, -1000.0, NAN, 0.0 }, out[4];
    ag_loop loop = { AG_OP_softplus, AG_FORWARD, AG_FLOAT64 };
    double beta = 1.0, thr = 20.0;
    char *args[4] = { (char *)x, (char *)&beta, (char *)&thr, (char *)out };
    ptrdiff_t steps[4] = { sizeof(double), 0, 0, sizeof(double) };
    feclearexcept(FE_ALL_EXCEPT);
    ag_elementwise(&loop, 4, args, steps);
    check(fetestexcept(FE_OVERFLOW | FE_INVALID | FE_DIVBYZERO) == 0, "no flags raised for the caller");
    feraiseexcept(FE_DIVBYZERO);
    ag_elementwise(&loop, 4, args, steps);
    check(fetestexcept(FE_DIVBYZERO) != 0, "the caller's flags survive the call");
    feclearexcept(FE_ALL_EXCEPT);
}

static void test_dispatch(void)
{
    check(ag_set_isa("nonsense") == -1, "unknown ISA refused");
    check(ag_isa_supported("scalar") && ag_set_isa("scalar") == 0 && strcmp(ag_isa_name(), "scalar") == 0,
          "scalar path can always be forced");
    static const char *const registry[] = { AG_ISAS(AG_ISA_NAME_STR) };  /* every architecture's */
    for (size_t k = 0; k < sizeof registry / sizeof *registry; k++)
        if (!ag_isa_supported(registry[k]))
            check(ag_set_isa(registry[k]) == -2 && strcmp(ag_isa_name(), "scalar") == 0,
                  "unsupported ISA refused");
}

/* Inputs sharing memory with the output give NumPy's definition of the inner loop (element i
 * read, computed and written before element i + 1 is read), at any thread count: a forward
 * overlap equals the computation on a copy, ufunc.reduce/accumulate chain their outputs. */
static void test_overlap(void)
{
    static const double NO_PARAMS[2] = { 0, 0 };   /* a kernel reads params[0..1] (ag_kernels.h) */
    enum { M = 400001, PAD = 64 };
    double *buf = malloc((M + 2 * PAD) * sizeof *buf), *src = malloc((M + 2 * PAD) * sizeof *src);
    double *dy = malloc(M * sizeof *dy), *ref = malloc(M * sizeof *ref);
    for (int i = 0; i < M + 2 * PAD; i++) src[i] = (urand() - 0.5) * 16;
    for (int i = 0; i < M; i++) dy[i] = urand() - 0.5;
    const ptrdiff_t d = sizeof(double);
    static const int shifts[] = { 1, 40, -1, -40, 3 };
    for (int t = 1; t <= 4; t += 3) {
        ag_set_num_threads(t);
        for (int k = 0; k < 5; k++) {
            const int sh = shifts[k];
            /* forward: out = buf[PAD + sh ...] ... the input at buf[PAD] */
            memcpy(buf, src, (M + 2 * PAD) * sizeof *buf);
            ag_kernels()->elementwise[AG_OP_sigmoid][AG_FORWARD][1](M, src + PAD, NULL, ref, NO_PARAMS);
            ag_loop fwd = { AG_OP_sigmoid, AG_FORWARD, AG_FLOAT64 };
            char *fa[2] = { (char *)(buf + PAD), (char *)(buf + PAD + sh) };
            ptrdiff_t fs[2] = { d, d };
            ag_elementwise(&fwd, M, fa, fs);
            if (sh < 0) {
                check(same_f64(buf + PAD + sh, ref, M), "forward, out overlapping the input ahead of it");
            } else {   /* out ahead of the input: element i reads what element i - sh wrote */
                double *seq = malloc((M + 2 * PAD) * sizeof *seq);
                memcpy(seq, src, (M + 2 * PAD) * sizeof *seq);
                for (ptrdiff_t i = 0; i < M; i++)
                    ag_kernels()->elementwise[AG_OP_sigmoid][AG_FORWARD][1](1, seq + PAD + i, NULL, seq + PAD + sh + i, NO_PARAMS);
                check(same_f64(buf, seq, M + 2 * PAD), "forward, out overlapping the input behind it: in order");
                free(seq);
            }
            /* backward with out over x (forward-safe) and reversed steps */
            memcpy(buf, src, (M + 2 * PAD) * sizeof *buf);
            ag_kernels()->elementwise[AG_OP_tanh][AG_BACKWARD][1](M, dy, src + PAD + abs(sh), ref, NO_PARAMS);
            ag_loop bw = { AG_OP_tanh, AG_BACKWARD, AG_FLOAT64 };
            char *ba[3] = { (char *)dy, (char *)(buf + PAD + abs(sh)), (char *)(buf + PAD) };
            ptrdiff_t bs[3] = { d, d, d };
            ag_elementwise(&bw, M, ba, bs);
            check(same_f64(buf + PAD, ref, M), "backward, out overlapping x ahead of it");
            memcpy(buf, src, (M + 2 * PAD) * sizeof *buf);
            char *ra[3] = { (char *)(dy + M - 1), (char *)(buf + PAD + M - 1), (char *)(buf + PAD + M - 1 + abs(sh)) };
            ptrdiff_t rs[3] = { -d, -d, -d };
            ag_kernels()->elementwise[AG_OP_tanh][AG_BACKWARD][1](M, dy, src + PAD, ref, NO_PARAMS);
            ag_elementwise(&bw, M, ra, rs);
            check(same_f64(buf + PAD + abs(sh), ref, M), "backward, negative steps, out behind x");
        }
        /* accumulate: out[i] = f(out[i-1], x[i]), out[0] given */
        enum { A = 5000 };
        static double acc[A], want[A];
        acc[0] = want[0] = 0.75;
        for (int i = 1; i < A; i++) {
            double a = want[i - 1];
            ag_kernels()->elementwise[AG_OP_tanh][AG_BACKWARD][1](1, &a, src + i, want + i, NO_PARAMS);
        }
        ag_loop bw = { AG_OP_tanh, AG_BACKWARD, AG_FLOAT64 };
        char *aa[3] = { (char *)acc, (char *)(src + 1), (char *)(acc + 1) };
        ptrdiff_t as[3] = { d, d, d };
        ag_elementwise(&bw, A - 1, aa, as);
        check(same_f64(acc, want, A), "accumulate chains its outputs");
        /* reduce: out (step 0) is also the first input */
        double r = 0.75;
        char *rd[3] = { (char *)&r, (char *)(src + 1), (char *)&r };
        ptrdiff_t rst[3] = { 0, d, 0 };
        ag_elementwise(&bw, A - 1, rd, rst);
        check(r == want[A - 1], "reduce chains its output");
        /* an output of step 0 alone: the last element's result */
        double last;
        char *la[2] = { (char *)src, (char *)&last };
        ptrdiff_t ls[2] = { d, 0 };
        ag_loop fwd = { AG_OP_sigmoid, AG_FORWARD, AG_FLOAT64 };
        ag_elementwise(&fwd, M, la, ls);
        ag_kernels()->elementwise[AG_OP_sigmoid][AG_FORWARD][1](1, src + M - 1, NULL, ref, NO_PARAMS);
        check(last == ref[0], "an output overlapping itself holds the last element's result");
    }
    ag_set_num_threads(ag_default_num_threads());
    free(buf); free(src); free(dy); free(ref);
}

int main(void)
{
    printf("dispatch: %s\n", ag_isa_name());
    const char *const *isas = tu_isa_names;
    for (int k = 0; k < TU_NISA; k++) {
        if (!ag_isa_supported(isas[k])) { printf("%s path skipped: not supported here\n", isas[k]); continue; }
        ag_set_isa(isas[k]);
        test_strided_and_params();
        test_conversions();
    }
    test_threads();
    test_overlap();
    test_fp_flags();
    test_dispatch();
    printf("test_elementwise: %d passed, %d failed\n", passed, failed);
    return failed != 0;
}
