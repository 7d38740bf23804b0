"""PNG figures of a `Results` (matplotlib's Agg backend: files only, nothing on screen)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)

from .report import ratio, seconds  # noqa: E402
from .results import ConfigResult, Results  # noqa: E402


def _plot(results: Results, path: Path, title: str, xlabel: str, ylabel: str,
          keep: Callable[[ConfigResult], bool], x: Callable[[ConfigResult], float],
          y: Callable[[ConfigResult, str], float | None], baseline: str | None = None) -> Path:
    fig, ax = plt.subplots(figsize=(9, 4.8))
    configs = sorted((c for c in results.configs if keep(c)), key=x)
    for i, info in enumerate(results.routes):
        points = [(x(c), y(c, info.name)) for c in configs]
        points = [(a, b) for a, b in points if b is not None]
        if points and info.name != baseline:
            ax.plot(*zip(*points), marker="osD^v<>ph*"[i % 10], color=f"C{i % 10}",
                    label=info.name)
    if baseline:
        ax.axhline(1.0, color="0.3", lw=1, ls="--", label=f"{baseline} (= 1)")
    ax.set(xscale="log", yscale="log", xlabel=xlabel, ylabel=ylabel, title=title)
    ax.grid(True, which="both", alpha=0.25)
    # beside the axes, not on them: with up to ten routes no corner of the plot stays empty
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1), borderaxespad=0)
    m = results.machine
    fig.text(0.99, 0.01, f"{m.processor}, {m.cpus_usable or m.cpus} CPUs, numpy {m.numpy}, "
             f"float64, commit {(results.commit or '?')[:10]}", ha="right", fontsize=6,
             color="0.4")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _time(c: ConfigResult, name: str) -> float | None:
    r = c.route(name)
    return seconds(r) if r else None


def _speedup(c: ConfigResult, name: str) -> float | None:
    return ratio(c, "chapter", name)


def _peak_mib(c: ConfigResult, name: str) -> float | None:
    r = c.route(name)
    return max(r.peak_bytes, 1) / 2**20 if r and r.peak_bytes is not None else None


def write_plots(results: Results, directory: Path, prefix: str) -> list[str]:
    """time vs N, speedup vs N, speedup vs D*K and peak memory vs N, as <prefix>_<name>.png."""
    directory.mkdir(parents=True, exist_ok=True)
    line = "D = 1, K = 3"

    def d1k3(c: ConfigResult) -> bool:
        return (c.D, c.K) == (1, 3)

    # the speedup-vs-D*K series: the N with the most configurations of distinct D*K
    counts = Counter(c.N for c in results.configs)
    n_dk = max(counts, key=lambda n: (counts[n], n), default=0)
    speedup = "speedup: chapter's time / route's time [×]"
    samples = "N (samples)"
    figures = [
        ("time_vs_N", f"Time per loss + gradients call vs N ({line})", samples,
         "median time per call [s]", d1k3, lambda c: c.N, _time, None),
        ("speedup_vs_N", f"Speedup over the chapter's code vs N ({line})", samples, speedup,
         d1k3, lambda c: c.N, _speedup, "chapter"),
        ("speedup_vs_DK", f"Speedup over the chapter's code vs D × K (N = {n_dk:,})",
         "D × K (input dimensions × basis functions)", speedup, lambda c: c.N == n_dk,
         lambda c: c.D * c.K, _speedup, "chapter"),
        ("memory_vs_N", f"Peak extra memory per call vs N ({line}; tracemalloc)", samples,
         "peak extra memory [MiB]", d1k3, lambda c: c.N, _peak_mib, None),
    ]
    return [str(_plot(results, directory / f"{prefix}_{name}.png", *rest))
            for name, *rest in figures]
