"""actgrad on dask arrays: ``pip install "actgrad[dask]"``.

Elementwise functions need nothing from this module: they are NumPy ufuncs (or call one),
so ``ag.sigmoid(x)`` or ``ag.leaky_relu(x, 0.2)`` on a dask array returns a lazy dask array
with the same chunks, computed block by block by actgrad's C kernels, and an xarray
DataArray keeps its dims, coords and attrs.

The softmax family and the losses reduce along an axis, so they need a plan; the public
functions (``ag.softmax``, ``ag.cross_entropy_with_grad`` ...) send dask arrays here
(``import actgrad`` itself never imports dask).

* Softmax along an axis held in one chunk: every block is an independent ``ag.softmax``.
  Along an axis split over chunks: the two-level reduction the C core runs on the pieces
  of a long row, with the chunks as the pieces.  Each chunk reduces its rows to (max m_j,
  S_j = sum exp(x - m_j)) (the backward passes: sum dy*y or sum dy), the chunks' values
  combine in order (M = max_j m_j, S = sum_j S_j exp(m_j - M), in double-word arithmetic),
  and each block writes its outputs from (M, S) with the kernels the in-memory call uses,
  so the results are as accurate as in memory.  Only three numbers per chunk and row are
  gathered, never the whole axis.  ``softmax_jacobian`` brings the axis into one chunk
  (each block holds whole n x n Jacobians).
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
import math

import dask.array as da
import numpy as np

from . import _args as args, _core, _losses, _softmax
from ._dispatch import LAZY, is_dask

__all__ = ["is_dask", *LAZY]

_OPS = _core.SOFTMAX_OPS


def _array(fname, what, a):
    """a as a dask array of a dtype actgrad reads."""
    if isinstance(a, np.ma.MaskedArray):
        args.real_array(fname, what, a)   # refused, as in memory
    a = da.asarray(a)
    args.real_dtype(fname, what, a.dtype)
    return a


# ---- softmax family ----
#
# The statistics st = (m, S_hi, S_lo) of every row travel in float64 arrays shaped like x
# with the softmax axis of length 3 (one st per chunk, then one per row once combined).

def _rows(block, axis, cdt):
    """block with the axis last, as C-contiguous (rows, n) of the compute dtype."""
    moved = np.moveaxis(block, axis, -1)
    return np.ascontiguousarray(moved, dtype=cdt).reshape(math.prod(moved.shape[:-1]), moved.shape[-1])


def _unrows(rows, block_shape, axis, dtype):
    """The inverse of _rows: (rows, n) back to the block's shape and axis order, in dtype."""
    moved = block_shape[:axis] + block_shape[axis + 1:] + (block_shape[axis],)
    return np.moveaxis(rows.reshape(moved), -1, axis).astype(dtype, copy=False)


def _stats_block(a, b, *, axis, cdt, forward):
    return _unrows(_core.softmax_piece_stats(_rows(a, axis, cdt), None if b is None else _rows(b, axis, cdt),
                                             forward), a.shape[:axis] + (3,) + a.shape[axis + 1:], axis, np.float64)


def _combine_block(parts, *, axis, f32):
    k = parts.shape[axis] // 3
    rows = np.moveaxis(parts, axis, -1)
    st = _core.softmax_combine(np.ascontiguousarray(rows).reshape(-1, k, 3), f32)
    return _unrows(st, parts.shape[:axis] + (3,) + parts.shape[axis + 1:], axis, np.float64)


def _row_stats(a, b, axis, cdt, forward):
    """The combined st of every row of a (and b), as a dask array shaped like a with the
    axis of length 3 in one chunk."""
    three = tuple((3,) * len(c) if d == axis else c for d, c in enumerate(a.chunks))
    operands = (a,) if b is None else (a, b)
    parts = da.map_blocks(_stats_block, *operands, *(() if b is not None else (None,)), axis=axis, cdt=cdt,
                          forward=forward, chunks=three, dtype=np.float64)
    parts = parts.rechunk({axis: -1})
    one = tuple((3,) if d == axis else c for d, c in enumerate(parts.chunks))
    return parts.map_blocks(_combine_block, axis=axis, f32=cdt == args.F32, chunks=one, dtype=np.float64)


def _apply_block(a, b, st, *, op, axis, cdt, rdt):
    ra = _rows(a, axis, cdt)
    out = np.empty_like(ra)
    _core.softmax_piece_apply(op, ra, None if b is None else _rows(b, axis, cdt), _rows(st, axis, np.float64), out)
    return _unrows(out, a.shape, axis, rdt)


def _lse_block(st, *, axis, cdt, rdt):
    rows = _rows(st, axis, np.float64)
    out = np.empty(rows.shape[0], cdt)
    _core.softmax_stats_logsumexp(rows, out)
    return out.reshape(st.shape[:axis] + (1,) + st.shape[axis + 1:]).astype(rdt, copy=False)


def _prepare(fname, x, axis, out):
    args.no_out(fname, out)
    x = _array(fname, "x", x)
    return x, args.axis(fname, axis, x.ndim), args.result_dtype(x.dtype), args.compute_dtype(x.dtype)


def _forward(fname, x, axis, out):
    """softmax or log_softmax: blockwise in memory, or from the rows' combined statistics."""
    x, axis, dtype, cdt = _prepare(fname, x, axis, out)
    if x.numblocks[axis] == 1:
        return x.map_blocks(getattr(_softmax, fname), axis=axis, dtype=dtype)
    return da.map_blocks(_apply_block, x, None, _row_stats(x, None, axis, cdt, True), op=_OPS[fname],
                         axis=axis, cdt=cdt, rdt=dtype, dtype=dtype, meta=np.empty((0,) * x.ndim, dtype))


def softmax(x, axis=-1, out=None):
    """ag.softmax of a dask array: lazy, same chunks."""
    return _forward("softmax", x, axis, out)


def log_softmax(x, axis=-1, out=None):
    """ag.log_softmax of a dask array: lazy, same chunks."""
    return _forward("log_softmax", x, axis, out)


def logsumexp(x, axis=-1, keepdims=False, out=None):
    """ag.logsumexp of a dask array: lazy; axis dropped unless keepdims."""
    x, axis, dtype, cdt = _prepare("logsumexp", x, axis, out)
    if x.numblocks[axis] == 1:
        return x.map_blocks(_softmax.logsumexp, axis=axis, keepdims=keepdims, dtype=dtype,
                            **({} if keepdims else {"drop_axis": axis}))
    st = _row_stats(x, None, axis, cdt, True)
    one = tuple((1,) if d == axis else c for d, c in enumerate(st.chunks))
    result = st.map_blocks(_lse_block, axis=axis, cdt=cdt, rdt=dtype, dtype=dtype, chunks=one,
                           meta=np.empty((0,) * x.ndim, dtype))
    return result if keepdims else result.squeeze(axis)


def _backward(fname, a, y, axis, out, a_name):
    args.no_out(fname, out)
    a, y = _array(fname, a_name, a), _array(fname, "y", y)
    args.same_shape(fname, a_name, a, "y", y)
    axis = args.axis(fname, axis, y.ndim)
    dtype, (ta, ty) = args.result_dtype(np.result_type(a.dtype, y.dtype)), args.pair_dtypes(a.dtype, y.dtype)
    a, y = a.astype(ta), y.astype(ty).rechunk(a.chunks)
    if a.numblocks[axis] == 1:
        return da.map_blocks(getattr(_softmax, fname), a, y, axis=axis, dtype=dtype)
    cdt = args.compute_dtype(dtype)
    op = _OPS["softmax_backward" if fname == "softmax_jvp" else fname]
    st = _row_stats(a, y if op == _OPS["softmax_backward"] else None, axis, cdt, False)
    return da.map_blocks(_apply_block, a, y, st, op=op, axis=axis, cdt=cdt, rdt=dtype, dtype=dtype,
                         meta=np.empty((0,) * a.ndim, dtype))


def softmax_backward(dy, y, axis=-1, out=None):
    """ag.softmax_backward on dask arrays: y * (dy - sum(dy * y))."""
    return _backward("softmax_backward", dy, y, axis, out, "dy")


def softmax_jvp(v, y, axis=-1, out=None):
    """ag.softmax_jvp on dask arrays (J is symmetric: the same as the backward)."""
    return _backward("softmax_jvp", v, y, axis, out, "v")


def log_softmax_backward(dy, y, axis=-1, out=None):
    """ag.log_softmax_backward on dask arrays: dy - exp(y) * sum(dy)."""
    return _backward("log_softmax_backward", dy, y, axis, out, "dy")


def softmax_jacobian(y, axis=-1):
    """ag.softmax_jacobian of a dask array: the axis is brought into one chunk (each block
    holds whole n x n Jacobians), the other axes keep their chunks."""
    y = _array("softmax_jacobian", "y", y)
    axis = args.axis("softmax_jacobian", axis, y.ndim)
    dtype = args.result_dtype(y.dtype)
    yl = da.moveaxis(y, axis, -1).rechunk({y.ndim - 1: -1})
    n = yl.shape[-1]
    return yl.map_blocks(_softmax.softmax_jacobian, axis=-1, new_axis=y.ndim, chunks=yl.chunks + ((n,),),
                         dtype=dtype, meta=np.empty((0,) * (y.ndim + 1), dtype))


# ---- losses ----
#
# Every block runs the in-memory loss with reduction 'sum' (or 'none') and reports its
# normaliser; one task per block returns (loss, gradient, normaliser), and the lazy loss
# and gradient both read it, so computing them together makes one pass over the logits.


def _ce_blocks(fname, logits, target, axis, weight, ignore_index, reduction, label_smoothing, grad,
               want_loss, want_grad):
    """Logits as a float dask array with the class axis in one chunk; a dask array of
    per-block (loss, gradient, normaliser) tuples; the class axis."""
    args.reduction(fname, reduction)
    logits = _array(fname, "logits", logits)
    axis = args.axis(fname, axis, logits.ndim)
    logits = logits.astype(args.result_dtype(logits.dtype)).rechunk({axis: -1})
    ind = tuple(range(logits.ndim))
    sample_chunks = logits.chunks[:axis] + logits.chunks[axis + 1:]
    target = _array(fname, "target", target)
    probs = args.class_target(fname, target, logits.shape, axis)
    args.label_smoothing(fname, label_smoothing)
    args.int64(fname, "ignore_index", ignore_index)
    if weight is not None:
        args.class_weight(fname, np.asarray(weight), logits.shape[axis])
    if probs:
        target, tind = target.rechunk(logits.chunks), ind
    else:
        target, tind = target.rechunk(sample_chunks), ind[:axis] + ind[axis + 1:]
    operands = [logits, ind, target, tind]
    per_sample_grad = reduction == "none" and want_grad and not want_loss
    if per_sample_grad:   # the upstream gradient of reduction 'none': one value per sample
        operands += [da.broadcast_to(da.asarray(grad), target.shape[:len(tind)] if not probs else
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

    pairs = da.blockwise(block, ind, *operands, dtype=object, concatenate=True,
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
    args.no_out("cross_entropy_backward", out)
    logits, pairs, axis = _ce_blocks("cross_entropy_backward", logits, target, axis, weight, ignore_index,
                                     reduction, label_smoothing, grad, False, True)
    return _finish(logits, pairs, axis, reduction, grad, False, True)[1]


def cross_entropy_with_grad(logits, target, axis=-1, weight=None, ignore_index=-100,
                            reduction="mean", label_smoothing=0.0, out=None):
    """(loss, dlogits) on dask arrays: both lazy, sharing one fused pass per block."""
    args.no_out("cross_entropy_with_grad", out)
    logits, pairs, axis = _ce_blocks("cross_entropy_with_grad", logits, target, axis, weight, ignore_index,
                                     reduction, label_smoothing, 1.0, True, True)
    return _finish(logits, pairs, axis, reduction, 1.0, True, True)


def _pointwise(fname, name, x, target, extra, reduction, grad, want_loss, want_grad):
    """BCE with logits or MSE on dask arrays: every block runs the in-memory loss with
    reduction 'sum' (or 'none'); 'mean' divides by the global element count."""
    args.reduction(fname, reduction)
    what = "pred" if name == "mse_loss" else "logits"
    x = _array(fname, what, x)
    x = x.astype(args.result_dtype(x.dtype))
    target = _array(fname, "target", target)
    args.same_shape(fname, what, x, "target", target)
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
    args.no_out("binary_cross_entropy_with_logits_backward", out)
    return _pointwise("binary_cross_entropy_with_logits_backward", "binary_cross_entropy_with_logits",
                      logits, target, {"weight": weight, "pos_weight": pos_weight}, reduction, grad,
                      False, True)[1]


def binary_cross_entropy_with_logits_with_grad(logits, target, weight=None, pos_weight=None,
                                               reduction="mean", out=None):
    """(loss, dlogits) of BCE with logits on dask arrays, sharing one pass per block."""
    args.no_out("binary_cross_entropy_with_logits_with_grad", out)
    return _pointwise("binary_cross_entropy_with_logits_with_grad", "binary_cross_entropy_with_logits",
                      logits, target, {"weight": weight, "pos_weight": pos_weight}, reduction, 1.0, True, True)


def mse_loss(pred, target, reduction="mean"):
    """ag.mse_loss on dask arrays."""
    return _pointwise("mse_loss", "mse_loss", pred, target, {}, reduction, 1.0, True, False)[0]


def mse_loss_backward(pred, target, reduction="mean", grad=1.0, out=None):
    """ag.mse_loss_backward on dask arrays."""
    args.no_out("mse_loss_backward", out)
    return _pointwise("mse_loss_backward", "mse_loss", pred, target, {}, reduction, grad, False, True)[1]


def mse_loss_with_grad(pred, target, reduction="mean", out=None):
    """(loss, dpred) of MSE on dask arrays, sharing one pass per block."""
    args.no_out("mse_loss_with_grad", out)
    return _pointwise("mse_loss_with_grad", "mse_loss", pred, target, {}, reduction, 1.0, True, True)
