"""Testing helpers: check an analytic gradient against central finite differences.

    >>> import numpy as np, actgrad as ag
    >>> from actgrad.testing import gradcheck
    >>> x = np.linspace(-3, 3, 7)
    >>> gradcheck(ag.tanh, ag.tanh_backward, x).ok
    True
"""
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class GradcheckResult:
    """The outcome of :func:`gradcheck`.

    ok:            every checked element within ``atol + rtol * |numeric|``
    max_rel_error: max over the checked elements of |a - n| / max(|a|, |n|) (0 where both are 0)
    index:         where max_rel_error occurred (a tuple index into x), None if x is empty
    analytic, numeric: the two gradients at that index
    checked:       how many elements were checked
    """
    ok: bool
    max_rel_error: float
    index: tuple
    analytic: float
    numeric: float
    checked: int

    def __bool__(self):
        return self.ok


def gradcheck(f, grad, x, dy=None, *, eps=1e-6, rtol=1e-6, atol=1e-9, max_points=None, seed=0):
    """Compare ``grad(dy, x)``, the analytic gradient of L(x) = sum(dy * f(x)), with
    central finite differences (L(x + eps e_i) - L(x - eps e_i)) / (2 eps), in float64.

    f:    x -> array (or scalar: then dy defaults to 1 and L = f(x))
    grad: (dy, x) -> dL/dx, an array of x's shape; actgrad's backward functions have
          this signature (``ag.sigmoid_backward``); for a scalar f pass
          ``lambda dy, x: dy * your_gradient(x)``
    dy:   the upstream gradient, f(x)'s shape; default: standard normal values (seeded),
          so that every output element takes part
    max_points: check at most this many elements of x, chosen at random (seeded);
          None checks every element (2 calls of f each)

    Central differences have error O(eps^2 f''') + O(ulp(L) / eps); the defaults suit
    float64 functions with smooth gradients away from kinks.
    """
    x = np.array(x, dtype=np.float64)
    y0 = np.asarray(f(x), dtype=np.float64)
    rng = np.random.default_rng(seed)
    if dy is None:
        dy = rng.standard_normal(y0.shape) if y0.ndim else 1.0
    dy = np.asarray(dy, dtype=np.float64)
    analytic = np.asarray(grad(dy, x), dtype=np.float64)
    if analytic.shape != x.shape:
        raise ValueError(f"gradcheck: grad returned shape {analytic.shape}, expected {x.shape}")

    points = np.arange(x.size)
    if max_points is not None and x.size > max_points:
        points = np.sort(rng.choice(x.size, size=max_points, replace=False))

    def loss(z):
        return float(np.sum(dy * np.asarray(f(z), dtype=np.float64)))

    numeric = np.empty(points.size)
    flat = x.reshape(-1)  # a view: x is our own contiguous copy
    for k, i in enumerate(points):
        saved = flat[i]
        flat[i] = saved + eps
        up = loss(x)
        flat[i] = saved - eps
        down = loss(x)
        flat[i] = saved
        numeric[k] = (up - down) / (2 * eps)

    a = analytic.reshape(-1)[points]
    diff = np.abs(a - numeric)
    scale = np.maximum(np.abs(a), np.abs(numeric))
    rel = np.divide(diff, scale, out=np.zeros_like(diff), where=scale > 0)
    ok = bool(np.all(diff <= atol + rtol * np.abs(numeric)))
    if points.size == 0:
        return GradcheckResult(ok, 0.0, None, float("nan"), float("nan"), 0)
    worst = int(np.argmax(rel))
    index = tuple(int(i) for i in np.unravel_index(points[worst], x.shape))
    return GradcheckResult(ok, float(rel[worst]), index, float(a[worst]), float(numeric[worst]),
                           int(points.size))


__all__ = ["gradcheck", "GradcheckResult"]
