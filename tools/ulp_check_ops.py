#!/usr/bin/env python3
"""Measure the ULP error of the activation math in csrc/ops against mpmath.

Compiles a small shared library from csrc/ops/*.h (the scalar SIMD path,
which test_vmath.c shows to be bit-identical to the AVX2 path), calls it via
ctypes for float32 and float64, and prints the max ULP error of every
forward / derivative / derivative_from_output on dense samples (uniform in
value over the interesting ranges, uniform in bit pattern over the whole
range, the subnormal tails, and special values).

    python3 tools/ulp_check_ops.py [--n 20000] [--ops silu,mish] [--jobs 2]

ULP error = |y - r| / ulp(r), r the exact value rounded nowhere (mpmath, 60
digits), ulp(r) the spacing of the dtype at r (subnormal spacing below the
normal range).  For silu' and mish', which have interior roots where the
derivative is a difference of terms of size ~1, the error is also given in
ULPs of the largest term ("terms" column, NUMERICS.md).  _from_output
variants are judged against their own formula evaluated exactly in y.
Exit status 1 if a forward exceeds 2 ULP or a derivative 4 ULP.
"""
import argparse
import ctypes
import multiprocessing
import os
import subprocess
import sys
import tempfile

import mpmath as mp
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
mp.mp.dps = 60
SELU_ALPHA = mp.mpf("1.6732632423543772848170429916717")
SELU_SCALE = mp.mpf("1.0507009873554804934193349852946")

# name -> (has derivative_from_output, list of (p0, p1) to test, x range, y range)
OPS = {
    "sigmoid": (True, [(0, 0)], 120, (0, 1)),
    "tanh": (True, [(0, 0)], 30, (-1, 1)),
    "softplus": (True, [(1, 20), (2.5, 20), (0.25, 5)], 120, (0, 60)),
    "log_sigmoid": (True, [(0, 0)], 120, (-60, 0)),
    "silu": (False, [(0, 0)], 120, None),
    "mish": (False, [(0, 0)], 120, None),
    "elu": (True, [(1, 0), (0.3, 0), (2.5, 0)], 60, (-2.5, 40)),
    "selu": (True, [(0, 0)], 60, (-1.76, 40)),
    "celu": (True, [(1, 0), (0.3, 0), (2.5, 0)], 60, (-2.5, 40)),
}

C_HEAD = r"""
#include "csrc/simd/scalar.h"
#include "csrc/simd/generic.h"
#define OPS(X) X(sigmoid, 1) X(tanh, 1) X(softplus, 1) X(log_sigmoid, 1) X(silu, 0) X(mish, 0) \
               X(elu, 1) X(selu, 1) X(celu, 1)
#define DFO_1(name) EXPORT(name, derivative_from_output)
#define DFO_0(name)
#define ALL(name, dfo) EXPORT(name, forward) EXPORT(name, derivative) DFO_##dfo(name)
"""
C_DTYPE = r"""
#define AG_T %(t)s
#define AG_SFX %(sfx)s
#define AG_IS_F32 %(f32)d
%(includes)s
/* exported: <name>_<call>_<sfx>(x, y, n, p0, p1) */
#define EXPORT(name, call)                                                              \
void name##_##call##_%(sfx)s(const AG_T *x, AG_T *y, long n, AG_T p0, AG_T p1)          \
{                                                                                       \
    for (long i = 0; i < n; i++)                                                        \
        v_store(y + i, AG_FN(ag_##name##_##call)(v_load(x + i), v_set1(p0), v_set1(p1))); \
}
OPS(ALL)
#undef EXPORT
#undef AG_T
#undef AG_SFX
#undef AG_IS_F32
"""


def build_library(tmp):
    src = os.path.join(tmp, "ops_lib.c")
    includes = "".join('#include "csrc/ops/%s.h"\n' % name for name in OPS)
    with open(src, "w") as f:
        f.write(C_HEAD)
        for sfx, t, f32 in (("f32", "float", 1), ("f64", "double", 0)):
            f.write(C_DTYPE % dict(t=t, sfx=sfx, f32=f32, includes=includes))
    lib = os.path.join(tmp, "ops_lib.so")
    cmd = ["gcc", "-std=c11", "-O2", "-ffp-contract=off", "-fno-math-errno", "-shared", "-fPIC",
           "-I", ROOT, src, "-o", lib, "-lm"]
    subprocess.run(cmd, check=True)
    return lib


def call(lib, name, call_, dtype, x, p0, p1):
    sfx = "f32" if dtype == np.float32 else "f64"
    ct = ctypes.c_float if dtype == np.float32 else ctypes.c_double
    fn = getattr(lib, "%s_%s_%s" % (name, call_, sfx))
    ptr = ctypes.POINTER(ct)
    fn.argtypes = [ptr, ptr, ctypes.c_long, ct, ct]
    x = np.ascontiguousarray(x, dtype=dtype)
    y = np.empty_like(x)
    fn(x.ctypes.data_as(ptr), y.ctypes.data_as(ptr), len(x), p0, p1)
    return y


# ---------------------------------------------------------------- references

def sig(x):
    return 1 / (1 + mp.exp(-x))


def dsig(x):  # e/(1+e)^2 with e = exp(-|x|), no cancellation
    e = mp.exp(-abs(x))
    return e / (1 + e) ** 2


def reference(name, call_, x, p0, p1, rounded_mul):
    """Exact value (and the size of its terms, or None).  rounded_mul(a, b) is
    a*b rounded to the dtype (thresholds compare PyTorch's rounded beta*x)."""
    X = mp.mpf(x)
    if name == "sigmoid":
        if call_ == "forward":
            return sig(X), None
        if call_ == "derivative":
            return dsig(X), None
        return X * (1 - X), None
    if name == "tanh":
        if call_ == "forward":
            return mp.tanh(X), None
        if call_ == "derivative":
            return mp.sech(X) ** 2, None
        return 1 - X * X, None
    if name == "softplus":
        beta, thr = mp.mpf(p0), mp.mpf(p1)
        zr = rounded_mul(p0, x)
        if call_ == "forward":
            return (X if zr > p1 else mp.log1p(mp.exp(beta * X)) / beta), None
        if call_ == "derivative":
            return (mp.mpf(1) if zr > p1 else sig(beta * X)), None
        return (mp.mpf(1) if zr > p1 else -mp.expm1(-beta * X)), None
    if name == "log_sigmoid":
        if call_ == "forward":
            return -mp.log1p(mp.exp(-X)), None
        if call_ == "derivative":
            return sig(-X), None
        return -mp.expm1(X), None
    if name == "silu":
        if call_ == "forward":
            return X * sig(X), None
        s, t = sig(X), X * dsig(X)
        return s + t, max(abs(s), abs(t))
    if name == "mish":
        sp = mp.log1p(mp.exp(X))
        T = mp.tanh(sp)
        if call_ == "forward":
            return X * T, None
        t = X * mp.sech(sp) ** 2 * sig(X)
        return T + t, max(abs(T), abs(t))
    if name in ("elu", "selu", "celu"):
        alpha = {"elu": mp.mpf(p0), "selu": SELU_ALPHA, "celu": mp.mpf(p0)}[name]
        scale = SELU_SCALE if name == "selu" else mp.mpf(1)
        div = alpha if name == "celu" else mp.mpf(1)
        if call_ == "forward":
            return scale * (X if x > 0 else alpha * mp.expm1(X / div)), None
        if call_ == "derivative":
            return scale * (1 if x > 0 else alpha / div * mp.exp(X / div)), None
        if name == "celu":
            return (mp.mpf(1) if x > 0 else 1 + X / alpha), None
        return scale * (1 if x > 0 else X / scale + alpha), None
    raise ValueError(name)


# ---------------------------------------------------------------- ulp error

FMT = {np.float32: (24, -126, mp.mpf(np.finfo(np.float32).max.item())),
       np.float64: (53, -1022, mp.mpf(np.finfo(np.float64).max.item()))}


def ulp_of(r, dtype):
    prec, emin, _ = FMT[dtype]
    if r == 0:
        return mp.ldexp(1, emin - prec + 1)
    e = mp.frexp(r)[1] - 1
    return mp.ldexp(1, max(e, emin) - prec + 1)


def ulp_error(y, r, dtype, terms=None):
    prec, emin, big = FMT[dtype]
    y = float(y)
    if np.isnan(y) or (isinstance(r, float) and np.isnan(r)):
        return 0.0 if (np.isnan(y) and isinstance(r, float) and np.isnan(r)) else float("inf")
    lim = big + ulp_of(big, dtype) / 2
    if abs(r) >= lim or np.isinf(y):
        return 0.0 if (np.isinf(y) and abs(r) >= lim and (y > 0) == (r > 0)) else float("inf")
    u = ulp_of(r, dtype)
    if terms is not None:
        u = max(u, ulp_of(terms, dtype))
    return float(abs(mp.mpf(y) - r) / u)


def work(args):
    name, call_, dtype_name, p0, p1, xs, ys = args
    dtype = np.float32 if dtype_name == "f32" else np.float64
    p0, p1 = float(dtype(p0)), float(dtype(p1))      # the parameters the C code sees
    mp.mp.dps = 60
    np.seterr(all="ignore")
    rmul = (lambda a, b: float(np.float32(a) * np.float32(float(b)))) if dtype == np.float32 else \
        (lambda a, b: float(np.float64(a) * np.float64(float(b))))
    worst, worst_x, worst_t, worst_tx = 0.0, None, 0.0, None
    for x, y in zip(xs, ys):
        if np.isnan(x):
            if not np.isnan(y):
                return (float("inf"), x, float("inf"), x)
            continue
        # +-inf: the limit, as the value at +-10^4000 (mpmath has no overflow)
        xr = x if np.isfinite(x) else mp.mpf("1e4000") * (1 if x > 0 else -1)
        r, terms = reference(name, call_, xr, p0, p1, rmul)
        e = ulp_error(y, r, dtype)
        if e > worst:
            worst, worst_x = e, x
        if terms is not None:
            et = ulp_error(y, r, dtype, terms)
            if et > worst_t:
                worst_t, worst_tx = et, x
    return worst, worst_x, worst_t, worst_tx


def samples(dtype, lo, hi, n, rng):
    """uniform in [lo, hi], bit patterns in [lo, hi], and specials."""
    finfo = np.finfo(dtype)
    itype = np.uint32 if dtype == np.float32 else np.uint64
    with np.errstate(over="ignore"):
        u = (lo + (rng.uniform(0, 1, n) * (hi / 2 - lo / 2)) * 2).astype(dtype)
    bits = rng.integers(0, np.iinfo(itype).max, n, dtype=itype, endpoint=True).view(dtype)
    with np.errstate(invalid="ignore"):
        bits = bits[np.isfinite(bits) & (bits >= lo) & (bits <= hi)]
    spec = np.array([0.0, -0.0, finfo.smallest_subnormal, -finfo.smallest_subnormal, finfo.tiny,
                     -finfo.tiny, 1, -1, 0.5, -0.5, lo, hi, np.inf, -np.inf, np.nan], dtype=dtype)
    with np.errstate(invalid="ignore"):
        spec = spec[np.isnan(spec) | ((spec >= lo) & (spec <= hi)) | np.isinf(spec)]
    return np.concatenate([spec, u, bits])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=20000, help="samples per range (default 20000)")
    ap.add_argument("--ops", default=",".join(OPS), help="comma-separated op names")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()
    rng = np.random.default_rng(12345)
    with tempfile.TemporaryDirectory() as tmp:
        lib = ctypes.CDLL(build_library(tmp))
        tasks, labels = [], []
        for name in args.ops.split(","):
            has_dfo, params, xr, yr = OPS[name]
            calls = ["forward", "derivative"] + (["derivative_from_output"] if has_dfo else [])
            for sfx, dtype in (("f32", np.float32), ("f64", np.float64)):
                big = xr if dtype == np.float32 else xr * 6.7
                for p0, p1 in params:
                    for c in calls:
                        if c == "derivative_from_output":
                            lo, hi = (yr[0] * (p0 if name in ("elu", "celu") and p0 else 1), yr[1])
                            if name == "elu":
                                lo = -p0
                            xs = np.concatenate([samples(dtype, lo, hi, args.n, rng),
                                                 samples(dtype, lo, min(hi, lo + 1), args.n // 4, rng)])
                            xs = xs[~np.isinf(xs)]       # outside the range of f
                        else:
                            tail = -104.0 if dtype == np.float32 else -745.0
                            xs = np.concatenate([samples(dtype, -8, 8, args.n, rng),
                                                 samples(dtype, -big, big, args.n, rng),
                                                 samples(dtype, tail, tail * 0.83, args.n // 4, rng),
                                                 samples(dtype, -np.finfo(dtype).max, np.finfo(dtype).max,
                                                         args.n // 4, rng)])
                        ys = call(lib, name, c, dtype, xs, p0, p1)
                        chunks = np.array_split(np.arange(len(xs)), max(1, args.jobs * 2))
                        for ch in chunks:
                            tasks.append((name, c, sfx, p0, p1, xs[ch].tolist(), ys[ch].tolist()))
                            labels.append((name, c, sfx, (p0, p1) if len(params) > 1 else None))
        with multiprocessing.Pool(args.jobs) as pool:
            results = pool.map(work, tasks, chunksize=1)
    table = {}
    for lab, res in zip(labels, results):
        w, wx, wt, wtx = res
        cur = table.setdefault(lab, [0.0, None, 0.0, None])
        if w > cur[0] or w != w:
            cur[0], cur[1] = w, wx
        if wt > cur[2]:
            cur[2], cur[3] = wt, wtx
    bad = False
    print("%-12s %-24s %-4s %-12s %10s  %-26s %8s" % ("op", "call", "type", "params", "max ULP", "at x", "terms"))
    for (name, c, sfx, par), (w, wx, wt, wtx) in table.items():
        tol = 2.0 if c == "forward" else 4.0
        judged = wt if (name in ("silu", "mish") and c == "derivative") else w
        flag = "" if judged <= tol else "  <-- over %.0f" % tol
        bad |= judged > tol
        print("%-12s %-24s %-4s %-12s %10.3f  %-26s %8s%s" % (
            name, c, sfx, "" if par is None else "%g,%g" % par, w, float.hex(float(wx)) if wx is not None else "-",
            "%.3f" % wt if (name in ("silu", "mish") and c == "derivative") else "", flag))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
