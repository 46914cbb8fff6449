"""Losses and their gradients (API.md section 4): argument checks, dtype rules,
layouts, ``out=`` and reductions.  The arithmetic is in C (csrc/losses.c,
losses_pointwise.c, loops/losses_body.h), reached
through actgrad._core; docs/losses.md derives the formulas."""
import math
import operator

import numpy as np

from . import _core

_REDUCTIONS = {"none": 0, "mean": 1, "sum": 2}
_NONE = 0
_F16 = np.dtype(np.float16)
_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)
_I64 = np.dtype(np.int64)
_AxisError = np.exceptions.AxisError


def _reduction(fname, reduction):
    try:
        return _REDUCTIONS[reduction]
    except (KeyError, TypeError):
        raise ValueError(f"{fname}: reduction must be 'none', 'mean' or 'sum', got {reduction!r}") from None


def _floats(fname, what, a):
    """(a as an ndarray of its compute dtype, the result dtype): float32/float64 as they
    are, float16 computed in float32, bool and integers in float64 (API.md section 1)."""
    if type(a) is not np.ndarray:
        a = np.asarray(a)
    dt = a.dtype
    if (dt is _F32 or dt is _F64) or (dt.char in "fd" and dt.isnative):
        return a, dt
    if dt.kind == "f" and dt.itemsize in (4, 8):
        return a.astype(dt.newbyteorder("=")), dt.newbyteorder("=")
    if dt == _F16:
        return a.astype(_F32), _F16
    if dt.kind in "biu":
        return a.astype(_F64), _F64
    raise TypeError(f"{fname}: {what} must be real numbers (bool, integer or float), got dtype {dt}")


def _as(fname, what, a, dtype):
    """A real array cast to the compute dtype, C-contiguous."""
    if type(a) is not np.ndarray:
        a = np.asarray(a)
    if a.dtype is not dtype:
        if a.dtype.kind not in "biuf":
            raise TypeError(f"{fname}: {what} must be real numbers, got dtype {a.dtype}")
        return np.ascontiguousarray(a, dtype=dtype)
    return a if a.flags.c_contiguous else np.ascontiguousarray(a)


def _smoothing(fname, label_smoothing):
    if type(label_smoothing) is not float:
        try:
            label_smoothing = float(label_smoothing)
        except (TypeError, ValueError):
            raise TypeError(f"{fname}: label_smoothing must be a number, got {label_smoothing!r}") from None
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{fname}: label_smoothing must be in [0, 1], got {label_smoothing}")
    return label_smoothing


def _scalar_grad(fname, grad):
    """The upstream gradient of a mean or sum loss: a real scalar."""
    if type(grad) is float:
        return grad
    g = np.asarray(grad)
    if g.ndim != 0 or g.dtype.kind not in "biuf":
        raise ValueError(f"{fname}: grad must be a real scalar for reduction 'mean' or 'sum', got {grad!r}")
    return float(g)


def _grad_out(fname, out, shape, cdt, rdt, inputs, x):
    """(the array the C core writes the gradient into, the array to copy it to or None).
    The C core writes `out` itself when it is C-contiguous, of the compute dtype and
    overlaps no input, except that it may be the logits x themselves (each element is read
    before it is written; a partial overlap would read gradients written by other rows,
    blocks or threads)."""
    if out is None:
        return np.empty(shape, cdt), None
    if not isinstance(out, np.ndarray):
        raise TypeError(f"{fname}: out must be a NumPy array, got {type(out).__name__}")
    if out.shape != shape:
        raise ValueError(f"{fname}: out has shape {out.shape}, the gradient has shape {shape}")
    flags = out.flags
    if not flags.writeable:
        raise ValueError(f"{fname}: out is read-only")
    if out.dtype is cdt and rdt is cdt and flags.c_contiguous:
        for a in inputs:
            if a is not None and np.may_share_memory(a, out):
                break
        else:
            if not np.may_share_memory(x, out) or x.ctypes.data == out.ctypes.data:
                return out, None
    elif not np.can_cast(rdt, out.dtype, "same_kind"):
        raise TypeError(f"{fname}: cannot write the {rdt} gradient to out of dtype {out.dtype} "
                        "under 'same_kind' casting")
    return np.empty(shape, cdt), out


def _finish(loss, total, rdt, red, g, out, want_loss, want_grad):
    """The results in the result dtype: the loss (total, a scalar of the compute dtype, unless
    reduction 'none') and/or the gradient g (copied to out unless None)."""
    if out is None and total.dtype is rdt:   # computed in the result dtype, in place (usual)
        if red != _NONE:
            loss = total
        return (loss, g) if want_loss and want_grad else (g if want_grad else loss)
    if want_loss:
        loss = total if red != _NONE else loss
        if loss.dtype != rdt:
            loss = rdt.type(loss) if red != _NONE else loss.astype(rdt)
    if not want_grad:
        return loss
    if out is not None:
        np.copyto(out, g, casting="same_kind")
        g = out
    elif g.dtype != rdt:
        g = g.astype(rdt)
    return (loss, g) if want_loss else g


# ---- cross-entropy ----

def _ce(fname, logits, target, axis, weight, ignore_index, reduction, label_smoothing, grad, out,
        want_loss, want_grad):
    red = _REDUCTIONS.get(reduction) if type(reduction) is str else None
    if red is None:
        red = _reduction(fname, reduction)
    x = logits
    if type(x) is np.ndarray and ((cdt := x.dtype) is _F32 or cdt is _F64):
        rdt = cdt
    else:
        x, rdt = _floats(fname, "logits", logits)
        cdt = x.dtype
    ndim = x.ndim
    if type(axis) is not int:
        try:
            axis = operator.index(axis)
        except TypeError:
            raise TypeError(f"{fname}: axis must be an integer, got {axis!r}") from None
    shape = x.shape
    if axis == -1 and ndim == 2:   # the usual (N, C)
        outer, C = shape
        inner = 1
        sample_shape = (outer,)
    else:
        if not -ndim <= axis < ndim:
            raise _AxisError(axis, ndim, f"{fname}: class axis")
        ax = axis % ndim
        C = shape[ax]
        outer = math.prod(shape[:ax])
        inner = math.prod(shape[ax + 1:])
        sample_shape = shape[:ax] + shape[ax + 1:]
    if not x.flags.c_contiguous:
        x = np.ascontiguousarray(x)
    ls = 0.0 if type(label_smoothing) is float and label_smoothing == 0.0 else \
        _smoothing(fname, label_smoothing)
    if type(ignore_index) is not int:
        try:
            ignore_index = operator.index(ignore_index)
        except TypeError:
            raise TypeError(f"{fname}: ignore_index must be an integer, got {ignore_index!r}") from None

    t = target if type(target) is np.ndarray else np.asarray(target)
    probs = index = None
    if t.ndim == ndim - 1 and t.dtype is _I64 and t.shape == sample_shape and t.flags.c_contiguous:
        index = t
    elif t.ndim == ndim - 1:
        if t.dtype.kind not in "iu":
            raise TypeError(
                f"{fname}: target of shape {t.shape} (logits' shape without the class axis) must hold "
                f"integer class indices, got dtype {t.dtype}; class probabilities are given as floats "
                f"with the shape of logits {shape}")
        if t.shape != sample_shape:
            raise ValueError(f"{fname}: class-index target has shape {t.shape}, expected {sample_shape} "
                             f"(logits {shape} without axis {axis})")
        if t.dtype is not _I64 and t.dtype != _I64:
            if t.dtype.kind == "u" and t.size and t.max() > np.iinfo(np.int64).max:
                bad = int(t.max())
                raise IndexError(f"{fname}: target {bad} is out of bounds for {C} classes")
            t = t.astype(_I64)
        index = t if t.flags.c_contiguous else np.ascontiguousarray(t)
    elif t.ndim == ndim:
        if t.shape != shape:
            raise ValueError(f"{fname}: probability target has shape {t.shape}, expected the shape "
                             f"of logits {shape}")
        if t.dtype.kind != "f":
            raise TypeError(
                f"{fname}: target with the shape of logits {shape} must hold float class "
                f"probabilities, got dtype {t.dtype}; class indices are given as integers with "
                f"the shape of logits without the class axis, {sample_shape}")
        probs = _as(fname, "target", t, cdt)
    else:
        raise ValueError(f"{fname}: target has shape {t.shape}; expected class indices of shape "
                         f"{sample_shape} or class probabilities of shape {shape}")

    w = None
    if weight is not None:
        w = _as(fname, "weight", weight, cdt)
        if w.shape != (C,):
            raise ValueError(f"{fname}: weight must have shape ({C},) (one per class), got {w.shape}")

    gscalar, grads = 1.0, None
    if want_grad and not want_loss:
        if red != _NONE:
            gscalar = _scalar_grad(fname, grad)
        elif type(grad) is float or type(grad) is int:
            gscalar = float(grad)
        else:
            g = _as(fname, "grad", grad, cdt)
            try:
                grads = np.broadcast_to(g, sample_shape).reshape(outer, inner)
            except ValueError:
                raise ValueError(f"{fname}: grad of shape {g.shape} does not broadcast to the loss "
                                 f"shape {sample_shape}") from None

    dx = gret = None
    if want_grad:
        if out is None and rdt is cdt:
            dx = np.empty(shape, cdt)
        else:
            dx, gret = _grad_out(fname, out, shape, cdt, rdt, (index, probs, grads, w), x)
    loss = np.empty(sample_shape, cdt) if want_loss and red == _NONE else None
    rc, total, bad = _core.cross_entropy(x, outer, C, inner, index, probs, w, ignore_index, ls, red,
                                         gscalar, grads, loss, dx, want_loss and red != _NONE)
    if rc:
        if rc == 1:
            raise IndexError(f"{fname}: target {bad} is out of bounds for {C} classes "
                             f"(ignore_index={ignore_index})")
        raise MemoryError(f"{fname}: out of memory")
    return _finish(loss, total, rdt, red, dx, gret, want_loss, want_grad)


def _ce_fast(fname, logits, target, axis, ignore_index, reduction, label_smoothing, grad, want_loss,
             want_grad, out=None):
    """The usual call -- (N, C) float logits, int64 labels, a mean or sum loss, no weight, no
    out or a ready one -- in one step through _core.cross_entropy_fast, or None for the
    general path."""
    if ((axis != -1 and axis != 1) or type(ignore_index) is not int or type(label_smoothing) is not float
            or not 0.0 <= label_smoothing <= 1.0 or type(grad) is not float
            or (reduction != "mean" and reduction != "sum")):
        return None
    r = _core.cross_entropy_fast(logits, target, ignore_index, label_smoothing, _REDUCTIONS[reduction],
                                 grad, want_loss, want_grad, out)
    if r is None:
        return None
    rc, loss, dx, bad = r
    if rc:
        if rc == 1:
            raise IndexError(f"{fname}: target {bad} is out of bounds for {logits.shape[1]} classes "
                             f"(ignore_index={ignore_index})")
        raise MemoryError(f"{fname}: out of memory")
    return (loss, dx) if want_loss and want_grad else (dx if want_grad else loss)


def cross_entropy(logits, target, axis=-1, weight=None, ignore_index=-100, reduction="mean",
                  label_smoothing=0.0):
    """PyTorch's F.cross_entropy with the classes along `axis`: `target` holds class
    indices (the shape of logits without `axis`) or class probabilities (the shape of
    logits).  Returns a NumPy scalar for reduction 'mean'/'sum', an array for 'none'."""
    if weight is None and (r := _ce_fast("cross_entropy", logits, target, axis, ignore_index, reduction,
                                         label_smoothing, 1.0, True, False)) is not None:
        return r
    return _ce("cross_entropy", logits, target, axis, weight, ignore_index, reduction,
               label_smoothing, 1.0, None, True, False)


def cross_entropy_backward(logits, target, axis=-1, weight=None, ignore_index=-100, reduction="mean",
                           label_smoothing=0.0, grad=1.0, out=None):
    """d loss / d logits of cross_entropy, times the upstream `grad` (a scalar, or one value
    per sample for reduction 'none')."""
    if weight is None and (r := _ce_fast(
            "cross_entropy_backward", logits, target, axis, ignore_index, reduction, label_smoothing,
            grad, False, True, out)) is not None:
        return r
    return _ce("cross_entropy_backward", logits, target, axis, weight, ignore_index, reduction,
               label_smoothing, grad, out, False, True)


def cross_entropy_with_grad(logits, target, axis=-1, weight=None, ignore_index=-100,
                            reduction="mean", label_smoothing=0.0, out=None):
    """(cross_entropy(...), d loss / d logits) from one fused pass over the logits; for
    reduction 'none' the gradient is that of the sum of the losses."""
    if weight is None and (r := _ce_fast(
            "cross_entropy_with_grad", logits, target, axis, ignore_index, reduction, label_smoothing,
            1.0, True, True, out)) is not None:
        return r
    return _ce("cross_entropy_with_grad", logits, target, axis, weight, ignore_index, reduction,
               label_smoothing, 1.0, out, True, True)


# ---- elementwise losses ----

def _pattern(fname, what, a, shape, cdt):
    """An operand broadcast to `shape`, flattened, as (array, rep, period): element k of
    the broadcast is array[(k // rep) % period] (see ag_bcast).  Its non-1 axes must be
    one block of `shape` to be read in place; other broadcasts are materialized."""
    a = _as(fname, what, a, cdt)
    if a.shape == shape:
        return a, 1, max(a.size, 1)
    try:
        if np.broadcast_shapes(a.shape, shape) != shape:
            raise ValueError
    except ValueError:
        raise ValueError(f"{fname}: {what} of shape {a.shape} does not broadcast to {shape}") from None
    s = (1,) * (len(shape) - a.ndim) + a.shape
    big = [i for i, d in enumerate(s) if d != 1]
    if not big or math.prod(shape) == 0:
        return a, 1, 1
    lo, hi = big[0], big[-1] + 1
    if s[lo:hi] == shape[lo:hi]:
        return a, math.prod(shape[hi:]), math.prod(shape[lo:hi])
    return np.ascontiguousarray(np.broadcast_to(a, shape)), 1, math.prod(shape)


def _pointwise(fname, mse, x, target, weight, pos_weight, reduction, grad, out, want_loss, want_grad):
    red = _reduction(fname, reduction)
    what = "pred" if mse else "logits"
    x, rdt = _floats(fname, what, x)
    cdt = x.dtype
    shape = x.shape
    if not x.flags.c_contiguous:
        x = np.ascontiguousarray(x)
    t = target if type(target) is np.ndarray else np.asarray(target)
    if t.shape != shape:
        raise ValueError(f"{fname}: target has shape {t.shape}, {what} has shape {shape}; they must "
                         "be the same")
    t = _as(fname, "target", t, cdt)
    w = pw = None
    wp = pwp = (1, 1)
    if weight is not None:
        w, *wp = _pattern(fname, "weight", weight, shape, cdt)
    if pos_weight is not None:
        pw, *pwp = _pattern(fname, "pos_weight", pos_weight, shape, cdt)
    gscalar, grads, gp = 1.0, None, (1, 1)
    if want_grad and not want_loss:
        if red != _NONE:
            gscalar = _scalar_grad(fname, grad)
        elif type(grad) is float or type(grad) is int:
            gscalar = float(grad)
        else:
            grads, *gp = _pattern(fname, "grad", grad, shape, cdt)
    dx = gret = None
    if want_grad:
        dx, gret = _grad_out(fname, out, shape, cdt, rdt, (t, w, pw, grads), x)
    loss = np.empty(shape, cdt) if want_loss and red == _NONE else None
    rc, total = _core.pointwise_loss(mse, x, t, w, wp[0], wp[1], pw, pwp[0], pwp[1], red, gscalar,
                                     grads, gp[0], gp[1], loss, dx, want_loss and red != _NONE)
    if rc:
        raise MemoryError(f"{fname}: out of memory")
    return _finish(loss, total, rdt, red, dx, gret, want_loss, want_grad)


def binary_cross_entropy_with_logits(logits, target, weight=None, pos_weight=None, reduction="mean"):
    """PyTorch's F.binary_cross_entropy_with_logits, stable for logits of any size:
    w ((1 - t) x + (1 + (pos_weight - 1) t) softplus(-x)); weight and pos_weight broadcast
    against logits."""
    return _pointwise("binary_cross_entropy_with_logits", False, logits, target, weight, pos_weight,
                      reduction, 1.0, None, True, False)


def binary_cross_entropy_with_logits_backward(logits, target, weight=None, pos_weight=None,
                                              reduction="mean", grad=1.0, out=None):
    """d loss / d logits = w ((1 + (pos_weight - 1) t) sigmoid(x) - pos_weight t), times `grad`
    (/ N for the mean)."""
    return _pointwise("binary_cross_entropy_with_logits_backward", False, logits, target, weight,
                      pos_weight, reduction, grad, out, False, True)


def binary_cross_entropy_with_logits_with_grad(logits, target, weight=None, pos_weight=None,
                                               reduction="mean", out=None):
    """(binary_cross_entropy_with_logits(...), d loss / d logits) from one pass."""
    return _pointwise("binary_cross_entropy_with_logits_with_grad", False, logits, target, weight,
                      pos_weight, reduction, 1.0, out, True, True)


def mse_loss(pred, target, reduction="mean"):
    """PyTorch's F.mse_loss: (pred - target)^2, pred and target of the same shape."""
    return _pointwise("mse_loss", True, pred, target, None, None, reduction, 1.0, None, True, False)


def mse_loss_backward(pred, target, reduction="mean", grad=1.0, out=None):
    """d loss / d pred = 2 (pred - target) times `grad` (/ N for the mean)."""
    return _pointwise("mse_loss_backward", True, pred, target, None, None, reduction, grad, out,
                      False, True)


def mse_loss_with_grad(pred, target, reduction="mean", out=None):
    """(mse_loss(...), d loss / d pred) from one pass."""
    return _pointwise("mse_loss_with_grad", True, pred, target, None, None, reduction, 1.0, out,
                      True, True)


__all__ = ["cross_entropy", "cross_entropy_backward", "cross_entropy_with_grad",
           "binary_cross_entropy_with_logits", "binary_cross_entropy_with_logits_backward",
           "binary_cross_entropy_with_logits_with_grad", "mse_loss", "mse_loss_backward",
           "mse_loss_with_grad"]
FUNCTIONS = {f.__name__: f for f in (
    cross_entropy, cross_entropy_backward, cross_entropy_with_grad,
    binary_cross_entropy_with_logits, binary_cross_entropy_with_logits_backward,
    binary_cross_entropy_with_logits_with_grad, mse_loss, mse_loss_backward, mse_loss_with_grad)}
for _f in FUNCTIONS.values():
    _f.__module__ = "actgrad"
