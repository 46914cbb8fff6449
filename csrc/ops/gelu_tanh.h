/* gelu with approximate='tanh' (PyTorch):
 *     f(x) = x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) = x sigmoid(w),
 *     w(x) = 2u = C1 x + C3 x^3,  C1 = 2 sqrt(2/pi),  C3 = 0.044715 C1,
 * since (1 + tanh u)/2 = sigmoid(2u).  Include pattern: see vmath/exp.h.
 *
 *   f'(x) = sigmoid(w) + x sigmoid(w) sigmoid(-w) (C1 + 3 C3 x^2)
 *         = s (1 + x sbar D),  s = sigmoid(w), sbar = sigmoid(-w), D = w',
 * which is PyTorch's backward formula (0.5 (1 + tanh u) + 0.5 x sech^2 u
 * sqrt(2/pi) (1 + 3 0.044715 x^2)) written without 1 - tanh^2.
 *
 * Numerics.  The function is the one with the exact real constants.  For
 * x < 0, f ~ x e^w, so w is needed to ~2^-24/|w| relative (|w| reaches
 * 140 f32 / 750 f64): w = C1 x + C3 x^3 is formed in double-word (exact x^2
 * and x^3 splits, constants as hi + lo) and e^-|w| by ag_exp_dw, also as a
 * double-word.  1/(1 + e^-|w|) is one division plus an exact-residual
 * correction (as ops/sigmoid.h does), and each result is rounded once from
 * these double-word pieces.  For x < 0, e^-|w| is computed scaled by 2^64 and
 * the product unscaled at the end, so a result that is normal while e^w is
 * subnormal is rounded once (as in silu.h).  x is clamped to +-64 inside w (no x^3
 * overflow: f32 x^3 overflows at |x| ~ 7e12), where sigmoid(w) is already
 * exactly 0 or 1, so f(x) = x beyond +64 and -0 below -64.
 * f' is summed from double-word pieces too (x sbar, D, 1 + x sbar D).
 * Measured max error (tests/test_activations.py vs mpmath, test_gelu.c),
 * f32 / f64: f 0.77 / 0.72 ULP, f' 0.78 / 0.71 ULP (in ULPs of its larger
 * term near its root x ~ -0.75, relative elsewhere).
 * f(-0) = -0, f(-inf) = -0, f(inf) = inf, f'(-inf) = 0, f'(inf) = 1, NaN -> NaN.
 */
/* Uses (included before it by ops/all.h): vmath/exp.h, vmath/erfc.h, ops/d32.h. */

#if AG_IS_F32
/* float32, evaluated in double (ops/d32.h), no double-word arithmetic:
 *   xc = x clamped to [-64, 64] (sigmoid(w(64)) is 1 and sigmoid(w(-64)) is
 *   e^-11700: saturated far beyond float; no inf * 0),
 *   w = xc (C1 + C3 xc^2) in double: xc^2, the fma, the product each one
 *   rounding, C1, C3 rounded to double, a sum of two positive terms: |w -
 *   w_exact| <= 5 2^-53 |w|; e^-|w| saturates at e^-708 (exp_sat), so only
 *   |w| <= 708 matters: |dw| < 2^-41.2, a relative 2^-41.2 in e^-|w|;
 *   e = e^-|w| (exp_d32.h, 2^-36 relative), r = 1/(1 + e) (2^-52),
 *   sigmoid(|w|) = r, sigmoid(-|w|) = e r (2^-35.9 relative each).
 *   forward = x/(1 + e) (x >= 0) or (xc e)/(1 + e) (x < 0): 2^-35.8 relative,
 *   then one rounding to float (0.5 + 2^-11.8 ULP; x e/(1 + e) is formed from
 *   positive factors, no cancellation; its double range reaches 2^-1074 so the float
 *   subnormals are rounded once, and e^-708 saturation gives results below
 *   2^-990, which round to -0 as the exact ones do).
 *   derivative = s g, s = sigmoid(w), g = 1 + xc sb D, sb = sigmoid(-w),
 *   D = C1 + 3 C3 xc^2 (> 0): the two terms of the tests' judgement are
 *   s and t = s xc sb D; xc sb D is within 2^-35.5 relative, so g is within
 *   2^-35.5 max(1, |xc sb D|) + 2^-53 |g| absolute, and s g within
 *   2^-35 max(|s|, |t|) + 2^-52 |s g|: < 2^-10 ULP of the larger term
 *   before the one rounding to float (no cancellation issue at the root
 *   x ~ -0.75: the error is absolute in the terms there, never relative to
 *   the small sum).  Far left (w < -708) f' is -tiny: e^-708 saturation gives
 *   |s t| < 2^-990, -0 in float like the exact value.
 * The clamp's NaN order keeps NaN (v_min(c, v_max(c, x)) as in the f64
 * body); f(-0) = -0 (x >= 0 branch: -0 r), f(+-inf) = inf / -0,
 * f'(+inf) = 1, f'(-inf) = -0. */
#define AG_GT_D32_C1_ 0x1.9884533d43651p+0
#define AG_GT_D32_C3_ 0x1.2444f2a4d8b4bp-4
#define AG_GT_D32_3C3_ 0x1.b6676bf7450f0p-3
/* e = e^-|w| and *xc */
AG_INLINE dvec ag_gelu_tanh_d32_(dvec x, dvec *xc)
{
    dvec c = d_min(DC(64), d_max(DC(-64), x));
    dvec x2 = d_mul(c, c);
    dvec w = d_mul(c, d_fma(x2, DC(AG_GT_D32_C3_), DC(AG_GT_D32_C1_)));
    *xc = c;
    return ag_d32_exp_negabs(w);
}
AG_INLINE dvec ag_gelu_tanh_forward_d32(dvec x, dvec p0, dvec p1)
{
    (void)p0; (void)p1;
    dvec xc, e = ag_gelu_tanh_d32_(x, &xc);
    return d_div(d_select(d_ge(x, DC(0)), x, d_mul(xc, e)), d_add(DC(1), e));
}
AG_INLINE dvec ag_gelu_tanh_derivative_d32(dvec x, dvec p0, dvec p1)
{
    (void)p0; (void)p1;
    dvec xc, e = ag_gelu_tanh_d32_(x, &xc), r = d_div(DC(1), d_add(DC(1), e)), er = d_mul(e, r);
    dmask pos = d_ge(x, DC(0));
    dvec s = d_select(pos, r, er), sb = d_select(pos, er, r);
    dvec D = d_fma(d_mul(xc, xc), DC(AG_GT_D32_3C3_), DC(AG_GT_D32_C1_));
    return d_mul(s, d_fma(d_mul(xc, sb), D, DC(1)));
}
#undef AG_GT_D32_C1_
#undef AG_GT_D32_C3_
#undef AG_GT_D32_3C3_
AG_D32_OP(gelu_tanh, 0)
#else /* float64 */

#define AG_GT_C1_ 0x1.9884533d43651p+0
#define AG_GT_C1L_ -0x1.cbc0d30ebfd15p-54
#define AG_GT_C3_ 0x1.2444f2a4d8b4bp-4
#define AG_GT_C3L_ -0x1.6c843a29d1c7p-61
#define AG_GT_3C3_ 0x1.b6676bf7450f0p-3
#define AG_GT_3C3L_ 0x1.bba7351828aabp-57

/* For xc = x clamped to [-64, 64] (x < 0 scaled by 2^64, k = 64, else k = 0):
 *   *es + *esl = e^-|w| 2^k, *r + *c = 1/(1 + e^-|w|), *x2 + *x2l = x^2;
 * so sigmoid(|w|) = r + c and sigmoid(-|w|) 2^k = (es + esl)(r + c). */
AG_INLINE void AG_FN(ag_gelu_tanh_parts_)(vec xc, vec *es, vec *esl, vec *r, vec *c, vec *x2o, vec *x2lo)
{
    vec x2 = v_mul(xc, xc), x2l = v_fms(xc, xc, x2);
    *x2o = x2;
    *x2lo = x2l;
    vec x3 = v_mul(xc, x2), x3l = v_fma(xc, x2l, v_fms(xc, x2, x3));   /* x^3 to ~2^-2p */
    /* w = C1 x + C3 x^3 in double-word */
    vec c1 = v_mul(xc, AG_C(AG_GT_C1_)), c1l = v_fma(xc, AG_C(AG_GT_C1L_), v_fms(xc, AG_C(AG_GT_C1_), c1));
    vec c3 = v_mul(x3, AG_C(AG_GT_C3_));
    vec c3l = v_fma(x3, AG_C(AG_GT_C3L_), v_fma(x3l, AG_C(AG_GT_C3_), v_fms(x3, AG_C(AG_GT_C3_), c3)));
    vec e, w = AG_FN(ag_2sum_)(c1, c3, &e);
    vec wl = v_add(e, v_add(c1l, c3l));
    vmask neg = v_lt(xc, AG_C(0));                         /* w has the sign of x */
    *es = AG_FN(ag_exp_dw)(v_neg(v_abs(w)), v_select(neg, wl, v_neg(wl)),
                           v_select(neg, AG_C(64), AG_C(0)), esl);
    vec inv = v_select(neg, AG_C(0x1p-64), AG_C(1));
    vec em = v_mul(*es, inv), eml = v_mul(*esl, inv);     /* e^-|w| */
    /* 1/(1 + em + eml) = r + c: 1 + em split exactly, one exact-residual correction */
    vec one = AG_C(1), dh = v_add(one, em);
    vec dl = v_add(v_sub(em, v_sub(dh, one)), eml);
    *r = v_div(one, dh);
    *c = v_mul(*r, v_fnma(*r, dl, v_fnma(*r, dh, one)));
}

AG_INLINE vec AG_FN(ag_gelu_tanh_forward)(vec x, vec p0, vec p1)
{
    (void)p0; (void)p1;
    vec xc = v_min(AG_C(64), v_max(AG_C(-64), x));        /* NaN stays NaN */
    vec es, esl, r, c, x2, x2l;
    AG_FN(ag_gelu_tanh_parts_)(xc, &es, &esl, &r, &c, &x2, &x2l);
    /* x >= 0: x (r + c); x < 0: xc (es + esl)(r + c) 2^-64, each rounded once
     * (the last scaling rounds again only into the subnormals) */
    vec mh = v_mul(xc, es), ml = v_fma(xc, esl, v_fms(xc, es, mh));
    vec neg = v_mul(v_fma(mh, r, v_fma(mh, c, v_mul(ml, r))), AG_C(0x1p-64));
    neg = v_copysign(neg, xc);                             /* -0 when it underflows */
    vec pos = v_fma(x, r, v_mul(xc, c));                   /* x = inf: r = 1, c = 0 */
    return v_select(v_lt(x, AG_C(0)), neg, pos);
}

AG_INLINE vec AG_FN(ag_gelu_tanh_derivative)(vec x, vec p0, vec p1)
{
    (void)p0; (void)p1;
    vec xc = v_min(AG_C(64), v_max(AG_C(-64), x));
    vec es, esl, r, c, x2, x2l, e;
    AG_FN(ag_gelu_tanh_parts_)(xc, &es, &esl, &r, &c, &x2, &x2l);
    /* n + nl = sigmoid(-|w|) 2^k = (es + esl)(r + c) */
    vec n = v_mul(es, r), nl = v_add(v_fms(es, r, n), v_fma(esl, r, v_mul(es, c)));
    vmask neg = v_lt(xc, AG_C(0));
    vec inv = v_select(neg, AG_C(0x1p-64), AG_C(1));
    /* s = sigmoid(w) 2^k, sb = sigmoid(-w), both double-word */
    vec s = v_select(neg, n, r), sl = v_select(neg, nl, c);
    vec sb = v_select(neg, r, v_mul(n, inv)), sbl = v_select(neg, c, v_mul(nl, inv));
    /* m = x sb, D = C1 + 3 C3 x^2, g = 1 + m D, all double-word */
    vec mh = v_mul(xc, sb), ml = v_fma(xc, sbl, v_fms(xc, sb, mh));
    vec ph = v_mul(x2, AG_C(AG_GT_3C3_));
    vec pl = v_fma(x2, AG_C(AG_GT_3C3L_), v_fma(x2l, AG_C(AG_GT_3C3_), v_fms(x2, AG_C(AG_GT_3C3_), ph)));
    vec dh = AG_FN(ag_2sum_)(ph, AG_C(AG_GT_C1_), &e);
    vec dl = v_add(v_add(e, pl), AG_C(AG_GT_C1L_));
    vec qh = v_mul(mh, dh), ql = v_fma(mh, dl, v_fma(ml, dh, v_fms(mh, dh, qh)));
    vec gh = AG_FN(ag_2sum_)(qh, AG_C(1), &e);
    vec gl = v_add(e, ql);
    /* f' = s g 2^-k, rounded once (again only into the subnormals); f' < 0 below the
     * root (x ~ -0.75), so -0 where it underflows there (the sum of zero products can be +0) */
    vec y = v_mul(v_fma(s, gh, v_fma(s, gl, v_mul(sl, gh))), inv);
    return v_select(v_lt(x, AG_C(-2)), v_copysign(y, AG_C(-1)), y);
}

#undef AG_GT_C1_
#undef AG_GT_C1L_
#undef AG_GT_C3_
#undef AG_GT_C3L_
#undef AG_GT_3C3_
#undef AG_GT_3C3L_

AG_PLAIN_BACKWARD(gelu_tanh, 0)

#endif /* AG_IS_F32 */
