"""autograd_lite.trace: the recorded graph, what it saves, its DOT text and its drawing.

Expected numbers are worked out by hand from the primitives' `saves` (ops.py), never with the
code under test: mul saves (a, b), tanh saves (out,), pow saves (x,), matmul saves (a, b),
sum/add/sub/getitem save nothing. float64 arrays take 8 bytes per entry; Python numbers that a
rule saves count 0 bytes (the trace counts array memory only).
"""

from __future__ import annotations

import os
import re

import numpy as np
import pytest

import autograd_lite as ag
from autograd_lite import Tensor
from autograd_lite.trace import Trace, trace, trace_tensor


def small(x):
    return ag.tanh(x * 2.0).sum()


# ---- a small known graph: x (3,) leaf, tanh(x * 2.0).sum() --------------------------------------
def test_small_graph_nodes_and_saved_bytes():
    tr = trace(small, np.array([0.1, -0.2, 0.3]))
    # leaf x, mul, tanh, sum: 4 nodes in recording order
    assert tr.n_nodes == 4 and tr.n_leaves == 1 and tr.n_ops == 3
    assert [e.op for e in tr.entries] == ["leaf", "mul", "tanh", "sum"]
    assert tr.entries[0].label == "x"  # named after f's parameter
    mul, tanh_, sum_ = tr.entries[1:]
    # mul saves a = x's array (3 x 8 = 24 B) and b = the Python float 2.0 (0 B)
    assert [(s.name, s.shape, s.nbytes, s.is_array) for s in mul.saved] == [
        ("a", (3,), 24, True), ("b", (), 0, False)]
    assert mul.saved[1].value == 2.0
    assert mul.inputs == (0, None) and mul.input_shapes == ((3,), ())  # 2.0 was saved: ()
    # tanh saves its output, 24 B; sum saves nothing
    assert [(s.name, s.shape, s.dtype, s.nbytes, s.source) for s in tanh_.saved] == [
        ("out", (3,), "float64", 24, "out")]
    assert sum_.saved == [] and sum_.output_shape == () and sum_.is_output
    assert tr.saved_bytes == 24 + 24
    assert tr.unique_saved_bytes == 24 + 24  # two different arrays
    assert tr.unique_activation_bytes == 24  # tanh's output; x is leaf data


def test_numpy_scalar_constant_counts_its_itemsize():
    tr = trace(lambda x: ag.tanh(x * np.float64(2.0)).sum(), np.zeros(3))
    assert tr.entries[1].saved[1].nbytes == 8
    assert tr.saved_bytes == 24 + 8 + 24


def test_same_array_saved_twice_counts_once_in_unique():
    # t = tanh(x) saves out (24 B); t * t saves a = b = that same array (24 + 24 B per node)
    def f(x):
        t = ag.tanh(x)
        return (t * t).sum()

    tr = trace(f, np.ones(3))
    mul = tr.entries[2]
    assert [s.same_as for s in mul.saved] == [(1, "out"), (1, "out")]
    assert tr.saved_bytes == 24 + 48
    assert tr.unique_saved_bytes == 24
    assert "same as #1.out" in str(tr)


def test_chapter_loss_graph_matches_the_ops():
    # ridge_loss(tanh(X W[:-1] + W[-1]), y, w, W) recorded on leaves W (2, 3) and w (3,), N = 5
    from chainrule.model import ridge_loss, tanh_basis

    N, D, K = 5, 1, 3
    X, y = np.linspace(0, 1, N)[:, None], np.ones(N)
    tr = trace(lambda W, w: ridge_loss(tanh_basis(X, W), y, w, W, 0.1, 0.1),
               np.full((D + 1, K), 0.5), np.ones(K))
    ops = [e.op for e in tr.entries]
    assert ops == ["leaf", "leaf", "getitem", "matmul", "getitem", "add", "tanh", "matmul",
                   "sub", "pow", "mean", "mul", "pow", "sum", "mul", "add", "pow", "sum", "mul",
                   "add"]
    # unique arrays saved: X (N D), W[:-1] (D K), tanh out = Phi (N K, also matmul's a),
    # w (K, saved by matmul and by w**2), residual (N), three 0-d scalars, W ((D+1) K)
    sub = tr.entries[8]
    assert sub.inputs == (None, 7) and sub.input_shapes == (None, (N,))  # y's shape: not saved
    unique = 8 * (N * D + D * K + N * K + K + N + 3 + (D + 1) * K)
    assert tr.unique_saved_bytes == unique
    assert tr.saved_bytes == unique + 8 * (N * K + K)  # Phi and w counted twice per node


def test_after_backward_the_saved_values_are_freed():
    x = Tensor(np.ones(3), requires_grad=True)
    out = small(x)
    before = trace_tensor(out, {"x": x})
    out.backward()
    after = trace_tensor(out, {"x": x})
    assert before.saved_bytes == 48 and after.saved_bytes == 0
    assert [e.freed for e in after.entries] == [False, True, True, True]
    assert "freed by backward" in str(after)


def test_trace_tensor_equals_trace_and_from_tensor():
    x = Tensor(np.ones(3), requires_grad=True)
    a = trace_tensor(small(x), {"x": x})
    b = Trace.from_tensor(small(x), {"x": x})
    c = trace(small, np.ones(3))
    for t in (a, b, c):
        assert [(e.op, e.label, e.inputs, e.output_shape) for e in t.entries] == [
            ("leaf", "x", (), (3,)), ("mul", "mul", (0, None), (3,)),
            ("tanh", "tanh", (1,), (3,)), ("sum", "sum", (2,), ())]


def test_package_exports_trace():
    assert ag.trace is trace and ag.trace_tensor is trace_tensor and ag.Trace is Trace


def test_refuses_what_has_no_graph():
    with pytest.raises(TypeError, match="must return a Tensor"):
        trace(lambda x: 3.0, np.ones(2))
    with pytest.raises(ValueError, match="no recorded graph"):
        trace_tensor(Tensor(np.ones(2)) * 2.0)


def test_table_lists_every_node_and_the_totals():
    text = str(trace(small, np.ones(3)))
    assert "4 nodes (1 leaf, 3 operations)" in text
    for op in ("x (leaf)", "mul", "tanh", "sum  <- output"):
        assert op in text
    assert "48 B summed per node, 48 B unique" in text


# ---- DOT ----------------------------------------------------------------------------------------
def parse_dot(text):
    """A tiny DOT reader: checks the digraph header and balanced braces outside strings, and
    returns (node ids, edges as (src, dst) pairs)."""
    assert re.match(r"\s*digraph\s+(\w+|\"[^\"]*\")?\s*\{", text), text[:40]
    depth, in_string, escaped = 0, False, False
    for ch in text:
        if in_string:
            escaped = ch == "\\" and not escaped
            if ch == '"' and not escaped:
                in_string = False
            continue
        if ch == '"':
            in_string = True
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            assert depth >= 0
    assert depth == 0 and not in_string
    body = re.sub(r'"(\\.|[^"\\])*"', '""', text)  # blank out labels
    edges = re.findall(r"(\w+)\s*->\s*(\w+)", body)
    nodes = set(re.findall(r"^\s*(\w+)\s*\[", body, flags=re.M)) - {"node", "edge", "graph"}
    return nodes, edges


def test_dot_is_a_digraph_with_one_edge_per_recorded_input():
    text = trace(small, np.ones(3)).to_dot()
    nodes, edges = parse_dot(text)
    assert len(nodes) == 4
    # mul has one recorded input (x; 2.0 is a constant), tanh one, sum one: 3 edges
    assert len(edges) == 3
    assert all(s in nodes and d in nodes for s, d in edges)
    assert 'shape="box"' in text and 'shape="doubleoctagon"' in text


def test_dot_keeps_both_edges_when_an_input_is_used_twice():
    # x * x: two recorded inputs from the same leaf -> two edges; then sum: one more
    nodes, edges = parse_dot(trace(lambda x: (x * x).sum(), np.ones(2)).to_dot())
    assert len(nodes) == 3 and len(edges) == 3
    assert edges.count(("n0", "n1")) == 2


def test_dot_edges_match_the_chapter_graph():
    from chainrule.tape_view import chapter_trace

    tr = chapter_trace(20, 1, 3)
    nodes, edges = parse_dot(tr.to_dot())
    assert len(nodes) == tr.n_nodes == 20
    # recorded inputs, counted by hand: getitem 1, matmul 1 (X is constant), getitem 1, add 2,
    # tanh 1, matmul 2, sub 1 (y is constant), pow 1, mean 1, mul 1, pow 1, sum 1, mul 1, add 2,
    # pow 1, sum 1, mul 1, add 2
    assert len(edges) == 22


# ---- drawing ------------------------------------------------------------------------------------
def test_draw_writes_a_png_headless(tmp_path, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    out = trace(small, np.ones(3)).draw(tmp_path / "small.png")
    data = out.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 1000


def test_tape_view_command(tmp_path, capsys):
    from chainrule.model import jacobian_nbytes
    from chainrule.tape_view import compare_bytes, main

    assert main(["--out", str(tmp_path / "tape.png"), "--dot", str(tmp_path / "tape.dot"),
                 "--no-large"]) == 0
    text = capsys.readouterr().out
    assert "20 nodes (2 leaves, 18 operations)" in text and "4,800 B" in text
    assert os.path.getsize(tmp_path / "tape.png") > 1000
    parse_dot((tmp_path / "tape.dot").read_text())
    (row,) = compare_bytes([(1000, 2, 4)])
    N, D, K = 1000, 2, 4
    assert row.jacobian == jacobian_nbytes(N, D, K) == 8 * N * (D + 1) * K
    assert row.saved_unique == 8 * (N * D + D * K + N * K + K + N + 3 + (D + 1) * K)
