"""`python -m chainrule`: the chapter's experiment by the explicit chain rule, the eager tape and
the compiled tape, with the chapter's numbers and what each route costs per iteration."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from . import chapter
from . import experiment as ex
from .descent import ROUTES
from .newton import NewtonFit, fit_newton_w
from .weather import WeatherDataUnavailable, load_weather_data

DESCRIPTIONS = {"explicit": "the chapter's explicit Jacobian", "backprop": "the eager tape",
                "compiled": "the tape compiled once to a numpy program, the fit one compiled "
                            "loop"}
JAX_DESCRIPTION = ("the tape compiled once to a jax.numpy program, the fit one "
                   "jax.lax.fori_loop, jitted by XLA (its wall time includes compiling)")
FIGURE = "chapter_fit.png"
#: Iterations of the --newton-w fit by default: about 0.7 ms each (its Newton step runs the
#: eager tape K + 1 times), so about 40 s, where the chapter's 1,000,000 would take 12 minutes.
NEWTON_ITERATIONS = 50_000
RUNTIME = ("about 1.5 minutes on 2 cores by default (measured 81 s: the compiled route's "
           "1,000,000 steps, 43 s, and about --budget seconds for each of the two others); "
           "--full: about 7 minutes; --newton-w adds about 40 s (--newton-iterations 50,000; "
           "measured 116 s in all); --show-code: about 1 s")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m chainrule",
        description="Fit the chapter's tanh basis-function ridge regression to the daily "
                    "maximum (or minimum) temperatures of a weather station (Potsdam by default, "
                    "NOAA GHCN-Daily GM000003342) by the explicit chain rule, by the eager "
                    "back-propagation tape and by the compiled tape, and compare them. The "
                    f"figure ({FIGURE}) goes into --out.",
        epilog=f"Runtime: {RUNTIME}.", formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--station", default=chapter.STATION,
                   help="GHCN-Daily station id, any case (Potsdam's is shipped with the "
                        "package); another station's file is downloaded from NOAA into the cache")
    p.add_argument("--element", type=str.upper, choices=("TMAX", "TMIN"), default=chapter.ELEMENT,
                   help="the daily series to fit (case-insensitive)")
    p.add_argument("--year", type=int, default=chapter.YEAR,
                   help="the calendar year whose days are split into training and test days")
    p.add_argument("--n-train", type=int, default=chapter.N_TRAIN,
                   help="training days, drawn by the chapter's seeded permutation; the rest of "
                        "the year's days are the test set")
    p.add_argument("--iterations", type=int, default=chapter.ITERATIONS,
                   help="gradient-descent steps of every route (the chapter's 1,000,000)")
    p.add_argument("--seed", type=int, default=chapter.SEED,
                   help="seed of the permutation that draws the training days "
                        "(np.random.seed(seed); np.random.permutation(days))")
    p.add_argument("--routes", nargs="+", choices=ROUTES, default=list(ROUTES),
                   help="the routes to run")
    p.add_argument("--budget", type=float, default=20.0,
                   help="seconds per route for the explicit and eager routes, which stop early "
                        "(and say so) when a full run would take longer; the compiled route always "
                        "runs to completion")
    p.add_argument("--full", action="store_true", help="run every route to completion")
    p.add_argument("--backend", choices=("numpy", "jax"), default="numpy",
                   help="the compiled route's printer: numpy source, or jax.numpy jitted by XLA "
                        "(the optional extra: pip install -e '.[jax]'; on more than one device "
                        "the samples are split over them)")
    p.add_argument("--show-code", action="store_true",
                   help="print the program compiled for the chapter's loss and gradients, and exit")
    p.add_argument("--data", type=Path, default=None,
                   help="station file or folder (None: $CHAINRULE_DATA, then the file shipped "
                        "for the default station, then the cache folder ($CHAINRULE_CACHE, else "
                        "~/.cache/chainrule), then a download from NOAA)")
    p.add_argument("--out", type=Path, default=ex.DEFAULT_OUT,
                   help=f"folder of the figure ({FIGURE}); created if missing")
    p.add_argument("--update-committed", action="store_true",
                   help=f"write the figure over the committed {ex.DOCS / FIGURE} instead of "
                        "into --out")
    p.add_argument("--newton-w", action="store_true",
                   help="also fit with w set by one Newton step (Hessian from the tape) after "
                        "each gradient step on W (by the compiled route), until the loss settles "
                        "(1e-10 relative) or --newton-iterations, and draw that fit too")
    p.add_argument("--newton-iterations", type=int, default=NEWTON_ITERATIONS,
                   help="the most iterations of the --newton-w fit (about 0.7 ms each)")
    return p


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = parser()
    args = p.parse_args(argv)
    if args.iterations < 0 or args.newton_iterations < 0:
        p.error(f"--iterations and --newton-iterations must be >= 0; got {args.iterations:,} "
                f"and {args.newton_iterations:,}")
    if not args.budget > 0:
        p.error(f"--budget must be > 0 seconds; got {args.budget}")
    if args.out.is_file():
        p.error(f"--out is the folder of the figure; {args.out} is a file")
    chapters = {"station": chapter.STATION, "element": chapter.ELEMENT, "year": chapter.YEAR,
                "n_train": chapter.N_TRAIN, "iterations": chapter.ITERATIONS,
                "seed": chapter.SEED, "newton_w": False}
    given = {**vars(args), "station": args.station.upper()}  # ids are case-insensitive
    changed = [name for name, value in chapters.items() if given[name] != value]
    if args.update_committed and (changed or args.data is not None):
        p.error("--update-committed redraws the committed figure of the chapter's experiment; "
                "it takes none of " + ", ".join(f"--{n.replace('_', '-')}" for n in
                                                [*changed, *(["data"] if args.data else [])]))
    return args


def show_code(split: ex.Split, backend: str = "numpy") -> str:
    """The program `compile` writes for the chapter's loss and both gradients (numpy's; with
    backend "jax", the JAX program after it, from the same optimised program)."""
    sources = []
    for name in dict.fromkeys(("numpy", backend)):
        model = ex.chapter_model("compiled", 0, name)
        model.loss_and_gradients(split.x_train, split.y_train)
        sources.append(model.value_and_grad.source)
    if len(sources) == 1:
        return sources[0]
    return "\n".join(f"# backend {name}\n{source}" for name, source in zip(
        ("numpy", backend), sources))


def report(result: ex.FitResult, asked: int, backend: str = "numpy") -> str:
    jax = result.route == "compiled" and backend == "jax"
    lines = [f"\n[{result.route}{', jax' if jax else ''}]  "
             f"({JAX_DESCRIPTION if jax else DESCRIPTIONS[result.route]})"]
    if result.completed:
        lines += [f"    training MSE : {result.train_mse:.4f}",
                  f"    test MSE : {result.test_mse:.4f}"]
    else:
        full = result.seconds / result.iterations * asked
        lines.append(f"    timed on {result.iterations:,} of {asked:,} iterations (a full run "
                     f"would take about {full:.0f} s; --full runs every route to completion)")
    lines.append(f"    wall time : {result.seconds:.2f} s ({result.microseconds_per_iteration:.1f} "
                 f"us per iteration)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    figure_path = (ex.committed_folder() if args.update_committed else args.out) / FIGURE
    try:
        data = load_weather_data(year=args.year, path=args.data, station=args.station)
        split = ex.chapter_split(data, args.n_train, args.seed, element=args.element)
    except (WeatherDataUnavailable, ValueError) as e:  # ValueError: a bad id, file or split
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.show_code:
        print(show_code(split, args.backend))
        return 0
    print(f"Station {data.station} ({data.source.name}), {args.element}, year {args.year}: "
          f"{len(split.x_train)} training / {len(split.x_test)} test days, seed {args.seed}, "
          f"{args.iterations:,} gradient-descent iterations")
    results = {}
    for route in [r for r in ROUTES if r in args.routes]:
        budget = math.inf if args.full or route == "compiled" else args.budget
        steps = ex.budgeted_iterations(split, route, args.iterations, budget)
        progress = ex.ProgressLine(route, steps, split.x_train, split.y_train)
        result = ex.fit_chapter_model(split, route, steps, progress, max(steps // 200, 1),
                                      asked=args.iterations,
                                      backend=args.backend if route == "compiled" else "numpy")
        progress.close()
        results[route] = result
        print(report(result, args.iterations, args.backend))
    per_step = {r: res.microseconds_per_iteration for r, res in results.items()}
    if len(results) > 1:
        print("\nper iteration: " + ", ".join(f"{r} {us:.1f} us" for r, us in per_step.items()))
        if "explicit" in per_step:
            print("speedup over explicit: " + ", ".join(
                f"{r} {per_step['explicit'] / us:.2f}x" for r, us in per_step.items()
                if r != "explicit"))
    done = [res for res in results.values() if res.completed]
    for a, b in zip(done, done[1:]):
        absolute, relative = ex.max_parameter_difference(a.model, b.model)
        print(f"final parameters (W and w), {a.route} vs {b.route}: max difference "
              f"{absolute:.3g} absolute, {relative:.3g} relative")
    others = []
    if args.newton_w:
        text, newton = newton_report(split, args.newton_iterations, done[-1] if done else None)
        print(text)
        others.append((f"Newton for w, GD on W ({newton.iterations:,} iterations): train MSE = "
                       f"{newton.model.mse(split.x_train, split.y_train):.4f}, test MSE = "
                       f"{newton.model.mse(split.x_test, split.y_test):.4f}", newton.model))
    figure_from = done[-1] if done else list(results.values())[-1]
    figure = ex.plot_chapter_figure(split, figure_from, args.year, figure_path,
                                    element=args.element, station=data.station, others=others)
    print(f"\nfigure: {figure}")
    return 0


def newton_report(split: ex.Split, iterations: int,
                  reference: ex.FitResult | None) -> tuple[str, NewtonFit]:
    """`--newton-w`: the chapter's setting with w fitted by Newton steps, beside plain GD."""
    target = reference.train_mse if reference else chapter.TRAIN_MSE
    progress = ex.ProgressLine("Newton w", iterations, split.x_train, split.y_train)
    fit = fit_newton_w(split.x_train, split.y_train, chapter.W0, chapter.LEARNING_RATE,
                       chapter.RIDGE, chapter.RIDGE_BASIS, iterations, callback=progress,
                       callback_every=max(iterations // 200, 1), target_mse=target)
    progress.close()
    model = fit.model
    status = ("loss settled (relative change < 1e-10)" if fit.converged
              else "loss still moving by more than 1e-10 relative: stopped at --newton-iterations")
    if reference:
        label = f"plain GD ({reference.route}, {reference.iterations:,} iterations)"
        ref_train, ref_test = reference.train_mse, reference.test_mse
    else:
        label = f"plain GD (the chapter, {chapter.ITERATIONS:,} iterations)"
        ref_train, ref_test = chapter.TRAIN_MSE, chapter.TEST_MSE
    reached = (f"after {fit.target_reached_at:,} iterations" if fit.target_reached_at
               else "not within the run")
    us = 1e6 * fit.seconds / max(fit.iterations, 1)
    text = (f"\n[GD step on W (compiled tape) + Newton step for w (Hessian in w from the tape)]\n"
            f"    iterations : {fit.iterations:,} of at most {iterations:,} ({status})\n"
            f"    training MSE : {model.mse(split.x_train, split.y_train):.4f}\n"
            f"    test MSE : {model.mse(split.x_test, split.y_test):.4f}\n"
            f"    loss : {fit.loss:.6f}\n"
            f"    wall time : {fit.seconds:.2f} s ({us:.1f} us per iteration)\n"
            f"    {label}: training MSE {ref_train:.4f}, test MSE {ref_test:.4f}\n"
            f"    training MSE <= {target:.4f} reached: {reached}")
    return text, fit


if __name__ == "__main__":
    sys.exit(main())
