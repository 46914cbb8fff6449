/* gelu(x) = x Phi(x) = x/2 erfc(-x/sqrt2) (approximate='none').
 * Include pattern: see vmath/exp.h.
 *
 * Phi is never formed as 1 + erf(x/sqrt2) (which cancels to 0 for x < 0:
 * PyTorch's float32 gelu(-6) is 0, not -5.9e-9), nor from a rounded x/sqrt2
 * (erfc's condition number 2z^2 would turn that rounding into ~100 ULP at
 * x = -14).  With t = |x| and -t^2/2 split exactly (vmath/erfc.h):
 *   |x| <  T0: Phi(x) = 1/2 + x A(x^2),  gelu = x/2 + x^2 A(x^2);
 *   |x| >= T0: y = t Phi(-t) = e^(-t^2/2 + W(t)) (ag_ncdf_tail_: one exp,
 *              as a double-word), gelu = -y (x < 0), x - y (x > 0).
 *   gelu'(x) = Phi(x) + x phi(x), phi(x) = e^(-x^2/2 - ln sqrt(2 pi)) (exact
 *              split plus a double-word constant, ag_exp_dw), Phi(x) =
 *              1/2 + x A, or y/t, or 1 - y/t, each a double-word; the main
 *              parts are summed first (exactly where they cancel, near the
 *              root x = -0.7518), then the low parts.  Relative accuracy in
 *              both tails: gelu' ~ -x phi(x) -> -0 for x -> -inf, where it is
 *              computed scaled by 2^64 so that t phi(t) is not formed from a
 *              subnormal phi, and -> 1 for x -> +inf.
 * Every result is rounded once from double-word pieces (up to ~0.3 ULP of
 * errors in the pieces).  Measured max error (tests/test_activations.py and
 * bench/accuracy.py vs mpmath; csrc/tests/test_gelu.c vs long double), f32 / f64:
 *   gelu  0.88 / 0.87 ULP;  gelu' 1.06 / 1.14 ULP (in ULPs of its larger
 *   term near the root, relative elsewhere).
 * x is clamped to +-TMAX, beyond which t Phi(-t) and t phi(t) are below
 * every number, so that no inf * 0 occurs.  gelu(-0) = -0, gelu(-inf) = -0,
 * gelu(inf) = inf, gelu'(-inf) = 0, gelu'(inf) = 1, NaN -> NaN.
 */
/* Uses (included before it by ops/all.h): vmath/exp.h, vmath/erfc.h, ops/d32.h. */

#if AG_IS_F32
/* float32, evaluated in double (ops/d32.h).  z = -x/sqrt2 rounded in double
 * (2^-53 relative; erfc's condition number 2z^2 <= 220 where the result is a
 * float keeps that below 2^-45), a = |z|, E = e^-a^2 (exp_d32.h; a^2 rounded:
 * an absolute error < 2^-46 in the exponent for a <= 10.6), and
 *     erfc(a) = E P(t),  t = 1/(1 + a/2) in (0, 1],
 * P of degree 14 a weighted least-squares fit (IRLS, mpmath) of erfc(a) e^(a^2)
 * on a in [0, 11] (t >= 1/6.5; beyond, E underflows to 0 in the products that
 * reach a float): max relative error 2^-36.3, measured in double Horner
 * against mpmath on 20001 points; the Estrin evaluation below rounds to within
 * 2^-51.5 of the polynomial's exact value (mpmath, 3001 points of t; Horner
 * 2^-51.8).  erfc(z) = E P (z >= 0) or 2 - E P (z < 0, a value in (1, 2]: no
 * cancellation).  Phi(x) = erfc(z)/2, gelu = x Phi
 * (x clamped to >= -1e4, where Phi is 0, so -inf * 0 never occurs),
 * gelu' = Phi + x phi, phi = E/sqrt(2 pi) (reusing E = e^(-x^2/2)); the
 * terms cancel near the root -0.7518: the error there is 2^-34 of the largest
 * term (the tests judge gelu' in ULPs of its largest term). */
AG_INLINE dvec ag_gelu_phi_d32_(dvec x, dvec *E)
{
    dvec z = d_mul(x, DC(-0x1.6a09e667f3bcdp-1));
    dvec a = d_abs(z);
    dvec t = d_div(DC(1), d_fma(a, DC(0.5), DC(1)));
    *E = ag_d32_exp_negabs(d_mul(a, a));      /* >= e^-708: keeps the sign of x phi (gelu'(-big) = -0) */
    /* P(t) = sum c_i t^i by Estrin's scheme (pairs c_i + c_{i+1} t, then powers t^2, t^4,
     * t^8): 4 multiply-adds deep instead of Horner's 14 */
    dvec t2 = d_mul(t, t), t4 = d_mul(t2, t2), t8 = d_mul(t4, t4);
    dvec c01 = d_fma(DC(0x1.20deb5ae7777ap-2), t, DC(-0x1.15714a1578d24p-23));
    dvec c23 = d_fma(DC(0x1.fb03385c680c8p-3), t, DC(0x1.20c90cc0997dbp-2));
    dvec c45 = d_fma(DC(0x1.99df78049a3e9p-4), t, DC(0x1.6032cd60442a1p-3));
    dvec c67 = d_fma(DC(-0x1.97417a653e7f3p-5), t, DC(-0x1.3ea5f5873731cp-5));
    dvec c89 = d_fma(DC(-0x1.6af907f567e81p-1), t, DC(0x1.35a33a4bc0f59p-3));
    dvec c1011 = d_fma(DC(-0x1.40032b99461c6p+0), t, DC(0x1.4f1ddab49f72fp+0));
    dvec c1213 = d_fma(DC(-0x1.a3175be01edabp-3), t, DC(0x1.5d0d9990cb7d2p-1));
    dvec c0_3 = d_fma(t2, c23, c01), c4_7 = d_fma(t2, c67, c45);
    dvec c8_11 = d_fma(t2, c1011, c89), c12_14 = d_fma(t2, DC(0x1.b288480c26a3cp-6), c1213);
    dvec p = d_fma(t8, d_fma(t4, c12_14, c8_11), d_fma(t4, c4_7, c0_3));
    dvec ec = d_abs(d_mul(*E, p));                        /* erfc(|z|), never -0 (E = 0 and P(0) < 0) */
    dvec h = d_mul(ec, DC(0.5));
    return d_select(d_ge(z, DC(0)), h, d_sub(DC(1), h));  /* Phi(x); NaN: 1 - NaN */
}
AG_INLINE dvec ag_gelu_forward_d32(dvec x, dvec p0, dvec p1)
{
    (void)p0; (void)p1;
    dvec E, phi = ag_gelu_phi_d32_(x, &E);
    return d_mul(d_max(DC(-1e4), x), phi);               /* gelu(-0) = -0 */
}
AG_INLINE dvec ag_gelu_derivative_d32(dvec x, dvec p0, dvec p1)
{
    (void)p0; (void)p1;
    dvec E, phi = ag_gelu_phi_d32_(x, &E);
    dvec xc = d_max(DC(-1e4), d_min(DC(1e4), x));
    return d_fma(d_mul(xc, DC(0x1.9884533d43651p-2)), E, phi);   /* 1/sqrt(2 pi) */
}
AG_D32_OP(gelu, 0)
#else /* float64 */

#define AG_GELU_TMAX_ 39.0             /* ... < 2^-1075 beyond 38.7 */
#define AG_GELU_LNC_ -0x1.d67f1c864beb5p-1
#define AG_GELU_LNCL_ 0x1.65b5a1b7ff5dfp-55

/* t = min(|x|, TMAX) (NaN stays NaN), t^2 = *t2 + *t2l exactly, *u = 1/t^2,
 * and returns y + *yl = t Phi(-t) 2^k (double-word, meaningful for t >= T0). */
AG_INLINE vec AG_FN(ag_gelu_parts_)(vec x, vec k, vec *t, vec *t2, vec *t2l, vec *u, vec *yl)
{
    *t = v_min(AG_C(AG_GELU_TMAX_), v_abs(x));
    *t2 = v_mul(*t, *t);
    *t2l = v_fms(*t, *t, *t2);
    *u = AG_FN(ag_ncdf_u_)(1, *t2, *t2l);
    return AG_FN(ag_ncdf_tail_)(*u, v_mul(*t2, AG_C(-0.5)), v_mul(*t2l, AG_C(-0.5)), k, yl);
}

AG_INLINE vec AG_FN(ag_gelu_forward)(vec x, vec p0, vec p1)
{
    (void)p0; (void)p1;
    vec t, t2, t2l, u, yl, y = AG_FN(ag_gelu_parts_)(x, AG_C(0), &t, &t2, &t2l, &u, &yl);
    /* |x| < T0: x/2 + x^2 A(x^2), x^2 A = sh + sl (double-word), x/2 + sh by
     * Fast2Sum (|x^2 A| < 0.55 |x/2|), rounded once */
    vec al, ah = AG_FN(ag_ncdf_a_)(t2, &al);
    vec hx = v_mul(x, AG_C(0.5)), sh = v_mul(t2, ah);
    vec sl = v_fma(t2, al, v_fma(t2l, ah, v_fms(t2, ah, sh)));
    vec s = v_add(hx, sh);
    vec small = v_add(s, v_add(v_sub(sh, v_sub(s, hx)), sl));
    small = v_copysign(small, x);                       /* gelu(-0) = -0 */
    y = v_add(y, yl);
    vec big = v_select(v_lt(x, AG_C(0)), v_neg(y), v_sub(x, y));
    return v_select(v_lt(t, AG_C(AG_NCDF_T0_)), small, big);
}

AG_INLINE vec AG_FN(ag_gelu_derivative)(vec x, vec p0, vec p1)
{
    (void)p0; (void)p1;
    /* for x < 0 everything is scaled by 2^64 (k) and unscaled at the end, so
     * that t phi(t) is not formed from a subnormal phi (x < -13.2 f32) */
    vmask neg = v_lt(x, AG_C(0));
    vec k = v_select(neg, AG_C(64), AG_C(0)), inv = v_select(neg, AG_C(0x1p-64), AG_C(1));
    vec t, t2, t2l, u, yl, y = AG_FN(ag_gelu_parts_)(x, k, &t, &t2, &t2l, &u, &yl);
    vec xc = v_copysign(t, x);
    /* Phi(x) 2^k = ch + cl, double-word:
     *   t >= T0: q + ql = Phi(-t) 2^k = (y + yl)/t (an approximate quotient
     *            plus its exact residual), and 1 - q for x > 0 (Fast2Sum:
     *            q <= 1/4);
     *   t < T0:  1/2 + x (ah + al) (Fast2Sum: |x ah| < 0.28), scaled. */
    vec rt = v_mul(t, u), q = v_mul(y, rt);             /* rt ~ 1/t: only q + ql must be exact */
    vec ql = v_mul(v_add(v_fnma(q, t, y), yl), rt);
    vec one_q = v_sub(AG_C(1), q);
    vec ch = v_select(neg, q, one_q);
    vec cl = v_select(neg, ql, v_sub(v_sub(v_sub(AG_C(1), one_q), q), ql));
    vec al, ah = AG_FN(ag_ncdf_a_)(t2, &al);
    vec sh = v_mul(xc, ah), s = v_add(AG_C(0.5), sh);
    vec sl = v_add(v_sub(sh, v_sub(s, AG_C(0.5))), v_fma(xc, al, v_fms(xc, ah, sh)));
    vec sc = v_select(neg, AG_C(0x1p64), AG_C(1));
    vmask small = v_lt(t, AG_C(AG_NCDF_T0_));
    ch = v_select(small, v_mul(s, sc), ch);
    cl = v_select(small, v_mul(sl, sc), cl);
    /* phi(t) 2^k = e^(-t^2/2 - ln sqrt(2 pi)) 2^k, double-word */
    vec e, h = AG_FN(ag_2sum_)(v_mul(t2, AG_C(-0.5)), AG_C(AG_GELU_LNC_), &e);
    vec phil, phi = AG_FN(ag_exp_dw)(h, v_add(v_fnma(t2l, AG_C(0.5), e), AG_C(AG_GELU_LNCL_)), k, &phil);
    /* Phi(x) + x phi(x): the main parts first (where they cancel, near the
     * root x = -0.75, exactly), then the low parts */
    return v_mul(v_fma(xc, phi, v_add(ch, v_fma(xc, phil, cl))), inv);
}

#undef AG_GELU_TMAX_
#undef AG_GELU_LNC_
#undef AG_GELU_LNCL_

AG_PLAIN_BACKWARD(gelu, 0)

#endif /* AG_IS_F32 */
