"""Exact references for actgrad's elementwise activations, and ULP errors.

Every activation of ``actgrad._optable.ACTIVATIONS`` is written here a second
time, independently of the package, in mpmath at 50 significant digits: the
forward ``f(x)``, the derivative ``f'(x)`` from ``x``, and (where docs/api.md
defines one) the ``_from_output`` formula evaluated exactly in ``y``.  The
parameters have PyTorch's names and defaults (``DEFAULTS``); SELU's constants
and gelu's tanh form are PyTorch's, written out here rather than read from the
package, so a typo there shows up as an error.

Conventions
-----------
* ``x`` (or ``y``) is a float: the exact binary value the function receives.
  NaN gives NaN; +-inf give the mathematical limits.  Parameters are used as
  given (exact): pass the value the dtype holds (``float(np.float32(0.2))``)
  to measure a float32 kernel.
* ``dtype`` matters only where the definition itself rounds: softplus takes
  the linear branch where ``beta * x`` *rounded to dtype* exceeds the
  threshold (PyTorch's semantics), and so does its from-output formula.
* Results are mpmath ``mpf`` numbers (``MP.inf``/``MP.nan`` for limits and
  NaN); they carry no sign of zero, so signed zeros are checked elsewhere.

ULP error
---------
``ulp_error(got, exact, dtype)`` is ``|got - exact| / ulp(exact)``, ``ulp``
the spacing of ``dtype`` at ``exact`` (subnormal spacing below the normal
range).  A correctly rounded result has error <= 0.5.  ``ulp_errors`` does the
same for whole arrays from ``exact_values`` (exact results stored as
double-double, exact to ~2^-106 relative, and scaled up where they are tiny so
that subnormal results are measured as exactly as the others)::

    import numpy as np, actgrad as ag, mpmath_reference as ref
    x = np.linspace(-10, 10, 1001, dtype=np.float32)
    exact = ref.exact_values("silu", "derivative", x, np.float32)   # the slow part: cache it
    err = ref.ulp_errors(ag.silu_derivative(x), exact, np.float32)  # float64 array, in ULPs
    # backward: dy * f'(x) with dy a power of two is ref.scaled(exact, dy)

Sample grids
------------
``x_grid(name, key, dtype)`` and ``y_grid`` are the points the calls from x and from y are
measured on (the whole range of the dtype, tails, kinks; ``key`` is ``pkey(params)``), and
``in_dtype`` gives the parameters as a kernel of that dtype sees them: the tests check
actgrad's bounds there and ``bench/accuracy.py`` reports actgrad's and its peers' errors
there.

This module has no dependency on pytest or on actgrad; ``bench/accuracy.py``
imports it.
"""
import functools
import math
import zlib
from collections import namedtuple

import mpmath
import numpy as np

MP = mpmath.MPContext()
MP.dps = 50

# PyTorch's SELU constants (torch.nn.SELU; Klambauer et al. 2017).
SELU_ALPHA = MP.mpf("1.6732632423543772848170429916717")
SELU_SCALE = MP.mpf("1.0507009873554804934193349852946")
# PyTorch's tanh form of gelu: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
GELU_TANH_A = MP.sqrt(2 / MP.pi)
GELU_TANH_B = MP.mpf("0.044715")

# name -> PyTorch's parameters and defaults, in PyTorch's order.
DEFAULTS = {
    "sigmoid": {},
    "tanh": {},
    "relu": {},
    "relu6": {},
    "leaky_relu": {"negative_slope": 0.01},
    "elu": {"alpha": 1.0},
    "selu": {},
    "celu": {"alpha": 1.0},
    "softplus": {"beta": 1.0, "threshold": 20.0},
    "log_sigmoid": {},
    "silu": {},
    "gelu": {"approximate": "none"},
    "mish": {},
    "hardtanh": {"min_val": -1.0, "max_val": 1.0},
    "hardsigmoid": {},
    "hardswish": {},
    "softsign": {},
}
# The activations that have _from_output calls (docs/api.md section 2, marked with a check).
HAS_FROM_OUTPUT = frozenset(("sigmoid", "tanh", "relu", "relu6", "leaky_relu", "elu", "selu", "celu",
                             "softplus", "log_sigmoid", "hardtanh", "hardsigmoid", "softsign"))
# The derivatives that are a sum of terms cancelling at an interior root: their error is
# judged in ULPs of the largest term (NUMERICS.md); ``derivative_terms`` gives its size.
TERMS = frozenset(("silu", "gelu", "mish", "hardswish"))

# +-inf are evaluated at +-2^100000: every limit is reached there far below any float's
# resolution (the slowest, softsign, is 1 - 2^-100000).  A result beyond 2^50000 means the
# function grows without bound: the limit is then +-inf.
_INF = MP.ldexp(1, 100000)
_HUGE = MP.ldexp(1, 50000)
# exp(t) for |t| > 2^64 is evaluated at +-2^64: e^(-2^64) is below 2^(-10^19), smaller than
# any float times any float we meet (|x| <= 2^100000), so no rounded result changes; it only
# keeps mpmath from working with exponents of 10^900 digits (gelu's x^3 at x = 1e308).
_EXP_CLAMP = MP.ldexp(1, 64)


# ------------------------------------------------------------ building blocks (exact)

def _exp(t):
    if t < -_EXP_CLAMP:
        t = -_EXP_CLAMP
    elif t > _EXP_CLAMP:
        t = _EXP_CLAMP
    return MP.exp(t)


def _expm1(t):
    return MP.expm1(t) if abs(t) < 1 else _exp(t) - 1


def _sigmoid(t):
    """1/(1+e^-t) with no overflow and no cancellation."""
    if t >= 0:
        return 1 / (1 + _exp(-t))
    e = _exp(t)
    return e / (1 + e)


def _dsigmoid(t):
    """sigmoid(t) * sigmoid(-t) = e/(1+e)^2 with e = exp(-|t|)."""
    e = _exp(-abs(t))
    return e / (1 + e) ** 2


def _tanh(t):
    """tanh t = -expm1(-2|t|) / (2 + expm1(-2|t|)), with the sign of t."""
    m = _expm1(-2 * abs(t))
    r = -m / (2 + m)
    return r if t >= 0 else -r


def _sech2(t):
    """1 - tanh(t)^2 = 4e/(1+e)^2 with e = exp(-2|t|)."""
    e = _exp(-2 * abs(t))
    return 4 * e / (1 + e) ** 2


def _softplus(t):
    """log(1 + e^t) = max(t, 0) + log1p(e^-|t|)."""
    return max(t, 0) + MP.log1p(_exp(-abs(t)))


def _erfc(z):
    # mpmath's erfc overflows beyond |z| ~ 1e4; past |z| = 1000 the asymptotic leading term
    # exp(-z^2)/(z sqrt(pi)) (relative error < 1e-6) is already below 10^-434000, so only its
    # sign and tininess matter.
    if z > 1000:
        return _exp(-z * z) / (z * MP.sqrt(MP.pi))
    if z < -1000:
        return 2 - _exp(-z * z) / (-z * MP.sqrt(MP.pi))
    return MP.erfc(z)


def _Phi(x):
    """The standard normal CDF, x/sqrt(2) through erfc (no cancellation for x < 0)."""
    return _erfc(-x / MP.sqrt(2)) / 2


def _phi(x):
    return _exp(-x * x / 2) / MP.sqrt(2 * MP.pi)


def _rounded_mul(a, b, dtype):
    """a*b rounded to dtype, as a float (inf on overflow)."""
    with np.errstate(all="ignore"):
        return float(np.asarray(a, dtype) * np.asarray(b, dtype))


# ------------------------------------------------------------ the activations
# Each entry: forward(X, p), derivative(X, p) -> (value, largest term or None),
# from_output(Y, p) or None.  X is an mpf; p holds the parameters (mpf, and the strings of
# choice parameters), the input as a float under "_x" and the dtype under "_dtype".

def _gelu_fwd(X, p):
    if p["approximate"] == "tanh":
        return X * _sigmoid(2 * GELU_TANH_A * (X + GELU_TANH_B * X ** 3))
    return X * _Phi(X)


def _gelu_der(X, p):
    if p["approximate"] == "tanh":
        # d/dx x*s(w), s = sigmoid, w = 2u = 2 sqrt(2/pi) (x + b x^3)
        w = 2 * GELU_TANH_A * (X + GELU_TANH_B * X ** 3)
        s = _sigmoid(w)
        b = X * _dsigmoid(w) * 2 * GELU_TANH_A * (1 + 3 * GELU_TANH_B * X * X)
        return s + b, max(abs(s), abs(b))
    a, b = _Phi(X), X * _phi(X)
    return a + b, max(abs(a), abs(b))


def _silu_der(X, p):
    s, t = _sigmoid(X), X * _dsigmoid(X)
    return s + t, max(abs(s), abs(t))


def _mish_der(X, p):
    sp = _softplus(X)
    T = _tanh(sp)
    t = X * _sech2(sp) * _sigmoid(X)
    return T + t, max(abs(T), abs(t))


def _hardswish_der(X, p):
    if X <= -3:
        return MP.zero, None
    if X >= 3:
        return MP.one, None
    return (2 * X + 3) / 6, max(abs(X) / 3, MP.mpf(1) / 2)


def _softplus_linear(X, p):
    """PyTorch's switch: beta*x rounded to the dtype, compared with the threshold."""
    return _rounded_mul(float(p["beta"]), p["_x"], p["_dtype"]) > p["threshold"]


def _celu_fwd(X, p):
    a = p["alpha"]
    return max(MP.zero, X) + min(MP.zero, a * _expm1(X / a))


def _elu_fwd(X, p):
    return X if X > 0 else p["alpha"] * _expm1(X)


def _clip(X, lo, hi):
    return min(max(X, lo), hi)


def _ind(c):
    return MP.one if c else MP.zero


_OPS = {
    "sigmoid": (lambda X, p: _sigmoid(X),
                lambda X, p: (_dsigmoid(X), None),
                lambda Y, p: Y * (1 - Y)),
    "tanh": (lambda X, p: _tanh(X),
             lambda X, p: (_sech2(X), None),
             lambda Y, p: 1 - Y * Y),
    "relu": (lambda X, p: max(X, MP.zero),
             lambda X, p: (_ind(X > 0), None),
             lambda Y, p: _ind(Y > 0)),
    "relu6": (lambda X, p: _clip(X, MP.zero, MP.mpf(6)),
              lambda X, p: (_ind(0 < X < 6), None),
              lambda Y, p: _ind(0 < Y < 6)),
    "leaky_relu": (lambda X, p: X if X > 0 else p["negative_slope"] * X,
                   lambda X, p: (MP.one if X > 0 else p["negative_slope"], None),
                   lambda Y, p: MP.one if Y > 0 else p["negative_slope"]),
    "elu": (_elu_fwd,
            lambda X, p: (MP.one if X > 0 else p["alpha"] * _exp(X), None),
            lambda Y, p: MP.one if Y > 0 else Y + p["alpha"]),
    "selu": (lambda X, p: SELU_SCALE * (X if X > 0 else SELU_ALPHA * _expm1(X)),
             lambda X, p: (SELU_SCALE * (1 if X > 0 else SELU_ALPHA * _exp(X)), None),
             lambda Y, p: SELU_SCALE if Y > 0 else Y + SELU_SCALE * SELU_ALPHA),
    "celu": (_celu_fwd,
             lambda X, p: (MP.one if X > 0 else _exp(X / p["alpha"]), None),
             lambda Y, p: MP.one if Y > 0 else 1 + Y / p["alpha"]),
    "softplus": (lambda X, p: X if _softplus_linear(X, p) else _softplus(p["beta"] * X) / p["beta"],
                 lambda X, p: (MP.one if _softplus_linear(X, p) else _sigmoid(p["beta"] * X), None),
                 lambda Y, p: MP.one if _softplus_linear(Y, p) else -_expm1(-p["beta"] * Y)),
    "log_sigmoid": (lambda X, p: -_softplus(-X),
                    lambda X, p: (_sigmoid(-X), None),
                    lambda Y, p: -_expm1(Y)),
    "silu": (lambda X, p: X * _sigmoid(X), _silu_der, None),
    "gelu": (_gelu_fwd, _gelu_der, None),
    "mish": (lambda X, p: X * _tanh(_softplus(X)), _mish_der, None),
    "hardtanh": (lambda X, p: _clip(X, p["min_val"], p["max_val"]),
                 lambda X, p: (_ind(p["min_val"] < X < p["max_val"]), None),
                 lambda Y, p: _ind(p["min_val"] < Y < p["max_val"])),
    "hardsigmoid": (lambda X, p: _clip(X + 3, MP.zero, MP.mpf(6)) / 6,
                    lambda X, p: (MP.mpf(1) / 6 if -3 < X < 3 else MP.zero, None),
                    lambda Y, p: MP.mpf(1) / 6 if 0 < Y < 1 else MP.zero),
    "hardswish": (lambda X, p: X * _clip(X + 3, MP.zero, MP.mpf(6)) / 6, _hardswish_der, None),
    "softsign": (lambda X, p: X / (1 + abs(X)),
                 lambda X, p: ((1 / (1 + abs(X))) ** 2, None),
                 lambda Y, p: (1 - abs(Y)) ** 2),
}
assert set(_OPS) == set(DEFAULTS)
assert {n for n, o in _OPS.items() if o[2] is not None} == HAS_FROM_OUTPUT

ALIASES = {"swish": "silu"}


def _params(name, dtype, x, params):
    name = ALIASES.get(name, name)
    unknown = set(params) - set(DEFAULTS[name])
    if unknown:
        raise TypeError(f"{name}: unknown parameters {sorted(unknown)}")
    p = dict(DEFAULTS[name], **params)
    p = {k: (v if isinstance(v, str) else MP.mpf(float(v))) for k, v in p.items()}
    p["_x"], p["_dtype"] = x, np.dtype(dtype).type
    return name, p


def _evaluate(which, name, x, dtype, params):
    """which: 0 forward, 1 derivative (value, terms), 2 from output."""
    name, p = _params(name, dtype, x, params)
    fn = _OPS[name][which]
    if fn is None:
        raise ValueError(f"{name} has no from-output formula")
    x = float(x)
    if math.isnan(x):
        return (MP.nan, None) if which == 1 else MP.nan
    X = MP.mpf(x) if math.isfinite(x) else (_INF if x > 0 else -_INF)
    r = fn(X, p)
    if not math.isfinite(x):
        v = r[0] if which == 1 else r
        if abs(v) > _HUGE:
            v = MP.inf if v > 0 else -MP.inf
        r = (v, None) if which == 1 else v
    return r


def forward(name, x, dtype=np.float64, **params):
    """f(x) exactly (mpf), for the float x; params by PyTorch's names (defaults filled in)."""
    return _evaluate(0, name, x, dtype, params)


def derivative(name, x, dtype=np.float64, **params):
    """f'(x) exactly, as computed from x, with the kinks of docs/api.md (relu'(0) = 0 ...)."""
    return _evaluate(1, name, x, dtype, params)[0]


def derivative_terms(name, x, dtype=np.float64, **params):
    """The size of the largest term of f'(x) for the functions in TERMS (silu, gelu, mish,
    hardswish: sums that cancel at an interior root), else None."""
    return _evaluate(1, name, x, dtype, params)[1]


def derivative_from_output(name, y, dtype=np.float64, **params):
    """The _from_output formula of docs/api.md evaluated exactly in y (sigmoid: y(1-y) ...)."""
    return _evaluate(2, name, y, dtype, params)


# ------------------------------------------------------------ ULP error

_FORMATS = {np.float32: (24, -126), np.float64: (53, -1022)}


def _format(dtype):
    t = np.dtype(dtype).type
    if t not in _FORMATS:
        raise TypeError(f"ulp: dtype must be float32 or float64, got {dtype!r}")
    return t, _FORMATS[t]


def ulp(r, dtype):
    """The spacing of dtype at the (finite, exact) value r: 2^(e - p + 1) for 2^e <= |r| <
    2^(e+1), and the subnormal spacing 2^(emin - p + 1) below the normal range."""
    _, (prec, emin) = _format(dtype)
    r = MP.mpf(r.item() if isinstance(r, np.generic) else r)
    if r == 0:
        return MP.ldexp(1, emin - prec + 1)
    e = MP.frexp(r)[1] - 1
    return MP.ldexp(1, max(e, emin) - prec + 1)


def _overflows(r, dtype):
    """True where |r| rounds to inf in dtype (|r| >= max + ulp(max)/2)."""
    big = MP.mpf(float(np.finfo(dtype).max))
    return abs(r) >= big + ulp(big, dtype) / 2


def ulp_error(got, exact, dtype, terms=None):
    """|got - exact| / ulp(exact) as a float, got a number of dtype, exact an mpf (or float).

    Both NaN, or got = +-inf where exact is +-inf or rounds to it, give 0; a NaN or inf on
    one side only gives inf.  With ``terms`` (the size of the largest term of a sum that
    cancels, see TERMS) the error is in ULPs of max(|exact|, terms) instead."""
    got = float(got)
    exact = MP.mpf(exact.item() if isinstance(exact, np.generic) else exact)
    if math.isnan(got) or MP.isnan(exact):
        return 0.0 if (math.isnan(got) and MP.isnan(exact)) else math.inf
    if MP.isinf(exact) or _overflows(exact, dtype):
        if math.isinf(got) and (got > 0) == (exact > 0):
            return 0.0
        if MP.isinf(exact):
            return math.inf
    if math.isinf(got):
        return math.inf
    u = ulp(exact, dtype)
    if terms is not None:
        u = max(u, ulp(terms, dtype))
    return float(abs(MP.mpf(got) - exact) / u)


ExactValues = namedtuple("ExactValues", "hi lo shift terms")
ExactValues.__doc__ = """Exact values as double-double float64 arrays: value = (hi + lo) * 2^-shift,
|lo| <= ulp(hi)/2.  shift is 0, or SHIFT where |value| < 2^-900 (so that even the low parts of
subnormal results stay normal numbers); hi is +-inf where the value is beyond float64 and NaN
where it is NaN.  terms: the sizes of the largest terms (float64, rounded towards zero; NaN
where there is none) or None.  Scale by powers of two with ``scaled``."""

SHIFT = 600
_TINY = MP.ldexp(1, -900)


def _down(t):
    """t as a float64 rounded towards zero (so its binade is never overstated)."""
    f = float(t)
    return float(np.nextafter(f, 0.0)) if abs(MP.mpf(f)) > abs(t) else f


def split(values, terms=None):
    """mpf values (and optional terms, mpf or None) -> ExactValues."""
    n = len(values)
    hi, lo, shift = np.empty(n), np.zeros(n), np.zeros(n, dtype=np.int64)
    for i, r in enumerate(values):
        if MP.isfinite(r) and r != 0 and abs(r) < _TINY:
            shift[i] = SHIFT
            r = MP.ldexp(r, SHIFT)
        h = float(r)
        hi[i] = h
        if math.isfinite(h) and h != 0:   # h == 0: |r| < 2^-1675, below every float64
            lo[i] = float(r - MP.mpf(h))
    t = None if terms is None else np.array([np.nan if v is None else _down(v) for v in terms])
    return ExactValues(hi, lo, shift, t)


_REF = {"forward": forward, "derivative": derivative, "derivative_from_output": derivative_from_output}


def exact_values(name, call, xs, dtype=np.float64, **params):
    """The exact results of one call ('forward', 'derivative' or 'derivative_from_output')
    at every float in xs, as ExactValues (terms where ``name`` is in TERMS and call is
    'derivative')."""
    xs = np.asarray(xs, dtype=np.float64).ravel()
    if call == "derivative" and ALIASES.get(name, name) in TERMS:
        pairs = [_evaluate(1, name, x, dtype, params) for x in xs]
        return split([v for v, _ in pairs], [t for _, t in pairs])
    return split([_REF[call](name, x, dtype, **params) for x in xs])


def scaled(exact, factor):
    """exact * factor for a (float64 array of) power(s) of two, e.g. dy in a backward pass."""
    f = np.asarray(factor, dtype=np.float64)
    terms = None if exact.terms is None else exact.terms * np.abs(f)
    return ExactValues(exact.hi * f, exact.lo * f, exact.shift, terms)


def _ulp_array(a, dtype, below=None, shift=0):
    """ulp of dtype at |a| * 2^-shift, times 2^shift (a a finite float64 array); one binade
    lower where a is a power of two and ``below`` (the low part) says the exact value lies
    just under it."""
    _, (prec, emin) = _format(dtype)
    m, e = np.frexp(np.abs(a))           # |a| = m 2^e, m in [0.5, 1)
    e = e - 1 - shift
    if below is not None:
        e = e - ((m == 0.5) & (below != 0) & (np.sign(below) == -np.sign(a)))
    e = np.where(a == 0, emin, np.maximum(e, emin))
    return np.ldexp(1.0, e - prec + 1 + shift)


def ulp_errors(got, exact, dtype):
    """Vectorized ulp_error: got an array of dtype, exact an ExactValues of the same length.
    Returns float64 errors, in ULPs of the largest term where exact.terms is given (NaN
    entries of terms are ignored)."""
    t, _ = _format(dtype)
    got = np.asarray(got, dtype=np.float64).ravel()
    hi, lo, shift = exact.hi, exact.lo, exact.shift
    with np.errstate(all="ignore"):
        big = float(np.finfo(t).max)
        limit = big + float(_ulp_array(np.array([big]), t)[0]) / 2
        over = ~np.isnan(hi) & ((np.abs(hi) > limit) | ((np.abs(hi) == limit) & (lo >= 0)))
        finite = np.isfinite(hi) & np.isfinite(got)
        h = np.where(np.isfinite(hi), hi, 0.0)
        u = _ulp_array(h, t, lo, shift)
        if exact.terms is not None:
            tt = np.where(np.isnan(exact.terms), 0.0, exact.terms)
            u = np.maximum(u, np.ldexp(_ulp_array(tt, t), shift))
        err = np.abs((np.ldexp(got, shift) - h) - lo) / u
        err = np.where(finite, err, np.inf)
        both_nan = np.isnan(got) & np.isnan(hi)
        inf_ok = over & np.isinf(got) & (np.sign(got) == np.sign(hi))
        err = np.where(both_nan | inf_ok, 0.0, err)
    return err


# ------------------------------------------------------------ parameters and sample grids
# The points every call is measured on, shared by tests/test_activations.py (which checks
# actgrad's ULP bounds there) and bench/accuracy.py (which reports actgrad's and its peers'
# errors there): the whole range of the dtype (specials, subnormals, random bit patterns,
# log-spaced magnitudes up to the largest float), dense bands, the tails where the result is
# tiny or saturates, and the neighbourhoods of every kink, threshold and interior root.

def pkey(params):
    return tuple(sorted(params.items()))


def full_params(name, params):
    """All parameters, in the table's order, defaults filled in."""
    act = DEFAULTS[name]
    return {k: params.get(k, v) for k, v in act.items()}


def in_dtype(name, params, dtype):
    """All parameters as the kernel of dtype sees them (defaults filled in, numbers rounded to
    dtype): what the reference is evaluated with."""
    p = full_params(ALIASES.get(name, name), params)
    return {k: (v if isinstance(v, str) else float(dtype(v))) for k, v in p.items()}


def _rng(*key):
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


def _nudge(points, dtype, steps=3):
    """Each point (rounded to dtype) and its neighbours up to `steps` ULPs away."""
    out = []
    for p in points:
        for direction in (np.inf, -np.inf):
            v = dtype(p)
            out.append(v)
            for _ in range(steps):
                v = np.nextafter(v, dtype(direction))
                out.append(v)
    return np.array(out, dtype=dtype)


def _uniform(rng, lo, hi, n, dtype):
    return rng.uniform(lo, hi, n).astype(dtype)


def _logspaced(rng, n, dtype):
    """Random magnitudes uniform in log from the smallest subnormal to the largest float, both signs."""
    fi = np.finfo(dtype)
    lo, hi = math.log10(float(fi.smallest_subnormal)), math.log10(float(fi.max))
    with np.errstate(over="ignore"):
        m = (10.0 ** rng.uniform(lo, hi, n)).astype(dtype)
    m = np.where(np.isinf(m), fi.max, m)
    return m * rng.choice(np.array([-1, 1], dtype=dtype), n)


def _subnormals(rng, n, dtype):
    itype = np.uint32 if dtype == np.float32 else np.uint64
    mant = 23 if dtype == np.float32 else 52
    bits = rng.integers(1, 2 ** mant, n, dtype=np.uint64).astype(itype)
    return bits.view(dtype) * rng.choice(np.array([-1, 1], dtype=dtype), n)


def _bit_patterns(rng, n, dtype):
    itype = np.uint32 if dtype == np.float32 else np.uint64
    b = rng.integers(0, np.iinfo(itype).max, n, dtype=itype, endpoint=True).view(dtype)
    return b[np.isfinite(b)]


def _specials(dtype):
    fi = np.finfo(dtype)
    v = [0.0, fi.smallest_subnormal, fi.tiny, fi.eps, 0.5, 1.0, 2.0, 1e10, fi.max / 2, fi.max, np.inf]
    v = np.array(v, dtype=dtype)
    return np.concatenate([v, -v, np.array([-0.0], dtype=dtype)])


def _root(name, params, lo, hi):
    """The interior root of f' in [lo, hi] (f'(lo) < 0 < f'(hi)), by bisection on float64."""
    for _ in range(200):
        mid = (lo + hi) / 2
        if mid in (lo, hi):
            break
        if derivative(name, mid, **params) < 0:
            lo = mid
        else:
            hi = mid
    return lo


@functools.lru_cache(maxsize=None)
def interior_root(name, key):
    """x where f' = 0 for silu, gelu, mish, hardswish (computed from the reference)."""
    return _root(name, dict(key), -3.0, -0.1) if name in TERMS else None


def kinks(name, params):
    """Points where the function or its derivative changes form (kinks, thresholds, roots)."""
    p = full_params(name, params)
    pts = {"relu": [0.0], "relu6": [0.0, 6.0], "leaky_relu": [0.0], "elu": [0.0], "selu": [0.0],
           "celu": [0.0], "hardtanh": [p.get("min_val", 0.0), p.get("max_val", 0.0)],
           "hardsigmoid": [-3.0, 3.0], "hardswish": [-3.0, 3.0],
           "softplus": [p.get("threshold", 0.0) / p.get("beta", 1.0)],
           "sigmoid": [0.0], "tanh": [0.0], "softsign": [0.0], "log_sigmoid": [0.0]}.get(name, [0.0])
    root = interior_root(name, pkey(params))
    return pts + ([root] if root is not None else [])


def tails(name, params, dtype):
    """Intervals where the result is tiny (exp underflows, gelu's erfc tail) or saturates."""
    f32 = dtype == np.float32
    t = [(-104.0, -86.0) if f32 else (-746.0, -707.0), (-40.0, -12.0), (8.0, 40.0)]
    if name == "gelu":
        t.append(((-11.5, -4.0) if f32 else (-22.0, -4.0)) if params.get("approximate") == "tanh" else
                 ((-14.5, -5.0) if f32 else (-39.0, -5.0)))
    return t


@functools.lru_cache(maxsize=None)
def x_grid(name, key, dtype, density=1):
    """Sample points for the calls from x: a few thousand covering the whole range of dtype."""
    params = dict(key)
    rng = _rng("x", name, key, np.dtype(dtype).name, density)
    n = 100 * density
    big = 110.0 if dtype == np.float32 else 760.0
    parts = [_specials(dtype), _nudge(kinks(name, params), dtype),
             _uniform(rng, -8, 8, 6 * n, dtype), _uniform(rng, -big, big, 3 * n, dtype),
             _logspaced(rng, 6 * n, dtype), _subnormals(rng, n, dtype), _bit_patterns(rng, 2 * n, dtype)]
    parts += [_uniform(rng, a, b, 2 * n, dtype) for a, b in tails(name, params, dtype)]
    for k in kinks(name, params):
        scale = max(abs(k), 1.0)
        parts.append(dtype(k) + _uniform(rng, -1e-3, 1e-3, n // 2, dtype) * dtype(scale))
        mag = 10.0 ** rng.uniform(-16, -3, n // 2) * rng.choice([-1, 1], n // 2)
        parts.append((k * (1 + mag) if k else mag).astype(dtype))
    x = np.unique(np.concatenate([p.astype(dtype) for p in parts]))
    return np.concatenate([x, np.array([-0.0], dtype=dtype)])


def y_range(name, params, dtype):
    """The closure of the range of f in dtype: the from_output calls are tested there."""
    p = full_params(name, params)
    inf = np.inf
    if name in ("elu", "celu"):
        return -p["alpha"], inf
    return {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0), "relu": (0.0, inf), "relu6": (0.0, 6.0),
            "leaky_relu": (-inf, inf),
            "selu": (float(forward("selu", -np.inf, dtype)), inf),
            "softplus": (0.0, inf), "log_sigmoid": (-inf, 0.0),
            "hardtanh": (p.get("min_val"), p.get("max_val")), "hardsigmoid": (0.0, 1.0),
            "softsign": (-1.0, 1.0)}[name]


@functools.lru_cache(maxsize=None)
def y_grid(name, key, dtype, density=1):
    """Sample points for the from_output calls: values of f, dense near the ends of its range."""
    params = dict(key)
    lo, hi = y_range(name, params, dtype)
    rng = _rng("y", name, key, np.dtype(dtype).name, density)
    n = 100 * density
    eps = float(np.finfo(dtype).eps)
    ends = [e for e in (lo, hi) if np.isfinite(e)]
    special = [0.0, 1.0, -1.0, 6.0, 0.5, -0.5] + ends
    p = full_params(name, params)
    if name == "softplus":
        special.append(p["threshold"] / p["beta"])
    parts = [_specials(dtype), _nudge(special, dtype),
             _uniform(rng, max(lo, -8), min(hi, 8), 6 * n, dtype),
             _uniform(rng, max(lo, -60), min(hi, 60), 3 * n, dtype),
             _logspaced(rng, 6 * n, dtype), _subnormals(rng, n, dtype), _bit_patterns(rng, 2 * n, dtype)]
    for e in ends:
        off = (10.0 ** rng.uniform(math.log10(eps / 4), 0, 3 * n)) * max(abs(e), 1.0)
        parts += [(e + off).astype(dtype), (e - off).astype(dtype)]
    y = np.unique(np.concatenate([q.astype(dtype) for q in parts]))
    y = np.concatenate([y, np.array([-0.0], dtype=dtype)])
    return y[(y >= dtype(lo)) & (y <= dtype(hi))]


__all__ = ["MP", "SELU_ALPHA", "SELU_SCALE", "GELU_TANH_A", "GELU_TANH_B", "DEFAULTS", "HAS_FROM_OUTPUT",
           "TERMS", "ALIASES", "forward", "derivative", "derivative_terms", "derivative_from_output",
           "ulp", "ulp_error", "ExactValues", "SHIFT", "split", "exact_values", "scaled", "ulp_errors",
           "pkey", "full_params", "in_dtype", "interior_root", "kinks", "tails", "x_grid", "y_range",
           "y_grid"]
