"""Command line: ``python -m benchmarks [--quick] [--out DIR] [--routes ...] [--configs ...]``.

Prints a markdown report (tables, training view, targets) and writes ``<prefix>.json``,
``<prefix>.md`` and ``<prefix>_*.png`` (prefix ``bench``, or ``bench_quick`` with ``--quick``).
Exit status: 0 on success, 2 if a route disagrees with the reference (nothing is written then),
1 on bad arguments.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Time, memory and scaling of the loss + gradient routes of the tanh "
                    "basis-function ridge regression (explicit Jacobian vs back-propagation).",
    )
    p.add_argument("--quick", action="store_true",
                   help="small configurations and ~0.02 s samples (seconds in total)")
    p.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results",
                   help="directory for the JSON and markdown (default: benchmarks/results/)")
    p.add_argument("--plot-dir", type=Path, default=None,
                   help="directory for the PNG plots (default: same as --out)")
    p.add_argument("--routes", nargs="+", metavar="ROUTE",
                   help="routes to run (default: all; peers are skipped when not installed)")
    p.add_argument("--configs", nargs="+", metavar="NxDxK",
                   help="configurations, e.g. 100x1x3 1e4x8x64 (default: the mode's set)")
    p.add_argument("--max-jacobian-gib", type=float, default=None,
                   help="skip Jacobian-materialising routes when J would exceed this many GiB "
                        "(default: chainrule's DEFAULT_MAX_JACOBIAN_BYTES, 2 GiB)")
    p.add_argument("--samples", type=int, default=5,
                   help="timed samples per measurement, >= 5 (median reported; default 5)")
    p.add_argument("--target-seconds", type=float, default=None,
                   help="minimum duration of one sample (default 0.2 s, 0.02 s with --quick)")
    p.add_argument("--seed", type=int, default=0, help="data seed (default 0)")
    p.add_argument("--blas-threads", type=int, default=1,
                   help="threads for numpy's BLAS (default 1, so numpy routes compare with "
                        "PyTorch on one thread and are not disturbed by other load; 0 = the "
                        "library's default)")
    p.add_argument("--no-plots", action="store_true", help="do not write PNG plots")
    p.add_argument("--list-routes", action="store_true", help="list the routes and exit")
    return p


def limit_blas_threads(n: int) -> dict[str, Any]:
    """Limit numpy's BLAS to ``n`` threads (0: leave the default). Uses threadpoolctl if it is
    installed; otherwise environment variables, which work only before numpy is imported."""
    info: dict[str, Any] = {"requested": n or "default"}
    if n <= 0:
        info["effective"] = "default"
        return info
    try:
        import threadpoolctl
    except ImportError:
        threadpoolctl = None
    if threadpoolctl is not None:
        import numpy  # noqa: F401  (load the BLAS so that threadpoolctl can see it)

        limiter = threadpoolctl.threadpool_limits(n, user_api="blas")
        info.update(method="threadpoolctl", effective=n)
        info["_restore"] = limiter.restore_original_limits
    elif "numpy" not in sys.modules:
        for var in _THREAD_VARS:
            os.environ[var] = str(n)
        info.update(method="environment variables before numpy import", effective=n)
    else:
        info.update(method="none (numpy already imported and threadpoolctl not installed)",
                    effective="default (could not limit)")
    return info


def main(argv: Sequence[str] | None = None, routes: Sequence[Any] | None = None) -> int:
    """Run the benchmark; ``routes`` replaces the default route list (tests inject routes)."""
    args = _parser().parse_args(argv)
    if args.samples < 5:
        print("error: --samples must be >= 5", file=sys.stderr)
        return 1
    blas = limit_blas_threads(args.blas_threads)
    restore = blas.pop("_restore", None)
    try:
        return _run(args, blas, routes)
    finally:
        if restore is not None:  # in-process callers (tests) get their thread pools back
            restore()


def _run(args: argparse.Namespace, blas: dict[str, Any], routes: Sequence[Any] | None) -> int:
    # heavy imports only now (numpy after the BLAS limit)
    from . import harness, report
    from .problem import FULL_CONFIGS, QUICK_CONFIGS, parse_config
    from .routes import default_routes

    all_routes = list(routes) if routes is not None else default_routes()
    if args.list_routes:
        for r in all_routes:
            reason = r.unavailable_reason()
            print(f"{r.name:16s} {'(' + reason + ') ' if reason else ''}{r.description}")
        return 0
    try:
        configs = ([parse_config(c) for c in args.configs] if args.configs
                   else (QUICK_CONFIGS if args.quick else FULL_CONFIGS))
        settings = harness.Settings(
            configs=configs,
            routes=args.routes,
            target_seconds=args.target_seconds or (0.02 if args.quick else 0.2),
            samples=args.samples,
            seed=args.seed,
            mode="quick" if args.quick else "full",
            blas_threads=blas,
            progress=lambda msg: print(msg, file=sys.stderr, flush=True),
        )
        if args.max_jacobian_gib is not None:
            if not args.max_jacobian_gib >= 0:
                raise ValueError("--max-jacobian-gib must be >= 0")
            settings.max_jacobian_bytes = int(args.max_jacobian_gib * 1024**3)
        harness.select_routes(all_routes, args.routes)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1

    try:
        results = harness.run(settings, all_routes)
    except harness.AgreementError as e:
        print(f"ABORTED: {e}", file=sys.stderr)
        return 2

    results["targets"] = report.evaluate_targets(results)
    prefix = "bench_quick" if args.quick else "bench"
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    if not args.no_plots:
        from . import plots

        plot_dir = args.plot_dir or out
        results["plots"] = plots.write_plots(results, plot_dir, prefix)
    text = report.render(results)
    (out / f"{prefix}.md").write_text(text, encoding="utf-8")
    with open(out / f"{prefix}.json", "w", encoding="utf-8") as f:
        json.dump(results, f, indent=1, default=str)
        f.write("\n")
    print(text)
    print(f"wrote {out / (prefix + '.json')}, {out / (prefix + '.md')}"
          + (f" and {len(results['plots'])} plots in {plot_dir}" if not args.no_plots else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
