"""The thread count of actgrad's C thread pool."""
import contextlib
import operator

from . import _core


def get_num_threads():
    """The number of threads actgrad's large calls run on."""
    return _core.get_num_threads()


def set_num_threads(n):
    """Run large calls on n threads (n >= 1) from now on, process-wide."""
    try:
        n = operator.index(n)
    except TypeError:
        raise TypeError(f"set_num_threads: n must be an integer, got {n!r}") from None
    if not 1 <= n <= 4096:
        raise ValueError(f"set_num_threads: n must be between 1 and 4096, got {n}")
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
