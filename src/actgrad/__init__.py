"""actgrad: activation functions, their derivatives and backward passes, the softmax family
and losses with their gradients for NumPy, computed by a SIMD-vectorized, multithreaded C
core.  The public contract is docs/api.md; docs/ explains the design and the math."""
from ._version import __version__
from . import ufuncs
from ._activations import FUNCTIONS as _FUNCTIONS, ActivationFunctions, activations
from ._config import config, show_config
from ._threads import get_num_threads, num_threads, set_num_threads
from . import _dispatch, _losses, _softmax
from ._softmax import *  # noqa: F401,F403  the softmax family (docs/api.md section 3)
from ._losses import *  # noqa: F401,F403  cross_entropy, bce with logits, mse (+ _backward, _with_grad)

globals().update(_FUNCTIONS)

globals().update({name: _dispatch.dask_aware(globals()[name]) for name in _dispatch.LAZY})

__all__ = sorted([*_FUNCTIONS, *_softmax.__all__, *_losses.__all__, "activations", "ActivationFunctions",
                  "config", "show_config", "get_num_threads", "set_num_threads", "num_threads", "ufuncs",
                  "__version__"])
