#!/usr/bin/env python3
"""Every float32 input through every float32 call of actgrad's activations.

    python tools/exhaustive_f32.py                      # all 2^32 inputs, every call
    python tools/exhaustive_f32.py --stride 65537       # every 65537th bit pattern
    python tools/exhaustive_f32.py --functions sigmoid,gelu --markdown

For every activation of the table (gelu's approximate='tanh' as its own row), with its
default parameters, and every call (forward, derivative, backward, and the from-output pair
where the table has them; backward with dy = 1 and with dy = DY2), the float32 result of
each of the 2^32 bit patterns (NaNs included) is compared with the float64 path on the same
input (parameters and dy rounded to float32 first, as the float32 kernels use them) rounded
to float32.  Printed per call: the max distance in float32 steps (ULPs of the float32 grid;
a NaN where the other is a number counts as a mismatch, listed separately) and how many
results differ from the rounded float64 value.  The float64 path is within 2 (4) ULPs of
double, so it is the correctly rounded float32 result except within ~2^-27 ULP of a
midpoint; a difference of 1 there is not an error of the float32 kernel.

Runs with actgrad's threads (all allowed cores by default); chunks of 2^24 inputs.
Exit status 1 if any call has a result 2 or more float32 steps away, or a NaN mismatch.
"""
import argparse
import os
import sys
import time

import numpy as np

import actgrad as ag
from actgrad._optable import ACTIVATIONS

DY2 = np.float32(-0.7)     # the second dy: not a power of two, so dy * f' rounds
CHUNK = 1 << 21   # 8 MiB of float32: the temporaries stay in the allocator's cache


def rows():
    """(label, public name, kernel params as float32-rounded floats, calls)."""
    for a in ACTIVATIONS:
        params = {p.name: p.default for p in a.params}
        variants = [(a.name, params)]
        if a.name == "gelu":
            variants.append(("gelu(approximate='tanh')", dict(params, approximate="tanh")))
        for label, prm in variants:
            prm = {k: (v if isinstance(v, str) else float(np.float32(v))) for k, v in prm.items()}
            yield label, a.name, prm, a.calls


def ordered(bits):
    """float32 bit patterns (int32) -> integers in the order of the floats (-0 == +0 - 1)."""
    b = bits.astype(np.int64)
    return np.where(b < 0, -(b & 0x7fffffff) - 1, b)


def compare(got, want):
    """(max float32 steps apart, number that differ, NaN mismatches) of two float32 arrays."""
    diff = got.view(np.uint32) != want.view(np.uint32)
    if not diff.any():
        return 0, 0, 0
    g, w = got[diff], want[diff]
    gn, wn = np.isnan(g), np.isnan(w)
    nan_bad = int(np.count_nonzero(gn != wn))
    differ = ~(gn & wn)                      # two NaNs (any payload) agree
    d = np.abs(ordered(g.view(np.int32)) - ordered(w.view(np.int32)))
    d = np.where(gn | wn, 0, d)
    return int(d.max(initial=0)), int(np.count_nonzero(differ)), nan_bad


def run_function(name, calls, params, xs):
    """[(call label, max steps, differ, NaN mismatches)] for every call of one activation on
    the float32 inputs xs.  The float64 reference of backward is dy * f'(x) formed from the
    float64 derivative (the float64 backward is that product bitwise: tests/test_activations.py)."""
    args = list(params.values())
    out = []
    with np.errstate(all="ignore"):
        x64 = xs.astype(np.float64)
        for call in calls:
            if call.startswith("backward"):
                continue
            fn = getattr(ag, name if call == "forward" else f"{name}_{call}")
            ref = fn(x64, *args)
            out.append((call, *compare(fn(xs, *args), ref.astype(np.float32))))
            if call == "forward":
                continue
            bwd = getattr(ag, f"{name}_{call.replace('derivative', 'backward')}")
            for dy in (np.float32(1.0), DY2):
                d32 = np.full_like(xs, dy)
                want = (ref * np.float64(dy)).astype(np.float32)
                out.append((f"{call.replace('derivative', 'backward')} (dy={float(dy):g})",
                            *compare(bwd(d32, xs, *args), want)))
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--stride", type=int, default=1, help="every STRIDE-th bit pattern (default 1: all)")
    p.add_argument("--functions", default="", help="comma-separated activation names (default all)")
    p.add_argument("--markdown", action="store_true", help="print the table as markdown")
    args = p.parse_args(argv)
    only = {f.strip() for f in args.functions.split(",") if f.strip()}
    step = args.stride
    total = ((1 << 32) + step - 1) // step
    results = []
    t_all = time.perf_counter()
    for label, name, params, calls in rows():
        if only and name not in only:
            continue
        acc = {}
        t0 = time.perf_counter()
        for start in range(0, total, CHUNK):
            idx = np.arange(start, min(start + CHUNK, total), dtype=np.uint64) * np.uint64(step)
            xs = idx.astype(np.uint32).view(np.float32)
            for call, m, n, nn in run_function(name, calls, params, xs):
                a = acc.setdefault(call, [0, 0, 0])
                a[0], a[1], a[2] = max(a[0], m), a[1] + n, a[2] + nn
        dt = time.perf_counter() - t0
        for call, a in acc.items():
            results.append((label, call, *a))
            r = results[-1]
            if not args.markdown:
                print(f"{r[0]:26s} {r[1]:34s} max {r[2]:3d} step   {r[3]:12d} differ   {r[4]:d} NaN",
                      flush=True)
        if not args.markdown:
            print(f"  ({label}: {dt:.1f} s)", flush=True)
    elapsed = time.perf_counter() - t_all
    if args.markdown:
        print("| function | call | max steps | results != float64 rounded | NaN mismatches |")
        print("|---|---|---:|---:|---:|")
        for r in results:
            print(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]} | {r[4]} |")
    print(f"{total} inputs per call (stride {step}), {len(results)} calls, {elapsed:.0f} s, "
          f"{ag.config()['num_threads']} threads, SIMD {ag.config()['simd']}", file=sys.stderr)
    bad = [r for r in results if r[2] >= 2 or r[4]]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
