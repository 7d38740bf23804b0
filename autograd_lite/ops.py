"""The table of primitives: each forward beside its derivative, one docstring line of math.

Reverse-mode rules `vjp_<input>(g, *saved, **params)` receive the output gradient `g` and the
values named in `saves`. They are written with operators and methods that ndarrays and Tensors
share, so a backward pass can be recorded (`backward(create_graph=True)`). The engine sums
gradients over broadcast axes, so rules ignore broadcasting.

Forward-mode rules `jvp_<input>(t, *inputs, out, **params)` receive that input's tangent `t`
(same shape as the input), every input and the output, and return the input's contribution to
the output tangent; `forward.py` adds the contributions and broadcasts them to the output shape.
"""

from __future__ import annotations

import math

import numpy as np

from .engine import Primitive


def _expand_reduced(g, shape: tuple[int, ...], axis, keepdims: bool):
    """Undo a reduction over `axis`: reinsert the reduced axes, then broadcast to `shape`."""
    if axis is None and isinstance(g, np.ndarray | np.generic):  # one number: zero-stride view
        return np.ndarray(shape, g.dtype, g, 0, (0,) * len(shape))
    if not keepdims and axis is not None:
        axes = (axis,) if isinstance(axis, int) else axis
        kept = list(shape)
        for a in axes:
            kept[a % len(shape)] = 1
        g = g.reshape(tuple(kept))
    return np.broadcast_to(g, shape)


def _reduced_count(shape: tuple[int, ...], axis) -> int:
    if axis is None:
        return math.prod(shape)
    return math.prod(shape[a] for a in ((axis,) if isinstance(axis, int) else axis))


def _as_matrix_pair(g, a, b):
    """View the operands of a 1-D/2-D matmul and its output gradient as 2-D matrices."""
    a2 = a if a.ndim == 2 else a.reshape((1, -1))
    b2 = b if b.ndim == 2 else b.reshape((-1, 1))
    return g.reshape((a2.shape[0], b2.shape[1])), a2, b2


class Add(Primitive):
    """a + b;   d/da = 1,  d/db = 1"""
    name = "add"
    def forward(a, b): return a + b
    def vjp_a(g): return g
    def vjp_b(g): return g
    def jvp_a(t, a, b, out): return t
    def jvp_b(t, a, b, out): return t


class Sub(Primitive):
    """a - b;   d/da = 1,  d/db = -1"""
    name = "sub"
    def forward(a, b): return a - b
    def vjp_a(g): return g
    def vjp_b(g): return -g
    def jvp_a(t, a, b, out): return t
    def jvp_b(t, a, b, out): return -t


class Mul(Primitive):
    """a * b;   d/da = b,  d/db = a"""
    name = "mul"
    saves = ("a", "b")
    def forward(a, b): return a * b
    def vjp_a(g, a, b): return g * b
    def vjp_b(g, a, b): return g * a
    def jvp_a(t, a, b, out): return t * b
    def jvp_b(t, a, b, out): return a * t


class Div(Primitive):
    """a / b;   d/da = 1/b,  d/db = -a/b^2 = -out/b"""
    name = "div"
    saves = ("b", "out")
    def forward(a, b): return a / b
    def vjp_a(g, b, out): return g / b
    def vjp_b(g, b, out): return -g * out / b
    def jvp_a(t, a, b, out): return t / b
    def jvp_b(t, a, b, out): return -t * out / b


class Neg(Primitive):
    """-x;   d/dx = -1"""
    name = "neg"
    def forward(x): return -x
    def vjp_x(g): return -g
    def jvp_x(t, x, out): return -t


class Pow(Primitive):
    """x ** p (p a constant);   d/dx = p x^(p-1)"""
    name = "pow"
    saves = ("x",)
    def forward(x, p): return x ** p
    def vjp_x(g, x, p):  # p == 0: x^0 is constant (and 0 * 0^-1 would be nan)
        if p == 0:
            return g * 0.0
        return x * (2.0 * g) if p == 2 else (p * g) * x ** (p - 1)

    def jvp_x(t, x, out, p):
        if p == 0:
            return t * 0.0
        return x * (2.0 * t) if p == 2 else (p * t) * x ** (p - 1)


class MatMul(Primitive):
    """a @ b (1-D or 2-D);   d/da = g b^T,  d/db = a^T g

    Tall results are laid out column-major (long axis contiguous): numpy's elementwise loops
    then run along N instead of along rows of K numbers, several times faster for small K.
    """
    name = "matmul"
    saves = ("a", "b")

    def forward(a, b):
        if a.ndim == 2 and b.ndim == 2 and a.shape[0] > b.shape[1]:
            return (b.T @ a.T).T  # (N,K) as the transpose of a C-ordered (K,N)
        return a @ b

    def vjp_a(g, a, b):
        if a.ndim == 2 and b.ndim == 1:  # (N,K)@(K,): the outer product g b^T, column-major
            return (b.reshape((-1, 1)) * g).T
        g2, a2, b2 = _as_matrix_pair(g, a, b)
        return (g2 @ b2.T).reshape(a.shape)

    def vjp_b(g, a, b):
        if a.ndim == 2 and b.ndim == 1:  # (N,K)@(K,): a^T g is a matrix-vector product
            return a.T @ g
        g2, a2, b2 = _as_matrix_pair(g, a, b)
        return (a2.T @ g2).reshape(b.shape)

    def jvp_a(t, a, b, out): return t @ b  # d(a @ b) = da @ b + a @ db: bilinear
    def jvp_b(t, a, b, out): return a @ t


class Sum(Primitive):
    """sum(x, axis);   d/dx = 1 broadcast back over the summed axes"""
    name = "sum"
    def forward(x, axis, keepdims, shape): return x.sum(axis, keepdims=keepdims)
    def vjp_x(g, axis, keepdims, shape): return _expand_reduced(g, shape, axis, keepdims)
    def jvp_x(t, x, out, axis, keepdims, shape): return t.sum(axis, keepdims=keepdims)


class Mean(Primitive):
    """mean(x, axis);   d/dx = 1/n broadcast back over the n averaged entries"""
    name = "mean"
    def forward(x, axis, keepdims, shape):  # what np.mean computes, minus its overhead
        return x.sum(axis, keepdims=keepdims) / _reduced_count(shape, axis)

    def vjp_x(g, axis, keepdims, shape):
        return _expand_reduced(g / _reduced_count(shape, axis), shape, axis, keepdims)

    def jvp_x(t, x, out, axis, keepdims, shape):
        return t.sum(axis, keepdims=keepdims) / _reduced_count(shape, axis)


class Reshape(Primitive):
    """reshape(x, new_shape);   the gradient is reshaped back"""
    name = "reshape"
    def forward(x, new_shape, shape): return np.reshape(x, new_shape)
    def vjp_x(g, new_shape, shape): return g.reshape(shape)
    def jvp_x(t, x, out, new_shape, shape): return t.reshape(out.shape)


class Transpose(Primitive):
    """transpose(x, axes);   the gradient is transposed by the inverse permutation"""
    name = "transpose"
    def forward(x, axes): return np.transpose(x, axes)

    def vjp_x(g, axes):  # entries of axes may be negative: normalise, then invert
        return g.transpose(None if axes is None else tuple(np.argsort([a % g.ndim for a in axes])))

    def jvp_x(t, x, out, axes): return t.transpose(axes)


class BroadcastTo(Primitive):
    """broadcast_to(x, new_shape);   the gradient is summed back over the stretched axes"""
    name = "broadcast_to"
    def forward(x, new_shape): return np.broadcast_to(x, new_shape)
    def vjp_x(g, new_shape): return g  # the engine's sum_to does the summing
    def jvp_x(t, x, out, new_shape): return np.broadcast_to(t, new_shape)


class GetItem(Primitive):
    """x[index];   the gradient is scatter-added into zeros of x's shape"""
    name = "getitem"
    def forward(x, index, shape): return x[index]
    def vjp_x(g, index, shape): return scatter_add(g, index, shape)
    def jvp_x(t, x, out, index, shape): return t[index]


class ScatterAdd(Primitive):
    """zeros(shape) with x added at index (repeats add up);   d/dx = g[index]"""
    name = "scatter_add"
    def forward(x, index, shape): return _scatter_add_array(x, index, shape)
    def vjp_x(g, index, shape): return g[index]
    def jvp_x(t, x, out, index, shape): return scatter_add(t, index, shape)


def _is_basic_index(index) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return all(isinstance(p, (int, np.integer, slice)) or p is None or p is Ellipsis
               for p in parts)


def _scatter_add_array(values, index, shape):
    out = np.zeros(shape, dtype=values.dtype)
    if _is_basic_index(index):  # basic indexing never repeats an entry: plain assignment
        out[index] = values
    else:
        np.add.at(out, index, values)
    return out


def scatter_add(g, index, shape):
    """Scatter-add for ndarrays directly; Tensors record the ScatterAdd primitive."""
    if isinstance(g, np.ndarray | np.generic):
        return _scatter_add_array(np.asarray(g), index, shape)
    return g.scatter_add(index, shape)


class Tanh(Primitive):
    """tanh(x);   d tanh(x)/dx = 1 - tanh(x)^2"""
    name = "tanh"
    saves = ("out",)
    def forward(x): return np.tanh(x)

    def vjp_x(g, out):
        if type(g) is np.ndarray and g.shape == out.shape and g.ndim:  # in place, one buffer
            # (not for 0-d: numpy's 0-d arithmetic returns scalars, which cannot be out=)
            d = np.multiply(out, out)
            np.subtract(1.0, d, out=d)
            return np.multiply(d, g, out=d)
        return g * (1.0 - out * out)

    def jvp_x(t, x, out): return t * (1.0 - out * out)


class Exp(Primitive):
    """exp(x);   d exp(x)/dx = exp(x)"""
    name = "exp"
    saves = ("out",)
    def forward(x): return np.exp(x)
    def vjp_x(g, out): return g * out
    def jvp_x(t, x, out): return t * out


class Log(Primitive):
    """log(x);   d log(x)/dx = 1/x"""
    name = "log"
    saves = ("x",)
    def forward(x): return np.log(x)
    def vjp_x(g, x): return g / x
    def jvp_x(t, x, out): return t / x


class Sigmoid(Primitive):
    """sigmoid(x) = 1/(1+exp(-x));   d/dx = s (1 - s)"""
    name = "sigmoid"
    saves = ("out",)

    def forward(x):
        e = np.exp(-np.abs(x))  # never overflows: split by sign of x
        s = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
        return s.astype(np.result_type(x, 1.0), copy=False)  # float32 stays, ints -> float64

    def vjp_x(g, out): return g * (out * (1.0 - out))
    def jvp_x(t, x, out): return t * (out * (1.0 - out))


class Relu(Primitive):
    """relu(x) = max(x, 0);   d/dx = 1 where x > 0, else 0"""
    name = "relu"
    saves = ("out",)
    def forward(x): return np.maximum(x, 0)
    def vjp_x(g, out): return g * (out > 0)  # a constant mask: comparisons are not recorded
    def jvp_x(t, x, out): return t * (out > 0)


class MSE(Primitive):
    """mean((p - t)^2), fused;   d/dp = 2 (p - t) / n,  d/dt = -2 (p - t) / n"""
    name = "mse"
    saves = ("a", "b")

    def forward(a, b):
        d = a - b
        return (d * d).sum() / d.size

    def vjp_a(g, a, b): return (a - b) * (g * (2.0 / _broadcast_size(a, b)))
    def vjp_b(g, a, b): return (b - a) * (g * (2.0 / _broadcast_size(a, b)))
    def jvp_a(t, a, b, out): return ((a - b) * t).sum() * (2.0 / _broadcast_size(a, b))
    def jvp_b(t, a, b, out): return ((b - a) * t).sum() * (2.0 / _broadcast_size(a, b))


def _broadcast_size(a, b) -> int:
    return math.prod(np.broadcast_shapes(np.shape(a), np.shape(b)))

