/* Switch the current pass from float to double (see ops/d32.h): between this
 * and d32_f64_end.h, an op header included in the float32 pass defines its
 * float64 body (once: the float64 pass then finds it defined).  Not guarded:
 * included once per use. */
#undef AG_T
#undef AG_SFX
#undef AG_IS_F32
#define AG_T double
#define AG_SFX f64
#define AG_IS_F32 0
