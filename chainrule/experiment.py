"""The chapter's experiment: Potsdam daily maximum temperatures, year 1900, 100 training days.

Fits the tanh basis-function ridge regression with W0 = [[0.1, 0.2, 0.3], [-10, -50, -100]],
ridge = ridge_basis = 0.1, learning rate 1e-5 and 1,000,000 gradient-descent steps, by the
explicit chain rule and/or by back-propagation, and reports training and test MSE (the chapter
reports 20.0247 and 20.5147), wall time and the speedup of one route over the other.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import numpy as np

from .model import BasisFunctionRidgeRegressionGD, TanhBasis
from .weather import WeatherData

CHAPTER_W0 = np.array([[0.1, 0.2, 0.3], [-10.0, -50.0, -100.0]])
CHAPTER_YEAR = 1900
CHAPTER_N_TRAIN = 100
CHAPTER_SEED = 2
CHAPTER_ITERATIONS = 1_000_000
CHAPTER_LEARNING_RATE = 1e-5
CHAPTER_RIDGE = 0.1

_ELEMENT_LABELS = {"TMAX": "Maximum", "TMIN": "Minimum"}


@dataclass(frozen=True)
class Split:
    """The chapter's train/test split of one year of (day, TMAX) pairs (or TMIN)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


@dataclass(frozen=True)
class FitResult:
    """One route's outcome: its model, MSEs and timing."""

    engine: str
    model: BasisFunctionRidgeRegressionGD
    train_mse: float
    test_mse: float
    seconds: float
    iterations: int

    @property
    def microseconds_per_iteration(self) -> float:
        return 1e6 * self.seconds / max(self.iterations, 1)


def chapter_split(data: WeatherData, n_train: int = CHAPTER_N_TRAIN,
                  seed: int = CHAPTER_SEED, element: str = "tmax") -> Split:
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


def fit_chapter_model(split: Split, engine: str, iterations: int = CHAPTER_ITERATIONS,
                      progress: Callable[[int, BasisFunctionRidgeRegressionGD], None] | None = None,
                      progress_every: int = 10_000) -> FitResult:
    """Fit the chapter's model from W0 by `iterations` gradient steps with one route."""
    model = BasisFunctionRidgeRegressionGD(
        TanhBasis(CHAPTER_W0), learning_rate=CHAPTER_LEARNING_RATE, num_iterations=iterations,
        ridge=CHAPTER_RIDGE, ridge_basis=CHAPTER_RIDGE, engine=engine)
    start = time.perf_counter()
    model.fit(split.x_train, split.y_train, callback=progress, callback_every=progress_every)
    seconds = time.perf_counter() - start
    return FitResult(engine, model, model.mse(split.x_train, split.y_train),
                     model.mse(split.x_test, split.y_test), seconds, iterations)


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
                        element: str = "TMAX") -> Path:
    """The chapter's figure: train/test points, the fit over days 0..365, both MSEs."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    days = np.linspace(0, 365, 1000)
    fig, ax = plt.subplots(figsize=(8, 5))
    ax.plot(split.x_train, split.y_train, "o", color="tab:blue", markersize=4,
            label=f"train MSE = {result.train_mse:.4f}")
    ax.plot(split.x_test, split.y_test, "x", color="tab:orange", markersize=4,
            label=f"test MSE = {result.test_mse:.4f}")
    ax.plot(days, result.model.pred(days), "-", color="black", linewidth=2,
            label=f"fit ({result.engine})")
    ax.set_ylim(-27, 39)
    ax.set_xlabel("day of the year")
    ax.set_ylabel(f"{_ELEMENT_LABELS[element.upper()]} Temperature - degree C")
    ax.set_title(f"Year : {year} N : {len(split.x_train)}")
    ax.legend(loc="upper left")
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
