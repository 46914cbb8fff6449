/* Vector e^z for z <= 0, the exponentials of a softmax (z = x - max x); include
 * pattern: see exp.h.
 *
 *   vec ag_exp_le0(vec z)
 *       e^z for z <= 0 (also -0, -inf and NaN), <= 1 ULP (test_losses.c
 *       measures it against ag_exp).  About half the operations of ag_exp: one
 *       Cody-Waite reduction n = round(z/ln2), r = z - n ln2 (ln2 split as in
 *       exp.h), e^r = 1 + r + r^2 (1/2 + r P3(r)) with exp.h's P3, and one
 *       scaling by 2^n (exact, or one rounding just below 2^-126 / 2^-1022).
 *       pow2i needs n >= -126 (f32) / -1022 (f64): the lanes below ln 2^-126 /
 *       ln 2^-1022 (tiny or zero results, -inf) take ag_exp instead (evaluated
 *       only for a vector that has one, rare in a softmax), which keeps every
 *       result within 1 ULP.  z > 0 is outside the contract.
 */
/* Uses (included before it by ops/all.h): vmath/exp.h. */

/* e^z on the lanes with z >= zmin; *tiny flags the others (their result is to be replaced
 * by ag_exp's).  ag_exp_le0 is this plus the replacement; a loop that evaluates several
 * vectors can test their flags once (ag_exp_le0_fix_). */
AG_INLINE vec AG_FN(ag_exp_le0_common_)(vec z, vmask *tiny)
{
#if AG_IS_F32
    const AG_T log2e = 0x1.715476p+0f, ln2hi = 0x1.62e4p-1f, ln2lo = 0x1.7f7d1cp-20f;
    const AG_T zmin = -0x1.5d589ep+6f, nmin = -126.0f;  /* zmin = ln 2^-126 rounded up */
#else
    const AG_T log2e = 0x1.71547652b82fep+0, ln2hi = 0x1.62e42feep-1, ln2lo = 0x1.a39ef35793c76p-33;
    const AG_T zmin = -0x1.6232bdd7abcd2p+9, nmin = -1022.0;  /* zmin = ln 2^-1022 rounded up */
#endif
    vec n = v_round(v_mul(z, v_set1(log2e)));
    vec r = v_fnma(n, v_set1(ln2lo), v_fnma(n, v_set1(ln2hi), z));
    vec p = v_fma(r, AG_FN(ag_exp_poly3_)(r), AG_C(0.5));
    vec e = v_add(AG_C(1), v_fma(v_mul(r, r), p, r));
    e = v_mul(e, v_pow2i(v_max(n, v_set1(nmin))));  /* no-op, but a NaN n must not reach pow2i */
    *tiny = v_lt(z, v_set1(zmin));
    return e;
}

/* e, from ag_exp_le0_common_(z, &tiny), with the tiny lanes replaced: ag_exp_le0(z). */
AG_INLINE vec AG_FN(ag_exp_le0_fix_)(vec z, vmask tiny, vec e)
{
    return v_select(tiny, AG_FN(ag_exp)(z), e);
}

AG_INLINE vec AG_FN(ag_exp_le0)(vec z)
{
    /* only the lanes below zmin take ag_exp: a lane's bits never depend on its neighbours,
     * so every ISA (lane count) and layout gives the same result */
    vmask tiny;
    vec e = AG_FN(ag_exp_le0_common_)(z, &tiny);
    return v_any(tiny) ? AG_FN(ag_exp_le0_fix_)(z, tiny, e) : e;
}
