"""Newton's method for the output weights w, between gradient steps on the basis W.

For fixed W the chapter's loss is quadratic in w:

    L(w) = 1/2 mean_n (y_n - Phi_n w)^2 + 1/2 ridge |w|^2 + const,
    grad_w L = -Phi^T (y - Phi w) / N + ridge w,      H = Phi^T Phi / N + ridge I,

and H does not depend on w. So one Newton step w - H^{-1} grad_w L, from *any* w, lands on the
minimiser, the closed-form ridge solution for the current W:

    w* = (Phi^T Phi / N + ridge I)^{-1} Phi^T y / N.

`newton_step_w` takes the gradient and the Hessian from the tape (`autograd_lite.grad` and
`autograd_lite.hessian`, i.e. the tape differentiated twice), not from the formula above;
`ridge_solution` is the formula, for checking. `fit_newton_w` alternates one gradient-descent
step on W (back-propagation, the chapter's learning rate) with that Newton step for w, until
the loss changes by less than `rtol` (relative) from one iteration to the next.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TextIO

import numpy as np
from numpy.typing import ArrayLike

from autograd_lite import grad, vjp

from .experiment import (
    CHAPTER_ITERATIONS,
    CHAPTER_LEARNING_RATE,
    CHAPTER_RIDGE,
    CHAPTER_W0,
    FitResult,
    ProgressLine,
    Split,
)
from .model import BasisFunctionRidgeRegressionGD, TanhBasis, ridge_loss

__all__ = ["NewtonFit", "fit_newton_w", "newton_step_w", "ridge_solution", "run_chapter"]

#: The chapter's reported MSEs after 1,000,000 plain gradient-descent steps.
CHAPTER_TRAIN_MSE, CHAPTER_TEST_MSE = 20.0247, 20.5147
#: `fit_newton_w` stops when one iteration changes the loss by less than this (relative).
CONVERGENCE_RTOL = 1e-10


def ridge_solution(Phi: np.ndarray, y: np.ndarray, ridge: float) -> np.ndarray:
    """The closed form w* = (Phi^T Phi / N + ridge I)^{-1} Phi^T y / N."""
    N, K = Phi.shape
    return np.linalg.solve(Phi.T @ Phi / N + ridge * np.eye(K), Phi.T @ y / N)


def newton_step_w(model: BasisFunctionRidgeRegressionGD, X: ArrayLike,
                  y: ArrayLike) -> np.ndarray:
    """w - H^{-1} grad_w L at the model's current (W, w), gradient and Hessian from the tape.

    The loss is the chapter's `ridge_loss` with Phi = Phi(W) held fixed, differentiated in w
    (K x K Hessian: one recorded backward pass and K backward passes through it). Returns the
    new w; the model is not changed.
    """
    X, y = model._inputs(X, y)
    basis = model.basis_function
    Phi = basis.transform(X)
    w = model._ensure_w(Phi.shape[1])

    def loss_in_w(w: object) -> object:
        return ridge_loss(Phi, y, w, basis.W, model.ridge, model.ridge_basis)

    # vjp of the gradient function: its value is grad_w L, its pullback gives the rows of the
    # Hessian (what `hessian(loss_in_w)(w)` computes), from one recorded backward pass.
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


def fit_newton_w(
    X: ArrayLike,
    y: ArrayLike,
    W0: ArrayLike,
    learning_rate: float,
    ridge: float,
    ridge_basis: float,
    max_iterations: int,
    rtol: float = CONVERGENCE_RTOL,
    callback: Callable[[int, BasisFunctionRidgeRegressionGD], None] | None = None,
    callback_every: int = 1000,
    target_mse: float | None = None,
) -> NewtonFit:
    """From W0 and w = 0: repeat {W -= lr grad_W L (backprop); w <- Newton step} until converged.

    Converged: |L_before - L_after| <= rtol * |L_after| over one iteration (both steps), or
    stop after `max_iterations`. The gradient on W is taken at the current w, as in the
    chapter's fit; then w is re-solved exactly for the moved W. With `target_mse`, the first
    iteration whose training MSE is at most that is recorded (`target_reached_at`).
    """
    model = BasisFunctionRidgeRegressionGD(
        TanhBasis(W0), learning_rate=learning_rate, num_iterations=max_iterations,
        ridge=ridge, ridge_basis=ridge_basis, engine="backprop")
    X, y = model._inputs(X, y)
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
    return NewtonFit(model, iteration, converged, model.loss(X, y),
                     time.perf_counter() - start, reached)


def run_chapter(split: Split, iterations: int, gd_results: Sequence[FitResult] = (),
                rtol: float = CONVERGENCE_RTOL, stream: TextIO | None = None) -> NewtonFit:
    """`python -m chainrule --newton-w`: the chapter's setting with w fitted by Newton steps.

    Runs `fit_newton_w` from the chapter's W0 (learning rate and ridges as the chapter) for at
    most `iterations` iterations and prints its MSEs and iteration count beside plain gradient
    descent's: the runs in `gd_results` if any, else the chapter's reported numbers.
    """
    stream = sys.stdout if stream is None else stream
    reference = gd_results[-1] if gd_results else None
    target = reference.train_mse if reference else CHAPTER_TRAIN_MSE
    progress = ProgressLine("Newton w", iterations, split.x_train, split.y_train)
    fit = fit_newton_w(split.x_train, split.y_train, CHAPTER_W0, CHAPTER_LEARNING_RATE,
                       CHAPTER_RIDGE, CHAPTER_RIDGE, iterations, rtol, progress,
                       max(iterations // 200, 1), target_mse=target)
    progress.close()
    model = fit.model
    status = (f"loss settled (relative change < {rtol:g})" if fit.converged
              else f"loss still moving by more than {rtol:g} relative: stopped at the cap")
    us = 1e6 * fit.seconds / max(fit.iterations, 1)
    if reference:
        label = f"plain GD ({reference.engine}, {reference.iterations:,} iterations)"
        ref_train, ref_test = reference.train_mse, reference.test_mse
    else:
        label = f"plain GD (the chapter, {CHAPTER_ITERATIONS:,} iterations)"
        ref_train, ref_test = CHAPTER_TRAIN_MSE, CHAPTER_TEST_MSE
    reached = (f"after {fit.target_reached_at:,} iterations" if fit.target_reached_at
               else "not within the run")
    print(f"\n[GD step on W + Newton step for w (Hessian in w from the tape)]\n"
          f"    iterations : {fit.iterations:,} ({status})\n"
          f"    training MSE : {model.mse(split.x_train, split.y_train):.4f}\n"
          f"    test MSE : {model.mse(split.x_test, split.y_test):.4f}\n"
          f"    loss : {fit.loss:.6f}\n"
          f"    wall time : {fit.seconds:.2f} s ({us:.1f} us per iteration)\n"
          f"    {label}: training MSE {ref_train:.4f}, test MSE {ref_test:.4f}\n"
          f"    training MSE <= {target:.4f} reached: {reached}", file=stream)
    return fit
