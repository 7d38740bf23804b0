"""Rewriting programs: the one substitute-and-keep loop, and the algebra pass as a table of rules.

`rewrite_program(program, step)` is the loop every rewriting pass shares (constant folding,
common subexpressions, algebra): each equation, with its operands substituted by what earlier
steps replaced them with, is offered to `step`, which keeps it (None), replaces its result by an
operand (the equation goes), or replaces it by a list of equations (the last one defines the
same result).

The algebra pass (`simplify`) is a table of small named rules, as tinygrad's `PatternMatcher`
reads: each rule matches one primitive (`ops`), looks at the equations that defined its operands,
and returns the replacement or None. Its docstring is its pattern, `pattern -> replacement`;
`exact` says when the replacement computes exactly what the pattern computes (bit for bit, or up
to which rounding). `RULES` lists them in the order they are tried; `simplify(program, rules)`
runs any subset, so each rule is tested alone (tests/test_compiler_rewrite.py).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import ops as P
from .ir import Const, Eqn, Operand, Program, Var

Replacement = Operand | list[Eqn] | None


def rewrite_program(program: Program,
                    step: Callable[[Eqn, dict[int, Eqn]], Replacement]) -> tuple[Program, int]:
    """(the program with `step` applied to every equation, how many it changed).

    `step(e, defs)` sees e with substituted operands and `defs`, the equation that defines each
    variable kept so far (by id); see the module docstring for what it returns.
    """
    mapping: dict[int, Operand] = {}
    defs: dict[int, Eqn] = {}
    kept: list[Eqn] = []
    changed = 0
    for e in program.eqns:
        e = e.with_ins(mapping.get(id(x), x) for x in e.ins)
        result = step(e, defs)
        if result is None:
            new = [e]
        elif isinstance(result, Var | Const):
            mapping[id(e.out)] = result
            new = []
        else:
            new = result
        changed += result is not None
        for n in new:
            defs[id(n.out)] = n
        kept += new
    outputs = [mapping.get(id(x), x) for x in program.outputs]
    return program.but(eqns=kept, outputs=outputs), changed


# ---- the rule table -----------------------------------------------------------------------------
class Match:
    """What a rule sees of one equation `e`: its operands' defining equations and helpers."""

    _names = itertools.count(1)

    def __init__(self, e: Eqn, defs: dict[int, Eqn]) -> None:
        self.e, self.defs = e, defs

    def made_by(self, x: Operand, *ops: type) -> Eqn | None:
        """The equation that defines x, if it applies one of `ops`."""
        d = self.defs.get(id(x)) if isinstance(x, Var) else None
        return d if d is not None and d.op in ops else None

    def same(self, x: Operand) -> bool:
        """Has x the shape and dtype of e's result (so that it can stand for it)?"""
        out = self.e.out
        return tuple(x.shape) == out.shape and np.dtype(x.dtype) == out.dtype

    @staticmethod
    def number(x: Operand) -> float | None:
        """The one number a constant holds everywhere, else None."""
        return x.scalar() if isinstance(x, Const) else None

    def var(self, shape: tuple[int, ...], dtype: Any) -> Var:
        return Var(f"s{next(self._names)}", tuple(shape), np.dtype(dtype))

    def eqn(self, op: type, ins: Sequence[Operand], params: dict | None = None,
            to: Var | None = None) -> Eqn:
        """An equation in e's place (its note and origin), defining `to` (default e's result)."""
        return Eqn(op, tuple(ins), params or {}, to or self.e.out, self.e.note, self.e.origin)


@dataclass(frozen=True)
class Rule:
    name: str
    ops: tuple[type, ...] | None  # the primitives it rewrites (None: any)
    rewrite: Callable[[Match], Replacement]
    exact: str  # when the replacement computes exactly what the pattern does

    @property
    def pattern(self) -> str:
        return (self.rewrite.__doc__ or "").strip()


RULES: list[Rule] = []


def rule(*ops: type, exact: str) -> Callable[[Callable[[Match], Replacement]], Rule]:
    """Register the decorated function as a rule for `ops` (none: every primitive)."""
    def register(rewrite: Callable[[Match], Replacement]) -> Rule:
        r = Rule(rewrite.__name__, ops or None, rewrite, exact)
        RULES.append(r)
        return r
    return register


def _fold(c: float, d: float, divide: bool) -> float | None:
    """The factor c * d (or c / d) that replaces `(y * d) * c` (or `(y / d) * c`), or None where
    folding could change a result beyond rounding: the factors and the folded one must be finite
    and non-zero (0 * inf, y / 0 and inf - inf stay numpy's), and the two steps must scale on
    the same side of 1 in magnitude (then the intermediate y * d overflows or underflows only
    where the folded product does too)."""
    with np.errstate(all="ignore"):
        folded = float(np.divide(c, d) if divide else np.multiply(c, d))
    if not all(math.isfinite(v) and v != 0.0 for v in (c, d, folded)):
        return None
    first_shrinks = abs(d) >= 1.0 if divide else abs(d) <= 1.0
    first_grows = abs(d) <= 1.0 if divide else abs(d) >= 1.0
    return folded if (first_shrinks and abs(c) <= 1.0) or (first_grows and abs(c) >= 1.0) \
        else None


@rule(exact="always: the number, and the result's dtype, are the constant's")
def broadcast_constant_as_scalar(m: Match) -> Replacement:
    """op(c, x) -> op(float(c), x), c a constant array holding one number, x of the result's
    shape and dtype (a binary ufunc)"""
    e = m.e
    if e.op.ufunc is None or len(e.ins) != 2:
        return None
    for k in (0, 1):
        c, other = e.ins[k], e.ins[1 - k]
        if (isinstance(c, Const) and not isinstance(c.value, int | float)
                and m.number(c) is not None and m.same(other)):
            ins = list(e.ins)
            ins[k] = Const(float(m.number(c)))
            return [m.eqn(e.op, ins, e.params)]
    return None


@rule(P.Mul, exact="always (x * 1.0 is x, -0.0 and nan included)")
def mul_by_one(m: Match) -> Replacement:
    """x * 1 -> x"""
    for x, c in zip(m.e.ins, reversed(m.e.ins)):
        if m.number(c) == 1 and isinstance(x, Var) and m.same(x):
            return x
    return None


@rule(P.Mul, exact="always (a sign flip is exact)")
def mul_of_negation(m: Match) -> Replacement:
    """(-y) * c -> y * (-c), c a number"""
    for x, c in zip(m.e.ins, reversed(m.e.ins)):
        negation = m.made_by(x, P.Neg)
        if m.number(c) is not None and negation is not None and m.same(negation.ins[0]):
            return [m.eqn(P.Mul, [negation.ins[0], Const(-m.number(c))])]
    return None


@rule(P.Mul, exact="up to one rounding of the folded factor; only where both factors are "
                   "finite, non-zero and on the same side of 1 in magnitude (so no overflow, "
                   "underflow, 0 * inf or x / 0 of the original is lost or added)")
def mul_of_scaled(m: Match) -> Replacement:
    """(y * d) * c -> y * (c d);   (y / d) * c -> y * (c / d), c and d numbers"""
    for x, c in zip(m.e.ins, reversed(m.e.ins)):
        c = m.number(c)
        inner = m.made_by(x, P.Mul, P.Div)
        if c is None or inner is None:
            continue
        y, d = inner.ins
        factor = m.number(d)
        if inner.op is P.Mul and factor is None:
            y, factor = d, m.number(y)
        if factor is None or not m.same(y):
            continue
        scale = _fold(c, factor, divide=inner.op is P.Div)
        if scale is not None:
            return [m.eqn(P.Mul, [y, Const(scale)])]
    return None


#: Arrays at least this large are worth an extra numpy call to avoid allocating (page faults and
#: memory traffic); below it, numpy's allocator is cheaper than the call.
LARGE_BYTES = 1 << 16


@rule(P.Mul, exact="up to rounding: the three factors s_i w_j H_ij multiplied in another order "
                   "(the same numbers where no partial product overflows)")
def outer_times_matrix(m: Match) -> Replacement:
    """outer(s, w) * H -> (H * s[:, None]) * w, for a large H (the outer product is never
    materialised)"""
    out = m.e.out
    if len(out.shape) != 2 or out.nbytes < LARGE_BYTES:
        return None
    for x, H in zip(m.e.ins, reversed(m.e.ins)):
        outer = m.made_by(x, P.Outer)
        if outer is not None and m.same(H):
            s, w = outer.ins
            column, scaled = m.var((s.shape[0], 1), s.dtype), m.var(out.shape, out.dtype)
            return [m.eqn(P.Getitem, [s], {"template": (slice(None), None), "shape": s.shape},
                          column),
                    m.eqn(P.Mul, [H, column], None, scaled), m.eqn(P.Mul, [scaled, w])]
    return None


@rule(P.Mul, exact="always (the same products)")
def outer_of_vectors(m: Match) -> Replacement:
    """x[..., None] * y -> outer(x, y), x and y vectors"""
    for x, y in zip(m.e.ins, reversed(m.e.ins)):
        view = m.made_by(x, P.Getitem)
        if (view is not None and view.params["template"] == (Ellipsis, None)
                and len(view.ins) == 1 and len(view.ins[0].shape) == 1 and len(y.shape) == 1):
            return [m.eqn(P.Outer, [view.ins[0], y])]
    return None


@rule(P.Div, exact="always")
def div_by_one(m: Match) -> Replacement:
    """x / 1 -> x"""
    x, d = m.e.ins
    return x if m.number(d) == 1 and isinstance(x, Var) and m.same(x) else None


@rule(P.Add, P.Sub, exact="always: only the zero that leaves every x as it is (x + -0.0 and "
                          "x - 0.0; x + 0.0 would turn -0.0 into 0.0)")
def add_zero(m: Match) -> Replacement:
    """x + (-0.0) -> x;   x - 0.0 -> x;   (-0.0) + x -> x"""
    a, b = m.e.ins
    neutral = math.copysign(0.0, -1.0 if m.e.op is P.Add else 1.0)

    def is_neutral(c: Operand) -> bool:
        v = m.number(c)
        return v == 0 and math.copysign(1.0, v) == math.copysign(1.0, neutral)

    if is_neutral(b) and isinstance(a, Var) and m.same(a):
        return a
    if m.e.op is P.Add and is_neutral(a) and isinstance(b, Var) and m.same(b):
        return b
    return None


@rule(P.Add, P.Sub, exact="always (a + (-b) and a - b are the same IEEE operation)")
def add_negation(m: Match) -> Replacement:
    """a + (-b) -> a - b;   a - (-b) -> a + b"""
    a, b = m.e.ins
    negation = m.made_by(b, P.Neg)
    if negation is not None and m.same(a) and m.same(negation.ins[0]):
        return [m.eqn(P.Sub if m.e.op is P.Add else P.Add, [a, negation.ins[0]])]
    return None


@rule(P.Add, exact="always, but for the sign of a zero of base off the index (base + 0.0 is "
                   "0.0 where base is -0.0; index_add leaves it -0.0)")
def scatter_add_into_base(m: Match) -> Replacement:
    """base + scatter_add(v, index) -> index_add(base, v, index) (no array of zeros)"""
    a, b = m.e.ins
    for base, part in ((a, b), (b, a)):
        scatter = m.made_by(part, P.ScatterAdd)
        if scatter is not None and m.same(base) and m.same(part):
            return [m.eqn(P.IndexAdd, [base, *scatter.ins],
                          {"template": scatter.params["template"],
                           "shape": scatter.params["shape"]})]
    return None


@rule(P.Neg, exact="always")
def neg_of_neg(m: Match) -> Replacement:
    """-(-x) -> x"""
    inner = m.made_by(m.e.ins[0], P.Neg)
    return inner.ins[0] if inner is not None and m.same(inner.ins[0]) else None


@rule(P.Neg, exact="always (a sign flip is exact)")
def neg_of_scaled(m: Match) -> Replacement:
    """-(y * c) -> y * (-c), c a number"""
    inner = m.made_by(m.e.ins[0], P.Mul)
    if inner is None:
        return None
    for y, c in zip(inner.ins, reversed(inner.ins)):
        if m.number(c) is not None and m.same(y):
            return [m.eqn(P.Mul, [y, Const(-m.number(c))])]
    return None


@rule(P.Pow, exact="always (numpy computes x ** 2 as x * x, and x ** 1 is x)")
def small_powers(m: Match) -> Replacement:
    """x ** 1 -> x;   x ** 2 -> x * x"""
    x, p = m.e.ins[0], m.e.params["p"]
    if p == 1 and isinstance(x, Var) and m.same(x):
        return x
    if p == 2 and isinstance(x, Var) and x.dtype.kind == "f":
        return [m.eqn(P.Mul, [x, x])]
    return None


@rule(P.Sum, P.Mean, exact="up to rounding (a BLAS dot product sums in another order than "
                           "numpy's pairwise sum)")
def sum_of_squares_as_dot(m: Match) -> Replacement:
    """sum(x * x) -> x @ x;   mean(x * x) -> (x @ x) / n  (x flattened first)"""
    e = m.e
    if e.params["axis"] is not None or e.params["keepdims"]:
        return None
    square = m.made_by(e.ins[0], P.Mul)
    if square is None or square.ins[0] is not square.ins[1] or not isinstance(
            square.ins[0], Var) or square.ins[0].dtype.kind != "f":
        return None
    x = square.ins[0]
    steps = []
    if len(x.shape) != 1:
        flat = m.var((x.size,), x.dtype)
        steps.append(m.eqn(P.Reshape, [x], {"new_shape": (-1,), "shape": x.shape}, flat))
        x = flat
    if e.op is P.Sum:
        return steps + [m.eqn(P.Matmul, [x, x])]
    dot = m.var((), e.out.dtype)
    return steps + [m.eqn(P.Matmul, [x, x], None, dot), m.eqn(P.Div, [dot, Const(x.size)])]


@rule(P.Sum, exact="up to rounding (one multiplication for n additions of the same number)")
def sum_of_broadcast_number(m: Match) -> Replacement:
    """sum(broadcast_to(s, shape)) -> s * n, s holding one number"""
    e = m.e
    spread = m.made_by(e.ins[0], P.BroadcastTo)
    if (spread is None or e.params["axis"] is not None or e.params["keepdims"]
            or math.prod(spread.ins[0].shape) != 1):
        return None
    one, count = spread.ins[0], Const(math.prod(e.params["shape"]))
    if one.shape == ():
        return [m.eqn(P.Mul, [one, count])]
    flat = m.var((), one.dtype)
    return [m.eqn(P.Reshape, [one], {"new_shape": (), "shape": one.shape}, flat),
            m.eqn(P.Mul, [flat, count])]


@rule(P.Reshape, exact="always (the same array)")
def reshape_to_same_shape(m: Match) -> Replacement:
    """reshape(x, x.shape) -> x  (the node a transformation gives each argument it
    differentiates, inside a compiled function)"""
    x = m.e.ins[0]
    return x if isinstance(x, Var) and m.same(x) else None


@rule(P.Reshape, exact="always (the same sums)")
def reshape_of_kept_sum(m: Match) -> Replacement:
    """reshape(sum(x, axis, keepdims=True)) -> sum(x, axis), where the reshape only drops the
    kept axes"""
    total = m.made_by(m.e.ins[0], P.Sum)
    if total is None or not total.params["keepdims"] or not total.params["axis"]:
        return None
    kept = total.params["shape"]
    dropped = tuple(n for i, n in enumerate(kept) if i not in total.params["axis"])
    if dropped != m.e.out.shape:
        return None
    return [m.eqn(P.Sum, total.ins, {**total.params, "keepdims": False})]


@rule(P.Getitem, exact="up to rounding (BLAS may order a matrix-vector product's sums "
                       "differently from a matrix-matrix product's)")
def column_of_matrix_vector(m: Match) -> Replacement:
    """(M @ v[..., None])[..., 0] -> M @ v"""
    e = m.e
    if e.params["template"] != (Ellipsis, 0) or len(e.ins) != 1:
        return None
    product = m.made_by(e.ins[0], P.Matmul)
    if product is None:
        return None
    matrix, column = product.ins
    view = m.made_by(column, P.Getitem)
    if (view is not None and view.params["template"] == (Ellipsis, None)
            and len(matrix.shape) == 2 and len(view.ins[0].shape) == 1):
        return [m.eqn(P.Matmul, [matrix, view.ins[0]])]
    return None


def simplify(program: Program, rules: Sequence[Rule] = RULES, max_sweeps: int = 20) -> Program:
    """Apply the rules equation by equation until nothing changes (dead producers are left to
    dead-code elimination)."""
    by_op: dict[Any, list[Rule]] = {}

    def rules_for(op: type) -> list[Rule]:
        if op not in by_op:
            by_op[op] = [r for r in rules if r.ops is None or op in r.ops]
        return by_op[op]

    def step(e: Eqn, defs: dict[int, Eqn]) -> Replacement:
        match = Match(e, defs)
        for r in rules_for(e.op):
            result = r.rewrite(match)
            if result is not None:
                return result
        return None

    for _ in range(max_sweeps):
        program, changed = rewrite_program(program, step)
        if not changed:
            break
    return program
