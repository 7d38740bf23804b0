"""The routes: each gives the loss and both gradients (grad_W, grad_w) for one ``Problem``.

A ``Route`` is a recipe; ``Route.build(problem)`` returns a ``Bound`` route whose callables take
no arguments (the data is bound once, outside the timed region, the same way for every route):

* ``loss_and_grad() -> (loss, grad_W, grad_w)``: what is timed, checked and memory-profiled;
* ``forward() -> loss``: the same route's code computing only the loss, with no gradient
  bookkeeping (the denominator of the (loss+grad)/forward ratio);
* ``fit_step() -> (grad_W, grad_w)``: the gradient work of one gradient-descent iteration of the
  chapter's ``fit`` (what the training view times; ``fit_step_label`` says which call it is);
* ``fit_loop(n)`` (chainrule routes only): n iterations of the real ``fit`` loop, gradients and
  parameter updates included, as a cross-check of the training projection;
* ``context()``: entered around every use (e.g. PyTorch's thread count).

Every route evaluates the same model, L = 1/2 mean_n (y_n - Phi_n w)^2 + 1/2 ridge |w|^2
+ 1/2 ridge_basis |W|_F^2 with Phi = tanh(X W[:-1] + W[-1]), in float64, on the same arrays.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.metadata
import importlib.util
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autograd_lite import Tensor
from chainrule.model import (
    DEFAULT_MAX_JACOBIAN_BYTES,
    BasisFunctionRidgeRegressionGD,
    TanhBasis,
    ridge_loss,
    tanh_basis,
)

from .problem import Problem

LossGrad = tuple[float, np.ndarray, np.ndarray]


@dataclass
class Bound:
    """A route bound to one problem (see the module docstring)."""

    loss_and_grad: Callable[[], LossGrad]
    forward: Callable[[], float]
    fit_step: Callable[[], tuple[np.ndarray, np.ndarray]] | None = None
    fit_step_label: str = "loss+grad call"
    fit_loop: Callable[[int], Any] | None = None  # runs n real fit() iterations (chainrule)
    context: Callable[[], contextlib.AbstractContextManager[Any]] = contextlib.nullcontext

    def __post_init__(self) -> None:
        if self.fit_step is None:
            loss_and_grad = self.loss_and_grad

            def fit_step() -> tuple[np.ndarray, np.ndarray]:
                _, gW, gw = loss_and_grad()
                return gW, gw

            self.fit_step = fit_step


@dataclass(frozen=True)
class Route:
    """A named recipe for a Bound route.

    ``needs_jacobian``: materialises the (N, D+1, K) Jacobian (subject to the memory guard).
    ``requires``: importable module names (a peer); if one is missing the route is skipped.
    ``memory_visible``: tracemalloc sees its allocations (numpy does; PyTorch's allocator not).
    """

    name: str
    description: str
    build: Callable[..., Bound]  # build(problem, max_jacobian_bytes) -> Bound
    needs_jacobian: bool = False
    requires: tuple[str, ...] = ()
    memory_visible: bool = True
    peer: bool = False
    distributions: tuple[str, ...] = field(default=())  # for version reporting

    def unavailable_reason(self) -> str | None:
        """None if the route can run here, else why not (a missing optional peer)."""
        for module in self.requires:
            if importlib.util.find_spec(module) is None:
                return f"not installed: {module} (optional extra 'peers')"
            try:
                importlib.import_module(module)
            except Exception as e:  # a broken install is reported, not raised
                return f"{module} failed to import: {type(e).__name__}: {e}"
        return None

    def versions(self) -> dict[str, str]:
        out = {}
        for dist in self.distributions:
            try:
                out[dist] = importlib.metadata.version(dist)
            except importlib.metadata.PackageNotFoundError:
                pass
        return out


# ----------------------------------------------------------------------------------------------
# 1. explicit: the chapter's route, unchanged.
# ----------------------------------------------------------------------------------------------


#: The chapter's learning rate (only the fit-loop cross-check uses it; it does not change cost).
CHAPTER_LEARNING_RATE = 1e-5


def _chapter_model(p: Problem, engine: str, max_jacobian_bytes: int) -> Any:
    basis = TanhBasis(p.W, max_jacobian_bytes=max_jacobian_bytes)
    model = BasisFunctionRidgeRegressionGD(
        basis, learning_rate=CHAPTER_LEARNING_RATE, ridge=p.ridge, ridge_basis=p.ridge_basis,
        engine=engine,
    )
    model.w = np.array(p.w)  # a private, writable copy
    return model


def _fit_loop(p: Problem, engine: str, max_jacobian_bytes: int) -> Callable[[int], Any]:
    """n iterations of chainrule's own ``fit`` (from a fresh model at the problem's W)."""

    def fit_loop(n: int) -> Any:
        model = _chapter_model(p, engine, max_jacobian_bytes)
        model.num_iterations = n
        return model.fit(p.X, p.y)

    return fit_loop


def build_explicit(p: Problem, max_jacobian_bytes: int = DEFAULT_MAX_JACOBIAN_BYTES) -> Bound:
    """loss(X, y) + gradients(X, y) of ``engine="explicit"``: 1 + 4 = 5 forward passes and the
    materialised Jacobian, exactly as the chapter's methods do it."""
    model = _chapter_model(p, "explicit", max_jacobian_bytes)
    X, y = p.X, p.y

    return Bound(
        loss_and_grad=lambda: model.loss_and_gradients(X, y),
        forward=lambda: model.loss(X, y),
        fit_step=lambda: model.gradients(X, y),
        fit_step_label="model.gradients (4 forward passes, as fit does)",
        fit_loop=_fit_loop(p, "explicit", max_jacobian_bytes),
    )


# ----------------------------------------------------------------------------------------------
# 2. explicit-cached: the same Jacobian contraction, forward computed once.
# ----------------------------------------------------------------------------------------------


def build_explicit_cached(p: Problem, max_jacobian_bytes: int = 0) -> Bound:
    """One forward pass (chainrule's ``tanh_basis``) whose Phi and residual are reused by every
    term: the chapter's expressions for grad_Phi, the (N, D+1, K) Jacobian, its contraction and
    grad_w. Isolates what caching alone buys while keeping the explicit Jacobian."""
    X, y, W, w = p.X, p.y, p.W, p.w
    ridge, ridge_basis = p.ridge, p.ridge_basis
    N = X.shape[0]

    def loss_and_grad() -> LossGrad:
        Phi = tanh_basis(X, W)  # the forward pass, once
        r = y - Phi @ w
        loss = 0.5 * np.mean(r**2) + 0.5 * ridge * np.sum(w**2) + 0.5 * ridge_basis * np.sum(W**2)
        grad_Phi = -r[:, np.newaxis] * w[np.newaxis, :] / N  # (N, K)
        dZ_dW = np.hstack((X, np.ones((N, 1))))  # x~, (N, D+1)
        dPhi_dZ = 1 - Phi**2  # from the cached Phi, (N, K)
        J = dZ_dW[:, :, np.newaxis] * dPhi_dZ[:, np.newaxis, :]  # (N, D+1, K)
        gW = (grad_Phi[:, np.newaxis, :] * J).sum(0) + ridge_basis * W
        gw = -(Phi.T @ r) / N + ridge * w
        return float(loss), gW, gw

    def forward() -> float:
        r = y - tanh_basis(X, W) @ w
        return float(
            0.5 * np.mean(r**2) + 0.5 * ridge * np.sum(w**2) + 0.5 * ridge_basis * np.sum(W**2)
        )

    return Bound(loss_and_grad=loss_and_grad, forward=forward)


# ----------------------------------------------------------------------------------------------
# 3. vjp-manual: hand-fused numpy forward + backward, no Jacobian tensor.
# ----------------------------------------------------------------------------------------------


def vjp_manual(
    X: np.ndarray, y: np.ndarray, W: np.ndarray, w: np.ndarray, ridge: float, ridge_basis: float
) -> LossGrad:
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


def vjp_manual_loss(
    X: np.ndarray, y: np.ndarray, W: np.ndarray, w: np.ndarray, ridge: float, ridge_basis: float
) -> float:
    """The forward half of ``vjp_manual``."""
    N = X.shape[0]
    Zt = W[:-1].T @ X.T
    Zt += W[-1][:, np.newaxis]
    r = w @ np.tanh(Zt, out=Zt)
    np.subtract(y, r, out=r)
    return 0.5 * float(r @ r) / N + 0.5 * ridge * float(w @ w) + 0.5 * ridge_basis * float(
        np.vdot(W, W)
    )


def build_vjp_manual(p: Problem, max_jacobian_bytes: int = 0) -> Bound:
    args = (p.X, p.y, p.W, p.w, p.ridge, p.ridge_basis)
    return Bound(loss_and_grad=lambda: vjp_manual(*args), forward=lambda: vjp_manual_loss(*args))


# ----------------------------------------------------------------------------------------------
# 4. backprop: autograd_lite through chainrule's engine="backprop".
# ----------------------------------------------------------------------------------------------


def build_backprop(p: Problem, max_jacobian_bytes: int = 0) -> Bound:
    """``model.loss_and_gradients`` with ``engine="backprop"``: W and w as leaf Tensors through
    chainrule's own ``transform`` and ``ridge_loss``, one forward and one backward, the loss read
    off the same tape. The training view times ``model.gradients``."""
    model = _chapter_model(p, "backprop", DEFAULT_MAX_JACOBIAN_BYTES)
    basis = model.basis_function
    X, y = p.X, p.y

    def forward() -> float:  # the same code on Tensors that record nothing
        W = Tensor(basis.W)
        w = Tensor(model.w)
        return ridge_loss(basis.transform(X, W), y, w, W, model.ridge, model.ridge_basis).item()

    return Bound(
        loss_and_grad=lambda: model.loss_and_gradients(X, y),
        forward=forward,
        fit_step=lambda: model.gradients(X, y),
        fit_step_label="model.gradients (engine='backprop', as fit does)",
        fit_loop=_fit_loop(p, "backprop", DEFAULT_MAX_JACOBIAN_BYTES),
    )


# ----------------------------------------------------------------------------------------------
# 5. peers (optional): PyTorch eager on CPU, HIPS autograd.
# ----------------------------------------------------------------------------------------------


_TORCH_DEFAULT_THREADS: list[int] = []


def torch_default_threads() -> int:
    """PyTorch's intra-op thread count as it was when first imported here."""
    import torch

    if not _TORCH_DEFAULT_THREADS:
        _TORCH_DEFAULT_THREADS.append(torch.get_num_threads())
    return _TORCH_DEFAULT_THREADS[0]


def _build_torch(p: Problem, threads: int | None) -> Bound:
    import torch

    n_threads = torch_default_threads() if threads is None else threads
    X = torch.from_numpy(np.array(p.X))  # private copies: from_numpy shares memory
    y = torch.from_numpy(np.array(p.y))
    W0 = np.array(p.W)
    w0 = np.array(p.w)
    ridge, ridge_basis = p.ridge, p.ridge_basis

    def loss_of(W: Any, w: Any) -> Any:
        Phi = torch.tanh(X @ W[:-1] + W[-1])
        return (
            0.5 * ((y - Phi @ w) ** 2).mean()
            + 0.5 * ridge * (w**2).sum()
            + 0.5 * ridge_basis * (W**2).sum()
        )

    def loss_and_grad() -> LossGrad:
        W = torch.from_numpy(W0).requires_grad_()
        w = torch.from_numpy(w0).requires_grad_()
        loss = loss_of(W, w)
        loss.backward()
        return loss.item(), W.grad.numpy(), w.grad.numpy()

    def forward() -> float:
        with torch.no_grad():
            return loss_of(torch.from_numpy(W0), torch.from_numpy(w0)).item()

    @contextlib.contextmanager
    def context() -> Iterator[None]:
        before = torch.get_num_threads()
        torch.set_num_threads(n_threads)
        try:
            yield
        finally:
            torch.set_num_threads(before)

    return Bound(loss_and_grad=loss_and_grad, forward=forward, context=context)


def build_hips_autograd(p: Problem, max_jacobian_bytes: int = 0) -> Bound:
    import autograd.numpy as anp
    from autograd import value_and_grad

    X, y, W0, w0 = p.X, p.y, np.array(p.W), np.array(p.w)
    ridge, ridge_basis = p.ridge, p.ridge_basis

    def loss_of(W: Any, w: Any) -> Any:
        Phi = anp.tanh(anp.dot(X, W[:-1]) + W[-1])
        r = y - anp.dot(Phi, w)
        return (
            0.5 * anp.mean(r**2) + 0.5 * ridge * anp.sum(w**2) + 0.5 * ridge_basis * anp.sum(W**2)
        )

    loss_and_grads = value_and_grad(loss_of, argnum=(0, 1))

    def loss_and_grad() -> LossGrad:
        loss, (gW, gw) = loss_and_grads(W0, w0)
        return float(loss), gW, gw

    return Bound(loss_and_grad=loss_and_grad, forward=lambda: float(loss_of(W0, w0)))


# ----------------------------------------------------------------------------------------------
# The registry.
# ----------------------------------------------------------------------------------------------

REFERENCE = "vjp-manual"


def default_routes() -> list[Route]:
    """All routes, in table order (peers last; they are skipped when not importable)."""
    return [
        Route(
            "explicit",
            "chainrule engine='explicit': loss(X, y) + gradients(X, y); 5 forward passes and the "
            "materialised (N, D+1, K) Jacobian (the chapter's route)",
            build_explicit,
            needs_jacobian=True,
        ),
        Route(
            "explicit-cached",
            "the chapter's explicit Jacobian contraction with the forward pass computed once",
            build_explicit_cached,
            needs_jacobian=True,
        ),
        Route(
            "vjp-manual",
            "hand-fused numpy forward + backward with matrix products, no Jacobian (the floor "
            "for a numpy engine; the reference for the agreement check)",
            build_vjp_manual,
        ),
        Route(
            "backprop",
            "autograd_lite tape through chainrule's transform/ridge_loss (engine='backprop'): "
            "one forward, one backward",
            build_backprop,
            distributions=("autograd-lite-chainrule",),
        ),
        Route(
            "torch-1t",
            "PyTorch eager on CPU, float64, torch.set_num_threads(1)",
            lambda p, max_jacobian_bytes=0: _build_torch(p, 1),
            requires=("torch",),
            memory_visible=False,
            peer=True,
            distributions=("torch",),
        ),
        Route(
            "torch",
            "PyTorch eager on CPU, float64, default intra-op threads",
            lambda p, max_jacobian_bytes=0: _build_torch(p, None),
            requires=("torch",),
            memory_visible=False,
            peer=True,
            distributions=("torch",),
        ),
        Route(
            "hips-autograd",
            "HIPS autograd (autograd.numpy), value_and_grad over (W, w)",
            build_hips_autograd,
            requires=("autograd",),
            peer=True,
            distributions=("autograd",),
        ),
    ]
