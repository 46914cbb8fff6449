"""actgrad's thread pool (docs/api.md section 5, and section 1's thread-safety and GIL lines):
the thread-count API, its defaults from the environment, bitwise determinism across
thread counts, concurrent calls from Python threads, and fork safety."""
import concurrent.futures
import math
import os
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

import actgrad as ag


def assert_identical(actual, expected, what=""):
    """Same dtype, shape and bits (any NaN matches any NaN)."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.dtype == expected.dtype and actual.shape == expected.shape, what
    a, e = np.ravel(actual), np.ravel(expected)
    uint = {2: np.uint16, 4: np.uint32, 8: np.uint64}[a.dtype.itemsize]
    an, en = np.isnan(a), np.isnan(e)
    bad = (an != en) | (~an & ~en & (np.ascontiguousarray(a).view(uint) != np.ascontiguousarray(e).view(uint)))
    if bad.any():
        i = np.flatnonzero(bad)[:5]
        raise AssertionError(f"{what}: {bad.sum()} of {a.size} differ, e.g. at {i}: {a[i]} != {e[i]}")


# ---------------------------------------------------------------- the API

def test_get_set_round_trip(restore_threads):
    for n in (1, 2, 3, 7, 64, 1):
        ag.set_num_threads(n)
        assert ag.get_num_threads() == n
        assert ag.config()["num_threads"] == n
    ag.set_num_threads(np.int64(4))  # any integer type
    assert ag.get_num_threads() == 4
    assert type(ag.get_num_threads()) is int


def test_set_num_threads_errors(restore_threads):
    ag.set_num_threads(2)
    for bad in (0, -1, -8):
        with pytest.raises(ValueError):
            ag.set_num_threads(bad)
        with pytest.raises(ValueError):
            with ag.num_threads(bad):
                pass  # pragma: no cover
        assert ag.get_num_threads() == 2
    for bad in (2.0, 1.5, "2", None, [2], np.float64(2.0)):
        with pytest.raises(TypeError):
            ag.set_num_threads(bad)
        assert ag.get_num_threads() == 2


def test_num_threads_context(restore_threads):
    ag.set_num_threads(2)
    with ag.num_threads(3) as n:
        assert n == 3 and ag.get_num_threads() == 3
        with ag.num_threads(1):
            assert ag.get_num_threads() == 1
        assert ag.get_num_threads() == 3
    assert ag.get_num_threads() == 2
    with pytest.raises(RuntimeError, match="body"):
        with ag.num_threads(5):
            assert ag.get_num_threads() == 5
            raise RuntimeError("body")
    assert ag.get_num_threads() == 2
    # set_num_threads inside the block is undone too
    with ag.num_threads(4):
        ag.set_num_threads(6)
    assert ag.get_num_threads() == 2


# ---------------------------------------------------------------- determinism

N = 2_000_003  # odd: thread ranges and blocks end at odd places
_rng = np.random.default_rng(11)
_X = _rng.standard_normal(N) * 6
_X[_rng.choice(N, 8, replace=False)] = [0.0, -0.0, np.inf, -np.inf, np.nan, 1e300, -1e300, 3.0]
_DY = _rng.standard_normal(N)

FUNCS = {
    "sigmoid": lambda x, dy: ag.sigmoid(x),
    "gelu": lambda x, dy: ag.gelu(x),
    "elu": lambda x, dy: ag.elu(x, 0.7),
    "softplus_backward": lambda x, dy: ag.softplus_backward(dy, x, beta=2.0, threshold=5.0),
    "tanh_derivative_from_output": lambda x, dy: ag.tanh_derivative_from_output(x),
    "hardswish": lambda x, dy: ag.hardswish(x),
    "mish_backward": lambda x, dy: ag.mish_backward(dy, x),
}


def _layout(name):
    with np.errstate(over="ignore"):
        if name == "float64":
            return _X, _DY
        if name == "float32":
            return _X.astype(np.float32), _DY.astype(np.float32)
        if name == "float16":
            return _X.astype(np.float16), _DY.astype(np.float16)
    buf = np.empty(2 * N)  # strided float64
    buf[1::2] = _X
    dy = np.empty(3 * N)[::-3]  # negative stride
    dy[...] = _DY
    return buf[1::2], dy


@pytest.mark.parametrize("layout", ["float64", "float32", "strided", "float16"])
def test_results_identical_for_any_thread_count(layout, restore_threads):
    x, dy = _layout(layout)
    names = list(FUNCS) if layout in ("float64", "float32") else ["gelu", "elu", "softplus_backward"]
    for name in names:
        f = FUNCS[name]
        with ag.num_threads(1):
            expected = f(x, dy)
        for n in (2, 3, 7):
            with ag.num_threads(n):
                assert_identical(f(x, dy), expected, f"{name} {layout} on {n} threads")


def test_per_element_params_identical_for_any_thread_count(restore_threads):
    slopes = np.repeat(np.array([0.01, 0.2, 0.05, 1.5]), N // 4 + 1)[:N]
    slopes[::7] = 0.3  # runs of every length
    with np.errstate(over="ignore"):
        x32 = _X.astype(np.float32)
    calls = [lambda: ag.ufuncs.leaky_relu(_X, slopes),
             lambda: ag.ufuncs.hardtanh_backward(_DY, x32, -slopes, slopes),
             lambda: ag.ufuncs.elu_backward_from_output(_DY[::-1], _X, slopes[::-1])]
    for k, call in enumerate(calls):
        with ag.num_threads(1):
            expected = call()
        for n in (2, 3):
            with ag.num_threads(n):
                assert_identical(call(), expected, f"call {k} on {n} threads")


def test_large_in_place_identical(restore_threads):
    for n in (1, 3):
        with ag.num_threads(1):
            expected = ag.silu(_X)
        y = _X.copy()
        with ag.num_threads(n):
            assert ag.silu(y, out=y) is y
        assert_identical(y, expected, f"in place on {n} threads")


# ---------------------------------------------------------------- Python threads

def test_concurrent_calls_from_python_threads(restore_threads):
    ag.set_num_threads(2)
    rng = np.random.default_rng(12)
    jobs = []
    for k in range(24):
        size = [300_001, 1_001, 150_000, 2_049][k % 4]
        x = rng.standard_normal(size) * 5
        dtype = [np.float64, np.float32, np.float16][k % 3]
        x = x.astype(dtype)
        f = [lambda a: ag.gelu(a), lambda a: ag.softplus(a, 2.0), lambda a: ag.sigmoid_backward(a, a[::-1]),
             lambda a: ag.ufuncs.leaky_relu(a, np.abs(a) + 0.1), lambda a: ag.mish(a[::2])][k % 5]
        with ag.num_threads(1):
            jobs.append((f, x, f(x)))

    def run(job):
        f, x, expected = job
        for _ in range(3):
            assert_identical(f(x), expected, "concurrent call")
        return True

    def toggle():  # changing the thread count while others compute changes no result
        for i in range(200):
            ag.set_num_threads(1 + i % 3)
            time.sleep(0.0005)
        return True

    with concurrent.futures.ThreadPoolExecutor(max_workers=5) as pool:
        futures = [pool.submit(toggle)] + [pool.submit(run, job) for job in jobs]
        for fut in futures:
            assert fut.result(timeout=120)


def test_gil_released_during_computation(restore_threads):
    """Another Python thread keeps running while a long call computes: with the GIL held,
    the main thread would stall for the whole call."""
    ag.set_num_threads(1)
    x = np.linspace(-5, 5, 1_000_001)
    t0 = time.perf_counter()
    ag.mish(x)
    n = int(min(30e6, max(1e6, 1e6 * 0.2 / (time.perf_counter() - t0))))  # a call of ~0.2 s
    x = np.linspace(-5, 5, n)
    done = threading.Event()
    duration = []

    def work():
        t = time.perf_counter()
        ag.mish(x)
        duration.append(time.perf_counter() - t)
        done.set()

    worker = threading.Thread(target=work)
    max_gap, prev = 0.0, time.perf_counter()
    worker.start()
    while not done.is_set():
        now = time.perf_counter()
        max_gap, prev = max(max_gap, now - prev), now
    worker.join()
    assert max_gap < duration[0] / 2, f"main thread stalled {max_gap:.3f} s during a {duration[0]:.3f} s call"


# ---------------------------------------------------------------- defaults

PROBE = "import actgrad as ag; print(ag.get_num_threads(), ag.config()['default_num_threads'])"


def _probe(env, affinity=None, script=PROBE):
    full = {k: v for k, v in os.environ.items() if k not in ("ACTGRAD_NUM_THREADS", "OMP_NUM_THREADS")}
    full.update(env)
    preexec = (lambda: os.sched_setaffinity(0, affinity)) if affinity else None
    p = subprocess.run([sys.executable, "-c", script], env=full, capture_output=True, text=True,
                       timeout=60, preexec_fn=preexec)
    assert p.returncode == 0, p.stderr
    return p.stdout.split()


def _cgroup_cpus():
    try:
        with open("/sys/fs/cgroup/cpu.max") as f:
            quota, period = f.read().split()
        if quota == "max":
            return None
        quota, period = int(quota), int(period)
    except (OSError, ValueError):
        try:
            with open("/sys/fs/cgroup/cpu/cpu.cfs_quota_us") as f:
                quota = int(f.read())
            with open("/sys/fs/cgroup/cpu/cpu.cfs_period_us") as f:
                period = int(f.read())
        except (OSError, ValueError):
            return None
    return math.ceil(quota / period) if quota > 0 and period > 0 else None


def _expected_cpus(ncpus):
    q = _cgroup_cpus()
    return min(ncpus, q) if q else ncpus


@pytest.mark.parametrize("env,expected", [
    ({"ACTGRAD_NUM_THREADS": "3"}, 3),
    ({"ACTGRAD_NUM_THREADS": "1"}, 1),
    ({"OMP_NUM_THREADS": "2"}, 2),
    ({"OMP_NUM_THREADS": "5"}, 5),
    ({"OMP_NUM_THREADS": "4,2"}, 4),  # OpenMP's nested list: the outer level
    ({"ACTGRAD_NUM_THREADS": "3", "OMP_NUM_THREADS": "2"}, 3),
], ids=lambda v: ",".join(f"{k}={x}" for k, x in v.items()) if isinstance(v, dict) else str(v))
def test_default_from_environment(env, expected):
    assert _probe(env) == [str(expected), str(expected)]


def _probe_warnings(env):
    """(thread count, default, the RuntimeWarnings' texts) of a fresh process under env."""
    full = {k: v for k, v in os.environ.items() if k not in ("ACTGRAD_NUM_THREADS", "OMP_NUM_THREADS")}
    full.update(env)
    p = subprocess.run([sys.executable, "-W", "always::RuntimeWarning", "-c", PROBE], env=full,
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return p.stdout.split(), [line for line in p.stderr.splitlines() if "RuntimeWarning" in line]


@pytest.mark.parametrize("name", ["ACTGRAD_NUM_THREADS", "OMP_NUM_THREADS"])
@pytest.mark.parametrize("value", ["abc", "0", "-2", "3abc", "2.5", "0x10", "1e3"])
def test_invalid_environment_ignored_with_a_warning(name, value):
    """A value that is not a positive integer is ignored -- the CPU count is used -- and a
    warning names the variable and the value."""
    counts, warned = _probe_warnings({name: value})
    cpus = _probe({})
    assert counts == cpus
    assert len(warned) == 1 and name in warned[0] and repr(value) in warned[0], warned


@pytest.mark.parametrize("name", ["ACTGRAD_NUM_THREADS", "OMP_NUM_THREADS"])
@pytest.mark.parametrize("value", ["4097", "99999", "99999999999999999999999"])
def test_too_large_environment_capped_with_a_warning(name, value):
    """The environment has set_num_threads' limit: above it the count is capped (a 2e8
    element call once started 12,208 OS threads), with a warning naming the variable."""
    counts, warned = _probe_warnings({name: value})
    assert counts == [str(ag._threads.MAX_THREADS)] * 2
    assert len(warned) == 1 and name in warned[0] and str(ag._threads.MAX_THREADS) in warned[0], warned
    with pytest.raises(ValueError):
        ag.set_num_threads(ag._threads.MAX_THREADS + 1)


@pytest.mark.parametrize("env,expected", [
    ({"ACTGRAD_NUM_THREADS": " 3 "}, 3),      # surrounding blanks
    ({"ACTGRAD_NUM_THREADS": "4096"}, 4096),  # the limit itself
    ({"ACTGRAD_NUM_THREADS": "abc", "OMP_NUM_THREADS": "3"}, 3),  # an ignored value falls through
    ({"ACTGRAD_NUM_THREADS": "", "OMP_NUM_THREADS": "2"}, 2),     # empty is unset: no warning
])
def test_valid_environment_no_warning(env, expected):
    counts, warned = _probe_warnings(env)
    assert counts == [str(expected)] * 2
    assert len(warned) == (1 if "abc" in env.values() else 0), warned


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="no CPU affinity here")
def test_default_from_cpus_and_affinity():
    cpus = sorted(os.sched_getaffinity(0))
    assert _probe({}) == [str(_expected_cpus(len(cpus)))] * 2
    assert _probe({}, affinity={cpus[0]}) == ["1", "1"]
    assert _probe({"ACTGRAD_NUM_THREADS": "3"}, affinity={cpus[0]}) == ["3", "3"]


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="needs /proc/self/task")
def test_large_calls_do_run_on_threads():
    """The determinism tests above would pass without any threads: check that a large
    call on 4 threads does start workers (counted by the OS, in a fresh process)."""
    script = textwrap.dedent("""
        import os, numpy as np, actgrad as ag
        x = np.linspace(-5, 5, 2_000_001)
        ag.gelu(x[:10])
        before = len(os.listdir('/proc/self/task'))
        with ag.num_threads(4):
            ag.gelu(x)
        print(before, len(os.listdir('/proc/self/task')))
    """)
    before, after = map(int, _probe({"ACTGRAD_NUM_THREADS": "1"}, script=script))
    assert after >= before + 3


# ---------------------------------------------------------------- fork

FORK_SCRIPT = textwrap.dedent("""
    import multiprocessing, os, sys, threading
    import numpy as np
    import actgrad as ag

    x = np.linspace(-10, 10, 1_000_001)
    with ag.num_threads(1):
        expected = ag.gelu(x)
        expected_b = ag.softplus_backward(x[::-1], x, 2.0)

    def check():
        return (np.array_equal(ag.gelu(x), expected)
                and np.array_equal(ag.softplus_backward(x[::-1], x, 2.0), expected_b))

    def child_check(_=None):
        return ag.get_num_threads() == 2 and check() and check()

    def fork_and_check(label):
        pid = os.fork()
        if pid == 0:
            os._exit(0 if child_check() else 3)
        _, status = os.waitpid(pid, 0)
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, (label, status)

    ag.set_num_threads(2)
    assert check()                 # the pool's workers exist now
    fork_and_check("after a threaded call")
    assert check(), "parent after fork"

    # fork while another Python thread is running threaded calls
    stop = threading.Event()
    errors = []
    def loop():
        while not stop.is_set():
            if not check():
                errors.append("background")
    t = threading.Thread(target=loop)
    t.start()
    for i in range(5):
        fork_and_check(f"during calls {i}")
    stop.set()
    t.join()
    assert not errors, errors
    assert check(), "parent after forks during calls"

    # multiprocessing with the fork context
    with multiprocessing.get_context("fork").Pool(2) as pool:
        assert all(pool.map(child_check, range(4), chunksize=1))
    assert check(), "parent after the pool"
    print("fork ok")
""")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_fork_after_threads():
    env = {k: v for k, v in os.environ.items() if k not in ("ACTGRAD_NUM_THREADS", "OMP_NUM_THREADS")}
    try:
        p = subprocess.run([sys.executable, "-c", FORK_SCRIPT], env=env, capture_output=True, text=True,
                           timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("the fork scenario did not finish in 60 s (deadlock?)")
    assert p.returncode == 0 and "fork ok" in p.stdout, p.stdout + p.stderr
