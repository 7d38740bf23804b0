"""numpy's dispatch protocols on Tensors: np.tanh(t), ndarray @ t, np.sum(t), ... record on the
tape and give central-difference gradients; any other numpy function raises a TypeError naming
it instead of silently dropping the graph."""

import numpy as np
import pytest
from checks import assert_grad_matches_finite_differences as check
from hypothesis import given, settings
from strategies import AG_BOUND, AG_POSITIVE_LOW, ag_arrays, ag_reduction_cases, ag_shapes

from autograd_lite import Tensor

PROPERTY = settings(max_examples=30, deadline=None)
X = np.array([[-1.5, 0.25, 2.0], [0.5, -0.75, 1.25]])  # (2, 3)
M = np.array([[1.0, -2.0], [0.5, 0.25], [3.0, -1.0]])  # (3, 2)

DISPATCHED = {  # name: (function of a Tensor, numpy reference, expected grad_fn)
    "np.tanh(t)": (np.tanh, np.tanh, "tanh"),
    "np.exp(t)": (np.exp, np.exp, "exp"),
    "np.log(t*t + 1)": (lambda t: np.log(t * t + 1.0), lambda a: np.log(a * a + 1.0), "log"),
    "np.add(t, ndarray)": (lambda t: np.add(t, X), lambda a: a + X, "add"),
    "np.subtract(ndarray, t)": (lambda t: np.subtract(X, t), lambda a: X - a, "sub"),
    "np.multiply(t, t)": (lambda t: np.multiply(t, t), lambda a: a * a, "mul"),
    "np.divide(t, ndarray)": (lambda t: np.divide(t, X), lambda a: a / X, "div"),
    "np.negative(t)": (np.negative, np.negative, "neg"),
    "np.square(t)": (np.square, np.square, "pow"),
    "np.sqrt(t*t + 1)": (lambda t: np.sqrt(t * t + 1.0), lambda a: np.sqrt(a * a + 1.0), "pow"),
    "np.power(t, 3)": (lambda t: np.power(t, 3), lambda a: np.power(a, 3), "pow"),
    "t + ndarray": (lambda t: t + X, lambda a: a + X, "add"),
    "ndarray + t": (lambda t: X + t, lambda a: X + a, "add"),
    "ndarray * t": (lambda t: X * t, lambda a: X * a, "mul"),
    "ndarray @ t.T": (lambda t: X @ t.T, lambda a: X @ a.T, "matmul"),
    "M.T @ t.T": (lambda t: M.T @ t.T, lambda a: M.T @ a.T, "matmul"),
    "t @ M": (lambda t: t @ M, lambda a: a @ M, "matmul"),
    "np.matmul(t, M)": (lambda t: np.matmul(t, M), lambda a: a @ M, "matmul"),
    "np.dot(t, M)": (lambda t: np.dot(t, M), lambda a: a @ M, "matmul"),
    "np.sum(t)": (np.sum, np.sum, "sum"),
    "np.sum(t, axis=1)": (lambda t: np.sum(t, axis=1), lambda a: np.sum(a, axis=1), "sum"),
    "np.mean(t)": (np.mean, np.mean, "mean"),
    "np.mean(t, axis=0)": (lambda t: np.mean(t, axis=0), lambda a: np.mean(a, axis=0), "mean"),
    "np.mean(t, axis=-1, keepdims=True)": (lambda t: np.mean(t, axis=-1, keepdims=True),
                                           lambda a: np.mean(a, axis=-1, keepdims=True), "mean"),
    "np.reshape(t, (3, 2))": (lambda t: np.reshape(t, (3, 2)), lambda a: np.reshape(a, (3, 2)),
                              "reshape"),
    "np.reshape(t, -1)": (lambda t: np.reshape(t, -1), lambda a: np.reshape(a, -1), "reshape"),
    "np.transpose(t)": (np.transpose, np.transpose, "transpose"),
    "np.transpose(t, (1, 0))": (lambda t: np.transpose(t, (1, 0)),
                                lambda a: np.transpose(a, (1, 0)), "transpose"),
    "np.broadcast_to(t, (4, 2, 3))": (lambda t: np.broadcast_to(t, (4, 2, 3)),
                                      lambda a: np.broadcast_to(a, (4, 2, 3)), "broadcast_to"),
}


@pytest.mark.parametrize("expr", sorted(DISPATCHED))
def test_numpy_calls_record_on_the_tape(expr):
    f, reference, grad_fn = DISPATCHED[expr]
    out, _ = check(f, [X], reference=reference)
    assert isinstance(out, Tensor)
    assert out.grad_fn == grad_fn


@PROPERTY
@given(x=ag_arrays(ag_shapes(), AG_POSITIVE_LOW, AG_BOUND))
def test_numpy_ufuncs_random_shapes(x):
    check(lambda t: np.log(np.exp(np.tanh(t)) * t), [x],
          reference=lambda a: np.log(np.exp(np.tanh(a)) * a))


@PROPERTY
@given(case=ag_reduction_cases())
def test_np_sum_and_np_mean_random_axes(case):
    x, axis, keepdims = case
    for fn in (np.sum, np.mean):
        check(lambda t, fn=fn: fn(t, axis=axis, keepdims=keepdims), [x],
              reference=lambda a, fn=fn: fn(a, axis=axis, keepdims=keepdims))


def test_shape_queries_pass_through():
    t = Tensor(X, requires_grad=True)
    assert np.shape(t) == (2, 3) and np.ndim(t) == 2 and np.size(t) == 6


UNSUPPORTED = {
    "np.sin": lambda t: np.sin(t),
    "np.cos": lambda t: np.cos(t),
    "np.maximum": lambda t: np.maximum(t, 0.0),
    "np.concatenate": lambda t: np.concatenate([t, t]),
    "np.stack": lambda t: np.stack([t, t]),
    "np.add.reduce": lambda t: np.add.reduce(t),
    "np.multiply.outer": lambda t: np.multiply.outer(t, t),
    "np.cumsum": lambda t: np.cumsum(t),
    "np.where": lambda t: np.where(X > 0, t, 0.0),
}


@pytest.mark.parametrize("name", sorted(UNSUPPORTED))
@pytest.mark.parametrize("requires_grad", [True, False])
def test_unsupported_numpy_functions_raise_type_error_naming_them(name, requires_grad):
    t = Tensor(X, requires_grad=requires_grad)
    with pytest.raises(TypeError) as info:
        UNSUPPORTED[name](t)
    assert name in str(info.value)


def test_unsupported_keyword_arguments_raise_type_error():
    t = Tensor(X, requires_grad=True)
    with pytest.raises(TypeError, match="np.tanh"):
        np.tanh(t, out=np.empty_like(X))
    with pytest.raises(TypeError, match="np.sum"):
        np.sum(t, dtype=np.float32)
