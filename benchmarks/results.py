"""The benchmarks' one result structure: dataclasses, written as JSON with `dataclasses.asdict`
and read back with `load`. `Results` is `python -m benchmarks`'s, `DepthResults`
`python -m benchmarks.depth`'s; both share `Machine`, `Timing` and `RouteResult`.

Times are seconds, memory bytes; `None` is "not measured" (skipped, or invisible to tracemalloc).
"""

from __future__ import annotations

import dataclasses
import sys
import types
import typing
from dataclasses import dataclass, field
from typing import Any

SCHEMA = "chainrule-benchmarks/2"
DEPTH_SCHEMA = "chainrule-benchmarks-depth/1"


@dataclass
class Settings:
    mode: str  # "quick" or "full"
    configs: list[tuple[int, int, int]]  # (N, D, K)
    rounds: int  # round-robin rounds; each times one batch of every route
    target_seconds: float  # a batch lasts at least this long
    fit_iterations: int  # iterations of one timed fit() call
    seed: int
    tolerance: float  # largest relative difference from the reference route
    reference: str
    max_jacobian_bytes: int  # the routes that materialise J are skipped above this
    blas_threads: int | None  # None: the BLAS library's default


@dataclass
class Machine:
    platform: str
    python: str
    numpy: str
    processor: str
    cpus: int | None
    cpus_usable: int | None
    memory_bytes: int | None
    load_average: list[float] | None  # 1, 5 and 15 minutes, at the start
    threadpools: list[dict]  # threadpoolctl.threadpool_info(), after pinning


@dataclass
class RouteInfo:
    name: str
    description: str
    unavailable: str | None  # why the route ran nowhere (a missing peer)
    version: str | None  # of the peer package


@dataclass
class Timing:  # seconds per call (per iteration for fits)
    median_s: float
    rounds_s: list[float]
    calls_per_batch: int


@dataclass
class Compilation:  # from CompiledFunction.stats: the one-off cost per input signature
    trace_seconds: float
    compile_seconds: float
    equations: dict[str, int]  # after tracing, then after each pass


@dataclass(frozen=True)
class Cost:  # predicted for one loss + gradients call (benchmarks/depth_costs.py), float64
    flops: int
    bytes: int  # peak bytes of the arrays with a sample axis alive at once
    jacobian_bytes: int  # of the materialised Jacobians (0: none)


@dataclass
class RouteResult:
    route: str
    skipped: str | None = None  # the reason, or None if measured
    relative_difference: float | None = None  # worst of the loss and gradients vs the reference
    time: Timing | None = None  # per loss + gradients call
    peak_bytes: int | None = None  # allocated during one call
    compilation: Compilation | None = None
    predicted: Cost | None = None  # the depth benchmark's prediction for this route


@dataclass
class ConfigResult:
    N: int
    D: int
    K: int
    jacobian_bytes: int
    routes: list[RouteResult]

    def route(self, name: str) -> RouteResult | None:
        """Route `name`'s result if it was measured here, else None."""
        return next((r for r in self.routes if r.route == name and r.time), None)


@dataclass
class FitTiming:
    route: str
    per_iteration: Timing
    projected_s: float  # median per iteration x FitResult.projected_iterations


@dataclass
class FitResult:  # the routes' real fit() loops at the chapter's size
    N: int
    D: int
    K: int
    iterations_per_call: int
    projected_iterations: int  # the chapter's run
    routes: list[FitTiming]
    explicit_over_chapter: float | None  # per iteration


@dataclass
class Results:
    created_utc: str
    commit: str | None  # "+changes": uncommitted changes in the measured packages
    settings: Settings
    machine: Machine
    routes: list[RouteInfo]
    configs: list[ConfigResult]
    fit: FitResult | None
    plots: list[str] = field(default_factory=list)
    schema: str = SCHEMA


@dataclass
class DepthSettings:
    mode: str  # "quick" or "full"
    rounds: int
    target_seconds: float
    seed: int
    tolerance: float
    reference: str
    max_jacobian_bytes: int  # the explicit orders are skipped above this
    max_input_side_flops: float  # the input-side order is skipped above this
    blas_threads: int | None


@dataclass
class DepthConfig:  # one point of a sweep over depth L or width K
    sweep: str  # "L" or "K": the variable on the x axis
    x: int
    N: int
    D: int
    widths: list[int]  # K_1..K_L
    routes: list[RouteResult]


@dataclass
class DepthResults:
    created_utc: str
    commit: str | None
    settings: DepthSettings
    machine: Machine
    configs: list[DepthConfig]
    elapsed_s: float | None = None
    load_average_after: list[float] | None = None
    plots: list[str] = field(default_factory=list)
    schema: str = DEPTH_SCHEMA


def load(cls: type, data: Any) -> Any:
    """The dataclass `cls` (nested dataclasses, lists, optionals) from its `asdict` JSON."""
    hints = typing.get_type_hints(cls, vars(sys.modules[__name__]))
    return cls(**{f.name: _value(hints[f.name], data[f.name])
                  for f in dataclasses.fields(cls) if f.name in data})


def _value(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):  # X | None
        return _value(next(a for a in args if a is not type(None)), value)
    if origin is list:
        return [_value(args[0], v) for v in value]
    if origin is tuple:
        return tuple(value)
    if dataclasses.is_dataclass(hint):
        return load(hint, value)
    return value
