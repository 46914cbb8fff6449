"""The argument rules of the softmax family, the losses and their dask versions, written
once (docs/api.md sections 1, 3 and 4): which arrays and dtypes are accepted, the dtype a
result has, axes, reductions, scalars, ``out=``, and the memory layouts the C core reads
in place.  Every error names the function, and the same input gets the same error text
on every path.  (The elementwise functions are ufuncs: NumPy applies the same dtype rules
to them through the loops registered in _core.pyx.)"""
import math
import operator

import numpy as np

from ._optable import real_param

F32, F64, I64 = np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.int64)
REDUCTIONS = {"none": 0, "mean": 1, "sum": 2}
NONE = 0
_I64_RANGE = (-2 ** 63, 2 ** 63 - 1)


def real_array(fname, what, a):
    """a as an ndarray of bool, integers or float16/32/64 in native byte order, or
    TypeError.  Masked arrays are refused: these functions mix every element of a row
    or a sample, so silently using the masked data would be wrong."""
    if type(a) is not np.ndarray:
        if isinstance(a, np.ma.MaskedArray):
            raise TypeError(f"{fname}: {what} is a masked array, which this function does not support; "
                            "pass a.filled(value) or the unmasked part of the data")
        a = np.asarray(a)
    dt = a.dtype
    if dt is F64 or dt is F32:
        return a
    real_dtype(fname, what, dt)
    return a if dt.isnative else a.astype(np.dtype(dt.char))   # native byte order


def real_dtype(fname, what, dt):
    """TypeError unless dt is bool, an integer or float16/32/64 (of either byte order)."""
    if not (dt.kind in "biu" or (dt.kind == "f" and dt.itemsize in (2, 4, 8))):
        raise TypeError(f"{fname}: {what} must be real numbers (bool, integer or float), got dtype {dt}")


def result_dtype(dt):
    """float16/32/64 keep their dtype (in native byte order); bool and integers give float64."""
    return (dt if dt.isnative else np.dtype(dt.char)) if dt.kind == "f" else F64


def compute_dtype(dt):
    """The dtype the C core computes a result of dtype result_dtype(dt) in."""
    return F32 if dt.kind == "f" and dt.itemsize <= 4 else F64


def pair_dtypes(a, b):
    """The dtypes to bring two operands of dtypes a and b to: the C core reads both in one
    precision, so when theirs differ both become the promoted result dtype (as a ufunc
    would promote them); else they stay."""
    if a == b or compute_dtype(a) == compute_dtype(b):
        return a, b
    target = result_dtype(np.result_type(a, b))
    return target, target


def floats(fname, what, a):
    """(a as an array of its compute dtype, the result dtype)."""
    a = real_array(fname, what, a)
    dt = a.dtype
    if dt is F32 or dt is F64:
        return a, dt
    return a.astype(compute_dtype(dt)), result_dtype(dt)


def cast(fname, what, a, dtype):
    """A real array of `dtype` (the compute dtype of another operand)."""
    a = real_array(fname, what, a)
    return a if a.dtype is dtype else a.astype(dtype)


def axis(fname, axis, ndim):
    """axis as an index in [0, ndim): TypeError unless an integer, AxisError unless in range."""
    axis = integer(fname, "axis", axis)
    if not -ndim <= axis < ndim:
        raise np.exceptions.AxisError(axis, ndim, msg_prefix=fname)
    return axis % ndim


def integer(fname, what, value):
    """value as a Python int (anything operator.index takes), or TypeError."""
    if type(value) is int:
        return value
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"{fname}: {what} must be an integer, got {value!r}") from None


def same_shape(fname, a_name, a, b_name, b):
    if a.shape != b.shape:
        raise ValueError(f"{fname}: {b_name} has shape {b.shape}, {a_name} has shape {a.shape}; "
                         "they must be the same")


def reduction(fname, reduction):
    """The C code (enum ag_reduction) of 'none', 'mean' or 'sum'."""
    try:
        return REDUCTIONS[reduction]
    except (KeyError, TypeError):
        raise ValueError(f"{fname}: reduction must be 'none', 'mean' or 'sum', got {reduction!r}") from None


def label_smoothing(fname, value):
    value = real_param(fname, "label_smoothing", value)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{fname}: label_smoothing must be in [0, 1], got {value}")
    return value


def int64(fname, what, value):
    """An integer argument the C core holds in an int64."""
    value = integer(fname, what, value)
    if not _I64_RANGE[0] <= value <= _I64_RANGE[1]:
        raise OverflowError(f"{fname}: {what} must fit in a 64-bit signed integer, got {value}")
    return value


def class_target(fname, target, shape, ax):
    """Whether a cross-entropy target (anything with .shape, .ndim and .dtype) of logits
    of `shape` with the classes along ax holds probabilities (True) or class indices
    (False); TypeError or ValueError when it is neither."""
    sample_shape = shape[:ax] + shape[ax + 1:]
    tshape, kind = target.shape, target.dtype.kind
    if len(tshape) == len(shape) - 1:
        if kind not in "iu":
            raise TypeError(
                f"{fname}: target of shape {tshape} (logits' shape without the class axis) must hold "
                f"integer class indices, got dtype {target.dtype}; class probabilities are given as floats "
                f"with the shape of logits {shape}")
        if tshape != sample_shape:
            raise ValueError(f"{fname}: class-index target has shape {tshape}, expected {sample_shape} "
                             f"(logits {shape} without axis {ax})")
        return False
    if len(tshape) == len(shape):
        if tshape != shape:
            raise ValueError(f"{fname}: probability target has shape {tshape}, expected the shape "
                             f"of logits {shape}")
        if kind != "f":
            raise TypeError(
                f"{fname}: target with the shape of logits {shape} must hold float class "
                f"probabilities, got dtype {target.dtype}; class indices are given as integers with "
                f"the shape of logits without the class axis, {sample_shape}")
        return True
    raise ValueError(f"{fname}: target has shape {tshape}; expected class indices of shape "
                     f"{sample_shape} or class probabilities of shape {shape}")


def class_weight(fname, weight, C):
    """Cross-entropy's weight (anything with .shape) must have one value per class."""
    if weight.shape != (C,):
        raise ValueError(f"{fname}: weight must have shape ({C},) (one per class), got {weight.shape}")


def upstream_grad(fname, red, grad):
    """The upstream gradient of a _backward call: (a scalar, None), or (1.0, an operand) for
    reduction 'none' where it is given per element (the caller checks its shape).  For
    'mean' and 'sum' it is a real scalar (a 0-d array too)."""
    if type(grad) is float:
        return grad, None
    if red == NONE:
        return (float(grad), None) if type(grad) is int else (1.0, grad)
    g = np.asarray(grad)
    if g.ndim != 0 or g.dtype.kind not in "biuf":
        raise ValueError(f"{fname}: grad must be a real scalar for reduction 'mean' or 'sum', got {grad!r}")
    return float(g), None


def out(fname, out, shape, dtype, what="result"):
    """The user's out= array (a 1-tuple as ufuncs take it too), checked before anything is
    written: an ndarray of the result's shape, writeable, that can hold `dtype` under
    same_kind casting."""
    if type(out) is tuple and len(out) == 1:
        out = out[0]
    if not isinstance(out, np.ndarray):
        raise TypeError(f"{fname}: out must be a NumPy array, got {type(out).__name__}")
    if out.shape != shape:
        raise ValueError(f"{fname}: out has shape {out.shape}, the {what} has shape {shape}")
    if not np.can_cast(dtype, out.dtype, casting="same_kind"):
        raise TypeError(f"{fname}: cannot write the {dtype} {what} to out of dtype {out.dtype} "
                        "under casting='same_kind'")
    if not out.flags.writeable:
        raise ValueError(f"{fname}: out is read-only")
    return out


def no_out(fname, out):
    """dask results are lazy: out= has nothing to write to."""
    if out is not None:
        raise TypeError(f"{fname}: out= is not supported for dask arrays, whose results are lazy; "
                        "use the returned array (da.store(result, out) writes it to an array)")


# ---- layouts: an array seen by C as (outer, n, inner) with one stride each ----

def stride(a, dims):
    """The single byte stride of a's axes `dims` (outer to inner) taken as one axis, or
    None if their strides do not allow it."""
    size, st = 1, 0
    for d in reversed(dims):
        n = a.shape[d]
        if n == 1:
            continue
        if size == 1:
            st = a.strides[d]
        elif a.strides[d] != st * size:
            return None
        size *= n
    return st


def strides3(a, ax, outer, inner):
    """The byte strides (outer, axis, inner) of a viewed as (prod outer, n, prod inner), or None."""
    so, si = stride(a, outer), stride(a, inner)
    return None if so is None or si is None else (so, a.strides[ax], si)


def empty(shape, order, dtype):
    """An uninitialised array of `shape` whose memory runs through the axes in `order`."""
    if order == sorted(order):
        return np.empty(shape, dtype)
    return np.empty([shape[d] for d in order], dtype).transpose(np.argsort(order))


def like(a, order, ax, outer, inner):
    """(a, its strides3), a copied into the axis order `order` when its strides do not collapse."""
    s = strides3(a, ax, outer, inner)
    if s is None:
        b = empty(a.shape, order, a.dtype)
        np.copyto(b, a)
        a, s = b, strides3(b, ax, outer, inner)
    return a, s


def elements(strides, itemsize):
    """Byte strides in elements, or None where one is not a whole number of them."""
    for s in strides:
        if s % itemsize:
            return None
    return tuple(s // itemsize for s in strides)


def sizes(shape, ax):
    """(outer, n, inner) of shape around axis ax."""
    return math.prod(shape[:ax]), shape[ax], math.prod(shape[ax + 1:])
