/* mish(x) = x tanh(softplus(x)).  Include pattern: see vmath/exp.h.
 *
 * With n = e^x, tanh(log(1 + n)) = n(n + 2)/(n(n + 2) + 2).  In terms of
 * e = exp(-|x|) in [0, 1], put (A, B) = (e, 1) for x < 0 and (1, e) for
 * x >= 0 (numerator and denominator multiplied by e^2 there); then
 *   T    = tanh(softplus(x)) = N/G,  N = A^2 + 2AB,  G = N + W,  W = 2B^2,
 *   1-T  = w = W/G,   1+T = 2 - w,   sech^2(softplus x) = w (2 - w),
 *   mish  = x T: x < 0: x e K with K = (e + 2)/G;  x >= 0: x - x w;
 *   mish' = T + x sech^2(softplus x) sigmoid(x)   (ops/sigmoid.h for sigmoid).
 * e = e + el is a double-word (ag_exp_dw); N, W and G are carried as
 * double-words (2AB = 2e is exact, the rest by FMA/2Sum), 1/G = r + c as in
 * ag_sigmoid_recip_, and each result is rounded once at the end.
 * Tail: for x < 0, T ~ e^x and sigmoid(x) ~ e^x are made from e 2^64 and the
 * result unscaled once, as in silu.  x is clamped to +-MAX in products (no
 * inf * 0): mish(-inf) = -0, mish'(+inf) = 1.
 */
/* Uses (included before it by ops/all.h): vmath/exp.h, ops/sigmoid.h, ops/d32.h. */

#if AG_IS_F32
/* float32, evaluated in double (ops/d32.h), closed forms in t = e^-|x|
 * (exp_d32.h) with no cancellation:
 *   x <= 0 (u = t = e^x): tanh(softplus(x)) = n/(n + 2), n = u (u + 2);
 *   x > 0 (e = t = e^-x): tanh(softplus(x)) = (1 + 2e)/(1 + 2e + 2e^2);
 * written T = N/D.  mish = x T.  mish' = T + x sigmoid(x) sech^2(softplus(x))
 * with sigmoid sech^2 = 4u(1 + u)/D^2 (x <= 0) or 4e^2(1 + e)/D^2 (x > 0), so
 * mish' = (N D + x G)/D^2, G = 4 t (1 + t) (1 or t): one division each.  All
 * pieces are sums of positive terms, within 2^-35 relative; near the root of
 * mish' (-1.19) the error is 2^-34 of the largest term.  x clamped to +-1e4
 * where it multiplies a vanishing factor (as silu). */
AG_INLINE dmask ag_mish_nd_(dvec x, dvec *N, dvec *D, dvec *t)
{
    *t = ag_d32_exp_negabs(x);
    dmask neg = d_le(x, DC(0));
    dvec n = d_mul(*t, d_add(*t, DC(2)));                 /* u (u + 2) */
    dvec p = d_fma(DC(2), *t, DC(1));                     /* 1 + 2e */
    *N = d_select(neg, n, p);
    *D = d_select(neg, d_add(n, DC(2)), d_fma(d_add(*t, *t), *t, p));
    return neg;
}
AG_INLINE dvec ag_mish_forward_d32(dvec x, dvec p0, dvec p1)
{
    (void)p0; (void)p1;
    dvec N, D, t;
    ag_mish_nd_(x, &N, &D, &t);
    return d_mul(d_max(DC(-1e4), x), d_div(N, D));     /* NaN stays NaN; mish(-0) = -0 */
}
AG_INLINE dvec ag_mish_derivative_d32(dvec x, dvec p0, dvec p1)
{
    (void)p0; (void)p1;
    dvec N, D, t;
    dmask neg = ag_mish_nd_(x, &N, &D, &t);
    dvec G = d_mul(d_mul(DC(4), t), d_mul(d_add(DC(1), t), d_select(neg, DC(1), t)));
    dvec xc = d_max(DC(-1e4), d_min(DC(1e4), x));
    return d_div(d_fma(xc, G, d_mul(N, D)), d_mul(D, D));
}
AG_D32_OP(mish, 0)
#else /* float64 */

#define AG_MISH_MAX_ 0x1.fffffffffffffp+1023

/* The pieces, for s = 2^64 (x < 0) or 1 (x >= 0): e + el = exp(-|x|),
 * es + esl = (e + el) s, inv = 1/s, W + Wl = 2B^2, 1/(G + Gl) = r + c;
 * returns K = (e + 2)/G rounded once (used for x < 0: T = e K). */
AG_INLINE vec AG_FN(ag_mish_parts_)(vec x, vec *W, vec *Wl, vec *r, vec *c, vec *e, vec *el,
                                         vec *es, vec *esl, vec *inv)
{
    vmask neg = v_lt(x, AG_C(0));
    *es = AG_FN(ag_exp_dw)(v_neg(v_abs(x)), AG_C(0), v_select(neg, AG_C(64), AG_C(0)), esl);
    *inv = v_select(neg, AG_C(0x1p-64), AG_C(1));
    *e = v_mul(*es, *inv);
    *el = v_mul(*esl, *inv);
    vec one = AG_C(1), zero = AG_C(0), two = AG_C(2);
    vec A = v_select(neg, *e, one), Al = v_select(neg, *el, zero);
    vec B = v_select(neg, one, *e), Bl = v_select(neg, zero, *el);
    vec Q = v_add(*e, *e);                              /* 2AB = 2e, exact */
    vec P = v_mul(A, A), Pl = v_fms(A, A, P);          /* A^2 */
    vec N = v_add(P, Q), b = v_sub(N, P);              /* 2Sum: N + Nl = A^2 + 2AB */
    vec Nl = v_add(v_add(v_sub(P, v_sub(N, b)), v_sub(Q, b)), Pl);
    Nl = v_fma(v_add(Al, Al), v_add(A, B), Nl);        /* + 2 Al (A + B) + 2 A Bl: the first- */
    Nl = v_fma(v_add(A, A), Bl, Nl);                   /*   order terms of the low parts     */
    vec B2 = v_add(B, B);
    *W = v_mul(B2, B);                                 /* 2B^2 */
    *Wl = v_fma(B2, v_add(Bl, Bl), v_fms(B2, B, *W));
    vec G = v_add(N, *W);                              /* 2Sum: G + Gl = N + W */
    b = v_sub(G, N);
    vec Gl = v_add(v_add(v_sub(N, v_sub(G, b)), v_sub(*W, b)), v_add(Nl, *Wl));
    *r = v_div(one, G);
    vec t = v_fnma(*r, Gl, v_fnma(*r, G, one));       /* 1 - r (G + Gl) */
    *c = v_mul(*r, t);
    vec h = v_add(two, *e);                            /* Fast2Sum: h + hl = 2 + e + el */
    vec hl = v_add(v_sub(*e, v_sub(h, two)), *el);
    return v_fma(h, *r, v_fma(hl, *r, v_mul(h, *c)));
}

AG_INLINE vec AG_FN(ag_mish_forward)(vec x, vec p0, vec p1)
{
    (void)p0; (void)p1;
    vec W, Wl, r, c, e, el, es, esl, inv;
    vec K = AG_FN(ag_mish_parts_)(x, &W, &Wl, &r, &c, &e, &el, &es, &esl, &inv);
    vec xc = v_min(AG_C(AG_MISH_MAX_), v_max(AG_C(-AG_MISH_MAX_), x));
    vec M = v_mul(xc, es), Ml = v_fma(xc, esl, v_fms(xc, es, M));   /* x (es + esl) */
    vec yn = v_mul(v_fma(M, K, v_mul(Ml, K)), inv);                  /* x e K */
    vec w = v_fma(W, r, v_fma(Wl, r, v_mul(W, c)));                  /* 1 - T */
    vec yp = v_fnma(xc, w, x);                                       /* x - x w */
    return v_copysign(v_select(v_lt(x, AG_C(0)), yn, yp), x);       /* mish(-0) = -0 */
}

AG_INLINE vec AG_FN(ag_mish_derivative)(vec x, vec p0, vec p1)
{
    (void)p0; (void)p1;
    vec W, Wl, r, c, e, el, es, esl, inv;
    vec K = AG_FN(ag_mish_parts_)(x, &W, &Wl, &r, &c, &e, &el, &es, &esl, &inv);
    vmask neg = v_lt(x, AG_C(0));
    vec w = v_fma(W, r, v_fma(Wl, r, v_mul(W, c)));                  /* 1 - T */
    vec Ts = v_select(neg, v_fma(es, K, v_mul(esl, K)), v_sub(AG_C(1), w)); /* T s */
    vec ns, p = AG_FN(ag_sigmoid_parts_)(e, el, es, esl, &ns);
    vec sig = v_select(neg, ns, p);                                  /* sigmoid(x) s */
    vec xc = v_min(AG_C(AG_MISH_MAX_), v_max(AG_C(-AG_MISH_MAX_), x));
    vec sech2 = v_mul(w, v_sub(AG_C(2), w));                         /* (1 - T)(1 + T) */
    vec y = v_mul(v_fma(v_mul(xc, sech2), sig, Ts), inv);
    /* mish' < 0 below its root (x ~ -1.19): -0 where it underflows (x < -789: es = 0 and
     * -0 + 0 is +0) */
    return v_select(v_lt(x, AG_C(-2)), v_copysign(y, AG_C(-1)), y);
}

#undef AG_MISH_MAX_

AG_PLAIN_BACKWARD(mish, 0)

#endif /* AG_IS_F32 */
