"""The algebra pass's rules, one by one (autograd_lite/compiler/rewrite.py).

Each rule gets a small hand-written program where it applies and, where its `exact` condition
excludes something, one where it must not. `simplify(program, [rule])` runs that rule alone;
the rewritten program must have the shape the rule's pattern promises and compute what the
original computes: bit for bit where the rule says "always", else to RTOL = 1e-12 relative (a
reassociated product or sum, a few roundings of float64). Inputs include 0, -0.0, inf and nan
where the rule's condition is about them. "Always" means the same values, -0.0 told from 0.0,
nan where the original has nan (IEEE arithmetic does not define a nan's sign bit).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest

from autograd_lite import ops as P
from autograd_lite.compiler.codegen import build, generate
from autograd_lite.compiler.ir import Const, Eqn, Program, Var
from autograd_lite.compiler.numpy_backend import NUMPY
from autograd_lite.compiler.passes import eliminate_dead_code
from autograd_lite.compiler.rewrite import RULES, simplify

RTOL = 1e-12
RULE = {r.name: r for r in RULES}


def var(name: str, shape: tuple[int, ...] = (4,), dtype: Any = np.float64) -> Var:
    return Var(name, tuple(shape), np.dtype(dtype))


def eqn(op: Any, ins: Sequence[Any], out: Var, **params: Any) -> Eqn:
    return Eqn(op, tuple(ins), params, out, "forward")


def program_of(inputs: list[Var], eqns: list[Eqn], result: Var) -> Program:
    """A program whose value is sum(result) and whose one gradient output is result itself
    (so that every element of it is compared)."""
    total = var("total", ())
    sums = eqn(P.Sum, [result], total, axis=None, keepdims=False, shape=result.shape)
    return Program("rule", tuple(inputs), (*eqns, sums), (total, result),
                   arguments=tuple(v.name for v in inputs))


def run(program: Program, args: Sequence[np.ndarray]) -> np.ndarray:
    source, namespace = generate(program, "g", "rule test", NUMPY)
    with np.errstate(all="ignore"):
        return np.asarray(build(source, namespace, "g")(*args)[1])


def rewritten(rule_name: str, program: Program) -> Program:
    """The rule alone, then dead-code elimination (a rule leaves dead producers behind)."""
    return eliminate_dead_code(simplify(program, [RULE[rule_name]]))


def ops_of(program: Program) -> list[Any]:
    return [e.op for e in program.eqns]


def assert_same(rule_name: str, before: Program, after: Program,
                args: Sequence[np.ndarray]) -> None:
    expected, actual = run(before, args), run(after, args)
    if RULE[rule_name].exact.startswith("always"):  # the same values, the sign of zero included
        np.testing.assert_array_equal(actual, expected)  # (nan equals nan: its sign bit is
        numbers = ~np.isnan(expected)                    # not defined by IEEE arithmetic)
        np.testing.assert_array_equal(np.signbit(actual[numbers]), np.signbit(expected[numbers]))
    else:
        np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=0)


SPECIAL = np.array([0.0, -0.0, 1.5, -2.25, np.inf, -np.inf, np.nan, 1e-310])
X = var("x", SPECIAL.shape)


def unary_case(make: Callable[[Var, Var], list[Eqn]], shape: tuple[int, ...] = SPECIAL.shape
               ) -> Program:
    """A program of one input x of SPECIAL's shape, made by `make(x, out)`."""
    out = var("out", shape)
    return program_of([X], make(X, out), out)


# ---- each rule where it applies -------------------------------------------------------------
def _mul(x: Any, c: Any, out: Var) -> Eqn:
    return eqn(P.Mul, [x, c], out)


def _scaled(op: Any, c1: float, c2: float) -> Callable[[Var, Var], list[Eqn]]:
    def make(x: Var, out: Var) -> list[Eqn]:
        t = var("t", x.shape)
        return [eqn(op, [x, Const(c1)], t), _mul(t, Const(c2), out)]
    return make


APPLIES: dict[str, tuple[Program, Callable[[Program], bool]]] = {
    "broadcast_constant_as_scalar": (
        unary_case(lambda x, out: [_mul(Const(np.broadcast_to(np.float64(0.5), x.shape)), x,
                                        out)]),
        lambda p: isinstance(p.eqns[0].ins[0].value, float)),
    "mul_by_one": (unary_case(lambda x, out: [_mul(x, Const(1.0), out)]),
                   lambda p: p.outputs[1] is X),
    "mul_of_negation": (
        unary_case(lambda x, out: [eqn(P.Neg, [x], t := var("t", x.shape)),
                                   _mul(t, Const(2.0), out)]),
        lambda p: p.eqns[-2].ins == (X, p.eqns[-2].ins[1]) and p.eqns[-2].ins[1].value == -2.0),
    "mul_of_scaled": (unary_case(_scaled(P.Mul, 0.5, 0.25)),
                      lambda p: p.eqns[-2].ins[0] is X and p.eqns[-2].ins[1].value == 0.125),
    "outer_times_matrix": (None, None),  # below: needs a large matrix
    "outer_of_vectors": (None, None),
    "div_by_one": (unary_case(lambda x, out: [eqn(P.Div, [x, Const(1.0)], out)]),
                   lambda p: p.outputs[1] is X),
    "add_zero": (unary_case(lambda x, out: [eqn(P.Sub, [x, Const(0.0)], out)]),
                 lambda p: p.outputs[1] is X),
    "add_negation": (
        unary_case(lambda x, out: [eqn(P.Neg, [x], t := var("t", x.shape)),
                                   eqn(P.Add, [x, t], out)]),
        lambda p: P.Sub in ops_of(p)),
    "scatter_add_into_base": (None, None),
    "neg_of_neg": (unary_case(lambda x, out: [eqn(P.Neg, [x], t := var("t", x.shape)),
                                              eqn(P.Neg, [t], out)]),
                   lambda p: p.outputs[1] is X),
    "neg_of_scaled": (unary_case(lambda x, out: [_mul(x, Const(3.0), t := var("t", x.shape)),
                                                 eqn(P.Neg, [t], out)]),
                      lambda p: p.eqns[-2].op is P.Mul and p.eqns[-2].ins[1].value == -3.0),
    "small_powers": (unary_case(lambda x, out: [eqn(P.Pow, [x], out, p=2)]),
                     lambda p: ops_of(p)[0] is P.Mul),
    "sum_of_squares_as_dot": (None, None),
    "reshape_to_same_shape": (unary_case(lambda x, out: [eqn(P.Reshape, [x], out,
                                                             new_shape=x.shape,
                                                             shape=x.shape)]),
                              lambda p: p.outputs[1] is X),
    "sum_of_broadcast_number": (None, None),
    "reshape_of_kept_sum": (None, None),
    "column_of_matrix_vector": (None, None),
}


def _outer_case() -> tuple[Program, list[np.ndarray]]:
    s, w = var("s", (3000,)), var("w", (3,))
    o, H, out = var("o", (3000, 3)), var("H", (3000, 3)), var("out", (3000, 3))
    program = program_of([s, w, H], [eqn(P.Outer, [s, w], o), _mul(o, H, out)], out)
    rng = np.random.default_rng(0)
    return program, [rng.normal(size=3000), rng.normal(size=3), rng.normal(size=(3000, 3))]


def _vectors_case() -> tuple[Program, list[np.ndarray]]:
    a, b = var("a", (4,)), var("b", (3,))
    column, out = var("column", (4, 1)), var("out", (4, 3))
    program = program_of([a, b], [eqn(P.Getitem, [a], column, template=(Ellipsis, None),
                                      shape=(4,)), _mul(column, b, out)], out)
    return program, [np.arange(4.0) - 1.5, np.array([2.0, -0.0, np.inf])]


def _scatter_case() -> tuple[Program, list[np.ndarray]]:
    base, v = var("base", (3, 4)), var("v", (4,))
    scattered, out = var("scattered", (3, 4)), var("out", (3, 4))
    program = program_of([base, v], [eqn(P.ScatterAdd, [v], scattered, template=(-1,),
                                         shape=(3, 4)), eqn(P.Add, [base, scattered], out)],
                         out)
    return program, [np.arange(12.0).reshape(3, 4), np.array([0.5, -1.0, np.inf, 2.0])]


def _dot_case() -> tuple[Program, list[np.ndarray]]:
    x, sq, total = var("x", (3, 4)), var("sq", (3, 4)), var("total", ())
    out = var("out", (3, 4))
    program = program_of([x], [_mul(x, x, sq), eqn(P.Sum, [sq], total, axis=None,
                                                   keepdims=False, shape=(3, 4)),
                               _mul(x, total, out)], out)
    return program, [np.random.default_rng(1).normal(size=(3, 4))]


def _broadcast_sum_case() -> tuple[Program, list[np.ndarray]]:
    x, one, spread, total = var("x", ()), var("one", ()), var("spread", (4, 5)), var("t", ())
    out = var("out", (4,))
    program = program_of([x], [eqn(P.Tanh, [x], one),
                               eqn(P.BroadcastTo, [one], spread, new_shape=(4, 5)),
                               eqn(P.Sum, [spread], total, axis=None, keepdims=False,
                                   shape=(4, 5)),
                               eqn(P.BroadcastTo, [total], out, new_shape=(4,))], out)
    return program, [np.array(0.3)]


def _kept_sum_case() -> tuple[Program, list[np.ndarray]]:
    x, kept, out = var("x", (3, 4)), var("kept", (1, 4)), var("out", (4,))
    program = program_of([x], [eqn(P.Sum, [x], kept, axis=(0,), keepdims=True, shape=(3, 4)),
                               eqn(P.Reshape, [kept], out, new_shape=(4,), shape=(1, 4))], out)
    return program, [np.random.default_rng(2).normal(size=(3, 4))]


def _column_case() -> tuple[Program, list[np.ndarray]]:
    M, v = var("M", (5, 3)), var("v", (3,))
    column, product, out = var("column", (3, 1)), var("product", (5, 1)), var("out", (5,))
    program = program_of([M, v], [eqn(P.Getitem, [v], column, template=(Ellipsis, None),
                                      shape=(3,)),
                                  eqn(P.Matmul, [M, column], product),
                                  eqn(P.Getitem, [product], out, template=(Ellipsis, 0),
                                      shape=(5, 1))], out)
    rng = np.random.default_rng(3)
    return program, [rng.normal(size=(5, 3)), rng.normal(size=3)]


CASES: dict[str, tuple[Program, list[np.ndarray], Callable[[Program], bool]]] = {}
for _name, (_program, _claim) in APPLIES.items():
    if _program is not None:
        CASES[_name] = (_program, [SPECIAL], _claim)
CASES["outer_times_matrix"] = (*_outer_case(), lambda p: P.Outer not in ops_of(p))
CASES["outer_of_vectors"] = (*_vectors_case(), lambda p: ops_of(p)[0] is P.Outer)
CASES["scatter_add_into_base"] = (*_scatter_case(), lambda p: ops_of(p)[0] is P.IndexAdd)
CASES["sum_of_squares_as_dot"] = (*_dot_case(), lambda p: P.Matmul in ops_of(p)
                                  and ops_of(p).count(P.Sum) == 1)
CASES["sum_of_broadcast_number"] = (*_broadcast_sum_case(),
                                    lambda p: ops_of(p).count(P.BroadcastTo) == 1)
CASES["reshape_of_kept_sum"] = (*_kept_sum_case(), lambda p: P.Reshape not in ops_of(p))
CASES["column_of_matrix_vector"] = (*_column_case(), lambda p: ops_of(p)[0] is P.Matmul)


def test_every_rule_has_a_case():
    assert set(CASES) == set(RULE), f"rules without a test case: {set(RULE) - set(CASES)}"


@pytest.mark.parametrize("name", sorted(RULE))
def test_each_rule_rewrites_what_its_pattern_says_and_keeps_the_values(name):
    program, args, claim = CASES[name]
    after = rewritten(name, program)
    assert after.eqns != program.eqns or after.outputs != program.outputs, f"{name}: no rewrite"
    assert claim(after), f"{name}: not the promised pattern: {[e.op.name for e in after.eqns]}"
    assert_same(name, program, after, args)
    assert RULE[name].pattern and RULE[name].exact, "each rule documents its pattern and when " \
        "it is exact"


# ---- where a rule must not apply -----------------------------------------------------------
X32, OUT32 = var("x32", (3,), np.float32), var("out", (3,))
NOT_APPLIES: dict[str, Program] = {
    # x + 0.0 turns -0.0 into 0.0: not the identity
    "add_zero": unary_case(lambda x, out: [eqn(P.Add, [x, Const(0.0)], out)]),
    # (x * 2) * 0.5: the intermediate 2x overflows where x does not (x = 1e308)
    "mul_of_scaled": unary_case(_scaled(P.Mul, 2.0, 0.5)),
    # (x / 0) * 2: x / 0 is inf or nan, and a folded factor 2 / 0 would be evaluated here
    "mul_of_scaled, a zero divisor": unary_case(_scaled(P.Div, 0.0, 2.0)),
    # (x * 1e300) * 1e10: the folded factor 1e310 is not finite
    "mul_of_scaled, an infinite factor": unary_case(_scaled(P.Mul, 1e300, 1e10)),
    # a float64 broadcast beside a float32 operand promotes the result to float64
    "broadcast_constant_as_scalar": program_of(
        [X32], [_mul(X32, Const(np.broadcast_to(np.float64(0.5), (3,))), OUT32)], OUT32),
}


@pytest.mark.parametrize("case", sorted(NOT_APPLIES))
def test_a_rule_leaves_alone_what_its_condition_excludes(case):
    program = NOT_APPLIES[case]
    rule_name = case.split(",")[0]
    after = rewritten(rule_name, program)
    assert after.eqns == program.eqns and after.outputs == program.outputs


def test_a_chain_with_a_zero_divisor_computes_what_numpy_computes():
    """Issue 18: (x / 0.0) * 2.0 raised ZeroDivisionError in the algebra pass."""
    program = NOT_APPLIES["mul_of_scaled, a zero divisor"]
    with np.errstate(all="ignore"):
        expected = (SPECIAL / 0.0) * 2.0
    np.testing.assert_array_equal(run(simplify(program), [SPECIAL]), expected)
