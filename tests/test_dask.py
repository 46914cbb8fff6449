"""actgrad on dask arrays and xarray DataArrays (issue: beyond one machine)."""
import pickle

import numpy as np
import pytest

import actgrad as ag
from actgrad._optable import ACTIVATIONS

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")

RNG = np.random.default_rng(0)
X = RNG.standard_normal((12, 30)) * 4


def public(act, call):
    return getattr(ag, act.name if call == "forward" else f"{act.name}_{call}")


@pytest.mark.parametrize("act", ACTIVATIONS, ids=lambda a: a.name)
def test_elementwise_calls_are_lazy_and_blockwise(act):
    dx = da.from_array(X, chunks=(5, 7))
    params = [0.5 if p.choices is None else "tanh" for p in act.params]
    if act.name == "softplus":
        params = [2.0, 10.0]
    if act.name == "hardtanh":
        params = [-2.0, 3.0]
    for call in act.calls:
        f = public(act, call)
        arrays = (dx, dx) if "backward" in call else (dx,)
        lazy = f(*arrays, *params)
        assert isinstance(lazy, da.Array) and lazy.chunks == dx.chunks
        eager = f(*[X for _ in arrays], *params)
        np.testing.assert_array_equal(lazy.compute(), eager)


def test_float32_chunks_stay_float32():
    dx = da.from_array(X.astype(np.float32), chunks=6)
    assert ag.leaky_relu(dx, 0.2).dtype == np.float32
    assert ag.sigmoid(dx).compute().dtype == np.float32


def test_xarray_keeps_dims_coords_attrs():
    xr = pytest.importorskip("xarray")
    a = xr.DataArray(X, dims=("batch", "feature"), coords={"batch": np.arange(12)}, attrs={"units": "logit"})
    for out in (ag.sigmoid(a), ag.elu(a, alpha=0.5), ag.gelu(a, approximate="tanh"),
                ag.sigmoid(a.chunk({"batch": 4}))):
        assert isinstance(out, xr.DataArray)
        assert out.dims == a.dims and (out.coords["batch"] == a.coords["batch"]).all()
        assert out.attrs == a.attrs
    np.testing.assert_array_equal(ag.elu(a, alpha=0.5).values, ag.elu(X, alpha=0.5))


SPECIAL = np.array(RNG.standard_normal((7, 40)) * 20)
SPECIAL[1] = -np.inf
SPECIAL[2, 5] = np.inf
SPECIAL[3, 9] = np.nan
SPECIAL[4, :20] = -np.inf          # one chunk all -inf, the rest finite
SPECIAL[5] *= 1e4                  # one-hot rows
SPECIAL[6, 31] = 1e30


@pytest.mark.parametrize("chunks", [(3, 40), (3, 7), (2, 13)])
@pytest.mark.parametrize("name", ["softmax", "log_softmax", "logsumexp"])
def test_softmax_family_split_axis(name, chunks):
    dx = da.from_array(SPECIAL, chunks=chunks)
    lazy = getattr(ag, name)(dx, axis=1)
    assert isinstance(lazy, da.Array)
    if name != "logsumexp":
        assert lazy.chunks == dx.chunks        # the axis was never gathered into one chunk
    with np.errstate(all="ignore"):
        got = lazy.compute()
    want = getattr(ag, name)(SPECIAL, axis=1)
    np.testing.assert_allclose(got, want, rtol=4 * np.finfo(float).eps, atol=1e-300, equal_nan=True)
    assert np.array_equal(np.isnan(got), np.isnan(want))


@pytest.mark.parametrize("axis", [0, 1, 2, -1])
def test_softmax_any_axis_of_3d_float32(axis):
    x = RNG.standard_normal((6, 9, 10)).astype(np.float32) * 5
    dx = da.from_array(x, chunks=(4, 4, 3))
    # the chunks' statistics combine in another order than the in-memory pieces: 2 ULPs
    np.testing.assert_array_max_ulp(ag.softmax(dx, axis=axis).compute(), ag.softmax(x, axis=axis), maxulp=2)
    np.testing.assert_array_max_ulp(ag.logsumexp(dx, axis=axis, keepdims=True).compute(),
                                    ag.logsumexp(x, axis=axis, keepdims=True), maxulp=2)
    assert ag.softmax(dx, axis=axis).dtype == np.float32


def uneven_chunks(n, rng):
    """The axis of length n cut at up to three random places (chunks of unequal sizes)."""
    if n < 2:
        return (n,)
    cuts = sorted(rng.choice(np.arange(1, n), size=min(3, n - 1), replace=False))
    return tuple(int(c) for c in np.diff([0, *cuts, n]))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_split_axis_forward_ulp_against_mpmath(dtype):
    """Chunked softmax, log_softmax and logsumexp go through the C core's piece statistics
    and combine step: 2 ULPs of the exact result, as in memory, on the rows made to break
    naive formulas."""
    from test_softmax import random_rows, ref_forward, ulp_error
    rng = np.random.default_rng(7)
    worst = {"softmax": 0.0, "log_softmax": 0.0, "logsumexp": 0.0}
    for row in random_rows(dtype):
        x = row[None]
        sm, lsm, lse = ref_forward(x)
        dx = da.from_array(x, chunks=((1,), uneven_chunks(x.shape[1], rng)))
        y, ly = ag.softmax(dx).compute(), ag.log_softmax(dx).compute()
        l1 = ag.logsumexp(dx).compute()
        assert y.dtype == dtype and ly.dtype == dtype and l1.dtype == dtype
        worst["softmax"] = max(worst["softmax"], ulp_error(y, sm, dtype).max())
        worst["log_softmax"] = max(worst["log_softmax"], ulp_error(ly, lsm, dtype).max())
        worst["logsumexp"] = max(worst["logsumexp"], ulp_error(np.asarray(l1), lse, dtype, 1.0).max())
    assert max(worst.values()) <= 2, worst


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_split_axis_backward_against_mpmath(dtype):
    """The backward passes over chunks: the bound of the in-memory test (4 ULPs, plus eps |y s|
    for the one ill-conditioned subtraction)."""
    from test_softmax import ref_backward
    rng = np.random.default_rng(8)
    eps = np.finfo(dtype).eps
    for n in (5, 17, 100, 1000):
        x = (rng.standard_normal((3, n)) * 5).astype(dtype)
        dy = rng.standard_normal((3, n)).astype(dtype)
        dy[1] = 1.0 + rng.standard_normal(n).astype(dtype) * 1e-3
        y, ly = ag.softmax(x), ag.log_softmax(x)
        chunks = ((2, 1), uneven_chunks(n, rng))
        sb, _ = ref_backward(dy, y)
        _, lb = ref_backward(dy, ly)
        s = np.sum(dy.astype(np.float64) * y, axis=-1, keepdims=True)
        for f in (ag.softmax_backward, ag.softmax_jvp):
            got = f(da.from_array(dy, chunks=chunks), da.from_array(y, chunks=chunks)).compute()
            assert got.dtype == dtype
            tol = 4 * (np.spacing(np.abs(sb[..., 0]).astype(dtype)) + eps * np.abs(y * s))
            assert np.all(np.abs((got - sb[..., 0]) - sb[..., 1]) <= tol)
        got = ag.log_softmax_backward(da.from_array(dy, chunks=chunks), da.from_array(ly, chunks=chunks)).compute()
        t = np.sum(dy.astype(np.float64), axis=-1, keepdims=True)
        tol = 4 * (np.spacing(np.abs(lb[..., 0]).astype(dtype)) + eps * np.abs(np.exp(ly.astype(np.float64)) * t))
        assert np.all(np.abs((got - lb[..., 0]) - lb[..., 1]) <= tol)


def test_split_axis_dtypes_follow_the_in_memory_rules():
    """float16 (either byte order) computes in float32 and rounds once, integers in float64,
    mixed backward dtypes promote like ufuncs: the in-memory dtypes, values within 1 ULP."""
    h = (RNG.standard_normal((4, 30)) * 3).astype(np.float16)
    i = RNG.integers(-5, 5, (4, 30)).astype(np.int16)
    for x in (h, i, h.astype(">f2")):
        dx = da.from_array(x, chunks=(3, 7))
        for name in ("softmax", "log_softmax", "logsumexp"):
            got, want = getattr(ag, name)(dx, axis=1).compute(), getattr(ag, name)(x, axis=1)
            assert got.dtype == want.dtype
            np.testing.assert_array_max_ulp(got, want, maxulp=1)
    y = ag.softmax(h.astype(np.float32))
    got = ag.softmax_backward(da.from_array(h, chunks=(3, 7)), da.from_array(y, chunks=(3, 7))).compute()
    assert got.dtype == np.float32
    np.testing.assert_array_max_ulp(got, ag.softmax_backward(h, y), maxulp=4)


def test_softmax_jacobian_of_a_dask_array():
    y = ag.softmax(RNG.standard_normal((5, 4, 6)), axis=1)
    for axis in (0, 1, -1):
        lazy = ag.softmax_jacobian(da.from_array(y, chunks=(2, 3, 4)), axis=axis)
        assert isinstance(lazy, da.Array)
        np.testing.assert_array_equal(lazy.compute(), ag.softmax_jacobian(y, axis=axis))


@pytest.mark.parametrize("name", ["softmax_backward", "softmax_jvp", "log_softmax_backward"])
@pytest.mark.parametrize("chunks", [(4, 30), (4, 7)])
def test_softmax_backward_split_axis(name, chunks):
    y = ag.log_softmax(X, axis=1) if name.startswith("log") else ag.softmax(X, axis=1)
    dy = RNG.standard_normal(X.shape)
    got = getattr(ag, name)(da.from_array(dy, chunks=chunks), da.from_array(y, chunks=chunks), axis=1)
    np.testing.assert_allclose(got.compute(), getattr(ag, name)(dy, y, axis=1), rtol=1e-12, atol=1e-15)


def test_softmax_errors():
    with pytest.raises(np.exceptions.AxisError):
        ag.softmax(da.from_array(X, chunks=4), axis=2)
    with pytest.raises(ValueError, match="softmax_backward"):
        ag.softmax_backward(da.from_array(X, chunks=4), da.from_array(X[:, :5], chunks=4))
    with pytest.raises(TypeError, match="out="):
        ag.softmax(da.from_array(X, chunks=4), out=np.empty_like(X))
    for f, arrays in ((ag.softmax, (X,)), (ag.softmax_backward, (X, X)), (ag.cross_entropy_with_grad, (X, INDEX_12)),
                      (ag.mse_loss_backward, (X, X))):
        with pytest.raises(TypeError, match=f"{f.__name__}: out= is not supported for dask arrays.*da.store"):
            f(*[da.from_array(a, chunks=4) for a in arrays], out=np.empty_like(X))


INDEX_12 = RNG.integers(0, 30, 12)


def test_same_error_text_as_in_memory():
    """Every rule is written once (actgrad._args): a dask array and its NumPy data fail alike."""
    bad_calls = [
        (ag.softmax, (X,), {"axis": 1.0}), (ag.log_softmax, (X,), {"axis": 5}),
        (ag.logsumexp, (X.astype(complex),), {}), (ag.softmax_jvp, (X, X[:5]), {}),
        (ag.softmax_jacobian, (X,), {"axis": -3}),
        (ag.cross_entropy, (X, INDEX_12), {"reduction": "avg"}),
        (ag.cross_entropy, (X, INDEX_12), {"label_smoothing": "0.1"}),
        (ag.cross_entropy, (X, INDEX_12), {"ignore_index": 2 ** 63}),
        (ag.cross_entropy, (X, INDEX_12), {"weight": np.ones(3)}),
        (ag.cross_entropy, (X, INDEX_12.astype(float)), {}),
        (ag.cross_entropy, (X, X[:, :4]), {}),
        (ag.mse_loss, (X, X[:, :3]), {}), (ag.binary_cross_entropy_with_logits, (X, X), {"reduction": None}),
    ]
    for f, arrays, kw in bad_calls:
        with pytest.raises(Exception) as eager:
            f(*arrays, **kw)
        with pytest.raises(Exception) as lazy:
            f(*[da.from_array(a, chunks=5) for a in arrays], **kw)
        assert type(lazy.value) is type(eager.value) and str(lazy.value) == str(eager.value), (f, kw)
        assert str(eager.value).startswith(f.__name__ + ": ") or f"{f.__name__}: " in str(eager.value)


LOGITS = RNG.standard_normal((50, 6)) * 3
INDEX = RNG.integers(0, 6, 50)
INDEX[::7] = -100
WEIGHT = RNG.random(6) + 0.1
PROBS = ag.softmax(RNG.standard_normal((50, 6)), axis=1)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("kw", [{}, {"weight": WEIGHT}, {"weight": WEIGHT, "label_smoothing": 0.2}],
                         ids=["plain", "weight", "smoothing"])
@pytest.mark.parametrize("target", [INDEX, PROBS], ids=["index", "probs"])
def test_cross_entropy_chunked_samples(reduction, kw, target):
    dl = da.from_array(LOGITS, chunks=(16, 6))
    dt = da.from_array(target, chunks=16)
    loss, grad = dask.compute(*ag.cross_entropy_with_grad(dl, dt, reduction=reduction, **kw))
    want_loss, want_grad = ag.cross_entropy_with_grad(LOGITS, target, reduction=reduction, **kw)
    np.testing.assert_allclose(loss, want_loss, rtol=1e-13)
    np.testing.assert_allclose(grad, want_grad, rtol=1e-13, atol=1e-17)
    np.testing.assert_allclose(ag.cross_entropy(dl, dt, reduction=reduction, **kw).compute(), want_loss, rtol=1e-13)
    upstream = RNG.random(50) if reduction == "none" else 0.5
    got_b = ag.cross_entropy_backward(dl, dt, reduction=reduction, grad=upstream if reduction != "none" else
                                      da.from_array(upstream, chunks=10), **kw).compute()
    np.testing.assert_allclose(got_b, ag.cross_entropy_backward(LOGITS, target, reduction=reduction,
                                                                grad=upstream, **kw), rtol=1e-13, atol=1e-17)


def test_cross_entropy_class_axis_1_of_4d_and_all_ignored():
    logits = RNG.standard_normal((4, 5, 3, 2))
    target = RNG.integers(0, 5, (4, 3, 2))
    dl = da.from_array(logits, chunks=(2, 5, 2, 1))
    got = ag.cross_entropy(dl, da.from_array(target, chunks=(2, 2, 1)), axis=1).compute()
    np.testing.assert_allclose(got, ag.cross_entropy(logits, target, axis=1), rtol=1e-13)
    ignored = np.full(50, -100)
    loss, grad = dask.compute(*ag.cross_entropy_with_grad(da.from_array(LOGITS, chunks=(10, 6)),
                                                           da.from_array(ignored, chunks=10)))
    assert np.isnan(loss) and not grad.any()


def test_with_grad_makes_one_pass_per_block(monkeypatch):
    from actgrad import _losses
    calls = []
    real = _losses.cross_entropy_with_grad
    monkeypatch.setattr(_losses, "cross_entropy_with_grad", lambda *a, **k: calls.append(1) or real(*a, **k))
    dl = da.from_array(LOGITS, chunks=(10, 6))
    loss, grad = ag.cross_entropy_with_grad(dl, da.from_array(INDEX, chunks=10))
    dask.compute(loss, grad, scheduler="sync")
    assert len(calls) == dl.numblocks[0]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_and_mse_chunked(reduction):
    x, t = RNG.standard_normal((30, 6)) * 5, RNG.random((30, 6))
    dx, dt = da.from_array(x, chunks=(7, 4)), da.from_array(t, chunks=(10, 6))
    kw = {"weight": RNG.random(6), "pos_weight": RNG.random(6) + 0.5}
    for name, extra in (("binary_cross_entropy_with_logits", kw), ("mse_loss", {})):
        loss, grad = dask.compute(*getattr(ag, name + "_with_grad")(dx, dt, reduction=reduction, **extra))
        want_loss, want_grad = getattr(ag, name + "_with_grad")(x, t, reduction=reduction, **extra)
        np.testing.assert_allclose(loss, want_loss, rtol=1e-12)
        np.testing.assert_allclose(grad, want_grad, rtol=1e-12, atol=1e-17)
    with pytest.raises(ValueError, match="mse_loss"):
        ag.mse_loss(dx, dt[:, :3])


def test_callables_pickle_by_reference():
    names = [n for n in ag.__all__ if callable(getattr(ag, n)) and not isinstance(getattr(ag, n), type)]
    for name in names:
        f = getattr(ag, name)
        assert pickle.loads(pickle.dumps(f)) is f, name


def test_import_actgrad_does_not_import_dask():
    import subprocess
    import sys
    code = "import sys, actgrad, numpy as np; actgrad.softmax(np.ones(3)); print('dask' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip() == "False"


@pytest.mark.slow
def test_distributed_cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        threads = client.run(ag.get_num_threads)
        assert set(threads.values()) == {1}, threads   # the nanny's OMP_NUM_THREADS=1
        x = RNG.standard_normal((400, 64)).astype(np.float32)
        dx = da.from_array(x, chunks=(50, 16))
        sm, lse, act = client.compute([ag.softmax(dx, axis=1), ag.logsumexp(dx, axis=1), ag.mish(dx)], sync=True)
        np.testing.assert_allclose(sm, ag.softmax(x, axis=1), rtol=2e-6)
        np.testing.assert_allclose(lse, ag.logsumexp(x, axis=1), rtol=2e-6)
        np.testing.assert_array_equal(act, ag.mish(x))
        loss, grad = client.compute(list(ag.cross_entropy_with_grad(dx, da.from_array(
            np.arange(400) % 64, chunks=50))), sync=True)
        want = ag.cross_entropy_with_grad(x, np.arange(400) % 64)
        np.testing.assert_allclose(loss, want[0], rtol=1e-6)
        np.testing.assert_allclose(grad, want[1], rtol=1e-5, atol=1e-9)


def test_one_is_dask():
    """actgrad.dask.is_dask is the test the public functions dispatch with: dask arrays only."""
    import actgrad.dask as agd
    from actgrad import _dispatch
    assert agd.is_dask is _dispatch.is_dask
    assert agd.is_dask(da.ones(3)) and not agd.is_dask(np.ones(3)) and not agd.is_dask([1.0])
    assert not agd.is_dask(dask.delayed(np.ones)(3))   # not an array: left to NumPy's conversion
