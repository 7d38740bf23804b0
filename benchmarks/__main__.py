"""``python -m benchmarks [--quick] [--out DIR] [--update-committed] [--configs ...] ...``

Prints the markdown report and writes it with the JSON of the results (``bench.md`` and
``bench.json``, or ``bench_quick.*`` with ``--quick``) and four PNG plots into --out, a folder
under the system's temporary directory by default: nothing goes into the source tree unless
asked. ``--update-committed`` rewrites the committed ``benchmarks/results/bench.{md,json}`` and
``docs/bench_*.png`` instead. Exit status 2 on bad arguments, and when a route disagrees with
the reference (then nothing is written).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from threadpoolctl import threadpool_limits

from chainrule.model import DEFAULT_MAX_JACOBIAN_BYTES

from . import harness, report
from .results import Settings
from .routes import REFERENCE, ROUTES, Route

FULL_CONFIGS = [(100, 1, 3), (1_000, 1, 3), (10_000, 1, 3), (100_000, 1, 3), (1_000_000, 1, 3),
                (10_000, 4, 16), (10_000, 8, 64), (100_000, 16, 64), (10_000, 64, 256),
                (100_000, 64, 64)]  # the last: J is 3.1 GiB, beyond the default guard
QUICK_CONFIGS = [(100, 1, 3), (1_000, 1, 3), (1_000, 8, 64)]


def parse_config(text: str) -> tuple[int, int, int]:
    """'1e4x8x64' -> (10000, 8, 64)."""
    try:
        N, D, K = text.lower().split("x")
        size = (int(float(N)), int(D), int(K))
        if float(N) == size[0] and min(size) >= 1:
            return size
    except (ValueError, OverflowError):  # not 3 parts, not numbers, inf
        pass
    raise argparse.ArgumentTypeError(f"{text!r} is not NxDxK, whole numbers >= 1 (e.g. 1e4x8x64)")


RUNTIME = ("on 2 cores, the full run (10 configurations and the fit loops) about 4 minutes "
           "without the peers (measured 226 s), about 6 with torch, HIPS autograd and JAX; "
           "--quick: about 10 s (measured 7.7 s)")


def parser(names: list[str]) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks", description="Time, memory and fit cost of the loss + "
        "gradients routes of chainrule's model, against the chapter's code, a hand-fused floor "
        "and the installed peers.", epilog=f"Runtime: {RUNTIME}.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--quick", action="store_true", help="a few small configurations (seconds)")
    p.add_argument("--out", type=Path, default=harness.DEFAULT_OUT,
                   help="folder of the markdown, the JSON and the plots")
    p.add_argument("--update-committed", action="store_true",
                   help=f"write bench.md and bench.json into {harness.COMMITTED_RESULTS} and "
                        f"the plots into {harness.DOCS} (the committed results) instead of --out "
                        "(a full run only)")
    p.add_argument("--no-plots", action="store_true", help="write no plots")
    p.add_argument("--routes", nargs="+", choices=names, metavar="ROUTE",
                   help=f"routes to run (None: all installed): {', '.join(names)}")
    p.add_argument("--configs", nargs="+", type=parse_config, metavar="NxDxK",
                   help="configurations, e.g. 100x1x3 1e4x8x64 (None: the mode's)")
    p.add_argument("--rounds", type=int, default=5, help="round-robin rounds, >= 5")
    p.add_argument("--target-seconds", type=float,
                   help="shortest timed batch in seconds (None: 0.2 s; 0.02 s with --quick)")
    p.add_argument("--fit-iterations", type=int,
                   help="iterations per timed fit() (None: 3000; 300 with --quick)")
    p.add_argument("--max-jacobian-gib", type=float, default=DEFAULT_MAX_JACOBIAN_BYTES / 2**30,
                   help="skip the routes that materialise a larger Jacobian (GiB)")
    p.add_argument("--blas-threads", type=int, default=1,
                   help="threads of numpy's BLAS (1, as torch-1t; 0: the library's default)")
    p.add_argument("--seed", type=int, default=0, help="seed of the problems' random data")
    return p


def main(argv: Sequence[str] | None = None, extra_routes: Sequence[Route] = ()) -> int:
    """Run the benchmark; `extra_routes` are added to ROUTES (the tests add a wrong one)."""
    routes = [*ROUTES, *extra_routes]
    p = parser([r.name for r in routes])
    args = p.parse_args(argv)
    quick = args.quick
    for name, default in (("target_seconds", 0.02 if quick else 0.2),
                          ("fit_iterations", 300 if quick else 3000)):
        if getattr(args, name) is None:
            setattr(args, name, default)
    if args.rounds < 5 or args.target_seconds <= 0 or args.fit_iterations < 1 or min(
            args.max_jacobian_gib, args.blas_threads) < 0:
        p.error(f"need --rounds >= 5, --target-seconds > 0, --fit-iterations >= 1, "
                f"--max-jacobian-gib >= 0 and --blas-threads >= 0; got {args.rounds}, "
                f"{args.target_seconds}, {args.fit_iterations}, {args.max_jacobian_gib} and "
                f"{args.blas_threads}")
    if args.update_committed and (quick or args.configs or args.routes):
        p.error("--update-committed rewrites the committed results of the full run: it "
                "takes no --quick, --configs or --routes")
    if args.routes:
        routes = [r for r in routes if r.name in args.routes]
    settings = Settings(
        mode="quick" if quick else "full",
        configs=args.configs or (QUICK_CONFIGS if quick else FULL_CONFIGS),
        rounds=args.rounds, target_seconds=args.target_seconds,
        fit_iterations=args.fit_iterations, seed=args.seed, tolerance=harness.TOLERANCE,
        reference=REFERENCE,
        max_jacobian_bytes=int(args.max_jacobian_gib * 2**30),
        blas_threads=args.blas_threads or None,
    )
    with threadpool_limits(settings.blas_threads, user_api="blas"):
        try:
            results = harness.run(settings, routes)
        except harness.AgreementError as error:
            print(f"ABORTED: {error}", file=sys.stderr)
            return 2
    prefix = "bench_quick" if quick else "bench"
    out, plot_dir = ((harness.COMMITTED_RESULTS, harness.DOCS) if args.update_committed
                     else (args.out, args.out))
    out.mkdir(parents=True, exist_ok=True)
    if not args.no_plots:
        from . import plots  # matplotlib only when plotting

        results.plots = plots.write_plots(results, plot_dir, prefix)
    text = report.render(results)
    (out / f"{prefix}.md").write_text(text + "\n", encoding="utf-8")
    (out / f"{prefix}.json").write_text(
        json.dumps(dataclasses.asdict(results), indent=1) + "\n", encoding="utf-8")
    print(text)
    print(f"\nwrote {out / prefix}.md, .json" + (f" and {len(results.plots)} plots into "
                                                  f"{plot_dir}" if results.plots else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
