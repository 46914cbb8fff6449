"""actgrad on dask arrays: ``pip install "actgrad[dask]"``.

Elementwise functions need nothing from this module: they are NumPy ufuncs (or call one),
so ``ag.sigmoid(x)`` or ``ag.leaky_relu(x, 0.2)`` on a dask array returns a lazy dask array
with the same chunks, computed block by block by actgrad's C kernels, and an xarray
DataArray keeps its dims, coords and attrs.

The softmax family and the losses reduce along an axis, so they need a plan; the public
functions (``ag.softmax``, ``ag.cross_entropy_with_grad`` ...) send dask arrays here
(``import actgrad`` itself never imports dask).

* Softmax along an axis held in one chunk: every block is an independent ``ag.softmax``.
  Along an axis split over chunks: a two-level reduction.  Each chunk gives its row max
  m_j and r_j = log sum exp(x - m_j) (``ag.logsumexp`` of the shifted chunk, so r_j is
  accurate whatever the size of the logits); the chunks combine with the rescaling rule
  of the online softmax, M = max_j m_j, S = sum_j exp(r_j + m_j - M); then each block is
  exp(x - M) / S, log_softmax x - M - log S, logsumexp M + log S.  Only the partials (one
  value per chunk and row) are gathered, never the whole axis.
* Losses with the samples split over chunks (the class axis is brought into one chunk
  per block if it is not already: C values per sample): each block gives its loss sum
  (``reduction='sum'``) and its normaliser (the sum of the target weights, or the sample
  count), and ``'mean'`` divides the global sums.  ``_with_grad`` returns a lazy loss and a
  lazy gradient that share one fused pass per block when computed together
  (``dask.compute(loss, grad)``).

Threads inside dask workers: actgrad reads ``ACTGRAD_NUM_THREADS``, else
``OMP_NUM_THREADS``, when a worker process first calls it.  dask.distributed's nanny sets
``OMP_NUM_THREADS=1`` in worker processes (``distributed.nanny.pre-spawn-environ``), so
each worker thread runs actgrad single-threaded and the cluster never oversubscribes its
cores; to give each task more threads, set ``ACTGRAD_NUM_THREADS`` in the workers'
environment (e.g. ``distributed.nanny.pre-spawn-environ.ACTGRAD_NUM_THREADS``) to
cores / threads-per-worker.
"""
import operator

import dask.array as da
import numpy as np

from . import _losses, _softmax
from ._dispatch import LAZY

__all__ = ["is_dask", *LAZY]


def is_dask(*arrays):
    """Whether any argument is a dask array (checked without importing dask)."""
    return any(type(a).__module__.startswith("dask.array") for a in arrays)


def _float_dtype(dtype):
    """The dtype actgrad returns for an input dtype (API.md section 1)."""
    dtype = np.dtype(dtype)
    return dtype if dtype.kind == "f" and dtype.itemsize in (2, 4, 8) else np.dtype(np.float64)


def _axis(fname, x, axis):
    if x.ndim == 0:
        raise np.exceptions.AxisError(axis, 0, msg_prefix=fname)
    try:
        axis = operator.index(axis)
    except TypeError:
        raise TypeError(f"{fname}: axis must be an integer, got {axis!r}") from None
    if not -x.ndim <= axis < x.ndim:
        raise np.exceptions.AxisError(axis, x.ndim, msg_prefix=fname)
    return axis % x.ndim


def _no_out(fname, out):
    if out is not None:
        raise TypeError(f"{fname}: out= is not supported for dask arrays (results are lazy)")


def _reduction(fname, reduction):
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{fname}: reduction must be 'none', 'mean' or 'sum', got {reduction!r}")


# ---- softmax family ----


def _chunk_partials(block, axis):
    """(m, r) of one chunk's rows, axis kept with size 1: m = row max, r = log sum exp(x - m)
    (exact shift, then ag.logsumexp).  An all -inf row gives r = -inf; NaN/+inf stay in m."""
    m = np.max(block, axis=axis, keepdims=True)
    finite = np.isfinite(m)
    r = _softmax.logsumexp(block - np.where(finite, m, 0).astype(block.dtype), axis=axis, keepdims=True)
    return np.stack([m, np.where(finite, r, -np.inf).astype(block.dtype)], axis=-1)


def _row_stats(x, axis):
    """Dask arrays M (row max) and L = log S (S = sum exp(x - M)), shaped like x with size 1
    along axis, from per-chunk partials combined by the rescaling rule of the online softmax:
    S = sum_j exp(r_j + m_j - M).  Rows without a finite max (all -inf, +inf, NaN) give
    M + L = logsumexp's value (-inf, +inf, NaN); softmax makes them NaN."""
    one = tuple((1,) * len(c) if d == axis else c for d, c in enumerate(x.chunks))
    parts = x.map_blocks(_chunk_partials, axis, chunks=one + ((2,),), new_axis=x.ndim, dtype=x.dtype)
    parts = parts.rechunk({axis: -1})   # one (m, r) per chunk and row: small

    def combine(parts):
        m, r = parts[..., 0], parts[..., 1]
        big = np.max(m, axis=axis, keepdims=True)
        ok = np.isfinite(big)
        with np.errstate(invalid="ignore"):
            shift = np.where(ok, m - np.where(ok, big, 0), -np.inf).astype(m.dtype)
        log_s = _softmax.logsumexp(r + shift, axis=axis, keepdims=True)
        # rows that are all -inf: -inf; rows holding +inf: 0 (so M + log S = +inf); NaN: NaN
        log_s = np.where(ok, log_s, np.where(big == np.inf, 0, big)).astype(m.dtype)
        return np.stack([big, log_s], axis=-1)

    stats = parts.map_blocks(combine, chunks=tuple((1,) if d == axis else c for d, c in enumerate(parts.chunks)),
                             dtype=x.dtype)
    return stats[..., 0], stats[..., 1]


def _prepare(fname, x, axis, out):
    _no_out(fname, out)
    x = da.asarray(x)
    axis = _axis(fname, x, axis)
    dtype = _float_dtype(x.dtype)
    return (x if x.dtype == dtype else x.astype(dtype)), axis


def _softmax_block(block, big, log_s):
    """exp(x - M) / S.  x - M is taken as a two-term sum d + e (Knuth's TwoSum), and
    exp(d + e) = exp(d)(1 + e) to first order, so the result does not lose |x - M| ulps
    to the rounding of the difference."""
    with np.errstate(invalid="ignore", over="ignore"):
        shift = np.where(np.isfinite(big), big, 0).astype(block.dtype)
        d = block - shift
        z = d - block
        e = (block - (d - z)) + (-shift - z)
        out = np.exp(d) * (1 + np.where(np.isfinite(e), e, 0)) / np.exp(log_s)
    return np.where(np.isfinite(big), out, np.nan).astype(block.dtype)


def _log_softmax_block(block, big, log_s):
    with np.errstate(invalid="ignore"):
        out = (block - big) - log_s
    return np.where(np.isfinite(big), out, np.nan).astype(block.dtype)


def softmax(x, axis=-1, out=None):
    """ag.softmax of a dask array: lazy, same chunks."""
    x, axis = _prepare("softmax", x, axis, out)
    if x.numblocks[axis] == 1:
        return x.map_blocks(_softmax.softmax, axis=axis, dtype=x.dtype)
    return da.map_blocks(_softmax_block, x, *_row_stats(x, axis), dtype=x.dtype)


def log_softmax(x, axis=-1, out=None):
    """ag.log_softmax of a dask array: lazy, same chunks."""
    x, axis = _prepare("log_softmax", x, axis, out)
    if x.numblocks[axis] == 1:
        return x.map_blocks(_softmax.log_softmax, axis=axis, dtype=x.dtype)
    return da.map_blocks(_log_softmax_block, x, *_row_stats(x, axis), dtype=x.dtype)


def logsumexp(x, axis=-1, keepdims=False, out=None):
    """ag.logsumexp of a dask array: lazy; axis dropped unless keepdims."""
    x, axis = _prepare("logsumexp", x, axis, out)
    if x.numblocks[axis] == 1:
        return x.map_blocks(_softmax.logsumexp, axis=axis, keepdims=keepdims, dtype=x.dtype,
                            **({} if keepdims else {"drop_axis": axis}))
    big, log_s = _row_stats(x, axis)
    with np.errstate(invalid="ignore"):
        result = da.where(big == -np.inf, -np.inf, big + log_s)
    return result if keepdims else result.squeeze(axis)


def _pair(fname, a, y, axis, out):
    a, axis = _prepare(fname, a, axis, out)
    y = da.asarray(y)
    if a.shape != y.shape:
        raise ValueError(f"{fname}: the two arrays must have the same shape, got {a.shape} and {y.shape}")
    dtype = np.promote_types(a.dtype, _float_dtype(y.dtype))
    return a.astype(dtype), y.astype(dtype).rechunk(a.chunks), axis


def softmax_backward(dy, y, axis=-1, out=None):
    """ag.softmax_backward on dask arrays: y * (dy - sum(dy * y)), the sum over axis
    reduced across chunks."""
    dy, y, axis = _pair("softmax_backward", dy, y, axis, out)
    if dy.numblocks[axis] == 1:
        return da.map_blocks(_softmax.softmax_backward, dy, y, axis=axis, dtype=dy.dtype)
    return y * (dy - (dy * y).sum(axis=axis, keepdims=True))


def softmax_jvp(v, y, axis=-1, out=None):
    """ag.softmax_jvp on dask arrays (J is symmetric: the same as the backward)."""
    v, y, axis = _pair("softmax_jvp", v, y, axis, out)
    if v.numblocks[axis] == 1:
        return da.map_blocks(_softmax.softmax_jvp, v, y, axis=axis, dtype=v.dtype)
    return y * (v - (v * y).sum(axis=axis, keepdims=True))


def log_softmax_backward(dy, y, axis=-1, out=None):
    """ag.log_softmax_backward on dask arrays: dy - exp(y) * sum(dy)."""
    dy, y, axis = _pair("log_softmax_backward", dy, y, axis, out)
    if dy.numblocks[axis] == 1:
        return da.map_blocks(_softmax.log_softmax_backward, dy, y, axis=axis, dtype=dy.dtype)
    return dy - da.exp(y) * dy.sum(axis=axis, keepdims=True)


# ---- losses ----
#
# Every block runs the in-memory loss with reduction 'sum' (or 'none') and reports its
# normaliser; one task per block returns (loss, gradient, normaliser), and the lazy loss
# and gradient both read it, so computing them together makes one pass over the logits.


def _ce_blocks(fname, logits, target, axis, weight, ignore_index, reduction, label_smoothing, grad,
               want_loss, want_grad):
    """Logits as a float dask array with the class axis in one chunk; a dask array of
    per-block (loss, gradient, normaliser) tuples; the class axis."""
    _reduction(fname, reduction)
    logits = da.asarray(logits)
    axis = _axis(fname, logits, axis)
    logits = logits.astype(_float_dtype(logits.dtype)).rechunk({axis: -1})
    ind = tuple(range(logits.ndim))
    sample_chunks = logits.chunks[:axis] + logits.chunks[axis + 1:]
    target = da.asarray(target)
    probs = target.shape == logits.shape and target.dtype.kind == "f"
    if probs:
        target, tind = target.rechunk(logits.chunks), ind
    elif target.shape == logits.shape[:axis] + logits.shape[axis + 1:]:
        target, tind = target.rechunk(sample_chunks), ind[:axis] + ind[axis + 1:]
    else:
        raise ValueError(f"{fname}: target has shape {target.shape}; expected {logits.shape} "
                         f"(class probabilities) or {logits.shape[:axis] + logits.shape[axis + 1:]} (class indices)")
    args = [logits, ind, target, tind]
    per_sample_grad = reduction == "none" and want_grad and not want_loss
    if per_sample_grad:   # the upstream gradient of reduction 'none': one value per sample
        args += [da.broadcast_to(da.asarray(grad), target.shape[:len(tind)] if not probs else
                                 logits.shape[:axis] + logits.shape[axis + 1:]).rechunk(sample_chunks),
                 ind[:axis] + ind[axis + 1:]]
    kw = dict(axis=axis, weight=weight, ignore_index=ignore_index, label_smoothing=label_smoothing,
              reduction="none" if reduction == "none" else "sum")

    def block(lb, tb, gb=None):
        if per_sample_grad:
            loss, g = None, _losses.cross_entropy_backward(lb, tb, grad=gb, **kw)
        elif want_grad:
            loss, g = _losses.cross_entropy_with_grad(lb, tb, **kw)
        else:
            loss, g = _losses.cross_entropy(lb, tb, **kw), None
        if probs:
            norm = lb.size // lb.shape[axis]
        else:
            keep = tb != ignore_index
            norm = (np.count_nonzero(keep) if weight is None else
                    np.asarray(weight, np.float64)[np.where(keep, tb, 0)][keep].sum())
        return loss, g, float(norm)

    pairs = da.blockwise(block, ind, *args, dtype=object, concatenate=True,
                         meta=np.empty((0,) * logits.ndim, dtype=object))
    return logits, pairs, axis


def _finish(logits, pairs, axis, reduction, grad, want_loss, want_grad):
    """The lazy loss and/or gradient from the per-block tuples."""
    dtype, nd = logits.dtype, logits.ndim
    ones = tuple((1,) * len(c) for c in logits.chunks)
    meta = np.empty((0,) * nd, dtype)
    inv = None
    if reduction == "mean" or (want_loss and reduction != "none"):
        norm = pairs.map_blocks(lambda p: np.full((1,) * nd, p[2]), chunks=ones, dtype=np.float64,
                                meta=np.empty((0,) * nd)).sum()
    loss = g = None
    if want_loss:
        if reduction == "none":
            ind = tuple(range(nd))   # the class axis has one block: take it from the list
            loss = da.blockwise(lambda ps: ps[0][0], ind[:axis] + ind[axis + 1:], pairs, ind,
                                dtype=dtype, concatenate=False, meta=np.empty((0,) * (nd - 1), dtype))
        else:
            total = pairs.map_blocks(lambda p: np.full((1,) * nd, p[0], np.float64), chunks=ones,
                                     dtype=np.float64, meta=np.empty((0,) * nd)).sum()
            if reduction == "mean":   # every target ignored: NaN, as PyTorch gives (no 0/0 warning)
                total = da.where(norm > 0, total / da.where(norm > 0, norm, 1.0), np.nan)
            loss = total.astype(dtype)
    if want_grad:
        g = pairs.map_blocks(lambda p: p[1], chunks=logits.chunks, dtype=dtype, meta=meta)
        scale = 1.0 if reduction == "none" else grad
        if reduction == "mean":   # all targets ignored: zero gradient, as PyTorch gives
            scale = da.where(norm > 0, scale / da.maximum(norm, 1e-300), 0.0)
        if reduction != "none":
            g = (g * da.asarray(scale).astype(dtype)) if not (np.isscalar(scale) and scale == 1.0) else g
    return loss, g


def cross_entropy(logits, target, axis=-1, weight=None, ignore_index=-100, reduction="mean",
                  label_smoothing=0.0):
    """ag.cross_entropy on dask arrays (samples chunked; 'mean' divides the global sums)."""
    logits, pairs, axis = _ce_blocks("cross_entropy", logits, target, axis, weight, ignore_index,
                                     reduction, label_smoothing, 1.0, True, False)
    return _finish(logits, pairs, axis, reduction, 1.0, True, False)[0]


def cross_entropy_backward(logits, target, axis=-1, weight=None, ignore_index=-100, reduction="mean",
                           label_smoothing=0.0, grad=1.0, out=None):
    """ag.cross_entropy_backward on dask arrays."""
    _no_out("cross_entropy_backward", out)
    logits, pairs, axis = _ce_blocks("cross_entropy_backward", logits, target, axis, weight, ignore_index,
                                     reduction, label_smoothing, grad, False, True)
    return _finish(logits, pairs, axis, reduction, grad, False, True)[1]


def cross_entropy_with_grad(logits, target, axis=-1, weight=None, ignore_index=-100,
                            reduction="mean", label_smoothing=0.0, out=None):
    """(loss, dlogits) on dask arrays: both lazy, sharing one fused pass per block."""
    _no_out("cross_entropy_with_grad", out)
    logits, pairs, axis = _ce_blocks("cross_entropy_with_grad", logits, target, axis, weight, ignore_index,
                                     reduction, label_smoothing, 1.0, True, True)
    return _finish(logits, pairs, axis, reduction, 1.0, True, True)


def _pointwise(fname, name, x, target, extra, reduction, grad, want_loss, want_grad):
    """BCE with logits or MSE on dask arrays: every block runs the in-memory loss with
    reduction 'sum' (or 'none'); 'mean' divides by the global element count."""
    _reduction(fname, reduction)
    x = da.asarray(x)
    x = x.astype(_float_dtype(x.dtype))
    target = da.asarray(target)
    if target.shape != x.shape:
        raise ValueError(f"{fname}: target has shape {target.shape}, the input has shape {x.shape}; "
                         "they must be the same")
    ind = tuple(range(x.ndim))
    names = [k for k, v in extra.items() if v is not None]
    operands = [x, target.rechunk(x.chunks)]   # weight / pos_weight broadcast like the input
    operands += [da.broadcast_to(da.asarray(extra[k]), x.shape).rechunk(x.chunks) for k in names]
    per_sample_grad = reduction == "none" and want_grad and not want_loss
    if per_sample_grad:
        operands.append(da.broadcast_to(da.asarray(grad), x.shape).rechunk(x.chunks))
    scale = (1.0 / x.size if reduction == "mean" and x.size else 1.0) * (1.0 if per_sample_grad else grad)
    block_reduction = "none" if reduction == "none" else "sum"
    func = getattr(_losses, name)
    backward = getattr(_losses, name + "_backward")

    def block(xb, tb, *rest):
        kw = dict(zip(names, rest), reduction=block_reduction)
        if per_sample_grad:
            return None, backward(xb, tb, grad=rest[-1], **kw)
        if not want_grad:
            return func(xb, tb, **kw), None
        loss, g = getattr(_losses, name + "_with_grad")(xb, tb, **kw)
        return loss, g * np.asarray(scale, g.dtype) if scale != 1.0 else g

    pairs = da.blockwise(block, ind, *[a for op in operands for a in (op, ind)], dtype=object,
                         concatenate=True, meta=np.empty((0,) * x.ndim, dtype=object))
    loss = g = None
    if want_loss:
        if reduction == "none":
            loss = pairs.map_blocks(lambda p: p[0], dtype=x.dtype, meta=np.empty((0,) * x.ndim, x.dtype))
        else:
            ones = tuple((1,) * len(c) for c in x.chunks)
            total = pairs.map_blocks(lambda p: np.full((1,) * x.ndim, p[0], np.float64), chunks=ones,
                                     dtype=np.float64, meta=np.empty((0,) * x.ndim)).sum()
            loss = (total / x.size if reduction == "mean" else total).astype(x.dtype)
    if want_grad:
        g = pairs.map_blocks(lambda p: p[1], dtype=x.dtype, meta=np.empty((0,) * x.ndim, x.dtype))
    return loss, g


def binary_cross_entropy_with_logits(logits, target, weight=None, pos_weight=None, reduction="mean"):
    """ag.binary_cross_entropy_with_logits on dask arrays."""
    return _pointwise("binary_cross_entropy_with_logits", "binary_cross_entropy_with_logits", logits, target,
                      {"weight": weight, "pos_weight": pos_weight}, reduction, 1.0, True, False)[0]


def binary_cross_entropy_with_logits_backward(logits, target, weight=None, pos_weight=None,
                                              reduction="mean", grad=1.0, out=None):
    """ag.binary_cross_entropy_with_logits_backward on dask arrays."""
    _no_out("binary_cross_entropy_with_logits_backward", out)
    return _pointwise("binary_cross_entropy_with_logits_backward", "binary_cross_entropy_with_logits",
                      logits, target, {"weight": weight, "pos_weight": pos_weight}, reduction, grad,
                      False, True)[1]


def binary_cross_entropy_with_logits_with_grad(logits, target, weight=None, pos_weight=None,
                                               reduction="mean", out=None):
    """(loss, dlogits) of BCE with logits on dask arrays, sharing one pass per block."""
    _no_out("binary_cross_entropy_with_logits_with_grad", out)
    return _pointwise("binary_cross_entropy_with_logits_with_grad", "binary_cross_entropy_with_logits",
                      logits, target, {"weight": weight, "pos_weight": pos_weight}, reduction, 1.0, True, True)


def mse_loss(pred, target, reduction="mean"):
    """ag.mse_loss on dask arrays."""
    return _pointwise("mse_loss", "mse_loss", pred, target, {}, reduction, 1.0, True, False)[0]


def mse_loss_backward(pred, target, reduction="mean", grad=1.0, out=None):
    """ag.mse_loss_backward on dask arrays."""
    _no_out("mse_loss_backward", out)
    return _pointwise("mse_loss_backward", "mse_loss", pred, target, {}, reduction, grad, False, True)[1]


def mse_loss_with_grad(pred, target, reduction="mean", out=None):
    """(loss, dpred) of MSE on dask arrays, sharing one pass per block."""
    _no_out("mse_loss_with_grad", out)
    return _pointwise("mse_loss_with_grad", "mse_loss", pred, target, {}, reduction, 1.0, True, True)
