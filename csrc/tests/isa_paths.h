/* The C tests' view of the ISA registry (include/ag_isas.h), for drivers that do not link
 * dispatch.c: whether this machine runs a path, and how much to shrink long sweeps. */
#ifndef AG_TESTS_ISA_PATHS_H
#define AG_TESTS_ISA_PATHS_H

#include <stdlib.h>
#include <string.h>
#include "../include/ag_isas.h"

/* 1 when this CPU and OS can run the named path (the registry's arch and check). */
static inline int tu_isa_supported(const char *name)
{
#define TU_ISA_CHECK(n, arch, shim, target, check) \
    if (strcmp(name, #n) == 0) return AG_ISA_CHECK(n, arch, shim, target, check);
    AG_ISAS(TU_ISA_CHECK)
#undef TU_ISA_CHECK
    return 0;
}

/* The names of the registry's rows built for this architecture, in its order, scalar (the
 * reference) first. */
#define TU_ISA_HERE(n, arch, shim, target, check) AG_ISA_IF(arch)(#n,)
static const char *const tu_isa_names[] = { AG_ISAS(TU_ISA_HERE) };
#undef TU_ISA_HERE
#define TU_NISA ((int)(sizeof tu_isa_names / sizeof *tu_isa_names))

/* The path dispatch picks by default: the last supported one. */
static inline const char *tu_best_isa(void)
{
    int i = TU_NISA - 1;
    while (i > 0 && !tu_isa_supported(tu_isa_names[i])) i--;
    return tu_isa_names[i];
}

/* Long sweeps have 2^-AG_TEST_SHRINK of their samples (make test-aarch64 sets it: emulation
 * is slow); special values, tails and every kernel and path still run. */
#ifndef AG_TEST_SHRINK
#define AG_TEST_SHRINK 0
#endif

#endif
