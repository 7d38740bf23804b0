"""The backprop route of chainrule: the same model differentiated by the autograd_lite tape.

Oracles: the explicit chain-rule route (itself checked against the chapter's code and finite
differences in test_chainrule_explicit.py) and central differences. Tolerance for route
agreement: 1e-10 relative (the issue's bound). Both routes compute the same sums in different
orders (Jacobian contraction vs matrix products), so they differ by rounding only: a few ulps
of the largest term, ~1e-15 relative, far below 1e-10; a wrong rule is off by O(1).
"""

import numpy as np
import pytest
from checks import assert_grads_close
from hypothesis import given, settings
from strategies import tanh_model_cases

import autograd_lite
from autograd_lite.finite_differences import central_difference_gradient
from chainrule.model import BasisFunctionRidgeRegressionGD, TanhBasis

ROUTE_RTOL = 1e-10


def rel_err(a, b) -> float:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1.0))


def models(case, **kwargs):
    pair = []
    for engine in ("explicit", "backprop"):
        m = BasisFunctionRidgeRegressionGD(TanhBasis(case.W), ridge=case.ridge,
                                           ridge_basis=case.ridge_basis, engine=engine, **kwargs)
        m.w = case.w.copy()
        pair.append(m)
    return pair


@settings(deadline=None, max_examples=60)
@given(tanh_model_cases())
def test_backprop_gradients_equal_explicit_gradients(case):
    explicit, backprop = models(case)
    gW_e, gw_e = explicit.gradients(case.X, case.y)
    gW_b, gw_b = backprop.gradients(case.X, case.y)
    assert gW_b.shape == case.W.shape and gw_b.shape == case.w.shape
    assert rel_err(gW_b, gW_e) <= ROUTE_RTOL
    assert rel_err(gw_b, gw_e) <= ROUTE_RTOL


@settings(deadline=None, max_examples=30)
@given(tanh_model_cases(max_N=16, max_D=3, max_K=4))
def test_backprop_gradients_match_central_differences(case):
    """The backprop gradients against central differences of loss(X, y) in W and in w.

    loss is evaluated in float64 with values bounded by the strategies (loss <= ~1e3): with
    eps = 1e-6 the rounding error is ~2e-10 * |loss| / eps-scaled, hence atol = 1e-6*max(1, L).
    """
    _, backprop = models(case)
    gW, gw = backprop.gradients(case.X, case.y)
    L = backprop.loss(case.X, case.y)

    def loss_of_W(W):
        m = BasisFunctionRidgeRegressionGD(TanhBasis(W), ridge=case.ridge,
                                           ridge_basis=case.ridge_basis)
        m.w = case.w.copy()
        return m.loss(case.X, case.y)

    def loss_of_w(w):
        m = BasisFunctionRidgeRegressionGD(TanhBasis(case.W), ridge=case.ridge,
                                           ridge_basis=case.ridge_basis)
        m.w = w
        return m.loss(case.X, case.y)

    tol = 1e-6 * max(1.0, L)
    assert_grads_close(gW, central_difference_gradient(loss_of_W, case.W), like=case.W, atol=tol)
    assert_grads_close(gw, central_difference_gradient(loss_of_w, case.w), like=case.w, atol=tol)


@settings(deadline=None, max_examples=40)
@given(tanh_model_cases())
def test_loss_and_pred_agree_between_routes(case):
    explicit, backprop = models(case)
    assert explicit.loss(case.X, case.y) == backprop.loss(case.X, case.y)
    np.testing.assert_array_equal(explicit.pred(case.X), backprop.pred(case.X))


@settings(deadline=None, max_examples=10)
@given(tanh_model_cases(max_N=32, max_D=3, max_K=4))
def test_fit_trajectories_agree(case):
    """300 GD steps from the same start. The step is kept stable for the bounded ranges
    (curvature <= |x|^2 |w|^2 K ~ 1e3, so lr = 1e-3): an unstable step would amplify the
    routes' rounding differences exponentially and test chaos, not the gradients."""
    explicit, backprop = models(case, learning_rate=1e-3, num_iterations=300)
    explicit.fit(case.X, case.y)
    backprop.fit(case.X, case.y)
    assert rel_err(backprop.basis_function.W, explicit.basis_function.W) <= ROUTE_RTOL
    assert rel_err(backprop.w, explicit.w) <= ROUTE_RTOL


def test_fit_trajectories_agree_after_1000_chapter_like_steps():
    """The chapter's setting (1-D day-of-year input, W0, lr 1e-5) for 1,000 steps, both routes."""
    rng = np.random.default_rng(2)
    x = rng.permutation(365)[:100].astype(float)
    y = 10 - 12 * np.cos(2 * np.pi * (x + 10) / 365) + rng.normal(0, 4, x.size)
    W0 = np.array([[0.1, 0.2, 0.3], [-10.0, -50.0, -100.0]])
    fitted = []
    for engine in ("explicit", "backprop"):
        m = BasisFunctionRidgeRegressionGD(TanhBasis(W0), learning_rate=1e-5,
                                           num_iterations=1000, engine=engine)
        fitted.append(m.fit(x, y))
    explicit, backprop = fitted
    assert not np.allclose(explicit.basis_function.W, W0)  # it moved: the check is not vacuous
    assert rel_err(backprop.basis_function.W, explicit.basis_function.W) <= ROUTE_RTOL
    assert rel_err(backprop.w, explicit.w) <= ROUTE_RTOL


def test_backprop_runs_one_forward_and_one_backward(monkeypatch):
    """One gradients() call: tanh is recorded once and its rule runs once (no recomputation)."""
    from autograd_lite import ops

    calls = {"forward": 0, "vjp": 0}
    forward, (vjp,) = ops.Tanh.forward, ops.Tanh.vjps

    def counting_forward(x):
        calls["forward"] += 1
        return forward(x)

    def counting_vjp(g, out):
        calls["vjp"] += 1
        return vjp(g, out)

    monkeypatch.setattr(ops.Tanh, "forward", counting_forward)
    monkeypatch.setattr(ops.Tanh, "vjps", (counting_vjp,))
    rng = np.random.default_rng(0)
    model = BasisFunctionRidgeRegressionGD(TanhBasis(rng.normal(size=(3, 4))), engine="backprop")
    model.gradients(rng.normal(size=(20, 2)), rng.normal(size=20))
    assert calls == {"forward": 1, "vjp": 1}


def test_backprop_never_builds_the_jacobian():
    """The memory guard is for the explicit route only: backprop works far above it."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(500, 2)), rng.normal(size=500)
    basis = TanhBasis(rng.normal(size=(3, 4)), max_jacobian_bytes=1024)
    model = BasisFunctionRidgeRegressionGD(basis, engine="backprop")
    gW, gw = model.gradients(X, y)
    assert gW.shape == (3, 4) and gw.shape == (4,)
    explicit = BasisFunctionRidgeRegressionGD(basis, engine="explicit")
    with pytest.raises(MemoryError, match="N=500"):
        explicit.gradients(X, y)


def test_backprop_does_not_leave_recording_state_behind():
    rng = np.random.default_rng(1)
    model = BasisFunctionRidgeRegressionGD(TanhBasis(rng.normal(size=(2, 3))), engine="backprop")
    model.gradients(rng.normal(size=10), rng.normal(size=10))
    assert autograd_lite.is_grad_enabled()
    assert type(model.basis_function.W) is np.ndarray and type(model.w) is np.ndarray


@settings(deadline=None, max_examples=20)
@given(tanh_model_cases())
def test_loss_and_gradients_agree_between_routes(case):
    explicit, backprop = models(case)
    L_e, gW_e, gw_e = explicit.loss_and_gradients(case.X, case.y)
    L_b, gW_b, gw_b = backprop.loss_and_gradients(case.X, case.y)
    assert L_e == explicit.loss(case.X, case.y)
    assert abs(L_b - L_e) <= ROUTE_RTOL * max(1.0, abs(L_e))
    assert rel_err(gW_b, gW_e) <= ROUTE_RTOL and rel_err(gw_b, gw_e) <= ROUTE_RTOL
