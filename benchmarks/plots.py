"""PNG figures from a results dict (matplotlib, Agg backend; nothing is shown on screen)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)

from .problem import fmt_count  # noqa: E402

_MARKERS = "osD^v<>ph*"
_MIB = 1024.0**2


def _route_names(results: dict) -> list[str]:
    return [n for n, info in results["routes"].items() if info["status"] == "ok"]


def _style(results: dict) -> dict[str, dict]:
    names = list(results["routes"])
    cmap = plt.get_cmap("tab10")
    return {n: {"color": cmap(i % 10), "marker": _MARKERS[i % len(_MARKERS)]}
            for i, n in enumerate(names)}


def _series(results: dict, route: str, keep: callable, x_of: callable, y_of: callable):
    xs, ys = [], []
    for entry in results["configs"]:
        if not keep(entry):
            continue
        res = entry["routes"].get(route)
        if not res or res["status"] != "ok":
            continue
        y = y_of(res)
        if y is None:
            continue
        xs.append(x_of(entry))
        ys.append(y)
    order = sorted(range(len(xs)), key=xs.__getitem__)
    return [xs[i] for i in order], [ys[i] for i in order]


def _machine_note(results: dict) -> str:
    m = results["machine"]
    cpus = m.get("cpus_usable") or m.get("cpu_count")
    return f"{m.get('cpu_model')}, {cpus} CPUs; numpy {m['numpy']}; float64"


def _finish(fig: plt.Figure, ax: plt.Axes, results: dict, path: Path) -> Path:
    ax.grid(True, which="major", alpha=0.4)
    ax.grid(True, which="minor", alpha=0.15)
    ax.legend(fontsize=8, loc="best")
    fig.text(0.99, 0.01, _machine_note(results), ha="right", va="bottom", fontsize=6,
             color="0.4")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _d1k3(entry: dict) -> bool:
    return entry["D"] == 1 and entry["K"] == 3


def plot_time_vs_N(results: dict, path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(7, 4.8))
    style = _style(results)
    for name in _route_names(results):
        xs, ys = _series(results, name, _d1k3, lambda e: e["N"],
                         lambda r: r["loss_and_grad"]["median_s"])
        if xs:
            ax.plot(xs, ys, label=name, **style[name])
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("N (samples)")
    ax.set_ylabel("median time per loss + gradient call (s)")
    ax.set_title("Loss + both gradients: time per call vs N (D = 1, K = 3)")
    return _finish(fig, ax, results, path)


def plot_speedup_vs_N(results: dict, path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(7, 4.8))
    style = _style(results)
    for name in _route_names(results):
        if name == "explicit":
            continue
        xs, ys = _series(results, name, _d1k3, lambda e: e["N"],
                         lambda r: r.get("speedup_vs_explicit"))
        if xs:
            ax.plot(xs, ys, label=name, **style[name])
    ax.axhline(1.0, color="0.3", lw=1, ls="--", label="explicit (= 1)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("N (samples)")
    ax.set_ylabel("speedup over explicit (time ratio, ×)")
    ax.set_title("Speedup over the chapter's explicit route vs N (D = 1, K = 3)")
    return _finish(fig, ax, results, path)


def _dk_series_N(results: dict) -> int | None:
    """The N with the most distinct D*K values among the configurations (ties: larger N)."""
    pairs = {(e["N"], e["D"] * e["K"]) for e in results["configs"]}
    counts = Counter(n for n, _ in pairs)
    candidates = [n for n, c in counts.items() if c >= 2]
    if not candidates:
        return None
    return max(candidates, key=lambda n: (counts[n], n))


def plot_speedup_vs_DK(results: dict, path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(7, 4.8))
    style = _style(results)
    n_series = _dk_series_N(results)
    if n_series is None:
        ax.text(0.5, 0.5, "needs >= 2 configurations with the same N", ha="center",
                transform=ax.transAxes)
        title_n = "–"
    else:
        title_n = fmt_count(n_series)
        for name in _route_names(results):
            if name == "explicit":
                continue
            xs, ys = _series(results, name, lambda e: e["N"] == n_series,
                             lambda e: e["D"] * e["K"], lambda r: r.get("speedup_vs_explicit"))
            if xs:
                ax.plot(xs, ys, label=name, **style[name])
        ax.set_xscale("log")
        ax.set_yscale("log")
    ax.axhline(1.0, color="0.3", lw=1, ls="--", label="explicit (= 1)")
    ax.set_xlabel("D × K (input dimensions × basis functions)")
    ax.set_ylabel("speedup over explicit (time ratio, ×)")
    ax.set_title(f"Speedup over the explicit route vs D × K (N = {title_n})")
    return _finish(fig, ax, results, path)


def plot_memory_vs_N(results: dict, path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(7, 4.8))
    style = _style(results)
    for name in _route_names(results):
        if not results["routes"][name].get("memory_visible", True):
            continue
        xs, ys = _series(results, name, _d1k3, lambda e: e["N"],
                         lambda r: None if r.get("peak_extra_bytes") is None
                         else max(r["peak_extra_bytes"], 1) / _MIB)
        if xs:
            ax.plot(xs, ys, label=name, **style[name])
    js = sorted((e["N"], e["jacobian_bytes"] / _MIB) for e in results["configs"] if _d1k3(e))
    if js:
        ax.plot([n for n, _ in js], [j for _, j in js], color="0.3", ls=":", lw=1.5,
                label="size of the explicit Jacobian N(D+1)K·8 B")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("N (samples)")
    ax.set_ylabel("peak extra memory per loss + gradient call (MiB)")
    ax.set_title("Peak memory vs N (D = 1, K = 3; tracemalloc, PyTorch not visible)")
    return _finish(fig, ax, results, path)


PLOTS = {
    "time_vs_N": plot_time_vs_N,
    "speedup_vs_N": plot_speedup_vs_N,
    "speedup_vs_DK": plot_speedup_vs_DK,
    "memory_vs_N": plot_memory_vs_N,
}


def write_plots(results: dict, directory: Path, prefix: str) -> dict[str, str]:
    """Write every figure as ``<directory>/<prefix>_<name>.png``; returns name -> path (relative
    to the repository root when inside it)."""
    directory.mkdir(parents=True, exist_ok=True)
    root = Path(__file__).resolve().parent.parent
    out = {}
    for name, fn in PLOTS.items():
        path = fn(results, directory / f"{prefix}_{name}.png").resolve()
        out[name] = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
    return out
