/* Vector expm1 = e^x - 1 on the SIMD shim; include pattern: see exp.h.
 *
 *   vec ag_expm1(vec x)
 *       e^x - 1 for every x, <= 1 ULP (measured max in test_vmath.c).
 *       expm1(+-0) = +-0, tiny/subnormal x -> x, expm1(+inf) = +inf,
 *       expm1(-inf) = -1, overflow -> +inf, NaN -> NaN.
 *
 * Method: as exp (exp.h), x = n*ln2 + rh + rl with rh exact, and
 * expm1(r) = rh + q, q = rh^2/2 + (rl (rh + rl/2) + rl + r^3 P3(r)) (P3 shared with
 * exp; rh^2/2 split exactly with an FMA; r = rh + rl only in the r^3 term).
 * Then
 *   e^x - 1 = 2^n (rh + q) + 2^n - 1 = 2 * (t*rh + (t - 1/2) + t*q),  t = 2^(n-1).
 * t - 1/2 is split exactly (2Sum), t*rh is exact, and their sum is split
 * exactly again (Fast2Sum, |t - 1/2| >= |t*rh| or t - 1/2 == 0), so only the
 * small term t*q and the last addition round.  Using 2^(n-1) and a final
 * exact doubling keeps t = 2^(n-1) representable up to the overflow bound.
 */
#include "exp.h"

#if AG_IS_F32
#  ifndef AG_VMATH_EXPM1_F32
#  define AG_VMATH_EXPM1_F32
#  define AG_VMATH_BODY_
#  endif
#elif !defined(AG_VMATH_EXPM1_F64)
#  define AG_VMATH_EXPM1_F64
#  define AG_VMATH_BODY_
#endif

#ifdef AG_VMATH_BODY_
#undef AG_VMATH_BODY_

static inline vec AG_FN(ag_expm1)(vec x)
{
#if AG_IS_F32
    const AG_T log2e = 0x1.715476p+0f, ln2hi = 0x1.62e4p-1f, ln2lo = 0x1.7f7d1cp-20f;
    const AG_T xmax = 89.0f;    /* result inf */
    const AG_T xmin = -18.0f;   /* e^-18 < 2^-25: result -1; n >= -26 */
    const AG_T tiny = 0x1p-25f; /* |x| < tiny: expm1(x) rounds to x */
#else
    const AG_T log2e = 0x1.71547652b82fep+0, ln2hi = 0x1.62e42feep-1, ln2lo = 0x1.a39ef35793c76p-33;
    const AG_T xmax = 710.0;    /* result inf */
    const AG_T xmin = -40.0;    /* e^-40 < 2^-54: result -1; n >= -58 */
    const AG_T tiny = 0x1p-54;
#endif
    vec xc = v_max(v_set1(xmin), v_min(v_set1(xmax), x));   /* NaN stays NaN */
    vec n = v_round(v_mul(xc, v_set1(log2e)));
    n = v_max(n, v_set1(-64));                     /* no-op, but NaN -> a number for pow2i */
    vec rh = v_fnma(n, v_set1(ln2hi), xc);        /* exact */
    vec rl = v_mul(n, v_set1(-ln2lo));
    vec r = v_add(rh, rl);
    vec hr = v_mul(AG_C(0.5), rh);
    vec h = v_mul(hr, rh), hl = v_fms(hr, rh, h);  /* h + hl = rh^2/2 exactly */
    vec q = v_add(v_fma(v_mul(r, v_mul(r, r)), AG_FN(ag_exp_poly3_)(r), v_fma(rl, v_fma(AG_C(0.5), rl, rh), rl)), hl);
    q = v_add(h, q);                               /* expm1(r) - rh */
    vec t = v_pow2i(v_sub(n, AG_C(1)));
    vec v = v_sub(t, AG_C(0.5));                   /* 2Sum: v + vl = t - 1/2 */
    vec b = v_sub(v, t);
    vec vl = v_add(v_sub(t, v_sub(v, b)), v_sub(AG_C(-0.5), b));
    vec w = v_mul(t, rh);                          /* exact */
    vec s = v_add(v, w);                           /* Fast2Sum: s + e = v + w */
    vec e = v_sub(w, v_sub(s, v));
    vec res = v_add(s, v_fma(t, q, v_add(e, vl)));
    res = v_add(res, res);
    return v_select(v_lt(v_abs(x), v_set1(tiny)), x, res);
}

#endif /* AG_VMATH_BODY_ */
