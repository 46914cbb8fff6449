"""The softmax family (API.md section 3): argument checks, axis and dtype rules, memory
layout.  The arithmetic is in C (csrc/softmax.c); docs/softmax.md derives the formulas.

An array is handed to C as (outer, n, inner) byte strides, the softmax axis in the
middle: the axes before it collapse into `outer` and those after it into `inner` when
their strides allow (any C/F-ordered array, most views), so nothing is transposed or
copied; only layouts that do not collapse are copied first."""
import math
import operator

import numpy as np

from . import _core

__all__ = ["softmax", "log_softmax", "logsumexp", "softmax_backward", "softmax_jvp",
           "log_softmax_backward", "softmax_jacobian"]

_F16, _F32, _F64 = np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64)
_OPS = _core.SOFTMAX_OPS


def _input(name, x):
    """x as an array of a dtype the C core reads (native byte order)."""
    x = np.asarray(x)
    dt = x.dtype
    if not (dt.kind in "biu" or (dt.kind == "f" and dt.itemsize in (2, 4, 8))):
        raise TypeError(f"{name}: unsupported dtype {dt}; expected floating point, integer or bool")
    if not dt.isnative:
        x = x.astype(dt.newbyteorder("="))
    return x


def _result_dtype(dt):
    """float16/32/64 keep their dtype; bool and integers give float64 (API.md section 1)."""
    return dt if dt in (_F16, _F32, _F64) else _F64


def _computes_in_f32(dt):
    return dt in (_F16, _F32)


def _axis(name, axis, ndim):
    try:
        axis = operator.index(axis)
    except TypeError:
        raise TypeError(f"{name}: axis must be an integer, got {axis!r}") from None
    if not -ndim <= axis < ndim or ndim == 0:
        raise np.exceptions.AxisError(axis, ndim, msg_prefix=name)
    return axis % ndim


def _check_out(name, out, shape, dtype):
    if isinstance(out, tuple) and len(out) == 1:   # ufunc style out=(arr,)
        out = out[0]
    if not isinstance(out, np.ndarray):
        raise TypeError(f"{name}: out must be a NumPy array, got {type(out).__name__}")
    if out.shape != shape:
        raise ValueError(f"{name}: out has shape {out.shape}, the result has shape {shape}")
    if not np.can_cast(dtype, out.dtype, casting="same_kind"):
        raise TypeError(f"{name}: cannot write the {dtype} result to out of dtype {out.dtype} "
                        "under casting='same_kind'")
    if not out.flags.writeable:
        raise ValueError(f"{name}: out is read-only")
    return out


def _stride(a, dims):
    """The single byte stride of a's axes `dims` (outer to inner) taken as one axis, or
    None if their strides do not allow it."""
    size, stride = 1, 0
    for d in reversed(dims):
        n = a.shape[d]
        if n == 1:
            continue
        if size == 1:
            stride = a.strides[d]
        elif a.strides[d] != stride * size:
            return None
        size *= n
    return stride


def _strides(a, ax, outer, inner):
    """(so, sk, si) of a viewed as (outer, n, inner), or None."""
    so, si = _stride(a, outer), _stride(a, inner)
    return None if so is None or si is None else (so, a.strides[ax], si)


def _empty(shape, order, dtype):
    """An uninitialised array of `shape` whose memory runs through the axes in `order`."""
    if order == sorted(order):
        return np.empty(shape, dtype)
    return np.empty([shape[d] for d in order], dtype).transpose(np.argsort(order))


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
    dtype = _result_dtype(np.result_type(a.dtype, b.dtype) if b is not None else a.dtype)
    rshape = a.shape[:ax] + ((1,) if keepdims else ()) + a.shape[ax + 1:] if lse else a.shape
    if out is not None:
        out = _check_out(name, out, rshape, dtype)

    # the axes before and after ax, outermost first in a's memory, collapse to outer and inner
    strides = a.strides
    outer = sorted(range(ax), key=lambda d: -abs(strides[d])) if ax > 1 else list(range(ax))
    inner = sorted(range(ax + 1, a.ndim), key=lambda d: -abs(strides[d])) if a.ndim - ax > 2 \
        else list(range(ax + 1, a.ndim))
    sa = _strides(a, ax, outer, inner)
    if sa is None:
        a = np.ascontiguousarray(a)
        outer, inner = list(range(ax)), list(range(ax + 1, a.ndim))
        sa = _strides(a, ax, outer, inner)
    order = outer + [ax] + inner
    sb = None
    if b is not None:
        sb = _strides(b, ax, outer, inner)
        if sb is None:   # b follows a's axis order
            b2 = _empty(b.shape, order, b.dtype)
            np.copyto(b2, b)
            b, sb = b2, _strides(b2, ax, outer, inner)

    # the result: out itself when C can write there, else a fresh array in a's axis order
    full = out if out is None or not lse or keepdims else np.expand_dims(out, ax)
    res = so = None
    if out is not None and full.dtype == dtype and full.dtype.isnative:
        so = _strides(full, ax, outer, inner)
        if so is not None and _writable_in_place(full, (a,) if b is None else (a, b), not lse):
            res = full
    if res is None:
        res = _empty(a.shape[:ax] + (1,) + a.shape[ax + 1:] if lse else a.shape, order, dtype)
        so = _strides(res, ax, outer, inner)

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


def _plain(a, ax):
    """a is a non-empty C-contiguous float32/float64 array and ax its last axis."""
    return ax == a.ndim - 1 and a.flags.c_contiguous and a.size and a.dtype in (_F32, _F64)


def _plain_out(out, inputs):
    """out is a writeable C-contiguous array like inputs[0], one of them or apart from them."""
    x = inputs[0]
    return type(out) is np.ndarray and out.shape == x.shape and out.dtype == x.dtype \
        and out.flags.c_contiguous and out.flags.writeable \
        and all(out is a or not np.may_share_memory(out, a) for a in inputs)


def _run_plain(name, a, b, out):
    """The common call (C-contiguous, last axis, one float dtype) without the layout
    search of _run: it matters for small arrays."""
    res, n, size = np.empty_like(a) if out is None else out, a.shape[-1], a.itemsize
    st = (n * size, size, size)
    _core.softmax_run(_OPS[name], a.size // n, n, 1, a, st, b, st, res, st)
    return res


def _forward(name, x, axis, out, keepdims=False):
    x = _input(name, x)
    ax = _axis(name, axis, x.ndim)
    if name != "logsumexp" and _plain(x, ax) and (out is None or _plain_out(out, (x,))):
        return _run_plain(name, x, None, out)
    return _run(name, x, None, ax, out, keepdims)


def _backward(name, dy, y, axis, out, dy_name):
    dy, y = _input(name, dy), _input(name, y)
    if dy.shape != y.shape:
        raise ValueError(f"{name}: {dy_name} and y must have the same shape, got {dy.shape} and {y.shape}")
    ax = _axis(name, axis, y.ndim)
    common = np.result_type(dy.dtype, y.dtype)
    if _computes_in_f32(dy.dtype) != _computes_in_f32(y.dtype):
        # C reads both in one precision: bring the other one to the promoted dtype
        target = _result_dtype(common)
        dy, y = dy.astype(target, copy=False), y.astype(target, copy=False)
    if dy.dtype == y.dtype and _plain(dy, ax) and y.flags.c_contiguous and (out is None or _plain_out(out, (dy, y))):
        return _run_plain("softmax_backward" if name == "softmax_jvp" else name, dy, y, out)
    return _run(name, dy, y, ax, out)


def softmax(x, axis=-1, out=None):
    """exp(x - max) / sum(exp(x - max)) along axis.

    Rows holding +inf or NaN, and all -inf rows, give NaN; huge logits give exact one-hots."""
    return _forward("softmax", x, axis, out)


def log_softmax(x, axis=-1, out=None):
    """x - max - log(sum(exp(x - max))) along axis (never the log of a rounded softmax)."""
    return _forward("log_softmax", x, axis, out)


def logsumexp(x, axis=-1, keepdims=False, out=None):
    """log(sum(exp(x))) along axis without overflow; -inf over a zero-length axis or an all
    -inf row, +inf for a row holding +inf, NaN for a row holding NaN."""
    return _forward("logsumexp", x, axis, out, keepdims)


def softmax_backward(dy, y, axis=-1, out=None):
    """The vector-Jacobian product J^T dy = y * (dy - sum(dy * y)) of y = softmax(x)."""
    return _backward("softmax_backward", dy, y, axis, out, "dy")


def softmax_jvp(v, y, axis=-1, out=None):
    """The Jacobian-vector product J v = y * (v - sum(v * y)) of y = softmax(x): J is
    symmetric, so this is the VJP formula."""
    return _backward("softmax_jvp", v, y, axis, out, "v")


def log_softmax_backward(dy, y, axis=-1, out=None):
    """dy - exp(y) * sum(dy) for y = log_softmax(x)."""
    return _backward("log_softmax_backward", dy, y, axis, out, "dy")


def softmax_jacobian(y, axis=-1):
    """The Jacobian diag(y) - y y^T of y = softmax(x) along axis, with shape
    (the other axes in order, n, n).  The diagonal is y (1 - y), which keeps its
    accuracy where y is close to 1."""
    name = "softmax_jacobian"
    y = _input(name, y)
    ax = _axis(name, axis, y.ndim)
    dtype = _result_dtype(y.dtype)
    yl = np.moveaxis(y, ax, -1).astype(_F32 if dtype == _F16 else dtype, copy=False)
    n = yl.shape[-1]
    with np.errstate(all="ignore"):   # only non-finite y overflow or make NaN here
        jac = np.multiply(yl[..., :, None], -yl[..., None, :])
        jac.reshape(jac.shape[:-2] + (n * n,))[..., ::n + 1] = yl * (1 - yl)
    return jac.astype(dtype, copy=False)
