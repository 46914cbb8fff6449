"""Losses and their gradients (docs/api.md section 4): target forms, layouts, ``out=``
and reductions; the argument rules are in _args.py.  The arithmetic is in C
(csrc/losses.c, losses_pointwise.c, loops/losses_body.h), reached through actgrad._core;
docs/losses.md derives the formulas."""
import math

import numpy as np

from . import _args as args, _core
from ._dispatch import usual_first

_F32, _F64, _I64 = args.F32, args.F64, args.I64
_ce_usual, _pointwise_usual = _core.cross_entropy_usual, _core.pointwise_usual
_NONE = args.NONE


def _contiguous(fname, what, a, dtype):
    """A real array cast to the compute dtype, C-contiguous (what the pointwise losses read)."""
    return np.ascontiguousarray(args.cast(fname, what, a, dtype))


def _grad_out(fname, out, x, rdt, inputs):
    """(the array the C core writes the gradient into, the array to copy it to or None).
    The gradient is laid out like x (whose layout np.empty_like reproduces).  The C core
    writes `out` itself when it is laid out like x, of x's dtype (the compute dtype), and
    overlaps no input but x itself (the kernels read each sample before writing it)."""
    if out is None:
        return np.empty_like(x), None
    out = args.out(fname, out, x.shape, rdt, "gradient")
    if out.dtype is x.dtype and rdt is x.dtype and out.strides == x.strides and \
            (not np.may_share_memory(out, x) or out.ctypes.data == x.ctypes.data) and \
            not any(a is not None and np.may_share_memory(a, out) for a in inputs):
        return out, None
    return np.empty_like(x), out


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

def _element_strides(a, split, ax):
    """a's element strides over (outer, n, inner): the axes before `split` as outer, ax
    (== split) as n, the rest as inner; over (outer, inner) when ax is None (a target's
    sample axes).  None where the strides do not allow it."""
    nd, st = a.ndim, a.strides
    if split == 1 and nd == (1 if ax is None else 2):   # the usual (samples, classes): no loops
        isz, s0 = a.itemsize, st[0]
        if ax is None:
            return None if s0 % isz else (s0 // isz, 0)
        s1 = st[1]
        return None if s0 % isz or s1 % isz else (s0 // isz, s1 // isz, 0)
    so, si = args.stride(a, range(split)), args.stride(a, range(split + (ax is not None), nd))
    if so is None or si is None:
        return None
    return args.elements((so, si) if ax is None else (so, st[ax], si), a.itemsize)


def _fail(fname, rc, bad, C, ignore_index):
    if rc == 1:
        raise IndexError(f"{fname}: target {bad} is out of bounds for {C} classes (ignore_index={ignore_index})")
    raise MemoryError(f"{fname}: out of memory")


def _ce(fname, logits, target, axis, weight, ignore_index, reduction, label_smoothing, grad, out,
        want_loss, want_grad):
    """The general call (the public functions first try the usual one, _core.cross_entropy_usual)."""
    red = args.REDUCTIONS.get(reduction) if type(reduction) is str else None
    if red is None:
        red = args.reduction(fname, reduction)
    x = logits
    if type(x) is np.ndarray and ((cdt := x.dtype) is _F32 or cdt is _F64):
        rdt = cdt
    else:
        x, rdt = args.floats(fname, "logits", logits)
        cdt = x.dtype
    ndim = x.ndim
    # the checks of _args, skipped for the plain values of the usual call
    ax = axis % ndim if type(axis) is int and -ndim <= axis < ndim else args.axis(fname, axis, ndim)
    ls = label_smoothing if type(label_smoothing) is float and 0.0 <= label_smoothing <= 1.0 else \
        args.label_smoothing(fname, label_smoothing)
    if type(ignore_index) is not int or not -2 ** 63 <= ignore_index < 2 ** 63:
        ignore_index = args.int64(fname, "ignore_index", ignore_index)
    shape = x.shape
    if ndim == 2 and ax == 1:   # the usual (samples, classes)
        (outer, C), inner, sample_shape = shape, 1, shape[:1]
    else:
        outer, C, inner = args.sizes(shape, ax)
        sample_shape = shape[:ax] + shape[ax + 1:]

    t = target if type(target) is np.ndarray else args.real_array(fname, "target", target)
    probs = index = None
    if (t.dtype is _I64 and t.shape == sample_shape) or not args.class_target(fname, t, shape, ax):
        if t.dtype is not _I64 and t.dtype != _I64:
            if t.dtype.kind == "u" and t.size and t.max() > np.iinfo(np.int64).max:
                raise IndexError(f"{fname}: target {int(t.max())} is out of bounds for {C} classes")
            t = t.astype(_I64)
        ts = _element_strides(t, ax, None)
        if ts is None:
            t = np.ascontiguousarray(t)
            ts = _element_strides(t, ax, None)
        index = t
    else:
        probs = args.cast(fname, "target", t, cdt)
        ts = (0, 0)

    w = None
    if weight is not None:
        w = np.ascontiguousarray(args.cast(fname, "weight", weight, cdt))
        args.class_weight(fname, w, C)

    gscalar, grads, gs = 1.0, None, (0, 0)
    if want_grad and not want_loss:
        gscalar, grads = args.upstream_grad(fname, red, grad)
        if grads is not None:
            g = args.cast(fname, "grad", grads, cdt)
            try:
                grads = np.broadcast_to(g, sample_shape).reshape(outer, inner)
            except ValueError:
                raise ValueError(f"{fname}: grad of shape {g.shape} does not broadcast to the loss "
                                 f"shape {sample_shape}") from None
            gs = args.elements(grads.strides, grads.itemsize)

    # C reads x with any strides; the gradient and probability targets share x's layout,
    # so they need an x whose layout np.empty_like reproduces (any C/F order, transposes)
    xs = _element_strides(x, ax, ax)
    if xs is None or ((want_grad or probs is not None) and not x.flags.c_contiguous
                      and np.empty_like(x).strides != x.strides):
        x = np.ascontiguousarray(x)
        xs = _element_strides(x, ax, ax)
    if probs is not None and probs.strides != x.strides:
        p = np.empty_like(x)
        np.copyto(p, probs)
        probs = p
    dx = gret = None
    if want_grad and out is not None:   # else the binding allocates it like x
        dx, gret = _grad_out(fname, out, x, rdt, (index, probs, grads, w))
    loss = np.empty(sample_shape, cdt) if want_loss and red == _NONE else None
    rc, total, bad, dx = _core.cross_entropy(x, outer, C, inner, xs, index, ts, probs, w, ignore_index, ls,
                                             red, gscalar, grads, gs, loss, dx, want_grad,
                                             want_loss and red != _NONE)
    if rc:
        _fail(fname, rc, bad, C, ignore_index)
    return _finish(loss, total, rdt, red, dx, gret, want_loss, want_grad)


@usual_first("_ce_usual(logits, target, axis, weight, ignore_index, reduction, "
             "label_smoothing, 1.0, None, True, False)")
def cross_entropy(logits, target, axis=-1, weight=None, ignore_index=-100, reduction="mean",
                  label_smoothing=0.0):
    """PyTorch's F.cross_entropy with the classes along `axis`: `target` holds class
    indices (the shape of logits without `axis`) or class probabilities (the shape of
    logits).  Returns a NumPy scalar for reduction 'mean'/'sum', an array for 'none'."""
    return _ce("cross_entropy", logits, target, axis, weight, ignore_index, reduction,
               label_smoothing, 1.0, None, True, False)


@usual_first("_ce_usual(logits, target, axis, weight, ignore_index, reduction, "
             "label_smoothing, grad, out, False, True)")
def cross_entropy_backward(logits, target, axis=-1, weight=None, ignore_index=-100, reduction="mean",
                           label_smoothing=0.0, grad=1.0, out=None):
    """d loss / d logits of cross_entropy, times the upstream `grad` (a scalar, or one value
    per sample for reduction 'none')."""
    return _ce("cross_entropy_backward", logits, target, axis, weight, ignore_index, reduction,
               label_smoothing, grad, out, False, True)


@usual_first("_ce_usual(logits, target, axis, weight, ignore_index, reduction, "
             "label_smoothing, 1.0, out, True, True)")
def cross_entropy_with_grad(logits, target, axis=-1, weight=None, ignore_index=-100,
                            reduction="mean", label_smoothing=0.0, out=None):
    """(cross_entropy(...), d loss / d logits) from one fused pass over the logits; for
    reduction 'none' the gradient is that of the sum of the losses."""
    return _ce("cross_entropy_with_grad", logits, target, axis, weight, ignore_index, reduction,
               label_smoothing, 1.0, out, True, True)


# ---- elementwise losses ----

def _pattern(fname, what, a, shape, cdt):
    """An operand broadcast to `shape`, flattened, as (array, rep, period): element k of
    the broadcast is array[(k // rep) % period] (see ag_bcast).  Its non-1 axes must be
    one block of `shape` to be read in place; other broadcasts are materialized."""
    a = _contiguous(fname, what, a, cdt)
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
    """The general call (the public functions first try the usual one, _core.pointwise_usual)."""
    red = args.reduction(fname, reduction)
    what = "pred" if mse else "logits"
    x, rdt = args.floats(fname, what, x)
    cdt = x.dtype
    shape = x.shape
    if not x.flags.c_contiguous:
        x = np.ascontiguousarray(x)
    t = args.real_array(fname, "target", target)
    args.same_shape(fname, what, x, "target", t)
    t = _contiguous(fname, "target", t, cdt)
    w = pw = None
    wp = pwp = (1, 1)
    if weight is not None:
        w, *wp = _pattern(fname, "weight", weight, shape, cdt)
    if pos_weight is not None:
        pw, *pwp = _pattern(fname, "pos_weight", pos_weight, shape, cdt)
    gscalar, grads, gp = 1.0, None, (1, 1)
    if want_grad and not want_loss:
        gscalar, grads = args.upstream_grad(fname, red, grad)
        if grads is not None:
            grads, *gp = _pattern(fname, "grad", grads, shape, cdt)
    dx = gret = None
    if want_grad:
        dx, gret = _grad_out(fname, out, x, rdt, (t, w, pw, grads))
    loss = np.empty(shape, cdt) if want_loss and red == _NONE else None
    rc, total = _core.pointwise_loss(mse, x, t, w, wp[0], wp[1], pw, pwp[0], pwp[1], red, gscalar,
                                     grads, gp[0], gp[1], loss, dx, want_loss and red != _NONE)
    if rc:
        raise MemoryError(f"{fname}: out of memory")
    return _finish(loss, total, rdt, red, dx, gret, want_loss, want_grad)


@usual_first("_pointwise_usual(False, logits, target, weight, pos_weight, reduction, 1.0, "
             "None, True, False)")
def binary_cross_entropy_with_logits(logits, target, weight=None, pos_weight=None, reduction="mean"):
    """PyTorch's F.binary_cross_entropy_with_logits, stable for logits of any size:
    w ((1 - t) x + (1 + (pos_weight - 1) t) softplus(-x)); weight and pos_weight broadcast
    against logits."""
    return _pointwise("binary_cross_entropy_with_logits", False, logits, target, weight,
                      pos_weight, reduction, 1.0, None, True, False)


@usual_first("_pointwise_usual(False, logits, target, weight, pos_weight, reduction, grad, "
             "out, False, True)")
def binary_cross_entropy_with_logits_backward(logits, target, weight=None, pos_weight=None,
                                              reduction="mean", grad=1.0, out=None):
    """d loss / d logits = w ((1 + (pos_weight - 1) t) sigmoid(x) - pos_weight t), times `grad`
    (/ N for the mean)."""
    return _pointwise("binary_cross_entropy_with_logits_backward", False, logits, target, weight,
                      pos_weight, reduction, grad, out, False, True)


@usual_first("_pointwise_usual(False, logits, target, weight, pos_weight, reduction, 1.0, "
             "out, True, True)")
def binary_cross_entropy_with_logits_with_grad(logits, target, weight=None, pos_weight=None,
                                               reduction="mean", out=None):
    """(binary_cross_entropy_with_logits(...), d loss / d logits) from one pass."""
    return _pointwise("binary_cross_entropy_with_logits_with_grad", False, logits, target, weight,
                      pos_weight, reduction, 1.0, out, True, True)


@usual_first("_pointwise_usual(True, pred, target, None, None, reduction, 1.0, None, True, False)")
def mse_loss(pred, target, reduction="mean"):
    """PyTorch's F.mse_loss: (pred - target)^2, pred and target of the same shape."""
    return _pointwise("mse_loss", True, pred, target, None, None, reduction, 1.0, None, True, False)


@usual_first("_pointwise_usual(True, pred, target, None, None, reduction, grad, out, False, True)")
def mse_loss_backward(pred, target, reduction="mean", grad=1.0, out=None):
    """d loss / d pred = 2 (pred - target) times `grad` (/ N for the mean)."""
    return _pointwise("mse_loss_backward", True, pred, target, None, None, reduction, grad, out, False, True)


@usual_first("_pointwise_usual(True, pred, target, None, None, reduction, 1.0, out, True, True)")
def mse_loss_with_grad(pred, target, reduction="mean", out=None):
    """(mse_loss(...), d loss / d pred) from one pass."""
    return _pointwise("mse_loss_with_grad", True, pred, target, None, None, reduction, 1.0, out, True, True)


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
