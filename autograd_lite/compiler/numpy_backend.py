"""The numpy backend: how each primitive prints as numpy, one table entry per primitive.

Every primitive that is a numpy ufunc prints as a call of it (`np.tanh(x)`), and can write its
result into a dead array (`np.tanh(x, out=v2)`); the arithmetic operators and comparisons print
as operators (`a + b`, `v2 += b`). The entries below cover the rest. A primitive without an
entry prints as a call of its own forward (codegen.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import ops as P
from . import passes
from .codegen import Backend, Lowering, indented
from .ir import Eqn, Loop, Var


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


HELPERS = {"index_add": _index_add, "index_add_at": _index_add_at, "scatter_add": _scatter_add,
           "scatter": _scatter}


# ---- entry builders -----------------------------------------------------------------------------
def _ufunc_into(e: Eqn, ins: Sequence[str], target: str) -> str:
    return f"np.{e.op.ufunc.__name__}({', '.join(ins)}, out={target})"


def ufunc(op: type) -> Lowering:
    """np.<ufunc>(x, ...), into a dead array with out=."""
    return Lowering(lambda e, ins: f"np.{op.ufunc.__name__}({', '.join(ins)})", _ufunc_into)


def operator(symbol: str, commutative: bool = False) -> Lowering:
    """a <symbol> b; into a dead first operand as `a <symbol>= b` (or the second, for + and *),
    else with the ufunc's out=."""
    def into(e: Eqn, ins: Sequence[str], target: str) -> str:
        a, b = ins
        if a == target:
            return f"{target} {symbol}= {b}"
        if commutative and b == target:
            return f"{target} {symbol}= {a}"
        return _ufunc_into(e, ins, target)

    return Lowering(lambda e, ins: f"{ins[0]} {symbol} {ins[1]}", into)


def _axis_keywords(e: Eqn) -> str:
    axis, keep = e.params["axis"], e.params["keepdims"]
    words = [] if axis is None else [f"axis={axis[0] if len(axis) == 1 else axis}"]
    return ", ".join(words + (["keepdims=True"] if keep else []))


def method_reduction(e: Eqn, ins: Sequence[str]) -> str:
    """x.sum(axis=...), x.mean(...)"""
    return f"{ins[0]}.{e.op.name}({_axis_keywords(e)})"


def function_reduction(e: Eqn, ins: Sequence[str]) -> str:
    """np.max(x, axis=...), np.prod(...)"""
    words = _axis_keywords(e)
    return f"np.{e.op.name}({ins[0]}{', ' + words if words else ''})"


def index_code(e: Eqn, ins: Sequence[str], first: int) -> str:
    """The index of a getitem or scatter, its arrays (from input `first` on) by name."""
    return P.index_text(e.params["template"], list(ins[first:]))


def matmul(e: Eqn, ins: Sequence[str]) -> str:
    a, b = ins
    return f"({b}.T @ {a}.T).T" if e.layout == "F" else f"{a} @ {b}"


def outer(e: Eqn, ins: Sequence[str]) -> str:
    a, b = ins
    return (f"np.multiply.outer({b}, {a}).T" if e.layout == "F"
            else f"np.multiply.outer({a}, {b})")


def transpose(e: Eqn, ins: Sequence[str]) -> str:
    axes = e.params["axes"]
    return f"{ins[0]}.T" if axes == tuple(reversed(range(len(axes)))) else (
        f"{ins[0]}.transpose({axes})")


def scatter_add(e: Eqn, ins: Sequence[str]) -> str:
    helper = "scatter_add" if len(ins) > 1 else "scatter"
    return f"{helper}({ins[0]}, {e.params['shape']}, np.s_[{index_code(e, ins, 1)}])"


def index_add(e: Eqn, ins: Sequence[str]) -> str:
    """Into a copy of the base (in place when the base is dead: `index_add_in_place`); np.array
    copies a 0-d base, which numpy computes as a scalar, into an array it can index."""
    helper = "index_add_at" if len(ins) > 2 else "index_add"
    return f"{helper}(np.array({ins[0]}), {ins[1]}, np.s_[{index_code(e, ins, 2)}])"


def index_add_in_place(e: Eqn, ins: Sequence[str]) -> str:
    base, values = ins[:2]
    if len(ins) > 2:  # integer arrays may repeat an entry: add at each occurrence
        return f"np.add.at({base}, np.s_[{index_code(e, ins, 2)}], {values})"
    return f"{base}[{index_code(e, ins, 2)}] += {values}"


def loop(e: Eqn, w: Any, ins: Sequence[str]) -> list[tuple[str, str]]:
    """A for loop over the body's lines: the loop's own copies of the carried arrays, updated
    in place where the body's buffer plan writes into them, else rebound to the new arrays."""
    n, body = e.params["carried"], e.params["body"]
    names = [w.fresh_name() for _ in e.outs]
    lines = [(f"{name} = np.array({x})", "the loop's own copy of the carry")
             for name, x in zip(names, ins[:n])]
    index = w.fresh_name("i")
    lines.append((f"for {index} in range({e.params['lower']}, {e.params['upper']}):",
                  e.op.label(e.params)))
    body_lines, results = w.body(body, [index, *names, *ins[n:]])
    lines += indented(body_lines)
    changed = [(name, text) for name, text in zip(names, results) if name != text]
    if changed:
        lines.append((f"    {', '.join(n for n, _ in changed)} = "
                      f"{', '.join(t for _, t in changed)}", "the next carry"))
    for out, name in zip(e.outs, names):
        w.names[id(out)] = name
    return lines


def array_module_lowerings(m: str) -> dict[type, Lowering]:
    """The lowerings that numpy and jax.numpy spell alike, but for the module's name `m`
    (`np`, `jnp`): shared by both backends' tables."""
    return {
        P.Pow: Lowering(lambda e, ins: f"{ins[0]} ** {e.params['p']!r}"),
        P.Getitem: Lowering(lambda e, ins: f"{ins[0]}[{index_code(e, ins, 1)}]"),
        P.Cumsum: Lowering(lambda e, ins: f"{m}.cumsum({ins[0]}, axis={e.params['axis']})"),
        P.Reshape: Lowering(lambda e, ins: f"{ins[0]}.reshape({e.params['new_shape']})"),
        P.BroadcastTo: Lowering(lambda e, ins: f"{m}.broadcast_to({ins[0]}, "
                                               f"{e.params['new_shape']})"),
        P.Cast: Lowering(lambda e, ins: f"{ins[0]}.astype({m}.{e.params['dtype'].name})"),
        P.Einsum: Lowering(lambda e, ins: f"{m}.einsum({e.params['subscripts']!r}, "
                                          f"{', '.join(ins)})"),
        P.Concatenate: Lowering(lambda e, ins: f"{m}.concatenate(({', '.join(ins)},), "
                                               f"axis={e.params['axis']})"),
        P.Where: Lowering(lambda e, ins: f"{m}.where({ins[2]}, {ins[0]}, {ins[1]})"),
        P.StopGradient: Lowering(lambda e, ins: ins[0]),
    }


TABLE: dict[type, Lowering] = {op: ufunc(op) for op in P.primitives() if op.ufunc is not None}
TABLE.update({
    P.Add: operator("+", commutative=True), P.Sub: operator("-"),
    P.Mul: operator("*", commutative=True), P.Div: operator("/"),
    **{op: operator(op.symbol) for op in P.primitives() if issubclass(op, P._Comparison)},
    P.Neg: Lowering(lambda e, ins: f"-{ins[0]}", _ufunc_into),
    P.Matmul: Lowering(matmul),
    P.Outer: Lowering(outer),
    P.ScatterAdd: Lowering(scatter_add),
    P.IndexAdd: Lowering(index_add, in_place=index_add_in_place),
    P.Sum: Lowering(method_reduction), P.Mean: Lowering(method_reduction),
    P.Prod: Lowering(function_reduction), P.Max: Lowering(function_reduction),
    P.Min: Lowering(function_reduction),
    P.Transpose: Lowering(transpose),
    **array_module_lowerings("np"),
    Loop: Lowering(block=loop),
})


def _value(name: str, v: Var) -> str:
    """float() of a numpy float costs a tenth of .item(); a one-element array needs .item()."""
    return f"float({name})" if v.dtype.kind == "f" and v.shape == () else f"{name}.item()"


NUMPY = Backend(
    name="numpy", module="np", table=TABLE, namespace={"np": np, **HELPERS},
    value=_value, copy=lambda name, dtype: f"np.array({name}, dtype=np.{dtype.name})",
    reserved=frozenset({"np", "float", *HELPERS}),
)
NUMPY.passes = (
    ("layout", passes.in_loop_bodies(passes.choose_layout)),
    ("buffers", passes.in_loop_bodies(lambda program: passes.plan_buffers(
        program, NUMPY.writes_out, NUMPY.updates_in_place))),
)
