"""Builds actgrad._core: the C core (csrc/) and the Cython bindings in one extension.

The kernel list is generated from src/actgrad/_optable.py by tools/gen.py first.
Every ISA is compiled into the same binary (each translation unit with its own
target pragma) and chosen at run time, so the build never tunes for the CPU it is
built on and runs on any x86-64; elsewhere only the scalar path is built.
"""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup

ROOT = Path(__file__).resolve().parent
subprocess.check_call([sys.executable, str(ROOT / "tools" / "gen.py"), str(ROOT / "csrc" / "gen")])

CORE = ["csrc/dispatch.c", "csrc/elementwise.c", "csrc/parallel.c", "csrc/softmax.c", "csrc/losses.c",
        "csrc/losses_pointwise.c",
        "csrc/isa/kernels_scalar.c", "csrc/isa/kernels_avx2.c", "csrc/isa/kernels_avx512.c"]
DEPENDS = [str(p.relative_to(ROOT)) for d in ("include", "simd", "vmath", "ops", "loops", "isa", "gen")
           for p in (ROOT / "csrc" / d).glob("*.[hc]*")] + ["csrc/convert.h", "csrc/tiles.h"]

# ACTGRAD_SANITIZE=1 builds the extension (C core and bindings) with AddressSanitizer and
# UndefinedBehaviorSanitizer, any report fatal, at -O1 so reports stay readable.  Python
# itself is not instrumented: run it with LD_PRELOAD=$(gcc -print-file-name=libasan.so)
# and ASAN_OPTIONS=detect_leaks=0 (tools/sanitize.sh does all of this).
SANITIZE = os.environ.get("ACTGRAD_SANITIZE") == "1"
SANITIZE_FLAGS = ["-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-fno-sanitize-recover=all"]

extension = Extension(
    "actgrad._core",
    sources=["src/actgrad/_core.pyx", *CORE],
    depends=DEPENDS,
    include_dirs=["csrc/include", np.get_include()],
    define_macros=[("NPY_NO_DEPRECATED_API", "NPY_2_0_API_VERSION")],
    # -ffp-contract=off: FMAs only where the code asks (bit-identical ISAs);
    # -fno-math-errno: libm calls may be inlined, nothing reads errno.
    extra_compile_args=["-O1" if SANITIZE else "-O3", "-ffp-contract=off", "-fno-math-errno", "-pthread"]
    + (SANITIZE_FLAGS if SANITIZE else []),
    extra_link_args=["-pthread"] + (SANITIZE_FLAGS if SANITIZE else []),
)

setup(ext_modules=cythonize([extension], language_level=3))
