"""Numerical accuracy and special values of the elementwise activations.

Every activation, call and parameter set comes from the table
(``actgrad._optable.ACTIVATIONS``); the exact results come from
``tests/mpmath_reference.py``, which defines the functions a second time in
mpmath, independently of the package.  What is checked:

1. ULP error against mpmath on grids that cover the whole range (the row's
   ``forward_ulp`` / ``derivative_ulp``, float32 ``float32_ulp``; _from_output calls against their own
   formula in y with the derivative bound);
2. NaN in, NaN out, and the limits at +-inf, signs of zeros;
3. the derivatives at the kinks, as docs/api.md lists them;
4. derivatives against central differences;
5. properties (hypothesis): backward == dy * derivative bitwise, from_output
   agrees with the derivative where f is not saturated, monotonicity, bounds;
6. no floating-point warnings where the result is finite;
7. the ``ag.activations`` registry.

``pytest -m slow`` adds a denser ULP sweep.
"""
import functools
import inspect
import math
import os

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import actgrad as ag
from actgrad import _core
from actgrad._optable import ACTIVATIONS, CALLS
import mpmath_reference as ref
# the sample grids and parameter helpers live with the reference (bench/accuracy.py uses them too)
from mpmath_reference import (_logspaced, _rng, _uniform, full_params, in_dtype, interior_root, kinks, pkey,
                              x_grid, y_grid, y_range)

DTYPES = (np.float32, np.float64)
ARRAYS = {"forward": 1, "derivative": 1, "backward": 2, "derivative_from_output": 1, "backward_from_output": 2}
FROM_X = ("forward", "derivative", "backward")

# Parameter sets tested per activation: the defaults ({}) and some others.
PARAM_SETS = {
    "leaky_relu": [{}, {"negative_slope": 0.2}],
    "elu": [{}, {"alpha": 0.5}, {"alpha": 2.0}],
    "celu": [{}, {"alpha": 0.5}],
    "softplus": [{}, {"beta": 2.0, "threshold": 10.0}],
    "gelu": [{}, {"approximate": "tanh"}],
    "hardtanh": [{}, {"min_val": -2.0, "max_val": 3.0}],
}


def param_sets(name):
    return PARAM_SETS.get(name, [{}])


def public(name, call):
    return getattr(ag, name if call == "forward" else f"{name}_{call}")


def call_fn(name, call, *arrays, params=None):
    """Call ag.<name>_<call> with the parameters positionally (none at all for the defaults)."""
    params = params or {}
    args = list(full_params(name, params).values()) if params else []
    return public(name, call)(*arrays, *args)


def case_id(name, call, dtype, params):
    p = ",".join(f"{k}={v}" for k, v in params.items())
    return f"{name}{'[' + p + ']' if p else ''}-{call}-{np.dtype(dtype).name}"


CASES = [pytest.param(a.name, call, dtype, params, id=case_id(a.name, call, dtype, params))
         for a in ACTIVATIONS for params in param_sets(a.name) for call in a.calls for dtype in DTYPES]
ROWS = {a.name: a for a in ACTIVATIONS}


# ------------------------------------------------------------------ 1. ULP accuracy

@functools.lru_cache(maxsize=None)
def exact(name, kind, key, dtype, density=1):
    """(points, ExactValues) for kind 'forward', 'derivative' or 'derivative_from_output'."""
    pts = (y_grid if kind == "derivative_from_output" else x_grid)(name, key, dtype, density)
    return pts, ref.exact_values(name, kind, pts, dtype, **in_dtype(name, dict(key), dtype))


DY = (1.0, -2.0, 4.0, -1.0, 2.0, 0.5)


def measure(name, call, dtype, params, density=1):
    """(errors in ULP, inputs, results, dy or None) of one call over its grid."""
    kind = {"backward": "derivative", "backward_from_output": "derivative_from_output"}.get(call, call)
    pts, ex = exact(name, kind, pkey(params), dtype, density)
    dy = None
    # A power-of-two dy makes dy * f'(x) exact and keeps the ULP error of f'(x), except where
    # f'(x) or the product is subnormal (there the absolute error, not the ULP, is kept):
    # dy = +-1 there.
    if call.startswith("backward"):
        dy = np.resize(np.array(DY, dtype=dtype), len(pts))
        small = (ex.shift != 0) | ~(np.abs(ex.hi) >= 8 * float(np.finfo(dtype).tiny))
        dy[small] = np.sign(dy[small])
        ex = ref.scaled(ex, dy.astype(np.float64))
    with np.errstate(all="ignore"):
        got = call_fn(name, call, *([dy] if dy is not None else []), pts, params=params)
    assert got.dtype == dtype and got.shape == pts.shape
    return ref.ulp_errors(got, ex, dtype), pts, got, dy


def bound(name, call, dtype=np.float64):
    row = ROWS[name]
    b = row.forward_ulp if call == "forward" else row.derivative_ulp
    return min(b, row.float32_ulp) if dtype == np.float32 else b


def check_ulp(name, call, dtype, params, density=1):
    err, pts, got, dy = measure(name, call, dtype, params, density)
    i = int(np.argmax(err))
    b = bound(name, call, dtype)
    if err[i] > b:
        bad = np.flatnonzero(err > b)
        kind = {"backward": "derivative", "backward_from_output": "derivative_from_output"}.get(call, call)
        exact_i = getattr(ref, kind)(name, float(pts[i]), dtype, **in_dtype(name, params, dtype))
        arg = "y" if "from_output" in call else "x"
        pytest.fail(f"{case_id(name, call, dtype, params)}: max error {err[i]:.3g} ULP > {b} at "
                    f"{arg}={float(pts[i])!r} ({float(pts[i]).hex()})"
                    f"{'' if dy is None else f', dy={float(dy[i])!r}'}: got {float(got[i])!r}, exact "
                    f"{'' if dy is None else 'dy * '}{ref.MP.nstr(exact_i, 20)}; {len(bad)} of {len(pts)} "
                    f"points over, e.g. at {arg} = {[float(v) for v in pts[bad[:8]]]}")
    return float(err[i])


@pytest.mark.parametrize("name,call,dtype,params", CASES)
def test_ulp(name, call, dtype, params):
    check_ulp(name, call, dtype, params)


@pytest.mark.slow
@pytest.mark.parametrize("name,call,dtype,params", CASES)
def test_ulp_dense(name, call, dtype, params, request):
    if "slow" not in (request.config.getoption("markexpr") or ""):
        pytest.skip("the dense sweep runs with -m slow")
    check_ulp(name, call, dtype, params, density=8)


def test_ulp_error_helpers():
    """The vectorized ulp_errors agrees with the scalar mpmath ulp_error, and both measure
    what they say on hand-made cases."""
    for dtype in DTYPES:
        fi = np.finfo(dtype)
        one = dtype(1.0)
        assert ref.ulp_error(np.nextafter(one, dtype(2)), 1, dtype) == 1.0
        assert ref.ulp_error(np.nextafter(one, dtype(0)), 1, dtype) == 0.5   # spacing above 1
        assert ref.ulp_error(fi.smallest_subnormal, 0, dtype) == 1.0
        assert ref.ulp_error(3 * fi.smallest_subnormal, 2 * fi.smallest_subnormal, dtype) == 1.0
        assert ref.ulp_error(np.inf, ref.MP.mpf(float(fi.max)) * 2, dtype) == 0.0
        assert ref.ulp_error(fi.max, ref.MP.inf, dtype) == math.inf
        assert ref.ulp_error(np.nan, ref.MP.nan, dtype) == 0.0
        assert ref.ulp_error(np.nan, 1, dtype) == math.inf
        assert ref.ulp_error(-np.inf, ref.MP.inf, dtype) == math.inf
        # the vectorized errors agree with the scalar ones everywhere, subnormals included
        for name, call in (("silu", "derivative"), ("gelu", "forward")):
            pts = x_grid(name, (), dtype)[::5]
            ex = ref.exact_values(name, call, pts, dtype)
            with np.errstate(all="ignore"):
                base = public(name, call)(pts)
                bumped = [base, base * dtype(1 + 2 * np.finfo(dtype).eps), np.nextafter(base, dtype(np.inf))]
            for got in bumped:
                vec = ref.ulp_errors(got, ex, dtype)
                for i, x in enumerate(pts.tolist()):
                    terms = ref.derivative_terms(name, x, dtype) if call == "derivative" else None
                    one = ref.ulp_error(got[i], getattr(ref, call)(name, x, dtype), dtype, terms)
                    assert vec[i] == pytest.approx(one, rel=1e-9, abs=1e-12), (name, x, got[i])


# ------------------------------------------------------------------ 2. special values

@pytest.mark.parametrize("name,call,dtype,params", CASES)
def test_nan_in_nan_out(name, call, dtype, params):
    nan = dtype(np.nan)
    pts = (y_grid if "from_output" in call else x_grid)(name, pkey(params), dtype)
    pts = pts[np.isfinite(pts)]
    with np.errstate(all="ignore"):
        if ARRAYS[call] == 1:
            r = call_fn(name, call, np.array([nan, -nan], dtype), params=params)
            assert np.isnan(r).all(), r
        else:
            # a NaN dy gives NaN also where f'(x) = 0 (relu_backward(nan, -1.0) is NaN)
            r = call_fn(name, call, np.full(pts.shape, nan), pts, params=params)
            assert np.isnan(r).all(), pts[~np.isnan(r)][:10]
            r = call_fn(name, call, np.array([1.0, 0.0, -2.0], dtype), np.full(3, nan, dtype), params=params)
            assert np.isnan(r).all(), r
    # 0-d and scalar paths as well
    with np.errstate(all="ignore"):
        args = [nan] * ARRAYS[call]
        assert np.isnan(call_fn(name, call, *args, params=params))


def _limit_points(name, call, params, dtype):
    if call in FROM_X:
        return [np.inf, -np.inf]
    lo, hi = y_range(name, params, dtype)
    return [v for v in (np.inf, -np.inf) if lo <= v <= hi]


@pytest.mark.parametrize("name,call,dtype,params", CASES)
def test_limits_at_infinity(name, call, dtype, params):
    """+-inf give the mathematical limit: exactly where it is a number of dtype, else within
    the call's ULP bound."""
    kind = {"backward": "derivative", "backward_from_output": "derivative_from_output"}.get(call, call)
    p = in_dtype(name, params, dtype)
    for v in _limit_points(name, call, params, dtype):
        r = getattr(ref, kind)(name, v, dtype, **p)
        for dy in ((1.0, -2.0) if call.startswith("backward") else (None,)):
            args = ([dtype(dy)] if dy is not None else []) + [np.array([v, v], dtype)]
            with np.errstate(all="ignore"):
                got = call_fn(name, call, *args, params=params)
            want = r * (dy if dy is not None else 1)
            with np.errstate(over="ignore"):
                rounded = dtype(float(want))
            # a limit that is a number of dtype (to far below an ULP: 1, 0, -alpha, inf) is
            # given exactly; others (selu(-inf) = -scale*alpha) within the call's bound
            exactly = ref.ulp_error(rounded, want, dtype) < 1e-9
            for g in got:
                what = f"{call}({'dy=%r, ' % dy if dy else ''}{v}) = {g!r}, limit {want}"
                if exactly:
                    assert g == rounded, what
                else:
                    assert ref.ulp_error(g, want, dtype) <= bound(name, call, dtype), what


NEG0, POS0 = "-0", "+0"
# (function, params, x, expected): the limits docs/api.md and the brief name, with signed zeros.
# Written out by hand: an independent check of the reference module as well as the package.
LIMITS = [
    ("silu", {}, -np.inf, NEG0), ("silu", {}, np.inf, np.inf),
    ("swish", {}, -np.inf, NEG0),
    ("softsign", {}, np.inf, 1.0), ("softsign", {}, -np.inf, -1.0),
    ("elu", {}, -np.inf, -1.0), ("elu", {"alpha": 0.5}, -np.inf, -0.5), ("elu", {"alpha": 2.0}, -np.inf, -2.0),
    ("celu", {}, -np.inf, -1.0), ("celu", {"alpha": 0.5}, -np.inf, -0.5), ("celu", {}, np.inf, np.inf),
    ("sigmoid", {}, np.inf, 1.0), ("sigmoid", {}, -np.inf, POS0),
    ("tanh", {}, np.inf, 1.0), ("tanh", {}, -np.inf, -1.0),
    ("softplus", {}, np.inf, np.inf), ("softplus", {}, -np.inf, POS0),
    ("softplus", {"beta": 2.0, "threshold": 10.0}, np.inf, np.inf),
    ("log_sigmoid", {}, -np.inf, -np.inf), ("log_sigmoid", {}, np.inf, 0.0),
    ("mish", {}, -np.inf, NEG0), ("mish", {}, np.inf, np.inf),
    ("gelu", {}, -np.inf, NEG0), ("gelu", {}, np.inf, np.inf),
    ("gelu", {"approximate": "tanh"}, -np.inf, NEG0), ("gelu", {"approximate": "tanh"}, np.inf, np.inf),
    ("hardswish", {}, -np.inf, NEG0), ("hardswish", {}, np.inf, np.inf),
    ("relu", {}, np.inf, np.inf), ("relu", {}, -np.inf, POS0),
    ("relu6", {}, np.inf, 6.0), ("relu6", {}, -np.inf, POS0),
    ("leaky_relu", {}, -np.inf, -np.inf), ("leaky_relu", {"negative_slope": 0.2}, np.inf, np.inf),
    ("selu", {}, np.inf, np.inf),
    ("hardtanh", {}, np.inf, 1.0), ("hardtanh", {}, -np.inf, -1.0),
    ("hardtanh", {"min_val": -2.0, "max_val": 3.0}, np.inf, 3.0),
    ("hardsigmoid", {}, np.inf, 1.0), ("hardsigmoid", {}, -np.inf, 0.0),
    # signed zeros at zero (odd functions and x * g(x) keep -0; relu(-0) = +0, NUMERICS.md)
    ("tanh", {}, -0.0, NEG0), ("softsign", {}, -0.0, NEG0), ("silu", {}, -0.0, NEG0),
    ("gelu", {}, -0.0, NEG0), ("gelu", {"approximate": "tanh"}, -0.0, NEG0), ("mish", {}, -0.0, NEG0),
    ("leaky_relu", {}, -0.0, NEG0), ("elu", {}, -0.0, NEG0), ("selu", {}, -0.0, NEG0),
    ("hardtanh", {}, -0.0, NEG0), ("hardswish", {}, -0.0, NEG0), ("relu", {}, -0.0, POS0),
    ("tanh", {}, 0.0, POS0), ("silu", {}, 0.0, POS0), ("gelu", {}, 0.0, POS0), ("mish", {}, 0.0, POS0),
    # results below every float of the dtype keep their sign (both dtypes)
    ("silu", {}, -1000.0, NEG0), ("mish", {}, -1000.0, NEG0), ("gelu", {}, -50.0, NEG0),
    ("gelu", {"approximate": "tanh"}, -50.0, NEG0), ("hardswish", {}, -4.0, NEG0),
    ("silu", {}, -1e38, NEG0), ("mish", {}, -1e30, NEG0), ("gelu", {}, -1e30, NEG0),
]
DERIVATIVE_LIMITS = [  # (function, params, x, f'(x)); backward is checked with dy = 2
    ("sigmoid", {}, np.inf, 0.0), ("sigmoid", {}, -np.inf, 0.0), ("tanh", {}, np.inf, 0.0),
    ("tanh", {}, -np.inf, 0.0), ("relu", {}, np.inf, 1.0), ("relu", {}, -np.inf, 0.0),
    ("silu", {}, np.inf, 1.0), ("silu", {}, -np.inf, 0.0), ("mish", {}, np.inf, 1.0),
    ("mish", {}, -np.inf, 0.0), ("gelu", {}, np.inf, 1.0), ("gelu", {}, -np.inf, 0.0),
    ("gelu", {"approximate": "tanh"}, np.inf, 1.0), ("gelu", {"approximate": "tanh"}, -np.inf, 0.0),
    ("softplus", {}, np.inf, 1.0), ("softplus", {}, -np.inf, 0.0), ("log_sigmoid", {}, -np.inf, 1.0),
    ("log_sigmoid", {}, np.inf, 0.0), ("elu", {}, -np.inf, 0.0), ("elu", {"alpha": 2.0}, np.inf, 1.0),
    ("celu", {"alpha": 0.5}, -np.inf, 0.0), ("softsign", {}, np.inf, 0.0), ("softsign", {}, -np.inf, 0.0),
    ("hardswish", {}, np.inf, 1.0), ("hardswish", {}, -np.inf, 0.0), ("hardsigmoid", {}, np.inf, 0.0),
    ("hardtanh", {}, -np.inf, 0.0), ("leaky_relu", {"negative_slope": 0.2}, -np.inf, 0.2),
    ("relu6", {}, np.inf, 0.0), ("selu", {}, -np.inf, 0.0),
]


def _name_of(fn):
    return ref.ALIASES.get(fn, fn)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("fn,params,x,want", LIMITS, ids=[f"{f}{p or ''}({x})" for f, p, x, _ in LIMITS])
def test_named_limits_and_signed_zeros(fn, params, x, want, dtype):
    got = public(fn, "forward")(np.array([x], dtype), **params)[0]
    if want in (NEG0, POS0):
        assert got == 0 and bool(np.signbit(got)) == (want == NEG0), f"{fn}({x}) = {got!r}, want {want}.0"
    else:
        assert got == dtype(want), f"{fn}({x}) = {got!r}, want {want!r}"
    # and the reference module agrees (it is what the ULP tests trust; its zero has no sign)
    r = ref.forward(_name_of(fn), x, dtype, **in_dtype(fn, params, dtype))
    if want not in (NEG0, POS0):
        assert float(dtype(float(r))) == dtype(want)
    else:
        assert float(dtype(float(r))) == 0 and (r <= 0 if want == NEG0 else r >= 0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("fn,params,x,want", DERIVATIVE_LIMITS,
                         ids=[f"{f}{p or ''}'({x})" for f, p, x, _ in DERIVATIVE_LIMITS])
def test_named_derivative_limits(fn, params, x, want, dtype):
    xs = np.array([x], dtype)
    d = public(fn, "derivative")(xs, **params)[0]
    assert d == dtype(want), f"{fn}'({x}) = {d!r}, want {want!r}"
    b = public(fn, "backward")(np.array([2.0], dtype), xs, **params)[0]
    assert b == dtype(2 * want), f"{fn}_backward(2, {x}) = {b!r}, want {2 * want!r}"
    assert float(dtype(float(ref.derivative(fn, x, dtype, **in_dtype(fn, params, dtype))))) == dtype(want)


# Derivatives that are negative in the left tail and underflow there keep their sign (-0),
# in both dtypes, as the forward passes do (LIMITS above); the exact values, from mpmath:
# silu'(-1000) = -1000 e^-1000, mish'(-1000) ~ -1000 e^-2000 + ..., gelu'(-50) ~ -50 phi(50),
# gelu_tanh'(-30) ~ -30 e^(-2 |w(-30)|) 2 w'(-30) < 0, far below every double.
UNDERFLOWING_DERIVATIVES = [("silu", {}, -1000.0), ("mish", {}, -1000.0), ("gelu", {}, -50.0),
                            ("gelu", {"approximate": "tanh"}, -30.0)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("fn,params,x", UNDERFLOWING_DERIVATIVES,
                         ids=[f"{f}{p or ''}'({x})" for f, p, x in UNDERFLOWING_DERIVATIVES])
def test_underflowing_derivatives_keep_their_sign(fn, params, x, dtype):
    assert ref.derivative(fn, x, dtype, **in_dtype(fn, params, dtype)) < 0
    d = public(fn, "derivative")(np.array([x], dtype), **params)[0]
    assert d == 0 and np.signbit(d), f"{fn}'({x}) = {d!r}, want -0.0"
    b = public(fn, "backward")(np.array([2.0], dtype), np.array([x], dtype), **params)[0]
    assert b == 0 and np.signbit(b), f"{fn}_backward(2, {x}) = {b!r}, want -0.0"


# ------------------------------------------------------------------ 3. kinks (docs/api.md)

SIGMOID = lambda t: 1 / (1 + ref.MP.exp(-ref.MP.mpf(t)))  # noqa: E731
SCALE_ALPHA = ref.SELU_SCALE * ref.SELU_ALPHA
# (function, params, call, point, expected); expected may be an mpf (then within the bound).
KINKS = [
    ("relu", {}, "derivative", 0.0, 0.0), ("relu", {}, "derivative", -0.0, 0.0),
    ("relu6", {}, "derivative", 0.0, 0.0), ("relu6", {}, "derivative", 6.0, 0.0),
    ("leaky_relu", {}, "derivative", 0.0, 0.01), ("leaky_relu", {}, "derivative", -0.0, 0.01),
    ("leaky_relu", {"negative_slope": 0.2}, "derivative", 0.0, 0.2),
    ("elu", {}, "derivative", 0.0, 1.0), ("elu", {"alpha": 0.5}, "derivative", 0.0, 0.5),
    ("elu", {"alpha": 2.0}, "derivative", 0.0, 2.0),
    ("selu", {}, "derivative", 0.0, SCALE_ALPHA),
    ("celu", {}, "derivative", 0.0, 1.0), ("celu", {"alpha": 0.5}, "derivative", 0.0, 1.0),
    ("hardtanh", {}, "derivative", -1.0, 0.0), ("hardtanh", {}, "derivative", 1.0, 0.0),
    ("hardtanh", {"min_val": -2.0, "max_val": 3.0}, "derivative", -2.0, 0.0),
    ("hardtanh", {"min_val": -2.0, "max_val": 3.0}, "derivative", 3.0, 0.0),
    ("hardtanh", {"min_val": 0.5, "max_val": 0.5}, "derivative", 0.5, 0.0),
    ("hardsigmoid", {}, "derivative", -3.0, 0.0), ("hardsigmoid", {}, "derivative", 3.0, 0.0),
    ("hardswish", {}, "derivative", -3.0, 0.0), ("hardswish", {}, "derivative", 3.0, 1.0),
    ("softplus", {}, "derivative", 20.0, SIGMOID(20)),
    ("softplus", {"beta": 2.0, "threshold": 10.0}, "derivative", 5.0, SIGMOID(10)),
    # the from-output formulas at the same points
    ("relu", {}, "derivative_from_output", 0.0, 0.0), ("relu", {}, "derivative_from_output", -0.0, 0.0),
    ("relu6", {}, "derivative_from_output", 0.0, 0.0), ("relu6", {}, "derivative_from_output", 6.0, 0.0),
    ("leaky_relu", {}, "derivative_from_output", 0.0, 0.01),
    ("leaky_relu", {"negative_slope": 0.2}, "derivative_from_output", 0.0, 0.2),
    ("elu", {}, "derivative_from_output", 0.0, 1.0), ("elu", {"alpha": 2.0}, "derivative_from_output", 0.0, 2.0),
    ("selu", {}, "derivative_from_output", 0.0, SCALE_ALPHA),
    ("celu", {"alpha": 0.5}, "derivative_from_output", 0.0, 1.0),
    ("hardtanh", {}, "derivative_from_output", -1.0, 0.0), ("hardtanh", {}, "derivative_from_output", 1.0, 0.0),
    ("hardtanh", {"min_val": 0.5, "max_val": 0.5}, "derivative_from_output", 0.5, 0.0),
    ("hardsigmoid", {}, "derivative_from_output", 0.0, 0.0),
    ("hardsigmoid", {}, "derivative_from_output", 1.0, 0.0),
    ("softplus", {}, "derivative_from_output", 20.0, -ref.MP.expm1(-20)),
    ("softplus", {"beta": 2.0, "threshold": 10.0}, "derivative_from_output", 5.0, -ref.MP.expm1(-10)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("fn,params,call,x,want", KINKS,
                         ids=[f"{f}{p or ''}-{c}({x})" for f, p, c, x, _ in KINKS])
def test_kinks(fn, params, call, x, want, dtype):
    backward = call.replace("derivative", "backward")
    xs = np.array([x], dtype)
    d = public(fn, call)(xs, **params)[0]
    b = public(fn, backward)(np.array([-2.0], dtype), xs, **params)[0]
    if isinstance(want, float):
        want32 = dtype(want)
        assert d == want32, f"{fn} {call}({x}) = {d!r}, want {want32!r}"
        assert b == -2 * want32, f"{fn} {backward}(-2, {x}) = {b!r}, want {-2 * want32!r}"
    else:
        tol = bound(fn, call)
        assert ref.ulp_error(d, want, dtype) <= tol, f"{fn} {call}({x}) = {d!r}, want {want}"
        assert ref.ulp_error(b, -2 * want, dtype) <= tol, f"{fn} {backward}(-2, {x}) = {b!r}"


# the value on each side of a kink: the one-sided derivatives (exact numbers)
SIDES = [  # (function, params, call, kink, f' just below, f' just above)
    ("relu", {}, "derivative", 0.0, 0.0, 1.0), ("relu6", {}, "derivative", 0.0, 0.0, 1.0),
    ("relu6", {}, "derivative", 6.0, 1.0, 0.0), ("leaky_relu", {"negative_slope": 0.2}, "derivative", 0.0, 0.2, 1.0),
    ("elu", {"alpha": 0.5}, "derivative", 0.0, 0.5, 1.0), ("celu", {"alpha": 0.5}, "derivative", 0.0, 1.0, 1.0),
    ("hardtanh", {"min_val": -2.0, "max_val": 3.0}, "derivative", -2.0, 0.0, 1.0),
    ("hardtanh", {"min_val": -2.0, "max_val": 3.0}, "derivative", 3.0, 1.0, 0.0),
    ("hardsigmoid", {}, "derivative", -3.0, 0.0, 1 / 6), ("hardsigmoid", {}, "derivative", 3.0, 1 / 6, 0.0),
    ("hardswish", {}, "derivative", -3.0, 0.0, -0.5), ("hardswish", {}, "derivative", 3.0, 1.5, 1.0),
    ("softplus", {}, "derivative", 20.0, None, 1.0),
    ("relu", {}, "derivative_from_output", 0.0, None, 1.0),
    ("relu6", {}, "derivative_from_output", 6.0, 1.0, None),
    ("hardtanh", {}, "derivative_from_output", 1.0, 1.0, None),
    ("hardsigmoid", {}, "derivative_from_output", 1.0, 1 / 6, None),
    ("softplus", {}, "derivative_from_output", 20.0, None, 1.0),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("fn,params,call,k,below,above", SIDES,
                         ids=[f"{f}{p or ''}-{c}({k})" for f, p, c, k, _, _ in SIDES])
def test_kink_sides(fn, params, call, k, below, above, dtype):
    for side, want in ((-np.inf, below), (np.inf, above)):
        if want is None:
            continue
        x = np.nextafter(dtype(k), dtype(side))
        got = public(fn, call)(np.array([x], dtype), **params)[0]
        assert abs(float(got) - want) <= 2 * np.finfo(dtype).eps * abs(want), \
            f"{fn} {call}({x!r}) = {got!r}, want {want!r}"


# ------------------------------------------------------------------ 4. finite differences

FD_CASES = [pytest.param(a.name, params, id=case_id(a.name, "derivative", np.float64, params))
            for a in ACTIVATIONS for params in param_sets(a.name)]


@pytest.mark.parametrize("name,params", FD_CASES)
def test_derivative_matches_central_differences(name, params):
    rng = _rng("fd", name, pkey(params))
    x = rng.uniform(-8, 8, 400)
    ks = np.array(kinks(name, params))
    x = x[np.min(np.abs(x[:, None] - ks[None, :]), axis=1) > 1e-3]
    h = 1e-5 * np.maximum(1.0, np.abs(x))
    f = functools.partial(public(name, "forward"), **params)
    fd = (f(x + h) - f(x - h)) / ((x + h) - (x - h))
    d = public(name, "derivative")(x, **params)
    np.testing.assert_allclose(d, fd, rtol=1e-6, atol=1e-9)


# ------------------------------------------------------------------ 5. properties

PROP_CASES = [pytest.param(a.name, params, id=f"{a.name}{pkey(params) or ''}")
              for a in ACTIVATIONS for params in param_sets(a.name)]
PROP_FO_CASES = [c for c in PROP_CASES if ROWS[c.values[0]].from_output]
# ACTGRAD_HYPOTHESIS_EXAMPLES=2000 for a longer search
PROPS = settings(max_examples=int(os.environ.get("ACTGRAD_HYPOTHESIS_EXAMPLES", 25)), deadline=None)


def floats(dtype, lo=None, hi=None, **kw):
    """st.floats of dtype's width in [lo, hi] (bounds rounded inwards to dtype)."""
    if lo is not None:
        lo = dtype(lo) if dtype(lo) >= lo else np.nextafter(dtype(lo), dtype(np.inf))
    if hi is not None:
        hi = dtype(hi) if dtype(hi) <= hi else np.nextafter(dtype(hi), dtype(-np.inf))
    return st.floats(None if lo is None else float(lo), None if hi is None else float(hi),
                     width=32 if dtype == np.float32 else 64, **kw)


def finite_arrays(dtype, n, lo=None, hi=None):
    return hnp.arrays(dtype, n, elements=floats(dtype, lo, hi, allow_nan=False, allow_infinity=False))


def bitwise_equal(a, b):
    a, b = np.asarray(a), np.asarray(b)
    it = np.uint32 if a.dtype == np.float32 else np.uint64
    return a.dtype == b.dtype and np.array_equal(a.view(it), b.view(it))


@pytest.mark.parametrize("name,params", PROP_CASES)
@PROPS
@given(data=st.data())
def test_backward_is_dy_times_derivative(name, params, data):
    """float64: the fused backward is exactly dy * f'(x) rounded once, for any finite dy, x
    (and the from-output pair likewise).  float32: dy * f'(x) is formed in double and rounded
    once (csrc/ops/d32.h), so backward(1, x) is f'(x) bitwise, and for any dy the result is
    within one float32 step of dy * f'(x) evaluated by the float64 kernel and rounded to
    float32 (the ULP tests use power-of-two dy; this covers the others)."""
    dtype = data.draw(st.sampled_from(DTYPES))
    n = data.draw(st.integers(1, 70))
    x = data.draw(finite_arrays(dtype, n))
    dy = data.draw(finite_arrays(dtype, n))
    calls = [("backward", "derivative")]
    if ROWS[name].from_output:
        calls.append(("backward_from_output", "derivative_from_output"))
    with np.errstate(all="ignore"):
        for bwd, der in calls:
            got = public(name, bwd)(dy, x, **params)
            if dtype == np.float64:
                want = dy * public(name, der)(x, **params)
                assert bitwise_equal(got, want), (bwd, x[got != want], dy[got != want])
                continue
            assert bitwise_equal(public(name, bwd)(np.ones_like(x), x, **params), public(name, der)(x, **params))
            p64 = {k: (v if isinstance(v, str) else float(np.float32(v))) for k, v in params.items()}
            d64 = public(name, der)(x.astype(np.float64), **p64)
            want = (dy.astype(np.float64) * d64).astype(np.float32)
            steps = np.abs(f32_ordered(got) - f32_ordered(want))
            # (an infinite f' from y outside f's range, e.g. softplus' at y = -710, is
            # saturated in the float32 kernel: 0 * f' is not compared there)
            # (a zero dy takes the float32 derivative, csrc/ops/d32.h: 0 * f'(y) is NaN where
            # that f' overflows, as dy * derivative(y) is)
            plain = dy * public(name, der)(x, **params)
            ok = ((steps <= 1) | (np.isnan(got) & np.isnan(want)) | ~np.isfinite(d64)
                  | ((dy == 0) & ((got == plain) | (np.isnan(got) & np.isnan(plain)))))
            assert ok.all(), (bwd, x[~ok], dy[~ok], got[~ok], want[~ok])


def f32_ordered(a):
    """float32 values -> integers in the order of the floats (adjacent floats differ by 1)."""
    b = a.view(np.int32).astype(np.int64)
    return np.where(b < 0, -(b & 0x7fffffff) - 1, b)


# x where f is invertible and not saturated, so from_output(f(x)) is well conditioned
def unsaturated(name, params):
    p = full_params(name, params)
    return {"sigmoid": (-4, 4), "tanh": (-2.5, 2.5), "relu": (-10, 10), "relu6": (-10, 10),
            "leaky_relu": (-10, 10), "elu": (-4, 5), "selu": (-4, 5),
            "celu": (-4 * p.get("alpha", 1), 5),
            "softplus": (-15 / p.get("beta", 1), (p.get("threshold", 0) - 1) / p.get("beta", 1)),
            "log_sigmoid": (-30, 30), "hardtanh": (-10, 10), "hardsigmoid": (-5, 2.9),
            "softsign": (-10, 10)}[name]


@pytest.mark.parametrize("name,params", PROP_CASES)
def test_backward_at_infinite_x_and_dy(name, params):
    """At x = +-inf f' is its limit, so an infinite or NaN dy gives what the float64 path
    gives: NaN where the limit is 0 (inf * 0), +-inf where it is not; and in float32 a dy of
    +-0 or +-inf gives dy * derivative(x) bitwise at any x.  The float32 kernels evaluate f'
    in double on saturating cores (e^-708 for e^-inf), whose tiny values must not make
    inf * 0 an inf (regression: float32 sigmoid_backward(inf, -inf) was inf)."""
    x = np.array([-np.inf] * 3 + [np.inf] * 3)
    dy = np.array([np.inf, -np.inf, np.nan] * 2)
    p32 = {k: (v if isinstance(v, str) else float(np.float32(v))) for k, v in params.items()}
    want = public(name, "backward")(dy, x, **p32)
    for dtype in (np.float32, np.float16):
        with np.errstate(all="ignore"):
            got = public(name, "backward")(dy.astype(dtype), x.astype(dtype), **params)
            expect = want.astype(dtype)
        assert np.array_equal(got, expect, equal_nan=True), (dtype, got, expect)
    x = np.array([-np.inf, -800.0, -104.0, -40.0, -1.0, -0.0, 0.0, 2.0, 40.0, 800.0, np.inf], np.float32)
    for edge in (np.inf, -np.inf, 0.0, -0.0):
        with np.errstate(all="ignore"):
            got = public(name, "backward")(np.full_like(x, edge), x, **params)
            expect = np.float32(edge) * public(name, "derivative")(x, **params)
        assert bitwise_equal(got, expect) or np.array_equal(got, expect, equal_nan=True), (x, got, expect)


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "elu"])
def test_float32_backward_from_output_in_float(name, restore_isa):
    """The float32 backward from the output that is computed in float arithmetic
    (csrc/ops/d32.h): with dy = 1 it is the derivative from the output bitwise, over a
    dense grid of the outputs it takes (every 257th float of [-1, 1], and the floats next
    to 1/2 and 1, where its two formulas meet and where y^2 rounds); saturated outputs
    (sigmoid 1, tanh +-1, elu -alpha) give dy * (+0) with the sign of dy; and mixed vectors
    of accepted and refused lanes give the same results on every SIMD path (bitwise but
    for NaN payloads)."""
    pos = np.arange(0, 0x3F800001, 257, dtype=np.uint32).view(np.float32)
    near = np.concatenate([1 - np.arange(1, 4096) * 2.0**-24, 0.5 + np.arange(-4096, 4096) * 2.0**-25])
    y = np.concatenate([pos, -pos, near, -near]).astype(np.float32)
    if name == "elu":
        y = -np.abs(y)
    params = {"alpha": 1.0} if name == "elu" else {}
    fo = public(name, "derivative_from_output")
    bw = public(name, "backward_from_output")
    assert bitwise_equal(bw(np.ones_like(y), y, **params), fo(y, **params))
    sat = {"sigmoid": [1.0], "tanh": [1.0, -1.0], "elu": [-1.0]}[name]
    ys = np.array(sat * 2, np.float32)
    dy = np.array([0.75] * len(sat) + [-0.75] * len(sat), np.float32)
    assert bitwise_equal(bw(dy, ys, **params), dy * fo(ys, **params))
    assert list(np.signbit(bw(dy, ys, **params))) == [False] * len(sat) + [True] * len(sat)
    rng = np.random.default_rng(5)
    mixed = rng.uniform(-1, 1, 4099).astype(np.float32)
    for k, v in enumerate([3.0, -0.0, np.nan, 2.0**-60, np.inf, 1.0]):
        mixed[k::7 + 2 * k] = v          # refused lanes (and a saturated one) among accepted ones
    dys = rng.standard_normal(mixed.size).astype(np.float32)
    for k, v in enumerate([0.0, 1e-20, np.inf, 2.0**110]):
        dys[k::17 + 2 * k] = v
    if name == "elu":
        mixed = np.where(np.isfinite(mixed), -np.abs(mixed), mixed)
    results = []
    for isa in ag.config()["simd_supported"]:
        _core.set_isa(isa)
        with np.errstate(all="ignore"):
            results.append(bw(dys, mixed, **params))
    for r in results[1:]:   # NaN payloads aside (the paths make NaN in different ways)
        assert np.array_equal(np.isnan(r), np.isnan(results[0]))
        assert bitwise_equal(r[~np.isnan(r)], results[0][~np.isnan(r)])


def test_float32_elu_backward_from_output_overflows_to_the_right_infinity(restore_isa):
    """elu's float32 backward from the output, dy (y + alpha), where the product overflows
    float32 (a large alpha, y below -alpha): the infinity of the product's sign on every
    SIMD path, and where it does not, the float64 product rounded (within 1 ULP).  A float
    path that formed dy (y + alpha) with a rounded residual gave +inf for a product of
    -5.6e49 (csrc/fuzz/corpus/regress-elu-backward-from-output-f32-overflow)."""
    rng = np.random.default_rng(11)
    alpha = float(np.float32(6.9928975618459e13))   # a float32, as the kernel takes it
    y = -np.abs(rng.uniform(1.0, 2.0, 512) * 10.0 ** rng.integers(13, 27, 512)).astype(np.float32)
    dy = (rng.choice([-1.0, 1.0], 512) * rng.uniform(1.0, 2.0, 512)
          * 10.0 ** rng.integers(0, 30, 512)).astype(np.float32)
    y[0], dy[0] = -7.3231710608281095e21, 7.583409265037168e27
    wide = dy.astype(np.float64) * (y.astype(np.float64) + alpha)
    with np.errstate(over="ignore"):
        want = wide.astype(np.float32)
    for isa in ag.config()["simd_supported"]:
        _core.set_isa(isa)
        with np.errstate(over="ignore"):
            got = ag.elu_backward_from_output(dy, y, alpha=alpha)
        assert not np.isnan(got).any(), isa
        big = np.isinf(want)
        assert big.sum() > 100 and np.array_equal(got[big], want[big]), isa
        assert np.all(np.abs(got[~big] - want[~big]) <= np.spacing(np.abs(want[~big]))), isa


@pytest.mark.parametrize("name,params", PROP_FO_CASES)
@PROPS
@given(data=st.data())
def test_from_output_agrees_with_derivative(name, params, data):
    dtype = data.draw(st.sampled_from(DTYPES))
    lo, hi = unsaturated(name, params)
    x = data.draw(finite_arrays(dtype, data.draw(st.integers(1, 40)), lo, hi))
    y = public(name, "forward")(x, **params)
    fo = public(name, "derivative_from_output")(y, **params)
    d = public(name, "derivative")(x, **params)
    np.testing.assert_allclose(fo, d, rtol=256 * np.finfo(dtype).eps, atol=0)


def _minimum(name, params):
    """min f (at the interior root of f', from the reference), None if f is monotone."""
    r = interior_root(name, pkey(params))
    return None if r is None else float(ref.forward(name, r, **params))


MONOTONE = {"sigmoid", "tanh", "relu", "relu6", "leaky_relu", "elu", "selu", "celu", "softplus",
            "log_sigmoid", "softsign", "hardtanh", "hardsigmoid"}


@pytest.mark.parametrize("name,params", PROP_CASES)
@PROPS
@given(data=st.data())
def test_monotone(name, params, data):
    """Monotone functions are non-decreasing everywhere (+-inf included) and their derivatives
    are >= 0.  silu, gelu, mish and hardswish are so for x >= 0, and their derivatives are
    >= 0 right of their minimum (from 0.01 on: at the root itself f' is a cancelling sum whose
    error is allowed a few ULPs of its terms, so its sign is not promised)."""
    dtype = data.draw(st.sampled_from(DTYPES))
    root = None if name in MONOTONE else interior_root(name, pkey(params))
    lo = None if root is None else 0.0
    x = data.draw(hnp.arrays(dtype, data.draw(st.integers(2, 60)), elements=floats(dtype, lo, allow_nan=False)))
    x = np.sort(x)
    with np.errstate(all="ignore"):
        y = public(name, "forward")(x, **params)
        d = public(name, "derivative")(x, **params)
    assert np.all(y[1:] >= y[:-1]), (x, y)
    assert np.all(d[np.isfinite(x)] >= 0), (x, d)
    if root is not None:
        x = data.draw(finite_arrays(dtype, 20, root + 0.01, 10))
        assert np.all(public(name, "derivative")(x, **params) > 0), x


@functools.lru_cache(maxsize=None)
def _dense_sorted(dtype, n=100_000):
    """Sorted samples, log-uniform over the whole range (both signs) and uniform in bands."""
    rng = _rng("dense", np.dtype(dtype).name)
    m = np.abs(_logspaced(rng, n, dtype))
    parts = [m, -m] + [_uniform(rng, -a, a, n // 4, dtype) for a in (1, 3, 10, 40, 110, 760)]
    return np.sort(np.concatenate(parts))


@pytest.mark.parametrize("name,params", [c for c in PROP_CASES if c.values[0] in MONOTONE])
@pytest.mark.parametrize("dtype", DTYPES)
def test_monotone_dense(name, params, dtype):
    """The same as test_monotone, on a fixed dense sample (deterministic)."""
    x = _dense_sorted(dtype)
    with np.errstate(all="ignore"):
        y = public(name, "forward")(x, **params)
    bad = np.flatnonzero(y[1:] < y[:-1])
    if len(bad):
        i = bad[0]
        pytest.fail(f"{len(bad)} decreasing steps, e.g. {name}({float(x[i])!r}) = {float(y[i])!r} > "
                    f"{name}({float(x[i + 1])!r}) = {float(y[i + 1])!r}")


def _range(name, params, dtype):
    """Closed bounds of f in floats, and |x| below which they are strict."""
    p = full_params(name, params)
    f32 = dtype == np.float32
    b = {"sigmoid": (0, 1, 15 if f32 else 35), "tanh": (-1, 1, 8 if f32 else 18),
         "softsign": (-1, 1, 2.0 ** 20 if f32 else 2.0 ** 50), "hardsigmoid": (0, 1, 0),
         "relu": (0, np.inf, 0), "relu6": (0, 6, 0), "softplus": (0, np.inf, 0),
         "log_sigmoid": (-np.inf, 0, 0),
         "hardtanh": (p.get("min_val"), p.get("max_val"), 0)}
    if name in ("elu", "celu"):
        return -p["alpha"], np.inf, 0
    if name in b:
        return b[name]
    m = _minimum(name, params)
    if m is not None:   # silu, gelu, mish, hardswish: bounded below by their minimum
        return m * (1 + 4 * float(np.finfo(dtype).eps)), np.inf, 0
    return -np.inf, np.inf, 0


@pytest.mark.parametrize("name,params", PROP_CASES)
@PROPS
@given(data=st.data())
def test_bounds(name, params, data):
    dtype = data.draw(st.sampled_from(DTYPES))
    lo, hi, strict = _range(name, params, dtype)
    x = data.draw(hnp.arrays(dtype, data.draw(st.integers(1, 60)), elements=floats(dtype, allow_nan=False)))
    with np.errstate(all="ignore"):
        y = public(name, "forward")(x, **params)
    assert np.all((y >= lo) & (y <= hi)), (x, y)
    inner = np.abs(x) < strict
    assert np.all((y[inner] > lo) & (y[inner] < hi)), (x[inner], y[inner])


def test_bounds_at_minimum():
    """The minima used by test_bounds are right (checked at the root itself)."""
    for name, params in (("silu", {}), ("gelu", {}), ("gelu", {"approximate": "tanh"}), ("mish", {}),
                         ("hardswish", {})):
        r = interior_root(name, pkey(params))
        want = {"silu": -0.2784645427610738, "mish": -0.30884341301725041, "hardswish": -0.375}
        m = _minimum(name, params)
        if name in want:
            assert m == pytest.approx(want[name], rel=1e-12)
        assert -3 < r < -0.1 and m < 0


# ------------------------------------------------------------------ 6. floating-point flags

def _extremes(dtype):
    fi = np.finfo(dtype)
    big = 3e38 if dtype == np.float32 else 1e308
    v = [fi.max, fi.max / 2, big, 1e30, 1e10, 760.0, 110.0, 100.0, 88.5, 40.0, 20.0, 6.0, 3.0, 1.0, 0.5,
         fi.tiny, fi.smallest_subnormal, 3 * fi.smallest_subnormal, 0.0]
    v = np.array(v, dtype=dtype)
    return np.concatenate([v, -v])


@pytest.mark.parametrize("name,call,dtype,params", CASES)
def test_no_fp_warnings_for_finite_results(name, call, dtype, params):
    e = _extremes(dtype)
    if ARRAYS[call] == 1:
        args = (e,)
    else:
        dy = np.array([1.0, -1.0, 0.5, 1e-30, np.finfo(dtype).max, np.finfo(dtype).smallest_subnormal],
                      dtype)
        args = tuple(a.ravel() for a in np.meshgrid(dy, e, indexing="ij"))
    with np.errstate(all="ignore"):
        r = call_fn(name, call, *args, params=params)
    ok = np.isfinite(r)
    args = tuple(a[ok] for a in args)
    with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
        try:
            call_fn(name, call, *args, params=params)
        except FloatingPointError as exc:
            for i in range(len(args[0])):     # find the element
                try:
                    call_fn(name, call, *(a[i] for a in args), params=params)
                except FloatingPointError:
                    pytest.fail(f"{exc} for finite result at {[a[i] for a in args]}")
            pytest.fail(f"{exc} for an array of finite results (no single element raises)")
        for i in range(len(args[0])):          # the scalar path too
            try:
                call_fn(name, call, *(a[i] for a in args), params=params)
            except FloatingPointError as exc:
                pytest.fail(f"{exc} for finite result at {[a[i] for a in args]}")


# ------------------------------------------------------------------ 7. the registry

FIELDS = ("forward", "derivative", "backward", "derivative_from_output", "backward_from_output")


def test_registry_has_every_row():
    assert set(ag.activations) == {a.name for a in ACTIVATIONS} == set(ref.DEFAULTS)
    assert CALLS == FIELDS


@pytest.mark.parametrize("name", [a.name for a in ACTIVATIONS])
def test_registry_record(name):
    rec = ag.activations[name]
    assert rec.name == name
    assert (ROWS[name].from_output is not None) == (name in ref.HAS_FROM_OUTPUT)
    for field in ("name", *FIELDS, "params"):
        assert hasattr(rec, field)
    for call in FIELDS:
        fn = getattr(rec, call)
        has = call in FROM_X or name in ref.HAS_FROM_OUTPUT
        if not has:
            assert fn is None, (name, call)
            assert not hasattr(ag, f"{name}_{call}")
            continue
        assert callable(fn) and fn is public(name, call), (name, call)
        if isinstance(fn, np.ufunc):   # a function without parameters is its ufunc
            assert not ref.DEFAULTS[name] and (fn.nin, fn.nout) == (ARRAYS[call], 1), (name, call)
            continue
        # the parameters: PyTorch's names, defaults and order, after the arrays
        sig = inspect.signature(fn)
        names = list(sig.parameters)
        assert names[ARRAYS[call]:] == [*ref.DEFAULTS[name], "out"], (call, names)
        for p, d in ref.DEFAULTS[name].items():
            assert sig.parameters[p].default == d
    # params: PyTorch's names and defaults, in order
    assert list(rec.params.items()) == list(ref.DEFAULTS[name].items())


def test_aliases():
    for call in FIELDS[:3]:
        assert public("swish", call) is public("silu", call)


@pytest.mark.parametrize("name,params", [(n, p) for n in PARAM_SETS for p in PARAM_SETS[n] if p])
def test_params_positional_or_keyword(name, params):
    x = x_grid(name, pkey(params), np.float64)[::13]
    full = full_params(name, params)
    for call in ROWS[name].calls:
        arrays = [x] * ARRAYS[call]
        a = public(name, call)(*arrays, *full.values())
        b = public(name, call)(*arrays, **params)
        with np.errstate(all="ignore"):
            assert bitwise_equal(a, b) or np.array_equal(a, b, equal_nan=True), call


# ------------------------------------------------------------------ exhaustive float32 (strided)

def test_exhaustive_f32_tool_strided():
    """tools/exhaustive_f32.py (every float32 bit pattern through every float32 call, against
    the float64 path rounded to float32; docs/accuracy.md has the full run) on every 1000003rd
    bit pattern: no result two float32 steps away from the rounded float64 value, no NaN
    mismatch.  The tool's comparison is checked on a planted difference first."""
    import importlib.util
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tools", "exhaustive_f32.py")
    spec = importlib.util.spec_from_file_location("exhaustive_f32", path)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    a = np.array([1.0, -0.0, np.nan, 2.0, -1.0], dtype=np.float32)
    b = np.array([np.nextafter(np.float32(1), np.float32(2)), 0.0, 1.0, 2.0,
                  np.nextafter(np.float32(-1), np.float32(-3))], dtype=np.float32)
    b2 = b.copy()
    b2[4] = np.nextafter(b[4], np.float32(-3))
    assert tool.compare(a, b) == (1, 4, 1)
    assert tool.compare(a, b2)[0] == 2
    assert tool.main(["--stride", "1000003"]) == 0
