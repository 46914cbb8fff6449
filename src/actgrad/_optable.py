"""The one table of actgrad's elementwise activations.

Every activation is defined here once. From this table:

* ``tools/gen.py`` writes ``csrc/gen/ops.inc`` at build time, from which the C
  kernels of every ISA and dtype are instantiated (the math of row ``name`` is
  ``csrc/ops/<kernel>.h``);
* ``actgrad`` builds its ufuncs, the wrappers that supply parameters, and the
  ``ag.activations`` registry at import;
* the tests parametrize over it and ``docs/functions.md`` is generated from it.

This module is plain Python with no imports from actgrad, so the build can read it.
"""

import numbers
from dataclasses import dataclass

# PyTorch's SELU constants (Klambauer et al. 2017, torch.nn.SELU).
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946

CALLS = ("forward", "derivative", "backward", "derivative_from_output", "backward_from_output")


@dataclass(frozen=True)
class Param:
    """A numeric parameter, or a choice between kernels (``choices`` maps value -> kernel)."""
    name: str
    default: object
    doc: str
    choices: dict = None


@dataclass(frozen=True)
class Activation:
    name: str
    params: tuple
    forward: str            # formula, for the docs
    derivative: str         # f'(x), as computed from x
    from_output: str = None  # f'(x) as a formula in y = f(x); None where f is not invertible
    aliases: tuple = ()
    # check(**params) -> error message or None, for every call
    check: object = None
    # check_from_output(**params) -> error message or None, for the from-output calls
    check_from_output: object = None
    doc: str = ""
    # kernel ULP bounds promised (and tested) for forward and derivative/backward
    forward_ulp: float = 2.0
    derivative_ulp: float = 4.0
    # float32 bound of every call (forward, derivative, backward, from output): the float32
    # kernels evaluate in double and round once (csrc/ops/d32.h)
    float32_ulp: float = 1.0
    # time per element relative to relu (1), measured on one AVX2 core (float32, in
    # cache); sizes the threads' ranges (csrc/elementwise.c)
    cost: int = 4

    @property
    def numeric_params(self):
        return tuple(p for p in self.params if p.choices is None)

    @property
    def kernels(self):
        """C kernel names: one, or one per choice of a choice parameter."""
        for p in self.params:
            if p.choices is not None:
                return tuple(dict.fromkeys(p.choices.values()))
        return (self.name,)

    @property
    def calls(self):
        return CALLS if self.from_output else CALLS[:3]


def _positive(name):
    return lambda **p: None if p[name] > 0 else f"{name} must be > 0, got {p[name]!r}"


ACTIVATIONS = (
    Activation(
        "sigmoid", (), "1 / (1 + exp(-x))",
        "sigmoid(x) * sigmoid(-x) = e / (1 + e)^2 with e = exp(-|x|)",
        "y * (1 - y)",
        cost=8, doc="The logistic function."),
    Activation(
        "tanh", (), "tanh(x)",
        "4e / (1 + e)^2 with e = exp(-2|x|)",
        "(1 - y) * (1 + y)",
        cost=8, doc="The hyperbolic tangent."),
    Activation(
        "relu", (), "max(x, 0)",
        "1 if x > 0 else 0 (0 at x = 0)",
        "1 if y > 0 else 0",
        cost=1, doc="The rectified linear unit."),
    Activation(
        "relu6", (), "min(max(x, 0), 6)",
        "1 if 0 < x < 6 else 0",
        "1 if 0 < y < 6 else 0",
        cost=1, doc="ReLU clipped at 6."),
    Activation(
        "leaky_relu", (Param("negative_slope", 0.01, "slope for x < 0"),),
        "x if x > 0 else negative_slope * x",
        "1 if x > 0 else negative_slope",
        "1 if y > 0 else negative_slope",
        check_from_output=_positive("negative_slope"),
        cost=1, doc="ReLU with a small slope for negative inputs."),
    Activation(
        "elu", (Param("alpha", 1.0, "scale of the negative branch"),),
        "x if x > 0 else alpha * expm1(x)",
        "1 if x > 0 else alpha * exp(x)",
        "1 if y > 0 else y + alpha",
        check_from_output=_positive("alpha"),
        cost=6, doc="The exponential linear unit."),
    Activation(
        "selu", (), f"scale * (x if x > 0 else alpha * expm1(x)), alpha = {SELU_ALPHA!r}, scale = {SELU_SCALE!r}",
        "scale if x > 0 else scale * alpha * exp(x)",
        "scale if y > 0 else y + scale * alpha",
        cost=6, doc="The scaled exponential linear unit."),
    Activation(
        "celu", (Param("alpha", 1.0, "scale of the negative branch"),),
        "max(0, x) + min(0, alpha * expm1(x / alpha))",
        "1 if x > 0 else exp(x / alpha)",
        "1 if y > 0 else 1 + y / alpha",
        check=lambda alpha: None if alpha != 0 else "alpha must be non-zero, got 0.0",
        check_from_output=_positive("alpha"),
        cost=6, doc="The continuously differentiable exponential linear unit."),
    Activation(
        "softplus", (Param("beta", 1.0, "sharpness"), Param("threshold", 20.0, "linear above beta * x > threshold")),
        "log1p(exp(beta * x)) / beta, or x where beta * x > threshold",
        "sigmoid(beta * x), or 1 where beta * x > threshold",
        "1 if beta * y > threshold else 1 - exp(-beta * y)",
        check=_positive("beta"),
        cost=14, doc="A smooth approximation of ReLU."),
    Activation(
        "log_sigmoid", (), "min(x, 0) - log1p(exp(-|x|))",
        "sigmoid(-x)",
        "1 - exp(y)",
        cost=12, doc="The logarithm of the logistic function."),
    Activation(
        "silu", (), "x * sigmoid(x)",
        "sigmoid(x) * (1 + x * sigmoid(-x))",
        aliases=("swish",),
        cost=9, doc="The sigmoid-weighted linear unit (swish)."),
    Activation(
        "gelu", (Param("approximate", "none", "'none' (exact, erf) or 'tanh'",
                       choices={"none": "gelu", "tanh": "gelu_tanh"}),),
        "x * Phi(x) = x/2 * erfc(-x/sqrt(2)); 'tanh': x/2 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))",
        "Phi(x) + x * phi(x); 'tanh': the derivative of the tanh form",
        cost=20, doc="The Gaussian error linear unit."),
    Activation(
        "mish", (), "x * tanh(softplus(x))",
        "tanh(softplus(x)) + x * sigmoid(x) * (1 - tanh(softplus(x))^2)",
        cost=18, doc="Self-regularized non-monotonic activation."),
    Activation(
        "hardtanh", (Param("min_val", -1.0, "lower bound"), Param("max_val", 1.0, "upper bound")),
        "min(max(x, min_val), max_val)",
        "1 if min_val < x < max_val else 0",
        "1 if min_val < y < max_val else 0",
        check=lambda min_val, max_val: None if min_val <= max_val else
        f"min_val must be <= max_val, got min_val={min_val!r}, max_val={max_val!r}",
        cost=1, doc="Clip to [min_val, max_val]."),
    Activation(
        "hardsigmoid", (), "relu6(x + 3) / 6",
        "1/6 if -3 < x < 3 else 0",
        "1/6 if 0 < y < 1 else 0",
        cost=1, doc="A piecewise-linear sigmoid."),
    Activation(
        "hardswish", (), "x * relu6(x + 3) / 6",
        "0 if x < -3, 1 if x >= 3, else (2x + 3) / 6 (0 at -3, 1 at 3)",
        cost=1, doc="A piecewise version of silu."),
    Activation(
        "softsign", (), "x / (1 + |x|)",
        "(1 / (1 + |x|))^2",
        "(1 - |y|)^2",
        cost=1, doc="A rational sigmoid-like function."),
)

BY_NAME = {a.name: a for a in ACTIVATIONS}
for _a in ACTIVATIONS:
    BY_NAME.update({alias: _a for alias in _a.aliases})


def kernel_specs():
    """(kernel name, number of numeric params, has from-output calls, cost) for every C kernel."""
    for a in ACTIVATIONS:
        for k in a.kernels:
            yield k, len(a.numeric_params), a.from_output is not None, a.cost


def real_param(fname, pname, value):
    """A numeric parameter as a Python float, or TypeError naming the function.
    Accepts real numbers (Python or NumPy ints and floats, 0-d real arrays); refuses
    bool, complex (of any width), strings and arrays of more than one element."""
    if type(value) is float:
        return value
    kind = getattr(getattr(value, "dtype", None), "kind", None)
    if kind in ("i", "u", "f") and getattr(value, "ndim", 0) == 0 or (
            kind is None and isinstance(value, numbers.Real) and not isinstance(value, bool)):
        return float(value)
    raise TypeError(f"{fname}: {pname} must be a real number, got {value!r}")


def choice_param(fname, param, value):
    """The kernel a choice parameter selects, or ValueError/TypeError naming the function."""
    if not isinstance(value, str):
        raise TypeError(f"{fname}: {param.name} must be a string, got {value!r}")
    try:
        return param.choices[value]
    except KeyError:
        options = " or ".join(repr(c) for c in param.choices)
        raise ValueError(f"{fname}: {param.name} must be {options}, got {value!r}") from None


def checks(act, call):
    """The checks that apply to one call of an activation."""
    return tuple(c for c in (act.check, act.check_from_output if "from_output" in call else None) if c)


__all__ = ["ACTIVATIONS", "BY_NAME", "CALLS", "Activation", "Param", "kernel_specs", "real_param",
           "choice_param", "checks",
           "SELU_ALPHA", "SELU_SCALE"]
