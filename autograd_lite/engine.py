"""The graph machinery: nodes, the no-grad switch and the one reverse walk.

This module knows nothing about particular operations. A `Primitive` (see `ops.py`) is data:
a forward function, one vector-Jacobian rule per input, and the names of the values its rules
need. Recording an operation creates a `Node` holding exactly those values; `backward` walks the
nodes reachable from the output once, consumers before producers, and hands each rule the
incoming gradient.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import operator
import weakref
from collections.abc import Callable, Iterator
from heapq import heappop, heappush
from typing import Any

import numpy as np

from .errors import GraphFreedError

_recording_order = itertools.count()
INPUT_NAMES = ("x", "a", "b")  # unary ops call their input x; binary ops a and b
OUT = "out"


class Primitive:
    """Base of every operation. Subclasses are never instantiated; their attributes are the op.

    - `forward(*inputs, **params) -> ndarray`
    - `saves`: names of the values the rules need: input names (`x`, `a`, `b`) and/or `out`
    - `vjp_<input>(g, *saved, **params)`: gradient for that input given the output gradient `g`,
      written with operations that work on ndarrays and on Tensors alike, so that a backward
      pass can itself be recorded. Broadcast axes are summed by the engine, not by the rules.
    - `jvp_<input>(t, *inputs, out, **params)`: forward mode, that input's contribution to the
      output tangent given its tangent `t` (shaped like the input). Forward mode has every input
      and the output at hand, so these rules take all of them rather than `saves`; the driver
      (`forward.py`) adds the contributions and broadcasts the sum to the output's shape.
    """

    name: str = ""
    saves: tuple[str, ...] = ()
    save_slots: tuple[int, ...] = ()  # per saved value: input position, or -1 for the output
    pick_saved: Callable[[list, Any], tuple]
    vjps: tuple[Callable[..., Any], ...] = ()
    jvps: tuple[Callable[..., Any] | None, ...] = ()  # per input, aligned with vjps

    def __init_subclass__(cls) -> None:
        cls.name = cls.name or cls.__name__.lower()
        names = [n for n in INPUT_NAMES if f"vjp_{n}" in cls.__dict__]
        cls.vjps = tuple(cls.__dict__[f"vjp_{n}"] for n in names)
        cls.jvps = tuple(cls.__dict__.get(f"jvp_{n}") for n in names)
        cls.save_slots = tuple(-1 if s == OUT else names.index(s) for s in cls.saves)
        cls.pick_saved = _picker(cls.save_slots)


def _picker(slots: tuple[int, ...]) -> Callable[[list, Any], tuple]:
    """A function (inputs, out) -> the saved values; built once per primitive."""
    if not slots:
        return lambda inputs, out: ()
    if len(slots) == 1:
        (slot,) = slots
        return lambda inputs, out: (out,) if slot < 0 else (inputs[slot],)
    get = operator.itemgetter(*slots)  # -1 picks `out`, the last of (*inputs, out)
    return lambda inputs, out: get((*inputs, out))


class Node:
    """One recorded operation: its primitive, its parents' nodes and the values it saved."""

    __slots__ = ("op", "parents", "saved", "params", "shape", "seq", "__weakref__")

    def __init__(self, op: type[Primitive] | None, parents: tuple, saved: tuple | None,
                 params: dict | None, shape: tuple[int, ...]) -> None:
        self.seq = next(_recording_order)  # consumers are always numbered after their inputs
        self.op = op
        self.parents = parents  # Node of each input, or None where no gradient is needed
        self.saved = saved  # None once freed by backward
        self.params = params
        self.shape = shape

    def __repr__(self) -> str:
        return f"<Node {self.op.name if self.op else 'leaf'} {self.shape}>"


class LeafNode(Node):
    """A tensor the user created with requires_grad=True; backward accumulates into its .grad."""

    __slots__ = ("tensor",)

    def __init__(self, tensor: Any) -> None:
        super().__init__(None, (), (), None, tensor.data.shape)
        self.tensor = weakref.ref(tensor)  # the tensor owns its node, not the other way round


_grad_enabled = True


def is_grad_enabled() -> bool:
    """True unless inside `no_grad()`."""
    return _grad_enabled


@contextlib.contextmanager
def no_grad() -> Iterator[None]:
    """Record nothing inside this block (outputs have requires_grad=False)."""
    global _grad_enabled
    previous, _grad_enabled = _grad_enabled, False
    try:
        yield
    finally:
        _grad_enabled = previous


def sum_to(g: Any, shape: tuple[int, ...]) -> Any:
    """Sum g over the axes broadcasting added or stretched, so that it has `shape`."""
    lead = g.ndim - len(shape)
    if lead > 0 and shape and type(g) is np.ndarray and g.shape[lead:] == shape and (
            lead == 1 == len(shape) or g.flags.c_contiguous):
        # Summing away leading axes (a bias broadcast over rows) as a BLAS matrix-vector
        # product: numpy's strided axis-0 reduction is several times slower for narrow rows.
        rows = g if lead == 1 == len(shape) else g.reshape(-1, math.prod(shape))
        return (np.ones(rows.shape[0], dtype=g.dtype) @ rows).reshape(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g.reshape(shape) if g.shape != shape else g


def backward(root: Node, grad: Any, retain_graph: bool = False,
             create_graph: bool = False) -> None:
    """Propagate `grad` from `root` to every leaf it depends on, running each rule once.

    With `create_graph=True` the rules run on Tensors, so the backward pass is itself recorded
    and the leaves' `.grad` become Tensors that can be differentiated again.
    """
    if create_graph:
        _walk(root, _as_recorded(grad), retain_graph, _accumulate_leaf_recorded, record=True)
    else:
        _walk(root, grad, retain_graph, _accumulate_leaf)


def gradients(root: Node, grad: Any, targets: list[Node], retain_graph: bool = True) -> list:
    """d(root)/d(target), weighted by `grad`, for each target node, as recorded Tensors.

    Like `torch.autograd.grad(..., create_graph=True)`: no leaf's `.grad` is touched, and each
    result is a Tensor that remembers how it was computed (or None if `root` does not depend on
    that target). The walk stops below the earliest target.
    """
    if not targets:
        return []
    wanted = set(targets)
    floor = min(t.seq for t in targets)
    results: dict[Node, Any] = {}

    def collect(node: Node, g: Any) -> bool:
        if node in wanted:
            results[node] = g
        return node.seq <= floor  # every node still pending is older than every target

    _walk(root, _as_recorded(grad), retain_graph, lambda node, g: None, record=True,
          visit=collect)
    return [results.get(t) for t in targets]


def _walk(root: Node, grad: Any, retain_graph: bool, on_leaf: Callable[[Node, Any], None],
          record: bool = False, visit: Callable[[Node, Any], bool] | None = None) -> None:
    """The one reverse walk. Nodes are numbered as they are recorded, so a node's consumers
    always carry larger numbers: popping the largest pending number first (a heap) visits every
    node after all its consumers have added their contributions, iteratively, each node once.

    `record=True` hands the rules Tensors (see `_recorded_saved`) so that they record; `visit`,
    if given, sees each node and its gradient first and may stop the walk by returning True.
    """
    grads: dict[Node, Any] = {root: grad}
    heap = [(-root.seq, root)]
    while heap:
        node = heappop(heap)[1]
        g = grads.pop(node)
        if visit is not None and visit(node, g):
            break
        op = node.op
        if op is None:
            on_leaf(node, g)
            continue
        saved = node.saved
        if saved is None:
            raise GraphFreedError(
                f"backward through '{op.name}' a second time: its saved values were freed by the "
                "first backward. Pass retain_graph=True to the first backward() to keep them.")
        if record:
            saved = _recorded_saved(node)
        params = node.params
        for parent, vjp in zip(node.parents, op.vjps):
            if parent is None:
                continue
            gi = vjp(g, *saved, **params) if params else vjp(g, *saved)
            if gi.shape != parent.shape:
                gi = sum_to(gi, parent.shape)
            previous = grads.get(parent)
            if previous is None:
                grads[parent] = gi
                heappush(heap, (-parent.seq, parent))
            else:
                grads[parent] = previous + gi
        if not retain_graph:
            node.saved = None


def _accumulate_leaf(node: LeafNode, g: Any) -> None:
    tensor = node.tensor()
    if tensor is None:  # the user dropped the leaf; nobody can read its gradient
        return
    g = np.array(g, dtype=tensor.data.dtype)  # own the buffer: g may alias other gradients
    if tensor.grad is not None:
        g += tensor.grad  # into our own buffer: stays an ndarray even when 0-d
    tensor.grad = g


# ---- recorded backward: gradients that can be differentiated again -----------------------------
def _as_recorded(grad: Any) -> Any:
    """The seed of a recorded walk as a Tensor (a constant unless it already is one)."""
    from .tensor import Tensor, _make  # the tensor module imports this one

    return grad if isinstance(grad, Tensor) else _make(np.asarray(grad), None)


def _recorded_saved(node: Node) -> tuple:
    """The node's saved values as Tensors attached to the nodes that produced them.

    Save slot i names an input (its node is `node.parents[i]`, None for a constant) or the
    output (`node` itself). A rule written with Tensor-compatible operations then records its
    own nodes, and the gradient it returns is a function of the forward graph that an outer
    backward can differentiate; the saved values are therefore normally retained.
    """
    from .tensor import _make

    parents = node.parents
    return tuple(_make(value, node if slot < 0 else parents[slot])
                 for value, slot in zip(node.saved, node.op.save_slots))


def _accumulate_leaf_recorded(node: LeafNode, g: Any) -> None:
    """Leaf accumulation for a recorded backward: `.grad` becomes a Tensor with a graph.

    As in PyTorch with create_graph=True, `.grad` is then a Tensor (`.grad.data` holds the
    numbers) that can be differentiated again; a previous ndarray `.grad` is added to it.
    """
    tensor = node.tensor()
    if tensor is None:
        return
    from .tensor import _make

    g = _as_recorded(g)
    g = _make(np.array(g.data, dtype=tensor.data.dtype), g._node)  # own the buffer
    tensor.grad = g if tensor.grad is None else tensor.grad + g
