"""The chapter's Jacobian dPhi/dW three ways, and the scalar loss's gradient two ways.

``python -m benchmarks.jacobian_three_ways [--N 10 100 1000] [--D 1] [--K 3]``

Phi(W) = tanh(X W[:-1] + W[-1]) maps the (D+1)*K entries of W to the N*K entries of Phi: a
*tall* Jacobian when N is large. It is computed

- by the chapter's explicit formula (``TanhBasis.jacobian``: x~[n, d] (1 - tanh^2 Z[n, k]),
  only the non-zero (N, D+1, K) part),
- by forward mode (``autograd_lite.jacfwd``): one pass per *input* entry, (D+1)*K passes,
- by reverse mode (``autograd_lite.jacobian``): one backward pass per *output* entry, N*K passes.

All three are checked to agree, then timed as N grows. Forward mode's pass count does not grow
with N (each pass just gets longer), reverse mode's does: for this tall Jacobian forward mode
wins, and by more the larger N. The scalar loss L(W) is the opposite case, one output and
(D+1)*K inputs: reverse mode gets the whole gradient from one backward pass, forward mode needs
(D+1)*K passes; the second table shows that.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import numpy as np

from autograd_lite import grad, jacfwd, jacobian
from chainrule.model import TanhBasis, ridge_loss, tanh_basis

from .harness import time_round_robin
from .report import table
from .routes import make_problem

RUNTIME = "about 35 s on 2 cores with the defaults (N = 10, 100, 1000; measured 34 s)"

EXPLANATION = """\
Why: forward mode carries one input direction through the computation per pass, reverse mode
one output direction back per pass, and each pass costs a small multiple of one evaluation.
dPhi/dW has N*K outputs and (D+1)*K inputs, so jacfwd needs (D+1)*K passes whatever N is, while
jacobian needs N*K passes: forward mode wins for this tall Jacobian, by a factor that grows with
N. The explicit formula wins outright: it knows that dPhi[n, k]/dW[d, j] vanishes for j != k and
writes only the (N, D+1, K) non-zero part with a few vectorised numpy operations, where the
automatic routes produce (and fill) the full (N, K, D+1, K) matrix. For the scalar loss the roles
swap: one output, so reverse mode (grad) needs one backward pass and forward mode (D+1)*K; that
is why training uses reverse mode (back-propagation)."""


def _full(J: np.ndarray) -> np.ndarray:
    """(N, D+1, K) explicit Jacobian as the full (N, K, D+1, K) one."""
    return np.einsum("ndk,kj->nkdj", J, np.eye(J.shape[2]))


def _timed(routes: dict, target_seconds: float, rounds: int) -> dict[str, float]:
    """Median seconds per call of each route, timed round-robin."""
    timings = time_round_robin(list(routes.values()), target_seconds, rounds)
    return {name: t.median_s for name, t in zip(routes, timings)}


def jacobian_rows(Ns: Sequence[int], D: int, K: int, target_seconds: float,
                  rounds: int) -> list[dict]:
    rows = []
    for N in Ns:
        p = make_problem(N, D, K)
        X, W = p.X, p.W

        def phi(W: np.ndarray, X: np.ndarray = X) -> object:
            return tanh_basis(X, W)

        routes = {"explicit": lambda X=X, W=W: TanhBasis(W).jacobian(X),
                  "jacfwd": lambda phi=phi, W=W: jacfwd(phi)(W),
                  "jacobian": lambda phi=phi, W=W: jacobian(phi)(W)}
        explicit = _full(routes["explicit"]())
        diff = max(float(np.max(np.abs(routes[r]() - explicit))) for r in ("jacfwd", "jacobian"))
        rows.append({"N": N, "outputs": N * K, "inputs": (D + 1) * K, "max_diff": diff,
                     **_timed(routes, target_seconds, rounds)})
    return rows


def gradient_rows(Ns: Sequence[int], D: int, K: int, target_seconds: float,
                  rounds: int) -> list[dict]:
    rows = []
    for N in Ns:
        p = make_problem(N, D, K)
        X, W, y = p.X, p.W, p.y
        w = np.linspace(-1.0, 1.0, K)

        def loss(W: np.ndarray, X: np.ndarray = X, y: np.ndarray = y,
                 w: np.ndarray = w) -> object:
            return ridge_loss(tanh_basis(X, W), y, w, W, 0.1, 0.1)

        routes = {"grad": lambda loss=loss, W=W: grad(loss)(W),
                  "jacfwd": lambda loss=loss, W=W: jacfwd(loss)(W)}
        diff = float(np.max(np.abs(routes["jacfwd"]() - routes["grad"]())))
        rows.append({"N": N, "inputs": (D + 1) * K, "max_diff": diff,
                     **_timed(routes, target_seconds, rounds)})
    return rows


def report(jac_rows: list[dict], grad_rows: list[dict], D: int, K: int) -> str:
    def ms(seconds: float) -> str:
        return f"{1e3 * seconds:.3f}"

    jac = table([[r["N"], r["outputs"], r["inputs"], ms(r["explicit"]), ms(r["jacfwd"]),
                   ms(r["jacobian"]), f"{r['jacobian'] / r['jacfwd']:.1f}×", f"{r['max_diff']:.1e}"]
                  for r in jac_rows],
                 ["N", "outputs N*K", "inputs (D+1)*K", "explicit", "jacfwd", "jacobian",
                  "jacobian / jacfwd", "max abs diff"])
    grads = table([[r["N"], ms(r["grad"]), ms(r["jacfwd"]), f"{r['jacfwd'] / r['grad']:.1f}×",
                     f"{r['max_diff']:.1e}"] for r in grad_rows],
                   ["N", "grad (reverse)", "jacfwd (forward)", "jacfwd / grad", "max abs diff"])
    return "\n".join([
        f"## dPhi/dW, D={D}, K={K}: explicit vs jacfwd vs jacobian (median ms per call)", "", jac,
        "", f"## Gradient of the scalar loss L(W), D={D}, K={K}: one reverse pass vs (D+1)*K = "
        f"{(D + 1) * K} forward passes (median ms per call)", "", grads, "", EXPLANATION])


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks.jacobian_three_ways",
                                description=__doc__.splitlines()[0] + " Prints two tables; "
                                "writes no file.", epilog=f"Runtime: {RUNTIME}.",
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--N", type=int, nargs="+", default=[10, 100, 1000],
                   help="numbers of samples, one row of each table per N")
    p.add_argument("--D", type=int, default=1, help="input dimensions")
    p.add_argument("--K", type=int, default=3, help="tanh basis functions")
    p.add_argument("--target-seconds", type=float, default=0.2,
                   help="shortest timed batch, in seconds")
    p.add_argument("--rounds", type=int, default=5,
                   help="round-robin rounds (median reported)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    p = parser()
    args = p.parse_args(argv)
    if min(*args.N, args.D, args.K, args.rounds) < 1 or not args.target_seconds > 0:
        p.error("N, D, K and --rounds must be >= 1, --target-seconds > 0")
    jac = jacobian_rows(args.N, args.D, args.K, args.target_seconds, args.rounds)
    grads = gradient_rows(args.N, args.D, args.K, args.target_seconds, args.rounds)
    print(report(jac, grads, args.D, args.K))
    worst = max(r["max_diff"] for r in jac + grads)
    if worst > 1e-9:
        print(f"error: the routes disagree (max |diff| {worst:.3g})", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
