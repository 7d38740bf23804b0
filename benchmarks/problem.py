"""Benchmark configurations (N, D, K) and the seeded float64 problem every route receives."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from chainrule.model import jacobian_nbytes

#: Regularisation of the chapter's experiment (ridge = ridge_basis = 0.1).
RIDGE = 0.1
RIDGE_BASIS = 0.1

#: The chapter's problem size: 100 training days, one input (the day), three tanh functions.
CHAPTER = (100, 1, 3)


@dataclass(frozen=True)
class Config:
    """One problem size: N samples, D input dimensions, K basis functions."""

    N: int
    D: int
    K: int

    def __post_init__(self) -> None:
        if min(self.N, self.D, self.K) < 1:
            raise ValueError(f"N, D and K must be >= 1; got N={self.N}, D={self.D}, K={self.K}")

    @property
    def key(self) -> str:
        """Short label, e.g. ``N=1e4 D=8 K=64``."""
        return f"N={fmt_count(self.N)} D={self.D} K={self.K}"

    @property
    def jacobian_bytes(self) -> int:
        """Bytes of the explicit (N, D+1, K) float64 Jacobian."""
        return jacobian_nbytes(self.N, self.D, self.K)

    def as_tuple(self) -> tuple[int, int, int]:
        return (self.N, self.D, self.K)


def fmt_count(n: int) -> str:
    """100 -> '100', 10000 -> '1e4', 1000000 -> '1e6', 20000 -> '2e4', 1234 -> '1234'."""
    if n < 1000:
        return str(n)
    exponent = len(str(n)) - 1
    mantissa, rest = divmod(n, 10**exponent)
    return f"{mantissa}e{exponent}" if rest == 0 else str(n)


_CONFIG_RE = re.compile(r"^\s*([0-9.eE+]+)\s*[x:,]\s*(\d+)\s*[x:,]\s*(\d+)\s*$")


def parse_config(text: str) -> Config:
    """'1e4x8x64', '10000:8:64' or '10000,8,64' -> Config(10000, 8, 64)."""
    m = _CONFIG_RE.match(text)
    if not m:
        raise ValueError(f"configuration {text!r} is not of the form NxDxK (e.g. 1e4x8x64)")
    n_float = float(m.group(1))
    if n_float != int(n_float):
        raise ValueError(f"configuration {text!r}: N must be a whole number")
    return Config(int(n_float), int(m.group(2)), int(m.group(3)))


FULL_CONFIGS: tuple[Config, ...] = (
    Config(100, 1, 3),
    Config(1_000, 1, 3),
    Config(10_000, 1, 3),
    Config(100_000, 1, 3),
    Config(1_000_000, 1, 3),
    Config(10_000, 4, 16),
    Config(10_000, 8, 64),
    Config(100_000, 16, 64),
    Config(10_000, 64, 256),
    Config(100_000, 64, 64),  # explicit Jacobian 3.1 GiB: beyond the default 2 GiB guard
)

QUICK_CONFIGS: tuple[Config, ...] = (
    Config(100, 1, 3),
    Config(1_000, 1, 3),
    Config(10_000, 1, 3),
    Config(1_000, 8, 64),
)


@dataclass(frozen=True)
class Problem:
    """Seeded float64 data and parameters for one configuration (shared by all routes).

    Routes must treat every array as read-only.
    """

    config: Config
    X: np.ndarray  # (N, D)
    y: np.ndarray  # (N,)
    W: np.ndarray  # (D+1, K): rows 0..D-1 slopes, row D biases
    w: np.ndarray  # (K,)
    ridge: float = RIDGE
    ridge_basis: float = RIDGE_BASIS


def make_problem(config: Config, seed: int = 0) -> Problem:
    """X, y ~ N(0, 1); slopes ~ N(0, 1/D) so that Z = X W[:-1] + W[-1] is O(1) (tanh is not
    saturated); biases and w ~ N(0, 1). Same seed and config -> bit-identical data."""
    rng = np.random.default_rng([seed, config.N, config.D, config.K])
    N, D, K = config.as_tuple()
    X = rng.standard_normal((N, D))
    y = rng.standard_normal(N)
    W = rng.standard_normal((D + 1, K))
    W[:-1] /= np.sqrt(D)
    w = rng.standard_normal(K)
    for a in (X, y, W, w):
        a.flags.writeable = False
    return Problem(config, X, y, W, w)
