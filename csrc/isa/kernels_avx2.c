/* AVX2 + FMA kernels (x86-64-v3), compiled for that target whatever the default flags. */
#if defined(__x86_64__) || defined(_M_X64)
#if defined(__GNUC__)
#pragma GCC target("avx2,fma")
#endif
#include "../simd/avx2.h"
#define AG_ISA avx2
#include "kernels_table.h"
#else
typedef int ag_no_avx2_kernels;
#endif
