"""See the tape: what a forward pass recorded and what it keeps for the backward pass.

`view_tape(f, *args)` runs `f` on leaf Tensors made from `args` and returns a `TapeView`: every
node of the recorded graph in recording order, with its operation, the shapes going in and out,
and the values its rules saved, with their bytes. `TapeView.from_tensor(t)` does the same for a
Tensor computed already.

    tv = ag.view_tape(lambda x: ag.tanh(x * 2.0).sum(), np.zeros(3))
    print(tv)              # the table
    tv.to_dot()            # DOT text for Graphviz (no dependency on it here)
    tv.draw("tape.png")    # a matplotlib picture, leaves on the left

Conventions: nodes are leaves (tensors that require grad) and recorded operations; constants
(operands that need no gradient) are not nodes, the table names them as inputs ("const").
Saved bytes count array memory (`nbytes`); a Python number a rule saves counts 0. "Unique"
counts each saved array object once (matmul's `a` is often the very array tanh saved as `out`).
After `backward()` without retain_graph the saved values are gone: such nodes read "freed".
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .formatting import format_bytes
from .tensor import Tensor

LEAF_COLOUR, OP_COLOUR, SAVING_COLOUR, OUTPUT_COLOUR = "#cde8c7", "#e3ecf7", "#a9c8ec", "#f7b26a"


@dataclass(frozen=True)
class SavedArray:
    """One value a node saved: its rule's name for it, what it is and where it comes from
    (`source`: "out", "const" or the index of the node that computed it); `same_as` names the
    first node that saved the very same array; `value` is set for numbers."""

    name: str
    shape: tuple[int, ...]
    dtype: str
    nbytes: int
    source: int | str
    same_as: tuple[int, str] | None = None
    is_array: bool = True
    value: float | None = None


@dataclass
class TapeEntry:
    """One node in recording order; `inputs[i]` is the index of input i's node (None: constant)."""

    index: int
    op: str  # the primitive's name, or "leaf"
    label: str  # the primitive's label ("getitem [:-1]"), or the leaf's name
    input_names: tuple[str, ...]
    inputs: tuple[int | None, ...]
    input_shapes: tuple[tuple[int, ...] | None, ...]
    output_shape: tuple[int, ...]
    saved: list[SavedArray] = field(default_factory=list)
    freed: bool = False
    is_output: bool = False

    @property
    def is_leaf(self) -> bool:
        return self.op == "leaf"

    @property
    def saved_bytes(self) -> int:
        return sum(s.nbytes for s in self.saved)


def _input_names(op: Any, n: int) -> tuple[str, ...]:
    names = op.input_names()
    if op.variadic():
        fixed = names[:-1]
        return tuple(fixed) + tuple(f"{names[-1]}{k}" for k in range(n - len(fixed)))
    return tuple(names[:n])


def _saved(name: str, source: int | str, value: Any, same_as: Any) -> SavedArray:
    if isinstance(value, Tensor):  # saved while a backward pass was recorded
        value = value.data
    if isinstance(value, np.ndarray | np.generic):
        number = float(value) if value.ndim == 0 and value.dtype.kind in "fiub" else None
        return SavedArray(name, tuple(value.shape), str(value.dtype), int(value.nbytes), source,
                          same_as, True, number)
    number = float(value) if isinstance(value, int | float) else None
    return SavedArray(name, (), type(value).__name__, 0, source, None, False, number)


def _shape(shape: tuple[int, ...] | None) -> str:
    if shape is None:
        return "?"
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


@dataclass
class TapeView:
    """The recorded graph in recording order; `str(view)` is the table (see the module doc)."""

    entries: list[TapeEntry]
    title: str = "tape"
    unique_saved_bytes: int = 0
    unique_activation_bytes: int = 0

    @classmethod
    def from_tensor(cls, t: Tensor, names: Mapping[str, Tensor] | None = None,
                    title: str = "tape") -> TapeView:
        """The graph that produced `t`; `names` labels leaves ({"W": W_tensor, ...})."""
        if not isinstance(t, Tensor):
            raise TypeError(f"view_tape: expected a Tensor, got {type(t).__name__}")
        if t._node is None:
            raise ValueError("view_tape: this tensor has no recorded graph (no input it was "
                             "computed from requires grad, or it was made inside no_grad())")
        leaf_names = {id(v._node): k for k, v in (names or {}).items()
                      if isinstance(v, Tensor) and v._node is not None}
        seen, stack = {id(t._node): t._node}, [t._node]
        while stack:
            for p in stack.pop().parents:
                if p is not None and id(p) not in seen:
                    seen[id(p)] = p
                    stack.append(p)
        nodes = sorted(seen.values(), key=lambda n: n.seq)
        position = {id(n): i for i, n in enumerate(nodes)}
        entries: list[TapeEntry] = []
        first_saver: dict[int, tuple[int, str]] = {}
        unique = activations = 0
        for i, node in enumerate(nodes):
            if node.op is None:
                entries.append(TapeEntry(i, "leaf", leaf_names.get(id(node), "leaf"), (), (), (),
                                         tuple(node.shape)))
                continue
            op = node.op
            inputs = tuple(None if p is None else position[id(p)] for p in node.parents)
            names_in = _input_names(op, len(inputs))
            saved = []
            saves = [names_in[s] if s >= 0 else "out"
                     for s in op.saved_slots(len(inputs))]
            for name, slot, value in zip(saves, op.saved_slots(len(inputs)), node.saved or ()):
                source = "out" if slot < 0 else ("const" if inputs[slot] is None
                                                 else inputs[slot])
                item = _saved(name, source, value, first_saver.get(id(value)))
                if item.is_array and id(value) not in first_saver:
                    first_saver[id(value)] = (i, name)
                    unique += item.nbytes
                    if source == "out" or (isinstance(source, int)
                                           and not entries[source].is_leaf):
                        activations += item.nbytes
                saved.append(item)
            shapes = tuple(tuple(p.shape) if p is not None else next(
                (s.shape for s in saved if s.name == names_in[k]), None)
                for k, p in enumerate(node.parents))
            entries.append(TapeEntry(i, op.name, op.label(node.params), names_in, inputs, shapes,
                                     tuple(node.shape), saved, node.saved is None))
        entries[-1].is_output = True
        return cls(entries, title, unique, activations)

    @property
    def n_nodes(self) -> int:
        return len(self.entries)

    @property
    def n_leaves(self) -> int:
        return sum(e.is_leaf for e in self.entries)

    @property
    def saved_bytes(self) -> int:
        """Bytes saved, summed node by node (an array saved by two nodes counts twice)."""
        return sum(e.saved_bytes for e in self.entries)

    def edges(self) -> list[tuple[int, int, str]]:
        """(parent index, child index, input name): one per recorded (non-constant) input."""
        return [(src, e.index, name) for e in self.entries
                for name, src in zip(e.input_names, e.inputs) if src is not None]

    def __str__(self) -> str:
        return self.table()

    def table(self) -> str:
        """One row per node, one line per saved value, totals at the end."""
        rows = [("#", "op", "inputs", "output", "saved for backward", "bytes")]
        for e in self.entries:
            inputs = "-" if e.is_leaf else " ".join(
                f"{n}={_input_text(e, k)}" for k, n in enumerate(e.input_names))
            saved = ["(freed by backward)"] if e.freed else [_saved_text(s) for s in e.saved]
            if not (e.is_leaf or saved):
                saved = ["-"]
            sizes = [f"{s.nbytes:,}" for s in e.saved] if not e.freed else [""]
            op = (f"{e.label} (leaf)" if e.is_leaf else e.label) + (
                "  <- output" if e.is_output else "")
            rows.append((str(e.index), op, inputs, _shape(e.output_shape),
                         saved[0] if saved else "", sizes[0] if sizes else ""))
            rows.extend(("", "", "", "", s, b) for s, b in zip(saved[1:], sizes[1:]))
        widths = [max(len(r[c]) for r in rows) for c in range(6)]
        lines = ["  ".join([r[0].rjust(widths[0])] + [r[c].ljust(widths[c]) for c in range(1, 5)]
                           + [r[5].rjust(widths[5])]).rstrip() for r in rows]
        rule = "-" * max(len(line) for line in lines)
        n_ops = self.n_nodes - self.n_leaves
        return "\n".join([
            f"{self.title}: {self.n_nodes} nodes ({self.n_leaves} "
            f"{'leaf' if self.n_leaves == 1 else 'leaves'}, {n_ops} operations) in recording order",
            lines[0], rule, *lines[1:], rule,
            f"total: {self.n_nodes} nodes, saved {self.saved_bytes:,} B summed per node, "
            f"{self.unique_saved_bytes:,} B unique (activations, i.e. outputs of operations: "
            f"{self.unique_activation_bytes:,} B)"])

    def to_dot(self, name: str = "tape") -> str:
        """Graphviz DOT text: leaves are boxes, operations ellipses (darker when they saved
        arrays), the output a double octagon; edges carry the input name; constants not drawn."""
        out = [f'digraph "{name}" {{', "  rankdir=LR;",
               '  node [fontname="Helvetica", fontsize=10, style=filled];']
        for e in self.entries:
            shape = "box" if e.is_leaf else "doubleoctagon" if e.is_output else "ellipse"
            label = _node_label(e).replace('"', '\\"').replace("\n", "\\n")
            out.append(f'  n{e.index} [label="{label}", shape={shape}, '
                       f'fillcolor="{_colour(e)}"];')
        out += [f'  n{src} -> n{dst} [label="{name}"];' for src, dst, name in self.edges()]
        return "\n".join(out + ["}"]) + "\n"

    def draw(self, path: str | Path, dpi: int = 130) -> Path:
        """A PNG of the graph (matplotlib, no display): one column per depth from the leaves."""
        from matplotlib.figure import Figure

        depth: dict[int, int] = {}
        for e in self.entries:  # recording order: parents come first
            depth[e.index] = 1 + max((depth[i] for i in e.inputs if i is not None), default=-1)
        columns: dict[int, list[int]] = {}
        for e in self.entries:
            columns.setdefault(depth[e.index], []).append(e.index)
        height = max(len(c) for c in columns.values())
        y: dict[int, float] = {}
        for d in sorted(columns):  # each column ordered by its nodes' inputs' heights
            col = columns[d]
            col.sort(key=lambda i: -sum(y.get(p, 0) for p in self.entries[i].inputs
                                        if p is not None) / max(1, len(self.entries[i].inputs)))
            y.update({i: (len(col) - 1) / 2 - k for k, i in enumerate(col)})
        fig = Figure(figsize=(1.3 * len(columns) + 0.6, 0.85 * height + 1.2))
        ax = fig.add_axes((0.01, 0.02, 0.98, 0.84))
        ax.set_xlim(-0.6, len(columns) - 0.4)
        ax.set_ylim(-height / 2 - 0.1, height / 2 + 0.1)
        ax.axis("off")
        boxes = {e.index: ax.text(depth[e.index], y[e.index], _node_label(e), ha="center",
                                  va="center", fontsize=6.5, zorder=3, bbox={
                                      "boxstyle": "square" if e.is_leaf else "round",
                                      "fc": _colour(e), "lw": 2.0 if e.is_output else 0.8})
                 for e in self.entries}
        for src, dst, _ in self.edges():  # from box edge to box edge
            ax.annotate("", (0, 0.5), xycoords=boxes[dst], xytext=(1, 0.5),
                        textcoords=boxes[src], zorder=2,
                        arrowprops={"arrowstyle": "-|>", "color": "#555555", "lw": 0.8,
                                    "connectionstyle": "arc3,rad=0.08", "shrinkA": 2,
                                    "shrinkB": 2})
        fig.suptitle(f"{self.title}: {self.n_nodes} nodes, saved for backward "
                     f"{format_bytes(self.saved_bytes)} per node, "
                     f"{format_bytes(self.unique_saved_bytes)} unique (constants not drawn)",
                     fontsize=9)
        from matplotlib.patches import Patch  # the box colours, in a row under the title
        fig.legend(handles=[Patch(fc=colour, ec="black", lw=0.6, label=label) for colour, label in
                            ((LEAF_COLOUR, "leaf (requires grad)"),
                             (SAVING_COLOUR, "operation that saves arrays for backward"),
                             (OP_COLOUR, "operation that saves no array"),
                             (OUTPUT_COLOUR, "output (thick border)"))],
                   loc="upper center", bbox_to_anchor=(0.5, 0.955), ncol=4, fontsize=7,
                   frameon=False)
        path = Path(path)
        fig.savefig(path, dpi=dpi)
        return path


def view_tape(f: Callable[..., Tensor], *args: Any,
              names: Sequence[str] | None = None) -> TapeView:
    """Run `f` on leaf Tensors made from `args` (a Tensor argument is used as it is) and return
    the `TapeView` of its result; leaves are named after f's parameters unless `names` is given."""
    leaves = [a if isinstance(a, Tensor) else Tensor(np.asarray(a, dtype=float),
                                                     requires_grad=True) for a in args]
    if names is None:
        try:
            params = [p.name for p in inspect.signature(f).parameters.values()]
        except (TypeError, ValueError):
            params = []
        names = (params + [f"arg{i}" for i in range(len(params), len(args))])[:len(args)]
    result = f(*leaves)
    if not isinstance(result, Tensor):
        raise TypeError(f"view_tape: f must return a Tensor, got {type(result).__name__}")
    title = f"{getattr(f, '__name__', 'f')}({', '.join(names)})"
    return TapeView.from_tensor(result, dict(zip(names, leaves)), title=title)


def _input_text(e: TapeEntry, k: int) -> str:
    if e.inputs[k] is not None:
        return f"#{e.inputs[k]}"
    saved = next((s for s in e.saved if s.name == e.input_names[k]), None)
    if saved is not None and saved.value is not None and saved.shape == ():
        return f"{saved.value:g}"
    shape = e.input_shapes[k]
    return "const" if shape is None else "const" + _shape(shape)


def _saved_text(s: SavedArray) -> str:
    if not s.is_array:
        number = "" if s.value is None else f" {s.value:g}"
        return f"{s.name}: python {s.dtype}{number}, not counted"
    where = "output" if s.source == "out" else "constant" if s.source == "const" \
        else f"#{s.source}"
    same = "" if s.same_as is None else f"  (same as #{s.same_as[0]}.{s.same_as[1]})"
    return f"{s.name}: {_shape(s.shape)} {s.dtype} = {where}{same}"


def _colour(e: TapeEntry) -> str:
    if e.is_output:
        return OUTPUT_COLOUR
    if e.is_leaf:
        return LEAF_COLOUR
    return SAVING_COLOUR if any(s.is_array for s in e.saved) else OP_COLOUR


def _node_label(e: TapeEntry) -> str:
    lines = [e.label if e.is_leaf else f"#{e.index} {e.label}", _shape(e.output_shape)]
    if e.freed:
        lines.append("freed")
    elif any(s.is_array for s in e.saved):
        lines.append(f"saves {','.join(s.name for s in e.saved if s.is_array)}: "
                     f"{format_bytes(e.saved_bytes)}")
    constants = [f"{n}={_input_text(e, k)}" for k, n in enumerate(e.input_names)
                 if e.inputs[k] is None]
    if constants:
        lines.append("const " + ", ".join(c.replace("=const", " ") for c in constants))
    return "\n".join(lines + (["output"] if e.is_output else []))
