/* float32 kernels evaluated in double, and the backward functions of every op.
 *
 * Every op header provides, for each dtype pass, the vector functions the
 * kernels (loops/kernels_body.h) call:
 *     ag_<op>_forward, ag_<op>_derivative, ag_<op>_backward (dy * f'(x)),
 *     and, where the table has them, ag_<op>_derivative_from_output,
 *     ag_<op>_backward_from_output (dy * f'(y)).
 *
 * float32: an op's float32 functions widen the float lanes to double
 * (ag_f32_widen_lo/hi, simd/scalar.h), evaluate the op in double and round
 * once to float (ag_f32_narrow), backward as dy * f'(x) in double, also
 * rounded once.  No double-word arithmetic: the product of two floats is
 * exact in double, and a double evaluation to a relative error e (a few
 * 2^-30 or better) rounds to within 0.5 + e 2^24 ULP of the exact result.
 * The double evaluation is the op's own "d32" functions, sized for float32
 * results on the double cores of vmath/exp_d32.h (ag_<op>_forward_d32(dvec
 * x, dvec p0, dvec p1), ...): AG_D32_OP(op, from_output).
 * The parameters p0, p1 are the float32-rounded values widened (what the
 * float32 kernels have always used).  Ops exact in float (relu, relu6,
 * leaky_relu, hardtanh) keep their float code: AG_PLAIN_BACKWARD.
 *
 * float64: AG_PLAIN_BACKWARD(op, from_output) defines the backward
 * functions as dy * f'(x) rounded (one more rounding after f').
 */
#ifndef AG_OPS_D32_H
#define AG_OPS_D32_H

#include <math.h> /* INFINITY */
#include "../vmath/d32.h"
#include "../vmath/exp_d32.h"

/* f32 fname(x, p0, p1) = narrow(dfn(widen(x), widen(p0), widen(p1))) */
#define AG_D32_WRAP_(fname, dfn)                                                        \
AG_INLINE ag_f32v fname(ag_f32v x, ag_f32v p0, ag_f32v p1)                          \
{                                                                                       \
    ag_f64v q0 = ag_f32_widen_lo(p0), q1 = ag_f32_widen_lo(p1);                         \
    ag_f64v lo = dfn(ag_f32_widen_lo(x), q0, q1);                                       \
    if (AG_F32_WIDE_PARTS == 1)                                                         \
        return ag_f32_narrow(lo, lo);                                                   \
    return ag_f32_narrow(lo, dfn(ag_f32_widen_hi(x), q0, q1));                          \
}
/* The f' that multiplies dy: the double value, except where dy is +-0 or +-inf.  There
 * the product is +-0 or +-inf, or NaN where f' is inf or 0, and f' is the float32
 * derivative (the double value rounded to float), so that backward(dy, x) is
 * dy * derivative(x) bitwise: the double cores saturate (e^-708 for e^-inf, e^709 for
 * e^inf, as at x = -inf or with a parameter that rounds to 0 or inf in float), and a
 * double f' of e^-708, or of e^-104 = 7e-46, rounds to the derivative's 0 (inf * 0 is NaN
 * in float arithmetic), one of e^709 to its inf (0 * inf is NaN). */
AG_INLINE ag_f64v ag_d32_fp_for_dy_(ag_f64v dy, ag_f64v fp)
{
    ag_f64m edge = d_mor(d_eq(d_abs(dy), DC(INFINITY)), d_eq(dy, DC(0)));
    return d_select(edge, ag_f32_widen_lo(ag_f32_narrow(fp, fp)), fp);
}
/* whether some lane of the float dy is +-0 or +-inf (one test for both halves) */
AG_INLINE int ag_d32_dy_has_edge_(ag_f32v dy)
{
    return ag_f32_any(ag_f32_mor(ag_f32_eq(ag_f32_abs(dy), ag_f32_set1(INFINITY)),
                                 ag_f32_eq(dy, ag_f32_set1(0.0f))));
}
/* f32 fname(dy, x, p0, p1) = narrow(widen(dy) * dfn(widen(x), ...)) */
#define AG_D32_WRAP_BW_(fname, dfn)                                                     \
AG_INLINE ag_f32v fname(ag_f32v dy, ag_f32v x, ag_f32v p0, ag_f32v p1)              \
{                                                                                       \
    ag_f64v q0 = ag_f32_widen_lo(p0), q1 = ag_f32_widen_lo(p1);                         \
    ag_f64v dl = ag_f32_widen_lo(dy), fl = dfn(ag_f32_widen_lo(x), q0, q1);             \
    ag_f64v dh = dl, fh = fl;                                                           \
    if (AG_F32_WIDE_PARTS == 2) {                                                       \
        dh = ag_f32_widen_hi(dy);                                                       \
        fh = dfn(ag_f32_widen_hi(x), q0, q1);                                           \
    }                                                                                   \
    if (ag_d32_dy_has_edge_(dy)) {                                                      \
        fl = ag_d32_fp_for_dy_(dl, fl);                                                 \
        fh = ag_d32_fp_for_dy_(dh, fh);                                                 \
    }                                                                                   \
    return ag_f32_narrow(d_mul(dl, fl), d_mul(dh, fh));                                 \
}

/* Backward from the output in float arithmetic, for the ops whose f'(y) is a
 * sum or a short polynomial in y (sigmoid, tanh, elu): on the double path the
 * widening and narrowing cost more than the math (6 conversions of ~20
 * instructions per 8 floats; 0.41 ns per element on Zen 2, against 0.31-0.36
 * here), and two float roundings, dy * RN(f'(y)), would not stay within 1 ULP.
 * Instead the op forms d = RN(f'(y)), the float32 derivative from the output
 * bitwise, and dl, the error f'(y) - d, exact or rounded once (|dl| <= 1/2 ULP
 * of d); then, with w = RN(dy (1 - 2^-24)) where dl was rounded, w = dy where
 * it is exact (elu),
 *     r = fma(dy, d, RN(w dl)),
 * one rounding of dy d (exact inside the FMA) + RN(w dl).  Error before it:
 * |dy| (|f'(y) - d - dl| + 3u |dl|) <= 4u |dy| |dl| <= 4u^2 |dy d| (u =
 * 2^-24), plus 2^-150 if w dl is subnormal; with |dy f'(y)| >= 2^-100 or f'(y)
 * = 0 (the lanes the ops accept), r is within 0.5 + 2^-21 ULP of dy f'(y) (one
 * ULP of a float v is more than u |v|).  For dy = 1, |RN(w dl)| < 1/2 ULP of d
 * strictly (a dl of exactly 1/2 ULP, 2^k, becomes the float below 2^k, and a
 * product below 2^k does not round up to it), so r = d: backward(1, y) is
 * derivative(y) bitwise (an exact dl gives r = RN(f'(y)) = d directly).  The
 * shrink is applied to dy, off the chain that computes dl.  Where f'(y) = +0
 * (saturated y: sigmoid's 1, tanh's +-1, elu's -alpha), d = dl = +0 and r is
 * dy * (+0), the sign included.
 * The lanes an op refuses (dy outside [2^-40, 2^100] in magnitude: 0, inf, NaN
 * and the range where dy f'(y) could be tiny or overflow; y outside its domain;
 * |f'(y)| above 2^27, so that |dy d| <= 2^127 cannot overflow: an overflowing
 * RN(w dl) could be an inf of the other sign, and decide r) come from the double
 * path.  sigmoid and tanh have |f'(y)| <= 1 in their domain; elu tests its
 * bound.  The result is not always the double path's bits (which rounds three
 * times), but it is the same on every SIMD path: each lane's choice depends on
 * that lane only. */
AG_INLINE ag_f32v ag_f32_dw_times_(ag_f32v dy, ag_f32v w, ag_f32v d, ag_f32v dl)
{
    return ag_f32_fma(dy, d, ag_f32_mul(w, dl));
}
/* w for a rounded dl: dy (1 - 2^-24) */
AG_INLINE ag_f32v ag_f32_shrunk_(ag_f32v dy)
{
    return ag_f32_fnma(dy, ag_f32_set1(0x1p-24f), dy);
}
/* the lanes of dy the float path takes: 2^-40 <= |dy| <= 2^100 */
AG_INLINE ag_f32m ag_f32_dy_usual_(ag_f32v dy)
{
    ag_f32v a = ag_f32_abs(dy);
    return ag_f32_mand(ag_f32_ge(a, ag_f32_set1(0x1p-40f)), ag_f32_le(a, ag_f32_set1(0x1p100f)));
}
/* d = RN(c - z^2) and *dl = c - z^2 - d rounded once, for c - d exact: d in
 * [c/2, 2c] (Sterbenz).  The ops choose z and c so that it is:
 *   sigmoid'(y) = y - y^2:  z = c = y for y in [-1, 1/2) (d in [2y, y]: y < 0,
 *                           or [y/2, y]); z = c = t = 1 - y (exact) for y in
 *                           [1/2, 1], as y - y^2 = t - t^2;
 *   tanh'(y) = 1 - y^2:     z = |y|, c = 1 for |y| < 1/2 (d in (3/4, 1]);
 *                           z = t = 1 - |y| (exact), c = 2t for |y| in [1/2, 1],
 *                           as 1 - y^2 = 2t - t^2 (d in [t, 2t]).
 * c - z^2 is f'(y) exactly, so d is the correctly rounded f'(y), as
 * fma(-y, y, y) and fma(-y, y, 1) give it. */
AG_INLINE ag_f32v ag_f32_dw_minus_square_(ag_f32v c, ag_f32v z, ag_f32v *dl)
{
    ag_f32v d = ag_f32_fnma(z, z, c);
    *dl = ag_f32_fnma(z, z, ag_f32_sub(c, d));
    return d;
}
/* a + b = d + *dl exactly (Knuth's TwoSum, no condition on the magnitudes;
 * |dl| <= u |d|), for finite floats whose sum is finite. */
AG_INLINE ag_f32v ag_f32_dw_add_(ag_f32v a, ag_f32v b, ag_f32v *dl)
{
    ag_f32v d = ag_f32_add(a, b), bb = ag_f32_sub(d, a);
    *dl = ag_f32_add(ag_f32_sub(a, ag_f32_sub(d, bb)), ag_f32_sub(b, bb));
    return d;
}
/* The backward from the output of sigmoid or tanh by the functions above:
 * `zc(y, &z, &c)` picks z and c, `ymin` is the least |y| taken (sigmoid: 2^-58,
 * so that |y - y^2| >= 2^-59 or y = 1, and y = -0 goes to the double path,
 * whose -0 * dy this sum would not give; tanh: 0, as |1 - y^2| >= 2^-24 or
 * |y| = 1), |y| <= 1 the most; `wide` is the double path, for the others. */
#define AG_F32_BW_MINUS_SQUARE_(fname, zc, ymin, wide)                                  \
AG_INLINE ag_f32v fname(ag_f32v dy, ag_f32v y, ag_f32v p0, ag_f32v p1)              \
{                                                                                       \
    ag_f32v z, c, dl;                                                                   \
    zc(y, &z, &c);                                                                      \
    ag_f32v d = ag_f32_dw_minus_square_(c, z, &dl);                                     \
    ag_f32v r = ag_f32_dw_times_(dy, ag_f32_shrunk_(dy), d, dl), ay = ag_f32_abs(y);    \
    ag_f32m ok = ag_f32_mand(ag_f32_dy_usual_(dy), ag_f32_le(ay, ag_f32_set1(1.0f)));   \
    if (ymin > 0)                                                                       \
        ok = ag_f32_mand(ok, ag_f32_ge(ay, ag_f32_set1(ymin)));                         \
    return ag_f32_all(ok) ? r : ag_f32_select(ok, r, wide(dy, y, p0, p1));              \
}

#define AG_D32_FO_0(name)
#define AG_D32_FO_1(name)                                                               \
    AG_D32_WRAP_(ag_##name##_derivative_from_output_f32, ag_##name##_derivative_from_output_d32) \
    AG_D32_WRAP_BW_(ag_##name##_backward_from_output_f32, ag_##name##_derivative_from_output_d32)
/* The float32 functions of op `name` from its double functions
 * ag_<name>_{forward,derivative,derivative_from_output}_d32. */
#define AG_D32_OP(name, fo)                                                             \
    AG_D32_WRAP_(ag_##name##_forward_f32, ag_##name##_forward_d32)                      \
    AG_D32_WRAP_(ag_##name##_derivative_f32, ag_##name##_derivative_d32)                \
    AG_D32_WRAP_BW_(ag_##name##_backward_f32, ag_##name##_derivative_d32)               \
    AG_CAT(AG_D32_FO_, fo)(name)

/* backward = dy * f'(x) in the current dtype (float64 kernels; float32 of exact ops). */
#define AG_PLAIN_FO_0(name)
#define AG_PLAIN_FO_1(name)                                                             \
AG_INLINE vec AG_FN(ag_##name##_backward_from_output)(vec dy, vec y, vec p0, vec p1) \
{ return v_mul(dy, AG_FN(ag_##name##_derivative_from_output)(y, p0, p1)); }
#define AG_PLAIN_BACKWARD(name, fo)                                                     \
AG_INLINE vec AG_FN(ag_##name##_backward)(vec dy, vec x, vec p0, vec p1)            \
{ return v_mul(dy, AG_FN(ag_##name##_derivative)(x, p0, p1)); }                         \
AG_CAT(AG_PLAIN_FO_, fo)(name)

#endif
