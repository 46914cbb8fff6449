"""Shared fixtures: put process-wide actgrad state back after a test changes it."""
import pytest

import actgrad as ag
from actgrad import _core


@pytest.fixture
def restore_threads():
    """The thread count before the test, restored afterwards even if the test fails."""
    before = ag.get_num_threads()
    yield before
    ag.set_num_threads(before)


@pytest.fixture
def restore_isa():
    """The SIMD path before the test, restored afterwards even if the test fails."""
    before = _core.isa()
    yield before
    _core.set_isa(before)
