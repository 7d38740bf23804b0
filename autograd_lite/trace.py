"""See the tape: what a forward pass recorded and what it keeps for backward.

`trace(f, *args)` runs `f` on leaf Tensors made from `args` and returns a `Trace`: every node
of the recorded graph in execution (recording) order, with its operation, the shapes going in
and out, and the values its derivative rule saved, with their bytes. `trace_tensor(t)` does the
same for a Tensor computed already.

    import numpy as np, autograd_lite as ag
    tr = ag.trace(lambda x: ag.tanh(x * 2.0).sum(), np.zeros(3))
    print(tr)                  # the table
    tr.to_dot()                # DOT text for Graphviz (no dependency on it here)
    tr.draw("tape.png")        # a matplotlib picture, left to right

Conventions
-----------
- Nodes: leaves (tensors with requires_grad=True) and recorded operations. Constants (operands
  that need no gradient: plain arrays, Python numbers) are not nodes. The table names them as
  inputs ("const"); DOT and the drawing omit them and mention them in the node's label.
- Saved bytes count array memory only: `ndarray.nbytes` (a numpy scalar counts its itemsize).
  A Python number that a rule saves (the 2.0 of `x * 2.0`) is listed with 0 bytes.
- "per node" totals count an array at every node that saved it; "unique" counts each array
  object once (dedupe by `id`: matmul's `a` is often the very array tanh saved as `out`).
  A view counts at its own size, even when it shares memory with another saved array.
- After `backward()` (without retain_graph) the saved values are gone: such nodes are marked
  "freed" and count 0 bytes.
- The input shape of a constant is known only when the rule saved it; otherwise it reads
  "const" (nodes do not record the shapes of constant inputs).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from .engine import Node
from .tensor import Tensor

__all__ = ["SavedArray", "Trace", "TraceEntry", "trace", "trace_tensor"]

# colours shared by the drawing and the DOT export
LEAF_COLOUR = "#cde8c7"
OP_COLOUR = "#e3ecf7"
SAVING_OP_COLOUR = "#a9c8ec"
OUTPUT_COLOUR = "#f7b26a"


class SavedArray(NamedTuple):
    """One value a node saved for its backward rule.

    `name`: the rule's name for it (`x`, `a`, `b` for inputs, `out` for the output).
    `source`: "out" (this node's output), "const" (a constant input), or the index of the
    node whose output (or leaf data) it is. `same_as`: (index, name) of the first node in
    execution order that saved the very same object, else None. `is_array`: False for a
    Python number (then `nbytes` is 0).
    """

    name: str
    shape: tuple[int, ...]
    dtype: str
    nbytes: int
    source: int | str
    same_as: tuple[int, str] | None = None
    is_array: bool = True
    value: float | None = None  # Python numbers and numpy scalars: the value


@dataclass
class TraceEntry:
    """One node in execution order. `inputs[i]` is the index of input i's node, None for a
    constant; `input_shapes[i]` is None for a constant whose shape was not saved."""

    index: int
    op: str  # primitive name, or "leaf"
    label: str  # op plus its parameters ("getitem [:-1]", "pow p=2"), or the leaf's name
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

    @property
    def constants(self) -> tuple[str, ...]:
        """Names of the inputs that are constants (no node, no edge)."""
        return tuple(n for n, i in zip(self.input_names, self.inputs) if i is None)


@dataclass
class Trace:
    """The recorded graph in execution order; `str(trace)` is a table, see the module doc."""

    entries: list[TraceEntry]
    title: str = "tape"
    unique_saved_bytes: int = 0
    unique_activation_bytes: int = 0

    # ---- construction ------------------------------------------------------------------------
    @classmethod
    def from_tensor(cls, t: Tensor, names: Mapping[str, Tensor] | None = None,
                    title: str = "tape") -> Trace:
        """The graph that produced `t`; `names` labels leaves ({"W": W_tensor, ...})."""
        if not isinstance(t, Tensor):
            raise TypeError(f"trace: expected a Tensor, got {type(t).__name__}")
        if t._node is None:
            raise ValueError("trace: this tensor has no recorded graph (no input it was computed "
                             "from has requires_grad=True, or it was made inside no_grad())")
        leaf_names = {id(v._node): k for k, v in (names or {}).items()
                      if isinstance(v, Tensor) and v._node is not None}
        nodes = _reachable(t._node)
        position = {id(n): i for i, n in enumerate(nodes)}
        entries: list[TraceEntry] = []
        first_saver: dict[int, tuple[int, str]] = {}
        unique = activations = 0
        for i, node in enumerate(nodes):
            if node.op is None:
                name = leaf_names.get(id(node), "leaf")
                entries.append(TraceEntry(i, "leaf", name, (), (), (), tuple(node.shape)))
                continue
            op = node.op
            input_names = _input_names(op, len(node.parents))
            inputs = tuple(None if p is None else position[id(p)] for p in node.parents)
            saved: list[SavedArray] = []
            freed = node.saved is None
            for name, slot, value in zip(op.saves, op.save_slots, node.saved or ()):
                source: int | str = "out" if slot < 0 else (
                    "const" if inputs[slot] is None else inputs[slot])
                if isinstance(value, Tensor):  # saved while a backward pass was recorded
                    value = value.data
                item = _describe_saved(name, source, value, first_saver.get(id(value)))
                if item.is_array and id(value) not in first_saver:
                    first_saver[id(value)] = (i, name)
                    unique += item.nbytes
                    if source == "out" or (isinstance(source, int)
                                           and not entries[source].is_leaf):
                        activations += item.nbytes
                saved.append(item)
            shapes = []
            for k, parent in enumerate(node.parents):
                if parent is not None:
                    shapes.append(tuple(parent.shape))
                else:  # a constant: its shape is known only if the rule saved it
                    shapes.append(next((s.shape for s in saved
                                        if s.name == input_names[k]), None))
            entries.append(TraceEntry(i, op.name, _label(op.name, node.params), input_names,
                                      inputs, tuple(shapes), tuple(node.shape), saved, freed))
        entries[-1].is_output = True
        return cls(entries, title, unique, activations)

    # ---- totals ------------------------------------------------------------------------------
    @property
    def n_nodes(self) -> int:
        return len(self.entries)

    @property
    def n_leaves(self) -> int:
        return sum(e.is_leaf for e in self.entries)

    @property
    def n_ops(self) -> int:
        return self.n_nodes - self.n_leaves

    @property
    def saved_bytes(self) -> int:
        """Bytes saved, summed node by node (an array saved by two nodes counts twice)."""
        return sum(e.saved_bytes for e in self.entries)

    @property
    def output(self) -> TraceEntry:
        return self.entries[-1]

    def edges(self) -> list[tuple[int, int, str]]:
        """(parent index, child index, input name): one per recorded (non-constant) input."""
        return [(src, e.index, name) for e in self.entries
                for name, src in zip(e.input_names, e.inputs) if src is not None]

    # ---- the table ---------------------------------------------------------------------------
    def __str__(self) -> str:
        return self.table()

    def table(self) -> str:
        """The readable table: one row per node, one line per saved value, totals at the end."""
        rows = [("#", "op", "inputs", "output", "saved for backward", "bytes")]
        for e in self.entries:
            inputs = "-" if e.is_leaf else " ".join(
                f"{n}={_input_text(e, k)}" for k, n in enumerate(e.input_names))
            saved = [_saved_text(s) for s in e.saved]
            if e.freed:
                saved = ["(freed by backward)"]
            elif not e.is_leaf and not saved:
                saved = ["-"]
            sizes = [_bytes(s.nbytes) for s in e.saved] or [""]
            op = f"{e.label} (leaf)" if e.is_leaf and e.label != "leaf" else e.label
            if e.is_output:
                op += "  <- output"
            first = (str(e.index), op, inputs, _shape(e.output_shape),
                     saved[0] if saved else "", sizes[0])
            rows.append(first)
            rows.extend(("", "", "", "", s, b) for s, b in zip(saved[1:], sizes[1:]))
        widths = [max(len(r[c]) for r in rows) for c in range(6)]

        def line(r: Sequence[str]) -> str:
            cells = [r[0].rjust(widths[0])] + [r[c].ljust(widths[c]) for c in range(1, 5)]
            return "  ".join(cells + [r[5].rjust(widths[5])]).rstrip()

        rule = "-" * (sum(widths) + 2 * 5)
        nodes = _count(self.n_nodes, "node", "nodes")
        head = [
            f"{self.title}: {nodes} ({_count(self.n_leaves, 'leaf', 'leaves')}, "
            f"{_count(self.n_ops, 'operation', 'operations')}) in execution order",
            "bytes = array bytes each node saved for backward (Python numbers count 0); an",
            "array saved by several nodes counts at each (\"same as #k.name\"), \"unique\" once.",
        ]
        body = [line(rows[0]), rule] + [line(r) for r in rows[1:]] + [rule]
        totals = [
            f"total: {nodes}, saved {self.saved_bytes:,} B summed per node, "
            f"{self.unique_saved_bytes:,} B unique",
            f"       (unique activations, i.e. outputs of operations: "
            f"{self.unique_activation_bytes:,} B; the rest is leaf data and constants)",
        ]
        return "\n".join(head + body + totals)

    # ---- DOT ---------------------------------------------------------------------------------
    def to_dot(self, name: str = "tape") -> str:
        """Graphviz DOT text: one node per entry, one edge parent -> child per recorded input.

        Leaves are boxes, operations ellipses (darker when they saved arrays), the output a
        double octagon. Constants are not drawn; a node's label lists them ("const a (100, 1)").
        Edges carry the input name. Render with `dot -Tpng` if Graphviz is installed.
        """
        out = [f"digraph {_dot_id(name)} {{", "  rankdir=LR;",
               '  node [fontname="Helvetica", fontsize=10, style=filled];']
        for e in self.entries:
            attrs = {"label": _node_label(e, "\\n"), "fillcolor": _colour(e)}
            attrs["shape"] = ("box" if e.is_leaf else
                              "doubleoctagon" if e.is_output else "ellipse")
            if e.is_output:
                attrs["penwidth"] = "2"
            text = ", ".join(f'{k}="{_dot_escape(v)}"' for k, v in attrs.items())
            out.append(f"  n{e.index} [{text}];")
        for src, dst, input_name in self.edges():
            out.append(f'  n{src} -> n{dst} [label="{input_name}"];')
        out.append("}")
        return "\n".join(out) + "\n"

    # ---- drawing -----------------------------------------------------------------------------
    def draw(self, path: str | Path, dpi: int = 130) -> Path:
        """Draw the graph with matplotlib (Agg, no display needed) and write a PNG to `path`.

        Columns are layers: a node's layer is its longest path from a leaf (leaves at the left,
        the output at the right). Within a column, nodes are ordered to reduce crossings;
        edges that skip columns are routed through free slots of the columns in between.
        """
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Patch
        from matplotlib.path import Path as MPath

        layout = _layout(self)
        n_layers = len(layout.columns)
        height = max(len(col) for col in layout.columns)
        box_w, box_h, dx, dy = 0.84, 0.66, 1.0, 0.95
        fig = Figure(figsize=(1.25 * n_layers + 0.6, 0.85 * height + 1.5))
        FigureCanvasAgg(fig)
        ax = fig.add_axes((0.01, 0.12, 0.98, 0.78))
        ax.set_xlim(-0.55, (n_layers - 1) * dx + 0.55)
        ax.set_ylim(-(height - 1) / 2 * dy - 0.5, (height - 1) / 2 * dy + 0.5)
        ax.axis("off")

        def xy(v: int) -> tuple[float, float]:
            return layout.layer[v] * dx, layout.y[v] * dy

        for e in self.entries:
            x, y = xy(e.index)
            ax.add_patch(FancyBboxPatch(
                (x - box_w / 2, y - box_h / 2), box_w, box_h,
                boxstyle="round,pad=0,rounding_size=0.08" if not e.is_leaf else "square,pad=0",
                facecolor=_colour(e), edgecolor="#333333", linewidth=2.0 if e.is_output else 0.8,
                zorder=3))
            ax.text(x, y, _node_label(e, "\n"), ha="center", va="center", fontsize=6.5,
                    zorder=4, linespacing=1.15)
        for (src, dst, _name), chain in zip(self.edges(), layout.chains):
            e_dst = self.entries[dst]
            recorded = [k for k, i in enumerate(e_dst.inputs) if i is not None]
            k = recorded.index(layout.edge_input[(src, dst, _name)])
            offset = (k - (len(recorded) - 1) / 2) * 0.16 * box_h
            x0, y0 = xy(src)
            x1, y1 = xy(dst)
            points = [(x0 + box_w / 2, y0)] + [xy(v) for v in chain] + [(x1 - box_w / 2,
                                                                         y1 + offset)]
            verts, codes = [points[0]], [MPath.MOVETO]
            for (px, py), (qx, qy) in zip(points, points[1:]):
                half = (qx - px) / 2
                verts += [(px + half, py), (qx - half, qy), (qx, qy)]
                codes += [MPath.CURVE4] * 3
            ax.add_patch(FancyArrowPatch(path=MPath(verts, codes), arrowstyle="-|>",
                                         mutation_scale=7, linewidth=0.8, color="#555555",
                                         zorder=2))
        handles = [Patch(facecolor=LEAF_COLOUR, edgecolor="#333333", label="leaf (requires grad)"),
                   Patch(facecolor=OP_COLOUR, edgecolor="#333333", label="op, saves nothing"),
                   Patch(facecolor=SAVING_OP_COLOUR, edgecolor="#333333",
                         label="op, saves arrays for backward"),
                   Patch(facecolor=OUTPUT_COLOUR, edgecolor="#333333", linewidth=2.0,
                         label="output (loss)")]
        fig.legend(handles=handles, loc="lower center", ncol=4, fontsize=7.5, frameon=False)
        fig.suptitle(f"{self.title}: {self.n_nodes} nodes, saved for backward "
                     f"{_short(self.saved_bytes)} per node, {_short(self.unique_saved_bytes)} "
                     f"unique  (constants not drawn; #k = execution order)", fontsize=9)
        path = Path(path)
        fig.savefig(path, dpi=dpi)
        return path


# ---- public functions ------------------------------------------------------------------------
def trace(f: Callable[..., Tensor], *args: Any, names: Sequence[str] | None = None) -> Trace:
    """Run `f` on leaf Tensors (requires_grad=True) made from `args`; return its `Trace`.

    Arrays and numbers become float leaves (integers are converted to float64); a Tensor
    argument is used as it is. Leaves are named after `f`'s parameters unless `names` is given.
    """
    leaves = [a if isinstance(a, Tensor) else _leaf(a) for a in args]
    if names is None:
        names = _parameter_names(f, len(args))
    result = f(*leaves)
    if not isinstance(result, Tensor):
        raise TypeError(f"trace: f must return a Tensor, got {type(result).__name__}")
    title = f"{getattr(f, '__name__', 'f')}({', '.join(names)})"
    return Trace.from_tensor(result, dict(zip(names, leaves)), title=title)


def trace_tensor(t: Tensor, names: Mapping[str, Tensor] | None = None,
                 title: str = "tape") -> Trace:
    """The `Trace` of a Tensor computed already (`names` labels leaves: {"W": W, ...})."""
    return Trace.from_tensor(t, names, title)


# ---- helpers ---------------------------------------------------------------------------------
def _leaf(a: Any) -> Tensor:
    arr = np.asarray(a)
    if arr.dtype.kind != "f":
        arr = arr.astype(np.float64)
    return Tensor(arr, requires_grad=True)


def _parameter_names(f: Callable[..., Any], n: int) -> list[str]:
    try:
        params = list(inspect.signature(f).parameters.values())
    except (TypeError, ValueError):
        params = []
    names = [p.name for p in params
             if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)][:n]
    return names + [f"arg{i}" for i in range(len(names), n)]


def _reachable(root: Node) -> list[Node]:
    """Every node reachable from `root` through parents, in recording order."""
    seen = {id(root): root}
    stack = [root]
    while stack:
        for p in stack.pop().parents:
            if p is not None and id(p) not in seen:
                seen[id(p)] = p
                stack.append(p)
    return sorted(seen.values(), key=lambda n: n.seq)


def _input_names(op: Any, n: int) -> tuple[str, ...]:
    """The rules' names for the inputs (x; a, b), read off the primitive's vjp_<name> rules."""
    names = tuple(getattr(v, "__name__", "").removeprefix("vjp_") for v in op.vjps)
    if len(names) == n and all(names):
        return names
    return ("x",) if n == 1 else ("a", "b") if n == 2 else tuple(f"in{i}" for i in range(n))


def _describe_saved(name: str, source: int | str, value: Any,
                    same_as: tuple[int, str] | None) -> SavedArray:
    if isinstance(value, np.ndarray | np.generic):
        scalar = float(value) if value.ndim == 0 and value.dtype.kind in "fiub" else None
        return SavedArray(name, tuple(value.shape), str(value.dtype), int(value.nbytes), source,
                          same_as, True, scalar)
    # a Python number (or anything else a rule saved): listed, not counted
    number = float(value) if isinstance(value, int | float) else None
    return SavedArray(name, (), type(value).__name__, 0, source, None, False, number)


def _label(op: str, params: dict | None) -> str:
    params = params or {}
    if op in ("getitem", "scatter_add") and "index" in params:
        return f"{op} {_index_text(params['index'])}"
    if op == "pow":
        return f"pow p={params.get('p')!r}"
    if op in ("sum", "mean") and params.get("axis") is not None:
        return f"{op} axis={params['axis']}"
    if op == "transpose" and params.get("axes") is not None:
        return f"transpose {tuple(params['axes'])}"
    return op


def _index_text(index: Any) -> str:
    parts = index if isinstance(index, tuple) else (index,)

    def one(p: Any) -> str:
        if isinstance(p, slice):
            text = ("" if p.start is None else str(p.start)) + ":" + (
                "" if p.stop is None else str(p.stop))
            return text + ("" if p.step is None else f":{p.step}")
        if p is None:
            return "None"
        if p is Ellipsis:
            return "..."
        if isinstance(p, int | np.integer):
            return str(int(p))
        return f"<{np.asarray(p).dtype} {np.shape(p)}>"

    return "[" + ", ".join(one(p) for p in parts) + "]"


def _shape(shape: tuple[int, ...] | None) -> str:
    if shape is None:
        return "?"
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _input_text(e: TraceEntry, k: int) -> str:
    if e.inputs[k] is not None:
        return f"#{e.inputs[k]}"
    text = _constant_text(e, k, "const", "")
    return text if text else "const"


def _constant_text(e: TraceEntry, k: int, shape_prefix: str, value_prefix: str) -> str:
    """What is known of constant input k: its value (a saved number), its shape, or ""."""
    saved = next((s for s in e.saved if s.name == e.input_names[k]), None)
    if saved is not None and saved.value is not None and saved.shape == ():
        return f"{value_prefix}{saved.value:g}"
    shape = e.input_shapes[k]
    return "" if shape is None else shape_prefix + _shape(shape)


def _saved_text(s: SavedArray) -> str:
    if not s.is_array:
        return f"{s.name}: python {s.dtype} {s.value:g}, not counted" if s.value is not None \
            else f"{s.name}: python {s.dtype}, not counted"
    where = ("output" if s.source == "out" else "constant" if s.source == "const"
             else f"#{s.source}")
    text = f"{s.name}: {_shape(s.shape)} {s.dtype} = {where}"
    if s.same_as is not None:
        text += f"  (same as #{s.same_as[0]}.{s.same_as[1]})"
    return text


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _bytes(n: int) -> str:
    return f"{n:,}"


def human_bytes(n: float) -> str:
    """Bytes in B, KiB, MiB, GiB or TiB (one decimal above bytes)."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def _short(n: int) -> str:
    """Exact bytes while they stay short, else KiB/MiB/GiB."""
    return f"{n:,} B" if n < 100_000 else human_bytes(n)


def _colour(e: TraceEntry) -> str:
    if e.is_output:
        return OUTPUT_COLOUR
    if e.is_leaf:
        return LEAF_COLOUR
    return SAVING_OP_COLOUR if any(s.is_array for s in e.saved) else OP_COLOUR


def _node_label(e: TraceEntry, newline: str) -> str:
    if e.is_leaf:
        lines = [e.label, _shape(e.output_shape)]
    else:
        lines = [f"#{e.index} {e.label}", _shape(e.output_shape)]
        if e.freed:
            lines.append("freed")
        elif any(s.is_array for s in e.saved):
            names = ",".join(s.name for s in e.saved if s.is_array)
            lines.append(f"saves {names}: {_short(e.saved_bytes)}")
        if e.constants:
            lines.append("const " + ", ".join(
                e.input_names[k] + _constant_text(e, k, " ", "=")
                for k, i in enumerate(e.inputs) if i is None))
    if e.is_output:
        lines.append("output")
    return newline.join(lines)


def _dot_escape(s: str) -> str:
    return s.replace('"', '\\"')


def _dot_id(name: str) -> str:
    return name if name.isidentifier() else '"' + _dot_escape(name) + '"'


@dataclass
class _Layout:
    layer: dict[int, int]  # vertex -> column (real nodes 0..n-1, then routing points)
    y: dict[int, float]  # vertex -> vertical position (slot, centred on 0)
    columns: list[list[int]]
    chains: list[list[int]]  # per edge (in Trace.edges() order): the routing points it passes
    edge_input: dict[tuple[int, int, str], int]


def _layout(tr: Trace) -> _Layout:
    """Columns by longest path from a leaf; order within columns by barycentre sweeps."""
    layer: dict[int, int] = {}
    for e in tr.entries:  # execution order: parents come first
        parents = [i for i in e.inputs if i is not None]
        layer[e.index] = 1 + max(layer[p] for p in parents) if parents else 0
    n_layers = max(layer.values()) + 1
    columns: list[list[int]] = [[] for _ in range(n_layers)]
    for e in tr.entries:
        columns[layer[e.index]].append(e.index)
    next_vertex = len(tr.entries)
    chains: list[list[int]] = []
    neighbours: dict[int, list[int]] = {v: [] for v in layer}  # adjacent-column links, both ways
    edge_input: dict[tuple[int, int, str], int] = {}
    for src, dst, name in tr.edges():
        edge_input[(src, dst, name)] = tr.entries[dst].input_names.index(name)
        chain = []
        prev = src
        for col in range(layer[src] + 1, layer[dst]):
            v = next_vertex
            next_vertex += 1
            layer[v] = col
            columns[col].append(v)
            neighbours[v] = []
            neighbours[prev].append(v)
            neighbours[v].append(prev)
            chain.append(v)
            prev = v
        neighbours[prev].append(dst)
        neighbours[dst].append(prev)
        chains.append(chain)

    def positions() -> dict[int, float]:
        return {v: i - (len(col) - 1) / 2 for col in columns for i, v in enumerate(col)}

    for sweep in range(8):
        pos = positions()
        order = range(1, n_layers) if sweep % 2 == 0 else range(n_layers - 2, -1, -1)
        for c in order:
            side = c - 1 if sweep % 2 == 0 else c + 1

            def key(v: int, side: int = side, pos: dict[int, float] = pos) -> tuple[float, int]:
                near = [pos[u] for u in neighbours[v] if layer[u] == side]
                return (sum(near) / len(near) if near else pos[v], v)

            columns[c].sort(key=key)
            pos = positions()
    return _Layout(layer, positions(), columns, chains, edge_input)
