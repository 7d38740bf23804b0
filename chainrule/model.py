"""The chapter's model: tanh basis functions and ridge regression trained by gradient descent.

`TanhBasis` and `BasisFunctionRidgeRegressionGD` keep the chapter's class and method names, and
their methods are the chapter's code: the explicit chain rule with the N x (D+1) x K Jacobian,
recomputing the forward pass in each helper as the text does (4 forward passes per `fit` step).
That is the baseline the benchmarks measure, so it is deliberately not "optimised".

The forward math is written once, in `tanh_basis` and `ridge_loss`, with operators, indexing,
`.sum()`/`.mean()` and a `tanh` that can be swapped (np.tanh, torch.tanh, ...). The explicit
route evaluates it on ndarrays; the two back-propagation routes (`route="backprop"`, the eager
`autograd_lite` tape, and `route="compiled"`, the same tape compiled to a numpy program) hand
the very same function, `ridge_regression_loss`, to autograd_lite. The route check, `pred`,
`loss`, `gradients` and `fit` are `descent.RidgeRegressionGD`'s, shared with the deep model.

Inputs are validated once, where they enter (`TanhBasis.design` for X, `targets` for y); a
validated array passed on is recognised, so the chapter's helpers calling each other do not
check again. NaN and inf are not rejected: they propagate as in numpy.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from autograd_lite.formatting import format_bytes

from .descent import RidgeRegressionGD, like, output_weights, real_array

#: Largest explicit Jacobian (N x (D+1) x K) that `TanhBasis` materialises by default: 2 GiB.
DEFAULT_MAX_JACOBIAN_BYTES: int = 2 * 1024**3


class JacobianTooLarge(MemoryError):
    """The explicit Jacobian would exceed the configured byte limit.

    `what` describes the refused Jacobian(s) (by default the chapter's (N, D+1, K) one) and
    `make` how to raise the limit; the message adds the bytes, the limit and the way out.
    """

    def __init__(self, N: int, D: int, K: int, nbytes: int, limit: int, what: str | None = None,
                 make: str = "TanhBasis(W, max_jacobian_bytes=...)") -> None:
        self.N, self.D, self.K, self.nbytes, self.limit = N, D, K, nbytes, limit
        what = what or (f"the explicit Jacobian for N={N} samples, D={D} input dimensions and "
                        f"K={K} basis functions has N*(D+1)*K = {N * (D + 1) * K:,} entries")
        super().__init__(
            f"{what}, {nbytes:,} bytes ({format_bytes(nbytes)}), above the limit "
            f"max_jacobian_bytes={limit:,} bytes ({format_bytes(limit)}). Use route='backprop' "
            f"or 'compiled', which never materialise a Jacobian, or raise the limit: {make}.")


def jacobian_nbytes(N: int, D: int, K: int, itemsize: int = 8) -> int:
    """Bytes of the explicit Jacobian: N * (D+1) * K * itemsize (exact int, nothing allocated)."""
    N, D, K, itemsize = (operator.index(v) for v in (N, D, K, itemsize))
    if min(N, D, K, itemsize) < 0:
        raise ValueError(f"N, D, K and itemsize must be >= 0; got {N=}, {D=}, {K=}, {itemsize=}")
    return N * (D + 1) * K * itemsize


# ---- the forward math, written once (ndarrays, Tensors, torch tensors, ...) --------------------
def tanh_basis(X: Any, W: Any, tanh: Callable[[Any], Any] = np.tanh) -> Any:
    """Design matrix Phi = tanh(X W[:-1] + W[-1]), shape (N, K); X is (N, D)."""
    return tanh(X @ W[:-1] + W[-1])


def ridge_loss(Phi: Any, y: Any, w: Any, W: Any, ridge: float, ridge_basis: float) -> Any:
    """L = 1/2 mean_n (y_n - Phi_n w)^2 + 1/2 ridge |w|^2 + 1/2 ridge_basis |W|_F^2."""
    return (0.5 * ((y - Phi @ w) ** 2).mean() + 0.5 * ridge * (w**2).sum()
            + 0.5 * ridge_basis * (W**2).sum())


def ridge_regression_loss(W: Any, w: Any, X: Any, y: Any, ridge: float,
                          ridge_basis: float) -> Any:
    """The loss as a function of the parameters: what the back-propagation routes differentiate."""
    return ridge_loss(tanh_basis(X, W), y, w, W, ridge, ridge_basis)


def layer_jacobian(X: np.ndarray, S: np.ndarray) -> np.ndarray:
    """The chapter's Jacobian of one tanh layer: J[n, d, k] = dPhi[n, k]/dW[d, k] = x~[n, d] S[n, k]
    with x~ = [X, 1] (N, D+1) and S = 1 - tanh(Z)^2 (N, K), by broadcasting; shape (N, D+1, K).

    The non-zero part of dPhi/dW (dPhi[n, k]/dW[d, j] = 0 for j != k). C-ordered, so that a
    contraction over its first axes reads it without a copy. float64 whatever X and S are (x~
    appends float64 ones): what the memory guards count.
    """
    x_tilde = np.hstack((X, np.ones((X.shape[0], 1))))  # dZ/dW, shape (N, D+1)
    return np.multiply(x_tilde[:, :, np.newaxis], S[:, np.newaxis, :], order="C")


# ---- validation, at the entry points --------------------------------------------------------
def _validated_W(W: ArrayLike) -> np.ndarray:
    """A private copy of W (D+1, K), D >= 1, K >= 1."""
    arr = real_array(W, "W")
    if arr.ndim != 2:
        raise ValueError(f"W must be 2-D with shape (D+1, K); got W.shape={arr.shape}")
    if arr.shape[0] < 2 or arr.shape[1] < 1:
        raise ValueError("W must have at least 2 rows (D >= 1 slope rows plus the bias row) and "
                         f"at least one column (K >= 1); got W.shape={arr.shape}")
    return arr.copy()


class TanhBasis:
    """K tanh basis functions phi_k(x) = tanh(sum_d x_d W[d, k] + W[D, k]).

    `W` (D+1, K) is copied (float64, or float32 if given float32). The explicit Jacobian is
    refused with `JacobianTooLarge` when it would exceed `max_jacobian_bytes`.
    """

    def __init__(self, W: ArrayLike, max_jacobian_bytes: int = DEFAULT_MAX_JACOBIAN_BYTES) -> None:
        self.W = _validated_W(W)
        if isinstance(max_jacobian_bytes, bool) or not isinstance(max_jacobian_bytes,
                                                                  int | np.integer):
            raise TypeError(f"max_jacobian_bytes must be an integer number of bytes, got "
                            f"{max_jacobian_bytes!r}")
        if max_jacobian_bytes < 0:
            raise ValueError(f"max_jacobian_bytes must be >= 0, got {max_jacobian_bytes}")
        self.max_jacobian_bytes = int(max_jacobian_bytes)
        self._checked: tuple[Any, Any] = (None, None)  # (X, W) of the last check

    def design(self, X: ArrayLike) -> np.ndarray:
        """X as the 2-D (N, D) float array the math uses (1-D X is one column), checked against
        W's D; the array returned is recognised when it comes back (with the same W), and not
        checked again."""
        checked_X, checked_W = self._checked
        if X is checked_X and self.W is checked_W:
            return X
        X = real_array(X, "X")
        if X.ndim == 1:
            X = X[:, np.newaxis]
        if X.ndim != 2 or X.shape[1] != self.W.shape[0] - 1:
            raise ValueError(f"X must be (N,) or (N, D) with D = W.shape[0] - 1 = "
                             f"{self.W.shape[0] - 1}; got X.shape={X.shape} "
                             f"(W.shape={self.W.shape})")
        self._checked = (X, self.W)
        return X

    def _guard(self, N: int) -> None:
        """JacobianTooLarge if the (N, D+1, K) Jacobian exceeds the limit; it is float64 whatever
        X and W are (x~ appends float64 ones)."""
        D, K = self.W.shape[0] - 1, self.W.shape[1]
        nbytes = jacobian_nbytes(N, D, K)
        if nbytes > self.max_jacobian_bytes:
            raise JacobianTooLarge(N, D, K, nbytes, self.max_jacobian_bytes)

    def Z(self, X: ArrayLike) -> np.ndarray:
        """Z = X W[:-1] + W[-1], shape (N, K)."""
        return self.design(X) @ self.W[:-1] + self.W[-1]

    def transform(self, X: ArrayLike) -> np.ndarray:
        """Phi = tanh(Z), shape (N, K)."""
        return tanh_basis(self.design(X), self.W)

    def jacobian(self, X: ArrayLike) -> np.ndarray:
        """J[n, d, k] = dPhi[n, k]/dW[d, k] = x~[n, d] (1 - tanh(Z[n, k])^2), x~ = [x, 1].

        The non-zero part of dPhi/dW (dPhi[n, k]/dW[d, j] = 0 for j != k), shape (N, D+1, K),
        built by broadcasting x~ (N, D+1) against 1 - tanh(Z)^2 (N, K). Refused with
        `JacobianTooLarge` before anything is allocated if it exceeds `max_jacobian_bytes`.
        """
        X = self.design(X)
        self._guard(X.shape[0])
        return layer_jacobian(X, 1 - self.transform(X) ** 2)  # dPhi/dZ = 1 - tanh(Z)^2

    def numerical_jacobian(self, X: ArrayLike, eps: float = 1e-6) -> np.ndarray:
        """J[n, d, k] ~ (Phi[n, k](W + eps e_dk) - Phi[n, k](W - eps e_dk)) / (2 eps).

        Perturbs `self.W` in place, one entry at a time, and restores it (also on error), so W
        is bit-identical afterwards. The memory guard applies as for `jacobian`.
        """
        if not eps > 0:
            raise ValueError(f"eps must be > 0, got {eps!r}")
        X = self.design(X)
        W = self.W
        N, (D_plus_1, K) = X.shape[0], W.shape
        self._guard(N)
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


class BasisFunctionRidgeRegressionGD(RidgeRegressionGD):
    """Ridge regression y ~ Phi(W) w, trained by gradient descent on w and on the basis W.

    L(w, W) = 1/2 mean_n (y_n - Phi_n w)^2 + 1/2 ridge |w|^2 + 1/2 ridge_basis |W|_F^2.
    `w` is None until `fit` or the first prediction (then zeros(K)). `route` chooses how
    `gradients` (and so `fit`) computes the gradients: "explicit" (the chapter's Jacobian),
    "backprop" (the eager tape) or "compiled" (the tape compiled once to a program: numpy
    source, or with `backend="jax"` jax.numpy, jitted by XLA). `pred`, `loss`, `gradients`,
    `loss_and_gradients` and `fit` come from `RidgeRegressionGD`.
    """

    def __init__(self, basis_function: TanhBasis, learning_rate: float = 0.01,
                 num_iterations: int = 1000, ridge: float = 0.1, ridge_basis: float = 0.1,
                 route: str = "explicit", backend: str = "numpy") -> None:
        # the tape differentiates ridge_regression_loss(W, w, X, y, ridge, ridge_basis) in W, w
        super().__init__(learning_rate, num_iterations, ridge, ridge_basis, route,
                         ridge_regression_loss, (0, 1), data=(2, 3), backend=backend)
        self.basis_function = basis_function
        self._checked_y: np.ndarray | None = None

    # -- validation ------------------------------------------------------------------------------
    def targets(self, y: ArrayLike, N: int) -> np.ndarray:
        """y as a 1-D float array of length N; recognised when it comes back, like X."""
        if y is self._checked_y and len(y) == N:
            return y
        y = real_array(y, "y")
        if y.ndim != 1:
            raise ValueError(f"y must be 1-D of length N={N}; got y.shape={y.shape}")
        if y.shape[0] != N:
            raise ValueError(f"y has length {y.shape[0]} but X has N={N} rows; they must be equal")
        if N == 0:
            raise ValueError("X and y are empty (N=0); the mean squared error needs N >= 1")
        self._checked_y = y
        return y

    def _data(self, X: ArrayLike, y: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        basis = self.basis_function
        checked_X, checked_W = basis._checked
        if (X is checked_X and basis.W is checked_W and y is self._checked_y
                and len(y) == len(X)):  # checked already, and checked against each other
            return X, y
        X = basis.design(X)
        return X, self.targets(y, X.shape[0])

    # -- the chapter's methods -------------------------------------------------------------------
    def mse(self, X: ArrayLike, y: ArrayLike) -> float:
        """MSE = mean_n (y_n - Phi_n w)^2."""
        X, y = self._data(X, y)
        residuals = y - self.pred(X)
        return float(np.mean(residuals * residuals))

    def d_loss_d_Phi(self, Phi: ArrayLike, y: ArrayLike) -> np.ndarray:
        """grad_Phi L = -(1/N) r w^T with r = y - Phi w, shape (N, K)."""
        Phi = real_array(Phi, "Phi")
        if Phi.ndim != 2:
            raise ValueError(f"Phi must be 2-D (N, K); got Phi.shape={Phi.shape}")
        N = Phi.shape[0]
        y = self.targets(y, N)
        self.w = output_weights(self.w, Phi.shape[1])
        residuals = y - Phi @ self.w
        return -residuals[:, np.newaxis] * self.w[np.newaxis, :] / N

    def gradient_w(self, X: ArrayLike, y: ArrayLike) -> np.ndarray:
        """grad_w L = -(1/N) Phi^T (y - Phi w) + ridge w (Phi computed twice, as in the chapter),
        in w's dtype."""
        X, y = self._data(X, y)
        grad_w = -(self.basis_function.transform(X).T @ (y - self.pred(X))) / len(y) \
            + self.ridge * self.w
        return like(grad_w, self.w)

    def gradient_basis_function(self, X: ArrayLike, y: ArrayLike) -> np.ndarray:
        """grad_Phi L = -(1/N) w (y - Phi w)^T arranged as (N, K): [n, k] = -w_k r_n / N."""
        X, y = self._data(X, y)
        residuals = y - self.pred(X)
        return -self.w[np.newaxis, :] * residuals[:, np.newaxis] / len(y)

    def gradient_basis_function_W(self, X: ArrayLike, y: ArrayLike) -> np.ndarray:
        """grad_W L[d, k] = sum_n grad_Phi L[n, k] J[n, d, k] + ridge_basis W[d, k], (D+1, K), in
        W's dtype.

        Materialises the (N, D+1, K) Jacobian and a product of the same size (peak memory about
        twice `jacobian_nbytes`); refused before any work beyond the basis' limit.
        """
        X, y = self._data(X, y)
        jacobian_Phi = self.basis_function.jacobian(X)  # (N, D+1, K); first: it guards memory
        grad_Phi = self.gradient_basis_function(X, y)  # (N, K)
        gW = (grad_Phi[:, np.newaxis, :] * jacobian_Phi).sum(0)  # the chain rule, (D+1, K)
        gW += self.ridge_basis * self.basis_function.W
        return like(gW, self.basis_function.W)

    def numerical_grad_W(self, X: ArrayLike, y: ArrayLike, eps: float = 1e-7) -> np.ndarray:
        """grad_W L[d, k] ~ (L(W + eps e_dk) - L(W - eps e_dk)) / (2 eps), shape (D+1, K).

        Perturbs `basis_function.W` in place, one entry at a time, and restores it (also on
        error), so W is bit-identical afterwards.
        """
        if not eps > 0:
            raise ValueError(f"eps must be > 0, got {eps!r}")
        X, y = self._data(X, y)
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

    # -- the hooks of RidgeRegressionGD ----------------------------------------------------------
    def _matrices(self) -> list[np.ndarray]:
        return [self.basis_function.W]

    def _features(self, X: ArrayLike) -> np.ndarray:
        return self.basis_function.transform(X)

    def _loss(self, X: np.ndarray, y: np.ndarray) -> Any:
        """The chapter's `loss`: computes transform(X) once, then the three terms."""
        Phi = self.basis_function.transform(X)
        return ridge_loss(Phi, y, self._weights(), self.basis_function.W, self.ridge,
                          self.ridge_basis)

    def _explicit(self, X: np.ndarray, y: np.ndarray, with_loss: bool
                  ) -> tuple[float | None, list[np.ndarray], np.ndarray]:
        """The chapter's helpers: `loss` (if asked), `gradient_basis_function_W`, `gradient_w`
        (five forward passes with the loss, four without)."""
        loss = self.loss(X, y) if with_loss else None
        return loss, [self.gradient_basis_function_W(X, y)], self.gradient_w(X, y)

    def _tape_arguments(self, X: np.ndarray, y: np.ndarray) -> tuple[Any, ...]:
        return self.basis_function.W, self._weights(), X, y, self.ridge, self.ridge_basis

    def _from_tape(self, grads: Sequence[np.ndarray]) -> tuple[list[np.ndarray], np.ndarray]:
        grad_W, grad_w = grads
        return [grad_W], grad_w

    def _pack(self, grad_matrices: list[np.ndarray]) -> np.ndarray:
        (grad_W,) = grad_matrices
        return grad_W

    def _unpack(self, packed: np.ndarray) -> list[np.ndarray]:
        return [packed]
