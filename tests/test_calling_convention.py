"""The calling convention of every elementwise function (docs/api.md section 1, and the
parameters of section 2): dtypes, promotion and broadcasting, ``out=``, memory layouts,
scalars, parameters, NumPy integration, floating-point warnings, SIMD paths.

Values are checked against the function itself, mostly on contiguous input of the same
dtype: the kernels are deterministic and tails run the same vector code, so layout,
dtype conversion and SIMD path must not change a single bit.  Accuracy is tested
elsewhere (test_activations.py)."""
import inspect
import math
import os
import pickle
import subprocess
import sys
import warnings
from typing import NamedTuple

import numpy as np
import pytest

import actgrad as ag
from actgrad import _core
from actgrad._optable import ACTIVATIONS

# ---------------------------------------------------------------- the functions

# Written out from docs/api.md section 2, independently of the package.
ARRAYS = {
    "forward": ("x",),
    "derivative": ("x",),
    "backward": ("dy", "x"),
    "derivative_from_output": ("y",),
    "backward_from_output": ("dy", "y"),
}
API_NAMES = {"sigmoid", "tanh", "relu", "relu6", "leaky_relu", "elu", "selu", "celu", "softplus",
             "log_sigmoid", "silu", "gelu", "mish", "hardtanh", "hardsigmoid", "hardswish",
             "softsign"}
API_FROM_OUTPUT = {"sigmoid", "tanh", "relu", "relu6", "leaky_relu", "elu", "selu", "celu",
                   "softplus", "log_sigmoid", "hardtanh", "hardsigmoid", "softsign"}
# PyTorch's parameter names and defaults (torch.nn.functional), in order.
TORCH_PARAMS = {
    "leaky_relu": (("negative_slope", 0.01),),
    "elu": (("alpha", 1.0),),
    "celu": (("alpha", 1.0),),
    "softplus": (("beta", 1.0), ("threshold", 20.0)),
    "gelu": (("approximate", "none"),),
    "hardtanh": (("min_val", -1.0), ("max_val", 1.0)),
}
# Values other than the defaults, valid for every call (from_output needs them > 0).
NONDEFAULT = {
    "leaky_relu": {"negative_slope": 0.2},
    "elu": {"alpha": 1.5},
    "celu": {"alpha": 0.7},
    "softplus": {"beta": 2.0, "threshold": 5.0},
    "hardtanh": {"min_val": -0.5, "max_val": 2.0},
    "gelu": {"approximate": "tanh"},
}


def public_name(name, call):
    return name if call == "forward" else f"{name}_{call}"


class Case(NamedTuple):
    """One public function, called with the given keyword parameters ({}: the defaults)."""
    name: str
    act: object
    call: str
    params: dict

    @property
    def func(self):
        return getattr(ag, self.name)

    @property
    def narr(self):
        return len(ARRAYS[self.call])

    @property
    def from_output(self):
        return "from_output" in self.call

    @property
    def kernel(self):
        if self.act.name == "gelu" and self.params.get("approximate", "none") == "tanh":
            return "gelu_tanh"
        return self.act.name

    @property
    def ufunc(self):
        """The raw ufunc the call ends up in."""
        return getattr(ag.ufuncs, public_name(self.kernel, self.call))

    def forward(self, x):
        return getattr(ag, self.act.name)(x, **self.params)

    def __call__(self, *arrays, **kw):
        return self.func(*arrays, **self.params, **kw)

    def __str__(self):
        extra = ",".join(f"{k}={v}" for k, v in self.params.items())
        return f"{self.name}({extra})" if extra else self.name


def _cases():
    cases = []
    for act in ACTIVATIONS:
        for call in act.calls:
            cases.append(Case(public_name(act.name, call), act, call, {}))
            if act.name in NONDEFAULT:
                cases.append(Case(public_name(act.name, call), act, call, NONDEFAULT[act.name]))
            for alias in act.aliases:
                cases.append(Case(public_name(alias, call), act, call, {}))
    return cases


CASES = _cases()
BACKWARD = [c for c in CASES if c.narr == 2]
WITH_PARAMS = [c for c in CASES if c.act.params]
ALL_PUBLIC = sorted({c.name for c in CASES})
param_cases = pytest.mark.parametrize("case", CASES, ids=str)

# ---------------------------------------------------------------- inputs and checks

INF, NAN = math.inf, math.nan
SPECIALS = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -2.0, 2.5, -2.5, 3.0, -3.0, 5.0, -5.0, 6.0, -6.0,
            10.0, -10.0, 20.0, -20.0, 40.0, -40.0, 90.0, -90.0, 710.0, -710.0, 1e-300, -1e-300,
            5e-324, -5e-324, 1e300, -1e300, INF, -INF, NAN]
DY_SPECIALS = [0.0, -0.0, 1.0, -1.0, 1e300, -1e-300, INF, NAN]


def _values(n, rng, specials, moderate):
    v = np.concatenate([rng.standard_normal(n) * 4, rng.uniform(-30, 30, n),
                        np.exp(rng.uniform(-20, 5, n)) * rng.choice([-1, 1], n)])
    v = rng.permutation(v)[:n]
    if specials:
        s = np.array([s for s in specials if not moderate or (np.isfinite(s) and abs(s) <= 100)])
        idx = rng.choice(n, size=min(n, len(s)), replace=False)
        v[idx] = s[:len(idx)]
    return v


def make_inputs(case, n=1001, dtype=np.float64, seed=0, specials=True, moderate=False):
    """The arrays of a call: x (or y = f(x) for the from_output calls), after dy for
    the backward calls; float64 values cast to dtype."""
    rng = np.random.default_rng(seed)
    x = _values(n, rng, SPECIALS if specials else (), moderate)
    if case.from_output:
        x = case.forward(x)
    arrays = [x]
    if case.narr == 2:
        dy = rng.standard_normal(n) * 2
        if specials:
            ds = [s for s in DY_SPECIALS if not moderate or (np.isfinite(s) and abs(s) <= 100)]
            dy[rng.choice(n, min(n, len(ds)), replace=False)] = ds[:n]
        arrays.insert(0, dy)
    with np.errstate(over="ignore"):  # 1e300 -> float32/float16 overflows to inf on purpose
        return tuple(a.astype(dtype) for a in arrays)


def assert_identical(actual, expected, what=""):
    """Same dtype, shape and bits (any NaN matches any NaN)."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.dtype == expected.dtype, f"{what}: dtype {actual.dtype} != {expected.dtype}"
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    a, e = np.ravel(actual), np.ravel(expected)
    if a.dtype.kind != "f":
        np.testing.assert_array_equal(a, e, err_msg=what)
        return
    uint = {2: np.uint16, 4: np.uint32, 8: np.uint64}[a.dtype.itemsize]
    an, en = np.isnan(a), np.isnan(e)
    bad = (an != en) | (~an & ~en & (np.ascontiguousarray(a).view(uint) != np.ascontiguousarray(e).view(uint)))
    if bad.any():
        idx = np.flatnonzero(bad)[:5]
        detail = ", ".join(f"[{i}] {a[i]!r} != {e[i]!r}" for i in idx)
        raise AssertionError(f"{what}: {bad.sum()} of {a.size} elements differ: {detail}")


def assert_names(excinfo, case):
    """The error message names the public function (or the ufunc it called)."""
    msg = str(excinfo.value)
    assert case.name in msg or case.ufunc.__name__ in msg, msg


# ---------------------------------------------------------------- the table against docs/api.md

def test_table_matches_api():
    names = {a.name for a in ACTIVATIONS}
    assert names == API_NAMES
    assert {a.name for a in ACTIVATIONS if "derivative_from_output" in a.calls} == API_FROM_OUTPUT
    for act in ACTIVATIONS:
        expected = set(ARRAYS) if act.name in API_FROM_OUTPUT else {"forward", "derivative", "backward"}
        assert set(act.calls) == expected
    assert {a for act in ACTIVATIONS for a in act.aliases} == {"swish"}


def test_every_public_function_exists():
    for case in CASES:
        assert callable(case.func), case.name
        assert case.name in ag.__all__
    for call in ("forward", "derivative", "backward"):
        assert getattr(ag, public_name("swish", call)) is getattr(ag, public_name("silu", call))
    # from_output calls exist only where the table says so
    for name in API_NAMES - API_FROM_OUTPUT:
        assert not hasattr(ag, f"{name}_derivative_from_output")
        assert not hasattr(ag, f"{name}_backward_from_output")


def test_registry():
    assert set(ag.activations) == API_NAMES
    for act in ACTIVATIONS:
        rec = ag.activations[act.name]
        assert rec.name == act.name
        for call in ARRAYS:
            fn = getattr(rec, call)
            if call in act.calls:
                assert fn is getattr(ag, public_name(act.name, call))
            else:
                assert fn is None
        assert rec.params == dict(TORCH_PARAMS.get(act.name, ()))


# ---------------------------------------------------------------- dtypes

@param_cases
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float_dtypes_own_precision(case, dtype):
    arrays = make_inputs(case, 301, dtype, moderate=True)
    r = case(*arrays)
    assert type(r) is np.ndarray and r.dtype == dtype and r.shape == arrays[0].shape
    # same values as the contiguous 2-D call, and close to float64 on the same inputs
    assert_identical(case(*(a.reshape(7, 43) for a in arrays)), r.reshape(7, 43), str(case))
    r64 = case(*(a.astype(np.float64) for a in arrays))
    np.testing.assert_allclose(r.astype(np.float64), r64, rtol=3e-5 if dtype == np.float32 else 0,
                               atol=1e-6 if dtype == np.float32 else 0, equal_nan=True, err_msg=str(case))


@param_cases
def test_float16_computed_in_float32(case):
    arrays = make_inputs(case, 1001, np.float16)
    r = case(*arrays)
    assert r.dtype == np.float16
    with np.errstate(over="ignore", invalid="ignore"):
        expected = case(*(a.astype(np.float32) for a in arrays)).astype(np.float16)
    assert_identical(r, expected, str(case))


@param_cases
def test_float16_every_value(case):
    """Every float16 value (subnormals, inf, NaN included) through the float16 path;
    rounding the float32 results to float16 exercises ties and subnormal results."""
    every = np.arange(65536, dtype=np.uint16).view(np.float16)
    if case.from_output:
        every = case.forward(every)
    arrays = (every,) if case.narr == 1 else (np.random.default_rng(9).permutation(every), every)
    with np.errstate(over="ignore", invalid="ignore"):
        expected = case(*(a.astype(np.float32) for a in arrays)).astype(np.float16)
    assert_identical(case(*arrays), expected, str(case))


INT_DTYPES = [np.bool_, np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.int64,
              np.uint64]


@param_cases
@pytest.mark.parametrize("dtype", INT_DTYPES, ids=lambda d: np.dtype(d).name)
def test_bool_and_integers_computed_in_float64(case, dtype):
    rng = np.random.default_rng(1)
    info = np.iinfo(dtype) if dtype is not np.bool_ else None
    if info is None:
        vals = rng.integers(0, 2, 101).astype(bool)
    else:
        vals = rng.integers(max(info.min, -50), min(info.max, 50), 101, endpoint=True).astype(dtype)
        vals[:4] = [info.min, info.max, 0, 1]
        if info.min < 0:
            vals[4] = -1
        # and values from the whole range (int64 -> float64 rounds, like astype)
        vals[10:40] = rng.integers(info.min, info.max, 30, dtype=dtype, endpoint=True)
    arrays = (vals,) if case.narr == 1 else (vals[::-1].copy(), vals)
    r = case(*arrays)
    assert r.dtype == np.float64
    assert_identical(r, case(*(a.astype(np.float64) for a in arrays)), str(case))
    # strided integer input goes through the same conversion
    assert_identical(case(*(a[::2] for a in arrays)), r[::2], str(case))


@param_cases
@pytest.mark.parametrize("bad", ["complex64", "complex128", "object", "U3", "S3", "datetime64[s]",
                                 "timedelta64[s]"])
def test_unsupported_dtypes_raise_type_error(case, bad):
    good = np.linspace(-2, 2, 5)
    if bad == "object":
        arr = np.array([1.0, 2.0, 3.0, 4.0, 5.0], dtype=object)
    elif bad[0] in "US":
        arr = np.array(["a", "b", "c", "d", "e"], dtype=bad)
    else:
        arr = np.arange(5).astype(bad)
    for k in range(case.narr):
        arrays = [good] * case.narr
        arrays[k] = arr
        with pytest.raises(TypeError) as excinfo:
            case(*arrays)
        assert_names(excinfo, case)


@pytest.mark.parametrize("case", [c for c in CASES if c.narr == 1 and not c.params][:3]
                         + [c for c in WITH_PARAMS if c.narr == 1][:3], ids=str)
def test_array_likes(case):
    data = [[-1.5, 0.0, 2.0], [3.0, -4.0, 0.25]]

    class HasArray:
        def __array__(self, dtype=None, copy=None):
            return np.array(data, dtype=dtype)

    expected = case(np.array(data))
    assert_identical(case(data), expected, "list")
    assert_identical(case(tuple(map(tuple, data))), expected, "tuple")
    assert_identical(case(HasArray()), expected, "__array__")
    assert_identical(case([1, 2, 3]), case(np.array([1.0, 2.0, 3.0])), "int list")


# ---------------------------------------------------------------- promotion and broadcasting

@pytest.mark.parametrize("case", BACKWARD, ids=str)
def test_backward_promotion(case):
    dy, x = make_inputs(case, 101, moderate=True)
    dy32, x32 = dy.astype(np.float32), x.astype(np.float32)
    r = case(dy32, x)
    assert r.dtype == np.float64
    assert_identical(r, case(dy32.astype(np.float64), x), "float32 dy, float64 x")
    r = case(dy, x32)
    assert r.dtype == np.float64
    assert_identical(r, case(dy, x32.astype(np.float64)), "float64 dy, float32 x")
    r = case(dy32.astype(np.float16), x32)
    assert r.dtype == np.float32
    assert_identical(r, case(dy32.astype(np.float16).astype(np.float32), x32), "float16 with float32")
    # a Python float does not upcast a float32 array
    r = case(1.5, x32)
    assert r.dtype == np.float32
    assert_identical(r, case(np.full_like(x32, 1.5), x32), "Python float dy")
    r = case(dy32, 0.75)
    assert r.dtype == np.float32
    assert_identical(r, case(dy32, np.full_like(dy32, 0.75)), "Python float x")


@pytest.mark.parametrize("case", BACKWARD, ids=str)
def test_backward_broadcasting(case):
    dy, x = make_inputs(case, 35)
    col, row = dy[:5].reshape(5, 1), x[:7]
    r = case(col, row)
    assert r.shape == (5, 7)
    full = np.broadcast_arrays(col, row)
    assert_identical(r, case(*(np.ascontiguousarray(a) for a in full)), "(5,1) with (7,)")
    assert_identical(case(row, col), case(*(np.ascontiguousarray(a) for a in full[::-1])), "(7,) with (5,1)")
    # zero strides given directly
    bcast = np.broadcast_to(col, (5, 7))
    assert_identical(case(bcast, row), r, "broadcast_to view")
    # a scalar against an array
    assert_identical(case(2.0, x), case(np.full_like(x, 2.0), x), "scalar dy")
    assert_identical(case(3, x), case(np.full_like(x, 3.0), x), "int scalar dy")
    for a, b in [((3,), (4,)), ((2, 3), (3, 2)), ((5, 1), (4, 7))]:
        with pytest.raises(ValueError):
            case(np.ones(a), np.ones(b))


@pytest.mark.parametrize("case", WITH_PARAMS, ids=str)
def test_params_do_not_change_dtype(case):
    arrays = make_inputs(case, 31, np.float32, moderate=True)
    values = {k: np.float64(v) if isinstance(v, float) else v for k, v in case.params.items()}
    r = case.func(*arrays, **values)
    assert r.dtype == np.float32
    assert_identical(r, case(*arrays), "numpy float64 params")


# ---------------------------------------------------------------- out=

@param_cases
def test_out_is_returned(case):
    arrays = make_inputs(case, 601)
    expected = case(*arrays)
    out = np.full(601, 42.0)
    assert case(*arrays, out=out) is out
    assert_identical(out, expected, str(case))
    out32 = np.full(601, 42.0, np.float32)
    arrays32 = make_inputs(case, 601, np.float32)
    assert case(*arrays32, out=out32) is out32
    assert_identical(out32, case(*arrays32), "float32")
    # a tuple out, as ufuncs take it
    out2 = np.empty(601)
    assert case(*arrays, out=(out2,)) is out2
    assert_identical(out2, expected, "out tuple")


@param_cases
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16])
def test_out_in_place(case, dtype):
    arrays = make_inputs(case, 1537, dtype)
    expected = case(*arrays)
    for k in range(case.narr):
        copies = [a.copy() for a in arrays]
        r = case(*copies, out=copies[k])
        assert r is copies[k]
        assert_identical(r, expected, f"in place on argument {k}")
        # in place on a strided view, too
        copies = [np.repeat(a, 2)[::2] for a in arrays]
        assert case(*copies, out=copies[k]) is copies[k]
        assert_identical(copies[k], expected, f"in place on strided argument {k}")


@param_cases
def test_out_overlapping_input(case):
    """An out that overlaps an input shifted by one element gives the result of
    computing into a fresh array (like ufuncs)."""
    arrays = make_inputs(case, 1201, seed=8)
    for k in range(case.narr):
        expected = case(*(a[:-1] for a in arrays))
        bufs = [a.copy() for a in arrays]
        r = case(*(b[:-1] for b in bufs), out=bufs[k][1:])
        assert_identical(r, expected, f"out = argument {k} shifted by +1")
        expected = case(*(a[1:] for a in arrays))
        bufs = [a.copy() for a in arrays]
        r = case(*(b[1:] for b in bufs), out=bufs[k][:-1])
        assert_identical(r, expected, f"out = argument {k} shifted by -1")


@param_cases
def test_out_other_dtypes(case):
    arrays = make_inputs(case, 301, moderate=True)
    expected = case(*arrays)
    out = np.full(301, 42.0, np.float32)   # same_kind: float64 result into float32
    assert case(*arrays, out=out) is out
    assert_identical(out, expected.astype(np.float32), "float64 into float32")
    arrays32 = tuple(a.astype(np.float32) for a in arrays)
    out = np.full(301, 42.0)
    assert case(*arrays32, out=out) is out
    assert_identical(out, case(*arrays32).astype(np.float64), "float32 into float64")
    out = np.full(301, 42.0, np.float16)
    with np.errstate(over="ignore"):
        assert case(*arrays32, out=out) is out
        assert_identical(out, case(*arrays32).astype(np.float16), "float32 into float16")
    out = np.full(301, 42.0, np.complex128)
    assert case(*arrays, out=out) is out
    assert_identical(out, expected.astype(np.complex128), "float64 into complex128")


@param_cases
def test_out_errors_write_nothing(case):
    arrays = make_inputs(case, 64)

    def check(out, exc):
        before = out.copy()
        with pytest.raises(exc):
            case(*arrays, out=out)
        assert_identical(out, before, f"out {out.dtype}{out.shape} after {exc.__name__}")

    check(np.full(63, 42.0), ValueError)
    check(np.full(65, 42.0), ValueError)
    check(np.full((64, 1), 42.0), ValueError)
    check(np.full((2, 32), 42.0), ValueError)
    check(np.full(64, 42, np.int64), TypeError)
    check(np.full(64, 42, np.int32), TypeError)
    check(np.full(64, True), TypeError)
    ro = np.full(64, 42.0)
    ro.flags.writeable = False
    check(ro, ValueError)
    if case.params or case.act.params:
        # an invalid parameter is rejected before anything is written
        bad = next(iter(_invalid_values(case)), None)
        if bad is not None:
            out = np.full(64, 42.0)
            with pytest.raises((ValueError, TypeError)):
                case.func(*arrays, **bad, out=out)
            assert_identical(out, np.full(64, 42.0), "invalid parameter")


# ---------------------------------------------------------------- memory layouts

N_LAYOUT = 3597  # = 33 * 109, odd, 7 blocks of 512 and a tail
R, C = 33, 109


def _spread(a, step):
    buf = np.full(a.size * step, 7.0, a.dtype)
    buf[::step] = a
    return buf[::step]


def _unaligned(a):
    raw = np.zeros(a.nbytes + 1, np.uint8)
    view = raw[1:].view(a.dtype)
    view[...] = a
    return view


def _cols(a):
    buf = np.full((R, 2 * C), 7.0, a.dtype)
    buf[:, ::2] = a.reshape(R, C)
    return buf[:, ::2]


def _neg2d(a):
    buf = np.full((R, 2 * C), 7.0, a.dtype)
    buf[::-1, ::-2] = a.reshape(R, C)
    return buf[::-1, ::-2]


LAYOUTS = {
    # name: (view with the values of a 1-D contiguous array, the same on its result)
    "C2d": (lambda a: a.reshape(R, C), lambda r: r.reshape(R, C)),
    "F2d": (lambda a: np.asfortranarray(a.reshape(R, C)), lambda r: r.reshape(R, C)),
    "T": (lambda a: a.reshape(R, C).T, lambda r: r.reshape(R, C).T),
    "3d-perm": (lambda a: a.reshape(3, 11, C).transpose(2, 0, 1), lambda r: r.reshape(3, 11, C).transpose(2, 0, 1)),
    "step3": (lambda a: _spread(a, 3), lambda r: r),
    "step-cols": (_cols, lambda r: r.reshape(R, C)),
    "reversed": (lambda a: a[::-1], lambda r: r[::-1]),
    "neg2d": (_neg2d, lambda r: r.reshape(R, C)),
    "unaligned": (_unaligned, lambda r: r),
    "byteswapped": (lambda a: a.astype(a.dtype.newbyteorder()), lambda r: r),
}


@param_cases
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16])
def test_layouts(case, dtype):
    arrays = make_inputs(case, N_LAYOUT, dtype, seed=2)
    ref = case(*arrays)
    for name, (view, expect) in LAYOUTS.items():
        r = case(*(view(a) for a in arrays))
        assert_identical(r, expect(ref), f"{case} {name}")
    # a non-contiguous out
    out = np.full(2 * N_LAYOUT, 42.0, dtype)[::2]
    assert case(*arrays, out=out) is out
    assert_identical(out, ref, "strided out")
    # reversed inputs into a forward out: the inner loop sees negative strides
    out = np.full(N_LAYOUT, 42.0, dtype)
    assert case(*(a[::-1] for a in arrays), out=out) is out
    assert_identical(out, ref[::-1], "reversed into forward out")
    out = _unaligned(np.full(N_LAYOUT, 42.0, dtype))
    assert case(*arrays, out=out) is out
    assert_identical(out, ref, "unaligned out")
    out = np.full((R, C), 42.0, dtype, order="F")
    case(*(a.reshape(R, C) for a in arrays), out=out)
    assert_identical(out, ref.reshape(R, C), "F-order out")
    if case.narr == 2:  # the two arguments in different layouts
        dy, x = arrays
        assert_identical(case(_spread(dy, 2), x), ref, "strided dy, contiguous x")
        assert_identical(case(dy[::-1], _spread(x[::-1], 3)), ref[::-1], "reversed dy, strided x")
        assert_identical(case(dy.reshape(R, C), np.asfortranarray(x.reshape(R, C))), ref.reshape(R, C), "C dy, F x")


@param_cases
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_results_do_not_depend_on_length_or_offset(case, dtype):
    """Tails are computed by the same vector code: a prefix or suffix of the input gives
    the same bits as the same elements of the whole call."""
    arrays = make_inputs(case, 1031, dtype, seed=3)
    ref = case(*arrays)
    for n in list(range(1, 40)) + [511, 512, 513, 1023, 1024, 1025]:
        assert_identical(case(*(a[:n] for a in arrays)), ref[:n], f"first {n}")
    for k in range(1, 18):
        assert_identical(case(*(a[k:] for a in arrays)), ref[k:], f"from {k}")


@param_cases
def test_scalars_and_0d(case):
    x0 = 0.75 if not case.from_output else float(case.forward(0.75))
    dy0 = 1.25
    args = (x0,) if case.narr == 1 else (dy0, x0)

    r = case(*args)
    assert type(r) is np.float64
    assert_identical(r, case(*(np.array([a]) for a in args))[0], "Python floats")
    r = case(*(np.array(a) for a in args))
    assert type(r) is np.float64, "a 0-d array gives a NumPy scalar"
    r = case(*(np.float32(a) for a in args))
    assert type(r) is np.float32
    assert_identical(r, case(*(np.array([a], np.float32) for a in args))[0], "np.float32")
    r = case(*(np.float16(a) for a in args))
    assert type(r) is np.float16
    assert_identical(r, case(*(np.array([a], np.float16) for a in args))[0], "np.float16")
    ints = (2,) * case.narr
    r = case(*ints)
    assert type(r) is np.float64
    assert_identical(r, case(*(np.array([2.0]),) * case.narr)[0], "Python int")
    r = case(*(np.int8(2),) * case.narr)
    assert type(r) is np.float64
    r = case(*(True,) * case.narr)
    assert type(r) is np.float64
    assert_identical(r, case(*(np.array([1.0]),) * case.narr)[0], "bool")
    # 0-d out is returned as is
    out = np.array(42.0)
    assert case(*args, out=out) is out
    assert_identical(out, np.array(case(*args)), "0-d out")


@param_cases
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16, np.int8])
def test_empty(case, dtype):
    out_dtype = dtype if dtype in (np.float32, np.float16) else np.float64
    for shape in [(0,), (3, 0), (0, 5)]:
        arrays = (np.zeros(shape, dtype),) * case.narr
        r = case(*arrays)
        assert r.shape == shape and r.dtype == out_dtype
        out = np.empty(shape, out_dtype)
        assert case(*arrays, out=out) is out
    if case.narr == 2:
        assert case(np.zeros((3, 0)), np.zeros((1, 0))).shape == (3, 0)
        assert case(np.zeros((3, 1)), np.zeros((0,))).shape == (3, 0)


# ---------------------------------------------------------------- parameters

@param_cases
def test_signature(case):
    torch = TORCH_PARAMS.get(case.act.name, ())
    if not torch:
        # a parameter-free function is its ufunc
        assert isinstance(case.func, np.ufunc)
        assert (case.func.nin, case.func.nout) == (case.narr, 1)
        return
    sig = inspect.signature(case.func)
    expected = [(n, inspect.Parameter.empty) for n in ARRAYS[case.call]] + list(torch) + [("out", None)]
    assert [(p.name, p.default) for p in sig.parameters.values()] == expected
    # the arrays are positional-only, as a ufunc's are (one rule for every activation:
    # ag.sigmoid(x=a) and ag.elu(x=a) both raise TypeError); the parameters are
    # keyword-or-positional, as docs/api.md promises
    kinds = [p.kind for p in sig.parameters.values()]
    narr = len(ARRAYS[case.call])
    assert kinds[:narr] == [inspect.Parameter.POSITIONAL_ONLY] * narr
    assert set(kinds[narr:]) == {inspect.Parameter.POSITIONAL_OR_KEYWORD}
    assert case.func.__name__ == case.name
    assert case.func.__doc__


@pytest.mark.parametrize("case", [c for c in WITH_PARAMS if c.params], ids=str)
def test_params_positional_or_keyword(case):
    arrays = make_inputs(case, 257)
    values = list(case.params.values())
    by_kw = case(*arrays)
    assert_identical(case.func(*arrays, *values), by_kw, "positional")
    if len(values) == 2:
        first = list(case.params)[0]
        assert_identical(case.func(*arrays, values[0], **{k: v for k, v in case.params.items() if k != first}),
                         by_kw, "mixed")
    # the defaults are the values the signature names
    defaults = dict(TORCH_PARAMS[case.act.name])
    assert_identical(case.func(*arrays), case.func(*arrays, **defaults), "defaults")
    # other real types are accepted as the same float
    numeric = {k: v for k, v in case.params.items() if isinstance(v, float)}
    if numeric:
        conv = {k: (int(v) if v == int(v) else np.float32(v) if float(np.float32(v)) == v else np.float64(v))
                for k, v in numeric.items()}
        assert_identical(case.func(*arrays, **conv), by_kw, "int / numpy scalar params")
        zero_d = {k: np.array(v) for k, v in numeric.items()}
        assert_identical(case.func(*arrays, **zero_d), by_kw, "0-d array params")
    with pytest.raises(TypeError):
        case.func(*arrays, not_a_parameter=1.0)


@pytest.mark.parametrize("case", [c for c in WITH_PARAMS if not c.params], ids=str)
def test_bad_parameter_types(case):
    arrays = make_inputs(case, 11)
    for pname, default in TORCH_PARAMS[case.act.name]:
        bads = [1.0, None, b"1"] if isinstance(default, str) else [
            "1.0", None, 1j, [1.0, 2.0], np.array([1.0, 2.0]), object(), np.array(1 + 1j),
            np.complex128(1 + 1j)]
        for bad in bads:
            with pytest.raises(TypeError) as excinfo:
                case.func(*arrays, **{pname: bad})
            assert case.name in str(excinfo.value), str(excinfo.value)
            assert pname in str(excinfo.value), str(excinfo.value)


def test_numpy_complex_parameters_raise_type_error():
    """np.complex64 / np.clongdouble are complex numbers like 1j and np.complex128 (which
    are rejected), but they are not subclasses of Python's complex: they must not be
    silently truncated to their real part."""
    x = np.linspace(-2, 2, 5)
    failures = []
    for case in WITH_PARAMS:
        if case.params:
            continue
        for pname, default in TORCH_PARAMS[case.act.name]:
            if isinstance(default, str):
                continue
            for bad in (np.complex64(1 + 1j), np.clongdouble(1 + 1j), np.complex64(2)):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # numpy's ComplexWarning
                    try:
                        case.func(*(x,) * case.narr, **{pname: bad})
                    except TypeError as e:
                        if case.name not in str(e):
                            failures.append(f"{case.name}({pname}={bad!r}): message {e}")
                        continue
                    except ValueError as e:
                        failures.append(f"{case.name}({pname}={bad!r}): ValueError {e}")
                        continue
                failures.append(f"{case.name}({pname}={bad!r}) was accepted")
    assert not failures, "\n".join(failures[:5]) + f"\n... {len(failures)} in all"


def _invalid_values(case):
    """Parameter sets that must raise ValueError for this call."""
    name, fo = case.act.name, case.from_output
    if name == "celu":
        yield {"alpha": 0.0}
        if fo:
            yield {"alpha": -1.0}
    if name == "softplus":
        yield {"beta": 0.0}
        yield {"beta": -1.0}
        yield {"beta": -0.0}
    if name == "hardtanh":
        yield {"min_val": 2.0, "max_val": 1.0}
        yield {"min_val": 1.0, "max_val": 0.999}
    if name == "leaky_relu" and fo:
        yield {"negative_slope": 0.0}
        yield {"negative_slope": -0.1}
    if name == "elu" and fo:
        yield {"alpha": 0.0}
        yield {"alpha": -1.0}
    if name == "gelu":
        yield {"approximate": "exact"}
        yield {"approximate": "Tanh"}
        yield {"approximate": ""}


@pytest.mark.parametrize("case", [c for c in WITH_PARAMS if not c.params and any(_invalid_values(c))], ids=str)
def test_invalid_parameter_values(case):
    arrays = make_inputs(case, 11)
    invalid = list(_invalid_values(case))
    for params in invalid:
        with pytest.raises(ValueError) as excinfo:
            case.func(*arrays, **params)
        assert case.name in str(excinfo.value), str(excinfo.value)


@pytest.mark.parametrize("case", [c for c in WITH_PARAMS if not c.params and not c.from_output], ids=str)
def test_valid_edge_parameters(case):
    """Values PyTorch accepts for forward/derivative/backward are accepted here."""
    arrays = make_inputs(case, 11)
    edge = {"leaky_relu": [{"negative_slope": 0.0}, {"negative_slope": -0.5}],
            "elu": [{"alpha": 0.0}, {"alpha": -1.0}],
            "celu": [{"alpha": -1.0}],
            "softplus": [{"beta": 0.5, "threshold": -1.0}],
            "hardtanh": [{"min_val": 0.5, "max_val": 0.5}],
            "gelu": [{"approximate": "none"}, {"approximate": "tanh"}]}[case.act.name]
    for params in edge:
        r = case.func(*arrays, **params)
        assert r.shape == arrays[0].shape


def _valid_param_arrays(act, n, rng):
    """Per-element parameter arrays, valid for every call (positive where it matters)."""
    if act.name == "hardtanh":
        lo = rng.uniform(-2, 0.5, n)
        return [lo, lo + rng.uniform(0, 2, n)]
    if act.name == "softplus":
        return [rng.uniform(0.25, 3, n), rng.uniform(-2, 20, n)]
    return [rng.uniform(0.05, 2.5, n)]


NUMERIC_ACTS = [a for a in ACTIVATIONS if a.numeric_params]
per_call = pytest.mark.parametrize("act,call", [(a, c) for a in NUMERIC_ACTS for c in a.calls],
                                   ids=lambda v: v if isinstance(v, str) else v.name)


@per_call
def test_raw_ufunc_per_element_params(act, call):
    case = Case(public_name(act.name, call), act, call, {})
    ufunc = getattr(ag.ufuncs, case.name)
    names = [p.name for p in act.numeric_params]
    assert isinstance(ufunc, np.ufunc) and ufunc.nin == case.narr + len(names)
    rng = np.random.default_rng(4)
    n = 157
    arrays = make_inputs(case, n, seed=4)
    params = _valid_param_arrays(act, n, rng)
    r = ufunc(*arrays, *params)
    expected = np.array([case.func(*(a[i:i + 1] for a in arrays), **{k: float(p[i]) for k, p in zip(names, params)})[0]
                         for i in range(n)])
    assert_identical(r, expected, "parameters varying per element")
    # scalar parameters through the ufunc give the wrapper's result
    scalars = [float(p[0]) for p in params]
    assert_identical(ufunc(*arrays, *scalars), case.func(*arrays, *scalars), "scalar params")


@per_call
def test_raw_ufunc_param_runs_and_broadcasting(act, call):
    """Parameters constant over runs of every length, crossing the 512-element blocks;
    parameter rows and columns broadcasting against a 2-D input; float32 and strided x."""
    case = Case(public_name(act.name, call), act, call, {})
    ufunc = getattr(ag.ufuncs, case.name)
    rng = np.random.default_rng(5)
    n = 3001
    arrays = make_inputs(case, n, seed=5)
    choices = _valid_param_arrays(act, 4, rng)          # 4 parameter sets
    runs = np.repeat(rng.integers(0, 4, 60), rng.integers(1, 120, 60))
    which = np.resize(runs, n)
    params = [c[which] for c in choices]

    def grouped(arrs, which, out_dtype):
        expected = np.empty(arrs[0].shape, out_dtype)
        for j in range(4):
            full = case.func(*arrs, *[float(c[j]) for c in choices])
            expected[which == j] = full[which == j]
        return expected

    for dtype in (np.float64, np.float32):
        with np.errstate(over="ignore"):
            arrs = tuple(a.astype(dtype) for a in arrays)
        r = ufunc(*arrs, *params)
        assert r.dtype == dtype
        assert_identical(r, grouped(arrs, which, dtype), f"runs {np.dtype(dtype).name}")
        # strided / reversed inputs with contiguous parameters
        r = ufunc(*(_spread(a, 2) for a in arrs), *params)
        assert_identical(r, grouped(arrs, which, dtype), "strided x")
    # a column of parameters broadcast along rows, and a row of them along columns
    x2 = tuple(a[:3000].reshape(6, 500) for a in arrays)
    col = [c[np.arange(6) % 4].reshape(6, 1) for c in choices]
    w_col = np.broadcast_to((np.arange(6) % 4).reshape(6, 1), (6, 500))
    assert_identical(ufunc(*x2, *col), grouped(x2, w_col, np.float64), "parameter column")
    row_idx = rng.integers(0, 4, 500)
    row = [c[row_idx] for c in choices]
    w_row = np.broadcast_to(row_idx, (6, 500))
    assert_identical(ufunc(*x2, *row), grouped(x2, w_row, np.float64), "parameter row")
    # float16 input with per-element parameters: computed in float32
    with np.errstate(over="ignore", invalid="ignore"):
        x16 = tuple(a.astype(np.float16) for a in arrays)
        expected16 = ufunc(*(a.astype(np.float32) for a in x16), *params).astype(np.float16)
    assert_identical(ufunc(*x16, *params), expected16, "float16 with parameter array")


# ---------------------------------------------------------------- NumPy integration

def test_ufuncs_module():
    names = ag.ufuncs.__all__
    assert names
    for name in names:
        assert isinstance(getattr(ag.ufuncs, name), np.ufunc), name
    for case in CASES:
        assert case.ufunc.__name__ in names
        if not case.act.params:
            assert case.func is case.ufunc


@pytest.mark.parametrize("case", [c for c in BACKWARD if not c.act.params][::3], ids=str)
def test_ufunc_outer(case):
    dy, x = make_inputs(case, 40, moderate=True)
    assert_identical(case.ufunc.outer(dy[:5], x[:7]), case.ufunc(dy[:5, None], x[None, :7]), "outer")


class Recorder(np.ndarray):
    """A subclass that sees every ufunc call through __array_ufunc__."""
    seen = []

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        Recorder.seen.append(ufunc)
        plain = [i.view(np.ndarray) if isinstance(i, Recorder) else i for i in inputs]
        if "out" in kwargs:
            kwargs["out"] = tuple(o.view(np.ndarray) if isinstance(o, Recorder) else o for o in kwargs["out"])
        result = getattr(ufunc, method)(*plain, **kwargs)
        return result.view(Recorder) if isinstance(result, np.ndarray) else result


class Plain(np.ndarray):
    pass


@param_cases
def test_subclass_dispatch(case):
    arrays = make_inputs(case, 21)
    expected = case(*arrays)
    Recorder.seen.clear()
    r = case(*(a.view(Recorder) for a in arrays))
    assert type(r) is Recorder
    assert Recorder.seen == [case.ufunc]
    assert_identical(r.view(np.ndarray), expected, "Recorder")
    # only the second argument a subclass
    if case.narr == 2:
        Recorder.seen.clear()
        r = case(arrays[0], arrays[1].view(Recorder))
        assert type(r) is Recorder and Recorder.seen == [case.ufunc]
    r = case(*(a.view(Plain) for a in arrays))
    assert type(r) is Plain
    assert_identical(r.view(np.ndarray), expected, "Plain subclass")


@pytest.mark.parametrize("case", [c for c in CASES if c.narr == 1][::3], ids=str)
def test_masked_array(case):
    x = make_inputs(case, 9, moderate=True)[0]
    mask = np.array([0, 1, 0, 0, 1, 0, 0, 0, 1], bool)
    r = case(np.ma.array(x, mask=mask))
    assert isinstance(r, np.ma.MaskedArray)
    np.testing.assert_array_equal(np.ma.getmaskarray(r), mask)
    assert_identical(r.data[~mask], case(x)[~mask], str(case))


def test_pickle_by_reference():
    for name in ALL_PUBLIC:
        f = getattr(ag, name)
        assert pickle.loads(pickle.dumps(f)) is f, name
    for name in ag.ufuncs.__all__:
        f = getattr(ag.ufuncs, name)
        assert pickle.loads(pickle.dumps(f)) is f, name
    for name in ("config", "show_config", "get_num_threads", "set_num_threads", "num_threads"):
        f = getattr(ag, name)
        assert pickle.loads(pickle.dumps(f)) is f, name
    rec = ag.activations["softplus"]
    assert pickle.loads(pickle.dumps(rec)) == rec


# ---------------------------------------------------------------- floating-point flags

def _paths(case):
    """Inputs for every driver path: float64/float32 contiguous, strided, float16, integers."""
    f64 = make_inputs(case, 1001, seed=6)
    yield "float64", f64
    yield "float32", tuple(a.astype(np.float32) for a in make_inputs(case, 1001, np.float32, seed=6))
    yield "strided", tuple(_spread(a, 3) for a in f64)
    yield "float16", make_inputs(case, 1001, np.float16, seed=6)
    ints = np.array([-2**63, 2**63 - 1, -1000, -3, -1, 0, 1, 3, 6, 1000, 50, -50], np.int64)
    yield "int64", (ints,) * case.narr
    yield "uint8", (np.arange(256, dtype=np.uint8),) * case.narr


@param_cases
def test_no_floating_point_warnings(case):
    """No overflow/divide/invalid warnings, whatever the input (also NaN and inf:
    numpy's own np.exp(nan) is silent), on every path."""
    for path, arrays in _paths(case):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
                try:
                    case(*arrays)
                except FloatingPointError as e:  # pragma: no cover - reported as failure
                    pytest.fail(f"{case} on {path}: {e}")


@param_cases
def test_nan_in_nan_out(case):
    """A NaN in any argument gives NaN, in backward passes too (even where f'(x) = 0)."""
    for path, arrays in list(_paths(case))[:4]:
        r = case(*arrays)
        nan_in = np.zeros(r.shape, bool)
        for a in arrays:
            nan_in |= np.isnan(a)
        assert nan_in.any()
        assert np.isnan(r[nan_in]).all(), f"{case} on {path}: {r[nan_in]}"
    for k in range(case.narr):
        args = [np.array([-5.0, 0.0, 0.5, 3.0, 7.0, 100.0])] * case.narr
        args[k] = np.full(6, np.nan)
        assert np.isnan(case(*args)).all(), f"{case}: NaN in argument {k}"


# ---------------------------------------------------------------- SIMD paths

SUPPORTED = ag.config()["simd_supported"]
VECTOR_ISAS = [isa for isa in SUPPORTED if isa != "scalar"]


@pytest.mark.skipif(not VECTOR_ISAS, reason="this machine runs the scalar path only")
@param_cases
def test_simd_paths_bitwise_identical(case, restore_isa):
    inputs = {np.dtype(dt).name: make_inputs(case, 1001, dt, seed=7)
              for dt in (np.float64, np.float32, np.float16)}
    inputs["strided64"] = tuple(_spread(a, 2) for a in inputs["float64"])

    def results():
        out = {k: case(*v) for k, v in inputs.items()}
        out["prefix13"] = case(*(a[:13] for a in inputs["float32"]))
        return out

    _core.set_isa("scalar")
    assert ag.config()["simd"] == "scalar"
    scalar = results()
    for isa in VECTOR_ISAS:
        _core.set_isa(isa)
        assert ag.config()["simd"] == isa
        for k, r in results().items():
            assert_identical(r, scalar[k], f"{case} {k}: {isa} vs scalar")


def test_set_isa_errors(restore_isa):
    assert "scalar" in SUPPORTED
    with pytest.raises(ValueError):
        _core.set_isa("sse9")
    for isa in _core.ISAS:
        if isa not in SUPPORTED:
            with pytest.raises(ValueError):
                _core.set_isa(isa)
            assert _core.isa() == restore_isa, "a refused path must not be switched to"


ISA_PROBE = ("import actgrad as ag, numpy as np, hashlib;"
             "x = np.linspace(-8, 8, 1001);"
             "print(ag.config()['simd'], hashlib.sha1(ag.gelu(x).tobytes() + ag.mish(x.astype(np.float32)).tobytes()).hexdigest())")


def _run_probe(isa_env):
    env = {k: v for k, v in os.environ.items() if k != "ACTGRAD_ISA"}
    if isa_env is not None:
        env["ACTGRAD_ISA"] = isa_env
    p = subprocess.run([sys.executable, "-c", ISA_PROBE], env=env, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return p.stdout.split()


def test_isa_environment_variable(restore_isa):
    import hashlib
    best = SUPPORTED[-1]
    x = np.linspace(-8, 8, 1001)
    digests = {}
    for isa in SUPPORTED:
        _core.set_isa(isa)
        digests[isa] = hashlib.sha1(ag.gelu(x).tobytes() + ag.mish(x.astype(np.float32)).tobytes()).hexdigest()
    for value, expected in [(None, best), ("bogus", best), ("", best)] + \
            [(isa, isa if isa in SUPPORTED else best) for isa in _core.ISAS]:
        simd, digest = _run_probe(value)
        assert simd == expected, f"ACTGRAD_ISA={value!r}"
        assert simd in SUPPORTED, "never above what the machine supports"
        assert digest == digests[expected], f"ACTGRAD_ISA={value!r}: results differ from the {expected} path"
