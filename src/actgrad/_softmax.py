"""The softmax family (docs/api.md section 3): memory layouts and the calls into C
(csrc/softmax.c); the argument rules are in _args.py, the formulas in docs/softmax.md.

An array is handed to C as (outer, n, inner) byte strides, the softmax axis in the
middle: the axes before it collapse into `outer` and those after it into `inner` when
their strides allow (any C/F-ordered array, most views), so nothing is transposed or
copied; only layouts that do not collapse are copied first."""
import math

import numpy as np

from . import _args as args, _core
from ._dispatch import usual_first

__all__ = ["softmax", "log_softmax", "logsumexp", "softmax_backward", "softmax_jvp",
           "log_softmax_backward", "softmax_jacobian"]

_OPS = _core.SOFTMAX_OPS
_F32, _F64 = args.F32, args.F64


def _writable_in_place(out, inputs, same_layout_ok):
    """Whether C may write straight into out: no overlap with the inputs except an identical
    layout (an in-place call), where each element is read before it is written."""
    for x in inputs:
        if np.may_share_memory(out, x):
            if not same_layout_ok or out.strides != x.strides or out.dtype.itemsize != x.dtype.itemsize \
                    or out.__array_interface__["data"][0] != x.__array_interface__["data"][0]:
                return False
    return True


def _run(name, a, b, ax, out, keepdims=False):
    """Runs op `name` on a (and b) along axis ax; out is the user's array or None."""
    op = _OPS["softmax_backward" if name == "softmax_jvp" else name]
    lse = name == "logsumexp"
    dtype = args.result_dtype(np.result_type(a.dtype, b.dtype) if b is not None else a.dtype)
    rshape = a.shape[:ax] + ((1,) if keepdims else ()) + a.shape[ax + 1:] if lse else a.shape
    if out is not None:
        out = args.out(name, out, rshape, dtype)
    if a.size == 0:   # nothing to read: logsumexp over a zero-length axis is -inf
        res = np.full(rshape, -np.inf, dtype) if lse else np.empty(rshape, dtype)
        if out is None:
            return res[()] if res.ndim == 0 else res
        np.copyto(out, res, casting="same_kind")
        return out

    # the axes before and after ax, outermost first in a's memory, collapse to outer and inner
    strides = a.strides
    outer = sorted(range(ax), key=lambda d: -abs(strides[d])) if ax > 1 else list(range(ax))
    inner = sorted(range(ax + 1, a.ndim), key=lambda d: -abs(strides[d])) if a.ndim - ax > 2 \
        else list(range(ax + 1, a.ndim))
    sa = args.strides3(a, ax, outer, inner)
    if sa is None:
        a = np.ascontiguousarray(a)
        outer, inner = list(range(ax)), list(range(ax + 1, a.ndim))
        sa = args.strides3(a, ax, outer, inner)
    order = outer + [ax] + inner
    sb = None
    if b is not None:   # b follows a's axis order
        b, sb = args.like(b, order, ax, outer, inner)

    # the result: out itself when C can write there, else a fresh array in a's axis order
    full = out if out is None or not lse or keepdims else np.expand_dims(out, ax)
    res = so = None
    if out is not None and full.dtype == dtype and full.dtype.isnative:
        so = args.strides3(full, ax, outer, inner)
        if so is not None and _writable_in_place(full, (a,) if b is None else (a, b), not lse):
            res = full
    if res is None:
        res = args.empty(a.shape[:ax] + (1,) + a.shape[ax + 1:] if lse else a.shape, order, dtype)
        so = args.strides3(res, ax, outer, inner)

    nouter = math.prod(a.shape[d] for d in outer)
    ninner = math.prod(a.shape[d] for d in inner)
    _core.softmax_run(op, nouter, a.shape[ax], ninner, a, sa, b, sb or (0, 0, 0), res, so)

    if out is None:
        if lse and not keepdims:
            res = res.squeeze(ax)
            return res[()] if res.ndim == 0 else res
        return res
    if res is not full:
        np.copyto(full, res, casting="same_kind")
    return out


_last = _core.softmax_last
_SOFTMAX, _LOG_SOFTMAX, _LOGSUMEXP = _OPS["softmax"], _OPS["log_softmax"], _OPS["logsumexp"]
_SOFTMAX_BACKWARD, _LOG_SOFTMAX_BACKWARD = _OPS["softmax_backward"], _OPS["log_softmax_backward"]


# The public functions try the usual call first (usual_first): C-contiguous float32/float64,
# the last axis, out None or one C writes directly (see _core.softmax_last) go straight to
# C; the general path below takes the calls the binding declines.

def _forward(name, x, axis, out, keepdims=False):
    x = args.real_array(name, "x", x)
    ax = args.axis(name, axis, x.ndim)
    return _run(name, x, None, ax, out, keepdims)


def _backward(name, dy, y, axis, out, dy_name):
    dy, y = args.real_array(name, dy_name, dy), args.real_array(name, "y", y)
    args.same_shape(name, dy_name, dy, "y", y)
    ax = args.axis(name, axis, y.ndim)
    ta, ty = args.pair_dtypes(dy.dtype, y.dtype)
    dy, y = dy.astype(ta, copy=False), y.astype(ty, copy=False)
    return _run(name, dy, y, ax, out)


@usual_first("_last(_SOFTMAX, x, None, out, axis)")
def softmax(x, axis=-1, out=None):
    """exp(x - max) / sum(exp(x - max)) along axis.

    Rows holding +inf or NaN, and all -inf rows, give NaN; huge logits give exact one-hots."""
    return _forward("softmax", x, axis, out)


@usual_first("_last(_LOG_SOFTMAX, x, None, out, axis)")
def log_softmax(x, axis=-1, out=None):
    """x - max - log(sum(exp(x - max))) along axis (never the log of a rounded softmax)."""
    return _forward("log_softmax", x, axis, out)


@usual_first("_last(_LOGSUMEXP, x, None, out, axis, keepdims)")
def logsumexp(x, axis=-1, keepdims=False, out=None):
    """log(sum(exp(x))) along axis without overflow; -inf over a zero-length axis or an all
    -inf row, +inf for a row holding +inf, NaN for a row holding NaN."""
    return _forward("logsumexp", x, axis, out, keepdims)


@usual_first("_last(_SOFTMAX_BACKWARD, dy, y, out, axis)")
def softmax_backward(dy, y, axis=-1, out=None):
    """The vector-Jacobian product J^T dy = y * (dy - sum(dy * y)) of y = softmax(x)."""
    return _backward("softmax_backward", dy, y, axis, out, "dy")


@usual_first("_last(_SOFTMAX_BACKWARD, v, y, out, axis)")
def softmax_jvp(v, y, axis=-1, out=None):
    """The Jacobian-vector product J v = y * (v - sum(v * y)) of y = softmax(x): J is
    symmetric, so this is the VJP formula."""
    return _backward("softmax_jvp", v, y, axis, out, "v")


@usual_first("_last(_LOG_SOFTMAX_BACKWARD, dy, y, out, axis)")
def log_softmax_backward(dy, y, axis=-1, out=None):
    """dy - exp(y) * sum(dy) for y = log_softmax(x)."""
    return _backward("log_softmax_backward", dy, y, axis, out, "dy")


def softmax_jacobian(y, axis=-1):
    """The Jacobian diag(y) - y y^T of y = softmax(x) along axis, with shape
    (the other axes in order, n, n).  The diagonal is y (1 - y), which keeps its
    accuracy where y is close to 1."""
    name = "softmax_jacobian"
    y = args.real_array(name, "y", y)
    ax = args.axis(name, axis, y.ndim)
    dtype = args.result_dtype(y.dtype)
    yl = np.moveaxis(y, ax, -1).astype(args.compute_dtype(y.dtype), copy=False)
    n = yl.shape[-1]
    with np.errstate(all="ignore"):   # only non-finite y overflow or make NaN here
        jac = np.multiply(yl[..., :, None], -yl[..., None, :])
        jac.reshape(jac.shape[:-2] + (n * n,))[..., ::n + 1] = yl * (1 - yl)
    return jac.astype(dtype, copy=False)
