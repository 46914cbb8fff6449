"""The softmax family's benchmark cases (docs/api.md section 3), and issue 14's speed targets.

    python bench/run.py --functions softmax_family          # every function, the issue's shapes
    python bench/softmax.py                                 # issue 14's targets, measured

softmax, log_softmax, logsumexp (forward, from x), softmax_backward, log_softmax_backward and
softmax_jvp (from y = actgrad's own forward of x, and dy or v) over a layout:

* ``(N,C)``: N rows of C classes, softmax over the last axis;
* ``(1,n)``: one long row;
* ``(C,N) axis=0``: softmax over axis 0 of a C-order array (C classes strided by N).

Without ``--sizes`` the shapes are those of the issues: (64, 10), (64, 1000), (4096, 4096),
(16000, 1000), (1000, 16000), (1, 10^7) and axis 0 of (1000, 16000) (the quick run: softmax
at (64, 10) and (4096, 1000)); ``--full`` adds a sweep of (N, 1000) over the full sizes.
With ``--sizes`` each size n gives (n // C, C) with C = min(1000, n), and (except in the
plain quick run) (1, n) and (C, n // C) over axis 0.  A case's ``size`` is the number of
input elements (x, or y); its bytes are its input arrays read and its output written once.

Peers, each given the same arrays:

* python: the ``math`` module over lists of rows (last axis, sizes <= 1e4);
* numpy: as users write it: ``e = np.exp(x - x.max(axis, keepdims=True)); e /= e.sum(...)``,
  ``y * (dy - (dy * y).sum(axis, keepdims=True))``, ...;
* scipy: ``scipy.special.softmax``, ``log_softmax``, ``logsumexp`` (no backward);
* numexpr: none (it has no reduction along an axis);
* torch: ``torch.softmax``, ``torch.log_softmax``, ``torch.logsumexp`` (into ``out=``), and
  the ATen ops autograd runs for the backward (``torch._softmax_backward_data``,
  ``torch._log_softmax_backward_data``); softmax_jvp by the VJP op (J is symmetric).
"""
import functools
import math
import sys

import numpy as np

import actgrad as ag
import common
from common import FULL_SIZES, Case, Contenders, Layout, fmt_size, optional, row_layout, selected

FAMILY = "softmax"
FAMILY_TAG = "softmax_family"      # --functions softmax_family: every function below
ARRAYS = {"softmax": ("x",), "log_softmax": ("x",), "logsumexp": ("x",),
          "softmax_backward": ("dy", "y"), "log_softmax_backward": ("dy", "y"),
          "softmax_jvp": ("v", "y")}
FORWARD_OF_Y = {"softmax_backward": "softmax", "softmax_jvp": "softmax",
                "log_softmax_backward": "log_softmax"}
QUICK = ("softmax",)
PYTHON_MAX = 10_000
SCALE = 4.0              # x = 4 * N(0, 1): rows with a few dominant classes


def one_row(n):
    return Layout("(1,n)", (1, n), -1)


def columns(c, n):
    return Layout(f"({c},N) axis=0", (c, n), 0)


NAMED = (row_layout(64, 10), row_layout(64, 1000), row_layout(4096, 4096), row_layout(16000, 1000), row_layout(1000, 16000),
         one_row(10**7), columns(1000, 16000))
QUICK_LAYOUTS = (row_layout(64, 10), row_layout(4096, 1000))


def layouts(args, every):
    """The layouts of this run: the issue's shapes (the quick two unless ``every``), with
    --full a sweep of (N, 1000); or those derived from --sizes."""
    if args.sizes:
        found = []
        for n in args.sizes:
            c = min(1000, n)
            found.append(row_layout(n // c, c))
            if every:
                found += [one_row(n), columns(c, n // c)]
        return list(dict.fromkeys(found))
    if not every:
        return list(QUICK_LAYOUTS)
    sweep = [row_layout(n // 1000, 1000) for n in FULL_SIZES if n >= 1000] if args.full else []
    found = list(dict.fromkeys([*NAMED, *sweep]))
    labels = list(dict.fromkeys(lay.label for lay in found))
    return sorted(found, key=lambda lay: (labels.index(lay.label), lay.size))


# ---------------------------------------------------------------- the formulas

def _py_softmax(r):
    m = max(r)
    e = [math.exp(v - m) for v in r]
    s = sum(e)
    return [v / s for v in e]


def _py_logsumexp(r):
    m = max(r)
    return m + math.log(sum(math.exp(v - m) for v in r))


def _py_log_softmax(r):
    lse = _py_logsumexp(r)
    return [v - lse for v in r]


def _py_softmax_backward(d, y):
    s = sum(a * b for a, b in zip(d, y))
    return [b * (a - s) for a, b in zip(d, y)]


def _py_log_softmax_backward(d, y):
    s = sum(d)
    return [a - math.exp(b) * s for a, b in zip(d, y)]


PYTHON = {"softmax": _py_softmax, "log_softmax": _py_log_softmax, "logsumexp": _py_logsumexp,
          "softmax_backward": _py_softmax_backward, "softmax_jvp": _py_softmax_backward,
          "log_softmax_backward": _py_log_softmax_backward}


def _np_softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    e /= e.sum(axis=axis, keepdims=True)
    return e


def _np_log_softmax(x, axis):
    s = x - x.max(axis=axis, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=axis, keepdims=True))


def _np_logsumexp(x, axis):
    m = x.max(axis=axis, keepdims=True)
    return np.log(np.exp(x - m).sum(axis=axis)) + m.squeeze(axis)


def _np_softmax_backward(dy, y, axis):
    return y * (dy - (dy * y).sum(axis=axis, keepdims=True))


def _np_log_softmax_backward(dy, y, axis):
    return dy - np.exp(y) * dy.sum(axis=axis, keepdims=True)


NUMPY = {"softmax": _np_softmax, "log_softmax": _np_log_softmax, "logsumexp": _np_logsumexp,
         "softmax_backward": _np_softmax_backward, "softmax_jvp": _np_softmax_backward,
         "log_softmax_backward": _np_log_softmax_backward}


# ---------------------------------------------------------------- peers of one case

def _python(function, arrays, layout):
    if layout.size > PYTHON_MAX:
        return None, f"only sizes <= {fmt_size(PYTHON_MAX)}"
    if layout.axis not in (-1, len(layout.shape) - 1):
        return None, "pure Python over the last axis only"
    f = PYTHON[function]
    lists = [a.tolist() for a in arrays]
    if len(lists) == 1:
        return lambda: [f(r) for r in lists[0]], ""
    return lambda: [f(d, y) for d, y in zip(*lists)], ""


def _numpy(function, arrays, layout):
    f, axis = NUMPY[function], layout.axis
    return lambda: f(*arrays, axis), ""


def _scipy(function, arrays, layout):
    special = optional("scipy.special")
    if special is None:
        return None, "not installed"
    f = {"softmax": special.softmax, "log_softmax": special.log_softmax,
         "logsumexp": special.logsumexp}.get(function)
    if f is None:
        return None, "no scipy.special function"
    x, axis = arrays[0], layout.axis
    return lambda: f(x, axis=axis), ""


def _numexpr(function, arrays, layout):
    return None, "no reduction along an axis"


def _torch(function, arrays, layout):
    torch = optional("torch")
    if torch is None:
        return None, "not installed"
    t = [torch.from_numpy(a) for a in arrays]
    dim, dtype = layout.axis % len(layout.shape), t[0].dtype
    if function == "softmax":
        return lambda: torch.softmax(t[0], dim), ""
    if function == "log_softmax":
        return lambda: torch.log_softmax(t[0], dim), ""
    if function == "logsumexp":
        o = torch.from_numpy(output(function, layout, arrays[0].dtype))
        return lambda: torch.logsumexp(t[0], dim, out=o), ""
    if function == "log_softmax_backward":
        return lambda: torch._log_softmax_backward_data(t[0], t[1], dim, dtype), ""
    note = "softmax_jvp: its VJP op _softmax_backward_data (J is symmetric)" \
        if function == "softmax_jvp" else ""
    return lambda: torch._softmax_backward_data(t[0], t[1], dim, dtype), note


PEERS = {"python": _python, "numpy": _numpy, "scipy": _scipy, "numexpr": _numexpr, "torch": _torch}


# ---------------------------------------------------------------- cases

@functools.lru_cache(maxsize=1)
def _base(top):
    """Float64 SCALE * N(0, 1) and N(0, 1) of length top, shared by the cases of a run."""
    rng = np.random.default_rng(2025)
    return SCALE * rng.standard_normal(top), rng.standard_normal(top)


def inputs(function, layout, dtype, top):
    """The call's arrays in its argument order; y is actgrad's forward of x."""
    x, d = (a[:layout.size].astype(dtype).reshape(layout.shape) for a in _base(top))
    if function not in FORWARD_OF_Y:
        return (x,)
    return d, getattr(ag, FORWARD_OF_Y[function])(x, axis=layout.axis)


def output(function, layout, dtype):
    """actgrad's preallocated output (a peer's too where its call takes ``out=``)."""
    shape = list(layout.shape)
    if function == "logsumexp":
        del shape[layout.axis]
    return np.empty(shape, dtype)


def _contenders(function, layout, dtype, top):
    arrays = inputs(function, layout, dtype, top)
    fn, axis = getattr(ag, function), layout.axis
    out = output(function, layout, dtype)
    peers, notes = {}, {}
    for peer, build in PEERS.items():
        peers[peer], notes[peer] = build(function, arrays, layout)
    return Contenders(lambda: fn(*arrays, axis=axis, out=out), peers,
                      {peer: note for peer, note in notes.items() if note})


def bytes_moved(function, layout, dtype):
    """The input arrays read once and the output written once."""
    itemsize = np.dtype(dtype).itemsize
    written = layout.size if function != "logsumexp" \
        else layout.size // layout.shape[layout.axis]
    return (len(ARRAYS[function]) * layout.size + written) * itemsize


def cases(args):
    """The cases args selects: --functions by function name (softmax_backward) or
    ``softmax_family`` (all six); else softmax in the quick run, or everything with --full."""
    every = bool(args.full or args.functions)
    found = layouts(args, every)
    top = max(lay.size for lay in found)
    selection = []
    for function in ARRAYS:
        tags = frozenset({function, FAMILY_TAG})
        if not selected(tags, args, function in QUICK):
            continue
        for layout in found:
            selection += [
                Case(FAMILY, f"{function} {layout.label}", dtype, layout.size,
                     bytes_moved(function, layout, dtype),
                     functools.partial(_contenders, function, layout, dtype, top),
                     {"shape": list(layout.shape), "axis": layout.axis}, tags, function)
                for dtype in args.dtypes]
    return selection


# ---------------------------------------------------------------- issue 14's targets

ROOFLINE_CASES = [(function, shape, dtype)
                  for shape in ((16000, 1000), (1000, 16000))
                  for dtype in ("float32", "float64")
                  for function in ("softmax", "log_softmax", "softmax_backward")]


def _peer_timers(function, arrays, layout):
    """torch and the NumPy formula over the same arrays ({name: fn}, those available)."""
    found = {}
    for peer in ("torch", "numpy"):
        fn, _ = PEERS[peer](function, arrays, layout)
        if fn is not None:
            fn()
            found[peer] = fn
    return found


def targets(budget_s=0.3):
    """Issue 14's speed targets (and issue 3's before them), measured on this machine with
    actgrad's default threads: yield (target, measured, pass) lines.  Each roofline line also
    gives torch's and NumPy's time over actgrad's, from the same run."""
    threads = ag.get_num_threads()
    common.set_threads(threads)
    copier = common.Copier(threads)
    for function, shape, dtype in ROOFLINE_CASES:
        layout = row_layout(*shape)
        arrays = inputs(function, layout, dtype, layout.size)
        out, fn = output(function, layout, dtype), getattr(ag, function)
        copies = copier.timers(bytes_moved(function, layout, dtype))
        t = common.measure({"ag": lambda: fn(*arrays, out=out), **copies}, budget_s, interleave=True)
        peers = common.measure(_peer_timers(function, arrays, layout), budget_s)
        fraction = min(t[k].median_s for k in copies) / t["ag"].median_s
        vs = ", ".join(f"{p} {peers[p].median_s / t['ag'].median_s:.2f}x" for p in peers)
        yield (f"{function} {shape[0]}x{shape[1]} {dtype}: >= 85% of the copy roofline",
               f"{common.fmt_time(t['ag'].median_s)}, {100 * fraction:.0f}% ({vs})", fraction >= 0.85)
    copier.close()
    torch = optional("torch")
    if torch is not None:
        x, = inputs("softmax", row_layout(16000, 1000), "float32", 16_000_000)
        xt, out = torch.from_numpy(x), np.empty_like(x)
        t = common.measure({"torch": lambda: torch.softmax(xt, 1)}, budget_s)["torch"]
        a = common.measure({"ag": lambda: ag.softmax(x, out=out)}, budget_s)["ag"]
        yield ("softmax 16000x1000 float32: >= 3x torch.softmax",
               f"{common.fmt_time(a.median_s)} vs torch {common.fmt_time(t.median_s)}: "
               f"{t.median_s / a.median_s:.2f}x", t.median_s / a.median_s >= 3)
    x, = inputs("softmax", one_row(10**7), "float32", 10**7)
    out = np.empty_like(x)

    def on(n):
        return lambda: (ag.set_num_threads(n), ag.softmax(x, out=out))
    t = common.measure({1: on(1), 2: on(2)}, budget_s, interleave=True)
    ag.set_num_threads(threads)
    ratio = t[1].median_s / t[2].median_s
    yield ("softmax 1x10^7 float32: 2 threads >= 1.6x one thread",
           f"1 thr {common.fmt_time(t[1].median_s)}, 2 thr {common.fmt_time(t[2].median_s)}: {ratio:.2f}x",
           ratio >= 1.6 if threads >= 2 else None)
    for dtype in ("float32", "float64"):
        x, = inputs("softmax", columns(1000, 16000), dtype, 16_000_000)
        xt, out, out_t = np.ascontiguousarray(x.T), np.empty_like(x), np.empty_like(x.T)
        t = common.measure({"axis0": lambda: ag.softmax(x, axis=0, out=out),
                            "last": lambda: ag.softmax(xt, out=out_t)}, budget_s, interleave=True)
        ratio = t["axis0"].median_s / t["last"].median_s
        yield (f"softmax axis 0 of 1000x16000 {dtype}: <= 1.5x axis -1 of its transpose",
               f"{common.fmt_time(t['axis0'].median_s)} vs {common.fmt_time(t['last'].median_s)}: {ratio:.2f}x",
               ratio <= 1.5)
    for dtype in ("float32", "float64"):
        layout = row_layout(64, 10)
        x, = inputs("softmax", layout, dtype, 640)
        out = np.empty_like(x)
        t = common.measure({"ag": lambda: ag.softmax(x, out=out),
                            "exp": lambda: np.exp(x, out=out)}, budget_s, interleave=True)
        peers = common.measure(_peer_timers("softmax", (x,), layout), budget_s)
        ratio = t["ag"].median_s / t["exp"].median_s
        vs = ", ".join(f"{p} {peers[p].median_s / t['ag'].median_s:.2f}x" for p in peers)
        yield (f"softmax 64x10 {dtype}: <= 2x np.exp(x, out=y)",
               f"{common.fmt_time(t['ag'].median_s)} vs {common.fmt_time(t['exp'].median_s)}: {ratio:.2f}x ({vs})",
               ratio <= 2.0)
    yield from small_calls(budget_s)


def small_calls(budget_s=0.3):
    """Issue 14's small calls: each function of the family at 64x10, with and without out=,
    against np.exp(x) (a new array, as the call without out= makes one), timed in turns."""
    layout = row_layout(64, 10)
    for dtype in ("float32", "float64"):
        timers = {}
        for function in ("softmax", "log_softmax", "logsumexp", "softmax_backward", "log_softmax_backward"):
            arrays, fn = inputs(function, layout, dtype, 640), getattr(ag, function)
            out = output(function, layout, dtype)
            timers[f"{function}(...)"] = functools.partial(fn, *arrays)
            timers[f"{function}(..., out=)"] = functools.partial(fn, *arrays, out=out)
        x, = inputs("softmax", layout, dtype, 640)
        timings = list(common.against_exp(timers, x, 2 * budget_s))
        exp = timings[-1][1].median_s
        for name, timing, ratio in timings[:-1]:
            yield (f"{name} 64x10 {dtype}: <= 2x np.exp(x)",
                   f"{common.fmt_time(timing.median_s)} vs {common.fmt_time(exp)}: {ratio:.2f}x", ratio <= 2.0)


def print_targets(lines):
    """Print target lines as they are measured; the number of targets missed."""
    missed = 0
    for target, measured, ok in lines:
        verdict = "" if ok is None else "  ok" if ok else "  MISSED"
        missed += ok is False
        print(f"{target:<72} {measured}{verdict}", flush=True)
    return missed


if __name__ == "__main__":
    print("\n".join(common.machine_lines(common.machine_info(common.load_average()),
                                         ag.get_num_threads())))
    print("(targets as issue 14 states them for 2 threads on a 2-core machine; "
          "figures depend on the machine and its load)")
    sys.exit(1 if print_targets(targets()) else 0)
