"""`python -m chainrule.chapter_tape`: the tape of the chapter's loss, its bytes against the
explicit Jacobian's, the drawing and the DOT text. (autograd_lite's tape viewer itself is tested
in test_tapeview.py, on the same loss written out.)

Bytes by hand: the tape keeps X (N D), W[:-1] (D K), Phi (N K), w (K), the residual (N), three
0-d values and W ((D+1) K), each once: 8 (N D + D K + N K + K + N + 3 + (D+1) K) B; the explicit
Jacobian has N (D+1) K float64 entries.
"""

import os

from test_tapeview import parse_dot

from chainrule.chapter_tape import chapter_tape, compare_bytes, main
from chainrule.model import jacobian_nbytes


def unique_tape_bytes(N, D, K):
    return 8 * (N * D + D * K + N * K + K + N + 3 + (D + 1) * K)


def test_the_chapter_tape_has_the_chapter_loss_graph():
    tape = chapter_tape(20, 1, 3)
    nodes, edges, _ = parse_dot(tape.to_dot())
    assert len(nodes) == tape.n_nodes == 20 and tape.n_leaves == 2
    assert [e.label for e in tape.entries[:2]] == ["W", "w"]
    assert len(edges) == 22  # counted by hand in test_tapeview.py
    assert tape.unique_saved_bytes == unique_tape_bytes(20, 1, 3)


def test_chapter_tape_command(tmp_path, capsys):
    assert main(["--out", str(tmp_path), "--dot", "--no-large"]) == 0
    text = capsys.readouterr().out
    assert "20 nodes (2 leaves, 18 operations)" in text
    assert f"{jacobian_nbytes(100, 1, 3):,} B" == "4,800 B" and "4,800 B" in text
    assert f"{unique_tape_bytes(100, 1, 3):,} B" in text  # 4,120 B
    assert f"tape drawing written to {tmp_path / 'tape_chapter.png'}" in text
    assert os.path.getsize(tmp_path / "tape_chapter.png") > 1000
    nodes, edges, _ = parse_dot((tmp_path / "tape_chapter.dot").read_text())
    assert len(nodes) == 20 and edges, (len(nodes), len(edges))


def test_compare_bytes_counts_by_hand():
    (row,) = compare_bytes([(1000, 2, 4)])
    N, D, K = 1000, 2, 4
    assert row.jacobian == jacobian_nbytes(N, D, K) == 8 * N * (D + 1) * K
    assert row.saved_unique == unique_tape_bytes(N, D, K)
    assert row.ratio == row.jacobian / row.saved_unique
