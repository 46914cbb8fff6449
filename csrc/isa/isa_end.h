/* Closes what isa_begin.h opened (clang's attribute region of the row's target). */
#if AG_ISA_HERE
#define AG_BASELINE
#if defined(__clang__)
#define AG_TARGET(t) _Pragma("clang attribute pop")
#else
#define AG_TARGET(t)
#endif
AG_ISA_ROW(AG_ISA, AG_ISA_TARGET)
#undef AG_TARGET
#undef AG_BASELINE
#endif
