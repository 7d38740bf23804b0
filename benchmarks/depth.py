"""Cost versus depth and width: explicit Jacobian products against back-propagation.

    python -m benchmarks.depth                 # N=1000, D=1: L=1..8 at K=16, K=4..64 at L=4
    python -m benchmarks.depth --quick         # seconds (a smoke test): small sizes

Times one loss + gradients call of `chainrule.deep.DeepRidgeRegressionGD` per route
(explicit with the output-side order, explicit with the input-side order, the eager tape, the
compiled tape) and its peak memory, and prints them beside `chainrule.deep.predicted_costs`.
Routes that materialise the Jacobians stop at the memory guard ("skipped: J would be X GiB");
the input-side order also stops at a flop budget. With a plot directory (default docs/ in the
full run) it writes depth_vs_L.png and depth_vs_K.png: time and memory on log-log axes, the
predicted counts drawn dashed (time: flops scaled through each route's largest measured point;
memory: predicted bytes as they are).

Timing: median over rounds of seconds per call, all routes of one configuration timed
round-robin (each round one batch of every route, so ratios see the same load), batches sized
by timeit's autorange, garbage collector off (timeit's default). Memory: tracemalloc's peak
during one call (both helpers from benchmarks/harness.py, as `python -m benchmarks` uses them).
BLAS runs on one thread unless --blas-threads says otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from autograd_lite.formatting import format_bytes
from chainrule.deep import (
    DeepRidgeRegressionGD,
    DeepTanhBasis,
    jacobians_nbytes,
    predicted_costs,
)
from chainrule.model import DEFAULT_MAX_JACOBIAN_BYTES

from . import harness
from .harness import TOLERANCE, peak_extra_bytes, time_round_robin

GIB = float(1024**3)
DOCS = Path(__file__).resolve().parent.parent / "docs"

#: name -> (model route, jacobian order, key of predicted_costs)
ROUTES: dict[str, tuple[str, str, str]] = {
    "explicit": ("explicit", "output", "explicit"),
    "explicit-input-side": ("explicit", "input", "input_side"),
    "backprop": ("backprop", "output", "backprop"),
    "compiled": ("compiled", "output", "backprop"),
}
REFERENCE = "backprop"


@dataclass
class Sweep:
    name: str  # "L" or "K": the variable on the x axis
    N: int
    D: int
    points: list[tuple[int, ...]]  # widths (K_1..K_L) per point

    def x(self, widths: tuple[int, ...]) -> int:
        return len(widths) if self.name == "L" else widths[0]


def sweeps(quick: bool) -> list[Sweep]:
    if quick:
        return [Sweep("L", 100, 1, [(4,) * L for L in (1, 2, 3)]),
                Sweep("K", 100, 1, [(K,) * 2 for K in (2, 4, 8, 32)])]
    return [Sweep("L", 1000, 1, [(16,) * L for L in range(1, 9)]),
            Sweep("K", 1000, 1, [(K,) * 4 for K in (4, 8, 12, 16, 24, 32, 48, 64)])]


@dataclass
class Row:
    sweep: str
    x: int
    N: int
    D: int
    widths: tuple[int, ...]
    route: str
    predicted_flops: int
    predicted_bytes: int
    jacobian_bytes: int
    status: str = "ok"
    reason: str = ""
    median_s: float | None = None
    rounds_s: list[float] = field(default_factory=list)
    peak_bytes: int | None = None
    relative_difference: float | None = None


def make_problem(N: int, D: int, widths: Sequence[int], seed: int):
    """X uniform in [-2, 2], y = sin of the inputs' sum plus noise; W_l ~ N(0, 1/(K_{l-1}+1))
    (no saturated layers), w ~ N(0, 1)."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, (N, D))
    y = np.sin(X.sum(1)) + 0.1 * rng.normal(size=N)
    K = [D, *widths]
    Ws = [rng.normal(0, (K[l - 1] + 1) ** -0.5, (K[l - 1] + 1, K[l])) for l in range(1, len(K))]
    return X, y, Ws, rng.normal(size=K[-1])


def relative_difference(got: tuple, ref: tuple) -> float:
    """harness.relative_difference over the loss and all gradients, flattened together."""
    def flat(result: tuple) -> np.ndarray:
        loss, grad_Ws, grad_w = result
        return np.concatenate([[loss], *(g.ravel() for g in grad_Ws), grad_w])

    return harness.relative_difference(flat(got), flat(ref))


def _skip_reason(route: str, N: int, D: int, widths: tuple[int, ...], flops: int,
                 args: argparse.Namespace) -> str:
    if ROUTES[route][0] != "explicit":
        return ""
    nbytes = sum(jacobians_nbytes(N, D, widths))
    if nbytes > args.max_jacobian_bytes:
        return (f"skipped: J would be {format_bytes(nbytes)} (> limit "
                f"{format_bytes(args.max_jacobian_bytes)})")
    available = _available_bytes()
    if available is not None and 1.1 * nbytes > 0.8 * available:
        return (f"skipped: J would be {format_bytes(nbytes)} (> 80% of the "
                f"{format_bytes(available)} available)")
    if ROUTES[route][1] == "input" and flops > args.max_input_side_gflop * 1e9:
        return (f"skipped: {flops / 1e9:.3g} Gflop predicted (> --max-input-side-gflop "
                f"{args.max_input_side_gflop:g})")
    return ""


def _available_bytes() -> int | None:
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def measure(sweep: Sweep, widths: tuple[int, ...], args: argparse.Namespace) -> list[Row]:
    """Every route at one configuration: checked against the reference, timed, profiled."""
    N, D = sweep.N, sweep.D
    X, y, Ws, w = make_problem(N, D, widths, args.seed)
    costs = predicted_costs(N, D, widths)
    rows, models, results = [], {}, {}
    for name, (route, order, key) in ROUTES.items():
        cost = costs[key]
        row = Row(sweep.name, sweep.x(widths), N, D, widths, name, cost.flops, cost.bytes,
                  cost.jacobian_bytes)
        rows.append(row)
        row.reason = _skip_reason(name, N, D, widths, cost.flops, args)
        if row.reason:
            row.status = "skipped"
            continue
        model = DeepRidgeRegressionGD(DeepTanhBasis(Ws, args.max_jacobian_bytes), route=route,
                                      jacobian_order=order)
        model.w = w.copy()
        models[name], results[name] = model, model.loss_and_gradients(X, y)
    for row in rows:
        if row.route in models:
            row.relative_difference = relative_difference(results[row.route],
                                                          results[REFERENCE])
            if not row.relative_difference <= TOLERANCE:
                raise AssertionError(f"route {row.route!r} disagrees with {REFERENCE!r} at "
                                     f"N={N}, D={D}, widths={widths}: relative difference "
                                     f"{row.relative_difference:.3e} > {TOLERANCE:.0e}")
    timed = [row for row in rows if row.route in models]
    timings = time_round_robin(
        [lambda m=models[row.route]: m.loss_and_gradients(X, y) for row in timed],
        args.target_seconds, args.rounds)
    for row, timing in zip(timed, timings, strict=True):
        row.rounds_s, row.median_s = timing.rounds_s, timing.median_s
        row.peak_bytes = peak_extra_bytes(lambda m=models[row.route]: m.loss_and_gradients(X, y))
    return rows


def _time(seconds: float) -> str:
    return f"{seconds * 1e3:.3g} ms" if seconds >= 1e-3 else f"{seconds * 1e6:.3g} us"


HEADER = (f"{'L':>2} {'K':>3} {'route':20s} {'time':>9} {'pred. flops':>11} {'ns/flop':>7} "
          f"{'peak memory':>11} {'pred. bytes':>11} {'meas/pred':>9}")


def format_row(row: Row) -> str:
    head = f"{len(row.widths):>2} {row.widths[0]:>3} {row.route:20s}"
    if row.status != "ok":
        return f"{head} {row.reason} (predicted {row.predicted_flops:.3g} flops, " \
               f"{format_bytes(row.predicted_bytes)})"
    return (f"{head} {_time(row.median_s):>9} {row.predicted_flops:>11.3g} "
            f"{row.median_s / row.predicted_flops * 1e9:>7.3f} {format_bytes(row.peak_bytes):>11} "
            f"{format_bytes(row.predicted_bytes):>11} {row.peak_bytes / row.predicted_bytes:>9.2f}")


def slope(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Least-squares slope of log y against log x."""
    return float(np.polyfit(np.log(xs), np.log(ys), 1)[0])


def slopes(rows: list[Row], route: str) -> dict[str, float] | None:
    """Measured and predicted log-log slopes of time and memory over the route's measured
    points (x >= 2: L = 1 has no layer Jacobian products, K = 1 no matrices)."""
    ok = [r for r in rows if r.route == route and r.status == "ok" and r.x >= 2]
    if len(ok) < 2:
        return None
    xs = [r.x for r in ok]
    return {
        "range": (min(xs), max(xs)),
        "time": slope(xs, [r.median_s for r in ok]),
        "flops": slope(xs, [r.predicted_flops for r in ok]),
        "memory": slope(xs, [r.peak_bytes for r in ok]),
        "bytes": slope(xs, [r.predicted_bytes for r in ok]),
    }


def plot(sweep: Sweep, rows: list[Row], path: Path, limit: int) -> None:
    """Time and memory against the sweep's variable, log-log; predictions dashed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_t, ax_m) = plt.subplots(1, 2, figsize=(11, 4.4))
    colours = dict(zip(ROUTES, ("tab:red", "tab:orange", "tab:blue", "tab:green")))
    markers = dict(zip(ROUTES, "osD^"))
    for route in ROUTES:
        mine = [r for r in rows if r.route == route]
        ok = [r for r in mine if r.status == "ok"]
        if not ok:
            continue
        style = dict(color=colours[route], marker=markers[route])
        # the prediction drawn through the largest measured point, where the flops dominate
        # (at small sizes the tape's fixed cost per operation does)
        seconds_per_flop = ok[-1].median_s / ok[-1].predicted_flops
        xs = [r.x for r in ok]
        ax_t.plot(xs, [r.median_s for r in ok], ls="-", label=route, **style)
        ax_t.plot([r.x for r in mine], [r.predicted_flops * seconds_per_flop for r in mine],
                  ls="--", color=colours[route], lw=1)
        ax_m.plot(xs, [r.peak_bytes for r in ok], ls="-", label=route, **style)
        if route != "compiled":  # same predicted bytes as backprop
            ax_m.plot([r.x for r in mine], [r.predicted_bytes for r in mine], ls="--",
                      color=colours[route], lw=1)
        skipped = [r for r in mine if r.status != "ok" and r.reason.startswith("skipped: J")]
        if skipped and route == "explicit":
            ax_m.plot([r.x for r in skipped], [r.predicted_bytes for r in skipped], ls="none",
                      marker="x", ms=9, color=colours[route],
                      label="explicit: skipped at the guard (predicted bytes)")
    ax_m.axhline(limit, color="grey", lw=0.8, ls=":")
    ax_m.annotate(f"memory guard {format_bytes(limit)}", (0.98, limit), color="grey",
                  xycoords=("axes fraction", "data"), va="bottom", ha="right", fontsize=8)
    fixed = (f"N = {sweep.N}, D = {sweep.D}, K = {rows[0].widths[0]}" if sweep.name == "L"
             else f"N = {sweep.N}, D = {sweep.D}, L = {len(rows[0].widths)}")
    label = "depth L (layers)" if sweep.name == "L" else "width K (units per layer)"
    for ax, what in ((ax_t, "time of one loss + gradients call [s]"),
                     (ax_m, "peak memory of one call [bytes]")):
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel(label)
        ax.set_ylabel(what)
        ax.grid(True, which="both", alpha=0.25)
        ax.set_xticks(sorted({r.x for r in rows}), [str(x) for x in sorted({r.x for r in rows})])
    ax_t.set_title(f"time ({fixed}); dashed: predicted flops, scaled to the last point",
                   fontsize=9)
    ax_m.set_title("memory (tracemalloc peak); dashed: predicted bytes", fontsize=9)
    ax_t.legend(fontsize=8, loc="upper left")
    ax_m.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks.depth", description=__doc__.split(
        "\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="N=100, small widths and depths, short rounds (a smoke test)")
    p.add_argument("--plot-dir", type=Path, default=None,
                   help="write depth_vs_L.png and depth_vs_K.png here (default: docs/ for the "
                        "full run, none for --quick)")
    p.add_argument("--no-plots", action="store_true", help="write no plots")
    p.add_argument("--json", type=Path, default=None, help="also write every figure as JSON")
    p.add_argument("--replot", type=Path, default=None, metavar="JSON",
                   help="measure nothing: print the tables and draw the plots of a --json file")
    p.add_argument("--rounds", type=int, default=5, help="round-robin rounds, median reported")
    p.add_argument("--target-seconds", type=float, default=None,
                   help="length of one timed batch (default 0.2 s, 0.005 s with --quick)")
    p.add_argument("--max-jacobian-gib", type=float, default=None,
                   help="skip explicit routes whose Jacobians exceed this (default: the model's "
                        "guard, 2 GiB; 1 MiB with --quick, so that the skip is exercised)")
    p.add_argument("--max-input-side-gflop", type=float, default=10.0,
                   help="skip the input-side order above this many predicted Gflop (default 10)")
    p.add_argument("--blas-threads", type=int, default=1, help="BLAS threads (0: default)")
    p.add_argument("--seed", type=int, default=0)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.rounds < 1 or (args.target_seconds is not None and not args.target_seconds > 0):
        print("error: --rounds must be >= 1 and --target-seconds > 0", file=sys.stderr)
        return 1
    args.target_seconds = args.target_seconds or (0.005 if args.quick else 0.2)
    args.max_jacobian_bytes = (DEFAULT_MAX_JACOBIAN_BYTES if args.max_jacobian_gib is None
                               and not args.quick else
                               int((args.max_jacobian_gib or 1 / 1024) * GIB))
    plot_dir = None if args.no_plots else (args.plot_dir or (None if args.quick else DOCS))
    if args.replot is not None:
        saved = json.loads(args.replot.read_text())
        rows = [Row(**{**r, "widths": tuple(r["widths"])}) for r in saved["rows"]]
        report(rows, saved.get("max_jacobian_bytes", DEFAULT_MAX_JACOBIAN_BYTES), plot_dir)
        return 0
    load_before = _load()
    started = time.perf_counter()
    try:
        with threadpool_limits(args.blas_threads or None, user_api="blas"):  # 0: numpy's own
            all_rows = run(args, plot_dir)
    except AssertionError as e:
        print(f"ABORTED: {e}", file=sys.stderr)
        return 2
    elapsed = time.perf_counter() - started
    load_after = _load()
    print(f"\ntotal {elapsed:.1f} s; load average (1, 5, 15 min) before {load_before}, after "
          f"{load_after}")
    if args.json is not None:
        args.json.write_text(json.dumps({
            "elapsed_s": elapsed, "load_average_before": load_before,
            "load_average_after": load_after, "max_jacobian_bytes": args.max_jacobian_bytes,
            "blas_threads": args.blas_threads, "rows": [asdict(r) for r in all_rows]},
            indent=1))
        print(f"wrote {args.json}")
    return 0


def _load() -> list[float] | None:
    return [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None


def run(args: argparse.Namespace, plot_dir: Path | None) -> list[Row]:
    print(f"one loss + gradients call per route; float64; BLAS threads: "
          f"{args.blas_threads or 'default'}; explicit routes' limit "
          f"{format_bytes(args.max_jacobian_bytes)}; os.cpu_count() = {os.cpu_count()}; "
          f"load average {_load()}")
    all_rows = []
    for sweep in sweeps(args.quick):
        print(_sweep_title(sweep.name, sweep.N, sweep.D, sweep.points[0]))
        rows = []
        for widths in sweep.points:
            for row in measure(sweep, widths, args):
                print(format_row(row), flush=True)
                rows.append(row)
        _summarise(rows, sweep.name, sweep.N, sweep.D, args.max_jacobian_bytes, plot_dir)
        all_rows.extend(rows)
    return all_rows


def report(rows: list[Row], limit: int, plot_dir: Path | None) -> None:
    """The tables, slopes and plots of measured rows (for --replot)."""
    for name in dict.fromkeys(r.sweep for r in rows):
        mine = [r for r in rows if r.sweep == name]
        print(_sweep_title(name, mine[0].N, mine[0].D, mine[0].widths))
        for row in mine:
            print(format_row(row))
        _summarise(mine, name, mine[0].N, mine[0].D, limit, plot_dir)


def _sweep_title(name: str, N: int, D: int, widths: tuple[int, ...]) -> str:
    fixed = f"K = {widths[0]}" if name == "L" else f"L = {len(widths)}"
    return f"\n## {name} sweep: N = {N}, D = {D}, {fixed}\n{HEADER}"


def _summarise(rows: list[Row], name: str, N: int, D: int, limit: int,
               plot_dir: Path | None) -> None:
    print(f"\nlog-log slopes against {name} (least squares over the measured points "
          f"with {name} >= 2): measured (predicted)")
    for route in ROUTES:
        s = slopes(rows, route)
        if s is not None:
            print(f"  {route:20s} {name} = {s['range'][0]}..{s['range'][1]}: time "
                  f"{s['time']:.2f} ({s['flops']:.2f}), memory {s['memory']:.2f} "
                  f"({s['bytes']:.2f})")
    if plot_dir is not None:
        plot_dir.mkdir(parents=True, exist_ok=True)
        path = plot_dir / f"depth_vs_{name}.png"
        plot(Sweep(name, N, D, [r.widths for r in rows]), rows, path, limit)
        print(f"wrote {path}")


if __name__ == "__main__":
    sys.exit(main())
