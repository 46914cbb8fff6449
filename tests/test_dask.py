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
    np.testing.assert_allclose(ag.softmax(dx, axis=axis).compute(), ag.softmax(x, axis=axis), rtol=2e-6)
    np.testing.assert_allclose(ag.logsumexp(dx, axis=axis, keepdims=True).compute(),
                               ag.logsumexp(x, axis=axis, keepdims=True), rtol=2e-6)
    assert ag.softmax(dx, axis=axis).dtype == np.float32


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
