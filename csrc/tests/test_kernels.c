/* Every kernel of the table (op x call x dtype) gives bit-identical results on the
 * scalar path and on each SIMD path this CPU has, for every length 0..67 (all tail
 * lengths) at every offset 0..3 (misalignment), in place too.
 * Build: make -C csrc test. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../include/ag_kernels.h"
#include "isa_paths.h"

static const char *op_names[] = {
#define AG_OP(name, nparams, from_output, cost) #name,
#include "../gen/ops.inc"
#undef AG_OP
};

#define MAXN 68
static double special[] = { 0.0, -0.0, 1.0, -1.0, 3.0, -3.0, 6.0, 0.5, -0.75, 20.0, -20.0, 40.0,
                            -40.0, 88.0, -104.0, 710.0, -745.0, 1e-30, -1e-30, 1e30, -1e30,
                            1e-310, 5e-324, INFINITY, -INFINITY, NAN };

static void fill(double *d, float *f, int n, unsigned seed)
{
    srand(seed);
    for (int i = 0; i < n; i++) {
        double v = (i % 3 == 0) ? special[(i / 3 + seed) % (sizeof special / sizeof *special)]
                                : ((double)rand() / RAND_MAX - 0.5) * 40.0;
        d[i] = v;
        f[i] = (float)v;
    }
}

/* Bitwise equality of n elements, except that any NaN matches any NaN (payloads may differ). */
static int same(const void *x, const void *y, int n, int dt)
{
    for (int i = 0; i < n; i++) {
        double u = dt ? ((const double *)x)[i] : ((const float *)x)[i];
        double v = dt ? ((const double *)y)[i] : ((const float *)y)[i];
        if (isnan(u) && isnan(v)) continue;
        if (memcmp(&u, &v, sizeof u) != 0) return 0;
    }
    return 1;
}

int main(void)
{
    /* Every path of the registry built for this architecture but scalar, the reference. */
    const ag_kernel_table *const all[] = {
#define TK_PATH(name, arch, shim, target, check) AG_ISA_IF(arch)(&ag_kernels_##name,)
        AG_ISAS(TK_PATH)
    };
    enum { NPATHS = sizeof all / sizeof *all };
    const ag_kernel_table *paths[NPATHS] = { 0 };
    int passed = 0, failed = 0;
    for (int p = 1; p < NPATHS; p++) {
        if (tu_isa_supported(all[p]->isa)) { paths[p] = all[p]; printf("test_kernels: %s path checked against scalar\n", all[p]->isa); }
        else printf("test_kernels: %s path skipped: not supported by this CPU\n", all[p]->isa);
    }

    static double da[MAXN + 4], db[MAXN + 4], dref[MAXN + 4], dout[MAXN + 4];
    static float fa[MAXN + 4], fb[MAXN + 4], fref[MAXN + 4], fout[MAXN + 4];
    const double params[2] = { 0.5, 2.0 };  /* valid for every op: slopes, alphas, beta/threshold, bounds */
    for (int p = 1; p < NPATHS; p++) {
        if (!paths[p]) continue;
        for (int op = 0; op < AG_NOPS; op++)
            for (int call = 0; call < AG_NCALLS; call++)
                for (int dt = 0; dt < 2; dt++) {
                    ag_kernel_fn ref = ag_kernels_scalar.elementwise[op][call][dt];
                    ag_kernel_fn k = paths[p]->elementwise[op][call][dt];
                    if (!ref || !k) { if (!ref != !k) failed++; continue; }
                    int bad = 0;
                    for (int n = 0; n <= MAXN && !bad; n++)
                        for (int off = 0; off < 4 && !bad; off++) {
                            fill(da, fa, MAXN + 4, 7u * n + off);
                            fill(db, fb, MAXN + 4, 13u * n + off + 1);
                            void *a = dt ? (void *)(da + off) : (void *)(fa + off);
                            void *b = dt ? (void *)(db + off) : (void *)(fb + off);
                            void *r = dt ? (void *)dref : (void *)fref;
                            void *o = dt ? (void *)dout : (void *)fout;
                            ref(n, a, b, r, params);
                            k(n, a, b, o, params);
                            bad |= !same(r, o, n, dt);
                            k(n, a, b, a, params);           /* in place */
                            bad |= !same(r, a, n, dt);
                        }
                    if (bad) printf("FAIL %s op %s call %d dtype %s\n", paths[p]->isa, op_names[op], call, dt ? "f64" : "f32");
                    bad ? failed++ : passed++;
                }
    }
    printf("test_kernels: %d passed, %d failed\n", passed, failed);
    return failed != 0;
}
