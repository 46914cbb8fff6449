"""Time of one MLP training step (forward + backward + SGD update), split into the matrix
multiplies, the activations and loss (forward, backward, loss and its gradient: what
actgrad computes) and the rest (bias gradients, SGD update):
actgrad against the same code with NumPy expressions, and PyTorch eager when installed.

    python bench/train_step.py                      # 784-512-512-10, batch 256, float32
    python bench/train_step.py --activations relu gelu tanh --batch 64 256 --threads 2

The network code is examples/mlp.py's (forward, backward, loss_and_grads); the NumPy
version uses SciPy's erf for GELU when SciPy is installed. PyTorch runs the same
architecture with autograd (loss.backward()) and a manual SGD update under no_grad, on the
same thread count. Every figure is a median over repeated steps, ratios are taken within
the same run.
"""
import argparse
import importlib.util
import pathlib
import statistics
import time

import numpy as np

import actgrad as ag

ROOT = pathlib.Path(__file__).resolve().parent.parent


def load_mlp():
    spec = importlib.util.spec_from_file_location("mlp", ROOT / "examples" / "mlp.py")
    mlp = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mlp)
    return mlp


class StepTimer:
    """Counts the time inside matrix multiplies and inside the activation/loss operations."""

    def __init__(self):
        self.matmul_s = 0.0
        self.ops_s = 0.0

    def matmul(self, a, b):
        start = time.perf_counter()
        out = a @ b
        self.matmul_s += time.perf_counter() - start
        return out

    def timed(self, fn):
        def call(*args):
            start = time.perf_counter()
            out = fn(*args)
            self.ops_s += time.perf_counter() - start
            return out
        return call


class TimedOps:
    """An examples/mlp.py ops object whose calls are counted by a StepTimer."""

    def __init__(self, ops, timer):
        self.forward = timer.timed(ops.forward)
        self.backward = timer.timed(ops.backward)
        self.loss_with_grad = timer.timed(ops.loss_with_grad)


def numpy_step(mlp, params, x, labels, ops, lr, timer):
    """One step of examples/mlp.py with matmuls and activation/loss calls timed apart."""
    _, grads = mlp.loss_and_grads(params, x, labels, TimedOps(ops, timer), timer.matmul)
    mlp.sgd_update(params, grads, lr)


def time_steps(step, repeats):
    """Median (total, matmul, activations+loss) seconds of one step, after a warm-up step."""
    step(StepTimer())
    totals, matmuls, ops = [], [], []
    for _ in range(repeats):
        timer = StepTimer()
        start = time.perf_counter()
        step(timer)
        totals.append(time.perf_counter() - start)
        matmuls.append(timer.matmul_s)
        ops.append(timer.ops_s)
    return statistics.median(totals), statistics.median(matmuls), statistics.median(ops)


def torch_step_timer(sizes, activation, batch, dtype, threads, lr):
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    tdtype = {np.float32: torch.float32, np.float64: torch.float64}[dtype]
    act = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid,
           "gelu": torch.nn.functional.gelu, "silu": torch.nn.functional.silu}[activation]
    gen = torch.Generator().manual_seed(0)
    weights = [(torch.randn(i, o, generator=gen, dtype=tdtype) * (2 / i) ** 0.5).requires_grad_()
               for i, o in zip(sizes[:-1], sizes[1:])]
    biases = [torch.zeros(o, dtype=tdtype, requires_grad=True) for o in sizes[1:]]
    x = torch.randn(batch, sizes[0], generator=gen, dtype=tdtype)
    labels = torch.randint(0, sizes[-1], (batch,), generator=gen)

    def step(timer):
        a = x
        for i, (w, b) in enumerate(zip(weights, biases)):
            a = torch.addmm(b, a, w)
            if i < len(weights) - 1:
                a = act(a)
        loss = torch.nn.functional.cross_entropy(a, labels)
        loss.backward()
        with torch.no_grad():
            for p in (*weights, *biases):
                p -= lr * p.grad
                p.grad = None

    def matmuls_only(timer):
        # the same forward and backward matrix products, to split PyTorch's time too
        with torch.no_grad():
            a, acts = x, []
            for w in weights:
                acts.append(a)
                a = a @ w
            dz = torch.ones_like(a)
            for i in range(len(weights) - 1, -1, -1):
                acts[i].T @ dz
                if i:
                    dz = dz @ weights[i].T
    return step, matmuls_only


def run(args):
    mlp = load_mlp()
    rng = np.random.default_rng(0)
    rows = []
    for activation in args.activations:
        for batch in args.batch:
            sizes = [784, *args.hidden, 10]
            dtype = np.dtype(args.dtype).type
            x = rng.standard_normal((batch, sizes[0])).astype(dtype)
            labels = rng.integers(0, sizes[-1], batch)
            result = {"activation": activation, "batch": batch}
            with ag.num_threads(args.threads):
                for name, ops in (("actgrad", mlp.ActgradOps(activation)), ("numpy", mlp.NumpyOps(activation))):
                    params = mlp.init_params(sizes, activation, np.random.default_rng(1), dtype)
                    result[name] = time_steps(
                        lambda timer: numpy_step(mlp, params, x, labels, ops, 1e-3, timer), args.repeats)
            timers = torch_step_timer(sizes, activation, batch, dtype, args.threads, 1e-3)
            if timers is not None:
                total = time_steps(timers[0], args.repeats)[0]
                matmul = time_steps(timers[1], args.repeats)[0]
                result["torch"] = (total, matmul)
            rows.append(result)
            print_row(sizes, result)
    return rows


def print_row(sizes, r):
    ag_total, ag_mm, ag_ops = r["actgrad"]
    np_total, np_mm, np_ops = r["numpy"]
    line = (f"{'-'.join(map(str, sizes))} {r['activation']:>5} batch {r['batch']:>4} | "
            f"actgrad {ag_total * 1e3:6.2f} ms (matmul {ag_mm * 1e3:6.2f}, act+loss {ag_ops * 1e3:5.2f}) | "
            f"numpy {np_total * 1e3:6.2f} ms (act+loss {np_ops * 1e3:5.2f}) | "
            f"act+loss speed-up x{np_ops / max(ag_ops, 1e-12):4.1f}")
    if "torch" in r:
        t_total, t_mm = r["torch"]
        line += f" | torch {t_total * 1e3:6.2f} ms (matmul ~{t_mm * 1e3:6.2f}) | actgrad/torch x{ag_total / t_total:4.2f}"
    else:
        line += " | torch skipped (not installed)"
    print(line, flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--activations", nargs="+", default=["relu", "gelu", "tanh"])
    parser.add_argument("--hidden", type=int, nargs="+", default=[512, 512])
    parser.add_argument("--batch", type=int, nargs="+", default=[256])
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    parser.add_argument("--threads", type=int, default=ag.get_num_threads())
    parser.add_argument("--repeats", type=int, default=30)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    main()
