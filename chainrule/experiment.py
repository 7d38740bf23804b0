"""The chapter's experiment: one year of a station's daily temperatures, 100 training days.

Fits the chapter's tanh basis-function ridge regression from its W0 (see `chapter.py`) by one
route (the explicit chain rule, the eager tape or the compiled tape) and reports training and
test MSE, wall time and microseconds per iteration; `budgeted_fit` stops a slow route early and
says so.
"""

from __future__ import annotations

import math
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import numpy as np

from . import chapter
from .model import BasisFunctionRidgeRegressionGD, TanhBasis
from .weather import WeatherData

_ELEMENT_LABELS = {"TMAX": "Maximum", "TMIN": "Minimum"}

#: Where the commands write unless told otherwise (--out): outside the source tree.
DEFAULT_OUT = Path(tempfile.gettempdir()) / "chainrule"
#: The committed figures of a source checkout, rewritten only when asked (--update-committed).
DOCS = Path(__file__).resolve().parent.parent / "docs"


def committed_folder() -> Path:
    """DOCS, if this is a source checkout that has it; else exit with an error naming it."""
    if not DOCS.is_dir():
        raise SystemExit(f"error: --update-committed rewrites the committed figures in docs/ of "
                         f"a source checkout, and there is no such folder at {DOCS}")
    return DOCS


@dataclass(frozen=True)
class Split:
    """The chapter's train/test split of one year of (day, TMAX) pairs (or TMIN)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


@dataclass(frozen=True)
class FitResult:
    """One route's outcome: its model, MSEs and timing; `completed` if it ran every iteration
    asked for (a budgeted run may stop early)."""

    route: str
    model: BasisFunctionRidgeRegressionGD
    train_mse: float
    test_mse: float
    seconds: float
    iterations: int
    completed: bool = True

    @property
    def microseconds_per_iteration(self) -> float:
        return 1e6 * self.seconds / max(self.iterations, 1)


def chapter_split(data: WeatherData, n_train: int = chapter.N_TRAIN,
                  seed: int = chapter.SEED, element: str = chapter.ELEMENT) -> Split:
    """x = day of the year, y = `element` (the chapter's TMAX by default, or TMIN);
    `np.random.seed(seed); idx = np.random.permutation(n)`.

    A private RandomState gives the same permutation as the chapter's global seeding without
    touching numpy's global random state. Raises ValueError, naming station, year, element,
    the days found and n_train, unless 1 <= n_train < the number of days with `element`.
    """
    x, y = data.xy(element)
    if not 1 <= n_train < len(x):
        years = sorted({str(d) for d in data.dates[[0, -1]].astype("datetime64[Y]")})
        year = f"year {years[0]}" if len(years) == 1 else f"years {years[0]}-{years[1]}"
        limit = f"n_train must be between 1 and {len(x) - 1}" if len(x) > 1 else "too few days"
        raise ValueError(f"{limit}: station {data.station}, {year} has {len(x)} days with "
                         f"{element.upper()}, and the split needs n_train >= 1 training days "
                         f"plus at least one test day; got n_train = {n_train}")
    idx = np.random.RandomState(seed).permutation(len(x))
    train, test = idx[:n_train], idx[n_train:]
    return Split(x[train], y[train], x[test], y[test])


def chapter_model(route: str, iterations: int = chapter.ITERATIONS, backend: str = "numpy"
                  ) -> BasisFunctionRidgeRegressionGD:
    """The chapter's model at its starting point W0, with its learning rate and ridges
    (`backend`: the compiled route's printer, numpy or jax)."""
    return BasisFunctionRidgeRegressionGD(
        TanhBasis(chapter.W0), learning_rate=chapter.LEARNING_RATE, num_iterations=iterations,
        ridge=chapter.RIDGE, ridge_basis=chapter.RIDGE_BASIS, route=route, backend=backend)


def fit_chapter_model(split: Split, route: str, iterations: int = chapter.ITERATIONS,
                      progress: Callable[[int, BasisFunctionRidgeRegressionGD], None] | None = None,
                      progress_every: int = 10_000, asked: int | None = None,
                      backend: str = "numpy") -> FitResult:
    """Fit the chapter's model from W0 by `iterations` gradient steps with one route
    (`asked`: the iterations the caller wanted, if it ran fewer; the wall time includes
    compiling, for the compiled route)."""
    model = chapter_model(route, iterations, backend)
    start = time.perf_counter()
    model.fit(split.x_train, split.y_train, callback=progress, callback_every=progress_every)
    seconds = time.perf_counter() - start
    return FitResult(route, model, model.mse(split.x_train, split.y_train),
                     model.mse(split.x_test, split.y_test), seconds, iterations,
                     asked is None or iterations >= asked)


def budgeted_iterations(split: Split, route: str, iterations: int, budget_seconds: float,
                        probe: int = 3_000) -> int:
    """How many of `iterations` steps fit in the budget, from a timed probe of `probe` steps
    (rounded down to two significant digits, so that the number reads well)."""
    if budget_seconds == math.inf or iterations <= probe:
        return iterations
    per_step = fit_chapter_model(split, route, probe).seconds / probe
    fits = int(budget_seconds / per_step)
    if fits >= iterations:
        return iterations
    digits = 10 ** max(len(str(fits)) - 2, 0)
    return max(probe, fits // digits * digits)


class ProgressLine:
    """Iteration, loss, elapsed and ETA on one rewritten terminal line; silent off a terminal."""

    def __init__(self, label: str, total: int, X: np.ndarray, y: np.ndarray,
                 stream: TextIO = sys.stderr) -> None:
        self.label, self.total, self.X, self.y, self.stream = label, total, X, y, stream
        self.enabled = stream.isatty()
        self.start = time.perf_counter()

    def __call__(self, iteration: int, model: BasisFunctionRidgeRegressionGD) -> None:
        if not self.enabled:
            return
        elapsed = time.perf_counter() - self.start
        eta = elapsed / iteration * (self.total - iteration)
        self.stream.write(f"\r{self.label}: iteration {iteration:>9,}/{self.total:,}  "
                          f"loss {model.loss(self.X, self.y):9.4f}  elapsed {elapsed:6.1f} s  "
                          f"ETA {eta:6.1f} s ")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\r" + " " * 100 + "\r")
            self.stream.flush()


def plot_chapter_figure(split: Split, result: FitResult, year: int, out: Path,
                        element: str = chapter.ELEMENT, station: str = chapter.STATION,
                        others: Sequence[tuple[str, BasisFunctionRidgeRegressionGD]] = ()
                        ) -> Path:
    """The chapter's figure: train/test points, the fit over days 0..365, both MSEs in the
    legend, its y-limits, labels and title (with the station and the element in front);
    `others` are more fits, (label, model), drawn dashed beside it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    days = np.linspace(0, 365, 1000)
    fig, ax = plt.subplots(figsize=(8, 5.6 if others else 5))
    ax.plot(split.x_train, split.y_train, "o", color="tab:blue", markersize=4,
            label=f"train MSE = {result.train_mse:.4f}")
    ax.plot(split.x_test, split.y_test, "x", color="tab:orange", markersize=4,
            label=f"test MSE = {result.test_mse:.4f}")
    ax.plot(days, result.model.pred(days), "-", color="black", linewidth=2,
            label=f"fit ({result.route}, {result.iterations:,} iterations)")
    for (label, model), colour in zip(others, ("tab:red", "tab:green", "tab:purple")):
        ax.plot(days, model.pred(days), "--", color=colour, linewidth=2, label=label)
    ax.set_ylim(-27, 39)
    ax.set_xlabel("day of the year")
    ax.set_ylabel(f"{_ELEMENT_LABELS[element.upper()]} Temperature - degree C")
    ax.set_title(f"Station {station}, {element.upper()}        Year : {year} N : "
                 f"{len(split.x_train)}")
    if others:  # long labels: below the axes, where they cover no point
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), fontsize=8, ncol=2)
    else:  # top left is above January's warmest days (the y-limit is 39 degrees): empty
        ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def max_parameter_difference(a: BasisFunctionRidgeRegressionGD,
                             b: BasisFunctionRidgeRegressionGD) -> tuple[float, float]:
    """(max |difference|, max relative difference) over all of W and w."""
    pa = np.concatenate([a.basis_function.W.ravel(), a.w])
    pb = np.concatenate([b.basis_function.W.ravel(), b.w])
    diff = np.abs(pa - pb)
    return float(diff.max()), float((diff / np.maximum(np.abs(pb), 1e-300)).max())
