"""The compiler's passes, each on its own: it keeps the program's semantics, and does what it
claims. Programs are traced (`compiler.trace.trace`) or built by hand (`compiler.ir`), then run
through `compiler.codegen` before and after the pass; the outputs (value and gradients) must
agree to RTOL = 1e-12 relative (why: see tests/test_compiler.py; a pass only reassociates
scalar factors or replaces sum(x * x) by a dot product), with an absolute floor of 1e-12 times
the largest magnitude in the compared array.

The buffer plan is also checked by an interpreter written here, independently of
`plan_buffers`: it runs the program twice side by side, once with a fresh array per equation,
once writing every result that has a buffer into that buffer's array (as the generated
`out=` does). An equation that reads a value whose array was overwritten, an output that was
overwritten, or an input written to shows up as a difference.

The passes are pure: each test runs a pass on a program and then runs the same program object
it passed in as the "before" (test_passes_leave_their_input_as_it_was checks this directly).
The algebra pass's rules are tested one by one in test_compiler_rewrite.py.
"""

from __future__ import annotations

import operator
import traceback
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from test_compiler import F32_RTOL, chapter_data, chapter_loss, magnitude_scale, random_functions

import autograd_lite as ag
from autograd_lite import ops as P
from autograd_lite.compiler import PASSES as SHARED_PASSES
from autograd_lite.compiler import passes
from autograd_lite.compiler.codegen import build, generate
from autograd_lite.compiler.ir import Const, Eqn, Out, Program, Var
from autograd_lite.compiler.numpy_backend import NUMPY
from autograd_lite.compiler.rewrite import simplify
from autograd_lite.compiler.trace import parameter_names, trace

RTOL = 1e-12
PASSES = (*SHARED_PASSES, *NUMPY.passes)  # the numpy backend's pipeline, in order
PASS_FUNCTIONS = dict(PASSES)


# ---- helpers -----------------------------------------------------------------------------------
def traced(f: Callable[..., Any], args: Sequence[Any], argnums: Sequence[int] = (0,)) -> Program:
    return trace(ag.value_and_grad(f, tuple(argnums)), list(args), "f",
                 parameter_names(f, len(args)))


def run(program: Program, args: Sequence[Any]) -> list[Any]:
    """The generated program's outputs: [value, gradient, ...] (checking that it leaves its
    inputs as they were)."""
    source, namespace = generate(program, "g", "the signature", NUMPY)
    before = [np.array(a) for a in args]
    value, grads = build(source, namespace, "g")(*args)
    for k, (a, b) in enumerate(zip(args, before)):
        np.testing.assert_array_equal(a, b, err_msg=f"the program wrote into input {k}")
    return [value, *grads]


def source_of(program: Program) -> str:
    return generate(program, "g", "the signature", NUMPY)[0]


def assert_same_outputs(actual: Sequence[Any], expected: Sequence[Any],
                        rtol: float = RTOL) -> None:
    """Value and gradients equal to rtol relative, floor rtol * (1 + the largest |entry|)."""
    assert len(actual) == len(expected)
    for k, (a, e) in enumerate(zip(actual, expected)):
        a, e = np.asarray(a), np.asarray(e)
        assert a.shape == e.shape and a.dtype == e.dtype, f"output {k}: {a.shape} {a.dtype} " \
            f"!= {e.shape} {e.dtype}"
        floor = rtol * (1.0 + float(np.max(np.abs(e), initial=0.0)))
        np.testing.assert_allclose(a, e, rtol=rtol, atol=floor, err_msg=f"output {k}")


def tolerance(args: Sequence[Any]) -> float:
    """float32 programs: the same float32 operations reassociated (see test_compiler.py)."""
    return F32_RTOL if any(np.asarray(a).dtype == np.float32 for a in args) else RTOL


def ops_of(program: Program) -> list[Any]:
    return [e.op for e in program.eqns]


def var(name: str, shape: tuple[int, ...], dtype: Any = np.float64) -> Var:
    return Var(name, tuple(shape), np.dtype(dtype))


def eqn(op: Any, ins: Sequence[Any], out: Var, **params: Any) -> Eqn:
    return Eqn(op, tuple(ins), params, out, "forward")


def hand_program(inputs: list[Var], eqns: list[Eqn], value: Any, *grads: Any) -> Program:
    return Program("hand", tuple(inputs), tuple(eqns), (value, *grads),
                   arguments=tuple(v.name for v in inputs),
                   result=(Out(0), tuple(Out(k) for k in range(1, len(grads) + 1))))


def sum_of(x: Var, out: Var) -> Eqn:
    return eqn(P.Sum, [x], out, axis=None, keepdims=False, shape=x.shape)


def assert_buffer_plan_is_safe(program: Program, args: Sequence[np.ndarray]) -> list[Any]:
    """Run the program with and without its buffers (see the module docstring); return the
    outputs of the buffered run after checking every read, every output and every input."""
    inputs_before = [np.array(a) for a in args]
    fresh = {id(v): a for v, a in zip(program.inputs, args)}
    planned = dict(fresh)

    def read(env: dict, x: Any) -> Any:
        return env[id(x)] if isinstance(x, Var) else x.value

    for i, e in enumerate(program.eqns):
        for x in e.ins:
            if isinstance(x, Var):
                np.testing.assert_array_equal(
                    planned[id(x)], fresh[id(x)],
                    err_msg=f"equation {i} ({e.op.name}) reads {x.name} after its array was "
                            f"overwritten")
        fresh[id(e.out)] = e.op.forward(*(read(fresh, x) for x in e.ins), **e.params)
        result = e.op.forward(*(read(planned, x) for x in e.ins), **e.params)
        if e.buffer is not None or e.in_place:
            target = planned[id(e.buffer if e.buffer is not None else e.ins[0])]
            name = (e.buffer if e.buffer is not None else e.ins[0]).name
            assert isinstance(target, np.ndarray) and target.flags.writeable, (
                f"equation {i} ({e.op.name}) writes into {name}, not a writeable array")
            assert target.shape == np.shape(result), (
                f"equation {i} ({e.op.name}) writes a {np.shape(result)} result into "
                f"{name} of shape {target.shape}")
            np.copyto(target, result)
            result = target
        planned[id(e.out)] = result
    outputs = [read(planned, x) for x in program.outputs]
    outputs[0] = np.asarray(outputs[0])  # the value, as the generated code returns it
    for k, (a, e) in enumerate(zip(outputs[1:], (read(fresh, x) for x in program.outputs[1:]))):
        np.testing.assert_array_equal(a, e, err_msg=f"gradient {k} was overwritten")
    for k, (a, before) in enumerate(zip(args, inputs_before)):
        np.testing.assert_array_equal(a, before, err_msg=f"input {k} was written to")
    return outputs


# ---- every pass alone keeps the semantics of traced programs ----------------------------------
def tall_layer(X, W):
    return ag.sum(ag.tanh(X @ W) ** 2)


def relu_where_max(x):
    return ag.sum(ag.relu(x) * ag.where(x > 0.2, x, -x)) + ag.max(x * x)


def slices_and_index_arrays(x, rows):
    return ag.sum(ag.tanh(x[:-1]) * x[1:]) + ag.sum(x[rows] ** 2) + ag.sum(x[-1])


def broadcasts_and_means(x, y):
    return ag.mean((x - y) ** 2) + ag.sum(ag.mean(x, axis=0, keepdims=True) * y) + ag.sum(x) ** 2


def shapes_and_einsum(x):
    joined = ag.concatenate([x, ag.tanh(x)], axis=0)
    return ag.sum(ag.einsum("ij,kj->ik", joined, x) ** 2) + ag.sum(ag.cumsum(x, 1) * x)


def negations_and_scalars(x):
    twice_negated = operator.neg(operator.neg(x))
    return (ag.sum(twice_negated * 1.0 + 0.0) + ag.sum(0.5 * (3.0 * (x * 2.0)))
            + ag.sum(2.0 / (x * x + 1)))


TRACED = {
    "chapter loss": (lambda W, w, X, y: chapter_loss(W, w, X, y),
                     lambda rng: list(chapter_data(50, rng)), (0, 1)),
    "tall layer": (tall_layer, lambda rng: [rng.uniform(-1, 1, (40, 2)),
                                            rng.uniform(-1, 1, (2, 3))], (0, 1)),
    "relu, where, max": (relu_where_max, lambda rng: [rng.uniform(-1, 1, (4, 3))], (0,)),
    "slices, index arrays": (slices_and_index_arrays,
                             lambda rng: [rng.uniform(-1, 1, (5, 2)),
                                          rng.integers(-5, 5, 4)], (0,)),
    "broadcasts, means": (broadcasts_and_means, lambda rng: [rng.uniform(-1, 1, (4, 3)),
                                                             rng.uniform(-1, 1, 3)], (0, 1)),
    "shapes, einsum": (shapes_and_einsum, lambda rng: [rng.uniform(-1, 1, (3, 4))], (0,)),
    "negations, scalars": (negations_and_scalars, lambda rng: [rng.uniform(-1, 1, 6)], (0,)),
    "float32": (tall_layer, lambda rng: [rng.uniform(-1, 1, (6, 2)).astype(np.float32),
                                         rng.uniform(-1, 1, (2, 3)).astype(np.float32)], (0, 1)),
}


@pytest.mark.parametrize("pass_name", list(PASS_FUNCTIONS))
@pytest.mark.parametrize("name", sorted(TRACED))
def test_each_pass_alone_keeps_the_semantics(name, pass_name):
    f, make_args, argnums = TRACED[name]
    rng = np.random.default_rng(0)
    tracing_args = make_args(rng)
    before = traced(f, tracing_args, argnums)
    after = PASS_FUNCTIONS[pass_name](before)
    fresh = make_args(rng)
    flipped = [-a if a.dtype.kind == "f" else a for a in fresh]
    for args in (tracing_args, fresh, flipped):
        assert_same_outputs(run(after, args), run(before, args), tolerance(args))
    if pass_name == "buffers":
        for args in (tracing_args, flipped):
            assert_buffer_plan_is_safe(after, args)


@pytest.mark.parametrize("name", sorted(TRACED))
def test_the_whole_pipeline_keeps_the_semantics_after_every_pass(name):
    f, make_args, argnums = TRACED[name]
    rng = np.random.default_rng(1)
    tracing_args, fresh = make_args(rng), make_args(rng)
    program = traced(f, tracing_args, argnums)
    expected = run(program, fresh)
    for _, run_pass in PASSES:
        program = run_pass(program)
        assert_same_outputs(run(program, fresh), expected, tolerance(fresh))
    assert_same_outputs(assert_buffer_plan_is_safe(program, fresh), expected, tolerance(fresh))


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(random_functions(max_steps=5))
def test_each_pass_alone_keeps_the_semantics_of_random_functions(fn):
    f = fn.function()
    rng = np.random.default_rng(fn.seed)
    tracing_args, fresh = fn.arguments(rng, fn.dims), fn.arguments(rng, fn.dims)
    assume(magnitude_scale(fn, fresh) < 1e100)
    original = traced(f, tracing_args, fn.argnums)
    expected = run(original, fresh)
    for _, run_pass in PASSES:
        assert_same_outputs(run(run_pass(original), fresh), expected)
    program = original
    for _, run_pass in PASSES:
        program = run_pass(program)
    assert_same_outputs(assert_buffer_plan_is_safe(program, fresh), expected)


# ---- dead-code elimination -----------------------------------------------------------------------
def unused_values_program() -> Program:
    x = var("x", (5,))
    unused, feeds_unused, used, total = (var(n, s) for n, s in (
        ("unused", (5,)), ("feeds_unused", (5,)), ("used", (5,)), ("total", ())))
    return hand_program([x], [eqn(P.Tanh, [x], feeds_unused), eqn(P.Sin, [feeds_unused], unused),
                              eqn(P.Exp, [x], used), sum_of(used, total)], total, used)


def snapshot(program: Program) -> list[tuple]:
    """Everything a pass could change in place: each equation's fields, the outputs."""
    return [(e, e.op, e.ins, dict(e.params), e.out, e.layout, e.buffer, e.in_place)
            for e in program.eqns] + [tuple(program.outputs)]


@pytest.mark.parametrize("pass_name", list(PASS_FUNCTIONS))
@pytest.mark.parametrize("name", ["chapter loss", "slices, index arrays", "negations, scalars"])
def test_passes_leave_their_input_as_it_was(name, pass_name):
    f, make_args, argnums = TRACED[name]
    program = traced(f, make_args(np.random.default_rng(0)), argnums)
    for _, earlier in PASSES[:list(PASS_FUNCTIONS).index(pass_name)]:
        program = earlier(program)
    before = snapshot(program)
    after = PASS_FUNCTIONS[pass_name](program)
    assert after is not program
    assert snapshot(program) == before, f"{pass_name} changed the program it was given"


def test_dead_code_elimination_drops_exactly_what_no_output_needs():
    x = np.linspace(-1, 1, 5)
    before = run(unused_values_program(), [x])
    program = passes.eliminate_dead_code(unused_values_program())
    assert ops_of(program) == [P.Exp, P.Sum], "the unused chain (and only it) must go"
    assert_same_outputs(run(program, [x]), before)
    np.testing.assert_allclose(before[1], np.exp(x), rtol=RTOL)


# ---- constant folding ----------------------------------------------------------------------------
def test_constant_folding_evaluates_all_constant_equations_once():
    x, six, out, total = var("x", (4,)), var("six", ()), var("out", (4,)), var("total", ())
    program = hand_program([x], [eqn(P.Mul, [Const(2.0), Const(3.0)], six),
                                 eqn(P.Mul, [x, six], out), sum_of(out, total)], total, out)
    program = passes.fold_constants(program)
    assert ops_of(program) == [P.Mul, P.Sum]
    folded = program.eqns[0].ins[1]
    assert isinstance(folded, Const) and folded.value == 6.0
    value, grad = run(program, [np.arange(4.0)])
    assert value == 36.0 and np.array_equal(grad, [0.0, 6.0, 12.0, 18.0])


def test_constant_folding_keeps_a_broadcast_as_a_view_and_a_large_product_as_an_equation():
    x, spread, out, total = var("x", (1000,)), var("spread", (1000,)), var("out", (1000,)), \
        var("total", ())
    table, product, both = var("table", (300, 300)), var("product", (300, 300)), \
        var("both", (300, 300))
    column, row = Const(np.linspace(0, 1, 300)[:, None]), Const(np.linspace(1, 2, 300))
    program = hand_program(
        [x], [eqn(P.BroadcastTo, [Const(0.5)], spread, new_shape=(1000,)),
              eqn(P.Mul, [x, spread], out),
              eqn(P.Mul, [column, row], table),  # (300, 300) from 300 + 300 numbers
              eqn(P.Add, [table, Const(1.0)], product),
              eqn(P.Sum, [out], total, axis=None, keepdims=False, shape=(1000,)),
              eqn(P.Mul, [product, Const(2.0)], both)], total, out)
    expected = run(program, [np.ones(1000)])
    program = passes.fold_constants(program)
    spread_const = program.eqns[0].ins[1]
    assert isinstance(spread_const, Const) and not any(spread_const.value.strides), (
        "a folded broadcast must stay a zero-stride view")
    assert P.Mul in ops_of(program)[1:] and table in [e.out for e in program.eqns], (
        "a constant much larger than its operands is computed by the program, not stored")
    assert all(any(isinstance(x, Var) for x in e.ins) or e.out is table for e in program.eqns)
    assert_same_outputs(run(program, [np.ones(1000)]), expected)


# ---- common subexpressions -----------------------------------------------------------------------
def test_common_subexpressions_are_computed_once():
    def repeated(x):
        return ag.sum(ag.tanh(x) * ag.sum(x, axis=0)) + ag.sum(ag.tanh(x) * ag.sum(x, axis=1))

    x = np.random.default_rng(0).uniform(-1, 1, (3, 3))  # square: sums over 0 and 1 alike
    original = traced(repeated, [x])
    program = passes.eliminate_common_subexpressions(original)
    assert ops_of(original).count(P.Tanh) == 2 and ops_of(program).count(P.Tanh) == 1
    axes = {e.params["axis"] for e in program.eqns if e.op is P.Sum}
    assert {(0,), (1,)} <= axes, "sums over different axes are different expressions"
    for args in ([x], [-x]):
        assert_same_outputs(run(program, args), run(original, args))


# ---- algebraic simplification ----------------------------------------------------------------
def forward_ops(program: Program) -> list[Any]:
    return [e.op for e in program.eqns if e.note == "forward"]


SIMPLIFIED = {
    # name: (f, the claim about the simplified program)
    "x * 1, x - 0": (lambda x: ag.sum(ag.tanh(x * 1.0 - 0.0)),
                     lambda p, src: P.Sub not in forward_ops(p) and "* 1.0" not in src),
    "--x": (lambda x: ag.sum(ag.tanh(operator.neg(operator.neg(x)))),
            lambda p, src: P.Neg not in ops_of(p)),
    "pow 2": (lambda x: ag.sum(ag.tanh(x) ** 2),
              lambda p, src: P.Pow not in ops_of(p) and "**" not in src),
    "sum(x * x) as a dot": (lambda x: (lambda t: ag.sum(t * t))(ag.tanh(x)),
                            lambda p, src: forward_ops(p).count(P.Sum) == 0
                            and P.Matmul in forward_ops(p)),
    "mean(x ** 2) as a dot": (lambda x: ag.mean(ag.sin(x) ** 2),
                              lambda p, src: P.Mean not in ops_of(p) and P.Matmul in ops_of(p)),
    "scalar chain": (lambda x: ag.sum(0.5 * (0.25 * (ag.tanh(x) * 0.5))),
                     lambda p, src: forward_ops(p).count(P.Mul) == 1 and "0.0625" in src),
    "negation into the factor": (lambda x: ag.sum(2.0 * -ag.tanh(x)),
                                 lambda p, src: P.Neg not in ops_of(p) and "-2.0" in src),
    "a broadcast scalar, summed": (lambda x: ag.sum(ag.broadcast_to(ag.sum(ag.tanh(x)), (4, 5))),
                                   lambda p, src: P.BroadcastTo not in forward_ops(p)
                                   and forward_ops(p).count(P.Sum) == 1 and "20" in src),
    "the seed broadcast as a scalar": (lambda x: ag.sum(ag.tanh(x)),
                                       lambda p, src: "Constants" not in src),
}


@pytest.mark.parametrize("name", sorted(SIMPLIFIED))
def test_simplification_rewrites_what_it_claims_and_keeps_the_semantics(name):
    f, claim = SIMPLIFIED[name]
    x = np.random.default_rng(0).uniform(-1, 1, (3, 4))
    before = traced(f, [x])
    n_before = len(before.eqns)
    program = passes.eliminate_dead_code(simplify(passes.fold_constants(before)))
    source = source_of(program)
    assert claim(program, source), f"{name}: not rewritten:\n{source}"
    assert len(program.eqns) < n_before, "the rewrite must save equations"
    for args in ([x], [-x], [x[::-1] * 2.0]):
        assert_same_outputs(run(program, args), run(before, args))


def slices(W):
    """The chapter's pattern: W[:-1] and W[-1] read separately, and a ridge term on all of W."""
    return ag.sum(ag.tanh(W[:-1]) ** 2) + ag.sum(ag.sin(W[-1])) + 0.05 * ag.sum(W * W)


def test_the_scatter_adds_of_slices_are_added_in_place_into_the_other_gradient():
    W = np.random.default_rng(0).uniform(-1, 1, (3, 4))
    before = traced(slices, [W])
    program = passes.eliminate_dead_code(simplify(passes.fold_constants(before)))
    assert P.ScatterAdd not in ops_of(program), "no zeros(W.shape) to scatter into"
    assert ops_of(program).count(P.IndexAdd) == 2
    for args in ([W], [-W]):
        assert_same_outputs(run(program, args), run(before, args))
    for _, run_pass in PASSES:
        program = run_pass(program)
    index_adds = [e for e in program.eqns if e.op is P.IndexAdd]
    assert all(e.in_place for e in index_adds), "both written into one buffer"
    assert ".copy()" not in source_of(program)
    assert_buffer_plan_is_safe(program, [W])


def test_an_outer_product_times_a_large_matrix_is_never_materialised():
    """The chapter's gradient at large N: outer(g, w) * (1 - Phi^2) computed as
    ((1 - Phi^2) * g[:, None]) * w."""
    rng = np.random.default_rng(0)
    args = list(chapter_data(365, rng))
    args[2] = np.repeat(args[2], 10, axis=0)  # N = 3650: N K 8 bytes >= passes.LARGE_BYTES
    args[3] = np.repeat(args[3], 10)
    before = program = traced(chapter_loss, args, (0, 1))
    for _, run_pass in PASSES:
        program = run_pass(program)
    assert P.Outer not in ops_of(program) and "multiply.outer" not in source_of(program)
    assert_same_outputs(run(program, args), run(before, args))


# ---- the tall-matmul layout ----------------------------------------------------------------------
def test_tall_products_are_computed_column_major_and_others_are_not():
    rng = np.random.default_rng(0)
    tall = [rng.uniform(-1, 1, (40, 2)), rng.uniform(-1, 1, (2, 3))]  # (40, 3): N > K
    wide = [rng.uniform(-1, 1, (3, 5)), rng.uniform(-1, 1, (5, 7))]  # (3, 7)
    for args, expected_layout in ((tall, "F"), (wide, None)):
        # the algebra first drops the identity reshapes value_and_grad gives its arguments
        before = passes.eliminate_dead_code(simplify(traced(tall_layer, args, (0, 1))))
        program = passes.choose_layout(before)
        forward_product = next(e for e in program.eqns if e.op is P.Matmul)
        assert forward_product.layout == expected_layout
        if expected_layout == "F":
            assert "(W.T @ X.T).T" in source_of(program)
        assert_same_outputs(run(program, args), run(before, args))


# ---- the buffer plan -----------------------------------------------------------------------------
def elementwise_chain(output_first: bool = False) -> Program:
    """t = tanh(x); e = exp(t); s = sin(e); value sum(s); gradient s (or t)."""
    x = var("x", (1000,))
    t, e, s, total = var("t", (1000,)), var("e", (1000,)), var("s", (1000,)), var("total", ())
    return hand_program([x], [eqn(P.Tanh, [x], t), eqn(P.Exp, [t], e), eqn(P.Sin, [e], s),
                              sum_of(s, total)], total, t if output_first else s)


def test_buffers_reuse_dead_arrays_and_count_their_bytes():
    x = np.linspace(-2, 2, 1000)
    expected = run(elementwise_chain(), [x])
    program = passes.plan_buffers(elementwise_chain())
    tanh_, exp_, sin_, _ = program.eqns
    # t is dead once exp has read it, and e once sin has: both write into t's array
    assert tanh_.buffer is None and exp_.buffer is tanh_.out and sin_.buffer is tanh_.out
    assert passes.allocated_bytes(program) == (8000 + 8, 2 * 8000)
    assert_same_outputs(run(program, [x]), expected)
    assert_buffer_plan_is_safe(program, [x])


def test_buffers_never_overwrite_an_input_an_output_or_a_constant():
    program = passes.plan_buffers(elementwise_chain(output_first=True))
    tanh_, exp_, sin_, _ = program.eqns
    assert exp_.buffer is None, "t is returned: its array must survive the call"
    assert sin_.buffer is exp_.out
    for e in program.eqns:
        assert e.buffer not in program.inputs and not isinstance(e.buffer, Const)
    assert_buffer_plan_is_safe(program, [np.linspace(-2, 2, 1000)])


def test_a_view_keeps_its_array_alive():
    x = var("x", (30, 30))
    t, view, e, scaled, joined, total = (var(n, (30, 30)) for n in (
        "t", "view", "e", "scaled", "joined", "total"))
    total = var("total", ())
    program = hand_program(
        [x], [eqn(P.Tanh, [x], t), eqn(P.Transpose, [t], view, axes=(1, 0)),
              eqn(P.Exp, [t], e),  # t's last direct read; its transpose is read below
              eqn(P.Mul, [view, Const(2.0)], scaled), eqn(P.Add, [scaled, e], joined),
              sum_of(joined, total)], total, joined)
    program = passes.plan_buffers(program)
    assert program.eqns[2].buffer is not t
    args = [np.random.default_rng(0).uniform(-1, 1, (30, 30))]
    assert_buffer_plan_is_safe(program, args)


def test_an_array_that_aliases_an_input_is_never_a_buffer():
    """np.einsum('ij->ji', x) returns a view of x: writing into it writes into the input."""
    def transposed(x):
        return ag.sum(ag.tanh(ag.einsum("ij->ji", x)) * 2.0)

    x = np.random.default_rng(0).uniform(-1, 1, (3, 4))
    original = program = traced(transposed, [x])
    for _, run_pass in PASSES:
        program = run_pass(program)
    assert_buffer_plan_is_safe(program, [x.copy()])
    assert_same_outputs(run(program, [x.copy()]), run(original, [x.copy()]))


def test_an_index_add_never_writes_into_a_broadcast_view():
    """d/dx [sum(x) * c + sum(x[1:] ** 2)]: a broadcast of one number plus a scatter-add."""
    def whole_and_part(x):
        return ag.tanh(ag.sum(x)) + ag.sum(x[1:] ** 2)

    x = np.linspace(-1, 1, 4)
    original = program = traced(whole_and_part, [x])
    for _, run_pass in PASSES:
        program = run_pass(program)
    assert_buffer_plan_is_safe(program, [x])
    assert_same_outputs(run(program, [x]), run(original, [x]))


# ---- code generation -----------------------------------------------------------------------------
def test_generated_lines_name_their_inputs_and_show_in_tracebacks():
    program = traced(lambda x, rows: ag.sum(ag.tanh(x[rows])), [np.ones(3), np.array([0, 2])])
    source, namespace = generate(program, "g", "x float64 (3,)", NUMPY)
    lines = source.splitlines()
    assert lines[0] == "def g(x, rows):"
    assert sum(line.startswith("    v") for line in lines) == len(program.eqns)
    function = build(source, namespace, "g")
    with pytest.raises(IndexError) as info:
        function(np.ones(3), np.array([0, 5]))  # an index out of range, at run time
    frames = [frame for frame in traceback.extract_tb(info.tb) if "autograd_lite.compile" in
              frame.filename]
    assert frames and "rows" in frames[0].line, "the traceback must show the generated line"
