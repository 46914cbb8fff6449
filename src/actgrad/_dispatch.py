"""Sends calls of the softmax family and the losses on dask arrays to actgrad.dask.
(Elementwise functions need no help: as ufuncs they dispatch through __array_ufunc__.)"""
import functools
import inspect

import numpy as np

# The array arguments of these functions: the first two positions, or these keywords.
_ARRAY_KEYWORDS = ("x", "dy", "y", "v", "logits", "target", "pred")
# Types checked first, so the usual call pays a set lookup, not a module-name test.
_NOT_DASK = frozenset((np.ndarray, list, tuple, int, float, bool, str, type(None)))


def is_dask(a):
    """Whether a is a dask array (checked without importing dask)."""
    t = type(a)
    return t not in _NOT_DASK and t.__module__.startswith("dask.array")


def _lazy(name):
    from . import dask
    return getattr(dask, name)


def _compose(func, usual, dask):
    """func as a function of func's own signature (written out, as dataclasses writes its
    methods, so that a call pays no packing of *args and **kwargs: a small call's cost is
    mostly that of its Python frames) that first evaluates `usual`, the source of an
    expression of its arguments giving the usual call's result or None (a Cython binding
    that takes the usual arguments straight to C), then, where that is None and `dask` is
    set, sends dask arrays among the array arguments to actgrad.dask's function of the same
    name (imported only then, so dask stays optional), and runs func otherwise.  `usual`
    is evaluated in func's module."""
    name = func.__name__
    params = list(inspect.signature(func).parameters.values())
    P = inspect.Parameter
    ns = {**func.__globals__, "_func": func, "_lazy": _lazy, "_is_dask": is_dask, "_NOT_DASK": _NOT_DASK}
    decl, passed, checks, star = [], [], [], False
    for i, p in enumerate(params):
        if p.kind not in (P.POSITIONAL_ONLY, P.POSITIONAL_OR_KEYWORD, P.KEYWORD_ONLY):
            raise TypeError(f"_compose: {name} has a *{p.name} parameter")
        if p.kind is P.KEYWORD_ONLY and not star:
            decl.append("*")
            star = True
        if p.default is P.empty:
            decl.append(p.name)
        else:
            ns[f"_default_{i}"] = p.default
            decl.append(f"{p.name}=_default_{i}")
        if p.kind is P.POSITIONAL_ONLY and (i + 1 == len(params) or params[i + 1].kind is not P.POSITIONAL_ONLY):
            decl.append("/")
        passed.append(p.name if p.kind is not P.KEYWORD_ONLY else f"{p.name}={p.name}")
        if i < 2 or p.name in _ARRAY_KEYWORDS:
            checks.append(f"(type({p.name}) not in _NOT_DASK and _is_dask({p.name}))")
    call = ", ".join(passed)
    src = f"def {name}({', '.join(decl)}):\n"
    if usual:
        src += (f"    r = {usual}\n"
                f"    if r is not None:\n"
                f"        return r\n")
    if dask and checks:
        src += (f"    if {' or '.join(checks)}:\n"
                f"        return _lazy({name!r})({call})\n")
    src += f"    return _func({call})\n"
    exec(src, ns)
    composed = functools.update_wrapper(ns[name], func)
    composed._general, composed._usual = func, usual
    return composed


def usual_first(usual):
    """Decorator of a public function written as its general path: the function tries
    `usual` first (see _compose), the general path only where that declines."""
    return lambda func: _compose(func, usual, dask=False)


def dask_aware(func):
    """The public function func, also sending dask arrays to actgrad.dask (see _compose):
    after its usual call where func was made by usual_first (a dask array is never usual),
    before anything else otherwise."""
    composed = _compose(getattr(func, "_general", func), getattr(func, "_usual", None), dask=True)
    composed.__module__ = "actgrad"
    return composed


# The functions that have a dask implementation in actgrad.dask.
LAZY = ("softmax", "log_softmax", "logsumexp", "softmax_backward", "softmax_jvp", "log_softmax_backward",
        "softmax_jacobian",
        "cross_entropy", "cross_entropy_backward", "cross_entropy_with_grad",
        "binary_cross_entropy_with_logits", "binary_cross_entropy_with_logits_backward",
        "binary_cross_entropy_with_logits_with_grad", "mse_loss", "mse_loss_backward", "mse_loss_with_grad")
