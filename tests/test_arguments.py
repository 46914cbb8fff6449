"""The argument rules of the softmax family and the losses (actgrad/_args.py, docs/api.md
sections 1, 3 and 4): one set of rules for every path, every error naming the function."""
import numpy as np
import pytest

import actgrad as ag

RNG = np.random.default_rng(1717)
SOFTMAX_FORWARD = ("softmax", "log_softmax", "logsumexp")
SOFTMAX_BACKWARD = ("softmax_backward", "softmax_jvp", "log_softmax_backward")
LOSSES = ("cross_entropy", "binary_cross_entropy_with_logits", "mse_loss")
CALLS = ("", "_backward", "_with_grad")


def loss_call(name, call, x, t, **kw):
    return getattr(ag, name + call)(x, t, **kw)


def targets(name, x, axis=-1):
    """A valid target for loss `name` and logits x."""
    if name == "cross_entropy":
        shape = np.delete(np.array(x.shape), axis % x.ndim)
        return RNG.integers(0, x.shape[axis], tuple(shape))
    return RNG.random(x.shape)


# ---- empty inputs of any layout (issue 15, item 4) ----

@pytest.mark.parametrize("view", [lambda a: a[:, :0, ::-1], lambda a: a[::2, :0], lambda a: a.T[:0],
                                  lambda a: np.zeros((0, 3, 5))[:, ::2]])
def test_empty_views_give_empty_results(view):
    x = view(np.zeros((3, 4, 5)))
    assert x.size == 0
    for axis in range(-x.ndim, x.ndim):
        for name in SOFTMAX_FORWARD[:2]:
            y = getattr(ag, name)(x, axis=axis)
            assert y.shape == x.shape and y.dtype == np.float64
        for name in SOFTMAX_BACKWARD:
            assert getattr(ag, name)(x, x, axis=axis).shape == x.shape
        lse = ag.logsumexp(x, axis=axis)
        want = np.delete(np.array(x.shape), axis % x.ndim)
        assert lse.shape == tuple(want)
        if x.shape[axis] == 0:   # a zero-length axis: log of an empty sum
            assert (lse == -np.inf).all()
        assert ag.logsumexp(x, axis=axis, keepdims=True).shape == \
            tuple(1 if d == axis % x.ndim else n for d, n in enumerate(x.shape))
    out = np.full((3, 0, 5), 7.0)
    assert ag.softmax(x if x.shape == (3, 0, 5) else np.zeros((3, 0, 5)), axis=0, out=out) is out
    assert ag.logsumexp(np.zeros((2, 3))[:, :0], out=np.zeros(2)[::-1]).tolist() == [-np.inf, -np.inf]


def test_empty_zero_dimensional_result_is_a_scalar():
    r = ag.logsumexp(np.zeros(0, np.float32))
    assert r == -np.inf and isinstance(r, np.float32)


# ---- byte orders (issue 15, item 8) ----

@pytest.mark.parametrize("dtype", ["<f2", ">f2", "<f4", ">f4", "<f8", ">f8", ">i4", ">u2"])
def test_every_byte_order_everywhere(dtype):
    x = (RNG.standard_normal((6, 5)) * 3).astype(np.float64)
    xs = x.astype(dtype)
    native = xs.astype(np.dtype(dtype).newbyteorder("="))
    for name in SOFTMAX_FORWARD:
        got, want = getattr(ag, name)(xs), getattr(ag, name)(native)
        assert got.dtype == want.dtype and got.dtype.isnative
        np.testing.assert_array_equal(got, want)
    y = ag.softmax(native)
    for name in SOFTMAX_BACKWARD:
        np.testing.assert_array_equal(getattr(ag, name)(xs, y), getattr(ag, name)(native, y))
    np.testing.assert_array_equal(ag.softmax_jacobian(xs), ag.softmax_jacobian(native))
    for name in LOSSES:
        t = targets(name, x)
        for call in CALLS:
            got, want = loss_call(name, call, xs, t), loss_call(name, call, native, t)
            for g, w in zip(got if call == "_with_grad" else (got,), want if call == "_with_grad" else (want,)):
                assert g.dtype == w.dtype and g.dtype.isnative, (name, call)
                np.testing.assert_array_equal(g, w)
    assert ag.sigmoid(xs).dtype.isnative


def test_byte_swapped_targets_weights_and_grads():
    x = RNG.standard_normal((8, 4))
    t = RNG.integers(0, 4, 8)
    w = RNG.random(4) + 0.5
    want = ag.cross_entropy_backward(x, t, weight=w, reduction="none", grad=np.arange(8.0))
    got = ag.cross_entropy_backward(x, t.astype(">i8"), weight=w.astype(">f8"), reduction="none",
                                    grad=np.arange(8.0).astype(">f2"))
    np.testing.assert_array_equal(got, want)
    p = ag.softmax(RNG.standard_normal((8, 4)))
    np.testing.assert_array_equal(ag.cross_entropy(x, p.astype(">f8")), ag.cross_entropy(x, p))


# ---- errors name the function; one rule for every path (issue 15, items 10 and 11) ----

def test_ignore_index_out_of_int64_range():
    x, t = RNG.standard_normal((4, 3)), np.array([0, 1, 2, 0])
    for ignore_index in (2 ** 63, -2 ** 63 - 1):
        for weight in (None, np.ones(3)):
            for call in CALLS:
                with pytest.raises(OverflowError, match=f"cross_entropy{call}: ignore_index must fit in a 64-bit"):
                    loss_call("cross_entropy", call, x, t, ignore_index=ignore_index, weight=weight)
    assert ag.cross_entropy(x, t, ignore_index=2 ** 63 - 1) == ag.cross_entropy(x, t)
    assert ag.cross_entropy(x, t, ignore_index=np.int64(0)) == ag.cross_entropy(x, t, ignore_index=0)
    with pytest.raises(TypeError, match="cross_entropy: ignore_index must be an integer, got 1.0"):
        ag.cross_entropy(x, t, ignore_index=1.0)


# the same error for the usual (N, C) call, with weight=, for 3-d logits, with out=
PATHS = [dict(), dict(weight=np.ones(3)), dict(out="out")]


@pytest.mark.parametrize("kw", PATHS, ids=["plain", "weight", "out"])
@pytest.mark.parametrize("bad,exc,text", [
    (dict(axis=1.0), TypeError, "axis must be an integer, got 1.0"),
    (dict(axis="1"), TypeError, "axis must be an integer, got '1'"),
    (dict(axis=2), np.exceptions.AxisError, "axis 2 is out of bounds for array of dimension 2"),
    (dict(label_smoothing="0.1"), TypeError, "label_smoothing must be a real number, got '0.1'"),
    (dict(label_smoothing=True), TypeError, "label_smoothing must be a real number, got True"),
    (dict(label_smoothing=1.5), ValueError, r"label_smoothing must be in \[0, 1\], got 1.5"),
    (dict(reduction="avg"), ValueError, "reduction must be 'none', 'mean' or 'sum', got 'avg'"),
    (dict(ignore_index="3"), TypeError, "ignore_index must be an integer, got '3'"),
])
def test_cross_entropy_argument_errors_on_every_path(kw, bad, exc, text):
    x, t = RNG.standard_normal((5, 3)), np.array([0, 1, 2, 0, 1])
    for call in CALLS:
        fname = "cross_entropy" + call
        extra = dict(kw)
        if extra.get("out") == "out":
            if call == "":
                continue
            extra["out"] = np.empty_like(x)
        with pytest.raises(exc, match=f"{fname}: {text}"):
            loss_call("cross_entropy", call, x, t, **extra, **bad)


@pytest.mark.parametrize("name", ["sigmoid", "elu", "gelu", "tanh_backward", "leaky_relu_backward"])
def test_activation_arrays_are_positional_only(name):
    """ufuncs take their arrays by position only; the wrappers of activations with
    parameters follow the same rule."""
    f = getattr(ag, name)
    arrays = {"x": np.ones(3)} if "backward" not in name else {"dy": np.ones(3), "x": np.ones(3)}
    with pytest.raises(TypeError, match=name):
        f(**arrays)
    np.testing.assert_array_equal(f(*arrays.values()), f(*arrays.values(), out=np.empty(3)))


def test_softmax_errors_name_the_function():
    x = np.ones((3, 4))
    for name in (*SOFTMAX_FORWARD, "softmax_jacobian"):
        f = getattr(ag, name)
        with pytest.raises(TypeError, match=f"{name}: axis must be an integer, got 1.0"):
            f(x, axis=1.0)
        with pytest.raises(np.exceptions.AxisError, match=f"{name}: axis -3 is out of bounds"):
            f(x, axis=-3)
        with pytest.raises(TypeError, match=f"{name}: x must be real numbers|{name}: y must be real numbers"):
            f(x.astype(complex))
    for name, a in (("softmax_backward", "dy"), ("softmax_jvp", "v"), ("log_softmax_backward", "dy")):
        with pytest.raises(ValueError, match=fr"{name}: y has shape \(4, 3\), {a} has shape \(3, 4\)"):
            getattr(ag, name)(x, x.T)
        with pytest.raises(TypeError, match=f"{name}: {a} must be real numbers"):
            getattr(ag, name)(x.astype("M8[s]"), x)


def test_out_errors_are_the_same_for_softmax_and_losses():
    x, t = RNG.standard_normal((4, 3)), np.array([0, 1, 2, 0])
    ro = np.empty((4, 3))
    ro.flags.writeable = False
    for f in (lambda out: ag.softmax(x, out=out), lambda out: ag.cross_entropy_backward(x, t, out=out),
              lambda out: ag.mse_loss_backward(x, x, out=out)):
        with pytest.raises(ValueError, match=": out is read-only"):
            f(ro)
        with pytest.raises(ValueError, match=r": out has shape \(3, 4\)"):
            f(np.empty((3, 4)))
        with pytest.raises(TypeError, match="under casting='same_kind'"):
            f(np.empty((4, 3), np.int32))
        with pytest.raises(TypeError, match="out must be a NumPy array, got list"):
            f([[0.0] * 3] * 4)
        out = np.empty((4, 3))
        assert f((out,)) is out   # a 1-tuple, as ufuncs take it


# ---- masked arrays: refused by the functions that mix elements ----

def test_masked_arrays_are_refused_where_elements_mix():
    """softmax and the losses combine every element of a row or sample, so the data behind a
    mask would silently change the result (softmax of [1, 2, masked 1e30] would be [0, 0, 1]):
    they refuse masked arrays, naming the function and the argument."""
    m = np.ma.masked_array([1.0, 2.0, 1e30], mask=[False, False, True])
    for name in (*SOFTMAX_FORWARD, "softmax_jacobian"):
        with pytest.raises(TypeError, match=f"{name}: (x|y) is a masked array.*filled"):
            getattr(ag, name)(m)
    with pytest.raises(TypeError, match="softmax_backward: dy is a masked array"):
        ag.softmax_backward(m, np.ones(3))
    with pytest.raises(TypeError, match="cross_entropy_with_grad: logits is a masked array"):
        ag.cross_entropy_with_grad(m[None], np.array([0]))
    with pytest.raises(TypeError, match="cross_entropy: target is a masked array"):
        ag.cross_entropy(np.ones((1, 3)), np.ma.masked_array([0], mask=[True]))
    with pytest.raises(TypeError, match="mse_loss_backward: target is a masked array"):
        ag.mse_loss_backward(np.ones(3), m)
    np.testing.assert_array_equal(ag.softmax(m.filled(-np.inf)), ag.softmax([1.0, 2.0, -np.inf]))


def test_masked_arrays_keep_their_mask_through_activations():
    m = np.ma.masked_array([1.0, -2.0, 3.0], mask=[False, True, False])
    for f in (ag.sigmoid, ag.elu, lambda a: ag.leaky_relu_backward(a, a)):
        r = f(m)
        assert isinstance(r, np.ma.MaskedArray)
        np.testing.assert_array_equal(r.mask, m.mask)


# ---- cross-entropy reads logits of any layout where they are ----

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("C", [3, 40])
def test_cross_entropy_layouts(dtype, C):
    base = (RNG.standard_normal((24, 2 * C)) * 3).astype(dtype)
    t = RNG.integers(0, C, 24)
    t[::5] = -100
    eps = np.finfo(dtype).eps
    for x in (base[:, :C], base[:, ::2], base[::-1, :C], np.asfortranarray(base[:, :C]), base[:, :C].T.copy().T):
        c = np.ascontiguousarray(x)
        for kw in (dict(), dict(reduction="sum", label_smoothing=0.1), dict(reduction="none")):
            loss, g = ag.cross_entropy_with_grad(x, t, **kw)
            want_loss, want_g = ag.cross_entropy_with_grad(c, t, **kw)
            # the row and column kernels sum in different orders: a few ULPs of the largest term
            np.testing.assert_allclose(loss, want_loss, rtol=8 * eps)
            np.testing.assert_allclose(g, want_g, rtol=0, atol=8 * eps * np.abs(want_g).max())
            assert g.dtype == dtype and g.shape == x.shape
            np.testing.assert_allclose(ag.cross_entropy(x, t, **kw), want_loss, rtol=8 * eps)
        p = ag.softmax(RNG.standard_normal(x.shape)).astype(dtype)
        np.testing.assert_allclose(ag.cross_entropy_backward(x, p), ag.cross_entropy_backward(c, p),
                                   rtol=0, atol=8 * eps)
    x3 = (RNG.standard_normal((4, C, 5)) * 3).astype(dtype)
    t3 = RNG.integers(0, C, (4, 5))
    for x in (x3, x3[:, :, ::-1], np.asfortranarray(x3)):
        tt = t3[:, ::-1] if x.strides[2] < 0 else t3
        want = ag.cross_entropy_with_grad(np.ascontiguousarray(x), np.ascontiguousarray(tt), axis=1)
        got = ag.cross_entropy_with_grad(x, tt, axis=1)
        np.testing.assert_allclose(got[0], want[0], rtol=8 * eps)
        np.testing.assert_allclose(got[1], want[1], rtol=0, atol=8 * eps)


def test_cross_entropy_out_in_place_and_overlapping():
    x = RNG.standard_normal((10, 20))
    t = RNG.integers(0, 20, 10)
    want = ag.cross_entropy_backward(x, t)
    xi = x.copy()
    assert ag.cross_entropy_backward(xi, t, out=xi) is xi
    np.testing.assert_array_equal(xi, want)
    buf = np.concatenate([x.ravel(), [0.0]])   # out overlaps the logits, shifted by one element
    out = buf[1:].reshape(10, 20)
    ag.cross_entropy_backward(buf[:-1].reshape(10, 20), t, out=out)
    np.testing.assert_array_equal(out, want)
    f = np.asfortranarray(x)                     # F-ordered logits and an F-ordered out
    fo = np.empty_like(f)
    assert ag.cross_entropy_backward(f, t, out=fo) is fo
    np.testing.assert_allclose(fo, want, rtol=0, atol=8 * np.finfo(float).eps)


def test_registry_finds_aliases():
    assert ag.activations["swish"] is ag.activations["silu"]
    assert "swish" in ag.activations and ag.activations.get("swish").forward is ag.swish
    assert "swish" not in list(ag.activations)   # each activation is listed once
