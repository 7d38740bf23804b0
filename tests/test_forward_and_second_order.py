"""Forward mode (jvp, jacfwd) and second order (create_graph, nested grad, hvp, hessian).

Oracles: the reverse-mode Jacobian (`jacobian`, checked against central differences in
test_autograd_functional.py) for forward mode, since J v and u^T J must agree to rounding;
central differences of the first-order gradient (tests/checks.py tolerances) for Hessians.
Then the chapter's model: Phi(W)'s Jacobian three ways, and one Newton step in w landing on the
closed-form ridge solution.
"""

import inspect
import operator

import numpy as np
import pytest
from checks import assert_grads_close, cotangent
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import (
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
    tanh_model_cases,
)

import autograd_lite as ag
from autograd_lite import Dual, GraphFreedError, ShapeError, Tensor
from autograd_lite import ops as P
from autograd_lite.finite_differences import central_difference_jacobian
from chainrule.model import BasisFunctionRidgeRegressionGD, TanhBasis, ridge_loss, tanh_basis
from chainrule.newton import fit_newton_w, newton_step_w, ridge_solution

PROPERTY = settings(max_examples=25, deadline=None)
EXACT = {"rtol": 1e-10, "atol": 1e-12}  # two exact routes to the same number: rounding only


# ---- one case per primitive: (function of the differentiable inputs, inputs) -----------------
def _unary(strategy, f):
    return strategy.map(lambda x: (f, [x]))


def _with_param(strategy, make):
    return strategy.map(lambda case: (make(*case[1:]), [case[0]]))


OP_CASES = {
    "add": ag_broadcast_pairs().map(lambda ab: (operator.add, list(ab))),
    "sub": ag_broadcast_pairs().map(lambda ab: (operator.sub, list(ab))),
    "mul": ag_broadcast_pairs().map(lambda ab: (operator.mul, list(ab))),
    "div": ag_broadcast_pairs(b_min_abs=AG_POSITIVE_LOW).map(
        lambda ab: (operator.truediv, list(ab))),
    "neg": _unary(ag_arrays(ag_shapes()), operator.neg),
    "pow": _with_param(ag_power_cases(), lambda p: lambda x: x ** p),
    "matmul": ag_matmul_pairs().map(lambda ab: (operator.matmul, list(ab))),
    "sum": _with_param(ag_reduction_cases(), lambda axis, k: lambda x: x.sum(axis, keepdims=k)),
    "mean": _with_param(ag_reduction_cases(),
                        lambda axis, k: lambda x: np.mean(x, axis=axis, keepdims=k)),
    "reshape": _with_param(ag_reshape_cases(), lambda shape: lambda x: x.reshape(shape)),
    "transpose": _with_param(ag_transpose_cases(), lambda axes: lambda x: np.transpose(x, axes)),
    "broadcast_to": _with_param(ag_broadcast_to_cases(),
                                lambda shape: lambda x: np.broadcast_to(x, shape)),
    "getitem": _with_param(ag_index_cases(), lambda index: lambda x: x[index]),
    "scatter_add": ag_index_cases().map(
        lambda case: (lambda v: P.scatter_add(v, case[1], case[0].shape), [case[0][case[1]]])),
    "tanh": _unary(ag_arrays(ag_shapes()), np.tanh),
    "exp": _unary(ag_arrays(ag_shapes()), np.exp),
    "log": _unary(ag_arrays(ag_shapes(), AG_POSITIVE_LOW, 3.0), ag.log),
    "sigmoid": _unary(ag_arrays(ag_shapes()), ag.sigmoid),
    "relu": _unary(ag_arrays(ag_shapes(), min_abs=AG_RELU_MARGIN), ag.relu),
    "mse": ag_broadcast_pairs().map(lambda ab: (ag.mse, list(ab))),
}

PRIMITIVES = [c for c in vars(P).values()
              if inspect.isclass(c) and issubclass(c, P.Primitive) and c is not P.Primitive]


def test_every_primitive_has_a_forward_mode_rule_per_input_and_a_test_case():
    for op in PRIMITIVES:
        assert len(op.jvps) == len(op.vjps) >= 1, op.name
        assert all(rule is not None for rule in op.jvps), f"{op.name} lacks a jvp rule"
    assert {op.name for op in PRIMITIVES} == set(OP_CASES)


@pytest.mark.parametrize("name", sorted(OP_CASES))
@PROPERTY
@given(data=st.data())
def test_jvp_of_each_primitive_is_the_jacobian_times_the_tangent(name, data):
    f, inputs = data.draw(OP_CASES[name])
    rng = np.random.default_rng(len(name))
    tangents = [rng.normal(size=np.shape(x)) for x in inputs]
    value, tangent = ag.jvp(f, tuple(inputs), tuple(tangents))
    np.testing.assert_allclose(value, f(*inputs), **EXACT)
    expected = np.zeros(np.shape(value))
    for i, v in enumerate(tangents):
        jac = ag.jacobian(f, i)(*inputs)
        expected = expected + np.tensordot(jac, v, axes=np.ndim(v))
    assert tangent.shape == np.shape(value)
    np.testing.assert_allclose(tangent, expected, **EXACT)


@pytest.mark.parametrize("name", sorted(OP_CASES))
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_each_rule_differentiates_again_hessian_vs_central_differences(name, data):
    """h = sum(u * y * y), y = op(inputs): its Hessian runs every vjp rule on Tensors."""
    f, inputs = data.draw(OP_CASES[name])
    u = cotangent(np.shape(f(*inputs)))

    def h(*xs):
        y = f(*xs)
        return (u * y * y).sum()

    for i in range(len(inputs)):
        hess = ag.hessian(h, i)(*inputs)
        numeric = central_difference_jacobian(ag.grad(h, i), inputs, i)
        assert_grads_close(hess, numeric, what=f"{name}: Hessian w.r.t. input {i}")


# ---- properties on composite functions -------------------------------------------------------
def scalar_function(x):
    """R^n -> R: every kind of node at once (broadcasting, matmul, reductions, nonlinearities)."""
    A = np.linspace(-1.0, 1.0, 3 * x.shape[0]).reshape(3, x.shape[0])
    z = np.tanh(A @ x + 0.5)
    return (z * z).sum() + ag.log(1.0 + np.exp(x)).mean() + (x * x * x).sum() / 6.0 \
        + ag.sigmoid(x[::-1] * x).sum()


def vector_function(x):
    """R^n -> R^(3 x n)."""
    A = np.linspace(-1.0, 1.0, 3 * x.shape[0]).reshape(3, x.shape[0])
    return ag.sigmoid(np.reshape(A @ x, (3, 1)) * x) + (x ** 2).mean()


vectors = st.integers(1, 6).flatmap(lambda n: st.tuples(
    ag_arrays((n,)), ag_arrays((n,)), ag_arrays((3, n))))


@PROPERTY
@given(vectors)
def test_hessian_is_symmetric_and_matches_central_differences_of_the_gradient(xvu):
    x, _, _ = xvu
    H = ag.hessian(scalar_function)(x)
    assert H.shape == x.shape * 2
    np.testing.assert_allclose(H, H.T, rtol=1e-12, atol=1e-12)
    numeric = central_difference_jacobian(ag.grad(scalar_function), [x])
    assert_grads_close(H, numeric, what="Hessian")


@PROPERTY
@given(vectors)
def test_hvp_is_the_hessian_times_v(xvu):
    x, v, _ = xvu
    np.testing.assert_allclose(ag.hvp(scalar_function, x, v),
                               ag.hessian(scalar_function)(x) @ v, **EXACT)


@PROPERTY
@given(vectors)
def test_jvp_is_the_jacobian_times_v_and_jacfwd_is_jacobian(xvu):
    x, v, _ = xvu
    J = ag.jacobian(vector_function)(x)
    value, tangent = ag.jvp(vector_function, (x,), (v,))
    np.testing.assert_allclose(value, vector_function(x).data, **EXACT)
    np.testing.assert_allclose(tangent, J @ v, **EXACT)
    np.testing.assert_allclose(ag.jacfwd(vector_function)(x), J, **EXACT)


@PROPERTY
@given(vectors)
def test_vjp_and_jvp_are_adjoint(xvu):
    """u . (J v) == (u^T J) . v: forward and reverse accumulate the same chain rule."""
    x, v, u = xvu
    _, Jv = ag.jvp(vector_function, (x,), (v,))
    _, pullback = ag.vjp(vector_function, x)
    (uJ,) = pullback(u)
    np.testing.assert_allclose(np.vdot(u, Jv), np.vdot(uJ, v), rtol=1e-10, atol=1e-12)


def test_jacfwd_and_jacobian_with_several_arguments_and_tuple_argnums():
    a = np.array([[0.5, -1.0], [2.0, 0.25]])
    b = np.array([1.5, -0.5])

    def f(a, b):
        return np.tanh(a @ b) * b

    fwd = ag.jacfwd(f, argnums=(0, 1))(a, b)
    rev = ag.jacobian(f, argnums=(0, 1))(a, b)
    for F, R in zip(fwd, rev):
        np.testing.assert_allclose(F, R, **EXACT)
    np.testing.assert_allclose(ag.jacfwd(f, 1)(a, b), rev[1], **EXACT)


# ---- jvp's interface -------------------------------------------------------------------------
def test_jvp_single_array_constant_output_and_dtypes():
    value, tangent = ag.jvp(lambda x: np.exp(x), np.array([0.0, 1.0]), np.array([1.0, 2.0]))
    np.testing.assert_allclose(tangent, np.exp([0.0, 1.0]) * [1.0, 2.0])
    value, tangent = ag.jvp(lambda x: np.ones(3), (np.zeros(2),), (np.ones(2),))
    assert np.array_equal(tangent, np.zeros(3))
    value, tangent = ag.jvp(lambda x: x * 2.0, (np.ones(2, np.float32),),
                            (np.ones(2, np.float32),))
    assert value.dtype == tangent.dtype == np.float32
    _, tangent = ag.jvp(lambda x: x * x, ([1, 2],), ([1, 1],))  # integers become float64
    np.testing.assert_array_equal(tangent, [2.0, 4.0])


def test_jvp_errors():
    with pytest.raises(ShapeError, match="tangent 0 has shape"):
        ag.jvp(np.tanh, (np.zeros(3),), (np.zeros(2),))
    with pytest.raises(ShapeError, match="1 primals but 2 tangents"):
        ag.jvp(np.tanh, (np.zeros(3),), (np.zeros(3), np.zeros(3)))
    leaf = Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(TypeError, match="cannot be mixed"):
        ag.jvp(lambda x: x * leaf, (np.ones(2),), (np.ones(2),))
    with pytest.raises(TypeError, match="drop its tangent"):
        np.asarray(Dual(np.ones(2), np.ones(2)))


def test_duals_flow_through_the_public_functions_and_numpy():
    x, v = np.array([0.5, -1.0, 2.0]), np.array([1.0, 0.5, -1.0])

    def f(x):
        y = ag.tanh(x) + ag.exp(x) * ag.sigmoid(x) - ag.relu(x) / 2.0 + ag.power(x, 3)
        z = ag.matmul(ag.reshape(y, (1, 3)), ag.transpose(ag.broadcast_to(x, (2, 3))))
        return ag.sum(z) + ag.mean(x) + 2.0 ** x[0] + np.sqrt(x * x + 1.0).sum() + ag.mse(x, v)

    _, tangent = ag.jvp(f, (x,), (v,))
    np.testing.assert_allclose(tangent, ag.jacobian(f)(x) @ v, **EXACT)


# ---- backward(create_graph=True) and nested grad ---------------------------------------------
def test_backward_create_graph_leaves_a_differentiable_tensor_grad():
    x = Tensor(np.array([0.3, -0.7, 1.2]), requires_grad=True)
    y = (np.tanh(x) ** 3).sum()
    y.backward(create_graph=True)
    g = x.grad
    assert isinstance(g, Tensor) and g.grad_fn is not None
    np.testing.assert_allclose(g.data, ag.grad(lambda t: (np.tanh(t) ** 3).sum())(x.data),
                               **EXACT)
    x.grad = None
    g.sum().backward()
    assert isinstance(x.grad, np.ndarray)  # a first-order backward: ndarray as always
    expected = central_difference_jacobian(
        ag.grad(lambda t: (np.tanh(t) ** 3).sum()), [x.data]).sum(0)
    assert_grads_close(x.grad, expected, what="d/dx sum(grad)")


def test_create_graph_with_retain_graph_false_frees_the_forward_graph():
    x = Tensor(np.array([0.3, -0.7]), requires_grad=True)
    (np.tanh(x) ** 3).sum().backward(create_graph=True, retain_graph=False)
    with pytest.raises(GraphFreedError):
        x.grad.sum().backward()


def test_grad_of_grad_and_third_order():
    def f(x):
        return (x ** 4).sum()

    x = np.array(1.5)
    assert float(ag.grad(f)(x)) == pytest.approx(4 * 1.5 ** 3, rel=1e-14)
    assert float(ag.grad(ag.grad(f))(x)) == pytest.approx(12 * 1.5 ** 2, rel=1e-14)
    assert float(ag.grad(ag.grad(ag.grad(f)))(x)) == pytest.approx(24 * 1.5, rel=1e-14)
    assert isinstance(ag.grad(ag.grad(f))(x), np.ndarray)  # top level: plain arrays


def test_inner_grad_through_a_closure_over_an_outer_variable():
    x0 = np.array([0.5, -1.0, 2.0])

    def outer(W):  # depends on W only through the inner gradient
        return (ag.grad(lambda x: np.tanh(x * W).sum())(x0) ** 2).sum()

    expected = central_difference_jacobian(outer, [np.array([0.3, 0.7, -0.2])])
    assert_grads_close(ag.grad(outer)(np.array([0.3, 0.7, -0.2])), expected)


def test_nested_grad_keeps_arguments_apart_when_the_same_tensor_is_passed_twice():
    def g(x):  # d/da (a b^2).sum() = b^2 at a = b = x: the sum of x^2, whose gradient is 2x
        return ag.grad(lambda a, b: (a * b * b).sum(), argnums=(0, 1))(x, x)[0].sum()

    x = np.array([0.5, -1.5])
    np.testing.assert_allclose(ag.grad(g)(x), 2 * x, **EXACT)


def test_hvp_and_hessian_of_linear_and_constant_functions_are_zero():
    x = np.array([1.0, 2.0])
    np.testing.assert_array_equal(ag.hvp(lambda t: (3.0 * t).sum(), x, x), 0.0)
    np.testing.assert_array_equal(ag.hessian(lambda t: (3.0 * t).sum())(x), np.zeros((2, 2)))
    np.testing.assert_array_equal(ag.hessian(lambda t: Tensor(1.0))(x), np.zeros((2, 2)))
    with pytest.raises(ShapeError, match="v has shape"):
        ag.hvp(lambda t: (t * t).sum(), x, np.ones(3))


# ---- the chapter's model: the Jacobian of Phi(W) three ways ----------------------------------
def explicit_as_full(J):
    """(N, D+1, K) explicit Jacobian -> (N, K, D+1, K): dPhi[n,k]/dW[d,j] = delta_kj J[n,d,k]."""
    K = J.shape[2]
    return np.einsum("ndk,kj->nkdj", J, np.eye(K))


@settings(max_examples=30, deadline=None)
@given(tanh_model_cases(max_N=12, max_D=3, max_K=4))
def test_phi_jacobian_three_ways_agree(case):
    def phi(W):
        return tanh_basis(case.X, W)

    explicit = explicit_as_full(TanhBasis(case.W).jacobian(case.X))
    forward = ag.jacfwd(phi)(case.W)  # (D+1)*K passes
    reverse = ag.jacobian(phi)(case.W)  # N*K passes
    N, D, K = case.X.shape + case.W.shape[1:]
    assert explicit.shape == forward.shape == reverse.shape == (N, K, D + 1, K)
    np.testing.assert_allclose(forward, explicit, **EXACT)
    np.testing.assert_allclose(reverse, explicit, **EXACT)


# ---- one Newton step in w is the closed-form ridge solution ----------------------------------
def chapter_like_data():
    """The chapter's setting on synthetic temperatures (as in test_chainrule_backprop.py)."""
    rng = np.random.default_rng(2)
    x = rng.permutation(365)[:100].astype(float)
    y = 10 - 12 * np.cos(2 * np.pi * (x + 10) / 365) + rng.normal(0, 4, x.size)
    return x, y, np.array([[0.1, 0.2, 0.3], [-10.0, -50.0, -100.0]])


@pytest.mark.parametrize("W_shift", [0.0, 1e-3, 3e-2])
def test_one_newton_step_from_any_w_is_the_ridge_solution(W_shift):
    x, y, W0 = chapter_like_data()
    W = W0 + W_shift * np.arange(6.0).reshape(2, 3)
    rng = np.random.default_rng(7)
    for _ in range(5):
        model = BasisFunctionRidgeRegressionGD(TanhBasis(W), ridge=0.1, ridge_basis=0.1)
        model.w = rng.normal(0, 50, 3)
        w_star = ridge_solution(model.basis_function.transform(x), y, 0.1)
        np.testing.assert_allclose(newton_step_w(model, x, y), w_star, rtol=1e-10, atol=1e-10)


@settings(max_examples=30, deadline=None)
@given(tanh_model_cases(max_N=24, max_D=3, max_K=4), st.floats(0.05, 1.0))
def test_newton_step_property_and_the_tape_hessian_in_w(case, ridge):
    model = BasisFunctionRidgeRegressionGD(TanhBasis(case.W), ridge=ridge,
                                           ridge_basis=case.ridge_basis)
    model.w = case.w.copy()
    Phi = tanh_basis(case.X, case.W)
    N, K = Phi.shape
    H = ag.hessian(lambda w: ridge_loss(Phi, case.y, w, case.W, ridge, case.ridge_basis))(case.w)
    np.testing.assert_allclose(H, Phi.T @ Phi / N + ridge * np.eye(K), rtol=1e-12, atol=1e-14)
    w_star = ridge_solution(Phi, case.y, ridge)
    np.testing.assert_allclose(newton_step_w(model, case.X, case.y), w_star,
                               rtol=1e-10, atol=1e-10)


def test_fit_newton_w_keeps_w_optimal_and_beats_plain_gd_per_iteration():
    x, y, W0 = chapter_like_data()
    fit = fit_newton_w(x, y, W0, 1e-5, 0.1, 0.1, max_iterations=50, rtol=0.0)
    assert fit.iterations == 50 and not fit.converged
    model = fit.model
    w_star = ridge_solution(model.basis_function.transform(x), y, 0.1)
    np.testing.assert_allclose(model.w, w_star, rtol=1e-10, atol=1e-10)
    plain = BasisFunctionRidgeRegressionGD(TanhBasis(W0), learning_rate=1e-5, num_iterations=50,
                                           engine="backprop").fit(x, y)
    assert fit.loss < plain.loss(x, y)
    assert model.mse(x, y) < plain.mse(x, y)
    settled = fit_newton_w(x, y, W0, 1e-5, 0.1, 0.1, max_iterations=50, rtol=1e-3)
    assert settled.converged and settled.iterations < 50


# ---- the command line and the benchmark section -----------------------------------------------
def test_command_newton_w_option_reports_its_fit(tmp_path, capsys):
    from test_experiment import write_year_csv

    from chainrule import __main__ as cli

    csv = write_year_csv(tmp_path / "GM000003342.csv")
    args = ["--data", str(csv), "--iterations", "30", "--engine", "backprop", "--newton-w",
            "--out", str(tmp_path / "fig.png")]
    assert cli.main(args) == 0
    text = capsys.readouterr().out
    assert "[GD step on W + Newton step for w (Hessian in w from the tape)]" in text
    assert "iterations : 30 (" in text and "plain GD (backprop, 30 iterations)" in text
    train = float(text.split("[GD step on W")[1].split("training MSE : ")[1].split()[0])
    plain = float(text.split("[backprop]")[1].split("training MSE : ")[1].split()[0])
    assert train < plain  # w is optimal for its W from the first iteration on
    assert (tmp_path / "fig.png").exists()


def test_jacobian_three_ways_benchmark_runs_and_agrees(capsys):
    from benchmarks import jacobian_three_ways

    assert jacobian_three_ways.main(["--N", "2", "5", "--target-seconds", "0.0001",
                                     "--samples", "1"]) == 0
    text = capsys.readouterr().out
    assert "explicit" in text and "jacfwd" in text and "jacobian" in text
