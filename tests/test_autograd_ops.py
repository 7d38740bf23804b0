"""Every autograd_lite operation, driven from tests/op_table.py: the table covers every primitive
and public function; forward equals numpy; the gradient equals central differences, for every
spelling, each broadcast operand alone on the tape, and in float32; plain arrays give plain
results; no gradient flows through the non-differentiable operations. Then the cases a table
cannot express (exact sums, Python numbers and ndarrays on either side of an operator, ...).

Every gradient goes through tests/checks.py, which also asserts grad shape == input shape and
grad dtype == input dtype, with the tolerances derived there.

Examples per entry: the table has about 140 entries (60 before issue 20), so each property
takes half the examples it took then, from the conftest profile's max_examples (30 by default):
the first spelling's forward and VJP 15, the other spellings 5, each operand alone 7, float32 7,
plain arrays 5, the non-differentiable operations 5 to 7.
"""

import inspect
import warnings
from unittest import mock

import numpy as np
import pytest
from checks import assert_forward_equal, assert_grads_close, fewer_examples, numeric_vjp
from checks import assert_grad_matches_finite_differences as check
from hypothesis import given
from hypothesis import strategies as st
from op_table import (
    DIFFERENTIABLE,
    NOT_DIFFERENTIABLE,
    TABLE,
    Op,
    Spelling,
    bind,
    spelling_params,
)
from strategies import ag_transpose_cases

import autograd_lite as ag
from autograd_lite import Tensor
from autograd_lite import functions as F
from autograd_lite import ops as P
from autograd_lite.tensor import ArrayOperators

TAPE_KINDS = ("function", "method", "operator", "primitive")  # numpy's: test_numpy_dispatch.py


def run_check(op: Op, spelling: Spelling, case, argnums=None, **tolerances):
    """The checker on one case: every array operand differentiated unless `argnums` says."""
    numeric = None if op.numeric is None else bind(op.numeric, case.params)
    argnums = tuple(range(len(case.arrays))) if argnums is None else argnums
    return check(bind(spelling.call, case.params), case.arrays, argnums,
                 reference=bind(op.reference, case.params), numeric=numeric, **tolerances)


# ---- the table covers the library ----------------------------------------------------------
def test_every_primitive_is_in_the_table():
    """Fails when a primitive is added to ops.py without an entry in tests/op_table.py."""
    covered = {p for op in TABLE for p in op.primitives}
    missing = [p.__name__ for p in P.primitives() if p not in covered]
    assert not missing, f"primitives without an entry in tests/op_table.py: {missing}"


def test_every_public_function_is_spelled_in_the_table():
    """autograd_lite's functions, and np.linalg's as autograd_lite.linalg spells them."""
    public = {name: getattr(ag, name) for name in ag.__all__
              if inspect.isfunction(getattr(ag, name))
              and getattr(ag, name).__module__ == F.__name__}
    public.update({f"linalg.{name}": f for name, f in vars(ag.linalg).items()})
    spelled = {s.target for op in TABLE for s in op.spellings if s.kind == "function"}
    missing = sorted(name for name, f in public.items() if f not in spelled)
    assert not missing, f"public functions no table entry spells: {missing}"


def test_every_tensor_method_is_spelled_in_the_table():
    methods = {name for name, value in vars(ArrayOperators).items()
               if not name.startswith("_") and inspect.isfunction(value)}
    spelled = {s.target for op in TABLE for s in op.spellings if s.kind == "method"}
    assert methods - spelled == set(), f"Tensor methods no entry spells: {methods - spelled}"


@pytest.mark.parametrize("op", TABLE, ids=lambda op: op.name)
@fewer_examples(12)
@given(data=st.data())
def test_each_entry_runs_the_primitives_it_names(op, data):
    """An entry's first spelling runs the primitives it names (clip: one or both), among them
    the one its grad_fn names."""
    case = data.draw(op.cases, label="case")
    ran = set()

    def counting(primitive):
        forward = primitive.eager_forward

        def counted(*args, **kwargs):
            ran.add(primitive)
            return forward(*args, **kwargs)
        return staticmethod(counted)

    patches = [mock.patch.object(p, "eager_forward", counting(p)) for p in op.primitives]
    for p in patches:
        p.start()
    try:
        op.spellings[0].call(*(Tensor(a, requires_grad=True) for a in case.arrays),
                             **case.params)
    finally:
        for p in patches:
            p.stop()
    assert ran <= set(op.primitives), f"ran {ran}, not named by the entry"
    last = op.output_grad_fn(case.params) or op.primitives[0].name
    assert last in {p.name for p in ran}


# ---- forward == numpy and VJP == central differences, every tape spelling --------------------
def forward_and_vjp(op, spelling, data):
    """The output and the grad_fn the entry names for it, after the checker asserted forward ==
    numpy and the VJP == central differences (it raises AssertionError otherwise)."""
    case = data.draw(op.cases, label="case")
    out, _ = run_check(op, spelling, case)
    return out, op.output_grad_fn(case.params)


@pytest.mark.parametrize("op, spelling",
                         spelling_params(DIFFERENTIABLE, TAPE_KINDS, first_only=True))
@fewer_examples(2)
@given(data=st.data())
def test_forward_and_vjp(op, spelling, data):
    out, grad_fn = forward_and_vjp(op, spelling, data)
    assert out.grad_fn == grad_fn, f"output recorded by {out.grad_fn!r}, expected {grad_fn!r}"


@pytest.mark.parametrize("op, spelling",
                         spelling_params(DIFFERENTIABLE, TAPE_KINDS, first_only=False,
                                         skip_first=True))
@fewer_examples(6)
@given(data=st.data())
def test_forward_and_vjp_other_spellings(op, spelling, data):
    """The other spellings are thin wrappers of the first: fewer examples."""
    out, grad_fn = forward_and_vjp(op, spelling, data)
    assert out.grad_fn == grad_fn, f"output recorded by {out.grad_fn!r}, expected {grad_fn!r}"


@pytest.mark.parametrize("op, spelling",
                         spelling_params(tuple(op for op in DIFFERENTIABLE if op.broadcasting),
                                         TAPE_KINDS))
@fewer_examples(4)
@given(data=st.data())
def test_broadcasting_each_operand_alone_on_the_tape(op, spelling, data):
    """Each operand a Tensor, the others plain ndarrays (on either side of the operator): the
    gradient is summed back to that operand's own shape."""
    case = data.draw(op.cases, label="case")
    for i in range(len(case.arrays)):
        run_check(op, spelling, case, argnums=i)


@pytest.mark.parametrize("op", [op for op in DIFFERENTIABLE if op.f32_tolerance],
                         ids=lambda op: op.name)
@fewer_examples(4)
@given(data=st.data())
def test_float32_in_float32_out(op, data):
    """float32 operands: float32 output (astype: the other dtype) and float32 gradients, within
    the entry's float32 tolerance of float64 central differences."""
    case = data.draw(op.cases, label="case").astype(np.float32)
    atol, rtol = op.f32_tolerance
    out, grads = run_check(op, op.spellings[0], case, atol=atol, rtol=rtol)
    assert out.dtype == (np.float32 if op.keeps_dtype else np.float64)
    assert all(g.dtype == np.float32 for g in grads)


@pytest.mark.parametrize("op, spelling", spelling_params(TABLE, ("function", "primitive")))
@fewer_examples(6)
@given(data=st.data())
def test_plain_arrays_in_plain_arrays_out(op, spelling, data):
    """Without a Tensor operand the functions are plain numpy: no Tensor comes back."""
    case = data.draw(op.cases, label="case")
    out = spelling.call(*case.arrays, **case.params)
    assert not isinstance(out, Tensor)
    assert_forward_equal(out, op.reference(*case.arrays, **case.params))


# ---- the non-differentiable operations -----------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("op, spelling", spelling_params(NOT_DIFFERENTIABLE))
@fewer_examples(6)
@given(data=st.data())
def test_non_differentiable_forward_records_nothing(op, spelling, dtype, data):
    case = data.draw(op.cases, label="case").astype(dtype)
    out = spelling.call(*(Tensor(a, requires_grad=True) for a in case.arrays), **case.params)
    assert isinstance(out, Tensor)
    assert_forward_equal(out, op.reference(*case.arrays, **case.params))
    assert not out.requires_grad and out.grad_fn is None and out.is_leaf


@pytest.mark.parametrize("op, spelling", spelling_params(NOT_DIFFERENTIABLE))
@fewer_examples(4)
@given(data=st.data())
def test_no_gradient_flows_through_non_differentiable_operations(op, spelling, data):
    """d/dx sum(x * op(x, ...)) = op(x, ...) held constant: the op's own path adds nothing;
    the other operands get exactly zero; a function of op's output alone has gradient 0."""
    case = data.draw(op.cases, label="case")
    n = len(case.arrays)
    fixed = np.asarray(op.reference(*case.arrays, **case.params), dtype=np.float64)
    through = bind(spelling.call, case.params)
    grads = ag.grad(lambda *xs: (xs[0] * through(*xs)).sum(), tuple(range(n)))(*case.arrays)
    expected = numeric_vjp(lambda x: np.sum(x * fixed), [case.arrays[0]], 0)
    assert_grads_close(grads[0], expected, like=case.arrays[0])
    for g, a in zip(grads[1:], case.arrays[1:]):
        np.testing.assert_array_equal(g, np.zeros(a.shape))
    alone = ag.grad(lambda *xs: (through(*xs) * 1.0).sum(), tuple(range(n)))(*case.arrays)
    for g, a in zip(alone, case.arrays):
        np.testing.assert_array_equal(g, np.zeros(a.shape))


@pytest.mark.parametrize("op, spelling", spelling_params(NOT_DIFFERENTIABLE, duals=True))
@fewer_examples(6)
@given(data=st.data())
def test_non_differentiable_operations_have_zero_tangent(op, spelling, data):
    case = data.draw(op.cases, label="case")
    tangents = tuple(np.ones(a.shape) for a in case.arrays)
    value, tangent = ag.jvp(bind(spelling.call, case.params), case.arrays, tangents)
    assert_forward_equal(value, op.reference(*case.arrays, **case.params))
    np.testing.assert_array_equal(tangent, np.zeros(np.shape(value)))


# ---- elementwise functions at inf, -inf, nan, +-0 ------------------------------------------
SPECIAL_VALUES = np.array([np.inf, -np.inf, np.nan, 0.0, -0.0, 1.0, -1.0, 1e300, -1e300])


@pytest.mark.parametrize("op, spelling",
                         spelling_params(tuple(op for op in TABLE if op.elementwise_unary)))
def test_elementwise_forward_at_special_values_is_numpys(op, spelling):
    """The forward values at non-finite and extreme inputs are numpy's (NaN where numpy says
    NaN; the sign of a zero result is not compared)."""
    with np.errstate(all="ignore"):
        expected = op.reference(SPECIAL_VALUES)
        out = spelling.call(Tensor(SPECIAL_VALUES, requires_grad=op.differentiable))
    np.testing.assert_array_equal(out.data, expected)


@pytest.mark.parametrize("op", [op for op in TABLE if op.elementwise_unary],
                         ids=lambda op: op.name)
def test_integer_tensors_compute_like_numpy(op):
    """Integer Tensors (which cannot require grad) still compute: numpy's values and dtype."""
    data = np.array([1, 2, 3])
    out = op.spellings[0].call(Tensor(data))
    expected = op.reference(data)
    assert not out.requires_grad
    assert_forward_equal(out, expected)


@pytest.mark.parametrize("op", [op for op in TABLE if op.elementwise_unary],
                         ids=lambda op: op.name)
def test_functions_accept_python_numbers(op):
    out = op.spellings[0].call(0.5)
    assert not isinstance(out, Tensor)
    np.testing.assert_allclose(out, op.reference(np.float64(0.5)), rtol=1e-12)


# ---- exact values a table cannot express ---------------------------------------------------
def test_broadcast_gradient_sums_over_stretched_axes_exactly():
    """(3,1) + (4,) -> (3,4): each input's gradient is the sum of the seed over the other axis."""
    a = Tensor(np.zeros((3, 1)), requires_grad=True)
    b = Tensor(np.zeros(4), requires_grad=True)
    seed = np.arange(12.0).reshape(3, 4)
    (a + b).backward(seed)
    np.testing.assert_array_equal(a.grad, [[6.0], [22.0], [38.0]])
    np.testing.assert_array_equal(b.grad, [12.0, 15.0, 18.0, 21.0])


def test_pow_zero_exponent_at_zero_has_zero_gradient():
    """x ** 0 is the constant 1, so its derivative is 0 everywhere, including x = 0."""
    x = Tensor(np.array([0.0, 2.0]), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (x ** 0).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0])


@given(case=ag_transpose_cases())
def test_T_property(case):
    x, _ = case
    out, _ = check(lambda t: t.T, [x], reference=lambda a: a.T)
    assert out.grad_fn == "transpose"


def test_integer_array_index_with_repeats_scatter_adds():
    """Each entry's gradient is the sum of the seeds of every position that picked it."""
    x = Tensor(np.zeros((3, 2)), requires_grad=True)
    rows = np.array([2, 0, 2, 2, -1])  # row 2 four times (-1 is row 2), row 1 never
    x[rows].backward(np.arange(10.0).reshape(5, 2))
    # row 2 collects the seeds of positions 0, 2, 3, 4; row 0 those of position 1
    np.testing.assert_array_equal(x.grad, [[2.0, 3.0], [0.0, 0.0], [18.0, 22.0]])
    y = Tensor(np.zeros(4), requires_grad=True)
    y[[1, 1, 1]].sum().backward()
    np.testing.assert_array_equal(y.grad, [0.0, 3.0, 0.0, 0.0])


def test_repeat_gradient_adds_the_copies_back():
    x = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    ag.repeat(x, np.array([2, 0, 3])).backward(np.arange(5.0))
    np.testing.assert_array_equal(x.grad, [0.0 + 1.0, 0.0, 2.0 + 3.0 + 4.0])


def test_relu_gradient_is_the_step_function():
    x = Tensor(np.array([-2.0, -1e-3, 1e-3, 5.0]), requires_grad=True)
    ag.relu(x).backward(np.full(4, 3.0))
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 3.0, 3.0])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sigmoid_large_magnitude_no_overflow(dtype):
    x_values = np.array([-1e5, -1000.0, -745.0, -100.0, -30.0, 0.0, 30.0, 100.0, 1000.0, 1e5])
    x = Tensor(x_values.astype(dtype), requires_grad=True)
    with np.errstate(over="raise", invalid="raise", divide="raise"), warnings.catch_warnings():
        warnings.simplefilter("error")
        s = ag.sigmoid(x)
        s.backward(np.ones(x.shape, dtype))
    assert s.dtype == dtype and x.grad.dtype == dtype
    assert np.all(np.isfinite(s.data)) and np.all(np.isfinite(x.grad))
    np.testing.assert_allclose(s.data, 0.5 * (1 + np.tanh(x_values / 2)), rtol=1e-6, atol=1e-15)
    e = np.exp(-np.abs(x_values))  # s (1 - s) = e^-|x| / (1 + e^-|x|)^2, exactly
    # for large x > 0, 1 - s cancels: an absolute error of one machine epsilon is inherent
    np.testing.assert_allclose(x.grad, e / (1 + e) ** 2, rtol=1e-5, atol=np.finfo(dtype).eps)
    assert s.data[0] == 0.0 and s.data[-1] == 1.0 and s.data[5] == 0.5


def test_einsum_chapter_contraction_exact():
    """L = sum_dk u[d,k] sum_n A[n,k] B[n,d,k] ('nk,ndk->dk', the chapter's dL/dW): dL/dA[n,k] =
    sum_d u[d,k] B[n,d,k] and dL/dB[n,d,k] = u[d,k] A[n,k]."""
    rng = np.random.default_rng(3)
    A, B, u = rng.normal(size=(5, 3)), rng.normal(size=(5, 2, 3)), rng.normal(size=(2, 3))
    a, b = Tensor(A, requires_grad=True), Tensor(B, requires_grad=True)
    out = ag.einsum("nk,ndk->dk", a, b)
    np.testing.assert_allclose(out.data, (A[:, None, :] * B).sum(0), rtol=1e-13)
    out.backward(u)
    np.testing.assert_allclose(a.grad, (u[None] * B).sum(1), rtol=1e-13)
    np.testing.assert_allclose(b.grad, u[None] * A[:, None, :], rtol=1e-13)


def test_batched_matmul_broadcasts_batch_axes_and_sums_them_back():
    """(2, 1, 3, 4) @ (5, 4, 2) -> (2, 5, 3, 2): dA = sum over the 5 of g B^T, dB = sum over
    the 2 of A^T g (written out with einsum, not with matmul)."""
    rng = np.random.default_rng(4)
    A, B = rng.normal(size=(2, 1, 3, 4)), rng.normal(size=(5, 4, 2))
    g = rng.normal(size=(2, 5, 3, 2))
    a, b = Tensor(A, requires_grad=True), Tensor(B, requires_grad=True)
    out = a @ b
    assert out.shape == (2, 5, 3, 2)
    np.testing.assert_allclose(out.data, np.einsum("xyik,zkj->xzij", A, B), rtol=1e-13)
    out.backward(g)
    np.testing.assert_allclose(a.grad, np.einsum("xzij,zkj->xik", g, B)[:, None], rtol=1e-12)
    np.testing.assert_allclose(b.grad, np.einsum("xzij,xik->zkj", g, A[:, 0]), rtol=1e-12)


# ---- Python numbers and ndarrays on either side of an operator -----------------------------
MIXED = {
    "t + 2": (lambda t: t + 2, lambda x: x + 2),
    "2 + t": (lambda t: 2 + t, lambda x: 2 + x),
    "t - 2.5": (lambda t: t - 2.5, lambda x: x - 2.5),
    "2.5 - t": (lambda t: 2.5 - t, lambda x: 2.5 - x),
    "t * 3": (lambda t: t * 3, lambda x: x * 3),
    "3 * t": (lambda t: 3 * t, lambda x: 3 * x),
    "t / 4": (lambda t: t / 4, lambda x: x / 4),
    "4 / (t*t + 1)": (lambda t: 4 / (t * t + 1), lambda x: 4 / (x * x + 1)),
    "t ** 2": (lambda t: t ** 2, lambda x: x ** 2),
    "2 ** t": (lambda t: 2 ** t, lambda x: 2.0 ** x),
    "np.float64(1.5) * t": (lambda t: np.float64(1.5) * t, lambda x: np.float64(1.5) * x),
    "np.float64(2.0) ** t": (lambda t: np.float64(2.0) ** t, lambda x: np.float64(2.0) ** x),
    "t > 0 (mask) * t": (lambda t: (t > 0) * t, lambda x: (x > 0) * x),
}
M = np.array([[1.0, -2.0, 0.5], [0.25, 3.0, -1.0]])  # (2, 3)
MIXED_ARRAYS = {
    "t + ndarray": (lambda t: t + M, lambda x: x + M),
    "ndarray + t": (lambda t: M + t, lambda x: M + x),
    "ndarray - t": (lambda t: M - t, lambda x: M - x),
    "t - ndarray": (lambda t: t - M, lambda x: x - M),
    "ndarray * t": (lambda t: M * t, lambda x: M * x),
    "ndarray / (t*t + 1)": (lambda t: M / (t * t + 1), lambda x: M / (x * x + 1)),
    "t / ndarray": (lambda t: t / M, lambda x: x / M),
    "ndarray @ t.T": (lambda t: M @ t.T, lambda x: M @ x.T),
    "t @ ndarray.T": (lambda t: t @ M.T, lambda x: x @ M.T),
    "ndarray ** 2 * t": (lambda t: M ** 2 * t, lambda x: M ** 2 * x),
}


@pytest.mark.parametrize("expr", sorted({**MIXED, **MIXED_ARRAYS}))
def test_numbers_and_ndarrays_mix_on_either_side(expr):
    f, reference = {**MIXED, **MIXED_ARRAYS}[expr]
    x = np.array([[-1.5, 0.25, 2.0], [0.5, -0.75, 1.25]])
    out, _ = check(f, [x], reference=reference)
    assert isinstance(out, Tensor)



def test_mixed_float_dtypes_promote_like_numpy_and_each_gradient_keeps_its_leafs_dtype():
    single = Tensor(np.array([1.0, -2.0, 0.5], np.float32), requires_grad=True)
    double = Tensor(np.array([3.0, 0.25, -1.0]), requires_grad=True)
    out = single * double + single * np.float64(2.0)
    assert out.dtype == np.result_type(np.float32, np.float64)
    out.backward(np.ones(3))
    assert single.grad.dtype == np.float32 and double.grad.dtype == np.float64
    np.testing.assert_array_equal(single.grad, double.data.astype(np.float32) + 2.0)
    np.testing.assert_array_equal(double.grad, single.data.astype(np.float64))


def test_one_tensor_in_several_operand_slots():
    """Each slot's contribution adds: einsum(t, t) = sum t^2 (gradient 2t), concatenate
    [t, t, t[:1]] weighted by W (gradient: the matching blocks of W summed)."""
    X = np.array([[1.0, 2.0], [3.0, -1.0]])
    np.testing.assert_array_equal(ag.grad(lambda t: ag.einsum("ij,ij->", t, t))(X), 2 * X)
    W = np.arange(10.0).reshape(5, 2)
    g = ag.grad(lambda t: (ag.concatenate([t, t, t[:1]]) * W).sum())(X)
    np.testing.assert_array_equal(g, W[0:2] + W[2:4] + np.vstack([W[4], np.zeros(2)]))
    np.testing.assert_array_equal(ag.grad(lambda t: (t @ t).sum())(X),
                                  np.ones((2, 2)) @ X.T + X.T @ np.ones((2, 2)))


@pytest.mark.parametrize("name, call", [
    ("power", lambda a: ag.power(a, 2)), ("square", ag.square), ("mse", lambda a: ag.mse(a, a)),
    ("astype", lambda a: ag.astype(a, np.float32)), ("sigmoid", ag.sigmoid), ("relu", ag.relu),
    ("tanh", ag.tanh)])
def test_functions_take_lists_as_numpy_does(name, call):
    """With no Tensor operand a function is numpy on np.asarray of its operands: a list works."""
    listed, array = [0.5, -1.0, 2.0], np.array([0.5, -1.0, 2.0])
    out = call(listed)
    assert not isinstance(out, Tensor), f"{name} of a list gave a Tensor"
    np.testing.assert_array_equal(out, call(array), err_msg=name)
    assert np.asarray(out).dtype == np.asarray(call(array)).dtype, name
