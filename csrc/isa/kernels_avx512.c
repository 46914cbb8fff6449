/* AVX-512 kernels (x86-64-v4), compiled for that target whatever the default flags. */
#if defined(__x86_64__) || defined(_M_X64)
#if defined(__GNUC__)
#pragma GCC target("avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")
#endif
#include "../simd/avx512.h"
#define AG_ISA avx512
#include "kernels_table.h"
#else
typedef int ag_no_avx512_kernels;
#endif
