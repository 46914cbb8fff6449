"""examples/mlp.py: actgrad and plain NumPy give the same gradients, actgrad's gradients pass
gradcheck, and the default network learns the digits."""
import importlib.util
import pathlib

import numpy as np
import pytest

from actgrad.testing import gradcheck

ROOT = pathlib.Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("mlp", ROOT / "examples" / "mlp.py")
mlp = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mlp)

ACTIVATIONS = sorted(mlp.NumpyOps.FUNCTIONS)


def batch(sizes, n, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, sizes[0])), rng.integers(0, sizes[-1], n)


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_actgrad_and_numpy_gradients_agree(activation):
    sizes = [20, 16, 12, 5]
    params = mlp.init_params(sizes, activation, np.random.default_rng(3))
    x, labels = batch(sizes, 32)
    loss_a, grads_a = mlp.loss_and_grads(params, x, labels, mlp.ActgradOps(activation))
    loss_n, grads_n = mlp.loss_and_grads(params, x, labels, mlp.NumpyOps(activation))
    assert loss_a == pytest.approx(loss_n, rel=1e-12)
    for (dw_a, db_a), (dw_n, db_n) in zip(grads_a, grads_n):
        np.testing.assert_allclose(dw_a, dw_n, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(db_a, db_n, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("activation", ["tanh", "gelu", "relu"])
def test_actgrad_network_passes_gradcheck(activation):
    sizes = [6, 5, 4, 3]
    params = mlp.init_params(sizes, activation, np.random.default_rng(5))
    x, labels = batch(sizes, 8, seed=2)
    ops = mlp.ActgradOps(activation)
    shapes = [a.shape for layer in params for a in layer]

    def unflatten(theta):
        arrays, k = [], 0
        for s in shapes:
            n = int(np.prod(s))
            arrays.append(theta[k:k + n].reshape(s))
            k += n
        return list(zip(arrays[::2], arrays[1::2]))

    theta = np.concatenate([a.ravel() for layer in params for a in layer])
    loss = lambda t: mlp.loss_and_grads(unflatten(t), x, labels, ops)[0]
    grad = lambda dy, t: dy * np.concatenate(
        [g.ravel() for layer in mlp.loss_and_grads(unflatten(t), x, labels, ops)[1] for g in layer])
    result = gradcheck(loss, grad, theta, rtol=1e-6, atol=1e-9)
    assert result.ok, result


def test_default_network_learns_the_digits():
    pytest.importorskip("sklearn")
    history = mlp.main(["--epochs", "30"])
    assert history["test_accuracy"][-1] >= 0.97
    assert history["loss"][-1] < history["loss"][0]
