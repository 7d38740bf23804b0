"""Forward mode (jvp, jacfwd) and second order (create_graph, nested transformations, hvp,
hessian), for every operation of tests/op_table.py and for composite functions.

Oracles: the reverse-mode Jacobian (`jacobian`, whose rows are the VJPs checked against central
differences in test_autograd_ops.py) for forward mode, since J v and u^T J must agree to
rounding, and central differences (tests/checks.py) of the reference as a second, independent
oracle; central differences of the first-order gradient for Hessians; analytic derivatives for
the nesting repros of issue 14.
"""

import numpy as np
import pytest
from checks import (
    assert_forward_equal,
    assert_grads_close,
    cotangent,
    exact_rtol,
    fewer_examples,
    numeric_jvp,
    rel_err,
)
from hypothesis import given
from hypothesis import strategies as st
from op_table import DIFFERENTIABLE, bind, spelling_params
from strategies import ag_point_direction_weights

import autograd_lite as ag
from autograd_lite import Dual, GraphFreedError, ShapeError, Tensor
from autograd_lite.finite_differences import central_difference_jacobian

EXACT_RTOL = exact_rtol(np.float64)
X0, W0, V0 = np.array([0.3, -0.7]), np.array([1.5, -0.5]), np.array([1.0, 2.0])


# ---- every operation: J v three ways --------------------------------------------------------
@pytest.mark.parametrize("op, spelling", spelling_params(DIFFERENTIABLE, duals=True))
@fewer_examples(2)
@given(data=st.data(), seed=st.integers(0, 2**16))
def test_jvp_is_the_reverse_jacobian_times_the_tangent(op, spelling, data, seed):
    case = data.draw(op.cases, label="case")
    rng = np.random.default_rng(seed)
    tangents = tuple(rng.uniform(-1.0, 1.0, a.shape) for a in case.arrays)
    f = bind(spelling.call, case.params)
    value, tangent = ag.jvp(f, case.arrays, tangents)
    assert_forward_equal(value, op.reference(*case.arrays, **case.params))
    assert tangent.shape == value.shape and tangent.dtype == value.dtype
    jacobians = ag.jacobian(f, tuple(range(len(case.arrays))))(*case.arrays)
    expected = sum(np.tensordot(J, v, axes=v.ndim) for J, v in zip(jacobians, tangents))
    assert rel_err(tangent, expected) <= exact_rtol(value.dtype)
    numeric = numeric_jvp(bind(op.numeric or op.reference, case.params), case.arrays, tangents)
    assert_grads_close(tangent, numeric, what="J v against central differences")


@pytest.mark.parametrize("op", [op for op in DIFFERENTIABLE if op.second_order],
                         ids=lambda op: op.name)
@fewer_examples(5)
@given(data=st.data())
def test_each_rule_differentiates_again_hessian_vs_central_differences(op, data):
    """h = sum(u * y * y), y = op(inputs): its Hessian runs every vjp rule on Tensors (the
    recorded backward pass), checked against central differences of the first-order gradient."""
    case = data.draw(op.cases, label="case")
    y_of = bind(op.spellings[0].call, case.params)
    u = cotangent(np.shape(op.reference(*case.arrays, **case.params)))

    def h(*xs):
        y = y_of(*xs)
        return (u * y * y).sum()

    for i in range(len(case.arrays)):
        hess = ag.hessian(h, i)(*case.arrays)
        numeric = central_difference_jacobian(ag.grad(h, i), case.arrays, i)
        assert_grads_close(hess, numeric, what=f"{op.name}: Hessian w.r.t. input {i}")


@pytest.mark.parametrize("op", [op for op in DIFFERENTIABLE if op.second_order],
                         ids=lambda op: op.name)
@fewer_examples(5)
@given(data=st.data(), seed=st.integers(0, 2**16))
def test_each_jvp_rule_differentiates_again_forward_over_reverse(op, data, seed):
    """h(x) = u . (J(x) v): its gradient runs every jvp rule on Tensors (jvp inside grad),
    checked against central differences of h, whose J v is the first-order jvp."""
    case = data.draw(op.cases, label="case")
    rng = np.random.default_rng(seed)
    tangents = tuple(rng.uniform(-1.0, 1.0, a.shape) for a in case.arrays)
    f = bind(op.spellings[0].call, case.params)
    u = cotangent(np.shape(op.reference(*case.arrays, **case.params)))

    def h(*xs):
        return (u * ag.jvp(f, xs, tangents)[1]).sum()

    for i in range(len(case.arrays)):
        g = ag.grad(h, i)(*case.arrays)
        numeric = central_difference_jacobian(h, case.arrays, i)
        assert_grads_close(g, numeric, like=case.arrays[i],
                           what=f"{op.name}: d/dx_{i} of u . J v")


#: float32 J v against the float64 J v of the same (float32) inputs: each entry is a sum of terms
#: J_ij v_j whose factors float32 computes with a few ulps of error each, or, where a rule
#: cancels (tanh' = 1 - out^2 with out near +-1, up to |x| = 3), about 200 ulps of the term:
#: F32_TERMS_ULPS = 1000 ulps (6e-5) of sum_j |J_ij| |v_j|, an O(1) error for any wrong rule.
F32_TERMS_ULPS = 1000


@pytest.mark.parametrize("op", [op for op in DIFFERENTIABLE if op.keeps_dtype],
                         ids=lambda op: op.name)
@fewer_examples(3)
@given(data=st.data(), seed=st.integers(0, 2**16))
def test_jvp_in_float32_stays_float32(op, data, seed):
    case = data.draw(op.cases, label="case").astype(np.float32)
    f = bind(op.spellings[0].call, case.params)
    rng = np.random.default_rng(seed)
    tangents = tuple(rng.uniform(-1.0, 1.0, a.shape).astype(np.float32) for a in case.arrays)
    value, tangent = ag.jvp(f, case.arrays, tangents)
    assert value.dtype == tangent.dtype == np.float32
    doubles = tuple(a.astype(np.float64) for a in case.arrays)
    _, expected = ag.jvp(f, doubles, tuple(t.astype(np.float64) for t in tangents))
    jacobians = ag.jacobian(f, tuple(range(len(doubles))))(*doubles)
    terms = sum(np.tensordot(np.abs(J), np.abs(v), axes=v.ndim)
                for J, v in zip(jacobians, tangents))
    # plus float32's smallest normal number: what a float32 underflow to 0 loses at most
    bound = F32_TERMS_ULPS * np.finfo(np.float32).eps * terms + np.finfo(np.float32).tiny
    assert np.all(np.abs(tangent - expected) <= bound)


# ---- composite functions ---------------------------------------------------------------------
def scalar_function(x):
    """R^n -> R: every kind of node at once (broadcasting, matmul, reductions, nonlinearities)."""
    A = np.linspace(-1.0, 1.0, 3 * x.shape[0]).reshape(3, x.shape[0])
    z = np.tanh(A @ x + 0.5)
    return (z * z).sum() + ag.log(1.0 + np.exp(x)).mean() + (x * x * x).sum() / 6.0 \
        + ag.sigmoid(x[::-1] * x).sum() + np.einsum("i,i->", np.cos(x), np.exp(-x))


def vector_function(x):
    """R^n -> R^(3 x n)."""
    A = np.linspace(-1.0, 1.0, 3 * x.shape[0]).reshape(3, x.shape[0])
    return ag.sigmoid(np.reshape(A @ x, (3, 1)) * x) + (x ** 2).mean() + np.sin(x) * x[0]


vectors = ag_point_direction_weights()


@given(vectors)
def test_hessian_is_symmetric_and_matches_central_differences_of_the_gradient(xvu):
    x, _, _ = xvu
    H = ag.hessian(scalar_function)(x)
    assert H.shape == x.shape * 2
    assert rel_err(H, H.T) <= EXACT_RTOL
    numeric = central_difference_jacobian(ag.grad(scalar_function), [x])
    assert_grads_close(H, numeric, what="Hessian")


@given(vectors)
def test_hvp_is_the_hessian_times_v(xvu):
    x, v, _ = xvu
    assert rel_err(ag.hvp(scalar_function, x, v), ag.hessian(scalar_function)(x) @ v) \
        <= EXACT_RTOL


@given(vectors)
def test_jvp_is_the_jacobian_times_v_and_jacfwd_is_jacobian(xvu):
    x, v, _ = xvu
    J = ag.jacobian(vector_function)(x)
    value, tangent = ag.jvp(vector_function, (x,), (v,))
    assert rel_err(value, vector_function(x)) <= EXACT_RTOL
    assert rel_err(tangent, J @ v) <= EXACT_RTOL
    assert rel_err(ag.jacfwd(vector_function)(x), J) <= EXACT_RTOL


@given(vectors)
def test_vjp_and_jvp_are_adjoint(xvu):
    """u . (J v) == (u^T J) . v: forward and reverse accumulate the same chain rule."""
    x, v, u = xvu
    _, Jv = ag.jvp(vector_function, (x,), (v,))
    _, pullback = ag.vjp(vector_function, x)
    (uJ,) = pullback(u)
    assert rel_err(np.vdot(u, Jv), np.vdot(uJ, v)) <= 1e-9  # one sum of 3n products: cancels


def test_jacfwd_and_jacobian_with_several_arguments_and_tuple_argnums():
    a = np.array([[0.5, -1.0], [2.0, 0.25]])
    b = np.array([1.5, -0.5])

    def f(a, b):
        return np.tanh(a @ b) * b

    fwd = ag.jacfwd(f, argnums=(0, 1))(a, b)
    rev = ag.jacobian(f, argnums=(0, 1))(a, b)
    assert isinstance(fwd, tuple) and len(fwd) == 2
    for F, R in zip(fwd, rev):
        assert rel_err(F, R) <= EXACT_RTOL
    assert rel_err(ag.jacfwd(f, 1)(a, b), rev[1]) <= EXACT_RTOL
    expected = central_difference_jacobian(f, [a, b], 0)
    assert_grads_close(fwd[0], expected, what="jacfwd vs central differences")


# ---- jvp's interface -------------------------------------------------------------------------
def test_jvp_single_array_constant_output_and_dtypes():
    value, tangent = ag.jvp(lambda x: np.exp(x), np.array([0.0, 1.0]), np.array([1.0, 2.0]))
    np.testing.assert_allclose(tangent, np.exp([0.0, 1.0]) * [1.0, 2.0], rtol=1e-15)
    value, tangent = ag.jvp(lambda x: np.ones(3), (np.zeros(2),), (np.ones(2),))
    np.testing.assert_array_equal(tangent, np.zeros(3))
    value, tangent = ag.jvp(lambda x: x * 2.0, (np.ones(2, np.float32),),
                            (np.ones(2, np.float32),))
    assert value.dtype == tangent.dtype == np.float32
    _, tangent = ag.jvp(lambda x: x * x, ([1, 2],), ([1, 1],))  # integers become float64
    np.testing.assert_array_equal(tangent, [2.0, 4.0])
    assert tangent.dtype == np.float64


def test_jvp_errors():
    with pytest.raises(ShapeError, match="tangent 0 has shape"):
        ag.jvp(np.tanh, (np.zeros(3),), (np.zeros(2),))
    with pytest.raises(ShapeError, match="1 primals but 2 tangents"):
        ag.jvp(np.tanh, (np.zeros(3),), (np.zeros(3), np.zeros(3)))
    with pytest.raises(TypeError, match="drop its tangent"):
        np.asarray(Dual(np.ones(2), np.ones(2)))


def test_jvp_of_a_function_closing_over_a_leaf_tensor():
    """Forward mode over a Tensor on the tape: d/dx (x * w) v = v * w."""
    w = Tensor(W0, requires_grad=True)
    value, tangent = ag.jvp(lambda x: x * w, (X0,), (V0,))
    np.testing.assert_array_equal(np.asarray(getattr(value, "data", value)), X0 * W0)
    np.testing.assert_array_equal(np.asarray(getattr(tangent, "data", tangent)), V0 * W0)


def test_duals_flow_through_the_public_functions_and_numpy():
    x, v = np.array([0.5, -1.0, 2.0]), np.array([1.0, 0.5, -1.0])

    def f(x):
        y = ag.tanh(x) + ag.exp(x) * ag.sigmoid(x) - ag.relu(x) / 2.0 + ag.power(x, 3)
        z = ag.matmul(ag.reshape(y, (1, 3)), ag.transpose(ag.broadcast_to(x, (2, 3))))
        return ag.sum(z) + ag.mean(x) + 2.0 ** x[0] + np.sqrt(x * x + 1.0).sum() \
            + ag.mse(x, v) + np.einsum("i,i->", x, x) + np.stack([x, x]).prod() \
            + np.concatenate([x, x[::-1]]).max() + np.cumsum(x)[-1]

    _, tangent = ag.jvp(f, (x,), (v,))
    assert rel_err(tangent, ag.jacobian(f)(x) @ v) <= EXACT_RTOL


# ---- backward(create_graph=True) and nested grad ---------------------------------------------
def test_backward_create_graph_leaves_a_differentiable_tensor_grad():
    x = Tensor(np.array([0.3, -0.7, 1.2]), requires_grad=True)
    y = (np.tanh(x) ** 3).sum()
    y.backward(create_graph=True)
    g = x.grad
    assert isinstance(g, Tensor) and g.grad_fn is not None
    t = np.tanh(x.data)
    assert rel_err(g.data, 3 * t ** 2 * (1 - t ** 2)) <= EXACT_RTOL
    x.grad = None
    g.sum().backward()
    assert isinstance(x.grad, np.ndarray)  # a first-order backward: ndarray as always
    # d/dx [3 t^2 (1 - t^2)] = (6 t - 12 t^3)(1 - t^2)
    assert rel_err(x.grad, (6 * t - 12 * t ** 3) * (1 - t ** 2)) <= EXACT_RTOL


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


def test_second_derivative_of_a_linear_function_is_zero():
    """Issue 14, repro 5: grad(grad(3x)) at 1.0 is 0.0 (a number), not an error."""
    second = ag.grad(ag.grad(lambda x: 3 * x))(1.0)
    assert not isinstance(second, Tensor)
    assert np.shape(second) == () and float(second) == 0.0


def test_inner_grad_through_a_closure_over_an_outer_variable():
    x0 = np.array([0.5, -1.0, 2.0])

    def outer(W):  # depends on W only through the inner gradient
        return (ag.grad(lambda x: np.tanh(x * W).sum())(x0) ** 2).sum()

    W = np.array([0.3, 0.7, -0.2])
    expected = central_difference_jacobian(outer, [W])
    assert_grads_close(ag.grad(outer)(W), expected)


def test_nested_grad_keeps_arguments_apart_when_the_same_tensor_is_passed_twice():
    def g(x):  # d/da (a b^2).sum() = b^2 at a = b = x: the sum of x^2, whose gradient is 2x
        return ag.grad(lambda a, b: (a * b * b).sum(), argnums=(0, 1))(x, x)[0].sum()

    x = np.array([0.5, -1.5])
    assert rel_err(ag.grad(g)(x), 2 * x) <= EXACT_RTOL


def test_hvp_and_hessian_of_linear_and_constant_functions_are_zero():
    x = np.array([1.0, 2.0])
    np.testing.assert_array_equal(ag.hvp(lambda t: (3.0 * t).sum(), x, x), 0.0)
    np.testing.assert_array_equal(ag.hessian(lambda t: (3.0 * t).sum())(x), np.zeros((2, 2)))
    np.testing.assert_array_equal(ag.hessian(lambda t: Tensor(1.0))(x), np.zeros((2, 2)))
    with pytest.raises(ShapeError, match="v has shape"):
        ag.hvp(lambda t: (t * t).sum(), x, np.ones(3))


# ---- issue 14: transformations inside transformations ---------------------------------------


def sech2(x):
    return 1.0 / np.cosh(x) ** 2


def test_jacobian_inside_grad():
    """Issue 14, repro 3. f = tanh(x) x is elementwise, so J = diag(f') and sum(J @ x) =
    sum_i f'(x_i) x_i, whose gradient is f''(x) x + f'(x), with f' = tanh + x sech^2 and
    f'' = 2 sech^2 (1 - x tanh)."""
    def f(x):
        return np.tanh(x) * x

    g = ag.grad(lambda x: (ag.jacobian(f)(x) @ x).sum())(X0)
    t, s = np.tanh(X0), sech2(X0)
    expected = 2 * s * (1 - X0 * t) * X0 + (t + X0 * s)
    assert rel_err(g, expected) <= EXACT_RTOL
    np.testing.assert_allclose(g, [1.067, -1.561], atol=5e-4)  # the numbers


def test_vjp_inside_vjp_is_the_second_derivative_of_tanh():
    """Issue 14, repro 4: the pullback of ones through tanh is sech^2(x); pulled back again,
    d/dx sech^2(x) = -2 tanh(x) sech^2(x)."""
    def first(x):
        return ag.vjp(np.tanh, x)[1](np.ones(2))[0]

    value, pullback = ag.vjp(first, X0)
    assert rel_err(value, sech2(X0)) <= EXACT_RTOL
    (second,) = pullback(np.ones(2))
    assert rel_err(second, -2 * np.tanh(X0) * sech2(X0)) <= EXACT_RTOL


def test_jvp_inside_grad():
    """Issue 14, repro 4: jvp(tanh, x, 1) = sech^2(x); d/dx sum(x sech^2 x) =
    sech^2(x) - 2 x tanh(x) sech^2(x) = [0.755, 0.098] at [0.3, -0.7]."""
    g = ag.grad(lambda x: (x * ag.jvp(np.tanh, (x,), (np.ones(2),))[1]).sum())(X0)
    expected = sech2(X0) - 2 * X0 * np.tanh(X0) * sech2(X0)
    assert rel_err(g, expected) <= EXACT_RTOL
    np.testing.assert_allclose(g, [0.755, 0.098], atol=5e-4)


def test_jacfwd_inside_grad():
    """sum(jacfwd(tanh)(x)) = sum(sech^2 x) (a diagonal Jacobian): gradient -2 tanh sech^2."""
    g = ag.grad(lambda x: ag.jacfwd(np.tanh)(x).sum())(X0)
    assert rel_err(g, -2 * np.tanh(X0) * sech2(X0)) <= EXACT_RTOL


CLOSURES = {  # name: (function of w whose gradient is wanted, its gradient at W0)
    # forward mode over a variable of the enclosing grad that enters only by the closure
    "jvp": (lambda w: ag.jvp(lambda x: x * w, (X0,), (V0,))[1].sum(), V0),
    "jvp tanh": (lambda w: ag.jvp(lambda x: np.tanh(x * w), (X0,), (V0,))[1].sum(),
                 # d/dw sum(v w sech^2(x w)) = v sech^2(x w) (1 - 2 x w tanh(x w))
                 V0 * sech2(X0 * W0) * (1 - 2 * X0 * W0 * np.tanh(X0 * W0))),
    "jacfwd": (lambda w: ag.jacfwd(lambda x: x * w)(X0).sum(), np.ones(2)),
    "grad": (lambda w: ag.grad(lambda x: (x * w).sum())(X0).sum(), np.ones(2)),
    "vjp": (lambda w: ag.vjp(lambda x: x * w, X0)[1](V0)[0].sum(), V0),
    "jacobian": (lambda w: ag.jacobian(lambda x: x * w)(X0).sum(), np.ones(2)),
    "hvp": (lambda w: ag.hvp(lambda x: (x * x * w).sum(), X0, V0).sum(), 2 * V0),
    "hessian": (lambda w: ag.hessian(lambda x: (x * x * w).sum())(X0).sum(), 2 * np.ones(2)),
}


@pytest.mark.parametrize("name", sorted(CLOSURES))
def test_inner_transformation_of_a_closure_over_the_outer_variable(name):
    """grad(w -> T(x -> f(x, w))(x0)) for every transformation T: w reaches the result only
    through the closure, so T must record for the enclosing grad (analytic gradients)."""
    f, expected = CLOSURES[name]
    assert rel_err(ag.grad(f)(W0), expected) <= EXACT_RTOL


def test_grad_inside_jvp_is_the_hessian_times_the_tangent():
    """Forward over reverse: jvp(grad(f)) at x along v is (grad f(x), H v); for
    f = sum(tanh(x)), H = diag(-2 tanh (1 - tanh^2))."""
    v = np.array([1.0, -2.0])
    value, tangent = ag.jvp(ag.grad(lambda x: np.tanh(x).sum()), (X0,), (v,))
    t = np.tanh(X0)
    assert rel_err(value, 1 - t * t) <= EXACT_RTOL
    assert rel_err(tangent, -2 * t * (1 - t * t) * v) <= EXACT_RTOL


def test_jvp_of_a_constant_base_to_the_power_of_the_primal():
    """Issue 14, repro 6: d/dy 2^y = 2^y log 2, at y = 0.5."""
    value, tangent = ag.jvp(lambda y: np.power(2.0, y), (0.5,), (1.0,))
    assert rel_err(value, 2 ** 0.5) <= EXACT_RTOL
    assert rel_err(tangent, 2 ** 0.5 * np.log(2.0)) <= EXACT_RTOL


def test_create_graph_backwards_accumulate_recorded_gradients():
    """Two recorded backward passes add up, as Tensors: d/dx sum(x^2) + d/dx sum(x^3)."""
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (x * x).sum().backward(create_graph=True)
    (x * x * x).sum().backward(create_graph=True)
    assert isinstance(x.grad, Tensor) and x.grad.grad_fn is not None
    np.testing.assert_array_equal(x.grad.data, [2.0 + 3.0, 4.0 + 12.0])
    g = x.grad
    x.grad = None
    g.sum().backward()  # d/dx sum(2x + 3x^2) = 2 + 6x
    np.testing.assert_array_equal(x.grad, [8.0, 14.0])
