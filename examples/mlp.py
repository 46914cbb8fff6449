"""Backpropagation from scratch: a multi-layer perceptron in NumPy, with actgrad for every
activation, derivative and loss gradient, trained by mini-batch SGD on the handwritten
digits that ship inside scikit-learn (8x8 images, 10 classes; no download).

    python examples/mlp.py                          # 64-128-10 ReLU network, ~97-98% test accuracy
    python examples/mlp.py --hidden 128 64 --activation gelu --epochs 40 --plot curves.png
    python examples/mlp.py --numpy                  # the same network without actgrad

The network is a composition of functions, a_0 = X, z_l = a_{l-1} W_l + b_l,
a_l = f(z_l), logits = z_L; backpropagation is the chain rule applied from the loss
backwards, reusing the forward values kept in a cache (memoization):
    dz_L = d loss / d logits                 (softmax - onehot, divided by the batch size)
    dW_l = a_{l-1}^T dz_l,  db_l = sum over the batch of dz_l
    da_{l-1} = dz_l W_l^T,  dz_{l-1} = da_{l-1} * f'(z_{l-1})   (the activation's backward)
and SGD updates every parameter: w <- w - lr * dw.

Two interchangeable sets of operations run the same network: ActgradOps (actgrad's fused
kernels) and NumpyOps (plain NumPy expressions); the tests check that they give the same
gradients and that actgrad's pass actgrad.testing.gradcheck.
"""
import argparse
import math
import sys
import time

import numpy as np

import actgrad as ag

# He initialisation (Var W = 2 / fan_in) keeps ReLU-like activations' variance steady;
# Glorot (Var W = 2 / (fan_in + fan_out)) suits the saturating ones.
RELU_LIKE = {"relu", "relu6", "leaky_relu", "elu", "selu", "celu", "gelu", "silu", "swish",
             "mish", "hardswish", "softplus"}


class ActgradOps:
    """Activation, its backward and the softmax cross-entropy from actgrad."""

    def __init__(self, activation):
        record = ag.activations[activation]
        self.forward = record.forward
        self.backward = record.backward          # (dy, z) -> dy * f'(z), one fused pass

    @staticmethod
    def loss_with_grad(logits, labels):
        return ag.cross_entropy_with_grad(logits, labels)   # mean loss, d loss / d logits


def _erf(x):
    try:
        from scipy.special import erf
    except ImportError:
        erf = np.vectorize(math.erf, otypes=[x.dtype])
    return erf(x)


class NumpyOps:
    """The same operations written as NumPy expressions."""

    FUNCTIONS = {
        "relu": (lambda z: np.maximum(z, 0), lambda z: (z > 0).astype(z.dtype)),
        "tanh": (np.tanh, lambda z: 1 - np.tanh(z) ** 2),
        "sigmoid": (lambda z: 1 / (1 + np.exp(-z)), lambda z: np.exp(-z) / (1 + np.exp(-z)) ** 2),
        "silu": (lambda z: z / (1 + np.exp(-z)),
                 lambda z: (1 + np.exp(-z) + z * np.exp(-z)) / (1 + np.exp(-z)) ** 2),
        "gelu": (lambda z: 0.5 * z * (1 + _erf(z / np.sqrt(2))),
                 lambda z: 0.5 * (1 + _erf(z / np.sqrt(2))) + z * np.exp(-0.5 * z * z) / np.sqrt(2 * np.pi)),
        "leaky_relu": (lambda z: np.where(z > 0, z, 0.01 * z), lambda z: np.where(z > 0, 1.0, 0.01)),
        "elu": (lambda z: np.where(z > 0, z, np.expm1(np.minimum(z, 0))),
                lambda z: np.where(z > 0, 1.0, np.exp(np.minimum(z, 0)))),
        "softplus": (lambda z: np.logaddexp(0, z), lambda z: 1 / (1 + np.exp(-z))),
    }

    def __init__(self, activation):
        f, df = self.FUNCTIONS[activation]
        self.forward = f
        self.backward = lambda dy, z: dy * df(z)

    @staticmethod
    def loss_with_grad(logits, labels):
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        n = len(labels)
        loss = -log_p[np.arange(n), labels].mean()
        grad = np.exp(log_p)
        grad[np.arange(n), labels] -= 1
        return loss, grad / n


def init_params(sizes, activation, rng, dtype=np.float64):
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        var = 2 / fan_in if activation in RELU_LIKE else 2 / (fan_in + fan_out)
        params.append((rng.normal(0, math.sqrt(var), (fan_in, fan_out)).astype(dtype),
                       np.zeros(fan_out, dtype)))
    return params


def forward(params, x, ops, matmul=np.matmul):
    """Logits, and the cache of (layer input, pre-activation) that backward reuses.
    (matmul is a parameter so bench/train_step.py can time the products apart.)"""
    cache, a = [], x
    for i, (w, b) in enumerate(params):
        z = matmul(a, w)
        z += b
        cache.append((a, z))
        a = ops.forward(z) if i < len(params) - 1 else z
    return a, cache


def backward(params, cache, dlogits, ops, matmul=np.matmul):
    """Gradients [(dW, db), ...] from d loss / d logits by the chain rule."""
    grads, dz = [], dlogits
    for i in range(len(params) - 1, -1, -1):
        a, _ = cache[i]
        grads.append((matmul(a.T, dz), dz.sum(axis=0)))
        if i:
            dz = ops.backward(matmul(dz, params[i][0].T), cache[i - 1][1])
    return grads[::-1]


def loss_and_grads(params, x, labels, ops, matmul=np.matmul):
    logits, cache = forward(params, x, ops, matmul)
    loss, dlogits = ops.loss_with_grad(logits, labels)
    return float(loss), backward(params, cache, dlogits, ops, matmul)


def sgd_update(params, grads, lr):
    """w <- w - lr * dw, in place."""
    for (w, b), (dw, db) in zip(params, grads):
        w -= lr * dw
        b -= lr * db


def accuracy(params, x, labels, ops):
    return float(np.mean(forward(params, x, ops)[0].argmax(axis=1) == labels))


def progress(epoch, epochs, done, total, loss, acc, width=30):
    filled = width * done // total
    sys.stderr.write(f"\repoch {epoch:3}/{epochs} [{'#' * filled}{'.' * (width - filled)}] "
                     f"loss {loss:.4f}" + (f"  test acc {acc:.4f}" if acc is not None else ""))
    sys.stderr.flush()


def train(params, data, ops, epochs=30, lr=0.1, batch=32, seed=0, verbose=True):
    """Mini-batch SGD with a fresh shuffle per epoch; returns the learning curves."""
    x_train, y_train, x_test, y_test = data
    rng = np.random.default_rng(seed)
    history = {"loss": [], "test_accuracy": []}
    for epoch in range(1, epochs + 1):
        order = rng.permutation(len(x_train))
        losses = []
        for start in range(0, len(order), batch):
            idx = order[start:start + batch]
            loss, grads = loss_and_grads(params, x_train[idx], y_train[idx], ops)
            sgd_update(params, grads, lr)
            losses.append(loss)
            if verbose:
                progress(epoch, epochs, start + len(idx), len(order), np.mean(losses), None)
        history["loss"].append(float(np.mean(losses)))
        history["test_accuracy"].append(accuracy(params, x_test, y_test, ops))
        if verbose:
            progress(epoch, epochs, 1, 1, history["loss"][-1], history["test_accuracy"][-1])
            sys.stderr.write("\n")
    return history


def load_digits(dtype=np.float64, test_fraction=0.25, seed=0):
    """scikit-learn's digits (in its package, no download), split, each feature standardized
    with the training set's mean and standard deviation."""
    from sklearn.datasets import load_digits as sk_load_digits
    digits = sk_load_digits()
    x, y = digits.data, digits.target.astype(np.intp)
    order = np.random.default_rng(seed).permutation(len(x))
    n_test = int(len(x) * test_fraction)
    test, train_ = order[:n_test], order[n_test:]
    mean, std = x[train_].mean(axis=0), x[train_].std(axis=0) + 1.0  # +1: constant pixels
    x = ((x - mean) / std).astype(dtype)
    return x[train_], y[train_], x[test], y[test]


def plot(history, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plot written", file=sys.stderr)
        return
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5))
    epochs = range(1, len(history["loss"]) + 1)
    left.plot(epochs, history["loss"])
    left.set(xlabel="epoch", ylabel="training loss", yscale="log")
    right.plot(epochs, history["test_accuracy"])
    right.set(xlabel="epoch", ylabel="test accuracy")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"learning curves written to {path}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hidden", type=int, nargs="+", default=[128], help="hidden layer widths")
    parser.add_argument("--activation", default="relu", help="any name in ag.activations")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--dtype", default="float64", choices=["float32", "float64"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--numpy", action="store_true", help="plain NumPy operations instead of actgrad")
    parser.add_argument("--plot", metavar="PNG", help="save the learning curves (needs matplotlib)")
    args = parser.parse_args(argv)

    dtype = np.dtype(args.dtype)
    data = load_digits(dtype)
    ops = NumpyOps(args.activation) if args.numpy else ActgradOps(args.activation)
    sizes = [data[0].shape[1], *args.hidden, 10]
    params = init_params(sizes, args.activation, np.random.default_rng(args.seed), dtype)
    start = time.perf_counter()
    history = train(params, data, ops, args.epochs, args.lr, args.batch, args.seed)
    print(f"{'-'.join(map(str, sizes))} {args.activation} ({'numpy' if args.numpy else 'actgrad'}, "
          f"{args.dtype}): test accuracy {history['test_accuracy'][-1]:.4f} "
          f"after {args.epochs} epochs in {time.perf_counter() - start:.1f} s")
    if args.plot:
        plot(history, args.plot)
    return history


if __name__ == "__main__":
    main()
