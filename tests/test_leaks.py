"""Memory: every public function (elementwise, softmax family, losses), on its success and every error path, called many times keeps
memory flat (tracemalloc for Python and NumPy allocations, RSS for everything else); and,
opt-in, arrays of more than 2^31 elements and byte strides above 2^31 (64-bit indexing end to
end).

The big tests are marked slow and skipped unless ACTGRAD_BIG_TESTS=1: they need about 9 GB of
free memory (one float32 array of 2^31 + 17 elements, 8.6 GB) and take about 4 minutes on 2 cores:
    ACTGRAD_BIG_TESTS=1 python -m pytest tests/test_leaks.py -m slow
"""
import contextlib
import gc
import io
import os
import tracemalloc

import numpy as np
import pytest

import actgrad as ag
from actgrad._optable import ACTIVATIONS, checks

PAGE = os.sysconf("SC_PAGE_SIZE")
UNDER_ASAN = "libasan" in os.environ.get("LD_PRELOAD", "")   # tools/sanitize.sh: ASan's quarantine grows RSS


def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


def _bad_param_values(act, call):
    """Parameter sets that fail the wrapper's checks (ValueError) or types (TypeError)."""
    bad = []
    numeric = [p for p in act.params if p.choices is None]
    for p in act.params:
        if p.choices is not None:
            bad.append({p.name: "no such choice"})   # ValueError
            bad.append({p.name: 1})                  # TypeError
        else:
            bad.append({p.name: "1.0"})              # TypeError
    tests = checks(act, call)
    if tests and numeric:
        for value in (0.0, -1.0, float("nan")):
            for p in numeric:
                kw = {q.name: q.default for q in numeric}
                kw[p.name] = value
                if any(t(**kw) for t in tests):
                    bad.append(kw)
                    break
        if [p.name for p in numeric] == ["min_val", "max_val"]:
            bad.append({"min_val": 1.0, "max_val": -1.0})
    return bad


def _calls():
    """(function, args, kwargs) for every public function: successes and every error path."""
    x64 = np.linspace(-6, 6, 1001)
    x32 = x64.astype(np.float32)[::-1]
    x16 = x64.astype(np.float16).reshape(7, 143)
    xi = np.arange(-50, 50, dtype=np.int16)
    xc = x64.astype(np.complex128)
    ro = np.empty(1001)
    ro.flags.writeable = False
    calls = []
    for act in ACTIVATIONS:
        for call in act.calls:
            for name in (act.name, *act.aliases):
                pub = name if call == "forward" else f"{name}_{call}"
                f = getattr(ag, pub)
                two = call.startswith("backward")

                def a(x):
                    return (x, x) if two else (x,)
                ok = [(x64, {}), (x32, {}), (x16, {}), (xi, {}), (1.5, {}), (np.float32(-0.5), {}),
                      ([1.0, -2.0], {}), (x64, {"out": np.empty(1001)}), (x64[:0], {})]
                errors = [(xc, {}), (x64, {"out": np.empty(3)}), (x64, {"out": ro}),
                          (x64, {"out": np.empty(1001, np.int32)}), (x64, {"out": [0.0]})]
                errors += [(x64, kw) for kw in _bad_param_values(act, call)]
                calls += [(f, a(x), kw, False) for x, kw in ok] + [(f, a(x), kw, True) for x, kw in errors]
                if two:
                    calls.append((f, (x64, x64[:3]), {}, True))          # shapes do not broadcast
    for name in ag.ufuncs.__all__:   # the raw ufuncs with parameter arrays
        u = getattr(ag.ufuncs, name)
        calls.append((u, (x64,) * u.nin, {}, False))
        if u.nin > 1:
            calls.append((u, (x64[:5],) * (u.nin - 1) + (x64[:4],), {}, True))   # shapes do not broadcast
        calls.append((u, (xc,) * u.nin, {}, True))
    calls += _softmax_and_loss_calls()
    calls += [(ag.get_num_threads, (), {}, False), (ag.set_num_threads, (ag.get_num_threads(),), {}, False),
              (ag.set_num_threads, (0,), {}, True), (ag.set_num_threads, ("2",), {}, True),
              (ag.config, (), {}, False), (ag.activations.get, ("elu",), {}, False)]
    return calls


def _softmax_and_loss_calls():
    """The softmax family (docs/api.md section 3) and the losses (section 4): successes and errors."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((7, 13))
    x32 = x.astype(np.float32).T
    y = ag.softmax(x)
    t = np.arange(7) % 13
    p = np.full((7, 13), 1 / 13)
    ok, err = [], []
    for f in (ag.softmax, ag.log_softmax):
        ok += [(f, (x,), {}), (f, (x32,), {"axis": 0}), (f, (x,), {"out": np.empty((7, 13))}), (f, (x[:0],), {})]
        err += [(f, (np.float64(1.0),), {}), (f, (x,), {"axis": 5}), (f, (x.astype(complex),), {}),
                (f, (x,), {"out": np.empty(3)})]
    ok += [(ag.logsumexp, (x,), {}), (ag.logsumexp, (x32,), {"axis": 0, "keepdims": True}),
           (ag.logsumexp, (x[:, :0],), {})]
    err += [(ag.logsumexp, (x,), {"axis": -3}), (ag.logsumexp, (x.astype(object),), {})]
    for f in (ag.softmax_backward, ag.softmax_jvp, ag.log_softmax_backward):
        ok += [(f, (x, y), {}), (f, (x32, y.astype(np.float32).T), {"axis": 0})]
        err += [(f, (x[:, :12], y), {}), (f, (x, y), {"axis": 2})]
    ok += [(ag.softmax_jacobian, (y,), {}), (ag.softmax_jacobian, (y,), {"axis": 0})]
    err += [(ag.softmax_jacobian, (np.float64(1.0),), {})]
    for f in (ag.cross_entropy, ag.cross_entropy_backward, ag.cross_entropy_with_grad):
        ok += [(f, (x, t), {}), (f, (x, p), {"reduction": "sum"}), (f, (x, t), {"weight": np.ones(13),
                                                                              "label_smoothing": 0.1}),
               (f, (x, t), {"reduction": "none", "ignore_index": 3})]
        err += [(f, (x, t + 20), {}), (f, (x, t), {"reduction": "bad"}), (f, (x, t), {"weight": np.ones(3)})]
    for f in (ag.binary_cross_entropy_with_logits, ag.binary_cross_entropy_with_logits_backward,
              ag.binary_cross_entropy_with_logits_with_grad):
        ok += [(f, (x, (x > 0) * 1.0), {}), (f, (x, p), {"pos_weight": np.ones(13), "reduction": "none"})]
        err += [(f, (x, p), {"reduction": "bad"})]
    for f in (ag.mse_loss, ag.mse_loss_backward, ag.mse_loss_with_grad):
        ok += [(f, (x, 2 * x), {}), (f, (x32, x32), {"reduction": "sum"})]
        err += [(f, (x, x[:, :3]), {}), (f, (x, x), {"reduction": "bad"})]
    return [(f, a, kw, False) for f, a, kw in ok] + [(f, a, kw, True) for f, a, kw in err]


CALLS = _calls()


def _run(calls, rounds):
    out = io.StringIO()
    for _ in range(rounds):
        for f, args, kwargs, _ in calls:
            try:
                f(*args, **kwargs)
            except (TypeError, ValueError, IndexError):   # AxisError is both of the last two
                pass
        with ag.num_threads(1):
            pass
        with contextlib.redirect_stdout(out):
            ag.show_config()
        out.seek(0)
        out.truncate()


def test_calls_cover_every_public_function():
    called = {id(c[0]) for c in CALLS}
    public = {n for n in ag.__all__ if callable(getattr(ag, n)) and n not in
              ("ActivationFunctions", "num_threads", "show_config")}
    assert {n for n in public if id(getattr(ag, n)) not in called} == set()


def test_error_paths_raise():
    """The error entries really raise, the others do not (else the leak test would miss paths)."""
    wrong = [(getattr(f, "__name__", f), kw) for f, args, kw, error in CALLS if _raises(f, args, kw) != error]
    assert wrong == []
    assert sum(c[3] for c in CALLS) > 500


def _raises(f, args, kwargs):
    try:
        f(*args, **kwargs)
    except (TypeError, ValueError, IndexError):
        return True
    return False


def test_tracemalloc_flat():
    """Python and NumPy allocations (NumPy reports its data buffers to tracemalloc) do not grow
    per call: over two consecutive windows of 40 rounds of every call, no allocation site gains
    40 or more live blocks in both (a leaked array, exception, message or reference on any one
    path gains one per round, in every window; a cache that fills during one window does not
    grow in the next), and the total stays within what caches fill (measured: a few KB)."""
    rounds = 40
    _run(CALLS, 3)
    gc.collect()
    tracemalloc.start()
    try:
        _run(CALLS, 2)
        gc.collect()
        snapshots, sizes = [tracemalloc.take_snapshot()], [tracemalloc.get_traced_memory()[0]]
        for _ in range(2):
            _run(CALLS, rounds)
            gc.collect()
            snapshots.append(tracemalloc.take_snapshot())
            sizes.append(tracemalloc.get_traced_memory()[0])
    finally:
        tracemalloc.stop()
    grew = [{st.traceback[0]: st for st in later.compare_to(earlier, "lineno") if st.count_diff >= rounds}
            for earlier, later in zip(snapshots, snapshots[1:])]
    grown = [str(grew[1][site]) for site in grew[0].keys() & grew[1].keys()]
    assert grown == [], f"allocation sites growing by a block per round: {grown[:5]}"
    assert sizes[2] - sizes[1] < 64 * 1024, f"grew {sizes[2] - sizes[1]} bytes over {rounds * len(CALLS)} calls"


@pytest.mark.skipif(UNDER_ASAN, reason="ASan's quarantine keeps freed memory resident")
def test_rss_flat():
    """Resident memory (C allocations included) stays flat over many rounds of every call."""
    _run(CALLS, 20)
    gc.collect()
    before = rss()
    _run(CALLS, 60)
    gc.collect()
    grown = rss() - before
    ncalls = 60 * len(CALLS)
    # 4 MiB of allocator noise; a leak of 64 bytes per call would be ~ 13 MiB
    assert grown < 4 * 2**20, f"RSS grew {grown / 2**20:.1f} MiB over {ncalls} calls"


# ---------------------------------------------------------------- 64-bit indexing, opt-in

BIG = os.environ.get("ACTGRAD_BIG_TESTS") == "1"
N_BIG = 2**31 + 17
CHUNK = 2**24
PERIOD = 2039   # prime: an index that wrapped at 2^31 or 2^32 would read another pattern value


def _mem_available():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return 0


big = pytest.mark.skipif(not BIG, reason="needs ~9 GB and ~4 min: set ACTGRAD_BIG_TESTS=1")


def _fill(x, pattern):
    for s in range(0, len(x), CHUNK):
        e = min(s + CHUNK, len(x))
        x[s:e] = pattern[np.arange(s, e) % PERIOD]


def _check(y, expected_pattern):
    """y[i] == expected_pattern[i % PERIOD] for every i, bitwise."""
    want_bits = expected_pattern.view(np.uint16 if y.itemsize == 2 else np.uint32)
    for s in range(0, len(y), CHUNK):
        e = min(s + CHUNK, len(y))
        got = y[s:e].view(want_bits.dtype)
        bad = np.flatnonzero(got != want_bits[np.arange(s, e) % PERIOD])
        assert bad.size == 0, f"wrong at element {s + bad[0]} (of {len(y)})"


@pytest.mark.slow
@big
def test_more_than_2_31_elements_float32_in_place():
    """float32, contiguous, in place: the direct kernel path over the thread pool's ranges."""
    if _mem_available() < 9.5e9:
        pytest.skip("needs 9.5 GB available")
    pattern = ((np.arange(PERIOD) - PERIOD // 2) / 97.0).astype(np.float32)
    x = np.empty(N_BIG, np.float32)
    _fill(x, pattern)
    assert ag.sigmoid(x, out=x) is x
    _check(x, ag.sigmoid(pattern))
    # the last elements and the ones around 2^31, explicitly
    for i in (0, 2**31 - 1, 2**31, 2**31 + 1, N_BIG - 1):
        assert x[i] == ag.sigmoid(pattern[i % PERIOD]), i


@pytest.mark.slow
@big
def test_more_than_2_31_elements_float16_and_broadcast():
    """float16 in and out (the packed, converted path) with a stride-0 dy over 2^31 + 17 elements."""
    if _mem_available() < 9.5e9:
        pytest.skip("needs 9.5 GB available")
    pattern = ((np.arange(PERIOD) - PERIOD // 2) / 211.0).astype(np.float16)
    x = np.empty(N_BIG, np.float16)
    _fill(x, pattern)
    dy = np.broadcast_to(np.float16(0.75), (N_BIG,))
    y = ag.tanh_backward(dy, x)
    assert y.dtype == np.float16 and y.shape == (N_BIG,)
    _check(y, ag.tanh_backward(np.float16(0.75), pattern))


@pytest.mark.slow
@big
def test_byte_strides_above_2_31():
    """Views whose byte stride exceeds 2^31 as inputs and as out (int8 -> float64, float32)."""
    if _mem_available() < 7e9:
        pytest.skip("needs 7 GB available")
    base = np.zeros(2**31 + 2**20, np.int8)
    v = base[::2**31 + 1]                     # byte stride 2^31 + 1, 2 elements
    assert v.strides[0] > 2**31 and v.size == 2
    v[:] = [-3, 5]
    want = ag.elu(v.copy(), 0.5)
    np.testing.assert_array_equal(ag.elu(v, 0.5), want)
    out_base = np.zeros(2**28 + 16, np.float64)
    out = out_base[::2**28 + 1]               # byte stride 8 * (2^28 + 1) > 2^31
    assert out.strides[0] > 2**31 and out.size == 2
    assert ag.elu(v, 0.5, out=out) is out
    np.testing.assert_array_equal(out, want)
    assert np.count_nonzero(out_base) == np.count_nonzero(want)   # nothing else written
    del base, out_base
    f32 = np.zeros(2**29 + 8, np.float32)
    w = f32[::-(2**29 + 1)]                   # negative byte stride below -2^31
    assert w.strides[0] < -2**31 and w.size == 2
    w[:] = [np.nan, -2.5]
    got = ag.softplus_backward(w, w, beta=2.0)
    np.testing.assert_array_equal(got, ag.softplus_backward(w.copy(), w.copy(), beta=2.0))
