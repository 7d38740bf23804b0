"""The compiler's program: a typed straight-line list of equations (like a printed jaxpr).

A `Program` has input variables (the array arguments, in order), equations `out = op(ins)` in an
order that respects their data flow, and outputs (the value, then one gradient per
differentiated argument). An operand is a `Var` (an input or an equation's result) or a `Const`
(a number or an array that does not depend on the inputs). `from_graph` builds a program from
the nodes that tracing recorded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..engine import Node


@dataclass(eq=False)
class Var:
    """A value the program computes or receives: its name in the generated code, shape, dtype."""

    name: str
    shape: tuple[int, ...]
    dtype: np.dtype

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))


@dataclass(eq=False)
class Const:
    """A value fixed when the program was traced (it depends on no input)."""

    value: Any

    @property
    def shape(self) -> tuple[int, ...]:
        return np.shape(self.value)

    @property
    def dtype(self) -> np.dtype:
        return np.result_type(self.value)

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


@dataclass(eq=False)
class Eqn:
    """out = op(*ins, **params). `note` says where it comes from (the forward pass, or the rule
    of which node); `layout` and `buffer` are set by the layout and buffer passes."""

    op: Any  # a Primitive subclass (ops.py) or a compiler-only operation (passes.py)
    ins: list[Operand]
    params: dict
    out: Var
    note: str = ""
    origin: Var | None = None  # for a line of the backward pass: the forward value whose rule
    layout: str | None = None  # "F": a tall matmul computed column-major
    buffer: Var | None = None  # write the result into this dead variable's array (out=)


@dataclass
class Program:
    name: str
    inputs: list[Var]
    eqns: list[Eqn]
    outputs: list[Operand]
    output_dtypes: list[np.dtype] = field(default_factory=list)  # the gradients' leaf dtypes
    arguments: list[str] = field(default_factory=list)  # every argument's name, in order

    def uses(self) -> dict[int, int]:
        """How many times each Var (by id) is read, by equations and outputs."""
        count: dict[int, int] = {}
        for e in self.eqns:
            for x in e.ins:
                if isinstance(x, Var):
                    count[id(x)] = count.get(id(x), 0) + 1
        for x in self.outputs:
            if isinstance(x, Var):
                count[id(x)] = count.get(id(x), 0) + 1
        return count


def from_graph(name: str, inputs: list[tuple[str, Node]], outputs: list[Any],
               origins: dict[int, Node]) -> Program:
    """The program that the recorded nodes describe.

    `inputs`: (parameter name, leaf node) per array argument; `outputs`: per output a Node, or a
    constant value; `origins`: per node of the backward pass (by seq), the forward node whose
    rule recorded it. A leaf that is not an input (a Tensor the function closes over) is a
    constant: its value now.
    """
    var: dict[int, Var] = {}
    program_inputs = []
    for arg_name, node in inputs:
        v = Var(arg_name, tuple(node.shape), node.traced[1])
        var[node.seq] = v
        program_inputs.append(v)
    seen: dict[int, Node] = {}
    stack = [o for o in outputs if isinstance(o, Node)]
    while stack:
        node = stack.pop()
        if node.seq in seen or node.seq in var or not hasattr(node, "traced"):
            continue  # an input, or a value not recorded by this trace: a constant
        seen[node.seq] = node
        stack.extend(p for p in node.parents if p is not None)
    eqns = []
    for k, node in enumerate(sorted(seen.values(), key=lambda n: n.seq)):
        operands, dtype = node.traced
        ins = [var[p.seq] if p is not None and p.seq in var else Const(value)
               for p, value in zip(node.parents, operands)]
        out = var[node.seq] = Var(f"v{k}", tuple(node.shape), dtype)
        origin = origins.get(node.seq)
        eqns.append(Eqn(node.op, ins, dict(node.params or {}), out,
                        "forward" if origin is None else f"vjp of {origin.op.name}",
                        None if origin is None else var.get(origin.seq)))
    outs = [var[o.seq] if isinstance(o, Node) else Const(o) for o in outputs]
    return Program(name, program_inputs, eqns, outs)
