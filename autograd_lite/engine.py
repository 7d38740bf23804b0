"""The graph machinery: nodes, the recording switches and the one reverse walk.

It knows no operation. A `Node` records the primitive that produced a value, the nodes of its
inputs and the values the primitive's rules need; `walk` visits every node reachable from an
output once, consumers before producers, and hands each rule the gradient of the node's output.
The rules themselves (`ops.py`) and the Tensors that carry nodes (`tensor.py`) live above.
"""

from __future__ import annotations

import contextlib
import itertools
import weakref
from collections.abc import Callable, Iterator
from heapq import heappop, heappush
from typing import Any

import numpy as np

from .errors import GraphFreedError

next_seq = itertools.count().__next__  # numbers nodes in the order they are recorded

#: False inside `no_grad()`: operations record nothing.
grad_enabled = True


class Node:
    """One recorded operation: its primitive, its inputs' nodes and the values it saved."""

    __slots__ = ("op", "parents", "saved", "params", "shape", "seq", "__weakref__")

    def __init__(self, op: Any, parents: tuple, saved: tuple | None, params: dict | None,
                 shape: tuple[int, ...]) -> None:
        self.seq = next_seq()  # consumers are always numbered after their inputs
        self.op = op
        self.parents = parents  # the node of each input, None where no gradient is needed
        self.saved = saved  # None once backward has freed it
        self.params = params
        self.shape = shape

    def __repr__(self) -> str:
        return f"<Node #{self.seq} {self.op.name if self.op else 'leaf'} {self.shape}>"


class LeafNode(Node):
    """A tensor that requires grad (or an input being traced); backward accumulates into it."""

    __slots__ = ("tensor",)

    def __init__(self, tensor: Any) -> None:
        super().__init__(None, (), (), None, tensor.data.shape)
        self.tensor = weakref.ref(tensor)  # the tensor owns its node, not the other way round


def recording_mark() -> int:
    """A number between every node recorded so far and every node recorded from now on."""
    return next_seq()


def is_grad_enabled() -> bool:
    """True unless inside `no_grad()`."""
    return grad_enabled


@contextlib.contextmanager
def no_grad() -> Iterator[None]:
    """Record nothing inside this block (results do not require grad)."""
    global grad_enabled
    previous, grad_enabled = grad_enabled, False
    try:
        yield
    finally:
        grad_enabled = previous


def sum_to(g: Any, shape: tuple[int, ...]) -> Any:
    """Sum g over the axes that broadcasting added or stretched, so that it has `shape`."""
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g.reshape(shape) if g.shape != shape else g


def walk(root: Node, grad: Any, on_leaf: Callable[[Node, Any], None], retain_graph: bool = False,
         lift: Callable[[Node], tuple] | None = None,
         visit: Callable[[Node, Any], bool] | None = None) -> None:
    """Propagate `grad` from `root` back to the leaves, running every rule once.

    Nodes are numbered as they are recorded, so a node's consumers carry larger numbers than the
    node: popping the largest pending number first (a heap) reaches each node after all its
    consumers have added their contributions, iteratively (no recursion), each node once.

    `lift(node)`, if given, returns the node's saved values as Tensors on the graph, so that the
    rules record the backward pass itself (`create_graph`); without it the rules run on ndarrays.
    `visit(node, g)`, if given, sees each node and its gradient first and may stop the walk.
    """
    grads = {root: grad}
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
        rules = op.eager_vjps if lift is None else op.vjps
        if lift is not None:
            saved = lift(node)
        params = node.params
        for parent, rule in zip(node.parents, rules):
            if parent is None:
                continue
            gi = rule(g, *saved, **params) if params else rule(g, *saved)
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


def accumulate_into_leaf(node: LeafNode, g: Any) -> None:
    """Add a first-order gradient into the leaf tensor's `.grad` (a fresh array it owns)."""
    tensor = node.tensor()
    if tensor is None:  # the user dropped the leaf: nobody can read its gradient
        return
    g = np.array(g, dtype=tensor.data.dtype)  # own the buffer: g may alias other gradients
    previous = tensor.grad
    tensor.grad = g if previous is None else (
        np.add(g, previous, out=g) if type(previous) is np.ndarray else previous + g)
