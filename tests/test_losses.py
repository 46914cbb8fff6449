"""Losses (docs/api.md section 4): cross_entropy, binary_cross_entropy_with_logits, mse_loss and
their _backward/_with_grad forms, against a float64/longdouble NumPy reference (mpmath for
extreme values), finite differences, PyTorch 2.13 when installed, threads, errors."""
import itertools

import numpy as np
import pytest

import actgrad as ag

RNG = np.random.default_rng(20240607)
F32, F64 = np.float32, np.float64
TOL = {F32: 3e-6, F64: 1e-13}


# ---- references (long double NumPy) ----

def ce_ref(x, target, axis=-1, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0,
           grad=1.0):
    """(loss, gradient, sizes of the gradient's terms) of PyTorch's cross-entropy, derived
    independently of the C formulas: log_softmax from a long double logsumexp."""
    x = np.moveaxis(np.asarray(x, np.longdouble), axis, -1)
    C = x.shape[-1]
    m = x.max(-1, keepdims=True)
    lse = m + np.log(np.exp(x - m).sum(-1, keepdims=True))
    logp, p = x - lse, np.exp(x - lse)
    w = np.ones(C, np.longdouble) if weight is None else np.asarray(weight, np.longdouble)
    t = np.asarray(target)
    if t.ndim == x.ndim - 1:                        # class indices
        live = t != ignore_index
        q = np.zeros_like(x)
        np.put_along_axis(q, np.where(live, t, 0)[..., None], 1, -1)
        qq = (1 - label_smoothing) * q + label_smoothing / C
        qq = np.where(live[..., None], qq, 0)
        den = np.where(live, w[np.where(live, t, 0)], 0).sum()
    else:
        qq = (1 - label_smoothing) * np.moveaxis(np.asarray(t, np.longdouble), axis, -1) + label_smoothing / C
        den = np.longdouble(x[..., 0].size)
    wq = w * qq
    per = -np.where(wq != 0, wq * logp, 0).sum(-1)
    A = wq.sum(-1, keepdims=True)
    if reduction == "none":
        up = np.broadcast_to(np.asarray(grad, np.longdouble), per.shape)[..., None]
        loss = per
    else:
        up = np.longdouble(grad) / den if reduction == "mean" else np.longdouble(grad)
        with np.errstate(invalid="ignore", divide="ignore"):
            loss = per.sum() / den if reduction == "mean" else per.sum()
    g = up * (A * p - wq)
    terms = np.abs(up * A) + np.abs(up * wq)
    return loss, np.moveaxis(g, -1, axis), np.moveaxis(np.broadcast_to(terms, g.shape), -1, axis)


def bce_ref(x, t, weight=None, pos_weight=None, reduction="mean", grad=1.0):
    """(loss, gradient, loss terms, gradient terms) in long double."""
    x, t = np.asarray(x, np.longdouble), np.asarray(t, np.longdouble)
    w = np.longdouble(1) if weight is None else np.asarray(weight, np.longdouble)
    pw = np.longdouble(1) if pos_weight is None else np.asarray(pos_weight, np.longdouble)
    lw = 1 + (pw - 1) * t
    e = np.exp(-np.abs(x))
    sp = np.maximum(-x, 0) + np.log1p(e)
    per = w * ((1 - t) * x + lw * sp)
    lterms = np.abs(w) * (np.abs((1 - t) * x) + np.abs(lw * sp))
    sig = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
    up = np.broadcast_to(np.asarray(grad, np.longdouble), x.shape) if reduction == "none" else (
        np.longdouble(grad) / x.size if reduction == "mean" else np.longdouble(grad))
    g = up * w * (lw * sig - pw * t)
    gterms = np.abs(up * w) * (np.abs(lw) + np.abs(pw * t))
    loss = per if reduction == "none" else (per.mean() if reduction == "mean" else per.sum())
    return loss, g, lterms, np.broadcast_to(gterms, g.shape)


def assert_close(a, r, tol, scale=0.0, what=""):
    a = np.asarray(a, np.float64)
    r = np.asarray(r, np.float64)
    assert a.shape == r.shape, (a.shape, r.shape)
    bad = ~((np.abs(a - r) <= tol * (np.abs(r) + scale)) | (np.isnan(a) & np.isnan(r)))
    assert not bad.any(), f"{what}: {a[bad][:5]} vs {r[bad][:5]}"


def logits(shape, dtype=F64, spread=6.0):
    return (RNG.standard_normal(shape) * spread).astype(dtype)


def index_target(shape, C, ignore=-100, frac=0.15):
    t = RNG.integers(0, C, shape)
    t[RNG.random(shape) < frac] = ignore
    return t


def probs_target(shape, axis, dtype=F64):
    p = RNG.random(shape)
    return (p / p.sum(axis, keepdims=True)).astype(dtype)


# ---- cross-entropy against the reference ----

CE_CASES = [((64, 10), -1), ((5, 7, 3, 4), 1), ((3, 4, 5), 0), ((9,), 0), ((6, 33), -1),
            ((2, 3, 40), -1), ((4, 129), 1)]


@pytest.mark.parametrize("shape,axis", CE_CASES)
@pytest.mark.parametrize("dtype", [F32, F64])
@pytest.mark.parametrize("probs", [False, True])
def test_cross_entropy_matches_reference(shape, axis, dtype, probs):
    x = logits(shape, dtype)
    C = shape[axis]
    sample = shape[:axis % len(shape)] + shape[axis % len(shape) + 1:]
    t = probs_target(shape, axis, dtype) if probs else index_target(sample, C)
    w = (RNG.random(C) + 0.5).astype(dtype)
    for weight, ls, red in itertools.product([None, w], [0.0, 0.3], ["none", "mean", "sum"]):
        kw = dict(axis=axis, weight=weight, reduction=red, label_smoothing=ls)
        rl, rg, terms = ce_ref(x, t, **kw)
        loss, g = ag.cross_entropy_with_grad(x, t, **kw)
        tol = TOL[dtype] * (1 + np.log(C))
        assert g.dtype == dtype and g.shape == shape
        if red == "none":
            assert isinstance(loss, np.ndarray) and loss.dtype == dtype and loss.shape == sample
            assert_close(loss, rl, 4 * tol, 1.0, "per-sample loss")
        else:
            assert type(loss) is np.dtype(dtype).type
            assert_close(loss, rl, 4 * tol, 0.0, "loss")
        assert_close(g, rg, 4 * tol, terms, "gradient")
        assert_close(ag.cross_entropy(x, t, **kw), loss, 0, 0, "cross_entropy == with_grad's loss")
        assert_close(ag.cross_entropy_backward(x, t, **kw), g, 0, 0, "backward == with_grad's gradient")


def test_cross_entropy_backward_upstream_grad():
    x = logits((5, 6, 7), F64)
    t = index_target((5, 7), 6)
    up = RNG.standard_normal((5, 7))
    _, rg, terms = ce_ref(x, t, axis=1, reduction="none", grad=up)
    assert_close(ag.cross_entropy_backward(x, t, axis=1, reduction="none", grad=up), rg, 1e-13, terms)
    _, rg, terms = ce_ref(x, t, axis=1, reduction="none", grad=up[:, :1])   # broadcast
    assert_close(ag.cross_entropy_backward(x, t, axis=1, reduction="none", grad=up[:, :1]), rg, 1e-13, terms)
    _, rg, terms = ce_ref(x, t, axis=1, grad=-2.5)
    assert_close(ag.cross_entropy_backward(x, t, axis=1, grad=-2.5), rg, 1e-13, terms)


def test_cross_entropy_ignore_index_and_all_ignored():
    x = logits((8, 5), F64)
    t = np.array([0, 2, 2, 4, 2, 1, 2, 3])
    for ls in (0.0, 0.2):
        rl, rg, terms = ce_ref(x, t, ignore_index=2, label_smoothing=ls)
        loss, g = ag.cross_entropy_with_grad(x, t, ignore_index=2, label_smoothing=ls)
        assert_close(loss, rl, 1e-13)
        assert_close(g, rg, 1e-13, terms)
        assert not g[t == 2].any()
    x[t == 2] = np.nan                    # an ignored sample does not take part, NaN or not
    loss, g = ag.cross_entropy_with_grad(x, t, ignore_index=2)
    assert np.isfinite(loss) and not g[t == 2].any() and np.isfinite(g).all()
    loss, g = ag.cross_entropy_with_grad(x, np.full(8, 7), ignore_index=7, label_smoothing=0.1)
    assert np.isnan(loss) and not g.any()
    assert ag.cross_entropy(x, np.full(8, 7), ignore_index=7, reduction="sum") == 0


def test_cross_entropy_layouts_out_and_dtypes():
    base = logits((6, 5, 4), F64)
    t = index_target((6, 4), 5)
    rl, rg, terms = ce_ref(base, t, axis=1)
    for x in (np.asfortranarray(base), base[:, ::-1][:, ::-1], np.swapaxes(np.swapaxes(base, 0, 2).copy(), 0, 2)):
        loss, g = ag.cross_entropy_with_grad(x, t, axis=1)
        assert_close(loss, rl, 1e-13)
        assert_close(g, rg, 1e-13, terms)
    # out=: a new array, in place over the logits, a strided view, a float64 out of float32 logits
    out = np.empty_like(base)
    assert ag.cross_entropy_backward(base, t, axis=1, out=out) is out
    assert_close(out, rg, 1e-13, terms)
    x = base.copy()
    loss, g = ag.cross_entropy_with_grad(x, t, axis=1, out=x)
    assert g is x
    assert_close(x, rg, 1e-13, terms)
    big = np.zeros((6, 10, 4))
    ag.cross_entropy_backward(base, t, axis=1, out=big[:, ::2])
    assert_close(big[:, ::2], rg, 1e-13, terms)
    assert not big[:, 1::2].any()
    o64 = np.empty((6, 5, 4))
    ag.cross_entropy_backward(base.astype(F32), t, axis=1, out=o64)
    assert_close(o64, rg, 1e-5, terms)
    # float16 is computed in float32; bool and integer logits in float64
    l16, g16 = ag.cross_entropy_with_grad(base.astype(np.float16), t, axis=1)
    assert type(l16) is np.float16 and g16.dtype == np.float16
    assert_close(g16, ag.cross_entropy_backward(base.astype(np.float16).astype(F32), t, axis=1), 1e-3, terms)
    li, gi = ag.cross_entropy_with_grad(np.round(base).astype(np.int8), t, axis=1)
    assert type(li) is np.float64 and gi.dtype == np.float64
    assert_close(li, ce_ref(np.round(base), t, axis=1)[0], 1e-13)
    # integer targets of any width, lists
    assert_close(ag.cross_entropy(base, t.astype(np.int32), axis=1), rl, 1e-13)
    tu = np.where(t < 0, 1, t)
    assert_close(ag.cross_entropy(base, tu.astype(np.uint8), axis=1), ce_ref(base, tu, axis=1)[0], 1e-13)
    assert_close(ag.cross_entropy(base.tolist(), t.tolist(), axis=1), rl, 1e-13)


@pytest.mark.parametrize("dtype", [F32, F64])
def test_cross_entropy_fast_path_equals_general_path(dtype):
    """(N, C) float logits with int64 labels and no weight (whose plainly valid arguments skip
    the general checks) and a weight of ones give the same bits, out= included, and the
    calls that need conversions (overlapping out, other dtypes, layouts, byte order) still
    come out right."""
    N, C = 37, 10
    x = logits((N, C), dtype)
    t = index_target(N, C)
    ones = np.ones(C, dtype)
    t3 = np.where(t == -100, 3, t)
    for tt, kw in ((t, dict()), (t, dict(reduction="sum", label_smoothing=0.2)), (t3, dict(ignore_index=3, axis=1))):
        loss, g = ag.cross_entropy_with_grad(x, tt, **kw)
        lw, gw = ag.cross_entropy_with_grad(x, tt, weight=ones, **kw)
        assert loss.tobytes() == lw.tobytes() and g.tobytes() == gw.tobytes()
        assert ag.cross_entropy(x, tt, **kw).tobytes() == lw.tobytes()
        assert ag.cross_entropy_backward(x, tt, grad=0.5, **kw).tobytes() == \
            ag.cross_entropy_backward(x, tt, weight=ones, grad=0.5, **kw).tobytes()
        out = np.empty_like(x)
        assert ag.cross_entropy_with_grad(x, tt, out=out, **kw)[1] is out and out.tobytes() == gw.tobytes()
        xi = x.copy()
        assert ag.cross_entropy_backward(xi, tt, out=xi, **kw) is xi and xi.tobytes() == \
            ag.cross_entropy_backward(x, tt, **kw).tobytes()
    # out= sharing memory with the targets: computed aside, then copied
    buf = np.zeros(N * C, dtype)
    tv = buf[:N * 8 // buf.itemsize].view(np.int64)
    tv[:] = t
    g = ag.cross_entropy_backward(x, tv, out=buf.reshape(N, C))
    assert g.base is buf and g.tobytes() == ag.cross_entropy_backward(x, t).tobytes()
    # declined: other out dtype, int32 labels, F order, byte-swapped logits
    o64 = np.empty((N, C))
    ag.cross_entropy_backward(x, t, out=o64)
    assert_close(o64, ag.cross_entropy_backward(x, t), 0, 0)
    for xv, tv in ((x, t.astype(np.int32)), (np.asfortranarray(x), t), (x.astype(x.dtype.newbyteorder()), t)):
        assert_close(ag.cross_entropy_with_grad(xv, tv)[1], ag.cross_entropy_backward(x, t), 0, 0)


def test_cross_entropy_empty_and_unbatched():
    assert np.isnan(ag.cross_entropy(np.zeros((0, 4)), np.zeros(0, int)))
    assert ag.cross_entropy(np.zeros((0, 4)), np.zeros(0, int), reduction="sum") == 0
    assert ag.cross_entropy(np.zeros((0, 4)), np.zeros(0, int), reduction="none").shape == (0,)
    loss, g = ag.cross_entropy_with_grad(np.zeros((3, 0, 2)), np.full((3, 2), -100), axis=1)
    assert np.isnan(loss) and g.shape == (3, 0, 2)
    x = logits(7)
    loss = ag.cross_entropy(x, 3, reduction="none")
    assert isinstance(loss, np.ndarray) and loss.shape == ()
    assert_close(loss, ce_ref(x, np.array(3), reduction="none")[0], 1e-13)


def test_cross_entropy_extreme_logits_mpmath():
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 50
    rows = np.array([[1e4, -1e4, 0.0, 3.0], [-1e4, -1e4 + 1, -1e4 + 2, -1e4], [700.0, 710.0, -745.0, 0.0],
                     [1e-300, -1e-300, 0.0, 5e-324], [88.0, 89.0, 90.0, -104.0]])
    t = np.array([1, 2, 0, 3, 2])
    for dtype in (F64, F32):
        x = rows.astype(dtype)
        loss = ag.cross_entropy(x, t, reduction="none")
        g = ag.cross_entropy_backward(x, t, reduction="sum")
        for i, row in enumerate(x.astype(F64)):
            lse = mpmath.log(mpmath.fsum(mpmath.exp(mpmath.mpf(v)) for v in row))
            ref = lse - mpmath.mpf(row[t[i]])
            assert abs(loss[i] - float(ref)) <= 4 * TOL[dtype] * (abs(float(ref)) + 1), (i, loss[i], ref)
            for c, v in enumerate(row):
                gr = float(mpmath.exp(mpmath.mpf(v) - lse)) - (c == t[i])
                assert abs(g[i, c] - gr) <= 4 * TOL[dtype], (i, c, g[i, c], gr)


@pytest.mark.parametrize("dtype,spread", [(F32, 4.0), (F64, 1.0)])
@pytest.mark.parametrize("axis", [-1, 0])
def test_cross_entropy_many_classes_gradient_ulp(dtype, spread, axis):
    """10^5 classes: the exp sum s is added in blocks (plain sums of 64 terms per lane, then
    2Sum), so the softmax part of the gradient keeps a few ULPs of relative accuracy.  A plain
    running sum lost the small terms' low digits, all in one direction: s was ~10^-5 low in
    float32 and every gradient element ~100 ULPs off (median; classes along rows and along
    columns alike)."""
    C = 100_000
    x = (RNG.standard_normal((2, C)) * spread).astype(dtype)
    t = RNG.integers(0, C, 2)
    xs = x if axis == -1 else np.ascontiguousarray(x.T)
    g = ag.cross_entropy_backward(xs, t, axis=axis, reduction="none")
    g = g if axis == -1 else g.T
    xl = x.astype(np.longdouble)
    e = np.exp(xl - xl.max(-1, keepdims=True))
    p = e / e.sum(-1, keepdims=True)
    others = np.ones(g.shape, bool)
    others[np.arange(2), t] = False
    ulps = np.abs(g.astype(np.longdouble) / p - 1)[others].astype(F64) / np.finfo(dtype).eps
    assert np.median(ulps) <= 8, np.median(ulps)


def test_cross_entropy_gradient_finite_differences():
    x = logits((4, 5, 3), F64, 2.0)
    t = index_target((4, 3), 5, frac=0.2)
    w = RNG.random(5) + 0.5
    for ls, weight, red in itertools.product([0.0, 0.25], [None, w], ["mean", "sum"]):
        kw = dict(axis=1, weight=weight, label_smoothing=ls, reduction=red)
        g = ag.cross_entropy_backward(x, t, **kw)
        h = 1e-6
        for idx in itertools.islice(np.ndindex(x.shape), 0, None, 7):
            xp, xm = x.copy(), x.copy()
            xp[idx] += h
            xm[idx] -= h
            fd = (ag.cross_entropy(xp, t, **kw) - ag.cross_entropy(xm, t, **kw)) / (2 * h)
            assert abs(g[idx] - fd) <= 1e-7 * (1 + abs(fd)), (idx, g[idx], fd)
    p = probs_target((4, 5, 3), 1)
    g = ag.cross_entropy_backward(x, p, axis=1, weight=w, label_smoothing=0.1)
    for idx in itertools.islice(np.ndindex(x.shape), 0, None, 5):
        xp, xm = x.copy(), x.copy()
        xp[idx] += 1e-6
        xm[idx] -= 1e-6
        fd = (ag.cross_entropy(xp, p, axis=1, weight=w, label_smoothing=0.1)
              - ag.cross_entropy(xm, p, axis=1, weight=w, label_smoothing=0.1)) / 2e-6
        assert abs(g[idx] - fd) <= 1e-7 * (1 + abs(fd))


# ---- BCE with logits and MSE against the reference ----

@pytest.mark.parametrize("dtype", [F32, F64])
def test_bce_with_logits_matches_reference(dtype):
    shape = (4, 3, 5, 6)
    x = logits(shape, dtype, 8.0)
    x.flat[::17] = 1e4
    x.flat[5::17] = -1e4
    t = RNG.random(shape).astype(dtype)
    t.flat[::3] = np.round(t.flat[::3])
    bcasts = [None, (RNG.random(()) + 0.5), RNG.random(6) + 0.5, RNG.random((3, 1, 1)) + 0.5,
              RNG.random((4, 1, 5, 1)) + 0.5, RNG.random(shape) + 0.5]
    for (weight, pos_weight), red in itertools.product(itertools.product(bcasts, bcasts[:4]),
                                                       ["none", "mean", "sum"]):
        weight = None if weight is None else np.asarray(weight, dtype)
        pos_weight = None if pos_weight is None else np.asarray(pos_weight, dtype)
        kw = dict(weight=weight, pos_weight=pos_weight, reduction=red)
        rl, rg, lt, gt = bce_ref(x, t, **kw)
        loss, g = ag.binary_cross_entropy_with_logits_with_grad(x, t, **kw)
        assert np.isfinite(loss).all() and np.isfinite(g).all()
        lscale = lt if red == "none" else (lt.mean() if red == "mean" else lt.sum())
        assert_close(loss, rl, 4 * TOL[dtype], lscale, "bce loss")
        assert_close(g, rg, 4 * TOL[dtype], gt, "bce gradient")
        assert_close(ag.binary_cross_entropy_with_logits(x, t, **kw), loss, 0, 0)
        assert_close(ag.binary_cross_entropy_with_logits_backward(x, t, **kw), g, 0, 0)
    up = RNG.standard_normal((5, 1))
    rl, rg, lt, gt = bce_ref(x, t, pos_weight=bcasts[2], reduction="none", grad=up)
    g = ag.binary_cross_entropy_with_logits_backward(x, t, pos_weight=np.asarray(bcasts[2], dtype),
                                                     reduction="none", grad=up)
    assert_close(g, rg, 4 * TOL[dtype], gt)


@pytest.mark.parametrize("dtype", [F32, F64])
def test_bce_with_logits_usual_call_equals_unit_weights(dtype):
    """The call without weight, pos_weight or upstream gradient leaves their products out
    (csrc/loops/losses_body.h): bit for bit the general path's result with weight = 1 and
    pos_weight = 1 for finite targets; an infinite target gives the formula's value,
    (1 - t) x + softplus(-x), where 1 + (pw - 1) t would be 0 * inf."""
    n = 1000
    x = logits((n,), dtype, 30.0)
    x[::13] = 0.0
    t = RNG.random(n).astype(dtype)
    t[::4] = np.round(t[::4])
    ones = np.ones(n, dtype)
    for red in ("none", "mean", "sum"):
        loss, g = ag.binary_cross_entropy_with_logits_with_grad(x, t, reduction=red)
        l1, g1 = ag.binary_cross_entropy_with_logits_with_grad(x, t, weight=ones, pos_weight=ones,
                                                               reduction=red)
        assert np.asarray(loss).tobytes() == np.asarray(l1).tobytes() and g.tobytes() == g1.tobytes()
    xs = np.array([2.0, -3.0], dtype)
    loss = ag.binary_cross_entropy_with_logits(xs, np.array([np.inf, -np.inf], dtype), reduction="none")
    assert loss.tolist() == [-np.inf, -np.inf]


def test_bce_with_logits_extremes_mpmath():
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 40
    x = np.array([1e4, -1e4, 40.0, -40.0, 745.0, -745.0, 1e-20, 0.0, 17.5, -33.0])
    t = np.array([0.0, 1.0, 1.0, 0.0, 0.3, 0.7, 0.5, 1.0, 0.9, 0.1])
    for dtype in (F64, F32):
        xs = x.astype(dtype)
        loss = ag.binary_cross_entropy_with_logits(xs, t.astype(dtype), pos_weight=np.array(2.5, dtype),
                                                   reduction="none")
        g = ag.binary_cross_entropy_with_logits_backward(xs, t.astype(dtype),
                                                         pos_weight=np.array(2.5, dtype), reduction="sum")
        for i in range(len(x)):
            xi, ti = mpmath.mpf(float(xs[i])), mpmath.mpf(float(t.astype(dtype)[i]))
            lw = 1 + (mpmath.mpf(2.5) - 1) * ti
            ref = (1 - ti) * xi + lw * mpmath.log1p(mpmath.exp(-xi))
            gref = lw * (1 / (1 + mpmath.exp(-xi))) - 2.5 * ti
            terms = abs((1 - ti) * xi) + lw * abs(mpmath.log1p(mpmath.exp(-xi)))
            assert abs(loss[i] - float(ref)) <= 4 * TOL[dtype] * float(terms + abs(ref)), (i, loss[i], ref)
            assert abs(g[i] - float(gref)) <= 4 * TOL[dtype] * float(lw + 2.5 * ti), (i, g[i], gref)


@pytest.mark.parametrize("dtype", [F32, F64])
def test_mse_matches_reference(dtype):
    pred, target = logits((7, 9), dtype), logits((7, 9), dtype)
    d = pred.astype(np.longdouble) - target
    for red, ref in (("none", d * d), ("mean", (d * d).mean()), ("sum", (d * d).sum())):
        loss, g = ag.mse_loss_with_grad(pred, target, reduction=red)
        assert_close(loss, ref, 4 * TOL[dtype], 0.0)
        assert_close(g, 2 * d / (d.size if red == "mean" else 1), 4 * TOL[dtype])
        assert_close(ag.mse_loss(pred, target, reduction=red), loss, 0)
    up = RNG.standard_normal(9)
    assert_close(ag.mse_loss_backward(pred, target, reduction="none", grad=up), 2 * d * up, 4 * TOL[dtype])
    assert_close(ag.mse_loss_backward(pred, target, grad=3.0), 6 * d / d.size, 4 * TOL[dtype])
    p = pred.copy()
    assert ag.mse_loss_backward(p, target, out=p) is p


def test_pointwise_gradients_finite_differences():
    x, t = logits((3, 4), F64, 3.0), RNG.random((3, 4))
    pw, w = RNG.random(4) + 0.5, RNG.random((3, 1)) + 0.5
    for f, fb, kw in ((ag.binary_cross_entropy_with_logits, ag.binary_cross_entropy_with_logits_backward,
                       dict(weight=w, pos_weight=pw)), (ag.mse_loss, ag.mse_loss_backward, {})):
        g = fb(x, t, **kw)
        for idx in np.ndindex(x.shape):
            xp, xm = x.copy(), x.copy()
            xp[idx] += 1e-6
            xm[idx] -= 1e-6
            fd = (f(xp, t, **kw) - f(xm, t, **kw)) / 2e-6
            assert abs(g[idx] - fd) <= 1e-7 * (1 + abs(fd))


# ---- threads, warnings, errors ----

@pytest.mark.parametrize("case", ["ce_rows", "ce_cols", "ce_pack", "bce", "mse"])
def test_threads_bitwise_identical(case):
    if case.startswith("ce"):
        shape, axis, sample = {"ce_rows": ((3000, 100), -1, (3000,)), "ce_cols": ((40, 7, 2000), 1, (40, 2000)),
                               "ce_pack": ((60000, 5), -1, (60000,))}[case]
        x = logits(shape, F32)
        t = index_target(sample, shape[axis])

        def run():
            return ag.cross_entropy_with_grad(x, t, axis=axis, label_smoothing=0.1)
    else:
        x, t = logits((300001,), F32), RNG.random(300001).astype(F32)
        f = ag.binary_cross_entropy_with_logits_with_grad if case == "bce" else ag.mse_loss_with_grad

        def run():
            return f(x, t)
    with ag.num_threads(1):
        l1, g1 = run()
    with ag.num_threads(2):
        l2, g2 = run()
    assert l1.tobytes() == l2.tobytes() and g1.tobytes() == g2.tobytes()


# ---- out= overlapping the logits (issue 15, classes 1 and 2) ----

def _grad_calls():
    """(name, f(x, t, out) -> (loss or None, gradient), x shape, target maker) of every loss
    gradient that takes out=, in the layouts of the C drivers (rows, columns, packed tiles,
    the fast path, weights: the general path)."""
    ce_shapes = {"rows": ((2, 16), -1), "rows_big": ((700, 40), -1), "cols": ((3, 5, 700), 1),
                 "pack": ((900, 5), -1)}
    calls = []
    for lay, (shape, axis) in ce_shapes.items():
        sample = tuple(d for i, d in enumerate(shape) if i != axis % len(shape))
        C = shape[axis]
        for kw in ({}, {"weight": np.linspace(0.5, 2, C)}, {"label_smoothing": 0.2}):
            tag = f"ce_{lay}_{'_'.join(kw) or 'plain'}"
            calls.append((tag + "_backward", lambda x, t, out, a=axis, kw=kw: (
                None, ag.cross_entropy_backward(x, t, axis=a, out=out, **kw)), shape,
                lambda sample=sample, C=C: RNG.integers(0, C, sample)))
            calls.append((tag + "_with_grad", lambda x, t, out, a=axis, kw=kw: ag.cross_entropy_with_grad(
                x, t, axis=a, out=out, **kw), shape, lambda sample=sample, C=C: RNG.integers(0, C, sample)))
    for n in (33, 70_001):
        calls.append((f"bce_backward_{n}", lambda x, t, out: (
            None, ag.binary_cross_entropy_with_logits_backward(x, t, out=out)), (n,), lambda n=n: RNG.random(n)))
        calls.append((f"bce_with_grad_{n}", lambda x, t, out: ag.binary_cross_entropy_with_logits_with_grad(
            x, t, out=out), (n,), lambda n=n: RNG.random(n)))
        calls.append((f"mse_backward_{n}", lambda x, t, out: (None, ag.mse_loss_backward(x, t, out=out)), (n,),
                      lambda n=n: RNG.random(n)))
        calls.append((f"mse_with_grad_{n}", lambda x, t, out: ag.mse_loss_with_grad(x, t, out=out), (n,),
                      lambda n=n: RNG.random(n)))
    return calls


@pytest.mark.parametrize("call", _grad_calls(), ids=lambda c: c[0])
@pytest.mark.parametrize("dtype", [F32, F64])
def test_gradient_out_partially_overlapping_logits(call, dtype):
    """out= sharing memory with the logits, shifted by 1, 40 or -3 elements, on 1 and 2
    threads: the loss and gradient are bitwise those of a separate out (the kernels wrote
    e^z of one row over the next row's logits, and threads over each other's ranges)."""
    name, f, shape, make_target = call
    t = make_target()
    if name.startswith(("bce", "mse")):
        t = t.astype(dtype)
    size = int(np.prod(shape))
    for shift in (1, 40, -3):
        for threads in (1, 2):
            buf = logits((size + abs(shift),), dtype)
            xs, os_ = (slice(abs(shift), None), slice(0, size)) if shift > 0 else \
                (slice(0, size), slice(abs(shift), None))
            x, out = buf[xs].reshape(shape), buf[os_].reshape(shape)
            with ag.num_threads(threads):
                loss_ref, g_ref = f(x.copy(), t, None)
                loss, g = f(x, t, out)
            assert g is out
            assert g.tobytes() == g_ref.tobytes(), f"{name} shift {shift} threads {threads}"
            if loss_ref is not None:
                assert np.asarray(loss).tobytes() == np.asarray(loss_ref).tobytes(), f"{name} loss"


def test_cross_entropy_out_overlapping_logits_reproducer():
    buf = np.random.default_rng(0).standard_normal(33)
    x, out = buf[:-1].reshape(2, 16), buf[1:].reshape(2, 16)
    ref_loss, ref = ag.cross_entropy_with_grad(x.copy(), np.array([0, 0]))
    loss, g = ag.cross_entropy_with_grad(x, np.array([0, 0]), out=out)
    assert g is out and g.tobytes() == ref.tobytes() and loss == ref_loss


@pytest.mark.parametrize("dtype", [F32, F64])
def test_gradient_out_is_logits_in_place(dtype):
    """out being the logits themselves (the same elements) is computed in place."""
    for shape, axis in (((300, 40), -1), ((3, 5, 700), 1), ((900, 5), -1)):
        x = logits(shape, dtype)
        t = RNG.integers(0, shape[axis], tuple(d for i, d in enumerate(shape) if i != axis % len(shape)))
        ref = ag.cross_entropy_with_grad(x.copy(), t, axis=axis)
        loss, g = ag.cross_entropy_with_grad(x, t, axis=axis, out=x)
        assert g is x and g.tobytes() == ref[1].tobytes() and loss == ref[0]


# ---- class weights that no target uses (issue 15, class 5) ----

@pytest.mark.parametrize("C,axis,shape", [(3, -1, (2, 3)), (20, -1, (5, 20)), (4, 1, (2, 4, 70)), (20, 0, (20, 9))])
@pytest.mark.parametrize("bad", [np.inf, np.nan, -np.inf])
@pytest.mark.parametrize("dtype", [F32, F64])
def test_cross_entropy_unused_class_weight_not_read(C, axis, shape, bad, dtype):
    """Without label smoothing PyTorch reads only weight[target]: inf or NaN on a class no
    target uses changes neither the loss nor the gradient (both were NaN: 0 * inf)."""
    x = logits(shape, dtype)
    sample = tuple(d for i, d in enumerate(shape) if i != axis % len(shape))
    t = RNG.integers(0, C - 1, sample)           # the last class is never a target
    w = np.linspace(0.5, 2.0, C)
    w_bad = w.copy()
    w_bad[-1] = bad
    for red in ("mean", "sum", "none"):
        loss, g = ag.cross_entropy_with_grad(x, t, axis=axis, weight=w, reduction=red)
        loss_b, g_b = ag.cross_entropy_with_grad(x, t, axis=axis, weight=w_bad, reduction=red)
        assert np.asarray(loss_b).tobytes() == np.asarray(loss).tobytes(), red
        assert g_b.tobytes() == g.tobytes(), red
        assert np.asarray(ag.cross_entropy(x, t, axis=axis, weight=w_bad, reduction=red)).tobytes() == \
            np.asarray(loss).tobytes()
    # with label smoothing every class's weight enters (PyTorch too): not a finite number
    assert not np.isfinite(ag.cross_entropy(x, t, axis=axis, weight=w_bad, label_smoothing=0.1))


# ---- every SIMD path gives the same bits (issue 15, class 6) ----

SIMD_PATHS = ag.config()["simd_supported"]


def _loss_results():
    """Every loss and gradient, float32 and float64, in every driver layout, with weights,
    smoothing, probability targets and every reduction."""
    rng = np.random.default_rng(11)
    out = {}
    for dtype in (F32, F64):
        for shape, axis in (((1, 20), -1), ((7, 33), -1), ((64, 10), -1), ((3, 6, 45), 1), ((5, 200), 0),
                            ((2, 129), -1)):
            x = (rng.standard_normal(shape) * 4).astype(dtype)
            C = shape[axis]
            sample = tuple(d for i, d in enumerate(shape) if i != axis % len(shape))
            t = rng.integers(0, C, sample)
            p = rng.random(shape)
            p = (p / p.sum(axis, keepdims=True)).astype(dtype)
            w = rng.uniform(0.5, 2, C)
            for red in ("mean", "sum", "none"):
                for kw in ({}, {"weight": w}, {"label_smoothing": 0.15}, {"weight": w, "label_smoothing": 0.3}):
                    key = (dtype.__name__, shape, red, tuple(kw))
                    out[("ce",) + key] = ag.cross_entropy_with_grad(x, t, axis=axis, reduction=red, **kw)
                    out[("ce_probs",) + key] = ag.cross_entropy_with_grad(x, p, axis=axis, reduction=red, **kw)
                    out[("ce_loss",) + key] = ag.cross_entropy(x, t, axis=axis, reduction=red, **kw)
        for n in (1, 13, 1000, 4099, 70_001):
            x = (rng.standard_normal(n) * 5).astype(dtype)
            t = rng.random(n).astype(dtype)
            for red in ("mean", "sum", "none"):
                out[("bce", dtype.__name__, n, red)] = ag.binary_cross_entropy_with_logits_with_grad(
                    x, t, reduction=red)
                out[("bce_w", dtype.__name__, n, red)] = ag.binary_cross_entropy_with_logits_with_grad(
                    x, t, weight=rng.random(n).astype(dtype), pos_weight=np.float64(1.7), reduction=red)
                out[("bce_loss", dtype.__name__, n, red)] = ag.binary_cross_entropy_with_logits(x, t, reduction=red)
                out[("mse", dtype.__name__, n, red)] = ag.mse_loss_with_grad(x, t, reduction=red)
                out[("mse_loss", dtype.__name__, n, red)] = ag.mse_loss(x, t, reduction=red)
                out[("mse_bw", dtype.__name__, n, red)] = ag.mse_loss_backward(x, t, reduction=red, grad=0.3)
    return {k: tuple(np.asarray(a).tobytes() for a in (v if isinstance(v, tuple) else (v,))) for k, v in out.items()}


@pytest.mark.skipif(len(SIMD_PATHS) < 2, reason="this machine runs the scalar path only")
def test_losses_simd_paths_bitwise_identical(restore_isa):
    """Every loss and gradient gives the same bits on every SIMD path (like the activations,
    tests/test_calling_convention.py): float32 cross-entropy of a (1, 20) row was 3.0519733
    on scalar and 3.0519736 on avx2 (horizontal sums in each ISA's own lane order)."""
    from actgrad import _core
    results = {}
    for isa in SIMD_PATHS:
        _core.set_isa(isa)
        results[isa] = _loss_results()
    for isa in SIMD_PATHS[1:]:
        bad = [k for k in results["scalar"] if results[isa][k] != results["scalar"][k]]
        assert not bad, f"{isa} differs from scalar in {len(bad)} cases, e.g. {bad[:3]}"


# ---- float32 means and sums (issue 15, class 7) ----

def _ulps(got, exact):
    """Distance of float32 `got` from the exact value, in float32 ULPs at that value."""
    return abs(float(got) - exact) / float(np.spacing(np.float32(abs(exact))))


def test_float32_mean_examples():
    # 1.1f squared, rounded to float32, is the mean of 4096 equal terms: exactly
    term = np.float32(1.1) * np.float32(1.1)
    assert ag.mse_loss(np.full(4096, 1.1, F32), np.zeros(4096, F32)) == term
    assert ag.mse_loss(np.full(4096, 1.1, F32), np.zeros(4096, F32), reduction="sum") == np.float32(4096 * float(term))
    # BCE of zero logits against 0.5 is ln 2 per element: the mean is ln 2 rounded once
    assert ag.binary_cross_entropy_with_logits(np.zeros(1000, F32), np.full(1000, 0.5, F32)) == np.float32(np.log(2))


@pytest.mark.parametrize("n", [1, 7, 31, 32, 33, 255, 256, 257, 4096, 4097, 100_003, 1_000_000])
@pytest.mark.parametrize("kind", ["mse", "bce"])
def test_float32_mean_and_sum_within_one_ulp(n, kind):
    """A float32 mean or sum of any length is within 1 ULP of the exact value of its float32
    terms (the terms: reduction='none')."""
    import math
    rng = np.random.default_rng(n)
    x = (rng.standard_normal(n) * rng.choice([0.1, 3.0, 30.0])).astype(F32)
    t = rng.random(n).astype(F32)
    f = ag.mse_loss if kind == "mse" else ag.binary_cross_entropy_with_logits
    terms = f(x, t, reduction="none")
    exact = math.fsum(terms.astype(np.float64).tolist())
    for threads in (1, 2):
        with ag.num_threads(threads):
            assert _ulps(f(x, t, reduction="sum"), exact) <= 1.0
            assert _ulps(f(x, t), exact / n) <= 1.0


def test_no_floating_point_warnings():
    x = np.array([[1e4, -1e4, 0.0], [-np.inf, 0.0, 1.0], [88.0, -104.0, 0.0]], F32)
    with np.errstate(all="raise"):
        ag.cross_entropy_with_grad(x, np.array([0, 1, 2]), label_smoothing=0.1)
        ag.cross_entropy_with_grad(x, np.array([-100, -100, -100]))
        ag.binary_cross_entropy_with_logits_with_grad(x, np.ones_like(x), pos_weight=np.array([3.0], F32))
        ag.mse_loss_with_grad(np.zeros(0), np.zeros(0))


def test_errors():
    x = logits((4, 3))
    t = np.array([0, 2, 1, 0])
    with pytest.raises(IndexError, match=r"cross_entropy: target 3 is out"):
        ag.cross_entropy(x, np.array([0, 3, 1, 0]))
    with pytest.raises(IndexError, match=r"target -1 is out"):
        ag.cross_entropy_backward(x, np.array([0, -1, 1, 5]))
    out = np.full((4, 3), 7.0)
    with pytest.raises(IndexError, match="cross_entropy_with_grad"):
        ag.cross_entropy_with_grad(x, np.array([0, 1, 9, 0]), out=out)
    assert (out == 7.0).all()                        # nothing written
    with pytest.raises(TypeError, match="cross_entropy: target .* integer class indices.*probabilities"):
        ag.cross_entropy(x, t.astype(F64))
    with pytest.raises(TypeError, match="float class probabilities"):
        ag.cross_entropy(x, np.ones((4, 3), int))
    with pytest.raises(ValueError, match="cross_entropy: class-index target has shape"):
        ag.cross_entropy(x, np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="probability target has shape"):
        ag.cross_entropy(x, np.ones((4, 4)) / 4)
    with pytest.raises(ValueError, match="target has shape"):
        ag.cross_entropy(x, np.zeros((4, 3, 1)))
    with pytest.raises(ValueError, match=r"weight must have shape \(3,\)"):
        ag.cross_entropy(x, t, weight=np.ones(4))
    with pytest.raises(ValueError, match="reduction must be"):
        ag.cross_entropy(x, t, reduction="avg")
    for ls in (-0.1, 1.5, np.nan):
        with pytest.raises(ValueError, match="label_smoothing must be in"):
            ag.cross_entropy(x, t, label_smoothing=ls)
    with pytest.raises(np.exceptions.AxisError):
        ag.cross_entropy(x, t, axis=2)
    with pytest.raises(np.exceptions.AxisError):
        ag.cross_entropy(np.float64(1.0), 0)
    with pytest.raises(TypeError, match="cross_entropy: logits"):
        ag.cross_entropy(x.astype(complex), t)
    with pytest.raises(ValueError, match="grad must be a real scalar"):
        ag.cross_entropy_backward(x, t, grad=np.ones(4))
    with pytest.raises(ValueError, match="out has shape"):
        ag.cross_entropy_backward(x, t, out=np.empty((3, 4)))
    ro = np.empty((4, 3))
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        ag.cross_entropy_backward(x, t, out=ro)
    with pytest.raises(TypeError, match="same_kind"):
        ag.cross_entropy_backward(x, t, out=np.empty((4, 3), int))
    with pytest.raises(ValueError, match="mse_loss: target has shape"):
        ag.mse_loss(np.ones(3), np.ones((2, 3)))
    with pytest.raises(ValueError, match="binary_cross_entropy_with_logits: target has shape"):
        ag.binary_cross_entropy_with_logits(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="pos_weight of shape"):
        ag.binary_cross_entropy_with_logits(np.ones((2, 3)), np.ones((2, 3)), pos_weight=np.ones(2))
    with pytest.raises(ValueError, match="mse_loss_backward: grad of shape"):
        ag.mse_loss_backward(np.ones((2, 3)), np.ones((2, 3)), reduction="none", grad=np.ones(4))
    with pytest.raises(ValueError, match="mse_loss_with_grad: reduction"):
        ag.mse_loss_with_grad(np.ones(3), np.ones(3), reduction=None)


# ---- PyTorch 2.13 ----

def _torch_ce(torch, x, t, axis, grad_none, **kw):
    """PyTorch's loss and gradient, with the class axis moved to 1 and back."""
    F = torch.nn.functional
    xm = np.moveaxis(x, axis, 1) if x.ndim > 1 else x
    tm = np.moveaxis(t, axis, 1) if (t.ndim == x.ndim and x.ndim > 1) else t
    xt = torch.tensor(xm, requires_grad=True)
    kw = {k: (torch.tensor(v) if isinstance(v, np.ndarray) else v) for k, v in kw.items()}
    loss = F.cross_entropy(xt, torch.tensor(tm), **kw)
    loss.backward(torch.tensor(grad_none) if kw.get("reduction") == "none" else None)
    g = xt.grad.numpy()
    return loss.detach().numpy(), (np.moveaxis(g, 1, axis) if x.ndim > 1 else g)


@pytest.mark.torch
@pytest.mark.parametrize("shape,axis", [((16, 10), -1), ((3, 5, 4, 6), 1), ((7,), 0), ((5, 4, 20), -1)])
@pytest.mark.parametrize("dtype", [F32, F64])
def test_cross_entropy_matches_torch(shape, axis, dtype):
    torch = pytest.importorskip("torch")
    C = shape[axis]
    ax = axis % len(shape)
    sample = shape[:ax] + shape[ax + 1:]
    x = logits(shape, dtype, 3.0)
    w = (RNG.random(C) + 0.5).astype(dtype)
    up = RNG.standard_normal(sample).astype(dtype)
    targets = [("index", index_target(sample, C), -100), ("index", index_target(sample, C, ignore=2), 2),
               ("probs", probs_target(shape, axis, dtype), -100)]
    for (_, t, ign), weight, ls, red in itertools.product(targets, [None, w], [0.0, 0.15],
                                                          ["none", "mean", "sum"]):
        kw = dict(weight=weight, ignore_index=ign, reduction=red, label_smoothing=ls)
        tl, tg = _torch_ce(torch, x, t, axis, up, **kw)
        loss = ag.cross_entropy(x, t, axis=axis, **kw)
        g = ag.cross_entropy_backward(x, t, axis=axis, grad=up if red == "none" else 1.0, **kw)
        tol = 10 * TOL[dtype]
        assert_close(loss, tl, tol, 1.0, f"loss {kw}")
        assert_close(g, tg, tol, np.abs(tg).max(), f"gradient {kw}")


@pytest.mark.torch
@pytest.mark.parametrize("dtype", [F32, F64])
def test_bce_with_logits_and_mse_match_torch(dtype):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    shape = (4, 3, 5, 2)
    x = logits(shape, dtype, 6.0)
    x.flat[::7] = 1e4
    x.flat[3::7] = -1e4
    t = RNG.random(shape).astype(dtype)
    ws = [None, np.array(0.7, dtype), (RNG.random(2) + 0.5).astype(dtype),
          (RNG.random((3, 1, 1)) + 0.5).astype(dtype), (RNG.random((4, 1, 1, 1)) + 0.5).astype(dtype)]
    up = RNG.standard_normal(shape).astype(dtype)
    T = torch.tensor
    for weight, pos_weight, red in itertools.product(ws, ws, ["none", "mean", "sum"]):
        xt = T(x, requires_grad=True)
        tl = F.binary_cross_entropy_with_logits(
            xt, T(t), weight=None if weight is None else T(weight),
            pos_weight=None if pos_weight is None else T(pos_weight), reduction=red)
        tl.backward(T(up) if red == "none" else None)
        kw = dict(weight=weight, pos_weight=pos_weight, reduction=red)
        loss = ag.binary_cross_entropy_with_logits(x, t, **kw)
        g = ag.binary_cross_entropy_with_logits_backward(x, t, grad=up if red == "none" else 1.0, **kw)
        assert np.isfinite(loss).all() and np.isfinite(g).all()
        _, _, lt, gt = bce_ref(x, t, **kw)
        lscale = lt if red == "none" else (lt.mean() if red == "mean" else lt.sum())
        assert_close(loss, tl.detach().numpy(), 10 * TOL[dtype], lscale, f"bce loss {kw}")
        assert_close(g, xt.grad.numpy(), 10 * TOL[dtype], np.abs(xt.grad.numpy()).max(), f"bce grad {kw}")
    y = logits(shape, dtype)
    for red in ("none", "mean", "sum"):
        xt = T(x / 1e3, requires_grad=True)
        tl = F.mse_loss(xt, T(y), reduction=red)
        tl.backward(T(up) if red == "none" else None)
        assert_close(ag.mse_loss(x / 1e3, y, reduction=red), tl.detach().numpy(), 10 * TOL[dtype])
        assert_close(ag.mse_loss_backward(x / 1e3, y, reduction=red, grad=up if red == "none" else 1.0),
                     xt.grad.numpy(), 10 * TOL[dtype], np.abs(xt.grad.numpy()).max())
