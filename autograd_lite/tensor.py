"""The Tensor, an ndarray plus the node that recorded it; `record`, where an op meets the tape.

`record(op, *operands)` unwraps Tensor operands, runs the primitive's forward on plain arrays
and, if an operand needs a gradient (and recording is on), creates a `Node` that holds exactly
the values named in the primitive's `saves`. The operators and methods of `ArrayOperators` are
the array surface that Tensor shares with forward mode's `Dual`; each applies one primitive
through its type's `apply_primitive` (for Tensor: `record`).
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from . import engine
from . import functions as F
from . import ops as P
from .engine import LeafNode, Node
from .errors import DTypeError, ShapeError, TraceError

ArrayLike = Any  # a Tensor, an ndarray, a Python number or a (nested) list of numbers

_REAL_KINDS = frozenset("fiub")
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


def _constant(x: Any, op: type[P.Primitive]) -> Any:
    """A non-Tensor operand as numpy can use it; data that is not real numeric is refused."""
    if isinstance(x, float | int):
        return x
    arr = np.asarray(x)
    if arr.dtype.kind not in _REAL_KINDS:
        raise DTypeError(f"{op.name}: operand of dtype {arr.dtype} is not real numeric "
                         f"(got {type(x).__name__}); autograd_lite works with real numbers")
    return arr


def run_forward(op: type[P.Primitive], arrays: list, params: dict) -> np.ndarray:
    """op's forward on plain arrays; numpy's shape and index errors come back naming the op."""
    try:
        out = op.eager_forward(*arrays, **params) if params else op.eager_forward(*arrays)
    except (IndexError, ValueError) as e:
        raise forward_error(op, arrays, params, e) from None
    return out if type(out) is np.ndarray else np.asarray(out)


def forward_error(op: type[P.Primitive], arrays: list, params: dict,
                  e: Exception) -> Exception:
    """The error to raise for numpy's error `e` in op's forward: naming the op and operands."""
    if isinstance(e, ShapeError | DTypeError | TraceError | np.linalg.LinAlgError):
        return e  # ours already (LinAlgError: the op's forward named itself and its operands)
    if isinstance(e, IndexError):
        return IndexError(f"{op.name}: index {params.get('template')!r} is invalid for "
                          f"{_describe(arrays[0])}: {e}")
    operands = ", ".join(_describe(a) for a in arrays)
    if any(w in str(e) for w in ("broadcast", "shape", "dimension", "size")):
        return ShapeError(f"{op.name}: cannot combine operands {operands}: {e}")
    return ValueError(f"{op.name} of {operands}: {e}")


def record(op: type[P.Primitive], *args: Any, **params: Any) -> Any:
    """Run `op` on the operands' data; record a node if an operand requires grad.

    An operand of a type above the tape (a forward-mode `Dual`) takes the whole operation
    instead, through its own `apply_primitive`. (The eager tape's hot path: `run_forward` and
    `_make` are written out here, one Python call fewer each per operation.)
    """
    arrays = []
    parents = []
    for x in args:  # a plain loop: cheaper than comprehensions for one or two operands
        if type(x) is Tensor:
            arrays.append(x.data)
            parents.append(x._node)
        elif type(x) is float or (type(x) is np.ndarray and x.dtype.kind in _REAL_KINDS):
            arrays.append(x)
            parents.append(None)
        else:
            box = getattr(type(x), "apply_primitive", None)
            if box is not None:
                return box(op, *args, **params)
            arrays.append(_constant(x, op))
            parents.append(None)
    try:
        out = op.eager_forward(*arrays, **params) if params else op.eager_forward(*arrays)
    except (IndexError, ValueError) as e:
        raise forward_error(op, arrays, params, e) from None
    if type(out) is not np.ndarray:
        out = np.asarray(out)
    t = _new(Tensor)
    t.data, t.grad = out, None
    if parents.count(None) == len(parents) or not (engine.grad_enabled and op.differentiable):
        t._node = None
    else:
        t._node = node = _new(Node)  # Node(...) written out: no __init__ frame per operation
        node.seq, node.op, node.parents = engine.next_seq(), op, tuple(parents)
        node.saved, node.params, node.shape = op.pick_saved(arrays, out), params or None, out.shape
    return t


def _operator(apply: Any, op: type[P.Primitive], reflected: bool) -> Any:
    """`self <op> other` (or `other <op> self`) as one call of `apply` (fast: no lookups)."""
    if reflected:
        return lambda self, other: apply(op, other, self)
    return lambda self, other: apply(op, self, other)


class ArrayOperators:
    """The array surface shared by `Tensor` and forward mode's `Dual`."""

    __slots__ = ()
    __array_priority__ = 1000  # ndarray's binary operators defer to ours
    __hash__ = None  # == is elementwise, as for ndarrays

    #: operator -> the primitive it applies; each subclass gets them bound to its own
    #: `apply_primitive` (Tensor: record, Dual: forward mode), reflected ones with swapped operands.
    #: Comparisons are elementwise and carry no gradient.
    OPERATORS = {"add": P.Add, "sub": P.Sub, "mul": P.Mul, "truediv": P.Div,
                 "mod": P.Remainder}
    COMPARISONS = {"__lt__": P.Less, "__le__": P.LessEqual, "__gt__": P.Greater,
                   "__ge__": P.GreaterEqual, "__eq__": P.Equal, "__ne__": P.NotEqual}

    #: the attribute holding the values, whose shape, ndim, size and dtype the object reports
    VALUES = "data"

    def __init_subclass__(cls) -> None:
        for name in ("shape", "ndim", "size", "dtype"):  # C-level getters: cls.VALUES.name
            setattr(cls, name, property(operator.attrgetter(f"{cls.VALUES}.{name}"),
                                        doc=f"The {name} of the values, as numpy's."))
        apply = cls.__dict__["apply_primitive"].__func__
        for name, op in cls.OPERATORS.items():
            setattr(cls, f"__{name}__", _operator(apply, op, reflected=False))
            setattr(cls, f"__r{name}__", _operator(apply, op, reflected=True))
        for name, op in cls.COMPARISONS.items():
            setattr(cls, name, _operator(apply, op, reflected=False))
        cls.__neg__ = lambda self: apply(P.Neg, self)
        super().__init_subclass__()

    def __pos__(self) -> Any: return self
    def __abs__(self) -> Any: return F.abs(self)
    def __matmul__(self, other: ArrayLike) -> Any: return F.matmul(self, other)
    def __rmatmul__(self, other: ArrayLike) -> Any: return F.matmul(other, self)
    # x ** 2, x[k], x[a:b], x.sum(), x.mean(): the commonest spellings apply their primitive
    # directly (nothing to check), the others go through the checking functions
    def __pow__(self, p: ArrayLike) -> Any:
        if type(p) is int or type(p) is float:
            return self.apply_primitive(P.Pow, self, p=p)
        return F.power(self, p)

    def __rpow__(self, base: ArrayLike) -> Any: return F.power(base, self)

    def __getitem__(self, index: Any) -> Any:
        if type(index) is int or type(index) is slice:
            return self.apply_primitive(P.Getitem, self, template=(index,), shape=self.shape)
        return F.getitem(self, index)

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of a 0-d array")
        return self.shape[0]

    def __iter__(self) -> Any: return (self[i] for i in range(len(self)))

    @property
    def T(self) -> Any:
        return F.transpose(self)

    def sum(self, axis: Any = None, keepdims: bool = False) -> Any:
        if axis is None and keepdims is False:
            return self.apply_primitive(P.Sum, self, axis=None, keepdims=False, shape=self.shape)
        return F.sum(self, axis, keepdims)

    def mean(self, axis: Any = None, keepdims: bool = False) -> Any:
        if axis is None and keepdims is False:
            return self.apply_primitive(P.Mean, self, axis=None, keepdims=False, shape=self.shape)
        return F.mean(self, axis, keepdims)

    def prod(self, axis: Any = None, keepdims: bool = False) -> Any:
        return F.prod(self, axis, keepdims)

    def max(self, axis: Any = None, keepdims: bool = False) -> Any:
        return F.max(self, axis, keepdims)

    def min(self, axis: Any = None, keepdims: bool = False) -> Any:
        return F.min(self, axis, keepdims)

    def cumsum(self, axis: int | None = None) -> Any:
        return F.cumsum(self, axis)

    def reshape(self, *shape: Any) -> Any:
        return F.reshape(self, shape[0] if len(shape) == 1 else shape)

    def transpose(self, *axes: Any) -> Any:
        axes = axes[0] if len(axes) == 1 else axes  # t.transpose((1, 0)) or t.transpose(1, 0)
        return F.transpose(self, None if axes == () else axes)

    def ravel(self) -> Any: return F.ravel(self)
    def flatten(self) -> Any: return F.ravel(self)
    def squeeze(self, axis: Any = None) -> Any: return F.squeeze(self, axis)
    def astype(self, dtype: Any) -> Any: return F.astype(self, dtype)
    def tanh(self) -> Any: return F.tanh(self)
    def exp(self) -> Any: return F.exp(self)
    def log(self) -> Any: return F.log(self)
    def sigmoid(self) -> Any: return F.sigmoid(self)
    def relu(self) -> Any: return F.relu(self)

    # ndarray's other methods: numpy's function with the array first (t.std(ddof=1) is
    # np.std(t, ddof=1)), numpy's keywords refused by name where autograd_lite leaves them out
    std, var, clip = F.numpy_method(np.std), F.numpy_method(np.var), F.numpy_method(np.clip)
    dot, trace = F.numpy_method(np.dot), F.numpy_method(np.trace)
    diagonal, swapaxes = F.numpy_method(np.diagonal), F.numpy_method(np.swapaxes)
    repeat, copy = F.numpy_method(np.repeat), F.numpy_method(np.copy)
    # piecewise constant: no gradient flows (argmax, argmin, argsort give integers)
    round, any, all = F.numpy_method(np.round), F.numpy_method(np.any), F.numpy_method(np.all)
    argmax, argmin = F.numpy_method(np.argmax), F.numpy_method(np.argmin)
    argsort = F.numpy_method(np.argsort)

    def __getattr__(self, name: str) -> Any:
        """Only for names the class does not have: an ndarray attribute left out is named, with
        what to write instead (an unset slot or a failing property raises its own error)."""
        return F.missing_attribute(self, name)

    # ---- numpy interoperability (NEP 13 / NEP 18) ------------------------------------------
    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        op = F.UFUNC_PRIMITIVES.get(ufunc)
        if op is not None and method == "__call__" and not kwargs:
            return self.apply_primitive(op, *inputs)
        return F.apply_ufunc(ufunc, method, inputs, kwargs)  # or a TypeError saying what's left

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        return F.apply_function(func, args, kwargs)  # or a TypeError saying what is left out


class Tensor(ArrayOperators):
    """An ndarray that remembers how it was computed, so that gradients can flow back through it.

    `Tensor(data, requires_grad=False)` copies `data` (like `torch.tensor` and `np.array`), so
    that later changes to the caller's array cannot change a recorded graph. Python numbers and
    lists become float64; an ndarray keeps its dtype (float32 stays float32). Only floating data
    may require a gradient.

    Gradients accumulate: each `backward()` adds into the `.grad` of every leaf it reaches, as in
    PyTorch. Call `zero_grad()` (or set `.grad = None`) between steps.
    """

    __slots__ = ("data", "grad", "_node", "__weakref__")
    apply_primitive = staticmethod(record)

    def __new__(cls, data: ArrayLike = None, requires_grad: bool = False) -> Tensor:
        if cls is Tensor and isinstance(data, Tensor) and type(data) is not Tensor:
            # a subclass copies its own way (a value being compiled stays traced)
            return data._constant_copy(requires_grad)
        return object.__new__(cls)

    def __init__(self, data: ArrayLike, requires_grad: bool = False) -> None:
        if isinstance(data, Tensor):
            data = data.data
        if isinstance(data, np.ndarray | np.generic):
            arr = np.array(data)
        else:
            try:
                arr = np.array(data)
            except (ValueError, TypeError) as e:
                raise DTypeError(
                    f"Tensor: cannot make an array from {type(data).__name__}: {e}") from None
            if arr.dtype.kind in "iub":
                arr = arr.astype(np.float64)
        if arr.dtype.kind not in _REAL_KINDS:
            raise DTypeError(f"Tensor: data of dtype {arr.dtype} is not real numeric "
                             f"(shape {arr.shape}); use float64 or float32 numbers")
        self.data = arr
        self.grad: Any = None
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

    def __repr__(self) -> str:
        body = np.array2string(self.data, prefix="Tensor(", separator=", ")
        extra = f", grad_fn=<{self.grad_fn}>" if self.grad_fn else (
            ", requires_grad=True" if self.requires_grad else "")
        return f"Tensor({body}{extra})"

    def item(self) -> Any:
        if self.data.size != 1:
            raise ShapeError(f"item(): needs a tensor with one element, got shape {self.shape}")
        return self.data.item()

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __bool__(self) -> bool:
        return bool(self.data)

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

        `grad` may be omitted only for a one-element tensor (it defaults to 1). The saved values
        are freed afterwards unless `retain_graph=True`. `create_graph=True` records the backward
        pass itself: every reached leaf's `.grad` becomes a Tensor with a graph (as in PyTorch),
        which can be differentiated again; `retain_graph` then defaults to True.
        """
        if retain_graph is None:
            retain_graph = create_graph
        if self._node is None:
            raise RuntimeError("backward(): this tensor does not require grad (no leaf it was "
                               "computed from has requires_grad=True, or it was made in no_grad)")
        seed = self._seed(grad)
        if create_graph:
            seed = grad if isinstance(grad, Tensor) else constant(seed)
            engine.walk(self._node, seed, _accumulate_recorded, retain_graph, lift=_lift)
        else:
            engine.walk(self._node, seed, engine.accumulate_into_leaf, retain_graph)

    def _seed(self, grad: ArrayLike | None) -> np.ndarray:
        if grad is None:
            if self.data.size != 1:
                raise ShapeError(
                    f"backward(): grad can be implied only for a one-element output; this "
                    f"tensor has shape {self.shape}. Pass grad= an array of that shape.")
            data = self.data  # (np.ones_like costs five np.arrays)
            return np.array(1.0, data.dtype) if not data.shape else np.ones(data.shape, data.dtype)
        g = np.asarray(grad.data if isinstance(grad, Tensor) else grad)
        if g.dtype.kind not in "fiu":
            raise DTypeError(f"backward(): grad has dtype {g.dtype}; it must be real numeric")
        if g.shape != self.shape:
            raise ShapeError(f"backward(): grad has shape {g.shape} but the tensor has shape "
                             f"{self.shape}; they must be equal")
        return g.astype(np.result_type(g.dtype, self.dtype), copy=False)

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        if self._node is not None:
            raise TypeError("converting a Tensor that requires grad to an ndarray would drop "
                            "its graph; use .detach().numpy() (or .data) if that is intended, "
                            "and autograd_lite.stack or concatenate to build an array from "
                            "Tensors")
        return self.data if dtype is None else self.data.astype(dtype)


# ---- recorded backward passes ------------------------------------------------------------------
def constant(x: Any) -> Tensor:
    """x as a Tensor: itself if it is one, else a constant (no node) of its array."""
    return x if isinstance(x, Tensor) else _make(np.asarray(x), None)


def new_leaf(data: np.ndarray) -> Tensor:
    """A Tensor that requires grad on `data` itself (not a copy, unlike Tensor(...))."""
    t = _make(data, None)
    t._node = LeafNode(t)
    return t


def is_recorded(x: Any) -> bool:
    """Is x a Tensor on a tape (a gradient can flow through it)?"""
    return isinstance(x, Tensor) and x._node is not None


def _lift(node: Node) -> tuple:
    """The node's saved values as Tensors on the nodes that produced them (constants stay
    plain), so that the rules, run on them, record their own nodes: a differentiable backward.
    A node's class may say how its values are boxed (`box`: the tracer's nodes box Traced)."""
    parents = node.parents
    lifted = []
    for value, slot in zip(node.saved, node.op.saved_slots(len(parents))):
        source = node if slot < 0 else parents[slot]
        if source is None:
            lifted.append(value)
        else:
            lifted.append(getattr(type(source), "box", _make)(value, source))
    return tuple(lifted)


def _accumulate_recorded(node: LeafNode, g: Any) -> None:
    """Leaf accumulation for `backward(create_graph=True)`: `.grad` becomes a Tensor."""
    tensor = node.tensor()
    if tensor is None:
        return
    g = constant(g)
    g = _make(np.array(g.data, dtype=tensor.data.dtype), g._node)  # own the buffer
    tensor.grad = g if tensor.grad is None else tensor.grad + g


def gradients(output: Tensor, seed: ArrayLike, targets: list[Tensor], retain_graph: bool = True,
              create_graph: bool = True, observe: Any = None) -> list[Any]:
    """d(output)/d(target), weighted by `seed`, for each target.

    Like `torch.autograd.grad`: no leaf's `.grad` is touched. With `create_graph` each result is
    a Tensor that remembers how it was computed (the backward pass is recorded); without, the
    rules run on arrays. None where `output` does not depend on that target. The walk stops
    below the earliest target. A node class may watch the walks over its graphs
    (`observe_backward(node)`, before each node's rules) and box their seeds (`constant`): the
    compiler's tracer does both.
    """
    if output._node is None or not targets:
        return [None] * len(targets)
    kind = type(output._node)
    observe = observe or getattr(kind, "observe_backward", None)
    if create_graph and not isinstance(seed, Tensor) and hasattr(kind, "constant"):
        seed = kind.constant(seed)
    wanted: dict[Node, list[int]] = {}
    for i, t in enumerate(targets):
        wanted.setdefault(t._node, []).append(i)
    floor = min(t._node.seq for t in targets)
    results: list[Any] = [None] * len(targets)

    def collect(node: Node, g: Any) -> bool:
        for i in wanted.get(node, ()):
            results[i] = g
        if node.seq <= floor:  # every node still pending is older than every target
            return True
        if observe is not None:
            observe(node)
        return False

    if create_graph:
        engine.walk(output._node, constant(seed), lambda node, g: None, retain_graph,
                    lift=_lift, visit=collect)
    else:
        engine.walk(output._node, np.asarray(getattr(seed, "data", seed)), lambda node, g: None,
                    retain_graph, visit=collect)
    if observe is not None:
        observe(None)  # the walk has ended
    return results
