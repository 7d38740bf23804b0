"""The chapter's explicit-Jacobian model: tanh basis functions + ridge regression trained by GD.

This module reproduces, to rounding, the classes of the chapter "The chain rule" (section "Chain
Rule for Basis Function Regression"):

* ``TanhBasis``: phi_k(x) = tanh(a_k . x + b_k), parameters W of shape (D+1, K) (rows 0..D-1 the
  slopes a_dk, row D the biases b_k), with the explicit Jacobian dPhi/dW held as an (N, D+1, K)
  tensor.
* ``BasisFunctionRidgeRegressionGD``: ridge regression on Phi(W), trained by gradient descent on
  both w and W, where the gradient w.r.t. W is obtained by the chain rule
  grad_W L = sum_n (grad_Phi L)[n, :] * J[n, :, :] + ridge_basis * W.

It is deliberately the *baseline*: the helpers recompute the forward pass exactly as the chapter
does (4 forward passes per ``fit`` iteration) and the full Jacobian is materialised. Benchmarks
measure this cost against back-propagation, so do not "optimise" it.

The forward math is written once, in the module-level functions ``basis_Z``, ``tanh_basis`` and
``ridge_loss``. They use only operators, indexing, ``.sum()``/``.mean()`` and ``np.tanh``, so an
autograd tensor can flow through them in place of W and w (``engine="backprop"``).
Input validation happens in the methods, on the numpy side, before that math runs.

NaN / inf in X, y or W are not rejected: they propagate with ordinary numpy semantics (a NaN in one
sample makes the loss and every gradient entry that sums over samples NaN).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from autograd_lite import Tensor

__all__ = [
    "DEFAULT_MAX_JACOBIAN_BYTES",
    "ENGINES",
    "BasisFunctionRidgeRegressionGD",
    "JacobianTooLarge",
    "TanhBasis",
    "basis_Z",
    "jacobian_nbytes",
    "ridge_loss",
    "tanh_basis",
]

FloatArray = NDArray[np.floating]

#: Largest explicit Jacobian (N x (D+1) x K) that ``TanhBasis`` materialises by default: 2 GiB.
DEFAULT_MAX_JACOBIAN_BYTES: int = 2 * 1024**3

#: The gradient routes of ``BasisFunctionRidgeRegressionGD``.
ENGINES: tuple[str, ...] = ("explicit", "backprop")

_GIB = float(1024**3)


class JacobianTooLarge(MemoryError):
    """The explicit (N, D+1, K) Jacobian would exceed the configured byte limit.

    Attributes ``N``, ``D``, ``K``, ``nbytes`` and ``limit`` describe the refused request.
    """

    def __init__(self, N: int, D: int, K: int, nbytes: int, limit: int) -> None:
        self.N, self.D, self.K, self.nbytes, self.limit = N, D, K, nbytes, limit
        super().__init__(
            f"the explicit Jacobian for N={N} samples, D={D} input dimensions and K={K} basis "
            f"functions has N*(D+1)*K = {N * (D + 1) * K:,} entries, i.e. {nbytes:,} bytes "
            f"({nbytes / _GIB:.3g} GiB), above the limit max_jacobian_bytes={limit:,} bytes "
            f"({limit / _GIB:.3g} GiB). Use BasisFunctionRidgeRegressionGD(..., "
            f'engine="backprop"), which never materialises the Jacobian, or raise the limit with '
            f"TanhBasis(W, max_jacobian_bytes=...) / basis.max_jacobian_bytes = ..."
        )


def jacobian_nbytes(N: int, D: int, K: int, itemsize: int = 8) -> int:
    """Bytes of the explicit Jacobian: N * (D+1) * K * itemsize (exact int, nothing allocated)."""
    N, D, K, itemsize = (operator.index(v) for v in (N, D, K, itemsize))  # integers only
    if min(N, D, K, itemsize) < 0:
        raise ValueError(f"N, D, K and itemsize must be >= 0; got {N=}, {D=}, {K=}, {itemsize=}")
    return N * (D + 1) * K * itemsize


def _check_jacobian_size(N: int, D: int, K: int, itemsize: int, limit: int) -> None:
    """Raise ``JacobianTooLarge`` if jacobian_nbytes(N, D, K, itemsize) > limit."""
    nbytes = jacobian_nbytes(N, D, K, itemsize)
    if nbytes > limit:
        raise JacobianTooLarge(N, D, K, nbytes, limit)


# ----------------------------------------------------------------------------------------------
# The forward math, written once (numpy arrays or autograd tensors for W and w).
# ----------------------------------------------------------------------------------------------


def basis_Z(X: FloatArray, W: Any) -> Any:
    """Pre-activations Z = X W[:-1] + W[-1], shape (N, K); X must already be a 2-D (N, D) array."""
    return X @ W[:-1] + W[-1]


def tanh_basis(X: FloatArray, W: Any) -> Any:
    """Design matrix Phi = tanh(X W[:-1] + W[-1]), shape (N, K); X already 2-D (N, D)."""
    return np.tanh(basis_Z(X, W))


def ridge_loss(Phi: Any, y: FloatArray, w: Any, W: Any, ridge: float, ridge_basis: float) -> Any:
    """L = 1/2 mean_n (y_n - Phi_n w)^2 + 1/2 ridge |w|^2 + 1/2 ridge_basis |W|_F^2."""
    return (
        0.5 * ((y - Phi @ w) ** 2).mean()
        + 0.5 * ridge * (w**2).sum()
        + 0.5 * ridge_basis * (W**2).sum()
    )


# ----------------------------------------------------------------------------------------------
# Validation helpers (numpy side, before the math).
# ----------------------------------------------------------------------------------------------


def _as_float_array(a: ArrayLike, name: str) -> FloatArray:
    """``a`` as a real float array: float32 is kept, every other real/integer/bool -> float64."""
    if type(a) is np.ndarray and (a.dtype == np.float64 or a.dtype == np.float32):
        return a  # fast path: already valid (this runs several times per fit iteration)
    arr = np.asarray(a)
    if arr.dtype.kind not in "biuf":
        raise TypeError(
            f"{name} must hold real numbers (bool, integer or float); got dtype {str(arr.dtype)!r} "
            f"with shape {arr.shape}"
        )
    if arr.dtype != np.float32:
        arr = arr.astype(np.float64, copy=False)
    return arr


def _shape_of(W: Any) -> tuple[int, ...]:
    shape = W.shape
    return shape if type(shape) is tuple else tuple(int(s) for s in shape)


def _as_design_matrix(X: ArrayLike, W: Any) -> FloatArray:
    """X as a 2-D (N, D) float array matching W of shape (D+1, K); a 1-D X (N,) becomes (N, 1)."""
    X = _as_float_array(X, "X")
    W_shape = _shape_of(W)
    if X.ndim == 1:
        X = X[:, np.newaxis]
    elif X.ndim != 2:
        raise ValueError(
            f"X must be 1-D (N,) or 2-D (N, D); got X.shape={X.shape} (W.shape={W_shape})"
        )
    if X.shape[1] != W_shape[0] - 1:
        raise ValueError(
            f"X has D={X.shape[1]} input columns (X.shape={X.shape}) but W.shape={W_shape} "
            f"expects D = W.shape[0] - 1 = {W_shape[0] - 1} (rows 0..D-1 slopes, row D bias)"
        )
    return X


def _check_targets(y: ArrayLike, N: int) -> FloatArray:
    """y as a 1-D float array of length N (the number of rows of X)."""
    y = _as_float_array(y, "y")
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D of length N={N}; got y.shape={y.shape}")
    if y.shape[0] != N:
        raise ValueError(f"y has length {y.shape[0]} but X has N={N} rows; they must be equal")
    if N == 0:
        raise ValueError("X and y are empty (N=0); the mean squared error needs N >= 1")
    return y


def _validated_W(W: ArrayLike) -> FloatArray:
    """A private copy of W (D+1, K) as float64 (float32 kept), D >= 1, K >= 1."""
    arr = np.asarray(W)
    if arr.dtype.kind not in "biuf":
        raise TypeError(
            f"W must hold real numbers (bool, integer or float); got dtype {str(arr.dtype)!r} "
            f"with shape {arr.shape}"
        )
    if arr.ndim != 2:
        raise ValueError(f"W must be 2-D with shape (D+1, K); got W.shape={arr.shape}")
    if arr.shape[0] < 2:
        raise ValueError(
            f"W must have at least 2 rows (D >= 1 slope rows plus the bias row); "
            f"got W.shape={arr.shape}"
        )
    if arr.shape[1] < 1:
        raise ValueError(f"W must have at least one column (K >= 1); got W.shape={arr.shape}")
    dtype = np.float32 if arr.dtype == np.float32 else np.float64
    return np.array(arr, dtype=dtype, copy=True)


# ----------------------------------------------------------------------------------------------
# The chapter's classes.
# ----------------------------------------------------------------------------------------------


class TanhBasis:
    """K tanh basis functions phi_k(x) = tanh(sum_d x_d W[d, k] + W[D, k]).

    ``W`` (D+1, K) is copied on construction (float64, or float32 if given float32). The explicit
    Jacobian is refused with ``JacobianTooLarge`` when it would exceed ``max_jacobian_bytes``.
    (With a float32 W the finite-difference steps are rounded to float32: check in float64.)
    """

    def __init__(self, W: ArrayLike, max_jacobian_bytes: int = DEFAULT_MAX_JACOBIAN_BYTES) -> None:
        self.W: FloatArray = _validated_W(W)
        self.max_jacobian_bytes = max_jacobian_bytes

    @property
    def max_jacobian_bytes(self) -> int:
        """Largest Jacobian (in bytes) that ``jacobian``/``numerical_jacobian`` will build."""
        return self._max_jacobian_bytes

    @max_jacobian_bytes.setter
    def max_jacobian_bytes(self, value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"max_jacobian_bytes must be an integer number of bytes, got {value!r}")
        if value < 0:
            raise ValueError(f"max_jacobian_bytes must be >= 0, got {value}")
        self._max_jacobian_bytes = int(value)

    def _guard(self, X: FloatArray) -> None:
        N, D = X.shape
        itemsize = np.result_type(X.dtype, self.W.dtype, np.float64).itemsize
        _check_jacobian_size(N, D, self.W.shape[1], itemsize, self.max_jacobian_bytes)

    def Z(self, X: ArrayLike, W: Any = None) -> Any:
        """Z = X W[:-1] + W[-1], shape (N, K); W defaults to ``self.W``; 1-D X is one column."""
        W = self.W if W is None else W
        return basis_Z(_as_design_matrix(X, W), W)

    def transform(self, X: ArrayLike, W: Any = None) -> Any:
        """Phi = tanh(Z), shape (N, K); W defaults to ``self.W``; 1-D X is one column."""
        W = self.W if W is None else W
        return tanh_basis(_as_design_matrix(X, W), W)

    def jacobian(self, X: ArrayLike) -> FloatArray:
        """J[n, d, k] = dPhi[n, k]/dW[d, k] = x~[n, d] (1 - tanh(Z[n, k])^2), x~ = [x, 1].

        Shape (N, D+1, K): the non-zero part of dPhi/dW (dPhi[n, k]/dW[d, j] = 0 for j != k),
        built by broadcasting x~ (N, D+1) against 1 - tanh(Z)^2 (N, K). Raises
        ``JacobianTooLarge`` before allocating if it would exceed ``max_jacobian_bytes``.
        """
        X = _as_design_matrix(X, self.W)
        self._guard(X)
        dZ_dW = np.hstack((X, np.ones((X.shape[0], 1))))  # x~, shape (N, D+1)
        dPhi_dZ = 1 - self.transform(X) ** 2  # shape (N, K)
        return dZ_dW[:, :, np.newaxis] * dPhi_dZ[:, np.newaxis, :]  # shape (N, D+1, K)

    def numerical_jacobian(self, X: ArrayLike, eps: float = 1e-6) -> FloatArray:
        """J[n, d, k] ~ (Phi[n, k](W + eps e_dk) - Phi[n, k](W - eps e_dk)) / (2 eps).

        Perturbs ``self.W`` in place, one entry at a time, and restores it (also on error) by
        assigning the saved value, so W is bit-identical afterwards. Shape (N, D+1, K).
        """
        if not eps > 0:
            raise ValueError(f"eps must be > 0, got {eps!r}")
        X = _as_design_matrix(X, self.W)
        self._guard(X)
        W = self.W
        N = X.shape[0]
        D_plus_1, K = W.shape
        num_J = np.zeros((N, D_plus_1, K))
        for d in range(D_plus_1):
            for k in range(K):
                original = W[d, k]
                try:
                    W[d, k] = original + eps
                    phi_plus = self.transform(X)
                    W[d, k] = original - eps
                    phi_minus = self.transform(X)
                finally:
                    W[d, k] = original
                num_J[:, d, k] = (phi_plus[:, k] - phi_minus[:, k]) / (2 * eps)
        return num_J


class BasisFunctionRidgeRegressionGD:
    """Ridge regression y ~ Phi(W) w, trained by gradient descent on w and on the basis W.

    Loss L(w, W) = 1/2 mean_n (y_n - Phi_n w)^2 + 1/2 ridge |w|^2 + 1/2 ridge_basis |W|_F^2.
    ``w`` is None until ``fit`` or the first prediction (then zeros(K)). ``engine="explicit"``
    uses the chapter's explicit Jacobian; ``engine="backprop"`` differentiates the same
    forward code with the ``autograd_lite`` tape (one forward and one backward pass).
    """

    def __init__(
        self,
        basis_function: TanhBasis,
        learning_rate: float = 0.01,
        num_iterations: int = 1000,
        ridge: float = 0.1,
        ridge_basis: float = 0.1,
        engine: str = "explicit",
    ) -> None:
        if engine not in ENGINES:
            raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
        if isinstance(num_iterations, bool) or not isinstance(num_iterations, (int, np.integer)):
            raise TypeError(f"num_iterations must be an integer, got {num_iterations!r}")
        if num_iterations < 0:
            raise ValueError(f"num_iterations must be >= 0, got {num_iterations}")
        self.basis_function = basis_function
        self.learning_rate = learning_rate
        self.num_iterations = int(num_iterations)
        self.ridge = ridge
        self.ridge_basis = ridge_basis
        self.engine = engine
        self.w: FloatArray | None = None

    # -- helpers ---------------------------------------------------------------------------------

    def _inputs(self, X: ArrayLike, y: ArrayLike) -> tuple[FloatArray, FloatArray]:
        X = _as_design_matrix(X, self.basis_function.W)
        return X, _check_targets(y, X.shape[0])

    def _ensure_w(self, K: int) -> FloatArray:
        """``self.w``, set to zeros(K) first if it is None (as the chapter does)."""
        if self.w is None:
            self.w = np.zeros(K)
        elif np.shape(self.w) != (K,):
            raise ValueError(
                f"w has shape {np.shape(self.w)} but the basis has K={K} functions "
                f"(W.shape={_shape_of(self.basis_function.W)})"
            )
        return self.w

    # -- the chapter's methods -------------------------------------------------------------------

    def pred(self, X: ArrayLike) -> FloatArray:
        """y_hat = Phi(W) w, shape (N,); sets w = zeros(K) if w is None."""
        Phi = self.basis_function.transform(X)
        w = self._ensure_w(Phi.shape[1])
        return Phi @ w

    def mse(self, X: ArrayLike, y: ArrayLike) -> float:
        """MSE = mean_n (y_n - Phi_n w)^2."""
        X, y = self._inputs(X, y)
        residuals = y - self.pred(X)
        return float(np.mean(residuals * residuals))

    def d_loss_d_Phi(self, Phi: ArrayLike, y: ArrayLike) -> FloatArray:
        """grad_Phi L = -(1/N) r w^T with r = y - Phi w, shape (N, K)."""
        Phi = _as_float_array(Phi, "Phi")
        if Phi.ndim != 2:
            raise ValueError(f"Phi must be 2-D (N, K); got Phi.shape={Phi.shape}")
        N = Phi.shape[0]
        y = _check_targets(y, N)
        w = self._ensure_w(Phi.shape[1])
        residuals = y - Phi @ w
        return -residuals[:, np.newaxis] * w[np.newaxis, :] / N

    def loss(self, X: ArrayLike, y: ArrayLike) -> float:
        """L = 1/2 mean_n (y_n - Phi_n w)^2 + 1/2 ridge |w|^2 + 1/2 ridge_basis |W|_F^2."""
        X, y = self._inputs(X, y)
        Phi = self.basis_function.transform(X)  # the forward pass, computed once here
        w = self._ensure_w(Phi.shape[1])
        return float(ridge_loss(Phi, y, w, self.basis_function.W, self.ridge, self.ridge_basis))

    def gradient_w(self, X: ArrayLike, y: ArrayLike) -> FloatArray:
        """grad_w L = -(1/N) Phi^T (y - Phi w) + ridge w, shape (K,).

        As in the chapter, Phi is computed twice: once directly and once inside ``pred``.
        """
        X, y = self._inputs(X, y)
        Phi = self.basis_function.transform(X)
        residuals = y - self.pred(X)
        return -(Phi.T @ residuals) / len(y) + self.ridge * self.w

    def gradient_basis_function(self, X: ArrayLike, y: ArrayLike) -> FloatArray:
        """grad_Phi L = -(1/N) w (y - Phi w)^T arranged as (N, K): [n, k] = -w_k r_n / N."""
        X, y = self._inputs(X, y)
        residuals = y - self.pred(X)
        return -self.w[np.newaxis, :] * residuals[:, np.newaxis] / len(y)

    def gradient_basis_function_W(self, X: ArrayLike, y: ArrayLike) -> FloatArray:
        """grad_W L[d, k] = sum_n grad_Phi L[n, k] J[n, d, k] + ridge_basis W[d, k], (D+1, K).

        Materialises the full (N, D+1, K) Jacobian and the product of the same size (peak memory
        about twice ``jacobian_nbytes``); refused with ``JacobianTooLarge`` before any work if
        the Jacobian exceeds the basis' ``max_jacobian_bytes``.
        """
        X, y = self._inputs(X, y)
        basis = self.basis_function
        limit = getattr(basis, "max_jacobian_bytes", DEFAULT_MAX_JACOBIAN_BYTES)
        itemsize = np.result_type(X.dtype, basis.W.dtype, np.float64).itemsize
        _check_jacobian_size(X.shape[0], X.shape[1], basis.W.shape[1], itemsize, limit)
        grad_Phi = self.gradient_basis_function(X, y)  # (N, K): one forward pass
        jacobian_Phi = basis.jacobian(X)  # (N, D+1, K): one more forward pass
        gW = (grad_Phi[:, np.newaxis, :] * jacobian_Phi).sum(0)  # chain rule, (D+1, K)
        gW += self.ridge_basis * basis.W
        return gW

    def gradients(self, X: ArrayLike, y: ArrayLike) -> tuple[FloatArray, FloatArray]:
        """(grad_W L, grad_w L) at the current (W, w), by the route chosen with ``engine``."""
        if self.engine == "backprop":
            return self._backprop_loss_and_gradients(X, y)[1:]
        return self.gradient_basis_function_W(X, y), self.gradient_w(X, y)

    def loss_and_gradients(
        self, X: ArrayLike, y: ArrayLike
    ) -> tuple[float, FloatArray, FloatArray]:
        """(L, grad_W L, grad_w L) at the current (W, w).

        ``engine="explicit"``: ``loss`` then ``gradients``, the chapter's way (five forward
        passes); ``engine="backprop"``: the loss is read off the same recorded forward pass.
        """
        if self.engine == "backprop":
            return self._backprop_loss_and_gradients(X, y)
        loss = self.loss(X, y)
        return (loss, *self.gradients(X, y))

    def _backprop_loss_and_gradients(
        self, X: ArrayLike, y: ArrayLike
    ) -> tuple[float, FloatArray, FloatArray]:
        """The loss and both gradients from one recorded forward pass and one backward pass.

        The tape differentiates the very ``transform``/``ridge_loss`` code above: W and w enter
        as leaf Tensors and the chain rule runs in reverse over what the forward pass cached.
        """
        X, y = self._inputs(X, y)
        basis = self.basis_function
        W = Tensor(basis.W, requires_grad=True)
        w = Tensor(self._ensure_w(basis.W.shape[1]), requires_grad=True)
        loss = ridge_loss(basis.transform(X, W), y, w, W, self.ridge, self.ridge_basis)
        loss.backward()
        return loss.item(), W.grad, w.grad

    def fit(
        self,
        X: ArrayLike,
        y: ArrayLike,
        callback: Callable[[int, BasisFunctionRidgeRegressionGD], None] | None = None,
        callback_every: int = 10_000,
    ) -> BasisFunctionRidgeRegressionGD:
        """Gradient descent from w = 0: W -= lr grad_W L, w -= lr grad_w L, num_iterations times.

        Both gradients are taken at the same (W, w) before either update; W is updated in place.
        ``callback(iteration, self)``, if given, runs after every ``callback_every`` iterations
        (progress reports); it does not change the trajectory.
        """
        X, y = self._inputs(X, y)
        self.w = np.zeros(self.basis_function.W.shape[1])
        for iteration in range(1, self.num_iterations + 1):
            gW, gw = self.gradients(X, y)
            self.basis_function.W -= self.learning_rate * gW
            self.w -= self.learning_rate * gw
            if callback is not None and iteration % callback_every == 0:
                callback(iteration, self)
        return self

    def numerical_grad_W(self, X: ArrayLike, y: ArrayLike, eps: float = 1e-7) -> FloatArray:
        """grad_W L[d, k] ~ (L(W + eps e_dk) - L(W - eps e_dk)) / (2 eps), shape (D+1, K).

        Perturbs ``basis_function.W`` in place, one entry at a time, and restores it (also on
        error) by assigning the saved value, so W is bit-identical afterwards.
        """
        if not eps > 0:
            raise ValueError(f"eps must be > 0, got {eps!r}")
        X, y = self._inputs(X, y)
        W = self.basis_function.W
        num_grad = np.zeros(W.shape)
        for idx in np.ndindex(W.shape):
            original = W[idx]
            try:
                W[idx] = original + eps
                loss_plus = self.loss(X, y)
                W[idx] = original - eps
                loss_minus = self.loss(X, y)
            finally:
                W[idx] = original
            num_grad[idx] = (loss_plus - loss_minus) / (2 * eps)
        return num_grad
