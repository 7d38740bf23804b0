"""`python -m chainrule.chapter_tape`: what back-propagation caches for the chapter's loss.

Prints the tape of the chapter's loss L(W, w) (N=100 days, D=1, K=3), then, side by side, the
bytes that tape saves for backward and the bytes of the chapter's explicit N x (D+1) x K
Jacobian, for the chapter's size and for large ones, and draws the tape as a PNG.

The loss is the model's own forward code (`ridge_regression_loss`: `tanh_basis`, then
`ridge_loss`) run on leaf Tensors W and w, exactly what `route="backprop"` differentiates.
Shapes and bytes do not depend on the data's values, so no weather file is needed: the chapter
configuration uses its split's day indices (seed 2) with a seasonal stand-in for the
temperatures, the others random numbers. The tape is really recorded at every size (at most a
few hundred MB); the Jacobian is never allocated, its size is `jacobian_nbytes(N, D, K)`.

For this model the tape keeps X (N x D, a constant the matmul needs), tanh's output Phi (N x K,
also matmul's input: one array), the residual (N) and a few parameter-sized values:
about 8 N (D + K + 1) bytes, against 8 N (D + 1) K bytes for the Jacobian.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from autograd_lite import TapeView, Tensor, view_tape
from autograd_lite.formatting import format_bytes

from . import chapter
from .experiment import DEFAULT_OUT, DOCS, committed_folder
from .model import jacobian_nbytes, ridge_regression_loss

CHAPTER_CONFIG = (100, 1, 3)
LARGE_CONFIGS = ((1_000_000, 1, 3), (10_000, 64, 256))


def chapter_loss(N: int, D: int, K: int,
                 seed: int = 0) -> tuple[Callable[[Tensor, Tensor], Tensor], np.ndarray,
                                         np.ndarray]:
    """(loss(W, w), W0, w0) for N samples, D inputs and K basis functions.

    (100, 1, 3) is the chapter's setting: x = the 100 training days of its split, W0 from the
    chapter, w0 = 0 (where `fit` starts). Other sizes use random data and parameters.
    """
    if (N, D, K) == CHAPTER_CONFIG:
        X = np.random.RandomState(chapter.SEED).permutation(365)[:N].astype(float)[:, None]
        y = 10.0 - 12.0 * np.cos(2 * np.pi * (X[:, 0] - 15.0) / 365)  # a stand-in for TMAX
        W0, w0 = chapter.W0.copy(), np.zeros(K)
    else:
        rng = np.random.default_rng(seed)
        X, y = rng.standard_normal((N, D)), rng.standard_normal(N)
        W0, w0 = 0.1 * rng.standard_normal((D + 1, K)), rng.standard_normal(K)
    def loss(W: Tensor, w: Tensor) -> Tensor:
        return ridge_regression_loss(W, w, X, y, chapter.RIDGE, chapter.RIDGE_BASIS)

    return loss, W0, w0


def chapter_tape(N: int = 100, D: int = 1, K: int = 3) -> TapeView:
    """The tape of the chapter's loss at (N, D, K), leaves named W and w."""
    loss, W0, w0 = chapter_loss(N, D, K)
    tape = view_tape(loss, W0, w0)
    tape.title = f"tape of the chapter's loss L(W, w), N={N:,} D={D} K={K}"
    return tape


@dataclass(frozen=True)
class BytesRow:
    """Tape-saved bytes against the explicit Jacobian's bytes for one (N, D, K)."""

    N: int
    D: int
    K: int
    nodes: int
    saved_per_node: int
    saved_unique: int
    activations: int
    jacobian: int

    @property
    def ratio(self) -> float:
        return self.jacobian / self.saved_unique


def compare_bytes(configs: Sequence[tuple[int, int, int]]) -> list[BytesRow]:
    """Record the tape at each (N, D, K) and measure it; the Jacobian is only counted."""
    rows = []
    for N, D, K in configs:
        tape = chapter_tape(N, D, K)
        rows.append(BytesRow(N, D, K, tape.n_nodes, tape.saved_bytes, tape.unique_saved_bytes,
                             tape.unique_activation_bytes, jacobian_nbytes(N, D, K)))
        del tape
    return rows


def bytes_table(rows: Sequence[BytesRow]) -> str:
    """The side-by-side table, exact bytes and readable units."""
    head = ("N, D, K", "nodes", "tape saves (unique)", "of which activations",
            "explicit Jacobian", "Jacobian/tape")
    body = [(f"{r.N:,}, {r.D}, {r.K}", str(r.nodes), _size(r.saved_unique),
             _size(r.activations), _size(r.jacobian), f"{r.ratio:.1f}x") for r in rows]
    table = [head, *body]
    widths = [max(len(r[c]) for r in table) for c in range(len(head))]
    lines = ["  ".join(cell.rjust(w) if c else cell.ljust(w)
                       for c, (cell, w) in enumerate(zip(r, widths))) for r in table]
    lines.insert(1, "-" * len(lines[0]))
    lines += [
        "tape saves (unique): every array the forward pass keeps for backward, each once:",
        "  X, Phi = tanh(Z), the residual y - Phi w and parameter-sized values, ~ 8 N (D+K+1) B;",
        "  activations = those that are outputs of operations (Phi, the residual, ...), i.e.",
        "  without the data X and the leaves' own arrays.",
        "explicit Jacobian: N x (D+1) x K float64 = 8 N (D+1) K B, counted, never allocated (the",
        "  chapter's gradient_basis_function_W also builds a product of the same size).",
    ]
    return "\n".join(lines)


def _size(n: int) -> str:
    return f"{n:,} B" if n < 10_000 else f"{format_bytes(n)} ({n:,} B)"


RUNTIME = "about 1.5 s on 2 cores, with or without --no-large (measured 1.3 and 1.2 s)"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m chainrule.chapter_tape",
        description="Print the tape back-propagation records for the chapter's loss, compare "
                    "its saved bytes with the explicit Jacobian's, and draw it (tape_chapter.png, "
                    "the DOT text with --dot).", epilog=f"Runtime: {RUNTIME}.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--out", type=Path, default=DEFAULT_OUT,
                   help="folder of the drawing (tape_chapter.png) and the DOT text")
    p.add_argument("--update-committed", action="store_true",
                   help=f"draw into the committed {DOCS / 'tape_chapter.png'} instead of --out")
    p.add_argument("--dot", action="store_true", help="also write the tape as DOT text "
                                                      "(tape_chapter.dot)")
    p.add_argument("--no-large", action="store_true",
                   help=f"compare only the chapter's size, not {LARGE_CONFIGS}")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    folder = committed_folder() if args.update_committed else args.out
    tape = chapter_tape(*CHAPTER_CONFIG)
    print(tape)
    print()
    configs = [CHAPTER_CONFIG] + ([] if args.no_large else list(LARGE_CONFIGS))
    print(bytes_table(compare_bytes(configs)))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"\ntape drawing written to {tape.draw(folder / 'tape_chapter.png')}")
    if args.dot:
        dot = folder / "tape_chapter.dot"
        dot.write_text(tape.to_dot(), encoding="utf-8")
        print(f"DOT text written to {dot}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
