"""The public activation functions and the ``activations`` registry, built from the table.

A function without parameters is its ufunc (``ag.sigmoid is ag.ufuncs.sigmoid``).
A function with parameters is a small Python function with PyTorch's parameter
names and defaults that checks them and calls the ufunc with the parameters as
extra inputs."""
from collections import namedtuple

from . import ufuncs
from ._optable import ACTIVATIONS, checks, choice_param, real_param
from .ufuncs import ARRAYS, describe, public_name

ActivationFunctions = namedtuple(
    "ActivationFunctions",
    "name forward derivative backward derivative_from_output backward_from_output params")
ActivationFunctions.__doc__ = """The functions of one activation (None where a call does not exist)
and its parameters' names and defaults."""


def _binder(act, call, fname):
    """bind(*param_values) -> (ufunc, numeric params), raising TypeError/ValueError naming fname."""
    by_kernel = {k: ufuncs.UFUNCS[public_name(k, call)] for k in act.kernels}
    kernel0 = act.kernels[0]
    names = [p.name for p in act.numeric_params]
    tests = checks(act, call)

    def bind(*values):
        kernel, nums = kernel0, []
        for p, v in zip(act.params, values):
            if p.choices is None:
                nums.append(real_param(fname, p.name, v))
            else:
                kernel = choice_param(fname, p, v)
        for test in tests:
            msg = test(**dict(zip(names, nums)))
            if msg:
                raise ValueError(f"{fname}: {msg}")
        return by_kernel[kernel], nums
    return bind


def _wrapper(act, call):
    fname = public_name(act.name, call)
    arrays = ", ".join(ARRAYS[call])
    params = ", ".join(p.name for p in act.params)
    defaults = ", ".join(f"{p.name}={p.default!r}" for p in act.params)
    source = (f"def {fname}({arrays}, {defaults}, out=None):\n"
              f"    ufunc, params = bind({params})\n"
              f"    return ufunc({arrays}, *params, out=out)\n")
    namespace = {"bind": _binder(act, call, fname)}
    exec(source, namespace)  # a real signature, and no *args parsing on every call
    func = namespace[fname]
    func.__module__ = "actgrad"
    func.__doc__ = describe(act, call) + "\n\nout: optional output array (may be an input)."
    return func


def _build():
    functions, registry = {}, {}
    for act in ACTIVATIONS:
        calls = {}
        for call in act.calls:
            calls[call] = ufuncs.UFUNCS[public_name(act.name, call)] if not act.params else _wrapper(act, call)
            for name in (act.name, *act.aliases):
                functions[public_name(name, call)] = calls[call]
        registry[act.name] = ActivationFunctions(
            act.name, *(calls.get(c) for c in ARRAYS), {p.name: p.default for p in act.params})
    return functions, registry


FUNCTIONS, activations = _build()
