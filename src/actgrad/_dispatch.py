"""Sends calls of the softmax family and the losses on dask arrays to actgrad.dask.
(Elementwise functions need no help: as ufuncs they dispatch through __array_ufunc__.)"""
import functools

import numpy as np

# The array arguments of these functions: the first two positions, or these keywords.
_ARRAY_KEYWORDS = ("x", "dy", "y", "v", "logits", "target", "pred")
# Types checked first, so the usual call pays a set lookup, not a module-name test.
_NOT_DASK = frozenset((np.ndarray, list, tuple, int, float, bool))


def is_dask(a):
    """Whether a is a dask array (checked without importing dask)."""
    t = type(a)
    return t not in _NOT_DASK and t.__module__.startswith("dask.array")


def dask_aware(func):
    """func, unless one of its array arguments is a dask array: then actgrad.dask's
    function of the same name (imported only then, so dask stays optional)."""
    name = func.__name__

    @functools.wraps(func)
    def call(*args, **kwargs):
        lazy = (len(args) > 0 and is_dask(args[0])) or (len(args) > 1 and is_dask(args[1]))
        if not lazy and kwargs:
            lazy = any(is_dask(kwargs[k]) for k in _ARRAY_KEYWORDS if k in kwargs)
        if lazy:
            from . import dask
            return getattr(dask, name)(*args, **kwargs)
        return func(*args, **kwargs)

    call.__module__ = "actgrad"
    return call


# The functions that have a dask implementation in actgrad.dask.
LAZY = ("softmax", "log_softmax", "logsumexp", "softmax_backward", "softmax_jvp", "log_softmax_backward",
        "softmax_jacobian",
        "cross_entropy", "cross_entropy_backward", "cross_entropy_with_grad",
        "binary_cross_entropy_with_logits", "binary_cross_entropy_with_logits_backward",
        "binary_cross_entropy_with_logits_with_grad", "mse_loss", "mse_loss_backward", "mse_loss_with_grad")
