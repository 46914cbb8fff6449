#!/usr/bin/env python3
"""Measure the ULP error of gelu (erf and tanh forms) and of vmath erfc against mpmath.

Compiles csrc/ops/gelu.h, csrc/ops/gelu_tanh.h and csrc/vmath/erfc.h into a
small shared library (the scalar SIMD path; csrc/tests/test_gelu.c shows the
AVX2 path to be bit-identical), calls it via ctypes for float32 and float64,
and prints the max ULP error of each call on dense samples: uniform in value
over the bulk and over the tails (where the result is tiny or subnormal),
uniform in bit pattern over the whole range, and special values.

    python3 tools/ulp_check_gelu.py [--n 20000] [--jobs 2]

ULP error = |y - r| / ulp(r), r exact (mpmath, 60 digits), ulp(r) the spacing
of the dtype at r (subnormal spacing below the normal range).  The
derivatives have interior roots (x ~ -0.75) where they are differences of
terms of size ~0.2: the "terms" column judges them in ULPs of the larger
term (NUMERICS.md).  The tanh form is the function with the exact constants
sqrt(2/pi) and 0.044715.  Exit status 1 if a forward exceeds 2 ULP or a
derivative 4 ULP (in terms), or erfc 2 ULP.
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

C_HEAD = r"""
#include "csrc/simd/scalar.h"
#include "csrc/simd/generic.h"
/* exported: <name>_<sfx>(x, y, n) */
#define EXPORT(name, expr)                                                              \
void AG_CAT3(name, _, AG_SFX)(const AG_T *x, AG_T *y, long n)                           \
{                                                                                       \
    vec z = v_set1(0);                                                                  \
    for (long i = 0; i < n; i++) {                                                      \
        vec v = v_load(x + i);                                                          \
        v_store(y + i, expr);                                                           \
    }                                                                                   \
}
"""
C_DTYPE = r"""
#define AG_T %(t)s
#define AG_SFX %(sfx)s
#define AG_IS_F32 %(f32)d
#include "csrc/ops/gelu.h"
#include "csrc/ops/gelu_tanh.h"
EXPORT(erfc, AG_FN(ag_erfc)(v))
EXPORT(gelu_forward, AG_FN(ag_gelu_forward)(v, z, z))
EXPORT(gelu_derivative, AG_FN(ag_gelu_derivative)(v, z, z))
EXPORT(gelu_tanh_forward, AG_FN(ag_gelu_tanh_forward)(v, z, z))
EXPORT(gelu_tanh_derivative, AG_FN(ag_gelu_tanh_derivative)(v, z, z))
#undef AG_T
#undef AG_SFX
#undef AG_IS_F32
"""
CALLS = ["erfc", "gelu_forward", "gelu_derivative", "gelu_tanh_forward", "gelu_tanh_derivative"]


def build_library(tmp, dtypes):
    src = os.path.join(tmp, "gelu_lib.c")
    with open(src, "w") as f:
        f.write(C_HEAD)
        for sfx, t, f32 in (("f32", "float", 1), ("f64", "double", 0)):
            if sfx in dtypes:
                f.write(C_DTYPE % dict(t=t, sfx=sfx, f32=f32))
    lib = os.path.join(tmp, "gelu_lib.so")
    subprocess.run(["gcc", "-std=c11", "-O2", "-ffp-contract=off", "-fno-math-errno", "-shared", "-fPIC",
                    "-I", ROOT, src, "-o", lib, "-lm"], check=True)
    return lib


def call(lib, name, dtype, x):
    sfx = "f32" if dtype == np.float32 else "f64"
    ct = ctypes.c_float if dtype == np.float32 else ctypes.c_double
    fn = getattr(lib, "%s_%s" % (name, sfx))
    ptr = ctypes.POINTER(ct)
    fn.argtypes = [ptr, ptr, ctypes.c_long]
    x = np.ascontiguousarray(x, dtype=dtype)
    y = np.empty_like(x)
    fn(x.ctypes.data_as(ptr), y.ctypes.data_as(ptr), len(x))
    return y


# ---------------------------------------------------------------- references

def reference(name, x):
    """Exact value and the size of its largest term (or None)."""
    X = mp.mpf(x)
    if abs(X) > 1e4 and not name.startswith("gelu_tanh"):   # below every number (mpmath's erfc overflows)
        lim = {"erfc": (0, 2), "gelu_forward": (X, 0), "gelu_derivative": (1, 0)}[name][X < 0]
        return mp.mpf(lim), None
    if name == "erfc":
        return mp.erfc(X), None
    if name == "gelu_forward":
        return X * mp.ncdf(X), None
    if name == "gelu_derivative":
        a, b = mp.ncdf(X), X * mp.npdf(X)
        return a + b, max(abs(a), abs(b))
    c1 = 2 * mp.sqrt(2 / mp.pi)
    c3 = c1 * mp.mpf("0.044715")
    w = c1 * X + c3 * X ** 3
    s, sbar = 1 / (1 + mp.exp(-w)), 1 / (1 + mp.exp(w))
    if name == "gelu_tanh_forward":
        return X * s, None
    b = X * s * sbar * (c1 + 3 * c3 * X * X)
    return s + b, max(abs(s), abs(b))


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
    if np.isnan(y):
        return float("inf")
    lim = big + ulp_of(big, dtype) / 2
    if abs(r) >= lim or np.isinf(y):
        return 0.0 if (np.isinf(y) and abs(r) >= lim and (y > 0) == (r > 0)) else float("inf")
    if r == 0 and y == 0:
        return 0.0
    u = ulp_of(r, dtype)
    if terms is not None:
        u = max(u, ulp_of(terms, dtype))
    return float(abs(mp.mpf(y) - r) / u)


def work(args):
    name, dtype_name, xs, ys = args
    dtype = np.float32 if dtype_name == "f32" else np.float64
    mp.mp.dps = 60
    worst, worst_x, worst_t, worst_tx = 0.0, None, 0.0, None
    for x, y in zip(xs, ys):
        if np.isnan(x):
            if not np.isnan(y):
                return (float("inf"), x, float("inf"), x)
            continue
        xr = x if np.isfinite(x) else mp.mpf("1e4000") * (1 if x > 0 else -1)
        if not np.isfinite(x):  # the limits: exact
            r = {"erfc": (0, 2), "gelu_forward": (x, -0.0), "gelu_derivative": (1, 0),
                 "gelu_tanh_forward": (x, -0.0), "gelu_tanh_derivative": (1, 0)}[name][x < 0]
            ok = y == r and (name not in ("gelu_forward", "gelu_tanh_forward") or np.signbit(y) == np.signbit(r))
            e, et = (0.0, 0.0) if ok else (float("inf"), float("inf"))
        else:
            r, terms = reference(name, xr)
            e = ulp_error(y, r, dtype)
            et = e if terms is None else ulp_error(y, r, dtype, terms)
            if x == 0 and name in ("gelu_forward", "gelu_tanh_forward") and np.signbit(y) != np.signbit(x):
                e = et = float("inf")                       # the sign of zero
        if e > worst:
            worst, worst_x = e, x
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
                     -finfo.tiny, 1, -1, 0.5, -0.5, 43 / 64, -43 / 64, 0.475, -0.475, 1.0505, -1.0505,
                     2, -2, 64, -64, lo, hi, np.inf, -np.inf, np.nan], dtype=dtype)
    with np.errstate(invalid="ignore"):
        spec = spec[np.isnan(spec) | ((spec >= lo) & (spec <= hi)) | np.isinf(spec)]
    return np.concatenate([spec, u, bits])


def inputs(name, dtype, n, rng):
    f32 = dtype == np.float32
    big = np.finfo(dtype).max
    parts = [samples(dtype, -2, 2, n, rng), samples(dtype, -8, 8, n, rng),
             samples(dtype, -big, big, n // 4, rng)]
    if name == "erfc":
        parts.append(samples(dtype, -6, 11 if f32 else 28, n, rng))
    elif name.startswith("gelu_tanh"):
        parts.append(samples(dtype, -13 if f32 else -24, 6, n, rng))
    else:
        parts.append(samples(dtype, -15 if f32 else -39, 8, n, rng))
    return np.concatenate(parts)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=20000, help="samples per range (default 20000)")
    ap.add_argument("--calls", default=",".join(CALLS), help="comma-separated subset of " + ",".join(CALLS))
    ap.add_argument("--dtypes", default="f32,f64", help="f32,f64 or one of them")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()
    rng = np.random.default_rng(2024)
    tasks, labels = [], []
    with tempfile.TemporaryDirectory() as tmp:
        lib = ctypes.CDLL(build_library(tmp, args.dtypes.split(",")))
        for name in args.calls.split(","):
            for sfx, dtype in (("f32", np.float32), ("f64", np.float64)):
                if sfx not in args.dtypes.split(","):
                    continue
                xs = inputs(name, dtype, args.n, rng)
                ys = call(lib, name, dtype, xs)
                for ch in np.array_split(np.arange(len(xs)), max(1, args.jobs * 2)):
                    tasks.append((name, sfx, xs[ch].tolist(), ys[ch].tolist()))
                    labels.append((name, sfx))
    with multiprocessing.Pool(args.jobs) as pool:
        results = pool.map(work, tasks, chunksize=1)
    table = {}
    for lab, (w, wx, wt, wtx) in zip(labels, results):
        cur = table.setdefault(lab, [0.0, None, 0.0, None])
        if w > cur[0] or w != w:
            cur[0], cur[1] = w, wx
        if wt > cur[2] or wt != wt:
            cur[2], cur[3] = wt, wtx
    bad = False
    print("%-22s %-4s %10s  %-24s %8s  %-24s" % ("call", "type", "rel. ULP", "at x", "terms", "at x"))
    for (name, sfx), (w, wx, wt, wtx) in table.items():
        deriv = name.endswith("derivative")
        tol = 4.0 if deriv else 2.0
        judged = wt if deriv else w
        flag = "" if judged <= tol else "  <-- over %.0f" % tol
        bad |= not judged <= tol
        print("%-22s %-4s %10.3f  %-24s %8s  %-24s%s" % (
            name, sfx, w, float.hex(float(wx)) if wx is not None else "-",
            "%.3f" % wt if deriv else "", float.hex(float(wtx)) if deriv and wtx is not None else "", flag))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
