/* Exact values of the piecewise activations at kinks, limits, signed zeros and NaN,
 * for double, on every path of the ISA registry this CPU has.
 * Build: make -C csrc test  (compiled once per registry row with -DAG_ISA=<name>, then linked). */
#include <math.h>
#include <stdio.h>

#if defined(AG_ISA)
#include "../isa/isa_begin.h"
#if AG_ISA_HERE
#include "../simd/generic.h"

#define AG_T double
#define AG_SFX f64
#define AG_IS_F32 0
#include "../ops/all.h"

typedef vec (*op_fn)(vec, vec, vec);
/* Evaluates f lane by lane through a one-element tail load, so every ISA runs the same code. */
static double eval(op_fn f, double x, double a, double b)
{
    double out[VLANES];
    v_store(out, f(v_load_tail(&x, 1), v_set1(a), v_set1(b)));
    return out[0];
}
int AG_ISA_CAT(tp_run_, AG_ISA)(int (*check)(const char *, double, double))
{
    int bad = 0;
    const double inf = INFINITY, nan = NAN;
    bad += check("relu(-0) = +0", eval(ag_relu_forward_f64, -0.0, 0, 0), 0.0);
    bad += check("relu(nan)", eval(ag_relu_forward_f64, nan, 0, 0), nan);
    bad += check("relu'(0) = 0", eval(ag_relu_derivative_f64, 0.0, 0, 0), 0.0);
    bad += check("relu'(nan)", eval(ag_relu_derivative_f64, nan, 0, 0), nan);
    bad += check("relu6(7)", eval(ag_relu6_forward_f64, 7, 0, 0), 6);
    bad += check("relu6'(6) = 0", eval(ag_relu6_derivative_f64, 6, 0, 0), 0);
    bad += check("relu6'(3) = 1", eval(ag_relu6_derivative_f64, 3, 0, 0), 1);
    bad += check("leaky_relu(-2)", eval(ag_leaky_relu_forward_f64, -2, 0.01, 0), -0.02);
    bad += check("leaky_relu'(0) = slope", eval(ag_leaky_relu_derivative_f64, 0, 0.01, 0), 0.01);
    bad += check("leaky_relu'(nan)", eval(ag_leaky_relu_derivative_f64, nan, 0.01, 0), nan);
    bad += check("hardtanh(-inf)", eval(ag_hardtanh_forward_f64, -inf, -1, 1), -1);
    bad += check("hardtanh(nan)", eval(ag_hardtanh_forward_f64, nan, -1, 1), nan);
    bad += check("hardtanh'(1) = 0", eval(ag_hardtanh_derivative_f64, 1, -1, 1), 0);
    bad += check("hardtanh'(0) lo == hi", eval(ag_hardtanh_derivative_f64, 0, 0, 0), 0);
    bad += check("hardsigmoid(1)", eval(ag_hardsigmoid_forward_f64, 1, 0, 0), 4.0 / 6);
    bad += check("hardsigmoid'(3) = 0", eval(ag_hardsigmoid_derivative_f64, 3, 0, 0), 0);
    bad += check("hardsigmoid'(0)", eval(ag_hardsigmoid_derivative_f64, 0, 0, 0), 1.0 / 6);
    bad += check("hardswish(-inf) = -0", eval(ag_hardswish_forward_f64, -inf, 0, 0), -0.0);
    bad += check("hardswish(inf)", eval(ag_hardswish_forward_f64, inf, 0, 0), inf);
    bad += check("hardswish(2)", eval(ag_hardswish_forward_f64, 2, 0, 0), 10.0 / 6);
    bad += check("hardswish'(-3) = 0", eval(ag_hardswish_derivative_f64, -3, 0, 0), 0);
    bad += check("hardswish'(3) = 1", eval(ag_hardswish_derivative_f64, 3, 0, 0), 1);
    bad += check("hardswish'(nan)", eval(ag_hardswish_derivative_f64, nan, 0, 0), nan);
    bad += check("softsign(inf) = 1", eval(ag_softsign_forward_f64, inf, 0, 0), 1);
    bad += check("softsign(-0) = -0", eval(ag_softsign_forward_f64, -0.0, 0, 0), -0.0);
    bad += check("softsign'(1e300)", eval(ag_softsign_derivative_f64, 1e300, 0, 0), (1 / (1 + 1e300)) * (1 / (1 + 1e300)));
    bad += check("softsign' from y=0.5", eval(ag_softsign_derivative_from_output_f64, 0.5, 0, 0), 0.25);
    return bad;
}
#endif
#include "../isa/isa_end.h"
#else
#include <stdint.h>
#include <string.h>
#include "isa_paths.h"
#define TP_DECL(name, arch, shim, target, cpu_check) \
    AG_ISA_IF(arch)(int tp_run_##name(int (*)(const char *, double, double));)
AG_ISAS(TP_DECL)
static int passed, failed;
/* Bitwise equality, except that any NaN matches any NaN. */
static int check(const char *what, double got, double want)
{
    uint64_t g, w;
    memcpy(&g, &got, 8);
    memcpy(&w, &want, 8);
    int ok = (isnan(got) && isnan(want)) || g == w;
    if (!ok) printf("FAIL %s: got %a, want %a\n", what, got, want);
    ok ? passed++ : failed++;
    return !ok;
}
int main(void)
{
#define TP_RUN(name, arch, shim, target, cpu_check) AG_ISA_IF(arch)(                    \
    if (tu_isa_supported(#name)) { printf("test_piecewise: %s path\n", #name); tp_run_##name(check); } \
    else printf("test_piecewise: %s path skipped: not supported by this CPU\n", #name);)
    AG_ISAS(TP_RUN)
    printf("test_piecewise: %d passed, %d failed\n", passed, failed);
    return failed != 0;
}
#endif
