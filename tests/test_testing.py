"""actgrad.testing.gradcheck: it passes correct gradients and catches wrong ones."""
import numpy as np
import pytest

import actgrad as ag
from actgrad._optable import ACTIVATIONS
from actgrad.testing import gradcheck

# Points away from every kink of the table (0, +-3, 6, +-1 and softplus' threshold 20).
X = np.array([[-2.7, -1.3, -0.45], [0.37, 0.81, 1.6], [2.2, 4.1, 5.3]])


@pytest.mark.parametrize("act", ACTIVATIONS, ids=lambda a: a.name)
def test_every_backward_passes(act):
    f = getattr(ag, act.name)
    backward = getattr(ag, act.name + "_backward")
    res = gradcheck(f, backward, X)
    assert res.ok, res
    assert res.checked == X.size


def test_scalar_function():
    res = gradcheck(lambda x: np.sum(x ** 3), lambda dy, x: dy * 3 * x ** 2, np.arange(-2.0, 2.5, 0.5))
    assert res.ok and res.max_rel_error < 1e-7


def test_detects_a_wrong_gradient_and_reports_where():
    def wrong(dy, x):
        g = ag.sigmoid_backward(dy, x)
        g[1, 2] *= 1.001
        return g
    res = gradcheck(ag.sigmoid, wrong, X)
    assert not res.ok
    assert res.index == (1, 2)
    assert res.max_rel_error == pytest.approx(0.001 / 1.001, rel=1e-4)  # |a - n| / max(|a|, |n|)


def test_max_points_and_empty_input():
    x = np.linspace(-3, 3, 1000)
    res = gradcheck(ag.tanh, ag.tanh_backward, x, max_points=25)
    assert res.ok and res.checked == 25
    empty = gradcheck(ag.tanh, ag.tanh_backward, np.empty((0, 3)))
    assert empty.ok and empty.checked == 0 and empty.index is None


def test_gradient_of_wrong_shape_is_an_error():
    with pytest.raises(ValueError, match="gradcheck"):
        gradcheck(ag.tanh, lambda dy, x: np.zeros(3), np.ones(4))
