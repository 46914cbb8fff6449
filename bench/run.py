"""actgrad's benchmark: every public function family against pure Python, NumPy, SciPy,
numexpr and PyTorch (CPU) on this machine.

    python bench/run.py                     # quick run (under 90 s on 2 cores)
    python bench/run.py --full --json results.json --plots plots/

Each family is a module next to this file (``elementwise.py``; ``softmax.py`` and
``losses.py`` when they exist) exposing ``cases(args) -> list[common.Case]``.
For every case: each peer's output is checked once against actgrad's (a peer that disagrees
is reported loudly and not timed, and the run exits with status 1), then actgrad, the peers
and a plain copy of the same bytes are timed (``common.measure``).  Then
actgrad's thread scaling, 1 .. the allowed cores, at 4e6 float32 elements.
Peers that are not installed, or have no equivalent, are reported as skipped.

``--json PATH`` writes::

    {"schema": 1, "machine": {load_average: {start, end}, platform, python, cpu_model,
                              cpu_flags, logical_cpus, allowed_cpus, actgrad: ag.config(),
                              versions: {package: version}},
     "settings": {full, functions, dtypes, sizes, threads, budget_s},
     "notes": {roofline, speedup, allocation},
     "results": [{family, function, group, dtype, size, params, threads, bytes_moved,
                  actgrad: {median_s, min_s, repeat, number}, gelem_per_s,
                  copy_s, copy, roofline_fraction,
                  peers: {peer: {status: ok|skipped|mismatch|error, note,
                                 median_s, min_s, speedup (status ok only)}}}],
     "thread_scaling": [{family, function, group, dtype, size, threads, median_s, speedup}],
     "problems": ["<case>: <peer>: <what differs>"], "elapsed_s": float}
"""
import argparse
import dataclasses
import importlib
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import numpy as np  # noqa: E402

import actgrad as ag  # noqa: E402
import common  # noqa: E402
from common import fmt_size  # noqa: E402

FAMILIES = ("elementwise", "softmax", "losses")
BUDGET_S = {False: 0.1, True: 0.25}   # seconds per case: quick, --full


def _names(text):
    return [t.strip() for t in text.split(",") if t.strip()]


def _sizes(text):
    return [int(float(t)) for t in _names(text)]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--full", action="store_true", help="every function and call, sizes 1e2 .. 1.6e7")
    p.add_argument("--functions", type=_names, help="comma-separated: activation (all its calls), "
                   "function (sigmoid_backward) or kernel (gelu_tanh)")
    p.add_argument("--dtypes", type=_names, default=["float32", "float64"])
    p.add_argument("--sizes", type=_sizes, help="comma-separated element counts (e.g. 1e3,4e6); "
                   "also the thread-scaling size (the largest, else 4e6)")
    p.add_argument("--threads", type=int, help="threads of the main table (default: actgrad's default)")
    p.add_argument("--json", metavar="PATH", help="write every result and the machine info as JSON")
    p.add_argument("--plots", metavar="DIR", help="write PNG plots (needs matplotlib)")
    args = p.parse_args(argv)
    bad = [d for d in args.dtypes if d not in common.RTOL]
    if bad:
        p.error(f"--dtypes: {', '.join(bad)} not supported (float32, float64)")
    if args.threads is not None and args.threads < 1:
        p.error("--threads must be >= 1")
    if args.sizes is not None and min(args.sizes, default=0) < 1:
        p.error("--sizes must be positive")
    return args


def load_families():
    """The family modules that exist next to this file, in FAMILIES order."""
    return [importlib.import_module(name) for name in FAMILIES
            if os.path.exists(os.path.join(HERE, f"{name}.py"))]


def collect(families, args):
    """Every family's cases for args; an error if a --functions name selects nothing."""
    cases = [case for family in families for case in family.cases(args)]
    unknown = set(args.functions or ()) - set().union(*(c.tags for c in cases))
    if unknown:
        sys.exit(f"run.py: --functions {', '.join(sorted(unknown))}: no such function")
    return cases


def _check_peers(contenders, ref, case):
    """Status of every peer against actgrad's output: {peer: (status, note)}."""
    report = {}
    for peer, fn in contenders.peers.items():
        note = contenders.notes.get(peer, "")
        if fn is None:
            report[peer] = ("skipped", note)
            continue
        try:
            problem = common.mismatch(common.check_sample(fn(), case.size), ref, case.dtype)
        except Exception as e:  # a peer that fails is reported, not fatal
            report[peer] = ("error", f"raised {type(e).__name__}: {e}")
            continue
        report[peer] = ("mismatch", problem) if problem else ("ok", note)
    return report


def run_case(case, copier, budget_s, threads):
    """One result row: peers checked once against actgrad, then actgrad, the peers that
    agree and the copy of the same bytes timed together."""
    contenders = case.make()
    ref = common.check_sample(contenders.actgrad(), case.size).copy()
    report = _check_peers(contenders, ref, case)
    timers = {"actgrad": contenders.actgrad}
    timers.update((peer, contenders.peers[peer]) for peer, (status, _) in report.items() if status == "ok")
    copies = copier.timers(case.bytes_moved)
    times = common.measure({**timers, **copies}, budget_s)
    mine = times["actgrad"].median_s
    copy = min(copies, key=lambda k: times[k].median_s)
    peers = {}
    for peer, (status, note) in report.items():
        peers[peer] = {"status": status, "note": note}
        if status == "ok":
            t = times[peer]
            peers[peer].update(median_s=t.median_s, min_s=t.min_s, speedup=t.median_s / mine)
    return {"family": case.family, "function": case.name, "group": case.group or case.name,
            "dtype": case.dtype, "size": case.size,
            "params": case.params, "threads": threads, "bytes_moved": case.bytes_moved,
            "actgrad": dataclasses.asdict(times["actgrad"]), "gelem_per_s": case.size / mine / 1e9,
            "copy_s": times[copy].median_s, "copy": copy,
            "roofline_fraction": times[copy].median_s / mine, "peers": peers}


def _problems(result):
    """Loud lines for the peers that disagreed with actgrad or failed."""
    where = f"{result['function']} {result['dtype']} n={fmt_size(result['size'])}"
    return [f"{where}: {peer} {p['status'].upper()}: {p['note']}"
            for peer, p in result["peers"].items() if p["status"] in ("mismatch", "error")]


def thread_scaling(cases, counts, budget_s, progress):
    """actgrad's time on each thread count and its speed-up over 1 thread, per case; and the
    same for the copy of a forward call's bytes as the memory system's reference.  The
    thread counts take their samples in turns."""
    rows = []
    for case in cases:
        progress.step(f"scaling {case.name}")
        fn = case.make().actgrad
        fn()
        timings = common.measure({t: _on_threads(fn, t) for t in counts}, budget_s, interleave=True)
        rows += [_scaling_row(case, t, timings) for t in counts]
    if cases:
        progress.step("scaling copy")
        case = dataclasses.replace(cases[0], family="memory", name="copy (np.copyto)")
        copiers = {t: common.Copier(t) for t in counts}
        n_bytes = 2 * case.size * np.dtype(case.dtype).itemsize
        timers = {t: list(copier.timers(n_bytes).values())[-1] for t, copier in copiers.items()}
        timings = common.measure(timers, budget_s, interleave=True)
        rows += [_scaling_row(case, t, timings) for t in counts]
        for copier in copiers.values():
            copier.close()
    return rows


def _on_threads(fn, t):
    """fn run on t threads."""
    def call():
        ag.set_num_threads(t)
        return fn()
    return call


def _scaling_row(case, t, timings):
    return {"family": case.family, "function": case.name, "group": case.group or case.name,
            "dtype": case.dtype, "size": case.size, "threads": t, "median_s": timings[t].median_s,
            "speedup": timings[1].median_s / timings[t].median_s}


def scaling_cases(families, args):
    """The run's functions again, at one large float32 size (4e6, or the largest --sizes)."""
    size = max(args.sizes) if args.sizes else common.SCALING_SIZE
    scaled = argparse.Namespace(**{**vars(args), "sizes": [size], "dtypes": ["float32"]})
    return [case for family in families for case in family.cases(scaled)]


def run_all(cases, budget_s, threads, progress):
    """Every case's result row, and the loud lines of peers that disagreed with actgrad."""
    copier = common.Copier(threads)
    results, problems = [], []
    for case in cases:
        progress.step(f"{case.name} {case.dtype} {fmt_size(case.size)}")
        results.append(run_case(case, copier, budget_s, threads))
        for line in _problems(results[-1]):
            problems.append(line)
            sys.stderr.write(f"\n!!! {line}\n")
    copier.close()
    return results, problems


def main(argv=None):
    start, load = time.perf_counter(), common.load_average()
    args = parse_args(argv)
    allowed = ag.get_num_threads()
    threads = args.threads or allowed
    common.set_threads(threads)
    families = load_families()
    cases = collect(families, args)
    scaled = scaling_cases(families, args)
    budget_s = BUDGET_S[args.full]
    progress = common.Progress(len(cases) + len(scaled) + 1)
    results, problems = run_all(cases, budget_s, threads, progress)
    scaling = thread_scaling(scaled, range(1, max(allowed, threads) + 1), budget_s, progress)
    ag.set_num_threads(threads)
    progress.close()
    elapsed = time.perf_counter() - start
    machine = common.machine_info(load)
    print(common.report(machine, results, scaling, problems, threads, elapsed))
    if args.json:
        settings = {"full": args.full, "functions": args.functions, "dtypes": args.dtypes,
                    "sizes": list(common.sizes(args)), "threads": threads, "budget_s": budget_s}
        common.write_json(args.json, machine=machine, settings=settings, results=results,
                          thread_scaling=scaling, problems=problems, elapsed_s=elapsed)
        print(f"wrote {args.json}")
    if args.plots:
        paths = common.write_plots(results, scaling, args.plots)
        print(f"wrote {len(paths)} plots to {args.plots}" if paths is not None
              else "--plots: skipped, matplotlib is not installed")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
