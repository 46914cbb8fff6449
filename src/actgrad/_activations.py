"""The public activation functions and the ``activations`` registry, built from the table.

A function without parameters is its ufunc (``ag.sigmoid is ag.ufuncs.sigmoid``).
A function with parameters is a small Python function with PyTorch's parameter
names and defaults that checks them and calls the ufunc with the parameters as
extra inputs; its arrays are positional-only, like a ufunc's."""
from collections import namedtuple
from collections.abc import Mapping

from . import ufuncs
from ._optable import ACTIVATIONS, checks, choice_param, real_param
from .ufuncs import ARRAYS, describe, public_name

ActivationFunctions = namedtuple(
    "ActivationFunctions",
    "name forward derivative backward derivative_from_output backward_from_output params")
ActivationFunctions.__doc__ = """The functions of one activation (None where a call does not exist)
and its parameters' names and defaults."""


class Registry(Mapping):
    """The ``activations`` registry: name -> ActivationFunctions.  It lists each activation
    once, under its name, and looks aliases up too (``activations['swish']`` is the record
    of silu)."""

    def __init__(self, records, aliases):
        self._records, self._aliases = records, aliases

    def __getitem__(self, name):
        return self._records[self._aliases.get(name, name)]

    def __contains__(self, name):
        return self._aliases.get(name, name) in self._records

    def __iter__(self):
        return iter(self._records)

    def __len__(self):
        return len(self._records)

    def __repr__(self):
        return f"activations({', '.join(self._records)}; aliases {', '.join(self._aliases)})"


def _wrapper(act, call):
    """The public function of a call of an activation with parameters.  Its source is
    generated so it has a real signature and costs little more than the ufunc call."""
    fname = public_name(act.name, call)
    arrays = ", ".join(ARRAYS[call])
    numeric = [p.name for p in act.numeric_params]
    tests = checks(act, call)
    namespace = {"real": real_param, "choice": choice_param}
    # the arrays are positional-only, as they are for the ufuncs of the other activations
    lines = [f"def {fname}({arrays}, /, " + "".join(f"{p.name}={p.default!r}, " for p in act.params) + "out=None):"]
    if len(act.kernels) == 1:
        namespace["ufunc"] = ufuncs.UFUNCS[public_name(act.kernels[0], call)]
    for p in act.params:
        if p.choices is None:
            lines.append(f"    if type({p.name}) is not float: {p.name} = real({fname!r}, {p.name!r}, {p.name})")
        else:
            namespace[f"{p.name}_param"] = p
            namespace["by_kernel"] = {k: ufuncs.UFUNCS[public_name(k, call)] for k in act.kernels}
            lines.append(f"    ufunc = by_kernel[choice({fname!r}, {p.name}_param, {p.name})]")
    if tests:
        namespace["checks"] = tests
        namespace["fail"] = _fail
        kwargs = ", ".join(f"{n}={n}" for n in numeric)
        lines.append(f"    for test in checks:\n        msg = test({kwargs})\n"
                     f"        if msg: fail({fname!r}, msg)")
    lines.append(f"    return ufunc({arrays}, " + "".join(f"{n}, " for n in numeric) + "out=out)")
    exec("\n".join(lines), namespace)
    func = namespace[fname]
    func.__module__ = "actgrad"
    func.__doc__ = describe(act, call) + "\n\nout: optional output array (may be an input)."
    return func


def _fail(fname, msg):
    raise ValueError(f"{fname}: {msg}")


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
    return functions, Registry(registry, {alias: act.name for act in ACTIVATIONS for alias in act.aliases})


FUNCTIONS, activations = _build()
