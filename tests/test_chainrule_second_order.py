"""The chapter's model with autograd_lite's forward mode and second order: the Jacobian of
Phi(W) three ways (the chapter's explicit formula, jacfwd, jacobian), and Newton steps in w,
whose Hessian comes from the tape and whose result is the closed-form ridge solution.

(Moved from test_forward_and_second_order.py, which now tests autograd_lite alone; the
jacobian_three_ways benchmark is tested in test_benchmarks_smoke.py.)
"""

import numpy as np
import pytest
from checks import rel_err
from hypothesis import given
from hypothesis import strategies as st
from strategies import tanh_model_cases

import autograd_lite as ag
from chainrule.model import BasisFunctionRidgeRegressionGD, TanhBasis, ridge_loss, tanh_basis
from chainrule.newton import fit_newton_w, newton_step_w, ridge_solution

#: Two exact routes to one number (an explicit formula and the tape): rounding only.
EXACT_RTOL = 1e-10
#: Newton's step w - H^-1 g solves with H = Phi^T Phi / N + ridge I; ridge >= 0.05 bounds its
#: condition number by (max|Phi|^2 + ridge) / ridge <= 21, and the subtraction cancels w's
#: magnitude: the error is ~ 21 * macheps * max(|w|, |w*|), far below NEWTON_RTOL times that.
NEWTON_RTOL = 1e-10


def assert_newton_lands_on(new_w, w_star, w):
    scale = max(np.max(np.abs(w)), np.max(np.abs(w_star)))
    assert np.max(np.abs(new_w - w_star)) <= NEWTON_RTOL * scale, (new_w, w_star)


def explicit_as_full(J):
    """(N, D+1, K) explicit Jacobian -> (N, K, D+1, K): dPhi[n,k]/dW[d,j] = delta_kj J[n,d,k]."""
    K = J.shape[2]
    return np.einsum("ndk,kj->nkdj", J, np.eye(K))


@given(tanh_model_cases(max_N=12, max_D=3, max_K=4))
def test_phi_jacobian_three_ways_agree(case):
    def phi(W):
        return tanh_basis(case.X, W)

    explicit = explicit_as_full(TanhBasis(case.W).jacobian(case.X))
    forward = ag.jacfwd(phi)(case.W)  # (D+1)*K passes
    reverse = ag.jacobian(phi)(case.W)  # N*K passes
    N, D, K = case.X.shape + case.W.shape[1:]
    assert explicit.shape == forward.shape == reverse.shape == (N, K, D + 1, K)
    assert rel_err(forward, explicit) <= EXACT_RTOL
    assert rel_err(reverse, explicit) <= EXACT_RTOL


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
        assert_newton_lands_on(newton_step_w(model, x, y), w_star, model.w)


@given(tanh_model_cases(max_N=24, max_D=3, max_K=4), st.floats(0.05, 1.0))
def test_newton_step_property_and_the_tape_hessian_in_w(case, ridge):
    """The tape's Hessian of the loss in w is Phi^T Phi / N + ridge I, and the Newton step
    lands on the closed-form ridge solution."""
    model = BasisFunctionRidgeRegressionGD(TanhBasis(case.W), ridge=ridge,
                                           ridge_basis=case.ridge_basis)
    model.w = case.w.copy()
    Phi = tanh_basis(case.X, case.W)
    N, K = Phi.shape
    H = ag.hessian(lambda w: ridge_loss(Phi, case.y, w, case.W, ridge, case.ridge_basis))(case.w)
    assert rel_err(H, Phi.T @ Phi / N + ridge * np.eye(K)) <= EXACT_RTOL
    w_star = ridge_solution(Phi, case.y, ridge)
    assert_newton_lands_on(newton_step_w(model, case.X, case.y), w_star, model.w)


def test_fit_newton_w_keeps_w_optimal_and_beats_plain_gd_per_iteration():
    x, y, W0 = chapter_like_data()
    fit = fit_newton_w(x, y, W0, 1e-5, 0.1, 0.1, max_iterations=50, rtol=0.0)
    assert fit.iterations == 50 and not fit.converged
    model = fit.model
    w_star = ridge_solution(model.basis_function.transform(x), y, 0.1)
    assert rel_err(model.w, w_star) <= NEWTON_RTOL
    plain = BasisFunctionRidgeRegressionGD(TanhBasis(W0), learning_rate=1e-5, num_iterations=50,
                                           route="backprop").fit(x, y)
    assert fit.loss < plain.loss(x, y)
    assert model.mse(x, y) < plain.mse(x, y)
    settled = fit_newton_w(x, y, W0, 1e-5, 0.1, 0.1, max_iterations=50, rtol=1e-3)
    assert settled.converged and settled.iterations < 50


def test_command_newton_w_option_reports_and_draws_its_fit(tmp_path, capsys, monkeypatch):
    from test_experiment import write_year_csv

    from chainrule import __main__ as cli
    from chainrule import experiment

    drawn = []
    real_plot = experiment.plot_chapter_figure

    def recording_plot(*args, **kwargs):
        drawn.append(kwargs["others"])
        return real_plot(*args, **kwargs)

    monkeypatch.setattr(experiment, "plot_chapter_figure", recording_plot)
    csv = write_year_csv(tmp_path / "GM000003342.csv")
    args = ["--data", str(csv), "--iterations", "30", "--routes", "backprop", "--newton-w",
            "--newton-iterations", "20", "--out", str(tmp_path)]
    assert cli.main(args) == 0
    text = capsys.readouterr().out
    assert ("[GD step on W (compiled tape) + Newton step for w (Hessian in w from the tape)]"
            in text)
    assert "iterations : 20 of at most 20 (" in text
    assert "plain GD (backprop, 30 iterations)" in text
    train = float(text.split("[GD step on W")[1].split("training MSE : ")[1].split()[0])
    plain = float(text.split("[backprop]")[1].split("training MSE : ")[1].split()[0])
    assert train < plain  # w is optimal for its W from the first iteration on
    # the figure draws the Newton fit beside plain GD's, labelled with its MSEs
    ((label, model),) = drawn[0]
    assert label.startswith("Newton for w, GD on W (20 iterations): train MSE = "
                            f"{train:.4f}, test MSE = ")
    assert model.w is not None and (tmp_path / "chapter_fit.png").stat().st_size > 10_000


def test_fit_newton_w_steps_W_by_the_route_it_is_given():
    """The W steps are plain gradient steps whatever the route (the compiled one by default):
    the routes' trajectories agree to rounding."""
    x, y, W0 = chapter_like_data()
    fits = {route: fit_newton_w(x, y, W0, 1e-5, 0.1, 0.1, max_iterations=20, rtol=0.0,
                                route=route)
            for route in ("explicit", "backprop", "compiled")}
    assert fit_newton_w(x, y, W0, 1e-5, 0.1, 0.1, max_iterations=1).model.route == "compiled"
    for route, fit in fits.items():
        assert fit.model.route == route
        assert rel_err(fit.model.basis_function.W, fits["compiled"].model.basis_function.W) \
            <= EXACT_RTOL, route
