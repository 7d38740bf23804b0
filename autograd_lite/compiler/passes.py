"""The compiler's passes. Each takes a `Program` and returns one that computes the same values;
each is small and tested on its own (tests/test_compiler_passes.py).

- `eliminate_dead_code`: drop equations no output needs (gradients of constants, unused values);
- `fold_constants`: evaluate equations whose operands are all constants, once, at compile time;
- `eliminate_common_subexpressions`: compute each (op, operands, params) once;
- `simplify`: algebra, equation by equation (x*1, x+0, --x, pow 2 as a multiply, chains of
  scalar factors folded, a broadcast constant used as the scalar it is, the sum of a broadcast
  scalar as a multiply, sum(x*x) as a dot product, outer products and scatter-adds recognised);
- `choose_layout`: tall matrix products computed column-major;
- `plan_buffers`: liveness over the program, so that elementwise results are written (`out=`)
  into arrays that are dead by then.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np

from .. import ops as P
from .ir import Const, Eqn, Operand, Program, Var


# ---- operations only the compiler writes (programs are never differentiated again) -------------
class Outer:
    """outer(a, b) = a[:, None] * b[None, :] for vectors (what matmul's rules spell with views)."""
    name, ufunc = "outer", None

    @staticmethod
    def forward(a, b): return np.multiply.outer(a, b)


class IndexAdd:
    """base with values added at index: base + scatter_add(values), without the zeros."""
    name, ufunc = "index_add", None

    @staticmethod
    def forward(base, values, *index, template):
        out = np.array(base)
        where = P.fill_index(template, index)
        if index:
            np.add.at(out, where, values)
        else:
            out[where] += values
        return out


def aliases_input(e: Eqn) -> bool:
    """May e's result share memory with its first input? (numpy returns a view for these: basic
    indexing, reshape, transpose, broadcast_to, and einsum of one operand, e.g. 'ij->ji')."""
    return (e.op in (P.Reshape, P.Transpose, P.BroadcastTo, P.StopGradient)
            or e.op in (P.Getitem, P.Einsum) and len(e.ins) == 1)


#: Arrays at least this large are worth an extra numpy call to avoid allocating (page faults and
#: memory traffic); below it, numpy's allocator is cheaper than the call.
LARGE_BYTES = 1 << 16


def eliminate_dead_code(program: Program) -> Program:
    live = {id(x) for x in program.outputs if isinstance(x, Var)}
    kept = []
    for e in reversed(program.eqns):
        if id(e.out) in live:
            kept.append(e)
            live.update(id(x) for x in e.ins if isinstance(x, Var))
    program.eqns = kept[::-1]
    return program


def fold_constants(program: Program) -> Program:
    """Evaluate all-constant equations, unless the result is larger than every operand (a
    broadcast that is a zero-stride view is kept folded: it costs no memory)."""
    mapping: dict[int, Operand] = {}
    kept = []
    for e in program.eqns:
        e.ins = [mapping.get(id(x), x) for x in e.ins]
        if e.ins and all(isinstance(x, Const) for x in e.ins):
            value = e.op.forward(*(x.value for x in e.ins), **e.params)
            nbytes = np.asarray(value).nbytes if any(np.asarray(value).strides or ()) else 0
            if nbytes <= max(np.asarray(x.value).nbytes for x in e.ins) or nbytes <= 64:
                mapping[id(e.out)] = Const(value)
                continue
        kept.append(e)
    program.eqns = kept
    program.outputs = [mapping.get(id(x), x) for x in program.outputs]
    return program


def _operand_key(x: Operand) -> Any:
    if isinstance(x, Var):
        return ("var", id(x))
    v = x.value
    if isinstance(v, int | float):  # floats by their bits: x*0.0 and x*-0.0 are two values
        return ("number", type(v), v.hex() if isinstance(v, float) else v)
    return ("array", id(v))


def eliminate_common_subexpressions(program: Program) -> Program:
    mapping: dict[int, Operand] = {}
    seen: dict[Any, Var] = {}
    kept = []
    for e in program.eqns:
        e.ins = [mapping.get(id(x), x) for x in e.ins]
        key = (e.op, tuple(_operand_key(x) for x in e.ins), repr(sorted(e.params.items())))
        if key in seen:
            mapping[id(e.out)] = seen[key]
            continue
        seen[key] = e.out
        kept.append(e)
    program.eqns = kept
    program.outputs = [mapping.get(id(x), x) for x in program.outputs]
    return program


# ---- algebraic simplification -------------------------------------------------------------------
class _Rewriter:
    """One sweep of local rewrites; `defs` maps each variable to the equation defining it."""

    def __init__(self, program: Program) -> None:
        self.program = program
        self.defs: dict[int, Eqn] = {}
        self.count = 0

    def new_var(self, shape: tuple[int, ...], dtype: np.dtype) -> Var:
        self.count += 1
        return Var(f"s{self.count}", tuple(shape), np.dtype(dtype))

    def made_by(self, x: Operand, op: Any) -> Eqn | None:
        e = self.defs.get(id(x)) if isinstance(x, Var) else None
        return e if e is not None and e.op is op else None

    def rewrite(self, e: Eqn) -> Operand | list[Eqn] | None:
        """What e.out equals: an operand (e is dropped), equations ending in e.out, or None."""
        op, ins, out = e.op, e.ins, e.out

        def same(x: Operand) -> bool:
            return tuple(x.shape) == out.shape and np.dtype(x.dtype) == out.dtype

        def scalar(x: Operand) -> float | None:
            return x.scalar() if isinstance(x, Const) else None

        def eqn(op: Any, ins: list, params: dict | None = None, to: Var = out) -> Eqn:
            return Eqn(op, ins, params or {}, to, e.note, e.origin)

        if op.ufunc is not None and len(ins) == 2:  # a broadcast constant: the scalar it holds
            for k in (0, 1):
                c, other = ins[k], ins[1 - k]
                if (isinstance(c, Const) and not isinstance(c.value, int | float)
                        and scalar(c) is not None and same(other)):
                    new = list(ins)
                    new[k] = Const(float(scalar(c)))
                    return [replace(e, ins=new)]
        if op is P.Mul:
            a, b = ins
            for x, c in ((a, scalar(b)), (b, scalar(a))):
                if c is None or not isinstance(x, Var):
                    continue
                if c == 1 and same(x):
                    return x
                inner = self.defs.get(id(x))
                if inner is None:
                    continue
                if inner.op is P.Neg and same(inner.ins[0]):
                    return [eqn(P.Mul, [inner.ins[0], Const(-c)])]
                if inner.op in (P.Mul, P.Div):
                    y, d = inner.ins
                    factor = scalar(d)
                    if inner.op is P.Mul and factor is None:
                        y, factor = d, scalar(y)
                    if factor is not None and same(y):
                        scale = c * factor if inner.op is P.Mul else c / factor
                        return [eqn(P.Mul, [y, Const(scale)])]
            for x, y in ((a, b), (b, a)):  # outer(s, w) * H = (H * s[:, None]) * w, no outer
                outer = self.made_by(x, Outer)
                if (outer is not None and same(y) and len(out.shape) == 2
                        and out.size * out.dtype.itemsize >= LARGE_BYTES):
                    s_, w_ = outer.ins
                    column = self.new_var((s_.shape[0], 1), s_.dtype)
                    scaled = self.new_var(out.shape, out.dtype)
                    return [eqn(P.Getitem, [s_], {"template": (slice(None), None),
                                                  "shape": s_.shape}, column),
                            eqn(P.Mul, [y, column], None, scaled), eqn(P.Mul, [scaled, w_])]
            for x, y in ((a, b), (b, a)):  # x[..., None] * y: an outer product of vectors
                view = self.made_by(x, P.Getitem)
                if (view is not None and view.params["template"] == (Ellipsis, None)
                        and len(view.ins) == 1 and len(view.ins[0].shape) == 1
                        and len(y.shape) == 1):
                    return [eqn(Outer, [view.ins[0], y])]
        if op is P.Div and scalar(ins[1]) == 1 and same(ins[0]):
            return ins[0]
        if op in (P.Add, P.Sub):
            a, b = ins
            if scalar(b) == 0 and same(a):
                return a
            if op is P.Add and scalar(a) == 0 and same(b):
                return b
            negated = self.made_by(b, P.Neg)
            if negated is not None and same(a) and same(negated.ins[0]):
                return [eqn(P.Sub if op is P.Add else P.Add, [a, negated.ins[0]])]
            if op is P.Add:
                for base, part in ((a, b), (b, a)):
                    scatter = self.made_by(part, P.ScatterAdd)
                    if scatter is not None and same(base) and same(part):
                        return [eqn(IndexAdd, [base, *scatter.ins],
                                    {"template": scatter.params["template"]})]
        if op is P.Neg:
            inner = self.defs.get(id(ins[0])) if isinstance(ins[0], Var) else None
            if inner is not None and inner.op is P.Neg and same(inner.ins[0]):
                return inner.ins[0]
            if inner is not None and inner.op is P.Mul:
                y, c = inner.ins
                if scalar(c) is None:
                    y, c = c, y
                if scalar(c) is not None and same(y):
                    return [eqn(P.Mul, [y, Const(-scalar(c))])]
        if op is P.Pow:
            x, p = ins[0], e.params["p"]
            if p == 1 and same(x):
                return x
            if p == 2:
                return [eqn(P.Mul, [x, x])]
        if op in (P.Sum, P.Mean) and e.params["axis"] is None and not e.params["keepdims"]:
            square = self.made_by(ins[0], P.Mul)
            if square is not None and square.ins[0] is square.ins[1] and isinstance(
                    square.ins[0], Var) and square.ins[0].dtype.kind == "f":
                x = square.ins[0]
                steps = []
                if len(x.shape) != 1:
                    flat = self.new_var((x.size,), x.dtype)
                    steps.append(eqn(P.Reshape, [x], {"new_shape": (-1,), "shape": x.shape},
                                     flat))
                    x = flat
                if op is P.Sum:
                    return steps + [eqn(P.Matmul, [x, x])]
                dot = self.new_var((), out.dtype)
                return steps + [eqn(P.Matmul, [x, x], None, dot),
                                eqn(P.Div, [dot, Const(x.size)])]
            spread = self.made_by(ins[0], P.BroadcastTo)
            if op is P.Sum and spread is not None and math.prod(spread.ins[0].shape) == 1:
                one = spread.ins[0]
                if one.shape != ():
                    flat = self.new_var((), one.dtype)
                    return [eqn(P.Reshape, [one], {"new_shape": (), "shape": one.shape}, flat),
                            eqn(P.Mul, [flat, Const(math.prod(e.params["shape"]))])]
                return [eqn(P.Mul, [one, Const(math.prod(e.params["shape"]))])]
        if op is P.Reshape:  # sum(..., keepdims=True) then reshaped to drop the kept axes
            total = self.made_by(ins[0], P.Sum)
            if total is not None and total.params["keepdims"] and total.params["axis"]:
                kept = total.params["shape"]
                dropped = tuple(n for i, n in enumerate(kept) if i not in total.params["axis"])
                if dropped == out.shape:
                    return [eqn(P.Sum, total.ins, {**total.params, "keepdims": False})]
        if op is P.Getitem and e.params["template"] == (Ellipsis, 0) and len(ins) == 1:
            product = self.made_by(ins[0], P.Matmul)
            if product is not None:
                matrix, column = product.ins
                view = self.made_by(column, P.Getitem)
                if (view is not None and view.params["template"] == (Ellipsis, None)
                        and len(matrix.shape) == 2 and len(view.ins[0].shape) == 1):
                    return [eqn(P.Matmul, [matrix, view.ins[0]])]
        return None


def simplify(program: Program, max_sweeps: int = 20) -> Program:
    """Rewrite equation by equation until nothing changes; dead producers are left to DCE."""
    rewriter = _Rewriter(program)
    for _ in range(max_sweeps):
        changed = False
        mapping: dict[int, Operand] = {}
        kept = []
        rewriter.defs = {}
        for e in program.eqns:
            e.ins = [mapping.get(id(x), x) for x in e.ins]
            result = rewriter.rewrite(e)
            if result is None:
                rewriter.defs[id(e.out)] = e
                kept.append(e)
                continue
            changed = True
            if isinstance(result, Var | Const):
                mapping[id(e.out)] = result
            else:
                for new in result:
                    rewriter.defs[id(new.out)] = new
                    kept.append(new)
        program.eqns = kept
        program.outputs = [mapping.get(id(x), x) for x in program.outputs]
        if not changed:
            break
    return program


# ---- layout and buffers -------------------------------------------------------------------------
def choose_layout(program: Program) -> Program:
    """A tall product (N, K) = (N, D) @ (D, K), N > K, or a tall outer product, is computed as
    the transpose of a C-ordered (K, N): numpy's elementwise loops then run along N."""
    for e in program.eqns:
        a, b = (e.ins + [None, None])[:2]
        if e.op is P.Matmul and len(a.shape) == 2 and len(b.shape) == 2 and (
                a.shape[0] > b.shape[1]):
            e.layout = "F"
        elif e.op is Outer and e.out.shape[0] > e.out.shape[1]:
            e.layout = "F"
    return program


def layout_of(e: Eqn, layouts: dict[int, str], root: dict[int, Var]) -> str:
    """"F" for a column-major result: a tall product, or elementwise on a column-major input."""
    if e.layout:
        return e.layout
    full = [x for x in e.ins if isinstance(x, Var) and x.shape == e.out.shape]
    return layouts.get(id(root.get(id(full[0]), full[0])), "C") if full else "C"


def plan_buffers(program: Program) -> Program:
    """Write elementwise results into arrays that are dead by then (same shape, dtype, layout).

    An array may be reused once nothing reads it, or any view of it, later; the program's
    inputs, constants and outputs are never written. So a call allocates each array it needs
    once, and no array outlives the call except the outputs (nothing is kept between calls).
    """
    n = len(program.eqns)
    last_use: dict[int, int] = {}
    for i, e in enumerate(program.eqns):
        for x in e.ins:
            if isinstance(x, Var):
                last_use[id(x)] = i
    for x in program.outputs:
        if isinstance(x, Var):
            last_use[id(x)] = n + 1  # never dead
    root: dict[int, Var] = {}  # the variable whose array holds each variable's values
    root_last: dict[int, int] = {}  # per root: the last read of it or of any view of it
    owned: set[int] = set()  # roots the program allocated (not inputs, not constants)
    layouts: dict[int, str] = {}
    views: set[int] = set()  # variables that may be views (part, or a broadcast) of their root
    free: list[Var] = []
    for i, e in enumerate(program.eqns):
        out = e.out
        if aliases_input(e):
            source = e.ins[0]
            r = root.get(id(source), source) if isinstance(source, Var) else None
            if r is None:  # a view of a constant: never written, never reused
                root[id(out)] = out
                root_last[id(out)] = last_use.get(id(out), -1)
                continue
            views.add(id(out))
            root[id(out)] = r
            root_last[id(r)] = max(root_last.get(id(r), -1), last_use.get(id(out), -1))
            continue
        layout = layout_of(e, layouts, root)
        if e.op is IndexAdd and isinstance(e.ins[0], Var):  # add in place into a dead base
            base = root.get(id(e.ins[0]), e.ins[0])  # only into a whole array, not into a view
            if id(e.ins[0]) not in views and id(base) in owned and root_last[id(base)] <= i:
                e.buffer = base
                root[id(out)] = base
                root_last[id(base)] = last_use.get(id(out), -1)
                continue
        if e.op.ufunc is not None and out.shape and out.size > 1:
            dead = [r for r in free if root_last[id(r)] <= i]
            match = next((r for r in dead if r.shape == out.shape and r.dtype == out.dtype
                          and layouts.get(id(r), "C") == layout), None)
            if match is not None:  # it stays in `free`: reusable again once `out` is dead
                e.buffer = match
                root[id(out)] = match
                root_last[id(match)] = last_use.get(id(out), -1)
                continue
        root[id(out)] = out
        root_last[id(out)] = last_use.get(id(out), -1)
        layouts[id(out)] = layout
        owned.add(id(out))
        if out.shape and out.size > 1:
            free.append(out)
    return program


def allocated_bytes(program: Program) -> tuple[int, int]:
    """(bytes of the arrays one call allocates, bytes it writes into reused buffers instead)."""
    fresh = reused = 0
    for e in program.eqns:
        if aliases_input(e):
            continue
        nbytes = e.out.size * e.out.dtype.itemsize
        if e.buffer is not None:
            reused += nbytes
        else:
            fresh += nbytes
    return fresh, reused
