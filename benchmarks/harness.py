"""Measurement: the round-robin timer, peak memory, the agreement check and the run."""

from __future__ import annotations

import datetime
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import timeit
import tracemalloc
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

import numpy as np
import threadpoolctl

from autograd_lite.formatting import format_bytes
from chainrule import chapter

from . import results as schema
from .routes import CHAPTER_SIZE, REFERENCE, Route, make_problem, vjp_manual

ROOT = Path(__file__).resolve().parent.parent
#: Where the commands write unless told otherwise (--out): outside the source tree.
DEFAULT_OUT = Path(tempfile.gettempdir()) / "chainrule-benchmarks"
#: The committed results and figures: rewritten only when asked (--update-committed).
COMMITTED_RESULTS = ROOT / "benchmarks" / "results"
DOCS = ROOT / "docs"

#: Largest relative difference from the reference accepted: the routes differ in operation order
#: only (rounding, ~1e-15 in float64, growing with N), while a wrong formula is off by far more.
TOLERANCE = 1e-9


class AgreementError(AssertionError):
    """A route's loss or gradients differ from the reference route's."""


class _LongEnough(Exception):
    pass


def batch_size(timer: timeit.Timer, target_seconds: float) -> int:
    """Calls per batch so that one batch lasts >= target_seconds: timeit's autorange (1, 2, 5,
    10, 20, ... calls), stopped by its callback at a shorter target than its fixed 0.2 s, and
    scaled up for a longer one."""
    def stop(number: int, elapsed: float) -> None:
        if elapsed >= target_seconds:
            raise _LongEnough(number)

    try:
        number, elapsed = timer.autorange(stop)
    except _LongEnough as enough:
        return enough.args[0]
    return max(number, math.ceil(number * target_seconds / elapsed))


def time_round_robin(calls: Sequence[Callable[[], object]], target_seconds: float, rounds: int,
                     per_call: int = 1) -> list[schema.Timing]:
    """Median seconds per call (divided by `per_call`) of each function, sampled round-robin.

    After one warm-up call each (caches, first-touch pages, compilation) and sizing the batches,
    each round times one batch of every function in turn, so that all of them see the same
    machine load and their ratios stay fair when the load drifts. The garbage collector is off
    during each batch (timeit's default).
    """
    timers = [timeit.Timer(call) for call in calls]
    for call in calls:
        call()
    numbers = [batch_size(timer, target_seconds) for timer in timers]
    samples: list[list[float]] = [[] for _ in calls]
    for _ in range(rounds):
        for timer, number, out in zip(timers, numbers, samples):
            out.append(timer.timeit(number) / (number * per_call))
    return [schema.Timing(statistics.median(s), s, n) for s, n in zip(samples, numbers)]


def peak_extra_bytes(call: Callable[[], object]) -> int:
    """Peak bytes allocated during one call as tracemalloc sees them (the result included)."""
    tracemalloc.start()
    try:
        result = call()  # noqa: F841  (alive at the peak, as for a caller)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def relative_difference(a: object, ref: object) -> float:
    """max|a - ref| / max|ref| (absolute if ref is all zeros); inf if a is not finite or its
    shape differs."""
    a, ref = np.asarray(a, dtype=np.float64), np.asarray(ref, dtype=np.float64)
    if a.shape != ref.shape or not np.all(np.isfinite(a)):
        return math.inf
    diff, scale = float(np.max(np.abs(a - ref))), float(np.max(np.abs(ref)))
    return diff / scale if scale > 0 else diff


def check_agreement(route: str, where: str, got: Sequence[object], ref: Sequence[object],
                    tolerance: float, reference: str = REFERENCE,
                    names: Sequence[str] = ("loss", "grad_W", "grad_w")) -> float:
    """The worst relative difference of the quantities `names` (loss, gradients) between `got`
    and the reference route's `ref`; AgreementError, naming route, place and quantity, above
    the tolerance."""
    diffs = [relative_difference(g, r) for g, r in zip(got, ref, strict=True)]
    for quantity, diff in zip(names, diffs, strict=True):
        if not diff <= tolerance:
            raise AgreementError(
                f"route {route!r} disagrees with {reference!r} at {where}: {quantity} relative "
                f"difference {diff:.3e} > tolerance {tolerance:.0e}")
    return max(diffs)


def machine_facts() -> schema.Machine:
    return schema.Machine(
        platform=platform.platform(), python=platform.python_version(), numpy=np.__version__,
        processor=platform.processor() or platform.machine(), cpus=os.cpu_count(),
        cpus_usable=len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        memory_bytes=os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        if hasattr(os, "sysconf") else None,
        load_average=list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        threadpools=threadpoolctl.threadpool_info(),
    )


def git_commit() -> str | None:
    """HEAD, marked "+changes" if the measured packages have uncommitted changes."""
    git = partial(subprocess.run, capture_output=True, text=True, check=True, cwd=ROOT)
    try:
        head = git(["git", "rev-parse", "HEAD"]).stdout.strip()
        dirty = git(["git", "status", "--porcelain", "--untracked-files=no", "--", "benchmarks",
                     "chainrule", "autograd_lite"]).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return head + (" +changes" if dirty else "")


def utc_now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def measure_config(settings: schema.Settings, routes: Sequence[Route],
                   size: tuple[int, int, int]) -> schema.ConfigResult:
    """Check every route against the reference, then time them round-robin and profile memory."""
    p = make_problem(*size, seed=settings.seed)
    reference = vjp_manual(p.X, p.y, p.W, p.w, p.ridge, p.ridge_basis)
    label = "N={} D={} K={}".format(*size)
    entry, measured = schema.ConfigResult(*size, p.jacobian_bytes, []), []
    for route in routes:
        entry.routes.append(result := schema.RouteResult(route.name))
        if route.needs_jacobian and p.jacobian_bytes > settings.max_jacobian_bytes:
            result.skipped = f"skipped: J would be {format_bytes(p.jacobian_bytes)}"
            say(f"{label:22} {route.name:16} {result.skipped}")
            continue
        bound = route.build(p)
        result.relative_difference = check_agreement(
            route.name, "N={}, D={}, K={}".format(*size), bound.loss_and_grads(), reference,
            settings.tolerance)
        measured.append((route, bound, result))
    timings = time_round_robin([b.loss_and_grads for _, b, _ in measured],
                               settings.target_seconds, settings.rounds)
    for (route, bound, result), timing in zip(measured, timings):
        result.time = timing
        if route.memory_visible:
            result.peak_bytes = peak_extra_bytes(bound.loss_and_grads)
        if bound.compiled is not None:
            stats = bound.compiled.stats
            result.compilation = schema.Compilation(
                stats["trace_seconds"], stats["compile_seconds"], stats["equations"])
        say(f"{label:22} {route.name:16} {timing.median_s * 1e6:12.1f} µs per call")
    return entry


def measure_fit(settings: schema.Settings, routes: Sequence[Route]) -> schema.FitResult | None:
    """The routes' real fit loops at the chapter's size, timed round-robin, per iteration."""
    p, n = make_problem(*CHAPTER_SIZE, seed=settings.seed), settings.fit_iterations
    fitting = [r for r in routes if r.fit is not None]
    timings = time_round_robin([r.fit(p, n) for r in fitting], settings.target_seconds,
                               settings.rounds, per_call=n)
    per_iteration = {r.name: t.median_s for r, t in zip(fitting, timings)}
    for name, t in per_iteration.items():
        say(f"fit, N=100 D=1 K=3     {name:16} {t * 1e6:12.1f} µs per iteration")
    fits = [schema.FitTiming(r.name, t, t.median_s * chapter.ITERATIONS)
            for r, t in zip(fitting, timings)]
    ratio = (per_iteration["explicit"] / per_iteration["chapter"]
             if {"explicit", "chapter"} <= per_iteration.keys() else None)
    return schema.FitResult(*CHAPTER_SIZE, n, chapter.ITERATIONS, fits, ratio) if fits else None


def run(settings: schema.Settings, routes: Sequence[Route]) -> schema.Results:
    """Measure every available route at every configuration (and the fits at the chapter's
    size, if it is among them); AgreementError if a route disagrees with the reference."""
    infos = [schema.RouteInfo(r.name, r.description, r.unavailable(), r.version())
             for r in routes]
    for info in infos:
        if info.unavailable:
            say(f"route {info.name}: {info.unavailable}")
    available = [r for r, info in zip(routes, infos) if info.unavailable is None]
    created, machine = utc_now(), machine_facts()
    configs = [measure_config(settings, available, size) for size in settings.configs]
    fit = measure_fit(settings, available) if CHAPTER_SIZE in settings.configs else None
    return schema.Results(created, git_commit(), settings, machine, infos, configs, fit)
