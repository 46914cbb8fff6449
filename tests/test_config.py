"""ag.config() and ag.show_config() (docs/api.md section 5)."""
import importlib.metadata
import os
import platform
import subprocess
import sys

import numpy as np
import pytest

import actgrad as ag
from actgrad import _core

# The C core's ISA registry (csrc/include/ag_isas.h), scalar first.
ISAS = _core.ISAS


def test_isa_registry():
    assert ISAS[0] == "scalar"
    assert {"scalar", "neon", "avx2", "avx512"} <= set(ISAS)
    assert len(set(ISAS)) == len(ISAS)
    supported = ag.config()["simd_supported"]
    machine = platform.machine().lower()
    if machine in ("x86_64", "amd64"):
        assert "neon" not in supported
        if "avx512" in supported:
            assert "avx2" in supported
    elif machine in ("aarch64", "arm64"):
        assert "neon" in supported  # ASIMD is part of the AArch64 base architecture
        assert not {"avx2", "avx512"} & set(supported)


def test_isa_environment_variable_unsupported_or_unknown_falls_back_to_best():
    best = ag.config()["simd_supported"][-1]
    for value in [isa for isa in ISAS if isa not in ag.config()["simd_supported"]] + ["sse9"]:
        env = {k: v for k, v in os.environ.items() if k != "ACTGRAD_ISA"}
        env["ACTGRAD_ISA"] = value
        p = subprocess.run([sys.executable, "-c", "import actgrad as ag; print(ag.config()['simd'])"],
                           env=env, capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stderr
        assert p.stdout.strip() == best, value


def test_config_keys_and_values():
    c = ag.config()
    assert isinstance(c, dict)
    for key in ("version", "simd", "simd_supported", "threading_backend", "num_threads",
                "default_num_threads"):
        assert key in c, key
    assert c["version"] == ag.__version__
    assert c["simd"] in ISAS
    assert c["simd"] in c["simd_supported"]
    assert "scalar" in c["simd_supported"]
    assert set(c["simd_supported"]) <= set(ISAS)
    # supported paths are listed in order, lowest first, and the chosen one is the best
    # unless ACTGRAD_ISA lowers it
    assert list(c["simd_supported"]) == [i for i in ISAS if i in c["simd_supported"]]
    if not os.environ.get("ACTGRAD_ISA"):
        assert c["simd"] == c["simd_supported"][-1]
    assert c["ACTGRAD_ISA"] == os.environ.get("ACTGRAD_ISA")
    assert c["threading_backend"] == "pthreads"
    assert c["num_threads"] == ag.get_num_threads()
    assert isinstance(c["num_threads"], int) and c["num_threads"] >= 1
    assert isinstance(c["default_num_threads"], int) and c["default_num_threads"] >= 1
    assert c["numpy"] == np.__version__
    assert c["python"] == platform.python_version()


def test_version_matches_metadata():
    try:
        installed = importlib.metadata.version("actgrad")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("actgrad is not installed, only importable")
    assert ag.__version__ == installed


def test_config_follows_run_time_changes(restore_threads, restore_isa):
    with ag.num_threads(3):
        assert ag.config()["num_threads"] == 3
    assert ag.config()["num_threads"] == restore_threads
    _core.set_isa("scalar")
    assert ag.config()["simd"] == "scalar"


def test_show_config_prints_config(capsys, restore_threads):
    ag.set_num_threads(3)
    c = ag.config()
    assert ag.show_config() is None
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(c)
    by_key = {}
    for line in lines:
        key, _, value = line.partition(" ")
        by_key[key] = value.strip()
    assert set(by_key) == set(c)
    for key, value in c.items():
        assert by_key[key] == str(value), key
    assert by_key["num_threads"] == "3"
    assert by_key["simd"] in ISAS
    assert by_key["threading_backend"] == "pthreads"
    assert by_key["version"] == ag.__version__


def test_config_reports_environment_in_fresh_process():
    env = {k: v for k, v in os.environ.items() if k not in ("ACTGRAD_NUM_THREADS", "OMP_NUM_THREADS")}
    env.update(ACTGRAD_ISA="scalar", ACTGRAD_NUM_THREADS="3")
    p = subprocess.run([sys.executable, "-c", "import actgrad as ag; c = ag.config(); "
                        "print(c['simd'], c['ACTGRAD_ISA'], c['num_threads'], c['default_num_threads'])"],
                       env=env, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["scalar", "scalar", "3", "3"]
