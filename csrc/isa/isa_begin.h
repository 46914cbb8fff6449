/* Opens a translation unit of the ISA named by AG_ISA (a row of csrc/include/ag_isas.h):
 * sets AG_ISA_HERE to 1 where the row's architecture is this one, and then compiles what
 * follows for the row's target and includes its shim.  Close with isa_end.h.
 *
 * The target is a pragma both compilers honour: GCC's `#pragma GCC target`, clang's
 * `#pragma clang attribute push(target)` (clang ignores the GCC one).  System headers are
 * included first, outside the region, so only this project's functions get the target. */
#ifndef AG_ISA
#error "define AG_ISA to a row name of csrc/include/ag_isas.h"
#endif
#include "../include/ag_isas.h"

#if AG_ISA_ROW(AG_ISA, AG_ISA_ARCH)
#define AG_ISA_HERE 1

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if AG_ON_X86_64
#include <immintrin.h>
#elif AG_ON_AARCH64
#include <arm_neon.h>
#endif

#define AG_ISA_PRAGMA_(x) _Pragma(#x)
#define AG_ISA_PRAGMA(x) AG_ISA_PRAGMA_(x)
#define AG_BASELINE
#if defined(__clang__)
#define AG_TARGET(t) AG_ISA_PRAGMA(clang attribute push(__attribute__((target(t))), apply_to = function))
#elif defined(__GNUC__)
#define AG_TARGET(t) AG_ISA_PRAGMA(GCC target(t))
#else
#error "a compiler with GCC or clang target pragmas is needed"
#endif
AG_ISA_ROW(AG_ISA, AG_ISA_TARGET)
#undef AG_TARGET
#undef AG_BASELINE

/* On x86, GCC schedules instructions only after register allocation by default, so a
 * kernel runs its math in source order: one vector's long dependency chain (an exp core
 * is some 20 operations deep), then the next one's, and the out-of-order window sees too
 * few independent operations to hide the latencies.  Scheduling before allocation too,
 * weighing register pressure, interleaves the chains: 5-40% faster transcendental kernels
 * on Zen 2 (make -C csrc kernel-speed), the same operations and results.  clang schedules
 * before allocation by default. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("schedule-insns", "sched-pressure")
#endif

#include AG_ISA_ROW(AG_ISA, AG_ISA_SHIM)
#define AG_ISA_NAME AG_ISA_STR(AG_ISA)

#else
#define AG_ISA_HERE 0
typedef int AG_ISA_CAT(ag_isa_not_on_this_architecture_, AG_ISA);
#endif
