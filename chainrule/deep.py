"""The chain rule through L tanh layers: explicit Jacobian products against back-propagation.

The chapter's network has one hidden layer; here it has L. With K_0 = D and widths K_1..K_L,

    H_0 = X,   H_l = tanh(H_{l-1} W_l[:-1] + W_l[-1])   (W_l of shape (K_{l-1}+1, K_l)),
    L(w, W_1..W_L) = 1/2 mean_n (y_n - H_L[n] w)^2 + 1/2 ridge |w|^2
                     + 1/2 ridge_basis sum_l |W_l|_F^2.

Every layer is the chapter's `TanhBasis` (its forward is `model.tanh_basis`), and with L = 1 the
model is the chapter's `BasisFunctionRidgeRegressionGD`. The gradient is one product,

    grad_{W_l} L = (dL/dH_L) (dH_L/dH_{L-1}) ... (dH_{l+1}/dH_l) (dH_l/dW_l),

and the order of that product decides the cost (benchmarks/depth_costs.py counts the flops and
bytes of each order exactly, for `python -m benchmarks.depth`):

* route "explicit" (`jacobian_order="output"`, the default): as the chapter does for one layer,
  materialise every dH_L/dW_l, an (N, K_L, K_{l-1}+1, K_l) array, then contract dL/dH_L with
  it. The per-sample layer Jacobians A_l = dH_l/dH_{l-1} (N, K_l, K_{l-1}) are multiplied from
  the output side, sharing the prefix P_l = dH_L/dH_l: P_L = I, P_{l-1} = P_l A_l, and
  dH_L/dW_l = P_l (dH_l/dW_l). Matrix-times-matrix per sample; N K_L |W_l| numbers per layer,
  O(N K^3) flops and bytes per layer at width K.
* `jacobian_order="input"`: the same Jacobians multiplied from the input side,
  dH_L/dW_l = A_L (... (A_{l+1} (dH_l/dW_l))): nothing is shared between layers, so the
  carried (N, K_m, |W_l|) array is pushed through every layer above l again: O(N K^4 L^2).
* routes "backprop" and "compiled": autograd_lite's tape (eager, or compiled to a numpy
  program) on the one forward definition `deep_ridge_regression_loss`: the product evaluated
  from the left, a (1 x K) row times each Jacobian per sample, O(N K^2) per layer; nothing of
  size N K^3 ever exists.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from autograd_lite.formatting import format_bytes

from .descent import RidgeRegressionGD, like, real_array
from .model import (
    DEFAULT_MAX_JACOBIAN_BYTES,
    JacobianTooLarge,
    TanhBasis,
    jacobian_nbytes,
    layer_jacobian,
    ridge_loss,
    tanh_basis,
)

#: Orders of the explicit chain-rule product: from the output side (shared prefix) or the input.
JACOBIAN_ORDERS: tuple[str, ...] = ("output", "input")


# ---- the forward math, written once (ndarrays, Tensors, ...) ---------------------------------
def deep_tanh_basis(X: Any, Ws: Sequence[Any], tanh: Callable[[Any], Any] = np.tanh) -> Any:
    """H_L: the chapter's `tanh_basis` applied layer after layer, shape (N, K_L)."""
    H = X
    for W in Ws:
        H = tanh_basis(H, W, tanh)
    return H


def deep_ridge_loss(H: Any, y: Any, w: Any, Ws: Sequence[Any], ridge: float,
                    ridge_basis: float) -> Any:
    """The chapter's `ridge_loss` on H = H_L, plus 1/2 ridge_basis |W_l|^2 of layers 2..L."""
    loss = ridge_loss(H, y, w, Ws[0], ridge, ridge_basis)
    for W in Ws[1:]:
        loss = loss + 0.5 * ridge_basis * (W**2).sum()
    return loss


def deep_ridge_regression_loss(w: Any, X: Any, y: Any, ridge: float, ridge_basis: float,
                               *Ws: Any) -> Any:
    """The loss as a function of (w, W_1..W_L): what the back-propagation routes differentiate."""
    return deep_ridge_loss(deep_tanh_basis(X, Ws), y, w, Ws, ridge, ridge_basis)


# ---- per-sample Jacobians of one layer (ndarrays) -------------------------------------------
def layer_input_jacobian(S: np.ndarray, W: np.ndarray) -> np.ndarray:
    """A_l = dH_l/dH_{l-1}, (N, K_l, K_{l-1}): A[n, i, j] = S[n, i] W[j, i], S = 1 - H_l^2."""
    return np.multiply(S[:, :, np.newaxis], W[:-1].T[np.newaxis, :, :], order="C")


# (the Jacobian of a layer in its own weights, dH_l/dW_l, is the chapter's: model.layer_jacobian)


# ---- sizes ---------------------------------------------------------------------------------
def layer_sizes(N: int, D: int, widths: Sequence[int]) -> tuple[int, list[int]]:
    """(N, [K_0 = D, K_1, ..., K_L]) as ints, checked."""
    N, D = operator.index(N), operator.index(D)
    widths = [operator.index(K) for K in widths]
    if N < 1 or D < 1 or not widths or min(widths) < 1:
        raise ValueError(f"need N >= 1, D >= 1 and L >= 1 widths K_l >= 1; got {N=}, {D=}, "
                         f"widths={widths}")
    return N, [D, *widths]


def jacobians_nbytes(N: int, D: int, widths: Sequence[int], itemsize: int = 8) -> list[int]:
    """Bytes of each explicit dH_L/dW_l: N * K_L * (K_{l-1}+1) * K_l * itemsize, l = 1..L."""
    N, K = layer_sizes(N, D, widths)
    return [jacobian_nbytes(N * K[-1], K[l - 1], K[l], itemsize) for l in range(1, len(K))]


# ---- the model ----------------------------------------------------------------------------------
class DeepJacobianTooLarge(JacobianTooLarge):
    """The explicit Jacobians dH_L/dW_l, l = 1..L, would exceed the configured byte limit."""

    def __init__(self, N: int, D: int, widths: Sequence[int], layer_nbytes: Sequence[int],
                 limit: int) -> None:
        self.widths, self.layer_nbytes = tuple(widths), tuple(layer_nbytes)
        nbytes = sum(layer_nbytes)
        per_layer = ", ".join(format_bytes(b) for b in layer_nbytes)
        super().__init__(
            N, D, widths[-1], nbytes, limit,
            what=f"the explicit Jacobians dH_L/dW_l of the {len(widths)}-layer network (N={N} "
                 f"samples, D={D}, widths K_1..K_L = {list(widths)}) hold N*K_L*sum_l "
                 f"(K_(l-1)+1)*K_l = {nbytes // 8:,} entries (per layer {per_layer})",
            make="DeepTanhBasis(Ws, max_jacobian_bytes=...)")


class DeepTanhBasis:
    """L tanh layers, each the chapter's `TanhBasis`: H_l = tanh(H_{l-1} W_l[:-1] + W_l[-1]).

    `Ws` is a list (or tuple) of L >= 1 weight matrices, W_l of shape (K_{l-1}+1, K_l) with
    K_0 = D (last row the bias); each is copied (float64, or float32 if given float32). `Ws`
    returns the layers' own arrays: update them in place. The explicit Jacobians are refused
    with `DeepJacobianTooLarge` (a `JacobianTooLarge`) when together they would exceed
    `max_jacobian_bytes`.
    """

    def __init__(self, Ws: Sequence[ArrayLike],
                 max_jacobian_bytes: int = DEFAULT_MAX_JACOBIAN_BYTES) -> None:
        if isinstance(Ws, np.ndarray) or not isinstance(Ws, list | tuple):
            raise TypeError("Ws must be a list (or tuple) of L >= 1 weight matrices W_l of shape "
                            f"(K_(l-1)+1, K_l); got {type(Ws).__name__}"
                            + (f" of shape {Ws.shape}" if isinstance(Ws, np.ndarray) else ""))
        if not Ws:
            raise ValueError("Ws must hold at least one weight matrix (L >= 1); got an empty "
                             "list")
        layers = []
        for l, W in enumerate(Ws, start=1):
            W = real_array(W, f"layer {l} (Ws[{l - 1}])")
            previous = None if l == 1 else layers[-1].W.shape[1]
            rows_ok = W.ndim == 2 and (W.shape[0] >= 2 if previous is None
                                       else W.shape[0] == previous + 1)
            if not rows_ok or W.shape[1] < 1:
                need = ("(D+1, K_1): D >= 1 slope rows plus the bias row" if previous is None
                        else f"(K_{l - 1}+1, K_{l}) = ({previous + 1}, K_{l}): the {previous} "
                             f"outputs of layer {l - 1} plus the bias row")
                raise ValueError(f"layer {l} (Ws[{l - 1}]) must be 2-D with shape {need}, and "
                                 f"K_{l} >= 1 columns; got shape {W.shape}")
            layers.append(TanhBasis(W, max_jacobian_bytes))
        self.layers: list[TanhBasis] = layers
        self.max_jacobian_bytes = layers[0].max_jacobian_bytes  # checked by TanhBasis

    @property
    def Ws(self) -> list[np.ndarray]:
        """[W_1, ..., W_L], the layers' own arrays."""
        return [layer.W for layer in self.layers]

    @property
    def widths(self) -> tuple[int, ...]:
        """(K_1, ..., K_L)."""
        return tuple(layer.W.shape[1] for layer in self.layers)

    @property
    def D(self) -> int:
        return self.layers[0].W.shape[0] - 1

    def design(self, X: ArrayLike) -> np.ndarray:
        """X as the 2-D (N, D) array of layer 1 (`TanhBasis.design`: 1-D X is one column)."""
        try:
            return self.layers[0].design(X)
        except ValueError as e:
            raise ValueError(f"layer 1 (Ws[0]): {e}") from None

    def activations(self, X: ArrayLike) -> list[np.ndarray]:
        """[H_0 = X, H_1, ..., H_L]."""
        Hs = [self.design(X)]
        for layer in self.layers:
            Hs.append(tanh_basis(Hs[-1], layer.W))
        return Hs

    def transform(self, X: ArrayLike) -> np.ndarray:
        """H_L, shape (N, K_L)."""
        return deep_tanh_basis(self.design(X), self.Ws)

    def jacobians_nbytes(self, N: int, itemsize: int = 8) -> list[int]:
        """Bytes of each dH_L/dW_l for N samples (nothing allocated)."""
        return jacobians_nbytes(N, self.D, self.widths, itemsize)

    def check_jacobians_size(self, N: int) -> None:
        """Raise `DeepJacobianTooLarge` if the Jacobians for N samples exceed the limit (they are
        float64 whatever the inputs: the per-sample layer Jacobians start from float64 eye)."""
        layer_nbytes = self.jacobians_nbytes(N)
        if sum(layer_nbytes) > self.max_jacobian_bytes:
            raise DeepJacobianTooLarge(N, self.D, self.widths, layer_nbytes,
                                       self.max_jacobian_bytes)

    def jacobians(self, X: ArrayLike, order: str = "output") -> list[np.ndarray]:
        """[dH_L/dW_1, ..., dH_L/dW_L], each (N, K_L, K_{l-1}+1, K_l), by the explicit chain
        rule in the given order ("output": shared prefix P_l; "input": see the module
        docstring). Refused before anything is allocated beyond the limit."""
        if order not in JACOBIAN_ORDERS:
            raise ValueError(f"order must be one of {JACOBIAN_ORDERS}, got {order!r}")
        X = self.design(X)
        self.check_jacobians_size(X.shape[0])
        return self._jacobians(self.activations(X), order)

    def _jacobians(self, Hs: list[np.ndarray], order: str) -> list[np.ndarray]:
        Ss = [1 - H * H for H in Hs[1:]]  # S_l = tanh'(Z_l) = 1 - H_l^2
        if order == "output":
            return _output_side_jacobians(Hs, Ss, self.Ws)
        return _input_side_jacobians(Hs, Ss, self.Ws)


def _output_side_jacobians(Hs: list[np.ndarray], Ss: list[np.ndarray],
                           Ws: list[np.ndarray]) -> list[np.ndarray]:
    """dH_L/dW_l = P_l (dH_l/dW_l), P_L = I, P_{l-1} = P_l A_l: the prefix is shared."""
    L, M = len(Ws), Ws[-1].shape[1]
    Js: list[np.ndarray] = [np.empty(0)] * L
    P = None  # P_L = I: the top layer's Jacobian is spread over the identity
    for l in range(L - 1, -1, -1):  # 0-based: layer l+1
        local = layer_jacobian(Hs[l], Ss[l])  # (N, a, K_l)
        # (N, M, a, K_l), C-ordered so that the contraction reads it without a copy
        prefix = np.eye(M)[np.newaxis] if P is None else P
        Js[l] = np.multiply(prefix[:, :, np.newaxis, :], local[:, np.newaxis, :, :], order="C")
        del local
        if l > 0:
            A = layer_input_jacobian(Ss[l], Ws[l])  # (N, K_l, K_{l-1})
            P = A if P is None else P @ A  # (N, M, K_{l-1}): one matrix product per sample
            del A
    return Js


def _input_side_jacobians(Hs: list[np.ndarray], Ss: list[np.ndarray],
                          Ws: list[np.ndarray]) -> list[np.ndarray]:
    """dH_L/dW_l = A_L (... (A_{l+1} dH_l/dW_l)): every layer above l again, for every l."""
    L, N = len(Ws), Hs[0].shape[0]
    As = [layer_input_jacobian(Ss[m], Ws[m]) for m in range(1, L)]  # A_2..A_L
    Js = []
    for l in range(L):
        local = layer_jacobian(Hs[l], Ss[l])
        a, K = local.shape[1:]
        carried = np.multiply(np.eye(K)[np.newaxis, :, np.newaxis, :],
                              local[:, np.newaxis, :, :], order="C")
        del local
        for A in As[l:]:  # (N, K_m, K_{m-1}) @ (N, K_{m-1}, a K_l)
            carried = (A @ carried.reshape(N, A.shape[2], a * K)).reshape(N, A.shape[1], a, K)
        Js.append(carried)
    return Js


class DeepRidgeRegressionGD(RidgeRegressionGD):
    """Ridge regression y ~ H_L(W_1..W_L) w, trained by gradient descent on w and every W_l.

    L = 1/2 mean_n (y_n - H_L[n] w)^2 + 1/2 ridge |w|^2 + 1/2 ridge_basis sum_l |W_l|_F^2.
    `w` is None until `fit` or the first prediction (then zeros(K_L)). `route`: "explicit"
    (materialise every dH_L/dW_l, multiplied in `jacobian_order`, and contract dL/dH_L with
    it), "backprop" (the eager tape) or "compiled" (the tape compiled to a numpy program).
    `gradients` returns ([grad_W_1 L, ..., grad_W_L L], grad_w L); `pred`, `loss`, `gradients`,
    `loss_and_gradients` and `fit` come from `RidgeRegressionGD`.
    """

    def __init__(self, basis: DeepTanhBasis, learning_rate: float = 0.01,
                 num_iterations: int = 1000, ridge: float = 0.1, ridge_basis: float = 0.1,
                 route: str = "explicit", jacobian_order: str = "output",
                 backend: str = "numpy") -> None:
        if not isinstance(basis, DeepTanhBasis):
            raise TypeError(f"basis must be a DeepTanhBasis, got {type(basis).__name__}")
        if jacobian_order not in JACOBIAN_ORDERS:
            raise ValueError(f"jacobian_order must be one of {JACOBIAN_ORDERS}, got "
                             f"{jacobian_order!r}")
        # the tape differentiates deep_ridge_regression_loss(w, X, y, ridge, ridge_basis,
        # W_1..W_L) in w and the W_l
        argnums = (0, *range(5, 5 + len(basis.layers)))
        super().__init__(learning_rate, num_iterations, ridge, ridge_basis, route,
                         deep_ridge_regression_loss, argnums, data=(1, 2), backend=backend)
        self.basis = basis
        self.jacobian_order = jacobian_order

    def _data(self, X: ArrayLike, y: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        X = self.basis.design(X)
        if X.shape[0] == 0:
            raise ValueError(f"the data must hold N >= 1 samples; got X.shape={X.shape}")
        y = real_array(y, "y")
        if y.ndim != 1 or y.shape[0] != X.shape[0]:
            raise ValueError(f"y must be 1-D with one value per row of X (N={X.shape[0]}); got "
                             f"y.shape={y.shape}")
        return X, y

    def _matrices(self) -> list[np.ndarray]:
        return self.basis.Ws

    def _features(self, X: ArrayLike) -> np.ndarray:
        return self.basis.transform(X)

    def _loss(self, X: np.ndarray, y: np.ndarray) -> Any:
        return deep_ridge_regression_loss(self._weights(), X, y, self.ridge, self.ridge_basis,
                                          *self.basis.Ws)

    def _explicit(self, X: np.ndarray, y: np.ndarray, with_loss: bool
                  ) -> tuple[float | None, list[np.ndarray], np.ndarray]:
        """One forward pass, the materialised Jacobians and their contraction with dL/dH_L."""
        w, Ws = self._weights(), self.basis.Ws
        N = X.shape[0]
        self.basis.check_jacobians_size(N)
        Hs = self.basis.activations(X)
        H = Hs[-1]
        Js = self.basis._jacobians(Hs, self.jacobian_order)
        scaled_residuals = -(y - H @ w) / N
        dL_dH = scaled_residuals[:, np.newaxis] * w[np.newaxis, :]  # (N, K_L)
        grad_Ws = [like(np.tensordot(dL_dH, J, axes=2) + self.ridge_basis * W, W)  # chain rule
                   for J, W in zip(Js, Ws, strict=True)]
        grad_w = like(H.T @ scaled_residuals + self.ridge * w, w)
        loss = (float(deep_ridge_loss(H, y, w, Ws, self.ridge, self.ridge_basis)) if with_loss
                else None)
        return loss, grad_Ws, grad_w

    def _tape_arguments(self, X: np.ndarray, y: np.ndarray) -> tuple[Any, ...]:
        return (self._weights(), X, y, self.ridge, self.ridge_basis, *self.basis.Ws)

    def _from_tape(self, grads: Sequence[np.ndarray]) -> tuple[list[np.ndarray], np.ndarray]:
        grad_w, *grad_Ws = grads
        return grad_Ws, grad_w
