/* Run-time choice of the SIMD path.
 *
 * The best path the CPU *and* the OS support is taken (GCC's __builtin_cpu_supports
 * checks both CPUID and the XCR0 bits that say the OS saves the YMM/ZMM state),
 * unless ACTGRAD_ISA names a lower one. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include "include/actgrad.h"

enum { ISA_SCALAR, ISA_AVX2, ISA_AVX512, NISA };

static const char *const isa_names[NISA] = { "scalar", "avx2", "avx512" };

static const ag_kernel_table *isa_table(int isa)
{
#if defined(__x86_64__) || defined(_M_X64)
    if (isa == ISA_AVX512) return &ag_kernels_avx512;
    if (isa == ISA_AVX2) return &ag_kernels_avx2;
#endif
    (void)isa;
    return &ag_kernels_scalar;
}

static int isa_supported(int isa)
{
    if (isa == ISA_SCALAR) return 1;
#if (defined(__x86_64__) || defined(_M_X64)) && defined(__GNUC__)
    __builtin_cpu_init();
    int avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (isa == ISA_AVX2) return avx2;
    if (isa == ISA_AVX512)  /* the shim uses F, DQ, BW and VL instructions */
        return avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
               __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
#endif
    return 0;
}

static int isa_index(const char *name)
{
    for (int i = 0; i < NISA; i++)
        if (name && strcmp(name, isa_names[i]) == 0) return i;
    return -1;
}

static int best_isa(void)
{
    int best = NISA - 1;
    while (!isa_supported(best)) best--;
    int wanted = isa_index(getenv("ACTGRAD_ISA"));
    return (wanted >= 0 && wanted < best) ? wanted : best;
}

static _Atomic int current_isa = -1;

static int isa(void)
{
    int i = atomic_load_explicit(&current_isa, memory_order_acquire);
    if (i < 0) {  /* racing first calls all compute the same answer */
        i = best_isa();
        atomic_store_explicit(&current_isa, i, memory_order_release);
    }
    return i;
}

const ag_kernel_table *ag_kernels(void) { return isa_table(isa()); }

const char *ag_isa_name(void) { return isa_names[isa()]; }

int ag_isa_supported(const char *name)
{
    int i = isa_index(name);
    return i >= 0 && isa_supported(i);
}

int ag_set_isa(const char *name)
{
    int i = isa_index(name);
    if (i < 0) return -1;
    if (!isa_supported(i)) return -2;
    atomic_store_explicit(&current_isa, i, memory_order_release);
    return 0;
}
