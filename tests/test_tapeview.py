"""autograd_lite.tapeview: the recorded graph, what it saves, its DOT text and its drawing.

Expected numbers are worked out by hand from the primitives' `saves` (ops.py), never with the
code under test: mul saves (a, b), tanh saves (out,), pow saves (x,) (its exponent is a
parameter), matmul saves (a, b), getitem saves its index arrays, sum/mean/add/sub save nothing.
float64 arrays take 8 bytes per entry, float32 4; Python numbers that a rule saves count 0
bytes (the tape view counts array memory only).
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import autograd_lite as ag
from autograd_lite import SavedArray, TapeEntry, TapeView, Tensor, view_tape


def small(x):
    return ag.tanh(x * 2.0).sum()


# ---- a small known graph: x (3,) leaf, tanh(x * 2.0).sum() ------------------------------------
def test_small_graph_nodes_and_saved_bytes():
    tv = view_tape(small, np.array([0.1, -0.2, 0.3]))
    # leaf x, mul, tanh, sum: 4 nodes in recording order
    assert tv.n_nodes == 4 and tv.n_leaves == 1
    assert [e.op for e in tv.entries] == ["leaf", "mul", "tanh", "sum"]
    assert tv.entries[0].label == "x" and tv.entries[0].is_leaf  # named after f's parameter
    mul, tanh_, sum_ = tv.entries[1:]
    # mul saves a = x's array (3 x 8 = 24 B) and b = the Python float 2.0 (0 B)
    assert [(s.name, s.shape, s.nbytes, s.is_array) for s in mul.saved] == [
        ("a", (3,), 24, True), ("b", (), 0, False)]
    assert mul.saved[1].value == 2.0 and mul.saved[0].source == 0  # a is leaf #0's data
    assert mul.inputs == (0, None) and mul.input_shapes == ((3,), ())  # 2.0 was saved: ()
    # tanh saves its output, 24 B; sum saves nothing
    assert [(s.name, s.shape, s.dtype, s.nbytes, s.source) for s in tanh_.saved] == [
        ("out", (3,), "float64", 24, "out")]
    assert sum_.saved == [] and sum_.output_shape == () and sum_.is_output
    assert not any(e.is_output for e in tv.entries[:-1])
    assert tv.saved_bytes == 24 + 24
    assert tv.unique_saved_bytes == 24 + 24  # two different arrays
    assert tv.unique_activation_bytes == 24  # tanh's output; x is leaf data


def test_float32_arrays_count_four_bytes_per_entry():
    tv = view_tape(small, Tensor(np.zeros(3, np.float32), requires_grad=True))
    mul, tanh_ = tv.entries[1:3]
    assert (mul.saved[0].dtype, mul.saved[0].nbytes) == ("float32", 12)
    assert (tanh_.saved[0].dtype, tanh_.saved[0].nbytes) == ("float32", 12)
    assert tv.saved_bytes == tv.unique_saved_bytes == 24


def test_numpy_scalar_constant_counts_its_itemsize():
    tv = view_tape(lambda x: ag.tanh(x * np.float64(2.0)).sum(), np.zeros(3))
    assert tv.entries[1].saved[1].nbytes == 8
    assert tv.saved_bytes == 24 + 8 + 24


def test_same_array_saved_twice_counts_once_in_unique():
    # t = tanh(x) saves out (24 B); t * t saves a = b = that same array (24 + 24 B per node)
    def f(x):
        t = ag.tanh(x)
        return (t * t).sum()

    tv = view_tape(f, np.ones(3))
    mul = tv.entries[2]
    assert [s.same_as for s in mul.saved] == [(1, "out"), (1, "out")]
    assert [s.source for s in mul.saved] == [1, 1]  # both are node #1's output
    assert tv.saved_bytes == 24 + 48
    assert tv.unique_saved_bytes == 24
    assert "same as #1.out" in str(tv)


def test_index_arrays_are_saved_and_labelled():
    """x[rows] with an int64 index array of 4 entries: getitem saves it (32 B)."""
    rows = np.array([2, 0, 2, 1])
    tv = view_tape(lambda x: x[rows].sum(), np.ones(3))
    getitem = tv.entries[1]
    assert re.fullmatch(r"getitem \[i0,?\]", getitem.label)  # (x[i0,] is code for x[i0])
    assert [(s.name, s.shape, s.nbytes, s.source) for s in getitem.saved] == [
        ("index0", (4,), 32, "const")]
    assert tv.saved_bytes == tv.unique_saved_bytes == 32 and tv.unique_activation_bytes == 0


# ---- the chapter's loss, written out here (chainrule's own view: test_chainrule_tape_view.py)
N, D, K = 5, 1, 3
RIDGE = RIDGE_BASIS = 0.1


def chapter_loss(W, w):
    """The chapter's ridge loss in chainrule's operation order: Phi = tanh(X W[:-1] + W[-1]),
    1/2 mean (y - Phi w)^2 + 1/2 ridge |w|^2 + 1/2 ridge_basis |W|^2."""
    X, y = np.linspace(0, 1, N)[:, None], np.ones(N)
    Phi = ag.tanh(X @ W[:-1] + W[-1])
    return (0.5 * ((y - Phi @ w) ** 2).mean() + 0.5 * RIDGE * (w ** 2).sum()
            + 0.5 * RIDGE_BASIS * (W ** 2).sum())


def chapter_view():
    return view_tape(chapter_loss, np.full((D + 1, K), 0.5), np.ones(K))


def test_chapter_loss_graph_matches_the_ops():
    tv = chapter_view()
    ops = [e.op for e in tv.entries]
    assert ops == ["leaf", "leaf", "getitem", "matmul", "getitem", "add", "tanh", "matmul",
                   "sub", "pow", "mean", "mul", "pow", "sum", "mul", "add", "pow", "sum", "mul",
                   "add"]
    assert [e.label for e in tv.entries[:2]] == ["W", "w"]
    # unique arrays saved: X (N D), W[:-1] (D K), tanh out = Phi (N K, also matmul's a),
    # w (K, saved by matmul and by w**2), residual (N), three 0-d scalars, W ((D+1) K)
    sub = tv.entries[8]
    assert sub.inputs == (None, 7) and sub.input_shapes == (None, (N,))  # y's shape: not saved
    unique = 8 * (N * D + D * K + N * K + K + N + 3 + (D + 1) * K)
    assert tv.unique_saved_bytes == unique
    assert tv.saved_bytes == unique + 8 * (N * K + K)  # Phi and w counted twice per node
    # activations: outputs of operations (W[:-1], Phi, the residual, the three 0-d values)
    assert tv.unique_activation_bytes == 8 * (D * K + N * K + N + 3)


def test_labels_come_from_the_primitives():
    labels = [e.label for e in chapter_view().entries]
    assert labels[2] == "getitem [:-1]" and labels[4] == "getitem [-1]"
    assert labels[9] == labels[12] == labels[16] == "pow p=2"
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    out = ag.einsum("ij,kj->ik", x, x).sum(axis=0) + ag.concatenate([x, x], axis=1).mean(
        axis=1)[:2] + x.transpose(1, 0)[0]
    labels = [e.label for e in TapeView.from_tensor(out).entries]
    for label in ("einsum ij,kj->ik", "sum axis=(0,)", "concatenate axis=1", "mean axis=(1,)",
                  "getitem [:2]", "transpose (1, 0)", "getitem [0]"):
        assert label in labels, (label, labels)


def test_after_backward_the_saved_values_are_freed():
    x = Tensor(np.ones(3), requires_grad=True)
    out = small(x)
    before = TapeView.from_tensor(out, {"x": x})
    out.backward()
    after = TapeView.from_tensor(out, {"x": x})
    assert before.saved_bytes == 48 and after.saved_bytes == 0
    assert [e.freed for e in after.entries] == [False, True, True, True]
    assert "freed by backward" in str(after)


def test_from_tensor_equals_view_tape():
    x = Tensor(np.ones(3), requires_grad=True)
    a = TapeView.from_tensor(small(x), {"x": x})
    b = view_tape(small, np.ones(3))
    c = view_tape(small, x)  # a Tensor argument is used as it is
    for t in (a, b, c):
        assert [(e.op, e.label, e.inputs, e.output_shape) for e in t.entries] == [
            ("leaf", "x", (), (3,)), ("mul", "mul", (0, None), (3,)),
            ("tanh", "tanh", (1,), (3,)), ("sum", "sum", (2,), ())]
        assert all(isinstance(e, TapeEntry) for e in t.entries)
        assert all(isinstance(s, SavedArray) for e in t.entries for s in e.saved)
    assert [e.label for e in view_tape(small, np.ones(3), names=["input"]).entries][0] == "input"


def test_refuses_what_has_no_graph():
    with pytest.raises(TypeError, match="must return a Tensor"):
        view_tape(lambda x: 3.0, np.ones(2))
    with pytest.raises(ValueError, match="no recorded graph"):
        TapeView.from_tensor(Tensor(np.ones(2)) * 2.0)
    with pytest.raises(TypeError, match="expected a Tensor"):
        TapeView.from_tensor(np.ones(2))


def test_table_lists_every_node_and_the_totals():
    text = str(view_tape(small, np.ones(3)))
    assert text == view_tape(small, np.ones(3)).table()
    assert "4 nodes (1 leaf, 3 operations)" in text
    for op in ("x (leaf)", "mul", "tanh", "sum  <- output"):
        assert op in text
    assert "48 B summed per node, 48 B unique" in text
    assert "activations, i.e. outputs of operations: 24 B" in text


# ---- DOT ----------------------------------------------------------------------------------------
def parse_dot(text):
    """A tiny DOT reader: checks the digraph header and balanced braces outside strings, and
    returns (node ids, edges as (src, dst) pairs, attributes per node)."""
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
    attributes = dict(re.findall(r"^\s*(\w+)\s*\[(.*)\]", body, flags=re.M))
    nodes = set(attributes) - {"node", "edge", "graph"}
    return nodes, edges, attributes


def test_dot_is_a_digraph_with_one_edge_per_recorded_input():
    text = view_tape(small, np.ones(3)).to_dot()
    nodes, edges, attributes = parse_dot(text)
    assert len(nodes) == 4
    # mul has one recorded input (x; 2.0 is a constant), tanh one, sum one: 3 edges
    assert sorted(edges) == [("n0", "n1"), ("n1", "n2"), ("n2", "n3")]
    assert re.search(r'shape="?box"?', attributes["n0"])  # the leaf
    assert re.search(r'shape="?doubleoctagon"?', attributes["n3"])  # the output


def test_dot_keeps_both_edges_when_an_input_is_used_twice():
    # x * x: two recorded inputs from the same leaf -> two edges; then sum: one more
    nodes, edges, _ = parse_dot(view_tape(lambda x: (x * x).sum(), np.ones(2)).to_dot())
    assert len(nodes) == 3 and len(edges) == 3
    assert edges.count(("n0", "n1")) == 2


def test_dot_edges_match_the_chapter_graph():
    tv = chapter_view()
    nodes, edges, _ = parse_dot(tv.to_dot())
    assert len(nodes) == tv.n_nodes == 20
    # recorded inputs, counted by hand: getitem 1, matmul 1 (X is constant), getitem 1, add 2,
    # tanh 1, matmul 2, sub 1 (y is constant), pow 1, mean 1, mul 1, pow 1, sum 1, mul 1, add 2,
    # pow 1, sum 1, mul 1, add 2
    assert len(edges) == len(tv.edges()) == 22


def test_dot_escapes_quotes_in_labels():
    x = Tensor(np.ones(2), requires_grad=True)
    text = TapeView.from_tensor((x * 2.0).sum(), {'x"quoted"': x}).to_dot()
    nodes, _, _ = parse_dot(text)  # balanced quotes, or it raises
    assert len(nodes) == 3, nodes  # x, mul and sum
    assert 'x\\"quoted\\"' in text


# ---- drawing ------------------------------------------------------------------------------------
def test_draw_writes_a_png_headless(tmp_path):
    out = view_tape(small, np.ones(3)).draw(tmp_path / "small.png")
    data = out.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 1000
    chapter = chapter_view().draw(tmp_path / "chapter.png")
    assert chapter.read_bytes().startswith(b"\x89PNG") and chapter.stat().st_size > 1000


def test_the_tape_of_a_recorded_gradient():
    """d/dx sum(tanh(x) x) = g x (1 - t^2) + g t, t = tanh(x), g = the (constant) seed ones,
    recorded by backward(create_graph=True): the forward's tanh (#1, saves t), then g * x (#2),
    g * t (#3), t * t (#4), 1 - #4 (#5), #2 * #5 (#6), #3 + #6 (#7, the output)."""
    x = Tensor(np.array([0.3, -0.7, 1.2]), requires_grad=True)
    (ag.tanh(x) * x).sum().backward(create_graph=True)
    tv = TapeView.from_tensor(x.grad, {"x": x})
    assert [e.op for e in tv.entries] == ["leaf", "tanh", "mul", "mul", "mul", "sub", "mul",
                                          "add"]
    assert [e.inputs for e in tv.entries[2:]] == [(None, 0), (None, 1), (1, 1), (None, 4),
                                                  (2, 5), (3, 6)]
    # per node: t; g and x; g and t; t twice; #2's and #5's outputs: 24 B per (3,) array
    assert tv.saved_bytes == 24 * (1 + 2 + 2 + 2 + 2)
    assert tv.unique_saved_bytes == 24 * 5  # t, g, x, #2's and #5's outputs
    assert tv.unique_activation_bytes == 24 * 3  # t, #2's and #5's outputs
