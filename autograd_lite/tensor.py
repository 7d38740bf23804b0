"""The Tensor type: an ndarray plus the node that produced it, and the functions that record.

`apply` is the one place where an operation meets the tape: it unwraps Tensor operands, runs
the primitive's forward on plain arrays, and, if any operand needs a gradient (and recording
is on), creates a `Node` holding exactly the values named in the primitive's `saves`.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from . import engine
from . import ops as P
from .engine import LeafNode, Node
from .errors import DTypeError, ShapeError

ArrayLike = Any  # a Tensor, an ndarray, a Python number or a (nested) list of numbers

_NUMERIC_KINDS = frozenset("fiub")
_new = object.__new__


def _make(data: np.ndarray, node: Node | None) -> Tensor:
    t = _new(Tensor)
    t.data = data
    t.grad = None
    t._node = node
    return t


def _describe(x: Any) -> str:
    if isinstance(x, np.ndarray | np.generic):
        return f"{x.dtype}{list(x.shape)}"
    return type(x).__name__


def _as_operand(x: Any, op_name: str) -> Any:
    """A non-Tensor operand as numpy can use it; non-numeric data is refused here."""
    if type(x) is float or (type(x) is np.ndarray and x.dtype.kind in _NUMERIC_KINDS):
        return x
    if isinstance(x, float | int):
        return x
    if type(x) is _forward.Dual:
        raise _ForwardModeOperand  # `apply` hands the whole operation to forward mode
    arr = np.asarray(x)
    if arr.dtype.kind not in _NUMERIC_KINDS:
        raise DTypeError(f"{op_name}: operand of dtype {arr.dtype} is not real numeric "
                         f"(got {type(x).__name__}); autograd_lite works with real numbers")
    return arr


class _ForwardModeOperand(Exception):
    """Raised by `_as_operand` for a forward-mode `Dual`; never escapes `apply`."""


def run_forward(op: type[P.Primitive], arrays: list, params: dict) -> np.ndarray:
    """op.forward on plain arrays; numpy's shape/dtype errors come back naming the op."""
    try:
        out = op.forward(*arrays, **params) if params else op.forward(*arrays)
    except (ShapeError, DTypeError):
        raise
    except IndexError as e:
        raise IndexError(f"{op.name}: index {params.get('index')!r} is invalid for "
                         f"{_describe(arrays[0])}: {e}") from None
    except (ValueError, TypeError) as e:
        operands = ", ".join(_describe(a) for a in arrays)
        kind = ShapeError if isinstance(e, ValueError) else DTypeError
        raise kind(f"{op.name}: cannot combine operands {operands}: {e}") from None
    return out if type(out) is np.ndarray else np.asarray(out)


def apply(op: type[P.Primitive], *args: Any, **params: Any) -> Tensor:
    """Run `op` on the operands' data; record a node if any operand requires grad.

    An operand that is a forward-mode `Dual` (see `forward.py`) sends the operation to forward
    mode instead; the test for it sits on `_as_operand`'s slow path, so the tape pays nothing.
    """
    arrays = []
    parents = []
    try:
        for x in args:  # a plain loop: cheaper than two comprehensions for one or two operands
            if type(x) is Tensor:
                arrays.append(x.data)
                parents.append(x._node)
            else:
                arrays.append(_as_operand(x, op.name))
                parents.append(None)
    except _ForwardModeOperand:
        return _forward.apply(op, args, params)
    out = run_forward(op, arrays, params)
    if not engine._grad_enabled or parents.count(None) == len(parents):
        return _make(out, None)
    return _make(out, Node(op, tuple(parents), op.pick_saved(arrays, out), params or None,
                           out.shape))


class ArrayOperators:
    """The array surface shared by `Tensor` and forward mode's `Dual`: operators, methods and
    numpy's dispatch hooks, each recording one primitive through `apply` (which hands an
    operation with a `Dual` operand to forward mode)."""

    __slots__ = ()

    def _numbers(self) -> np.ndarray:
        """The plain values (a Tensor's data, a Dual's primal)."""
        raise NotImplementedError

    @property
    def T(self) -> Any:
        return self.transpose()

    def __len__(self) -> int:
        return len(self._numbers())

    def __iter__(self):
        return (self[i] for i in range(len(self)))


    # ---- operators ---------------------------------------------------------------------------
    def __add__(self, other: ArrayLike) -> Any: return apply(P.Add, self, other)
    def __radd__(self, other: ArrayLike) -> Any: return apply(P.Add, other, self)
    def __sub__(self, other: ArrayLike) -> Any: return apply(P.Sub, self, other)
    def __rsub__(self, other: ArrayLike) -> Any: return apply(P.Sub, other, self)
    def __mul__(self, other: ArrayLike) -> Any: return apply(P.Mul, self, other)
    def __rmul__(self, other: ArrayLike) -> Any: return apply(P.Mul, other, self)
    def __truediv__(self, other: ArrayLike) -> Any: return apply(P.Div, self, other)
    def __rtruediv__(self, other: ArrayLike) -> Any: return apply(P.Div, other, self)
    def __matmul__(self, other: ArrayLike) -> Any: return matmul(self, other)
    def __rmatmul__(self, other: ArrayLike) -> Any: return matmul(other, self)
    def __neg__(self) -> Any: return apply(P.Neg, self)
    def __pos__(self) -> Any: return self
    def __pow__(self, p: float) -> Any: return power(self, p)

    def __rpow__(self, base: float) -> Any:
        """base ** x = exp(x log(base)) for a constant base > 0."""
        if not isinstance(base, numbers.Real) or base <= 0:
            raise DTypeError(f"pow: constant ** {type(self).__name__} needs a positive real base, "
                             f"got {base!r}")
        return exp(self * float(np.log(base)))

    # comparisons give plain boolean arrays: they are constants for differentiation
    def __lt__(self, other: ArrayLike) -> np.ndarray: return self._numbers() < _data(other)
    def __le__(self, other: ArrayLike) -> np.ndarray: return self._numbers() <= _data(other)
    def __gt__(self, other: ArrayLike) -> np.ndarray: return self._numbers() > _data(other)
    def __ge__(self, other: ArrayLike) -> np.ndarray: return self._numbers() >= _data(other)

    def __getitem__(self, index: Any) -> Any:
        return apply(P.GetItem, self, index=_plain_index(index), shape=self.shape)

    # ---- methods ---------------------------------------------------------------------------
    def sum(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Any:
        return sum(self, axis, keepdims)

    def mean(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Any:
        return mean(self, axis, keepdims)

    def reshape(self, *shape: Any) -> Any:
        return reshape(self, shape[0] if len(shape) == 1 else shape)

    def transpose(self, *axes: Any) -> Any:
        return transpose(self, (axes[0] if len(axes) == 1 else axes) or None)

    def tanh(self) -> Any: return apply(P.Tanh, self)
    def exp(self) -> Any: return apply(P.Exp, self)
    def log(self) -> Any: return apply(P.Log, self)
    def sigmoid(self) -> Any: return apply(P.Sigmoid, self)
    def relu(self) -> Any: return apply(P.Relu, self)

    def scatter_add(self, index: Any, shape: tuple[int, ...]) -> Any:
        """zeros(shape) with self added at `index` (the adjoint of indexing)."""
        return apply(P.ScatterAdd, self, index=_plain_index(index), shape=tuple(shape))

    # ---- numpy interoperability (NEP 13 / NEP 18) ------------------------------------------
    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        rule = _UFUNCS.get(ufunc)
        if rule is None or method != "__call__" or kwargs:
            return numpy_dispatch.unsupported_ufunc(ufunc, method, kwargs)
        return rule(*inputs)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        return numpy_dispatch.call_function(func, args, kwargs)


class Tensor(ArrayOperators):
    """An ndarray that remembers how it was computed, so gradients can flow back through it.

    `Tensor(data, requires_grad=False)`: Python numbers and lists become float64; an ndarray
    keeps its dtype and shares its memory (like `torch.as_tensor`). Only floating data may
    require a gradient.

    Gradients accumulate: each `backward()` adds into the `.grad` of every leaf it reaches,
    as in PyTorch. Call `zero_grad()` (or set `.grad = None`) between steps.
    """

    __slots__ = ("data", "grad", "_node", "__weakref__")
    __array_priority__ = 1000  # make ndarray binary operators defer to Tensor

    def __init__(self, data: ArrayLike, requires_grad: bool = False) -> None:
        if isinstance(data, Tensor):
            data = data.data
        if isinstance(data, np.ndarray | np.generic):
            arr = np.asarray(data)
        else:
            try:
                arr = np.asarray(data)
            except (ValueError, TypeError) as e:
                raise DTypeError(
                    f"Tensor: cannot make an array from {type(data).__name__}: {e}") from None
            if arr.dtype.kind in "iub":
                arr = arr.astype(np.float64)
        if arr.dtype.kind not in _NUMERIC_KINDS:
            raise DTypeError(f"Tensor: data of dtype {arr.dtype} is not real numeric "
                             f"(shape {arr.shape}); use float64 or float32 numbers")
        self.data = arr
        self.grad: np.ndarray | None = None
        self._node: Node | None = None
        if requires_grad:
            self.requires_grad = True

    # ---- torch-like attributes -------------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        return self._node is not None

    @requires_grad.setter
    def requires_grad(self, flag: bool) -> None:
        if self._node is not None and self._node.op is not None:
            raise RuntimeError("requires_grad can only be changed on a leaf tensor; "
                               "use .detach() to cut a computed tensor from its graph")
        if flag and self.data.dtype.kind != "f":
            raise DTypeError(f"requires_grad=True needs floating data; got {self.data.dtype} "
                             f"with shape {self.data.shape} (convert with .astype(float))")
        self._node = LeafNode(self) if flag else None

    @property
    def is_leaf(self) -> bool:
        return self._node is None or self._node.op is None

    @property
    def grad_fn(self) -> str | None:
        """Name of the operation that produced this tensor (None for leaves)."""
        return None if self.is_leaf else self._node.op.name

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    def __repr__(self) -> str:
        body = np.array2string(self.data, prefix="Tensor(", separator=", ")
        extra = f", grad_fn=<{self.grad_fn}>" if self.grad_fn else (
            ", requires_grad=True" if self.requires_grad else "")
        return f"Tensor({body}{extra})"

    def item(self) -> float:
        if self.data.size != 1:
            raise ShapeError(f"item(): needs a tensor with one element, got shape {self.shape}")
        return self.data.item()

    def __float__(self) -> float:
        return float(self.item())

    def numpy(self) -> np.ndarray:
        """The underlying array (shared, not copied)."""
        return self.data

    def detach(self) -> Tensor:
        """The same data, cut from the graph (shares memory)."""
        return _make(self.data, None)

    def zero_grad(self) -> None:
        """Forget the accumulated gradient (the next backward starts from zero)."""
        self.grad = None

    def backward(self, grad: ArrayLike | None = None, retain_graph: bool | None = None,
                 create_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf), weighted by `grad`, into every leaf's `.grad`.

        `grad` may be omitted only for a one-element tensor (it defaults to 1). The saved
        values are freed afterwards unless `retain_graph=True`.

        `create_graph=True` records the backward pass itself, for gradients of gradients: every
        reached leaf's `.grad` becomes a Tensor that carries a graph (as in PyTorch), so
        `x.grad` can be differentiated again (its numbers are `x.grad.data`). `retain_graph`
        then defaults to True, since differentiating the gradient walks the forward graph again.
        """
        if retain_graph is None:
            retain_graph = create_graph
        if self._node is None:
            raise RuntimeError("backward(): this tensor does not require grad (no leaf it was "
                               "computed from has requires_grad=True, or it was made in no_grad)")
        if grad is None:
            if self.data.size != 1:
                raise ShapeError(
                    f"backward(): grad can be implied only for a one-element output; this "
                    f"tensor has shape {self.shape}. Pass grad= an array of that shape.")
            g = np.ones_like(self.data)
        else:
            g = np.asarray(grad.data if isinstance(grad, Tensor) else grad)
            if g.dtype.kind not in "fiu":
                raise DTypeError(f"backward(): grad has dtype {g.dtype}; it must be real numeric")
            if g.shape != self.shape:
                raise ShapeError(f"backward(): grad has shape {g.shape} but the tensor has shape "
                                 f"{self.shape}; they must be equal")
            g = g.astype(np.result_type(g.dtype, self.dtype), copy=False)
            if create_graph and isinstance(grad, Tensor):
                g = grad  # keep the seed's own graph: the result may be differentiated w.r.t. it
        engine.backward(self._node, g, retain_graph, create_graph)

    def _numbers(self) -> np.ndarray:
        return self.data

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        if self._node is not None:
            raise TypeError("converting a Tensor that requires grad to an ndarray would drop "
                            "its graph; use .detach().numpy() (or .data) if that is intended")
        return self.data if dtype is None else self.data.astype(dtype)


def _data(x: Any) -> Any:
    """The plain values of a Tensor or Dual; anything else as it is."""
    if type(x) is Tensor:
        return x.data
    return x._numbers() if isinstance(x, ArrayOperators) else x


def _shape(x: Any) -> tuple[int, ...]:
    shape = getattr(_data(x), "shape", None)
    return np.shape(x) if shape is None else shape


def _plain_index(index: Any) -> Any:
    if isinstance(index, tuple):
        return tuple(_data(i) for i in index)
    return _data(index)


def _axis_tuple(axis: Any) -> Any:
    return tuple(axis) if isinstance(axis, list) else axis


# ---- public functions (each records one primitive) --------------------------------------------
def _as_tensor(x: ArrayLike) -> Tensor:
    if isinstance(x, Tensor):
        return x
    return x if type(x) is _forward.Dual else Tensor(x)  # a Dual goes on to `apply`


def matmul(a: ArrayLike, b: ArrayLike) -> Tensor:
    """a @ b for 1-D and 2-D operands."""
    sa, sb = _shape(a), _shape(b)
    if not (1 <= len(sa) <= 2 and 1 <= len(sb) <= 2):
        raise ShapeError(f"matmul: operands must be 1-D or 2-D, got shapes {sa} and {sb}")
    if sa[-1] != sb[0]:
        raise ShapeError(f"matmul: shapes {sa} and {sb} are not aligned: "
                         f"{sa[-1]} (last axis of the first) != {sb[0]} (first axis of the second)")
    return apply(P.MatMul, a, b)


def power(x: ArrayLike, p: float) -> Tensor:
    """x ** p for a constant exponent p."""
    if type(p) is not float and type(p) is not int and (isinstance(p, Tensor) or np.ndim(p) != 0):
        raise DTypeError("pow: the exponent must be a constant number; for a Tensor exponent "
                         "write exp(p * log(x))")
    return apply(P.Pow, x, p=p)


def sum(x: ArrayLike, axis: int | tuple[int, ...] | None = None,  # noqa: A001
        keepdims: bool = False) -> Tensor:
    """Sum over `axis` (all axes by default)."""
    x = _as_tensor(x)
    return apply(P.Sum, x, axis=_axis_tuple(axis), keepdims=keepdims, shape=x.shape)


def mean(x: ArrayLike, axis: int | tuple[int, ...] | None = None,
         keepdims: bool = False) -> Tensor:
    """Mean over `axis` (all axes by default)."""
    x = _as_tensor(x)
    return apply(P.Mean, x, axis=_axis_tuple(axis), keepdims=keepdims, shape=x.shape)


def reshape(x: ArrayLike, shape: Any) -> Tensor:
    """The same entries in a new shape."""
    x = _as_tensor(x)
    return apply(P.Reshape, x, new_shape=shape, shape=x.shape)


def transpose(x: ArrayLike, axes: Any = None) -> Tensor:
    """Permute axes (reverse them by default)."""
    return apply(P.Transpose, _as_tensor(x), axes=None if axes is None else tuple(axes))


def broadcast_to(x: ArrayLike, shape: Any) -> Tensor:
    """A broadcast view of x with the given shape."""
    return apply(P.BroadcastTo, _as_tensor(x), new_shape=tuple(shape))


def tanh(x: ArrayLike) -> Tensor:
    """Hyperbolic tangent."""
    return apply(P.Tanh, x)


def exp(x: ArrayLike) -> Tensor:
    """Exponential."""
    return apply(P.Exp, x)


def log(x: ArrayLike) -> Tensor:
    """Natural logarithm."""
    return apply(P.Log, x)


def sigmoid(x: ArrayLike) -> Tensor:
    """Logistic function 1 / (1 + exp(-x))."""
    return apply(P.Sigmoid, x)


def relu(x: ArrayLike) -> Tensor:
    """max(x, 0)."""
    return apply(P.Relu, x)


def mse(prediction: ArrayLike, target: ArrayLike) -> Tensor:
    """mean((prediction - target)^2) as one node."""
    return apply(P.MSE, prediction, target)


from . import forward as _forward  # noqa: E402  (forward mode builds on the functions above)
from . import numpy_dispatch  # noqa: E402  (its tables refer to the functions above)

_UFUNCS = numpy_dispatch.UFUNCS
