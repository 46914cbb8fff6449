/* The drivers' kernels may raise floating-point exception flags in lanes whose results
 * are discarded (and 0/0 is the mean of nothing): a call leaves its caller's flags as it
 * found them.  Reading them is cheap; fesetexceptflag is not (~50 ns on x86-64, where it
 * rewrites the x87 environment), and most calls raise nothing new (a Python thread's
 * inexact flag is usually set already), so they are written back only when they changed.
 * The fenv view (fetestexcept) is the same as after an unconditional fesetexceptflag. */
#ifndef AG_FPFLAGS_H
#define AG_FPFLAGS_H

#include <fenv.h>
#include <string.h>

static inline void ag_flags_save(fexcept_t *saved) { fegetexceptflag(saved, FE_ALL_EXCEPT); }

static inline void ag_flags_restore(const fexcept_t *saved)
{
    fexcept_t now;
    fegetexceptflag(&now, FE_ALL_EXCEPT);
    if (memcmp(&now, saved, sizeof now) != 0) fesetexceptflag(saved, FE_ALL_EXCEPT);
}

#endif
