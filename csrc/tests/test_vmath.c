/* Accuracy and cross-ISA test of csrc/vmath (exp, exp_hilo, expm1, log1p,
 * tanh) and of the activation math in csrc/ops.
 *
 * Build and run: make -C csrc test (the file is compiled once per row of the ISA
 * registry, include/ag_isas.h, with -DAG_ISA=<name>, then once more as the driver).
 *
 * Checks (a) ULP error of the vmath functions against long double libm
 * (expl, expm1l, log1pl, tanhl) over dense samples of the whole range
 * (bit-pattern sweep for float, random bits and values for double, plus
 * +-0, subnormals, thresholds, +-inf, NaN, huge), with exact special values;
 * (b) every other path of the registry gives results bit-identical to the
 * scalar path (any NaN equals any NaN) for every vmath function and every ops/
 * forward, derivative and derivative_from_output, on arrays whose lengths
 * exercise the tails; (c) a few exact limits of the activations.  A path the
 * CPU lacks is skipped with a message.  Op accuracy against mpmath is
 * measured by tests/test_activations.py and bench/accuracy.py.
 */

#ifndef TV_SHARED_
#define TV_SHARED_
/* The ops under test: name, has derivative_from_output, p0, p1. */
#define TV_OPS(X)                       \
    X(sigmoid, 1, 0, 0)                 \
    X(tanh, 1, 0, 0)                    \
    X(softplus, 1, 1, 20)               \
    X(log_sigmoid, 1, 0, 0)             \
    X(silu, 0, 0, 0)                    \
    X(mish, 0, 0, 0)                    \
    X(elu, 1, 1, 0)                     \
    X(selu, 1, 0, 0)                    \
    X(celu, 1, 1, 0)

enum {
    TV_EXP, TV_EXPM1, TV_LOG1P, TV_TANH, TV_EXP_HILO, TV_LOG1P01_HI, TV_LOG1P01_LO,
    TV_D32_EXP, TV_D32_EXP_SAT, TV_D32_EXPM1, TV_D32_LOG1P01,
    TV_D32_EXP_NEGABS, TV_D32_EXPM1_NEGABS, TV_D32_EXP_NEGABS_FLUSH,
#define TV_ENUM(name, dfo, a, b) TV_##name##_F, TV_##name##_D, TV_##name##_O,
    TV_OPS(TV_ENUM)
#undef TV_ENUM
    TV_NFN
};
#endif

#if defined(TV_DTYPE_BODY)
/* ------------------------------------------------------------------ */
/* One dtype of one ISA: included from below with AG_T/AG_SFX set    */
/* and the math included (isa/dtype_passes.h).                        */

static inline vec AG_FN(tv_none_)(vec x, vec p0, vec p1) { (void)p0; (void)p1; return v_add(x, AG_C(NAN)); }

void AG_CAT(TV_RUN, AG_SFX)(int fn, const AG_T *x, const AG_T *x2, AG_T p0, AG_T p1, AG_T *y, ptrdiff_t n)
{
    vec P0 = v_set1(p0), P1 = v_set1(p1);
    for (ptrdiff_t i = 0; i < n; i += VLANES) {
        ptrdiff_t m = n - i < VLANES ? n - i : VLANES;
        vec a = v_load_tail(x + i, m), b = v_load_tail(x2 + i, m), r;
        switch (fn) {
        case TV_EXP: r = AG_FN(ag_exp)(a); break;
        case TV_EXPM1: r = AG_FN(ag_expm1)(a); break;
        case TV_LOG1P: r = AG_FN(ag_log1p)(a); break;
        case TV_TANH: r = AG_FN(ag_tanh)(a); break;
        case TV_EXP_HILO: r = AG_FN(ag_exp_hilo)(a, b); break;
        case TV_LOG1P01_HI: r = AG_FN(ag_log1p01_dw)(a, b, &r); break;
        case TV_LOG1P01_LO: AG_FN(ag_log1p01_dw)(a, b, &r); break;
#if !AG_IS_F32
        case TV_D32_EXP: r = ag_d32_exp(a); break;
        case TV_D32_EXP_SAT: r = ag_d32_exp_sat(a); break;
        case TV_D32_EXPM1: r = ag_d32_expm1(a); break;
        case TV_D32_LOG1P01: r = ag_d32_log1p01(a); break;
        case TV_D32_EXP_NEGABS: r = ag_d32_exp_negabs(a); break;
        case TV_D32_EXPM1_NEGABS: r = ag_d32_expm1_negabs(a); break;
        case TV_D32_EXP_NEGABS_FLUSH: r = ag_d32_exp_negabs_flush(a); break;
#endif
#define TV_CASE(name, dfo, pa, pb)                                                           \
        case TV_##name##_F: r = AG_FN(ag_##name##_forward)(a, P0, P1); break;                \
        case TV_##name##_D: r = AG_FN(ag_##name##_derivative)(a, P0, P1); break;             \
        case TV_##name##_O: r = AG_FN(TV_DFO_##dfo(name))(a, P0, P1); break;
#define TV_DFO_1(name) ag_##name##_derivative_from_output
#define TV_DFO_0(name) tv_none_
        TV_OPS(TV_CASE)
        default: r = a;
        }
        v_store_tail(y + i, m, r);
    }
}

#elif defined(AG_ISA)
/* ------------------------------------------------------------------ */
/* One ISA translation unit (a row of include/ag_isas.h):             */
/* tv_run_<isa>_f32 / _f64 and tv_lanes_<isa>.                        */

#include "../isa/isa_begin.h"
#if AG_ISA_HERE
#define TV_RUN AG_ISA_CAT(AG_ISA_CAT(tv_run_, AG_ISA), _)
#include "../simd/generic.h"

int AG_ISA_CAT(tv_lanes_, AG_ISA)(int f64) { return f64 ? AG_f64_LANES : AG_f32_LANES; }

#define TV_DTYPE_BODY
#define AG_DTYPE_BODY "../tests/test_vmath.c"
#include "../isa/dtype_passes.h"
#endif
#include "../isa/isa_end.h"

#else
/* ------------------------------------------------------------------ */
/* The driver.                                                        */

#include <float.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "isa_paths.h"

/* Every path of the registry built for this architecture; [0] is scalar, the reference. */
#define TV_DECL(name, arch, shim, target, check) AG_ISA_IF(arch)(                            \
    void tv_run_##name##_f32(int, const float *, const float *, float, float, float *, ptrdiff_t); \
    void tv_run_##name##_f64(int, const double *, const double *, double, double, double *, ptrdiff_t); \
    int tv_lanes_##name(int);)
AG_ISAS(TV_DECL)

typedef void (*tv_run_f32)(int, const float *, const float *, float, float, float *, ptrdiff_t);
typedef void (*tv_run_f64)(int, const double *, const double *, double, double, double *, ptrdiff_t);
static struct { const char *name; tv_run_f32 f32; tv_run_f64 f64; int (*lanes)(int); int lanes32, lanes64, have; } isas[] = {
#define TV_PATH(name, arch, shim, target, check) \
    AG_ISA_IF(arch)({#name, tv_run_##name##_f32, tv_run_##name##_f64, tv_lanes_##name, 0, 0, 0},)
    AG_ISAS(TV_PATH)
};

#include "testutil.h"

/* ULP error of y against the exact r, in units of the spacing of the format
 * (prec bits, emin the least normal exponent) at r.  A reference that rounds
 * to +-inf must be matched exactly; NaN must match NaN; a zero reference must
 * be matched with its sign. */
static double ulp_err(long double y, long double r, int prec, int emin, long double maxv)
{
    if (isnan(r) || isnan(y))
        return isnan(r) && isnan(y) ? 0 : INFINITY;
    long double big = maxv + ldexpl(1, ilogbl(maxv) - prec); /* rounding bound to inf */
    if (fabsl(r) >= big || isinf(y))
        return (isinf(y) && (fabsl(r) >= big) && signbit(y) == signbit(r)) ? 0 : INFINITY;
    if (r == 0)
        return (y == 0 && signbit(y) == signbit(r)) ? 0 : INFINITY;
    int e = ilogbl(r);
    if (e < emin)
        e = emin;
    return (double)(fabsl(y - r) / ldexpl(1, e - prec + 1));
}

typedef long double (*ref_fn)(long double);
static long double ref_exp(long double x) { return expl(x); }
static long double ref_expm1(long double x) { return expm1l(x); }
static long double ref_log1p(long double x) { return log1pl(x); }
static long double ref_tanh(long double x) { return tanhl(x); }

#define NMAX (1 << (21 - AG_TEST_SHRINK))
static float xf[NMAX], lf[NMAX], yf[NMAX], zf[NMAX];
static double xd[NMAX], ld[NMAX], yd[NMAX], zd[NMAX];

static const float spec_f[] = {
    0.0f, -0.0f, 0x1p-149f, -0x1p-149f, 0x1.fffffcp-127f, -0x1.fffffcp-127f, 0x1p-126f, -0x1p-126f,
    0x1p-30f, -0x1p-30f, 0x1p-25f, -0x1p-25f, 0x1.fffffep-26f, 1.0f, -1.0f, 0.5f, -0.5f, 0.625f, -0.625f,
    0x1.62e42ep-2f, 0x1.62e43p-2f, 2.0f, -2.0f, 9.01f, -9.01f, 17.5f, -17.5f, 18.0f, -18.0f, 20.0f, -20.0f,
    88.72283f, 88.72284f, 89.0f, -87.33654f, -87.3365f, -103.97f, -103.98f, -104.0f, -150.0f, 1e10f, -1e10f,
    FLT_MAX, -FLT_MAX, 0x1.6a09e6p+0f - 1.0f, -0x1p-1f, -0x1.fffffep-1f, INFINITY, -INFINITY, NAN, -NAN,
};
static const double spec_d[] = {
    0.0, -0.0, 0x1p-1074, -0x1p-1074, 0x1.ffffffffffffep-1023, -0x1.ffffffffffffep-1023, 0x1p-1022, -0x1p-1022,
    0x1p-54, -0x1p-54, 0x1p-60, -0x1p-60, 1.0, -1.0, 0.5, -0.5, 0.625, -0.625, 2.0, -2.0, 19.06, -19.06,
    36.7, -36.7, 40.0, -40.0, 709.782712893384, 709.7827128933841, 710.0, -708.3964185322641, -708.4,
    -745.1332191019411, -745.1332191019412, -746.0, -1100.0, 1e300, -1e300, DBL_MAX, -DBL_MAX,
    0x1.fffffffffffffp-1, -0x1.fffffffffffffp-1, INFINITY, -INFINITY, NAN, -NAN,
};

static int same_f(float a, float b) { return (isnan(a) && isnan(b)) || memcmp(&a, &b, sizeof a) == 0; }
static int same_d(double a, double b) { return (isnan(a) && isnan(b)) || memcmp(&a, &b, sizeof a) == 0; }

/* Runs fn on n inputs with every ISA the CPU has; checks bit identity with
 * the scalar path; leaves the scalar results in yf/yd. */
static void run_both_f(int fn, const char *name, float p0, float p1, size_t n)
{
    tv_run_scalar_f32(fn, xf, lf, p0, p1, yf, (ptrdiff_t)n);
    for (size_t k = 1; k < sizeof isas / sizeof *isas; k++) {
        if (!isas[k].have)
            continue;
        /* chunk lengths 1..4 vectors + 3 so that every tail length occurs */
        size_t m = 4 * (size_t)isas[k].lanes32 + 3;
        for (size_t i = 0, c = 1; i < n; i += c, c = c % m + 1)
            isas[k].f32(fn, xf + i, lf + i, p0, p1, zf + i, (ptrdiff_t)(n - i < c ? n - i : c));
        size_t bad = 0, first = 0;
        for (size_t i = 0; i < n; i++)
            if (!same_f(yf[i], zf[i]) && bad++ == 0)
                first = i;
        char msg[200];
        snprintf(msg, sizeof msg, "%s f32: %s == scalar (%zu differ, first x=%a: %a vs %a)", name,
                 isas[k].name, bad, xf[first], yf[first], zf[first]);
        check(bad == 0, msg);
    }
}
static void run_both_d(int fn, const char *name, double p0, double p1, size_t n)
{
    tv_run_scalar_f64(fn, xd, ld, p0, p1, yd, (ptrdiff_t)n);
    for (size_t k = 1; k < sizeof isas / sizeof *isas; k++) {
        if (!isas[k].have)
            continue;
        size_t m = 4 * (size_t)isas[k].lanes64 + 3;
        for (size_t i = 0, c = 1; i < n; i += c, c = c % m + 1)
            isas[k].f64(fn, xd + i, ld + i, p0, p1, zd + i, (ptrdiff_t)(n - i < c ? n - i : c));
        size_t bad = 0, first = 0;
        for (size_t i = 0; i < n; i++)
            if (!same_d(yd[i], zd[i]) && bad++ == 0)
                first = i;
        char msg[200];
        snprintf(msg, sizeof msg, "%s f64: %s == scalar (%zu differ, first x=%a: %a vs %a)", name,
                 isas[k].name, bad, xd[first], yd[first], zd[first]);
        check(bad == 0, msg);
    }
}

/* Float inputs: specials, a sweep of bit patterns (both signs, NaNs
 * included), and uniform values in [lo, hi]. */
static size_t fill_f(float lo, float hi)
{
    size_t n = 0;
    for (size_t i = 0; i < sizeof spec_f / sizeof *spec_f; i++)
        xf[n++] = spec_f[i];
    for (uint64_t b = 0; b < (1ULL << 32); b += (3067u << AG_TEST_SHRINK) | 1u) {  /* odd steps: every low bit pattern */
        uint32_t u = (uint32_t)b;
        memcpy(&xf[n++], &u, 4);
    }
    while (n < NMAX)
        xf[n++] = (float)(lo + (hi - lo) * urand());
    for (size_t i = 0; i < n; i++)
        lf[i] = 0;
    return n;
}
static size_t fill_d(double lo, double hi)
{
    size_t n = 0;
    for (size_t i = 0; i < sizeof spec_d / sizeof *spec_d; i++)
        xd[n++] = spec_d[i];
    while (n < NMAX / 4) {                 /* random bit patterns */
        uint64_t u = rng();
        memcpy(&xd[n++], &u, 8);
    }
    while (n < NMAX / 2)                   /* random exponent in [-60, 12], random sign */
        xd[n++] = ldexp(1 + urand(), (int)(rng() % 73) - 60) * (rng() & 1 ? -1 : 1);
    while (n < NMAX)
        xd[n++] = lo + (hi - lo) * urand();
    for (size_t i = 0; i < n; i++)
        ld[i] = 0;
    return n;
}

static void vmath_accuracy(int fn, const char *name, ref_fn ref, double lo, double hi, double tol)
{
    char msg[200];
    size_t n = fill_f((float)lo, (float)hi);
    run_both_f(fn, name, 0, 0, n);
    double worst = 0;
    float wx = 0;
    for (size_t i = 0; i < n; i++) {
        double e = ulp_err(yf[i], ref(xf[i]), 24, -126, FLT_MAX);
        if (e > worst || e != e)
            worst = e, wx = xf[i];
    }
    printf("  %-8s f32 max %.3f ULP (at x = %a)\n", name, worst, wx);
    snprintf(msg, sizeof msg, "%s f32: max %.3f ULP at %a (tolerance %.2f)", name, worst, wx, tol);
    check(worst <= tol, msg);

    n = fill_d(lo, hi);
    run_both_d(fn, name, 0, 0, n);
    worst = 0;
    double wd = 0;
    for (size_t i = 0; i < n; i++) {
        double e = ulp_err(yd[i], ref(xd[i]), 53, -1022, DBL_MAX);
        if (e > worst || e != e)
            worst = e, wd = xd[i];
    }
    printf("  %-8s f64 max %.3f ULP (at x = %a)\n", name, worst, wd);
    snprintf(msg, sizeof msg, "%s f64: max %.3f ULP at %a (tolerance %.2f)", name, worst, wd, tol);
    check(worst <= tol, msg);
}

/* vmath/exp_d32.h (double in, double out, sized for float32 results):
 * relative error against long double libm on [lo, hi] plus the saturation,
 * special values and the cross-ISA check of run_both_d. */
static void d32_accuracy(int fn, const char *name, ref_fn ref, double tol_log2)
{
    char msg[200];
    size_t n = fill_d(-708, 709);
    static const double extra[] = { -708, 709, -0.0, 0.0, 0x1p-1074, -0x1p-1074, 0x1p-1022, -0x1p-30,
                                    0.3465, -0.3467, 0.3467, 1e-300, -1e-17, 88.72, -103.9, -87.3 };
    for (size_t i = 0; i < sizeof extra / sizeof *extra; i++)
        xd[i] = extra[i];
    run_both_d(fn, name, 0, 0, n);
    double worst = 0, wx = 0;
    for (size_t i = 0; i < n; i++) {
        double x = xd[i];
        if (!(x >= -708 && x <= 709))
            continue;
        long double r = ref(x);
        double e = r == 0 ? (yd[i] == 0 ? 0 : INFINITY) : (double)fabsl(((long double)yd[i] - r) / r);
        if (e > worst || e != e)
            worst = e, wx = x;
    }
    printf("  %-10s max rel err 2^%.2f (at x = %a)\n", name, log2(worst), wx);
    snprintf(msg, sizeof msg, "%s: rel err 2^%.2f at %a (tolerance 2^%.1f)", name, log2(worst), wx, tol_log2);
    check(worst <= ldexp(1, (int)tol_log2) || log2(worst) <= tol_log2, msg);
    /* saturation and specials */
    double sx[] = { -INFINITY, -709, -1e300, 710, 1e300, INFINITY, NAN, 0.0, -0.0 }, sy[9];
    for (size_t i = 0; i < 9; i++) {
        tv_run_scalar_f64(fn, &sx[i], &sx[i], 0, 0, &sy[i], 1);
        double e1 = fn == TV_D32_EXPM1 ? -1.0 : fn == TV_D32_EXP ? 0.0 : exp(-708.0);
        double w = isnan(sx[i]) ? NAN : sx[i] == 0 ? (fn == TV_D32_EXPM1 ? sx[i] : 1.0)
                 : sx[i] < 0 ? e1 : fn == TV_D32_EXP ? INFINITY : -2;
        if (w == -2)   /* saturating above 709: finite, > FLT_MAX */
            snprintf(msg, sizeof msg, "%s(%g) = %a: finite and > FLT_MAX", name, sx[i], sy[i]), check(isfinite(sy[i]) && sy[i] > FLT_MAX, msg);
        else if (sx[i] < 0 && fn == TV_D32_EXP_SAT)
            snprintf(msg, sizeof msg, "%s(%g) = %a: e^-708", name, sx[i], sy[i]), check(fabs(sy[i] / w - 1) < 1e-10, msg);
        else
            snprintf(msg, sizeof msg, "%s(%g) = %a, want %a", name, sx[i], sy[i], w), check(same_d(sy[i], w), msg);
    }
}

/* exp_hilo: e^(hi + lo) with hi + lo exact in long double. */
static void exp_hilo_accuracy(void)
{
    char msg[200];
    size_t n = 0;
    double worst = 0, wx = 0;
    for (; n < NMAX; n++) {                /* f32: the FMA split of -z^2 */
        float z = (float)(12 * urand());
        float p = z * z;
        xf[n] = -p;
        lf[n] = -fmaf(z, z, -p);
    }
    xf[0] = -INFINITY, lf[0] = NAN, xf[1] = INFINITY, lf[1] = NAN, xf[2] = NAN, lf[2] = 0;
    run_both_f(TV_EXP_HILO, "exp_hilo", 0, 0, n);
    check(yf[0] == 0 && yf[1] == INFINITY && isnan(yf[2]), "exp_hilo f32 special values");
    for (size_t i = 3; i < n; i++) {
        double e = ulp_err(yf[i], expl((long double)xf[i] + lf[i]), 24, -126, FLT_MAX);
        if (e > worst)
            worst = e, wx = xf[i];
    }
    printf("  %-8s f32 max %.3f ULP (at hi = %a)\n", "exp_hilo", worst, wx);
    snprintf(msg, sizeof msg, "exp_hilo f32: max %.3f ULP at %a", worst, wx);
    check(worst <= 1.0, msg);

    worst = 0;
    for (n = 0; n < NMAX; n++) {           /* f64: lo a multiple of the long double ulp of hi */
        double hi = -750 + 1462 * urand();
        int e;
        frexp(hi, &e);
        xd[n] = hi;
        ld[n] = ldexp((double)((int64_t)(rng() % 4097) - 2048), e - 64 - 1);
    }
    xd[0] = -INFINITY, ld[0] = NAN, xd[1] = INFINITY, ld[1] = NAN, xd[2] = NAN, ld[2] = 0;
    run_both_d(TV_EXP_HILO, "exp_hilo", 0, 0, n);
    check(yd[0] == 0 && yd[1] == INFINITY && isnan(yd[2]), "exp_hilo f64 special values");
    for (size_t i = 3; i < n; i++) {
        double e = ulp_err(yd[i], expl((long double)xd[i] + ld[i]), 53, -1022, DBL_MAX);
        if (e > worst)
            worst = e, wx = xd[i];
    }
    printf("  %-8s f64 max %.3f ULP (at hi = %a)\n", "exp_hilo", worst, wx);
    snprintf(msg, sizeof msg, "exp_hilo f64: max %.3f ULP at %a", worst, wx);
    check(worst <= 1.0, msg);
}

/* log1p01_dw (f64, the softplus / log_sigmoid core): hi + lo against log1pl(e + el) for e in
 * [0, 1] and el = 0 or a low part of up to 1/4 ULP of e (what ag_exp_dw hands it), in ULPs
 * of hi (0.39 measured, near e = 0.4, where s (hfsq + R) is largest: see vmath/log1p.h);
 * hi alone within 0.5 ULP + that. */
static void log1p01_accuracy(void)
{
    static double hd[NMAX];
    static const double spec[] = { 0.0, 1.0, 0.5, 0x1p-1074, 0x1p-1022, 0x1p-54, 0x1p-53, 0x1p-30,
                                   0x1.a827999fcef32p-2, 0x1.a827999fcef31p-2, 0x1.a827999fcef33p-2,
                                   0x1.a827999fcef34p-2, 0x1.fffffffffffffp-1, NAN };
    size_t n = 0, ns = sizeof spec / sizeof *spec;
    for (; n < ns; n++)
        xd[n] = spec[n];
    while (n < NMAX / 2)                   /* random exponent in [-80, -1] */
        xd[n++] = ldexp(1 + urand(), (int)(rng() % 80) - 81);
    while (n < NMAX)
        xd[n++] = urand();
    for (size_t i = 0; i < n; i++) {        /* el: 0, or up to 1/4 ULP of e either way */
        int ex;
        frexp(xd[i], &ex);
        ld[i] = i % 2 || i < ns ? 0 : ldexp((double)((int64_t)(rng() % 4097) - 2048), ex - 53 - 2 - 11);
    }
    run_both_d(TV_LOG1P01_HI, "log1p01_hi", 0, 0, n);
    memcpy(hd, yd, n * sizeof *yd);
    run_both_d(TV_LOG1P01_LO, "log1p01_lo", 0, 0, n);
    check(hd[0] == 0 && !signbit(hd[0]) && yd[0] == 0 && isnan(hd[ns - 1]),
          "log1p01_dw(+0) = +0, NaN -> NaN");
    double worst = 0, worst_hi = 0, wx = 0;
    for (size_t i = 0; i < n; i++) {
        long double r = log1pl((long double)xd[i] + ld[i]);
        if (r == 0 || i == ns - 1)         /* +0 checked above; NaN */
            continue;
        long double u = ldexpl(1, ilogbl(hd[i]) - 52);
        double e = (double)(fabsl((long double)hd[i] + yd[i] - r) / u);
        double eh = (double)(fabsl(hd[i] - r) / u);
        if (e > worst || e != e)
            worst = e, wx = xd[i];
        if (eh > worst_hi || eh != eh)
            worst_hi = eh;
    }
    char msg[200];
    printf("  %-8s f64 hi + lo within %.3f ULP of hi (at e = %a), hi %.3f ULP\n", "log1p01", worst, wx,
           worst_hi);
    snprintf(msg, sizeof msg, "log1p01_dw f64: hi + lo %.3f ULP at %a (tolerance 0.4), hi %.3f (0.9)",
             worst, wx, worst_hi);
    check(worst <= 0.4 && worst_hi <= 0.9, msg);
}

/* vmath/log1p_d32.h: log1p(u) on [0, 1] relative to long double libm, over uniform values,
 * random exponents down to 2^-80 and the ends; u and +0 exactly where u^2 Q vanishes. */
static void d32_log1p01_accuracy(void)
{
    static const double spec[] = { 0.0, 1.0, 0x1p-1074, 0x1p-1022, 0x1p-60, 0x1p-27, 0.5, NAN };
    size_t n = 0, ns = sizeof spec / sizeof *spec;
    for (; n < ns; n++)
        xd[n] = spec[n];
    while (n < NMAX / 2)
        xd[n++] = ldexp(1 + urand(), (int)(rng() % 80) - 81);
    while (n < NMAX)
        xd[n++] = urand();
    run_both_d(TV_D32_LOG1P01, "d32_log1p01", 0, 0, n);
    check(yd[0] == 0 && !signbit(yd[0]) && yd[2] == 0x1p-1074 && yd[4] == 0x1p-60 && isnan(yd[ns - 1]),
          "d32_log1p01: +0, subnormal and tiny u exactly, NaN -> NaN");
    double worst = 0, wx = 0;
    for (size_t i = 1; i < n; i++) {
        if (i == ns - 1)
            continue;
        long double r = log1pl(xd[i]);
        double e = (double)fabsl(((long double)yd[i] - r) / r);
        if (e > worst || e != e)
            worst = e, wx = xd[i];
    }
    char msg[200];
    printf("  %-10s max rel err 2^%.2f (at u = %a)\n", "d32_log1p01", log2(worst), wx);
    snprintf(msg, sizeof msg, "d32_log1p01: rel err 2^%.2f at %a (tolerance 2^-41)", log2(worst), wx);
    check(log2(worst) <= -41, msg);
}

/* Bit identity of every op call, and exact limits (a derivative that tends
 * to 0 may give a zero of either sign: TV_ANY0). */
#define TV_ANY0 1e-300
struct tv_limit { int fn; double x, y; };
static const struct tv_limit limits[] = {
    {TV_sigmoid_F, -INFINITY, 0}, {TV_sigmoid_F, INFINITY, 1}, {TV_sigmoid_F, 0, 0.5},
    {TV_sigmoid_D, INFINITY, 0}, {TV_sigmoid_D, -INFINITY, 0}, {TV_sigmoid_D, 0, 0.25},
    {TV_tanh_F, -0.0, -0.0}, {TV_tanh_F, INFINITY, 1}, {TV_tanh_F, -INFINITY, -1},
    {TV_tanh_D, 0, 1}, {TV_tanh_D, INFINITY, 0},
    {TV_softplus_F, -INFINITY, 0}, {TV_softplus_F, INFINITY, INFINITY}, {TV_softplus_D, -INFINITY, 0},
    {TV_softplus_D, INFINITY, 1},
    {TV_log_sigmoid_F, INFINITY, 0}, {TV_log_sigmoid_F, -INFINITY, -INFINITY},
    {TV_log_sigmoid_D, INFINITY, 0}, {TV_log_sigmoid_D, -INFINITY, 1},
    {TV_silu_F, -INFINITY, -0.0}, {TV_silu_F, INFINITY, INFINITY}, {TV_silu_F, -0.0, -0.0},
    {TV_silu_D, INFINITY, 1}, {TV_silu_D, -INFINITY, TV_ANY0}, {TV_silu_D, 0, 0.5},
    {TV_mish_F, -INFINITY, -0.0}, {TV_mish_F, INFINITY, INFINITY}, {TV_mish_F, -0.0, -0.0},
    {TV_mish_D, INFINITY, 1}, {TV_mish_D, -INFINITY, TV_ANY0},
    {TV_elu_F, -INFINITY, -1}, {TV_elu_F, INFINITY, INFINITY}, {TV_elu_F, -0.0, -0.0},
    {TV_elu_D, 0, 1}, {TV_elu_D, -INFINITY, 0},
    {TV_celu_F, -INFINITY, -1}, {TV_celu_D, 0, 1},
};

static void ops_checks(void)
{
    static const char *names[TV_NFN] = {
        "exp", "expm1", "log1p", "tanh", "exp_hilo", "log1p01_hi", "log1p01_lo",
        "d32_exp", "d32_exp_sat", "d32_expm1", "d32_log1p01", "d32_exp_negabs", "d32_expm1_negabs",
        "d32_exp_negabs_flush",
#define TV_NAME(name, dfo, a, b) #name "_forward", #name "_derivative", #name "_derivative_from_output",
        TV_OPS(TV_NAME)
#undef TV_NAME
    };
    static const double params[TV_NFN][2] = {
        [0] = {0, 0},
#define TV_PAR(name, dfo, a, b) [TV_##name##_F] = {a, b}, [TV_##name##_D] = {a, b}, [TV_##name##_O] = {a, b},
        TV_OPS(TV_PAR)
#undef TV_PAR
    };
    static const int has_dfo[TV_NFN] = {
#define TV_HAS(name, dfo, a, b) [TV_##name##_O] = dfo,
        TV_OPS(TV_HAS)
#undef TV_HAS
    };
    for (int fn = TV_sigmoid_F; fn < TV_NFN; fn++) {
        if ((fn - TV_sigmoid_O) % 3 == 0 && !has_dfo[fn])
            continue;
        size_t n = fill_f(-120, 120);
        run_both_f(fn, names[fn], (float)params[fn][0], (float)params[fn][1], n);
        size_t nan_ok = 1;
        for (size_t i = 0; i < n; i++)
            if (isnan(xf[i]) && !isnan(yf[i]))
                nan_ok = 0;
        char msg[200];
        snprintf(msg, sizeof msg, "%s f32: NaN in -> NaN out", names[fn]);
        check(nan_ok, msg);
        n = fill_d(-800, 800);
        run_both_d(fn, names[fn], params[fn][0], params[fn][1], n);
        for (size_t i = 0; i < n; i++)
            if (isnan(xd[i]) && !isnan(yd[i]))
                nan_ok = 0;
        snprintf(msg, sizeof msg, "%s f64: NaN in -> NaN out", names[fn]);
        check(nan_ok, msg);
    }
    for (size_t i = 0; i < sizeof limits / sizeof *limits; i++) {
        const struct tv_limit *l = &limits[i];
        float x = (float)l->x, y;
        double xx = l->x, yy;
        tv_run_scalar_f32(l->fn, &x, &x, (float)params[l->fn][0], (float)params[l->fn][1], &y, 1);
        tv_run_scalar_f64(l->fn, &xx, &xx, params[l->fn][0], params[l->fn][1], &yy, 1);
        char msg[200];
        snprintf(msg, sizeof msg, "%s(%g) = %g (f32 %a, f64 %a)", names[l->fn], l->x, l->y, y, yy);
        if (l->y == TV_ANY0)
            check(y == 0 && yy == 0, msg);
        else
            check(same_f(y, (float)l->y) && same_d(yy, l->y), msg);
    }
}

/* ag_d32_exp_negabs(x), ag_d32_expm1_negabs(x) and ag_d32_exp_negabs_flush(x) give the bits
 * of ag_d32_exp_sat(-|x|), ag_d32_expm1(-|x|) and ag_d32_exp(-|x|) (NaN: NaN), on every path. */
static void d32_negabs_same(void)
{
    static const int fns[3][2] = { { TV_D32_EXP_NEGABS, TV_D32_EXP_SAT },
                                   { TV_D32_EXPM1_NEGABS, TV_D32_EXPM1 },
                                   { TV_D32_EXP_NEGABS_FLUSH, TV_D32_EXP } };
    static const char *names[3] = { "d32_exp_negabs", "d32_expm1_negabs", "d32_exp_negabs_flush" };
    static double special[NMAX];   /* run_both_d uses zd */
    for (int k = 0; k < 3; k++) {
        size_t n = fill_d(-800, 800), bad = 0, first = 0;
        run_both_d(fns[k][0], names[k], 0, 0, n);
        memcpy(special, yd, n * sizeof *yd);
        for (size_t i = 0; i < n; i++)
            xd[i] = -fabs(xd[i]);
        run_both_d(fns[k][1], names[k], 0, 0, n);
        for (size_t i = 0; i < n; i++)
            if (!same_d(special[i], yd[i]) && bad++ == 0)
                first = i;
        char msg[200];
        snprintf(msg, sizeof msg, "%s(x) == the general core at -|x| (%zu differ, first -|x| = %a: %a vs %a)",
                 names[k], bad, xd[first], special[first], yd[first]);
        check(bad == 0, msg);
    }
}

int main(void)
{
    for (size_t k = 1; k < sizeof isas / sizeof *isas; k++) {
        isas[k].have = tu_isa_supported(isas[k].name);
        isas[k].lanes32 = isas[k].lanes(0);
        isas[k].lanes64 = isas[k].lanes(1);
    }
    for (size_t k = 1; k < sizeof isas / sizeof *isas; k++)
        printf("test_vmath: %s path %s\n", isas[k].name,
               isas[k].have ? "checked against scalar" : "skipped (not supported by this CPU)");
    vmath_accuracy(TV_EXP, "exp", ref_exp, -750, 712, 1.0);
    vmath_accuracy(TV_EXPM1, "expm1", ref_expm1, -45, 712, 1.0);
    vmath_accuracy(TV_LOG1P, "log1p", ref_log1p, -1, 10, 1.0);
    vmath_accuracy(TV_TANH, "tanh", ref_tanh, -25, 25, 1.0);
    exp_hilo_accuracy();
    log1p01_accuracy();
    d32_accuracy(TV_D32_EXP, "d32_exp", ref_exp, -36);
    d32_accuracy(TV_D32_EXP_SAT, "d32_exp_sat", ref_exp, -36);
    d32_accuracy(TV_D32_EXPM1, "d32_expm1", ref_expm1, -36);
    d32_log1p01_accuracy();
    d32_negabs_same();
    ops_checks();
    printf("test_vmath: %d passed, %d failed\n", passed, failed);
    return failed != 0;
}

#endif
