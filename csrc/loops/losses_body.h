/* Loss kernels for the current AG_T / AG_SFX (included twice by each
 * csrc/isa/kernels_<isa>.c, through isa/kernels_table.h).  The contracts are in
 * include/ag_kernels.h; docs/losses.md derives the formulas.
 *
 * Cross-entropy of one sample (classes c, logits x, m = max x, z = x - m):
 *   log_softmax(x)_c = z_c - log s,  s = sum_c e^z_c >= 1  (e^0 = 1 at the max),
 *   so loss = sum_c w_c q'_c (log s - z_c) = A log s - sum_c w_c q'_c z_c with
 *   both terms >= 0 for w, q' >= 0 (no cancellation, unlike A lse - sum w q' x);
 *   log s = log1p(s - 1) with s - 1 exact for s >= 1.
 *   Gradient: d log s / d x_c = e^z_c / s = softmax_c, hence
 *   d loss / d x_c = A softmax_c - w_c q'_c (times the upstream scale).
 * Pass 1 finds m, pass 2 computes e^z once (stored in g as scratch) and the
 * sums, pass 3 turns the stored e^z into the gradient: the logits are read from
 * memory once per sample (a row or tile stays in cache between the passes) and
 * the gradient written once; softmax is never a separate array.
 * For index targets q' = on [c == y] + off, so A = on w_y + off sum(w) and
 * sum w q' z = on w_y z_y + off sum_c w_c z_c (the second sum only when off != 0,
 * so that a -inf logit does not meet a zero target as 0 * -inf); the gradient
 * is A softmax_c - off w_c, then on w_y is subtracted at c = y.
 *
 * Elementwise losses (x logits/predictions, t targets):
 *   BCE with logits, lw = 1 + (pw - 1) t, e = e^-|x| in (0, 1]:
 *     loss = w ((1 - t) x + lw softplus(-x)), softplus(-x) = max(-x, 0) + log1p(e);
 *     d/dx = w (lw sigmoid(x) - pw t), sigmoid(x) = 1/(1 + e) (x >= 0), e/(1 + e) (x < 0),
 *     one division;
 *   MSE: loss = (x - t)^2, d/dx = 2 (x - t) (the 2 is in the driver's scale). */
/* Uses (ops/all.h, included before it by isa/dtype_passes.h): vmath/exp.h, vmath/exp_le0.h, vmath/log1p.h, vmath/erfc.h (ag_2sum_). */

/* 0, 1, 2, ...: lane indices for the mask of a vector's first r lanes. */
static const AG_T AG_FN(ls_iota_)[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };

static inline vmask AG_FN(ls_first_)(ptrdiff_t r)
{
    return v_lt(v_load(AG_FN(ls_iota_)), v_set1((AG_T)r));
}

/* The first min(r, VLANES) elements at p (others 0) / store them. */
static inline vec AG_FN(ls_ld_)(const AG_T *p, ptrdiff_t r)
{
    return r >= VLANES ? v_load(p) : v_load_tail(p, r);
}

static inline void AG_FN(ls_st_)(AG_T *p, ptrdiff_t r, vec a)
{
    if (r >= VLANES) v_store(p, a);
    else v_store_tail(p, r, a);
}

/* log of s >= 1 (log1p(s - 1), s - 1 exact): for log of a softmax denominator. */
static inline vec AG_FN(ls_log_sum_)(vec s)
{
    return AG_FN(ag_log1p)(v_sub(s, AG_C(1)));
}

/* ---- cross-entropy, vectors along a row (cs == 1) ----
 * The row sums are laid out the same on every ISA, so that each gives the same bits:
 * CE_VW lanes (those of the widest vector, AVX-512), class c in lane c % CE_VW, held in
 * CE_NV vectors of this ISA, then added in one fixed tree (ce_vsum_). */
#define CE_VW (64 / (int)sizeof(AG_T))
#define CE_NV (CE_VW / VLANES)

static inline AG_T AG_FN(ce_vsum_)(const vec *acc)
{
    _Alignas(64) AG_T t[CE_VW];
    for (int k = 0; k < CE_NV; k++) v_store(t + k * VLANES, acc[k]);
    for (int h = CE_VW / 2; h > 0; h /= 2)
        for (int l = 0; l < h; l++) t[l] += t[l + h];
    return t[0];
}

/* The exp sum s in blocks.  A plain sum of k terms in one lane loses up to k rounding
 * errors of its running total, and once the total is large every small e^z added to it
 * loses its low digits, all in the same direction: at C = 10^5 float32 classes (6250 terms
 * per lane) s was ~10^-5 low, 100 ULPs in every gradient element.  So each lane adds
 * plainly for CE_SB terms only; the block's partial sum then goes into (hi, lo) by 2Sum
 * (exact) and the partial restarts at 0.  The error is then that of CE_SB-term sums, for
 * any C, at one 2Sum per CE_SB vectors (16-term blocks measured the same accuracy, and
 * cost ~3% more on Zen 2).  A row too short to need a second block keeps the plain sum
 * and its bits: every C <= 64 in ce_cols, C < 1056 float32 / 528 float64 classes in
 * ce_rows. */
#define CE_SB 64

/* (*hi, *lo) += *part by 2Sum (vmath/erfc.h's ag_2sum_), then *part = 0. */
static inline void AG_FN(ce_flush1_)(vec *part, vec *hi, vec *lo)
{
    vec e;
    *hi = AG_FN(ag_2sum_)(*hi, *part, &e);
    *lo = v_add(*lo, e);
    *part = AG_C(0);
}

/* Pass 2 of ce_rows on classes [c, c + r), given z = x - m and e = e^z: e stored in g,
 * *s += e, and the target sums (*A, *lin; see the top of the file).  `masked` (r < VLANES)
 * zeroes the contributions of the lanes past r. */
static inline void AG_FN(ce_row_acc_)(const ag_ce_block *b, const AG_T *q, AG_T *g, ptrdiff_t c,
                                      ptrdiff_t r, int masked, vec z, vec e,
                                      vec *s, vec *A, vec *lin)
{
    const AG_T *w = (const AG_T *)b->w;
    vec zero = AG_C(0);
    vmask live = AG_FN(ls_first_)(r);
    if (masked) {
        e = v_select(live, e, zero);
        z = v_select(live, z, zero);
    }
    if (g) AG_FN(ls_st_)(g + c, r, e);
    *s = v_add(*s, e);
    if (q) {
        vec wq = v_fma(AG_FN(ls_ld_)(q + c, r), AG_C(b->on), AG_C(b->off));
        if (w) wq = v_mul(wq, AG_FN(ls_ld_)(w + c, r));
        if (masked) wq = v_select(live, wq, zero);
        *A = v_add(*A, wq);
        *lin = v_fma(wq, z, *lin);
    } else if (b->off != 0) {
        *lin = w ? v_fma(AG_FN(ls_ld_)(w + c, r), z, *lin) : v_add(*lin, z);
    }
}

/* ce_row_acc_ with z and e computed from x. */
static inline void AG_FN(ce_row_pass2_)(const ag_ce_block *b, const AG_T *x, const AG_T *q, AG_T *g,
                                        ptrdiff_t c, ptrdiff_t r, int masked, vec m,
                                        vec *s, vec *A, vec *lin)
{
    vec z = v_sub(AG_FN(ls_ld_)(x + c, r), m);
    AG_FN(ce_row_acc_)(b, q, g, c, r, masked, z, AG_FN(ag_exp_le0)(z), s, A, lin);
}

/* Pass 3 of ce_rows on classes [c, c + r): g = k e - sc w q'  (q' = on q + off,
 * or off for index targets, whose c == y term the caller subtracts). */
static inline void AG_FN(ce_row_pass3_)(const ag_ce_block *b, const AG_T *q, AG_T *g, ptrdiff_t c,
                                        ptrdiff_t r, vec k, vec son, vec soff)
{
    const AG_T *w = (const AG_T *)b->w;
    vec t = q ? v_fma(AG_FN(ls_ld_)(q + c, r), son, soff) : soff;
    if (w && (q || b->off != 0)) t = v_mul(t, AG_FN(ls_ld_)(w + c, r));  /* else t = 0: w_c unread */
    AG_FN(ls_st_)(g + c, r, v_fms(k, AG_FN(ls_ld_)(g + c, r), t));
}

static void AG_FN(k_ce_rows)(const ag_ce_block *b)
{
    const ptrdiff_t C = b->C, cv = C - C % VLANES, ct = C - cv;  /* full vectors, tail */
    const AG_T *w = (const AG_T *)b->w;
    const AG_T on = (AG_T)b->on, off = (AG_T)b->off, wsum = (AG_T)b->wsum;
    AG_T s_[AG_CE_BLOCK], A_[AG_CE_BLOCK], lin_[AG_CE_BLOCK];
    for (ptrdiff_t i = 0; i < b->n; i++) {
        const AG_T *x = (const AG_T *)b->x + i * b->ss;
        const AG_T *q = b->q ? (const AG_T *)b->q + i * b->ss : NULL;
        AG_T *g = b->g ? (AG_T *)b->g + i * b->ss : NULL;
        ptrdiff_t y = b->y ? b->y[i] : -1;
        if (b->y && y < 0) {                      /* ignored: loss 0, gradient 0 */
            s_[i] = 1; A_[i] = 0; lin_[i] = 0;
            for (ptrdiff_t c = 0; g && c < C; c += VLANES) AG_FN(ls_st_)(g + c, C - c, AG_C(0));
            continue;
        }
        /* pass 1: the max (tail lanes -inf), in four chains (one waits on v_max's latency
         * for every vector); a NaN row's m does not matter: its loss and gradient are NaN */
        vec mv = AG_C(-INFINITY);
        ptrdiff_t c = 0;
        {
            vec m1 = mv, m2 = mv, m3 = mv;
            for (; c + 4 * VLANES <= cv; c += 4 * VLANES) {
                mv = v_max(mv, v_load(x + c));
                m1 = v_max(m1, v_load(x + c + VLANES));
                m2 = v_max(m2, v_load(x + c + 2 * VLANES));
                m3 = v_max(m3, v_load(x + c + 3 * VLANES));
            }
            mv = v_max(v_max(mv, m1), v_max(m2, m3));
        }
        for (; c < cv; c += VLANES) mv = v_max(mv, v_load(x + c));
        if (ct) mv = v_max(mv, v_select(AG_FN(ls_first_)(ct), v_load_tail(x + c, ct), AG_C(-INFINITY)));
        const AG_T m = v_hmax(mv);
        /* the target's logit, read before pass 2 (g may be x) */
        const AG_T zy = y >= 0 ? x[y] - m : 0, wy = y >= 0 && w ? w[y] : 1;
        /* pass 2: whole CE_VW-lane groups, then the vectors of the rest (a masked tail) */
        vec s[CE_NV], A[CE_NV], lin[CE_NV];
        for (int k = 0; k < CE_NV; k++) s[k] = A[k] = lin[k] = AG_C(0);
        const vec mm = v_set1(m);
        const AG_T *next = x + b->ss;  /* prefetched while this row computes */
        /* index targets without smoothing need only s: their own branch below (through
         * ce_row_acc_, whose tests of q and b->off run per vector, 10% slower on Zen 2) */
        const int only_s = !q && b->off == 0;
        c = 0;
        /* s in blocks (CE_SB): an iteration adds 2 terms to each lane of s */
        vec shi[CE_NV], slo[CE_NV];
        int blocked = 0;
        for (int k = 0; k < CE_NV; k++) shi[k] = slo[k] = AG_C(0);
        /* two groups per iteration: their exps are independent chains, and one test of
         * their tiny lanes (ag_exp_le0) keeps the loop free of other branches; CE_SB / 2
         * iterations make a block of s */
        const ptrdiff_t cmain = C - C % (2 * CE_VW), blk = CE_SB / 2 * 2 * CE_VW;
        while (c < cmain) {
            if (c) {
                for (int k = 0; k < CE_NV; k++) AG_FN(ce_flush1_)(&s[k], &shi[k], &slo[k]);
                blocked = 1;
            }
            const ptrdiff_t stop = cmain - c > blk ? c + blk : cmain;
            for (; c < stop; c += 2 * CE_VW) {
                vec z[2 * CE_NV], e[2 * CE_NV];
                vmask tiny[2 * CE_NV], any = v_isnan(AG_C(0));
                for (int k = 0; k < 2 * CE_NV; k++) {
                    __builtin_prefetch(next + c + k * VLANES);
                    z[k] = v_sub(v_load(x + c + k * VLANES), mm);
                    e[k] = AG_FN(ag_exp_le0_common_)(z[k], &tiny[k]);
                    any = v_mor(any, tiny[k]);
                }
                if (v_any(any))
                    for (int k = 0; k < 2 * CE_NV; k++) e[k] = AG_FN(ag_exp_le0_fix_)(z[k], tiny[k], e[k]);
                for (int k = 0; k < 2 * CE_NV; k++) {
                    const int j = k % CE_NV;
                    if (only_s) {
                        if (g) v_store(g + c + k * VLANES, e[k]);
                        s[j] = v_add(s[j], e[k]);
                    } else {
                        AG_FN(ce_row_acc_)(b, q, g, c + k * VLANES, VLANES, 0, z[k], e[k], &s[j], &A[j], &lin[j]);
                    }
                }
            }
        }
        for (; c + CE_VW <= C; c += CE_VW)
            for (int k = 0; k < CE_NV; k++) {
                const ptrdiff_t ck = c + k * VLANES;
                __builtin_prefetch(next + ck);
                if (only_s) {
                    vec e = AG_FN(ag_exp_le0)(v_sub(v_load(x + ck), mm));
                    if (g) v_store(g + ck, e);
                    s[k] = v_add(s[k], e);
                } else {
                    AG_FN(ce_row_pass2_)(b, x, q, g, ck, VLANES, 0, mm, &s[k], &A[k], &lin[k]);
                }
            }
        for (int k = 0; c < C; c += VLANES, k++) {
            const ptrdiff_t r = C - c;
            AG_FN(ce_row_pass2_)(b, x, q, g, c, r, r < VLANES, mm, &s[k], &A[k], &lin[k]);
        }
        if (blocked) {
            for (int k = 0; k < CE_NV; k++) AG_FN(ce_flush1_)(&s[k], &shi[k], &slo[k]);
            s_[i] = AG_FN(ce_vsum_)(shi) + AG_FN(ce_vsum_)(slo);
        } else {
            s_[i] = AG_FN(ce_vsum_)(s);
        }
        if (q) {
            A_[i] = AG_FN(ce_vsum_)(A);
            lin_[i] = AG_FN(ce_vsum_)(lin);
        } else {  /* without smoothing only w_y is read (PyTorch): an unused class's weight may be inf */
            A_[i] = off != 0 ? on * wy + off * wsum : on * wy;
            lin_[i] = on * wy * zy + (off != 0 ? off * AG_FN(ce_vsum_)(lin) : 0);
        }
        if (!g) continue;
        /* pass 3 */
        const AG_T sc = ((const AG_T *)b->scale)[i];
        const vec k = v_set1(sc * A_[i] / s_[i]), son = v_set1(sc * on), soff = v_set1(sc * off);
        for (c = 0; c < cv; c += VLANES) AG_FN(ce_row_pass3_)(b, q, g, c, VLANES, k, son, soff);
        if (ct) AG_FN(ce_row_pass3_)(b, q, g, c, ct, k, son, soff);
        if (y >= 0) g[y] -= sc * on * wy;
    }
    if (!b->loss) return;
    for (ptrdiff_t i = 0; i < b->n; i += VLANES) {  /* loss = A log s - lin, VLANES samples at once */
        const ptrdiff_t r = b->n - i;
        vec L = v_fms(AG_FN(ls_ld_)(A_ + i, r), AG_FN(ls_log_sum_)(AG_FN(ls_ld_)(s_ + i, r)),
                      AG_FN(ls_ld_)(lin_ + i, r));
        AG_FN(ls_st_)((AG_T *)b->loss + i, r, L);
    }
}

/* ---- cross-entropy, vectors across samples (ss == 1): lane l is sample i + l ----
 * Each pass runs over the whole block (every vector of samples) before the next one
 * starts, the per-sample values (max, target terms, sums) kept in arrays between passes:
 * the vectors of a pass are independent chains, where one vector carried through all the
 * passes makes one chain (its exps, the log, the division, the fix-ups) that, for a short
 * C, leaves the core's reordering window too little independent work.  One 64x10 block in
 * cache on Zen 2: float32 0.90 -> 0.79 us, float64 1.91 -> 1.73 us.  Each lane's
 * operations, and so its bits, are the same in either order. */

/* Pass 2 of ce_cols for index targets without smoothing (only s is needed) on U full vectors
 * of samples at x (a class row every cs elements): each lane's s over the classes in order,
 * in blocks (CE_SB), as the general loop of k_ce_cols adds them, with the same operations per
 * lane, so the same bits.  The general loop tests q, off, g and a partial vector for every
 * class (about 45 instructions per vector and class, 3 of them taken branches); here those
 * tests are made once per call, the U exps are independent chains and their tiny lanes are
 * tested once (ag_exp_le0_fix_).  g: e is stored there (NULL: not stored; a constant at each
 * call, as is U).  U = CE_CU = 4 vectors (then 1 for the rest), one block in cache on Zen 2:
 * 64x10 float32 0.82 -> 0.71 us, float64 1.71 -> 1.49 us, 128x21 float32 2.60 -> 2.34 us
 * (U = 2 gave 0.77, 1.55 and 2.42; U = 8 no better than 4). */
#define CE_CU 4

AG_INLINE void AG_FN(ce_cols_sum_)(const AG_T *x, AG_T *g, ptrdiff_t C, ptrdiff_t cs, const vec *m,
                                   vec *s, const int U)
{
    vec hi[CE_CU], lo[CE_CU];
    for (int u = 0; u < U; u++) s[u] = hi[u] = lo[u] = AG_C(0);
    for (ptrdiff_t c = 0; c < C;) {
        if (c)
            for (int u = 0; u < U; u++) AG_FN(ce_flush1_)(&s[u], &hi[u], &lo[u]);
        for (const ptrdiff_t stop = C - c > CE_SB ? c + CE_SB : C; c < stop; c++) {
            vec z[CE_CU], e[CE_CU];
            vmask tiny[CE_CU], any = v_isnan(AG_C(0));
            for (int u = 0; u < U; u++) {
                z[u] = v_sub(v_load(x + u * VLANES + c * cs), m[u]);
                e[u] = AG_FN(ag_exp_le0_common_)(z[u], &tiny[u]);
                any = v_mor(any, tiny[u]);
            }
            if (v_any(any))
                for (int u = 0; u < U; u++) e[u] = AG_FN(ag_exp_le0_fix_)(z[u], tiny[u], e[u]);
            for (int u = 0; u < U; u++) {
                if (g) v_store(g + u * VLANES + c * cs, e[u]);
                s[u] = v_add(s[u], e[u]);
            }
        }
    }
    if (C > CE_SB)
        for (int u = 0; u < U; u++) {
            AG_FN(ce_flush1_)(&s[u], &hi[u], &lo[u]);
            s[u] = v_add(hi[u], lo[u]);
        }
}

/* sb[0 .. U VLANES) = the sums s of the samples x[0 .. U VLANES), maxima mb (ce_cols_sum_) */
AG_INLINE void AG_FN(ce_cols_only_s_)(const AG_T *x, AG_T *g, ptrdiff_t C, ptrdiff_t cs,
                                      const AG_T *mb, AG_T *sb, const int U)
{
    vec m[CE_CU], s[CE_CU];
    for (int u = 0; u < U; u++) m[u] = v_load(mb + u * VLANES);
    if (g) AG_FN(ce_cols_sum_)(x, g, C, cs, m, s, U);
    else AG_FN(ce_cols_sum_)(x, NULL, C, cs, m, s, U);
    for (int u = 0; u < U; u++) v_store(sb + u * VLANES, s[u]);
}

static void AG_FN(k_ce_cols)(const ag_ce_block *b)
{
    const ptrdiff_t C = b->C, cs = b->cs, n = b->n;
    const AG_T *w = (const AG_T *)b->w;
    const AG_T *x = (const AG_T *)b->x, *q = (const AG_T *)b->q;
    AG_T *g = (AG_T *)b->g;
    const vec on = AG_C(b->on), off = AG_C(b->off), zero = AG_C(0);
    _Alignas(64) AG_T mb[AG_CE_BLOCK], sb[AG_CE_BLOCK], Ab[AG_CE_BLOCK], linb[AG_CE_BLOCK];
    _Alignas(64) AG_T zyb[AG_CE_BLOCK], wyb[AG_CE_BLOCK], liveb[AG_CE_BLOCK];
    /* pass 1: the max of each lane's column */
    for (ptrdiff_t i = 0; i < n; i += VLANES) {
        vec m = AG_C(-INFINITY);
        for (ptrdiff_t c = 0; c < C; c++) m = v_max(m, AG_FN(ls_ld_)(x + i + c * cs, n - i));
        v_store(mb + i, m);
    }
    /* each sample's target logit, read before pass 2 (g may be x); lanes past n stay dead */
    if (b->y) {
        ptrdiff_t i = 0;
        for (; i < n; i++) {
            const ptrdiff_t y = b->y[i];
            liveb[i] = y >= 0;
            zyb[i] = y >= 0 ? x[y * cs + i] - mb[i] : 0;
            wyb[i] = y >= 0 ? (w ? w[y] : 1) : 0;
        }
        for (; i % VLANES; i++) liveb[i] = zyb[i] = wyb[i] = 0;
    }
    /* pass 2: s = sum e^z (e stored in g), and the target sums A, lin */
    ptrdiff_t i2 = 0;
    if (!q && b->off == 0) {   /* only s: CE_CU full vectors at a time, then one */
        for (; i2 + CE_CU * VLANES <= n; i2 += CE_CU * VLANES)
            AG_FN(ce_cols_only_s_)(x + i2, g ? g + i2 : NULL, C, cs, mb + i2, sb + i2, CE_CU);
        for (; i2 + VLANES <= n; i2 += VLANES)
            AG_FN(ce_cols_only_s_)(x + i2, g ? g + i2 : NULL, C, cs, mb + i2, sb + i2, 1);
        for (ptrdiff_t i = 0; i < i2; i += VLANES) {   /* A and lin as below */
            const vec onwy = v_mul(on, v_load(wyb + i));
            v_store(Ab + i, onwy);
            v_store(linb + i, v_mul(onwy, v_load(zyb + i)));
        }
    }
    for (ptrdiff_t i = i2; i < n; i += VLANES) {
        const ptrdiff_t r = n - i;
        const vec m = v_load(mb + i);
        vec s = zero, A = zero, lin = zero, shi = zero, slo = zero;   /* s in blocks (CE_SB) */
        for (ptrdiff_t c = 0; c < C;) {
            if (c) AG_FN(ce_flush1_)(&s, &shi, &slo);
            for (const ptrdiff_t stop = C - c > CE_SB ? c + CE_SB : C; c < stop; c++) {
                vec z = v_sub(AG_FN(ls_ld_)(x + i + c * cs, r), m);
                vec e = AG_FN(ag_exp_le0)(z);
                if (g) AG_FN(ls_st_)(g + i + c * cs, r, e);
                s = v_add(s, e);
                if (q) {
                    vec wq = v_fma(AG_FN(ls_ld_)(q + i + c * cs, r), on, off);
                    if (w) wq = v_mul(wq, v_set1(w[c]));
                    A = v_add(A, wq);
                    lin = v_fma(wq, z, lin);
                } else if (b->off != 0) {
                    lin = w ? v_fma(v_set1(w[c]), z, lin) : v_add(lin, z);
                }
            }
        }
        if (C > CE_SB) {
            AG_FN(ce_flush1_)(&s, &shi, &slo);
            s = v_add(shi, slo);
        }
        if (!q) {   /* see ce_rows */
            const vec wy = v_load(wyb + i), zy = v_load(zyb + i);
            A = b->off != 0 ? v_fma(on, wy, v_mul(off, AG_C(b->wsum))) : v_mul(on, wy);
            lin = b->off != 0 ? v_fma(v_mul(on, wy), zy, v_mul(off, lin)) : v_mul(v_mul(on, wy), zy);
        }
        v_store(sb + i, s);
        v_store(Ab + i, A);
        v_store(linb + i, lin);
    }
    if (b->loss)
        for (ptrdiff_t i = 0; i < n; i += VLANES) {
            const vec s = v_load(sb + i), L = v_fms(v_load(Ab + i), AG_FN(ls_log_sum_)(s), v_load(linb + i));
            AG_FN(ls_st_)((AG_T *)b->loss + i, n - i, b->y ? v_select(v_gt(v_load(liveb + i), zero), L, zero) : L);
        }
    if (!g) return;
    /* pass 3: g = k e - sc w q', k = sc A / s */
    for (ptrdiff_t i = 0; i < n; i += VLANES) {
        const ptrdiff_t r = n - i;
        const vec sc = AG_FN(ls_ld_)((const AG_T *)b->scale + i, r);
        const vec k = v_div(v_mul(sc, v_load(Ab + i)), v_load(sb + i)), son = v_mul(sc, on), soff = v_mul(sc, off);
        const vmask live = b->y ? v_gt(v_load(liveb + i), zero) : AG_FN(ls_first_)(r);
        for (ptrdiff_t c = 0; c < C; c++) {
            vec t = q ? v_fma(AG_FN(ls_ld_)(q + i + c * cs, r), son, soff) : soff;
            if (w && (q || b->off != 0)) t = v_mul(t, v_set1(w[c]));
            vec gv = v_fms(k, AG_FN(ls_ld_)(g + i + c * cs, r), t);
            AG_FN(ls_st_)(g + i + c * cs, r, v_select(live, gv, zero));
        }
    }
    if (b->y) {
        const AG_T *scale = (const AG_T *)b->scale, on1 = (AG_T)b->on;
        for (ptrdiff_t i = 0; i < n; i++)
            if (b->y[i] >= 0) g[b->y[i] * cs + i] -= scale[i] * on1 * wyb[i];
    }
}

/* ---- elementwise losses ---- */

/* log1p(u) for u = e^-|x| in [0, 1] (softplus(-x) of BCE with logits).  float32: a polynomial
 * instead of the general ag_log1p (vmath/log1p.h: ~60 operations and a division per vector,
 * half of BCE's time): log1p(u) = u + u^2 Q(u), Q of degree 9 fitted (Lawson IRLS in NumPy)
 * to (log1p(u) - u)/u^2 for the error of u + u^2 Q relative to log1p(u) on (0, 1]: 2^-30.2
 * with the coefficients rounded to float.  Evaluated in float (Horner, then one fma(u^2, Q, u),
 * the leading u exact and the rounded terms at most half of the result): within 1.24 ULP of
 * log1p(u), measured against double log1p over 2e6 uniform u in (0, 1] and 1e5 log-spaced u
 * down to 2^-149; log1p(1) = ln 2 correctly rounded; tiny u gives u exactly (u^2 underflows);
 * log1p(0) = 0, NaN -> NaN.  12 operations, no division.  float64: the high part of
 * ag_log1p01_dw (vmath/log1p.h: ag_log1p's steps on [0, 1] without its special cases, half
 * the operations; within 0.9 ULP). */
static inline vec AG_FN(ls_log1p01_)(vec u)
{
#if AG_IS_F32
    vec q = AG_C(0x1.0fb9c6p-9f);
    q = v_fma(q, u, AG_C(-0x1.beb326p-7f));
    q = v_fma(q, u, AG_C(0x1.57ec36p-5f));
    q = v_fma(q, u, AG_C(-0x1.544706p-4f));
    q = v_fma(q, u, AG_C(0x1.fea83cp-4f));
    q = v_fma(q, u, AG_C(-0x1.4a545cp-3f));
    q = v_fma(q, u, AG_C(0x1.978284p-3f));
    q = v_fma(q, u, AG_C(-0x1.ffc42p-3f));
    q = v_fma(q, u, AG_C(0x1.5553a6p-2f));
    q = v_fma(q, u, AG_C(-0x1.fffff8p-2f));
    return v_fma(v_mul(u, u), q, u);
#else
    vec lo;
    return AG_FN(ag_log1p01_dw)(u, AG_C(0), &lo);
#endif
}

/* The losses' sums (ag_pointwise_run.sum): the 8 slots as LS_SUM_NV vectors of AG_f64_LANES,
 * held in registers.  A vector of losses whose first element is the run's element k goes,
 * widened to double where float, AG_f64_LANES lanes at a time, to slot vector (k mod 8) /
 * AG_f64_LANES: each slot gets the elements k = slot mod 8 in element order, the order the
 * driver defines, on every ISA.  The loops pass k mod 8 as a constant (their main loops step
 * by a multiple of 8 elements, LS_BLOCK_V vectors or more), and ls_sum_to_ indexes the array
 * only with constants, so it stays in registers (a rotating array went through the stack on
 * AVX2).  A partial vector's lanes from r on are added as +0, which leaves a slot as it was
 * (a slot starts at +0 and is never -0; NaN + 0 is that NaN).  Summing here replaced a store
 * of the losses to a buffer and the driver's SSE2 sum of them; the bits are the same. */
#ifndef LS_SUM_NV
#define LS_SUM_NV (8 / AG_f64_LANES)
#define LS_BLOCK_V (VLANES >= 8 ? 1 : 8 / VLANES)   /* vectors per 8 elements (at least 1) */
#endif

static inline void AG_FN(ls_sum_load_)(const ag_pointwise_run *a, ag_f64v *sum)
{
    for (int j = 0; j < LS_SUM_NV; j++)   /* unused where a->sum is NULL */
        sum[j] = a->sum ? ag_f64_load(a->sum + j * AG_f64_LANES) : ag_f64_set1(0);
}

static inline void AG_FN(ls_sum_store_)(const ag_pointwise_run *a, const ag_f64v *sum)
{
    for (int j = 0; a->sum && j < LS_SUM_NV; j++) ag_f64_store(a->sum + j * AG_f64_LANES, sum[j]);
}

/* d, the elements from k (k8 = k mod 8), into its slot vector */
static inline void AG_FN(ls_sum_to_)(ag_f64v *sum, int k8, ag_f64v d)
{
    for (int j = 0; j < LS_SUM_NV; j++)
        if (j == k8 / AG_f64_LANES) sum[j] = ag_f64_add(sum[j], d);
}

static inline void AG_FN(ls_sum_add_)(ag_f64v *sum, int k8, ptrdiff_t r, vec l)
{
    if (r < VLANES) l = v_select(AG_FN(ls_first_)(r), l, AG_C(0));
#if AG_IS_F32
    AG_FN(ls_sum_to_)(sum, k8, ag_f32_widen_lo(l));
    if (AG_F32_WIDE_PARTS == 2) AG_FN(ls_sum_to_)(sum, (k8 + AG_f64_LANES) % 8, ag_f32_widen_hi(l));
#else
    AG_FN(ls_sum_to_)(sum, k8, l);
#endif
}

/* the loss vector l of the run's elements i .. i + r (k8 = i mod 8): stored and/or summed */
static inline void AG_FN(ls_put_loss_)(const ag_pointwise_run *a, ag_f64v *sum, ptrdiff_t i, int k8,
                                       ptrdiff_t r, vec l)
{
    if (a->loss) AG_FN(ls_st_)((AG_T *)a->loss + i, r, l);
    if (a->sum) AG_FN(ls_sum_add_)(sum, k8, r, l);
}

/* The i-th vector of an optional operand: p[i..] (step 1), *p (step 0), or `dflt`. */
static inline vec AG_FN(ls_opt_)(const AG_T *p, ptrdiff_t step, ptrdiff_t i, ptrdiff_t r, vec dflt)
{
    if (!p) return dflt;
    return step ? AG_FN(ls_ld_)(p + i, r) : v_set1(*p);
}

/* BCE with logits of the vector at x + i (r elements: a whole vector where r >= VLANES),
 * given e = e^-|x|: the loss and/or the gradient stored.  `plain` (a constant at each call):
 * no weight, pos_weight or upstream gradient, the usual call; then w = pw = 1 are not read
 * and their products are left out, which gives the same bits for finite targets (lw = 1 and
 * the products by 1 are exact) and the formula's value for infinite ones (where the general
 * path's lw = 1 + 0 t is NaN).  In cache on Zen 2 (csrc/bench/softmax_speed.c, loss and
 * gradient): float32 1.52 -> 1.28 ns per element, float64 4.87 -> 4.45. */
AG_INLINE void AG_FN(bce_put_)(const ag_pointwise_run *a, ag_f64v *sum, ptrdiff_t i, int k8,
                               ptrdiff_t r, vec xv, vec e, const int plain)
{
    const AG_T *t = (const AG_T *)a->t, *w = (const AG_T *)a->w, *pw = (const AG_T *)a->pw;
    const vec one = AG_C(1), zero = AG_C(0);
    vec tv = AG_FN(ls_ld_)(t + i, r);
    vec wv = plain ? one : AG_FN(ls_opt_)(w, a->ws, i, r, one);
    vec pwv = plain ? one : AG_FN(ls_opt_)(pw, a->pws, i, r, one);
    vec lw = plain ? one : v_fma(v_sub(pwv, one), tv, one);   /* 1 + (pw - 1) t */
    if (a->loss || a->sum) {
        vec sp = v_add(v_max(zero, v_neg(xv)), AG_FN(ls_log1p01_)(e));  /* softplus(-x); NaN kept */
        vec l = plain ? v_fma(v_sub(one, tv), xv, sp) : v_mul(wv, v_fma(v_sub(one, tv), xv, v_mul(lw, sp)));
        AG_FN(ls_put_loss_)(a, sum, i, k8, r, l);
    }
    if (a->dx) {
        vec sig = v_div(v_select(v_ge(xv, zero), one, e), v_add(one, e));   /* NaN x: e is NaN */
        vec sc = AG_C(a->scale), g;
        if (plain) {
            g = v_mul(v_sub(sig, tv), sc);
        } else {
            vec gr = v_fms(lw, sig, v_mul(pwv, tv));              /* lw sigmoid(x) - pw t */
            g = v_mul(v_mul(gr, wv), v_mul(AG_FN(ls_opt_)((const AG_T *)a->g, a->gs, i, r, one), sc));
        }
        AG_FN(ls_st_)((AG_T *)a->dx + i, r, g);
    }
}

/* BCE_U whole vectors per iteration (at least 4, and whole blocks of 8 elements for the sums):
 * their exps and the rest are independent chains, and one test of the exps' tiny lanes
 * (ag_exp_le0) serves them all. */
#define BCE_U (LS_BLOCK_V > 4 ? LS_BLOCK_V : 4)

AG_INLINE void AG_FN(bce_loop_)(const ag_pointwise_run *a, const int plain)
{
    const AG_T *x = (const AG_T *)a->x;
    ag_f64v sum[LS_SUM_NV];
    AG_FN(ls_sum_load_)(a, sum);
    ptrdiff_t i = 0;
    for (; i + BCE_U * VLANES <= a->n; i += BCE_U * VLANES) {
        vec xv[BCE_U], z[BCE_U], e[BCE_U];
        vmask tiny[BCE_U], any = v_isnan(AG_C(0));
        for (int k = 0; k < BCE_U; k++) {
            xv[k] = v_load(x + i + k * VLANES);
            z[k] = v_neg(v_abs(xv[k]));
            e[k] = AG_FN(ag_exp_le0_common_)(z[k], &tiny[k]);   /* e^-|x| in [0, 1] */
            any = v_mor(any, tiny[k]);
        }
        if (v_any(any))
            for (int k = 0; k < BCE_U; k++) e[k] = AG_FN(ag_exp_le0_fix_)(z[k], tiny[k], e[k]);
        for (int k = 0; k < BCE_U; k++)
            AG_FN(bce_put_)(a, sum, i + k * VLANES, k * VLANES % 8, VLANES, xv[k], e[k], plain);
    }
    for (; i < a->n; i += VLANES) {
        const ptrdiff_t r = a->n - i;
        vec xv = AG_FN(ls_ld_)(x + i, r);
        AG_FN(bce_put_)(a, sum, i, (int)(i % 8), r, xv, AG_FN(ag_exp_le0)(v_neg(v_abs(xv))), plain);
    }
    AG_FN(ls_sum_store_)(a, sum);
}
#undef BCE_U

static void AG_FN(k_bce_logits)(const ag_pointwise_run *a)
{
    if (!a->w && !a->pw && !a->g) AG_FN(bce_loop_)(a, 1);
    else AG_FN(bce_loop_)(a, 0);
}

/* MSE of the vector at x + i (r elements; k8 = i mod 8): the loss and/or the gradient */
AG_INLINE void AG_FN(mse_put_)(const ag_pointwise_run *a, ag_f64v *sum, ptrdiff_t i, int k8, ptrdiff_t r)
{
    const AG_T *x = (const AG_T *)a->x, *t = (const AG_T *)a->t;
    vec d = v_sub(AG_FN(ls_ld_)(x + i, r), AG_FN(ls_ld_)(t + i, r));
    AG_FN(ls_put_loss_)(a, sum, i, k8, r, v_mul(d, d));
    if (a->dx) {
        vec gv = AG_FN(ls_opt_)((const AG_T *)a->g, a->gs, i, r, AG_C(1));
        AG_FN(ls_st_)((AG_T *)a->dx + i, r, v_mul(d, v_mul(gv, AG_C(a->scale))));
    }
}

static void AG_FN(k_mse)(const ag_pointwise_run *a)
{
    ag_f64v sum[LS_SUM_NV];
    AG_FN(ls_sum_load_)(a, sum);
    ptrdiff_t i = 0;
    for (; i + LS_BLOCK_V * VLANES <= a->n; i += LS_BLOCK_V * VLANES)   /* whole blocks of 8 */
        for (int k = 0; k < LS_BLOCK_V; k++) AG_FN(mse_put_)(a, sum, i + k * VLANES, k * VLANES % 8, VLANES);
    for (; i < a->n; i += VLANES) AG_FN(mse_put_)(a, sum, i, (int)(i % 8), a->n - i);
    AG_FN(ls_sum_store_)(a, sum);
}
