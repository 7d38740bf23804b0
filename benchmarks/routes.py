"""The seeded problem and the routes, each computing (loss, grad_W, grad_w) of chainrule's model.

Every route gets the same read-only float64 arrays. The peers (torch, HIPS autograd, JAX) are
imported only when their route is built, and evaluate chainrule's own `tanh_basis` and
`ridge_loss` with their tanh: the forward math is not retyped.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from chainrule import chapter
from chainrule.model import (
    BasisFunctionRidgeRegressionGD,
    TanhBasis,
    jacobian_nbytes,
    ridge_loss,
    tanh_basis,
)

from . import chapter_code

LossGrads = tuple[float, Any, Any]
CHAPTER_SIZE = (100, 1, 3)  # N training days, one input (the day), three tanh functions
REFERENCE = "vjp-manual"


@dataclass(frozen=True)
class Problem:
    X: np.ndarray  # (N, D)
    y: np.ndarray  # (N,)
    Ws: tuple[np.ndarray, ...]  # W_l (K_{l-1}+1, K_l), K_0 = D: slope rows, then the bias row
    w: np.ndarray  # (K_L,)
    ridge: float = chapter.RIDGE
    ridge_basis: float = chapter.RIDGE_BASIS

    @property
    def W(self) -> np.ndarray:
        """The one weight matrix of the chapter's model (a problem of one layer)."""
        if len(self.Ws) != 1:
            raise ValueError(f"this problem has {len(self.Ws)} layers; the chapter's model (and "
                             "Problem.W) needs exactly one")
        return self.Ws[0]

    @property
    def jacobian_bytes(self) -> int:
        """Bytes of the chapter's (N, D+1, K) Jacobian (a problem of one layer)."""
        return jacobian_nbytes(self.X.shape[0], self.X.shape[1], self.W.shape[1])


def make_problem(N: int, D: int, widths: int | Sequence[int], seed: int = 0) -> Problem:
    """The benchmarks' one seeded problem, for the chapter's model (`widths` = K) or L layers
    (`widths` = (K_1, ..., K_L)): X, y, biases, w ~ N(0, 1), slopes ~ N(0, 1/K_{l-1}) so that
    every Z is O(1) and no tanh saturates. Read-only float64 arrays."""
    widths = (widths,) if isinstance(widths, int | np.integer) else tuple(widths)
    rng = np.random.default_rng([seed, N, D, *widths])
    X, y = rng.standard_normal((N, D)), rng.standard_normal(N)
    Ws = []
    for fan_in, K in zip((D, *widths), widths):
        W = rng.standard_normal((fan_in + 1, K))
        W[:-1] /= np.sqrt(fan_in)
        Ws.append(W)
    w = rng.standard_normal(widths[-1])
    for a in (X, y, *Ws, w):
        a.flags.writeable = False
    return Problem(X, y, tuple(Ws), w)


@dataclass
class Bound:
    """A route bound to one problem: `loss_and_grads()` is what is checked, timed and profiled."""

    loss_and_grads: Callable[[], LossGrads]
    compiled: Any = None  # the CompiledFunction behind it, for its stats


@dataclass(frozen=True)
class Route:
    name: str
    description: str
    build: Callable[[Problem], Bound]
    needs_jacobian: bool = False  # materialises the (N, D+1, K) Jacobian: subject to the guard
    peer: str | None = None  # the optional package (import name = distribution name)
    memory_visible: bool = True  # tracemalloc sees numpy's allocations, not torch's or XLA's
    fit: Callable[[Problem, int], Callable[[], None]] | None = None  # n real fit() iterations

    def unavailable(self) -> str | None:
        if self.peer and importlib.util.find_spec(self.peer) is None:
            return f"not installed: {self.peer} (optional extra 'peers')"
        return None

    def version(self) -> str | None:
        return importlib.metadata.version(self.peer) if self.peer and not self.unavailable() \
            else None


# ---- the chapter's code and chainrule's model ------------------------------------------------
def _model(route: str, p: Problem, backend: str = "numpy") -> Any:
    """A model at the problem's W and w: the chapter's class, or chainrule's with `route` (and
    `backend`, the compiled route's printer)."""
    if route == "chapter":
        model = chapter_code.BasisFunctionRidgeRegressionGD(
            chapter_code.TanhBasis(p.W), chapter.LEARNING_RATE, 0, p.ridge, p.ridge_basis)
    else:  # the harness' guard decides which Jacobian is too large, not the model's
        basis = TanhBasis(p.W, max_jacobian_bytes=p.jacobian_bytes)
        model = BasisFunctionRidgeRegressionGD(basis, chapter.LEARNING_RATE, 0, p.ridge,
                                               p.ridge_basis, route=route, backend=backend)
    model.w = np.array(p.w)
    return model


def build_model(route: str, p: Problem, backend: str = "numpy") -> Bound:
    """The chapter's loss + gradient_basis_function_W + gradient_w, or chainrule's
    loss_and_gradients (which for route="explicit" calls the same methods)."""
    m, X, y = _model(route, p, backend), p.X, p.y
    if route == "chapter":
        return Bound(lambda: (m.loss(X, y), m.gradient_basis_function_W(X, y),
                              m.gradient_w(X, y)))
    compiled = m.value_and_grad if route == "compiled" else None  # its stats go in the report
    return Bound(lambda: m.loss_and_gradients(X, y), compiled)


def fit_model(route: str, p: Problem, iterations: int, backend: str = "numpy"
              ) -> Callable[[], None]:
    """`iterations` steps of the model's own fit, every call from the problem's W (fit zeroes w)."""
    model = _model(route, p, backend)
    model.num_iterations = iterations

    def run() -> None:
        model.basis_function.W[...] = p.W
        model.fit(p.X, p.y)
    return run


# ---- hand-written numpy ----------------------------------------------------------------------
def explicit_cached(X: np.ndarray, y: np.ndarray, W: np.ndarray, w: np.ndarray, ridge: float,
                    ridge_basis: float) -> LossGrads:
    """The chapter's Jacobian contraction, with Phi computed once and reused by every term."""
    N = X.shape[0]
    Phi = tanh_basis(X, W)
    r = y - Phi @ w
    grad_Phi = -r[:, np.newaxis] * w / N  # (N, K)
    J = np.hstack((X, np.ones((N, 1))))[:, :, np.newaxis] * (1 - Phi**2)[:, np.newaxis, :]
    gW = (grad_Phi[:, np.newaxis, :] * J).sum(0) + ridge_basis * W  # (D+1, K)
    gw = -(Phi.T @ r) / N + ridge * w
    return float(ridge_loss(Phi, y, w, W, ridge, ridge_basis)), gW, gw


def vjp_manual(X: np.ndarray, y: np.ndarray, W: np.ndarray, w: np.ndarray, ridge: float,
               ridge_basis: float) -> LossGrads:
    """Loss and both gradients with matrix products only (the floor for a numpy engine).

    Works in the (K, N) layout, so that per-sample vectors broadcast along contiguous rows and
    per-basis scalars along rows; one (K, N) buffer is allocated and reused for Z, Phi and
    1 - Phi^2. With s = dL/dprediction = -r/N and G = 1 - Phi^2:
    grad_W[d, k] = w_k sum_n x~[n, d] s_n G[k, n] (+ ridge_basis W), so w is applied to the small
    (D+1, K) result and s to X (N x D) instead of to the N x K matrix.
    """
    N = X.shape[0]
    Zt = W[:-1].T @ X.T  # (K, N), BLAS
    Zt += W[-1][:, np.newaxis]
    Pt = np.tanh(Zt, out=Zt)  # Phi^T, in place
    r = w @ Pt  # prediction (N,)
    np.subtract(y, r, out=r)  # residual r = y - Phi w
    loss = 0.5 * float(r @ r) / N + 0.5 * ridge * float(w @ w) + 0.5 * ridge_basis * float(
        np.vdot(W, W)
    )
    r *= -1.0 / N  # s = dL/d(Phi w)
    gw = Pt @ r  # Phi^T s
    gw += ridge * w
    np.multiply(Pt, Pt, out=Pt)
    np.subtract(1.0, Pt, out=Pt)  # G = 1 - Phi^2, (K, N), in place
    gW = np.empty_like(W)
    gW[:-1] = (Pt @ (X * r[:, np.newaxis])).T  # sum_n G[k, n] s_n x[n, d], BLAS
    np.matmul(Pt, r, out=gW[-1])  # bias row: sum_n G[k, n] s_n, BLAS
    gW *= w  # the w_k factor of dL/dPhi[n, k] = s_n w_k
    gW += ridge_basis * W
    return loss, gW, gw


def build_numpy(f: Callable[..., LossGrads], p: Problem) -> Bound:
    return Bound(lambda: f(p.X, p.y, p.W, p.w, p.ridge, p.ridge_basis))


# ---- peers -----------------------------------------------------------------------------------
def _loss_with(tanh: Callable[[Any], Any]) -> Callable[..., Any]:
    """chainrule's loss of (W, w, X, y, ridge, ridge_basis), evaluated with a peer's tanh."""
    def loss(W: Any, w: Any, X: Any, y: Any, ridge: float, ridge_basis: float) -> Any:
        return ridge_loss(tanh_basis(X, W, tanh), y, w, W, ridge, ridge_basis)
    return loss


def build_torch_1t(p: Problem) -> Bound:
    import torch

    torch.set_num_threads(1)
    loss_of = _loss_with(torch.tanh)
    X, y, W0, w0 = (torch.from_numpy(np.array(a)) for a in (p.X, p.y, p.W, p.w))

    def loss_and_grads() -> LossGrads:
        W, w = W0.detach().requires_grad_(), w0.detach().requires_grad_()
        loss = loss_of(W, w, X, y, p.ridge, p.ridge_basis)
        loss.backward()
        return loss.item(), W.grad.numpy(), w.grad.numpy()
    return Bound(loss_and_grads)


def build_hips_autograd(p: Problem) -> Bound:
    import autograd
    import autograd.numpy as anp

    f = autograd.value_and_grad(_loss_with(anp.tanh), argnum=(0, 1))

    def loss_and_grads() -> LossGrads:
        loss, (gW, gw) = f(p.W, p.w, p.X, p.y, p.ridge, p.ridge_basis)
        return float(loss), gW, gw
    return Bound(loss_and_grads)


def build_jax(p: Problem) -> Bound:
    import jax

    jax.config.update("jax_enable_x64", True)
    f = jax.jit(jax.value_and_grad(_loss_with(jax.numpy.tanh), argnums=(0, 1)))
    args = [jax.device_put(a) for a in (p.W, p.w, p.X, p.y)]

    def loss_and_grads() -> LossGrads:
        loss, (gW, gw) = jax.block_until_ready(f(*args, p.ridge, p.ridge_basis))
        return loss, gW, gw
    return Bound(loss_and_grads)


ROUTES: tuple[Route, ...] = (
    Route("chapter", "the chapter's code verbatim (benchmarks/chapter_code.py): loss + "
          "gradient_basis_function_W + gradient_w, 5 forward passes and the Jacobian",
          partial(build_model, "chapter"), True, fit=partial(fit_model, "chapter")),
    Route("explicit", "chainrule route='explicit': model.loss_and_gradients, the chapter's "
          "methods with input checks", partial(build_model, "explicit"), True,
          fit=partial(fit_model, "explicit")),
    Route("explicit-cached", "the same Jacobian contraction with one forward pass",
          partial(build_numpy, explicit_cached), True),
    Route(REFERENCE, "hand-fused numpy forward + backward, matrix products and no Jacobian "
          "(the reference of the agreement check)", partial(build_numpy, vjp_manual)),
    Route("backprop", "chainrule route='backprop': the eager autograd_lite tape",
          partial(build_model, "backprop"), fit=partial(fit_model, "backprop")),
    Route("compiled", "chainrule route='compiled': the tape compiled once to a numpy program",
          partial(build_model, "compiled"), fit=partial(fit_model, "compiled")),
    Route("torch-1t", "PyTorch eager, CPU, torch.set_num_threads(1)", build_torch_1t,
          peer="torch", memory_visible=False),
    Route("hips-autograd", "HIPS autograd, value_and_grad over (W, w)", build_hips_autograd,
          peer="autograd"),
    Route("jax", "jax.jit(jax.value_and_grad(...)), float64, XLA's default CPU threads",
          build_jax, peer="jax", memory_visible=False),
    Route("compiled-jax", "chainrule route='compiled', backend='jax': the same compiled "
          "program printed as jax.numpy and jitted by XLA", partial(build_model, "compiled",
                                                                   backend="jax"),
          peer="jax", memory_visible=False,
          fit=lambda p, n: fit_model("compiled", p, n, backend="jax")),
)
