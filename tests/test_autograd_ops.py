"""Every autograd_lite operation: forward equals numpy, gradient equals central differences.

Operands come from tests/strategies.py (bounded shapes with size-1 axes, mutually broadcastable
pairs); every gradient goes through tests/checks.py, which also asserts grad shape == input
shape and grad dtype == input dtype, with the tolerances derived there.
"""

import operator
import warnings

import numpy as np
import pytest
from checks import assert_grad_matches_finite_differences as check
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import (
    AG_BOUND,
    AG_POSITIVE_LOW,
    AG_RELU_MARGIN,
    ag_arrays,
    ag_broadcast_pairs,
    ag_broadcast_to_cases,
    ag_index_cases,
    ag_matmul_pairs,
    ag_power_cases,
    ag_reduction_cases,
    ag_reshape_cases,
    ag_shapes,
    ag_transpose_cases,
)

import autograd_lite as ag
from autograd_lite import Tensor

PROPERTY = settings(max_examples=40, deadline=None)


def sigmoid_reference(x):
    """1 / (1 + exp(-x)) written as 0.5 (1 + tanh(x / 2)): a different, overflow-free formula."""
    return 0.5 * (1.0 + np.tanh(x / 2))


# ---- binary arithmetic over mutually broadcastable shapes -------------------------------------
BINARY = [("add", operator.add), ("sub", operator.sub), ("mul", operator.mul),
          ("div", operator.truediv)]


@pytest.mark.parametrize("name, op", BINARY, ids=[n for n, _ in BINARY])
@PROPERTY
@given(data=st.data())
def test_binary_op_broadcasting(name, op, data):
    a, b = data.draw(ag_broadcast_pairs(b_min_abs=AG_POSITIVE_LOW if name == "div" else 0.0))
    out, (ga, gb) = check(op, [a, b], argnums=(0, 1), reference=op)
    assert out.grad_fn == name


@pytest.mark.parametrize("name, op", BINARY, ids=[n for n, _ in BINARY])
@PROPERTY
@given(data=st.data())
def test_binary_op_one_side_constant(name, op, data):
    """Only one operand requires grad; the other is a plain ndarray (either side)."""
    a, b = data.draw(ag_broadcast_pairs(b_min_abs=AG_POSITIVE_LOW))
    check(op, [a, b], argnums=0, reference=op)
    check(op, [a, b], argnums=1, reference=op)


def test_broadcast_gradient_sums_over_stretched_axes_exactly():
    """(3,1) + (4,) -> (3,4): each input's gradient is the sum of the seed over the other axis."""
    a = Tensor(np.zeros((3, 1)), requires_grad=True)
    b = Tensor(np.zeros(4), requires_grad=True)
    seed = np.arange(12.0).reshape(3, 4)
    (a + b).backward(seed)
    np.testing.assert_array_equal(a.grad, [[6.0], [22.0], [38.0]])
    np.testing.assert_array_equal(b.grad, [12.0, 15.0, 18.0, 21.0])


@PROPERTY
@given(x=ag_arrays(ag_shapes()))
def test_neg(x):
    out, _ = check(operator.neg, [x], reference=operator.neg)
    assert out.grad_fn == "neg"


@PROPERTY
@given(case=ag_power_cases())
def test_pow_scalar_exponent(case):
    x, p = case
    out, _ = check(lambda t: t ** p, [x], reference=lambda a: a ** p)
    assert out.grad_fn == "pow"


def test_pow_zero_exponent_at_zero_has_zero_gradient():
    """x ** 0 is the constant 1, so its derivative is 0 everywhere, including x = 0."""
    x = Tensor(np.array([0.0, 2.0]), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (x ** 0).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0])


@PROPERTY
@given(x=ag_arrays(ag_shapes()), base=st.one_of(st.just(2), st.floats(0.25, 4.0)))
def test_constant_base_to_tensor_power(x, base):
    """base ** t (e.g. 2 ** t) for a constant base > 0; derivative base^x log(base)."""
    check(lambda t: base ** t, [x], reference=lambda a: base ** a)


@PROPERTY
@given(pair=ag_matmul_pairs())
def test_matmul_all_1d_2d_combinations(pair):
    a, b = pair
    out, _ = check(operator.matmul, [a, b], argnums=(0, 1), reference=operator.matmul)
    assert out.grad_fn == "matmul"


@PROPERTY
@given(pair=ag_matmul_pairs())
def test_matmul_with_ndarray_on_either_side(pair):
    a, b = pair
    check(lambda t: t @ b, [a], reference=lambda x: x @ b)  # Tensor @ ndarray
    check(lambda t: a @ t, [b], reference=lambda x: a @ x)  # ndarray @ Tensor


@pytest.mark.parametrize("reduction", ["sum", "mean"])
@PROPERTY
@given(case=ag_reduction_cases())
def test_reductions(reduction, case):
    x, axis, keepdims = case
    out, _ = check(lambda t: getattr(t, reduction)(axis=axis, keepdims=keepdims), [x],
                   reference=lambda a: getattr(np, reduction)(a, axis=axis, keepdims=keepdims))
    assert out.grad_fn == reduction


@PROPERTY
@given(case=ag_reshape_cases())
def test_reshape(case):
    x, new_shape = case
    out, _ = check(lambda t: t.reshape(new_shape), [x],
                   reference=lambda a: np.reshape(a, new_shape))
    assert out.grad_fn == "reshape"
    if len(new_shape) > 1:  # the varargs spelling t.reshape(2, 3)
        check(lambda t: t.reshape(*new_shape), [x], reference=lambda a: a.reshape(*new_shape))


@PROPERTY
@given(case=ag_transpose_cases())
def test_transpose(case):
    x, axes = case
    out, _ = check(lambda t: t.transpose(axes), [x],
                   reference=lambda a: np.transpose(a, axes))
    assert out.grad_fn == "transpose"
    check(lambda t: ag.transpose(t, axes), [x], reference=lambda a: np.transpose(a, axes))


@PROPERTY
@given(x=ag_arrays(ag_shapes()))
def test_T_property(x):
    check(lambda t: t.T, [x], reference=lambda a: a.T)


@PROPERTY
@given(case=ag_broadcast_to_cases())
def test_broadcast_to(case):
    x, target = case
    out, _ = check(lambda t: ag.broadcast_to(t, target), [x],
                   reference=lambda a: np.broadcast_to(a, target))
    assert out.grad_fn == "broadcast_to"


@PROPERTY
@given(case=ag_index_cases())
def test_indexing(case):
    x, index = case
    out, _ = check(lambda t: t[index], [x], reference=lambda a: a[index])
    assert out.grad_fn == "getitem"


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


UNARY = [
    ("tanh", np.tanh, -AG_BOUND, AG_BOUND, 0.0),
    ("exp", np.exp, -AG_BOUND, AG_BOUND, 0.0),
    ("log", np.log, AG_POSITIVE_LOW, AG_BOUND, 0.0),
    ("sigmoid", sigmoid_reference, -AG_BOUND, AG_BOUND, 0.0),
    ("relu", lambda a: np.maximum(a, 0), -AG_BOUND, AG_BOUND, AG_RELU_MARGIN),
]


@pytest.mark.parametrize("name, reference, low, high, min_abs", UNARY,
                         ids=[u[0] for u in UNARY])
@PROPERTY
@given(data=st.data())
def test_unary_functions(name, reference, low, high, min_abs, data):
    x = data.draw(ag_arrays(ag_shapes(), low, high, min_abs))
    out, _ = check(getattr(ag, name), [x], reference=reference)
    assert out.grad_fn == name
    check(lambda t: getattr(t, name)(), [x], reference=reference)  # the method spelling


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
    np.testing.assert_allclose(s.data, sigmoid_reference(x_values), rtol=1e-6, atol=1e-15)
    e = np.exp(-np.abs(x_values))  # s (1 - s) = e^-|x| / (1 + e^-|x|)^2, exactly
    # for large x > 0, 1 - s cancels: an absolute error of one machine epsilon is inherent
    np.testing.assert_allclose(x.grad, e / (1 + e) ** 2, rtol=1e-5, atol=np.finfo(dtype).eps)
    assert s.data[0] == 0.0 and s.data[-1] == 1.0 and s.data[5] == 0.5


@PROPERTY
@given(pair=ag_broadcast_pairs())
def test_mse_fused_with_broadcasting(pair):
    a, b = pair
    out, _ = check(ag.mse, [a, b], argnums=(0, 1), reference=lambda p, t: np.mean((p - t) ** 2))
    assert out.grad_fn == "mse" and out.shape == ()
    check(lambda p: ag.mse(p, b), [a], reference=lambda p: np.mean((p - b) ** 2))


# ---- Python scalars and ndarrays on either side of an operator ------------------------------
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
}


@pytest.mark.parametrize("expr", sorted(MIXED))
def test_python_scalars_mix_on_either_side(expr):
    f, reference = MIXED[expr]
    x = np.array([[-1.5, 0.25, 2.0], [0.5, -0.75, 1.25]])
    out, _ = check(f, [x], reference=reference)
    assert isinstance(out, Tensor)


@pytest.mark.parametrize("expr", sorted(MIXED_ARRAYS))
def test_ndarrays_mix_on_either_side(expr):
    f, reference = MIXED_ARRAYS[expr]
    x = np.array([[-1.5, 0.25, 2.0], [0.5, -0.75, 1.25]])
    out, _ = check(f, [x], reference=reference)
    assert isinstance(out, Tensor)


# ---- float32 stays float32 -----------------------------------------------------------------
FLOAT32_CASES = {
    "add": lambda t, c: t + c,
    "rsub": lambda t, c: c - t,
    "mul": lambda t, c: t * 1.5,
    "div": lambda t, c: t / 2.0,
    "rdiv": lambda t, c: 1.0 / (t * t + 1.0),
    "neg": lambda t, c: -t,
    "pow": lambda t, c: t ** 3,
    "rpow": lambda t, c: 2 ** t,
    "matmul": lambda t, c: t @ c.T,
    "sum": lambda t, c: t.sum(axis=0),
    "mean": lambda t, c: t.mean(axis=1, keepdims=True),
    "reshape": lambda t, c: t.reshape(-1),
    "transpose": lambda t, c: t.T,
    "getitem": lambda t, c: t[np.array([1, 1, 0])],
    "broadcast_to": lambda t, c: ag.broadcast_to(t, (4, 2, 3)),
    "tanh": lambda t, c: ag.tanh(t),
    "exp": lambda t, c: ag.exp(t),
    "log": lambda t, c: ag.log(t * t + 1.0),
    "sigmoid": lambda t, c: ag.sigmoid(t),
    "relu": lambda t, c: ag.relu(t),
    "mse": lambda t, c: ag.mse(t, c),
}


@pytest.mark.parametrize("name", sorted(FLOAT32_CASES))
def test_float32_stays_float32(name):
    """Forward output and gradient keep float32 when every operand is float32 or a Python
    number; the gradient still matches float64 central differences within F32 tolerances."""
    f = FLOAT32_CASES[name]
    x = np.array([[-1.5, 0.25, 2.0], [0.5, -0.75, 1.25]], dtype=np.float32)
    c = np.array([[1.0, -2.0, 0.5], [0.25, 3.0, -1.0]], dtype=np.float32)
    out, (g,) = check(lambda t: f(t, c), [x])
    assert out.dtype == np.float32, out.dtype
    assert g.dtype == np.float32


@PROPERTY
@given(pair=ag_broadcast_pairs(dtype=np.float32))
def test_float32_broadcast_mul(pair):
    a, b = pair
    out, grads = check(operator.mul, [a, b], argnums=(0, 1), reference=operator.mul)
    assert out.dtype == np.float32 and all(g.dtype == np.float32 for g in grads)


@pytest.mark.parametrize("name", ["tanh", "exp", "sigmoid", "relu", "log"])
def test_integer_data_without_grad_computes_like_numpy(name):
    """Integer Tensors (which cannot require grad) still compute; float results like numpy."""
    data = np.array([1, 2, 3])
    references = {"tanh": np.tanh, "exp": np.exp, "log": np.log, "sigmoid": sigmoid_reference,
                  "relu": lambda a: np.maximum(a, 0)}
    out = getattr(ag, name)(Tensor(data))
    expected = references[name](data)
    assert out.dtype == expected.dtype
    np.testing.assert_allclose(out.data, expected, rtol=1e-12)
    assert not out.requires_grad


@pytest.mark.parametrize("name", ["tanh", "exp", "sigmoid", "relu", "log"])
def test_functions_accept_python_numbers(name):
    out = getattr(ag, name)(0.5)
    expected = {"tanh": np.tanh, "exp": np.exp, "log": np.log, "sigmoid": sigmoid_reference,
                "relu": lambda a: np.maximum(a, 0)}[name](0.5)
    assert isinstance(out, Tensor) and out.shape == ()
    np.testing.assert_allclose(out.data, expected, rtol=1e-12)
