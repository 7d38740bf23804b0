"""Trace a function once: its forward pass on traced inputs, then its backward pass recorded with
the rules themselves (they run on Tensors, as for `create_graph`), into one `Program`.

Tracing has its own Tensor subclass, `Traced`, the way forward mode has `Dual`: an operation
on a Traced value is recorded by `record_traced` (every value computed from the inputs, also
one that carries no gradient, since the program must recompute it), while the eager tape's
`record` never looks at the compiler.
"""

from __future__ import annotations

import inspect
import keyword
import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .. import engine, ops
from ..errors import ShapeError, TraceError
from ..functional import evaluate
from ..tensor import Tensor, record, run_forward
from .ir import Out, Program, from_graph
from .tree import flatten, map_leaves


class TracedNode(engine.Node):
    """A node recorded while `compile` traces: it also keeps its operands' values (the
    program's constants) and its output's dtype."""

    __slots__ = ("operands", "dtype")


class TracedLeaf(engine.LeafNode):
    """An input of the traced function."""

    __slots__ = ("operands", "dtype")


def _refuse(what: str) -> TraceError:
    return TraceError(
        f"compile({tracing() or '?'}): {what} of a traced value: Python "
        "control flow and conversions to Python numbers need the value at trace time, but the "
        "compiled program must work for every input of its signature. Compute it with array "
        "operations (e.g. where(cond, a, b)), pass the value as a non-array argument (a Python "
        "number, part of the signature), or use eager mode (value_and_grad).")


def _make_traced(data: np.ndarray, node: engine.Node) -> Traced:
    t = object.__new__(Traced)
    t.data, t.grad, t._node = data, None, node
    return t


def record_traced(op: type[ops.Primitive], *args: Any, **params: Any) -> Any:
    """Run `op` on the operands' values and record a `TracedNode` if an operand is traced.

    Eager Tensors among the operands keep their nodes as parents (a gradient taken inside the
    function may flow to them); their values are constants of the program. An operand of a type
    above the tape (a forward-mode Dual) takes the whole operation, as in `record`.
    """
    arrays, parents = [], []
    for x in args:
        if isinstance(x, Tensor):
            arrays.append(x.data)
            parents.append(x._node)
        else:
            box = getattr(type(x), "apply_primitive", None)
            if box is not None:
                return box(op, *args, **params)
            arrays.append(x if isinstance(x, np.ndarray | float | int) else np.asarray(x))
            parents.append(None)
    if not any(isinstance(p, TracedNode | TracedLeaf) for p in parents):
        return record(op, *args, **params)  # nothing traced: the eager tape's business
    traced = [a if isinstance(p, TracedNode | TracedLeaf) else None  # constants fix shapes
              for a, p in zip(arrays, parents)]
    if op.data_dependent_shape(traced, params):
        raise TraceError(
            f"compile({tracing()}): {op.name} gives a result whose shape depends on the "
            "values of traced inputs (a boolean mask computed from them); use where(mask, x, 0) "
            "instead, or eager mode")
    out = run_forward(op, arrays, params)
    node = TracedNode(op, tuple(parents), op.pick_saved(arrays, out), params or None, out.shape)
    node.operands, node.dtype = tuple(arrays), out.dtype
    if not engine.grad_enabled and op.differentiable:  # no_grad: the value, but no gradient
        stop = TracedNode(ops.StopGradient, (node,), (), None, out.shape)
        stop.operands, stop.dtype = (out,), out.dtype
        node = stop
    return _make_traced(out, node)


class Traced(Tensor):
    """A value of a function being compiled: its operations are recorded for the program.

    Traced values are made by the tracer only (`traced_input`, `record_traced`); `Tensor(t)` of
    one is a traced copy cut from the graph (the program recomputes it, nothing is baked in).
    """

    __slots__ = ()
    apply_primitive = staticmethod(record_traced)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass  # made by the tracer; Tensor.__new__ returns an initialised copy (_constant_copy)

    def _constant_copy(self, requires_grad: bool) -> Traced:
        if requires_grad:
            raise _refuse("Tensor(..., requires_grad=True)")
        return self.detach()

    def detach(self) -> Traced:
        return record_traced(ops.StopGradient, self)

    def item(self) -> Any:
        raise _refuse(".item()")

    def __float__(self) -> float:
        raise _refuse("float()")

    def __int__(self) -> int:
        raise _refuse("int()")

    def __bool__(self) -> bool:
        raise _refuse("bool() (an if, while, and, or)")

    def numpy(self) -> np.ndarray:
        raise _refuse(".numpy()")

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        raise _refuse("conversion to an ndarray")


TracedNode.box = TracedLeaf.box = staticmethod(_make_traced)  # how `gradients` lifts their values


def _traced_constant(value: np.ndarray) -> Traced:
    """A constant as a traced value: what the rules compute from it is recorded too, so that
    the compiler, not the trace, evaluates it (constant folding decides what is safe)."""
    node = TracedNode(ops.StopGradient, (None,), (), None, value.shape)
    node.operands, node.dtype = (value,), value.dtype
    return _make_traced(value, node)


def traced_input(data: np.ndarray) -> Traced:
    """A leaf for an input of a function being compiled (any dtype; never accumulates)."""
    t = _make_traced(data, None)
    leaf = t._node = TracedLeaf(t)
    leaf.operands, leaf.dtype = (), data.dtype
    return t


def parameter_names(f: Callable[..., Any], n: int, reserved: frozenset[str] = frozenset(),
                    hidden: Sequence[str] = ()) -> list[str]:
    """f's positional parameter names for n arguments, then the hidden inputs' names (argK or
    hiddenK where there is none, or where a name would clash with the generated code's own)."""
    try:
        params = [p.name for p in inspect.signature(f).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    taken = set(reserved) | {op.name for op in ops.primitives()}
    names: list[str] = []
    wanted = [(params[i] if i < len(params) else f"arg{i}", f"arg{i}") for i in range(n)] + [
        (h, f"hidden{k}") for k, h in enumerate(hidden)]
    for name, fallback in wanted:
        if (name in taken or name in names or keyword.iskeyword(name)
                or re.fullmatch(r"(v|c|s|arg|hidden)\d+", name)):
            name = fallback
        names.append(name)
    return names


class _Trace:
    """What one trace collects besides its nodes: for every node a backward walk records, the
    forward node whose rule recorded it (by seq: the program's comments say "vjp of tanh")."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.marks: list[tuple[int, Any]] = []

    def observe(self, node: engine.Node) -> None:
        self.marks.append((engine.recording_mark(), node))

    def origins(self) -> dict[int, Any]:
        """seq -> the forward node whose rule recorded it; a walk's end is marked by None."""
        bounds = [m for m, _ in self.marks] + [engine.recording_mark()]
        return {seq: node for (start, node), end in zip(self.marks, bounds[1:])
                if node is not None for seq in range(start, end)}


_traces: list[_Trace] = []  # the traces in progress, innermost last


def _observe_backward(node: engine.Node | None) -> None:
    """Before each node's rules: that node (None: the walk has ended)."""
    if _traces:
        _traces[-1].observe(node)


# how `tensor.gradients` treats a graph of traced nodes: it tells the trace which rule records
# what, and the seed of the walk is itself traced, so that what the rules compute from it is
# recorded and the compiler (constant folding), not the trace, evaluates it
TracedNode.observe_backward = TracedLeaf.observe_backward = staticmethod(_observe_backward)
TracedNode.constant = TracedLeaf.constant = staticmethod(lambda value: _traced_constant(
    np.asarray(value)))


def tracing() -> str | None:
    """The name of the innermost function being traced, or None outside a trace."""
    return _traces[-1].name if _traces else None


def trace(f: Callable[..., Any], args: Sequence[Any], name: str,
          names: Sequence[str] | None = None,
          hidden: Sequence[tuple[np.ndarray, Callable[[Any], Callable[[], None]]]] = (),
          result: Callable[[Any], Any] | None = None) -> Program:
    """The program of f: its values, and whatever derivatives f takes of them, recorded.

    Array arguments become traced inputs (every value computed from them is recorded); the
    others are constants of this trace. `hidden`: per array that f reads from its closure or
    its globals, (the array, put), which becomes a traced input too: `put(t)` binds the name to
    the traced value t for the trace and returns the function that binds the array back.
    `names`: the inputs' names (the arguments', then the hidden ones'). f may return a tuple,
    list or dict of arrays (and numbers); `result(structure)`, if given, turns the structure of
    `Out`s into what the caller gets (compile marks the value a number).
    """
    names = list(names or parameter_names(f, len(args)))
    call_args = list(args)
    inputs = []
    for i, a in enumerate(args):
        if isinstance(a, np.ndarray):
            call_args[i] = traced_input(a)
            inputs.append((names[i], call_args[i]._node, a.dtype))
    restore = []
    current = _Trace(name)
    _traces.append(current)
    previous, engine.grad_enabled = engine.grad_enabled, True
    try:
        for hidden_name, (array, put) in zip(names[len(args):], hidden):
            t = traced_input(array)
            inputs.append((hidden_name, t._node, array.dtype))
            restore.append(put(t))
        leaves, structure = flatten(evaluate(f, call_args))
    finally:
        engine.grad_enabled = previous
        _traces.pop()
        for put_back in reversed(restore):
            put_back()
    outputs = [_output_node(leaf, name, k) for k, leaf in enumerate(leaves)]
    program, _ = from_graph(name, inputs, outputs, current.origins(), (TracedNode, TracedLeaf))
    structure = map_leaves(structure, lambda k: Out(k))
    return program.but(arguments=names, hidden=names[len(args):],
                       result=result(structure) if result else structure)


def _output_node(leaf: Any, name: str, k: int) -> Any:
    """A returned value as `from_graph` takes it: its node if it is traced, else its array."""
    if isinstance(leaf, Tensor):
        return leaf._node if isinstance(leaf._node, TracedNode | TracedLeaf) else leaf.data
    if hasattr(leaf, "primal"):  # a Dual
        raise TraceError(f"compile({name}): output {k} is a forward-mode Dual; return its "
                         ".primal and .tangent (as jvp does)")
    value = np.asarray(leaf)
    if value.dtype.kind not in "biuf":
        raise ShapeError(f"compile({name}): output {k} is {type(leaf).__name__}, not an array "
                         "or a number")
    return value
