"""``python -m benchmarks [--quick] [--out DIR] [--plot-dir DIR] [--routes ...] [--configs ...]``

Prints the markdown report and writes it with the JSON of the results (``bench.md`` and
``bench.json``, or ``bench_quick.*`` with ``--quick``) into --out and four PNG plots into
--plot-dir. Exit status 2 on bad arguments, and when a route disagrees with the reference (then
nothing is written).
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


def _parser(names: list[str]) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description="Time, memory and fit "
                                "cost of the loss + gradients routes of chainrule's model.")
    p.add_argument("--quick", action="store_true", help="a few small configurations (seconds)")
    p.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results",
                   help="directory of the markdown and JSON (default: benchmarks/results)")
    p.add_argument("--plot-dir", type=Path, help="directory of the plots (default: --out)")
    p.add_argument("--no-plots", action="store_true")
    p.add_argument("--routes", nargs="+", choices=names, metavar="ROUTE",
                   help=f"routes to run (default: all installed): {', '.join(names)}")
    p.add_argument("--configs", nargs="+", type=parse_config, metavar="NxDxK",
                   help="configurations, e.g. 100x1x3 1e4x8x64 (default: the mode's)")
    p.add_argument("--rounds", type=int, default=5, help="round-robin rounds, >= 5 (default 5)")
    p.add_argument("--target-seconds", type=float,
                   help="shortest batch (default 0.2 s; 0.02 s with --quick)")
    p.add_argument("--fit-iterations", type=int,
                   help="iterations per timed fit() (default 3000; 300 with --quick)")
    p.add_argument("--max-jacobian-gib", type=float, default=DEFAULT_MAX_JACOBIAN_BYTES / 2**30,
                   help="skip the routes that materialise a larger Jacobian (default 2)")
    p.add_argument("--blas-threads", type=int, default=1,
                   help="threads of numpy's BLAS (default 1, as torch-1t; 0: the default)")
    p.add_argument("--seed", type=int, default=0)
    return p


def main(argv: Sequence[str] | None = None, extra_routes: Sequence[Route] = ()) -> int:
    """Run the benchmark; `extra_routes` are added to ROUTES (the tests add a wrong one)."""
    routes = [*ROUTES, *extra_routes]
    parser = _parser([r.name for r in routes])
    args = parser.parse_args(argv)
    quick = args.quick
    for name, default in (("target_seconds", 0.02 if quick else 0.2),
                          ("fit_iterations", 300 if quick else 3000)):
        if getattr(args, name) is None:
            setattr(args, name, default)
    if args.rounds < 5 or args.target_seconds <= 0 or args.fit_iterations < 1 or min(
            args.max_jacobian_gib, args.blas_threads) < 0:
        parser.error("need --rounds >= 5, --target-seconds > 0, --fit-iterations >= 1, "
                     "--max-jacobian-gib >= 0 and --blas-threads >= 0")
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
    args.out.mkdir(parents=True, exist_ok=True)
    if not args.no_plots:
        from . import plots  # matplotlib only when plotting

        results.plots = plots.write_plots(results, args.plot_dir or args.out, prefix)
    text = report.render(results)
    (args.out / f"{prefix}.md").write_text(text + "\n", encoding="utf-8")
    (args.out / f"{prefix}.json").write_text(
        json.dumps(dataclasses.asdict(results), indent=1) + "\n", encoding="utf-8")
    print(text)
    print(f"\nwrote {args.out / prefix}.md, .json and {len(results.plots)} plots")
    return 0


if __name__ == "__main__":
    sys.exit(main())
