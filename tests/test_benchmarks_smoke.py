"""Smoke tests of the benchmark package: structure and correctness, never speed."""

from __future__ import annotations

import argparse
import json
import math
import timeit

import numpy as np
import pytest

from benchmarks import jacobian_three_ways
from benchmarks.__main__ import main, parse_config
from benchmarks.harness import batch_size, relative_difference
from benchmarks.routes import ROUTES, Bound, Route, make_problem, vjp_manual
from chainrule.model import BasisFunctionRidgeRegressionGD, TanhBasis

# tiny batches and fits keep the test short; timing quality is not what is tested
FAST = ["--target-seconds", "0.0005", "--fit-iterations", "5"]
FIT_ROUTES = ["chapter", "explicit", "backprop", "compiled", "compiled-jax"]  # jax: the test extra


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    rc = main(["--quick", "--out", str(out), *FAST])
    return rc, out


def test_quick_run_writes_a_complete_result(quick_run):
    rc, out = quick_run
    assert rc == 0
    results = json.loads((out / "bench_quick.json").read_text())
    assert results["schema"] == "chainrule-benchmarks/2" and results["settings"]["mode"] == "quick"
    assert results["machine"]["numpy"] == np.__version__ and results["machine"]["threadpools"]
    infos = {i["name"]: i for i in results["routes"]}
    assert list(infos) == [r.name for r in ROUTES]
    ran = [n for n, i in infos.items() if i["unavailable"] is None]
    assert ran[:6] == ["chapter", "explicit", "explicit-cached", "vjp-manual", "backprop",
                       "compiled"]
    for name in set(infos) - set(ran):  # an uninstalled peer says so
        assert infos[name]["unavailable"].startswith("not installed")
    assert [(c["N"], c["D"], c["K"]) for c in results["configs"]] == [
        (100, 1, 3), (1000, 1, 3), (1000, 8, 64)]
    for config in results["configs"]:
        assert config["jacobian_bytes"] == config["N"] * (config["D"] + 1) * config["K"] * 8
        by_route = {r["route"]: r for r in config["routes"]}
        assert list(by_route) == ran
        for name, r in by_route.items():
            assert r["skipped"] is None and r["relative_difference"] <= 1e-9
            assert len(r["time"]["rounds_s"]) == 5 and r["time"]["calls_per_batch"] >= 1
            assert min(r["time"]["rounds_s"]) <= r["time"]["median_s"] <= max(
                r["time"]["rounds_s"])
            if name in ("torch-1t", "jax", "compiled-jax"):  # not seen by tracemalloc
                assert r["peak_bytes"] is None
            else:  # every numpy route allocates at least its gradients
                assert r["peak_bytes"] >= 8 * config["K"] * (config["D"] + 2)
        stats = by_route["compiled"]["compilation"]
        assert stats["trace_seconds"] > 0 and stats["compile_seconds"] > 0
        assert stats["equations"]["traced"] >= list(stats["equations"].values())[-1] > 0
    fit = results["fit"]
    assert (fit["N"], fit["D"], fit["K"], fit["iterations_per_call"]) == (100, 1, 3, 5)
    assert [f["route"] for f in fit["routes"]] == FIT_ROUTES
    for f in fit["routes"]:
        assert f["projected_s"] == pytest.approx(f["per_iteration"]["median_s"] * 1_000_000)
    per_iteration = {f["route"]: f["per_iteration"]["median_s"] for f in fit["routes"]}
    assert fit["explicit_over_chapter"] == pytest.approx(
        per_iteration["explicit"] / per_iteration["chapter"])
    assert len(results["plots"]) == 4
    for path in results["plots"]:
        with open(path, "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    md = (out / "bench_quick.md").read_text()
    for heading in ("## Median time per loss + gradients call",
                    "## Time relative to the hand-fused floor (route / vjp-manual)",
                    "## Speedup over the chapter's code (chapter / route)",
                    "## Peak extra memory per call", "## The compiled route's one-off cost",
                    "## The real fit loop", "explicit / chapter per fit iteration: "):
        assert heading in md
    assert "met" not in md.split() and "missed" not in md.split()  # figures, no verdicts


def test_jacobian_guard_skips_the_explicit_routes(tmp_path, capsys):
    rc = main(["--out", str(tmp_path), "--no-plots", "--configs", "1e3x8x64",
               "--routes", "chapter", "explicit", "explicit-cached", "vjp-manual",
               "--max-jacobian-gib", "0.001", *FAST])
    assert rc == 0
    results = json.loads((tmp_path / "bench.json").read_text())
    routes = {r["route"]: r for r in results["configs"][0]["routes"]}
    # J = 1000 * (8+1) * 64 * 8 B = 4,608,000 B = 4.39 MiB
    for name in ("chapter", "explicit", "explicit-cached"):
        assert routes[name]["skipped"] == "skipped: J would be 4.39 MiB"
        assert routes[name]["time"] is None
    assert routes["vjp-manual"]["skipped"] is None and routes["vjp-manual"]["time"]["median_s"] > 0
    assert results["fit"] is None  # the chapter's size was not run
    assert "skipped: J would be 4.39 MiB" in capsys.readouterr().out


def _wrong_route() -> Route:
    def build(p):
        def loss_and_grads():
            loss, gW, gw = vjp_manual(p.X, p.y, p.W, p.w, p.ridge, p.ridge_basis)
            gW[0, 0] *= 1 + 1e-6  # a deliberately wrong entry, far above the 1e-9 tolerance
            return loss, gW, gw
        return Bound(loss_and_grads)
    return Route("wrong", "a deliberately wrong gradient", build)


def test_agreement_check_aborts_on_a_wrong_route(tmp_path, capsys):
    rc = main(["--out", str(tmp_path), "--configs", "100x1x3", "--routes", "vjp-manual", "wrong",
               *FAST], extra_routes=[_wrong_route()])
    assert rc == 2
    err = capsys.readouterr().err
    assert "ABORTED: route 'wrong' disagrees with 'vjp-manual' at N=100, D=1, K=3: grad_W " \
           "relative difference" in err
    assert not list(tmp_path.iterdir())  # nothing written


def test_vjp_manual_equals_the_chainrule_models_gradients():
    p = make_problem(50, 3, 4, seed=1)
    model = BasisFunctionRidgeRegressionGD(TanhBasis(p.W), ridge=p.ridge,
                                           ridge_basis=p.ridge_basis)
    model.w = np.array(p.w)
    loss, gW, gw = vjp_manual(p.X, p.y, p.W, p.w, p.ridge, p.ridge_basis)
    ref_loss, ref_gW, ref_gw = model.loss_and_gradients(p.X, p.y)
    # 1e-12: the two differ in operation order only (float64 rounding, ~1e-15 here)
    assert relative_difference(gW, ref_gW) <= 1e-12
    assert relative_difference(gw, ref_gw) <= 1e-12
    assert loss == pytest.approx(ref_loss, rel=1e-12)


def test_helpers():
    assert parse_config("1e4x8x64") == (10_000, 8, 64)
    for bad in ("1.5x1x3", "100x0x3", "100x1", "infx1x3"):
        with pytest.raises(argparse.ArgumentTypeError, match="is not NxDxK"):
            parse_config(bad)
    assert relative_difference(np.array([1.0, np.nan]), np.array([1.0, 2.0])) == math.inf
    assert relative_difference(np.ones(2), np.ones(3)) == math.inf
    assert relative_difference(np.array([1.0, 2.5]), np.array([1.0, 2.0])) == 0.25
    calls = []
    assert batch_size(timeit.Timer(lambda: calls.append(1)), 0.0) == 1  # the first batch is 1


def test_jacobian_three_ways_agree_and_report(capsys):
    rc = jacobian_three_ways.main(["--N", "4", "7", "--K", "2", "--target-seconds", "0.0001"])
    assert rc == 0  # 2 if the three Jacobians (or the two gradients) disagree
    out = capsys.readouterr().out
    rows_of_7 = [line for line in out.splitlines() if line.split("|")[1:2] == [" 7   "]]
    assert "jacobian / jacfwd" in out and len(rows_of_7) == 2  # one row in each table


def test_the_fit_loop_benchmark_prints_its_ratios(tmp_path):
    """python -m benchmarks.fit_loop's parts, on small sizes: each prints the figure and the
    ratio its target is about (the targets themselves are for the full run, not for a test)."""
    from benchmarks import fit_loop

    numpy_line = fit_loop.numpy_loop(rounds=3)[0]
    assert "one step of the compiled fit" in numpy_line and "x** (target <= 1.1x)" in numpy_line
    per_call = "\n".join(fit_loop.jax_per_call([(200, 1, 3)], rounds=3))
    assert "(200, 1, 3)" in per_call and "jax.jit(jax.value_and_grad)" in per_call
    exact = fit_loop.exactness(steps=50)
    assert len(exact) == 2 and all("target <= 1e-10" in line for line in exact)
    for line in exact:
        assert float(line.split("W and w ")[1].split(" ")[0]) <= 1e-10
