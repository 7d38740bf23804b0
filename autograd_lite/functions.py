"""The public functions: each checks its arguments, then applies one primitive (or a few).

They accept ndarrays, numbers, Tensors and forward-mode Duals alike: `ops.apply_to` runs the
primitive on plain arrays, or hands it to the operand's own type (a Tensor records it on the tape,
a Dual pushes its tangent through). Functions that are compositions of primitives (`stack`,
`outer`, `repeat`, `clip`, `tensordot`, ...) say so in their docstring.

The tables `UFUNCS` and `FUNCTIONS` at the end map numpy's functions to these, for numpy's
dispatch protocols (`np.tanh(t)`, `np.sum(t)`); anything not in them is refused by name.
"""

from __future__ import annotations

import builtins
import math
import numbers
import operator
import string
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import ops as P
from .errors import DTypeError, ShapeError
from .ops import apply_to

ArrayLike = Any  # a Tensor, a Dual, an ndarray, a Python number or a (nested) list of numbers


def _shape(x: Any) -> tuple[int, ...]:
    shape = getattr(x, "shape", None)
    return np.shape(x) if shape is None else tuple(shape)


def _ndim(x: Any) -> int:
    return len(_shape(x))


def _axes(axis: Any, ndim: int, op: str) -> tuple[int, ...] | None:
    """None, or the axes as a tuple of distinct non-negative ints (negative ones counted back)."""
    if axis is None:
        return None
    items = tuple(axis) if isinstance(axis, tuple | list) else (axis,)
    out = []
    for a in items:
        try:
            a = operator.index(a)
        except TypeError:
            raise TypeError(f"{op}: axis must be an int, a tuple of ints or None; got "
                            f"{axis!r}") from None
        if not -ndim <= a < ndim:
            raise ShapeError(f"{op}: axis {a} is out of range for an array with {ndim} "
                             f"dimensions")
        out.append(a % ndim)
    if len(set(out)) != len(out):
        raise ShapeError(f"{op}: repeated axis in {axis!r}")
    return tuple(out)


def _one_axis(axis: Any, ndim: int, op: str) -> int:
    (a,) = _axes(axis, ndim, op)
    return a


# ---- elementwise --------------------------------------------------------------------------------
def tanh(x: ArrayLike) -> Any:
    """Hyperbolic tangent."""
    return apply_to(P.Tanh, x)


def exp(x: ArrayLike) -> Any:
    """Exponential."""
    return apply_to(P.Exp, x)


def log(x: ArrayLike) -> Any:
    """Natural logarithm."""
    return apply_to(P.Log, x)


def _real(x: ArrayLike, op: str) -> ArrayLike:
    """x, refused if complex: for these functions numpy has no complex meaning to follow."""
    dtype = x.dtype if hasattr(x, "dtype") else np.asarray(x).dtype
    if dtype.kind == "c":
        raise DTypeError(f"{op}: complex input ({dtype}) has no meaning here")
    return x


def sigmoid(x: ArrayLike) -> Any:
    """Logistic function 1 / (1 + exp(-x))."""
    return apply_to(P.Sigmoid, _real(x, "sigmoid"))


def relu(x: ArrayLike) -> Any:
    """max(x, 0)."""
    return apply_to(P.Relu, _real(x, "relu"))


def abs(x: ArrayLike) -> Any:  # noqa: A001
    """|x| (its derivative at 0 is taken as 0)."""
    return apply_to(P.Abs, x)


def sign(x: ArrayLike) -> Any:
    """sign(x), piecewise constant: no gradient flows through it."""
    return apply_to(P.Sign, x)


def power(x: ArrayLike, p: ArrayLike) -> Any:
    """x ** p for a constant exponent p; for a constant base x > 0 and an array p, exp(p log x)."""
    if type(p) is int or type(p) is float:
        return apply_to(P.Pow, x, p=p)
    if isinstance(p, numbers.Real) or (type(p) is np.ndarray and p.ndim == 0):
        return apply_to(P.Pow, x, p=p.item() if isinstance(p, np.ndarray | np.generic) else p)
    if isinstance(x, numbers.Real) and not isinstance(x, bool):
        if x <= 0:
            raise DTypeError(f"pow: constant ** array needs a positive base, got {x!r}")
        return exp(p * float(np.log(x)))
    raise DTypeError("pow: the exponent must be a constant number (or the base a positive "
                     "constant); for an array base and exponent write exp(p * log(x))")


def sqrt(x: ArrayLike) -> Any:
    """Square root."""
    return apply_to(P.Sqrt, x)


def square(x: ArrayLike) -> Any:
    """x ** 2."""
    return power(x, 2)


def maximum(a: ArrayLike, b: ArrayLike) -> Any:
    """Elementwise maximum; where a == b each side gets half the gradient."""
    return apply_to(P.Maximum, a, b)


def minimum(a: ArrayLike, b: ArrayLike) -> Any:
    """Elementwise minimum; where a == b each side gets half the gradient."""
    return apply_to(P.Minimum, a, b)


def clip(x: ArrayLike, low: ArrayLike = None, high: ArrayLike = None) -> Any:
    """minimum(maximum(x, low), high), either bound may be None (composite)."""
    if low is not None:
        x = maximum(x, low)
    return x if high is None else minimum(x, high)


def where(condition: ArrayLike, a: ArrayLike, b: ArrayLike) -> Any:
    """a where condition holds, else b; the condition gets no gradient."""
    return apply_to(P.Where, a, b, _plain_unless_traced(condition))


def _plain_unless_traced(x: Any) -> Any:
    """A non-differentiable operand (a condition, an index) as a plain array, unless it is a
    Tensor computed from the inputs that `compile` traces: then the program must recompute it."""
    return x if getattr(x, "_node", None) is not None else np.asarray(getattr(x, "data", x))


def astype(x: ArrayLike, dtype: Any) -> Any:
    """x converted to `dtype`; the gradient is converted back. A cast to integers or booleans
    is piecewise constant: it carries no gradient."""
    dtype = np.dtype(dtype)
    if dtype.kind not in "biuf":
        raise DTypeError(f"astype: autograd_lite works with real numbers; cannot cast to {dtype}")
    source = np.dtype(getattr(x, "dtype", None) or np.asarray(x).dtype)
    if dtype == source:
        return x
    if dtype.kind != "f":
        x = apply_to(P.StopGradient, x)
    return apply_to(P.Cast, x, dtype=dtype, source=source)


def mse(prediction: ArrayLike, target: ArrayLike) -> Any:
    """mean((prediction - target)^2) as one node."""
    return apply_to(P.Mse, prediction, target)


def _unary(op: type[P.Primitive]) -> Any:
    def function(x: ArrayLike) -> Any:
        return apply_to(op, x)

    function.__name__ = op.name
    function.__doc__ = op.__doc__.split(";")[0] + "."
    return function


sin, cos, tan = _unary(P.Sin), _unary(P.Cos), _unary(P.Tan)
sinh, cosh = _unary(P.Sinh), _unary(P.Cosh)
log1p, expm1 = _unary(P.Log1p), _unary(P.Expm1)


# ---- reductions ---------------------------------------------------------------------------------
def _reduction(op: type[P.Primitive]) -> Any:
    def reduce(x: ArrayLike, axis: int | tuple[int, ...] | None = None,
               keepdims: bool = False) -> Any:
        shape = _shape(x)
        axes = _axes(axis, len(shape), op.name)
        reduced = range(len(shape)) if axes is None else axes
        if op in (P.Max, P.Min) and any(shape[a] == 0 for a in reduced):
            raise ShapeError(f"{op.name}: zero-size array (shape {shape}) has no {op.name}"
                             f"{'' if axes is None else f' along axes {axes}'}")
        return apply_to(op, x, axis=axes, keepdims=bool(keepdims), shape=shape)

    reduce.__name__ = op.name
    reduce.__doc__ = op.__doc__.split(";")[0] + " (all axes by default)."
    return reduce


sum, mean, prod = _reduction(P.Sum), _reduction(P.Mean), _reduction(P.Prod)  # noqa: A001
max, min = _reduction(P.Max), _reduction(P.Min)  # noqa: A001


def cumsum(x: ArrayLike, axis: int | None = None) -> Any:
    """Cumulative sum along `axis` (of the flattened array by default)."""
    if axis is None:
        return apply_to(P.Cumsum, ravel(x), axis=0)
    return apply_to(P.Cumsum, x, axis=_one_axis(axis, _ndim(x), "cumsum"))


# ---- linear algebra -----------------------------------------------------------------------------
def matmul(a: ArrayLike, b: ArrayLike) -> Any:
    """a @ b for vectors, matrices and stacks of matrices (numpy's rules)."""
    sa, sb = _shape(a), _shape(b)
    if not sa or not sb:
        raise ShapeError(f"matmul: operands must have at least one dimension, got shapes {sa} "
                         f"and {sb}")
    inner_b = sb[0] if len(sb) == 1 else sb[-2]
    if sa[-1] != inner_b:
        which = "only" if len(sb) == 1 else "second-to-last"
        raise ShapeError(f"matmul: shapes {sa} and {sb} are not aligned: {sa[-1]} (the first's "
                         f"last axis) != {inner_b} (the second's {which} axis)")
    return apply_to(P.Matmul, a, b)


def dot(a: ArrayLike, b: ArrayLike) -> Any:
    """np.dot for scalars, vectors and matrices (matmul); N-D operands are refused."""
    if _ndim(a) == 0 or _ndim(b) == 0:
        return a * b
    if _ndim(a) > 2 or _ndim(b) > 2:
        raise ShapeError(f"dot: operands of shapes {_shape(a)} and {_shape(b)}: np.dot of "
                         "N-D arrays is not supported; use matmul or einsum")
    return matmul(a, b)


def einsum(subscripts: str, *operands: ArrayLike) -> Any:
    """np.einsum with explicit subscripts ('nk,ndk->dk'); no '...' and no repeated index
    within one operand."""
    if not isinstance(subscripts, str):
        raise TypeError("einsum: the first argument must be the subscripts string")
    ins, out = P.parse_einsum(subscripts, len(operands))
    sizes: dict[str, int] = {}
    for s, x in zip(ins, operands):
        shape = _shape(x)
        if len(s) != len(shape):
            raise ShapeError(f"einsum {subscripts!r}: subscripts {s!r} for an operand of shape "
                             f"{shape}")
        for c, n in zip(s, shape):
            if sizes.setdefault(c, n) != n:
                raise ShapeError(f"einsum {subscripts!r}: index {c!r} has sizes {sizes[c]} and "
                                 f"{n}")
    return apply_to(P.Einsum, *operands, subscripts=",".join(ins) + "->" + out)


def tensordot(a: ArrayLike, b: ArrayLike, axes: Any = 2) -> Any:
    """np.tensordot, written as an einsum."""
    na, nb = _ndim(a), _ndim(b)
    if isinstance(axes, numbers.Integral):
        pairs = list(zip(range(na - axes, na), range(axes)))
    else:
        first, second = axes
        first = [first] if isinstance(first, numbers.Integral) else list(first)
        second = [second] if isinstance(second, numbers.Integral) else list(second)
        pairs = list(zip((_one_axis(x, na, "tensordot") for x in first),
                         (_one_axis(x, nb, "tensordot") for x in second)))
    letters = iter(string.ascii_letters)
    sa = [next(letters) for _ in range(na)]
    sb = [next(letters) for _ in range(nb)]
    for i, j in pairs:
        sb[j] = sa[i]
    contracted = {sa[i] for i, _ in pairs}
    out = [c for c in sa if c not in contracted] + [c for c in sb if c not in contracted]
    return einsum("".join(sa) + "," + "".join(sb) + "->" + "".join(out), a, b)


def outer(a: ArrayLike, b: ArrayLike) -> Any:
    """The outer product of the flattened a and b: a[:, None] * b[None, :] (composite)."""
    return reshape(a, (-1, 1)) * reshape(b, (1, -1))


# ---- shapes -------------------------------------------------------------------------------------
def reshape(x: ArrayLike, shape: Any) -> Any:
    """The same entries in a new shape (one entry may be -1)."""
    old = _shape(x)
    try:
        new = tuple(operator.index(n) for n in ((shape,) if np.ndim(shape) == 0 else shape))
    except TypeError:
        raise TypeError(f"reshape: the new shape must be integers, got {shape!r}") from None
    known = math.prod(n for n in new if n != -1)
    size = math.prod(old)
    if new.count(-1) > 1 or any(n < -1 for n in new) or (
            size != known if -1 not in new else known == 0 or size % known):
        raise ShapeError(f"reshape: cannot reshape an array of shape {old} ({size} entries) "
                         f"into shape {new}")
    return apply_to(P.Reshape, x, new_shape=new, shape=old)


def ravel(x: ArrayLike) -> Any:
    """The entries as a 1-D array."""
    return reshape(x, (-1,))


def squeeze(x: ArrayLike, axis: Any = None) -> Any:
    """x without the size-1 axes (or without the given ones, which must have size 1)."""
    shape = _shape(x)
    axes = _axes(axis, len(shape), "squeeze")
    axes = tuple(i for i, n in enumerate(shape) if n == 1) if axes is None else axes
    if any(shape[a] != 1 for a in axes):
        raise ShapeError(f"squeeze: axis {axis!r} of shape {shape} does not have size 1")
    return reshape(x, tuple(n for i, n in enumerate(shape) if i not in axes))


def expand_dims(x: ArrayLike, axis: int) -> Any:
    """x with a new size-1 axis at `axis`."""
    shape = list(_shape(x))
    shape.insert(_one_axis(axis, len(shape) + 1, "expand_dims"), 1)
    return reshape(x, tuple(shape))


def transpose(x: ArrayLike, axes: Any = None) -> Any:
    """Permute the axes (reverse them by default)."""
    ndim = _ndim(x)
    perm = tuple(reversed(range(ndim))) if axes is None else _axes(axes, ndim, "transpose")
    if len(perm) != ndim:
        raise ShapeError(f"transpose: axes {axes!r} are not a permutation of the {ndim} axes "
                         f"of shape {_shape(x)}")
    return apply_to(P.Transpose, x, axes=perm)


def swapaxes(x: ArrayLike, axis1: int, axis2: int) -> Any:
    """x with two axes interchanged."""
    perm = list(range(_ndim(x)))
    i, j = _one_axis(axis1, len(perm), "swapaxes"), _one_axis(axis2, len(perm), "swapaxes")
    perm[i], perm[j] = perm[j], perm[i]
    return apply_to(P.Transpose, x, axes=tuple(perm))


def broadcast_to(x: ArrayLike, shape: Any) -> Any:
    """A broadcast view of x with the given shape."""
    shape = (shape,) if isinstance(shape, numbers.Integral) else tuple(shape)
    return apply_to(P.BroadcastTo, x, new_shape=shape)


def concatenate(xs: Sequence[ArrayLike], axis: int = 0) -> Any:
    """Join arrays along an existing axis."""
    xs = list(xs)
    if not xs:
        raise ShapeError("concatenate: needs at least one array")
    shapes = [_shape(x) for x in xs]
    ndim = len(shapes[0])
    if ndim == 0:
        raise ShapeError("concatenate: zero-dimensional arrays cannot be concatenated")
    a = _one_axis(axis, ndim, "concatenate")
    for s in shapes:
        if len(s) != ndim or any(n != m for k, (n, m) in enumerate(zip(s, shapes[0])) if k != a):
            raise ShapeError(f"concatenate: shapes {shapes} differ outside axis {a}")
    out = list(shapes[0])
    out[a] = builtins.sum(s[a] for s in shapes)
    return apply_to(P.Concatenate, *xs, axis=a, sizes=tuple(s[a] for s in shapes),
                    shape=tuple(out))


def stack(xs: Sequence[ArrayLike], axis: int = 0) -> Any:
    """Join arrays of one shape along a new axis (composite: expand_dims, concatenate)."""
    xs = list(xs)
    if not xs:
        raise ShapeError("stack: needs at least one array")
    shapes = [_shape(x) for x in xs]
    if any(s != shapes[0] for s in shapes):
        raise ShapeError(f"stack: all arrays must have the same shape, got {shapes}")
    return concatenate([expand_dims(x, axis) for x in xs], axis)


def vstack(xs: Sequence[ArrayLike]) -> Any:
    """Stack rows: 1-D arrays become rows (composite)."""
    return concatenate([reshape(x, (1, -1)) if _ndim(x) == 1 else x for x in xs], 0)


def hstack(xs: Sequence[ArrayLike]) -> Any:
    """Stack columns: along axis 1, or axis 0 for 1-D arrays (composite)."""
    xs = list(xs)
    return concatenate(xs, 0 if xs and _ndim(xs[0]) == 1 else 1)


def repeat(x: ArrayLike, repeats: Any, axis: int | None = None) -> Any:
    """Repeat entries along `axis` (the flattened array by default): an indexing, whose
    gradient scatter-adds the copies back (composite)."""
    if axis is None:
        x, axis = ravel(x), 0
    shape = _shape(x)
    a = _one_axis(axis, len(shape), "repeat")
    counts = np.asarray(repeats)
    if counts.ndim > 1 or counts.ndim == 1 and counts.size not in (1, shape[a]):
        raise ShapeError(f"repeat: {counts.size} repeat counts for an axis of length {shape[a]}"
                         f" (shape {shape})")
    picks = np.repeat(np.arange(shape[a]), repeats)
    return x[(slice(None),) * a + (picks,)]


def getitem(x: ArrayLike, index: Any) -> Any:
    """x[index]: basic indexing, integer arrays and boolean masks (numpy's rules)."""
    if type(index) is int or type(index) is slice:  # the common case, without the parsing below
        return apply_to(P.Getitem, x, template=(index,), shape=_shape(x))
    parts = index if isinstance(index, tuple) else (index,)
    template, arrays = [], []
    for p in parts:
        if p is None or p is Ellipsis or isinstance(p, slice | numbers.Integral):
            template.append(p)
            continue
        if getattr(p, "_node", None) is None:  # a recorded index stays one (compile traces it)
            p = np.asarray(getattr(p, "data", p))
            if p.dtype.kind not in "biu":
                raise IndexError(f"getitem: index arrays must hold integers or booleans, got "
                                 f"dtype {p.dtype}")
        template.append(P.Slot(len(arrays)))
        arrays.append(p)
    return apply_to(P.Getitem, x, *arrays, template=tuple(template), shape=_shape(x))


# ---- numpy's dispatch tables --------------------------------------------------------------------
def _applying(op: type[P.Primitive]) -> Any:
    return lambda *args: apply_to(op, *args)


#: ufuncs that are one primitive each (the elementwise functions, the comparisons)
UFUNC_PRIMITIVES = {op.ufunc: op for op in P.primitives() if op.ufunc is not None}
UFUNCS = {ufunc: _applying(op) for ufunc, op in UFUNC_PRIMITIVES.items()}
UFUNCS.update({
    np.power: power, np.square: square, np.matmul: matmul,
    np.positive: lambda x: x,
})

FUNCTIONS = {
    np.sum: sum, np.mean: mean, np.prod: prod, np.max: max, np.min: min, np.amax: max,
    np.amin: min, np.cumsum: cumsum, np.dot: dot, np.einsum: einsum, np.tensordot: tensordot,
    np.outer: outer, np.reshape: reshape, np.ravel: ravel, np.squeeze: squeeze,
    np.expand_dims: expand_dims, np.transpose: transpose, np.swapaxes: swapaxes,
    np.broadcast_to: broadcast_to, np.concatenate: concatenate, np.stack: stack,
    np.vstack: vstack, np.hstack: hstack, np.repeat: repeat, np.where: where, np.clip: clip,
    np.shape: _shape, np.ndim: _ndim, np.size: lambda x: math.prod(_shape(x)),
}
