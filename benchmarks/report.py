"""The markdown report of a `Results`: the measured figures and their ratios, nothing judged."""

from __future__ import annotations

from collections.abc import Callable

from tabulate import tabulate

from autograd_lite.formatting import format_bytes

from .results import ConfigResult, Results, RouteResult


def fmt_count(n: int) -> str:
    """100 -> '100', 10000 -> '1e4', 20000 -> '2e4', 1234 -> '1234'."""
    digits = str(n).rstrip("0")
    return str(n) if n < 1000 or len(digits) > 1 else f"{digits}e{len(str(n)) - 1}"


def fmt_time(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    return f"{seconds * 1e3:.2f} ms" if seconds < 1 else f"{seconds:.2f} s"


def fmt_duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.1f} s"
    return f"{seconds / 60:.1f} min" if seconds < 7200 else f"{seconds / 3600:.1f} h"


def fmt_ratio(x: float | None) -> str:
    return "–" if x is None else (f"{x:.3g}×" if x < 1000 else f"{x:,.0f}×")


def size(c: ConfigResult) -> str:
    return f"({fmt_count(c.N)}, {c.D}, {c.K})"


def seconds(r: RouteResult) -> float:
    return r.time.median_s


def peak(r: RouteResult) -> float | None:
    return r.peak_bytes


def ratio(c: ConfigResult, numerator: str, denominator: str,
          of: Callable[[RouteResult], float | None] = seconds) -> float | None:
    """of(numerator) / of(denominator) at one configuration (None if either is missing)."""
    a, b = c.route(numerator), c.route(denominator)
    x, y = (of(a), of(b)) if a and b else (None, None)
    return x / y if x is not None and y else None


def table(rows: list[list[str]], headers: list[str], align: str = "right") -> str:
    """A markdown (pipe) table of text cells: the first column left-aligned, the others
    `align`ed; the benchmarks' one table format."""
    return tabulate(rows, headers, tablefmt="pipe", disable_numparse=True,
                    colalign=("left", *[align] * (len(headers) - 1)))


def _grid(results: Results, names: list[str], cell: Callable[[ConfigResult, str], str]) -> str:
    """One row per configuration, one column per route."""
    return table([[size(c), *(cell(c, n) for n in names)] for c in results.configs],
                  ["(N, D, K)", *names])


def _time(c: ConfigResult, name: str) -> str:
    r = next(r for r in c.routes if r.route == name)
    return r.skipped or fmt_time(seconds(r))


def _compilation(results: Results) -> list[str]:
    rows = []
    for c in results.configs:
        r, backprop = c.route("compiled"), c.route("backprop")
        if r is None or r.compilation is None:
            continue
        once = r.compilation.trace_seconds + r.compilation.compile_seconds
        saved = seconds(backprop) - seconds(r) if backprop else 0
        rows.append([size(c), fmt_time(r.compilation.trace_seconds),
                     fmt_time(r.compilation.compile_seconds),
                     " → ".join(map(str, r.compilation.equations.values())),
                     fmt_ratio(ratio(c, "backprop", "compiled")),
                     f"{once / saved:,.0f}" if saved > 0 else "–"])
    return ["## The compiled route's one-off cost (per input signature)", "",
            table(rows, ["(N, D, K)", "trace", "compile", "equations: traced → after each pass",
                          "backprop / compiled", "calls until it pays off"]), ""] if rows else []


def _fit(results: Results) -> list[str]:
    if (fit := results.fit) is None:
        return []
    chapter = next((f.per_iteration.median_s for f in fit.routes if f.route == "chapter"), None)
    rows = [[f.route, f"{f.per_iteration.median_s * 1e6:.1f}", fmt_duration(f.projected_s),
             fmt_ratio(f.per_iteration.median_s / chapter if chapter else None)]
            for f in fit.routes]
    return [f"## The real fit loop at the chapter's size ({fit.N}, {fit.D}, {fit.K})", "",
            f"`model.fit` with num_iterations = {fit.iterations_per_call:,}, each call from the "
            "same W, timed round-robin: per iteration, and projected to the chapter's "
            f"{fit.projected_iterations:,} steps.", "",
            table(rows, ["route", "µs / iteration", f"{fit.projected_iterations:,} steps",
                          "route / chapter"]), "",
            f"explicit / chapter per fit iteration: {fmt_ratio(fit.explicit_over_chapter)}", ""]


def render(results: Results) -> str:
    """The whole report (markdown)."""
    s, m, ref = results.settings, results.machine, results.settings.reference
    names = [i.name for i in results.routes if i.unavailable is None]
    blas = ", ".join(f"{p['internal_api']} {p['version']} on {p['num_threads']} thread(s)"
                     for p in m.threadpools) or "none found"
    load = f"{m.load_average[0]:.2f}" if m.load_average else "unknown"
    routes = [[f"`{i.name}`", i.description, i.unavailable or f"ran {i.version or ''}"]
              for i in results.routes]

    def memory(c: ConfigResult, name: str) -> str:
        r = c.route(name)
        if r is None or r.peak_bytes is None:
            return "n/a" if r else "–"
        return f"{format_bytes(r.peak_bytes)} ({fmt_ratio(ratio(c, name, ref, peak))})"

    return "\n".join([
        f"# Benchmark: the loss and both gradients ({s.mode} mode)", "",
        f"{m.platform}, {m.processor}, {m.cpus_usable or m.cpus} usable CPUs, "
        f"{format_bytes(m.memory_bytes or 0)} RAM, load average {load} at the start; Python "
        f"{m.python}, numpy {m.numpy}; BLAS: {blas}; commit {results.commit}; "
        f"{results.created_utc}.", "",
        f"float64, seed {s.seed}. Every route agrees with `{ref}` (relative difference ≤ "
        f"{s.tolerance:.0e} in the loss and both gradients) before it is timed. Median over "
        f"{s.rounds} round-robin rounds, each timing one batch (≥ {s.target_seconds} s, sized by "
        "timeit's autorange, gc off) of every route in turn.", "",
        table(routes, ["route", "what it runs", "status"], "left"), "",
        "## Median time per loss + gradients call", "", _grid(results, names, _time), "",
        f"## Time relative to the hand-fused floor (route / {ref})", "",
        _grid(results, [n for n in names if n != ref], lambda c, n: fmt_ratio(ratio(c, n, ref))),
        "", "## Speedup over the chapter's code (chapter / route)", "",
        _grid(results, [n for n in names if n != "chapter"],
              lambda c, n: fmt_ratio(ratio(c, "chapter", n))), "",
        f"## Peak extra memory per call (route / {ref} in parentheses)", "",
        "tracemalloc's peak during one call; n/a: allocations outside its view (torch, XLA).", "",
        _grid(results, names, memory), "", *_compilation(results), *_fit(results),
    ])
