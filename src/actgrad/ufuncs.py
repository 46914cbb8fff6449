"""The raw NumPy ufuncs of actgrad's C kernels, one per kernel and call.

Named like the public functions (``sigmoid``, ``leaky_relu_backward``,
``gelu_tanh_derivative`` ...).  Their inputs are the arrays (``x``, or ``dy`` and
``x``), then every numeric parameter of the activation as a float64 input that
broadcasts like any other: ``leaky_relu(x, 0.2)``.  Parameters are not checked
here; the public functions in ``actgrad`` check them and supply the defaults.
Use these directly where a true ufunc is needed with parameters (dask, xarray,
``np.frompyfunc``-style broadcasting of per-element parameters).
"""
from ._core import make_ufunc
from ._optable import ACTIVATIONS

ARRAYS = {
    "forward": ("x",),
    "derivative": ("x",),
    "backward": ("dy", "x"),
    "derivative_from_output": ("y",),
    "backward_from_output": ("dy", "y"),
}

WHAT = {
    "forward": "{name}(x) = {forward}",
    "derivative": "{name}'(x) = {derivative}",
    "backward": "dy * {name}'(x), fused: {name}'(x) = {derivative}",
    "derivative_from_output": "{name}'(x) from y = {name}(x) only: {from_output}",
    "backward_from_output": "dy * {name}'(x) from y = {name}(x) only: {from_output}",
}


def public_name(name, call):
    return name if call == "forward" else f"{name}_{call}"


def describe(act, call):
    """One paragraph of documentation for a call of an activation, from the table."""
    text = WHAT[call].format(name=act.name, forward=act.forward, derivative=act.derivative,
                             from_output=act.from_output)
    params = "".join(f"\n    {p.name} (default {p.default!r}): {p.doc}" for p in act.params)
    return f"{act.doc}\n\n{text}" + (f"\n\nParameters after the arrays:{params}" if params else "")


def _build():
    table = {}
    for act in ACTIVATIONS:
        for kernel in act.kernels:
            for call in act.calls:
                name = public_name(kernel, call)
                table[name] = make_ufunc(kernel, call, name, describe(act, call))
    return table


UFUNCS = _build()
globals().update(UFUNCS)
__all__ = sorted(UFUNCS)
