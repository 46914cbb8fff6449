/* The ISA registry: every SIMD path, one row each.  Dispatch (csrc/dispatch.c), the kernel
 * tables (csrc/isa/kernels.c, one build per row), ag.config(), the builds (setup.py and
 * csrc/Makefile read the names in AG_ISAS) and the C tests all follow from it.
 *
 * A row AG_ISA_<name>(F) calls F(name, arch, shim, target, check):
 *   name    the ACTGRAD_ISA value and the suffix of ag_kernels_<name>;
 *   arch    1 where the row's code compiles (an AG_ON_* macro: literally 0 or 1);
 *   shim    its SIMD shim header (semantics in csrc/simd/scalar.h), relative to csrc/isa/;
 *   target  AG_TARGET("gcc/clang target features") or AG_BASELINE: the instruction set the
 *           row's translation units are compiled for (csrc/isa/isa_begin.h applies it as a
 *           target pragma that gcc and clang both honour, so no per-file compiler flags);
 *   check   a C expression, true when this CPU and OS can run the path (read only where
 *           arch is 1).
 * AG_ISAS lists the rows from the reference (scalar, first) to the best; dispatch takes the
 * last one whose arch and check hold.
 *
 * Adding an ISA: a row below, its name in AG_ISAS, and its shim header in csrc/simd/. */
#ifndef AG_ISAS_H
#define AG_ISAS_H

#if defined(__x86_64__) || defined(_M_X64)
#define AG_ON_X86_64 1
#else
#define AG_ON_X86_64 0
#endif
#if defined(__aarch64__)
#define AG_ON_AARCH64 1
#else
#define AG_ON_AARCH64 0
#endif

/* x86 CPU features (CPUID and the OS's XCR0 state bits, as GCC and clang check them). */
#if AG_ON_X86_64 && defined(__GNUC__)
#define AG_X86_HAS(feature) (__builtin_cpu_init(), __builtin_cpu_supports(feature))
#else
#define AG_X86_HAS(feature) 0
#endif

#define AG_ISAS(F) AG_ISA_scalar(F) AG_ISA_neon(F) AG_ISA_avx2(F) AG_ISA_avx512(F)

#define AG_ISA_scalar(F) F(scalar, 1, "../simd/scalar.h", AG_BASELINE, 1)
/* ASIMD is part of the AArch64 base architecture. */
#define AG_ISA_neon(F) F(neon, AG_ON_AARCH64, "../simd/neon.h", AG_BASELINE, 1)
#define AG_ISA_avx2(F) F(avx2, AG_ON_X86_64, "../simd/avx2.h", AG_TARGET("avx2,fma"), \
                         AG_X86_HAS("avx2") && AG_X86_HAS("fma"))
/* The avx512 shim uses F, DQ, BW and VL instructions (and the AVX2 ones). */
#define AG_ISA_avx512(F) F(avx512, AG_ON_X86_64, "../simd/avx512.h",                      \
                           AG_TARGET("avx512f,avx512dq,avx512vl,avx512bw,avx2,fma"),       \
                           AG_X86_HAS("avx2") && AG_X86_HAS("fma") && AG_X86_HAS("avx512f") && \
                           AG_X86_HAS("avx512dq") && AG_X86_HAS("avx512bw") && AG_X86_HAS("avx512vl"))

/* Helpers for users of the rows. */
#define AG_ISA_CAT_(a, b) a##b
#define AG_ISA_CAT(a, b) AG_ISA_CAT_(a, b)
#define AG_ISA_STR_(x) #x
#define AG_ISA_STR(x) AG_ISA_STR_(x)
/* AG_ISA_IF(arch)(code): code where arch is 1, nothing where it is 0. */
#define AG_ISA_IF(arch) AG_ISA_CAT(AG_ISA_IF_, arch)
#define AG_ISA_IF_1(...) __VA_ARGS__
#define AG_ISA_IF_0(...)
/* AG_ISA_IF_ELSE(arch)(a, b): a where arch is 1, b where it is 0. */
#define AG_ISA_IF_ELSE(arch) AG_ISA_CAT(AG_ISA_IF_ELSE_, arch)
#define AG_ISA_IF_ELSE_1(a, b) a
#define AG_ISA_IF_ELSE_0(a, b) b
/* AG_ISA_ROW(name, FIELD): one field of a row, e.g. AG_ISA_ROW(avx2, AG_ISA_ARCH). */
#define AG_ISA_ROW(name, field) AG_ISA_CAT(AG_ISA_, name)(field)
#define AG_ISA_ARCH(name, arch, shim, target, check) arch
#define AG_ISA_SHIM(name, arch, shim, target, check) shim
#define AG_ISA_TARGET(name, arch, shim, target, check) target
#define AG_ISA_CHECK(name, arch, shim, target, check) ((arch) && (check))
/* { AG_ISAS(AG_ISA_NAME_STR) }: the names as strings, in the registry's order. */
#define AG_ISA_NAME_STR(name, arch, shim, target, check) #name,

#endif
