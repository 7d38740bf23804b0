"""The compiler's passes. Each takes a `Program` and returns a new one that computes the same
values, leaving its input as it was; each is small and tested on its own
(tests/test_compiler_passes.py).

- `eliminate_dead_code`: drop equations no output needs (gradients of constants, unused values);
- `fold_constants`: evaluate equations whose operands are all constants, once, at compile time;
- `eliminate_common_subexpressions`: compute each (op, operands, params) once;
- `simplify` (rewrite.py): algebra, as a table of named rules;
- `choose_layout`: tall matrix products computed column-major;
- `plan_buffers`: liveness over the program, so that elementwise results are written (`out=`)
  into arrays that are dead by then, and the outputs the caller may keep are known.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

from .. import ops as P
from .ir import Const, Eqn, Loop, Operand, Program, Var
from .rewrite import Replacement, rewrite_program, simplify  # noqa: F401  (a pass, listed here)


def aliases_input(e: Eqn) -> bool:
    """May e's result share memory with its first input? (numpy returns a view for these: basic
    indexing, reshape, transpose, broadcast_to, and einsum of one operand, e.g. 'ij->ji')."""
    return (e.op in (P.Reshape, P.Transpose, P.BroadcastTo, P.StopGradient)
            or e.op in (P.Getitem, P.Einsum) and len(e.ins) == 1)


def in_loop_bodies(run: Any) -> Any:
    """The pass `run`, applied to a program and then to every loop body in it (a body is a
    program of its own: each pass runs on it as on any)."""
    @functools.wraps(run)
    def recursive(program: Program) -> Program:
        program = run(program)
        eqns = [replace(e, params={**e.params, "body": recursive(e.params["body"])})
                if e.op is Loop else e for e in program.eqns]
        return program.but(eqns=eqns) if any(e.op is Loop for e in eqns) else program
    return recursive


def hoist_loop_invariants(program: Program) -> Program:
    """Compute before a loop what its body computes from neither the loop index nor the carry
    (a transpose of the data, say): the results become values the body reads from outside."""
    eqns: list[Eqn] = []
    for e in program.eqns:
        if e.op is not Loop:
            eqns.append(e)
            continue
        body, n = e.params["body"], e.params["carried"]
        varying = {id(v) for v in body.inputs[:1 + n]}
        to_outer = {id(v): x for v, x in zip(body.inputs[1 + n:], e.ins[n:])}  # captured
        to_inner: dict[int, Var] = {}  # a hoisted result -> the body's input for it
        kept, hoisted, inputs, ins = [], [], list(body.inputs), list(e.ins)
        for be in body.eqns:
            if be.op is Loop or any(isinstance(x, Var) and id(x) in varying for x in be.ins):
                varying.update(id(o) for o in be.outs)
                kept.append(be.with_ins(to_inner.get(id(x), x) for x in be.ins))
                continue
            hoisted.append(be.with_ins(to_outer.get(id(x), x) for x in be.ins))
            to_outer[id(be.out)] = be.out  # a value of the enclosing program now
            to_inner[id(be.out)] = inside = Var(f"{be.out.name}_in", be.out.shape, be.out.dtype)
            inputs.append(inside)
            ins.append(be.out)
        if hoisted:
            outputs = [to_inner.get(id(x), x) for x in body.outputs]
            e = replace(e, ins=tuple(ins), params={**e.params, "body": body.but(
                inputs=inputs, eqns=kept, outputs=outputs,
                arguments=[*body.arguments, *(v.name for v in inputs[len(body.inputs):])])})
        eqns += [*hoisted, e]
    return program.but(eqns=eqns)


def eliminate_dead_code(program: Program) -> Program:
    live = {id(x) for x in program.outputs if isinstance(x, Var)}
    kept = []
    for e in reversed(program.eqns):
        if any(id(o) in live for o in e.outs):
            kept.append(e)
            live.update(id(x) for x in e.ins if isinstance(x, Var))
    return program.but(eqns=kept[::-1])


def fold_constants(program: Program) -> Program:
    """Evaluate equations whose operands are all constants the compiler may compute with (see
    `ir.Const`), unless the result is larger than every operand (a broadcast that is a
    zero-stride view is kept folded: it costs no memory)."""
    def step(e: Eqn, defs: Any) -> Replacement:
        if e.op is Loop or not e.ins or not all(isinstance(x, Const) and x.foldable
                                                 for x in e.ins):
            return None
        with np.errstate(all="ignore"):  # inf and nan, as the program would compute them
            value = _one_number_as_broadcast(e.op.forward(*(x.value for x in e.ins), **e.params))
        array = np.asarray(value)
        nbytes = array.nbytes if any(array.strides or ()) else 0
        if nbytes <= max(np.asarray(x.value).nbytes for x in e.ins) or nbytes <= 64:
            return Const(value)
        return None

    return rewrite_program(program, step)[0]


def _one_number_as_broadcast(value: Any) -> Any:
    """An array holding one number (bit for bit) everywhere as that number broadcast (zero
    strides: no memory, and the rules see the number it is); anything else as it is."""
    if not isinstance(value, np.ndarray) or value.size < 2 or not any(value.strides):
        return value
    flat = value.reshape(-1)
    bits = flat.view(f"u{flat.dtype.itemsize}") if flat.dtype.kind in "fiu" else flat
    if (bits == bits[0]).all():
        return np.broadcast_to(flat[:1].reshape(()).copy(), value.shape)
    return value


def _operand_key(x: Operand) -> Any:
    if isinstance(x, Var):
        return ("var", id(x))
    v = x.value
    if isinstance(v, int | float):  # floats by their bits: x*0.0 and x*-0.0 are two values
        return ("number", type(v), v.hex() if isinstance(v, float) else v)
    return ("array", id(v))


def eliminate_common_subexpressions(program: Program) -> Program:
    seen: dict[Any, Var] = {}

    def step(e: Eqn, defs: Any) -> Replacement:
        if e.op is Loop:
            return None
        key = (e.op, tuple(_operand_key(x) for x in e.ins), repr(sorted(e.params.items())))
        if key in seen:
            return seen[key]
        seen[key] = e.out
        return None

    return rewrite_program(program, step)[0]


# ---- layout and buffers -------------------------------------------------------------------------
def choose_layout(program: Program) -> Program:
    """A tall product (N, K) = (N, D) @ (D, K), N > K, or a tall outer product, is computed as
    the transpose of a C-ordered (K, N): numpy's elementwise loops then run along N."""
    def tall(e: Eqn) -> bool:
        if e.op is P.Matmul:
            a, b = e.ins
            return len(a.shape) == 2 and len(b.shape) == 2 and a.shape[0] > b.shape[1]
        return e.op is P.Outer and e.out.shape[0] > e.out.shape[1]

    return program.but(eqns=[replace(e, layout="F") if tall(e) else e for e in program.eqns])


def layout_of(e: Eqn, layouts: dict[int, str], root: dict[int, Var]) -> str:
    """"F" for a column-major result: a tall product, or elementwise on a column-major input."""
    if e.layout:
        return e.layout
    full = [x for x in e.ins if isinstance(x, Var) and x.shape == e.out.shape]
    return layouts.get(id(root.get(id(full[0]), full[0])), "C") if full else "C"


def plan_buffers(program: Program, writes_out: Callable[[type], bool] = lambda op: op.ufunc
                 is not None, updates_in_place: Callable[[type], bool] = lambda op: op is
                 P.IndexAdd) -> Program:
    """Write elementwise results into arrays that are dead by then (same shape, dtype, layout).

    `writes_out(op)`: can the backend write op's result into a given array (numpy's `out=`);
    `updates_in_place(op)`: can it update op's first operand in place (`base[i] += v`).
    An array may be reused once nothing reads it, or any view of it, later; the program's
    inputs, constants and outputs are never written. So a call allocates each array it needs
    once, and no array outlives the call except the outputs (nothing is kept between calls).
    Also finds the outputs that are arrays of the program's own, not returned twice
    (`Program.fresh_outputs`): the printer copies every other one. The inputs listed in
    `Program.writable` (a loop body's carried arrays, which the loop owns) may be written once
    dead, as the program's own arrays may.
    """
    eqns = list(program.eqns)
    n = len(eqns)
    last_use: dict[int, int] = {}
    for i, e in enumerate(eqns):
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
    for k in program.writable:
        v = program.inputs[k]
        root[id(v)], root_last[id(v)] = v, last_use.get(id(v), -1)
        owned.add(id(v))
        if v.shape and v.size > 1:
            free.append(v)
    for i, e in enumerate(eqns):
        out = e.out
        if e.op is Loop:  # its results are arrays of its own (copies of the initial carry)
            for o in e.outs:
                root[id(o)], root_last[id(o)] = o, last_use.get(id(o), -1)
                owned.add(id(o))
            continue
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
        first = e.ins[0] if e.ins else None
        if updates_in_place(e.op) and isinstance(first, Var) and out.shape:  # into a dead
            # base, in place (a 0-d one is a numpy scalar: not an array to write into)
            base = root.get(id(first), first)  # only into a whole array, not into a view
            if id(first) not in views and id(base) in owned and root_last[id(base)] <= i:
                eqns[i] = replace(e, in_place=True)
                root[id(out)] = base
                root_last[id(base)] = last_use.get(id(out), -1)
                continue
        if writes_out(e.op) and out.shape and out.size > 1:
            dead = [r for r in free if root_last[id(r)] <= i]
            match = next((r for r in dead if r.shape == out.shape and r.dtype == out.dtype
                          and layouts.get(id(r), "C") == layout), None)
            if match is not None:  # it stays in `free`: reusable again once `out` is dead
                eqns[i] = replace(e, buffer=match)
                root[id(out)] = match
                root_last[id(match)] = last_use.get(id(out), -1)
                continue
        root[id(out)] = out
        root_last[id(out)] = last_use.get(id(out), -1)
        layouts[id(out)] = layout
        owned.add(id(out))
        if out.shape and out.size > 1:
            free.append(out)
    fresh, returned = set(), set()
    for k, x in enumerate(program.outputs):
        r = root.get(id(x)) if isinstance(x, Var) else None
        if (r is not None and id(r) in owned and id(x) not in views and id(r) not in returned
                and x.shape and layouts.get(id(r), "C") == "C"):
            fresh.add(k)
        if r is not None:
            returned.add(id(r))
    return program.but(eqns=eqns, fresh_outputs=frozenset(fresh))


def allocated_bytes(program: Program) -> tuple[int, int]:
    """(bytes of the arrays one call allocates, bytes it writes into reused buffers instead)."""
    fresh = reused = 0
    for e in program.eqns:
        if aliases_input(e):
            continue
        if e.buffer is not None or e.in_place:
            reused += e.out.nbytes
        else:
            fresh += e.out.nbytes
    return fresh, reused
