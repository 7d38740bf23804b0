"""Markdown report and target evaluation from a results dict (as produced by ``harness.run``)."""

from __future__ import annotations

import math

from .problem import fmt_count

GIB = float(1024**3)


def fmt_time(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "–"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def fmt_duration(seconds: float | None) -> str:
    """Long durations: 95 s -> '1 min 35 s', 7200 s -> '2.0 h'."""
    if seconds is None or not math.isfinite(seconds):
        return "–"
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min {int(round(seconds % 60)):02d} s"
    return f"{seconds / 3600:.1f} h"


def fmt_bytes(n: float | None) -> str:
    if n is None:
        return "n/a"
    for unit, size in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{int(n)} B"


def fmt_ratio(x: float | None) -> str:
    if x is None or not math.isfinite(x):
        return "–"
    return f"{x:.3g}×" if x < 100 else f"{x:,.0f}×"


def _cfg(entry: dict) -> str:
    return f"({fmt_count(entry['N'])}, {entry['D']}, {entry['K']})"


def main_table(results: dict) -> str:
    """One row per (configuration, route)."""
    lines = [
        "| (N, D, K) | route | loss+grad (median) | speedup vs explicit | forward alone "
        "| (loss+grad)/forward | peak extra memory | kernel CPU share |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for entry in results["configs"]:
        for name, res in entry["routes"].items():
            if res["status"] != "ok":
                lines.append(f"| {_cfg(entry)} | {name} | {res['reason']} | | | | | |")
                continue
            lines.append(
                f"| {_cfg(entry)} | {name} | {fmt_time(res['loss_and_grad']['median_s'])} "
                f"| {fmt_ratio(res.get('speedup_vs_explicit'))} "
                f"| {fmt_time(res['forward']['median_s'])} "
                f"| {res['grad_over_forward']:.2f} "
                f"| {fmt_bytes(res.get('peak_extra_bytes'))} "
                f"| {res['loss_and_grad'].get('system_share', 0) * 100:.0f}% |"
            )
    return "\n".join(lines)


def compact_table(results: dict) -> str:
    """Rows = configurations, columns = routes: median loss+grad time (speedup vs explicit)."""
    names = [n for n, info in results["routes"].items() if info["status"] == "ok"]
    lines = ["| (N, D, K) | J size | " + " | ".join(names) + " |",
             "|---|---:|" + "---:|" * len(names)]
    for entry in results["configs"]:
        cells = []
        for name in names:
            res = entry["routes"].get(name)
            if res is None:
                cells.append("")
            elif res["status"] != "ok":
                cells.append("skipped")
            else:
                cell = fmt_time(res["loss_and_grad"]["median_s"])
                if name != "explicit" and res.get("speedup_vs_explicit"):
                    cell += f" ({fmt_ratio(res['speedup_vs_explicit'])})"
                cells.append(cell)
        lines.append(f"| {_cfg(entry)} | {fmt_bytes(entry['jacobian_bytes'])} | "
                     + " | ".join(cells) + " |")
    return "\n".join(lines)


def training_table(results: dict) -> str:
    training = results.get("training")
    if not training:
        return "(the chapter's configuration (100, 1, 3) was not run)"
    iters = training["iterations"]
    lines = [
        f"| route | timed call per iteration | µs / iteration | projected {iters:,} iterations "
        "| speedup vs explicit | real fit() loop: µs / iteration (projected) |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for name, t in training["routes"].items():
        loop = t.get("fit_loop")
        loop_s = "–"
        if loop:
            loop_s = (f"{loop['median_s'] * 1e6:.1f} "
                      f"({fmt_duration(loop['projected_s'])})")
        lines.append(
            f"| {name} | {t['call']} | {t['us_per_iteration']:.1f} "
            f"| {fmt_duration(t['projected_s'])} | {fmt_ratio(t.get('speedup_vs_explicit'))} "
            f"| {loop_s} |"
        )
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------
# Targets.
# ----------------------------------------------------------------------------------------------


def _time(results: dict, key: tuple[int, int, int], route: str) -> float | None:
    for entry in results["configs"]:
        if (entry["N"], entry["D"], entry["K"]) == key:
            res = entry["routes"].get(route)
            if res and res["status"] == "ok":
                return res["loss_and_grad"]["median_s"]
    return None


def _keys(results: dict) -> list[tuple[int, int, int]]:
    return [(e["N"], e["D"], e["K"]) for e in results["configs"]]


def _label(key: tuple[int, int, int]) -> str:
    return f"({fmt_count(key[0])}, {key[1]}, {key[2]})"


def _at_most(name: str, ratios: dict, limit: float, strict: bool = False) -> dict:
    """Target: every ratio <= limit (< limit if strict)."""
    if not ratios:
        return {"target": name, "status": "not evaluated", "detail": "no measurements"}
    worst_key = max(ratios, key=ratios.get)
    worst = ratios[worst_key]
    values = ", ".join(f"{_label(k)}: {v:.2f}×" for k, v in ratios.items())
    if worst < limit or (worst == limit and not strict):
        return {"target": name, "status": "met", "value": worst,
                "detail": f"worst {worst:.2f}× at {_label(worst_key)} ({values})"}
    missed = [k for k, v in ratios.items() if v > limit or (v == limit and strict)]
    return {"target": name, "status": "missed", "value": worst,
            "detail": f"missed by {(worst / limit - 1) * 100:.0f}%: {worst:.2f}× at "
                      f"{_label(worst_key)} vs ≤ {limit}× (missed at "
                      f"{', '.join(_label(k) for k in missed)}; all: {values})"}


def evaluate_targets(results: dict) -> list[dict]:
    """The issue's targets, evaluated from the measured medians."""
    out = []
    keys = _keys(results)

    def ratio(key: tuple[int, int, int], a: str, b: str) -> float | None:
        ta, tb = _time(results, key, a), _time(results, key, b)
        return ta / tb if (ta and tb) else None

    r = ratio((100, 1, 3), "backprop", "vjp-manual")
    out.append(_at_most("backprop ≤ 1.25× vjp-manual at (100, 1, 3)",
                        {(100, 1, 3): r} if r else {}, 1.25))
    big = {k: ratio(k, "backprop", "vjp-manual") for k in keys if k[0] >= 10_000}
    out.append(_at_most("backprop ≤ 1.15× vjp-manual at N ≥ 1e4",
                        {k: v for k, v in big.items() if v}, 1.15))
    for peer in ("torch-1t", "hips-autograd"):
        ratios = {k: ratio(k, "backprop", peer) for k in keys}
        ratios = {k: v for k, v in ratios.items() if v}
        name = f"backprop faster than {peer} everywhere (time ratio backprop/{peer} < 1)"
        if not ratios:
            info = results["routes"].get(peer)
            why = info["reason"] if info and info.get("reason") else "route not run"
            out.append({"target": name, "status": "not evaluated", "detail": why})
        else:
            out.append(_at_most(name, ratios, 1.0, strict=True))
    for key, minimum in (((10_000, 8, 64), 5.0), ((10_000, 64, 256), 15.0)):
        name = f"backprop speedup over explicit ≥ {minimum:g}× at {_label(key)}"
        s = ratio(key, "explicit", "backprop")
        if s is None:
            out.append({"target": name, "status": "not evaluated",
                        "detail": "configuration not run or a route skipped"})
        elif s >= minimum:
            out.append({"target": name, "status": "met", "value": s, "detail": f"{s:.1f}×"})
        else:
            out.append({"target": name, "status": "missed", "value": s,
                        "detail": f"missed by {(minimum / s - 1) * 100:.0f}%: {s:.1f}× "
                                  f"vs ≥ {minimum:g}×"})
    name = "chapter training (1,000,000 iterations) projected ≤ 20 s with backprop"
    training = results.get("training") or {}
    t = (training.get("routes") or {}).get("backprop")
    if t is None:
        out.append({"target": name, "status": "not evaluated",
                    "detail": "the chapter's configuration was not run"})
    else:
        p = t["projected_s"]
        status = "met" if p <= 20 else "missed"
        detail = f"{p:.1f} s ({t['us_per_iteration']:.1f} µs per iteration, {t['call']}"
        if t.get("fit_loop"):
            detail += (f"; chainrule's real fit() loop: "
                       f"{t['fit_loop']['median_s'] * 1e6:.1f} µs per iteration, "
                       f"{t['fit_loop']['projected_s']:.1f} s projected")
        detail += ")"
        if status == "missed":
            detail = f"missed by {(p / 20 - 1) * 100:.0f}%: " + detail
        out.append({"target": name, "status": status, "value": p, "detail": detail})
    return out


def targets_section(targets: list[dict]) -> str:
    return "\n".join(f"- **{t['status']}**: {t['target']} — {t['detail']}" for t in targets)


def machine_line(results: dict) -> str:
    m = results["machine"]
    blas = results["settings"].get("blas_threads") or {}
    load = m.get("load_average")
    load_s = f"; load average {load[0]:.2f} at start" if load else ""
    return (f"{m.get('cpu_model')} ({m.get('cpus_usable') or m.get('cpu_count')} CPUs usable), "
            f"{fmt_bytes(m.get('memory_total_bytes'))} RAM; Python {m['python'].split()[0]}, "
            f"numpy {m['numpy']}; numpy BLAS threads: {blas.get('effective', 'default')}"
            + ("; peers: " + ", ".join(f"{k} {v}" for k, v in m["peers"].items())
               if m.get("peers") else "; no peers installed")
            + load_s)


def busy_warning(results: dict) -> list[str]:
    """A warning line if other processes kept the CPUs busy during the run."""
    m = results["machine"]
    cpus = m.get("cpus_usable") or m.get("cpu_count") or 1
    loads = []
    if m.get("load_average"):
        loads.append(m["load_average"][0])
    if m.get("load_average_after"):  # minus the benchmark's own process
        loads.append(m["load_average_after"][0] - 1)
    if not loads or max(loads) < 0.5 * cpus:
        return []
    return [f"**Warning:** the machine was busy (other processes: 1-minute load average up to "
            f"{max(loads):.1f} "
            f"on {cpus} CPUs): timings are noisy, and multi-threaded routes (PyTorch's default "
            f"threads) suffer most, since their worker threads wait for a free CPU."]


def render(results: dict) -> str:
    """The full markdown report."""
    s = results["settings"]
    skipped = [f"- `{n}`: {info['reason']}" for n, info in results["routes"].items()
               if info["status"] != "ok"]
    parts = [
        f"# Benchmark: loss + both gradients ({results['mode']} mode)",
        "",
        f"Machine: {machine_line(results)}.",
        *busy_warning(results),
        f"float64, seed {s['seed']}; median of {s['samples']} samples of ≥ "
        f"{s['target_seconds_per_sample']} s each; every route checked against "
        f"`{s['reference_route']}` (relative difference ≤ {s['tolerance']:.0e}) before timing.",
        "",
        "## Time per call",
        "",
        "Median time per loss+gradient call (speedup over `explicit` in parentheses):",
        "",
        compact_table(results),
        "",
        "## All figures",
        "",
        main_table(results),
        "",
        "Forward alone: the same route computing only the loss, without gradient bookkeeping. "
        "Peak extra memory: tracemalloc peak during one loss+grad call (n/a: PyTorch's "
        "allocator is invisible to tracemalloc). Kernel CPU share: system / (user + system) CPU "
        "time of the process during the timed calls; a high share is the cost of faulting in "
        "freshly allocated memory (the Jacobian routes), which varies from run to run.",
        "",
        "## Training view at the chapter's size (N=100, D=1, K=3)",
        "",
        training_table(results),
        "",
        "## Targets",
        "",
        targets_section(results.get("targets") or evaluate_targets(results)),
    ]
    if skipped:
        parts += ["", "## Skipped routes", "", *skipped]
    return "\n".join(parts) + "\n"
