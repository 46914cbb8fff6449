/* The dtype passes: for float, then double, defines AG_T, AG_SFX and AG_IS_F32,
 * includes all the math once (ops/all.h) and then the header named by
 * AG_DTYPE_BODY, if defined (a quoted name, relative to this directory);
 * AG_DTYPE_BODY is undefined at the end.  Include after the SIMD shim
 * (simd/generic.h).  Used by isa/kernels_table.h and the numeric tests. */
#define AG_T float
#define AG_SFX f32
#define AG_IS_F32 1
#include "../ops/all.h"
#ifdef AG_DTYPE_BODY
#include AG_DTYPE_BODY
#endif
#undef AG_T
#undef AG_SFX
#undef AG_IS_F32

#define AG_T double
#define AG_SFX f64
#define AG_IS_F32 0
#include "../ops/all.h"
#ifdef AG_DTYPE_BODY
#include AG_DTYPE_BODY
#endif
#undef AG_T
#undef AG_SFX
#undef AG_IS_F32

#undef AG_DTYPE_BODY
