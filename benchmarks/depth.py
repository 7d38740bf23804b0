"""Cost versus depth and width: explicit Jacobian products against back-propagation.

    python -m benchmarks.depth                 # N=1000, D=1: L=1..8 at K=16, K=4..64 at L=4
    python -m benchmarks.depth --quick         # about 5 s (a smoke test): small sizes

Times one loss + gradients call of `chainrule.deep.DeepRidgeRegressionGD` per route
(explicit with the output-side order, explicit with the input-side order, the eager tape, the
compiled tape) and its peak memory, and prints them beside `depth_costs.predicted_costs`.
Routes that materialise the Jacobians stop at the memory guard ("skipped: J would be X GiB");
the input-side order also stops at a flop budget. Writes depth.json (depth_quick.json) and the
plots depth_vs_L.png and depth_vs_K.png (time and memory on log-log axes, the predicted counts
dashed: time as flops scaled through each route's largest measured point, memory as predicted
bytes) into --out; --update-committed redraws the committed plots in docs/ instead.

The measurement is `python -m benchmarks`'s: the same problem (routes.make_problem), agreement
check (harness.check_agreement, against the eager tape), round-robin timer and tracemalloc peak
(harness), result schema (results.DepthResults) and table rendering (report.table).
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from autograd_lite.formatting import format_bytes
from chainrule.deep import DeepRidgeRegressionGD, DeepTanhBasis, jacobians_nbytes
from chainrule.model import DEFAULT_MAX_JACOBIAN_BYTES

from . import harness
from . import results as schema
from .depth_costs import predicted_costs
from .report import fmt_time, table
from .routes import make_problem

GIB = float(1024**3)
RUNTIME = ("about 2.5 minutes on 2 cores for the full sweeps (measured 147 s), about 5 s with "
           "--quick; --replot: about 2 s")

#: name -> (model route, jacobian order, key of predicted_costs, backend)
ROUTES: dict[str, tuple[str, str, str, str]] = {
    "explicit": ("explicit", "output", "explicit", "numpy"),
    "explicit-input-side": ("explicit", "input", "input_side", "numpy"),
    "backprop": ("backprop", "output", "backprop", "numpy"),
    "compiled": ("compiled", "output", "backprop", "numpy"),
    "compiled-jax": ("compiled", "output", "backprop", "jax"),  # if JAX is installed
}
REFERENCE = "backprop"


@dataclass
class Sweep:
    name: str  # "L" or "K": the variable on the x axis
    N: int
    D: int
    points: list[tuple[int, ...]]  # widths (K_1..K_L) per point

    def x(self, widths: Sequence[int]) -> int:
        return len(widths) if self.name == "L" else widths[0]


def sweeps(quick: bool) -> list[Sweep]:
    if quick:
        return [Sweep("L", 100, 1, [(4,) * L for L in (1, 2, 3)]),
                Sweep("K", 100, 1, [(K,) * 2 for K in (2, 4, 8, 32)])]
    return [Sweep("L", 1000, 1, [(16,) * L for L in range(1, 9)]),
            Sweep("K", 1000, 1, [(K,) * 4 for K in (4, 8, 12, 16, 24, 32, 48, 64)])]


def _skip_reason(route: str, N: int, D: int, widths: tuple[int, ...], flops: int,
                 settings: schema.DepthSettings) -> str | None:
    if ROUTES[route][0] != "explicit":
        return None
    nbytes = sum(jacobians_nbytes(N, D, widths))
    if nbytes > settings.max_jacobian_bytes:
        return (f"skipped: J would be {format_bytes(nbytes)} (> limit "
                f"{format_bytes(settings.max_jacobian_bytes)})")
    available = _available_bytes()
    if available is not None and 1.1 * nbytes > 0.8 * available:
        return (f"skipped: J would be {format_bytes(nbytes)} (> 80% of the "
                f"{format_bytes(available)} available)")
    if ROUTES[route][1] == "input" and flops > settings.max_input_side_flops:
        return (f"skipped: {flops / 1e9:.3g} Gflop predicted (> --max-input-side-gflop "
                f"{settings.max_input_side_flops / 1e9:g})")
    return None


def _available_bytes() -> int | None:
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _flat(result: tuple) -> tuple[float, np.ndarray]:
    """(loss, every gradient flattened into one vector): the gradients are compared as one
    quantity, relative to the largest entry of any layer (a layer's own gradient may cancel to
    near zero, where its relative rounding means nothing)."""
    loss, grad_Ws, grad_w = result
    return loss, np.concatenate([*(g.ravel() for g in grad_Ws), grad_w])


def measure(sweep: Sweep, widths: tuple[int, ...],
            settings: schema.DepthSettings) -> schema.DepthConfig:
    """Every route at one configuration: checked against the reference, timed, profiled."""
    N, D = sweep.N, sweep.D
    p = make_problem(N, D, widths, settings.seed)
    costs = predicted_costs(N, D, widths)
    config = schema.DepthConfig(sweep.name, sweep.x(widths), N, D, list(widths), [])
    models, outputs = {}, {}
    for name, (route, order, key, backend) in ROUTES.items():
        result = schema.RouteResult(name, predicted=costs[key])
        config.routes.append(result)
        result.skipped = _skip_reason(name, N, D, widths, costs[key].flops, settings)
        if backend == "jax" and importlib.util.find_spec("jax") is None:
            result.skipped = "skipped: JAX not installed (pip install -e '.[jax]')"
        if result.skipped:
            continue
        model = DeepRidgeRegressionGD(DeepTanhBasis(list(p.Ws), settings.max_jacobian_bytes),
                                      route=route, jacobian_order=order, backend=backend)
        model.w = np.array(p.w)
        models[name], outputs[name] = model, _flat(model.loss_and_gradients(p.X, p.y))
    where = f"N={N}, D={D}, widths={list(widths)}"
    measured = [r for r in config.routes if r.route in models]
    for result in measured:
        result.relative_difference = harness.check_agreement(
            result.route, where, outputs[result.route], outputs[settings.reference],
            settings.tolerance, settings.reference, ("loss", "gradients"))
    calls = [lambda m=models[r.route]: m.loss_and_gradients(p.X, p.y) for r in measured]
    timings = harness.time_round_robin(calls, settings.target_seconds, settings.rounds)
    for result, call, timing in zip(measured, calls, timings, strict=True):
        result.time = timing
        if ROUTES[result.route][3] == "numpy":  # tracemalloc does not see XLA's memory
            result.peak_bytes = harness.peak_extra_bytes(call)
    harness.say(f"{sweep.name} sweep, {where}: " + ", ".join(
        f"{r.route} {fmt_time(r.time.median_s)}" for r in measured))
    return config


# ---- the tables -----------------------------------------------------------------------------
HEADERS = ["L", "K", "route", "time", "predicted flops", "ns / flop", "peak memory",
           "predicted bytes", "measured / predicted"]


def rows(config: schema.DepthConfig) -> list[list[str]]:
    """One table row per route of a configuration."""
    out = []
    for r in config.routes:
        head = [str(len(config.widths)), str(config.widths[0]), r.route]
        c = r.predicted
        if r.time is None:
            out.append(head + [r.skipped or "not measured", f"{c.flops:.3g}", "", "",
                               format_bytes(c.bytes), ""])
            continue
        seen = r.peak_bytes is not None  # tracemalloc does not see XLA's memory
        out.append(head + [fmt_time(r.time.median_s), f"{c.flops:.3g}",
                           f"{r.time.median_s / c.flops * 1e9:.3f}",
                           format_bytes(r.peak_bytes) if seen else "not measured (XLA)",
                           format_bytes(c.bytes), f"{r.peak_bytes / c.bytes:.2f}" if seen else ""])
    return out


def slope(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Least-squares slope of log y against log x."""
    return float(np.polyfit(np.log(xs), np.log(ys), 1)[0])


def _measured(configs: list[schema.DepthConfig], route: str
              ) -> list[tuple[int, schema.RouteResult]]:
    return [(c.x, r) for c in configs for r in c.routes if r.route == route and r.time]


def slopes(configs: list[schema.DepthConfig], route: str) -> dict[str, object] | None:
    """Measured and predicted log-log slopes of time and memory over the route's measured
    points (x >= 2: L = 1 has no layer Jacobian products, K = 1 no matrices)."""
    ok = [(x, r) for x, r in _measured(configs, route) if x >= 2]
    if len(ok) < 2:
        return None
    xs = [x for x, _ in ok]
    return {
        "range": (min(xs), max(xs)),
        "time": slope(xs, [r.time.median_s for _, r in ok]),
        "flops": slope(xs, [r.predicted.flops for _, r in ok]),
        "memory": slope(xs, [r.peak_bytes for _, r in ok]) if all(
            r.peak_bytes is not None for _, r in ok) else float("nan"),
        "bytes": slope(xs, [r.predicted.bytes for _, r in ok]),
    }


def summary(configs: list[schema.DepthConfig]) -> str:
    """One sweep's table and slopes."""
    first = configs[0]
    fixed = f"K = {first.widths[0]}" if first.sweep == "L" else f"L = {len(first.widths)}"
    lines = [f"## {first.sweep} sweep: N = {first.N}, D = {first.D}, {fixed}", "",
             table([row for c in configs for row in rows(c)], HEADERS), "",
             f"log-log slopes against {first.sweep} (least squares over the measured points "
             f"with {first.sweep} >= 2): measured (predicted)"]
    for route in ROUTES:
        s = slopes(configs, route)
        if s is not None:
            memory = ("not measured (XLA)" if s["memory"] != s["memory"]
                      else f"{s['memory']:.2f} ({s['bytes']:.2f})")
            lines.append(f"  {route:20s} {first.sweep} = {s['range'][0]}..{s['range'][1]}: "
                         f"time {s['time']:.2f} ({s['flops']:.2f}), memory {memory}")
    return "\n".join(lines)


def by_sweep(results: schema.DepthResults) -> dict[str, list[schema.DepthConfig]]:
    out: dict[str, list[schema.DepthConfig]] = {}
    for c in results.configs:
        out.setdefault(c.sweep, []).append(c)
    return out


# ---- the plots ------------------------------------------------------------------------------
def plot(configs: list[schema.DepthConfig], path: Path, limit: int) -> Path:
    """Time and memory against the sweep's variable, log-log; predictions dashed. One legend,
    below both panels, so that it covers no line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    fig, (ax_t, ax_m) = plt.subplots(1, 2, figsize=(11, 5.2))
    colours = dict(zip(ROUTES, ("tab:red", "tab:orange", "tab:blue", "tab:green",
                                "tab:purple")))
    markers = dict(zip(ROUTES, "osD^v"))
    handles = []
    for route in ROUTES:
        mine = [(c.x, r) for c in configs for r in c.routes if r.route == route]
        ok = _measured(configs, route)
        if not ok:
            continue
        style = dict(color=colours[route], marker=markers[route])
        # the prediction drawn through the largest measured point, where the flops dominate
        # (at small sizes the tape's fixed cost per operation does)
        seconds_per_flop = ok[-1][1].time.median_s / ok[-1][1].predicted.flops
        xs = [x for x, _ in ok]
        handles += ax_t.plot(xs, [r.time.median_s for _, r in ok], ls="-", label=route, **style)
        ax_t.plot([x for x, _ in mine], [r.predicted.flops * seconds_per_flop for _, r in mine],
                  ls="--", color=colours[route], lw=1)
        if all(r.peak_bytes is not None for _, r in ok):  # (XLA's memory is not measured)
            ax_m.plot(xs, [r.peak_bytes for _, r in ok], ls="-", **style)
        if not route.startswith("compiled"):  # the same predicted bytes as backprop
            ax_m.plot([x for x, _ in mine], [r.predicted.bytes for _, r in mine], ls="--",
                      color=colours[route], lw=1)
        guarded = [(x, r) for x, r in mine if (r.skipped or "").startswith("skipped: J")]
        if guarded and route == "explicit":
            handles += ax_m.plot([x for x, _ in guarded], [r.predicted.bytes for _, r in guarded],
                                 ls="none", marker="x", ms=9, color=colours[route],
                                 label="explicit: skipped at the guard (predicted bytes)")
    handles.append(Line2D([], [], color="0.3", ls="--", lw=1,
                          label="predicted (time: flops scaled to the last point; memory: bytes)"))
    ax_m.axhline(limit, color="grey", lw=0.8, ls=":")
    ax_m.annotate(f"memory guard {format_bytes(limit)}", (0.02, limit), color="grey",
                  xycoords=("axes fraction", "data"), va="bottom", ha="left", fontsize=8)
    first = configs[0]
    fixed = (f"N = {first.N}, D = {first.D}, K = {first.widths[0]}" if first.sweep == "L"
             else f"N = {first.N}, D = {first.D}, L = {len(first.widths)}")
    label = ("depth L (number of tanh layers)" if first.sweep == "L"
             else "width K (tanh units per layer)")
    ticks = sorted({c.x for c in configs})
    for ax, what in ((ax_t, "time of one loss + gradients call [s]"),
                     (ax_m, "peak memory of one call [bytes]")):
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel(label)
        ax.set_ylabel(what)
        ax.grid(True, which="both", alpha=0.25)
        ax.set_xticks(ticks, [str(x) for x in ticks])
    ax_t.set_title("time per call (median)", fontsize=10)
    ax_m.set_title("peak memory per call (tracemalloc)", fontsize=10)
    fig.suptitle(f"Deep tanh network, one loss + gradients call against {first.sweep} ({fixed})",
                 fontsize=11)
    fig.legend(handles=handles, loc="lower center", ncol=3, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


# ---- the command ----------------------------------------------------------------------------
def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.depth", description=__doc__.split("\n\n")[0],
        epilog=f"Runtime: {RUNTIME}.", formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="N=100, small widths and depths, short rounds (a smoke test)")
    p.add_argument("--out", type=Path, default=harness.DEFAULT_OUT,
                   help="folder of depth.json (depth_quick.json with --quick) and the plots")
    p.add_argument("--update-committed", action="store_true",
                   help=f"draw the plots into the committed {harness.DOCS} instead of --out "
                        "(the JSON still goes to --out)")
    p.add_argument("--no-plots", action="store_true", help="write no plots")
    p.add_argument("--replot", type=Path, default=None, metavar="JSON",
                   help="measure nothing: print the tables and draw the plots of a depth JSON")
    p.add_argument("--rounds", type=int, default=5, help="round-robin rounds, median reported")
    p.add_argument("--target-seconds", type=float, default=None,
                   help="length of one timed batch (None: 0.2 s, 0.005 s with --quick)")
    p.add_argument("--max-jacobian-gib", type=float, default=None,
                   help="skip explicit routes whose Jacobians exceed this (None: the model's "
                        "guard, 2 GiB; 1 MiB with --quick, so that the skip is exercised)")
    p.add_argument("--max-input-side-gflop", type=float, default=10.0,
                   help="skip the input-side order above this many predicted Gflop")
    p.add_argument("--blas-threads", type=int, default=1,
                   help="threads of numpy's BLAS (0: the library's default)")
    p.add_argument("--seed", type=int, default=0, help="seed of the problem's random data")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    p = parser()
    args = p.parse_args(argv)
    if args.rounds < 1 or (args.target_seconds is not None and not args.target_seconds > 0) or (
            args.blas_threads < 0):
        p.error(f"--rounds must be >= 1, --target-seconds > 0 and --blas-threads >= 0; got "
                f"{args.rounds}, {args.target_seconds} and {args.blas_threads}")
    plot_dir = None if args.no_plots else harness.DOCS if args.update_committed else args.out
    if args.replot is not None:
        results = schema.load(schema.DepthResults, json.loads(args.replot.read_text()))
        report(results, plot_dir)
        return 0
    quick = args.quick
    settings = schema.DepthSettings(
        mode="quick" if quick else "full", rounds=args.rounds,
        target_seconds=args.target_seconds or (0.005 if quick else 0.2), seed=args.seed,
        tolerance=harness.TOLERANCE, reference=REFERENCE,
        max_jacobian_bytes=(int(args.max_jacobian_gib * GIB) if args.max_jacobian_gib is not None
                            else 2**20 if quick else DEFAULT_MAX_JACOBIAN_BYTES),
        max_input_side_flops=args.max_input_side_gflop * 1e9,
        blas_threads=args.blas_threads or None)
    created = harness.utc_now()
    started = time.perf_counter()
    print(f"one loss + gradients call per route; float64; BLAS threads: "
          f"{settings.blas_threads or 'default'}; explicit routes' limit "
          f"{format_bytes(settings.max_jacobian_bytes)}; os.cpu_count() = {os.cpu_count()}")
    try:
        with threadpool_limits(settings.blas_threads, user_api="blas"):
            machine = harness.machine_facts()
            configs = [measure(sweep, widths, settings)
                       for sweep in sweeps(quick) for widths in sweep.points]
    except harness.AgreementError as error:
        print(f"ABORTED: {error}", file=sys.stderr)
        return 2
    results = schema.DepthResults(created, harness.git_commit(), settings, machine, configs,
                                  time.perf_counter() - started, _load())
    report(results, plot_dir)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"depth{'_quick' if quick else ''}.json"
    path.write_text(json.dumps(dataclasses.asdict(results), indent=1) + "\n", encoding="utf-8")
    load = machine.load_average
    print(f"\ntotal {results.elapsed_s:.1f} s; load average (1, 5, 15 min) before "
          f"{load and [round(x, 2) for x in load]}, after {results.load_average_after}")
    print(f"wrote {path}")
    return 0


def _load() -> list[float] | None:
    return [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None


def report(results: schema.DepthResults, plot_dir: Path | None) -> None:
    """The tables, slopes and (into `plot_dir`) the plots of measured results."""
    for name, configs in by_sweep(results).items():
        print("\n" + summary(configs))
        if plot_dir is not None:
            plot_dir.mkdir(parents=True, exist_ok=True)
            path = plot(configs, plot_dir / f"depth_vs_{name}.png",
                        results.settings.max_jacobian_bytes)
            results.plots.append(str(path))
            print(f"wrote {path}")


if __name__ == "__main__":
    sys.exit(main())
