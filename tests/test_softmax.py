"""The softmax family (docs/api.md section 3) against mpmath, finite differences, SciPy and PyTorch.

Accuracy is in ULPs of the exact result (mpmath at 40 digits) in the output dtype: relative,
and absolute in units of the smallest subnormal where the result is that small."""
import concurrent.futures
import math
import warnings

import mpmath
import numpy as np
import pytest

import actgrad as ag
from actgrad import _core

FLOATS = [np.float32, np.float64]
RNG = np.random.default_rng(20240611)


# ---- mpmath references: (hi, lo) float64 pairs with hi + lo = the exact value to ~1e-32 ----

def _dw(v):
    hi = float(v)
    return hi, float(v - hi) if math.isfinite(hi) else 0.0


def ref_forward(x):
    """Exact softmax, log_softmax (rows of x) and logsumexp, each as (hi, lo) arrays."""
    sm, lsm, lse = np.zeros(x.shape + (2,)), np.zeros(x.shape + (2,)), np.zeros(x.shape[:-1] + (2,))
    with mpmath.workdps(40):
        for r in np.ndindex(x.shape[:-1]):
            xs = [mpmath.mpf(float(v)) for v in x[r]]
            m = max(xs)
            e = [mpmath.exp(v - m) for v in xs]
            # s = k + t with k maxima and t the rest; log s = log1p(k - 1 + t) keeps t's digits
            # when t is below 1e-40 (log_softmax of a dominant logit is -t there)
            k, t = xs.count(m), mpmath.fsum(v for v, xv in zip(e, xs) if xv != m)
            s = k + t
            log_s = mpmath.log1p(k - 1 + t)
            sm[r] = [_dw(v / s) for v in e]
            lsm[r] = [_dw(v - m - log_s) for v in xs]
            lse[r] = _dw(m + log_s)
    return sm, lsm, lse


def ulp_error(y, ref, dtype, floor=0.0):
    """|y - exact| in ULPs of the exact value in dtype (ULPs of `floor` where it is smaller)."""
    hi, lo = ref[..., 0], ref[..., 1]
    scale = np.maximum(np.abs(hi), floor).astype(dtype)
    return np.abs((y.astype(np.float64) - hi) - lo) / np.spacing(scale).astype(np.float64)


def random_rows(dtype):
    """Random rows of many lengths and scales, and rows made to break naive formulas."""
    rows = []
    for n in (1, 2, 3, 7, 8, 15, 16, 17, 31, 33, 64, 100, 1000):
        for scale in (0.1, 3.0, 30.0):
            rows.append(RNG.standard_normal(n) * scale)
    big = 700.0 if dtype == np.float64 else 85.0           # e^-big is near the underflow
    rows += [
        np.array([0.0, -20, -40, -80, -big, -big - 40]),     # a dominant logit, tiny and subnormal outputs
        np.array([0.0, -30.0]),                              # log_softmax[0] = -log1p(e^-30): no cancellation allowed
        np.array([1e4, 1e4 - 1, 1e4 - 2.5, -1e4]),            # x - max must be exact
        1e4 + RNG.standard_normal(50),
        np.zeros(1000),                                      # ties: 1/n each
        np.tile([30.0, -30.0], 40),
        np.array([1e30, -1e30, 0.0, 1e30]),
        RNG.uniform(-big, 0, 300),                           # wide range of exponents
        np.array([5.0, 5.0 * (1 + 2.0 ** -20), 5.0 - 2.0 ** -18]),
    ]
    return [r.astype(dtype) for r in rows]


@pytest.mark.parametrize("dtype", FLOATS)
def test_forward_ulp(dtype):
    eps = np.finfo(dtype).eps
    worst = {"softmax": 0.0, "log_softmax": 0.0, "logsumexp": 0.0}
    for x in random_rows(dtype):
        sm, lsm, lse = ref_forward(x[None])
        y, ly, l1 = ag.softmax(x), ag.log_softmax(x), ag.logsumexp(x)
        assert y.dtype == dtype and ly.dtype == dtype and l1.dtype == dtype
        worst["softmax"] = max(worst["softmax"], ulp_error(y, sm[0], dtype).max())
        worst["log_softmax"] = max(worst["log_softmax"], ulp_error(ly, lsm[0], dtype).max())
        # logsumexp may cancel to ~0 (m = -log n): judged in ULPs of max(|result|, 1)
        worst["logsumexp"] = max(worst["logsumexp"], ulp_error(np.asarray(l1), lse[0], dtype, 1.0).max())
        assert abs(math.fsum(y.astype(np.float64)) - 1) <= max(len(x), 2) * eps
    assert max(worst.values()) <= 4, worst


@pytest.mark.parametrize("dtype", FLOATS)
def test_forward_ulp_long_rows(dtype):
    """Rows beyond 128 KiB take the two-level (pieces) path."""
    n = 50_000 if dtype == np.float32 else 20_000
    x = (RNG.standard_normal((1, n)) * 10).astype(dtype)
    sm, lsm, lse = ref_forward(x)
    assert ulp_error(ag.softmax(x), sm, dtype).max() <= 4
    assert ulp_error(ag.log_softmax(x), lsm, dtype).max() <= 4
    assert ulp_error(ag.logsumexp(x), lse, dtype, 1.0).max() <= 4
    assert abs(math.fsum(ag.softmax(x)[0].astype(np.float64)) - 1) <= n * np.finfo(dtype).eps


@pytest.mark.parametrize("dtype", FLOATS)
def test_columns_ulp(dtype):
    """A non-last axis (the column kernels) is as accurate as the last."""
    x = (RNG.standard_normal((2, 40, 37)) * 20).astype(dtype)
    sm, lsm, lse = ref_forward(np.moveaxis(x, 1, -1))
    assert ulp_error(np.moveaxis(ag.softmax(x, axis=1), 1, -1), sm, dtype).max() <= 4
    assert ulp_error(np.moveaxis(ag.log_softmax(x, axis=1), 1, -1), lsm, dtype).max() <= 4
    assert ulp_error(ag.logsumexp(x, axis=1), lse, dtype, 1.0).max() <= 4


def ref_backward(dy, y):
    """Exact y (dy - sum(dy y)) and dy - e^y sum(dy) per row, as (hi, lo), and the sums."""
    sb, lb = np.zeros(y.shape + (2,)), np.zeros(y.shape + (2,))
    with mpmath.workdps(40):
        for r in np.ndindex(y.shape[:-1]):
            d = [mpmath.mpf(float(v)) for v in dy[r]]
            yy = [mpmath.mpf(float(v)) for v in y[r]]
            s = mpmath.fsum(a * b for a, b in zip(d, yy))
            t = mpmath.fsum(d)
            sb[r] = [_dw(b * (a - s)) for a, b in zip(d, yy)]
            lb[r] = [_dw(a - mpmath.exp(b) * t) for a, b in zip(d, yy)]
    return sb, lb


@pytest.mark.parametrize("dtype", FLOATS)
def test_backward_and_jvp_exact(dtype):
    eps = np.finfo(dtype).eps
    for n in (1, 5, 17, 100, 1000):
        x = (RNG.standard_normal((3, n)) * 5).astype(dtype)
        dy = RNG.standard_normal((3, n)).astype(dtype)
        dy[1] = 1.0 + RNG.standard_normal(n).astype(dtype) * 1e-3   # dy close to sum(dy y): cancellation
        y, ly = ag.softmax(x), ag.log_softmax(x)
        sb, _ = ref_backward(dy, y)
        _, lb = ref_backward(dy, ly)
        s = np.sum(dy.astype(np.float64) * y, axis=-1, keepdims=True)
        # the subtraction dy - s is the only ill-conditioned step: allow eps |y s| besides 4 ULPs
        for got in (ag.softmax_backward(dy, y), ag.softmax_jvp(dy, y)):
            err = np.abs((got - sb[..., 0]) - sb[..., 1])
            tol = 4 * (np.spacing(np.abs(sb[..., 0]).astype(dtype)) + eps * np.abs(y * s))
            assert np.all(err <= tol)
        got = ag.log_softmax_backward(dy, ly)
        t = np.sum(dy.astype(np.float64), axis=-1, keepdims=True)
        err = np.abs((got - lb[..., 0]) - lb[..., 1])
        tol = 4 * (np.spacing(np.abs(lb[..., 0]).astype(dtype)) + eps * np.abs(np.exp(ly.astype(np.float64)) * t))
        assert np.all(err <= tol)


@pytest.mark.parametrize("dtype", FLOATS)
def test_backward_ulp_long_rows(dtype):
    """Rows beyond 128 KiB: the pieces' sums of dy*y (and dy) combine in double and must keep
    the digits the one-piece float32 sum keeps in its (hi, lo) pair of floats."""
    n = 40_000 if dtype == np.float32 else 20_000
    x = (RNG.standard_normal((1, n)) * 3).astype(dtype)
    y, ly = ag.softmax(x), ag.log_softmax(x)
    s_est = float(np.sum(RNG.standard_normal(n) * y[0]))
    dy = (s_est + RNG.standard_normal((1, n)) * 1e-3).astype(dtype)   # dy - sum(dy y) cancels
    sb, _ = ref_backward(dy, y)
    # each piece's float32 sum is a pair of floats good to ~2^-43 relative; combined, S must
    # stay good to 2^-33 (rounded to one float it would be off by up to 2^-24: half an eps)
    s = np.sum(dy.astype(np.float64) * y, axis=-1, keepdims=True)
    err = np.abs((ag.softmax_backward(dy, y) - sb[..., 0]) - sb[..., 1])
    eps = np.finfo(dtype).eps
    assert np.all(err <= 4 * np.spacing(np.abs(sb[..., 0]).astype(dtype)) + 2.0 ** -10 * eps * np.abs(y * s))
    # log_softmax_backward, dy - e^y sum(dy): where y = 0, e^y = 1 is exact and dy[0] - sum(dy)
    # cancels to 1e-3 of it, so the result is dy[0] - S rounded once, give or take S's error
    ly[0, 0] = 0
    dy[0, 0] = 1e3
    dy[0, 1:] = RNG.standard_normal(n - 1) * 1e-3
    _, lb = ref_backward(dy, ly)
    got = ag.log_softmax_backward(dy, ly)
    assert ulp_error(got[:, :1], lb[:, :1], dtype).max() <= 1
    err = np.abs((got - lb[..., 0]) - lb[..., 1])
    t = np.sum(dy.astype(np.float64))
    tol = 4 * (np.spacing(np.abs(lb[..., 0]).astype(dtype)) + eps * np.abs(np.exp(ly.astype(np.float64)) * t))
    assert np.all(err <= tol)


def test_jacobian_matches_jvp():
    x = RNG.standard_normal((2, 3, 6))
    v = RNG.standard_normal((2, 3, 6))
    for axis in (0, 1, 2, -1):
        y = ag.softmax(x, axis=axis)
        jac = ag.softmax_jacobian(y, axis=axis)
        yl, vl = np.moveaxis(y, axis, -1), np.moveaxis(v, axis, -1)
        assert jac.shape == yl.shape + (yl.shape[-1],)
        np.testing.assert_allclose(np.einsum("...ik,...k->...i", jac, vl),
                                   np.moveaxis(ag.softmax_jvp(v, y, axis=axis), axis, -1), rtol=1e-13, atol=1e-16)
        np.testing.assert_array_equal(jac, np.swapaxes(jac, -1, -2))   # symmetric: VJP = JVP
    y = np.array([1 - 1e-12, 1e-12])
    assert ag.softmax_jacobian(y)[0, 0] == y[0] * (1 - y[0])            # not y - y*y
    assert ag.softmax_jacobian(np.float16([0.25, 0.75])).dtype == np.float16
    assert ag.softmax_jacobian(np.zeros((3, 0))).shape == (3, 0, 0)


def test_finite_differences():
    h = 1e-6
    for n in (1, 4, 50):
        x, v, dy = (RNG.standard_normal((3, n)) * 3 for _ in range(3))
        y = ag.softmax(x)
        fd = (ag.softmax(x + h * v) - ag.softmax(x - h * v)) / (2 * h)
        np.testing.assert_allclose(ag.softmax_jvp(v, y), fd, rtol=1e-6, atol=1e-9)
        # d/dt sum(dy * f(x + t v)) = <f'^T dy, v> for f = softmax and log_softmax
        for f, back in ((ag.softmax, ag.softmax_backward), (ag.log_softmax, ag.log_softmax_backward)):
            fd = np.sum(dy * (f(x + h * v) - f(x - h * v)), axis=-1) / (2 * h)
            np.testing.assert_allclose(np.sum(back(dy, f(x)) * v, axis=-1), fd, rtol=1e-6, atol=1e-8)


def test_special_rows():
    inf, nan = np.inf, np.nan
    x = np.array([[-inf, -inf, -inf], [1, inf, 2], [1, nan, 2], [inf, nan, -inf],
                  [1e30, -1e30, 0], [-1e4, 1e4, 0], [-inf, 3, -inf], [inf, inf, 0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")      # no FP warnings leak out of C
        with np.errstate(all="raise"):
            for dtype in FLOATS:
                xs = x.astype(dtype)
                y, ly, lse = ag.softmax(xs), ag.log_softmax(xs), ag.logsumexp(xs)
                for r in (0, 1, 2, 3, 7):
                    assert np.isnan(y[r]).all() and np.isnan(ly[r]).all()
                np.testing.assert_array_equal(y[4:7], [[1, 0, 0], [0, 1, 0], [0, 1, 0]])
                np.testing.assert_array_equal(ly[4], [0, -2e30, -1e30] if dtype == np.float64 else
                                              np.float32([0, -2e30, -1e30]))
                np.testing.assert_array_equal(lse[[0, 1, 2, 3, 4, 6, 7]], [-inf, inf, nan, nan, dtype(1e30), 3, inf])
                # a NaN dy makes the whole backward row NaN (no hiding behind y = 0)
                dy = np.array([[0.0, nan, 1.0]], dtype)
                assert np.isnan(ag.softmax_backward(dy, ag.softmax(xs[6:7]))).all()
                assert np.isnan(ag.log_softmax_backward(dy, ag.log_softmax(xs[6:7]))).all()


@pytest.mark.parametrize("dtype", FLOATS)
def test_special_long_rows(dtype):
    """Rows of many pieces: an all -inf piece adds 0, one NaN or +inf spoils the row."""
    n = 100_000
    x = np.full((5, n), -np.inf, dtype)
    x[0, 60_000:] = RNG.standard_normal(n - 60_000)
    x[2, 70_000] = np.nan
    x[3, :] = 0
    x[3, 5] = np.inf
    x[4, :] = RNG.standard_normal(n)
    x[4, 99_999] = np.nan
    y, lse = ag.softmax(x), ag.logsumexp(x)
    np.testing.assert_array_equal(y[0, :60_000], 0)
    np.testing.assert_array_max_ulp(y[0, 60_000:], ag.softmax(x[0, 60_000:]), maxulp=4)
    assert lse[0] == pytest.approx(ag.logsumexp(x[0, 60_000:]), rel=float(4 * np.finfo(dtype).eps))
    for r in (1, 2, 3, 4):
        assert np.isnan(y[r]).all() and np.isnan(ag.log_softmax(x[r])).all()
    np.testing.assert_array_equal(lse[1:], [-np.inf, np.nan, np.inf, np.nan])


def test_empty_and_shapes():
    assert ag.softmax(np.zeros((0, 5))).shape == (0, 5)
    assert ag.softmax(np.zeros((5, 0))).shape == (5, 0)
    assert ag.log_softmax(np.zeros(0, np.float32)).dtype == np.float32
    np.testing.assert_array_equal(ag.logsumexp(np.zeros((4, 0))), [-np.inf] * 4)
    np.testing.assert_array_equal(ag.logsumexp(np.zeros((4, 0, 2)), axis=1, keepdims=True), np.full((4, 1, 2), -np.inf))
    assert ag.logsumexp(np.zeros((0, 3))).shape == (0,)
    assert ag.softmax_backward(np.zeros((2, 0)), np.zeros((2, 0))).shape == (2, 0)
    r = ag.logsumexp([1.0, 2.0])
    assert isinstance(r, np.float64) and r == pytest.approx(math.log(math.e + math.e ** 2))
    assert ag.logsumexp(np.float32([[1, 2], [3, 4]]), axis=0, keepdims=True).shape == (1, 2)


@pytest.mark.parametrize("dtype", FLOATS)
def test_every_axis_and_layout(dtype):
    """Each axis of a 4-D array, in views of several layouts, equals the last-axis result of a
    contiguous copy (within 2 ULPs: columns and rows sum in different orders)."""
    base = (RNG.standard_normal((5, 6, 7, 9)) * 4).astype(dtype)
    views = [base, np.asfortranarray(base), base[::-1, :, ::2, 1:], base.transpose(2, 0, 3, 1),
             np.broadcast_to(base[:1], (3, 6, 7, 9)), base[:, ::2, :, ::3]]
    for x in views:
        for axis in range(-4, 4):
            c = np.ascontiguousarray(np.moveaxis(x, axis, -1))
            for f in (ag.softmax, ag.log_softmax):
                got = np.moveaxis(f(x, axis=axis), axis, -1)
                np.testing.assert_array_max_ulp(got, f(c), maxulp=2)
            np.testing.assert_array_max_ulp(ag.logsumexp(x, axis=axis), ag.logsumexp(c), maxulp=2)
            dy = np.ones_like(x) * np.arange(x.shape[axis]).reshape([-1 if d == axis % 4 else 1 for d in range(4)])
            got = np.moveaxis(ag.softmax_backward(dy, x, axis=axis), axis, -1)
            want = ag.softmax_backward(np.ascontiguousarray(np.moveaxis(dy, axis, -1)), c)
            eps = np.finfo(dtype).eps
            np.testing.assert_allclose(got, want, rtol=8 * eps, atol=8 * eps * np.abs(want).max())


def test_out_argument():
    x = RNG.standard_normal((4, 33)).astype(np.float32)
    want = ag.softmax(x)
    out = np.empty_like(x)
    assert ag.softmax(x, out=out) is out
    np.testing.assert_array_equal(out, want)
    out64 = np.empty((4, 33))                                 # float32 -> float64: same_kind
    ag.softmax(x, out=out64)
    np.testing.assert_array_equal(out64, want.astype(np.float64))
    strided = np.zeros((4, 66), np.float32)[:, ::2]
    ag.softmax(x, out=strided)
    np.testing.assert_array_equal(strided, want)
    y = x.copy()                                              # in place, every op
    assert ag.softmax(y, out=y) is y
    np.testing.assert_array_equal(y, want)
    y = x.copy()
    ag.log_softmax(y, axis=0, out=y)
    np.testing.assert_array_equal(y, ag.log_softmax(x, axis=0))
    dy = RNG.standard_normal(x.shape).astype(np.float32)
    b = ag.softmax_backward(dy, want)
    ag.softmax_backward(dy, want, out=dy)
    np.testing.assert_array_equal(dy, b)
    z = x.copy()                                              # overlapping but shifted: computed via a copy
    ag.softmax(z[:, :-1], out=z[:, 1:])
    np.testing.assert_array_equal(z[:, 1:], ag.softmax(x[:, :-1]))
    lse = np.empty((4, 1), np.float32)
    assert ag.logsumexp(x, keepdims=True, out=lse) is lse
    np.testing.assert_array_equal(lse[:, 0], ag.logsumexp(x))
    lse2 = np.zeros((8,), np.float32)[::2]
    ag.logsumexp(x, out=lse2)
    np.testing.assert_array_equal(lse2, ag.logsumexp(x))


def test_errors_and_dtypes():
    x = np.ones((3, 4))
    with pytest.raises(np.exceptions.AxisError):
        ag.softmax(np.float64(1.0))
    with pytest.raises(np.exceptions.AxisError):
        ag.log_softmax(x, axis=2)
    with pytest.raises(np.exceptions.AxisError):
        ag.logsumexp(x, axis=-3)
    with pytest.raises(TypeError):
        ag.softmax(x, axis=1.0)
    for name in ("softmax", "log_softmax", "logsumexp", "softmax_jacobian"):
        for bad in (np.ones(3, complex), np.array(["a", "b"]), np.array([1, None], object)):
            with pytest.raises(TypeError, match=name):
                getattr(ag, name)(bad)
    for name in ("softmax_backward", "softmax_jvp", "log_softmax_backward"):
        f = getattr(ag, name)
        with pytest.raises(ValueError, match=name):
            f(np.ones((3, 4)), np.ones((4, 3)))
        with pytest.raises(TypeError, match=name):
            f(np.ones(3, complex), np.ones(3))
        with pytest.raises(np.exceptions.AxisError):
            f(np.float64(1), np.float64(1))
    out = np.full((3, 4), 7.0)
    for bad_out, exc in ((np.empty((4, 3)), ValueError), (np.empty((3, 4), np.int64), TypeError),
                         ([0.0] * 12, TypeError)):
        with pytest.raises(exc):
            ag.softmax(x, out=bad_out)
    out.flags.writeable = False
    with pytest.raises(ValueError):
        ag.softmax(x, out=out)
    assert (out == 7).all()
    with pytest.raises(ValueError):
        ag.logsumexp(x, out=np.empty((3, 1)))                 # keepdims=False wants (3,)
    # float16 computes in float32 and rounds once; bool and integers compute in float64
    h = (RNG.standard_normal((3, 50)) * 3).astype(np.float16)
    assert ag.softmax(h).dtype == np.float16
    np.testing.assert_array_equal(ag.softmax(h), ag.softmax(h.astype(np.float32)).astype(np.float16))
    np.testing.assert_array_equal(ag.log_softmax(h, axis=0),
                                  ag.log_softmax(h.astype(np.float32), axis=0).astype(np.float16))
    for dt in (np.bool_, np.int8, np.uint16, np.int32, np.int64, np.uint64):
        i = (RNG.integers(0, 2, (3, 7))).astype(dt)
        assert ag.softmax(i).dtype == np.float64
        np.testing.assert_array_equal(ag.softmax(i), ag.softmax(i.astype(np.float64)))
        np.testing.assert_array_equal(ag.logsumexp(i, axis=0), ag.logsumexp(i.astype(np.float64), axis=0))
    big_endian = np.arange(6.0).astype(">f8")
    np.testing.assert_array_equal(ag.softmax(big_endian), ag.softmax(np.arange(6.0)))
    # dtypes promote like ufuncs
    y32, dy64 = ag.softmax(np.float32([1, 2, 3])), np.array([1.0, 0, 0])
    assert ag.softmax_backward(dy64, y32).dtype == np.float64
    assert ag.softmax_backward(dy64.astype(np.float32), y32).dtype == np.float32
    assert ag.softmax_jvp(np.float16([1, 0, 0]), y32.astype(np.float16)).dtype == np.float16
    assert ag.log_softmax_backward(np.int8([1, 0, 0]), np.float16([-1, -1, -1])).dtype == np.float16


@pytest.mark.parametrize("shape,axis", [((1, 1_000_003), -1), ((300, 1000), -1), ((500, 64), 0), ((3, 50_000), 1)])
@pytest.mark.parametrize("dtype", FLOATS)
def test_threads_bitwise(shape, axis, dtype):
    x = (RNG.standard_normal(shape) * 10).astype(dtype)
    dy = RNG.standard_normal(shape).astype(dtype)
    results = []
    for n in (1, 2, 3):
        with ag.num_threads(n):
            y = ag.softmax(x, axis=axis)
            results.append([y, ag.log_softmax(x, axis=axis), ag.logsumexp(x, axis=axis),
                            ag.softmax_backward(dy, y, axis=axis), ag.log_softmax_backward(dy, y, axis=axis)])
    for r in results[1:]:
        for a, b in zip(results[0], r):
            np.testing.assert_array_equal(a, b)


def test_isas_bitwise():
    paths = [p for p in _core.ISAS if _core.isa_supported(p)]
    if len(paths) < 2:
        pytest.skip("only the scalar SIMD path runs here")
    x = (RNG.standard_normal((3, 40_001)) * 10).astype(np.float32)
    xc = (RNG.standard_normal((50, 20)) * 10)
    before = _core.isa()
    results = {}
    try:
        for p in paths:
            _core.set_isa(p)
            results[p] = [ag.softmax(x), ag.log_softmax(x), ag.logsumexp(x), ag.softmax(xc, axis=0),
                          ag.softmax_backward(x, ag.softmax(x)), ag.log_softmax_backward(xc, xc, axis=0)]
    finally:
        _core.set_isa(before)
    for p in paths[1:]:
        for a, b in zip(results["scalar"], results[p]):
            np.testing.assert_array_equal(a, b)


def test_python_threads_at_once():
    xs = [RNG.standard_normal((64, 3000)) for _ in range(8)]
    want = [ag.softmax(x) for x in xs]
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        got = list(pool.map(ag.softmax, xs))
    for a, b in zip(want, got):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", FLOATS)
def test_against_scipy(dtype):
    special = pytest.importorskip("scipy.special")
    x = (RNG.standard_normal((6, 7, 8)) * 5).astype(dtype)
    rtol = 4 * np.finfo(dtype).eps if dtype == np.float32 else 1e-12
    atol = 8 * np.finfo(dtype).eps * np.abs(x).max()   # max + log(sum) may cancel to ~0
    for axis in (0, 1, 2):
        ref = x.astype(np.float64)
        np.testing.assert_allclose(ag.softmax(x, axis=axis), special.softmax(ref, axis=axis), rtol=rtol)
        np.testing.assert_allclose(ag.log_softmax(x, axis=axis), special.log_softmax(ref, axis=axis),
                                   rtol=rtol, atol=atol)
        np.testing.assert_allclose(ag.logsumexp(x, axis=axis), special.logsumexp(ref, axis=axis),
                                   rtol=rtol, atol=atol)


@pytest.mark.torch
@pytest.mark.parametrize("dtype", FLOATS)
def test_against_torch(dtype):
    torch = pytest.importorskip("torch")
    x = (RNG.standard_normal((5, 30)) * 5).astype(dtype)
    x[0] = -np.inf
    x[1, 3] = np.inf
    x[2, 4] = np.nan
    dy = RNG.standard_normal(x.shape).astype(dtype)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    for axis in (0, 1):
        t = torch.from_numpy(x)
        np.testing.assert_allclose(ag.softmax(x, axis=axis), torch.softmax(t, axis).numpy(), rtol=rtol, atol=1e-30)
        # PyTorch's log_softmax cancels near 0 (log of a sum 1 + tiny): absolute there
        np.testing.assert_allclose(ag.log_softmax(x, axis=axis), torch.log_softmax(t, axis).numpy(), rtol=rtol,
                                   atol=4 * np.finfo(dtype).eps)
        # max + log(sum) may cancel to ~0; both sides then err by ~eps |max|
        np.testing.assert_allclose(ag.logsumexp(x, axis=axis), torch.logsumexp(t, axis).numpy(), rtol=rtol,
                                   atol=8 * np.finfo(dtype).eps * np.abs(x[np.isfinite(x)]).max())
        for f, back in ((torch.softmax, ag.softmax_backward), (torch.log_softmax, ag.log_softmax_backward)):
            tx = torch.from_numpy(x[3:]).requires_grad_()
            ty = f(tx, axis)
            ty.backward(torch.from_numpy(dy[3:]))
            got = back(dy[3:], ty.detach().numpy(), axis=axis)
            np.testing.assert_allclose(got, tx.grad.numpy(), rtol=rtol, atol=10 * np.finfo(dtype).eps)
