"""The functional API: grad, value_and_grad, vjp, jacobian and gradcheck; and the oracle,
central differences, against analytic Jacobians.

Expected values are numpy forwards and central differences (tests/checks.py); gradcheck's
failure report is checked against analytic derivatives of a deliberately wrong rule.
"""

import re

import numpy as np
import pytest
from checks import assert_grads_close, numeric_vjp
from hypothesis import given
from hypothesis import strategies as st
from strategies import AG_BOUND, AG_POSITIVE_LOW, ag_arrays, ag_broadcast_pairs, ag_shapes

import autograd_lite as ag
from autograd_lite import GradcheckError, Tensor
from autograd_lite import ops as P
from autograd_lite.finite_differences import (
    central_difference_gradient,
    central_difference_jacobian,
)

X = np.array([[-1.5, 0.25, 2.0], [0.5, -0.75, 1.25]])
W = np.array([0.5, -1.0, 2.0])


def loss(x, w):
    """A small model: mean((tanh(x) @ w)^2) + sum(w * w)."""
    return ag.mean((ag.tanh(x) @ w) ** 2) + (w * w).sum()


def loss_numpy(x, w):
    return np.mean((np.tanh(x) @ w) ** 2) + np.sum(w * w)


# ---- grad and value_and_grad ---------------------------------------------------------------
@given(x=ag_arrays(ag_shapes()))
def test_grad_matches_central_differences(x):
    g = ag.grad(lambda t: (ag.tanh(t) * t).sum())(x)
    assert isinstance(g, np.ndarray | np.generic)
    assert_grads_close(g, numeric_vjp(lambda a: np.sum(np.tanh(a) * a), [x], 0), like=x)


@pytest.mark.parametrize("argnums", [0, 1, -1, (0, 1), (1,), (1, 0)])
def test_value_and_grad_argnums(argnums):
    value, grads = ag.value_and_grad(loss, argnums)(X, W)
    assert isinstance(value, float)
    np.testing.assert_allclose(value, loss_numpy(X, W), rtol=1e-12)
    nums = (argnums,) if isinstance(argnums, int) else argnums
    expected = [numeric_vjp(loss_numpy, [X, W], n) for n in nums]
    actual = [grads] if isinstance(argnums, int) else grads
    assert isinstance(grads, tuple) == (not isinstance(argnums, int))
    assert len(actual) == len(nums)
    for g, e, n in zip(actual, expected, nums):
        assert_grads_close(g, e, like=(X, W)[n], what=f"argnum {n}")


def test_grad_with_tuple_argnums_and_extra_constant_argument():
    def f(x, w, scale):
        return loss(x, w) * scale

    gx, gw = ag.grad(f, argnums=(0, 1))(X, W, 3.0)
    assert_grads_close(gx, 3.0 * numeric_vjp(loss_numpy, [X, W], 0), like=X)
    assert_grads_close(gw, 3.0 * numeric_vjp(loss_numpy, [X, W], 1), like=W)


def test_grad_accepts_lists_tensors_and_integers():
    f = lambda t: (t * t).sum()  # noqa: E731
    for x in ([1, 2, 3], np.array([1, 2, 3]), Tensor(np.array([1.0, 2.0, 3.0]))):
        g = ag.grad(f)(x)
        np.testing.assert_allclose(g, [2.0, 4.0, 6.0], rtol=1e-15)
        assert g.dtype == np.float64


def test_grad_of_function_ignoring_its_input_is_zero():
    g = ag.grad(lambda t, u: ag.tanh(u).sum(), argnums=0)(X, W)
    np.testing.assert_array_equal(g, np.zeros(X.shape))


def test_grad_does_not_accumulate_between_calls():
    df = ag.grad(lambda t: (t * t).sum())
    first, second = df(W), df(W)
    np.testing.assert_array_equal(first, 2 * W)
    np.testing.assert_array_equal(second, 2 * W)


def test_grad_requires_a_one_element_output():
    with pytest.raises(ag.ShapeError):
        ag.grad(lambda t: t * 2.0)(X)


# ---- vjp -----------------------------------------------------------------------------------
@given(pair=ag_broadcast_pairs(b_min_abs=AG_POSITIVE_LOW), seed=st.integers(0, 2**16))
def test_vjp_matches_central_differences(pair, seed):
    a, b = pair

    def f_numpy(x, y):
        return np.tanh(x) / y + x * y

    value, vjp_fn = ag.vjp(lambda x, y: ag.tanh(x) / y + x * y, a, b)
    np.testing.assert_allclose(value, f_numpy(a, b), rtol=1e-12, atol=1e-12)
    u = np.random.default_rng(seed).uniform(-1.5, 1.5, np.shape(value))
    for _ in range(2):  # vjp_fn can be called again: same answer, no accumulation
        ga, gb = vjp_fn(u)
        assert_grads_close(ga, numeric_vjp(f_numpy, [a, b], 0, u), like=a, what="vjp a")
        assert_grads_close(gb, numeric_vjp(f_numpy, [a, b], 1, u), like=b, what="vjp b")


def test_vjp_with_basis_vectors_gives_jacobian_rows():
    value, vjp_fn = ag.vjp(lambda x: ag.exp(x) * 2.0, W)
    np.testing.assert_allclose(value, 2 * np.exp(W), rtol=1e-15)
    for i in range(3):
        (row,) = vjp_fn(np.eye(3)[i])
        np.testing.assert_allclose(row, np.eye(3)[i] * 2 * np.exp(W), rtol=1e-15)


# ---- jacobian ------------------------------------------------------------------------------
JACOBIAN_CASES = {
    "elementwise": (lambda t: ag.tanh(t) * 2.0, lambda a: np.tanh(a) * 2.0),
    "matmul": (lambda t: t @ W, lambda a: a @ W),
    "scalar": (lambda t: (t * t).sum(), lambda a: np.sum(a * a)),
    "transpose-broadcast": (lambda t: t.T * W[:, None] + 1.0, lambda a: a.T * W[:, None] + 1.0),
}


@pytest.mark.parametrize("name", sorted(JACOBIAN_CASES))
def test_jacobian_matches_central_difference_jacobian(name):
    f, f_numpy = JACOBIAN_CASES[name]
    jac = ag.jacobian(f)(X)
    expected = central_difference_jacobian(f_numpy, [X])
    assert jac.shape == np.shape(f_numpy(X)) + X.shape
    assert_grads_close(jac, expected, what=f"jacobian of {name}")


@given(x=ag_arrays(ag_shapes(max_dims=2), AG_POSITIVE_LOW, AG_BOUND))
def test_jacobian_random_shapes(x):
    jac = ag.jacobian(lambda t: ag.log(t) * ag.sigmoid(t))(x)
    f_numpy = lambda a: np.log(a) * 0.5 * (1 + np.tanh(a / 2))  # noqa: E731
    assert_grads_close(jac, central_difference_jacobian(f_numpy, [x]), what="jacobian")


def test_jacobian_tuple_argnums():
    ja, jw = ag.jacobian(lambda x, w: ag.tanh(x) @ w, argnums=(0, 1))(X, W)
    f_numpy = lambda x, w: np.tanh(x) @ w  # noqa: E731
    assert ja.shape == (2, 2, 3) and jw.shape == (2, 3)
    assert_grads_close(ja, central_difference_jacobian(f_numpy, [X, W], 0), what="d/dx")
    assert_grads_close(jw, central_difference_jacobian(f_numpy, [X, W], 1), what="d/dw")
    assert_grads_close(jw, np.tanh(X), what="d/dw analytic")  # d(tanh(X) w)/dw = tanh(X)


# ---- gradcheck -----------------------------------------------------------------------------
GRADCHECK_CASES = {
    "loss": (loss, [X, W]),
    "div-broadcast": (lambda a, b: a / b, [X, np.array([0.5, -2.0, 1.5])]),
    "sigmoid-mean": (lambda a: ag.sigmoid(a).mean(axis=0), [X]),
    "index-repeats": (lambda a: a[np.array([1, 1, 0])] * 3.0, [X]),
    "mse": (ag.mse, [X, W]),
    "pow": (lambda a: (a * a + 1.0) ** -1.5, [X]),
    "rpow": (lambda a: 2 ** a, [X]),
}


@pytest.mark.parametrize("name", sorted(GRADCHECK_CASES))
def test_gradcheck_passes_correct_functions(name):
    f, inputs = GRADCHECK_CASES[name]
    assert ag.gradcheck(f, *inputs) is True
    assert ag.gradcheck(f, *inputs, eps=1e-6, atol=1e-5, rtol=1e-3) is True


def scale_rule(monkeypatch, primitive, which, factor):
    """Make primitive's `which`-th rule off by `factor`, on the path gradcheck's (plain,
    top-level) backward passes use: `eager_vjps`."""
    rules = list(primitive.eager_vjps)
    original = rules[which]
    rules[which] = lambda *args, **kwargs: original(*args, **kwargs) * factor
    monkeypatch.setattr(primitive, "eager_vjps", tuple(rules))


def parse_report(message, k=0):
    """The two values of the k-th listed entry, "[output (..), input (..)]: derivative <value>,
    central difference <value>, error ...", and its index (output, input)."""
    number = r"([-+0-9.eEinfa]+)"
    entries = re.findall(rf"\[output (\([^)]*\)), input (\([^)]*\))\]: derivative {number}, "
                         rf"central difference {number}, error", message)
    assert len(entries) > k, message
    out, inp, tape, numeric = entries[k]
    return float(tape), float(numeric)


def listed_entries(message):
    """The (output index, input index) of every entry a GradcheckError lists."""
    return re.findall(r"\[output (\([^)]*\)), input (\([^)]*\))\]", message)


def test_gradcheck_reports_a_wrong_rule(monkeypatch):
    """tanh's rule off by 10%: gradcheck lists every wrong (diagonal) entry, each with the
    derivative the rule gave and the central difference."""
    x = np.array([1.0, -0.2, 0.6, 2.0])
    scale_rule(monkeypatch, P.Tanh, 0, 1.1)
    with pytest.raises(GradcheckError) as info:
        ag.gradcheck(ag.tanh, x, modes=("reverse",))
    message = str(info.value)
    assert "reverse mode, input 0" in message and "4 of 16 derivative entries" in message
    for k in range(4):
        tape, numeric = parse_report(message, k)
        derivative = 1 - np.tanh(x[k]) ** 2
        np.testing.assert_allclose(tape, 1.1 * derivative, rtol=1e-12)
        np.testing.assert_allclose(numeric, derivative, rtol=1e-8)
    assert listed_entries(message) == [(f"({k},)", f"({k},)") for k in range(4)]


def test_gradcheck_names_the_second_input(monkeypatch):
    """Only the rule for b of a * b is wrong (x2): input 0 passes, input 1 is reported."""
    a, b = np.array([1.0, -3.0, 2.0]), np.array([0.5, 0.25, -1.0])
    scale_rule(monkeypatch, P.Mul, 1, 2.0)
    with pytest.raises(GradcheckError) as info:
        ag.gradcheck(lambda p, q: p * q, a, b)
    message = str(info.value)
    assert "input 1" in message and "input 0" not in message
    assert listed_entries(message) == [(f"({k},)", f"({k},)") for k in range(3)]
    for k in range(3):  # d(a*b)/db = a, reported as 2a
        np.testing.assert_allclose(parse_report(message, k), [2 * a[k], a[k]], rtol=1e-8)


def test_gradcheck_catches_a_dropped_broadcast_factor(monkeypatch):
    """A wrong mean rule (forgetting the 1/n) is caught through a composite function."""
    monkeypatch.setattr(P.Mean, "eager_vjps", (lambda g, axis, keepdims, shape: P.expand_reduced(
        g, shape, axis, keepdims),))
    with pytest.raises(GradcheckError, match="input 0"):
        ag.gradcheck(lambda t: ag.tanh(t).mean(axis=1), X)


def test_gradcheck_fails_when_finite_differences_are_not_finite():
    """log at a negative point: the tape says -1, the central difference is NaN: not a pass."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(ag.GradcheckError, match="nan"):
            ag.gradcheck(lambda a: ag.log(a).sum(), np.array([-1.0, 2.0]))


def test_numpy_scalar_base_to_a_tensor_power():
    t = ag.Tensor(1.5, requires_grad=True)
    (np.float64(2.0) ** t).backward()
    np.testing.assert_allclose(t.grad, np.log(2.0) * 2.0**1.5, rtol=1e-14)


def test_zero_dimensional_leaf_gradient_is_an_ndarray_after_accumulation():
    x = ag.Tensor(np.array(2.0), requires_grad=True)
    (x * x + x).backward()
    assert type(x.grad) is np.ndarray and x.grad.shape == ()
    assert x.grad == 5.0  # d(x^2 + x)/dx = 2x + 1 at x = 2


class ValueAndGrad:
    """A function with value_and_grad semantics (what `compile` returns): f(*xs) gives
    (value, gradient(s)), and says so with `value_and_grad = True` and `argnums`."""

    value_and_grad = True

    def __init__(self, argnums, wrong_by=1.0):
        self.argnums, self.wrong_by = argnums, wrong_by

    def __call__(self, x, w):
        """The loss and its analytic gradients: with T = tanh(x), r = T w (N entries),
        dL/dw = 2/N T^T r + 2 w and dL/dx = 2/N r w^T (1 - T^2)."""
        T = np.tanh(x)
        r = T @ w
        n = r.size
        both = {0: 2 / n * r[:, None] * w[None, :] * (1 - T * T),
                1: (2 / n * T.T @ r + 2 * w) * self.wrong_by}
        value = float(np.mean(r * r) + np.sum(w * w))
        if isinstance(self.argnums, tuple):
            return value, tuple(both[k] for k in self.argnums)
        return value, both[self.argnums]


@pytest.mark.parametrize("argnums", [0, 1, (0, 1)])
def test_gradcheck_of_a_value_and_grad_function(argnums):
    assert ag.gradcheck(ValueAndGrad(argnums), X, W) is True
    if argnums != 0:
        with pytest.raises(GradcheckError, match="input 1"):
            ag.gradcheck(ValueAndGrad(argnums, wrong_by=1.01), X, W)


# ---- the oracle itself -----------------------------------------------------------------------
def test_central_differences_equal_analytic_jacobians():
    """f(x) = A sin(x) + x_0 x: J = A diag(cos x) + x_0 I + x e_0^T (shape out + in); the error
    budget of tests/checks.py (eps = 1e-6, third derivatives <= ~10) puts it within 1e-8."""
    A = np.array([[1.0, -2.0, 0.5], [0.25, 3.0, -1.0], [2.0, 0.0, 1.5]])
    x = np.array([0.3, -1.2, 2.0])

    def f(v):
        return A @ np.sin(v) + v[0] * v

    expected = A * np.cos(x) + x[0] * np.eye(3)
    expected[:, 0] += x
    np.testing.assert_allclose(central_difference_jacobian(f, [x]), expected, atol=1e-8)
    M = np.array([[0.5, -1.0], [2.0, 0.25]])
    v = x[:2]
    jac = central_difference_jacobian(lambda m, u: np.tanh(m) @ u, [M, v], 0)
    assert jac.shape == (2, 2, 2)  # out.shape + input.shape: d out_i / d M_jk
    expected = np.einsum("ij,k,jk->ijk", np.eye(2), v, 1 - np.tanh(M) ** 2)
    np.testing.assert_allclose(jac, expected, atol=1e-8)
    grad = central_difference_gradient(lambda m: np.sum(m ** 3), M)
    np.testing.assert_allclose(grad, 3 * M ** 2, atol=1e-8)
