/* Accuracy and cross-ISA test of csrc/vmath/erfc.h, csrc/ops/gelu.h and
 * csrc/ops/gelu_tanh.h.
 *
 * Build and run: make -C csrc test (the file is compiled once per row of the ISA
 * registry, include/ag_isas.h, with -DAG_ISA=<name>, then once more as the driver).
 *
 * Checks (a) the ULP error of erfc against erfcl over dense samples of the
 * whole range (a bit-pattern sweep and uniform values for float, random bits
 * and values for double, the tails where erfc is subnormal, +-0, +-inf);
 * (b) the ULP error of gelu and gelu_tanh (forward, derivative) against long
 * double references: float over the whole range, double where the long
 * double reference is itself good to ~0.1 ULP (|x| <= 12 for the erf form:
 * erfcl's argument x/sqrt2 is rounded; tests/test_activations.py measures the
 * rest against mpmath).  Derivatives are judged in ULPs of their larger term
 * near their roots (x ~ -0.75), relative elsewhere;
 * (c) every other path of the registry gives results bit-identical to the scalar
 * path (any NaN equals any NaN), on arrays whose lengths exercise the tails
 * (a path the CPU lacks is skipped with a message);
 * (d) exact special values: signs of zero, limits at +-inf, NaN -> NaN.
 */

#ifndef TG_SHARED_
#define TG_SHARED_
enum { TG_ERFC, TG_GELU_F, TG_GELU_D, TG_GELU_TANH_F, TG_GELU_TANH_D, TG_NFN };
#endif

#if defined(TG_DTYPE_BODY)
/* ------------------------------------------------------------------ */
/* One dtype of one ISA: included from below with AG_T/AG_SFX set    */
/* and the math included (isa/dtype_passes.h).                        */

void AG_CAT(TG_RUN, AG_SFX)(int fn, const AG_T *x, AG_T *y, ptrdiff_t n)
{
    vec z = v_set1(0);
    for (ptrdiff_t i = 0; i < n; i += VLANES) {
        ptrdiff_t m = n - i < VLANES ? n - i : VLANES;
        vec a = v_load_tail(x + i, m), r;
        switch (fn) {
        case TG_ERFC: r = AG_FN(ag_erfc)(a); break;
        case TG_GELU_F: r = AG_FN(ag_gelu_forward)(a, z, z); break;
        case TG_GELU_D: r = AG_FN(ag_gelu_derivative)(a, z, z); break;
        case TG_GELU_TANH_F: r = AG_FN(ag_gelu_tanh_forward)(a, z, z); break;
        default: r = AG_FN(ag_gelu_tanh_derivative)(a, z, z); break;
        }
        v_store_tail(y + i, m, r);
    }
}

#elif defined(AG_ISA)
/* ------------------------------------------------------------------ */
/* One ISA translation unit (a row of include/ag_isas.h):             */
/* tg_run_<isa>_f32 / _f64.                                           */

#include "../isa/isa_begin.h"
#if AG_ISA_HERE
#define TG_RUN AG_ISA_CAT(AG_ISA_CAT(tg_run_, AG_ISA), _)
#include "../simd/generic.h"

#define TG_DTYPE_BODY
#define AG_DTYPE_BODY "../tests/test_gelu.c"
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
#include <string.h>

typedef void (*tg_run_f32)(int, const float *, float *, ptrdiff_t);
typedef void (*tg_run_f64)(int, const double *, double *, ptrdiff_t);
#include "isa_paths.h"

/* Every path of the registry built for this architecture; [0] is scalar, the reference. */
#define TG_DECL(name, arch, shim, target, check) AG_ISA_IF(arch)(    \
    void tg_run_##name##_f32(int, const float *, float *, ptrdiff_t); \
    void tg_run_##name##_f64(int, const double *, double *, ptrdiff_t);)
AG_ISAS(TG_DECL)

static struct { const char *name; tg_run_f32 f32; tg_run_f64 f64; int have; } isas[] = {
#define TG_PATH(name, arch, shim, target, check) \
    AG_ISA_IF(arch)({#name, tg_run_##name##_f32, tg_run_##name##_f64, 0},)
    AG_ISAS(TG_PATH)
};
static const char *names[TG_NFN] = {"erfc", "gelu", "gelu'", "gelu_tanh", "gelu_tanh'"};

#include "testutil.h"

/* ---------------------------------------------------------- references */

static const long double SQRT2L = 1.414213562373095048801688724209698079L;
static const long double SQRT2PIL = 2.506628274631000502415765284811045253L;
static const long double C1L = 1.595769121605730711759207948249530300L; /* 2 sqrt(2/pi) */
static const long double KAPPAL = 0.044715L;

/* Exact value of fn at x in long double, and *terms the size of its larger
 * term (derivatives; otherwise 0). */
static long double reference(int fn, long double x, long double *terms)
{
    *terms = 0;
    if (fn == TG_ERFC)
        return erfcl(x);
    if (fn == TG_GELU_F || fn == TG_GELU_D) {
        long double cdf = 0.5L * erfcl(-x / SQRT2L);
        if (fn == TG_GELU_F)
            return x * cdf;
        long double b = x * expl(-x * x / 2) / SQRT2PIL;
        *terms = fmaxl(fabsl(cdf), fabsl(b));
        return cdf + b;
    }
    long double w = C1L * (x + KAPPAL * x * x * x);
    long double s = 1 / (1 + expl(-w)), sb = 1 / (1 + expl(w));
    if (fn == TG_GELU_TANH_F)
        return x * s;
    long double b = x * s * sb * C1L * (1 + 3 * KAPPAL * x * x);
    *terms = fmaxl(fabsl(s), fabsl(b));
    return s + b;
}

/* ULP error of y against r (prec bits, emin the least normal exponent), in
 * ULPs of max(|r|, terms).  NaN must match NaN; a zero reference must be
 * matched by a zero. */
static double ulp_err(long double y, long double r, long double terms, int prec, int emin)
{
    if (isnan(r) || isnan(y))
        return isnan(r) && isnan(y) ? 0 : INFINITY;
    if (isinf(y) || isinf(r))
        return y == r ? 0 : INFINITY;
    long double m = fmaxl(fabsl(r), terms);
    if (m == 0)
        return y == 0 ? 0 : INFINITY;
    int e = ilogbl(m);
    if (e < emin)
        e = emin;
    return (double)(fabsl(y - r) / ldexpl(1, e - prec + 1));
}

/* ---------------------------------------------------------- samples */

#define NMAX (1 << (22 - AG_TEST_SHRINK))
static float xf[NMAX], yf[NMAX], zf[NMAX];
static double xd[NMAX], yd[NMAX], zd[NMAX];

static const double specials[] = {
    0.0, -0.0, 0x1p-1074, -0x1p-1074, 0x1p-149, -0x1p-149, 0x1p-126, -0x1p-126, 0x1p-1022, -0x1p-1022,
    0.475, -0.475, 0.671875, -0.671875, 0x1.0505p+0, -0x1.0505p+0, 0.5, -0.5, 1, -1, 2, -2,
    -0.7518, -0.75, 10.05, 10.06, 10.5, -14.4, -14.6, -15, 27.2, 27.3, 27.5, -38.6, -38.7, -39,
    64, -64, 65, -65, 1e10, -1e10, 1e300, -1e300, FLT_MAX, -FLT_MAX, DBL_MAX, -DBL_MAX,
    INFINITY, -INFINITY, NAN, -NAN,
};
#define NSPEC (sizeof specials / sizeof *specials)

/* float: specials, a bit-pattern sweep (every sign and exponent), uniform
 * values in [-2, 2] and in [lo, hi]. */
static size_t fill_f(double lo, double hi)
{
    size_t n = 0;
    for (size_t i = 0; i < NSPEC; i++)
        xf[n++] = (float)specials[i];
    for (uint64_t b = 0; b < (1ULL << 32); b += (2053u << AG_TEST_SHRINK) | 1u) {  /* odd steps: every low bit pattern */
        uint32_t u = (uint32_t)b;
        memcpy(&xf[n++], &u, 4);
    }
    while (n < NMAX / 4)
        xf[n++] = (float)(4 * urand() - 2);
    while (n < NMAX)
        xf[n++] = (float)(lo + (hi - lo) * urand());
    return n;
}

/* double: specials, random bit patterns, random exponents, and uniform
 * values in [-2, 2] and in [lo, hi]. */
static size_t fill_d(double lo, double hi)
{
    size_t n = 0;
    for (size_t i = 0; i < NSPEC; i++)
        xd[n++] = specials[i];
    while (n < NMAX / 8) {
        uint64_t u = rng();
        memcpy(&xd[n++], &u, 8);
    }
    while (n < NMAX / 4)
        xd[n++] = ldexp(1 + urand(), (int)(rng() % 70) - 64) * (rng() & 1 ? -1 : 1);
    while (n < 3 * (NMAX / 8))
        xd[n++] = 4 * urand() - 2;
    while (n < NMAX)
        xd[n++] = lo + (hi - lo) * urand();
    return n;
}

static int same_f(float a, float b) { return (isnan(a) && isnan(b)) || memcmp(&a, &b, sizeof a) == 0; }
static int same_d(double a, double b) { return (isnan(a) && isnan(b)) || memcmp(&a, &b, sizeof a) == 0; }

/* Runs fn on the n inputs with every ISA, checks bit identity with the
 * scalar path (in odd chunk lengths, so that every tail length occurs), and
 * leaves the scalar results in yf / yd. */
static void run_f(int fn, size_t n)
{
    tg_run_scalar_f32(fn, xf, yf, (ptrdiff_t)n);
    for (size_t k = 1; k < sizeof isas / sizeof *isas; k++) {
        if (!isas[k].have)
            continue;
        for (size_t i = 0, c = 1; i < n; i += c, c = c % 67 + 1)
            isas[k].f32(fn, xf + i, zf + i, (ptrdiff_t)(n - i < c ? n - i : c));
        size_t bad = 0, first = 0;
        for (size_t i = 0; i < n; i++)
            if (!same_f(yf[i], zf[i]) && bad++ == 0)
                first = i;
        char msg[200];
        snprintf(msg, sizeof msg, "%s f32: %s == scalar (%zu differ, first x=%a: %a vs %a)", names[fn],
                 isas[k].name, bad, xf[first], yf[first], zf[first]);
        check(bad == 0, msg);
    }
}
static void run_d(int fn, size_t n)
{
    tg_run_scalar_f64(fn, xd, yd, (ptrdiff_t)n);
    for (size_t k = 1; k < sizeof isas / sizeof *isas; k++) {
        if (!isas[k].have)
            continue;
        for (size_t i = 0, c = 1; i < n; i += c, c = c % 37 + 1)
            isas[k].f64(fn, xd + i, zd + i, (ptrdiff_t)(n - i < c ? n - i : c));
        size_t bad = 0, first = 0;
        for (size_t i = 0; i < n; i++)
            if (!same_d(yd[i], zd[i]) && bad++ == 0)
                first = i;
        char msg[200];
        snprintf(msg, sizeof msg, "%s f64: %s == scalar (%zu differ, first x=%a: %a vs %a)", names[fn],
                 isas[k].name, bad, xd[first], yd[first], zd[first]);
        check(bad == 0, msg);
    }
}

/* Accuracy of fn: float with uniform samples in [lo, hi] (plus the sweep),
 * double in [dlo, dhi] (plus random bits), judged only for |x| <= dmax. */
static void accuracy(int fn, double lo, double hi, double dlo, double dhi, double dmax, double tol)
{
    char msg[200];
    size_t n = fill_f(lo, hi);
    run_f(fn, n);
    double worst = 0;
    float wx = 0;
    for (size_t i = 0; i < n; i++) {
        long double terms, r = reference(fn, xf[i], &terms);
        if (isinf(xf[i]) && fn != TG_ERFC)
            continue;                       /* limits: checked exactly below */
        double e = ulp_err(yf[i], r, terms, 24, -126);
        if (e > worst || e != e)
            worst = e, wx = xf[i];
    }
    printf("  %-10s f32 max %.3f ULP (at x = %a)\n", names[fn], worst, wx);
    snprintf(msg, sizeof msg, "%s f32: max %.3f ULP at %a (tolerance %.1f)", names[fn], worst, wx, tol);
    check(worst <= tol, msg);

    n = fill_d(dlo, dhi);
    run_d(fn, n);
    worst = 0;
    double wd = 0;
    for (size_t i = 0; i < n; i++) {
        if (!(fabs(xd[i]) <= dmax) && !isnan(xd[i]))
            continue;
        long double terms, r = reference(fn, xd[i], &terms);
        double e = ulp_err(yd[i], r, terms, 53, -1022);
        if (e > worst || e != e)
            worst = e, wd = xd[i];
    }
    printf("  %-10s f64 max %.3f ULP (at x = %a, |x| <= %g)\n", names[fn], worst, wd, dmax);
    snprintf(msg, sizeof msg, "%s f64: max %.3f ULP at %a (tolerance %.1f)", names[fn], worst, wd, tol);
    check(worst <= tol, msg);
}

/* ---------------------------------------------------------- special values */

struct tg_special { int fn; double x, y; };
static const struct tg_special special_values[] = {
    {TG_ERFC, 0.0, 1}, {TG_ERFC, -0.0, 1}, {TG_ERFC, INFINITY, 0}, {TG_ERFC, -INFINITY, 2},
    {TG_ERFC, 30, 0}, {TG_ERFC, -30, 2}, {TG_ERFC, 1e300, 0}, {TG_ERFC, -1e300, 2},
    {TG_GELU_F, 0.0, 0.0}, {TG_GELU_F, -0.0, -0.0}, {TG_GELU_F, INFINITY, INFINITY},
    {TG_GELU_F, -INFINITY, -0.0}, {TG_GELU_F, -1e300, -0.0}, {TG_GELU_F, -40, -0.0},
    {TG_GELU_F, 1e300, 1e300},
    {TG_GELU_D, 0.0, 0.5}, {TG_GELU_D, -0.0, 0.5}, {TG_GELU_D, INFINITY, 1}, {TG_GELU_D, -INFINITY, 0},
    {TG_GELU_D, 1e300, 1}, {TG_GELU_D, -1e300, 0},
    {TG_GELU_TANH_F, 0.0, 0.0}, {TG_GELU_TANH_F, -0.0, -0.0}, {TG_GELU_TANH_F, INFINITY, INFINITY},
    {TG_GELU_TANH_F, -INFINITY, -0.0}, {TG_GELU_TANH_F, -1e300, -0.0}, {TG_GELU_TANH_F, -30, -0.0},
    {TG_GELU_TANH_F, 1e300, 1e300},
    {TG_GELU_TANH_D, 0.0, 0.5}, {TG_GELU_TANH_D, -0.0, 0.5}, {TG_GELU_TANH_D, INFINITY, 1},
    {TG_GELU_TANH_D, -INFINITY, 0}, {TG_GELU_TANH_D, 1e300, 1}, {TG_GELU_TANH_D, -1e300, 0},
};

static void special_checks(void)
{
    char msg[200];
    for (size_t i = 0; i < sizeof special_values / sizeof *special_values; i++) {
        const struct tg_special *s = &special_values[i];
        float x = (float)s->x, y;
        double xx = s->x, yy;
        tg_run_scalar_f32(s->fn, &x, &y, 1);
        tg_run_scalar_f64(s->fn, &xx, &yy, 1);
        /* a derivative that tends to 0 may give a zero of either sign */
        int any0 = (s->fn == TG_GELU_D || s->fn == TG_GELU_TANH_D) && s->y == 0;
        int ok32 = any0 ? y == 0 : same_f(y, (float)s->y);
        int ok64 = any0 ? yy == 0 : same_d(yy, s->y);
        snprintf(msg, sizeof msg, "%s(%g) = %g (f32 %a, f64 %a)", names[s->fn], s->x, s->y, y, yy);
        check(ok32 && ok64, msg);
    }
    /* NaN in -> NaN out, every function (quiet NaNs of both signs) */
    for (int fn = 0; fn < TG_NFN; fn++) {
        float x[2] = {NAN, -NAN}, y[2];
        double xx[2] = {NAN, -NAN}, yy[2];
        tg_run_scalar_f32(fn, x, y, 2);
        tg_run_scalar_f64(fn, xx, yy, 2);
        snprintf(msg, sizeof msg, "%s: NaN -> NaN", names[fn]);
        check(isnan(y[0]) && isnan(y[1]) && isnan(yy[0]) && isnan(yy[1]), msg);
    }
    /* the tail that 1 + erf loses: gelu(-6) = -5.9e-9, not 0 */
    float y6, x6 = -6;
    tg_run_scalar_f32(TG_GELU_F, &x6, &y6, 1);
    check(fabs(y6 / -5.9197e-9 - 1) < 1e-4, "gelu f32 (-6) = -5.92e-9");
}

int main(void)
{
    rng_state = 0x2545f4914f6cdd1dULL;
    for (size_t k = 1; k < sizeof isas / sizeof *isas; k++)
        isas[k].have = tu_isa_supported(isas[k].name);
    for (size_t k = 1; k < sizeof isas / sizeof *isas; k++)
        printf("test_gelu: %s path %s\n", isas[k].name,
               isas[k].have ? "checked against scalar" : "skipped (not supported by this CPU)");
    accuracy(TG_ERFC, -5, 11, -7, 28, INFINITY, 1.5);
    accuracy(TG_GELU_F, -15, 6, -12, 9, 12, 2.0);
    accuracy(TG_GELU_D, -15, 6, -12, 9, 12, 4.0);
    accuracy(TG_GELU_TANH_F, -13, 6, -10, 9, 10, 2.0);
    accuracy(TG_GELU_TANH_D, -13, 6, -10, 9, 10, 4.0);
    special_checks();
    printf("test_gelu: %d passed, %d failed\n", passed, failed);
    return failed != 0;
}

#endif
