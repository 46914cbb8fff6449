"""The thread count of actgrad's C thread pool."""
import contextlib
import operator
import os
import warnings

from . import _core

MAX_THREADS = _core.MAX_THREADS


def get_num_threads():
    """The number of threads actgrad's large calls run on."""
    return _core.get_num_threads()


def set_num_threads(n):
    """Run large calls on n threads (1 <= n <= MAX_THREADS) from now on, process-wide."""
    try:
        n = operator.index(n)
    except TypeError:
        raise TypeError(f"set_num_threads: n must be an integer, got {n!r}") from None
    if not 1 <= n <= MAX_THREADS:
        raise ValueError(f"set_num_threads: n must be between 1 and {MAX_THREADS}, got {n}")
    _core.set_num_threads(n)


@contextlib.contextmanager
def num_threads(n):
    """``with ag.num_threads(n):`` runs the block's calls on n threads, then restores the count."""
    previous = get_num_threads()
    set_num_threads(n)
    try:
        yield n
    finally:
        _core.set_num_threads(previous)


def check_environment():
    """Warns (RuntimeWarning, naming the variable) about each thread-count variable the C
    core ignores or caps when it picks the default (ag_parse_num_threads: ACTGRAD_NUM_THREADS,
    then OMP_NUM_THREADS, a positive integer up to MAX_THREADS; OMP's first comma entry)."""
    for name, comma_list in (("ACTGRAD_NUM_THREADS", False), ("OMP_NUM_THREADS", True)):
        value = os.environ.get(name)
        if value is None:
            continue
        status, n = _core.parse_num_threads(value, comma_list)
        if status == "invalid":
            warnings.warn(f"actgrad: {name}={value!r} is not a positive integer thread count; "
                          "ignored", RuntimeWarning, stacklevel=2)
        elif status == "capped":
            warnings.warn(f"actgrad: {name}={value!r} exceeds the maximum of {MAX_THREADS} threads; "
                          f"using {MAX_THREADS}", RuntimeWarning, stacklevel=2)
        if n:
            return  # this variable decides; the next is not read


check_environment()
