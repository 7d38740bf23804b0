"""numpy's dispatch protocols: `np.tanh(t)`, `ndarray @ t`, `np.sum(t)` record on the tape.

NEP 13 (`__array_ufunc__`) routes ufuncs, NEP 18 (`__array_function__`) routes functions like
`np.sum`. Only the functions below are differentiable; any other raises a TypeError naming it,
rather than silently computing on the data and dropping the graph.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import tensor as T

UFUNCS = {
    np.add: lambda a, b: T.apply(T.P.Add, a, b),
    np.subtract: lambda a, b: T.apply(T.P.Sub, a, b),
    np.multiply: lambda a, b: T.apply(T.P.Mul, a, b),
    np.true_divide: lambda a, b: T.apply(T.P.Div, a, b),
    np.negative: lambda x: T.apply(T.P.Neg, x),
    np.positive: lambda x: x,
    np.power: lambda a, p: p.__rpow__(a) if isinstance(p, T.Tensor) else T.power(a, p),
    np.square: lambda x: T.power(x, 2),
    np.sqrt: lambda x: T.power(x, 0.5),
    np.matmul: T.matmul,
    np.tanh: T.tanh,
    np.exp: T.exp,
    np.log: T.log,
}

FUNCTIONS = {
    np.sum: T.sum,
    np.mean: T.mean,
    np.reshape: T.reshape,
    np.transpose: T.transpose,
    np.broadcast_to: T.broadcast_to,
    np.dot: T.matmul,
    np.shape: lambda a: T._data(a).shape,
    np.ndim: lambda a: T._data(a).ndim,
    np.size: lambda a: T._data(a).size,
}


def unsupported_ufunc(ufunc: np.ufunc, method: str, kwargs: dict) -> Any:
    """Raise the TypeError for a ufunc call the tape cannot record (named, with the reason)."""
    name = f"np.{ufunc.__name__}" + ("" if method == "__call__" else f".{method}")
    if ufunc not in UFUNCS or method != "__call__":
        raise TypeError(f"{name} is not supported on autograd_lite Tensors (differentiable "
                        f"ufuncs: {', '.join(sorted('np.' + u.__name__ for u in UFUNCS))})")
    raise TypeError(f"{name}: keyword arguments {sorted(kwargs)} are not supported on Tensors")


def call_function(func: Any, args: tuple, kwargs: dict) -> Any:
    rule = FUNCTIONS.get(func)
    if rule is None:
        raise TypeError(f"np.{func.__name__} is not supported on autograd_lite Tensors "
                        f"(differentiable functions: "
                        f"{', '.join(sorted('np.' + f.__name__ for f in FUNCTIONS))})")
    try:
        return rule(*args, **kwargs)
    except TypeError as e:
        if "argument" in str(e):
            raise TypeError(f"np.{func.__name__} on a Tensor: {e}") from None
        raise
