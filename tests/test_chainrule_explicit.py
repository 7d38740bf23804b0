"""Tests of chainrule.model: the chapter's explicit-Jacobian model.

* It must reproduce the chapter's code (benchmarks/chapter_code.py) to rounding: max relative
  difference <= 1e-12 (in practice the numbers are bit-identical).
* Its analytic derivatives must agree with central finite differences within error budgets that
  are derived below from the bounded input ranges of ``strategies.tanh_model_cases``
  (|X| <= 5, |W| <= 3, |w| <= 3, |y| <= 10, N <= 64, D <= 5, K <= 6).
"""

import numpy as np
import pytest
from checks import rel_err
from hypothesis import given, settings
from strategies import tanh_model_cases

from autograd_lite.finite_differences import central_difference_gradient
from benchmarks import chapter_code as ref
from chainrule.model import (
    DEFAULT_MAX_JACOBIAN_BYTES,
    BasisFunctionRidgeRegressionGD,
    JacobianTooLarge,
    TanhBasis,
    jacobian_nbytes,
    ridge_loss,
    tanh_basis,
)

CHAPTER_RTOL = 1e-12  # "equal to the chapter's code to rounding"


def make_pair(case, **kwargs):
    """The model under test and the chapter's reference, on the same W and w."""
    model = BasisFunctionRidgeRegressionGD(
        TanhBasis(case.W), ridge=case.ridge, ridge_basis=case.ridge_basis, **kwargs
    )
    chapter = ref.BasisFunctionRidgeRegressionGD(
        ref.TanhBasis(case.W), ridge=case.ridge, ridge_basis=case.ridge_basis, **kwargs
    )
    model.w, chapter.w = case.w.copy(), case.w.copy()
    return model, chapter


# ---------------------------------------------------------------------------------------------
# Equality with the chapter's code
# ---------------------------------------------------------------------------------------------


@given(tanh_model_cases())
def test_matches_chapter_reference(case):
    model, chapter = make_pair(case)
    X, y = case.X, case.y
    b, rb = model.basis_function, chapter.basis_function
    assert rel_err(b.Z(X), rb.Z(X)) <= CHAPTER_RTOL
    assert rel_err(b.transform(X), rb.transform(X)) <= CHAPTER_RTOL
    assert rel_err(b.jacobian(X), rb.jacobian(X)) <= CHAPTER_RTOL
    assert rel_err(model.pred(X), chapter.pred(X)) <= CHAPTER_RTOL
    assert rel_err(model.mse(X, y), chapter.mse(X, y)) <= CHAPTER_RTOL
    assert rel_err(model.loss(X, y), chapter.loss(X, y)) <= CHAPTER_RTOL
    Phi = rb.transform(X)
    assert rel_err(model.d_loss_d_Phi(Phi, y), chapter.d_loss_d_Phi(Phi, y)) <= CHAPTER_RTOL
    assert rel_err(model.gradient_w(X, y), chapter.gradient_w(X, y)) <= CHAPTER_RTOL
    assert (
        rel_err(model.gradient_basis_function(X, y), chapter.gradient_basis_function(X, y))
        <= CHAPTER_RTOL
    )
    gW, gw = model.gradients(X, y)
    assert rel_err(gW, chapter.gradient_basis_function_W(X, y)) <= CHAPTER_RTOL
    assert rel_err(gw, chapter.gradient_w(X, y)) <= CHAPTER_RTOL


@settings(max_examples=settings.default.max_examples // 3)  # an example: 2 x 1,000 steps
@given(tanh_model_cases(max_N=32))
def test_fit_1000_steps_matches_chapter(case):
    model, chapter = make_pair(case, num_iterations=1000)
    assert model.fit(case.X, case.y) is model
    chapter.fit(case.X, case.y)
    assert rel_err(model.basis_function.W, chapter.basis_function.W) <= CHAPTER_RTOL
    assert rel_err(model.w, chapter.w) <= CHAPTER_RTOL
    assert rel_err(model.mse(case.X, case.y), chapter.mse(case.X, case.y)) <= CHAPTER_RTOL


def test_fit_chapter_experiment_setup_matches_chapter():
    """The chapter's W0, day-index inputs and learning rate, synthetic temperatures, 1,000 steps."""
    rng = np.random.default_rng(0)
    days = np.sort(rng.choice(365, size=100, replace=False))[:, np.newaxis] * 1.0
    y = 10 - 12 * np.cos(2 * np.pi * days[:, 0] / 365) + rng.normal(0, 3, 100)
    W0 = np.array([[0.1, 0.2, 0.3], [-10.0, -50.0, -100.0]])
    kwargs = dict(learning_rate=1e-5, num_iterations=1000, ridge=0.1, ridge_basis=0.1)
    model = BasisFunctionRidgeRegressionGD(TanhBasis(W0), **kwargs).fit(days, y)
    chapter = ref.BasisFunctionRidgeRegressionGD(ref.TanhBasis(W0), **kwargs)
    chapter.fit(days, y)
    assert rel_err(model.basis_function.W, chapter.basis_function.W) <= CHAPTER_RTOL
    assert rel_err(model.w, chapter.w) <= CHAPTER_RTOL
    assert np.array_equal(W0, [[0.1, 0.2, 0.3], [-10.0, -50.0, -100.0]])  # W0 was copied


def test_w_is_none_until_prediction_or_fit():
    model = BasisFunctionRidgeRegressionGD(TanhBasis(np.ones((3, 4))))
    assert model.w is None
    assert np.array_equal(model.pred(np.zeros((5, 2))), np.zeros(5))
    assert np.array_equal(model.w, np.zeros(4))


# ---------------------------------------------------------------------------------------------
# Analytic derivatives vs central differences
# ---------------------------------------------------------------------------------------------

# jacobian vs numerical_jacobian (eps = 1e-6). The entry is f(t) = tanh(z + x~_d t), so
# * truncation error eps^2/6 * |f'''| <= eps^2/6 * |x~_d|^3 * max|tanh'''| = 1e-12/6 * 125 * 2
#   ~ 4e-11;
# * rounding: z is computed with absolute error ~ a few ulp(|z|) with |z| <= D*5*3 + 3 = 78, i.e.
#   ~1e-14, and the step W[d, k] +- eps itself is rounded by ulp(3)/2 ~ 2e-16 (relative 2e-10 of
#   eps), so the quotient carries ~1e-14 / 2e-6 ~ 5e-9 plus 2e-10 * |J| <= 1e-9.
# Worst case ~1e-8 (observed max ~1e-9 over 1,500 random cases); atol = 1e-7 leaves a 10x margin.
JACOBIAN_ATOL = 1e-7


@given(tanh_model_cases())
def test_jacobian_matches_numerical_jacobian(case):
    basis = TanhBasis(case.W)
    J = basis.jacobian(case.X)
    N, D = case.X.shape
    assert J.shape == (N, D + 1, case.W.shape[1])
    np.testing.assert_allclose(J, basis.numerical_jacobian(case.X), rtol=0, atol=JACOBIAN_ATOL)


# gradient_basis_function_W vs numerical_grad_W (eps = 1e-7). Truncation ~eps^2 * |L'''| ~ 1e-14 *
# O(1e3) is negligible; the error is rounding of L itself: L is a sum of non-negative terms, each
# evaluated with relative error of a few ulp, so |L(W+) - L(W-)| carries ~c * 1.1e-16 * L and the
# quotient ~c * 1.1e-16 * L / 2e-7 ~ c * 5e-10 * L (c up to ~10 for the sums over N and K).
# Hence atol = 1e-7 * max(1, L) (observed max 5e-9 * max(1, L), i.e. a 20x margin), plus
# rtol = 1e-7 for the rounded step W +- eps (relative error <= ulp(3)/2 / 1e-7 ~ 2e-9).
GRAD_W_RTOL, GRAD_W_ATOL_PER_LOSS = 1e-7, 1e-7


@given(tanh_model_cases())
def test_gradient_W_matches_numerical_grad_W(case):
    model, _ = make_pair(case)
    scale = max(1.0, abs(model.loss(case.X, case.y)))
    np.testing.assert_allclose(
        model.gradient_basis_function_W(case.X, case.y),
        model.numerical_grad_W(case.X, case.y),
        rtol=GRAD_W_RTOL,
        atol=GRAD_W_ATOL_PER_LOSS * scale,
    )


# gradient_w vs central differences on w (eps = 1e-6). L is quadratic in w, so central differences
# have no truncation error at all; only rounding remains: ~c * 1.1e-16 * L / 2e-6 ~ c * 6e-11 * L.
# atol = 1e-8 * max(1, L) (observed max 4e-10 * max(1, L), a 25x margin).
GRAD_w_EPS, GRAD_w_ATOL_PER_LOSS = 1e-6, 1e-8


@given(tanh_model_cases())
def test_gradient_w_matches_central_differences(case):
    model, _ = make_pair(case)
    X, y = case.X, case.y
    scale = max(1.0, abs(model.loss(X, y)))
    analytic = model.gradient_w(X, y)

    def loss_of_w(w):
        model.w = np.array(w, dtype=float)
        return model.loss(X, y)

    numeric = central_difference_gradient(loss_of_w, case.w, GRAD_w_EPS)
    model.w = case.w.copy()
    np.testing.assert_allclose(analytic, numeric, rtol=0, atol=GRAD_w_ATOL_PER_LOSS * scale)


# ---------------------------------------------------------------------------------------------
# Input forms, no mutation, forward functions usable with tensors
# ---------------------------------------------------------------------------------------------


@given(tanh_model_cases(D=1))
def test_1d_and_2d_X_give_same_results(case):
    x1, X2 = case.X[:, 0], case.X
    model, _ = make_pair(case)
    basis = model.basis_function
    for method in (basis.Z, basis.transform, basis.jacobian, basis.numerical_jacobian):
        assert np.array_equal(method(x1), method(X2))
    for method in (
        model.mse,
        model.loss,
        model.gradient_w,
        model.gradient_basis_function,
        model.gradient_basis_function_W,
        model.numerical_grad_W,
    ):
        assert np.array_equal(method(x1, case.y), method(X2, case.y))
    assert np.array_equal(model.pred(x1), model.pred(X2))


@given(tanh_model_cases())
def test_numerical_derivatives_leave_W_bit_identical(case):
    model, _ = make_pair(case)
    W = model.basis_function.W
    before = W.tobytes()
    model.basis_function.numerical_jacobian(case.X)
    assert model.basis_function.W is W and W.tobytes() == before
    model.numerical_grad_W(case.X, case.y)
    assert model.basis_function.W is W and W.tobytes() == before


def test_W_restored_when_evaluation_raises(monkeypatch):
    W0 = np.array([[0.1, 0.2, 0.3], [-1.0, 0.5, 2.0]])
    basis = TanhBasis(W0)
    model = BasisFunctionRidgeRegressionGD(basis)
    X, y = np.linspace(-2, 2, 7), np.ones(7)
    original_transform = basis.transform
    calls = {"n": 0}

    def failing_transform(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 4:  # the "minus" evaluation of the second entry: W is perturbed now
            raise RuntimeError("boom")
        return original_transform(*args, **kwargs)

    monkeypatch.setattr(basis, "transform", failing_transform)
    with pytest.raises(RuntimeError, match="boom"):
        basis.numerical_jacobian(X)
    assert basis.W.tobytes() == W0.tobytes()
    calls["n"] = 0
    with pytest.raises(RuntimeError, match="boom"):
        model.numerical_grad_W(X, y)
    assert basis.W.tobytes() == W0.tobytes()


def test_W_is_copied_and_dtype_rules():
    W = np.array([[1, 2], [3, 4]])
    basis = TanhBasis(W)
    assert basis.W.dtype == np.float64 and basis.W is not W
    W[0, 0] = 100
    assert basis.W[0, 0] == 1.0
    W32 = np.ones((2, 3), dtype=np.float32)
    assert TanhBasis(W32).W.dtype == np.float32
    assert TanhBasis(W32).W is not W32
    assert TanhBasis([[0.5], [True]]).W.dtype == np.float64


class _TensorStandIn:
    """Supports only what the forward math may use (operators, indexing, .sum/.mean, np ufuncs).

    Converting it to an ndarray raises, so a numpy-only code path in basis_Z / tanh_basis /
    ridge_loss would fail here, as it would with an autograd Tensor.
    """

    def __init__(self, value):
        self.value = np.asarray(value, dtype=float)

    shape = property(lambda self: self.value.shape)

    def __array__(self, *args, **kwargs):
        raise TypeError("implicit conversion of a tensor to ndarray")

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method != "__call__" or kwargs:
            return NotImplemented
        raw = [i.value if isinstance(i, _TensorStandIn) else i for i in inputs]
        return _TensorStandIn(ufunc(*raw))

    def _binary(name):  # class-body helper building the operators below
        def method(self, other):
            other = other.value if isinstance(other, _TensorStandIn) else other
            return _TensorStandIn(getattr(self.value, name)(other))

        return method

    __add__, __radd__ = _binary("__add__"), _binary("__radd__")
    __sub__, __rsub__ = _binary("__sub__"), _binary("__rsub__")
    __mul__, __rmul__ = _binary("__mul__"), _binary("__rmul__")
    __matmul__, __rmatmul__ = _binary("__matmul__"), _binary("__rmatmul__")
    __truediv__, __pow__ = _binary("__truediv__"), _binary("__pow__")

    def __neg__(self):
        return _TensorStandIn(-self.value)

    def __getitem__(self, index):
        return _TensorStandIn(self.value[index])

    def sum(self):
        return _TensorStandIn(self.value.sum())

    def mean(self):
        return _TensorStandIn(self.value.mean())


@given(tanh_model_cases())
def test_forward_functions_accept_tensor_like_W_and_w(case):
    X, y = case.X, case.y
    W_t, w_t = _TensorStandIn(case.W), _TensorStandIn(case.w)
    Phi_t = tanh_basis(X, W_t)
    Phi = tanh_basis(X, case.W)
    assert isinstance(Phi_t, _TensorStandIn) and np.array_equal(Phi_t.value, Phi)
    loss_t = ridge_loss(Phi_t, y, w_t, W_t, case.ridge, case.ridge_basis)
    assert isinstance(loss_t, _TensorStandIn)
    assert loss_t.value == ridge_loss(Phi, y, case.w, case.W, case.ridge, case.ridge_basis)
    assert np.array_equal(TanhBasis(case.W).transform(X), Phi)
    model, _ = make_pair(case)
    expected = ridge_loss(Phi, y, case.w, case.W, case.ridge, case.ridge_basis)
    assert model.loss(X, y) == expected


# ---------------------------------------------------------------------------------------------
# Memory guard
# ---------------------------------------------------------------------------------------------


def test_jacobian_nbytes_arithmetic_without_allocating():
    assert DEFAULT_MAX_JACOBIAN_BYTES == 2 * 1024**3
    N, D, K = 10**12, 5, 6
    assert jacobian_nbytes(N, D, K) == N * (D + 1) * K * 8
    assert jacobian_nbytes(N, D, K, itemsize=4) == N * (D + 1) * K * 4
    assert jacobian_nbytes(np.int64(7), np.int64(2), np.int64(3)) == 7 * 3 * 3 * 8
    with pytest.raises(TypeError):
        jacobian_nbytes(1.5, 1, 1)
    with pytest.raises(ValueError):
        jacobian_nbytes(-1, 1, 1)


def test_guard_fires_with_clear_message():
    N, D, K = 10, 2, 3
    X, y = np.zeros((N, D)), np.zeros(N)
    nbytes = N * (D + 1) * K * 8
    basis = TanhBasis(np.zeros((D + 1, K)), max_jacobian_bytes=nbytes - 1)
    model = BasisFunctionRidgeRegressionGD(basis, num_iterations=1)
    for call in (
        lambda: basis.jacobian(X),
        lambda: basis.numerical_jacobian(X),
        lambda: model.gradient_basis_function_W(X, y),
        lambda: model.fit(X, y),
    ):
        with pytest.raises(JacobianTooLarge) as excinfo:
            call()
        assert isinstance(excinfo.value, MemoryError)
        message = str(excinfo.value)
        for part in (f"N={N}", f"D={D}", f"K={K}", f"{nbytes:,} bytes", "route='backprop'"):
            assert part in message
        assert "max_jacobian_bytes" in message
        err = excinfo.value
        assert (err.N, err.D, err.K, err.nbytes, err.limit) == (N, D, K, nbytes, nbytes - 1)
    basis.max_jacobian_bytes = nbytes  # exactly at the limit is allowed
    assert basis.jacobian(X).nbytes == nbytes
    model.fit(X, y)


def test_guard_counts_the_jacobian_that_is_built_for_float32_inputs():
    """float32 X and W still give a float64 Jacobian (x~ appends float64 ones): the guard must
    count its 8-byte entries, not the inputs' 4."""
    N, D, K = 10, 1, 3
    X, W = np.ones((N, D), np.float32), np.ones((D + 1, K), np.float32)
    built = TanhBasis(W).jacobian(X)
    with pytest.raises(JacobianTooLarge):
        TanhBasis(W, max_jacobian_bytes=built.nbytes - 1).jacobian(X)
    assert TanhBasis(W, max_jacobian_bytes=built.nbytes).jacobian(X).nbytes == built.nbytes


def test_an_x_and_a_y_checked_with_other_partners_are_checked_against_each_other():
    """X recognised from one call and y from another: their lengths still have to agree."""
    rng = np.random.default_rng(0)
    X_train, y_train, X_test = rng.normal(size=(5, 1)), rng.normal(size=5), rng.normal(size=(1, 1))
    model = BasisFunctionRidgeRegressionGD(TanhBasis(rng.normal(size=(2, 3))))
    model.mse(X_train, y_train)
    model.pred(X_test)  # X_test is now the basis' checked X, y_train still the model's y
    with pytest.raises(ValueError, match="y has length 5 but X has N=1 rows"):
        model.mse(X_test, y_train)


def test_default_guard_refuses_before_allocating():
    # 2e8 x 1 zero-stride view: X itself costs 8 bytes; the Jacobian would be 3.2 GB > 2 GiB.
    N = 2 * 10**8
    X = np.broadcast_to(np.zeros((1, 1)), (N, 1))
    basis = TanhBasis(np.zeros((2, 1)))
    with pytest.raises(JacobianTooLarge, match=f"N={N}"):
        basis.jacobian(X)
    model = BasisFunctionRidgeRegressionGD(basis)
    with pytest.raises(JacobianTooLarge):
        model.gradient_basis_function_W(X, np.broadcast_to(np.zeros(1), (N,)))


@pytest.mark.parametrize("bad", [-1, 1.5, True, None])
def test_bad_max_jacobian_bytes(bad):
    with pytest.raises((TypeError, ValueError), match="max_jacobian_bytes"):
        TanhBasis(np.zeros((2, 1)), max_jacobian_bytes=bad)


# ---------------------------------------------------------------------------------------------
# Validation, engines, dispatch
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("W", "error", "match"),
    [
        (np.zeros(3), ValueError, r"W\.shape=\(3,\)"),
        (np.zeros((1, 3)), ValueError, r"at least 2 rows.*W\.shape=\(1, 3\)"),
        (np.zeros((2, 2, 2)), ValueError, r"W\.shape=\(2, 2, 2\)"),
        (np.zeros((2, 0)), ValueError, r"W\.shape=\(2, 0\)"),
        (np.array([["a", "b"], ["c", "d"]]), TypeError, "dtype"),
        (np.zeros((2, 2), dtype=complex), TypeError, "complex"),
        (np.array([[1.0, None], [2.0, 3.0]], dtype=object), TypeError, "object"),
    ],
)
def test_bad_W(W, error, match):
    with pytest.raises(error, match=match):
        TanhBasis(W)


def test_bad_X_names_both_shapes():
    basis = TanhBasis(np.zeros((3, 2)))  # D = 2
    model = BasisFunctionRidgeRegressionGD(basis)
    with pytest.raises(ValueError, match=r"X\.shape=\(4, 1, 2\).*W\.shape=\(3, 2\)"):
        basis.transform(np.zeros((4, 1, 2)))
    for call in (basis.Z, basis.transform, basis.jacobian, basis.numerical_jacobian):
        with pytest.raises(ValueError, match=r"X\.shape=\(4, 3\).*W\.shape=\(3, 2\)"):
            call(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"X\.shape=\(4, 1\).*W\.shape=\(3, 2\)"):
        model.fit(np.zeros(4), np.zeros(4))  # 1-D X means D = 1
    with pytest.raises(TypeError, match="dtype"):
        basis.transform(np.array([["a", "b"]]))


def test_bad_y():
    model = BasisFunctionRidgeRegressionGD(TanhBasis(np.zeros((2, 3))))
    X = np.zeros(5)
    with pytest.raises(ValueError, match=r"length 4.*N=5"):
        model.fit(X, np.zeros(4))
    with pytest.raises(ValueError, match=r"y\.shape=\(5, 1\)"):
        model.loss(X, np.zeros((5, 1)))
    with pytest.raises(TypeError, match="dtype"):
        model.mse(X, np.array(["a"] * 5))
    with pytest.raises(ValueError, match="length 6.*N=5"):
        model.gradient_w(X, np.zeros(6))


def test_routes():
    basis = TanhBasis(np.zeros((2, 1)))
    with pytest.raises(ValueError, match="route"):
        BasisFunctionRidgeRegressionGD(basis, route="autograd")
    assert BasisFunctionRidgeRegressionGD(basis).route == "explicit"
    for route in ("backprop", "compiled"):
        assert BasisFunctionRidgeRegressionGD(basis, route=route).route == route


def test_fit_uses_gradients():
    calls = []

    class Counting(BasisFunctionRidgeRegressionGD):
        def gradients(self, X, y):
            calls.append(1)
            return super().gradients(X, y)

    Counting(TanhBasis(np.ones((2, 2))), num_iterations=7).fit(np.arange(4.0), np.ones(4))
    assert len(calls) == 7


@pytest.mark.parametrize("n", [0, 3])
def test_num_iterations_zero_or_more(n):
    model = BasisFunctionRidgeRegressionGD(TanhBasis(np.ones((2, 2))), num_iterations=n)
    assert model.fit(np.arange(4.0), np.ones(4)).w.shape == (2,)
    with pytest.raises(ValueError, match="num_iterations"):
        BasisFunctionRidgeRegressionGD(TanhBasis(np.ones((2, 2))), num_iterations=-1)
