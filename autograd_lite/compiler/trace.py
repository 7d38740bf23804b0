"""Trace a function once: its forward pass on traced inputs, then its backward pass recorded with
the rules themselves (they run on Tensors, as for `create_graph`), into one `Program`."""

from __future__ import annotations

import inspect
import keyword
import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .. import engine, ops
from ..errors import ShapeError
from ..tensor import Tensor, _make, gradients, traced_input
from .ir import Program, from_graph

#: Names the generated code uses itself: numpy, its helpers, and the primitives it calls by name.
RESERVED = {"np", "index_add", "index_add_at", "scatter_add", "scatter"} | {
    op.name for op in ops.primitives()}


def parameter_names(f: Callable[..., Any], n: int) -> list[str]:
    """f's positional parameter names for n arguments (argK where there is none, or where a name
    would clash with the generated code's own names)."""
    try:
        params = [p.name for p in inspect.signature(f).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    names = []
    for i in range(n):
        name = params[i] if i < len(params) else f"arg{i}"
        if name in RESERVED or keyword.iskeyword(name) or re.fullmatch(r"(v|c|arg)\d+", name):
            name = f"arg{i}"
        names.append(name)
    return names


def trace(f: Callable[..., Any], args: Sequence[Any], argnums: tuple[int, ...],
          name: str) -> Program:
    """The joint forward and backward program of the scalar f w.r.t. args[argnums].

    Array arguments become traced inputs (every value computed from them is recorded); the
    others are constants of this trace. The backward pass is seeded with 1.
    """
    names = parameter_names(f, len(args))
    call_args = list(args)
    inputs = []
    for i, a in enumerate(args):
        if isinstance(a, np.ndarray):
            call_args[i] = traced_input(a)
            inputs.append((names[i], call_args[i]._node))
    with engine.tracing_function(name):
        previous, engine.grad_enabled = engine.grad_enabled, True
        try:
            out = f(*call_args)
            if not isinstance(out, Tensor):
                out = _make(np.asarray(out), None)
            if out.size != 1 or out.dtype.kind not in "biuf":
                raise ShapeError(f"compile({name}): f must return one real number (a "
                                 f"one-element Tensor), got shape {out.shape}, dtype {out.dtype}")
            targets = [call_args[i] for i in argnums]
            grads, origins = _recorded_gradients(out, targets)
        finally:
            engine.grad_enabled = previous
    outputs: list[Any] = [out._node if out._node is not None else out.data]
    for g, t in zip(grads, targets):
        if g is None:
            outputs.append(np.zeros_like(t.data))
        else:
            outputs.append(g._node if g._node is not None else g.data)
    program = from_graph(name, inputs, outputs, origins)
    program.output_dtypes = [t.data.dtype for t in targets]
    return program


def _recorded_gradients(out: Tensor, targets: list[Tensor]) -> tuple[list[Any], dict]:
    """The gradients of out w.r.t. the targets as Tensors on the graph, and for every node the
    backward pass recorded, the forward node whose rule recorded it (by seq)."""
    marks: list[tuple[int, Any]] = []
    results = gradients(out, np.ones_like(out.data), targets,
                        observe=lambda node: marks.append((engine.recording_mark(), node)))
    bounds = [m for m, _ in marks] + [engine.recording_mark()]
    origins = {seq: node for (start, node), end in zip(marks, bounds[1:])
               for seq in range(start, end)}
    return results, origins
