/* Instantiates the contiguous kernels of every op of the table for the current
 * AG_T / AG_SFX (once per dtype pass: loops/all.h).
 *
 * The math comes first, once per pass (ops/all.h, isa/dtype_passes.h).  Each
 * op header provides ag_<op>_forward / _derivative / _backward (and the
 * _from_output pair), see ops/d32.h: the float32 ones evaluate in double and
 * round once, backward included (dy * f'(x) in double).
 *
 * Loop: an unrolled main loop with U independent vectors in flight (the op
 * math is one long dependency chain per vector, so interleaving several
 * hides its latency), then one vector at a time, then a masked tail.  U is 2
 * for float32 (each float vector is two double halves: four chains) and 4 for
 * float64 ops of table cost <= 8 (four chains too: 1.1-1.5x faster float64
 * sigmoid, tanh, elu on Zen 2; costlier float64 ops spill at 4), 3 for cost 9
 * (silu: float64 forward 3.40 against 3.82-4.04 ns at 2 on Zen 2, 5.1 at 4;
 * softplus and log_sigmoid, whose forward carries a log1p too, ran 1.2-1.4x
 * slower at 3), 2 for the costlier ones, and 1 for the float64 ops whose table
 * cost is AG_KERNEL_BIG or more (gelu): one vector of their math already fills
 * the out-of-order window, and two interleaved copies no longer fit the
 * registers (float64 gelu: 300 spills, 15% slower).  Their float32 forward and
 * derivative take 2 (a float vector of gelu's float32 math, a degree-14
 * polynomial and one exp in double, is much shorter than float64's double-word
 * one; Zen 2, in cache, medians of 5 alternated runs: gelu forward 2.5-3.1 ->
 * 2.35 ns, derivative 2.64 -> 2.42, gelu_tanh forward 1.94 -> 1.64) and their
 * backward 1 (2 was no faster: 2.83 -> 2.95).  Every element goes through the
 * same vector function whatever the position, so a result never depends on
 * where a chunk boundary falls. */
#define AG_KERNEL_BIG 20
#define AG_KERNEL_UNROLL_(cost)                                                          \
    ((cost) >= AG_KERNEL_BIG ? (AG_IS_F32 ? 2 : 1) : AG_IS_F32 ? 2 : (cost) <= 8 ? 4 : (cost) <= 9 ? 3 : 2)

#define AG_KERNEL_UNROLL_BWD_(cost) ((cost) >= AG_KERNEL_BIG ? 1 : AG_KERNEL_UNROLL_(cost))

#define AG_KERNEL_UNARY(name, call, F, U)                                                \
static void AG_FN(k_##name##_##call)(ptrdiff_t n, const void *pa, const void *pb,        \
                                     void *po, const double *prm)                        \
{                                                                                        \
    const AG_T *a = (const AG_T *)pa;                                                    \
    AG_T *o = (AG_T *)po;                                                                \
    const vec p0 = v_set1((AG_T)prm[0]), p1 = v_set1((AG_T)prm[1]);                      \
    ptrdiff_t i = 0;                                                                     \
    (void)pb;                                                                            \
    for (; i + U * VLANES <= n; i += U * VLANES) {                                       \
        vec r[U];                                                                        \
        for (int j = 0; j < U; j++)                                                      \
            r[j] = F(v_load(a + i + j * VLANES), p0, p1);                                \
        for (int j = 0; j < U; j++)                                                      \
            v_store(o + i + j * VLANES, r[j]);                                           \
    }                                                                                    \
    for (; i + VLANES <= n; i += VLANES)                                                 \
        v_store(o + i, F(v_load(a + i), p0, p1));                                        \
    if (i < n)                                                                           \
        v_store_tail(o + i, n - i, F(v_load_tail(a + i, n - i), p0, p1));                \
}

/* backward: dy * f'(x) (F(dy, x, p0, p1)), reading dy and x once and writing once. */
#define AG_KERNEL_BACKWARD(name, call, F, U)                                             \
static void AG_FN(k_##name##_##call)(ptrdiff_t n, const void *pa, const void *pb,        \
                                     void *po, const double *prm)                        \
{                                                                                        \
    const AG_T *dy = (const AG_T *)pa, *x = (const AG_T *)pb;                            \
    AG_T *o = (AG_T *)po;                                                                \
    const vec p0 = v_set1((AG_T)prm[0]), p1 = v_set1((AG_T)prm[1]);                      \
    ptrdiff_t i = 0;                                                                     \
    for (; i + U * VLANES <= n; i += U * VLANES) {                                       \
        vec r[U];                                                                        \
        for (int j = 0; j < U; j++)                                                      \
            r[j] = F(v_load(dy + i + j * VLANES), v_load(x + i + j * VLANES), p0, p1);   \
        for (int j = 0; j < U; j++)                                                      \
            v_store(o + i + j * VLANES, r[j]);                                           \
    }                                                                                    \
    for (; i + VLANES <= n; i += VLANES)                                                 \
        v_store(o + i, F(v_load(dy + i), v_load(x + i), p0, p1));                        \
    if (i < n)                                                                           \
        v_store_tail(o + i, n - i, F(v_load_tail(dy + i, n - i),                         \
                                     v_load_tail(x + i, n - i), p0, p1));                \
}

#define AG_IF_0(...)
#define AG_IF_1(...) __VA_ARGS__
#define AG_OP(name, nparams, from_output, cost)                                          \
    AG_KERNEL_UNARY(name, forward, AG_FN(ag_##name##_forward), AG_KERNEL_UNROLL_(cost))  \
    AG_KERNEL_UNARY(name, derivative, AG_FN(ag_##name##_derivative), AG_KERNEL_UNROLL_(cost)) \
    AG_KERNEL_BACKWARD(name, backward, AG_FN(ag_##name##_backward), AG_KERNEL_UNROLL_BWD_(cost)) \
    AG_CAT(AG_IF_, from_output)(                                                         \
    AG_KERNEL_UNARY(name, derivative_from_output, AG_FN(ag_##name##_derivative_from_output), 2) \
    AG_KERNEL_BACKWARD(name, backward_from_output, AG_FN(ag_##name##_backward_from_output), 2))
#include "../gen/ops.inc"
#undef AG_OP
#undef AG_KERNEL_UNARY
#undef AG_KERNEL_UNROLL_
#undef AG_KERNEL_UNROLL_BWD_
#undef AG_KERNEL_BIG
#undef AG_KERNEL_BACKWARD
