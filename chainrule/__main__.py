"""`python -m chainrule`: the chapter's Potsdam experiment, explicit chain rule vs backprop."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import experiment as ex
from . import newton
from .weather import DEFAULT_STATION, WeatherDataUnavailable, load_weather_data


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m chainrule",
        description="Fit the chapter's tanh basis-function ridge regression to the daily "
                    "maximum (or minimum) temperatures of a weather station (default: Potsdam, "
                    "NOAA GHCN-Daily GM000003342) by the explicit chain rule and by "
                    "back-propagation, and compare them.")
    p.add_argument("--station", default=DEFAULT_STATION,
                   help="GHCN-Daily station id (default: %(default)s, Potsdam, shipped with the "
                        "package); another station's file is downloaded from NOAA into the cache")
    p.add_argument("--element", type=str.upper, choices=("TMAX", "TMIN"), default="TMAX",
                   help="the daily series to fit (case-insensitive; default: %(default)s)")
    p.add_argument("--year", type=int, default=ex.CHAPTER_YEAR)
    p.add_argument("--n-train", type=int, default=ex.CHAPTER_N_TRAIN)
    p.add_argument("--iterations", type=int, default=ex.CHAPTER_ITERATIONS)
    p.add_argument("--seed", type=int, default=ex.CHAPTER_SEED)
    p.add_argument("--engine", choices=("explicit", "backprop", "both"), default="both")
    p.add_argument("--data", type=Path, default=None,
                   help="station file or folder (default: $CHAINRULE_DATA, then the file "
                        "shipped for the default station, then the cache folder "
                        "($CHAINRULE_CACHE, else ~/.cache/chainrule), then a download from NOAA)")
    p.add_argument("--out", type=Path, default=Path("chapter_fit.png"),
                   help="where to write the figure (PNG)")
    p.add_argument("--newton-w", action="store_true",
                   help="also fit with w set by one Newton step (Hessian from the tape) after "
                        "each gradient step on W, until the loss settles (1e-10 relative) or "
                        "--iterations")
    args = p.parse_args(argv)
    if args.iterations < 0:
        p.error("--iterations must be >= 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        data = load_weather_data(year=args.year, path=args.data, station=args.station)
    except (WeatherDataUnavailable, ValueError) as e:  # ValueError: bad id or WeatherDataError
        print(f"error: {e}", file=sys.stderr)
        return 2
    try:
        split = ex.chapter_split(data, args.n_train, args.seed, element=args.element)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    engines = ("explicit", "backprop") if args.engine == "both" else (args.engine,)
    print(f"Station {data.station} ({data.source.name}), {args.element}, year {args.year}: "
          f"{len(split.x_train)} training / {len(split.x_test)} test days, seed {args.seed}, "
          f"{args.iterations:,} gradient-descent iterations")
    results = []
    for engine in engines:
        progress = ex.ProgressLine(engine, args.iterations, split.x_train, split.y_train)
        every = max(args.iterations // 200, 1)
        results.append(ex.fit_chapter_model(split, engine, args.iterations, progress, every))
        progress.close()
        r = results[-1]
        print(f"\n[{engine}]\n    training MSE : {r.train_mse:.4f}\n    test MSE : "
              f"{r.test_mse:.4f}\n    wall time : {r.seconds:.2f} s "
              f"({r.microseconds_per_iteration:.1f} us per iteration)")
    if len(results) == 2:
        explicit, backprop = results
        absolute, relative = ex.max_parameter_difference(explicit.model, backprop.model)
        print(f"\nspeedup of backprop over explicit: {explicit.seconds / backprop.seconds:.2f}x")
        print(f"max difference of final parameters (W and w) between the routes: "
              f"{absolute:.3g} absolute, {relative:.3g} relative")
    if args.newton_w:
        newton.run_chapter(split, args.iterations, results)
    figure = ex.plot_chapter_figure(split, results[-1], args.year, args.out,
                                    element=args.element)
    print(f"\nfigure: {figure}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
