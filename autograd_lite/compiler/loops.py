"""`fori_loop(lower, upper, body, carry)`: a Python loop when run eagerly, one loop of the
generated program when traced (`jit`, `compile`).

    def step(i, params):
        W, w = params
        gW, gw = grad(loss, (0, 1))(W, w, X, y)
        return W - lr * gW, w - lr * gw

    W, w = fori_loop(0, 1000, step, (W0, w0))

`carry` is an array or a tuple, list or dict of arrays; `body(i, carry)` returns the next carry,
of the same structure, shapes and dtypes. Traced, the body is traced once, on fresh traced
values of the carry, into a program of its own: the loop is one equation of the enclosing
program, printed as a `for` loop whose carried arrays are updated in place (the body's buffers
are planned once, for every iteration), or as `jax.lax.fori_loop` by the JAX backend. Values
the body reads from the enclosing function (the data) are inputs of the body too. `lower` and
`upper` are Python ints (part of the signature of a compiled function).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .. import engine
from ..errors import TraceError
from ..tensor import Tensor
from .ir import Loop, LoopOutput, Out
from .trace import (
    TracedLeaf,
    TracedNode,
    _make_traced,
    _traces,
    from_graph,
    traced_input,
    tracing,
)
from .tree import flatten, same_structure, unflatten


def fori_loop(lower: int, upper: int, body: Callable[[Any, Any], Any], carry: Any) -> Any:
    """carry = body(i, carry) for i in range(lower, upper); the final carry (see the module
    docstring)."""
    if tracing() is None:
        for i in range(lower, upper):
            carry = body(i, carry)
        return carry
    for bound in (lower, upper):
        if type(bound) is not int:
            raise TraceError(f"compile({tracing()}): fori_loop's bounds must be Python ints (part "
                             f"of the compiled signature), got {type(bound).__name__}")
    return _traced_loop(lower, upper, body, carry)


def _traced_loop(lower: int, upper: int, body: Callable[[Any, Any], Any], carry: Any) -> Any:
    leaves, structure = flatten(carry)
    values = [np.asarray(leaf.data if isinstance(leaf, Tensor) else leaf) for leaf in leaves]
    for k, v in enumerate(values):
        if v.dtype.kind not in "biuf":
            raise TraceError(f"compile({tracing()}): fori_loop's carry {k} is "
                             f"{type(leaves[k]).__name__}, not an array or a number")
    start = engine.recording_mark()  # everything recorded from here on is the body's
    index = traced_input(np.array(lower))
    inner = [traced_input(np.array(v)) for v in values]
    out_leaves, out_structure = flatten(body(index, unflatten(structure, inner)))
    if not same_structure(structure, out_structure) or len(out_leaves) != len(values):
        raise TraceError(f"compile({tracing()}): fori_loop's body must return a carry of the "
                         f"structure it was given; got {out_structure!r} for {structure!r}")
    for k, (leaf, v) in enumerate(zip(out_leaves, values)):
        shape, dtype = np.shape(leaf), np.asarray(getattr(leaf, "data", leaf)).dtype
        if shape != v.shape or dtype != v.dtype:
            raise TraceError(f"compile({tracing()}): fori_loop's body returns carry {k} as "
                             f"{dtype}{list(shape)}, but it was given as {v.dtype}{list(v.shape)}"
                             "; the carry must keep its shapes and dtypes")
    names = ["i", *(f"carry{k}" for k in range(len(values)))]
    outputs = [leaf._node if isinstance(leaf, Tensor) and isinstance(
        leaf._node, TracedNode | TracedLeaf) else np.asarray(getattr(leaf, "data", leaf))
        for leaf in out_leaves]
    program, captured = from_graph(
        "loop body", [(n, t._node, t.data.dtype) for n, t in zip(names, [index, *inner])],
        outputs, _traces[-1].origins(), (TracedNode, TracedLeaf), outer_before=start)
    program = program.but(arguments=[v.name for v in program.inputs],
                          result=tuple(Out(k) for k in range(len(values))),
                          writable=frozenset(range(1, 1 + len(values))))
    parents = [leaf._node if isinstance(leaf, Tensor) else None for leaf in leaves]
    loop = TracedNode(Loop, (*parents, *captured), (), {
        "lower": lower, "upper": upper, "body": program, "carried": len(values),
        "carry_types": tuple((v.shape, v.dtype) for v in values)}, ())
    loop.operands, loop.dtype = (*values, *(None for _ in captured)), None  # captured: Vars
    results = []
    for k, v in enumerate(values):
        node = TracedNode(LoopOutput, (loop,), (), {"index": k}, v.shape)
        node.operands, node.dtype = (None,), v.dtype
        results.append(_make_traced(np.array(v), node))  # the initial value: only its shape
    return unflatten(structure, results)  # and dtype matter to the trace that goes on

