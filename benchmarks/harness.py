"""Measurement harness: the one timing helper, peak memory, the agreement check and the run.

``run(settings, routes)`` returns a plain dict (JSON-ready) with every figure; it raises
``AgreementError`` when a route's loss or gradients differ from the reference route.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import gc
import math
import os
import platform
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from chainrule.model import DEFAULT_MAX_JACOBIAN_BYTES, JacobianTooLarge

from .problem import CHAPTER, FULL_CONFIGS, QUICK_CONFIGS, Config, make_problem
from .routes import REFERENCE, Bound, Route, build_vjp_manual, torch_default_threads

GIB = float(1024**3)
SCHEMA = "chainrule-benchmarks/1"

#: Relative difference (infinity norm of the difference over that of the reference) above which
#: a route is declared wrong.
TOLERANCE = 1e-9

#: The chapter trains for this many gradient-descent iterations.
CHAPTER_ITERATIONS = 1_000_000


class AgreementError(AssertionError):
    """A route's loss or gradient disagrees with the reference route."""

    def __init__(self, route: str, config: Config, quantity: str, diff: float, tol: float) -> None:
        self.route, self.config, self.quantity, self.diff, self.tol = (
            route, config, quantity, diff, tol)
        super().__init__(
            f"route {route!r} disagrees with {REFERENCE!r} at {config.key} "
            f"(N={config.N}, D={config.D}, K={config.K}): {quantity} relative difference "
            f"{diff:.3e} > tolerance {tol:.0e}"
        )


@dataclass
class Settings:
    """What to run and how long to measure."""

    configs: Sequence[Config] = FULL_CONFIGS
    routes: Sequence[str] | None = None  # None: all
    target_seconds: float = 0.2  # each timing sample lasts at least this long
    samples: int = 5
    seed: int = 0
    max_jacobian_bytes: int = DEFAULT_MAX_JACOBIAN_BYTES
    tolerance: float = TOLERANCE
    mode: str = "full"
    blas_threads: dict[str, Any] = field(default_factory=dict)
    progress: Callable[[str], None] | None = None


# ----------------------------------------------------------------------------------------------
# The one timing helper.
# ----------------------------------------------------------------------------------------------


def _batch(fn: Callable[[], Any], number: int) -> float:
    t0 = time.perf_counter()
    for _ in range(number):
        fn()
    return time.perf_counter() - t0


def _cpu_times() -> tuple[float, float]:
    """(user, system) CPU seconds of this process so far."""
    t = os.times()
    return t.user, t.system


@dataclass
class Measurement:
    """One thing to time: ``fn`` called inside ``context()``; ``calls`` counts the operations one
    call of ``fn`` performs (e.g. n fit iterations), so results are per operation."""

    fn: Callable[[], Any]
    context: Callable[[], contextlib.AbstractContextManager[Any]] = contextlib.nullcontext
    calls: int = 1


def time_calls(measurements: Sequence[Measurement], target_seconds: float = 0.2,
               samples: int = 5) -> list[dict]:
    """The timing helper: median seconds per call of each measurement, timeit-style.

    For each measurement: one warm-up call, then the number of calls per sample is auto-ranged
    (like ``timeit.Timer.autorange``: grown until one batch lasts >= ``target_seconds``; a call
    that alone lasts that long is timed one per sample). Then ``samples`` rounds are run, each
    timing one batch of every measurement in turn (interleaved, so that all measurements of a
    round see the same machine load and their ratios are fair even when the load drifts).
    The garbage collector is off while timing (as in timeit). Returns, per measurement,
    median/min/max/IQR seconds per call, the per-call samples and the calls per sample.
    """
    if samples < 1:
        raise ValueError(f"samples must be >= 1, got {samples}")
    gc.collect()
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        numbers = []
        for m in measurements:
            number = 1
            with m.context():
                if _batch(m.fn, 1) < target_seconds:  # warm-up (caches, first-touch pages)
                    while (elapsed := _batch(m.fn, number)) < target_seconds:
                        # grow towards the target (at least x2, at most x10 per step)
                        guess = number * target_seconds / max(elapsed, 1e-9) * 1.1
                        number = int(min(number * 10, max(number * 2, math.ceil(guess))))
            numbers.append(number)
        per_call: list[list[float]] = [[] for _ in measurements]
        cpu: list[list[tuple[float, float]]] = [[] for _ in measurements]
        for _ in range(samples):
            for i, m in enumerate(measurements):
                with m.context():
                    before = _cpu_times()
                    per_call[i].append(_batch(m.fn, numbers[i]) / (numbers[i] * m.calls))
                    after = _cpu_times()
                cpu[i].append(tuple((b - a) / (numbers[i] * m.calls)
                                    for a, b in zip(before, after, strict=True)))
    finally:
        if gc_was_enabled:
            gc.enable()
    out = []
    for values, number, cpu_times in zip(per_call, numbers, cpu, strict=True):
        quartiles = statistics.quantiles(values, n=4) if len(values) >= 2 else values * 3
        user = statistics.median(u for u, _ in cpu_times)
        system = statistics.median(s for _, s in cpu_times)
        out.append({
            "median_s": statistics.median(values),
            "min_s": min(values),
            "max_s": max(values),
            "iqr_s": quartiles[2] - quartiles[0],
            "samples_s": values,
            "calls_per_sample": number,
            # process CPU time per call (all threads): kernel time is mostly page faults of
            # freshly allocated memory
            "cpu_user_s": user,
            "cpu_system_s": system,
            "system_share": system / (user + system) if user + system > 0 else 0.0,
        })
    return out


def time_call(fn: Callable[[], Any], target_seconds: float = 0.2, samples: int = 5) -> dict:
    """``time_calls`` for a single function."""
    return time_calls([Measurement(fn)], target_seconds, samples)[0]


def peak_extra_bytes(fn: Callable[[], Any]) -> int:
    """Peak bytes allocated (numpy and Python, as tracemalloc sees them) during one call of
    ``fn`` above what was allocated before it; the result counts while it is alive."""
    gc.collect()
    started_here = not tracemalloc.is_tracing()
    if started_here:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before, _ = tracemalloc.get_traced_memory()
        result = fn()
        _, peak = tracemalloc.get_traced_memory()
        del result
    finally:
        if started_here:
            tracemalloc.stop()
    return max(0, peak - before)


# ----------------------------------------------------------------------------------------------
# Agreement check.
# ----------------------------------------------------------------------------------------------


def relative_difference(a: Any, ref: Any) -> float:
    """max|a - ref| / max|ref| (infinity norms; absolute if ref is all zeros); inf if a is not
    finite or has the wrong shape."""
    a = np.asarray(a, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    if a.shape != ref.shape or not np.all(np.isfinite(a)):
        return math.inf
    scale = float(np.max(np.abs(ref))) if ref.size else 0.0
    diff = float(np.max(np.abs(a - ref))) if ref.size else 0.0
    return diff / scale if scale > 0 else diff


def check_agreement(name: str, config: Config, got: Any, ref: Any, tol: float) -> dict:
    """Compare (loss, grad_W, grad_w) with the reference; raise AgreementError beyond ``tol``."""
    if not (isinstance(got, tuple) and len(got) == 3):
        raise AgreementError(name, config, "output (not a (loss, grad_W, grad_w) tuple)",
                             math.inf, tol)
    diffs = {
        "loss": relative_difference(got[0], ref[0]),
        "grad_W": relative_difference(got[1], ref[1]),
        "grad_w": relative_difference(got[2], ref[2]),
    }
    for quantity, d in diffs.items():
        if not d <= tol:
            raise AgreementError(name, config, quantity, d, tol)
    return diffs


# ----------------------------------------------------------------------------------------------
# Machine facts.
# ----------------------------------------------------------------------------------------------


def _cpu_model() -> str | None:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def _meminfo_bytes(key: str) -> int | None:
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _numpy_config() -> Any:
    try:
        return np.show_config(mode="dicts")
    except TypeError:  # numpy < 1.25
        return None


def _threadpools() -> Any:
    try:
        import threadpoolctl
    except ImportError:
        return None
    return threadpoolctl.threadpool_info()


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(
            ["git", *args], cwd=Path(__file__).resolve().parent.parent, capture_output=True,
            text=True, timeout=10, check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip()


def machine_facts(routes: Sequence[Route]) -> dict:
    peers = {}
    for route in routes:
        if route.peer and route.unavailable_reason() is None:
            peers.update(route.versions())
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:
        affinity = None
    return {
        "cpu_count": os.cpu_count(),
        "cpus_usable": affinity,
        "cpu_model": _cpu_model(),
        "memory_total_bytes": _meminfo_bytes("MemTotal"),
        "memory_available_bytes": _meminfo_bytes("MemAvailable"),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "platform": platform.platform(),
        "python": sys.version,
        "numpy": np.__version__,
        "numpy_config": _numpy_config(),
        "threadpools": _threadpools(),
        "thread_env": {k: os.environ[k] for k in (
            "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS") if k in os.environ},
        "peers": peers,
    }


def git_facts() -> dict:
    status = _git("status", "--porcelain", "--untracked-files=no", "--",
                  "autograd_lite", "chainrule", "benchmarks")
    return {
        "commit": _git("rev-parse", "HEAD"),
        "autograd_lite_commit": _git("log", "-1", "--format=%H %s", "--", "autograd_lite"),
        "chainrule_commit": _git("log", "-1", "--format=%H %s", "--", "chainrule"),
        "uncommitted_changes": None if status is None else bool(status),
    }


# ----------------------------------------------------------------------------------------------
# The run.
# ----------------------------------------------------------------------------------------------


def _jacobian_skip(config: Config, limit: int) -> str | None:
    """Why a Jacobian-materialising route must not run at this configuration (or None)."""
    nbytes = config.jacobian_bytes
    if nbytes > limit:
        return (f"skipped: J would be {nbytes / GIB:.3g} GiB "
                f"(> limit {limit / GIB:.3g} GiB)")
    available = _meminfo_bytes("MemAvailable")
    # the contraction holds J and the product of the same size at once, plus N x K temporaries
    if available is not None and 2.2 * nbytes > 0.8 * available:
        return (f"skipped: J would be {nbytes / GIB:.3g} GiB (peak ~{2 * nbytes / GIB:.3g} GiB "
                f"> 80% of the {available / GIB:.3g} GiB available)")
    return None


def _say(settings: Settings, message: str) -> None:
    if settings.progress is not None:
        settings.progress(message)


def select_routes(all_routes: Sequence[Route], names: Sequence[str] | None) -> list[Route]:
    if names is None:
        return list(all_routes)
    by_name = {r.name: r for r in all_routes}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise ValueError(f"unknown route(s) {unknown}; known: {list(by_name)}")
    return [by_name[n] for n in names]


def _measure_config(settings: Settings, config: Config,
                    bound_routes: list[tuple[Route, Bound, dict]],
                    training: dict[str, Any] | None) -> None:
    """Time every route of one configuration (interleaved), then profile memory per route.

    With ``training`` (the chapter's configuration), also the gradient work of one fit
    iteration and, for chainrule routes, the real fit loop."""
    plan: list[tuple[str, str, Measurement]] = []
    for route, bound, _ in bound_routes:
        plan.append((route.name, "loss_and_grad", Measurement(bound.loss_and_grad, bound.context)))
        plan.append((route.name, "forward", Measurement(bound.forward, bound.context)))
        if training is not None:
            plan.append((route.name, "fit_step", Measurement(bound.fit_step, bound.context)))
            if bound.fit_loop is not None:
                # enough iterations per call that the loop's setup is negligible
                n = max(10, math.ceil(settings.target_seconds / 1e-4))
                fit_loop = bound.fit_loop
                plan.append((route.name, "fit_loop",
                             Measurement(lambda f=fit_loop, n=n: f(n), bound.context, calls=n)))
    _say(settings, f"{config.key:24s} timing {len(plan)} measurements of "
                   f"{len(bound_routes)} routes (interleaved)")
    timings = time_calls([m for _, _, m in plan], settings.target_seconds, settings.samples)
    by_route: dict[str, dict[str, dict]] = {}
    for (name, kind, m), t in zip(plan, timings, strict=True):
        if kind == "fit_loop":
            t = {"iterations_per_call": m.calls, **t}
        by_route.setdefault(name, {})[kind] = t
    for route, bound, res in bound_routes:
        got = by_route[route.name]
        res["loss_and_grad"] = got["loss_and_grad"]
        res["forward"] = got["forward"]
        res["grad_over_forward"] = got["loss_and_grad"]["median_s"] / got["forward"]["median_s"]
        with bound.context():
            res["peak_extra_bytes"] = (
                peak_extra_bytes(bound.loss_and_grad) if route.memory_visible else None)
        if training is not None:
            training[route.name] = {"call": bound.fit_step_label, **got["fit_step"]}
            if "fit_loop" in got:
                training[route.name]["fit_loop"] = got["fit_loop"]
        _say(settings, f"{config.key:24s} {route.name:16s} "
                       f"{res['loss_and_grad']['median_s'] * 1e6:12.1f} us/call")


def run(settings: Settings, all_routes: Sequence[Route]) -> dict:
    """Check and measure every selected route at every configuration; return the results."""
    routes = select_routes(all_routes, settings.routes)
    route_info: dict[str, dict] = {}
    runnable: list[Route] = []
    for route in routes:
        reason = route.unavailable_reason()
        info = {
            "description": route.description,
            "status": "skipped" if reason else "ok",
            "reason": reason,
            "versions": route.versions() if reason is None else {},
            "peer": route.peer,
            "needs_jacobian": route.needs_jacobian,
            "memory_visible": route.memory_visible,
        }
        if reason is None and route.requires == ("torch",):
            info["threads"] = 1 if route.name.endswith("-1t") else torch_default_threads()
        route_info[route.name] = info
        if reason is None:
            runnable.append(route)
        else:
            _say(settings, f"route {route.name}: {reason}")

    results: dict[str, Any] = {
        "schema": SCHEMA,
        "mode": settings.mode,
        "created_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "settings": {
            "target_seconds_per_sample": settings.target_seconds,
            "samples": settings.samples,
            "seed": settings.seed,
            "dtype": "float64",
            "max_jacobian_bytes": settings.max_jacobian_bytes,
            "tolerance": settings.tolerance,
            "reference_route": REFERENCE,
            "blas_threads": settings.blas_threads,
            "timing": "median over samples of (batch time / calls per batch); gc off; "
                      "calls per batch auto-ranged so a batch lasts >= target seconds",
            "memory": "tracemalloc peak during one loss+grad call minus memory allocated before",
        },
        "machine": machine_facts(routes),
        "git": git_facts(),
        "routes": route_info,
        "configs": [],
        "training": None,
    }

    for config in settings.configs:
        problem = make_problem(config, settings.seed)
        reference = build_vjp_manual(problem).loss_and_grad()
        entry: dict[str, Any] = {
            "N": config.N, "D": config.D, "K": config.K, "key": config.key,
            "jacobian_bytes": config.jacobian_bytes, "routes": {},
        }
        results["configs"].append(entry)
        training_config = config.as_tuple() == CHAPTER
        training: dict[str, Any] = {}
        bound_routes: list[tuple[Route, Bound, dict]] = []
        for route in runnable:
            res: dict[str, Any] = {"status": "ok"}
            entry["routes"][route.name] = res
            skip = _jacobian_skip(config, settings.max_jacobian_bytes) if (
                route.needs_jacobian) else None
            if skip:
                res.update(status="skipped", reason=skip)
                _say(settings, f"{config.key:24s} {route.name:16s} {skip}")
                continue
            try:
                bound = route.build(problem, settings.max_jacobian_bytes)
                with bound.context():
                    got = bound.loss_and_grad()
                    step = bound.fit_step() if training_config else None
            except JacobianTooLarge as e:  # the model's own guard
                res.update(status="skipped",
                           reason=f"skipped: J would be {e.nbytes / GIB:.3g} GiB (model guard)")
                continue
            res["agreement"] = check_agreement(route.name, config, got, reference,
                                               settings.tolerance)
            if training_config:  # the training view's call must give the same gradients too
                check_agreement(route.name + " (fit step)", config,
                                (reference[0], *step), reference, settings.tolerance)
            bound_routes.append((route, bound, res))
        _measure_config(settings, config, bound_routes, training if training_config else None)
        explicit = entry["routes"].get("explicit", {})
        base = explicit.get("loss_and_grad", {}).get("median_s")
        for res in entry["routes"].values():
            t = res.get("loss_and_grad", {}).get("median_s")
            res["speedup_vs_explicit"] = base / t if (base and t) else None
        if training_config:
            base_fit = training.get("explicit", {}).get("median_s")
            for t in training.values():
                t["us_per_iteration"] = t["median_s"] * 1e6
                t["projected_s"] = t["median_s"] * CHAPTER_ITERATIONS
                if "fit_loop" in t:
                    t["fit_loop"]["projected_s"] = t["fit_loop"]["median_s"] * CHAPTER_ITERATIONS
                t["speedup_vs_explicit"] = base_fit / t["median_s"] if base_fit else None
            results["training"] = {
                "config": {"N": config.N, "D": config.D, "K": config.K},
                "iterations": CHAPTER_ITERATIONS,
                "note": "projected_s: the gradient work of one fit iteration (the timed call) "
                        "x iterations; fit_loop (chainrule routes): chainrule's own fit() timed "
                        "over n iterations, parameter updates and loop included",
                "routes": training,
            }
    results["machine"]["load_average_after"] = (
        list(os.getloadavg()) if hasattr(os, "getloadavg") else None)
    return results


__all__ = [
    "AgreementError", "Settings", "QUICK_CONFIGS", "FULL_CONFIGS", "check_agreement",
    "peak_extra_bytes", "relative_difference", "run", "time_call", "time_calls", "Measurement",
]
