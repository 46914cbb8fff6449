"""Softmax-family timings: actgrad at 1 and 2 threads against SciPy, a NumPy formula and
(if installed) PyTorch, and against the copy roofline (ag.relu, a read and a write per element,
at the same thread count).  Medians of repeated calls, all in one run.

    PYTHONPATH=src python bench/bench_softmax.py [--quick]
"""
import argparse
import time

import numpy as np

import actgrad as ag

try:
    from scipy import special
except ImportError:
    special = None
try:
    import torch
except ImportError:
    torch = None


def median_time(f, reps, min_time=0.2):
    f()
    times = []
    t_end = time.perf_counter() + min_time
    while len(times) < reps or time.perf_counter() < t_end:
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
        if len(times) >= 200:
            break
    return float(np.median(times))


def np_softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    e /= e.sum(axis=axis, keepdims=True)
    return e


def np_softmax_backward(dy, y, axis=-1):
    return y * (dy - np.sum(dy * y, axis=axis, keepdims=True))


def row(label, ms, roof=None):
    extra = f"   {100 * roof / ms:5.1f}% of roofline" if roof else ""
    print(f"  {label:34s} {ms * 1e3:9.3f} ms{extra}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true")
    args = p.parse_args()
    reps = 5 if args.quick else 11
    rng = np.random.default_rng(0)
    print(f"actgrad {ag.__version__}, SIMD {ag.config()['simd']}, {ag.get_num_threads()} threads by default")
    cases = [((4096, 4096), np.float32, -1), ((1, 10 ** 7), np.float32, -1),
             ((16000, 1000), np.float32, -1), ((1000, 16000), np.float32, -1),
             ((16000, 1000), np.float64, -1), ((1000, 16000), np.float64, -1),
             ((1000, 16000), np.float32, 0), ((64, 10), np.float32, -1)]
    for shape, dtype, axis in cases:
        x = (rng.standard_normal(shape) * 4).astype(dtype)
        dy = rng.standard_normal(shape).astype(dtype)
        y, out = ag.softmax(x, axis=axis), np.empty_like(x)
        print(f"{shape} {np.dtype(dtype).name} axis={axis}")
        for nt in (1, 2):
            with ag.num_threads(nt):
                roof = median_time(lambda: ag.relu(x, out=out), reps)
                row(f"copy roofline (relu) {nt}t", roof)
                row(f"ag.softmax {nt}t", median_time(lambda: ag.softmax(x, axis=axis, out=out), reps), roof)
                row(f"ag.log_softmax {nt}t", median_time(lambda: ag.log_softmax(x, axis=axis, out=out), reps), roof)
                row(f"ag.softmax_backward {nt}t",
                    median_time(lambda: ag.softmax_backward(dy, y, axis=axis, out=out), reps), 1.5 * roof)
        if axis == 0:
            xt = np.ascontiguousarray(x.T)
            outt = np.empty_like(xt)
            row("ag.softmax axis=-1 of x.T (2t)", median_time(lambda: ag.softmax(xt, out=outt), reps))
        if shape == (64, 10):
            row("np.exp(x, out=y)", median_time(lambda: np.exp(x, out=out), reps * 20))
        row("numpy formula softmax", median_time(lambda: np_softmax(x, axis), reps))
        row("numpy formula softmax_backward", median_time(lambda: np_softmax_backward(dy, y, axis), reps))
        if special is not None:
            row("scipy.special.softmax", median_time(lambda: special.softmax(x, axis=axis), reps))
        if torch is not None:
            t, tdy, ty = torch.from_numpy(x), torch.from_numpy(dy), torch.from_numpy(y)
            torch.set_num_threads(2)
            row("torch.softmax (2t)", median_time(lambda: torch.softmax(t, axis), reps))
            row("torch softmax backward (2t)",
                median_time(lambda: torch._softmax_backward_data(tdy, ty, axis % x.ndim, t.dtype), reps))


if __name__ == "__main__":
    main()
