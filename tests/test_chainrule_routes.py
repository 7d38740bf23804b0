"""The back-propagation routes of chainrule: the eager tape and the compiled tape, on the same
forward code as the explicit route.

Oracles: the explicit chain-rule route (itself checked against the chapter's code and finite
differences in test_chainrule_explicit.py) and central differences. Tolerance for route agreement:
1e-10 relative (the issue's bound). The routes compute the same sums in different orders (a
Jacobian contraction against matrix products), so they differ by rounding only, a few ulps of the
largest term (~1e-15 relative); a wrong rule is off by O(1).
"""

import numpy as np
import pytest
from checks import assert_grads_close, rel_err
from hypothesis import given, settings
from strategies import tanh_model_cases

import autograd_lite
from autograd_lite import ops
from autograd_lite.finite_differences import central_difference_gradient
from chainrule.model import BasisFunctionRidgeRegressionGD, TanhBasis

ROUTE_RTOL = 1e-10
BACKPROP_ROUTES = ("backprop", "compiled")


def models(case, **kwargs):
    """One model per route, all at the case's (W, w)."""
    out = {}
    for route in ("explicit", *BACKPROP_ROUTES):
        m = BasisFunctionRidgeRegressionGD(TanhBasis(case.W), ridge=case.ridge,
                                           ridge_basis=case.ridge_basis, route=route, **kwargs)
        m.w = case.w.copy()
        out[route] = m
    return out


@given(tanh_model_cases())
def test_backprop_routes_equal_the_explicit_route(case):
    routes = models(case)
    L_e, gW_e, gw_e = routes["explicit"].loss_and_gradients(case.X, case.y)
    for route in BACKPROP_ROUTES:
        L, gW, gw = routes[route].loss_and_gradients(case.X, case.y)
        assert gW.shape == case.W.shape and gw.shape == case.w.shape, route
        assert rel_err(L, L_e) <= ROUTE_RTOL, route
        assert rel_err(gW, gW_e) <= ROUTE_RTOL and rel_err(gw, gw_e) <= ROUTE_RTOL, route
        gW2, gw2 = routes[route].gradients(case.X, case.y)
        assert np.array_equal(gW2, gW) and np.array_equal(gw2, gw), route


@given(tanh_model_cases(max_N=16, max_D=3, max_K=4))
def test_backprop_routes_match_central_differences(case):
    """Against central differences of the explicit route's loss in W and in w.

    The loss is evaluated in float64 with values bounded by the strategies (L <= ~1e3); with eps =
    1e-6 the rounding error of a difference quotient is ~1e-16 * L / 1e-6 = 1e-10 L and truncation
    eps^2 |L'''| is far smaller, hence atol = 1e-6 max(1, L).
    """
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

    numeric_W = central_difference_gradient(loss_of_W, case.W)
    numeric_w = central_difference_gradient(loss_of_w, case.w)
    for route, model in models(case).items():
        L, gW, gw = model.loss_and_gradients(case.X, case.y)
        tol = 1e-6 * max(1.0, L)
        assert_grads_close(gW, numeric_W, like=case.W, atol=tol, what=f"{route} grad_W")
        assert_grads_close(gw, numeric_w, like=case.w, atol=tol, what=f"{route} grad_w")


@settings(max_examples=settings.default.max_examples // 3)  # an example: 3 x 300 steps
@given(tanh_model_cases(max_N=32, max_D=3, max_K=4))
def test_fit_trajectories_agree(case):
    """300 GD steps from the same start. The step is kept stable for the bounded ranges
    (curvature <= |x|^2 |w|^2 K ~ 1e3, so lr = 1e-3): an unstable step would amplify the routes'
    rounding differences exponentially and test chaos, not the gradients."""
    fitted = {r: m.fit(case.X, case.y)
              for r, m in models(case, learning_rate=1e-3, num_iterations=300).items()}
    for route in BACKPROP_ROUTES:
        assert rel_err(fitted[route].basis_function.W,
                       fitted["explicit"].basis_function.W) <= ROUTE_RTOL, route
        assert rel_err(fitted[route].w, fitted["explicit"].w) <= ROUTE_RTOL, route


def test_fit_trajectories_agree_after_1000_chapter_like_steps():
    """The chapter's setting (day-of-year input, W0, lr 1e-5), 1,000 steps, every route."""
    rng = np.random.default_rng(2)
    x = rng.permutation(365)[:100].astype(float)
    y = 10 - 12 * np.cos(2 * np.pi * (x + 10) / 365) + rng.normal(0, 4, x.size)
    W0 = np.array([[0.1, 0.2, 0.3], [-10.0, -50.0, -100.0]])
    fitted = {}
    for route in ("explicit", *BACKPROP_ROUTES):
        m = BasisFunctionRidgeRegressionGD(TanhBasis(W0), learning_rate=1e-5,
                                           num_iterations=1000, route=route)
        fitted[route] = m.fit(x, y)
    explicit = fitted["explicit"]
    assert not np.allclose(explicit.basis_function.W, W0)  # it moved: the check is not vacuous
    for route in BACKPROP_ROUTES:
        assert rel_err(fitted[route].basis_function.W, explicit.basis_function.W) <= ROUTE_RTOL
        assert rel_err(fitted[route].w, explicit.w) <= ROUTE_RTOL


def test_each_route_reads_its_own_gradients(monkeypatch):
    """gradients() follows the route: a wrong tanh rule on the tape changes the two backprop
    routes' gradients (eager: the eager rule; compiled: the rule it records), not the explicit
    route's, which never touches the tape."""
    rng = np.random.default_rng(3)
    X, y, W = rng.normal(size=(20, 2)), rng.normal(size=20), rng.normal(size=(3, 4))
    honest = {}
    for route in ("explicit", *BACKPROP_ROUTES):
        m = BasisFunctionRidgeRegressionGD(TanhBasis(W), route=route)
        m.w = np.ones(4)
        honest[route] = m.gradients(X, y)[0]
    wrong = staticmethod(lambda g, out: 2.0 * g * (1 - out * out))
    monkeypatch.setattr(ops.Tanh, "eager_vjps", (wrong,))
    monkeypatch.setattr(ops.Tanh, "vjps", (wrong,))
    for route, expected in honest.items():
        m = BasisFunctionRidgeRegressionGD(TanhBasis(W), route=route)
        m.w = np.ones(4)
        changed = not np.allclose(m.gradients(X, y)[0], expected)
        assert changed == (route != "explicit"), route


def test_eager_backprop_runs_one_forward_and_one_backward(monkeypatch):
    """One gradients() call: tanh is evaluated once and its rule runs once (no recomputation)."""
    calls = {"forward": 0, "vjp": 0}
    forward, (vjp,) = ops.Tanh.eager_forward, ops.Tanh.eager_vjps

    def counting_forward(x):
        calls["forward"] += 1
        return forward(x)

    def counting_vjp(g, out):
        calls["vjp"] += 1
        return vjp(g, out)

    monkeypatch.setattr(ops.Tanh, "eager_forward", staticmethod(counting_forward))
    monkeypatch.setattr(ops.Tanh, "eager_vjps", (counting_vjp,))
    rng = np.random.default_rng(0)
    model = BasisFunctionRidgeRegressionGD(TanhBasis(rng.normal(size=(3, 4))), route="backprop")
    model.gradients(rng.normal(size=(20, 2)), rng.normal(size=20))
    assert calls == {"forward": 1, "vjp": 1}


def test_compiled_route_compiles_once_per_signature():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(20, 2)), rng.normal(size=20)
    model = BasisFunctionRidgeRegressionGD(TanhBasis(rng.normal(size=(3, 4))), route="compiled",
                                           num_iterations=50, learning_rate=1e-3)
    model.fit(X, y)  # the whole descent, one compiled loop
    descent = model.descent
    assert descent.traces == 1 and descent.source.count("np.tanh(") == 1
    assert "for i" in descent.source
    model.fit(X[:10], y[:10])  # a new N: a new signature
    assert descent.traces == 2
    model.loss_and_gradients(X, y)  # one loss and gradients call: compile's program
    assert model.value_and_grad.traces == 1
    assert model.value_and_grad.source.count("np.tanh(") == 1


@pytest.mark.parametrize("route", BACKPROP_ROUTES)
def test_backprop_routes_never_build_the_jacobian(route):
    """The memory guard is for the explicit route only: back-propagation works far above it."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(500, 2)), rng.normal(size=500)
    basis = TanhBasis(rng.normal(size=(3, 4)), max_jacobian_bytes=1024)
    gW, gw = BasisFunctionRidgeRegressionGD(basis, route=route).gradients(X, y)
    assert gW.shape == (3, 4) and gw.shape == (4,)
    with pytest.raises(MemoryError, match="N=500"):
        BasisFunctionRidgeRegressionGD(basis, route="explicit").gradients(X, y)


@pytest.mark.parametrize("route", BACKPROP_ROUTES)
def test_backprop_routes_leave_no_recording_state_behind(route):
    rng = np.random.default_rng(1)
    model = BasisFunctionRidgeRegressionGD(TanhBasis(rng.normal(size=(2, 3))), route=route)
    W_before = model.basis_function.W.copy()
    model.gradients(rng.normal(size=10), rng.normal(size=10))
    assert autograd_lite.is_grad_enabled()
    assert type(model.basis_function.W) is np.ndarray and type(model.w) is np.ndarray
    assert np.array_equal(model.basis_function.W, W_before)  # gradients() changes nothing


@pytest.mark.parametrize("route", ("explicit", *BACKPROP_ROUTES))
def test_gradients_have_their_parameters_dtype(route):
    """One rule on every route: grad_W has W's dtype and grad_w w's, whatever the data's dtype
    (the explicit route computes in float64, where x~ appends float64 ones, and casts back)."""
    rng = np.random.default_rng(4)
    for W_dtype in (np.float32, np.float64):
        model = BasisFunctionRidgeRegressionGD(TanhBasis(rng.normal(size=(3, 4)).astype(W_dtype)),
                                               route=route)
        for data_dtype in (np.float32, np.float64):
            X = rng.normal(size=(15, 2)).astype(data_dtype)
            y = rng.normal(size=15).astype(data_dtype)
            for w_dtype in (np.float32, np.float64):
                model.w = np.ones(4, w_dtype)
                _, gW, gw = model.loss_and_gradients(X, y)
                case = (W_dtype, data_dtype, w_dtype)
                assert (gW.dtype, gw.dtype) == (W_dtype, w_dtype), case
                gW, gw = model.gradients(X, y)
                assert (gW.dtype, gw.dtype) == (W_dtype, w_dtype), case


def test_fit_runs_its_steps_through_descend():
    """fit checks the data, zeroes w and hands the steps to _descend: the one method a compiled
    loop would replace."""
    seen = []

    class Recording(BasisFunctionRidgeRegressionGD):
        def _descend(self, X, y, steps, callback, callback_every):
            seen.append((X.shape, y.shape, steps, callback_every, self.w.tolist()))

    model = Recording(TanhBasis(np.ones((2, 2))), num_iterations=7, route="compiled")
    model.w = np.ones(2)
    assert model.fit(np.arange(4.0), np.ones(4), callback_every=3) is model
    assert seen == [((4, 1), (4,), 7, 3, [0.0, 0.0])]
