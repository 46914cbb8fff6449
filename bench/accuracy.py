"""actgrad's accuracy report: ULP errors of actgrad and its peers against mpmath.

    python bench/accuracy.py                       # everything; writes docs/accuracy.md
    python bench/accuracy.py --quick --no-torch --functions sigmoid,gelu,softmax --output -

For every activation of actgrad's table (``src/actgrad/_optable.py``; gelu's
``approximate='tanh'`` is its own row), each of its calls from x (f and f'; f_backward is
dy * f' rounded once, so its error is f''s) and from y where the table has them, and each
dtype (float32, float64): the max and the median error in ULPs against exact values from
mpmath, over the points ``tests/test_activations.py`` checks actgrad on (the whole float
range: zeros, subnormals, tiny to huge magnitudes, +-max, +-inf, random bit patterns, dense
bands, the tails and every kink).  The same points and the same exact values judge actgrad
and each peer:

* numpy: NumPy expressions as users write them (``1 / (1 + np.exp(-x))``, ``s * (1 - s)``,
  ``np.tanh``, ``np.maximum(x, 0)``, gelu as ``0.5 * x * (1 + erf(x / sqrt(2)))`` with
  scipy.special.erf, or math.erf where SciPy is missing);
* scipy: ``scipy.special`` where it has the function or its core (expit, log_expit, ndtr);
* numexpr: the same expressions through ``numexpr.evaluate`` (no erf: no gelu);
* torch: PyTorch's CPU functions (torch.sigmoid, F.gelu, F.silu, ...); f' through autograd
  (``x.requires_grad_(); f(x).backward(torch.ones_like(x)); x.grad``); f' from y through the
  ATen backward op autograd runs where it saves the output (sigmoid_backward, ...).

Then the softmax family (softmax, log_softmax, logsumexp) on random and adversarial rows,
for actgrad, NumPy (max-subtracted, as users write it), scipy.special and torch; then the
losses (``bench/accuracy_losses.py``: cross_entropy, binary_cross_entropy_with_logits and
mse_loss, values and gradients) for actgrad, NumPy and torch.

Peers that are not installed, or have no such function, are reported as skipped; every peer
is imported lazily (torch only after the exact values are computed).  The exact values are
computed once per function, call and dtype (in ``--jobs`` processes) and shared by all
contenders.  Prints a table per dtype and writes the markdown report (``--output``,
default docs/accuracy.md; ``-`` for none).
"""
import argparse
import concurrent.futures
import datetime
import importlib
import importlib.util
import math
import multiprocessing
import os
import pathlib
import platform
import shlex
import sys
import time
import warnings
from dataclasses import dataclass, field

import numpy as np

import accuracy_losses  # noqa: E402  (bench/, next to this script)
import actgrad as ag
from actgrad._optable import ACTIVATIONS, SELU_ALPHA as A, SELU_SCALE as S

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
DTYPES = (np.float32, np.float64)
PEERS = ("numpy", "scipy", "numexpr", "torch")
CONTENDERS = ("actgrad",) + PEERS
SOFTMAX_FAMILY = ("softmax", "log_softmax", "logsumexp")
EXHAUSTIVE_HEADING = "## float32, exhaustive"
SOFTMAX_CONTENDERS = ("actgrad", "numpy", "scipy", "torch")
CALL_LABEL = {"forward": "f", "derivative": "f'", "derivative_from_output": "f' from y",
              "from_output_of_f": "f' from y = f(x), against f'(x)"}
SQRT2, SQRT2PI = math.sqrt(2.0), math.sqrt(2.0 * math.pi)
K, C = math.sqrt(2.0 / math.pi), 0.044715     # gelu's tanh form
DETAIL_ULP = 1000.0                            # cells listed with their worst point above this
SOFTMAX_DETAIL_ULP = 16.0                      # the same for the softmax family
KINK_ULP = 4.0                                 # f' at a corner: another convention beyond this


def _load_reference():
    """tests/mpmath_reference.py (the exact references, the ULP measure and the test grids),
    registered as ``mpmath_reference`` so that its results pickle between processes."""
    name = "mpmath_reference"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "tests" / "mpmath_reference.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


ref = _load_reference()

_modules = {}


def optional(name):
    """The module ``name``, imported on first use, or None when it is not installed."""
    if name not in _modules:
        try:
            _modules[name] = importlib.import_module(name)
        except ImportError:
            _modules[name] = None
    return _modules[name]


class Skip(Exception):
    """A contender that has no such function (the message says why)."""


# ---------------------------------------------------------------- rows and cases

@dataclass(frozen=True)
class Row:
    """One activation at its default parameters, or one choice of a choice parameter."""
    name: str
    key: tuple           # the non-default parameters, as tests/test_activations.py keys them
    label: str
    calls: tuple
    forward_ulp: float
    derivative_ulp: float
    float32_ulp: float = 1.0

    def bound(self, call, dtype_name="float64"):
        b = self.forward_ulp if call == "forward" else self.derivative_ulp
        return min(b, self.float32_ulp) if dtype_name == "float32" else b


def table_rows():
    rows = []
    for act in ACTIVATIONS:
        calls = ("forward", "derivative") + (("derivative_from_output",) if act.from_output else ())
        choice = next((p for p in act.params if p.choices), None)
        values = list(choice.choices) if choice else [None]
        for value in values:
            key = () if value is None or value == choice.default else ((choice.name, value),)
            label = act.name if not key else f"{act.name}({choice.name}={value!r})"
            rows.append(Row(act.name, key, label, calls, act.forward_ulp, act.derivative_ulp, act.float32_ulp))
    return rows


def _subsample(points):
    """--quick: every 4th point of the grid, and all of its infinities and zeros."""
    keep = np.zeros(len(points), bool)
    keep[::4] = True
    keep |= ~np.isfinite(points) | (points == 0)
    return points[keep]


def grid(row, call, dtype, quick, density=1):
    make = ref.y_grid if call == "derivative_from_output" else ref.x_grid
    points = make(row.name, row.key, dtype, density)
    return _subsample(points) if quick else points


def _exact_task(task):
    """(points, ExactValues) of one row, call and dtype: the slow part, run in a worker."""
    row, call, dtype_name, quick, density = task
    dtype = np.dtype(dtype_name).type
    points = grid(row, call, dtype, quick, density)
    params = ref.in_dtype(row.name, dict(row.key), dtype)
    return points, ref.exact_values(row.name, call, points, dtype, **params)


# rough cost per point (relu = 1), to start the slow tasks first
_COST = {"gelu": 30, "mish": 20, "silu": 10, "softplus": 10, "log_sigmoid": 10, "sigmoid": 8,
         "tanh": 8, "elu": 6, "selu": 6, "celu": 6}


def exact_values(tasks, jobs, progress):
    """{task: (points, ExactValues)} for every task, in ``jobs`` processes."""
    order = sorted(tasks, key=lambda t: -_COST.get(t[0].name, 1))
    results = {}
    if jobs <= 1:
        for i, task in enumerate(order):
            results[task] = _exact_task(task)
            progress(i + 1, len(order))
        return results
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    with concurrent.futures.ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context(method)) as pool:
        futures = {pool.submit(_exact_task, task): task for task in order}
        for i, future in enumerate(concurrent.futures.as_completed(futures)):
            results[futures[future]] = future.result()
            progress(i + 1, len(order))
    return results


# ---------------------------------------------------------------- the contenders

def _actgrad(name, call, v, p):
    fn = getattr(ag, name if call == "forward" else f"{name}_{call}")
    return fn(v, **p)


def _sig(x):
    return 1 / (1 + np.exp(-x))


def _inside(v, lo, hi):
    return (v > lo) & (v < hi)


def _mask(cond, like):
    return cond.astype(like.dtype)


def _numpy_forms():
    """name -> (f, f', f' from y): NumPy as a user writes it (None: no such form)."""
    special = optional("scipy.special")
    erf = special.erf if special else np.vectorize(math.erf, otypes=[float])
    return {
        "sigmoid": (_sig, lambda x: (s := _sig(x)) * (1 - s), lambda y: y * (1 - y)),
        "tanh": (np.tanh, lambda x: 1 - np.tanh(x) ** 2, lambda y: 1 - y * y),
        "relu": (lambda x: np.maximum(x, 0), lambda x: _mask(x > 0, x), lambda y: _mask(y > 0, y)),
        "relu6": (lambda x: np.clip(x, 0, 6), lambda x: _mask(_inside(x, 0, 6), x),
                  lambda y: _mask(_inside(y, 0, 6), y)),
        "leaky_relu": (
            lambda x, negative_slope: np.where(x > 0, x, negative_slope * x),
            lambda x, negative_slope: np.where(x > 0, x.dtype.type(1), x.dtype.type(negative_slope)),
            lambda y, negative_slope: np.where(y > 0, y.dtype.type(1), y.dtype.type(negative_slope))),
        "elu": (lambda x, alpha: np.where(x > 0, x, alpha * np.expm1(x)),
                lambda x, alpha: np.where(x > 0, x.dtype.type(1), alpha * np.exp(x)),
                lambda y, alpha: np.where(y > 0, y.dtype.type(1), y + alpha)),
        "selu": (lambda x: S * np.where(x > 0, x, A * np.expm1(x)),
                 lambda x: np.where(x > 0, x.dtype.type(S), S * A * np.exp(x)),
                 lambda y: np.where(y > 0, y.dtype.type(S), y + S * A)),
        "celu": (lambda x, alpha: np.where(x > 0, x, alpha * np.expm1(x / alpha)),
                 lambda x, alpha: np.where(x > 0, x.dtype.type(1), np.exp(x / alpha)),
                 lambda y, alpha: np.where(y > 0, y.dtype.type(1), 1 + y / alpha)),
        # PyTorch's threshold written out, so that the definition is the same as the reference's
        "softplus": (
            lambda x, beta, threshold: np.where(beta * x > threshold, x, np.logaddexp(0, beta * x) / beta),
            lambda x, beta, threshold: np.where(beta * x > threshold, x.dtype.type(1), _sig(beta * x)),
            lambda y, beta, threshold: np.where(beta * y > threshold, y.dtype.type(1), -np.expm1(-beta * y))),
        "log_sigmoid": (lambda x: -np.logaddexp(0, -x), lambda x: _sig(-x), lambda y: -np.expm1(y)),
        "silu": (lambda x: x * _sig(x), lambda x: (s := _sig(x)) * (1 + x * (1 - s)), None),
        "gelu": (lambda x: 0.5 * x * (1 + erf(x / SQRT2)),
                 lambda x: 0.5 * (1 + erf(x / SQRT2)) + x * np.exp(-0.5 * x * x) / SQRT2PI, None),
        "gelu_tanh": (
            lambda x: 0.5 * x * (1 + np.tanh(K * (x + C * x ** 3))),
            lambda x: 0.5 * (1 + (t := np.tanh(K * (x + C * x ** 3))))
            + 0.5 * x * (1 - t * t) * K * (1 + 3 * C * x * x), None),
        "mish": (lambda x: x * np.tanh(np.logaddexp(0, x)),
                 lambda x: (t := np.tanh(np.logaddexp(0, x))) + x * _sig(x) * (1 - t * t), None),
        "hardtanh": (lambda x, min_val, max_val: np.clip(x, min_val, max_val),
                     lambda x, min_val, max_val: _mask(_inside(x, min_val, max_val), x),
                     lambda y, min_val, max_val: _mask(_inside(y, min_val, max_val), y)),
        "hardsigmoid": (lambda x: np.clip(x + 3, 0, 6) / 6,
                        lambda x: _mask(_inside(x, -3, 3), x) / 6,
                        lambda y: _mask(_inside(y, 0, 1), y) / 6),
        "hardswish": (lambda x: x * np.clip(x + 3, 0, 6) / 6,
                      lambda x: np.where(x < -3, 0, np.where(x > 3, 1, (2 * x + 3) / 6)).astype(x.dtype),
                      None),
        "softsign": (lambda x: x / (1 + np.abs(x)), lambda x: 1 / (1 + np.abs(x)) ** 2,
                     lambda y: (1 - np.abs(y)) ** 2),
    }


def _scipy_forms(special):
    forms = {
        "sigmoid": (special.expit, lambda x: (s := special.expit(x)) * (1 - s), None),
        "silu": (lambda x: x * special.expit(x),
                 lambda x: (s := special.expit(x)) * (1 + x * (1 - s)), None),
        "gelu": (lambda x: x * special.ndtr(x),
                 lambda x: special.ndtr(x) + x * np.exp(-0.5 * x * x) / SQRT2PI, None),
    }
    if hasattr(special, "log_expit"):
        forms["log_sigmoid"] = (special.log_expit, lambda x: special.expit(-x), None)
    return forms


# numexpr: float constants enter as variables of the dtype (a float literal would make
# numexpr compute a float32 expression in float64)
NUMEXPR_CONSTANTS = {"one": 1.0, "half": 0.5, "sixth": 1.0 / 6.0, "A": A, "S": S, "K": K, "C": C}
NUMEXPR = {
    "sigmoid": ("1 / (1 + exp(-x))", "exp(-x) / (1 + exp(-x))**2", "y * (1 - y)"),
    "tanh": ("tanh(x)", "1 - tanh(x)**2", "1 - y * y"),
    "relu": ("where(x > 0, x, 0)", "where(x > 0, one, 0)", "where(y > 0, one, 0)"),
    "relu6": ("where(x < 0, 0, where(x > 6, 6, x))", "where((x > 0) & (x < 6), one, 0)",
              "where((y > 0) & (y < 6), one, 0)"),
    "leaky_relu": ("where(x > 0, x, negative_slope * x)", "where(x > 0, one, negative_slope)",
                   "where(y > 0, one, negative_slope)"),
    "elu": ("where(x > 0, x, alpha * expm1(x))", "where(x > 0, one, alpha * exp(x))",
            "where(y > 0, one, y + alpha)"),
    "selu": ("S * where(x > 0, x, A * expm1(x))", "S * where(x > 0, one, A * exp(x))",
             "where(y > 0, S, y + S * A)"),
    "celu": ("where(x > 0, x, alpha * expm1(x / alpha))", "where(x > 0, one, exp(x / alpha))",
             "where(y > 0, one, 1 + y / alpha)"),
    "softplus": ("where(beta * x > threshold, x, log1p(exp(beta * x)) / beta)",
                 "where(beta * x > threshold, one, 1 / (1 + exp(-beta * x)))",
                 "where(beta * y > threshold, one, -expm1(-beta * y))"),
    "log_sigmoid": ("where(x < 0, x, 0) - log1p(exp(-abs(x)))", "1 / (1 + exp(x))", "-expm1(y)"),
    "silu": ("x / (1 + exp(-x))", "(1 + exp(-x) * (1 + x)) / (1 + exp(-x))**2", None),
    "gelu_tanh": ("half * x * (1 + tanh(K * (x + C * x**3)))",
                  "half * (1 + tanh(K * (x + C * x**3)))"
                  " + half * x * (1 - tanh(K * (x + C * x**3))**2) * K * (1 + 3 * C * x**2)", None),
    "mish": ("x * tanh(log1p(exp(x)))",
             "tanh(log1p(exp(x))) + x / (1 + exp(-x)) * (1 - tanh(log1p(exp(x)))**2)", None),
    "hardtanh": ("where(x < min_val, min_val, where(x > max_val, max_val, x))",
                 "where((x > min_val) & (x < max_val), one, 0)",
                 "where((y > min_val) & (y < max_val), one, 0)"),
    "hardsigmoid": ("where(x < -3, 0, where(x > 3, one, x * sixth + half))",
                    "where((x > -3) & (x < 3), sixth, 0)", "where((y > 0) & (y < 1), sixth, 0)"),
    "hardswish": ("x * where(x < -3, 0, where(x > 3, 6, x + 3)) * sixth",
                  "where(x < -3, 0, where(x > 3, one, (2 * x + 3) * sixth))", None),
    "softsign": ("x / (1 + abs(x))", "1 / (1 + abs(x))**2", "(1 - abs(y))**2"),
}


def _torch_forms(torch):
    """PyTorch's functions, and the ATen ops autograd runs from the saved output y."""
    F, aten = torch.nn.functional, torch.ops.aten
    forward = {
        "sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu, "relu6": F.relu6,
        "leaky_relu": F.leaky_relu, "elu": F.elu, "selu": F.selu, "celu": F.celu,
        "softplus": F.softplus, "log_sigmoid": F.logsigmoid, "silu": F.silu, "gelu": F.gelu,
        "mish": F.mish, "hardtanh": F.hardtanh, "hardsigmoid": F.hardsigmoid,
        "hardswish": F.hardswish, "softsign": F.softsign,
    }
    from_y = {
        "sigmoid": lambda dy, y: aten.sigmoid_backward(dy, y),
        "tanh": lambda dy, y: aten.tanh_backward(dy, y),
        "relu": lambda dy, y: aten.threshold_backward(dy, y, 0),
        "relu6": lambda dy, y: aten.hardtanh_backward(dy, y, 0.0, 6.0),
        "hardtanh": lambda dy, y, min_val, max_val: aten.hardtanh_backward(dy, y, min_val, max_val),
        "leaky_relu": lambda dy, y, negative_slope: aten.leaky_relu_backward(dy, y, negative_slope, True),
        "elu": lambda dy, y, alpha: aten.elu_backward(dy, alpha, 1, 1, True, y),
        "selu": lambda dy, y: aten.elu_backward(dy, A, S, 1, True, y),
        "celu": lambda dy, y, alpha: aten.elu_backward(dy, alpha, 1, 1 / alpha, True, y),
    }
    return forward, from_y


def _kernel(name, p):
    """bench-style kernel name: gelu(approximate='tanh') is gelu_tanh (no parameter left)."""
    if name == "gelu":
        return ("gelu_tanh" if p["approximate"] == "tanh" else "gelu"), {}
    return name, p


_WHICH = {"forward": 0, "derivative": 1, "derivative_from_output": 2}


def _numpy(name, call, v, p):
    kernel, p = _kernel(name, p)
    formula = _numpy_forms()[kernel][_WHICH[call]]
    if formula is None:
        raise Skip("no from-output form")
    return formula(v, **p)


def _scipy(name, call, v, p):
    special = optional("scipy.special")
    if special is None:
        raise Skip("not installed")
    kernel, p = _kernel(name, p)
    forms = _scipy_forms(special)
    if kernel not in forms:
        raise Skip("no scipy.special function")
    formula = forms[kernel][_WHICH[call]]
    if formula is None:
        raise Skip("no from-output form")
    return formula(v, **p)


def _numexpr(name, call, v, p):
    ne = optional("numexpr")
    if ne is None:
        raise Skip("not installed")
    kernel, p = _kernel(name, p)
    if kernel not in NUMEXPR:
        raise Skip("numexpr has no erf" if kernel == "gelu" else "no numexpr formula")
    expr = NUMEXPR[kernel][_WHICH[call]]
    if expr is None:
        raise Skip("no from-output form")
    dtype = v.dtype.type
    local = {n: dtype(c) for n, c in {**NUMEXPR_CONSTANTS, **p}.items()}
    local["y" if call == "derivative_from_output" else "x"] = v
    return ne.evaluate(expr, local_dict=local)


def _torch(name, call, v, p):
    torch = optional("torch")
    if torch is None:
        raise Skip("not installed")
    forward, from_y = _torch_forms(torch)
    t = torch.from_numpy(np.array(v))
    if call == "forward":
        with torch.no_grad():
            return forward[name](t, **p).numpy()
    if call == "derivative":                   # what autograd gives: x.grad for dy = 1
        leaf = t.requires_grad_()
        out = forward[name](leaf, **p)
        out.backward(torch.ones_like(out))
        return leaf.grad.numpy()
    if name not in from_y:
        raise Skip("no ATen backward op from y")
    with torch.no_grad():
        return from_y[name](torch.ones_like(t), t, **p).numpy()


CALLERS = {"actgrad": _actgrad, "numpy": _numpy, "scipy": _scipy, "numexpr": _numexpr, "torch": _torch}


# ---------------------------------------------------------------- measuring

@dataclass
class Cell:
    """One contender on one row, call and dtype."""
    status: str                   # ok | skipped | error
    note: str = ""
    max: float = math.nan         # over the inputs (corners and NaN limits excluded)
    median: float = math.nan      # over the inputs (corners excluded)
    n: int = 0
    nonfinite: int = 0            # finite inputs with an infinite error (NaN/inf where the value is finite ...)
    worst: tuple = ()             # (input, result, exact) at the max
    at_inf: list = field(default_factory=list)   # (input, result, limit): NaN for a finite limit
    at_kinks: list = field(default_factory=list)  # (input, result, convention) where they differ


def corners_of(name, call, p):
    """The inputs where f' is not defined (f has a corner there) and docs/api.md fixes a value
    (PyTorch's): conventions, checked by the tests, not measured here."""
    if call == "forward":
        return []
    from_y = call == "derivative_from_output"
    alpha = p.get("alpha", 1.0)
    corners = {
        "relu": [0.0], "relu6": [0.0, 6.0], "leaky_relu": [0.0], "selu": [0.0],
        "elu": [0.0] if alpha != 1 else [], "hardtanh": [p.get("min_val"), p.get("max_val")],
        "hardsigmoid": [0.0, 1.0] if from_y else [-3.0, 3.0],
        "hardswish": [] if from_y else [-3.0, 3.0],
    }
    return corners.get(name, [])


def _exact_float(exact, i):
    return float(exact.hi[i] + exact.lo[i]) * 2.0 ** -int(exact.shift[i])


def judge(result, points, exact, dtype, corners=()):
    """A Cell from a contender's results at the grid points (``corners``: inputs left out)."""
    result = np.asarray(result)
    note = ""
    if result.shape != points.shape:
        return Cell("error", f"shape {result.shape}, expected {points.shape}")
    if result.dtype != dtype:
        note = f"returns {result.dtype}; rounded to {np.dtype(dtype).name}"
        with np.errstate(all="ignore"):
            result = result.astype(dtype)
    err = ref.ulp_errors(result, exact, dtype)
    corner = np.isin(points, np.array(corners, dtype=dtype)) if len(corners) else np.zeros(len(points), bool)
    # NaN (or inf) where the limit at an infinite input is a number: listed apart, not in the max
    nan_limit = ~np.isfinite(points) & np.isinf(err)
    counted = ~corner & ~nan_limit
    i = int(np.flatnonzero(counted)[np.argmax(err[counted])])
    at_inf = [(points[j], result[j], _exact_float(exact, j)) for j in np.flatnonzero(nan_limit)]
    at_kinks = [(points[j], result[j], _exact_float(exact, j)) for j in np.flatnonzero(corner)
                if err[j] > KINK_ULP]
    return Cell("ok", note, float(err[i]), float(np.median(err[~corner])), int((~corner).sum()),
                int(np.isinf(err[counted]).sum()), (points[i], result[i], _exact_float(exact, i)), at_inf, at_kinks)


def measure(contender, row, call, dtype, points, exact, args):
    if contender == "torch" and args.no_torch:
        return Cell("skipped", "--no-torch")
    p = ref.in_dtype(row.name, dict(row.key), dtype)
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = CALLERS[contender](row.name, call, points.copy(), p)
    except Skip as why:
        return Cell("skipped", str(why))
    except Exception as exc:             # a peer that fails is reported, not fatal
        return Cell("error", f"{type(exc).__name__}: {exc}")
    return judge(result, points, exact, dtype, corners_of(row.name, call, p))


def composite_from_output(row, dtype, points, exact):
    """actgrad's f' from y evaluated at y = f(x), judged against f'(x) itself: what the
    from-output shortcut costs where f saturates."""
    p = ref.in_dtype(row.name, dict(row.key), dtype)
    with np.errstate(all="ignore"):
        y = _actgrad(row.name, "forward", points, p)
        d = _actgrad(row.name, "derivative_from_output", y, p)
    return judge(d, points, exact, dtype, corners_of(row.name, "derivative", p))


# ---------------------------------------------------------------- the softmax family

def _softmax_rows(dtype):
    """(description, row): random rows of many lengths and scales, and rows made to break
    naive formulas."""
    rng = np.random.default_rng(20240611)
    rows = []
    for n in (1, 2, 3, 7, 8, 15, 16, 17, 31, 33, 64, 100, 1000):
        for scale in (0.1, 3.0, 30.0):
            rows.append((f"{scale:g} * N(0, 1), n = {n}", rng.standard_normal(n) * scale))
    big = 700.0 if dtype == np.float64 else 85.0      # e^-big is near the underflow
    fmax = float(np.finfo(dtype).max)
    rows += [
        (f"[0, -20, -40, -80, -{big:g}, -{big + 40:g}]",   # a dominant logit: tiny, subnormal outputs
         np.array([0.0, -20, -40, -80, -big, -big - 40])),
        ("[0, -30]", np.array([0.0, -30.0])),               # log_softmax[0] = -log1p(e^-30)
        ("[0, -60, -120]", np.array([0.0, -60.0, -120.0])),
        ("[1e4, 1e4 - 1, 1e4 - 2.5, -1e4]", np.array([1e4, 1e4 - 1, 1e4 - 2.5, -1e4])),
        ("1e4 + N(0, 1), n = 50", 1e4 + rng.standard_normal(50)),
        ("-1e4 + N(0, 1), n = 50", -1e4 + rng.standard_normal(50)),
        ("zeros, n = 1000", np.zeros(1000)),                # ties: 1/n each
        ("[30, -30] * 40", np.tile([30.0, -30.0], 40)),
        ("[1e30, -1e30, 0, 1e30]", np.array([1e30, -1e30, 0.0, 1e30])),
        ("[max, max, -max, 0]", np.array([fmax, fmax, -fmax, 0.0])),   # exp(x) overflows
        ("[0, -inf, 1]", np.array([0.0, -np.inf, 1.0])),    # a -inf logit: probability 0
        (f"U(-{big:g}, 0), n = 300", rng.uniform(-big, 0, 300)),  # a wide range of exponents
        ("[5, 5 (1 + 2^-20), 5 - 2^-18]", np.array([5.0, 5.0 * (1 + 2.0 ** -20), 5.0 - 2.0 ** -18])),
        ("log(1 .. 100)", np.log(np.arange(1, 101, dtype=np.float64))),
        ("-log(7), n = 7", np.full(7, -math.log(7.0))),     # logsumexp = 0 up to rounding
    ]
    return [(what, r.astype(dtype)) for what, r in rows]


def _softmax_exact(row):
    """Exact softmax, log_softmax (mpf lists) and logsumexp (mpf) of one row."""
    MP = ref.MP
    xs = [MP.mpf(float(v)) for v in row]
    m = max(xs)
    e = [MP.exp(v - m) if MP.isfinite(v) else MP.zero for v in xs]
    # s = k + t with k maxima and t the rest; log s = log1p(k - 1 + t) keeps t's digits
    k = xs.count(m)
    t = MP.fsum(v for v, xv in zip(e, xs) if xv != m)
    s = k + t
    log_s = MP.log1p(k - 1 + t)
    return [v / s for v in e], [v - m - log_s for v in xs], m + log_s


def softmax_exact(dtype):
    """rows, {function: ExactValues over all rows' elements (logsumexp: one per row)}."""
    rows = _softmax_rows(dtype)
    sm, lsm, lse = [], [], []
    for _, r in rows:
        a, b, c = _softmax_exact(r)
        sm += a
        lsm += b
        lse.append(c)
    ex_lse = ref.split(lse)
    # logsumexp = max + log(sum) can cancel to ~0: judged in ULPs of max(|value|, 1)
    ex_lse = ref.ExactValues(ex_lse.hi, ex_lse.lo, ex_lse.shift, np.ones(len(lse)))
    return rows, {"softmax": ref.split(sm), "log_softmax": ref.split(lsm), "logsumexp": ex_lse}


def _np_softmax(x):
    e = np.exp(x - x.max())
    return e / e.sum()


def _np_log_softmax(x):
    z = x - x.max()
    return z - np.log(np.sum(np.exp(z)))


def _np_logsumexp(x):
    m = x.max()
    return m + np.log(np.sum(np.exp(x - m)))


def _softmax_fn(contender, function):
    if contender == "actgrad":
        return getattr(ag, function)
    if contender == "numpy":
        return {"softmax": _np_softmax, "log_softmax": _np_log_softmax, "logsumexp": _np_logsumexp}[function]
    if contender == "scipy":
        special = optional("scipy.special")
        if special is None:
            raise Skip("not installed")
        return getattr(special, function)
    if contender == "torch":
        torch = optional("torch")
        if torch is None:
            raise Skip("not installed")
        fn = {"softmax": torch.softmax, "log_softmax": torch.log_softmax, "logsumexp": torch.logsumexp}[function]
        return lambda x: fn(torch.from_numpy(np.array(x)), -1).numpy()
    raise Skip(f"no {function}")


def softmax_cells(dtype, rows, exact, args):
    cells = {}
    for function in SOFTMAX_FAMILY:
        for contender in SOFTMAX_CONTENDERS:
            if contender == "torch" and args.no_torch:
                cells[function, contender] = Cell("skipped", "--no-torch")
                continue
            try:
                fn = _softmax_fn(contender, function)
                with np.errstate(all="ignore"), warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    out = [np.asarray(fn(r.copy())) for _, r in rows]
            except Skip as why:
                cells[function, contender] = Cell("skipped", str(why))
                continue
            except Exception as exc:
                cells[function, contender] = Cell("error", f"{type(exc).__name__}: {exc}")
                continue
            got = np.concatenate([o.ravel() for o in out])
            # the "input" of each value is its row's index
            index = np.arange(len(rows)) if function == "logsumexp" else \
                np.repeat(np.arange(len(rows)), [len(r) for _, r in rows])
            cell = judge(got, index, exact[function], dtype)
            if cell.worst:
                i = int(cell.worst[0])
                cell.worst = (f"row {rows[i][0]}", cell.worst[1], cell.worst[2])
            cells[function, contender] = cell
    return cells


# ---------------------------------------------------------------- formatting

def fmt_ulp(v):
    if math.isnan(v):
        return "-"
    if math.isinf(v):
        return "inf"
    if v == 0:
        return "0"
    if v < 0.01:
        return "<0.01"
    if v < 1:
        return f"{v:.2g}"
    if v < 10:
        return f"{v:.3g}"
    if v < 1000:
        return f"{v:.0f}"
    m, e = f"{v:.1e}".split("e")
    return f"{m}e{int(e)}"


def fmt_cell(cell):
    if cell.status == "skipped":
        return "skip"
    if cell.status == "error":
        return "error"
    mark = ("\u2020" if cell.note else "") + ("*" if cell.at_inf else "")
    return f"{fmt_ulp(cell.max)} ({fmt_ulp(cell.median)}){mark}"


def loss_rows(cells):
    """Table rows of the losses section: `max (median)` ULP per function and contender."""
    rows = []
    for function in accuracy_losses.FUNCTIONS:
        row = [function]
        for who in accuracy_losses.CONTENDERS:
            e = cells.get((function, who))
            row.append("-" if e is None else f"{fmt_ulp(float(np.max(e)))} ({fmt_ulp(float(np.median(e)))})")
        rows.append(row)
    return rows


LOSSES_NOTE = (
    "The maxima of all three contenders come from results far smaller than the numbers they "
    "are computed from, where a formula that subtracts nearly equal values keeps no relative "
    "accuracy (the absolute error stays at the rounding error of those values): the loss of "
    "a sample whose target logit dominates (`log(s) - z_t` with `s` within an ULP of 1; the "
    "exact loss is e^-40 and every contender returns 0) and its gradient (`e^z_t / s - 1`), "
    "binary cross-entropy `(1 - t) z + log(1 + e^-z)` at a large negative `z` with `t = 0` "
    "(2.5e-32, computed as 0), and its gradient `sigmoid(z) - t` at a large `z` with `t = 1`. "
    "Away from those cases the medians are about half an ULP. The means are accumulated in "
    "double (docs/losses.md), so actgrad's float32 means are within an ULP where NumPy's "
    "pairwise float32 sum is not."
)


def fmt_value(v, digits=17):
    """A result (a NumPy scalar: its shortest repr in its dtype) or an exact value (a float:
    ``digits`` significant digits)."""
    if isinstance(v, str):
        return v
    if isinstance(v, np.generic):
        return str(v)
    return f"{v:.{digits}g}"


def _digits(dtype_name):
    return 9 if dtype_name == "float32" else 17


def text_table(header, rows):
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]

    def line(r):
        return "  ".join(str(c).ljust(w) if i < 2 else str(c).rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
    return "\n".join([line(header), "  ".join("-" * w for w in widths)] + [line(r) for r in rows])


def md_table(header, rows, align=None):
    align = align or ["---"] * len(header)
    out = ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def _best_and_worst(cells):
    """(best, worst) peer cells' text: the max ULP and who has it ('all' when every peer
    measured ties), or None when no peer has the function."""
    ok = {peer: c.max for peer, c in cells.items() if peer != "actgrad" and c.status == "ok"}
    if not ok:
        return None, None

    def who(value):
        names = [peer for peer, v in ok.items() if v == value]
        return "all" if len(names) == len(ok) > 1 else ", ".join(names)
    lo, hi = min(ok.values()), max(ok.values())
    return f"{fmt_ulp(lo)} ({who(lo)})", f"{fmt_ulp(hi)} ({who(hi)})"


def summary_rows(results, dtypes):
    """function, call, then per dtype: actgrad max, best peer max (peer), worst peer max (peer)."""
    keys = list(dict.fromkeys((label, call) for (label, call, _) in results))
    out = []
    for label, call in keys:
        r = [label, CALL_LABEL.get(call, call)]
        for dtype in dtypes:
            cells = results.get((label, call, np.dtype(dtype).name))
            if cells is None:
                r += ["-", "-", "-"]
                continue
            best, worst = _best_and_worst(cells)
            r.append(fmt_ulp(cells["actgrad"].max) if cells["actgrad"].status == "ok" else cells["actgrad"].status)
            r += [best or "-", worst or "-"]
        out.append(r)
    return out


def detail_lines(results, threshold=DETAIL_ULP):
    """The worst point of every cell over the threshold, contenders with the same worst point
    on one line."""
    groups = {}
    for (label, call, dtype_name), cells in results.items():
        for contender, cell in cells.items():
            if cell.status != "ok" or not cell.max > threshold:
                continue
            x, got, exact = cell.worst
            arg = "y" if call == "derivative_from_output" else "x"
            where = x if isinstance(x, str) else f"{arg} = {fmt_value(x)}"
            extra = f" ({cell.nonfinite} of {cell.n} points with an infinite error)" if cell.nonfinite else ""
            key = (f"{dtype_name} {label} {CALL_LABEL.get(call, call)}",
                   f"{fmt_ulp(cell.max)} ULP at {where}: got {fmt_value(got)}, exact "
                   f"{fmt_value(exact, _digits(dtype_name))}{extra}")
            groups.setdefault(key, []).append(contender)
    return [f"{what}, {', '.join(who)}: {text}" for (what, text), who in groups.items()]


def _point_lines(results, points, what_value):
    """Lines for special inputs (points(cell) -> [(input, result, value)]), grouped over
    contenders and dtypes."""
    found = {}
    for (label, call, dtype_name), cells in results.items():
        arg = "y" if call == "derivative_from_output" else "x"
        per_point = {}
        for contender, cell in cells.items():
            if cell.status == "ok":
                for x, got, value in points(cell):
                    key = (f"{label} {CALL_LABEL.get(call, call)} at {arg} = {fmt_value(x)}",
                           f"{fmt_value(got)} ({what_value} {fmt_value(value, _digits(dtype_name))})")
                    per_point.setdefault(key, {})[contender] = None
        for (what, text), who in per_point.items():
            found.setdefault((what, text, ", ".join(who)), {})[dtype_name] = None
    return [f"{what}: {text} from {who} ({', '.join(dtypes)})" for (what, text, who), dtypes in found.items()]


def limit_lines(results):
    """The +-inf inputs where a contender gives NaN for a finite limit."""
    return _point_lines(results, lambda cell: cell.at_inf, "limit")


def kink_lines(results):
    """The corners where a contender's f' is not docs/api.md's (PyTorch's) convention."""
    return _point_lines(results, lambda cell: cell.at_kinks, "docs/api.md:")


def notes_lines(results):
    seen = []
    for (label, call, dtype_name), cells in results.items():
        for contender, cell in cells.items():
            if cell.note and cell.status != "skipped":
                seen.append(f"{dtype_name} {label} {CALL_LABEL.get(call, call)}, {contender}: {cell.note}")
    return seen


def skipped_lines(results):
    """contender (reason): the functions (all their calls) or the function calls skipped."""
    by_reason, calls_of = {}, {}
    for (label, call, _), cells in results.items():
        for contender, cell in cells.items():
            calls_of.setdefault((contender, label), set()).add(call)
            if cell.status == "skipped":
                by_reason.setdefault((contender, cell.note), {}).setdefault(label, set()).add(call)
    lines = []
    for (contender, note), labels in by_reason.items():
        what = [label if calls == calls_of[contender, label] else
                ", ".join(f"{label} {CALL_LABEL.get(c, c)}" for c in CALL_LABEL if c in calls)
                for label, calls in labels.items()]
        lines.append(f"{contender} ({note}): {', '.join(what)}")
    return lines


def _version(name):
    module = optional(name)
    return getattr(module, "__version__", "unknown") if module else None


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine(args):
    cfg = ag.config()
    versions = {"actgrad": cfg["version"], "numpy": np.__version__, "scipy": _version("scipy"),
                "numexpr": _version("numexpr"), "mpmath": ref.mpmath.__version__,
                "torch": None if args.no_torch else _version("torch")}
    return {
        "cpu": _cpu_model(), "cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "platform": platform.platform(), "python": platform.python_version(), "simd": cfg["simd"],
        "simd_supported": cfg["simd_supported"], "versions": versions,
    }


NOTES_MD = """\
## How the error is measured

* **ULP error** = |result - exact| / ulp(exact): `exact` is the mathematical value at the
  input float (mpmath at 50 digits, `tests/mpmath_reference.py`, stored as a double-double),
  `ulp` the spacing of the dtype at `exact` (the subnormal spacing below the normal range, so
  a result that underflows to 0 where the exact value is a subnormal is judged in subnormal
  steps, and one that flushes a normal value to 0 is off by 2^23 to 2^24 (float32) or 2^52
  to 2^53 (float64) ULP). A correctly rounded result has error <= 0.5. NaN where the exact value is
  NaN, and +-inf where it overflows the dtype, count as 0; a NaN or an infinity anywhere
  else is an infinite error (`inf`).
* **Points**: the grid `tests/test_activations.py` checks actgrad's bounds on
  (`x_grid`/`y_grid` in `tests/mpmath_reference.py`): zeros, subnormals, random bit
  patterns, magnitudes log-uniform from the smallest subnormal to the largest float, +-max,
  +-inf, uniform bands (|x| <= 8, and up to 110 (float32) / 760 (float64)), the tails where
  the result is tiny or saturates, and the neighbourhood of every kink, threshold and
  interior root — a few thousand points per function, call and dtype. Parameters are
  PyTorch's defaults, rounded to the dtype (what every contender computes with).
* **Largest term**: silu', gelu', mish' and hardswish' are sums of two terms that cancel at
  the root of f' (x ~ -1.28 for silu, -0.75 for gelu, -1.19 for mish); there the relative
  error of any formula evaluated in the dtype's precision is unbounded, so these
  derivatives are judged in ULPs of max(|f'(x)|, |largest term|), for every contender alike.
* **f'** is also the error of `f_backward`: actgrad's backward is dy * f'(x) rounded once
  (tested bitwise), and a peer's autograd backward with dy = 1 is its f'. PyTorch's f' is
  what autograd gives: `x.requires_grad_(); f(x).backward(torch.ones_like(x)); x.grad`. For
  sigmoid and tanh autograd computes it from the saved output y (`sigmoid_backward`,
  `tanh_backward`: y(1-y), 1-y^2), which is where their errors of up to 2^24 (float32) and
  2^53 (float64) ULP for large |x| come from: once y rounds to +-1, f' is 0 (see "From y,
  against f'(x)"). softsign has no backward op (autograd differentiates x/(1+|x|) term by
  term).
* **f' from y** (`f_derivative_from_output(y)`) is judged against its own formula evaluated
  exactly in y (sigmoid y(1-y), tanh 1-y^2, softplus 1-exp(-y) ..., docs/api.md section 2): the
  error of the kernel, not of the shortcut. The shortcut itself loses accuracy where f
  saturates: once y rounds to 1, y(1-y) is 0 however small the true f'(x). The table
  "From y, against f'(x)" shows that cost: actgrad's `f_derivative_from_output(f(x))` on the
  x grid, judged against f'(x). Use the from-x calls where the tails matter.
* Cells read `max (median)` in ULPs over the grid; `*` = NaN at x = +-inf where the limit is
  a number (listed below, and left out of the max); `skip` = the peer has no such function
  (or is not installed); `†` = see the notes. At the corners of relu, relu6, leaky_relu,
  selu, hardtanh, hardsigmoid and hardswish f' is a convention (docs/api.md: PyTorch's), checked
  by the tests and left out here (contenders that differ there are listed below).
* NumPy's and numexpr's softplus use PyTorch's threshold (x where beta*x > 20), so that every
  contender computes the same function.
"""


def write_markdown(path, args, info, results, bounds, composite, softmax_results, loss_results, dtypes,
                   elapsed):
    cmd = "python bench/accuracy.py" + (" " + " ".join(shlex.quote(a) for a in args.argv) if args.argv else "")
    v = info["versions"]
    lines = [
        "# Accuracy: actgrad and its peers against mpmath",
        "",
        "Generated by `" + cmd + "` (do not edit by hand; rerun the command to regenerate).",
        "",
        f"* Date: {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}; "
        f"run time {elapsed:.0f} s",
        f"* Machine: {info['cpu']}, {info['cpus']} CPUs; {info['platform']}",
        f"* actgrad SIMD path: `{info['simd']}` (supported here: {', '.join(info['simd_supported'])})",
        "* Versions: " + ", ".join(f"{k} {val}" if val else f"{k} (not installed)" for k, val in v.items())
        + f", Python {info['python']}",
        f"* Grid: `x_grid`/`y_grid` of `tests/mpmath_reference.py` (the tests' points), density "
        f"{args.density}{', every 4th point (--quick)' if args.quick else ''}: "
        f"{sum(c['actgrad'].n for c in results.values())} points over {len(results)} function calls "
        f"and dtypes",
        "* Errors are in ULPs of the result's dtype against exact values, `max (median)` over "
        "the whole float range (`*`: NaN at x = +-inf where the limit is a number, left out of the max). "
        "Figures can change with the machine (SIMD path, math library) and the peers' versions.",
        "",
        "## Summary: the largest error of actgrad and of its best and worst peer",
        "",
    ]
    head = ["function", "call"]
    for d in dtypes:
        n = np.dtype(d).name
        head += [f"{n} actgrad", f"{n} best peer", f"{n} worst peer"]
    lines += [md_table(head, summary_rows(results, dtypes)), ""]
    for dtype in dtypes:
        name = np.dtype(dtype).name
        rows = [[label, CALL_LABEL[call], bounds[label, call, dn]] + [fmt_cell(cells[c]) for c in CONTENDERS]
                for (label, call, dn), cells in results.items() if dn == name]
        if not rows:
            continue
        lines += [f"## {name}: elementwise activations", "",
                  "`max (median)` ULP; *bound*: actgrad's promised (and tested) maximum.", "",
                  md_table(["function", "call", "bound"] + list(CONTENDERS), rows), ""]
    if composite:
        lines += ["## From y, against f'(x)", "",
                  "actgrad's `f_derivative_from_output(f(x))` on the x grid, judged against f'(x) "
                  "(compare with actgrad's f' from x in the tables above): the cost of the "
                  "from-output shortcut. It is exact for relu, relu6, leaky_relu and hardtanh and "
                  "within a few ULP for log_sigmoid; sigmoid, tanh, elu, celu, selu and softsign "
                  "lose everything once f saturates (y rounds to its limit and f' to 0, or, for "
                  "selu, to the rounding error of the limit), hardsigmoid where y rounds to 1 just "
                  "below x = 3, softplus (float64) just below its threshold, where y = x + log1p(e^-x) "
                  "keeps too few digits of e^-x. PyTorch's autograd takes this shortcut for sigmoid "
                  "and tanh.", ""]
        head = ["function"] + [f"{np.dtype(d).name} max (median)" for d in dtypes]
        rows = []
        for label in dict.fromkeys(k[0] for k in composite):
            rows.append([label] + [fmt_cell(composite[label, np.dtype(d).name])
                                   if (label, np.dtype(d).name) in composite else "-" for d in dtypes])
        lines += [md_table(head, rows), ""]
    if softmax_results:
        lines += ["## Softmax family", "",
                  "Forward values on random rows (lengths 1 to 1000, scales 0.1 to 30) and adversarial "
                  "rows (a dominant logit with subnormal probabilities, rows offset by 1e4, ties, "
                  "+-1e30, +-max, a -inf logit, 2 logits 30 apart); softmax and log_softmax judged "
                  "per element, logsumexp per row in ULPs of max(|value|, 1) (it cancels to ~0 when "
                  "the row is uniform at -log n). NumPy: `e = np.exp(x - x.max()); e / e.sum()`, "
                  "`z - np.log(np.sum(np.exp(z)))`, `m + np.log(np.sum(np.exp(x - m)))`.", ""]
        head = ["function"] + [f"{np.dtype(d).name} {c}" for d in dtypes for c in SOFTMAX_CONTENDERS]
        rows = []
        for function in SOFTMAX_FAMILY:
            r = [function]
            for d in dtypes:
                cells = softmax_results.get(np.dtype(d).name, {})
                r += [fmt_cell(cells[function, c]) if (function, c) in cells else "-" for c in SOFTMAX_CONTENDERS]
            rows.append(r)
        lines += [md_table(head, rows), ""]
        family = {}
        for dn, cells in softmax_results.items():
            for (function, c), cell in cells.items():
                family.setdefault((function, "forward", dn), {})[c] = cell
        worst = detail_lines(family, SOFTMAX_DETAIL_ULP)
        if worst:
            lines += [f"Worst points (errors over {SOFTMAX_DETAIL_ULP:g} ULP):", ""]
            lines += [f"* {t}" for t in worst] + [""]
    if loss_results:
        lines += ["## Losses", "", accuracy_losses.DESCRIPTION, ""]
        for name, cells in loss_results.items():
            lines += [f"{name}, `max (median)` ULP:", "",
                      md_table(["function", *accuracy_losses.CONTENDERS], loss_rows(cells)), ""]
        lines += [LOSSES_NOTE, ""]
    lines.append(NOTES_MD)
    all_results = dict(results)
    for (label, dn), cell in composite.items():
        all_results[label, "from_output_of_f", dn] = {"actgrad": cell}
    details = detail_lines(all_results)
    if details:
        lines += [f"## Worst points (errors over {DETAIL_ULP:g} ULP)", ""] + [f"* {d}" for d in details] + [""]
    limits = limit_lines(all_results)
    if limits:
        lines += ["## Limits at \u00b1inf (*)", "",
                  "Where a contender gives NaN at an infinite input whose limit is a number "
                  "(these inputs are left out of the max above):", ""]
        lines += [f"* {t}" for t in limits] + [""]
    corners = kink_lines(all_results)
    if corners:
        lines += ["## Derivatives at the corners", "",
                  "Where f has a corner, f' is a convention (docs/api.md: PyTorch's); those inputs are "
                  f"left out of the tables above. Contenders that use another one (more than "
                  f"{KINK_ULP:g} ULP from it):", ""]
        lines += [f"* {t}" for t in corners] + [""]
    notes = notes_lines(all_results)
    if notes:
        lines += ["## Notes (\u2020)", ""] + [f"* {n}" for n in notes] + [""]
    skipped = skipped_lines(all_results)
    if skipped:
        lines += ["## Skipped", ""] + [f"* {t}" for t in skipped] + [""]
    # the exhaustive float32 section comes from tools/exhaustive_f32.py (minutes to hours of
    # machine time, not rerun here): kept as it is when the report is regenerated
    out = pathlib.Path(path)
    old = out.read_text() if out.exists() else ""
    kept = old[old.index(EXHAUSTIVE_HEADING):] if EXHAUSTIVE_HEADING in old else ""
    out.write_text("\n".join(lines).rstrip("\n") + "\n" + ("\n" + kept if kept else ""))


# ---------------------------------------------------------------- main

def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="every 4th grid point (and all infinities, zeros)")
    p.add_argument("--functions", default="",
                   help="comma-separated activations (table names), softmax family functions and 'losses'; default all")
    p.add_argument("--density", type=int, default=1,
                   help="grid density (1: the tests' grid, the default; 8: their -m slow sweep)")
    p.add_argument("--no-torch", action="store_true", help="do not import PyTorch")
    p.add_argument("--output", default=str(ROOT / "docs" / "accuracy.md"),
                   help="markdown report (default docs/accuracy.md; '-' for none)")
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    p.add_argument("--jobs", type=int, default=min(2, cpus), help="processes for the mpmath values (default 2)")
    args = p.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    known = {a.name for a in ACTIVATIONS} | set(SOFTMAX_FAMILY) | {"losses"}
    args.selected = [f.strip() for f in args.functions.split(",") if f.strip()]
    unknown = [f for f in args.selected if f not in known]
    if unknown:
        p.error(f"unknown functions {unknown}; choose from {sorted(known)}")
    return args


def progress(label):
    start = time.perf_counter()

    def step(i, n):
        if sys.stderr.isatty() or i == n:
            end = "\n" if i == n else ""
            print(f"\r{label}: {i}/{n} ({time.perf_counter() - start:.0f} s)", end=end, file=sys.stderr, flush=True)
    return step


def main(argv=None):
    args = parse_args(argv)
    t0 = time.perf_counter()
    wanted = set(args.selected)
    rows = [r for r in table_rows() if not wanted or r.name in wanted]
    family = [f for f in SOFTMAX_FAMILY if not wanted or f in wanted]
    tasks = [(row, call, np.dtype(d).name, args.quick, args.density)
             for row in rows for call in row.calls for d in DTYPES]
    exact = exact_values(tasks, args.jobs, progress("exact values (mpmath)"))

    results, bounds, composite = {}, {}, {}
    step = progress("contenders")
    for i, task in enumerate(tasks):
        row, call, dtype_name = task[:3]
        dtype = np.dtype(dtype_name).type
        points, ex = exact[task]
        bounds[row.label, call, dtype_name] = f"{row.bound(call, dtype_name):g}"
        results[row.label, call, dtype_name] = {
            c: measure(c, row, call, dtype, points, ex, args) for c in CONTENDERS}
        if call == "derivative" and "derivative_from_output" in row.calls:
            composite[row.label, dtype_name] = composite_from_output(row, dtype, points, ex)
        step(i + 1, len(tasks))

    softmax_results = {}
    if family:
        for dtype in DTYPES:
            sm_rows, sm_exact = softmax_exact(dtype)
            cells = softmax_cells(dtype, sm_rows, sm_exact, args)
            softmax_results[np.dtype(dtype).name] = {k: v for k, v in cells.items() if k[0] in family}
    loss_results = {}
    if not wanted or "losses" in wanted:
        torch = None if args.no_torch else optional("torch")
        for dtype in DTYPES:
            loss_results[np.dtype(dtype).name] = accuracy_losses.loss_cells(dtype, torch)
    elapsed = time.perf_counter() - t0
    info = machine(args)

    print(f"\nactgrad {info['versions']['actgrad']}, SIMD {info['simd']}, {info['cpu']}; "
          f"ULP errors against mpmath, max (median)")
    for dtype in DTYPES:
        name = np.dtype(dtype).name
        table = [[label, CALL_LABEL[call], bounds[label, call, dn]] + [fmt_cell(cells[c]) for c in CONTENDERS]
                 for (label, call, dn), cells in results.items() if dn == name]
        if table:
            print(f"\n{name}\n" + text_table(["function", "call", "bound", *CONTENDERS], table))
        cells = softmax_results.get(name)
        if cells:
            table = [[f, "f", ""] + [fmt_cell(cells[f, c]) for c in SOFTMAX_CONTENDERS] for f in family]
            print(f"\n{name} softmax family\n" + text_table(["function", "call", "", *SOFTMAX_CONTENDERS], table))
    if composite:
        print("\nactgrad f' from y at y = f(x), against f'(x)")
        print(text_table(["function", "dtype", "max (median)"],
                         [[label, dn, fmt_cell(c)] for (label, dn), c in composite.items()]))
    for name, cells in loss_results.items():
        print(f"\n{name} losses\n" + text_table(["function", *accuracy_losses.CONTENDERS],
                                                  loss_rows(cells)))
    skipped = skipped_lines(results)
    if skipped:
        print("\nskipped: " + "; ".join(skipped))
    if args.output != "-":
        write_markdown(args.output, args, info, results, bounds, composite, softmax_results, loss_results, DTYPES,
                       elapsed)
        print(f"\nwrote {args.output}")
    print(f"{elapsed:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
