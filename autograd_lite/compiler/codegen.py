"""Write a `Program` as Python source, one assignment per line, and compile it once.

The source is for people too: named inputs, values numbered in order, a comment on each line
naming the primitive (and, in the backward pass, the forward value whose rule wrote it).
"""

from __future__ import annotations

import builtins
import linecache
from typing import Any

import numpy as np

from .. import ops as P
from .ir import Eqn, Operand, Program, Var
from .passes import IndexAdd, Outer, aliases_input

IN_PLACE = {P.Add: "+", P.Sub: "-", P.Mul: "*", P.Div: "/"}


def _float_literal(v: float) -> str:
    """A float as Python reads it back (inf and nan through numpy's names)."""
    if v != v:
        return "np.nan"
    if v in (np.inf, -np.inf):
        return "np.inf" if v > 0 else "-np.inf"
    return repr(v)


def _index_add(base: np.ndarray, values: Any, index: Any) -> np.ndarray:
    """base[index] += values in place (basic indexing: no entry twice), returning base."""
    base[index] += values
    return base


def _index_add_at(base: np.ndarray, values: Any, index: Any) -> np.ndarray:
    """base with values added at index in place, each repeated integer index adding again."""
    np.add.at(base, index, values)
    return base


def _scatter(values: Any, shape: tuple[int, ...], index: Any) -> np.ndarray:
    """zeros(shape) with values at a basic index (no entry twice: plain assignment)."""
    out = np.zeros(shape, dtype=np.result_type(values))
    out[index] = values
    return out


def _scatter_add(values: Any, shape: tuple[int, ...], index: Any) -> np.ndarray:
    """zeros(shape) with values added at index (repeated integer indices add up)."""
    return _index_add_at(np.zeros(shape, dtype=np.result_type(values)), values, index)


class _Writer:
    def __init__(self, program: Program) -> None:
        self.program = program
        self.names: dict[int, str] = {id(v): v.name for v in program.inputs}
        self.namespace: dict[str, Any] = {"np": np, "index_add": _index_add,
                                          "index_add_at": _index_add_at,
                                          "scatter_add": _scatter_add, "scatter": _scatter}
        self.constants: list[str] = []
        self.count = 0  # values named so far

    def name(self, x: Operand, weak_is_safe: bool = False) -> str:
        """An operand as code: a variable's name, a number's literal, else a named constant.
        A numpy scalar is written as a plain number only where that cannot change numpy's type
        promotion (`weak_is_safe`: every other operand is float64), else with its type."""
        if isinstance(x, Var):
            return self.names[id(x)]
        v = x.value
        if isinstance(v, bool):
            return repr(v)
        if isinstance(v, int):  # beside float64 arrays as a float: numpy int scalars are slower
            return repr(float(v)) if weak_is_safe and abs(v) < 2**53 else repr(v)
        if isinstance(v, float):
            return _float_literal(v)
        if isinstance(v, np.ndarray | np.generic) and v.ndim == 0 and v.dtype.kind in "fiub":
            number = _float_literal(float(v)) if v.dtype.kind == "f" else repr(v.item())
            return number if weak_is_safe and v.dtype == np.float64 else (
                f"np.{v.dtype.name}({number})")
        label = f"c{len(self.constants)}"
        self.namespace[label] = v
        self.constants.append(f"{label}: {np.asarray(v).dtype} {np.shape(v)}")
        return label

    def _operands(self, e: Eqn) -> list[str]:
        weak = all(x.dtype == np.float64 for x in e.ins if isinstance(x, Var))
        return [self.name(x, weak) for x in e.ins]

    def statement(self, e: Eqn) -> str:
        """One line: `vK = expression`, or, for a result written into a dead array (which then
        goes on under that array's name), the in-place form: `v2 += v3`, `np.tanh(v2, out=v2)`,
        `v9[-1] += v8`."""
        if e.buffer is None:
            self.names[id(e.out)] = name = f"v{self.count + 1}"
            self.count += 1
            return f"{name} = {self.expression(e)}"
        target = self.names[id(e.out)] = self.names[id(e.buffer)]
        ins, op = self._operands(e), e.op
        if op is IndexAdd:
            index = P.index_text(e.params["template"], ins[2:])
            if len(ins) > 2:  # integer arrays may repeat an entry: add at each occurrence
                return f"np.add.at({target}, np.s_[{index}], {ins[1]})"
            return f"{target}[{index}] += {ins[1]}"
        symbol = IN_PLACE.get(op)
        if symbol and ins[0] == target:
            return f"{target} {symbol}= {ins[1]}"
        if symbol and op in (P.Add, P.Mul) and ins[1] == target:
            return f"{target} {symbol}= {ins[0]}"
        return f"np.{op.ufunc.__name__}({', '.join(ins)}, out={target})"

    def expression(self, e: Eqn) -> str:
        op, p = e.op, e.params
        ins = self._operands(e)
        if op is P.Matmul and e.layout == "F":
            return f"({ins[1]}.T @ {ins[0]}.T).T"
        if op is Outer:
            return (f"np.multiply.outer({ins[1]}, {ins[0]}).T" if e.layout == "F"
                    else f"np.multiply.outer({ins[0]}, {ins[1]})")
        if op is P.Getitem:
            return f"{ins[0]}[{P.index_text(p['template'], ins[1:])}]"
        if op is P.ScatterAdd:
            index = P.index_text(p["template"], ins[1:])
            helper = "scatter_add" if len(ins) > 1 else "scatter"
            return f"{helper}({ins[0]}, {p['shape']}, np.s_[{index}])"
        if op is IndexAdd:  # into a copy of the base (written in place, see `statement`)
            helper = "index_add_at" if len(ins) > 2 else "index_add"
            index = P.index_text(p["template"], ins[2:])
            return f"{helper}({ins[0]}.copy(), {ins[1]}, np.s_[{index}])"
        if op in (P.Sum, P.Mean):
            axis = p["axis"]
            args = ([] if axis is None else [f"axis={axis[0] if len(axis) == 1 else axis}"]) + (
                ["keepdims=True"] if p["keepdims"] else [])
            return f"{ins[0]}.{op.name}({', '.join(args)})"
        if op is P.Transpose:
            reverse = tuple(reversed(range(len(p["axes"]))))
            return f"{ins[0]}.T" if p["axes"] == reverse else f"{ins[0]}.transpose({p['axes']})"
        if op is P.Reshape:
            return f"{ins[0]}.reshape({p['new_shape']})"
        if op is P.Pow:
            return f"{ins[0]} ** {p['p']!r}"
        if op is P.Cast:
            return f"{ins[0]}.astype(np.{p['dtype'].name})"
        if op is P.Einsum:
            return f"np.einsum({p['subscripts']!r}, {', '.join(ins)})"
        if op is P.Concatenate:
            return f"np.concatenate(({', '.join(ins)},), axis={p['axis']})"
        if op.code is not None:
            names = [n.lstrip("*") for n in op.inputs]
            return op.code.format(**dict(zip(names, ins)), **{k: repr(v) for k, v in p.items()})
        self.namespace[op.name] = op.forward
        return f"{op.name}({', '.join(ins + [f'{k}={v!r}' for k, v in p.items()])})"

    def comment(self, e: Eqn) -> str:
        if e.note == "forward":
            return op_label(e)
        origin = e.origin
        where = f" {self.names[id(origin)]}" if origin is not None and id(origin) in self.names \
            else ""
        return f"{op_label(e)}  ({e.note}{where})"

    def outputs(self) -> tuple[list[str], list[str]]:
        """The return values, copied where the caller must not get a shared or foreign array."""
        program = self.program
        roots: dict[int, Any] = {id(v): None for v in program.inputs}  # None: not ours
        for e in program.eqns:
            if aliases_input(e):
                source = e.ins[0]
                roots[id(e.out)] = roots.get(id(source)) if isinstance(source, Var) else None
            elif e.buffer is not None:
                roots[id(e.out)] = roots.get(id(e.buffer), id(e.buffer))
            else:
                roots[id(e.out)] = id(e.out)
        value, *grads = program.outputs
        lines = []
        if isinstance(value, Var):  # float() of a numpy float costs a tenth of .item()
            name = self.name(value)
            value_text = f"float({name})" if value.dtype.kind == "f" else f"{name}.item()"
        else:
            value_text = _float_literal(float(np.asarray(value.value).item()))
        returned: set[int] = set()
        texts = []
        for g, dtype in zip(grads, program.output_dtypes):
            root = roots.get(id(g)) if isinstance(g, Var) else None
            if (root is None or root in returned or g.dtype != dtype or not g.shape):
                texts.append(f"np.array({self.name(g)}, dtype=np.{dtype.name})")
            else:
                texts.append(self.name(g))
            if root is not None:
                returned.add(root)
        return lines, [value_text, *texts]


def op_label(e: Eqn) -> str:
    label = getattr(e.op, "label", None)
    return label(e.params) if label is not None and isinstance(e.op, type) and issubclass(
        e.op, P.Primitive) else e.op.name


def generate(program: Program, function_name: str, single: bool,
             signature: str) -> tuple[str, dict[str, Any]]:
    """The source of `function_name(*arguments) -> (value, gradients)` and its namespace."""
    w = _Writer(program)
    body = [(w.statement(e), w.comment(e)) for e in program.eqns]
    _, returns = w.outputs()
    value, *grads = returns
    gradient_text = grads[0] if single else "(" + ", ".join(grads) + ("," if len(grads) == 1
                                                                       else "") + ")"
    width = max([len(code) for code, _ in body] + [0]) + 4
    lines = [f"def {function_name}({', '.join(program.arguments)}):",
             f'    """Generated by autograd_lite.compile from {program.name}: the value and the '
             'gradient(s).',
             f"    Traced for {signature}."]
    if w.constants:
        lines.append("    Constants: " + "; ".join(w.constants) + ".")
    lines[-1] += '"""'
    lines += [f"    {code.ljust(width)}# {comment}" for code, comment in body]
    lines.append(f"    return {value}, {gradient_text}")
    return "\n".join(lines) + "\n", w.namespace


def build(source: str, namespace: dict[str, Any], function_name: str) -> Any:
    """Compile the source once (registered with linecache, so tracebacks show its lines)."""
    filename = f"<autograd_lite.compile {function_name}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(builtins.compile(source, filename, "exec"), namespace)
    return namespace[function_name]
