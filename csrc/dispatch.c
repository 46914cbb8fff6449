/* Run-time choice of the SIMD path among the rows of the ISA registry (include/ag_isas.h).
 *
 * The best path the CPU *and* the OS support is taken (GCC's and clang's
 * __builtin_cpu_supports check both CPUID and the XCR0 bits that say the OS saves the
 * YMM/ZMM state), unless ACTGRAD_ISA names another supported one. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include "include/actgrad.h"

enum {
#define ISA_ENUM(name, arch, shim, target, check) ISA_##name,
    AG_ISAS(ISA_ENUM)
#undef ISA_ENUM
    NISA
};

static const char *const isa_names[NISA] = { AG_ISAS(AG_ISA_NAME_STR) };

/* NULL for the rows of other architectures. */
static const ag_kernel_table *const isa_tables[NISA] = {
#define ISA_TABLE(name, arch, shim, target, check) AG_ISA_IF_ELSE(arch)(&ag_kernels_##name, NULL),
    AG_ISAS(ISA_TABLE)
#undef ISA_TABLE
};

static const ag_kernel_table *isa_table(int isa) { return isa_tables[isa]; }

static int isa_supported(int isa)
{
    switch (isa) {
#define ISA_CASE(name, arch, shim, target, check) case ISA_##name: return AG_ISA_CHECK(name, arch, shim, target, check);
    AG_ISAS(ISA_CASE)
#undef ISA_CASE
    }
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
    return (wanted >= 0 && isa_supported(wanted)) ? wanted : best;
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

const char *ag_isa_registry(int i) { return i >= 0 && i < NISA ? isa_names[i] : NULL; }

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
