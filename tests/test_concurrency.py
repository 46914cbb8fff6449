"""Concurrency: several Python threads call actgrad while others change the thread count
(set_num_threads and the num_threads context manager) and another forks child processes that
call actgrad too.  Every result must be bitwise the single-threaded reference computed first;
nothing may crash or deadlock.

Each scenario runs in a subprocess under a timeout, so a deadlock fails the test (instead of
hanging the suite) and a crash cannot take pytest down with it.  Forked children arm an alarm,
so a child that deadlocks dies by SIGALRM and the parent reports it.
"""
import os
import subprocess
import sys
import textwrap

import pytest

TIMEOUT = 240   # seconds for one scenario; it normally takes ~10 (~60 under tools/sanitize.sh)

SCRIPT = textwrap.dedent(r'''
    import os, random, signal, sys, threading, time
    import numpy as np
    import actgrad as ag

    DURATION, CALLERS, CHANGERS, FORK = float(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1"
    rng = np.random.default_rng(12345)
    N = 300_001                               # several thread ranges for every op
    x64 = rng.standard_normal(N) * 6
    x64[::997] = np.nan
    x32 = x64.astype(np.float32)
    dy64 = rng.standard_normal(N)
    dy32 = dy64.astype(np.float32)
    x16 = x64[:150_001].astype(np.float16)
    xi = (np.nan_to_num(x64[:200_001]) * 100).astype(np.int32)

    CASES = [   # (name, function, args, kwargs)
        ("sigmoid f64", ag.sigmoid, (x64,), {}),
        ("mish f32", ag.mish, (x32,), {}),
        ("gelu_backward f64", ag.gelu_backward, (dy64, x64), {}),
        ("gelu tanh f32", ag.gelu, (x32,), {"approximate": "tanh"}),
        ("relu strided", ag.relu, (x64[::3],), {}),
        ("tanh f16", ag.tanh, (x16,), {}),
        ("elu int32", ag.elu, (xi,), {"alpha": 0.5}),
        ("softplus f32", ag.softplus, (x32,), {"beta": 2.0, "threshold": 10.0}),
        ("leaky_relu_backward f32", ag.leaky_relu_backward, (dy32, x32), {"negative_slope": 0.1}),
        ("hardtanh_backward_from_output", ag.hardtanh_backward_from_output, (dy64, x64), {"min_val": -2.0}),
        ("silu reversed", ag.silu, (x64[::-1],), {}),
        ("selu 2-d F", ag.selu, (np.asfortranarray(x64[:300_000].reshape(600, 500)),), {}),
    ]
    # the other families, where this build has them
    X2 = np.nan_to_num(x64[:300_000]).reshape(600, 500)
    T2 = (np.arange(600) * 7) % 500
    for name, fname, args, kwargs in [("softmax rows", "softmax", (X2,), {}),
                                      ("log_softmax axis 0", "log_softmax", (X2.astype(np.float32),), {"axis": 0}),
                                      ("cross_entropy_backward", "cross_entropy_backward", (X2, T2), {}),
                                      ("mse_loss_backward", "mse_loss_backward", (X2, X2[::-1]), {})]:
        if hasattr(ag, fname):
            CASES.append((name, getattr(ag, fname), args, kwargs))

    def sigmoid_out_shifted(x, out=None):
        """sigmoid with out partly overlapping its input (the snapshot path of the driver)."""
        buf = np.empty(len(x) + 7)
        buf[7:] = x
        r = ag.sigmoid(buf[7:], out=buf[:-7])
        if out is not None:
            out[...] = r
            return out
        return r

    CASES.append(("sigmoid, out over its input shifted", sigmoid_out_shifted, (x64,), {}))
    CASES.append(("tanh_backward.accumulate", ag.tanh_backward.accumulate, (np.abs(dy64[:20_000]) + 0.5,), {}))

    def bits(a):
        a = np.ascontiguousarray(a)
        return a.view(np.uint8)

    ag.set_num_threads(1)
    REFS = [bits(f(*a, **k)).copy() for _, f, a, k in CASES]
    ag.set_num_threads(4)

    def check(i, result):
        return np.array_equal(bits(result), REFS[i])

    stop = time.monotonic() + DURATION
    failures, counts, lock = [], {"calls": 0, "changes": 0, "forks": 0}, threading.Lock()

    def caller(seed):
        r = random.Random(seed)
        outs = {}
        n = 0
        while time.monotonic() < stop:
            i = r.randrange(len(CASES))
            name, f, a, k = CASES[i]
            try:
                if r.random() < 0.3:   # into a per-thread out= buffer
                    out = outs.setdefault(i, np.empty_like(f(*a, **k)))
                    res = f(*a, **k, out=out)
                else:
                    res = f(*a, **k)
                if not check(i, res):
                    with lock:
                        failures.append(f"wrong result: {name}")
            except Exception as e:   # noqa: BLE001 - any exception is a failure
                with lock:
                    failures.append(f"{name}: {e!r}")
            n += 1
        with lock:
            counts["calls"] += n

    def changer(seed):
        r = random.Random(seed)
        n = 0
        while time.monotonic() < stop:
            if r.random() < 0.5:
                ag.set_num_threads(r.randint(1, 6))
            else:
                with ag.num_threads(r.randint(1, 6)):
                    time.sleep(r.random() * 0.002)
            time.sleep(r.random() * 0.001)
            n += 1
        with lock:
            counts["changes"] += n

    def child():
        signal.alarm(30)            # a deadlocked child dies instead of hanging the parent
        try:
            ok = True
            for nt in (1, 3, 2):
                ag.set_num_threads(nt)
                for i, (_, f, a, k) in enumerate(CASES[:6]):
                    ok &= check(i, f(*a, **k))
            os._exit(0 if ok else 3)
        except BaseException:
            os._exit(4)

    def forker():
        n = 0
        while time.monotonic() < stop:
            time.sleep(0.05)
            pid = os.fork()
            if pid == 0:
                child()
            _, status = os.waitpid(pid, 0)
            if not (os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0):
                with lock:
                    failures.append(f"forked child failed: status {status:#x} "
                                    f"(signal {os.WTERMSIG(status) if os.WIFSIGNALED(status) else None})")
            n += 1
        with lock:
            counts["forks"] += n

    threads = [threading.Thread(target=caller, args=(s,)) for s in range(CALLERS)]
    threads += [threading.Thread(target=changer, args=(100 + s,)) for s in range(CHANGERS)]
    if FORK:
        threads.append(threading.Thread(target=forker))
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    # afterwards the pool still works, at every thread count
    for nt in (1, 2, 4):
        ag.set_num_threads(nt)
        for i, (name, f, a, k) in enumerate(CASES):
            if not check(i, f(*a, **k)):
                failures.append(f"after the run, {nt} threads: wrong {name}")
    print(counts)
    if failures:
        print("FAILURES:", len(failures), *sorted(set(failures))[:20], sep="\n")
        sys.exit(1)
    assert counts["calls"] > 0 and (not FORK or counts["forks"] > 0), counts
    print("ok")
''')


def _run(duration, callers, changers, fork):
    env = dict(os.environ)
    env.pop("ACTGRAD_NUM_THREADS", None)
    try:
        proc = subprocess.run([sys.executable, "-c", SCRIPT, str(duration), str(callers), str(changers),
                               "1" if fork else "0"], capture_output=True, text=True, timeout=TIMEOUT, env=env)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"deadlock: no exit within {TIMEOUT} s\n{(e.stdout or b'')[-2000:]}")
    assert proc.returncode == 0 and proc.stdout.strip().endswith("ok"), \
        f"exit {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"


def test_threads_calling_while_thread_count_changes():
    _run(duration=4, callers=4, changers=2, fork=False)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_threads_calling_while_forking():
    _run(duration=5, callers=3, changers=1, fork=True)
