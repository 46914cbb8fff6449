/* Forward softmax kernels (softmax, log_softmax, logsumexp) computed in double, for one
 * memory type SMW_IO (float or double): included twice by softmax_body.h in its double
 * pass (AG_T double), with SMW_IO float / SMW_S w32 / SMW_WIDE 1, then double / w64 / 0.
 *
 * float32 is widened to double on load, e = exp(x - m) is evaluated in double by
 * ag_d32_exp_le0_coarse (vmath/exp_d32.h: the exp core of the float32 activations with a
 * polynomial sized for a float32 result, relative error < 2^-28), the sums
 * are double, and each output is rounded to float once from double values:
 *   softmax      round(round(e) * (1/S))  (e is stored as float between the sweeps, and the
 *                                        product is formed in float lanes by smw_scale_:
 *                                        <= 1.05 ULP, 1.5 near underflow)
 *   log_softmax  round((x - m) - log S)   (<= 0.51 ULP)
 *   logsumexp    round(m + log S)         (<= 0.51 ULP)
 * float64 uses the double-word difference and ag_exp_hilo (<= 0.65 ULP) as before.
 *
 * One summation order for rows and columns.  A row's exp sum uses AG_SM_W = 8 slots (slot
 * s holds the elements k = s mod 8, each starting at 1 and accumulated in k order: by
 * Fast2Sum, except float32 softmax's, plain: SMW_ADD); the slots s < min(n, 8) are folded
 * in slot order (sm_fold_sum_).  The column kernel keeps the same 8 slots per column (row
 * k of the block goes to slot k mod 8) and folds them with the same operations lane by
 * lane (sm_fold_vec_), so a row and a column holding the same values give the same bits,
 * on every ISA (8 is a multiple of every ISA's double lane count).  Maxima do not depend
 * on order.  Rows cut into pieces (longer than 128 KiB, csrc/softmax.c) combine the
 * pieces' sums and are not bit-identical to a column of the same length. */

#define SMW_NAME(name) AG_CAT3(name, _, SMW_S)
#define SMW_UNR (AG_SM_NV >= 2 ? 2 * AG_SM_NV : 4 * AG_SM_NV)
#if SMW_WIDE
#define SMW_LD(p) ag_f64_load_f32(p)
#define SMW_LDT(p, c) ag_f64_load_f32_tail(p, c)
#define SMW_ST(p, v) ag_f64_store_f32(p, v)
#define SMW_STT(p, c, v) ag_f64_store_f32_tail(p, c, v)
#define SMW_EXPD(x, m) ag_d32_exp_le0_coarse(v_sub(x, m))
/* softmax's e (plain = 1): ag_d32_exp_le0_coarse_sat, whose e^-708 for +0 changes no
 * output (vmath/exp_d32.h) */
#define SMW_EXPD_P(plain, x, m) ((plain) ? ag_d32_exp_le0_coarse_sat(v_sub(x, m)) : SMW_EXPD(x, m))
/* softmax's exp sum in float32 adds plainly (SMW_ADD with plain = 1): each e is within
 * 2^-28 of e^(x - m), so S needs no compensation.  A slot of k terms in [0, 1] (starting
 * at 1, lo staying 0) makes an absolute error < k 2^-53 (1 + S) <= k 2^-52 S, as S >= 1
 * (e^0 = 1 somewhere in the row): below the terms' own 2^-28 up to k = 2^24; a row's slot
 * holds n/8 <= 2^12 terms (one piece of 128 KiB), a column's n/8.  log_softmax and
 * logsumexp keep Fast2Sum: their log S = log1p(S - 1) needs S - 1 to a few 2^-28 relative
 * where it is tiny (a row whose other terms are all below 2^-20, say), which a plain sum
 * from 1 rounds away.  The sweep took 1.16 ns per element compensated, 0.93 plain, 0.80
 * with the _sat exp (Zen 2, in cache). */
#define SMW_ADD(plain, h, l, v) \
    ((plain) ? (void)(*(h) = v_add(*(h), (v))) : AG_FN(sm_add_exp_)(h, l, v))
#else
#define SMW_LD(p) v_load(p)
#define SMW_LDT(p, c) v_load_tail(p, c)
#define SMW_ST(p, v) v_store(p, v)
#define SMW_STT(p, c, v) v_store_tail(p, c, v)
#define SMW_EXPD(x, m) AG_FN(sm_expdiff_)(x, m)
#define SMW_EXPD_P(plain, x, m) SMW_EXPD(x, m)
#define SMW_ADD(plain, h, l, v) AG_FN(sm_add_exp_)(h, l, v)
#endif

static inline vec SMW_NAME(smw_ld_)(const SMW_IO *p, ptrdiff_t c)
{
    return c == VLANES ? SMW_LD(p) : SMW_LDT(p, c);
}

static inline void SMW_NAME(smw_st_)(SMW_IO *p, ptrdiff_t c, vec v)
{
    if (c == VLANES) SMW_ST(p, v);
    else SMW_STT(p, c, v);
}

#if SMW_WIDE
/* float32 softmax's last sweep, y = round(e c) for the float e stored by the exp sweep and a
 * double c (1/S, or e^(m0 - m)/S), in float lanes (twice the lanes of double, and no
 * conversions): c is split into two floats, chi = round(c) and clo = round(c - chi) (c - chi
 * is exact in double), so chi + clo = c (1 + d) with |d| <= 2^-48; then
 *   y = fma(e, chi, round(e clo)),
 * which rounds e chi + e clo (1 + d') once, |d'| <= 2^-24 and |e clo| <= 2^-24 |e c|: the
 * value rounded is e c (1 + d'') with |d''| < 2^-47, so y is within 0.5 ULP + 2^-23 ULP of
 * e c (the double product rounded to float, as before, was within 0.5 + 2^-29 ULP).  Where
 * e clo falls below float's normal range (y < ~2^-100) its rounding is absolute, at most
 * half a subnormal ULP of y: softmax stays within 1.5 ULP there (the test bound is 2).  The
 * row and the column kernels use these two functions, so they give the same bits; every ISA
 * does the same IEEE operations in each lane. */
static inline void smw_split_(double c, float *hi, float *lo)
{
    *hi = (float)c;
    *lo = (float)(c - (double)*hi);   /* NaN c gives NaN, NaN */
}

static inline ag_f32v smw_scale1_(ag_f32v e, ag_f32v chi, ag_f32v clo)
{
    return ag_f32_fma(e, chi, ag_f32_mul(e, clo));
}

/* y[0..n) = round(e[i] c) as above (y may be e). */
static void smw_scale_(ptrdiff_t n, const float *e, double c, float *y)
{
    float h, l;
    smw_split_(c, &h, &l);
    const ag_f32v chi = ag_f32_set1(h), clo = ag_f32_set1(l);
    ptrdiff_t i = 0;
    for (; i + AG_f32_LANES <= n; i += AG_f32_LANES)
        ag_f32_store(y + i, smw_scale1_(ag_f32_load(e + i), chi, clo));
    if (i < n) ag_f32_store_tail(y + i, n - i, smw_scale1_(ag_f32_load_tail(e + i, n - i), chi, clo));
}
#endif

/* out[0..1] = the slot sums of exp(x - m) over x[0..n); y[i] = e (rounded to SMW_IO) unless y
 * is NULL (a constant at each call: the sweep is compiled twice, without a test per vector).
 * The main loop evaluates SMW_UNR independent exps (at least 4 vectors: two blocks of slots,
 * or four where a block is one vector, AVX-512) before adding them to the slots in element
 * order: fewer left the exps' dependency chains exposed (softmax float32 1.50 -> 1.24
 * ns/element, float64 2.68 -> 2.21 in cache on Zen 2 with two blocks; on Intel AVX-512, four
 * vectors instead of two: the compensated sweep float32 0.636 -> 0.575, float64 1.186 ->
 * 0.963, log_softmax float64 at size -10%).  The sums, and so the bits, do not change. */
AG_INLINE void SMW_NAME(smw_sumexp_)(ptrdiff_t n, const SMW_IO *x, double m, SMW_IO *y, int plain,
                                      double *out)
{
    const vec vm = v_set1(m), zero = AG_C(0);
    vec hi[AG_SM_NV], lo[AG_SM_NV];
    for (int j = 0; j < AG_SM_NV; j++) {
        hi[j] = AG_C(1);                                  /* see sm_add_exp_ */
        lo[j] = zero;
    }
    ptrdiff_t i = 0;
    for (; i + SMW_UNR * VLANES <= n; i += SMW_UNR * VLANES) {
        /* the memory after the row (the next row where rows are contiguous) is brought in
         * while the exp keeps the core busy: its max sweep then reads it from cache (the
         * address is formed as an integer: it may lie past the array, and a prefetch never
         * faults); one prefetch per cache line of the iteration */
        for (size_t b = 0; b < SMW_UNR * VLANES * sizeof *x; b += 64)
            __builtin_prefetch((const void *)((uintptr_t)(x + i) + (uintptr_t)n * sizeof *x + b));
        vec v[SMW_UNR];
        for (int j = 0; j < SMW_UNR; j++)
            v[j] = SMW_EXPD_P(plain, SMW_LD(x + i + j * VLANES), vm);
        if (y)
            for (int j = 0; j < SMW_UNR; j++) SMW_ST(y + i + j * VLANES, v[j]);
        for (int j = 0; j < SMW_UNR; j++)
            SMW_ADD(plain, &hi[j % AG_SM_NV], &lo[j % AG_SM_NV], v[j]);
    }
    for (; i + AG_SM_W <= n; i += AG_SM_W)
        for (int j = 0; j < AG_SM_NV; j++) {
            vec v = SMW_EXPD_P(plain, SMW_LD(x + i + j * VLANES), vm);
            if (y) SMW_ST(y + i + j * VLANES, v);
            SMW_ADD(plain, &hi[j], &lo[j], v);
        }
    for (int j = 0; j < AG_SM_NV && i + j * VLANES < n; j++) {
        ptrdiff_t c = n - i - j * VLANES;
        if (c > VLANES) c = VLANES;
        vec v = SMW_EXPD_P(plain, SMW_LDT(x + i + j * VLANES, c), vm);
        if (y) SMW_STT(y + i + j * VLANES, c, v);
        SMW_ADD(plain, &hi[j], &lo[j], v_select(AG_FN(sm_first_)(c), v, zero));
    }
    for (int j = 0; j < AG_SM_NV; j++) hi[j] = v_sub(hi[j], AG_C(1));   /* exact */
    AG_FN(sm_fold_sum_)(hi, lo, n, out);
}

static void SMW_NAME(k_smw_stats)(int keep, ptrdiff_t n, const void *px, void *py, double st[3])
{
    const SMW_IO *x = (const SMW_IO *)px;
#if SMW_WIDE
    double m = sm_max__f32(n, x);
#else
    double m = AG_FN(sm_max_)(n, x);
#endif
    st[0] = m;
    if (keep == AG_SOFTMAX)   /* two copies of the sweep: no test of y per vector */
        SMW_NAME(smw_sumexp_)(n, x, m, (SMW_IO *)py, 1, st + 1);
    else
        SMW_NAME(smw_sumexp_)(n, x, m, NULL, 0, st + 1);
    if (!(fabs(m) < INFINITY)) st[1] = NAN, st[2] = 0;   /* sm_special_ */
}

/* Forward ops into out[0..n) given the row's st; the backward ops go to the T kernels. */
static void SMW_NAME(k_smw_apply)(int op, ptrdiff_t n, const void *pa, const void *pb,
                                  const double st[3], double m0, void *po)
{
    if (op == AG_SOFTMAX_BACKWARD || op == AG_LOG_SOFTMAX_BACKWARD) {
#if SMW_WIDE
        k_sm_apply_f32(op, n, pa, pb, st, m0, po);
#else
        AG_FN(k_sm_apply)(op, n, pa, pb, st, m0, po);
#endif
        return;
    }
    const SMW_IO *a = (const SMW_IO *)pa;
    SMW_IO *o = (SMW_IO *)po;
    const vec m = v_set1(st[0]), hi = v_set1(st[1]), lo = v_set1(st[2]);
    vec c0 = m, c1;
    if (op == AG_SOFTMAX_SCALE)
        c1 = m0 == st[0] ? AG_FN(sm_recip_)(hi, lo) : AG_FN(sm_factor_)(v_set1(m0), m, hi, lo);
    else if (op == AG_SOFTMAX)
        c1 = AG_FN(sm_recip_)(hi, lo);
    else
        c1 = AG_FN(sm_log_)(hi, lo);
#if SMW_WIDE
    if (op == AG_SOFTMAX_SCALE) {
        smw_scale_(n, a, AG_FN(sm_lane0_)(c1), o);
        return;
    }
#endif
    ptrdiff_t i = 0;
#define SMW_LOOP(expr)                                                            \
    for (; i + VLANES <= n; i += VLANES) { vec v = SMW_LD(a + i); SMW_ST(o + i, expr); } \
    if (i < n) { vec v = SMW_LDT(a + i, n - i); SMW_STT(o + i, n - i, expr); }
    switch (op) {
    case AG_SOFTMAX_SCALE: SMW_LOOP(v_mul(v, c1)) break;
    case AG_SOFTMAX: SMW_LOOP(v_mul(SMW_EXPD_P(1, v, c0), c1)) break;
    default: {   /* (x - m) - log S; x - m as fma(x, 1, -m), the same rounding on an FMA port
                  * (the sweep is bound by the add/convert ports: ~11% faster in L1) */
        const vec one = AG_C(1), nc0 = v_neg(c0);
        SMW_LOOP(v_sub(v_fma(v, one, nc0), c1))
    } break;
    }
#undef SMW_LOOP
}

/* ---- columns ----
 * A block of up to AG_SMW_COLS columns keeps its max and 8 slot sums per column in L1
 * (17 KiB); sweeps row by row: max; exp (stored for softmax) summed into slot k mod 8;
 * fold; output. */
static inline void SMW_NAME(smw_col_)(int op, ptrdiff_t n, ptrdiff_t ncols, const SMW_IO *x,
                                      ptrdiff_t sx, SMW_IO *y, ptrdiff_t sy)
{
    _Alignas(64) double sm[AG_SMW_COLS], shi[AG_SM_W * AG_SMW_COLS], slo[AG_SM_W * AG_SMW_COLS];
    for (ptrdiff_t c = 0; c < ncols; c += VLANES) {
        v_store(sm + c, AG_C(-INFINITY));
        for (int s = 0; s < AG_SM_W; s++) {
            v_store(shi + s * AG_SMW_COLS + c, AG_C(1));
            v_store(slo + s * AG_SMW_COLS + c, AG_C(0));
        }
    }
    for (ptrdiff_t k = 0; k < n; k++)
        for (ptrdiff_t c = 0; c < ncols; c += VLANES) {
            vec v = SMW_NAME(smw_ld_)(x + k * sx + c, AG_FN(sm_cnt_)(ncols, c));
            v_store(sm + c, v_select(v_isnan(v), v, v_max(v, v_load(sm + c))));
        }
    const int plain = SMW_WIDE && op == AG_SOFTMAX;   /* see SMW_ADD */
    for (ptrdiff_t k = 0; k < n; k++) {
        double *h = shi + (k % AG_SM_W) * AG_SMW_COLS, *l = slo + (k % AG_SM_W) * AG_SMW_COLS;
        for (ptrdiff_t c = 0; c < ncols; c += VLANES) {
            ptrdiff_t cnt = AG_FN(sm_cnt_)(ncols, c);
            vec v = SMW_EXPD_P(plain, SMW_NAME(smw_ld_)(x + k * sx + c, cnt), v_load(sm + c));
            if (op == AG_SOFTMAX) SMW_NAME(smw_st_)(y + k * sy + c, cnt, v);
            vec hv = v_load(h + c), lv = plain ? AG_C(0) : v_load(l + c);
            SMW_ADD(plain, &hv, &lv, v);
            v_store(h + c, hv);
            if (!plain) v_store(l + c, lv);
        }
    }
    for (ptrdiff_t c = 0; c < ncols; c += VLANES) {       /* the constants replace slot 0 */
        vec m = v_load(sm + c), hi, lo;
        AG_FN(sm_fold_vec_)(shi + c, slo + c, AG_SMW_COLS, n, 1, m, &hi, &lo);
        if (op == AG_LOGSUMEXP)
            SMW_NAME(smw_st_)(y + c, AG_FN(sm_cnt_)(ncols, c), AG_FN(sm_lse_)(m, hi, lo));
        else
            v_store(shi + c, op == AG_SOFTMAX ? AG_FN(sm_recip_)(hi, lo) : AG_FN(sm_log_)(hi, lo));
    }
    if (op == AG_LOGSUMEXP) return;
#if SMW_WIDE
    if (op == AG_SOFTMAX) {   /* smw_scale_'s operations per column */
        _Alignas(64) float chi[AG_SMW_COLS], clo[AG_SMW_COLS];
        for (ptrdiff_t c = 0; c < AG_SMW_COLS; c++)
            if (c < ncols) smw_split_(shi[c], chi + c, clo + c);
            else chi[c] = clo[c] = 0;
        for (ptrdiff_t k = 0; k < n; k++)
            for (ptrdiff_t c = 0; c < ncols; c += AG_f32_LANES) {
                ptrdiff_t cnt = ncols - c < AG_f32_LANES ? ncols - c : AG_f32_LANES;
                float *p = y + k * sy + c;
                ag_f32v e = cnt == AG_f32_LANES ? ag_f32_load(p) : ag_f32_load_tail(p, cnt);
                e = smw_scale1_(e, ag_f32_load(chi + c), ag_f32_load(clo + c));
                if (cnt == AG_f32_LANES) ag_f32_store(p, e);
                else ag_f32_store_tail(p, cnt, e);
            }
        return;
    }
#endif
    for (ptrdiff_t k = 0; k < n; k++)
        for (ptrdiff_t c = 0; c < ncols; c += VLANES) {
            ptrdiff_t cnt = AG_FN(sm_cnt_)(ncols, c);
            vec r;
            if (op == AG_SOFTMAX)
                r = v_mul(SMW_NAME(smw_ld_)(y + k * sy + c, cnt), v_load(shi + c));
            else
                r = v_sub(v_fma(SMW_NAME(smw_ld_)(x + k * sx + c, cnt), AG_C(1), v_neg(v_load(sm + c))),
                          v_load(shi + c));   /* as k_smw_apply */
            SMW_NAME(smw_st_)(y + k * sy + c, cnt, r);
        }
}

static void SMW_NAME(k_smw_col_forward)(int op, ptrdiff_t n, ptrdiff_t ncols, const void *px,
                                        ptrdiff_t sx, void *py, ptrdiff_t sy)
{
    const SMW_IO *x = (const SMW_IO *)px;
    SMW_IO *y = (SMW_IO *)py;             /* logsumexp: y is one row of ncols, y + c is right too */
    for (ptrdiff_t c = 0; c < ncols; c += AG_SMW_COLS) {
        ptrdiff_t w = ncols - c < AG_SMW_COLS ? ncols - c : AG_SMW_COLS;
        switch (op) {
        case AG_SOFTMAX: SMW_NAME(smw_col_)(AG_SOFTMAX, n, w, x + c, sx, y + c, sy); break;
        case AG_LOG_SOFTMAX: SMW_NAME(smw_col_)(AG_LOG_SOFTMAX, n, w, x + c, sx, y + c, sy); break;
        default: SMW_NAME(smw_col_)(AG_LOGSUMEXP, n, w, x + c, sx, y + c, sy); break;
        }
    }
}

#undef SMW_NAME
#undef SMW_UNR
#undef SMW_LD
#undef SMW_LDT
#undef SMW_ST
#undef SMW_STT
#undef SMW_EXPD
#undef SMW_EXPD_P
#undef SMW_ADD
