"""Tests of chainrule.deep: the chain rule through L tanh layers.

* The routes agree: explicit (output-side and input-side order), eager and compiled backprop.
* The gradients and the Jacobians equal central differences, within budgets derived below from
  the bounds of ``strategies.deep_model_cases`` (|X| <= 2, |W_l| <= 1, |w| <= 2, |y| <= 5,
  L <= 4, widths <= 5, N <= 20).
* With L = 1 it is the chapter's model (chainrule.model) to 1e-12.
* Bad shapes name the layer; the memory guard refuses before allocating.
* Gradients have their parameter's dtype on every route.

(The cost model of the depth benchmark, and the benchmark itself: test_benchmarks_depth.py.)
"""

import tracemalloc

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import deep_model_cases, tanh_model_cases

from autograd_lite.finite_differences import central_difference_jacobian
from chainrule.deep import (
    DeepJacobianTooLarge,
    DeepRidgeRegressionGD,
    DeepTanhBasis,
    deep_tanh_basis,
    jacobians_nbytes,
)
from chainrule.model import BasisFunctionRidgeRegressionGD, JacobianTooLarge, TanhBasis

ROUTES = [("explicit", "output"), ("explicit", "input"), ("backprop", "output"),
          ("compiled", "output")]


def make_model(case, route="explicit", order="output", **kwargs):
    model = DeepRidgeRegressionGD(DeepTanhBasis(case.Ws, **kwargs), ridge=case.ridge,
                                  ridge_basis=case.ridge_basis, route=route,
                                  jacobian_order=order)
    model.w = case.w.copy()
    return model


def plain_forward(X, Ws):
    """H_0..H_L written out with numpy, independently of chainrule."""
    Hs = [np.asarray(X, dtype=float)]
    for W in Ws:
        Hs.append(np.tanh(Hs[-1] @ W[:-1] + W[-1]))
    return Hs


def plain_loss(X, y, Ws, w, ridge, ridge_basis):
    r = y - plain_forward(X, Ws)[-1] @ w
    return (0.5 * np.mean(r**2) + 0.5 * ridge * np.sum(w**2)
            + 0.5 * ridge_basis * sum(np.sum(W**2) for W in Ws))


def assert_close_to_rounding(actual, expected, magnitude, rtol, what):
    """|actual - expected| <= rtol * (max|expected| + magnitude), entrywise max.

    `magnitude` is the size of the terms summed into `expected` (sum of absolute values): the
    rounding of a sum is relative to that, not to a result that cancelled to near zero.
    Differences below the smallest normal float64 (2.2e-308) are accepted: subnormal results
    (a ridge strength of 5e-324 times W) round with no relative precision at all.
    """
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    scale = float(np.max(np.abs(expected), initial=0.0)) + float(magnitude)
    diff = float(np.max(np.abs(actual - expected), initial=0.0))
    assert diff <= rtol * scale + np.finfo(float).tiny, (
        f"{what}: difference {diff:.3e} > {rtol:.0e} * {scale:.3e}")


def chain_rule_magnitudes(case):
    """The size of the terms each gradient sums (max over entries): back-propagation of
    absolute values, |dL/dH_L| through |tanh'| and |W|, so every product of the chain rule is
    bounded by it; and |H_L|^T |r| / N + ridge |w| for grad_w. Plain numpy."""
    Hs = plain_forward(case.X, case.Ws)
    N = case.X.shape[0]
    r = case.y - Hs[-1] @ case.w
    G = np.abs(r)[:, None] * np.abs(case.w)[None, :] / N
    mags = []
    upstream = G  # (N, K_l): sum of |terms| reaching H_l
    for l in range(len(case.Ws), 0, -1):
        W, S = case.Ws[l - 1], 1 - Hs[l] ** 2
        gZ = upstream * np.abs(S)
        H_tilde = np.hstack((np.abs(Hs[l - 1]), np.ones((N, 1))))
        mags.append(H_tilde.T @ gZ + case.ridge_basis * np.abs(W))
        upstream = gZ @ np.abs(W[:-1]).T
    mags.reverse()
    return [float(m.max()) for m in mags], float(
        np.max(np.abs(Hs[-1]).T @ np.abs(r) / N + case.ridge * np.abs(case.w)))


# ---------------------------------------------------------------------------------------------
# The routes agree with each other and with the plain forward pass
# ---------------------------------------------------------------------------------------------

# The routes differ only in the order of additions and multiplications: rounding of ~1e-16 per
# operation relative to the size of the terms, times the number of terms summed (<= N K_L
# |W_l| = 20 * 5 * 30 = 3000) -> <= ~3e-13 of `magnitude`. 1e-10 (the requirement)
# leaves 300x; a wrong formula is off by O(1) relative.
ROUTES_RTOL = 1e-10
LOSS_RTOL = 1e-12  # one forward definition: equal up to a few roundings of the same sums


@given(deep_model_cases())
def test_routes_agree(case):
    results = {(r, o): make_model(case, r, o).loss_and_gradients(case.X, case.y)
               for r, o in ROUTES}
    grad_W_mags, grad_w_mag = chain_rule_magnitudes(case)
    ref_loss, ref_Ws, ref_w = results[("backprop", "output")]
    assert ref_loss == pytest.approx(plain_loss(case.X, case.y, case.Ws, case.w, case.ridge,
                                                case.ridge_basis), rel=LOSS_RTOL, abs=1e-300)
    for (route, order), (loss, grad_Ws, grad_w) in results.items():
        name = f"{route}/{order}"
        assert isinstance(loss, float)
        assert loss == pytest.approx(ref_loss, rel=LOSS_RTOL, abs=1e-300), name
        assert len(grad_Ws) == len(case.Ws)
        for l, (g, ref, mag) in enumerate(zip(grad_Ws, ref_Ws, grad_W_mags), start=1):
            assert_close_to_rounding(g, ref, mag, ROUTES_RTOL, f"{name}: grad of W_{l}")
        assert_close_to_rounding(grad_w, ref_w, grad_w_mag, ROUTES_RTOL, f"{name}: grad of w")


@given(deep_model_cases())
def test_forward_is_the_plain_network(case):
    basis = DeepTanhBasis(case.Ws)
    expected = plain_forward(case.X, case.Ws)
    for H, H_plain in zip(basis.activations(case.X), expected, strict=True):
        np.testing.assert_allclose(H, H_plain, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(basis.transform(case.X), expected[-1], rtol=1e-14, atol=1e-15)
    model = make_model(case)
    np.testing.assert_allclose(model.pred(case.X), expected[-1] @ case.w, rtol=1e-13,
                               atol=1e-13)
    assert model.loss(case.X, case.y) == pytest.approx(
        plain_loss(case.X, case.y, case.Ws, case.w, case.ridge, case.ridge_basis), rel=1e-13)


# ---------------------------------------------------------------------------------------------
# Central differences
# ---------------------------------------------------------------------------------------------

# Jacobians dH_L/dW_l vs central differences of H_L (eps = 1e-6). |H_L| <= 1, computed with an
# absolute error of a few ulp(1) ~ 1e-15 after <= 4 layers, so rounding contributes
# ~1e-15 / 2e-6 ~ 5e-10; the rounded step W +- eps (relative error <= ulp(1) / 1e-6 ~ 2e-10)
# contributes 2e-10 |J|. Truncation is eps^2/6 |d^3 H_L / dW^3|: with |W| <= 1 and widths <= 5
# a worst-case bound grows as (5 |W|)^(3 L) and is loose; over 400 random and +-bound cases
# (every entry at a bound, no saturation) the largest total error seen was 4.6e-10.
# atol = 1e-7 leaves a 200x margin while a wrong entry is off by O(|J|) ~ 0.1..1.
JACOBIAN_EPS, JACOBIAN_ATOL = 1e-6, 1e-7


@given(deep_model_cases(), st.sampled_from(["output", "input"]))
def test_jacobians_match_central_differences(case, order):
    basis = DeepTanhBasis(case.Ws)
    Js = basis.jacobians(case.X, order=order)
    N, M = case.X.shape[0], case.Ws[-1].shape[1]
    assert len(Js) == len(case.Ws)
    for l, (J, W) in enumerate(zip(Js, case.Ws, strict=True)):
        assert J.shape == (N, M, *W.shape)

        def H_L_of_W(W_l, l=l):
            return deep_tanh_basis(case.X, [W_l if m == l else V for m, V in enumerate(case.Ws)])

        numeric = central_difference_jacobian(H_L_of_W, [W], 0, JACOBIAN_EPS)
        np.testing.assert_allclose(J, numeric, rtol=0, atol=JACOBIAN_ATOL,
                                   err_msg=f"dH_L/dW_{l + 1} ({order} order)")


# Gradients vs central differences of the loss (eps = 1e-6). The loss is a sum of non-negative
# terms, |L| <= 1/2 (5 + 2*5)^2 + ridge terms ~ 200, evaluated with relative error of a few ulp;
# so |L(W+) - L(W-)| carries ~c * 1.1e-16 * |L| and the quotient ~c * 5.5e-11 * |L| (c ~ 10 for
# the sums over N and K). Truncation as for the Jacobians, times |r w| <= 30. Largest error seen
# over the 400 cases above: 2.9e-10 * max(1, |L|). atol = 1e-7 * max(1, |L|) leaves a 300x
# margin; in w the loss is quadratic, so there is no truncation error at all.
GRAD_EPS, GRAD_ATOL_PER_LOSS = 1e-6, 1e-7


@given(deep_model_cases(), st.sampled_from(ROUTES))
def test_gradients_match_central_differences(case, route_order):
    model = make_model(case, *route_order)
    loss, grad_Ws, grad_w = model.loss_and_gradients(case.X, case.y)
    atol = GRAD_ATOL_PER_LOSS * max(1.0, abs(loss))
    args = [case.w, case.X, case.y, case.ridge, case.ridge_basis, *case.Ws]
    for argnum, analytic in ((0, grad_w), *((5 + l, g) for l, g in enumerate(grad_Ws))):
        numeric = central_difference_jacobian(
            lambda *a: plain_loss(a[1], a[2], list(a[5:]), a[0], a[3], a[4]), args, argnum,
            GRAD_EPS)
        np.testing.assert_allclose(analytic, numeric, rtol=0, atol=atol,
                                   err_msg=f"{route_order}: argument {argnum}")


# ---------------------------------------------------------------------------------------------
# L = 1 is the chapter's model
# ---------------------------------------------------------------------------------------------

# Same loss expression (bit-identical in practice); the gradients are the same sums taken in a
# different order (tensordot over (n, k) with zeros for j != k vs the chapter's sum over n), so
# they agree to rounding relative to the size of the terms: 1e-12 (the requirement).
CHAPTER_RTOL = 1e-12


@given(tanh_model_cases(max_N=40))
def test_one_layer_is_the_chapter_model(case):
    chapter = BasisFunctionRidgeRegressionGD(TanhBasis(case.W), ridge=case.ridge,
                                             ridge_basis=case.ridge_basis)
    chapter.w = case.w.copy()
    ref_loss = chapter.loss(case.X, case.y)
    ref_gW, ref_gw = chapter.gradients(case.X, case.y)
    # the size of the terms the chapter's chain rule adds up
    terms = np.abs(chapter.gradient_basis_function(case.X, case.y))[:, None, :] * np.abs(
        chapter.basis_function.jacobian(case.X))
    magnitude = float(terms.sum(0).max() + case.ridge_basis * np.abs(case.W).max())
    Phi = chapter.basis_function.transform(case.X)
    w_magnitude = float(np.max(np.abs(Phi).T @ np.abs(case.y - Phi @ case.w) / len(case.y)
                               + case.ridge * np.abs(case.w)))
    for route, order in ROUTES:
        model = DeepRidgeRegressionGD(DeepTanhBasis([case.W]), ridge=case.ridge,
                                      ridge_basis=case.ridge_basis, route=route,
                                      jacobian_order=order)
        model.w = case.w.copy()
        loss, (gW,), gw = model.loss_and_gradients(case.X, case.y)
        name = f"{route}/{order}"
        assert loss == pytest.approx(ref_loss, rel=CHAPTER_RTOL, abs=1e-300), name
        assert model.loss(case.X, case.y) == ref_loss, name  # the same expression
        assert_close_to_rounding(gW, ref_gW, magnitude, CHAPTER_RTOL, f"{name}: grad W")
        assert_close_to_rounding(gw, ref_gw, w_magnitude, CHAPTER_RTOL, f"{name}: grad w")
    # the chapter's (N, D+1, K) Jacobian is the non-zero part of dH_1/dW_1 (N, K, D+1, K)
    J = DeepTanhBasis([case.W]).jacobians(case.X)[0]
    K = case.W.shape[1]
    J_chapter = chapter.basis_function.jacobian(case.X)
    for k in range(K):
        np.testing.assert_allclose(J[:, k, :, k], J_chapter[:, :, k], rtol=1e-15, atol=0)
        off_diagonal = np.delete(J[:, k], k, axis=-1)
        assert not off_diagonal.any()


def test_one_layer_fit_follows_the_chapter():
    """The chapter's W0 on day-index-like inputs, 300 steps: the trajectories stay together."""
    rng = np.random.default_rng(0)
    X = np.sort(rng.uniform(0, 3, 60))[:, None]
    y = np.sin(2 * X[:, 0]) + 0.1 * rng.normal(size=60)
    W0 = np.array([[0.1, 0.2, 0.3], [-1.0, -0.5, 0.2]])
    kwargs = dict(learning_rate=0.05, num_iterations=300, ridge=0.1, ridge_basis=0.1)
    chapter = BasisFunctionRidgeRegressionGD(TanhBasis(W0), **kwargs).fit(X, y)
    for route in ("explicit", "backprop", "compiled"):
        model = DeepRidgeRegressionGD(DeepTanhBasis([W0]), route=route, **kwargs)
        assert model.fit(X, y) is model
        # 300 steps of a contraction-like map keep rounding differences at ~1e-15 relative
        np.testing.assert_allclose(model.basis.Ws[0], chapter.basis_function.W, rtol=1e-11,
                                   atol=1e-13)
        np.testing.assert_allclose(model.w, chapter.w, rtol=1e-11, atol=1e-13)
    np.testing.assert_array_equal(W0, [[0.1, 0.2, 0.3], [-1.0, -0.5, 0.2]])  # W0 was copied


def test_deep_fit_decreases_the_loss_and_routes_follow_each_other():
    rng = np.random.default_rng(1)
    X = rng.uniform(-2, 2, (50, 2))
    y = np.sin(X[:, 0]) * X[:, 1]
    Ws = [rng.normal(0, 0.5, (3, 4)), rng.normal(0, 0.5, (5, 3)), rng.normal(0, 0.5, (4, 2))]
    originals = [W.copy() for W in Ws]
    fitted = {}
    for route, order in ROUTES:
        model = DeepRidgeRegressionGD(DeepTanhBasis(Ws), learning_rate=0.5, num_iterations=50,
                                      ridge=1e-3, ridge_basis=1e-3, route=route,
                                      jacobian_order=order)
        model.w = np.zeros(2)
        before = model.loss(X, y)
        seen = []
        model.fit(X, y, callback=lambda i, m, seen=seen: seen.append(i), callback_every=20)
        assert seen == [20, 40]
        assert model.loss(X, y) < 0.5 * before  # 0.383 -> 0.078
        fitted[route, order] = [*model.basis.Ws, model.w]
    for params in fitted.values():
        for p, ref in zip(params, fitted["backprop", "output"], strict=True):
            np.testing.assert_allclose(p, ref, rtol=1e-10, atol=1e-12)
    for W, original in zip(Ws, originals, strict=True):  # the inputs were copied
        np.testing.assert_array_equal(W, original)


def test_one_dimensional_X_is_one_column():
    rng = np.random.default_rng(2)
    x = rng.normal(size=9)
    basis = DeepTanhBasis([rng.normal(size=(2, 3)), rng.normal(size=(4, 2))])
    np.testing.assert_array_equal(basis.transform(x), basis.transform(x[:, None]))
    for J1, J2 in zip(basis.jacobians(x), basis.jacobians(x[:, None]), strict=True):
        np.testing.assert_array_equal(J1, J2)


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


def test_bad_layer_shapes_name_the_layer():
    W1 = np.zeros((2, 3))
    with pytest.raises(ValueError, match=r"layer 2 \(Ws\[1\]\) must be 2-D with shape "
                                         r"\(K_1\+1, K_2\) = \(4, K_2\): the 3 outputs of "
                                         r"layer 1 plus the bias row.*got shape \(3, 2\)"):
        DeepTanhBasis([W1, np.zeros((3, 2))])
    with pytest.raises(ValueError, match=r"layer 3 \(Ws\[2\]\).*\(3, K_3\).*got shape \(4,\)"):
        DeepTanhBasis([W1, np.zeros((4, 2)), np.zeros(4)])
    with pytest.raises(ValueError, match=r"layer 1 \(Ws\[0\]\).*\(D\+1, K_1\).*got shape "
                                         r"\(1, 3\)"):
        DeepTanhBasis([np.zeros((1, 3))])
    with pytest.raises(ValueError, match=r"layer 2 \(Ws\[1\]\).*got shape \(4, 0\)"):
        DeepTanhBasis([W1, np.zeros((4, 0))])
    with pytest.raises(TypeError, match=r"layer 2 \(Ws\[1\]\) must hold real numbers"):
        DeepTanhBasis([W1, np.full((4, 2), "a")])
    with pytest.raises(TypeError, match=r"Ws must be a list.*ndarray of shape \(2, 3\)"):
        DeepTanhBasis(W1)
    with pytest.raises(ValueError, match="at least one weight matrix"):
        DeepTanhBasis([])


def test_bad_data_and_arguments_are_named():
    model = DeepRidgeRegressionGD(DeepTanhBasis([np.zeros((3, 4)), np.zeros((5, 2))]))
    with pytest.raises(ValueError, match=r"layer 1 \(Ws\[0\]\): X must be .* D = W.shape\[0\] "
                                         r"- 1 = 2; got X.shape=\(5, 3\)"):
        model.loss(np.zeros((5, 3)), np.zeros(5))
    with pytest.raises(ValueError, match=r"y must be 1-D with one value per row of X \(N=5\); "
                                         r"got y.shape=\(4,\)"):
        model.loss(np.zeros((5, 2)), np.zeros(4))
    with pytest.raises(ValueError, match=r"N >= 1 samples; got X.shape=\(0, 2\)"):
        model.loss(np.zeros((0, 2)), np.zeros(0))
    model.w = np.zeros(3)
    with pytest.raises(ValueError, match=r"w has shape \(3,\) but the basis has K=2 outputs"):
        model.gradients(np.zeros((5, 2)), np.zeros(5))
    with pytest.raises(ValueError, match="route must be one of"):
        DeepRidgeRegressionGD(model.basis, route="forward")
    with pytest.raises(ValueError, match="jacobian_order must be one of"):
        DeepRidgeRegressionGD(model.basis, jacobian_order="middle")
    with pytest.raises(ValueError, match="order must be one of"):
        model.basis.jacobians(np.zeros((5, 2)), order="middle")
    with pytest.raises(TypeError, match="basis must be a DeepTanhBasis, got TanhBasis"):
        DeepRidgeRegressionGD(TanhBasis(np.zeros((3, 4))))
    with pytest.raises(TypeError, match="num_iterations must be an integer"):
        DeepRidgeRegressionGD(model.basis, num_iterations=2.5)


# ---------------------------------------------------------------------------------------------
# Memory guard
# ---------------------------------------------------------------------------------------------


def test_memory_guard_counts_the_float64_jacobians_of_float32_inputs():
    X = np.ones((10, 1), np.float32)
    Ws = [np.ones((2, 3), np.float32), np.ones((4, 2), np.float32)]
    built = sum(J.nbytes for J in DeepTanhBasis(Ws).jacobians(X))
    with pytest.raises(DeepJacobianTooLarge):
        DeepTanhBasis(Ws, max_jacobian_bytes=built - 1).jacobians(X)
    assert sum(J.nbytes for J in DeepTanhBasis(Ws, max_jacobian_bytes=built).jacobians(X)) == built


def test_memory_guard_refuses_before_allocating():
    rng = np.random.default_rng(3)
    N, D, widths = 20_000, 1, (16, 16, 16)
    X, y = rng.normal(size=(N, D)), rng.normal(size=N)
    Ws = [rng.normal(size=(1 + D, 16)), rng.normal(size=(17, 16)), rng.normal(size=(17, 16))]
    layer_bytes = [N * 16 * (D + 1) * 16 * 8, N * 16 * 17 * 16 * 8, N * 16 * 17 * 16 * 8]
    assert jacobians_nbytes(N, D, widths) == layer_bytes
    total = sum(layer_bytes)  # 1.84 GB: never allocated here
    model = DeepRidgeRegressionGD(DeepTanhBasis(Ws, max_jacobian_bytes=total - 1))
    model.w = np.ones(16)
    tracemalloc.start()
    try:
        with pytest.raises(DeepJacobianTooLarge) as info:
            model.gradients(X, y)
        peak = tracemalloc.get_traced_memory()[1]
        with pytest.raises(JacobianTooLarge):  # also the chapter's exception type
            model.basis.jacobians(X)
        peak = max(peak, tracemalloc.get_traced_memory()[1])
    finally:
        tracemalloc.stop()
    assert peak < 1024**2, f"{peak} bytes allocated before refusing"
    e = info.value
    assert (e.nbytes, e.limit, e.layer_nbytes, e.widths) == (total, total - 1,
                                                            tuple(layer_bytes), widths)
    message = str(e)
    assert f"{total:,} bytes" in message and "N=20000" in message and "[16, 16, 16]" in message
    assert "route='backprop'" in message and "max_jacobian_bytes=" in message
    for route in ("backprop", "compiled"):  # the guard concerns materialised Jacobians only
        small = DeepRidgeRegressionGD(DeepTanhBasis(Ws, max_jacobian_bytes=0), route=route)
        small.w = np.ones(16)
        small.gradients(X[:100], y[:100])
    exact = DeepTanhBasis(Ws, max_jacobian_bytes=sum(jacobians_nbytes(5, D, widths)))
    assert len(exact.jacobians(X[:5])) == 3  # at the limit exactly: allowed


# ---------------------------------------------------------------------------------------------
# dtypes
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("route", "order"), ROUTES)
def test_gradients_have_their_parameters_dtype(route, order):
    """One rule on every route: a gradient has the dtype of the parameter it belongs to (a
    float32 layer beside a float64 one, and w of either dtype), whatever the data's dtype."""
    rng = np.random.default_rng(5)
    Ws = [rng.normal(size=(3, 4)).astype(np.float32), rng.normal(size=(5, 2))]
    model = DeepRidgeRegressionGD(DeepTanhBasis(Ws), route=route, jacobian_order=order)
    for data_dtype in (np.float64, np.float32):
        X, y = rng.normal(size=(12, 2)).astype(data_dtype), rng.normal(size=12).astype(data_dtype)
        for w_dtype in (np.float64, np.float32):
            model.w = np.ones(2, w_dtype)
            _, grad_Ws, grad_w = model.loss_and_gradients(X, y)
            assert [g.dtype for g in grad_Ws] == [np.float32, np.float64], (data_dtype, w_dtype)
            assert grad_w.dtype == w_dtype, (data_dtype, w_dtype)
            assert [g.dtype for g in model.gradients(X, y)[0]] == [np.float32, np.float64]
