/* Softmax-family kernels for the current AG_T / AG_SFX, written once on the SIMD
 * shim and included twice by csrc/isa/kernels_table.h.  Contracts: ag_kernels.h
 * (ag_softmax_kernels); math and passes: docs/softmax.md.
 *
 * Fixed reduction order.  A row reduction keeps AG_SM_W = 64 / sizeof(T) partial
 * results ("slots", one cache line of elements): element i goes to slot i mod AG_SM_W,
 * each slot accumulates in element order, and the slots are combined in slot order
 * by scalar code.  AG_SM_W is a multiple of every ISA's lane count (16 float lanes
 * on AVX-512 is the widest), so slot s is always lane s mod VLANES of vector
 * s / VLANES of a block: the scalar, AVX2 and AVX-512 paths do the same operations
 * on the same values in the same order, and return the same bits.  Column kernels
 * (a non-last axis) reduce each column in its own lane, which no ISA reorders either.
 *
 * Accuracy (tests/test_softmax.py measures it against mpmath):
 *  - x - m is formed exactly as d + lo (2Sum) and e^(d + lo) by ag_exp_hilo, so
 *    exp(x - m) is within 0.65 ULP even at x - m = -80 (rounding x - m first would
 *    cost up to |x - m|/2 ULP there);
 *  - sums are compensated: each slot carries its rounding errors in a second
 *    accumulator, so S = S_hi + S_lo is good to ~1 ULP of S_hi for any n, and
 *    log S = log1p((S_hi - 1) + S_lo) stays accurate when S = 1 + tiny (log_softmax
 *    of a dominant logit, logsumexp);
 *  - dot products add a*b split exactly by an FMA (TwoProduct) into the same sums.
 */
/* Uses (ops/all.h, included before it by isa/dtype_passes.h): vmath/exp.h, vmath/log1p.h. */

#ifndef AG_SM_W
#define AG_SM_W ((ptrdiff_t)(64 / sizeof(AG_T)))   /* slots of a row reduction */
#define AG_SM_NV (AG_SM_W / VLANES)                 /* vectors per block of slots */
#endif

static const AG_T AG_FN(sm_iota_)[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };

/* The first c lanes. */
static inline vmask AG_FN(sm_first_)(ptrdiff_t c)
{
    return v_lt(v_load(AG_FN(sm_iota_)), v_set1((AG_T)c));
}

static inline AG_T AG_FN(sm_lane0_)(vec v)
{
    AG_T t[VLANES];
    v_store(t, v);
    return t[0];
}

/* A vector of c <= VLANES elements (the other lanes 0), and its store. */
static inline vec AG_FN(sm_ld_)(const AG_T *p, ptrdiff_t c)
{
    return c == VLANES ? v_load(p) : v_load_tail(p, c);
}

static inline void AG_FN(sm_st_)(AG_T *p, ptrdiff_t c, vec v)
{
    if (c == VLANES) v_store(p, v);
    else v_store_tail(p, c, v);
}

/* x - m = d + *lo exactly (Knuth's 2Sum of x and -m). */
static inline vec AG_FN(sm_diff_)(vec x, vec m, vec *lo)
{
    vec d = v_sub(x, m);
    vec bv = v_sub(d, x);                                  /* the part of -m that is in d */
    *lo = v_sub(v_sub(x, v_sub(d, bv)), v_add(m, bv));     /* (x - (d - bv)) + (-m - bv) */
    return d;
}

/* e^(x - m) from the exact difference; x = -inf or m = NaN give 0 or NaN as they should
 * (a NaN lo from an infinite d is harmless to ag_exp_hilo). */
static inline vec AG_FN(sm_expdiff_)(vec x, vec m)
{
    vec lo, d = AG_FN(sm_diff_)(x, m, &lo);
    return AG_FN(ag_exp_hilo)(d, lo);
}

/* (hi, lo) += v + vlo: the rounding error of hi + v (exact by 2Sum) and vlo go to lo. */
static inline void AG_FN(sm_add_)(vec *hi, vec *lo, vec v, vec vlo)
{
    vec s = v_add(*hi, v), bv = v_sub(s, *hi);
    *lo = v_add(*lo, v_add(v_add(v_sub(*hi, v_sub(s, bv)), v_sub(v, bv)), vlo));
    *hi = s;
}

/* (hi, lo) += v for exp sums: the slots start at hi = 1 and v = e^(x - m) is in [0, 1],
 * so hi >= v always and Fast2Sum gives the rounding error exactly in 2 operations
 * instead of 2Sum's 5.  The offset comes off exactly at the end: hi - 1 is exact
 * for hi in [1, 2] (Sterbenz) and for larger hi (1 is a multiple of ulp(hi)). */
static inline void AG_FN(sm_add_exp_)(vec *hi, vec *lo, vec v)
{
    vec s = v_add(*hi, v);
    *lo = v_add(*lo, v_sub(v, v_sub(s, *hi)));
    *hi = s;
}

/* Scalar 2Sum accumulation: (*s, *e) += a + b with b the low part of a. */
static inline void AG_FN(sm_acc1_)(AG_T *s, AG_T *e, AG_T a, AG_T b)
{
    AG_T t = *s + a, bv = t - *s;
    *e += ((*s - (t - bv)) + (a - bv)) + b;
    *s = t;
}

/* Stores s + e renormalised into out[0..1] by 2Sum (lo = 0 where s + e is not finite). */
static inline void AG_FN(sm_put_dw_)(AG_T s, AG_T e, double *out)
{
    AG_T t = s + e, bv = t - s;
    out[0] = t;
    out[1] = isfinite(t) ? (s - (t - bv)) + (e - bv) : 0;
}

/* Folds the slot sums (hi, lo) of slots [0, used) in slot order into out[0..1]. */
static void AG_FN(sm_fold_sum_)(const vec *hi, const vec *lo, ptrdiff_t used, double *out)
{
    AG_T h[AG_SM_W], l[AG_SM_W], s = 0, e = 0;
    for (int j = 0; j < AG_SM_NV; j++) {
        v_store(h + j * VLANES, hi[j]);
        v_store(l + j * VLANES, lo[j]);
    }
    for (ptrdiff_t k = 0; k < used && k < AG_SM_W; k++)   /* unused slots hold +0 */
        AG_FN(sm_acc1_)(&s, &e, h[k], l[k]);
    AG_FN(sm_put_dw_)(s, e, out);
}

/* max of x[0..n) by slots; NaN if any element is NaN (tracked apart: v_max drops it).  The
 * maximum does not depend on the order, so the main loop keeps four blocks of slots (four
 * independent max chains: one chain waits on v_max's latency for every vector) and
 * folds them into the first before the tail. */
static AG_T AG_FN(sm_max_)(ptrdiff_t n, const AG_T *x)
{
    const vec ninf = AG_C(-INFINITY);
    vec m[AG_SM_NV], m1[AG_SM_NV], m2[AG_SM_NV], m3[AG_SM_NV];
    vmask nan[AG_SM_NV];
    for (int j = 0; j < AG_SM_NV; j++) {
        m[j] = m1[j] = m2[j] = m3[j] = ninf;
        nan[j] = v_isnan(ninf);
    }
    ptrdiff_t i = 0;
    for (; i + 4 * AG_SM_W <= n; i += 4 * AG_SM_W)
        for (int j = 0; j < AG_SM_NV; j++) {
            const AG_T *p = x + i + j * VLANES;
            vec v0 = v_load(p), v1 = v_load(p + AG_SM_W), v2 = v_load(p + 2 * AG_SM_W),
                v3 = v_load(p + 3 * AG_SM_W);
            nan[j] = v_mor(nan[j], v_mor(v_mor(v_isnan(v0), v_isnan(v1)), v_mor(v_isnan(v2), v_isnan(v3))));
            m[j] = v_max(m[j], v0);
            m1[j] = v_max(m1[j], v1);
            m2[j] = v_max(m2[j], v2);
            m3[j] = v_max(m3[j], v3);
        }
    for (int j = 0; j < AG_SM_NV; j++)   /* a NaN they may hold is flagged in nan */
        m[j] = v_max(v_max(m[j], m1[j]), v_max(m2[j], m3[j]));
    for (; i + AG_SM_W <= n; i += AG_SM_W)
        for (int j = 0; j < AG_SM_NV; j++) {
            vec v = v_load(x + i + j * VLANES);
            nan[j] = v_mor(nan[j], v_isnan(v));
            m[j] = v_max(m[j], v);
        }
    for (int j = 0; j < AG_SM_NV && i + j * VLANES < n; j++) {
        ptrdiff_t c = n - i - j * VLANES;
        if (c > VLANES) c = VLANES;
        vec v = v_select(AG_FN(sm_first_)(c), v_load_tail(x + i + j * VLANES, c), ninf);
        nan[j] = v_mor(nan[j], v_isnan(v));
        m[j] = v_max(m[j], v);
    }
    AG_T t[AG_SM_W];
    int any = 0;
    for (int j = 0; j < AG_SM_NV; j++) {
        v_store(t + j * VLANES, m[j]);
        any |= v_any(nan[j]);
    }
    if (any) return NAN;
    /* the first slot of the largest value (as a scan from slot 0 would pick: it matters for
     * +-0), by a tree of adjacent ranges, each keeping its left half's value on a tie: 4
     * dependent compares instead of 15 (a short row's cost) */
    for (int w = 1; w < AG_SM_W; w *= 2)
        for (int k = 0; k + w < AG_SM_W; k += 2 * w)
            if (t[k + w] > t[k]) t[k] = t[k + w];
    return t[0];
}

/* out[0..1] = sum a*b (b != NULL) or sum a over [0, n) by slots; zero tail lanes add +0. */
static inline void AG_FN(sm_dot_)(ptrdiff_t n, const AG_T *a, const AG_T *b, double *out)
{
    vec hi[AG_SM_NV], lo[AG_SM_NV];
    for (int j = 0; j < AG_SM_NV; j++) hi[j] = lo[j] = AG_C(0);
    for (ptrdiff_t i = 0; i < n; i += AG_SM_W)
        for (int j = 0; j < AG_SM_NV && i + j * VLANES < n; j++) {
            ptrdiff_t c = n - i - j * VLANES;
            if (c > VLANES) c = VLANES;
            vec va = AG_FN(sm_ld_)(a + i + j * VLANES, c), pl = AG_C(0);
            if (b) {
                vec vb = AG_FN(sm_ld_)(b + i + j * VLANES, c), p = v_mul(va, vb);
                pl = v_fms(va, vb, p);                      /* a*b = p + pl exactly */
                va = p;
            }
            AG_FN(sm_add_)(&hi[j], &lo[j], va, pl);
        }
    AG_FN(sm_fold_sum_)(hi, lo, n, out);
}

static void AG_FN(k_sm_dot)(ptrdiff_t n, const void *pa, const void *pb, double st[3])
{
    st[0] = 0;
    if (pb) AG_FN(sm_dot_)(n, (const AG_T *)pa, (const AG_T *)pb, st + 1);
    else AG_FN(sm_dot_)(n, (const AG_T *)pa, NULL, st + 1);
}

#if !AG_IS_F32   /* float32 forward kernels are computed in double (softmax_fwd.h) */
/* Two-level reduction: pieces with maxima m_c and sums S_c make
 *   M = max m_c,  S = sum_c S_c e^(m_c - M)
 * (e^(x - M) = e^(x - m_c) e^(m_c - M)).  e^(m_c - M) comes as a double-word from
 * ag_exp_dw of the exact difference and the product S_c e^(m_c - M) is formed with
 * an FMA, so S is as accurate as a one-piece sum.  Pieces are added in order. */
static void AG_FN(k_sm_combine)(ptrdiff_t k, const double *parts, double st[3])
{
    AG_T M = -INFINITY;
    int nan = 0;
    for (ptrdiff_t c = 0; c < k; c++) {
        AG_T m = (AG_T)parts[3 * c];
        if (isnan(m)) nan = 1;
        else if (m > M) M = m;
    }
    if (nan || !isfinite(M)) {   /* the one-piece results: S = NaN (all -inf, +inf or NaN rows) */
        st[0] = nan ? NAN : M;
        st[1] = NAN;
        st[2] = 0;
        return;
    }
    const vec vM = v_set1(M);
    AG_T s = 0, e = 0;
    for (ptrdiff_t c = 0; c < k; c++) {
        if (parts[3 * c] == -INFINITY) continue;   /* an all -inf piece adds 0 (its S is NaN) */
        vec dlo, d = AG_FN(sm_diff_)(v_set1((AG_T)parts[3 * c]), vM, &dlo), el;
        vec eh = AG_FN(ag_exp_dw)(d, dlo, AG_C(0), &el);
        vec sh = v_set1((AG_T)parts[3 * c + 1]), sl = v_set1((AG_T)parts[3 * c + 2]);
        vec ph = v_mul(sh, eh);
        vec pl = v_add(v_fms(sh, eh, ph), v_fma(sh, el, v_mul(sl, eh)));
        pl = v_select(v_lt(v_abs(ph), AG_C(INFINITY)), pl, AG_C(0));   /* an overflowed sum stays inf */
        AG_FN(sm_acc1_)(&s, &e, AG_FN(sm_lane0_)(ph), AG_FN(sm_lane0_)(pl));
    }
    st[0] = M;
    AG_FN(sm_put_dw_)(s, e, st + 1);
}

#endif

/* 1/S for S = hi + lo: 1/hi refined by one Newton step whose residual 1 - S r is
 * formed by FMAs, so the result is within ~0.5 ULP of 1/S. */
static inline vec AG_FN(sm_recip_)(vec hi, vec lo)
{
    vec r = v_div(AG_C(1), hi);
    vec res = v_fnma(lo, r, v_fnma(hi, r, AG_C(1)));
    return v_fma(r, res, r);
}

/* log S = log1p((hi - 1) + lo); S >= 1 (the max contributes e^0), hi - 1 is exact for hi <= 2. */
static inline vec AG_FN(sm_log_)(vec hi, vec lo)
{
    return AG_FN(ag_log1p)(v_add(v_sub(hi, AG_C(1)), lo));
}

/* m + log S; m itself where m = +-inf (a row holding +inf, an all -inf or empty row). */
static inline vec AG_FN(sm_lse_)(vec m, vec hi, vec lo)
{
    vec r = v_add(m, AG_FN(sm_log_)(hi, lo));
    return v_select(v_eq(v_abs(m), AG_C(INFINITY)), m, r);
}

/* e^(m0 - m) / S for S = hi + lo: the factor that turns e^(x - m0) into softmax(x)
 * (1/S for m0 = m).  e^(m0 - m) comes as a double-word, so the factor is rounded once. */
static inline vec AG_FN(sm_factor_)(vec m0, vec m, vec hi, vec lo)
{
    vec dlo, d = AG_FN(sm_diff_)(m0, m, &dlo), el;
    vec eh = AG_FN(ag_exp_dw)(d, dlo, AG_C(0), &el), r = AG_FN(sm_recip_)(hi, lo);
    return v_fma(eh, r, v_mul(el, r));
}

/* The per-row constants of sm_map_ from (m, S_hi, S_lo) (and m0 for AG_SOFTMAX_SCALE). */
static inline void AG_FN(sm_consts_)(int op, vec m, vec hi, vec lo, vec m0, vec *c0, vec *c1)
{
    switch (op) {
    case AG_SOFTMAX_SCALE: *c0 = *c1 = AG_FN(sm_factor_)(m0, m, hi, lo); break;
    case AG_SOFTMAX: *c0 = m; *c1 = AG_FN(sm_recip_)(hi, lo); break;
    case AG_LOG_SOFTMAX: *c0 = m; *c1 = AG_FN(sm_log_)(hi, lo); break;
    default: *c0 = hi; *c1 = lo; break;                  /* the backward sums */
    }
}

/* One output vector of an elementwise op (a, b as in ag_softmax_kernels.apply). */
static inline vec AG_FN(sm_map_)(int op, vec a, vec b, vec c0, vec c1)
{
    switch (op) {
    case AG_SOFTMAX_SCALE: return v_mul(a, c0);                 /* e^(x-m0) e^(m0-m) / S */
    case AG_SOFTMAX: return v_mul(AG_FN(sm_expdiff_)(a, c0), c1);              /* e^(x-m) / S */
    case AG_LOG_SOFTMAX: return v_sub(v_sub(a, c0), c1);  /* (x - m) - log S: both <= 0, no cancellation */
    case AG_SOFTMAX_BACKWARD: return v_mul(b, v_sub(v_sub(a, c0), c1));        /* y (dy - S) */
    default: {                                                                 /* dy - e^y S */
        vec e = AG_FN(ag_exp)(b);
        return v_fnma(e, c1, v_fnma(e, c0, a));
    }
    }
}

/* Called with a constant op, so each case compiles to its own loop.  The backward ops
 * prefetch the memory after their rows (the next rows where rows are contiguous; the address
 * is formed as an integer and a prefetch never faults), whose dot sweep comes next: the
 * hardware prefetchers stop at each 4 KiB page (16000 x 1000 on Intel, 1 / 2 threads:
 * float32 13.5 / 5.0 -> 9.6 / 5.0 ms, float64 27.4 / 13.7 -> 23.7 / 11.5 ms). */
static inline void AG_FN(sm_apply_)(int op, ptrdiff_t n, const AG_T *a, const AG_T *b,
                                    vec c0, vec c1, AG_T *o)
{
    ptrdiff_t i = 0;
    const int bwd = op == AG_SOFTMAX_BACKWARD || op == AG_LOG_SOFTMAX_BACKWARD;
    for (; i + VLANES <= n; i += VLANES) {
        if (bwd) {
            __builtin_prefetch((const void *)((uintptr_t)(a + i) + (uintptr_t)n * sizeof *a));
            __builtin_prefetch((const void *)((uintptr_t)(b + i) + (uintptr_t)n * sizeof *b));
        }
        v_store(o + i, AG_FN(sm_map_)(op, v_load(a + i), v_load(b + i), c0, c1));
    }
    if (i < n)
        v_store_tail(o + i, n - i, AG_FN(sm_map_)(op, v_load_tail(a + i, n - i),
                                                  v_load_tail(b + i, n - i), c0, c1));
}

/* The double-word sum st[1] + st[2] as AG_T hi + lo.  A one-piece float32 sum is a pair of
 * floats already (sm_put_dw_ in float) and passes unchanged; the pieces' combined sum
 * (k_sm_combine, in double) is not: hi = round(st[1]) and lo = round((st[1] - hi) + st[2])
 * (st[1] - hi is exact) keep it to ~2^-48 relative, where rounding st[1] and st[2] apart
 * would lose the bits of st[1] below float's precision (3000 ULP in y (dy - S) for a
 * long row with cancellation).  A hi beyond float's range keeps lo = 0. */
static inline void AG_FN(sm_get_dw_)(const double st[3], AG_T *hi, AG_T *lo)
{
    *hi = (AG_T)st[1];
    double rest = st[1] - (double)*hi;
    *lo = rest == 0 ? (AG_T)st[2] : isfinite(*hi) ? (AG_T)(rest + st[2]) : 0;
}

static void AG_FN(k_sm_apply)(int op, ptrdiff_t n, const void *pa, const void *pb,
                              const double st[3], double m0, void *po)
{
    const AG_T *a = (const AG_T *)pa, *b = pb ? (const AG_T *)pb : a;
    AG_T *o = (AG_T *)po;
    AG_T hi, lo;
    AG_FN(sm_get_dw_)(st, &hi, &lo);
    vec c0, c1;
    if (op == AG_SOFTMAX_SCALE && m0 == st[0])   /* e^0 = 1: sm_factor_ would give 1/S bit for bit */
        c0 = c1 = AG_FN(sm_recip_)(v_set1(hi), v_set1(lo));
    else
        AG_FN(sm_consts_)(op, v_set1((AG_T)st[0]), v_set1(hi), v_set1(lo), v_set1((AG_T)m0), &c0, &c1);
    switch (op) {
    case AG_SOFTMAX_SCALE: AG_FN(sm_apply_)(AG_SOFTMAX_SCALE, n, a, b, c0, c1, o); break;
    case AG_SOFTMAX: AG_FN(sm_apply_)(AG_SOFTMAX, n, a, b, c0, c1, o); break;
    case AG_LOG_SOFTMAX: AG_FN(sm_apply_)(AG_LOG_SOFTMAX, n, a, b, c0, c1, o); break;
    case AG_SOFTMAX_BACKWARD: AG_FN(sm_apply_)(AG_SOFTMAX_BACKWARD, n, a, b, c0, c1, o); break;
    case AG_LOG_SOFTMAX_BACKWARD: AG_FN(sm_apply_)(AG_LOG_SOFTMAX_BACKWARD, n, a, b, c0, c1, o); break;
    default: break;
    }
}

#if !AG_IS_F32
static double AG_FN(k_sm_lse)(const double st[3])
{
    return AG_FN(sm_lane0_)(AG_FN(sm_lse_)(v_set1((AG_T)st[0]), v_set1((AG_T)st[1]),
                                           v_set1((AG_T)st[2])));
}

#endif

/* The column twin of sm_fold_sum_: slot s of each lane at hi[s*stride], lo[s*stride] (hi
 * offset by off: 1 for the exp sums, 0 for the dots), folded over s < min(used, AG_SM_W)
 * with sm_acc1_'s and sm_put_dw_'s operations; then S = NaN where m is not finite (as
 * k_smw_stats does; the dots pass m = 0). */
static inline void AG_FN(sm_fold_vec_)(const AG_T *hi, const AG_T *lo, ptrdiff_t stride,
                                       ptrdiff_t used, AG_T off, vec m, vec *sh, vec *sl)
{
    vec s = AG_C(0), e = AG_C(0);
    for (ptrdiff_t k = 0; k < used && k < AG_SM_W; k++) {
        vec a = v_sub(v_load(hi + k * stride), v_set1(off)), b = v_load(lo + k * stride);
        vec t = v_add(s, a), bv = v_sub(t, s);
        e = v_add(e, v_add(v_add(v_sub(s, v_sub(t, bv)), v_sub(a, bv)), b));
        s = t;
    }
    vec t = v_add(s, e), bv = v_sub(t, s);
    vmask finite = v_lt(v_abs(t), AG_C(INFINITY));
    vec lo_ = v_add(v_sub(s, v_sub(t, bv)), v_sub(e, bv));
    vmask ok = v_lt(v_abs(m), AG_C(INFINITY));
    *sh = v_select(ok, t, AG_C(NAN));
    *sl = v_select(v_mand(ok, finite), lo_, AG_C(0));
}

/* ---- columns ----
 * A block of up to AG_SM_COLS columns (128) is swept row by row: each
 * sweep reads whole pages in memory order, which the prefetchers follow and the TLB
 * covers (walking one cache line per row down a large stride would cost a TLB miss per
 * line), and the per-column state lives in small arrays in L1.  Column c is lane
 * c mod VLANES of its vector and is reduced over k in order, so no ISA reorders it. */

#ifndef AG_SM_COLS
#define AG_SM_COLS ((ptrdiff_t)128)   /* 2 x 16 KiB of slot sums */
#endif

/* Lanes of the vector at column c of ncols. */
static inline ptrdiff_t AG_FN(sm_cnt_)(ptrdiff_t ncols, ptrdiff_t c)
{
    return ncols - c < VLANES ? ncols - c : VLANES;
}

/* The dot (or sum) per column in AG_SM_W slots (row k into slot k mod AG_SM_W, as
 * sm_dot_ puts element k of a row), folded as sm_fold_sum_ does; then the output; over
 * ncols <= AG_SM_COLS columns. */
static inline void AG_FN(sm_col_bwd_)(int op, ptrdiff_t n, ptrdiff_t ncols, const AG_T *a,
                                      ptrdiff_t sa, const AG_T *b, ptrdiff_t sb, AG_T *o,
                                      ptrdiff_t so)
{
    _Alignas(64) AG_T shi[AG_SM_W * AG_SM_COLS], slo[AG_SM_W * AG_SM_COLS];
    for (ptrdiff_t s = 0; s < AG_SM_W; s++)
        for (ptrdiff_t c = 0; c < ncols; c += VLANES) {
            v_store(shi + s * AG_SM_COLS + c, AG_C(0));
            v_store(slo + s * AG_SM_COLS + c, AG_C(0));
        }
    for (ptrdiff_t k = 0; k < n; k++) {
        AG_T *h = shi + (k % AG_SM_W) * AG_SM_COLS, *l = slo + (k % AG_SM_W) * AG_SM_COLS;
        for (ptrdiff_t c = 0; c < ncols; c += VLANES) {
            ptrdiff_t cnt = AG_FN(sm_cnt_)(ncols, c);
            vec va = AG_FN(sm_ld_)(a + k * sa + c, cnt), pl = AG_C(0);
            if (op == AG_SOFTMAX_BACKWARD) {
                vec vb = AG_FN(sm_ld_)(b + k * sb + c, cnt), p = v_mul(va, vb);
                pl = v_fms(va, vb, p);                      /* a*b = p + pl exactly */
                va = p;
            }
            vec hi = v_load(h + c), lo = v_load(l + c);
            AG_FN(sm_add_)(&hi, &lo, va, pl);
            v_store(h + c, hi);
            v_store(l + c, lo);
        }
    }
    for (ptrdiff_t c = 0; c < ncols; c += VLANES) {       /* the sums replace slot 0 */
        vec hi, lo;
        AG_FN(sm_fold_vec_)(shi + c, slo + c, AG_SM_COLS, n, 0, AG_C(0), &hi, &lo);
        v_store(shi + c, hi);
        v_store(slo + c, lo);
    }
    for (ptrdiff_t k = 0; k < n; k++)
        for (ptrdiff_t c = 0; c < ncols; c += VLANES) {
            ptrdiff_t cnt = AG_FN(sm_cnt_)(ncols, c);
            vec va = AG_FN(sm_ld_)(a + k * sa + c, cnt), vb = AG_FN(sm_ld_)(b + k * sb + c, cnt);
            AG_FN(sm_st_)(o + k * so + c, cnt, AG_FN(sm_map_)(op, va, vb, v_load(shi + c), v_load(slo + c)));
        }
}

static void AG_FN(k_sm_col_backward)(int op, ptrdiff_t n, ptrdiff_t ncols, const void *pa,
                                     ptrdiff_t sa, const void *pb, ptrdiff_t sb, void *po,
                                     ptrdiff_t so)
{
    const AG_T *a = (const AG_T *)pa, *b = (const AG_T *)pb;
    AG_T *o = (AG_T *)po;
    for (ptrdiff_t c = 0; c < ncols; c += AG_SM_COLS) {
        ptrdiff_t w = ncols - c < AG_SM_COLS ? ncols - c : AG_SM_COLS;
        if (op == AG_SOFTMAX_BACKWARD)
            AG_FN(sm_col_bwd_)(AG_SOFTMAX_BACKWARD, n, w, a + c, sa, b + c, sb, o + c, so);
        else
            AG_FN(sm_col_bwd_)(AG_LOG_SOFTMAX_BACKWARD, n, w, a + c, sa, b + c, sb, o + c, so);
    }
}

#if !AG_IS_F32
/* ---- forward kernels computed in double, for float32 and float64 (softmax_fwd.h) ---- */

#define AG_SMW_COLS ((ptrdiff_t)128)   /* columns of a block of the forward column kernels */

#define SMW_IO float
#define SMW_S w32
#define SMW_WIDE 1
#include "softmax_fwd.h"
#undef SMW_IO
#undef SMW_S
#undef SMW_WIDE
#define SMW_IO double
#define SMW_S w64
#define SMW_WIDE 0
#include "softmax_fwd.h"
#undef SMW_IO
#undef SMW_S
#undef SMW_WIDE

/* The table rows (isa/kernels_table.h): float32 forward computed in double, backward in float. */
#define AG_SM_KERNELS_F32 { k_smw_stats_w32, k_sm_dot_f32, k_sm_combine_f64, k_smw_apply_w32, \
                            k_sm_lse_f64, k_smw_col_forward_w32, k_sm_col_backward_f32 }
#define AG_SM_KERNELS_F64 { k_smw_stats_w64, k_sm_dot_f64, k_sm_combine_f64, k_smw_apply_w64, \
                            k_sm_lse_f64, k_smw_col_forward_w64, k_sm_col_backward_f64 }
#endif
