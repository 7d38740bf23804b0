"""Newton's method for the output weights w, between gradient steps on the basis W.

For fixed W the chapter's loss is quadratic in w:

    L(w) = 1/2 mean_n (y_n - Phi_n w)^2 + 1/2 ridge |w|^2 + const,
    grad_w L = -Phi^T (y - Phi w) / N + ridge w,      H = Phi^T Phi / N + ridge I,

and H does not depend on w. So one Newton step w - H^{-1} grad_w L, from *any* w, lands on the
minimiser, the closed-form ridge solution for the current W:

    w* = (Phi^T Phi / N + ridge I)^{-1} Phi^T y / N.

`newton_step_w` takes the gradient and the Hessian from the tape, not from the formulas above:
`vjp(grad(L))` evaluates grad_w L once with its backward pass recorded, and each pullback of a
unit vector e_k through that recording is a row of H (K backward passes: `hessian` in
autograd_lite does the same, but this way the gradient comes with it). `ridge_solution` is the
formula, for checking. `fit_newton_w` alternates one gradient-descent step on W (by the compiled
tape unless asked otherwise, the chapter's learning rate) with that Newton step for w. The
Newton step, K + 1 passes of the eager tape, is most of an iteration's cost (about 0.6 ms of
0.7 at the chapter's size).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from autograd_lite import grad, vjp

from .model import BasisFunctionRidgeRegressionGD, TanhBasis, ridge_loss

__all__ = ["NewtonFit", "fit_newton_w", "newton_step_w", "ridge_solution"]

#: `fit_newton_w` stops when one iteration changes the loss by less than this (relative).
CONVERGENCE_RTOL = 1e-10


def ridge_solution(Phi: np.ndarray, y: np.ndarray, ridge: float) -> np.ndarray:
    """The closed form w* = (Phi^T Phi / N + ridge I)^{-1} Phi^T y / N."""
    N, K = Phi.shape
    return np.linalg.solve(Phi.T @ Phi / N + ridge * np.eye(K), Phi.T @ y / N)


def newton_step_w(model: BasisFunctionRidgeRegressionGD, X: ArrayLike,
                  y: ArrayLike) -> np.ndarray:
    """w - H^{-1} grad_w L at the model's current (W, w), gradient and Hessian from the tape.

    Phi = Phi(W) is held fixed; the loss is the chapter's `ridge_loss` as a function of w. Returns
    the new w; the model is not changed.
    """
    basis = model.basis_function
    Phi = basis.transform(X)
    y = model.targets(y, Phi.shape[0])
    w = np.zeros(Phi.shape[1]) if model.w is None else model.w

    def loss_in_w(w: Any) -> Any:
        return ridge_loss(Phi, y, w, basis.W, model.ridge, model.ridge_basis)

    g, pullback = vjp(grad(loss_in_w), w)
    H = np.stack([pullback(e)[0] for e in np.eye(w.size)])
    return w - np.linalg.solve(H, g)


@dataclass(frozen=True)
class NewtonFit:
    """Outcome of `fit_newton_w`: the model, iterations run, whether the loss settled."""

    model: BasisFunctionRidgeRegressionGD
    iterations: int
    converged: bool
    loss: float
    seconds: float
    target_reached_at: int | None = None  # first iteration with training MSE <= target_mse


def fit_newton_w(X: ArrayLike, y: ArrayLike, W0: ArrayLike, learning_rate: float, ridge: float,
                 ridge_basis: float, max_iterations: int, rtol: float = CONVERGENCE_RTOL,
                 callback: Callable[[int, BasisFunctionRidgeRegressionGD], None] | None = None,
                 callback_every: int = 1000, target_mse: float | None = None,
                 route: str = "compiled") -> NewtonFit:
    """From W0 and w = 0: repeat {W -= lr grad_W L (by `route`); w <- Newton step} until the
    loss changes by at most rtol (relative) over one iteration, or `max_iterations`. With
    `target_mse`, the first iteration whose training MSE is at most that is recorded."""
    model = BasisFunctionRidgeRegressionGD(TanhBasis(W0), learning_rate=learning_rate,
                                           ridge=ridge, ridge_basis=ridge_basis, route=route)
    X = model.basis_function.design(X)
    y = model.targets(y, X.shape[0])
    model.w = np.zeros(model.basis_function.W.shape[1])
    start = time.perf_counter()
    previous = model.loss(X, y)
    iteration, converged, reached = 0, False, None
    while iteration < max_iterations:
        iteration += 1
        gW, _ = model.gradients(X, y)
        model.basis_function.W -= learning_rate * gW
        model.w = newton_step_w(model, X, y)
        loss = model.loss(X, y)
        if reached is None and target_mse is not None and model.mse(X, y) <= target_mse:
            reached = iteration
        if callback is not None and iteration % callback_every == 0:
            callback(iteration, model)
        if abs(previous - loss) <= rtol * abs(loss):
            converged = True
            break
        previous = loss
    return NewtonFit(model, iteration, converged, model.loss(X, y), time.perf_counter() - start,
                     reached)
