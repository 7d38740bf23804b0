"""Speed-only paths of the eager tape, all in this one place.

Each function here replaces, for the eager tape on plain ndarrays only, a forward or a rule of
`ops.py` by one that computes the same numbers with fewer temporaries, a better memory layout or
less numpy overhead. The rules in `ops.py` stay the mathematical ones: recorded backward passes
(`create_graph`), forward mode and the compiler never use these, and the tests check each against
the rule it replaces (`tests/test_autograd_kernels.py`).
"""

from __future__ import annotations

import numpy as np

from . import ops as P


def matmul_forward(a, b):
    """Tall products (N, K) = (N, D) @ (D, K) with N > K laid out column-major, as the transpose
    of a C-ordered (K, N): numpy's elementwise loops then run along N instead of along rows of K
    numbers, several times faster for small K (and every later op inherits the layout)."""
    if a.ndim == 2 and b.ndim == 2 and a.shape[0] > b.shape[1]:
        return (b.T @ a.T).T
    return a @ b


def matmul_vjp_a(g, a, b):
    """(N, K) @ (K,): the outer product g b^T, column-major (see `matmul_forward`); two
    matrices: g b^T as one product."""
    if a.ndim == 2 and b.ndim == 1:
        return (b.reshape((-1, 1)) * g).T
    if a.ndim == 2 and b.ndim == 2:
        return g @ b.T
    return P.Matmul.vjp_a(g, a, b)


def matmul_vjp_b(g, a, b):
    """A matrix a: a^T g as one product (no np.swapaxes call, a Python function)."""
    if a.ndim == 2 and b.ndim <= 2:
        return a.T @ g
    return P.Matmul.vjp_b(g, a, b)


def tanh_vjp(g, out):
    """g (1 - out^2) in one buffer, written in place."""
    if type(g) is not np.ndarray or g.shape != out.shape or not g.ndim:
        return P.Tanh.vjp_x(g, out)  # 0-d arithmetic gives numpy scalars, which cannot be out=
    d = np.multiply(out, out)
    np.subtract(1.0, d, out=d)
    return np.multiply(d, g, out=d)


def pow_vjp(g, x, p):
    """x^2 and x^1 without a call of pow."""
    if p == 2:
        return x * (2.0 * g)
    if p == 1:
        return g
    return P.Pow.vjp_x(g, x, p)


def _spread(g, shape, axis, keepdims):
    """A whole-array reduction's gradient as a zero-stride view of the one number (no copy)."""
    if axis is None and isinstance(g, np.ndarray | np.generic) and g.ndim == 0:
        return np.ndarray(shape, g.dtype, np.asarray(g), 0, (0,) * len(shape))
    return P.expand_reduced(g, shape, axis, keepdims)


def sum_vjp(g, axis, keepdims, shape):
    return _spread(g, shape, axis, keepdims)


def mean_forward(x, axis, keepdims, shape):
    """np.mean's value (the sum over the count) without np.mean's Python overhead."""
    if axis is None and not keepdims:
        return x.sum() / x.size
    return x.sum(axis, keepdims=keepdims) / P.reduced_count(shape, axis)


def mean_vjp(g, axis, keepdims, shape):
    return _spread(np.asarray(g / P.reduced_count(shape, axis)), shape, axis, keepdims)


def getitem_vjp(g, *index, template, shape):
    """A basic index (slices and integers: no entry twice) as one assignment into zeros, not
    a recorded scatter-add."""
    if index:
        return P.Getitem.vjp_x(g, *index, template=template, shape=shape)
    out = np.zeros(shape, np.result_type(g))
    out[template] = g
    return out


P.Matmul.eager_forward = staticmethod(matmul_forward)
P.Matmul.eager_vjps = (matmul_vjp_a, matmul_vjp_b)
P.Tanh.eager_vjps = (tanh_vjp,)
P.Pow.eager_vjps = (pow_vjp,)
P.Sum.eager_vjps = (sum_vjp,)
P.Mean.eager_forward = staticmethod(mean_forward)
P.Mean.eager_vjps = (mean_vjp,)
P.Getitem.eager_vjps = (getitem_vjp,)
