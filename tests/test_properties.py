"""Property-based tests of the calling convention (docs/api.md section 1), with hypothesis.

Every public function, called with random shapes (0 to 5 dimensions, empty axes), every NumPy
dtype (valid and invalid, byte-swapped, unaligned), memory layouts (C, F, steps, negative
strides, permuted axes, broadcast views with stride 0, lists), broadcasting pairs for the
two-array calls, every ``out=`` variant (none, fresh in any layout, another dtype, an input
itself, partially overlapping an input, read-only, wrong dtype, wrong or larger shape) and
parameter values (valid, boundary, invalid, NaN, not real), must either raise the documented
exception and leave ``out`` untouched, or give bitwise the result of the same call on
contiguous native-order copies of its inputs (NaN positions equal); ``out`` overlapping an
input gives what NumPy ufuncs give, i.e. the result computed as if on copies.

The functions under test are listed per family by ``FAMILIES``: each family turns the table
it is built from into ``Fn`` records.  The elementwise family is built from
``src/actgrad/_optable.py``; a new family (softmax, losses) adds a builder that returns its
``Fn`` records (``broadcast=False`` where its arrays must have equal shapes, its keyword
parameters with their valid/invalid values and expected exceptions) and, where its result's
shape is not the broadcast of its inputs', a ``result_shape``.  The accuracy against
mpmath is tests/test_activations.py's concern; here only consistency across layouts.
"""
import contextlib
import math
import os
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import actgrad as ag
from actgrad._optable import ACTIVATIONS, checks

# 120 examples per property keep this file under ~30 s on 2 cores; ACTGRAD_PROPERTY_EXAMPLES=2000
# runs a deeper search.
SETTINGS = settings(max_examples=int(os.environ.get("ACTGRAD_PROPERTY_EXAMPLES", 120)), deadline=None,
                    print_blob=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# ---------------------------------------------------------------- the functions under test

@dataclass(frozen=True)
class Param:
    name: str
    default: object
    values: tuple           # candidates drawn for this parameter (valid, boundary, invalid, odd types)


@dataclass(frozen=True)
class Fn:
    name: str                       # public name, ag.<name>
    func: object
    narr: int                       # array arguments before the parameters
    params: tuple = ()              # Param records, keyword-or-positional after the arrays
    expect_param_error: object = None   # kwargs -> exception class or None
    broadcast: bool = True          # the arrays broadcast against each other (else equal shapes)
    family: str = "elementwise"
    base: str = ""                  # the name error messages must contain

    def __repr__(self):
        return f"Fn({self.name})"


NUMERIC_CANDIDATES = (0.0, -0.0, 1.0, -1.0, 0.5, 2.0, 0.01, -0.01, 1e-300, -1e-300, 5e-324, 1e300,
                      math.inf, -math.inf, math.nan, 20.0, -20.0, 3, -2, np.float32(0.25),
                      np.float64(-3.5), np.int8(2))
NON_REAL = ("1.0", 1j, None, True, np.array([1.0, 2.0]), b"x")


def _is_real(v):
    """What docs/api.md calls a real parameter: ints and floats of Python or NumPy, not bool."""
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))


def _elementwise_family():
    fns = []
    for act in ACTIVATIONS:
        for call in act.calls:
            narr = 2 if call.startswith("backward") else 1
            params = []
            for p in act.params:
                if p.choices is None:
                    params.append(Param(p.name, p.default, (p.default,) + NUMERIC_CANDIDATES + NON_REAL))
                else:
                    params.append(Param(p.name, p.default, tuple(p.choices) + ("exact", "", 1, None)))
            tests = checks(act, call)

            def expect(kwargs, act=act, tests=tests):
                numeric = {}
                for p in act.params:        # the wrapper converts/looks up each in order
                    v = kwargs.get(p.name, p.default)
                    if p.choices is None:
                        if not _is_real(v):
                            return TypeError
                        numeric[p.name] = float(v)
                    elif not isinstance(v, str):
                        return TypeError
                    elif v not in p.choices:
                        return ValueError
                for test in tests:
                    if test(**numeric):
                        return ValueError
                return None

            for alias in (act.name, *act.aliases):
                pub = alias if call == "forward" else f"{alias}_{call}"
                fns.append(Fn(pub, getattr(ag, pub), narr, tuple(params), expect, True, "elementwise",
                              act.name))
    return fns


FAMILIES = {"elementwise": _elementwise_family()}
# The softmax family and the losses join here when they land, e.g.
#   FAMILIES["softmax"] = _softmax_family()   (Fn(..., broadcast=False, params=(axis...)))
FUNCTIONS = [f for fam in FAMILIES.values() for f in fam]
ELEMENTWISE = FAMILIES["elementwise"]


def test_every_public_function_is_covered():
    """Every public callable of actgrad that takes arrays is in a family (or known not to)."""
    covered = {f.name for f in FUNCTIONS}
    not_array_functions = {"ActivationFunctions", "config", "show_config", "get_num_threads",
                           "set_num_threads", "num_threads"}
    missing = [n for n in ag.__all__ if callable(getattr(ag, n)) and n not in covered | not_array_functions]
    assert set(n for n in missing if not n.startswith(("softmax", "log_softmax", "logsumexp", "cross_entropy",
                                                         "binary_cross", "mse_loss"))) == set(), missing


# ---------------------------------------------------------------- arrays

VALID_DTYPES = [np.dtype(t) for t in ("?", "i1", "u1", "i2", "u2", "i4", "u4", "i8", "u8", "f2", "f4", "f8")]
VALID_DTYPES += [d.newbyteorder() for d in VALID_DTYPES if d.itemsize > 1]   # byte-swapped
INVALID_DTYPES = [np.dtype(t) for t in ("g", "F", "D", "G", "O", "U3", "S3", "V8", "M8[s]", "m8[s]")]
INVALID_DTYPES.append(np.dtypes.StringDType())
INVALID_DTYPES.append(np.dtype([("a", "f8"), ("b", "i4")]))

SPECIAL = np.array([0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -2.0, 3.0, -3.0, 6.0, -6.0, 20.0, -20.0, 1e-8,
                    np.inf, -np.inf, np.nan, -np.nan, 1e-310, 5e-324, 1e300, -1e300, 88.7, -103.9, 709.8,
                    -745.2, 65504.0, 1e-5, 17.0, -17.0])


def _values(rng, shape, dtype):
    """A C-contiguous array of `shape` and `dtype`: random and special values."""
    n = math.prod(shape)
    native = dtype.newbyteorder("=") if dtype.byteorder not in "=|" else dtype
    if dtype.kind == "b":
        v = rng.random(n) < 0.5
    elif dtype.kind in "iu":
        info = np.iinfo(native)
        v = rng.integers(info.min, info.max, n, dtype=native, endpoint=True)
        small = rng.random(n) < 0.5
        v[small] = rng.integers(max(info.min, -8), 9, int(small.sum()))
    elif dtype.kind == "f":
        v = rng.standard_normal(n) * rng.choice([1.0, 10.0, 100.0])
        special = rng.random(n) < 0.3
        v[special] = rng.choice(SPECIAL, int(special.sum()))
        with np.errstate(over="ignore"):
            v = v.astype(native)
    elif dtype.kind == "c":
        v = (rng.standard_normal(n) + 1j * rng.standard_normal(n)).astype(native)
    elif dtype.kind == "O":
        v = np.array([float(t) for t in rng.standard_normal(n)] + [None], dtype=object)[:n]
    else:   # strings, bytes, void, datetimes, structured: zeros are enough to be rejected
        v = np.zeros(n, native)
    return np.ascontiguousarray(v.astype(dtype).reshape(shape))


LAYOUTS = ("C", "F", "steps", "negative", "permuted", "broadcast", "unaligned", "list", "scalar")


def _layout(v, layout, rng):
    """An array-like equal to v (or, for 'broadcast', a stride-0 view of part of it) in `layout`."""
    shape, nd = v.shape, v.ndim
    if layout == "F":
        return np.asfortranarray(v)
    if layout == "steps" and nd:
        big = np.zeros(tuple(2 * d + 1 for d in shape), v.dtype)
        sl = tuple(slice(1, None, 2) if d else slice(0, 0) for d in shape)
        big[sl] = v
        return big[sl]
    if layout == "negative" and nd:
        flip = tuple(slice(None, None, -1) if rng.random() < 0.7 else slice(None) for _ in shape)
        return np.ascontiguousarray(v[flip])[flip]
    if layout == "permuted" and nd > 1:
        perm = rng.permutation(nd)
        return np.ascontiguousarray(v.transpose(perm)).transpose(np.argsort(perm))
    if layout == "broadcast" and nd:
        axis = int(rng.integers(nd))
        if shape[axis] == 0:
            return v
        return np.broadcast_to(v.take([0], axis=axis), shape)   # stride 0 along axis
    if layout == "unaligned" and v.dtype.itemsize > 1 and v.dtype.kind not in "OTV" and v.size:
        raw = np.zeros(v.nbytes + 1, np.uint8)[1:]
        out = raw.view(v.dtype).reshape(shape)
        out[...] = v
        return out
    if layout == "list" and v.dtype.kind in "biuf" and 0 < v.size <= 64:   # an empty list loses axes
        return v.tolist()
    if layout == "scalar" and nd == 0 and v.dtype.kind in "biuf":
        return v[()]
    return v


def _copy(a):
    """The contiguous, native-order copy that the reference call gets."""
    a = np.array(a, copy=True, order="C")
    if a.dtype.byteorder not in "=|":
        a = a.astype(a.dtype.newbyteorder("="))
    return a


@st.composite
def shapes(draw):
    if draw(st.integers(0, 5)) == 0:   # sometimes long 1-d: several 512-element blocks and SIMD tails
        return (draw(st.integers(0, 1600)),)
    return tuple(draw(st.lists(st.integers(0, 4), min_size=0, max_size=5)))


@st.composite
def broadcast_shapes(draw, n):
    """n shapes that broadcast together: dimensions kept, set to 1, or leading ones dropped."""
    full = draw(shapes())
    out = []
    for _ in range(n):
        s = [1 if draw(st.integers(0, 3)) == 0 else d for d in full]
        drop = draw(st.integers(0, len(s)))
        out.append(tuple(s[drop:]) if draw(st.integers(0, 2)) == 0 else tuple(s))
    return out


@st.composite
def arrays(draw, shape, dtypes=VALID_DTYPES):
    dtype = draw(st.sampled_from(dtypes))
    layout = draw(st.sampled_from(LAYOUTS))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return _layout(_values(rng, shape, dtype), layout, rng)


@st.composite
def param_kwargs(draw, fn, valid_only=False):
    kwargs = {}
    for p in fn.params:
        how = draw(st.sampled_from(("default", "keyword", "keyword", "float")))
        if how == "default":
            continue
        if how == "float" and not p.values[0].__class__ is str:
            v = draw(st.floats(allow_nan=True, allow_infinity=True))
        else:
            v = draw(st.sampled_from(p.values))
        kwargs[p.name] = v
    if valid_only and fn.expect_param_error(kwargs):
        return {}
    return kwargs


def _call(fn, arrays, kwargs, out=None, positional=False):
    if positional and fn.params:   # parameters positionally, in order, where all are given
        if all(p.name in kwargs for p in fn.params):
            return fn.func(*arrays, *(kwargs[p.name] for p in fn.params), out=out)
    if out is None:
        return fn.func(*arrays, **kwargs)
    return fn.func(*arrays, **kwargs, out=out)


def assert_same(actual, expected):
    """Same dtype, shape and bits (NaN positions equal, any NaN payload)."""
    a, e = np.asarray(actual), np.asarray(expected)
    assert a.dtype == e.dtype, (a.dtype, e.dtype)
    assert a.shape == e.shape, (a.shape, e.shape)
    if a.dtype.kind in "OT":   # objects, variable-width strings: by value (NaN equal to NaN)
        pairs = zip(a.ravel().tolist(), e.ravel().tolist())
        assert all(p == q or (p != p and q != q) for p, q in pairs)
        return
    if a.dtype.kind in "fc":
        an, en = np.isnan(a), np.isnan(e)
        bad = an != en
        assert not bad.any(), f"NaN positions differ at {np.argwhere(bad)[:5].tolist()}"
        a, e = np.where(an, 0, a).astype(a.dtype), np.where(en, 0, e).astype(e.dtype)
        if a.dtype.type in (np.longdouble, np.clongdouble):   # 80-bit: the padding bytes are garbage
            parts = (a.real, e.real, a.imag, e.imag) if a.dtype.kind == "c" else (a, e, a, e)
            for p, q in (parts[:2], parts[2:]):
                diff = (p != q) | (np.signbit(p) != np.signbit(q))
                assert not diff.any(), f"values differ at {np.argwhere(diff)[:5].tolist()}"
            return
    ab = np.ascontiguousarray(a).view(np.uint8).reshape(a.shape + (a.dtype.itemsize,))
    eb = np.ascontiguousarray(e).view(np.uint8).reshape(e.shape + (e.dtype.itemsize,))
    diff = (ab != eb).any(axis=-1)
    assert not diff.any(), f"values differ at {np.argwhere(diff)[:5].tolist()}: " \
                           f"{a[diff][:5].tolist()} vs {e[diff][:5].tolist()}"


def _reference(fn, arrays, kwargs):
    """The result on contiguous copies, or the exception class it raises."""
    try:
        return _call(fn, [_copy(a) for a in arrays], kwargs), None
    except (TypeError, ValueError) as exc:
        return None, type(exc)


def _snapshot(arrays):
    return [np.array(a, copy=True) if isinstance(a, np.ndarray) else None for a in arrays]


def _assert_inputs_unchanged(arrays, before):
    for a, b in zip(arrays, before):
        if b is not None:
            assert_same(a, b)


def _invalid_dtype(a):
    return np.asarray(a).dtype not in VALID_DTYPES


# ---------------------------------------------------------------- properties

@SETTINGS
@given(data=st.data())
def test_layouts_dtypes_params(data):
    """Any layout/dtype/params: the documented exception, or bitwise the contiguous result."""
    fn = data.draw(st.sampled_from(FUNCTIONS), label="fn")
    shape_list = data.draw(broadcast_shapes(fn.narr) if fn.broadcast else shapes().map(lambda s: [s] * fn.narr))
    invalid = data.draw(st.integers(0, 7)) == 0
    arrs = [data.draw(arrays(s, INVALID_DTYPES if invalid and k == 0 else VALID_DTYPES), label=f"array{k}")
            for k, s in enumerate(shape_list)]
    kwargs = data.draw(param_kwargs(fn), label="params")
    positional = data.draw(st.booleans())
    before = _snapshot(arrs)

    param_error = fn.expect_param_error(kwargs)
    if param_error or any(_invalid_dtype(a) for a in arrs):
        expected = param_error or TypeError
        with pytest.raises(expected) as info:
            _call(fn, arrs, kwargs, positional=positional)
        assert fn.base in str(info.value), str(info.value)
        _assert_inputs_unchanged(arrs, before)
        return
    ref, err = _reference(fn, arrs, kwargs)
    assert err is None, err
    result = _call(fn, arrs, kwargs, positional=positional)
    assert_same(result, ref)
    all_0d = all(np.ndim(a) == 0 for a in arrs)
    assert isinstance(result, np.generic) == all_0d, type(result)
    _assert_inputs_unchanged(arrs, before)


OUT_VARIANTS = ("fresh", "fresh_layout", "other_dtype", "inplace", "readonly", "broadcast_view",
                "wrong_dtype", "wrong_shape", "larger_shape", "not_array")


@SETTINGS
@given(data=st.data())
def test_out_variants(data):
    """out=: written and returned, or the documented exception with out untouched."""
    fn = data.draw(st.sampled_from(FUNCTIONS), label="fn")
    shape_list = data.draw(broadcast_shapes(fn.narr) if fn.broadcast else shapes().map(lambda s: [s] * fn.narr))
    arrs = [data.draw(arrays(s), label=f"array{k}") for k, s in enumerate(shape_list)]
    kwargs = data.draw(param_kwargs(fn, valid_only=data.draw(st.booleans())), label="params")
    variant = data.draw(st.sampled_from(OUT_VARIANTS), label="variant")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))

    param_error = fn.expect_param_error(kwargs)
    ref, err = (None, param_error) if param_error else _reference(fn, arrs, kwargs)
    assert param_error or err is None, err
    rshape = np.broadcast_shapes(*(np.shape(a) for a in arrs))
    rdtype = ref.dtype if ref is not None else np.dtype("f8")
    expected_error = param_error
    expected = ref
    if variant == "fresh":
        out = np.full(rshape, np.nan, rdtype)
    elif variant == "fresh_layout":
        out = _layout(np.full(rshape, np.nan, rdtype), data.draw(st.sampled_from(("F", "steps", "negative",
                                                                                   "permuted", "unaligned"))), rng)
        if not isinstance(out, np.ndarray) or not out.flags.writeable:
            out = np.full(rshape, np.nan, rdtype)
    elif variant == "other_dtype":
        out = np.zeros(rshape, data.draw(st.sampled_from(["f2", "f4", "f8", "c16", ">f8", "g", "O"])))
        if ref is not None:
            if np.can_cast(ref.dtype, out.dtype, "same_kind"):
                with np.errstate(all="ignore"):
                    expected = np.asarray(ref).astype(out.dtype)
            else:
                expected_error = TypeError
    elif variant == "inplace":
        candidates = [a for a in arrs if isinstance(a, np.ndarray) and a.flags.writeable and a.shape == rshape
                      and a.dtype == rdtype and not (0 in a.strides and a.size > 1)]
        if not candidates:
            return
        out = candidates[data.draw(st.integers(0, len(candidates) - 1))]
    elif variant == "readonly":
        out = np.zeros(rshape, rdtype)
        out.flags.writeable = False
        expected_error = expected_error or ValueError
    elif variant == "broadcast_view":
        out = np.broadcast_to(np.zeros((), rdtype), rshape)   # read-only, stride 0
        expected_error = expected_error or ValueError
    elif variant == "wrong_dtype":   # those a float result cannot be cast to under same_kind
        out = np.zeros(rshape, data.draw(st.sampled_from(["i4", "i8", "u1", "?", "M8[s]", "m8[s]"])))
        assert not np.can_cast(rdtype, out.dtype, "same_kind")
        expected_error = expected_error or TypeError
    elif variant in ("wrong_shape", "larger_shape"):
        extra = data.draw(st.integers(2, 3))
        shape = (rshape[:-1] + (rshape[-1] + extra,)) if variant == "wrong_shape" and rshape else (extra,) + rshape
        out = np.zeros(shape, rdtype)
        try:
            ok = np.broadcast_shapes(*(np.shape(a) for a in arrs), shape) == shape
        except ValueError:
            ok = False
        if not ok:
            expected_error = expected_error or ValueError
        elif ref is not None:
            expected = np.broadcast_to(ref, shape)
    else:   # not_array: a list is not a valid out
        out = [0.0] * (rshape[0] if rshape else 1)
        expected_error = expected_error or TypeError

    before_out = np.array(out, copy=True) if isinstance(out, np.ndarray) else list(out)
    before = _snapshot(arrs)
    if expected_error:
        with pytest.raises((TypeError, ValueError)) as info:
            _call(fn, arrs, kwargs, out=out)
        if param_error:
            assert info.type is param_error or issubclass(info.type, param_error)
        if isinstance(out, np.ndarray):
            assert_same(out, before_out)
        else:
            assert out == before_out
        _assert_inputs_unchanged(arrs, before)
        return
    # a narrower out dtype overflows where the values do not fit, with NumPy's RuntimeWarning
    # (as ref.astype above, whose warning is silenced the same way)
    with np.errstate(over="ignore") if variant == "other_dtype" else contextlib.nullcontext():
        result = _call(fn, arrs, kwargs, out=out)
    assert result is out
    assert_same(out, expected)
    if variant != "inplace":
        _assert_inputs_unchanged(arrs, before)


@SETTINGS
@given(data=st.data())
def test_partially_overlapping_out(data):
    """out overlapping an input (x[1:] for x[:-1], and the other way round): what NumPy ufuncs
    give, the result computed as if on copies; the bytes outside out are untouched."""
    fn = data.draw(st.sampled_from(FUNCTIONS), label="fn")
    n = data.draw(st.integers(0, 1300), label="n")
    dtype = data.draw(st.sampled_from(["f2", "f4", "f8"]))
    shift = data.draw(st.sampled_from([1, -1, 2, 3, -5]))
    step = data.draw(st.sampled_from([1, 1, -1, 2]))
    which = data.draw(st.integers(0, fn.narr - 1), label="overlapping array")
    kwargs = data.draw(param_kwargs(fn, valid_only=True), label="params")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))

    buf = _values(rng, ((n + abs(shift)) * abs(step),), np.dtype(dtype))
    span = slice(None, None, step)
    lo, hi = (slice(0, len(buf) - shift * abs(step)), slice(shift * abs(step), None)) if shift > 0 else \
        (slice(-shift * abs(step), None), slice(0, len(buf) + shift * abs(step)))
    inp, out = buf[lo][span], buf[hi][span]
    arrs = [_values(rng, (n,), np.dtype(dtype)) for _ in range(fn.narr)]
    arrs[which] = inp
    ref, err = _reference(fn, arrs, kwargs)
    assert err is None and not fn.expect_param_error(kwargs)
    if ref.dtype != buf.dtype:
        return
    before = buf.copy()
    outside = np.ones(len(buf), bool)
    outside[np.arange(len(buf))[hi][span]] = False
    result = _call(fn, arrs, kwargs, out=out)
    assert result is out
    assert_same(out, ref)
    assert_same(buf[outside], before[outside])


@SETTINGS
@given(data=st.data())
def test_input_is_also_out_of_second_array(data):
    """backward(dy, x, out=x) and out=dy, and dy and x the same array, in any layout."""
    fn = data.draw(st.sampled_from([f for f in FUNCTIONS if f.narr == 2]), label="fn")
    shape = data.draw(shapes())
    dtype = np.dtype(data.draw(st.sampled_from(["f2", "f4", "f8"])))
    layout = data.draw(st.sampled_from(("C", "F", "steps", "negative", "permuted", "unaligned")))
    kwargs = data.draw(param_kwargs(fn, valid_only=True), label="params")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    a = _layout(_values(rng, shape, dtype), layout, rng)
    b = _layout(_values(rng, shape, dtype), layout, rng)
    if not isinstance(a, np.ndarray) or not isinstance(b, np.ndarray):
        return
    how = data.draw(st.sampled_from(("out=dy", "out=x", "dy is x", "dy is x is out")))
    if how.startswith("dy is x"):
        b = a
    ref, err = _reference(fn, [a, b], kwargs)
    assert err is None
    out = {"out=dy": a, "out=x": b}.get(how, a if how == "dy is x is out" else None)
    result = _call(fn, [a, b], kwargs, out=out)
    if out is not None:
        assert result is out
    assert_same(result, ref)


# sizes that go through one range, several SIMD blocks, and several thread ranges of every op
THREADED_SIZES = (0, 1, 17, 1000, 40_000, 270_000)


@SETTINGS
@given(data=st.data())
def test_partially_overlapping_out_any_threads(data):
    """out sharing memory with an input shifted by any number of elements (either direction,
    any step), on 1 to 4 threads, for sizes that split into several thread ranges: the
    result is bitwise the non-overlapping computation (threads once read, at the range
    boundaries, what another range had already overwritten)."""
    fn = data.draw(st.sampled_from(ELEMENTWISE), label="fn")
    n = data.draw(st.sampled_from(THREADED_SIZES), label="n")
    dtype = np.dtype(data.draw(st.sampled_from(["f2", "f4", "f8"])))
    shift = data.draw(st.integers(-70, 70).filter(bool), label="shift")
    step = data.draw(st.sampled_from([1, 1, -1, 2]), label="step")
    threads = data.draw(st.integers(1, 4), label="threads")
    which = data.draw(st.integers(0, fn.narr - 1), label="overlapping array")
    kwargs = data.draw(param_kwargs(fn, valid_only=True), label="params")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    a = abs(step)
    buf = _values(rng, ((n + abs(shift)) * a,), dtype)
    lo, hi = slice(0, (n - 1) * a + 1 if n else 0), slice(abs(shift) * a, (n + abs(shift) - 1) * a + 1 if n else 0)
    inp, out = (buf[hi], buf[lo]) if shift > 0 else (buf[lo], buf[hi])
    inp, out = (inp, out) if step > 0 else (inp[::-1], out[::-1])
    inp, out = inp[::a], out[::a]
    arrs = [_values(rng, (n,), dtype) for _ in range(fn.narr)]
    arrs[which] = inp
    ref, err = _reference(fn, arrs, kwargs)
    assert err is None
    if ref.dtype != dtype:
        return
    with ag.num_threads(threads):
        result = _call(fn, arrs, kwargs, out=out)
    assert result is out
    assert_same(out, ref)


SOFTMAX_OUT = ("softmax", "log_softmax", "softmax_backward", "softmax_jvp", "log_softmax_backward")


@SETTINGS
@given(data=st.data())
def test_softmax_family_out_overlapping_input_any_threads(data):
    """The softmax family's out= sharing memory with an input (shifted by any number of
    elements, either direction), along any axis, on 1 to 3 threads: bitwise the result into a
    separate array."""
    name = data.draw(st.sampled_from(SOFTMAX_OUT), label="fn")
    f = getattr(ag, name)
    narr = 1 if name in ("softmax", "log_softmax") else 2
    rows = data.draw(st.sampled_from([1, 3, 64, 3000]), label="rows")
    cols = data.draw(st.sampled_from([1, 5, 16, 100]), label="cols")
    axis = data.draw(st.sampled_from([-1, 0]), label="axis")
    dtype = np.dtype(data.draw(st.sampled_from(["f4", "f8"])))
    shift = data.draw(st.integers(-40, 40).filter(bool), label="shift")
    which = data.draw(st.integers(0, narr - 1), label="overlapping array")
    threads = data.draw(st.integers(1, 3), label="threads")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    size = rows * cols
    buf = rng.standard_normal(size + abs(shift)).astype(dtype)
    a, b = (buf[abs(shift):], buf[:size]) if shift > 0 else (buf[:size], buf[abs(shift):])
    arrs = [rng.standard_normal((rows, cols)).astype(dtype) for _ in range(narr)]
    arrs[which] = a.reshape(rows, cols)
    out = b.reshape(rows, cols)
    with ag.num_threads(threads):
        expected = f(*(x.copy() for x in arrs), axis=axis)
        got = f(*arrs, axis=axis, out=out)
    assert got is out
    assert_same(out, expected)


UFUNCS = sorted({getattr(ag.ufuncs, n) for n in dir(ag.ufuncs) if isinstance(getattr(ag.ufuncs, n), np.ufunc)},
                key=lambda u: u.__name__)
BINARY_UFUNCS = [u for u in UFUNCS if u.nin == 2]


def _fold(u, values, first_dtype):
    """reduce's definition: r = v0, then r = u(r, v) for each following v, one call each."""
    r = first_dtype.type(values[0])
    for v in values[1:]:
        r = u(r, v)
    return r


@SETTINGS
@given(data=st.data())
def test_ufunc_methods(data):
    """ufunc.reduce, accumulate, reduceat, outer and at of every ufunc (one- and two-input
    activations' backward passes, and ag.ufuncs with parameters as inputs) either give what
    their NumPy definition gives -- the output written before it is read again, one element
    at a time, never a block read of memory not yet written -- or raise ValueError."""
    u = data.draw(st.sampled_from(UFUNCS), label="ufunc")
    dtype = np.dtype(data.draw(st.sampled_from(["f2", "f4", "f8"])))
    n = data.draw(st.integers(1, 300), label="n")
    threads = data.draw(st.integers(1, 3), label="threads")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    a = (rng.standard_normal(n) * rng.choice([0.5, 3.0])).astype(dtype)
    method = data.draw(st.sampled_from(["reduce", "accumulate", "reduceat", "outer", "at"]), label="method")
    with ag.num_threads(threads):
        if method == "at" and u.nin > 2:   # NumPy's ufunc.at takes one or two inputs
            with pytest.raises(ValueError):
                u.at(a.copy(), [0], *([1.0] * (u.nin - 1)))
            return
        if method == "at":
            idx = rng.integers(0, n, size=min(n, 20))
            x, others = a.copy(), [rng.standard_normal(len(idx)) for _ in range(u.nin - 1)]
            expected = a.copy()
            for k, i in enumerate(idx):     # in order, repeated indices applied again
                expected[i] = u(expected[i], *(o[k] for o in others))
            u.at(x, idx, *others)
            assert_same(x, expected)
            return
        if u.nin != 2:
            with pytest.raises(ValueError):
                getattr(u, method)(*((a, a) if method == "outer" else (a, [0]) if method == "reduceat" else (a,)))
            return
        if method == "outer":
            b = a[::-1][:7]
            assert_same(u.outer(a, b), u(a[:, None], b[None, :]))
            return
        idx = np.sort(rng.integers(0, n, size=5))
        try:
            got = getattr(u, method)(*((a, idx) if method == "reduceat" else (a,)))
        except TypeError as exc:
            # x's dtype with a float64 parameter (loops like fd->f): NumPy may refuse to feed
            # the output back as the first input, naming the ufunc and the method
            assert any(t[0] != t[1] for t in u.types) and dtype != np.float64, exc
            assert f"{u.__name__}.{method}" in str(exc)
            return
        if method == "reduce":
            assert_same(got, _fold(u, a, got.dtype))
            m = a[: n // 3 * 3].reshape(-1, 3)
            if m.size:
                assert_same(u.reduce(m, axis=0), _fold(u, list(m), got.dtype))
                assert_same(u.reduce(m, axis=1), np.array([_fold(u, row, got.dtype) for row in m], got.dtype))
        elif method == "accumulate":
            expected = np.array([_fold(u, a[: i + 1], got.dtype) for i in range(min(n, 40))], got.dtype)
            assert_same(got[: len(expected)], expected)
        else:
            ends = list(idx[1:]) + [n]
            expected = [_fold(u, a[i:j], got.dtype) if i < j else got.dtype.type(a[i]) for i, j in zip(idx, ends)]
            assert_same(got, np.array(expected, got.dtype))


def test_ufunc_accumulate_large_on_threads():
    """accumulate over many elements with several threads: no uninitialised memory read
    (the reproducer gave different garbage each run), the same as one element at a time."""
    a = np.random.default_rng(5).uniform(0.5, 1.5, 50_000)
    with ag.num_threads(4):
        got = ag.tanh_backward.accumulate(a)
        assert_same(ag.tanh_backward.accumulate(a), got)
    assert_same(got[:4], np.array([_fold(ag.tanh_backward, a[: i + 1], a.dtype) for i in range(4)]))
    r = got[0]
    for i in range(1, 2000):
        r = ag.tanh_backward(r, a[i])
        assert_same(got[i], r)
    assert_same(ag.sigmoid_backward.accumulate([1., 1., 2., 3.]),
                np.array([_fold(ag.sigmoid_backward, [1., 1., 2., 3.][: i + 1], np.dtype("f8")) for i in range(4)]))


PARAM_FUNCTIONS = [f for f in ELEMENTWISE if any(p.values[0].__class__ is not str for p in f.params)]


@SETTINGS
@given(data=st.data())
def test_raw_ufunc_parameter_arrays(data):
    """ag.ufuncs take the numeric parameters as broadcast inputs: a parameter per element
    (constant runs and all different, stride 0, negative strides) gives, element by element,
    the public function's result for that element's parameters."""
    fn = data.draw(st.sampled_from(PARAM_FUNCTIONS), label="fn")
    ufunc = getattr(ag.ufuncs, fn.name)
    n = data.draw(st.integers(0, 1200), label="n")
    dtype = np.dtype(data.draw(st.sampled_from(["f2", "f4", "f8", "i2", "?"])))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    arrs = [_values(rng, (n,), dtype) for _ in range(fn.narr)]
    # per-element parameter values, each combination valid for the public function
    pool = []
    for _ in range(50):
        kw = {p.name: float(data.draw(st.sampled_from([v for v in p.values if _is_real(v)]))) for p in fn.params}
        if not fn.expect_param_error(kw):
            pool.append(tuple(kw[p.name] for p in fn.params))
        if len(pool) >= 4:
            break
    if not pool:
        return
    runs = data.draw(st.sampled_from([1, 7, 64, 600]))
    idx = (np.arange(n) // runs * 7 + rng.integers(0, 3, n) * (runs == 1)) % len(pool)
    params = [np.array([pool[i][k] for i in idx], np.float64) for k in range(len(fn.params))]
    layout = data.draw(st.sampled_from(("C", "negative", "steps", "broadcast")))
    if layout == "broadcast" and n:
        params = [np.broadcast_to(p[:1], (n,)) for p in params]
        idx = np.zeros(n, int) + idx[:1]
    elif layout != "C":
        params = [_layout(p, layout, rng) for p in params]
    result = ufunc(*arrs, *params)
    expected = np.empty_like(result)
    for i in np.unique(idx):
        mask = idx == i
        kw = dict(zip((p.name for p in fn.params), pool[i]))
        expected[mask] = fn.func(*(a[mask] for a in arrs), **kw)
    assert_same(result, expected)


SIMD_PATHS = ag.config()["simd_supported"]


@pytest.mark.skipif(len(SIMD_PATHS) < 2, reason="this machine runs the scalar path only")
@SETTINGS
@given(data=st.data())
def test_softmax_and_losses_same_bits_on_every_simd_path(data):
    """The softmax family and every loss, on random shapes, axes and dtypes, give the same
    bits on every SIMD path (the activations: tests/test_calling_convention.py)."""
    from actgrad import _core
    shape = data.draw(st.lists(st.integers(1, 40), min_size=1, max_size=3).map(tuple), label="shape")
    axis = data.draw(st.integers(-len(shape), len(shape) - 1), label="axis")
    dtype = np.dtype(data.draw(st.sampled_from(["f4", "f8"])))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    x = (rng.standard_normal(shape) * rng.choice([1.0, 8.0])).astype(dtype)
    dy = rng.standard_normal(shape).astype(dtype)
    C = shape[axis]
    t = rng.integers(0, C, tuple(d for i, d in enumerate(shape) if i != axis % len(shape)))
    p = rng.random(shape).astype(dtype)
    kw = data.draw(st.sampled_from([{}, {"weight": rng.uniform(0.1, 3, C)}, {"label_smoothing": 0.2}]))
    red = data.draw(st.sampled_from(["mean", "sum", "none"]))

    def results():
        y, ly = ag.softmax(x, axis=axis), ag.log_softmax(x, axis=axis)
        r = [y, ly, ag.logsumexp(x, axis=axis), ag.softmax_backward(dy, y, axis=axis),
             ag.softmax_jvp(dy, y, axis=axis), ag.log_softmax_backward(dy, ly, axis=axis),
             *ag.cross_entropy_with_grad(x, t, axis=axis, reduction=red, **kw),
             *ag.cross_entropy_with_grad(x, p, axis=axis, reduction=red, **kw),
             *ag.binary_cross_entropy_with_logits_with_grad(x, p, reduction=red),
             *ag.mse_loss_with_grad(x, dy, reduction=red)]
        return [np.asarray(a).tobytes() for a in r]

    before = _core.isa()
    try:
        _core.set_isa("scalar")
        scalar = results()
        for isa in SIMD_PATHS[1:]:
            _core.set_isa(isa)
            got = results()
            assert [i for i, (a, b) in enumerate(zip(got, scalar)) if a != b] == [], isa
    finally:
        _core.set_isa(before)


def test_regression_softplus_parameter_extremes():
    """softplus at the ends of its parameters' ranges gives the limits (and PyTorch's values):
    beta = inf is relu away from 0 (it gave NaN for x < 0: the rounding correction computed
    0 * inf); a beta so small that 1/beta overflows gives +inf (the limit of log(2)/beta),
    not NaN; a huge beta still rounds once."""
    import math
    x = np.array([-1e300, -1.0, -1e-300, 1e-300, 1.0, np.inf, -np.inf])
    assert_same(ag.softplus(x, beta=np.inf), np.array([0.0, 0.0, 0.0, 1e-300, 1.0, np.inf, 0.0]))
    f32 = ag.softplus(np.array([-3.0, -1.0, 1.0, 3.0], np.float32), beta=np.inf)
    assert_same(f32, np.array([0.0, 0.0, 1.0, 3.0], np.float32))
    assert_same(ag.softplus_derivative(np.array([-1.0, 1.0]), beta=np.inf), np.array([0.0, 1.0]))
    for beta in (1e-310, 5e-324):
        assert_same(ag.softplus(np.array([-1.0, 0.0, 2.0, np.inf, -np.inf]), beta=beta),
                    np.array([np.inf, np.inf, np.inf, np.inf, 0.0]))
        assert_same(ag.softplus_derivative(np.array([-1.0, 0.0, 2.0]), beta=beta), np.array([0.5, 0.5, 0.5]))
    got = ag.softplus(np.array([1e-300, -1e-300]), beta=1e300)
    want = np.array([math.log1p(math.e) / 1e300, math.log1p(math.exp(-1.0)) / 1e300])
    assert np.all(np.abs(got - want) <= 2 * np.spacing(want))
    # threshold at its ends: -inf makes it the identity, +inf never linear (PyTorch: the same)
    assert_same(ag.softplus(np.array([-1.0, 1.0]), threshold=-np.inf), np.array([-1.0, 1.0]))
    assert_same(ag.softplus(np.array([-1.0, 30.0]), threshold=np.inf), ag.softplus(np.array([-1.0, 30.0]), threshold=1e308))


def test_regression_overlap_reproducers():
    """The reports: sigmoid with out = the input shifted by 1 or 40 elements on 2 threads."""
    for shift in (1, 40):
        buf = np.random.default_rng(0).standard_normal(100_001 + shift).astype(np.float32)
        expected = ag.sigmoid(buf[shift:].copy())
        with ag.num_threads(2):
            ag.sigmoid(buf[shift:], out=buf[:-shift])
        assert_same(buf[:-shift], expected)
        buf = np.random.default_rng(1).standard_normal(100_001 + shift)
        dy = np.random.default_rng(2).standard_normal(100_001)
        expected = ag.tanh_backward(dy, buf[shift:].copy())
        with ag.num_threads(2):
            ag.tanh_backward(dy, buf[shift:], out=buf[:-shift])
        assert_same(buf[:-shift], expected)


def test_example_counts():
    """The settings this file runs with (reported in the hardening notes)."""
    assert SETTINGS.max_examples >= 100 and SETTINGS.deadline is None


# ---------------------------------------------------------------- regressions

def test_regression_signed_zero_parameter_runs():
    """Per-element parameters -0.0 and 0.0 are different parameters (csrc/elementwise.c grouped
    runs of equal values with ==, so a -0.0 slope after a 0.0 one was computed as 0.0).
    Found by the C fuzzer (csrc/fuzz/corpus/regress-signed-zero-param-run)."""
    x = -np.ones(8)
    slope = np.array([0.0, -0.0, 0.0, -0.0, -0.0, 0.0, np.nan, np.nan])
    got = ag.ufuncs.leaky_relu(x, slope)
    want = np.array([ag.leaky_relu(-1.0, s) for s in slope])
    assert_same(got, want)
    assert_same(ag.ufuncs.leaky_relu_backward(x, x, slope), np.array([ag.leaky_relu_backward(-1.0, -1.0, s)
                                                                     for s in slope]))


def test_regression_softmax_bits_do_not_depend_on_layout():
    """log_softmax along axis 0 of a C-ordered (8, 2) float32 array runs the column kernels; the
    same values F-ordered (or as a 1-d row) run the row kernels.  Both are within 1 ULP of the
    exact -1.46128727e-05; they used to differ in the last bit.  Both now sum in the same order
    (8 slots per row or column, folded alike: csrc/loops/softmax_fwd.h)."""
    col = np.array([-33.76, 29.09, 36.87, 19.83, 37.26, 34.98, -54.16, 48.97], np.float32)
    x = np.stack([col, col], axis=1)
    c = ag.log_softmax(x, axis=0)
    f = ag.log_softmax(np.asfortranarray(x), axis=0)
    assert_same(f, c)
    assert_same(ag.log_softmax(col), c[:, 0])
