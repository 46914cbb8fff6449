"""The losses' part of bench/accuracy.py: cross_entropy, binary_cross_entropy_with_logits
and mse_loss, values and gradients, against mpmath (50 digits).

Each case is judged element by element in ULPs of the result's dtype (a per-sample loss
or gradient element, or the one number of a mean); the exact values come from the
float inputs as stored, so only the computation is judged. Contenders: actgrad, the plain
NumPy formula a user would write, and PyTorch when installed.
"""
import mpmath
import numpy as np

import actgrad as ag

mpmath.mp.dps = 50
CONTENDERS = ("actgrad", "numpy", "torch")


# ---------------------------------------------------------------- inputs

def _ce_inputs(dtype, rng):
    """(label, logits (N, C), targets (N,)) cases: random rows, a dominant logit, offsets."""
    cases = []
    for C, scale in ((3, 1.0), (10, 5.0), (1000, 3.0), (10, 30.0)):
        cases.append((f"random C={C} scale {scale:g}", rng.standard_normal((48, C)) * scale,
                      rng.integers(0, C, 48)))
    x = rng.standard_normal((32, 10))
    x[np.arange(32), np.arange(32) % 10] += 40.0          # the target dominates: loss ~ e^-40
    cases.append(("dominant target logit", x, np.arange(32) % 10))
    cases.append(("rows offset by 1e4", rng.standard_normal((32, 10)) + 1e4, rng.integers(0, 10, 32)))
    return [(label, x.astype(dtype), t) for label, x, t in cases]


def _bce_inputs(dtype, rng):
    z = np.concatenate([rng.standard_normal(400) * 4, rng.uniform(-100, 100, 200),
                        [-1e4, -50.0, -20.0, -1e-8, 0.0, 1e-8, 20.0, 50.0, 1e4]])
    t = np.concatenate([rng.uniform(0, 1, 300), rng.integers(0, 2, len(z) - 300)])
    return z.astype(dtype), t.astype(dtype)


# ---------------------------------------------------------------- exact values

def _mp(a):
    return [mpmath.mpf(float(v)) for v in np.ravel(a)]


def _ce_exact(x, t, smoothing, w):
    """Per-sample losses and the gradient of their sum: PyTorch's definition
    (weights, label smoothing over C classes; no ignored targets here)."""
    N, C = x.shape
    rows = np.asarray(x, np.float64)
    wv = [mpmath.mpf(1)] * C if w is None else _mp(w)
    losses, grads = [], []
    for i in range(N):
        z = _mp(rows[i])
        m = max(z)
        e = [mpmath.exp(v - m) for v in z]
        s = mpmath.fsum(e)
        lse = m + mpmath.log(s)
        q = [mpmath.mpf(smoothing) / C + ((1 - mpmath.mpf(smoothing)) if c == t[i] else 0) for c in range(C)]
        wq = [wv[c] * q[c] for c in range(C)]
        losses.append(mpmath.fsum(wq[c] * (lse - z[c]) for c in range(C)))
        A = mpmath.fsum(wq)
        grads.append([A * e[c] / s - wq[c] for c in range(C)])
    return losses, grads


def _bce_exact(z, t):
    """Per-element loss (1 - t) z + log(1 + e^-z) and its derivative sigmoid(z) - t."""
    loss, grad = [], []
    for zi, ti in zip(_mp(z), _mp(t)):
        loss.append((1 - ti) * zi + mpmath.log1p(mpmath.exp(-zi)))
        grad.append(1 / (1 + mpmath.exp(-zi)) - ti)
    return loss, grad


# ---------------------------------------------------------------- contenders

def _np_ce(x, t, smoothing, w):
    m = x.max(axis=1, keepdims=True)
    logp = x - m - np.log(np.exp(x - m).sum(axis=1, keepdims=True))
    C = x.shape[1]
    q = np.full(x.shape, smoothing / C, x.dtype)
    q[np.arange(len(t)), t] += x.dtype.type(1 - smoothing)
    wq = q if w is None else q * w
    loss = -(wq * logp).sum(axis=1)
    grad = wq.sum(axis=1, keepdims=True) * np.exp(logp) - wq
    return loss, grad


def _torch_ce(torch, x, t, smoothing, w):
    xt = torch.tensor(x, requires_grad=True)
    wt = None if w is None else torch.tensor(w)
    loss = torch.nn.functional.cross_entropy(xt, torch.tensor(t), weight=wt, reduction="none",
                                             label_smoothing=smoothing)
    loss.sum().backward()
    return loss.detach().numpy(), xt.grad.numpy()


def _np_bce(z, t):
    one = z.dtype.type(1)
    loss = (one - t) * z + np.logaddexp(z.dtype.type(0), -z)
    return loss, one / (one + np.exp(-z)) - t


def _torch_bce(torch, z, t):
    zt = torch.tensor(z, requires_grad=True)
    loss = torch.nn.functional.binary_cross_entropy_with_logits(zt, torch.tensor(t), reduction="none")
    loss.sum().backward()
    return loss.detach().numpy(), zt.grad.numpy()


# ---------------------------------------------------------------- judging

def _ulp_errors(result, exact, dtype):
    """|result - exact| in ULPs of the exact value's dtype spacing, element by element."""
    finfo = np.finfo(dtype)
    out = []
    for r, e in zip(np.ravel(result), exact):
        if not np.isfinite(r):
            out.append(np.inf)
            continue
        ae = abs(e)
        if ae < finfo.smallest_normal:
            ulp = mpmath.mpf(float(finfo.smallest_subnormal))
        else:
            ulp = mpmath.ldexp(1, int(mpmath.floor(mpmath.log(ae, 2))) - finfo.nmant)
        out.append(float(abs(mpmath.mpf(float(r)) - e) / ulp))
    return np.array(out)


def _merge(cells, key, errors):
    prev = cells.get(key)
    cells[key] = errors if prev is None else np.concatenate([prev, errors])


def loss_cells(dtype, torch=None, seed=0):
    """{(function, contender): array of ULP errors} for one dtype."""
    rng = np.random.default_rng(seed)
    dt = np.dtype(dtype)
    cells = {}
    for label, x, t in _ce_inputs(dt, rng):
        for smoothing, w in ((0.0, None), (0.1, rng.uniform(0.5, 2.0, x.shape[1]).astype(dt))):
            exact_loss, exact_grad = _ce_exact(x, t, smoothing, w)
            flat_grad = [g for row in exact_grad for g in row]
            runs = {"actgrad": lambda: ag.cross_entropy_with_grad(x, t, weight=w, reduction="none",
                                                                  label_smoothing=smoothing),
                    "numpy": lambda: _np_ce(x, t, smoothing, w)}
            if torch is not None:
                runs["torch"] = lambda: _torch_ce(torch, x, t, smoothing, w)
            for who, run in runs.items():
                with np.errstate(all="ignore"):
                    loss, grad = run()
                _merge(cells, ("cross_entropy (per sample)", who), _ulp_errors(loss, exact_loss, dt))
                _merge(cells, ("cross_entropy gradient", who), _ulp_errors(grad, flat_grad, dt))
    z, t = _bce_inputs(dt, rng)
    exact_loss, exact_grad = _bce_exact(z, t)
    runs = {"actgrad": lambda: ag.binary_cross_entropy_with_logits_with_grad(z, t, reduction="none"),
            "numpy": lambda: _np_bce(z, t)}
    if torch is not None:
        runs["torch"] = lambda: _torch_bce(torch, z, t)
    for who, run in runs.items():
        with np.errstate(all="ignore"):
            loss, grad = run()
        _merge(cells, ("binary_cross_entropy_with_logits (per element)", who), _ulp_errors(loss, exact_loss, dt))
        _merge(cells, ("binary_cross_entropy_with_logits gradient", who), _ulp_errors(grad, exact_grad, dt))
    # the means: one number each, over terms of very different sizes
    n = 100_000
    p = (rng.standard_normal(n) * 10).astype(dt)
    q = (rng.standard_normal(n) * 10).astype(dt)
    exact_mse = mpmath.fsum((a - b) ** 2 for a, b in zip(_mp(p), _mp(q))) / n
    runs = {"actgrad": lambda: ag.mse_loss(p, q), "numpy": lambda: np.mean((p - q) ** 2)}
    if torch is not None:
        runs["torch"] = lambda: torch.nn.functional.mse_loss(torch.tensor(p), torch.tensor(q)).numpy()
    for who, run in runs.items():
        _merge(cells, ("mse_loss mean (1e5 terms)", who), _ulp_errors(np.asarray(run()), [exact_mse], dt))
    zl, tl = _bce_inputs(dt, rng)
    exact_loss, _ = _bce_exact(zl, tl)
    exact_mean = mpmath.fsum(exact_loss) / len(exact_loss)
    runs = {"actgrad": lambda: ag.binary_cross_entropy_with_logits(zl, tl),
            "numpy": lambda: np.mean(_np_bce(zl, tl)[0])}
    if torch is not None:
        runs["torch"] = lambda: torch.nn.functional.binary_cross_entropy_with_logits(
            torch.tensor(zl), torch.tensor(tl)).numpy()
    for who, run in runs.items():
        with np.errstate(all="ignore"):
            _merge(cells, ("binary_cross_entropy_with_logits mean", who),
                   _ulp_errors(np.asarray(run()), [exact_mean], dt))
    return cells


FUNCTIONS = ("cross_entropy (per sample)", "cross_entropy gradient",
             "binary_cross_entropy_with_logits (per element)", "binary_cross_entropy_with_logits gradient",
             "binary_cross_entropy_with_logits mean", "mse_loss mean (1e5 terms)")

DESCRIPTION = (
    "Values and gradients on random and adversarial inputs, judged element by element in ULPs "
    "of the result's dtype against mpmath (50 digits) from the same stored inputs. "
    "cross_entropy: (48, C) logits for C = 3, 10, 1000 at scales 1-30, a target logit 40 above "
    "the rest (loss ~ e^-40), rows offset by 1e4; each without and with label smoothing 0.1 and "
    "class weights; per-sample losses (`reduction='none'`) and the gradient of their sum. "
    "binary_cross_entropy_with_logits: logits from -1e4 to 1e4 (and +-1e-8, 0) against "
    "probability and 0/1 targets, per element, and the mean of 609 terms. mse_loss: the mean "
    "of 1e5 squared differences. NumPy: `x - m - log(sum(exp(x - m)))` for log-probabilities, "
    "`(1 - t) z + logaddexp(0, -z)`, `sigmoid(z) - t`, `mean((p - q)**2)`; PyTorch: "
    "`F.cross_entropy`, `F.binary_cross_entropy_with_logits`, `F.mse_loss`, gradients by autograd."
)
