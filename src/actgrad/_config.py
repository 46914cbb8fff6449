"""What actgrad chose at run time: version, SIMD path, threads."""
import os
import platform

import numpy as np

from . import _core
from ._version import __version__


def config():
    """The build and run-time configuration as a dict."""
    return {
        "version": __version__,
        "simd": _core.isa(),
        "simd_supported": [isa for isa in _core.ISAS if _core.isa_supported(isa)],
        "ACTGRAD_ISA": os.environ.get("ACTGRAD_ISA"),
        "threading_backend": _core.threading_backend(),
        "num_threads": _core.get_num_threads(),
        "default_num_threads": _core.default_num_threads(),
        "numpy": np.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
    }


def show_config():
    """Print ``config()``, one item per line."""
    for key, value in config().items():
        print(f"{key:20} {value}")
