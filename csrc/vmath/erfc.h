/* Vector erfc, and the normal-cdf pieces that ops/gelu.h shares with it.
 * Include pattern: see exp.h.
 *
 *   vec ag_erfc(vec x)
 *       erfc x for every x, relative error < 1.1 ULP (measured: f32 0.95,
 *       f64 1.01, csrc/tests/test_gelu.c against erfcl and
 *       tests/test_activations.py against mpmath, through gelu), subnormal results included.
 *       erfc(+-0) = 1, erfc(+inf) = +0 (and for x beyond ~10.05 f32 /
 *       ~27.23 f64, where erfc x is below every number), erfc(-inf) = 2,
 *       NaN -> NaN.
 *
 * Shared with ops/gelu.h (Phi = standard normal cdf, T0 = AG_NCDF_T0_):
 *   ag_ncdf_a_(v, *al):  A(v) (double-word) with Phi(x) = 1/2 + x A(x^2)
 *       for |x| <= T0.
 *   ag_ncdf_u_(c, x2, x2l):  u = c/(x2 + x2l) (c = 1/2 or 1) to ~0.5 ULP.
 *   ag_ncdf_tail_(u, hi, lo, k, *yl):  e^(hi + lo + W(t)) 2^k as a
 *       double-word, u = 1/t^2, t >= T0; for hi + lo = -t^2/2 (exactly)
 *       this is t Phi(-t) 2^k.
 *   ag_2sum_(a, b, *e):  s + e = a + b exactly.
 *
 * Method.  For t >= T0 (T0 = 43/64, where Phi(-t) <= 1/4):
 *       t Phi(-t) = exp(-t^2/2 + W(t)),  W(t) = ln(t Phi(-t)) + t^2/2,
 * W falling from -1.55 at T0 to ln(1/sqrt(2 pi)) = -0.919 as t -> inf.  W is
 * written K + r(1/t^2) in three pieces, each with an exact K that centres it
 * (|r| < 0.125).  -t^2/2 is split exactly with an FMA (hi + lo), K + r is
 * added to it in double-word (Fast2Sum, 2Sum) and ag_exp_dw returns the
 * result as a double-word, so the only errors are exp's (~0.2 ULP before
 * the final rounding) and r's absolute error (~2^-27 f32, ~2^-55 f64),
 * which becomes a relative error of the result: no factor of the result is
 * rounded separately (fdlibm's erfc uses the same exponent form in 1/x^2).
 * For |t| < T0, Phi(t) = 1/2 + t A(t^2) with a polynomial A.  Then, with
 * t = a sqrt2, a = |x|:
 *   a >= T0/sqrt2: a erfc(a) = exp(-a^2 + ln sqrt2 + W(t)), u = 1/(2 a^2)
 *       (the exponent uses a^2 split exactly: the rounding of a sqrt2 never
 *       enters it, and r barely depends on u), then one division by a with
 *       its exact residual;
 *   a <  T0/sqrt2: erfc(x) = 1 - x (2 sqrt2 A(2 x^2)), in [0.5, 1.5],
 *       double-word until the last rounding;
 *   x <= -T0/sqrt2: erfc(x) = 2 - erfc(-x).
 * Inputs are clamped to a <= AMAX (t <= TMAX), beyond which the results
 * are 0 or 2 anyway, so that r stays on its fitted range and nothing
 * overflows; NaN propagates through the clamp.
 *
 * Coefficients: Lawson-IRLS minimax fits in mpmath (40-50 digits), rounded
 * to the dtype one coefficient at a time with the free ones refitted after
 * each; no tables (selects pick the piece's coefficients).
 */
/* Uses (included before it by ops/all.h): vmath/exp.h. */

#ifndef AG_NCDF_T0_
#define AG_NCDF_T0_ 0.671875          /* 43/64: Phi(-T0) = 0.2508 */
#define AG_ERFC_A0_ 0.475             /* ~T0/sqrt2: erfc(A0) = 0.5014 */
#endif

/* A(v) as a double-word (return + *al), Phi(t) = 1/2 + t A(t^2), |t| <= T0.
 * Fitted on t in [0, T0 + 0.01] for the error of 1/2 - t A relative to
 * Phi(-t): f32 degree 4, < 2^-28.7; f64 degree 8, < 2^-58.4.  The last
 * Horner step a0 + v A1 is kept exact (a0 - p is exact by Sterbenz: v A1 is
 * within 9% of a0), so A is good to ~2^-2p plus the fit. */
AG_INLINE vec AG_FN(ag_ncdf_a_)(vec v, vec *al)
{
#if AG_IS_F32
    vec p = AG_C(0x1.caa98p-14f);
    p = v_fma(p, v, AG_C(-0x1.376e4ep-10f));
    p = v_fma(p, v, AG_C(0x1.46da0cp-7f));
    p = v_fma(p, v, AG_C(-0x1.105876p-4f));
    vec a0 = AG_C(0x1.988454p-2f);
#else
    vec p = AG_C(0x1.136165626a36fp-29);
    p = v_fma(p, v, AG_C(-0x1.5fb453f675f96p-25));
    p = v_fma(p, v, AG_C(0x1.657399a3f8667p-21));
    p = v_fma(p, v, AG_C(-0x1.3ce87de124162p-17));
    p = v_fma(p, v, AG_C(0x1.e42b0a08aa63bp-14));
    p = v_fma(p, v, AG_C(-0x1.37403f651365p-10));
    p = v_fma(p, v, AG_C(0x1.46d042975acdcp-7));
    p = v_fma(p, v, AG_C(-0x1.1058377e2cdf9p-4));
    vec a0 = AG_C(0x1.9884533d4365p-2);
#endif
    vec h = v_fma(p, v, a0);
    *al = v_fma(p, v, v_sub(a0, h));
    return h;
}

/* r(u) = ln(t Phi(-t)) + t^2/2 - K, u = 1/t^2, in three pieces of t, each
 * centred by its own K so that |r| < 0.125 (its rounding errors are then
 * < 2^-27 absolute):
 *   piece 1: t in [T0, 1.05]   (u > U1), K = -1.4375;
 *   piece 2: t in [1.05, 2]    (u > U2), K = -1.203125;
 *   piece 3: t in [2, TMAX]    (u <= U2), K = -1.
 * Each a rational P(v)/Q(v), Q(0) = 1, of v = u - 7/8, u - 1/4, u, so that
 * v >= 0 on the piece (the poles lie at v < 0 and the Horner sums of Q have
 * no cancellation, nor have P's beyond a factor ~2), fitted on the piece
 * padded by 0.01 in t;
 * the coefficients of the lane's piece are picked with selects.  Absolute
 * error f32 (4,4) each: < 2^-28.6 (TMAX = 15); f64 (7,7), (8,8), (9,9) (the
 * missing high coefficients picked as 0): < 2^-59.0 (TMAX = 39). */
#define AG_NCDF_U1_ 0.90625           /* t = 1.0505 */
#define AG_NCDF_U2_ 0.25              /* t = 2 */
#define AG_NCDF_PICK_(c1, c2, c3) v_select(m1, AG_C(c1), v_select(m2, AG_C(c2), AG_C(c3)))

/* r(u) and (returned in *k) the K of u's piece. */
AG_INLINE vec AG_FN(ag_ncdf_r_)(vec u, vec *k)
{
    vmask m1 = v_gt(u, AG_C(AG_NCDF_U1_)), m2 = v_gt(u, AG_C(AG_NCDF_U2_));
    vec v = v_sub(u, AG_NCDF_PICK_(0.875, 0.25, 0));     /* exact */
#if AG_IS_F32
    vec p = AG_NCDF_PICK_(0x1.776656p-8f, -0x1.9b54fcp-5f, -0x1.22c49ap+5f);
    p = v_fma(p, v, AG_NCDF_PICK_(0x1.b8d8dp-7f, -0x1.72f52cp-1f, -0x1.80db76p+5f));
    p = v_fma(p, v, AG_NCDF_PICK_(-0x1.1ddc96p-3f, -0x1.021824p+0f, -0x1.11cad6p+3f));
    p = v_fma(p, v, AG_NCDF_PICK_(-0x1.1e1b6ap-3f, -0x1.82fbe4p-4f, 0x1.028b72p-1f));
    p = v_fma(p, v, AG_NCDF_PICK_(0x1.0506c6p-3f, 0x1.cf3534p-4f, 0x1.4c071ap-4f));
    vec q = AG_NCDF_PICK_(-0x1.07929ep-8f, 0x1.1729c4p-6f, 0x1.e686d4p+4f);
    q = v_fma(q, v, AG_NCDF_PICK_(-0x1.eb071cp-5f, 0x1.c47a9cp-1f, 0x1.0178eap+7f));
    q = v_fma(q, v, AG_NCDF_PICK_(0x1.05e804p-4f, 0x1.cc5d68p+1f, 0x1.729664p+6f));
    q = v_fma(q, v, AG_NCDF_PICK_(0x1.deaf92p-1f, 0x1.d312f4p+1f, 0x1.290d58p+4f));
    q = v_fma(q, v, AG_C(1.0f));
#else
    vec p = AG_NCDF_PICK_(0, 0, -0x1.7435aca1aceecp+16);
    p = v_fma(p, v, AG_NCDF_PICK_(0, -0x1.67c68ac761037p-3, -0x1.2bfede5abd075p+19));
    p = v_fma(p, v, AG_NCDF_PICK_(-0x1.6642cb11e7c24p-14, -0x1.cefbde3a56243p+1, -0x1.c2b161a944493p+19));
    p = v_fma(p, v, AG_NCDF_PICK_(-0x1.133c508978f69p-8, -0x1.214c69ebb89aap+4, -0x1.e9c5b5ea28197p+18));
    p = v_fma(p, v, AG_NCDF_PICK_(-0x1.9aef99b834d03p-5, -0x1.12dda89e7a7b6p+5, -0x1.ae9d9bf33b20fp+16));
    p = v_fma(p, v, AG_NCDF_PICK_(-0x1.cca5c28514623p-3, -0x1.c32e3f4e7b1e1p+4, -0x1.d6bc2853ab385p+12));
    p = v_fma(p, v, AG_NCDF_PICK_(-0x1.aa677adcc0fd1p-2, -0x1.18074da2881abp+3, 0x1.29d8c93b25cf3p+9));
    p = v_fma(p, v, AG_NCDF_PICK_(-0x1.ecffc75f408c8p-3, 0x1.2a655763dd19dp-1, 0x1.b890013ccb3cdp+6));
    p = v_fma(p, v, AG_NCDF_PICK_(0x1.f8029f05d5f03p-4, 0x1.a2ff976993eb3p-1, 0x1.50459c4ce7c87p+2));
    p = v_fma(p, v, AG_NCDF_PICK_(0x1.0506c6f726eb4p-3, 0x1.cf3533bea6ae5p-4, 0x1.4c071bcda0a5ap-4));
    vec q = AG_NCDF_PICK_(0, 0, 0x1.b6b9edf477ebbp+15);
    q = v_fma(q, v, AG_NCDF_PICK_(0, 0x1.6ab93540ad9a4p-4, 0x1.78019d1d8d54ap+19));
    q = v_fma(q, v, AG_NCDF_PICK_(0x1.4dfd5407c824dp-15, 0x1.c07e77a912677p+1, 0x1.09180bf3ef9e9p+21));
    q = v_fma(q, v, AG_NCDF_PICK_(0x1.d8bf5d46b22afp-9, 0x1.df608f2d0b40cp+4, 0x1.1223ec796e59cp+21));
    q = v_fma(q, v, AG_NCDF_PICK_(0x1.24e3253ef1c2ap-4, 0x1.88675ea145b6cp+6, 0x1.03f741e23b4fap+20));
    q = v_fma(q, v, AG_NCDF_PICK_(0x1.162575636f6b9p-1, 0x1.317df638ee1c8p+7, 0x1.f7025c1034b21p+17));
    q = v_fma(q, v, AG_NCDF_PICK_(0x1.ef3fff5cc99e4p+0, 0x1.f0ef98cec3f15p+6, 0x1.03b895e7e2c82p+15));
    q = v_fma(q, v, AG_NCDF_PICK_(0x1.ba8a6caeb97ecp+1, 0x1.aee80115953e1p+5, 0x1.1cf615c3e72c2p+11));
    q = v_fma(q, v, AG_NCDF_PICK_(0x1.7f8bff831c3e1p+1, 0x1.7711d07905208p+3, 0x1.349e1a9234f99p+6));
    q = v_fma(q, v, AG_C(1.0));
#endif
    *k = AG_NCDF_PICK_(-1.4375, -1.203125, -1.0);
    return v_div(p, q);
}
#undef AG_NCDF_PICK_

/* u = c/(x2 + x2l) for c = 1/2 or 1, with x2 + x2l an exact square: the
 * quotient corrected once with its exact residual, so u is within ~0.5 ULP
 * (r barely depends on it: |u r'(u)| < 0.3). */
AG_INLINE vec AG_FN(ag_ncdf_u_)(AG_T c, vec x2, vec x2l)
{
    vec q = v_div(v_set1(c), x2);
    vec rho = v_fnma(q, x2l, v_fnma(q, x2, v_set1(c)));
    return v_fma(rho, v_mul(q, v_set1(1 / c)), q);
}

/* s + *e = a + b exactly (2Sum, any magnitudes). */
AG_INLINE vec AG_FN(ag_2sum_)(vec a, vec b, vec *e)
{
    vec s = v_add(a, b), bb = v_sub(s, a);
    *e = v_add(v_sub(a, v_sub(s, bb)), v_sub(b, bb));
    return s;
}

/* e^(hi + lo + K + r(u)) 2^k as a double-word (return + *yl, ag_exp_dw;
 * k as there), for hi + lo an exact sum (|lo| <= ulp(hi)): with
 * hi + lo = -t^2/2 and u = 1/t^2 this is t Phi(-t) 2^k. */
AG_INLINE vec AG_FN(ag_ncdf_tail_)(vec u, vec hi, vec lo, vec k2, vec *yl)
{
    vec k, r = AG_FN(ag_ncdf_r_)(u, &k);
    vec w = v_add(k, r);                                 /* Fast2Sum: |k| >= 1 > |r| */
    vec wl = v_sub(r, v_sub(w, k));
    vec e, s = AG_FN(ag_2sum_)(hi, w, &e);
    return AG_FN(ag_exp_dw)(s, v_add(lo, v_add(wl, e)), k2, yl);
}

#if AG_IS_F32
#define AG_ERFC_AMAX_ 10.5f            /* erfc(10.5) < 2^-150; 10.5 sqrt2 < TMAX */
#define AG_ERFC_2SQRT2_ 0x1.6a09e6p+1f    /* 2 sqrt2, hi + lo */
#define AG_ERFC_2SQRT2L_ 0x1.9fcef4p-25f
#define AG_ERFC_LNS2_ 0x1.62e43p-2f      /* ln sqrt2, hi + lo */
#define AG_ERFC_LNS2L_ -0x1.05c61p-30f
#else
#define AG_ERFC_AMAX_ 27.5             /* erfc(27.5) < 2^-1075; 27.5 sqrt2 < TMAX */
#define AG_ERFC_2SQRT2_ 0x1.6a09e667f3bcdp+1
#define AG_ERFC_2SQRT2L_ -0x1.bdd3413b26456p-53
#define AG_ERFC_LNS2_ 0x1.62e42fefa39efp-2
#define AG_ERFC_LNS2L_ 0x1.abc9e3b39803fp-57
#endif

AG_INLINE vec AG_FN(ag_erfc)(vec x)
{
    vec a = v_min(AG_C(AG_ERFC_AMAX_), v_abs(x));     /* NaN stays NaN */
    vec a2 = v_mul(a, a), a2l = v_fms(a, a, a2);      /* a^2 = a2 + a2l */
    /* |x| < A0: 1 - x m, m = 2 sqrt2 A(2 x^2) as a double-word; 1 - x mh is
     * split exactly (its residual by FMA: 1 - s is exact for s in [0.5, 2]) */
    vec al, ah = AG_FN(ag_ncdf_a_)(v_add(a2, a2), &al);
    vec mh = v_mul(ah, AG_C(AG_ERFC_2SQRT2_));
    vec ml = v_fma(ah, AG_C(AG_ERFC_2SQRT2L_), v_fma(al, AG_C(AG_ERFC_2SQRT2_), v_fms(ah, AG_C(AG_ERFC_2SQRT2_), mh)));
    vec s = v_fnma(x, mh, AG_C(1));
    vec small = v_add(s, v_fnma(x, ml, v_fnma(x, mh, v_sub(AG_C(1), s))));
    /* |x| >= A0: a erfc(a) = sqrt2 t Phi(-t) = e^(-a^2 + ln sqrt2 + K + r(u)), t = a sqrt2, u = 1/(2 a^2) */
    vec u = AG_FN(ag_ncdf_u_)(0.5, a2, a2l);
    vec e, h = AG_FN(ag_2sum_)(v_neg(a2), AG_C(AG_ERFC_LNS2_), &e);
    vec yl, y = AG_FN(ag_ncdf_tail_)(u, h, v_add(v_sub(e, a2l), AG_C(AG_ERFC_LNS2L_)), AG_C(0), &yl);
    vec ra = v_mul(v_add(a, a), u), q = v_mul(y, ra);    /* ra ~ 1/a */
    vec big = v_fma(v_add(v_fnma(q, a, y), yl), ra, q);   /* (y + yl)/a, one correction */
    big = v_select(v_lt(x, AG_C(0)), v_sub(AG_C(2), big), big);
    return v_select(v_lt(a, AG_C(AG_ERFC_A0_)), small, big);
}

#undef AG_ERFC_AMAX_
#undef AG_ERFC_2SQRT2_
#undef AG_ERFC_2SQRT2L_
#undef AG_ERFC_LNS2_
#undef AG_ERFC_LNS2L_
