#!/usr/bin/env bash
# The whole test suite under AddressSanitizer + UndefinedBehaviorSanitizer, then the C fuzzer.
#
#   tools/sanitize.sh [FUZZ_SECONDS]        (default 60; 0 skips the fuzzer)
#
# 1. copies the source tree (tracked and untracked files, no build outputs) to
#    build/sanitize/src, so the sanitized build shares nothing with the developer's build/;
# 2. creates a fresh virtual environment build/sanitize/venv with the build and test
#    requirements, and installs actgrad there built with ACTGRAD_SANITIZE=1 (setup.py);
# 3. runs the whole pytest suite with the gcc ASan runtime preloaded (Python itself is not
#    instrumented), detect_leaks=0 (CPython's own allocations leak by design), any UBSan
#    report fatal; the C core's own tests (tests/test_csrc.py) run inside it;
# 4. builds and runs the C core's standalone tests with the sanitizers too;
# 5. runs the fuzzers (make -C csrc fuzz): elementwise for FUZZ_SECONDS, softmax for
#    FUZZ_SOFTMAX_SECONDS (default 30).
# Fails on any test failure or sanitizer report.  Needs gcc with libasan/libubsan and network
# access to the package index (or a local one) for the venv.  Set SANITIZE_DIR to build elsewhere.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
FUZZ_SECONDS=${1:-${FUZZ_SECONDS:-60}}
WORK=${SANITIZE_DIR:-$ROOT/build/sanitize}
PY=${PYTHON:-python3}
LIBASAN=$(gcc -print-file-name=libasan.so)
[ -e "$LIBASAN" ] || { echo "sanitize.sh: gcc has no libasan.so ($LIBASAN)" >&2; exit 2; }

t0=$(date +%s)
phase() { echo; echo "== $* ($(( $(date +%s) - t0 )) s)"; }

phase "copying the source tree to $WORK/src"
rm -rf "$WORK"
mkdir -p "$WORK/src"
(cd "$ROOT" && git ls-files -z --cached --others --exclude-standard |
    tar --null --ignore-failed-read -T - -cf - 2>/dev/null) | tar -xf - -C "$WORK/src"

phase "virtual environment $WORK/venv"
"$PY" -m venv "$WORK/venv"
VPY="$WORK/venv/bin/python"
"$VPY" -m pip install -q --upgrade pip >/dev/null 2>&1 || true
"$VPY" -m pip install -q "setuptools>=64" wheel "Cython>=3" "numpy>=2" pytest hypothesis mpmath

phase "building actgrad with ACTGRAD_SANITIZE=1"
(cd "$WORK/src" && ACTGRAD_SANITIZE=1 "$VPY" -m pip install -q --no-build-isolation .)
SO=$(ls "$("$VPY" -c "import sysconfig; print(sysconfig.get_paths()['platlib'])")"/actgrad/_core*.so)
ldd "$SO" | grep libasan >/dev/null || { echo "sanitize.sh: $SO is not linked with ASan" >&2; exit 1; }
echo "built $SO"

export ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:abort_on_error=0:strict_init_order=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"

phase "pytest under ASan/UBSan"
LOG="$WORK/pytest.log"
set +e
(cd "$WORK/src" && LD_PRELOAD="$LIBASAN" "$VPY" -m pytest -q -p no:cacheprovider 2>&1) | tee "$LOG"
rc=${PIPESTATUS[0]}
set -e
FAILED=()
if grep -qE "ERROR: AddressSanitizer|runtime error:|ERROR: LeakSanitizer" "$LOG"; then
    FAILED+=("sanitizer report in the pytest run (see $LOG)")
elif [ "$rc" -ne 0 ]; then
    FAILED+=("pytest exited $rc (see $LOG)")
fi

phase "C core tests built with the sanitizers (make -C csrc test-sanitize)"
make -s -C "$WORK/src/csrc" test-sanitize SAN_BUILD="$WORK/ctest" PYTHON="$VPY" > "$WORK/ctest.log" 2>&1 ||
    FAILED+=("make -C csrc test-sanitize (see $WORK/ctest.log)")
grep -E "passed|FAIL|ERROR|runtime error" "$WORK/ctest.log" | tail -n 12

if [ "$FUZZ_SECONDS" != 0 ]; then
    phase "fuzzing the C core for $FUZZ_SECONDS s"
    make -s -C "$WORK/src/csrc" fuzz FUZZ_SECONDS="$FUZZ_SECONDS" FUZZ_BUILD="$WORK/fuzz" PYTHON="$VPY" ||
        FAILED+=("the fuzzer (failing inputs: $WORK/fuzz/crash-*)")
fi

if [ ${#FAILED[@]} -ne 0 ]; then
    phase "sanitize.sh: FAILED"
    printf '  %s\n' "${FAILED[@]}" >&2
    exit 1
fi
phase "sanitize.sh: everything passed"
