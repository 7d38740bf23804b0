"""The chain rule through L tanh layers: explicit Jacobian products against back-propagation.

The chapter's network has one hidden layer; here it has L. With K_0 = D and widths K_1..K_L,

    H_0 = X,   H_l = tanh(H_{l-1} W_l[:-1] + W_l[-1])   (W_l of shape (K_{l-1}+1, K_l)),
    L(w, W_1..W_L) = 1/2 mean_n (y_n - H_L[n] w)^2 + 1/2 ridge |w|^2
                     + 1/2 ridge_basis sum_l |W_l|_F^2.

Every layer is the chapter's `TanhBasis` (its forward is `model.tanh_basis`), and with L = 1 the
model is the chapter's `BasisFunctionRidgeRegressionGD`. The gradient is one product,

    grad_{W_l} L = (dL/dH_L) (dH_L/dH_{L-1}) ... (dH_{l+1}/dH_l) (dH_l/dW_l),

and the order of that product decides the cost (`predicted_costs` gives the exact counts):

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
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike

import autograd_lite as ag
from autograd_lite.formatting import format_bytes

from .model import (
    DEFAULT_MAX_JACOBIAN_BYTES,
    ROUTES,
    JacobianTooLarge,
    TanhBasis,
    jacobian_nbytes,
    output_weights,
    real_array,
    ridge_loss,
    tanh_basis,
)

#: Orders of the explicit chain-rule product: from the output side (shared prefix) or the input.
JACOBIAN_ORDERS: tuple[str, ...] = ("output", "input")

_FLOAT64 = 8  # bytes per entry


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


def layer_weight_jacobian(H_previous: np.ndarray, S: np.ndarray) -> np.ndarray:
    """The chapter's Jacobian of one layer: dH_l[n, k]/dW_l[d, k] = h~[n, d] S[n, k], with
    h~ = [H_{l-1}, 1] and S = 1 - H_l^2; shape (N, K_{l-1}+1, K_l) (entries j != k are 0)."""
    H_tilde = np.hstack((H_previous, np.ones((H_previous.shape[0], 1))))
    return np.multiply(H_tilde[:, :, np.newaxis], S[:, np.newaxis, :], order="C")


# ---- sizes and predicted costs ----------------------------------------------------------------
def _dims(N: int, D: int, widths: Sequence[int]) -> tuple[int, list[int]]:
    """(N, [K_0 = D, K_1, ..., K_L]) as ints, checked."""
    N, D = operator.index(N), operator.index(D)
    widths = [operator.index(K) for K in widths]
    if N < 1 or D < 1 or not widths or min(widths) < 1:
        raise ValueError(f"need N >= 1, D >= 1 and L >= 1 widths K_l >= 1; got {N=}, {D=}, "
                         f"widths={widths}")
    return N, [D, *widths]


def jacobians_nbytes(N: int, D: int, widths: Sequence[int], itemsize: int = 8) -> list[int]:
    """Bytes of each explicit dH_L/dW_l: N * K_L * (K_{l-1}+1) * K_l * itemsize, l = 1..L."""
    N, K = _dims(N, D, widths)
    return [jacobian_nbytes(N * K[-1], K[l - 1], K[l], itemsize) for l in range(1, len(K))]


class Cost(NamedTuple):
    """Predicted cost of one loss + gradients call (float64): flops, the peak bytes of the
    arrays with a sample axis alive at once, and the bytes of the materialised Jacobians."""

    flops: int
    bytes: int
    jacobian_bytes: int


def predicted_costs(N: int, D: int, widths: Sequence[int]) -> dict[str, Cost]:
    """Exact flop and byte counts of one loss + gradients call, per route / order.

    Keys: "explicit" (output-side order, the explicit route's default), "input_side",
    "backprop" (the left-to-right order the tape runs), and "forward" (the loss alone).
    Notation: M = K_L, a_l = K_{l-1}+1, |W_l| = a_l K_l; sums over l = 1..L unless marked.

    Flops count every multiplication and addition on arrays of >= N entries per sample axis
    with a multiply-add as 2 (an (m x k)(k x n) product is 2mkn): tanh evaluations (N sum K_l,
    the same for every route) and O(N) or O(|W|) work (residual, mean, ridge terms) are not
    counted.

        forward  F = sum_l N K_l (2 K_{l-1} + 1) + 2NM                 (affine maps, H_L w)
        backprop   F + 3NM + sum_l [3N K_l + N K_l (2 K_{l-1} + 1)] + sum_{l>=2} 2N K_l K_{l-1}
                   (dL/dH_L and grad_w; tanh' g (1 - H^2); grads of W_l and its bias row;
                   the row vector passed down: only vector-matrix products, O(N K^2) a layer)
        explicit   F + 5NM + sum_l [2N K_l + N |W_l| + 3NM |W_l|]
                   + sum_{l=2..L} N K_l K_{l-1} + sum_{l=2..L-1} 2NM K_l K_{l-1}
                   (H_L w again, dL/dH_L, grad_w; 1 - H^2; the chapter's layer Jacobian;
                   dH_L/dW_l = P_l o (it): NM|W_l|; the contraction with dL/dH_L: 2NM|W_l|;
                   A_l; P_{l-1} = P_l A_l, P_{L-1} = A_L is free)
        input_side as explicit, without the P_l products, but per layer l the carried array
                   starts as I o (layer Jacobian), N K_l |W_l|, and goes up every layer:
                   sum_{m=l+1..L} 2N K_m K_{m-1} |W_l|

    At width K >> D (layer 1 thin, |W_1| = (D+1) K) the leading terms are: backprop
    6 (L-1) N K^2, explicit (5L - 7) N K^3, input side (L-1)(L-2) N K^4: time grows linearly
    with depth for the first two (the prefix is shared), quadratically for the input side;
    with width as K^2, K^3, K^4.

    Bytes: the peak, over the steps of each implementation, of the float64 arrays with a
    sample axis alive at once (X and y, O(N) vectors and the parameters not counted). For the
    explicit orders this is simulated step by step as the code allocates; its leading term is
    the Jacobians, 8 N M sum_l |W_l| (`jacobian_bytes`, what the memory guard checks). For
    backprop it is what the algorithm must keep: the activations H_1..H_L and two (N, K_l)
    temporaries of the backward pass (the row vectors coming in and, times tanh', going on),
    8 N (sum_l K_l + 2 max_l K_l). autograd_lite's eager tape keeps about that (it frees what
    it saved as the backward pass goes); the compiled program's buffers differ by a constant.
    """
    N, K = _dims(N, D, widths)
    L, M = len(K) - 1, K[-1]
    layers = range(1, L + 1)
    size = {l: (K[l - 1] + 1) * K[l] for l in layers}  # |W_l|
    forward = sum(N * K[l] * (2 * K[l - 1] + 1) for l in layers) + 2 * N * M
    backprop = (forward + 3 * N * M
                + sum(3 * N * K[l] + N * K[l] * (2 * K[l - 1] + 1) for l in layers)
                + sum(2 * N * K[l] * K[l - 1] for l in layers if l >= 2))
    common = forward + 5 * N * M + sum(2 * N * K[l] + N * size[l] + 2 * N * M * size[l]
                                       for l in layers)
    A_flops = sum(N * K[l] * K[l - 1] for l in layers if l >= 2)
    explicit = (common + A_flops + sum(N * M * size[l] for l in layers)
                + sum(2 * N * M * K[l] * K[l - 1] for l in layers if 2 <= l <= L - 1))
    input_side = (common + A_flops
                  + sum(N * K[l] * size[l]
                        + sum(2 * N * K[m] * K[m - 1] * size[l] for m in range(l + 1, L + 1))
                        for l in layers))
    jacobian_entries = N * M * sum(size.values())
    activations = N * sum(K[1:])
    return {
        "forward": Cost(forward, _FLOAT64 * activations, 0),
        "explicit": Cost(explicit, _FLOAT64 * _peak_output_side(N, K),
                         _FLOAT64 * jacobian_entries),
        "input_side": Cost(input_side, _FLOAT64 * _peak_input_side(N, K),
                           _FLOAT64 * jacobian_entries),
        "backprop": Cost(backprop, _FLOAT64 * (activations + 2 * N * max(K[1:])), 0),
    }


class _Peak:
    """Entries alive and their running maximum, for the step-by-step byte counts."""

    def __init__(self, alive: int) -> None:
        self.alive = self.peak = alive

    def alloc(self, n: int) -> None:
        self.alive += n
        self.peak = max(self.peak, self.alive)

    def free(self, n: int) -> None:
        self.alive -= n


def _peak_output_side(N: int, K: list[int]) -> int:
    """Peak entries of `_output_side_jacobians` plus the contraction that follows it."""
    L, M = len(K) - 1, K[-1]
    # H_1..H_L and S_l = 1 - H_l^2 are alive throughout
    mem = _Peak(2 * N * sum(K[1:]))
    P = 0  # P_L = I has no sample axis
    for l in range(L, 0, -1):
        a = K[l - 1] + 1
        mem.alloc(N * a)  # h~ = [H_{l-1}, 1]
        mem.alloc(N * a * K[l])  # the layer's Jacobian
        mem.free(N * a)
        mem.alloc(N * M * a * K[l])  # dH_L/dW_l, kept
        mem.free(N * a * K[l])
        if l >= 2:
            mem.alloc(N * K[l] * K[l - 1])  # A_l
            if P:
                mem.alloc(N * M * K[l - 1])  # P_{l-1} = P_l A_l
                mem.free(P + N * K[l] * K[l - 1])  # P_l and A_l go
            P = N * M * K[l - 1]
    mem.free(P + N * sum(K[1:]))  # the P_1 and the S_l go when the Jacobians are returned
    mem.alloc(N * M)  # dL/dH_L, contracted with each Jacobian
    return mem.peak


def _peak_input_side(N: int, K: list[int]) -> int:
    """Peak entries of `_input_side_jacobians` plus the contraction that follows it."""
    L, M = len(K) - 1, K[-1]
    A_total = sum(N * K[m] * K[m - 1] for m in range(2, L + 1))  # all A_m, built first
    mem = _Peak(2 * N * sum(K[1:]))
    mem.alloc(A_total)
    for l in range(1, L + 1):
        a = K[l - 1] + 1
        mem.alloc(N * a)
        mem.alloc(N * a * K[l])
        mem.free(N * a)
        carried = N * K[l] * a * K[l]  # dH_l/dW_l = I o (the layer's Jacobian)
        mem.alloc(carried)
        mem.free(N * a * K[l])
        for m in range(l + 1, L + 1):
            mem.alloc(N * K[m] * a * K[l])  # dH_m/dW_l = A_m dH_{m-1}/dW_l
            mem.free(carried)
            carried = N * K[m] * a * K[l]
        # carried is now dH_L/dW_l, kept
    mem.free(A_total + N * sum(K[1:]))
    mem.alloc(N * M)
    return mem.peak


# ---- the model ----------------------------------------------------------------------------------
class DeepJacobianTooLarge(JacobianTooLarge):
    """The explicit Jacobians dH_L/dW_l, l = 1..L, would exceed the configured byte limit."""

    def __init__(self, N: int, D: int, widths: Sequence[int], layer_nbytes: Sequence[int],
                 limit: int) -> None:
        self.N, self.D, self.K = N, D, widths[-1]
        self.widths, self.layer_nbytes = tuple(widths), tuple(layer_nbytes)
        self.nbytes, self.limit = sum(layer_nbytes), limit
        per_layer = ", ".join(format_bytes(b) for b in layer_nbytes)
        MemoryError.__init__(
            self,
            f"the explicit Jacobians dH_L/dW_l of the {len(widths)}-layer network (N={N} "
            f"samples, D={D}, widths K_1..K_L = {list(widths)}) hold N*K_L*sum_l "
            f"(K_(l-1)+1)*K_l = {self.nbytes // 8:,} entries, {self.nbytes:,} bytes "
            f"({format_bytes(self.nbytes)}; per layer {per_layer}), above the limit "
            f"max_jacobian_bytes={limit:,} bytes ({format_bytes(limit)}). Use route='backprop' "
            "or 'compiled', which never materialise them, or raise the limit: "
            "DeepTanhBasis(Ws, max_jacobian_bytes=...).")


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
        local = layer_weight_jacobian(Hs[l], Ss[l])  # (N, a, K_l)
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
        local = layer_weight_jacobian(Hs[l], Ss[l])
        a, K = local.shape[1:]
        carried = np.multiply(np.eye(K)[np.newaxis, :, np.newaxis, :],
                              local[:, np.newaxis, :, :], order="C")
        del local
        for A in As[l:]:  # (N, K_m, K_{m-1}) @ (N, K_{m-1}, a K_l)
            carried = (A @ carried.reshape(N, A.shape[2], a * K)).reshape(N, A.shape[1], a, K)
        Js.append(carried)
    return Js


def _count(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return int(value)


class DeepRidgeRegressionGD:
    """Ridge regression y ~ H_L(W_1..W_L) w, trained by gradient descent on w and every W_l.

    L = 1/2 mean_n (y_n - H_L[n] w)^2 + 1/2 ridge |w|^2 + 1/2 ridge_basis sum_l |W_l|_F^2.
    `w` is None until `fit` or the first prediction (then zeros(K_L)). `route`: "explicit"
    (materialise every dH_L/dW_l, multiplied in `jacobian_order`, and contract dL/dH_L with
    it), "backprop" (the eager tape) or "compiled" (the tape compiled to a numpy program).
    """

    def __init__(self, basis: DeepTanhBasis, learning_rate: float = 0.01,
                 num_iterations: int = 1000, ridge: float = 0.1, ridge_basis: float = 0.1,
                 route: str = "explicit", jacobian_order: str = "output") -> None:
        if not isinstance(basis, DeepTanhBasis):
            raise TypeError(f"basis must be a DeepTanhBasis, got {type(basis).__name__}")
        if route not in ROUTES:
            raise ValueError(f"route must be one of {ROUTES}, got {route!r}")
        if jacobian_order not in JACOBIAN_ORDERS:
            raise ValueError(f"jacobian_order must be one of {JACOBIAN_ORDERS}, got "
                             f"{jacobian_order!r}")
        self.basis = basis
        self.learning_rate = learning_rate
        self.num_iterations = _count(num_iterations, "num_iterations")
        self.ridge = float(ridge)
        self.ridge_basis = float(ridge_basis)
        self.route = route
        self.jacobian_order = jacobian_order
        self.w: np.ndarray | None = None
        L = len(basis.layers)
        # arguments (w, X, y, ridge, ridge_basis, W_1..W_L): differentiate w and the W_l
        argnums = (0, *range(5, 5 + L))
        self.value_and_grad = (ag.compile if route == "compiled" else ag.value_and_grad)(
            deep_ridge_regression_loss, argnums)

    # -- validation ------------------------------------------------------------------------------
    def _data(self, X: ArrayLike, y: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        X = self.basis.design(X)
        if X.shape[0] == 0:
            raise ValueError(f"the data must hold N >= 1 samples; got X.shape={X.shape}")
        y = real_array(y, "y")
        if y.ndim != 1 or y.shape[0] != X.shape[0]:
            raise ValueError(f"y must be 1-D with one value per row of X (N={X.shape[0]}); got "
                             f"y.shape={y.shape}")
        return X, y

    def _weights(self) -> np.ndarray:
        """`self.w`, set to zeros(K_L) first if it is None."""
        self.w = output_weights(self.w, self.basis.widths[-1])
        return self.w

    # -- the model -------------------------------------------------------------------------------
    def pred(self, X: ArrayLike) -> np.ndarray:
        """y_hat = H_L w, shape (N,); sets w = zeros(K_L) if w is None."""
        return self.basis.transform(X) @ self._weights()

    def loss(self, X: ArrayLike, y: ArrayLike) -> float:
        """L(w, W_1..W_L) as in the class docstring."""
        X, y = self._data(X, y)
        return float(deep_ridge_regression_loss(self._weights(), X, y, self.ridge,
                                                self.ridge_basis, *self.basis.Ws))

    def gradients(self, X: ArrayLike, y: ArrayLike) -> tuple[list[np.ndarray], np.ndarray]:
        """([grad_W_1 L, ..., grad_W_L L], grad_w L) at the current parameters (the explicit
        route does not evaluate the loss: fit does not need it)."""
        if self.route == "explicit":
            return self._explicit_gradients(*self._data(X, y))[1:]
        return self.loss_and_gradients(X, y)[1:]

    def loss_and_gradients(self, X: ArrayLike, y: ArrayLike
                           ) -> tuple[float, list[np.ndarray], np.ndarray]:
        """(L, [grad_W_l L], grad_w L) by the model's route: one forward pass, then the
        Jacobians and their contraction (explicit) or one backward pass of the tape."""
        X, y = self._data(X, y)
        w, Ws = self._weights(), self.basis.Ws
        if self.route != "explicit":
            loss, (grad_w, *grad_Ws) = self.value_and_grad(w, X, y, self.ridge, self.ridge_basis,
                                                           *Ws)
            return loss, list(grad_Ws), grad_w
        H, grad_Ws, grad_w = self._explicit_gradients(X, y)
        return float(deep_ridge_loss(H, y, w, Ws, self.ridge, self.ridge_basis)), grad_Ws, grad_w

    def _explicit_gradients(self, X: np.ndarray, y: np.ndarray
                            ) -> tuple[np.ndarray, list[np.ndarray], np.ndarray]:
        """(H_L, [grad_W_l L], grad_w L): one forward pass, the materialised Jacobians and their
        contraction with dL/dH_L (X and y checked already)."""
        w, Ws = self._weights(), self.basis.Ws
        N = X.shape[0]
        self.basis.check_jacobians_size(N)
        Hs = self.basis.activations(X)
        H = Hs[-1]
        Js = self.basis._jacobians(Hs, self.jacobian_order)
        scaled_residuals = -(y - H @ w) / N
        dL_dH = scaled_residuals[:, np.newaxis] * w[np.newaxis, :]  # (N, K_L)
        grad_Ws = [np.tensordot(dL_dH, J, axes=2) + self.ridge_basis * W  # the chain rule
                   for J, W in zip(Js, Ws, strict=True)]
        grad_w = H.T @ scaled_residuals + self.ridge * w
        return H, grad_Ws, grad_w

    def fit(self, X: ArrayLike, y: ArrayLike,
            callback: Callable[[int, DeepRidgeRegressionGD], None] | None = None,
            callback_every: int = 10_000) -> DeepRidgeRegressionGD:
        """Gradient descent from w = 0: W_l -= lr grad_W_l L (in place), w -= lr grad_w L.

        All gradients are taken at the same parameters before any update.
        """
        X, y = self._data(X, y)
        self.w = np.zeros(self.basis.widths[-1])
        for iteration in range(1, self.num_iterations + 1):
            grad_Ws, grad_w = self.gradients(X, y)
            for W, grad_W in zip(self.basis.Ws, grad_Ws, strict=True):
                W -= self.learning_rate * grad_W
            self.w -= self.learning_rate * grad_w
            if callback is not None and iteration % callback_every == 0:
                callback(iteration, self)
        return self
