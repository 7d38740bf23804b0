"""Predicted flops and bytes of one loss + gradients call of `chainrule.deep`'s model, per order
of the chain-rule product: what `python -m benchmarks.depth` prints and draws beside its
measurements.

`predicted_costs(N, D, widths)` counts exactly; its docstring lists every term. The byte counts
of the explicit orders are simulated step by step as chainrule.deep allocates (`_Peak`).
"""

from __future__ import annotations

from collections.abc import Sequence

from chainrule.deep import layer_sizes

from .results import Cost

_FLOAT64 = 8  # bytes per entry


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
    N, K = layer_sizes(N, D, widths)
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
