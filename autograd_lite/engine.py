"""The graph machinery: nodes, the no-grad switch and the one reverse walk.

This module knows nothing about particular operations. A `Primitive` (see `ops.py`) is data:
a forward function, one vector-Jacobian rule per input, and the names of the values its rules
need. Recording an operation creates a `Node` holding exactly those values; `backward` walks the
nodes reachable from the output once, consumers before producers, and hands each rule the
incoming gradient.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Callable, Iterator
from typing import Any

from .errors import GraphFreedError

INPUT_NAMES = ("x", "a", "b")  # unary ops call their input x; binary ops a and b
OUT = "out"


class Primitive:
    """Base of every operation. Subclasses are never instantiated; their attributes are the op.

    - `forward(*inputs, **params) -> ndarray`
    - `saves`: names of the values the rules need: input names (`x`, `a`, `b`) and/or `out`
    - `vjp_<input>(g, *saved, **params)`: gradient for that input given the output gradient `g`,
      written with operations that work on ndarrays and on Tensors alike, so that a backward
      pass can itself be recorded. Broadcast axes are summed by the engine, not by the rules.
    """

    name: str = ""
    saves: tuple[str, ...] = ()
    save_slots: tuple[int, ...] = ()  # per saved value: input position, or -1 for the output
    vjps: tuple[Callable[..., Any], ...] = ()

    def __init_subclass__(cls) -> None:
        cls.name = cls.name or cls.__name__.lower()
        names = [n for n in INPUT_NAMES if f"vjp_{n}" in cls.__dict__]
        cls.vjps = tuple(cls.__dict__[f"vjp_{n}"] for n in names)
        cls.save_slots = tuple(-1 if s == OUT else names.index(s) for s in cls.saves)


class Node:
    """One recorded operation: its primitive, its parents' nodes and the values it saved."""

    __slots__ = ("op", "parents", "saved", "params", "shape", "__weakref__")

    def __init__(self, op: type[Primitive] | None, parents: tuple, saved: tuple | None,
                 params: dict | None, shape: tuple[int, ...]) -> None:
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
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g.reshape(shape) if g.shape != shape else g


def backward(root: Node, grad: Any, retain_graph: bool = False) -> None:
    """Propagate `grad` from `root` to every leaf it depends on, visiting each node once.

    Order: a node runs only after all its consumers have added their contributions (Kahn's
    algorithm on the consumer counts), so the walk is iterative and needs no recursion.
    """
    pending: dict[Node, int] = {}  # node -> consumers that have not yet sent their gradient
    stack, seen = [root], {root}
    while stack:
        for parent in stack.pop().parents:
            if parent is not None:
                pending[parent] = pending.get(parent, 0) + 1
                if parent not in seen:
                    seen.add(parent)
                    stack.append(parent)

    grads: dict[Node, Any] = {root: grad}
    ready = [root]
    while ready:
        node = ready.pop()
        g = grads.pop(node)
        op = node.op
        if op is None:
            _accumulate_leaf(node, g)
            continue
        saved = node.saved
        if saved is None:
            raise GraphFreedError(
                f"backward through '{op.name}' a second time: its saved values were freed by the "
                "first backward. Pass retain_graph=True to the first backward() to keep them.")
        params = node.params
        for parent, vjp in zip(node.parents, op.vjps):
            if parent is None:
                continue
            gi = vjp(g, *saved, **params) if params else vjp(g, *saved)
            if gi.shape != parent.shape:
                gi = sum_to(gi, parent.shape)
            previous = grads.get(parent)
            grads[parent] = gi if previous is None else previous + gi
            pending[parent] -= 1
            if pending[parent] == 0:
                ready.append(parent)
        if not retain_graph:
            node.saved = None


def _accumulate_leaf(node: LeafNode, g: Any) -> None:
    tensor = node.tensor()
    if tensor is None:  # the user dropped the leaf; nobody can read its gradient
        return
    g = g.astype(tensor.data.dtype, copy=True)  # own the buffer: g may alias other gradients
    tensor.grad = g if tensor.grad is None else tensor.grad + g
