/* Type-generic names for the SIMD shim.
 *
 * A kernel body is written once on these names and compiled once per dtype:
 * define AG_T (float|double) and AG_SFX (f32|f64) before including it, then
 * v_add(a, b) means ag_f32_add or ag_f64_add, `vec` the vector type, `vmask`
 * the mask type and AG_FN(name) a per-dtype name for a static helper.
 * Including this file twice is harmless: every name is resolved at its use. */
#ifndef AG_SIMD_GENERIC_H
#define AG_SIMD_GENERIC_H

/* How csrc/vmath and csrc/ops define their functions: inlined into the kernels' loops.
 * Left to the compilers' size heuristics, the exp cores stay calls in the hot loops (each
 * call reloading its constants; float64 elu 27% and gelu' 10% slower on Zen 4). */
#define AG_INLINE static inline __attribute__((always_inline))

#define AG_CAT_(a, b) a##b
#define AG_CAT(a, b) AG_CAT_(a, b)
#define AG_CAT3(a, b, c) AG_CAT(AG_CAT(a, b), c)

#define vec AG_CAT3(ag_, AG_SFX, v)
#define vmask AG_CAT3(ag_, AG_SFX, m)
#define VLANES AG_CAT3(AG_, AG_SFX, _LANES)
#define AG_FN(name) AG_CAT3(name, _, AG_SFX)

#define v_set1 AG_CAT3(ag_, AG_SFX, _set1)
#define v_load AG_CAT3(ag_, AG_SFX, _load)
#define v_store AG_CAT3(ag_, AG_SFX, _store)
#define v_load_tail AG_CAT3(ag_, AG_SFX, _load_tail)
#define v_store_tail AG_CAT3(ag_, AG_SFX, _store_tail)
#define v_add AG_CAT3(ag_, AG_SFX, _add)
#define v_sub AG_CAT3(ag_, AG_SFX, _sub)
#define v_mul AG_CAT3(ag_, AG_SFX, _mul)
#define v_div AG_CAT3(ag_, AG_SFX, _div)
#define v_neg AG_CAT3(ag_, AG_SFX, _neg)
#define v_abs AG_CAT3(ag_, AG_SFX, _abs)
#define v_fma AG_CAT3(ag_, AG_SFX, _fma)
#define v_fms AG_CAT3(ag_, AG_SFX, _fms)
#define v_fnma AG_CAT3(ag_, AG_SFX, _fnma)
#define v_min AG_CAT3(ag_, AG_SFX, _min)
#define v_max AG_CAT3(ag_, AG_SFX, _max)
#define v_round AG_CAT3(ag_, AG_SFX, _round)
#define v_lt AG_CAT3(ag_, AG_SFX, _lt)
#define v_le AG_CAT3(ag_, AG_SFX, _le)
#define v_gt AG_CAT3(ag_, AG_SFX, _gt)
#define v_ge AG_CAT3(ag_, AG_SFX, _ge)
#define v_eq AG_CAT3(ag_, AG_SFX, _eq)
#define v_isnan AG_CAT3(ag_, AG_SFX, _isnan)
#define v_select AG_CAT3(ag_, AG_SFX, _select)
#define v_mand AG_CAT3(ag_, AG_SFX, _mand)
#define v_mor AG_CAT3(ag_, AG_SFX, _mor)
#define v_any AG_CAT3(ag_, AG_SFX, _any)
#define v_copysign AG_CAT3(ag_, AG_SFX, _copysign)
#define v_pow2i AG_CAT3(ag_, AG_SFX, _pow2i)
#define v_ldexp AG_CAT3(ag_, AG_SFX, _ldexp)
#define v_getexp AG_CAT3(ag_, AG_SFX, _getexp)
#define v_getmant AG_CAT3(ag_, AG_SFX, _getmant)
#define v_hsum AG_CAT3(ag_, AG_SFX, _hsum)
#define v_hmax AG_CAT3(ag_, AG_SFX, _hmax)

#endif
