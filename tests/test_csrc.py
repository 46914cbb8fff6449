"""The standalone C tests of the core (csrc/tests/*.c, `make -C csrc test`), run from pytest so
that one command tests everything.  Skipped where there is no C compiler or make."""
import pathlib
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent


@pytest.mark.skipif(not (shutil.which("make") and shutil.which("cc")) or not (ROOT / "csrc" / "Makefile").exists(),
                    reason="needs make, a C compiler and the source tree")
def test_c_core():
    proc = subprocess.run(["make", "-C", str(ROOT / "csrc"), "test", f"PYTHON={sys.executable}"],
                          capture_output=True, text=True, timeout=900)
    summary = [line for line in proc.stdout.splitlines() if "passed" in line or "FAIL" in line]
    assert proc.returncode == 0, "\n".join(summary) + proc.stderr[-3000:]
    assert not any("FAIL" in line for line in summary)
