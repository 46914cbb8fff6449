/* Back to the float pass (see d32_f64_begin.h). */
#undef AG_T
#undef AG_SFX
#undef AG_IS_F32
#define AG_T float
#define AG_SFX f32
#define AG_IS_F32 1
