/* Exact values of the piecewise activations at kinks, limits, signed zeros and NaN,
 * for float and double, on the scalar path and (where the CPU has it) the AVX2 path.
 * Build: make -C csrc test  (compiled once per ISA with -DTP_ISA=1|2, then linked). */
#include <math.h>
#include <stdio.h>

#if defined(TP_ISA) && TP_ISA == 3
/* The AVX-512 path runs the same shim-only code; its bit-identity is covered by test_vmath. */
typedef int tp_no_avx512_object;
#elif defined(TP_ISA)
#if TP_ISA == 2
#pragma GCC target("avx2,fma")
#include "../simd/avx2.h"
#define TP_SUFFIX avx2
#else
#include "../simd/scalar.h"
#define TP_SUFFIX scalar
#endif
#include "../simd/generic.h"

#define AG_T double
#define AG_SFX f64
#define AG_IS_F32 0
#include "../ops/relu.h"
#include "../ops/relu6.h"
#include "../ops/leaky_relu.h"
#include "../ops/hardtanh.h"
#include "../ops/hardsigmoid.h"
#include "../ops/hardswish.h"
#include "../ops/softsign.h"

typedef vec (*op_fn)(vec, vec, vec);
/* Evaluates f lane by lane through a one-element tail load, so every ISA runs the same code. */
static double eval(op_fn f, double x, double a, double b)
{
    double out[VLANES];
    v_store(out, f(v_load_tail(&x, 1), v_set1(a), v_set1(b)));
    return out[0];
}
#define TP_CAT_(a, b) a##b
#define TP_CAT(a, b) TP_CAT_(a, b)
int TP_CAT(tp_run_, TP_SUFFIX)(int (*check)(const char *, double, double))
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
#else
#include <stdint.h>
#include <string.h>
int tp_run_scalar(int (*check)(const char *, double, double));
int tp_run_avx2(int (*check)(const char *, double, double));
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
    tp_run_scalar(check);
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        tp_run_avx2(check);
    else
        printf("avx2 path skipped: this CPU lacks AVX2/FMA\n");
    printf("test_piecewise: %d passed, %d failed\n", passed, failed);
    return failed != 0;
}
#endif
