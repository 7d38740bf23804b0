"""Smoke tests of the benchmark package: structure and correctness, never speed."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from benchmarks.__main__ import main  # noqa: E402
from benchmarks.harness import relative_difference, time_call  # noqa: E402
from benchmarks.problem import Config, make_problem, parse_config  # noqa: E402
from benchmarks.routes import Bound, Route, default_routes, vjp_manual  # noqa: E402
from chainrule.model import BasisFunctionRidgeRegressionGD, TanhBasis  # noqa: E402

FAST = ["--target-seconds", "0.002"]  # keeps the smoke test short; timing quality is not tested


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    rc = main(["--quick", "--out", str(out), *FAST])
    return rc, out


def test_quick_run_writes_complete_results(quick_run):
    rc, out = quick_run
    assert rc == 0
    results = json.loads((out / "bench_quick.json").read_text())
    assert results["mode"] == "quick"
    for key in ("cpu_count", "cpu_model", "numpy", "python", "peers", "numpy_config"):
        assert key in results["machine"]
    assert {"explicit", "explicit-cached", "vjp-manual", "backprop"} <= set(results["routes"])
    ran = [n for n, info in results["routes"].items() if info["status"] == "ok"]
    for info in results["routes"].values():  # peers: ok or skipped with a reason
        assert info["status"] == "ok" or info["reason"]
    configs = {(e["N"], e["D"], e["K"]) for e in results["configs"]}
    assert {(100, 1, 3), (1_000, 1, 3), (10_000, 1, 3), (1_000, 8, 64)} <= configs
    for entry in results["configs"]:
        for name in ran:
            res = entry["routes"][name]
            assert res["status"] == "ok", (entry["key"], name, res)
            for what in ("loss_and_grad", "forward"):
                t = res[what]["median_s"]
                assert math.isfinite(t) and t > 0
                assert len(res[what]["samples_s"]) >= 5
            assert all(d <= 1e-9 for d in res["agreement"].values())
            assert res["speedup_vs_explicit"] > 0
            if results["routes"][name]["memory_visible"]:
                assert res["peak_extra_bytes"] > 0
    training = results["training"]
    assert training["config"] == {"N": 100, "D": 1, "K": 3}
    for name in ran:
        assert training["routes"][name]["projected_s"] > 0
    assert training["routes"]["backprop"]["fit_loop"]["projected_s"] > 0
    statuses = {t["status"] for t in results["targets"]}
    assert statuses <= {"met", "missed", "not evaluated"}
    assert len(results["targets"]) == 7
    for path in results["plots"].values():
        with open(Path(__file__).resolve().parent.parent / path, "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    assert len(results["plots"]) == 4
    md = (out / "bench_quick.md").read_text()
    assert "## Targets" in md and "| (100, 1, 3) | backprop |" in md


def test_jacobian_guard_skips_instead_of_running(tmp_path, capsys):
    rc = main(["--quick", "--out", str(tmp_path), "--no-plots", "--configs", "1e3x8x64",
               "--routes", "explicit", "vjp-manual", "--max-jacobian-gib", "0.001", *FAST])
    assert rc == 0
    results = json.loads((tmp_path / "bench_quick.json").read_text())
    res = results["configs"][0]["routes"]["explicit"]
    assert res["status"] == "skipped"
    assert res["reason"].startswith("skipped: J would be 0.00429 GiB")
    assert "skipped: J would be" in capsys.readouterr().out


def _wrong_route(scale: float) -> Route:
    def build(p, max_jacobian_bytes=0):
        def loss_and_grad():
            loss, gW, gw = vjp_manual(p.X, p.y, p.W, p.w, p.ridge, p.ridge_basis)
            gW = gW.copy()
            gW[0, 0] *= scale  # a deliberately wrong entry
            return loss, gW, gw

        return Bound(loss_and_grad=loss_and_grad, forward=lambda: 0.0)

    return Route("wrong", "a deliberately wrong gradient", build)


def test_agreement_check_aborts_on_a_wrong_route(tmp_path, capsys):
    routes = [*default_routes(), _wrong_route(1.0 + 1e-6)]
    rc = main(["--quick", "--out", str(tmp_path), "--configs", "100x1x3",
               "--routes", "vjp-manual", "wrong", *FAST], routes=routes)
    assert rc == 2
    err = capsys.readouterr().err
    assert "ABORTED: route 'wrong' disagrees with 'vjp-manual'" in err
    assert "N=100, D=1, K=3" in err and "grad_W relative difference" in err
    assert not (tmp_path / "bench_quick.json").exists()


def test_vjp_manual_matches_the_chapter_model():
    p = make_problem(Config(50, 3, 4), seed=1)
    model = BasisFunctionRidgeRegressionGD(TanhBasis(p.W), ridge=p.ridge,
                                           ridge_basis=p.ridge_basis)
    model.w = np.array(p.w)
    loss, gW, gw = vjp_manual(p.X, p.y, p.W, p.w, p.ridge, p.ridge_basis)
    ref_gW, ref_gw = model.gradients(p.X, p.y)
    assert relative_difference(gW, ref_gW) < 1e-12
    assert relative_difference(gw, ref_gw) < 1e-12
    assert loss == pytest.approx(model.loss(p.X, p.y), rel=1e-13)


def test_helpers():
    assert parse_config("1e4x8x64") == Config(10_000, 8, 64)
    assert parse_config("100:1:3") == Config(100, 1, 3)
    with pytest.raises(ValueError):
        parse_config("1.5x1x3")
    assert relative_difference(np.array([1.0, np.nan]), np.array([1.0, 2.0])) == math.inf
    t = time_call(lambda: None, target_seconds=0.001, samples=5)
    assert t["median_s"] > 0 and len(t["samples_s"]) == 5 and t["calls_per_sample"] >= 1
