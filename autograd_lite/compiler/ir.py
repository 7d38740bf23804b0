"""The compiler's program: a typed straight-line list of equations (like a printed jaxpr).

A `Program` has input variables (the array arguments, in order, then the arrays the function
reads from its closure or its module's globals), equations `out = op(ins)` in an order that
respects their data flow, and outputs (flat), assembled into what the function returns by
`result` (a tuple, list or dict of `Out`s: for `compile`, the value as a number and one
gradient per differentiated argument). An operand is a `Var` (an input or an equation's result)
or a `Const` (a number, or an array that does not depend on the inputs). A loop is one equation
with one output per carried array (`more`) and its body a `Program` of its own (in `params`).
`from_graph` builds a program from the nodes that tracing recorded.

Programs are values: every pass returns a new `Program` with new `Eqn`s where it changed one,
and never mutates its input (the `Var`s, which are only names for values, are shared).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from .. import ops


@dataclass(eq=False, frozen=True)
class Var:
    """A value the program computes or receives: its name in the generated code, shape, dtype."""

    name: str
    shape: tuple[int, ...]
    dtype: np.dtype

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def nbytes(self) -> int:
        return self.size * self.dtype.itemsize


@dataclass(eq=False, frozen=True)
class Const:
    """A value fixed when the program was traced (it depends on no input).

    Numbers and one-number arrays (0-d, or a scalar broadcast by zero strides) are copied when
    traced, so the compiler may compute with them. Any other array is held by reference and
    only ever read when the program runs: the compiler never computes anything from its values
    (`foldable` is False), so a value and its gradient always come from the same data.
    """

    value: Any

    @property
    def shape(self) -> tuple[int, ...]:
        return np.shape(self.value)

    @property
    def dtype(self) -> np.dtype:
        return np.result_type(self.value)

    @property
    def foldable(self) -> bool:
        return not isinstance(self.value, np.ndarray) or _copied_when_traced(self.value)

    def scalar(self) -> float | None:
        """The one number this constant holds everywhere (a scalar, or a scalar broadcast by
        zero strides), else None."""
        v = self.value
        if isinstance(v, int | float) and not isinstance(v, bool):
            return v
        if isinstance(v, np.ndarray | np.generic) and v.dtype.kind == "f" and (
                v.ndim == 0 or not any(v.strides)):
            return v.flat[0].item() if v.size else None
        return None


Operand = Var | Const


@dataclass(eq=False, frozen=True)
class Eqn:
    """out = op(*ins, **params). `note` says where it comes from (the forward pass, or the rule
    of which node); `layout` and `buffer` are set by the layout and buffer passes."""

    op: Any  # a Primitive subclass (ops.py)
    ins: tuple[Operand, ...]
    params: dict
    out: Var
    note: str = ""
    origin: Var | None = None  # for a line of the backward pass: the forward value whose rule
    layout: str | None = None  # "F": a tall matmul computed column-major
    buffer: Var | None = None  # write the result into this dead variable's array (out=)
    in_place: bool = False  # the result updates its first operand's (dead) array in place
    more: tuple[Var, ...] = ()  # the other results of an equation with several (a loop)

    @property
    def outs(self) -> tuple[Var, ...]:
        return (self.out, *self.more)

    def with_ins(self, ins: Any) -> Eqn:
        ins = tuple(ins)
        return self if all(a is b for a, b in zip(ins, self.ins)) else replace(self, ins=ins)


@dataclass(frozen=True)
class Out:
    """Output `index` of a program, as the caller gets it: an array of its own in `dtype`
    (None: as computed), or, with `number`, a Python number (a loss)."""

    index: int
    dtype: np.dtype | None = None
    number: bool = False


@dataclass(frozen=True)
class Program:
    name: str
    inputs: tuple[Var, ...]
    eqns: tuple[Eqn, ...]
    outputs: tuple[Operand, ...]
    output_dtypes: tuple[np.dtype, ...] = ()  # the gradients' leaf dtypes
    arguments: tuple[str, ...] = ()  # every argument's name, in order, then the hidden inputs'
    hidden: tuple[str, ...] = ()  # names read from f's closure or globals at each call
    fresh_outputs: frozenset[int] = field(default_factory=frozenset)  # outputs (by position)
    # that are arrays of their own, which the caller may keep and write (set by plan_buffers)
    result: Any = None  # a tuple, list or dict of `Out`s (None: a tuple of all outputs)
    writable: frozenset[int] = field(default_factory=frozenset)  # inputs (by position) the
    # program may write once they are dead (a loop body's carried arrays)

    def but(self, **changes: Any) -> Program:
        """A copy with some fields changed (tuples for the sequences)."""
        return replace(self, **{k: tuple(v) if isinstance(v, list) else v
                                for k, v in changes.items()})


def _only_in_programs(*args: Any, **kwargs: Any) -> Any:
    raise NotImplementedError("a loop runs in a compiled program only")


def _not_through_loops(*args: Any, **kwargs: Any) -> Any:
    raise NotImplementedError(
        "differentiating through fori_loop is not supported: take the gradient inside the "
        "loop's body (a gradient-descent step), or write the loop as a Python loop")


class Loop(ops.Primitive):
    """carry = body(i, carry) for i in range(lower, upper): `fori_loop` in a program (its body a
    Program of its own); differentiate inside the body, not through the loop"""
    inputs = ("*values",)  # the initial carry, then the values the body reads from outside
    forward = staticmethod(_only_in_programs)
    vjp_values = jvp_values = staticmethod(_not_through_loops)

    @classmethod
    def label(cls, params: dict) -> str:
        return f"loop {params['lower']}..{params['upper']}"


class LoopOutput(ops.Primitive):
    """the k-th carried array after a loop (how the tape sees a loop's several results)"""
    inputs = ("loop",)
    forward = staticmethod(_only_in_programs)
    vjp_loop = jvp_loop = staticmethod(_not_through_loops)


def from_graph(name: str, inputs: list[tuple[str, Any, np.dtype]], outputs: list[Any],
               origins: dict[int, Any], recorded: type | tuple[type, ...],
               outer_before: int | None = None) -> tuple[Program, list[Any]]:
    """The program that the recorded nodes describe, and the nodes it captures from outside.

    `inputs`: (parameter name, leaf node, dtype) per array input; `outputs`: per output a node,
    or a constant value; `origins`: per node of the backward pass (by seq), the forward node
    whose rule recorded it; `recorded`: the node class(es) of this trace (its nodes keep their
    operands' values and output dtype). A node of another class (an eager Tensor the function
    closes over) is a constant: its value now. `outer_before`: for a loop's body, the nodes
    recorded before the body (seq below it) are values of the enclosing program: they become
    inputs of the body too ("captured"), returned in the order of those inputs.
    """
    var: dict[int, Var] = {}
    program_inputs, captured = [], []
    for arg_name, node, dtype in inputs:
        v = Var(arg_name, tuple(node.shape), np.dtype(dtype))
        var[node.seq] = v
        program_inputs.append(v)
    seen: dict[int, Any] = {}
    stack = [o for o in outputs if isinstance(o, recorded)]
    while stack:
        node = stack.pop()
        if node.seq in seen or node.seq in var:
            continue  # an input, or seen
        if outer_before is not None and node.seq < outer_before:
            var[node.seq] = v = Var(f"captured{len(captured)}", tuple(node.shape), node.dtype)
            program_inputs.append(v)
            captured.append(node)
            continue
        seen[node.seq] = node
        stack.extend(p for p in node.parents if isinstance(p, recorded))
    eqns = []
    for node in sorted(seen.values(), key=lambda n: n.seq):
        if node.op is LoopOutput:  # a name for one of the loop's results, not an equation
            var[node.seq] = var[("loop", node.parents[0].seq, node.params["index"])]
            continue
        ins = tuple(var[p.seq] if p is not None and p.seq in var else constant(value)
                    for p, value in zip(node.parents, node.operands))
        origin = origins.get(node.seq)
        note = "forward" if origin is None else f"vjp of {origin.op.name}"
        where = None if origin is None else var.get(origin.seq)
        if node.op is Loop:
            outs = [Var(f"v{len(eqns)}_{j}", shape, dtype)
                    for j, (shape, dtype) in enumerate(node.params["carry_types"])]
            for j, v in enumerate(outs):
                var[("loop", node.seq, j)] = v
            params = {k: v for k, v in node.params.items() if k != "carry_types"}
            eqns.append(Eqn(node.op, ins, params, outs[0], note, where, more=tuple(outs[1:])))
            continue
        out = var[node.seq] = Var(f"v{len(eqns)}", tuple(node.shape), node.dtype)
        eqns.append(Eqn(node.op, ins, dict(node.params or {}), out, note, where))
    outs = tuple(var[o.seq] if isinstance(o, recorded) else constant(o) for o in outputs)
    return Program(name, tuple(program_inputs), tuple(eqns), outs), captured


def _copied_when_traced(a: np.ndarray) -> bool:
    """Does `constant` copy this array (it holds at most one number)?"""
    return a.ndim == 0 or a.size == 0 or not any(a.strides)


def constant(value: Any) -> Const:
    """A traced constant: arrays of at most one number copied (the compiler may compute with
    them), other arrays by reference (see `Const`)."""
    if isinstance(value, np.ndarray) and _copied_when_traced(value):
        one = np.array(value.reshape(-1)[:1].reshape(()) if value.size else value)
        value = np.broadcast_to(one, value.shape) if value.size else one
    return Const(value)
