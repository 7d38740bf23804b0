"""The depth benchmark: its cost model (benchmarks/depth_costs.py) against hand counts, leading
orders and tracemalloc, and its quick mode end to end (a smoke test: structure and agreement,
never speed)."""

import json
import tracemalloc

import numpy as np
import pytest

from benchmarks import depth
from benchmarks.depth_costs import predicted_costs
from benchmarks.results import Cost, DepthResults, load
from chainrule.deep import DeepRidgeRegressionGD, DeepTanhBasis


def test_predicted_costs_by_hand():
    # N = 1, D = 1, widths (2, 1): K = (1, 2, 1), M = 1, |W_1| = 2*2 = 4, |W_2| = 3*1 = 3.
    # forward: layer 1 N K_1 (2 K_0 + 1) = 6, layer 2 1 * 5 = 5, H_L w: 2 -> 13.
    # backprop: 13 + 3 (dL/dH_L, grad w) + layer 1: 3*2 + 2*3 = 12, layer 2: 3 + 5 = 8,
    #   + the row vector down to layer 1: 2 * 1 * 2 = 4 -> 40.
    # explicit: 13 + 5 + layer 1: 2*2 + 4 + 2*4 = 16, layer 2: 2 + 3 + 2*3 = 11 -> 45 in common;
    #   A_2: 1*2 = 2; J_l = P_l o local: 4 + 3 = 7; no P product (only for 2 <= l <= L-1) -> 54.
    # input side: 45 + A_2 2 + layer 1: N K_1 |W_1| = 8 and up to layer 2: 2*1*2*4 = 16,
    #   layer 2: 1*3 = 3 -> 74.
    # bytes (entries with a sample axis alive at once), explicit: peak when J_1 exists:
    #   H 3 + S 3 + J_2 3 + P_1 2 + local_1 4 + J_1 4 = 19 entries = 152 bytes; Jacobians 7 -> 56.
    # backprop: H 3 + 2 * max K 2 = 7 -> 56 bytes.
    assert predicted_costs(1, 1, [2, 1]) == {
        "forward": Cost(13, 24, 0), "explicit": Cost(54, 152, 56),
        "input_side": Cost(74, 160, 56), "backprop": Cost(40, 56, 0)}
    # N = 1, D = 1, widths (1, 1, 1): |W_l| = 2. forward 3*3 + 2 = 11; backprop 11 + 3 + 3*6
    # + 2*2 = 36; explicit common 11 + 5 + 3*8 = 40, + A 2 + J 6 + P_1 = P_2 A_2: 2 -> 50;
    # input side 40 + A 2 + (2 + 4 + 4) + (2 + 4) + 2 = 60.
    costs = predicted_costs(1, 1, [1, 1, 1])
    assert [costs[k].flops for k in ("forward", "backprop", "explicit", "input_side")] == [
        11, 36, 50, 60]
    assert costs["explicit"].jacobian_bytes == 8 * 6
    # linear in N
    assert predicted_costs(7, 1, [2, 1])["explicit"] == Cost(7 * 54, 7 * 152, 7 * 56)


@pytest.mark.parametrize("L", [3, 4, 8])
def test_predicted_costs_leading_orders(L):
    """At width K >> D the counts approach, derived by hand from the docstring's terms (layer
    1 is thin, |W_1| = (D+1) K, so its K^3 and K^4 terms are lower order): explicit
    (5L - 7) N K^3 (J: N K^3 and contraction 2 N K^3 for layers 2..L, P products 2 N K^3 for
    layers 2..L-1), input side (L-1)(L-2) N K^4 (2 N K^4 for each of the L - l layers above
    every l >= 2), backprop 6 (L-1) N K^2 (forward, weight gradients and row vectors, 2 N K^2
    each, layers 2..L); explicit bytes 8 (L-1) N K^3, backprop 8 N (L + 2) K exactly. The
    next terms are O(10/K) = 0.5% relative: 1% tolerance; a wrong coefficient is off by >= 8%."""
    N, D, K = 3, 1, 2000
    c = predicted_costs(N, D, [K] * L)
    assert c["explicit"].flops / ((5 * L - 7) * N * K**3) == pytest.approx(1, rel=1e-2)
    assert c["input_side"].flops / ((L - 1) * (L - 2) * N * K**4) == pytest.approx(1, rel=1e-2)
    assert c["backprop"].flops / (6 * (L - 1) * N * K**2) == pytest.approx(1, rel=1e-2)
    assert c["explicit"].bytes / (8 * (L - 1) * N * K**3) == pytest.approx(1, rel=1e-2)
    assert c["backprop"].bytes == 8 * N * (L + 2) * K


@pytest.mark.parametrize("N, D, widths", [(2000, 1, (8,)), (2000, 2, (6, 7, 5)),
                                          (1000, 3, (9, 4, 9, 3))])
@pytest.mark.parametrize("order, key", [("output", "explicit"), ("input", "input_side")])
def test_predicted_bytes_are_what_the_explicit_route_allocates(N, D, widths, order, key):
    """tracemalloc's peak of one explicit loss + gradients call is the predicted peak plus the
    length-N vectors and Python objects the count leaves out (<= 40 floats per sample + 64 KiB;
    seen: 8..35)."""
    rng = np.random.default_rng(4)
    K = [D, *widths]
    Ws = [rng.normal(0, 0.5, (K[l - 1] + 1, K[l])) for l in range(1, len(K))]
    X, y = rng.normal(size=(N, D)), rng.normal(size=N)
    model = DeepRidgeRegressionGD(DeepTanhBasis(Ws), jacobian_order=order)
    model.w = rng.normal(size=K[-1])
    model.loss_and_gradients(X, y)
    tracemalloc.start()
    try:
        result = model.loss_and_gradients(X, y)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    del result
    predicted = predicted_costs(N, D, widths)[key]
    assert predicted.bytes <= peak <= predicted.bytes + 40 * 8 * N + 64 * 1024
    Js = model.basis.jacobians(X, order=order)
    assert sum(J.nbytes for J in Js) == predicted.jacobian_bytes


# ---------------------------------------------------------------------------------------------
# The benchmark's quick mode (a smoke test: structure and agreement, never speed)
# ---------------------------------------------------------------------------------------------


def test_depth_benchmark_quick(tmp_path, capsys):
    assert depth.main(["--quick", "--target-seconds", "0.001", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    data = json.loads((tmp_path / "depth_quick.json").read_text())
    assert data["schema"] == "chainrule-benchmarks-depth/1"
    results = load(DepthResults, data)
    assert results.settings.mode == "quick" and results.settings.reference == "backprop"
    assert {(c.sweep, c.x) for c in results.configs} >= {("L", 1), ("L", 3), ("K", 2), ("K", 32)}
    for config in results.configs:
        assert [r.route for r in config.routes] == list(depth.ROUTES)
        for r in config.routes:
            key = {"explicit": "explicit", "explicit-input-side": "input_side"}.get(r.route,
                                                                                  "backprop")
            assert r.predicted == predicted_costs(config.N, config.D, config.widths)[key]
            if r.route.startswith("explicit") and config.x == 32:  # J 27 MiB > the 1 MiB limit
                assert r.skipped.startswith("skipped: J would be 27.3 MiB") and r.time is None
                continue
            assert r.skipped is None, r
            assert r.relative_difference <= 1e-9
            assert len(r.time.rounds_s) == 5 and r.time.median_s > 0
            if depth.ROUTES[r.route][3] == "jax":  # tracemalloc does not see XLA's memory
                assert r.peak_bytes is None
            else:
                assert r.peak_bytes > 0
    assert "skipped: J would be" in printed and "log-log slopes" in printed
    assert sorted(results.plots) == [str(tmp_path / f"depth_vs_{n}.png") for n in "KL"]
    for path in results.plots:
        with open(path, "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    # --replot: the same tables again from the JSON, nothing measured
    assert depth.main(["--replot", str(tmp_path / "depth_quick.json"), "--no-plots"]) == 0
    replotted = capsys.readouterr().out
    tables = [line for line in printed.splitlines() if line.startswith("| ")]
    assert len(tables) > 20 and all(line in replotted for line in tables)


def test_depth_benchmark_disagreement_aborts(monkeypatch, tmp_path, capsys):
    """A route whose gradients are wrong stops the run before anything is timed or written."""
    honest = DeepRidgeRegressionGD._explicit

    def wrong(self, X, y, with_loss):
        loss, grads, grad_w = honest(self, X, y, with_loss)
        return loss, grads, grad_w * (1 + 1e-6)

    monkeypatch.setattr(DeepRidgeRegressionGD, "_explicit", wrong)
    assert depth.main(["--quick", "--target-seconds", "0.001", "--out", str(tmp_path)]) == 2
    assert "ABORTED: route 'explicit' disagrees with 'backprop' at N=100, D=1, widths=[4]: " \
           "gradients relative difference" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())
