"""The elementwise activations' benchmark cases.

Every row of actgrad's table (``src/actgrad/_optable.py``; each choice of a choice
parameter, e.g. ``gelu_tanh`` for ``gelu(approximate='tanh')``, is its own row) and each of
its calls (forward, derivative, backward, and the from-output pair where the table has it),
at the table's default parameters, against the same function written as its users write it
in pure Python (``math`` in a list comprehension), NumPy, SciPy, numexpr and PyTorch.
A peer's backward is ``dy * f'`` computed its own way; PyTorch's is the ATen backward op that
its autograd runs (from y where autograd saves y), or autograd itself where no op exists.
"""
import functools
import math
from dataclasses import dataclass

import numpy as np

import actgrad as ag
from actgrad._optable import ACTIVATIONS, SELU_ALPHA as A, SELU_SCALE as S
from actgrad.ufuncs import ARRAYS, public_name
from common import Case, Contenders, fmt_size, optional, selected, sizes

FAMILY = "activations"
QUICK = ("sigmoid", "relu", "gelu", "silu", "tanh", "softplus")
QUICK_CALLS = ("forward", "backward")
PYTHON_MAX = 100_000     # pure Python only up to this size (about 0.1 s a call; the sigmoid goal is at 1e5)
SCALE = 4.0              # x = 4 * N(0, 1): the kinks, both tails and saturation all occur
SQRT2, SQRT2PI = math.sqrt(2.0), math.sqrt(2.0 * math.pi)
K, C = math.sqrt(2.0 / math.pi), 0.044715   # gelu's tanh form


class Out:
    """Marks a forward formula that is one call taking ``out=`` (a ufunc, np.clip,
    torch.sigmoid): it gets a preallocated output, as actgrad does."""

    def __init__(self, fn):
        self.fn = fn


@dataclass(frozen=True)
class Forms:
    """One peer's formulas for one kernel: f(x), f'(x), f'(x) from y = f(x) (None where the
    peer has none), and the backward calls where a user writes them other than dy * f'.
    Formulas are callables (Python on floats, NumPy/SciPy on arrays) or numexpr strings."""
    forward: object
    derivative: object = None
    from_output: object = None
    backward: object = None
    backward_from_output: object = None

    def formula(self, call):
        """The formula of one call, taking the call's arrays and then the parameters."""
        base = {"forward": self.forward, "derivative": self.derivative,
                "backward": self.derivative, "derivative_from_output": self.from_output,
                "backward_from_output": self.from_output}[call]
        if base is None or not call.startswith("backward"):
            return base
        explicit = self.backward if call == "backward" else self.backward_from_output
        if explicit is not None:
            return explicit
        if isinstance(base, str):
            return f"dy * ({base})"
        return lambda dy, v, **p: dy * base(v, **p)


# ---------------------------------------------------------------- pure Python

def _sig(v):
    return 1.0 / (1.0 + math.exp(-v))


def _py_gelu_tanh(v):
    return 0.5 * v * (1.0 + math.tanh(K * (v + C * v ** 3)))


def _py_gelu_tanh_derivative(v):
    t = math.tanh(K * (v + C * v ** 3))
    return 0.5 * (1.0 + t) + 0.5 * v * (1.0 - t * t) * K * (1.0 + 3.0 * C * v * v)


def _py_mish_derivative(v):
    t = math.tanh(math.log1p(math.exp(v)))
    return t + v * _sig(v) * (1.0 - t * t)


def _py_inside(v, lo, hi):
    return 1.0 if lo < v < hi else 0.0


PYTHON = {
    "sigmoid": Forms(_sig, lambda v: (s := _sig(v)) * (1.0 - s), lambda y: y * (1.0 - y)),
    "tanh": Forms(math.tanh, lambda v: 1.0 - math.tanh(v) ** 2, lambda y: 1.0 - y * y),
    "relu": Forms(lambda v: v if v > 0 else 0.0, lambda v: 1.0 if v > 0 else 0.0,
                  lambda y: 1.0 if y > 0 else 0.0),
    "relu6": Forms(lambda v: min(max(v, 0.0), 6.0), lambda v: _py_inside(v, 0.0, 6.0),
                   lambda y: _py_inside(y, 0.0, 6.0)),
    "leaky_relu": Forms(lambda v, negative_slope: v if v > 0 else negative_slope * v,
                        lambda v, negative_slope: 1.0 if v > 0 else negative_slope,
                        lambda y, negative_slope: 1.0 if y > 0 else negative_slope),
    "elu": Forms(lambda v, alpha: v if v > 0 else alpha * math.expm1(v),
                 lambda v, alpha: 1.0 if v > 0 else alpha * math.exp(v),
                 lambda y, alpha: 1.0 if y > 0 else y + alpha),
    "selu": Forms(lambda v: S * (v if v > 0 else A * math.expm1(v)),
                  lambda v: S if v > 0 else S * A * math.exp(v),
                  lambda y: S if y > 0 else y + S * A),
    "celu": Forms(lambda v, alpha: v if v > 0 else alpha * math.expm1(v / alpha),
                  lambda v, alpha: 1.0 if v > 0 else math.exp(v / alpha),
                  lambda y, alpha: 1.0 if y > 0 else 1.0 + y / alpha),
    "softplus": Forms(
        lambda v, beta, threshold: v if beta * v > threshold else math.log1p(math.exp(beta * v)) / beta,
        lambda v, beta, threshold: 1.0 if beta * v > threshold else _sig(beta * v),
        lambda y, beta, threshold: 1.0 if beta * y > threshold else -math.expm1(-beta * y)),
    "log_sigmoid": Forms(lambda v: min(v, 0.0) - math.log1p(math.exp(-abs(v))),
                         lambda v: _sig(-v), lambda y: -math.expm1(y)),
    "silu": Forms(lambda v: v * _sig(v), lambda v: (s := _sig(v)) * (1.0 + v * (1.0 - s))),
    "gelu": Forms(lambda v: 0.5 * v * (1.0 + math.erf(v / SQRT2)),
                  lambda v: 0.5 * (1.0 + math.erf(v / SQRT2)) + v * math.exp(-0.5 * v * v) / SQRT2PI),
    "gelu_tanh": Forms(_py_gelu_tanh, _py_gelu_tanh_derivative),
    "mish": Forms(lambda v: v * math.tanh(math.log1p(math.exp(v))), _py_mish_derivative),
    "hardtanh": Forms(lambda v, min_val, max_val: min(max(v, min_val), max_val),
                      lambda v, min_val, max_val: _py_inside(v, min_val, max_val),
                      lambda y, min_val, max_val: _py_inside(y, min_val, max_val)),
    "hardsigmoid": Forms(lambda v: min(max(v + 3.0, 0.0), 6.0) / 6.0,
                         lambda v: 1.0 / 6.0 if -3 < v < 3 else 0.0,
                         lambda y: 1.0 / 6.0 if 0 < y < 1 else 0.0),
    "hardswish": Forms(lambda v: v * min(max(v + 3.0, 0.0), 6.0) / 6.0,
                       lambda v: 0.0 if v < -3 else 1.0 if v > 3 else (2.0 * v + 3.0) / 6.0),
    "softsign": Forms(lambda v: v / (1.0 + abs(v)), lambda v: 1.0 / (1.0 + abs(v)) ** 2,
                      lambda y: (1.0 - abs(y)) ** 2),
}


# ---------------------------------------------------------------- NumPy

def _mask_forms(forward, mask):
    """Forms of a function whose derivative is 1 where mask(v) holds, else 0, in x and in y:
    f' as the mask in the array's dtype, dy * f' as dy * mask."""
    def derivative(v, **p):
        return mask(v, **p).astype(v.dtype)

    def backward(dy, v, **p):
        return dy * mask(v, **p)
    return Forms(forward, derivative, derivative, backward, backward)


@functools.cache
def _numpy_forms():
    """NumPy as a user writes it; gelu's erf from SciPy when it is installed."""
    special = optional("scipy.special")
    erf = special.erf if special else np.vectorize(math.erf, otypes=[float])

    def sig(x):
        return 1 / (1 + np.exp(-x))

    def inside(v, lo, hi):
        return (v > lo) & (v < hi)
    return {
        "sigmoid": Forms(sig, lambda x: (s := sig(x)) * (1 - s), lambda y: y * (1 - y)),
        "tanh": Forms(Out(np.tanh), lambda x: 1 - np.tanh(x) ** 2, lambda y: 1 - y * y),
        "relu": _mask_forms(Out(lambda x, out: np.maximum(x, 0, out=out)), lambda v: v > 0),
        "relu6": _mask_forms(Out(lambda x, out: np.clip(x, 0, 6, out=out)), lambda v: inside(v, 0, 6)),
        "leaky_relu": Forms(
            lambda x, negative_slope: np.where(x > 0, x, negative_slope * x),
            lambda x, negative_slope: np.where(x > 0, 1, negative_slope).astype(x.dtype),
            lambda y, negative_slope: np.where(y > 0, 1, negative_slope).astype(y.dtype),
            lambda dy, x, negative_slope: np.where(x > 0, dy, negative_slope * dy),
            lambda dy, y, negative_slope: np.where(y > 0, dy, negative_slope * dy)),
        "elu": Forms(lambda x, alpha: np.where(x > 0, x, alpha * np.expm1(x)),
                     lambda x, alpha: np.where(x > 0, 1, alpha * np.exp(x)),
                     lambda y, alpha: np.where(y > 0, 1, y + alpha)),
        "selu": Forms(lambda x: S * np.where(x > 0, x, A * np.expm1(x)),
                      lambda x: np.where(x > 0, S, S * A * np.exp(x)),
                      lambda y: np.where(y > 0, S, y + S * A)),
        "celu": Forms(lambda x, alpha: np.where(x > 0, x, alpha * np.expm1(x / alpha)),
                      lambda x, alpha: np.where(x > 0, 1, np.exp(x / alpha)),
                      lambda y, alpha: np.where(y > 0, 1, 1 + y / alpha)),
        "softplus": Forms(lambda x, beta, threshold: np.logaddexp(0, beta * x) / beta,
                          lambda x, beta, threshold: sig(beta * x),
                          lambda y, beta, threshold: -np.expm1(-beta * y)),
        "log_sigmoid": Forms(lambda x: -np.logaddexp(0, -x), lambda x: sig(-x), lambda y: -np.expm1(y)),
        "silu": Forms(lambda x: x * sig(x), lambda x: (s := sig(x)) * (1 + x * (1 - s))),
        "gelu": Forms(lambda x: 0.5 * x * (1 + erf(x / SQRT2)),
                      lambda x: 0.5 * (1 + erf(x / SQRT2)) + x * np.exp(-0.5 * x * x) / SQRT2PI),
        "gelu_tanh": Forms(
            lambda x: 0.5 * x * (1 + np.tanh(K * (x + C * x ** 3))),
            lambda x: 0.5 * (1 + (t := np.tanh(K * (x + C * x ** 3))))
            + 0.5 * x * (1 - t * t) * K * (1 + 3 * C * x * x)),
        "mish": Forms(lambda x: x * np.tanh(np.logaddexp(0, x)),
                      lambda x: (t := np.tanh(np.logaddexp(0, x))) + x * sig(x) * (1 - t * t)),
        "hardtanh": _mask_forms(Out(lambda x, min_val, max_val, out: np.clip(x, min_val, max_val, out=out)),
                                lambda v, min_val, max_val: inside(v, min_val, max_val)),
        "hardsigmoid": Forms(lambda x: np.clip(x + 3, 0, 6) / 6,
                             lambda x: np.where(inside(x, -3, 3), 1 / 6, 0).astype(x.dtype),
                             lambda y: np.where(inside(y, 0, 1), 1 / 6, 0).astype(y.dtype),
                             lambda dy, x: np.where(inside(x, -3, 3), dy / 6, 0),
                             lambda dy, y: np.where(inside(y, 0, 1), dy / 6, 0)),
        "hardswish": Forms(lambda x: x * np.clip(x + 3, 0, 6) / 6,
                           lambda x: np.where(x < -3, 0, np.where(x > 3, 1, (2 * x + 3) / 6))),
        "softsign": Forms(lambda x: x / (1 + np.abs(x)), lambda x: 1 / (1 + np.abs(x)) ** 2,
                          lambda y: (1 - np.abs(y)) ** 2),
    }


@functools.cache
def _scipy_forms(special):
    """SciPy's special functions where one is the activation (or its core)."""
    return {
        "sigmoid": Forms(Out(special.expit), lambda x: (s := special.expit(x)) * (1 - s)),
        "log_sigmoid": Forms(Out(special.log_expit), lambda x: special.expit(-x)),
        "silu": Forms(lambda x: x * special.expit(x),
                      lambda x: (s := special.expit(x)) * (1 + x * (1 - s))),
        "gelu": Forms(lambda x: x * special.ndtr(x),
                      lambda x: special.ndtr(x) + x * np.exp(-0.5 * x * x) / SQRT2PI),
    }


# ---------------------------------------------------------------- numexpr

# Float constants enter as variables of the case's dtype: a float literal makes numexpr
# compute a float32 expression in float64.
NUMEXPR_CONSTANTS = {"one": 1.0, "half": 0.5, "sixth": 1.0 / 6.0, "A": A, "S": S, "K": K, "C": C}
NUMEXPR = {
    "sigmoid": Forms("1 / (1 + exp(-x))", "exp(-x) / (1 + exp(-x))**2", "y * (1 - y)"),
    "tanh": Forms("tanh(x)", "1 - tanh(x)**2", "1 - y * y"),
    "relu": Forms("where(x > 0, x, 0)", "where(x > 0, one, 0)", "where(y > 0, one, 0)"),
    "relu6": Forms("where(x < 0, 0, where(x > 6, 6, x))", "where((x > 0) & (x < 6), one, 0)",
                   "where((y > 0) & (y < 6), one, 0)"),
    "leaky_relu": Forms("where(x > 0, x, negative_slope * x)", "where(x > 0, one, negative_slope)",
                        "where(y > 0, one, negative_slope)"),
    "elu": Forms("where(x > 0, x, alpha * expm1(x))", "where(x > 0, one, alpha * exp(x))",
                 "where(y > 0, one, y + alpha)"),
    "selu": Forms("S * where(x > 0, x, A * expm1(x))", "S * where(x > 0, one, A * exp(x))",
                  "where(y > 0, S, y + S * A)"),
    "celu": Forms("where(x > 0, x, alpha * expm1(x / alpha))", "where(x > 0, one, exp(x / alpha))",
                  "where(y > 0, one, 1 + y / alpha)"),
    "softplus": Forms("where(beta * x > threshold, x, log1p(exp(beta * x)) / beta)",
                      "where(beta * x > threshold, one, 1 / (1 + exp(-beta * x)))",
                      "where(beta * y > threshold, one, -expm1(-beta * y))"),
    "log_sigmoid": Forms("where(x < 0, x, 0) - log1p(exp(-abs(x)))", "1 / (1 + exp(x))", "-expm1(y)"),
    "silu": Forms("x / (1 + exp(-x))", "(1 + exp(-x) * (1 + x)) / (1 + exp(-x))**2"),
    "gelu_tanh": Forms("half * x * (1 + tanh(K * (x + C * x**3)))",
                       "half * (1 + tanh(K * (x + C * x**3)))"
                       " + half * x * (1 - tanh(K * (x + C * x**3))**2) * K * (1 + 3 * C * x**2)"),
    "mish": Forms("x * tanh(log1p(exp(x)))",
                  "tanh(log1p(exp(x))) + x / (1 + exp(-x)) * (1 - tanh(log1p(exp(x)))**2)"),
    "hardtanh": Forms("where(x < min_val, min_val, where(x > max_val, max_val, x))",
                      "where((x > min_val) & (x < max_val), one, 0)",
                      "where((y > min_val) & (y < max_val), one, 0)"),
    "hardsigmoid": Forms("where(x < -3, 0, where(x > 3, one, x * sixth + half))",
                         "where((x > -3) & (x < 3), sixth, 0)", "where((y > 0) & (y < 1), sixth, 0)"),
    "hardswish": Forms("x * where(x < -3, 0, where(x > 3, 6, x + 3)) * sixth",
                       "where(x < -3, 0, where(x > 3, one, (2 * x + 3) * sixth))"),
    "softsign": Forms("x / (1 + abs(x))", "1 / (1 + abs(x))**2", "(1 - abs(y))**2"),
}


# ---------------------------------------------------------------- PyTorch

@functools.cache
def _torch_forms(torch):
    """PyTorch's forward functions, and the ATen backward ops its autograd runs: from x,
    and from y where autograd saves the output."""
    F, aten = torch.nn.functional, torch.ops.aten
    forward = {
        "sigmoid": Out(torch.sigmoid), "tanh": Out(torch.tanh), "relu": torch.relu,
        "relu6": F.relu6, "leaky_relu": F.leaky_relu, "elu": F.elu, "selu": F.selu,
        "celu": F.celu, "softplus": F.softplus, "log_sigmoid": F.logsigmoid, "silu": F.silu,
        "gelu": F.gelu, "gelu_tanh": lambda x: F.gelu(x, approximate="tanh"), "mish": F.mish,
        "hardtanh": F.hardtanh, "hardsigmoid": F.hardsigmoid, "hardswish": F.hardswish,
        "softsign": F.softsign,
    }
    from_x = {
        "relu": lambda dy, x: aten.threshold_backward(dy, x, 0),
        "relu6": lambda dy, x: aten.hardtanh_backward(dy, x, 0.0, 6.0),
        "leaky_relu": lambda dy, x, negative_slope: aten.leaky_relu_backward(dy, x, negative_slope, False),
        "elu": lambda dy, x, alpha: aten.elu_backward(dy, alpha, 1, 1, False, x),
        "selu": lambda dy, x: aten.elu_backward(dy, A, S, 1, False, x),
        "celu": lambda dy, x, alpha: aten.elu_backward(dy, alpha, 1, 1 / alpha, False, x),
        "softplus": lambda dy, x, beta, threshold: aten.softplus_backward(dy, x, beta, threshold),
        "silu": aten.silu_backward, "gelu": aten.gelu_backward,
        "gelu_tanh": lambda dy, x: aten.gelu_backward(dy, x, approximate="tanh"),
        "mish": aten.mish_backward,
        "hardtanh": lambda dy, x, min_val, max_val: aten.hardtanh_backward(dy, x, min_val, max_val),
        "hardsigmoid": aten.hardsigmoid_backward, "hardswish": aten.hardswish_backward,
    }
    from_y = {
        "sigmoid": aten.sigmoid_backward, "tanh": aten.tanh_backward,
        "relu": from_x["relu"], "relu6": from_x["relu6"], "hardtanh": from_x["hardtanh"],
        "leaky_relu": lambda dy, y, negative_slope: aten.leaky_relu_backward(dy, y, negative_slope, True),
        "elu": lambda dy, y, alpha: aten.elu_backward(dy, alpha, 1, 1, True, y),
        "selu": lambda dy, y: aten.elu_backward(dy, A, S, 1, True, y),
        "celu": lambda dy, y, alpha: aten.elu_backward(dy, alpha, 1, 1 / alpha, True, y),
    }
    return forward, from_x, from_y


def _autograd(forward):
    """dy * f'(x) through PyTorch's autograd: a forward pass, then its backward."""
    forward = forward.fn if isinstance(forward, Out) else forward

    def backward(dy, x, **params):
        leaf = x.detach().requires_grad_()
        forward(leaf, **params).backward(dy)
        return leaf.grad
    return backward


# ---------------------------------------------------------------- peers of one case

def _bind(formula, arrays, out, params):
    """A zero-argument call of an array formula; ``out=`` where the formula takes it."""
    if isinstance(formula, Out):
        return lambda: formula.fn(*arrays, **params, out=out)
    return lambda: formula(*arrays, **params)


def _python(kernel, call, arrays, params):
    """Pure Python: the math module over lists of floats (float64 whatever the dtype)."""
    if arrays[0].size > PYTHON_MAX:
        return None, f"only sizes <= {fmt_size(PYTHON_MAX)}"
    formula = PYTHON[kernel].formula(call) if kernel in PYTHON else None
    if formula is None:
        return None, "no pure Python formula"
    f = functools.partial(formula, **params) if params else formula
    lists = [a.tolist() for a in arrays]
    if len(lists) == 1:
        return lambda: [f(v) for v in lists[0]], ""
    return lambda: [f(d, v) for d, v in zip(*lists)], ""


def _numpy(kernel, call, arrays, params):
    """NumPy expressions as a user writes them (one temporary per operation)."""
    forms = _numpy_forms()
    formula = forms[kernel].formula(call) if kernel in forms else None
    if formula is None:
        return None, "no NumPy formula"
    note = "erf by np.vectorize(math.erf): SciPy is not installed" \
        if kernel == "gelu" and not optional("scipy.special") else ""
    return _bind(formula, arrays, np.empty_like(arrays[-1]), params), note


def _scipy(kernel, call, arrays, params):
    """scipy.special's expit, log_expit, ndtr."""
    special = optional("scipy.special")
    if special is None:
        return None, "not installed"
    forms = _scipy_forms(special)
    formula = forms[kernel].formula(call) if kernel in forms else None
    if formula is None:
        return None, "no scipy.special function"
    return _bind(formula, arrays, np.empty_like(arrays[-1]), params), ""


def _numexpr(kernel, call, arrays, params):
    """numexpr.evaluate of the formula, into a preallocated output, on the run's threads."""
    ne = optional("numexpr")
    if ne is None:
        return None, "not installed"
    expr = NUMEXPR[kernel].formula(call) if kernel in NUMEXPR else None
    if expr is None:
        return None, "no numexpr formula (numexpr has no erf)" if kernel == "gelu" else "no numexpr formula"
    dtype = arrays[-1].dtype.type
    local = {name: dtype(v) for name, v in {**NUMEXPR_CONSTANTS, **params}.items()}
    local.update(zip(ARRAYS[call], arrays))
    out = np.empty_like(arrays[-1])
    return lambda: ne.evaluate(expr, local_dict=local, out=out), ""


def _torch(kernel, call, arrays, params):
    """PyTorch CPU on the run's threads; derivatives are its backward with dy = 1."""
    torch = optional("torch")
    if torch is None:
        return None, "not installed"
    forward, from_x, from_y = _torch_forms(torch)
    if kernel not in forward:
        return None, "no PyTorch function"
    tensors = [torch.from_numpy(a) for a in arrays]
    if call == "forward":
        return _bind(forward[kernel], tensors, torch.empty_like(tensors[0]), params), ""
    notes = ["derivative: its backward with dy = 1"] if call.startswith("derivative") else []
    if call.endswith("from_output"):
        backward = from_y.get(kernel)
        if backward is None:
            return None, "no PyTorch backward from y"
    else:
        backward = from_x.get(kernel)
        if backward is None:
            backward = _autograd(forward[kernel])
            notes.append("forward + backward through autograd (no ATen op from x)")
    if len(tensors) == 1:
        tensors = [torch.ones_like(tensors[0]), *tensors]
    return lambda: backward(*tensors, **params), "; ".join(notes)


PEERS = {"python": _python, "numpy": _numpy, "scipy": _scipy, "numexpr": _numexpr, "torch": _torch}


# ---------------------------------------------------------------- cases

@functools.lru_cache(maxsize=1)
def _base(top):
    """Float64 x = SCALE * N(0, 1) and dy = N(0, 1) of length top, shared by every case."""
    rng = np.random.default_rng(2024)
    return SCALE * rng.standard_normal(top), rng.standard_normal(top)


@functools.lru_cache(maxsize=16)
def _x_dy(dtype, n, top):
    """x and dy of one dtype and size, made once for all the functions (nothing writes to them)."""
    return tuple(a[:n].astype(dtype) for a in _base(top))


def _inputs(act, call, params, dtype, n, top):
    """The call's arrays in its argument order (y = actgrad's own forward of x)."""
    x, dy = _x_dy(dtype, n, top)
    named = {"x": x, "dy": dy}
    if "y" in ARRAYS[call]:
        named["y"] = getattr(ag, act.name)(x, **params)
    return tuple(named[name] for name in ARRAYS[call])


def _contenders(act, kernel, call, params, dtype, n, top):
    """Allocate one case's inputs and outputs; actgrad and every peer over them."""
    arrays = _inputs(act, call, params, dtype, n, top)
    fn = getattr(ag, public_name(act.name, call))
    out = np.empty(n, dtype)
    numeric = {p.name: params[p.name] for p in act.numeric_params}
    peers, notes = {}, {}
    for peer, build in PEERS.items():
        peers[peer], notes[peer] = build(kernel, call, arrays, numeric)
    return Contenders(lambda: fn(*arrays, **params, out=out), peers,
                      {peer: note for peer, note in notes.items() if note})


def _variants(act):
    """(kernel, parameters) of each row: the defaults, one row per choice of a choice parameter."""
    defaults = {p.name: p.default for p in act.params}
    for p in act.params:
        if p.choices is not None:
            return [(kernel, {**defaults, p.name: value}) for value, kernel in p.choices.items()]
    return [(act.name, defaults)]


def cases(args):
    """The cases args selects: --functions by activation name, alias, kernel (gelu_tanh) or
    function (sigmoid_backward); else the quick set, or every row and call with --full."""
    run_sizes = sizes(args)
    top = max(run_sizes)
    selection = []
    for act in ACTIVATIONS:
        defaults = {p.name: p.default for p in act.params}
        for kernel, params in _variants(act):
            for call in act.calls:
                name = public_name(kernel, call)
                tags = frozenset({act.name, *act.aliases, kernel, name,
                                  *(public_name(a, call) for a in (act.name, *act.aliases))})
                quick = act.name in QUICK and call in QUICK_CALLS and params == defaults
                if not selected(tags, args, quick):
                    continue
                n_arrays = len(ARRAYS[call]) + 1   # inputs and the output
                selection += [
                    Case(FAMILY, name, dtype, n, n_arrays * n * np.dtype(dtype).itemsize,
                         functools.partial(_contenders, act, kernel, call, params, dtype, n, top),
                         params, tags, kernel)
                    for dtype in args.dtypes for n in run_sizes]
    return selection
