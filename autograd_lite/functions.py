"""The public functions: each checks its arguments, then applies one primitive (or a few).

They accept ndarrays, numbers, Tensors and forward-mode Duals alike: `ops.apply_to` runs the
primitive on plain arrays, or hands it to the operand's own type (a Tensor records it on the tape,
a Dual pushes its tangent through). Functions that are compositions of primitives (`stack`,
`outer`, `clip`, `var`, `sort`, `linalg.norm`, ...) say "(composite)" in their docstring. Their
parameters are numpy's (names and defaults); numpy's parameters they leave out are refused
through numpy's dispatch with what to write instead (`unsupported_keyword`, `INSTEAD`).

The tables `UFUNCS` and `FUNCTIONS` at the end map numpy's functions to these, for numpy's
dispatch protocols (`np.tanh(t)`, `np.sum(t)`, `np.linalg.solve(A, t)`): `apply_ufunc` and
`apply_function` bind numpy's own signature, refuse what is left out by name, and call ours.
Anything not in the tables is refused by its numpy name.
"""

from __future__ import annotations

import builtins
import functools
import inspect
import math
import numbers
import operator
import string
import types
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from . import ops as P
from .arguments import positions
from .errors import DTypeError, ShapeError
from .ops import apply_to

ArrayLike = Any  # a Tensor, a Dual, an ndarray, a Python number or a (nested) list of numbers


def _shape(x: Any) -> tuple[int, ...]:
    shape = getattr(x, "shape", None)
    return np.shape(x) if shape is None else tuple(shape)


def _ndim(x: Any) -> int:
    return len(_shape(x))


def _dtype(x: Any) -> np.dtype:
    dtype = getattr(x, "dtype", None)
    return np.asarray(x).dtype if dtype is None else np.dtype(dtype)


def _axes(axis: Any, ndim: int, op: str) -> tuple[int, ...] | None:
    """None, or the axes as a tuple of distinct non-negative ints (negative ones counted back)."""
    if axis is None:
        return None
    out = positions(axis, ndim,
                    lambda: f"{op}: axis must be an int, a tuple of ints or None; got {axis!r}",
                    lambda a: ShapeError(f"{op}: axis {a} is out of range for an array with "
                                         f"{ndim} dimensions"))
    if len(set(out)) != len(out):
        raise ShapeError(f"{op}: repeated axis in {axis!r}")
    return tuple(out)


def _one_axis(axis: Any, ndim: int, op: str) -> int:
    (a,) = _axes(axis, ndim, op)
    return a


def _everything(ndim: int) -> tuple[slice, ...]:
    return (slice(None),) * ndim


def _along(axis: int, index: Any) -> tuple:
    """An index that applies `index` to one axis and takes every entry of the axes before it."""
    return _everything(axis) + (index,)


# ---- numpy's features that are left out ---------------------------------------------------------
#: what to write instead of a numpy keyword autograd_lite leaves out, by keyword (or by
#: (function, keyword) where the advice depends on the function)
INSTEAD = {
    "out": "assign the result instead (y = f(x)): autograd_lite never writes into an existing "
           "array, so that the tape keeps the values it recorded",
    "where": "mask the operand first, e.g. f(ag.where(mask, x, 0.0)), or choose from the "
             "result with ag.where(mask, f(x), other)",
    "dtype": "convert the operand first: x.astype(dtype) (ag.astype)",
    "casting": "convert the operands first with x.astype(dtype) (ag.astype)",
    "subok": "leave it out (the result is a Tensor for Tensor operands, else an ndarray)",
    "signature": "convert the operands first with x.astype(dtype) (ag.astype)",
    "initial": "combine the result with the initial value yourself, e.g. "
               "ag.maximum(ag.max(x), initial) or ag.sum(x) + initial",
    "mean": "leave it out: the mean is computed from the data",
    "order": "leave it out: the values do not depend on the memory order",
    "kind": "leave it out",
    ("reshape", "order"): "for order='F' reverse the axes around a C-order reshape: "
                          "x.T.reshape(shape[::-1]).T",
    ("ravel", "order"): "for order='F' ravel the transpose: x.T.ravel()",
    ("sort", "order"): "sort a plain array of numbers (structured arrays have no gradient)",
    ("argsort", "order"): "sort a plain array of numbers (structured arrays have no gradient)",
    ("partition", "order"): "partition a plain array of numbers",
    ("argpartition", "order"): "partition a plain array of numbers",
    ("linspace", "device"): "leave it out (autograd_lite runs on the CPU)",
}
#: values of left-out keywords that change nothing (numpy's defaults)
_NEUTRAL = {"where": True, "casting": "same_kind", "subok": True, "order": "K", "copy": True}


def _changes_nothing(name: str, value: Any, default: Any = inspect.Parameter.empty) -> bool:
    if value is None or value is default or name == "optimize":  # optimize: only the speed
        return True
    for neutral in (_NEUTRAL.get(name, inspect.Parameter.empty), default):
        if isinstance(value, str | bool | int) and type(value) is type(neutral) \
                and value == neutral:
            return True
    return False


def _described(value: Any) -> str:
    if isinstance(value, tuple) and value and builtins.all(v is not None for v in value):
        value = value[0]  # a ufunc's out=, as numpy passes it
    if isinstance(value, np.ndarray) or hasattr(type(value), "apply_primitive"):
        return f"an array of shape {tuple(np.shape(value))}"
    if isinstance(value, type | np.dtype):
        return repr(np.dtype(value).name) if np.dtype(value) else repr(value)
    text = repr(value)
    return text if len(text) <= 40 else type(value).__name__


def unsupported_keyword(op: str, name: str, value: Any) -> str:
    """The message for a numpy keyword autograd_lite leaves out."""
    short = op.removeprefix("np.")
    advice = INSTEAD.get((short, name)) or INSTEAD.get(name) or "leave it out"
    return (f"{op}: {name}={_described(value)} is not supported by autograd_lite; {advice}")


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
    dtype = _dtype(x)
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
    """x ** p: for a constant number p, pow (the compiler's own); for a constant base x > 0,
    exp(p log x); else numpy's power of two arrays, differentiable in both (d/dp = x^p log x,
    0 where x = 0 < p)."""
    if type(p) is int or type(p) is float:
        return apply_to(P.Pow, x, p=p)
    if isinstance(p, numbers.Real) or (type(p) is np.ndarray and p.ndim == 0):
        return apply_to(P.Pow, x, p=p.item() if isinstance(p, np.ndarray | np.generic) else p)
    if isinstance(x, numbers.Real) and not isinstance(x, bool) and x > 0:
        return exp(p * float(np.log(x)))
    return apply_to(P.Power, x, p)


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


def clip(a: ArrayLike, a_min: ArrayLike = None, a_max: ArrayLike = None, *,
         min: ArrayLike = None, max: ArrayLike = None) -> Any:  # noqa: A002
    """minimum(maximum(a, a_min), a_max), either bound may be None; numpy 2's min= and max= name
    the same bounds (composite)."""
    for name, value, alias in (("a_min", a_min, min), ("a_max", a_max, max)):
        if value is not None and alias is not None:
            raise TypeError(f"clip: give {name} or {name[2:]}, not both")
    low = a_min if a_min is not None else min
    high = a_max if a_max is not None else max
    if low is not None:
        a = maximum(a, low)
    return a if high is None else minimum(a, high)


def where(condition: ArrayLike, x: ArrayLike = None, y: ArrayLike = None) -> Any:
    """x where condition holds, else y; the condition gets no gradient."""
    if x is None or y is None:
        raise TypeError("where: needs the condition, x and y; np.where(condition) alone is "
                        "np.nonzero, whose result depends on the values: use a boolean mask "
                        "with where(condition, x, 0.0) instead")
    return apply_to(P.Where, x, y, _plain_unless_traced(condition))


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
    source = _dtype(x)
    if dtype == source:
        return x
    if dtype.kind != "f":
        x = apply_to(P.StopGradient, x)
    return apply_to(P.Cast, x, dtype=dtype, source=source)


def copy(a: ArrayLike, order: str = "K") -> Any:
    """A copy of a (any memory order: the values are the same); the gradient passes through."""
    return apply_to(P.Copy, a)


def mse(prediction: ArrayLike, target: ArrayLike) -> Any:
    """mean((prediction - target)^2) as one node (nan for empty arrays, as numpy's mean)."""
    return apply_to(P.Mse, prediction, target)


def _unary(op: type[P.Primitive]) -> Any:
    def function(x: ArrayLike) -> Any:
        return apply_to(op, x)

    function.__name__ = function.__qualname__ = op.name
    function.__doc__ = op.__doc__.split(";")[0].strip() + "."
    return function


def _binary(op: type[P.Primitive]) -> Any:
    def function(x1: ArrayLike, x2: ArrayLike) -> Any:
        return apply_to(op, x1, x2)

    function.__name__ = function.__qualname__ = op.name
    function.__doc__ = op.__doc__.split(";")[0].strip() + "."
    return function


sin, cos, tan = _unary(P.Sin), _unary(P.Cos), _unary(P.Tan)
sinh, cosh = _unary(P.Sinh), _unary(P.Cosh)
log1p, expm1 = _unary(P.Log1p), _unary(P.Expm1)
log2, log10, exp2 = _unary(P.Log2), _unary(P.Log10), _unary(P.Exp2)
arcsin, arccos, arctan = _unary(P.Arcsin), _unary(P.Arccos), _unary(P.Arctan)
arcsinh, arccosh, arctanh = _unary(P.Arcsinh), _unary(P.Arccosh), _unary(P.Arctanh)
reciprocal, sinc, fabs = _unary(P.Reciprocal), _unary(P.Sinc), _unary(P.Fabs)
deg2rad, rad2deg = _unary(P.Deg2rad), _unary(P.Rad2deg)
# piecewise constant: numpy's values, no gradient (the derivative is 0 wherever it exists)
floor, ceil, trunc, rint = _unary(P.Floor), _unary(P.Ceil), _unary(P.Trunc), _unary(P.Rint)
isnan, isinf, isfinite = _unary(P.Isnan), _unary(P.Isinf), _unary(P.Isfinite)

arctan2, hypot = _binary(P.Arctan2), _binary(P.Hypot)
logaddexp, logaddexp2 = _binary(P.Logaddexp), _binary(P.Logaddexp2)
fmax, fmin, remainder = _binary(P.Fmax), _binary(P.Fmin), _binary(P.Remainder)


def round(a: ArrayLike, decimals: int = 0) -> Any:  # noqa: A001
    """a rounded to `decimals` decimals (half to even, as numpy), piecewise constant: no
    gradient flows."""
    return apply_to(P.Round, a, decimals=operator.index(decimals))


def nan_to_num(x: ArrayLike, copy: bool = True, nan: float = 0.0, posinf: float | None = None,
               neginf: float | None = None) -> Any:
    """x with nan, inf and -inf replaced by numbers (by default 0 and the largest finite ones);
    the gradient is 1 at the finite entries, 0 at the replaced ones (composite)."""
    if not copy:
        raise TypeError("nan_to_num: copy=False would change x in place, which autograd_lite "
                        "never does; assign the result instead: x = nan_to_num(x)")
    dtype = _dtype(x)
    if dtype.kind != "f":
        return x
    info = np.finfo(dtype)
    posinf = info.max if posinf is None else posinf
    neginf = info.min if neginf is None else neginf
    fill = where(isnan(x), dtype.type(nan),
                 where(apply_to(P.Greater, x, 0), dtype.type(posinf), dtype.type(neginf)))
    return where(isfinite(x), x, fill)


# ---- reductions ---------------------------------------------------------------------------------
def _reduction(op: type[P.Primitive]) -> Any:
    def reduce(a: ArrayLike, axis: int | tuple[int, ...] | None = None,
               keepdims: bool = False) -> Any:
        shape = _shape(a)
        axes = _axes(axis, len(shape), op.name)
        reduced = range(len(shape)) if axes is None else axes
        if op in (P.Max, P.Min) and builtins.any(shape[k] == 0 for k in reduced):
            raise ShapeError(f"{op.name}: zero-size array (shape {shape}) has no {op.name}"
                             f"{'' if axes is None else f' along axes {axes}'}")
        return apply_to(op, a, axis=axes, keepdims=bool(keepdims), shape=shape)

    reduce.__name__ = reduce.__qualname__ = op.name
    reduce.__doc__ = op.__doc__.split(";")[0] + " (all axes by default)."
    return reduce


sum, mean, prod = _reduction(P.Sum), _reduction(P.Mean), _reduction(P.Prod)  # noqa: A001
max, min = _reduction(P.Max), _reduction(P.Min)  # noqa: A001


def var(a: ArrayLike, axis: int | tuple[int, ...] | None = None, ddof: float = 0,
        keepdims: bool = False, *, correction: float | None = None) -> Any:
    """Variance along axis: sum((a - mean(a))^2) / (n - ddof), numpy's formula (composite)."""
    if correction is not None:
        if ddof != 0:
            raise ValueError("var: ddof and correction can't be provided simultaneously")
        ddof = correction
    shape = _shape(a)
    axes = _axes(axis, len(shape), "var")
    deviation = a - mean(a, axes, keepdims=True)
    return sum(deviation * deviation, axes, keepdims) / builtins.max(
        P.reduced_count(shape, axes) - ddof, 0)


def std(a: ArrayLike, axis: int | tuple[int, ...] | None = None, ddof: float = 0,
        keepdims: bool = False, *, correction: float | None = None) -> Any:
    """Standard deviation along axis: sqrt(var(a, axis, ddof)) (composite; its gradient is
    infinite where all entries are equal, as the square root's at 0)."""
    return sqrt(var(a, axis, ddof, keepdims, correction=correction))


def _nonzero_count(a: ArrayLike, axis: Any, keepdims: bool, zero: bool) -> Any:
    return sum(apply_to(P.Equal if zero else P.NotEqual, a, 0), axis, keepdims)


def any(a: ArrayLike, axis: Any = None, keepdims: bool = False) -> Any:  # noqa: A001
    """Is some entry nonzero (along axis)? Piecewise constant: no gradient (composite)."""
    return apply_to(P.Greater, _nonzero_count(a, axis, keepdims, zero=False), 0)


def all(a: ArrayLike, axis: Any = None, keepdims: bool = False) -> Any:  # noqa: A001
    """Is every entry nonzero (along axis)? Piecewise constant: no gradient (composite)."""
    return apply_to(P.Equal, _nonzero_count(a, axis, keepdims, zero=True), 0)


def _arg_extremum(op: type[P.Primitive]) -> Any:
    def arg(a: ArrayLike, axis: int | None = None, *, keepdims: bool = False) -> Any:
        axis = None if axis is None else _one_axis(axis, _ndim(a), op.name)
        return apply_to(op, a, axis=axis, keepdims=bool(keepdims))

    arg.__name__ = arg.__qualname__ = op.name
    arg.__doc__ = op.__doc__.split("  (")[0] + " (of the flattened array by default); integers, "\
        "no gradient."
    return arg


argmax, argmin = _arg_extremum(P.Argmax), _arg_extremum(P.Argmin)


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


def _einsum_letter(k: Any) -> str:
    if k is Ellipsis:
        return "..."
    k = operator.index(k)
    if not 0 <= k < 52:
        raise ValueError(f"einsum: subscript {k} in a sublist is not in 0..51")
    return string.ascii_letters[k]


def _einsum_arguments(operands: tuple) -> tuple[str, list]:
    """(subscripts, arrays) of either form: einsum('ij,jk->ik', a, b) or numpy's sublists
    einsum(a, [0, 1], b, [1, 2], [0, 2])."""
    if not operands:
        raise TypeError("einsum: needs the subscripts and at least one operand")
    if isinstance(operands[0], str):
        return operands[0].replace(" ", ""), list(operands[1:])
    pairs, out = (operands[:-1], operands[-1]) if len(operands) % 2 else (operands, None)
    arrays, specs = list(pairs[0::2]), pairs[1::2]
    text = ",".join("".join(_einsum_letter(k) for k in s) for s in specs)
    if out is not None:
        text += "->" + "".join(_einsum_letter(k) for k in out)
    return text, arrays


def einsum(*operands: Any) -> Any:
    """np.einsum: explicit or implicit subscripts ('nk,ndk->dk', 'ij,jk'), '...' for leading
    axes, a repeated index within one operand (a diagonal: 'ii->i', 'ii', 'iij->j'), and numpy's
    sublist form einsum(a, [0, 1], b, [1, 2]). A repeated index takes that operand's diagonal
    first; '...' becomes letters of its own; an index of size 1 broadcasts (composite around the
    einsum primitive)."""
    subscripts, arrays = _einsum_arguments(operands)
    ins, arrow, out = subscripts.partition("->")
    specs = ins.split(",")
    if len(specs) != len(arrays):
        raise ShapeError(f"einsum {subscripts!r}: {len(specs)} operand subscripts for "
                         f"{len(arrays)} operands")
    shapes = [_shape(x) for x in arrays]
    specs, ellipsis = _expand_ellipsis(subscripts, specs, shapes)
    if arrow:
        out = out.replace("...", ellipsis)
    else:  # numpy's implicit output: '...' first, then the indices written once, sorted
        letters = [c for s in specs for c in s if c not in ellipsis]
        out = ellipsis + "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    if not all_letters(subscripts.replace("...", "").replace(",", "").replace("->", "")):
        raise ShapeError(f"einsum {subscripts!r}: subscripts must be letters (and '...')")
    if len(set(out)) != len(out) or builtins.any(c not in "".join(specs) for c in out):
        raise ShapeError(f"einsum {subscripts!r}: each output index must appear once, and in "
                         "an operand")
    sizes: dict[str, int] = {}
    for k, (s, x) in enumerate(zip(specs, arrays)):
        shape = shapes[k]
        if len(s) != len(shape):
            raise ShapeError(f"einsum {subscripts!r}: subscripts {s!r} for an operand of shape "
                             f"{shape}")
        while len(set(s)) != len(s):  # a repeated index: take that diagonal first
            c = next(c for c in s if s.count(c) > 1)
            i, j = s.index(c), s.index(c, s.index(c) + 1)
            if shape[i] != shape[j]:
                raise ShapeError(f"einsum {subscripts!r}: the repeated index {c!r} has sizes "
                                 f"{shape[i]} and {shape[j]} in one operand")
            x = diagonal(x, 0, i, j)
            s, shape = s[:i] + s[i + 1:j] + s[j + 1:] + c, _shape(x)
        specs[k], arrays[k], shapes[k] = s, x, shape
        for c, n in zip(s, shape):
            if sizes.setdefault(c, n) != n and 1 not in (sizes[c], n):
                raise ShapeError(f"einsum {subscripts!r}: index {c!r} has sizes {sizes[c]} and "
                                 f"{n}")
            sizes[c] = n if sizes[c] == 1 else sizes[c]
    for k, (s, shape) in enumerate(zip(specs, shapes)):  # an index of size 1 broadcasts
        full = tuple(sizes[c] for c in s)
        if full != shape:
            arrays[k] = broadcast_to(arrays[k], full)
    return apply_to(P.Einsum, *arrays, subscripts=",".join(specs) + "->" + out)


def all_letters(text: str) -> bool:
    return builtins.all(c in string.ascii_letters for c in text)


def _expand_ellipsis(subscripts: str, specs: list[str],
                     shapes: list[tuple[int, ...]]) -> tuple[list[str], str]:
    """Each '...' written as letters no subscript uses, aligned at the right across operands
    (as numpy broadcasts them); returns the new subscripts and the letters of the longest."""
    if "." not in subscripts:
        return specs, ""
    unused = [c for c in string.ascii_letters if c not in subscripts]
    ranks = []
    for s, shape in zip(specs, shapes):
        if s.count(".") not in (0, 3) or ("." in s and "..." not in s):
            raise ShapeError(f"einsum {subscripts!r}: '.' only as one '...' per operand")
        rank = len(shape) - (len(s) - 3) if "..." in s else 0
        if rank < 0:
            raise ShapeError(f"einsum {subscripts!r}: subscripts {s!r} for an operand of shape "
                             f"{shape}")
        ranks.append(rank)
    letters = "".join(unused[:builtins.max(ranks, default=0)])
    return [s.replace("...", letters[len(letters) - r:] if r else "")
            for s, r in zip(specs, ranks)], letters


def tensordot(a: ArrayLike, b: ArrayLike, axes: Any = 2) -> Any:
    """np.tensordot, written as an einsum (composite)."""
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


def inner(a: ArrayLike, b: ArrayLike) -> Any:
    """The sum of products over the last axes of a and b; a product if one is 0-d (composite:
    an einsum)."""
    sa, sb = _shape(a), _shape(b)
    if not sa or not sb:
        return a * b
    if sa[-1] != sb[-1]:
        raise ShapeError(f"inner: the last axes of shapes {sa} and {sb} differ")
    return tensordot(a, b, ([-1], [-1]))


def kron(a: ArrayLike, b: ArrayLike) -> Any:
    """The Kronecker product: blocks a[i, j] * b (composite: reshapes, a product)."""
    sa, sb = _shape(a), _shape(b)
    n = builtins.max(len(sa), len(sb))
    sa, sb = (1,) * (n - len(sa)) + sa, (1,) * (n - len(sb)) + sb
    spread_a = reshape(a, tuple(v for s in sa for v in (s, 1)))
    spread_b = reshape(b, tuple(v for s in sb for v in (1, s)))
    return reshape(spread_a * spread_b, tuple(x * y for x, y in zip(sa, sb)))


def cross(a: ArrayLike, b: ArrayLike, axisa: int = -1, axisb: int = -1, axisc: int = -1,
          axis: int | None = None) -> Any:
    """The cross product of 3-vectors (2-vectors have a zero third component; two 2-vectors give
    the third component only), along the given axes (composite)."""
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = moveaxis(a, axisa, -1), moveaxis(b, axisb, -1)
    na, nb = _shape(a)[-1], _shape(b)[-1]
    if na not in (2, 3) or nb not in (2, 3):
        raise ShapeError(f"cross: incompatible dimensions for cross product (dimension must be "
                         f"2 or 3), got {na} and {nb}")
    ca = [a[..., k] for k in range(na)] + [None] * (3 - na)
    cb = [b[..., k] for k in range(nb)] + [None] * (3 - nb)

    def term(i: int, j: int) -> Any:  # a_i b_j - a_j b_i, a missing component being 0
        first = None if ca[i] is None or cb[j] is None else ca[i] * cb[j]
        second = None if ca[j] is None or cb[i] is None else ca[j] * cb[i]
        return first - second if second is not None and first is not None else (
            first if second is None else -second)

    if na == nb == 2:
        return term(0, 1)
    product = stack([term(1, 2), term(2, 0), term(0, 1)], -1)
    return moveaxis(product, -1, axisc)


def diagonal(a: ArrayLike, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
    """The diagonal a[..., i, i + offset] of axes axis1 and axis2, as numpy's last axis
    (composite: an indexing, whose gradient is scattered back onto the diagonal)."""
    shape = _shape(a)
    if len(shape) < 2:
        raise ShapeError(f"diagonal: needs at least 2 dimensions, got shape {shape}")
    i, j = _one_axis(axis1, len(shape), "diagonal"), _one_axis(axis2, len(shape), "diagonal")
    if i == j:
        raise ShapeError(f"diagonal: axis1 and axis2 cannot be the same axis ({i})")
    offset = operator.index(offset)
    n = builtins.max(0, builtins.min(shape[i] + builtins.min(offset, 0),
                                     shape[j] - builtins.max(offset, 0)))
    rows = np.arange(n) - builtins.min(offset, 0)
    columns = np.arange(n) + builtins.max(offset, 0)
    perm = [k for k in range(len(shape)) if k not in (i, j)] + [i, j]
    if perm != list(range(len(shape))):
        a = transpose(a, perm)
    return getitem(a, (Ellipsis, rows, columns))


def trace(a: ArrayLike, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
    """The sum of the diagonal (composite: diagonal, sum)."""
    return sum(diagonal(a, offset, axis1, axis2), -1)


def diag(v: ArrayLike, k: int = 0) -> Any:
    """The k-th diagonal of a matrix, or the square matrix with the vector v on its k-th diagonal
    (composite: a scatter into zeros, or diagonal)."""
    shape = _shape(v)
    if len(shape) == 2:
        return diagonal(v, k)
    if len(shape) != 1:
        raise ShapeError(f"diag: input must be 1-D or 2-D, got shape {shape}")
    k = operator.index(k)
    n = shape[0] + builtins.abs(k)
    rows = np.arange(shape[0]) - builtins.min(k, 0)
    columns = np.arange(shape[0]) + builtins.max(k, 0)
    return apply_to(P.ScatterAdd, v, rows, columns, template=(P.Slot(0), P.Slot(1)),
                    shape=(n, n))


def _triangle(m: ArrayLike, k: int, lower: bool, op: str) -> Any:
    shape = _shape(m)
    if not shape:
        raise ShapeError(f"{op}: needs at least 1 dimension, got a 0-d array")
    rows, columns = shape[-2:] if len(shape) > 1 else (shape[-1], shape[-1])
    k = operator.index(k)
    keep = np.tri(rows, columns, k, dtype=bool) if lower else ~np.tri(rows, columns, k - 1,
                                                                       dtype=bool)
    return where(keep, m, np.zeros((), _dtype(m)))


def triu(m: ArrayLike, k: int = 0) -> Any:
    """m with the entries below the k-th diagonal set to 0 (composite: a where)."""
    return _triangle(m, k, lower=False, op="triu")


def tril(m: ArrayLike, k: int = 0) -> Any:
    """m with the entries above the k-th diagonal set to 0 (composite: a where)."""
    return _triangle(m, k, lower=True, op="tril")


def _square_matrices(a: ArrayLike, op: str) -> tuple[int, ...]:
    shape = _shape(a)
    if len(shape) < 2 or shape[-1] != shape[-2]:
        raise ShapeError(f"np.linalg.{op}: needs square matrices (..., n, n), got shape {shape}")
    return shape


def inv(a: ArrayLike) -> Any:
    """The inverse of a matrix (or of each of a stack)."""
    _square_matrices(a, "inv")
    return apply_to(P.Inv, a)


def det(a: ArrayLike) -> Any:
    """The determinant of a matrix (or of each of a stack)."""
    _square_matrices(a, "det")
    return apply_to(P.Det, a)


class SlogdetResult(NamedTuple):
    """slogdet's results: det(a) = sign * exp(logabsdet)."""

    sign: Any
    logabsdet: Any


def slogdet(a: ArrayLike) -> SlogdetResult:
    """(sign, log |det|) of a matrix (or of each of a stack); the sign has no gradient."""
    _square_matrices(a, "slogdet")
    return SlogdetResult(apply_to(P.SignDet, a), apply_to(P.LogAbsDet, a))


def solve(a: ArrayLike, b: ArrayLike) -> Any:
    """x with a x = b: b one vector (n,), or (a stack of) matrices (..., n, k), as numpy 2."""
    sa, sb = _square_matrices(a, "solve"), _shape(b)
    rows = sb[0] if len(sb) == 1 else (sb[-2] if len(sb) > 1 else None)
    if rows != sa[-1]:
        raise ShapeError(f"np.linalg.solve: a of shape {sa} and b of shape {sb}: b must be "
                         f"({sa[-1]},) or (..., {sa[-1]}, k)")
    return apply_to(P.Solve, a, b)


_INFINITY = (math.inf, -math.inf)


def norm(x: ArrayLike, ord: Any = None, axis: Any = None,  # noqa: A002
         keepdims: bool = False) -> Any:
    """np.linalg.norm: vector norms (2 by default, 1, inf, -inf, 0, any p) and matrix norms
    ('fro', 1, -1, inf, -inf) over one or two axes; the norms that need singular values (2,
    -2, 'nuc' of a matrix) are refused (composite)."""
    shape = _shape(x)
    nd = len(shape)
    if axis is None and (ord is None or (ord in ("f", "fro") and nd == 2)
                         or (ord == 2 and nd == 1)):
        result = sqrt(sum(x * x))
        return reshape(result, (1,) * nd) if keepdims else result
    axes = _axes(tuple(range(nd)) if axis is None else axis, nd, "linalg.norm")
    if len(axes) == 1:
        result = _vector_norm(x, ord, axes[0])
    elif len(axes) == 2:
        result = _matrix_norm(x, ord, *axes)
    else:
        raise ShapeError(f"np.linalg.norm: improper number of dimensions to norm: axes {axes} "
                         f"of shape {shape}")
    if keepdims:
        result = reshape(result, tuple(1 if k in axes else n for k, n in enumerate(shape)))
    return result


def _vector_norm(x: ArrayLike, ord: Any, axis: int) -> Any:  # noqa: A002
    if isinstance(ord, str):
        raise ValueError(f"np.linalg.norm: invalid norm order {ord!r} for vectors")
    if ord is None or ord == 2:
        return sqrt(sum(x * x, axis))
    if ord in _INFINITY:
        return (max if ord > 0 else min)(abs(x), axis)
    if ord == 0:  # the number of nonzero entries: piecewise constant
        return astype(sum(apply_to(P.NotEqual, x, 0), axis), np.result_type(_dtype(x), 1.0))
    if ord == 1:
        return sum(abs(x), axis)
    return power(sum(power(abs(x), ord), axis), 1.0 / ord)


def _matrix_norm(x: ArrayLike, ord: Any, row: int, column: int) -> Any:  # noqa: A002
    if ord in (2, -2, "nuc"):
        raise ValueError(f"np.linalg.norm: the matrix norm ord={ord!r} needs singular values, "
                         "which autograd_lite does not differentiate; use ord='fro' (the "
                         "default), 1 or inf, or the largest |eigenvalue| of x.T @ x by power "
                         "iteration")
    if ord is None or ord in ("fro", "f"):
        return sqrt(sum(x * x, (row, column)))
    if ord in (1, -1):
        reduce_then = max if ord > 0 else min
        return reduce_then(sum(abs(x), row), column - (column > row))
    if ord in _INFINITY:
        reduce_then = max if ord > 0 else min
        return reduce_then(sum(abs(x), column), row - (row > column))
    raise ValueError(f"np.linalg.norm: invalid norm order {ord!r} for matrices")


#: np.linalg's functions, as `autograd_lite.linalg.norm(x)` spells them
linalg = types.SimpleNamespace(norm=norm, solve=solve, inv=inv, det=det, slogdet=slogdet)


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
    if new.count(-1) > 1 or builtins.any(n < -1 for n in new) or (
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
    if builtins.any(shape[a] != 1 for a in axes):
        raise ShapeError(f"squeeze: axis {axis!r} of shape {shape} does not have size 1")
    return reshape(x, tuple(n for i, n in enumerate(shape) if i not in axes))


def expand_dims(x: ArrayLike, axis: int | tuple[int, ...]) -> Any:
    """x with a new size-1 axis at `axis` (or at each of a tuple of axes, positions in the
    result)."""
    shape = _shape(x)
    count = len(axis) if isinstance(axis, tuple | list) else 1
    axes = _axes(axis, len(shape) + count, "expand_dims")
    rest = iter(shape)
    return reshape(x, tuple(1 if k in axes else next(rest) for k in range(len(shape) + count)))


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


def moveaxis(a: ArrayLike, source: Any, destination: Any) -> Any:
    """a with the axes `source` moved to the positions `destination`, the others in order
    (composite: a transpose)."""
    nd = _ndim(a)
    sources, targets = _axes(source, nd, "moveaxis"), _axes(destination, nd, "moveaxis")
    if len(sources) != len(targets):
        raise ShapeError(f"moveaxis: `source` {source!r} and `destination` {destination!r} "
                         "must have the same number of elements")
    order = [k for k in range(nd) if k not in sources]
    for target, axis in sorted(zip(targets, sources)):
        order.insert(target, axis)
    return transpose(a, order)


def rollaxis(a: ArrayLike, axis: int, start: int = 0) -> Any:
    """a with `axis` moved to stand before position `start` (numpy's older moveaxis;
    composite: a transpose)."""
    nd = _ndim(a)
    axis = _one_axis(axis, nd, "rollaxis")
    start = operator.index(start)
    start += nd if start < 0 else 0
    if not 0 <= start <= nd:
        raise ShapeError(f"rollaxis: start {start} is out of range for {nd} dimensions")
    order = [k for k in range(nd) if k != axis]
    order.insert(start - (axis < start), axis)
    return transpose(a, order)


def broadcast_to(x: ArrayLike, shape: Any) -> Any:
    """A broadcast view of x with the given shape."""
    shape = (shape,) if isinstance(shape, numbers.Integral) else tuple(shape)
    return apply_to(P.BroadcastTo, x, new_shape=shape)


def _cast_all(xs: list, dtype: Any, casting: str, op: str) -> list:
    """numpy's dtype= of the joining functions: each operand converted, under `casting`."""
    if dtype is None:
        return xs
    dtype = np.dtype(dtype)
    for x in xs:
        if not np.can_cast(_dtype(x), dtype, casting):
            raise DTypeError(f"{op}: cannot cast {_dtype(x)} to {dtype} under casting="
                             f"{casting!r}")
    return [astype(x, dtype) for x in xs]


def concatenate(arrays: Sequence[ArrayLike], axis: int | None = 0, *, dtype: Any = None,
                casting: str = "same_kind") -> Any:
    """Join arrays along an existing axis (axis=None: their entries, flattened)."""
    xs = _cast_all(list(arrays), dtype, casting, "concatenate")
    if not xs:
        raise ShapeError("concatenate: needs at least one array")
    if axis is None:
        xs, axis = [ravel(x) for x in xs], 0
    shapes = [_shape(x) for x in xs]
    ndim = len(shapes[0])
    if ndim == 0:
        raise ShapeError("concatenate: zero-dimensional arrays cannot be concatenated")
    a = _one_axis(axis, ndim, "concatenate")
    for s in shapes:
        if len(s) != ndim or builtins.any(n != m for k, (n, m) in enumerate(zip(s, shapes[0]))
                                          if k != a):
            raise ShapeError(f"concatenate: shapes {shapes} differ outside axis {a}")
    out = list(shapes[0])
    out[a] = builtins.sum(s[a] for s in shapes)
    return apply_to(P.Concatenate, *xs, axis=a, sizes=tuple(s[a] for s in shapes),
                    shape=tuple(out))


def stack(arrays: Sequence[ArrayLike], axis: int = 0, *, dtype: Any = None,
          casting: str = "same_kind") -> Any:
    """Join arrays of one shape along a new axis (composite: expand_dims, concatenate)."""
    xs = list(arrays)
    if not xs:
        raise ShapeError("stack: needs at least one array")
    shapes = [_shape(x) for x in xs]
    if builtins.any(s != shapes[0] for s in shapes):
        raise ShapeError(f"stack: all arrays must have the same shape, got {shapes}")
    return concatenate([expand_dims(x, axis) for x in xs], axis, dtype=dtype, casting=casting)


def _at_least(x: ArrayLike, ndim: int) -> Any:
    """x with at least `ndim` axes, numpy's way: 0-d -> (1,) -> (1, n) -> (m, n, 1)."""
    shape = _shape(x)
    if len(shape) >= ndim:
        return x if hasattr(x, "shape") else np.asarray(x)
    if ndim == 3 and len(shape) == 2:
        return reshape(x, shape + (1,))
    padded = (1,) * (builtins.min(ndim, 2) - len(shape)) + shape
    return reshape(x, padded + (1,) * (ndim - len(padded)))


def _at_least_nd(ndim: int) -> Any:
    def at_least(*arys: ArrayLike) -> Any:
        results = tuple(_at_least(x, ndim) for x in arys)
        return results[0] if len(results) == 1 else results

    at_least.__name__ = at_least.__qualname__ = f"atleast_{ndim}d"
    at_least.__doc__ = (f"Each argument with at least {ndim} dimension{'s' if ndim > 1 else ''}, "
                        "as numpy adds them (one argument: its result, else a tuple; "
                        "composite: reshape).")
    return at_least


atleast_1d, atleast_2d, atleast_3d = _at_least_nd(1), _at_least_nd(2), _at_least_nd(3)


def vstack(tup: Sequence[ArrayLike], *, dtype: Any = None, casting: str = "same_kind") -> Any:
    """Stack rows: 0-d and 1-D arrays become rows (composite: atleast_2d, concatenate)."""
    return concatenate([_at_least(x, 2) for x in tup], 0, dtype=dtype, casting=casting)


def hstack(tup: Sequence[ArrayLike], *, dtype: Any = None, casting: str = "same_kind") -> Any:
    """Stack columns: along axis 1, or axis 0 for 0-d and 1-D arrays (composite)."""
    xs = [_at_least(x, 1) for x in tup]
    return concatenate(xs, 0 if xs and _ndim(xs[0]) == 1 else 1, dtype=dtype, casting=casting)


def column_stack(tup: Sequence[ArrayLike]) -> Any:
    """Stack 1-D arrays as columns (and 2-D arrays as they are) along axis 1 (composite)."""
    return concatenate([x if _ndim(x) >= 2 else reshape(x, (-1, 1)) for x in tup], 1)


def append(arr: ArrayLike, values: ArrayLike, axis: int | None = None) -> Any:
    """arr followed by values along axis, or both flattened (composite: concatenate)."""
    if axis is None:
        return concatenate([ravel(arr), ravel(values)], 0)
    return concatenate([arr, values], axis)


def array_split(ary: ArrayLike, indices_or_sections: Any, axis: int = 0) -> list:
    """ary cut along axis into that many parts (the first ones one longer where it does not
    divide evenly), or at the given indices (composite: slices)."""
    shape = _shape(ary)
    a = _one_axis(axis, len(shape), "array_split")
    n = shape[a]
    if isinstance(indices_or_sections, numbers.Integral):
        sections = operator.index(indices_or_sections)
        if sections <= 0:
            raise ValueError("array_split: the number of sections must be larger than 0")
        each, extra = divmod(n, sections)
        bounds = np.cumsum([0] + [each + 1] * extra + [each] * (sections - extra)).tolist()
    else:
        bounds = [0, *(operator.index(k) for k in indices_or_sections), n]
    return [getitem(ary, _along(a, slice(start, stop)))
            for start, stop in zip(bounds[:-1], bounds[1:])]


def split(ary: ArrayLike, indices_or_sections: Any, axis: int = 0) -> list:
    """ary cut along axis into equal parts, or at the given indices (composite: slices)."""
    if isinstance(indices_or_sections, numbers.Integral):
        shape = _shape(ary)
        n = shape[_one_axis(axis, len(shape), "split")]
        if indices_or_sections <= 0 or n % indices_or_sections:
            raise ShapeError(f"split: an axis of length {n} does not divide into "
                             f"{indices_or_sections} equal parts; use array_split")
    return array_split(ary, indices_or_sections, axis)


def hsplit(ary: ArrayLike, indices_or_sections: Any) -> list:
    """split along axis 1 (axis 0 of a 1-D array) (composite: slices)."""
    if _ndim(ary) == 0:
        raise ShapeError("hsplit only works on arrays of 1 or more dimensions")
    return split(ary, indices_or_sections, 1 if _ndim(ary) > 1 else 0)


def vsplit(ary: ArrayLike, indices_or_sections: Any) -> list:
    """split along axis 0 of an array of 2 or more dimensions (composite: slices)."""
    if _ndim(ary) < 2:
        raise ShapeError("vsplit only works on arrays of 2 or more dimensions")
    return split(ary, indices_or_sections, 0)


def flip(m: ArrayLike, axis: Any = None) -> Any:
    """m with the order of entries reversed along axis (all axes by default) (composite: a
    slice with step -1)."""
    nd = _ndim(m)
    axes = range(nd) if axis is None else _axes(axis, nd, "flip")
    return getitem(m, tuple(slice(None, None, -1) if k in axes else slice(None)
                            for k in range(nd)))


def flipud(m: ArrayLike) -> Any:
    """m upside down: flip(m, 0) (composite)."""
    if _ndim(m) < 1:
        raise ShapeError("flipud: input must be >= 1-d")
    return flip(m, 0)


def fliplr(m: ArrayLike) -> Any:
    """m left to right: flip(m, 1) (composite)."""
    if _ndim(m) < 2:
        raise ShapeError("fliplr: input must be >= 2-d")
    return flip(m, 1)


def rot90(m: ArrayLike, k: int = 1, axes: Any = (0, 1)) -> Any:
    """m rotated by 90 degrees k times in the plane of two axes, from the first towards the
    second (composite: flip and transpose, as numpy)."""
    nd = _ndim(m)
    if len(tuple(axes)) != 2:
        raise ShapeError("rot90: len(axes) must be 2")
    first, second = _axes(tuple(axes), nd, "rot90")
    k = operator.index(k) % 4
    if k == 0:
        return getitem(m, slice(None))
    if k == 2:
        return flip(m, (first, second))
    perm = list(range(nd))
    perm[first], perm[second] = perm[second], perm[first]
    return transpose(flip(m, second), perm) if k == 1 else flip(transpose(m, perm), second)


def roll(a: ArrayLike, shift: Any, axis: Any = None) -> Any:
    """a with its entries shifted cyclically along axis (the flattened array by default)
    (composite: an indexing per shifted axis)."""
    if axis is None:
        return reshape(roll(ravel(a), shift, 0), _shape(a))
    shape = _shape(a)
    shifts: dict[int, int] = {}
    for s, ax in np.broadcast(shift, axis):
        ax = _one_axis(int(ax), len(shape), "roll")
        shifts[ax] = shifts.get(ax, 0) + int(s)
    for ax, s in shifts.items():
        a = getitem(a, _along(ax, (np.arange(shape[ax]) - s) % builtins.max(shape[ax], 1)))
    return a


def diff(a: ArrayLike, n: int = 1, axis: int = -1, prepend: ArrayLike = None,
         append: ArrayLike = None) -> Any:
    """The n-th differences a[i + 1] - a[i] along axis, after joining prepend and append
    (composite: slices, subtraction)."""
    n = operator.index(n)
    if n < 0:
        raise ValueError(f"diff: order must be non-negative but got {n}")
    a = a if hasattr(a, "shape") else np.asarray(a)
    shape = _shape(a)
    if not shape:
        raise ShapeError("diff requires input that is at least one dimensional")
    ax = _one_axis(axis, len(shape), "diff")
    edge = shape[:ax] + (1,) + shape[ax + 1:]
    parts = [broadcast_to(p, edge) if _ndim(p) == 0 else p
             for p in (prepend, a, append) if p is not None]
    if len(parts) > 1:
        a = concatenate(parts, ax)
    later, earlier = _along(ax, slice(1, None)), _along(ax, slice(None, -1))
    for _ in range(n):
        a = apply_to(P.NotEqual if _dtype(a).kind == "b" else P.Sub, a[later], a[earlier])
    return a


def tile(A: ArrayLike, reps: Any) -> Any:
    """A repeated reps[k] times along each axis k (composite: reshape, broadcast_to)."""
    reps = (reps,) if isinstance(reps, numbers.Integral) else tuple(reps)
    if builtins.any(r < 0 for r in reps):
        raise ValueError(f"tile: negative repetitions {reps}")
    shape = _shape(A)
    reps = (1,) * (len(shape) - len(reps)) + reps
    shape = (1,) * (len(reps) - len(shape)) + shape
    spread = reshape(A, tuple(v for s in shape for v in (1, s)))
    copies = broadcast_to(spread, tuple(v for r, s in zip(reps, shape) for v in (r, s)))
    return reshape(copies, tuple(r * s for r, s in zip(reps, shape)))


def _pairs(widths: Any, nd: int, op: str) -> np.ndarray:
    pairs = np.asarray(widths)
    try:
        return np.broadcast_to(pairs, (nd, 2))
    except ValueError:
        raise ShapeError(f"{op}: {widths!r} cannot be read as (before, after) for each of {nd} "
                         "axes") from None


def pad(array: ArrayLike, pad_width: Any, mode: str = "constant", *,
        constant_values: Any = 0) -> Any:
    """array with constant_values added before and after each axis (mode 'constant' only;
    composite: a scatter into zeros, and a where for nonzero constants)."""
    if mode != "constant":
        raise ValueError(f"pad: mode={mode!r} is not supported by autograd_lite, only "
                         "'constant'; build other borders from slices with ag.concatenate, "
                         "e.g. mode 'edge' along axis 0 as concatenate([x[:1]] * k + [x], 0)")
    shape = _shape(array)
    widths = _pairs(pad_width, len(shape), "pad").astype(np.intp)
    if (widths < 0).any():
        raise ValueError(f"pad: negative pad width {pad_width!r}")
    inside = tuple(slice(b, b + n) for (b, _), n in zip(widths.tolist(), shape))
    padded_shape = tuple(n + b + e for (b, e), n in zip(widths.tolist(), shape))
    padded = apply_to(P.ScatterAdd, array, template=inside, shape=padded_shape)
    values = _pairs(constant_values, len(shape), "pad")
    if not values.any():
        return padded
    border = np.pad(np.zeros(shape, _dtype(array)), widths, constant_values=values)
    mask = np.zeros(padded_shape, bool)
    mask[inside] = True
    return where(mask, padded, border)


def take_along_axis(arr: ArrayLike, indices: ArrayLike, axis: int | None = -1) -> Any:
    """arr[..., indices, ...] pairing each index with its own position on the other axes (as
    argsort's results are used); the gradient is scattered back (composite: an indexing)."""
    if axis is None:
        arr, axis = ravel(arr), 0
    shape = _shape(arr)
    ax = _one_axis(axis, len(shape), "take_along_axis")
    if _ndim(indices) != len(shape):
        raise ShapeError(f"take_along_axis: indices of shape {_shape(indices)} and arr of shape "
                         f"{shape} must have the same number of dimensions")
    index = tuple(indices if k == ax else
                  np.arange(n).reshape(tuple(-1 if j == k else 1 for j in range(len(shape))))
                  for k, n in enumerate(shape))
    return getitem(arr, index)


def argsort(a: ArrayLike, axis: int | None = -1, kind: str | None = None, *,
            stable: bool | None = None) -> Any:
    """The positions that sort a along axis (the flattened array for None); integers, no
    gradient."""
    if axis is None:
        a, axis = ravel(a), 0
    return apply_to(P.Argsort, a, axis=_one_axis(axis, _ndim(a), "argsort"), kind=kind,
                    stable=stable)


def sort(a: ArrayLike, axis: int | None = -1, kind: str | None = None, *,
         stable: bool | None = None) -> Any:
    """a sorted along axis (the flattened array for None). The values are a permutation of a's,
    piecewise constant in which one: the gradient is g permuted back (composite: argsort,
    take_along_axis)."""
    if axis is None:
        a, axis = ravel(a), 0
    axis = _one_axis(axis, _ndim(a), "sort")
    return take_along_axis(a, argsort(a, axis, kind, stable=stable), axis)


def _kth(kth: Any) -> int | tuple[int, ...]:
    return operator.index(kth) if np.ndim(kth) == 0 else tuple(operator.index(k) for k in kth)


def argpartition(a: ArrayLike, kth: Any, axis: int | None = -1,
                 kind: str = "introselect") -> Any:
    """Positions that put the kth entries where sorting would, the smaller ones before them and
    the larger after (numpy's order otherwise); integers, no gradient."""
    if axis is None:
        a, axis = ravel(a), 0
    if kind != "introselect":
        raise ValueError(f"argpartition: kind {kind!r}: numpy has only 'introselect'")
    return apply_to(P.Argpartition, a, kth=_kth(kth), axis=_one_axis(axis, _ndim(a),
                                                                       "argpartition"))


def partition(a: ArrayLike, kth: Any, axis: int | None = -1, kind: str = "introselect") -> Any:
    """a with the kth entries where sorting would put them, numpy's values in numpy's order;
    the gradient is g permuted back (composite: argpartition, take_along_axis)."""
    if axis is None:
        a, axis = ravel(a), 0
    axis = _one_axis(axis, _ndim(a), "partition")
    return take_along_axis(a, argpartition(a, kth, axis, kind), axis)


def select(condlist: Sequence[ArrayLike], choicelist: Sequence[ArrayLike],
           default: ArrayLike = 0) -> Any:
    """The choice of the first condition that holds, else default, entry by entry; the
    conditions get no gradient (composite: nested where)."""
    if len(condlist) != len(choicelist):
        raise ValueError("select: list of cases must be same length as list of conditions")
    if not condlist:
        raise ValueError("select with an empty condition list is not possible")
    result = default
    for condition, choice in reversed(list(zip(condlist, choicelist))):
        result = where(condition, choice, result)
    return result


def linspace(start: ArrayLike, stop: ArrayLike, num: int = 50, endpoint: bool = True,
             retstep: bool = False, dtype: Any = None, axis: int = 0) -> Any:
    """num evenly spaced samples from start to stop (arrays of them along a new axis),
    differentiable in start and stop; numpy's formula start + k (stop - start) / div, the last
    sample stop itself (composite)."""
    num = operator.index(num)
    if num < 0:
        raise ValueError(f"linspace: number of samples, {num}, must be non-negative")
    div = num - 1 if endpoint else num
    kinds = [_dtype(v) if hasattr(v, "dtype") else v for v in (start, stop)]
    dt = np.result_type(*kinds, 1.0)
    delta = stop - start if hasattr(stop, "shape") or hasattr(start, "shape") else (
        np.asarray(stop, dt) - np.asarray(start, dt))
    steps = np.arange(num, dtype=dt).reshape((-1,) + (1,) * _ndim(delta))
    if div > 0:
        step = delta / div
        y = steps * step + start
    else:
        step = np.nan
        y = steps * delta + start
    if endpoint and num > 1:
        last = broadcast_to(stop, (1,) + _shape(y)[1:])
        y = concatenate([y[:-1], astype(last, _dtype(y))], 0)
    if _dtype(y) != dt:
        y = astype(y, dt)
    if axis != 0:
        y = moveaxis(y, 0, axis)
    if dtype is not None:
        if np.dtype(dtype).kind in "iu":
            y = floor(y)
        y = astype(y, dtype)
    return (y, step) if retstep else y


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
    return x[_along(a, picks)]


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


def _size(a: ArrayLike, axis: int | None = None) -> int:
    shape = _shape(a)
    return math.prod(shape) if axis is None else shape[_one_axis(axis, len(shape), "size")]


def _like(make: Any) -> Any:
    """np.zeros_like(t) and its kind: a constant of t's shape and dtype (no gradient), as
    numpy makes it from the plain data."""
    def like(a: ArrayLike, *args: Any, **kwargs: Any) -> np.ndarray:
        return make(np.empty(_shape(a), _dtype(a)), *args, **kwargs)

    like.__name__ = like.__qualname__ = make.__name__
    return like


#: ufuncs that have a function of their own here (np.power: a constant exponent is Pow)
_WRAPPED_UFUNCS = {np.power: power, np.square: square, np.matmul: matmul,
                   np.positive: lambda x: x, np.radians: deg2rad, np.degrees: rad2deg}
#: ufuncs that are one primitive each (the elementwise functions, the comparisons)
UFUNC_PRIMITIVES = {op.ufunc: op for op in P.primitives()
                    if op.ufunc is not None and op.ufunc not in _WRAPPED_UFUNCS}
UFUNCS = {ufunc: _applying(op) for ufunc, op in UFUNC_PRIMITIVES.items()}
UFUNCS.update(_WRAPPED_UFUNCS)

FUNCTIONS = {
    np.sum: sum, np.mean: mean, np.prod: prod, np.max: max, np.min: min, np.amax: max,
    np.amin: min, np.var: var, np.std: std, np.any: any, np.all: all, np.argmax: argmax,
    np.argmin: argmin, np.cumsum: cumsum,
    np.dot: dot, np.einsum: einsum, np.tensordot: tensordot, np.outer: outer, np.inner: inner,
    np.kron: kron, np.cross: cross, np.trace: trace, np.diagonal: diagonal, np.diag: diag,
    np.triu: triu, np.tril: tril,
    np.linalg.norm: norm, np.linalg.solve: solve, np.linalg.inv: inv, np.linalg.det: det,
    np.linalg.slogdet: slogdet,
    np.reshape: reshape, np.ravel: ravel, np.squeeze: squeeze, np.expand_dims: expand_dims,
    np.transpose: transpose, np.swapaxes: swapaxes, np.moveaxis: moveaxis,
    np.rollaxis: rollaxis, np.broadcast_to: broadcast_to, np.concatenate: concatenate,
    np.stack: stack, np.vstack: vstack, np.hstack: hstack, np.column_stack: column_stack,
    np.append: append, np.atleast_1d: atleast_1d, np.atleast_2d: atleast_2d,
    np.atleast_3d: atleast_3d, np.split: split, np.array_split: array_split,
    np.hsplit: hsplit, np.vsplit: vsplit, np.flip: flip, np.flipud: flipud, np.fliplr: fliplr,
    np.rot90: rot90, np.roll: roll, np.diff: diff, np.tile: tile, np.pad: pad,
    np.repeat: repeat, np.take_along_axis: take_along_axis, np.sort: sort,
    np.argsort: argsort, np.partition: partition, np.argpartition: argpartition,
    np.where: where, np.select: select, np.clip: clip, np.nan_to_num: nan_to_num,
    np.linspace: linspace, np.sinc: sinc, np.round: round, np.copy: copy,
    np.shape: _shape, np.ndim: _ndim, np.size: _size,
    np.zeros_like: _like(np.zeros_like), np.ones_like: _like(np.ones_like),
    np.empty_like: _like(np.zeros_like), np.full_like: _like(np.full_like),
}


# ---- numpy's dispatch: what np.f(tensor) calls --------------------------------------------------
@functools.cache
def numpy_name(f: Any) -> str:
    """numpy's public spelling of one of its functions: np.sum, np.linalg.norm."""
    name = getattr(f, "__name__", None) or repr(f)
    for prefix, module in (("np", np), ("np.linalg", np.linalg), ("np.fft", np.fft)):
        if getattr(module, name, None) is f:
            return f"{prefix}.{name}"
    module = getattr(f, "__module__", None) or "numpy"
    public = ".".join(p for p in module.split(".") if not p.startswith("_"))
    return f"{public.replace('numpy', 'np', 1)}.{name}"


#: what to write instead of the numpy functions most often asked for that are left out
_HINTS = {
    "array": "to build an array from Tensors use autograd_lite.stack or concatenate",
    "asarray": "to build an array from Tensors use autograd_lite.stack or concatenate",
    "asanyarray": "to build an array from Tensors use autograd_lite.stack or concatenate",
    "median": "sort and take the middle: np.sort(x, axis)[..., n // 2] (for odd n)",
    "cumprod": "for positive entries, np.exp(np.cumsum(np.log(x)))",
    "svd": "matrix decompositions are not differentiated by autograd_lite",
    "eig": "matrix decompositions are not differentiated by autograd_lite",
    "eigh": "matrix decompositions are not differentiated by autograd_lite",
    "qr": "matrix decompositions are not differentiated by autograd_lite",
    "cholesky": "matrix decompositions are not differentiated by autograd_lite",
    "pinv": "for full column rank, np.linalg.solve(x.T @ x, x.T)",
    "matrix_power": "multiply the matrix with @ k times",
    "nonzero": "a boolean mask does the same with ag.where(mask, x, 0.0)",
    "argwhere": "a boolean mask does the same with ag.where(mask, x, 0.0)",
    "logsumexp": "np.log(np.sum(np.exp(x - m))) + m with m = np.max(x)",
    "ptp": "np.max(x, axis) - np.min(x, axis)",
    "average": "np.sum(w * x, axis) / np.sum(w, axis) (np.mean without weights)",
    "vdot": "np.sum(a * b)",
    "dstack": "np.concatenate([np.atleast_3d(a), np.atleast_3d(b)], axis=2)",
    "cbrt": "np.sign(x) * np.abs(x) ** (1 / 3)",
    "nanmean": "np.sum(np.where(np.isnan(x), 0.0, x)) / np.sum(np.isfinite(x))",
    "nansum": "np.sum(np.where(np.isnan(x), 0.0, x))",
    "isclose": "compare the values, np.isclose(t.data, y) (a comparison has no gradient)",
    "allclose": "compare the values, np.allclose(t.data, y) (a comparison has no gradient)",
    "unique": "np.unique(t.data) gives the values (no gradient)",
    "meshgrid": "broadcast instead: x[None, :] and y[:, None]",
}


def _unsupported_function(name: str) -> str:
    short = name.rsplit(".", 1)[-1]
    hint = f": {_HINTS[short]}" if short in _HINTS else ""
    known = sorted({numpy_name(f) for f in FUNCTIONS} | {f"np.{u.__name__}" for u in UFUNCS})
    return (f"{name} is not supported on autograd_lite Tensors{hint} (differentiable numpy "
            f"functions: {', '.join(known)})")


#: ufunc methods and what to write instead
_UFUNC_METHODS = {
    ("add", "reduce"): "np.sum(x, axis)", ("add", "accumulate"): "np.cumsum(x, axis)",
    ("multiply", "reduce"): "np.prod(x, axis)", ("maximum", "reduce"): "np.max(x, axis)",
    ("minimum", "reduce"): "np.min(x, axis)",
    ("multiply", "outer"): "np.outer(a, b) for vectors, a[..., None] * b in general",
    ("add", "outer"): "a[..., None] + b",
    ("subtract", "outer"): "a[..., None] - b",
}


@functools.cache
def _signature(f: Any) -> inspect.Signature | None:
    try:
        return inspect.signature(f)
    except (TypeError, ValueError):
        return None


def apply_ufunc(ufunc: np.ufunc, method: str, inputs: tuple, kwargs: dict) -> Any:
    """np.<ufunc>(...) with a Tensor or Dual operand: our function for it, or a TypeError that
    names what is left out (the ufunc, a method like np.add.reduce, a keyword like out=)."""
    name = f"np.{ufunc.__name__}"
    if method != "__call__":
        instead = _UFUNC_METHODS.get((ufunc.__name__, method))
        raise TypeError(f"{name}.{method} is not supported on autograd_lite Tensors; "
                        + (f"write {instead}" if instead else
                           f"call {name}(...) itself, or the functions that reduce "
                           "(np.sum, np.prod, np.max, np.min, np.cumsum)"))
    function = UFUNCS.get(ufunc)
    if function is None:
        raise TypeError(_unsupported_function(name))
    for key, value in kwargs.items():
        if key == "out" and builtins.all(v is None for v in value):
            continue
        if key != "order" and not _changes_nothing(key, value):  # order: only the layout
            raise TypeError(unsupported_keyword(name, key, value))
    return function(*inputs)


@functools.cache
def _direct_calls(func: Any, function: Any) -> tuple[float, frozenset[str]]:
    """(n, keywords): numpy's func and our function read their first n positional arguments
    alike (the same parameters in the same places) and take these keywords by the same names;
    a call within both needs no binding (np.sum(t, 0), np.clip(t, 0, 1), np.einsum(...))."""
    theirs, ours = _signature(func), _signature(function)
    if theirs is None or ours is None:
        return 0, frozenset()
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    a, b = list(theirs.parameters.values()), list(ours.parameters.values())
    if a and b and a[0].kind is b[0].kind is inspect.Parameter.VAR_POSITIONAL:
        n = math.inf
    else:
        n = 1
        while (n < builtins.min(len(a), len(b)) and a[n].kind in positional
               and b[n].kind in positional and a[n].name == b[n].name):
            n += 1
    keywords = {p.name for p in a if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    keywords &= {p.name for p in b if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    return n, frozenset(keywords)


def apply_function(func: Any, args: tuple, kwargs: dict) -> Any:
    """np.<func>(...) with a Tensor or Dual argument: numpy's own signature binds the arguments
    (numpy's error if it cannot), numpy's keywords that ours lacks are refused by name unless
    they change nothing, and ours is called with the rest."""
    function = FUNCTIONS.get(func)
    if function is not None:
        n, keywords = _direct_calls(func, function)
        if len(args) <= n and (not kwargs or kwargs.keys() <= keywords):
            return function(*args, **kwargs)  # read alike by both: nothing to bind
    name = numpy_name(func)
    if function is None:
        raise TypeError(_unsupported_function(name))
    theirs, ours = _signature(func), _signature(function)
    if theirs is None or ours is None:
        return function(*args, **kwargs)
    try:
        bound = theirs.bind(*args, **kwargs)
    except TypeError as e:
        raise TypeError(f"{name}: {e}") from None
    positional: list = []
    keywords: dict = {}
    takes_any = builtins.any(p.kind is p.VAR_KEYWORD for p in ours.parameters.values())
    for k, (key, value) in enumerate(bound.arguments.items()):
        parameter = theirs.parameters[key]
        if parameter.kind is parameter.VAR_POSITIONAL:
            positional.extend(value)
            continue
        if k == 0 or parameter.kind is parameter.POSITIONAL_ONLY:
            positional.append(value)
            continue
        items = value.items() if parameter.kind is parameter.VAR_KEYWORD else [(key, value)]
        for key, value in items:
            if key in ours.parameters or takes_any:
                keywords[key] = value
            elif not _changes_nothing(key, value, theirs.parameters.get(key, parameter).default):
                raise TypeError(unsupported_keyword(name, key, value))
    return function(*positional, **keywords)


def numpy_method(function: Any) -> Any:
    """The ndarray method that is numpy's `function` with the array first (t.std(ddof=1) is
    np.std(t, ddof=1)), through numpy's signature as np.<function>(t) is."""
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        return apply_function(function, (self, *args), kwargs)

    method.__name__ = method.__qualname__ = function.__name__
    method.__doc__ = f"{numpy_name(function)}(self, ...): {FUNCTIONS[function].__doc__}"
    return method


#: ndarray attributes a Tensor leaves out, and what to write instead
_ATTRIBUTES_INSTEAD = {
    "sort": "it sorts in place, which Tensors never do: use np.sort(t) (ag.sort), a new "
            "array with a gradient",
    "partition": "it partitions in place, which Tensors never do: use np.partition(t, kth)",
    "nonzero": "its result depends on the values: use a boolean mask, ag.where(mask, t, 0.0), "
               "or np.nonzero(t.data) for indices taken as constants",
    "cumprod": "for positive entries write np.exp(np.cumsum(np.log(t)))",
    "tolist": "t.data.tolist() gives the values (no gradient)",
    "take": "index instead: t[indices], or np.take_along_axis(t, indices, axis)",
    "conj": "autograd_lite works with real numbers: t is its own conjugate",
    "conjugate": "autograd_lite works with real numbers: t is its own conjugate",
    "real": "autograd_lite works with real numbers: t is its own real part",
    "mT": "np.swapaxes(t, -1, -2)",
}
_IN_PLACE = ("fill", "put", "resize", "itemset", "setfield", "setflags", "byteswap")


def missing_attribute(obj: Any, name: str) -> Any:
    """`__getattr__` of Tensors and Duals (called only when the ordinary lookup failed): a
    slot or property of the class raises its own AttributeError again; an ndarray attribute that
    is left out gets an AttributeError that names it and says what to write instead."""
    cls = type(obj)
    if builtins.any(name in vars(k) for k in cls.__mro__):
        return object.__getattribute__(obj, name)  # its own error (an unset slot, a property)
    what = f"'{cls.__name__}' object has no attribute '{name}'"
    if name.startswith("__") or not hasattr(np.ndarray, name):
        raise AttributeError(what)
    instead = _ATTRIBUTES_INSTEAD.get(name) or (
        "it changes the array in place, which Tensors never do: build a new array (ag.where, "
        "ag.concatenate)" if name in _IN_PLACE else
        f"autograd_lite leaves this ndarray attribute out; t.data.{name} is the plain array's "
        "(no gradient)")
    raise AttributeError(f"{what}: {instead}")
