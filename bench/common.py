"""What every benchmark family shares: the case record, timing, the copy roofline,
correctness checks, machine information, the table, the progress bar, JSON and plots.

A family module (``elementwise.py``, later ``softmax.py``, ``losses.py``) exposes
``cases(args) -> list[Case]`` (``args``: run.py's options; ``selected`` and ``sizes`` below
apply them); ``run.py`` does the rest.
"""
import functools
import gc
import importlib
import json
import math
import os
import platform
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

import actgrad as ag

PEERS = ("python", "numpy", "scipy", "numexpr", "torch")
QUICK_SIZES = (1_000, 100_000, 4_000_000)
FULL_SIZES = (100, 1_000, 10_000, 100_000, 1_000_000, 4_000_000, 16_000_000)
SCALING_SIZE = 4_000_000
SAMPLE_S = 0.002          # one timing sample: enough calls in a row to last this long
MIN_REPEAT, MAX_REPEAT = 3, 30
# Before timing a contender, it runs for this long: long enough for the idle threads a
# previous contender left polling to go to sleep (PyTorch's OpenMP workers poll for about
# 12 ms on the Zen 2 VM, and actgrad's second thread, sharing a CPU with them, ran at one
# thread's speed) and for the contender's own threads to be awake again (PyTorch's first
# two calls after its workers slept took 4-8 ms each at 1e5 elements, the third 0.16 ms).
# Running rather than sleeping: after a 30 ms sleep, whole 2-thread cases of the VM ran at
# one thread's speed, as if the idle vCPU took that long to come back.
SETTLE_S = 0.03
RTOL = {"float32": 1e-4, "float64": 1e-7}  # loose: catches wrong formulas, not ULPs
CHECK_MAX = 100_000       # elements compared per check: every k-th one of a larger output

ROOFLINE_NOTE = ("roofline = time of a plain copy of the same bytes (inputs read + output "
                 "written; np.copyto, the faster of one thread and the chunks split over "
                 "the same number of Python threads: actgrad has no copy kernel) / actgrad's time")
SPEEDUP_NOTE = "peer columns: peer time / actgrad time (> 1: actgrad is faster), same run"
ALLOCATION_NOTE = ("actgrad writes into a preallocated out=; peers use out= where their "
                   "public call takes it (numexpr, single NumPy/SciPy ufuncs, torch.sigmoid/"
                   "tanh), else allocate their result as a user's code would")


@dataclass
class Contenders:
    """The zero-argument callables of one case, over inputs and outputs already allocated.
    ``peers`` maps a peer to its callable, or to None where it is skipped; ``notes`` says
    why it is skipped, or what its timed call does beyond the function (a table footnote)."""
    actgrad: Callable
    peers: dict
    notes: dict = field(default_factory=dict)


@dataclass
class Case:
    """One function at one dtype and size.  ``make`` allocates the inputs when the case
    runs (not when it is listed), so a full sweep never holds every input at once."""
    family: str
    name: str           # the function as the table shows it, e.g. "sigmoid_backward"
    dtype: str
    size: int           # elements of the output
    bytes_moved: int    # bytes one call reads (inputs) and writes (output)
    make: Callable      # () -> Contenders
    params: dict = field(default_factory=dict)
    tags: frozenset = frozenset()  # the names --functions selects this case by
    group: str = ""     # the functions plotted together (an activation's calls); "" = name


@dataclass(frozen=True)
class Layout:
    """A shape and the axis a row-wise family works along (softmax axis, class axis);
    ``label`` names the layout whatever its size."""
    label: str
    shape: tuple
    axis: int

    @property
    def size(self):
        return math.prod(self.shape)


def row_layout(n, c):
    """n rows of c along the last axis."""
    return Layout(f"(N,{c})", (n, c), -1)


def selected(tags, args, quick):
    """Whether a case with these tags runs: the --functions names, else the quick set
    (or everything with --full)."""
    if args.functions:
        return not tags.isdisjoint(args.functions)
    return args.full or quick


def sizes(args):
    """The sizes of this run: --sizes, else the quick or the full sweep."""
    return args.sizes or (FULL_SIZES if args.full else QUICK_SIZES)


_modules = {}


def optional(name):
    """The module ``name``, imported on first use, or None when it is not installed."""
    if name not in _modules:
        try:
            _modules[name] = importlib.import_module(name)
        except ImportError:
            _modules[name] = None
    return _modules[name]


def set_threads(n):
    """Run actgrad, and the peers that have threads (PyTorch, numexpr), on n threads."""
    ag.set_num_threads(n)
    if optional("torch"):
        optional("torch").set_num_threads(n)
    if optional("numexpr"):
        optional("numexpr").set_num_threads(n)


# ---------------------------------------------------------------- timing

@dataclass
class Timing:
    """Seconds per call: the median and the minimum over ``repeat`` samples, each the
    mean of ``number`` calls in a row."""
    median_s: float
    min_s: float
    repeat: int
    number: int


def _sample(fn, number):
    """Seconds per call over ``number`` calls in a row."""
    start = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - start) / number


def _calls_per_sample(fn, per_call):
    """Calls per sample so that a sample lasts about SAMPLE_S, and seconds per call."""
    number = 1
    while per_call * number < SAMPLE_S / 10 and number < 10**6:
        number *= 10
        per_call = _sample(fn, number)
    return max(1, round(SAMPLE_S / per_call)), per_call


def measure(timers, budget_s, interleave=False):
    """Time each callable of ``timers`` (already warmed up) for about ``budget_s`` in all.

    Each contender gets MIN_REPEAT..MAX_REPEAT samples of about SAMPLE_S.  By default a
    contender's samples are taken back to back, each contender after running it for
    SETTLE_S (taking them in turns would let one contender's idle threads, e.g. PyTorch's
    spinning OpenMP workers, slow the next one); ``interleave`` takes them in turns after
    running them all for SETTLE_S, for contenders that leave no threads behind (one
    function on 1, 2, ... threads)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        if interleave:
            _settle(timers.values())
            plans = {name: _plan(fn, budget_s / len(timers)) for name, fn in timers.items()}
            rounds = range(max(plan[1] for plan in plans.values()))
            for name in (n for _ in rounds for n in timers):
                _take_sample(timers[name], plans[name])
        else:
            plans = {}
            for name, fn in timers.items():
                _settle([fn])
                plans[name] = _plan(fn, budget_s / len(timers))
                while _take_sample(fn, plans[name]):
                    pass
    finally:
        if enabled:
            gc.enable()
    return {name: Timing(float(np.median(s)), min(s), len(s), number)
            for name, (number, _, s) in plans.items()}


def against_exp(timers, x, budget_s):
    """Small calls against one NumPy ufunc call: each callable of ``timers`` and np.exp(x),
    warmed up and timed in turns for about ``budget_s``; yields (name, Timing, ratio to
    np.exp(x)'s median) and then ("np.exp(x)", its Timing, 1.0)."""
    timers = dict(timers, **{"np.exp(x)": functools.partial(np.exp, x)})
    for fn in timers.values():
        fn()
    t = measure(timers, budget_s, interleave=True)
    exp = t.pop("np.exp(x)")
    for name, timing in t.items():
        yield name, timing, timing.median_s / exp.median_s
    yield "np.exp(x)", exp, 1.0


def _settle(fns):
    """``fns`` called in turns for about SETTLE_S (each at least once)."""
    start = time.perf_counter()
    while True:
        for fn in fns:
            fn()
        if time.perf_counter() - start > SETTLE_S:
            return


def _plan(fn, budget_s):
    """[calls per sample, samples to take, samples so far]: the first single call's time
    is the first sample when it lasts a whole sample (slow peers at large sizes then cost
    MIN_REPEAT calls, not one more)."""
    first = _sample(fn, 1)
    number, per_call = _calls_per_sample(fn, first)
    repeat = min(MAX_REPEAT, max(MIN_REPEAT, round(budget_s / (number * per_call))))
    return number, repeat, [first] if number == 1 else []


def _take_sample(fn, plan):
    """Adds one sample to ``plan`` unless it has all it needs; returns whether it added."""
    number, repeat, samples = plan
    if len(samples) >= repeat:
        return False
    samples.append(_sample(fn, number))
    return True


# ---------------------------------------------------------------- roofline

class Copier:
    """The roofline's reference: a plain copy of a number of bytes with np.copyto, on one
    thread and split into chunks over a pool of ``threads`` Python threads (np.copyto
    releases the GIL).  Its buffers are allocated once, for the largest case so far."""

    def __init__(self, threads):
        self.threads = threads
        self.pool = ThreadPoolExecutor(threads) if threads > 1 else None
        self.src = self.dst = np.zeros(0, np.uint8)

    def timers(self, bytes_moved):
        """Callables that read bytes_moved/2 bytes and write as many: {kind: fn}."""
        n = max(1, bytes_moved // 2)
        if n > self.src.size:
            self.src, self.dst = np.ones(n, np.uint8), np.zeros(n, np.uint8)
        src, dst = self.src[:n], self.dst[:n]
        timers = {"copy, 1 thread": lambda: np.copyto(dst, src)}
        if self.pool:
            edges = [n * i // self.threads // 64 * 64 for i in range(self.threads)] + [n]
            chunks = [(dst[a:b], src[a:b]) for a, b in zip(edges, edges[1:])]
            timers[f"copy, {self.threads} threads"] = lambda: list(
                self.pool.map(lambda c: np.copyto(*c), chunks))
        for fn in timers.values():
            fn()
        return timers

    def close(self):
        if self.pool:
            self.pool.shutdown()


# ---------------------------------------------------------------- correctness

def check_sample(result, size):
    """The elements of a result that the correctness check compares, as float64: all of
    them, or every k-th one (k = size // CHECK_MAX) so a check stays cheap at 1.6e7."""
    return np.asarray(np.asarray(result).reshape(-1)[::max(1, size // CHECK_MAX)], dtype=np.float64)


def mismatch(got, ref, dtype):
    """None if ``got`` agrees with actgrad's ``ref`` (both check_sample's) within a loose
    tolerance, else a message with the worst element.  NaNs must sit at the same places."""
    if got.shape != ref.shape:
        return f"shape {got.shape}, expected {ref.shape}"
    rtol = RTOL[dtype]
    atol = rtol * max(float(np.nanmax(np.abs(ref), initial=0.0)), np.finfo(dtype).tiny)
    close = np.isclose(got, ref, rtol=rtol, atol=atol, equal_nan=True)
    if close.all():
        return None
    i = int(np.argmax(np.where(close, 0.0, np.abs(got - ref))))
    return (f"{np.count_nonzero(~close)} of {close.size} checked elements differ beyond "
            f"rtol={rtol:g}, atol={atol:.3g}; worst: {float(got[i])!r} vs actgrad {float(ref[i])!r}")


# ---------------------------------------------------------------- machine

def _cpu_model():
    """The CPU model from /proc/cpuinfo, else lscpu, else platform.processor()."""
    try:
        with open("/proc/cpuinfo") as f:
            match = re.search(r"^model name\s*:\s*(.+)$", f.read(), re.M)
        if match:
            return match.group(1).strip()
    except OSError:
        pass
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=5).stdout
        match = re.search(r"^Model name:\s*(.+)$", out, re.M)
        if match:
            return match.group(1).strip()
    except (OSError, subprocess.SubprocessError):
        pass
    return platform.processor() or "unknown"


def _simd_flags():
    """The SIMD-related CPU flags this machine reports (Linux /proc/cpuinfo)."""
    wanted = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512dq", "avx512bw", "avx512vl")
    try:
        with open("/proc/cpuinfo") as f:
            match = re.search(r"^flags\s*:\s*(.+)$", f.read(), re.M)
    except OSError:
        return []
    flags = set(match.group(1).split()) if match else set()
    return [flag for flag in wanted if flag in flags]


def _version(package):
    """The version of an importable package, else None."""
    module = optional(package)
    return getattr(module, "__version__", "unknown") if module else None


def load_average():
    """The 1-minute load average (None where the OS has none): other work on the machine."""
    return round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None


def machine_info(load_at_start):
    """Platform, CPU, SIMD flags, cores, load, actgrad's configuration, the peers' versions."""
    return {
        "load_average": {"start": load_at_start, "end": load_average()},
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu_model": _cpu_model(),
        "cpu_flags": _simd_flags(),
        "logical_cpus": os.cpu_count(),
        "allowed_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "actgrad": ag.config(),
        "versions": {p: _version(p) for p in ("numpy", "scipy", "numexpr", "torch", "matplotlib")},
    }


# ---------------------------------------------------------------- text output

def fmt_time(seconds):
    """812 ns, 12.3 us, 4.56 ms, 1.23 s."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def fmt_size(n):
    """1e3, 4e6, 1.6e7."""
    exponent = int(math.floor(math.log10(n)))
    mantissa = f"{n / 10**exponent:.2g}"
    return f"{mantissa}e{exponent}"


def table(header, rows):
    """Rows of strings as aligned columns: the first three left-aligned, the rest right."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(row):
        return "  ".join(str(c).ljust(w) if i < 3 else str(c).rjust(w)
                         for i, (c, w) in enumerate(zip(row, widths))).rstrip()
    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


class Progress:
    """A progress bar on stderr: redrawn in place on a terminal, else a line every 10%."""

    def __init__(self, total, stream=sys.stderr):
        self.total, self.done, self.stream = total, 0, stream
        self.tty = stream.isatty()
        self.start = time.perf_counter()

    def step(self, label):
        """Show that the step ``label`` starts (the bar counts the steps before it)."""
        fraction = self.done / max(1, self.total)
        elapsed = time.perf_counter() - self.start
        if self.tty:
            text = f"\r[{'#' * int(30 * fraction):<30}] {self.done}/{self.total} {elapsed:4.0f} s  {label}"
            self.stream.write(text[:100].ljust(100))
        elif self.done == 0 or int(10 * fraction) > int(10 * (self.done - 1) / max(1, self.total)):
            self.stream.write(f"bench: {self.done}/{self.total} done ({elapsed:.0f} s), now {label}\n")
        self.stream.flush()
        self.done += 1

    def close(self):
        if self.tty:
            self.stream.write("\r" + " " * 100 + "\r")
            self.stream.flush()



def _footnote_marks(results):
    """A mark (*, **, ...) for each distinct note of a timed peer."""
    notes = dict.fromkeys(p["note"] for r in results for p in r["peers"].values()
                          if p["status"] == "ok" and p["note"])
    return {note: "*" * (i + 1) for i, note in enumerate(notes)}


def _speedup_cell(peer, marks):
    """'12.3x' (with its footnote mark), '-' where skipped, MISMATCH or ERROR."""
    if peer["status"] != "ok":
        return "-" if peer["status"] == "skipped" else peer["status"].upper()
    s = peer["speedup"]
    text = f"{s:.0f}x" if s >= 100 else f"{s:.1f}x" if s >= 10 else f"{s:.2f}x"
    return text + marks.get(peer["note"], "")


def main_table(results):
    """One row per case: actgrad's time and throughput, the speed-up over each peer that ran
    anywhere, the roofline fraction; then the footnotes."""
    skipped = {"status": "skipped"}
    peers = [p for p in PEERS
             if any(r["peers"].get(p, skipped)["status"] != "skipped" for r in results)]
    marks = _footnote_marks(results)
    header = ["function", "dtype", "size", "actgrad", "Gelem/s", *peers, "roofline"]
    rows = [[r["function"], r["dtype"], fmt_size(r["size"]), fmt_time(r["actgrad"]["median_s"]),
             f"{r['gelem_per_s']:.3g}", *(_speedup_cell(r["peers"].get(p, skipped), marks) for p in peers),
             f"{100 * r['roofline_fraction']:.0f}%"] for r in results]
    return "\n".join([table(header, rows), *(f"{mark} {note}" for note, mark in marks.items())])


def skipped_summary(results):
    """Which peers were skipped, why, and in how many cases."""
    counts = {}
    for r in results:
        for peer, p in r["peers"].items():
            if p["status"] == "skipped":
                counts[peer, p["note"]] = counts.get((peer, p["note"]), 0) + 1
    return [f"  {peer}: {note} ({n} cases)" for (peer, note), n in counts.items()]


def slower_summary(results, most=25):
    """The cases where a peer beat actgrad, the largest margins first (at most ``most``)."""
    slower = sorted(((p["speedup"], r, peer) for r in results for peer, p in r["peers"].items()
                     if p["status"] == "ok" and p["speedup"] < 1), key=lambda s: s[0])
    lines = [f"a peer was faster than actgrad in {len(slower)} comparisons ({len(results)} cases)"]
    lines += [f"  {r['function']} {r['dtype']} {fmt_size(r['size'])}: {peer} "
              f"{fmt_time(r['peers'][peer]['median_s'])} vs actgrad {fmt_time(r['actgrad']['median_s'])}"
              f" ({s:.2f}x)" for s, r, peer in slower[:most]]
    if len(slower) > most:
        lines.append(f"  ... and {len(slower) - most} more (see --json)")
    return lines


def scaling_table(rows):
    """Thread scaling: actgrad's time on each thread count and the speed-up over 1 thread."""
    counts = sorted({r["threads"] for r in rows})
    by = {(r["function"], r["threads"]): r for r in rows}
    header = ["function", "dtype", "size", *(f"{t} thr" for t in counts), *(f"x{t}" for t in counts[1:])]
    body = [[name, by[name, 1]["dtype"], fmt_size(by[name, 1]["size"]),
             *(fmt_time(by[name, t]["median_s"]) for t in counts),
             *(f"{by[name, t]['speedup']:.2f}" for t in counts[1:])]
            for name in dict.fromkeys(r["function"] for r in rows)]
    return table(header, body)


def machine_lines(machine, threads):
    """actgrad's version, the CPU, its SIMD flags and path, threads, peer versions; and a
    warning when other work kept the machine busy (load average before the run > half its CPUs)."""
    cfg, versions = machine["actgrad"], machine["versions"]
    peers = ", ".join(f"{k} {versions[k]}" for k in ("numpy", "scipy", "numexpr", "torch") if versions[k])
    lines = [f"actgrad {cfg['version']} on {machine['cpu_model']} ({machine['allowed_cpus']} allowed "
             f"CPUs, flags: {' '.join(machine['cpu_flags']) or 'n/a'}); SIMD path {cfg['simd']}, "
             f"{threads} threads ({cfg['threading_backend']}); {peers}"]
    load = machine["load_average"]
    if load["start"] is not None and load["start"] > 0.5 * (machine["allowed_cpus"] or 1):
        lines.append(f"warning: the machine was busy (load average {load['start']} at the start, "
                     f"{load['end']} at the end, {machine['allowed_cpus']} CPUs): the times are noisy")
    return lines


def report(machine, results, scaling, problems, threads, elapsed):
    """The whole text report for stdout."""
    lines = [*machine_lines(machine, threads), "", main_table(results), "",
             SPEEDUP_NOTE, ROOFLINE_NOTE, ALLOCATION_NOTE,
             "times: medians of repeated samples; figures depend on the machine and its load"]
    skipped = skipped_summary(results)
    if skipped:
        lines += ["", "skipped peers:", *skipped]
    if scaling:
        lines += ["", "thread scaling (actgrad; x<t>: speed-up over 1 thread):", scaling_table(scaling)]
    lines += ["", *slower_summary(results)]
    if problems:
        lines += ["", f"!!! {len(problems)} PEER RESULTS DISAGREE WITH ACTGRAD (not timed):",
                  *(f"  {p}" for p in problems)]
    lines += ["", f"{len(results)} cases in {elapsed:.0f} s"]
    return "\n".join(lines)


def write_json(path, **parts):
    """The run as JSON: schema 1 plus ``parts`` (machine, settings, results, ...; see run.py)."""
    notes = {"roofline": ROOFLINE_NOTE, "speedup": SPEEDUP_NOTE, "allocation": ALLOCATION_NOTE}
    with open(path, "w") as f:
        json.dump({"schema": 1, "notes": notes, **parts}, f, indent=1)


# ---------------------------------------------------------------- plots

def write_plots(results, scaling, directory):
    """PNGs in ``directory``: elements/s against size for each group of functions (actgrad,
    each peer and the copy roofline as lines; a panel per function and dtype); the roofline
    fraction of every function per family; thread scaling.  Returns the paths written, or
    None without matplotlib."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    os.makedirs(directory, exist_ok=True)
    paths = [_plot_throughput(plt, [r for r in results if r["group"] == group], group, directory)
             for group in dict.fromkeys(r["group"] for r in results)]
    paths += [_plot_roofline(plt, [r for r in results if r["family"] == family], family, directory)
              for family in dict.fromkeys(r["family"] for r in results)]
    if scaling:
        paths.append(_plot_scaling(plt, scaling, directory))
    return paths


def _save(plt, fig, path):
    width, height = fig.get_size_inches()   # margins in inches: tight_layout is slow
    fig.subplots_adjust(left=0.85 / width, right=1 - 0.2 / width, bottom=0.6 / height,
                        top=1 - 0.6 / height, wspace=0.35, hspace=0.45)
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def _plot_throughput(plt, rows, group, directory):
    dtypes = list(dict.fromkeys(r["dtype"] for r in rows))
    names = list(dict.fromkeys(r["function"] for r in rows))
    fig, axes = plt.subplots(len(dtypes), len(names), figsize=(4.5 * len(names), 3.8 * len(dtypes)),
                             squeeze=False)
    for i, dtype in enumerate(dtypes):
        for j, name in enumerate(names):
            mine = sorted((r for r in rows if r["dtype"] == dtype and r["function"] == name),
                          key=lambda r: r["size"])
            _throughput_panel(axes[i][j], mine, f"{name} {dtype}")
    return _save(plt, fig, os.path.join(directory, f"throughput_{group}.png"))


def _throughput_panel(ax, rows, title):
    """Elements per second against size: actgrad, the peers that ran, the copy roofline."""
    lines = {"actgrad": [(r["size"], r["size"] / r["actgrad"]["median_s"]) for r in rows],
             "copy (roofline)": [(r["size"], r["size"] / r["copy_s"]) for r in rows]}
    for peer in PEERS:
        lines[peer] = [(r["size"], r["size"] / r["peers"][peer]["median_s"]) for r in rows
                       if r["peers"].get(peer, {}).get("status") == "ok"]
    for label, points in lines.items():
        if points:
            style = "--x" if label.startswith("copy") else "-o"
            ax.plot(*zip(*points), style, label=label, markersize=3,
                    linewidth=2.5 if label == "actgrad" else 1.2)
    ax.set(xscale="log", yscale="log", xlabel="elements", ylabel="elements per second", title=title)
    ax.minorticks_off()
    ax.legend(fontsize=7)
    ax.grid(True, alpha=0.3)


def _plot_roofline(plt, rows, family, directory):
    """The roofline fraction against size: a panel per group, a line per function and dtype."""
    groups = list(dict.fromkeys(r["group"] for r in rows))
    cols = min(5, len(groups))
    fig, axes = plt.subplots(math.ceil(len(groups) / cols), cols,
                             figsize=(4.5 * cols, 3.8 * math.ceil(len(groups) / cols)), squeeze=False)
    for ax, group in zip(axes.flat, groups):
        mine = [r for r in rows if r["group"] == group]
        for name, dtype in dict.fromkeys((r["function"], r["dtype"]) for r in mine):
            line = sorted((r["size"], r["roofline_fraction"]) for r in mine
                          if r["function"] == name and r["dtype"] == dtype)
            ax.plot(*zip(*line), "-o" if dtype == "float32" else "--o", markersize=3,
                    label=f"{name[len(group) + 1:] or 'forward'} {dtype}")
        ax.set(xscale="log", xlabel="elements", ylabel="copy time / actgrad time", title=group)
        ax.minorticks_off()
        ax.legend(fontsize=6)
        ax.grid(True, alpha=0.3)
    for ax in axes.flat[len(groups):]:
        ax.axis("off")
    fig.suptitle(f"{family}: fraction of the memory-bandwidth roofline (plain copy of the same bytes)")
    return _save(plt, fig, os.path.join(directory, f"roofline_{family}.png"))


def _plot_scaling(plt, scaling, directory):
    fig, ax = plt.subplots(figsize=(7, 5))
    top = max(r["threads"] for r in scaling)
    for name in dict.fromkeys(r["function"] for r in scaling):
        mine = [r for r in scaling if r["function"] == name]
        ax.plot([r["threads"] for r in mine], [r["speedup"] for r in mine], "o",
                linestyle="--" if name.startswith("copy") else "-", label=name, markersize=3)
    ax.plot([1, top], [1, top], ":", color="gray", label="ideal")
    ax.set(xlabel="threads", ylabel="speed-up over 1 thread",
           title=f"thread scaling, {fmt_size(scaling[0]['size'])} {scaling[0]['dtype']}")
    ax.legend(fontsize=6, ncol=2)
    ax.grid(True, alpha=0.3)
    return _save(plt, fig, os.path.join(directory, "thread_scaling.png"))
