/* Nanoseconds per element of every contiguous elementwise kernel (op x call x dtype) on
 * each SIMD path this CPU runs, one thread, on an array that stays in L1/L2 (so the figure
 * is the kernel's compute cost, not memory's), median of repeated runs.
 *   make -C csrc kernel-speed [SPEED_ARGS="-n 4096 -o sigmoid,gelu"]   (built -O3 as setup.py builds)
 * Options: -n N elements (default 4096), -o op[,op...] only these ops, -p path only this
 * path.  Cycles per element = ns x the core clock in GHz. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "../include/ag_kernels.h"
#include "../tests/isa_paths.h"
#include "timing.h"

static const char *const op_names[] = {
#define AG_OP(name, nparams, from_output, cost) #name,
#include "../gen/ops.inc"
#undef AG_OP
};
static const char *const call_names[AG_NCALLS] = {
    "forward", "derivative", "backward", "derivative_from_output", "backward_from_output"
};

/* Median over 15 samples of the time per element of fn, each sample long enough (~2 ms)
 * to dwarf the clock's resolution. */
static double ns_per_element(ag_kernel_fn fn, ptrdiff_t n, const void *a, const void *b,
                             void *out, const double *params)
{
    int reps = 1;
    for (;;) {
        double t = now();
        for (int r = 0; r < reps; r++) fn(n, a, b, out, params);
        if (now() - t > 2e-3) break;
        reps *= 2;
    }
    double s[15];
    for (int k = 0; k < 15; k++) {
        double t = now();
        for (int r = 0; r < reps; r++) fn(n, a, b, out, params);
        s[k] = (now() - t) / reps / n * 1e9;
    }
    qsort(s, 15, sizeof *s, cmp_double);
    return s[7];
}

static int listed(const char *list, const char *name)
{
    if (!list) return 1;
    size_t k = strlen(name);
    for (const char *p = list; (p = strstr(p, name)); p += k)
        if ((p == list || p[-1] == ',') && (p[k] == ',' || p[k] == '\0')) return 1;
    return 0;
}

int main(int argc, char **argv)
{
    ptrdiff_t n = 4096;
    const char *ops = NULL, *only_path = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "-n")) n = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "-o")) ops = argv[i + 1];
        else if (!strcmp(argv[i], "-p")) only_path = argv[i + 1];
        else { fprintf(stderr, "usage: %s [-n N] [-o ops] [-p path]\n", argv[0]); return 2; }
    }
    const ag_kernel_table *const all[] = {
#define KS_PATH(name, arch, shim, target, check) AG_ISA_IF(arch)(&ag_kernels_##name,)
        AG_ISAS(KS_PATH)
#undef KS_PATH
    };
    enum { NPATHS = sizeof all / sizeof *all };
    double *buf[4];
    for (int k = 0; k < 4; k++) buf[k] = malloc(n * sizeof(double));
    /* x spread over [-8, 8] (the transcendental cores' main range), dy in (0.5, 1.5);
     * the calls from the output take y = f(x) (buf[3]), which their fast paths expect. */
    for (ptrdiff_t i = 0; i < n; i++) {
        double x = -8.0 + 16.0 * (double)((i * 7919) % n) / n, dy = 0.5 + (double)i / n;
        buf[1][i] = x; buf[0][i] = dy;
    }
    float *xf = malloc(n * sizeof(float)), *dyf = malloc(n * sizeof(float));
    for (ptrdiff_t i = 0; i < n; i++) { xf[i] = (float)buf[1][i]; dyf[i] = (float)buf[0][i]; }
    const double params[2] = { 1.0, 0.5 };

    printf("%-13s %-23s", "op", "call");
    for (int p = 0; p < NPATHS; p++)
        if (tu_isa_supported(all[p]->isa) && listed(only_path, all[p]->isa))
            printf(" %7s-f32 %7s-f64", all[p]->isa, all[p]->isa);
    printf("   (ns/element, n = %td, one thread)\n", n);
    for (int op = 0; op < AG_NOPS; op++) {
        if (!listed(ops, op_names[op])) continue;
        for (int c = 0; c < AG_NCALLS; c++) {
            if (!all[0]->elementwise[op][c][0]) continue;
            printf("%-13s %-23s", op_names[op], call_names[c]);
            int two = c == AG_BACKWARD || c == AG_BACKWARD_FROM_OUTPUT;
            int from_y = c == AG_DERIVATIVE_FROM_OUTPUT || c == AG_BACKWARD_FROM_OUTPUT;
            for (int p = 0; p < NPATHS; p++) {
                if (!tu_isa_supported(all[p]->isa) || !listed(only_path, all[p]->isa)) continue;
                for (int dt = 0; dt < 2; dt++) {
                    const void *x = dt ? (const void *)buf[1] : xf, *dy = dt ? (const void *)buf[0] : dyf;
                    void *out = buf[2];
                    if (from_y) {
                        all[p]->elementwise[op][AG_FORWARD][dt](n, x, NULL, buf[3], params);
                        x = buf[3];
                    }
                    ag_kernel_fn fn = all[p]->elementwise[op][c][dt];
                    double t = two ? ns_per_element(fn, n, dy, x, out, params)
                                   : ns_per_element(fn, n, x, NULL, out, params);
                    printf(" %11.3f", t);
                }
            }
            printf("\n");
            fflush(stdout);
        }
    }
    return 0;
}
