"""The benchmark harness (bench/run.py and its family modules) on tiny sizes: it runs end to
end, skips missing peers, flags a wrong peer instead of timing it, and writes the JSON that
run.py's docstring documents.  Nothing here judges speed."""
import argparse
import json
import math
import os
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
BENCH_MODULES = ("run", "common", "elementwise", "softmax", "losses")
TIMEOUT_S = 180
STATUSES = {"ok", "skipped", "mismatch", "error"}
FAMILIES = {"activations", "softmax", "losses"}
SOFTMAX_FUNCTIONS = {"softmax", "log_softmax", "logsumexp", "softmax_backward",
                     "log_softmax_backward", "softmax_jvp"}
LOSSES = {"cross_entropy_with_grad", "binary_cross_entropy_with_logits_with_grad",
          "mse_loss_with_grad"}


@pytest.fixture(scope="module")
def bench():
    """bench/run.py and the family modules, imported as run.py imports them (bench/ on
    sys.path); removed from sys.modules and sys.path afterwards."""
    saved = {name: sys.modules.pop(name) for name in BENCH_MODULES if name in sys.modules}
    sys.path.insert(0, BENCH)
    try:
        import run
        import softmax
        import losses
        yield run, softmax, losses
    finally:
        sys.path.remove(BENCH)
        for name in BENCH_MODULES:
            sys.modules.pop(name, None)
        sys.modules.update(saved)


def run_script(source, tmp_path):
    """Run a Python script from the repository root in a fresh interpreter: its
    CompletedProcess (stdout and stderr as text)."""
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent(source))
    return subprocess.run([sys.executable, str(script)], cwd=ROOT, capture_output=True,
                          text=True, timeout=TIMEOUT_S)


PRELUDE = f"""
    import sys
    sys.path.insert(0, {BENCH!r})
"""


# ---------------------------------------------------------------- the cases, in-process

def test_full_run_covers_the_issues_shapes_and_builds_nothing(bench, monkeypatch):
    run, softmax, losses = bench

    def no_inputs(*args):
        raise AssertionError("a case built its inputs before it ran")
    monkeypatch.setattr(softmax, "_base", no_inputs)
    monkeypatch.setattr(losses, "_base", no_inputs)
    args = run.parse_args(["--full"])
    sm, ls = softmax.cases(args), losses.cases(args)
    assert {c.group for c in sm} == SOFTMAX_FUNCTIONS
    assert {c.group for c in ls} == LOSSES
    assert {c.dtype for c in sm + ls} == {"float32", "float64"}
    shapes = {(c.group, tuple(c.params["shape"]), c.params["axis"]) for c in sm + ls}
    for function in SOFTMAX_FUNCTIONS:
        for shape, axis in [((64, 10), -1), ((64, 1000), -1), ((4096, 4096), -1),
                            ((16000, 1000), -1), ((1000, 16000), -1), ((1, 10**7), -1),
                            ((1000, 16000), 0)]:
            assert (function, shape, axis) in shapes
    for shape, axis in [((64, 10), -1), ((256, 1000), -1), ((4096, 1000), -1), ((8, 21, 128, 128), 1)]:
        assert ("cross_entropy_with_grad", shape, axis) in shapes
    for c in sm + ls:
        assert c.size == math.prod(c.params["shape"])
        assert c.bytes_moved >= 2 * c.size * np.dtype(c.dtype).itemsize or c.group == "logsumexp"
    names = [(c.name, c.dtype, c.size) for c in sm + ls]
    assert len(names) == len(set(names)), "two cases share a table row"


def test_quick_run_has_one_function_and_two_shapes_per_family(bench):
    run, softmax, losses = bench
    args = run.parse_args([])
    for family, function in ((softmax, "softmax"), (losses, "cross_entropy_with_grad")):
        found = family.cases(args)
        assert {c.group for c in found} == {function}
        assert len({tuple(c.params["shape"]) for c in found}) == 2
        assert max(c.size for c in found) <= 5_000_000
    # the thread scaling's cases: one per quick function, at run.py's scaling size
    scaled = [c for family in (softmax, losses) for c in family.cases(
        argparse.Namespace(**{**vars(args), "sizes": [4_000_000], "dtypes": ["float32"]}))]
    assert [c.name for c in scaled] == ["softmax (N,1000)", "cross_entropy_with_grad (N,1000)"]


def test_functions_select_by_name_loss_and_family(bench):
    run, softmax, losses = bench
    names = {c.group for family in (softmax, losses)
             for c in family.cases(run.parse_args(["--functions", "softmax_family,mse_loss",
                                                   "--sizes", "100"]))}
    assert names == SOFTMAX_FUNCTIONS | {"mse_loss_with_grad"}
    with pytest.raises(SystemExit, match="no_such_function"):
        run.collect(run.load_families(), run.parse_args(["--functions", "no_such_function"]))


@pytest.mark.parametrize("size", [300, 90_000])
def test_every_peer_agrees_with_actgrad_on_every_layout(bench, size):
    """The formulas of every peer that is installed, on each layout (rows, one row, axis 0,
    (N, C, H, W) over axis 1), both dtypes: checked as run.py checks them, nothing timed."""
    run, softmax, losses = bench
    common = sys.modules["common"]
    args = run.parse_args(["--full", "--sizes", str(size)])
    found = softmax.cases(args) + losses.cases(args)
    assert {c.params["axis"] for c in found} == {-1, 0, 1}
    for case in found:
        contenders = case.make()
        ref = common.check_sample(contenders.actgrad(), case.size)
        report = run._check_peers(contenders, ref, case)
        bad = {peer: r for peer, r in report.items() if r[0] not in ("ok", "skipped")}
        assert not bad, f"{case.name} {case.dtype}: {bad}"
        assert report["numpy"][0] == "ok"
        if common.optional("torch") is not None:
            assert report["torch"][0] == "ok", f"{case.name} {case.dtype}"
        if size <= 10_000 and case.params["axis"] == -1:
            assert report["python"][0] == "ok", f"{case.name} {case.dtype}"


# ---------------------------------------------------------------- end to end

RESULT_KEYS = {"family", "function", "group", "dtype", "size", "params", "threads",
               "bytes_moved", "actgrad", "gelem_per_s", "copy_s", "copy",
               "roofline_fraction", "peers"}


def check_schema(data, threads):
    """The JSON layout documented in bench/run.py's docstring."""
    assert set(data) == {"schema", "notes", "machine", "settings", "results",
                         "thread_scaling", "problems", "elapsed_s"}
    assert data["schema"] == 1
    machine = data["machine"]
    assert {"load_average", "platform", "python", "cpu_model", "cpu_flags", "logical_cpus",
            "allowed_cpus", "actgrad", "versions"} <= set(machine)
    assert set(machine["load_average"]) == {"start", "end"}
    assert isinstance(machine["cpu_flags"], list)
    config = machine["actgrad"]
    assert config["simd"] in config["simd_supported"]
    assert config["num_threads"] >= 1 and config["threading_backend"]
    assert machine["versions"]["numpy"] == np.__version__
    assert set(data["notes"]) == {"roofline", "speedup", "allocation"}
    assert set(data["settings"]) == {"full", "functions", "dtypes", "sizes", "threads", "budget_s"}
    assert data["settings"]["threads"] == threads
    assert data["elapsed_s"] > 0
    for r in data["results"]:
        assert set(r) == RESULT_KEYS, r["function"]
        assert r["threads"] == threads
        assert set(r["actgrad"]) == {"median_s", "min_s", "repeat", "number"}
        assert 0 < r["actgrad"]["min_s"] <= r["actgrad"]["median_s"]
        assert r["gelem_per_s"] > 0 and r["copy_s"] > 0 and r["roofline_fraction"] > 0
        assert r["family"] == "activations" or r["size"] == math.prod(r["params"]["shape"])
        for peer, p in r["peers"].items():
            assert p["status"] in STATUSES and isinstance(p["note"], str)
            timed = {"median_s", "min_s", "speedup"}
            if p["status"] == "ok":
                assert set(p) == {"status", "note"} | timed
                assert p["speedup"] == pytest.approx(p["median_s"] / r["actgrad"]["median_s"])
            else:
                assert set(p) == {"status", "note"}, f"{r['function']} {peer} was timed"
    for row in data["thread_scaling"]:
        assert set(row) == {"family", "function", "group", "dtype", "size", "threads",
                            "median_s", "speedup"}
        assert row["median_s"] > 0
    assert isinstance(data["problems"], list)


def test_run_end_to_end_writes_table_json_and_plots(tmp_path):
    out, plots = tmp_path / "bench.json", tmp_path / "plots"
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, os.path.join(BENCH, "run.py"), "--functions",
         "relu_backward,softmax,cross_entropy_with_grad",
         "--sizes", "300", "--dtypes", "float32", "--threads", "1",
         "--json", str(out), "--plots", str(plots)],
        cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT_S)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert time.perf_counter() - start < TIMEOUT_S
    data = json.loads(out.read_text())
    check_schema(data, threads=1)
    assert data["problems"] == []
    assert {r["family"] for r in data["results"]} == FAMILIES
    groups = {r["group"] for r in data["results"]}
    assert groups == {"relu", "softmax", "cross_entropy_with_grad"}
    layouts = {(r["group"], r["params"]["axis"]) for r in data["results"] if r["family"] != "activations"}
    assert {("softmax", 0), ("softmax", -1), ("cross_entropy_with_grad", 1)} <= layouts
    counts = {row["threads"] for row in data["thread_scaling"]}
    assert counts == set(range(1, data["machine"]["actgrad"]["default_num_threads"] + 1))
    for name in ("relu_backward", "softmax (N,300)", "softmax (300,N) axis=0",
                 "cross_entropy_with_grad (N,21,H,W) axis=1", "roofline", "thread scaling"):
        assert name in proc.stdout
    if data["machine"]["versions"]["matplotlib"]:
        assert {"throughput_softmax.png", "roofline_softmax.png", "roofline_losses.png",
                "thread_scaling.png"} <= set(os.listdir(plots))


def test_missing_peers_are_skipped_not_failed(tmp_path):
    """torch, numexpr and matplotlib hidden (an import of a None entry in sys.modules fails
    as if the package were not installed)."""
    out = tmp_path / "bench.json"
    proc = run_script(PRELUDE + f"""
    for name in ("torch", "numexpr", "matplotlib"):
        sys.modules[name] = None
    import run
    code = run.main(["--functions", "relu_backward,softmax,cross_entropy_with_grad",
                     "--sizes", "200", "--dtypes", "float32", "--json", {str(out)!r},
                     "--plots", {str(tmp_path / "plots")!r}])
    assert "torch" not in sys.modules or sys.modules["torch"] is None
    sys.exit(code)
    """, tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    data = json.loads(out.read_text())
    check_schema(data, threads=data["settings"]["threads"])
    assert data["machine"]["versions"]["torch"] is None
    assert data["machine"]["versions"]["numexpr"] is None
    assert {r["family"] for r in data["results"]} == FAMILIES
    for r in data["results"]:
        assert r["peers"]["torch"] == {"status": "skipped", "note": "not installed"}
        assert r["peers"]["numexpr"]["status"] == "skipped"
        assert r["peers"]["numpy"]["status"] == "ok"
    assert "torch: not installed" in proc.stdout
    assert "--plots: skipped, matplotlib is not installed" in proc.stdout
    assert not (tmp_path / "plots").exists()


def test_a_wrong_peer_is_flagged_and_not_timed(tmp_path):
    """A NumPy softmax that forgets to normalise, and a NumPy MSE whose loss is twice the
    right one (its gradient right): each is called only by the check, reported, not
    timed, and the run fails.  (torch and numexpr hidden: not needed, slow to import.)"""
    out = tmp_path / "bench.json"
    proc = run_script(PRELUDE + f"""
    sys.modules["torch"] = sys.modules["numexpr"] = None
    import numpy as np
    import run, softmax, losses
    calls = {{"softmax": 0, "mse": 0}}

    def unnormalised(x, axis):
        calls["softmax"] += 1
        return np.exp(x - x.max(axis=axis, keepdims=True))

    right_mse = losses.NUMPY["mse_loss_with_grad"]

    def doubled(p, t, axis):
        calls["mse"] += 1
        loss, grad = right_mse(p, t, axis)
        return 2 * loss, grad

    softmax.NUMPY["softmax"] = unnormalised
    losses.NUMPY["mse_loss_with_grad"] = doubled
    code = run.main(["--functions", "softmax,mse_loss", "--sizes", "300", "--dtypes", "float32",
                     "--json", {str(out)!r}])
    print("CALLS", calls["softmax"], calls["mse"])
    sys.exit(code)
    """, tmp_path)
    assert proc.returncode == 1, proc.stderr[-3000:]
    data = json.loads(out.read_text())
    check_schema(data, threads=data["settings"]["threads"])
    softmax_rows = [r for r in data["results"] if r["group"] == "softmax"]
    mse_rows = [r for r in data["results"] if r["group"] == "mse_loss_with_grad"]
    assert len(softmax_rows) == 3 and len(mse_rows) == 1
    # one call each: the check (the MSE's loss is checked when its case is made)
    assert f"CALLS {len(softmax_rows)} {len(mse_rows)}" in proc.stdout
    for r in softmax_rows:
        assert set(r["peers"]["numpy"]) == {"status", "note"}
        assert r["peers"]["numpy"]["status"] == "mismatch"
        assert r["peers"]["scipy"]["status"] in ("ok", "skipped")
    numpy_mse = mse_rows[0]["peers"]["numpy"]
    assert set(numpy_mse) == {"status", "note"}
    assert numpy_mse["status"] == "error" and "LossMismatch" in numpy_mse["note"]
    assert len(data["problems"]) == 4
    assert all("numpy" in line for line in data["problems"])
    assert "PEER RESULTS DISAGREE WITH ACTGRAD" in proc.stdout
    assert "!!!" in proc.stderr
