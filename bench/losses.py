"""The losses' benchmark cases (docs/api.md section 4), and issue 4's speed targets.

    python bench/run.py --functions losses                  # every loss, the issue's shapes
    python bench/losses.py                                  # issue 4's targets, measured

Each loss is timed as a training step uses it: loss and gradient with respect to the logits
(or the prediction) together, reduction='mean', no weights:

* cross_entropy_with_grad with integer class targets, over ``(N,C)`` (classes on the last
  axis) and ``(N,21,H,W) axis=1`` (a segmentation map: 21 classes strided by H*W);
* binary_cross_entropy_with_logits_with_grad (float targets in [0, 1)) and
  mse_loss_with_grad (targets N(0, 1)), over ``(N,C)``.

Without ``--sizes`` the shapes are (64, 10), (256, 1000), (4096, 1000), (16000, 1000) and,
for cross-entropy, (8, 21, 128, 128) (the quick run: cross_entropy_with_grad at (64, 10) and
(4096, 1000)); ``--full`` adds a sweep of (N, 1000) over the full sizes.  With ``--sizes``
each size n gives (n // C, C) with C = min(1000, n), and for cross-entropy (except in the
plain quick run) (N, 21, H, W) of about n elements.  A case's ``size`` is the number of
logits; its bytes are the logits and the targets read once and the gradient written once.

actgrad writes the gradient into a preallocated ``out=``.  Peers:

* python: the ``math`` module over lists of rows (sizes <= 1e4, (N,C) only);
* numpy: the loss and its gradient written as users write them (log-sum-exp with the max
  subtracted, ``np.take_along_axis`` / ``np.put_along_axis`` for the targets' entries);
* torch: the ``torch.nn.functional`` loss on a leaf tensor, then ``loss.backward()``
  (``leaf.grad = None`` before each step, as ``optimizer.zero_grad()`` does);
* scipy, numexpr: none.

The timed call returns the gradient, which run.py compares with actgrad's; a peer's first
call (that check) also compares its loss with actgrad's, and raises LossMismatch where they
differ (run.py then reports the peer as an error and does not time it).
"""
import functools
import math
import sys

import numpy as np

import actgrad as ag
import common
from common import FULL_SIZES, Case, Contenders, Layout, fmt_size, optional, row_layout, selected

FAMILY = "losses"
FAMILY_TAG = "losses"            # --functions losses: every loss below
FUNCTIONS = {"cross_entropy_with_grad": "cross_entropy",
             "binary_cross_entropy_with_logits_with_grad": "binary_cross_entropy_with_logits",
             "mse_loss_with_grad": "mse_loss"}
QUICK = ("cross_entropy_with_grad",)
PYTHON_MAX = 10_000
SCALE = 4.0                      # logits = 4 * N(0, 1)
SEG_CLASSES = 21


class LossMismatch(Exception):
    """A peer's loss differs from actgrad's (its gradient is not timed)."""


def segmentation(n, h, w):
    return Layout(f"(N,{SEG_CLASSES},H,W) axis=1", (n, SEG_CLASSES, h, w), 1)


ROWS = (row_layout(64, 10), row_layout(256, 1000), row_layout(4096, 1000), row_layout(16000, 1000))
SEGMENTATION = (segmentation(8, 128, 128),)
QUICK_LAYOUTS = (row_layout(64, 10), row_layout(4096, 1000))


def _segmentation_of(n):
    """(N, 21, 64, 64) of about n elements; (1, 21, 1, W) below one such map."""
    per_map = SEG_CLASSES * 64 * 64
    if n >= per_map:
        return segmentation(n // per_map, 64, 64)
    return segmentation(1, 1, max(1, n // SEG_CLASSES))


def layouts(function, args, every):
    """The layouts of this run for one loss: the issue's shapes (the quick two unless
    ``every``), with --full a sweep of (N, 1000); or those derived from --sizes."""
    segmented = every and function == "cross_entropy_with_grad"
    if args.sizes:
        found = []
        for n in args.sizes:
            c = min(1000, n)
            found.append(row_layout(n // c, c))
            if segmented:
                found.append(_segmentation_of(n))
        return list(dict.fromkeys(found))
    if not every:
        return list(QUICK_LAYOUTS)
    sweep = [row_layout(n // 1000, 1000) for n in FULL_SIZES if n >= 1000] if args.full else []
    found = list(dict.fromkeys([*ROWS, *sweep, *(SEGMENTATION if segmented else ())]))
    labels = list(dict.fromkeys(lay.label for lay in found))
    return sorted(found, key=lambda lay: (labels.index(lay.label), lay.size))


# ---------------------------------------------------------------- pure Python

def _py_cross_entropy(rows_, targets):
    n, loss, grad = len(rows_), 0.0, []
    for r, t in zip(rows_, targets):
        m = max(r)
        e = [math.exp(v - m) for v in r]
        s = sum(e)
        loss += m + math.log(s) - r[t]
        g = [v / (s * n) for v in e]
        g[t] -= 1.0 / n
        grad.append(g)
    return loss / n, grad


def _py_bce(rows_, targets):
    n = len(rows_) * len(rows_[0])
    loss, grad = 0.0, []
    for r, tr in zip(rows_, targets):
        loss += sum(max(v, 0.0) - v * t + math.log1p(math.exp(-abs(v))) for v, t in zip(r, tr))
        grad.append([(1.0 / (1.0 + math.exp(-v)) - t) / n for v, t in zip(r, tr)])
    return loss / n, grad


def _py_mse(rows_, targets):
    n = len(rows_) * len(rows_[0])
    loss, grad = 0.0, []
    for r, tr in zip(rows_, targets):
        d = [p - t for p, t in zip(r, tr)]
        loss += sum(v * v for v in d)
        grad.append([2.0 * v / n for v in d])
    return loss / n, grad


PYTHON = {"cross_entropy_with_grad": _py_cross_entropy,
          "binary_cross_entropy_with_logits_with_grad": _py_bce, "mse_loss_with_grad": _py_mse}


# ---------------------------------------------------------------- NumPy

def _np_cross_entropy(logits, target, axis):
    idx = np.expand_dims(target, axis)
    s = logits - logits.max(axis=axis, keepdims=True)
    e = np.exp(s)
    total = e.sum(axis=axis, keepdims=True)
    loss = np.mean(np.log(total) - np.take_along_axis(s, idx, axis))
    grad = e / total
    np.put_along_axis(grad, idx, np.take_along_axis(grad, idx, axis) - 1, axis)
    grad /= target.size
    return loss, grad


def _np_bce(x, t, axis):
    loss = np.mean(np.maximum(x, 0) - x * t + np.log1p(np.exp(-np.abs(x))))
    grad = (1 / (1 + np.exp(-x)) - t) / x.size
    return loss, grad


def _np_mse(p, t, axis):
    d = p - t
    return np.mean(d * d), d * (2 / d.size)


NUMPY = {"cross_entropy_with_grad": _np_cross_entropy,
         "binary_cross_entropy_with_logits_with_grad": _np_bce, "mse_loss_with_grad": _np_mse}


# ---------------------------------------------------------------- peers: () -> (loss, grad)

def _python(function, logits, target, layout):
    if layout.size > PYTHON_MAX:
        return None, f"only sizes <= {fmt_size(PYTHON_MAX)}"
    if len(layout.shape) != 2:
        return None, "pure Python over (N,C) only"
    f, lists = PYTHON[function], (logits.tolist(), target.tolist())
    return lambda: f(*lists), ""


def _numpy(function, logits, target, layout):
    f, axis = NUMPY[function], layout.axis
    return lambda: f(logits, target, axis), ""


def _scipy(function, logits, target, layout):
    return None, "no scipy loss function"


def _numexpr(function, logits, target, layout):
    return None, "not a loss peer"


def _torch(function, logits, target, layout):
    torch = optional("torch")
    if torch is None:
        return None, "not installed"
    F = torch.nn.functional
    loss_fn = {"cross_entropy_with_grad": F.cross_entropy,
               "binary_cross_entropy_with_logits_with_grad": F.binary_cross_entropy_with_logits,
               "mse_loss_with_grad": F.mse_loss}[function]
    leaf = torch.from_numpy(logits).requires_grad_()
    tt = torch.from_numpy(target)

    def step():
        leaf.grad = None
        loss = loss_fn(leaf, tt)
        loss.backward()
        return loss, leaf.grad
    return step, "forward + backward through autograd"


PEERS = {"python": _python, "numpy": _numpy, "scipy": _scipy, "numexpr": _numexpr, "torch": _torch}


# ---------------------------------------------------------------- cases

@functools.lru_cache(maxsize=1)
def _base(top):
    """Float64 SCALE * N(0, 1), N(0, 1), U[0, 1) of length top, shared by the cases of a run."""
    rng = np.random.default_rng(2026)
    return SCALE * rng.standard_normal(top), rng.standard_normal(top), rng.random(top)


def inputs(function, layout, dtype, top):
    """(logits, target): class indices (int64) for cross-entropy, else floats of dtype."""
    logits, normal, uniform = _base(top)
    logits = logits[:layout.size].astype(dtype).reshape(layout.shape)
    if function == "cross_entropy_with_grad":
        shape = list(layout.shape)
        classes = shape.pop(layout.axis)
        n = math.prod(shape)
        target = (uniform[:n] * classes).astype(np.int64).reshape(shape)
    else:
        source = uniform if function.startswith("binary") else normal
        target = source[:layout.size].astype(dtype).reshape(layout.shape)
    return logits, target


def _checked(both, ref_loss, dtype):
    """The peer's timed call, returning its gradient; its first call (run.py's check)
    also compares its loss with actgrad's and raises LossMismatch when they differ."""
    checked = False

    def call():
        nonlocal checked
        if checked:
            return both()[1]
        loss, grad = both()
        loss = float(loss.detach() if hasattr(loss, "detach") else loss)
        problem = common.mismatch(np.array([loss]), np.array([ref_loss]), dtype)
        if problem is not None:
            raise LossMismatch(f"loss {loss!r} vs actgrad {ref_loss!r} ({problem})")
        checked = True
        return grad
    return call


def _contenders(function, layout, dtype, top):
    logits, target = inputs(function, layout, dtype, top)
    fn, grad = getattr(ag, function), np.empty_like(logits)
    kwargs = {"axis": layout.axis} if function == "cross_entropy_with_grad" else {}
    ref_loss = float(fn(logits, target, **kwargs, out=grad)[0])
    peers, notes = {}, {}
    for peer, build in PEERS.items():
        both, notes[peer] = build(function, logits, target, layout)
        peers[peer] = None if both is None else _checked(both, ref_loss, dtype)
    return Contenders(lambda: fn(logits, target, **kwargs, out=grad)[1], peers,
                      {peer: note for peer, note in notes.items() if note})


def bytes_moved(function, layout, dtype):
    """The logits and the targets read once, the gradient written once."""
    logits, target = np.dtype(dtype).itemsize * layout.size, 0
    if function == "cross_entropy_with_grad":
        target = 8 * layout.size // layout.shape[layout.axis]
    else:
        target = logits
    return 2 * logits + target


def cases(args):
    """The cases args selects: --functions by function (mse_loss_with_grad), by loss
    (mse_loss) or ``losses`` (all three); else cross-entropy in the quick run, or everything
    with --full."""
    every = bool(args.full or args.functions)
    selection = []
    for function, loss in FUNCTIONS.items():
        tags = frozenset({function, loss, FAMILY_TAG})
        if not selected(tags, args, function in QUICK):
            continue
        found = layouts(function, args, every)
        top = max(lay.size for lay in found)
        for layout in found:
            selection += [
                Case(FAMILY, f"{function} {layout.label}", dtype, layout.size,
                     bytes_moved(function, layout, dtype),
                     functools.partial(_contenders, function, layout, dtype, top),
                     {"shape": list(layout.shape), "axis": layout.axis, "reduction": "mean"},
                     tags, function)
                for dtype in args.dtypes]
    return selection


# ---------------------------------------------------------------- issue 4's targets

def targets(budget_s=0.3):
    """Issue 4's speed targets, measured with actgrad's default threads: yield (target,
    measured, pass) lines."""
    threads = ag.get_num_threads()
    common.set_threads(threads)
    function = "cross_entropy_with_grad"
    layout = row_layout(16000, 1000)
    logits, target = inputs(function, layout, "float32", layout.size)
    grad = np.empty_like(logits)
    copier = common.Copier(threads)
    copies = copier.timers(2 * logits.nbytes)      # the issue: one read, one write of the logits
    t = common.measure({"ag": lambda: ag.cross_entropy_with_grad(logits, target, out=grad), **copies},
                       budget_s, interleave=True)
    copier.close()
    fraction = min(t[k].median_s for k in copies) / t["ag"].median_s
    yield ("cross_entropy_with_grad 16000x1000 float32: >= 85% of the roofline",
           f"{common.fmt_time(t['ag'].median_s)}, {100 * fraction:.0f}%", fraction >= 0.85)
    step, _ = _torch(function, logits, target, layout)
    if step is not None:
        t = common.measure({"torch": step}, budget_s)["torch"]
        yield ("reference: PyTorch forward+backward 16000x1000 float32 (issue: 57 ms)",
               common.fmt_time(t.median_s), None)
    for dtype in ("float32", "float64"):
        logits, target = inputs(function, row_layout(64, 10), dtype, 640)
        grad = np.empty_like(logits)
        t = common.measure({"ag": lambda: ag.cross_entropy_with_grad(logits, target, out=grad)},
                           budget_s)["ag"]
        limit = 2 if dtype == "float32" else 3     # issue 14: 2 us (float32); issue 4: 3 us
        yield (f"cross_entropy_with_grad 64x10 {dtype}: <= {limit} us", common.fmt_time(t.median_s),
               t.median_s <= limit * 1e-6)
    yield from small_calls(budget_s)


def small_calls(budget_s=0.3):
    """Issue 14's small calls of the losses at 64x10 against np.exp(x), timed in turns (for
    reference: the pointwise losses' compute is several exp and log1p per element)."""
    for dtype in ("float32", "float64"):
        timers = {}
        for function in ("cross_entropy_with_grad", "binary_cross_entropy_with_logits_with_grad",
                         "mse_loss_with_grad"):
            logits, target = inputs(function, row_layout(64, 10), dtype, 640)
            fn, grad = getattr(ag, function), np.empty_like(logits)
            timers[f"{function}(...)"] = functools.partial(fn, logits, target)
            timers[f"{function}(..., out=)"] = functools.partial(fn, logits, target, out=grad)
        x = inputs("mse_loss_with_grad", row_layout(64, 10), dtype, 640)[0]
        timings = list(common.against_exp(timers, x, 2 * budget_s))
        exp = timings[-1][1].median_s
        for name, timing, ratio in timings[:-1]:
            yield (f"reference: {name} 64x10 {dtype}", f"{common.fmt_time(timing.median_s)}, "
                   f"{ratio:.2f}x np.exp(x) ({common.fmt_time(exp)})", None)

if __name__ == "__main__":
    from softmax import print_targets
    print("\n".join(common.machine_lines(common.machine_info(common.load_average()),
                                         ag.get_num_threads())))
    print("(targets as issue 4 states them for 2 threads on a 2-core machine; "
          "figures depend on the machine and its load)")
    sys.exit(1 if print_targets(targets()) else 0)
