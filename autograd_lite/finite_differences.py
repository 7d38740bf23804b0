"""Central finite differences: the tape-free reference every gradient is checked against.

For f: R^n -> R^m, column j of the Jacobian is (f(x + eps e_j) - f(x - eps e_j)) / (2 eps),
with truncation error O(eps^2 |f'''|) and rounding error O(macheps |f| / eps). With float64
and eps = 1e-6 both are around 1e-10 relative for smooth, O(1)-scaled functions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np


def _values(out: Any) -> np.ndarray:
    return np.array(getattr(out, "data", out) if not isinstance(out, np.ndarray) else out,
                    dtype=np.float64)


def central_difference_jacobian(f: Callable[..., Any], inputs: Sequence[Any], argnum: int = 0,
                                eps: float = 1e-6) -> np.ndarray:
    """Jacobian of f(*inputs) w.r.t. inputs[argnum], shape out.shape + input.shape.

    `f` receives inputs[argnum] as a float64 ndarray (the others as they are) and may return an
    ndarray, a number or a Tensor.
    """
    args = list(inputs)
    x = args[argnum] = np.array(np.asarray(getattr(inputs[argnum], "data", inputs[argnum])),
                                dtype=np.float64)
    out_shape = _values(f(*args)).shape
    jac = np.empty(out_shape + x.shape)
    flat_x = x.reshape(-1)  # a view: perturbing it perturbs args[argnum]
    flat_jac = jac.reshape(out_shape + (x.size,))
    for j in range(x.size):
        original = flat_x[j]
        flat_x[j] = original + eps
        plus = _values(f(*args))
        flat_x[j] = original - eps
        minus = _values(f(*args))
        flat_x[j] = original
        flat_jac[..., j] = (plus - minus) / (2.0 * eps)
    return jac


def central_difference_gradient(f: Callable[..., Any], x: Any, eps: float = 1e-6) -> np.ndarray:
    """Gradient of a scalar function of one array, shape x.shape."""
    jac = central_difference_jacobian(f, [x], 0, eps)
    return jac.reshape(np.shape(getattr(x, "data", x)))
