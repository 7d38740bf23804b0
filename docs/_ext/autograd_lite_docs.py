"""Sphinx directives that write the site's generated tables at build time, from the code.

Nothing they write is committed, so no count or name in them can drift from the code:

- ``autograd-lite-ops``: every primitive of ``autograd_lite.ops.primitives()`` (name, class,
  inputs, saved values, the one-line math docstring), one table row each;
- ``compiler-rules``: the algebra pass's rules, ``autograd_lite.compiler.rewrite.RULES`` (name,
  the primitives it rewrites, its pattern, when it is exact), in the order they are tried;
- ``compiler-passes``: ``autograd_lite.compiler.PASSES`` and the numpy backend's own passes;
- ``compiler-lowerings``: which primitives the numpy backend's printer table covers and how;
- ``test-modules``: every ``tests/test_*.py`` with its module docstring;
- ``python-docstring``: the docstring of one module, read from its file (``tests/checks.py``).

Docstrings are plain prose with Markdown-like backticks and lists; the last two directives
parse them as MyST Markdown inside the page (indented blocks become code blocks).
Also here: ``hide_solution_cells``, the ``source-read`` hook that collapses the tutorials'
exercise solutions (cells tagged ``solution`` get myst-nb's ``hide-cell`` tag as well).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective

ROOT = Path(__file__).resolve().parents[2]


# ---- small node builders -------------------------------------------------------------------------
def _text_cell(content: nodes.Node | str) -> nodes.entry:
    entry = nodes.entry()
    para = nodes.paragraph()
    para += content if isinstance(content, nodes.Node) else nodes.Text(content)
    entry += para
    return entry


def _inline(text: str) -> nodes.paragraph:
    """A paragraph of text with `backquoted` parts as inline code."""
    para = nodes.paragraph()
    for k, part in enumerate(re.split(r"`([^`]*)`", text)):
        if k % 2:
            para += nodes.literal(part, part)
        elif part:
            para += nodes.Text(part)
    return para


def _table(headers: list[str], rows: list[list[nodes.Node | str]], widths: list[int],
           classes: list[str]) -> nodes.table:
    table = nodes.table(classes=classes)
    group = nodes.tgroup(cols=len(headers))
    table += group
    for w in widths:
        group += nodes.colspec(colwidth=w)
    head = nodes.thead()
    row = nodes.row()
    for h in headers:
        row += _text_cell(h)
    head += row
    group += head
    body = nodes.tbody()
    for cells in rows:
        row = nodes.row()
        for c in cells:
            if isinstance(c, nodes.entry):
                row += c
            elif isinstance(c, nodes.paragraph):
                entry = nodes.entry()
                entry += c
                row += entry
            else:
                row += _text_cell(c)
        body += row
    group += body
    return table


def _code(text: str) -> nodes.literal:
    return nodes.literal(text, text)


_LITERAL = re.compile(r"(``?[^`]+``?)")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _markdown_safe(doc: str) -> str:
    """A docstring made safe to parse as MyST inside a page: a setext heading underline (a line
    of dashes or equals signs under a line of text) becomes bold text, not a nested section."""
    lines = doc.splitlines()
    out: list[str] = []
    in_code = False
    for line in lines:
        blank_before = not out or not out[-1].strip()
        if line.strip() and _indent(line) >= 4 and (blank_before or in_code):
            in_code = True  # an indented code block: as it is
            out.append(line)
            continue
        if line.strip():
            in_code = False
        if out and out[-1].strip() and re.fullmatch(r"\s*(-{3,}|={3,})\s*", line):
            out[-1] = f"**{out[-1].strip()}**"
            continue
        # prose: a < outside `code` would start raw HTML (`d_<input>` became an input box), and
        # a $ math ($CHAINRULE_CACHE, else $XDG_CACHE_HOME became a formula)
        parts = _LITERAL.split(line)
        parts[::2] = [p.replace("<", r"\<").replace("$", r"\$") for p in parts[::2]]
        out.append("".join(parts))
    return "\n".join(out)


class _MarkdownDirective(SphinxDirective):
    def parse_markdown(self, text: str, source: str) -> list[nodes.Node]:
        container = nodes.container()
        lines = StringList(_markdown_safe(text).splitlines(), source=source)
        self.state.nested_parse(lines, self.content_offset, container)
        return container.children


# ---- the op list ---------------------------------------------------------------------------------
class OpsTable(SphinxDirective):
    """Every primitive of autograd_lite.ops.primitives(), one row each."""

    def run(self) -> list[nodes.Node]:
        from autograd_lite import ops

        self.env.note_dependency(str(ROOT / "autograd_lite" / "ops.py"))
        prims = ops.primitives()
        rows = []
        for p in prims:
            doc = (p.__doc__ or "").strip().splitlines()
            kind = "elementwise" if issubclass(p, ops.Elementwise) else "primitive"
            if not p.differentiable:
                kind += ", no gradient"
            saves = ", ".join(p.saves) if p.saves else "-"
            rows.append([nodes.paragraph("", "", _code(p.name)),
                         nodes.paragraph("", "", _code(p.__name__)),
                         nodes.paragraph("", "", _code(", ".join(p.inputs))),
                         saves, kind, _inline(doc[0] if doc else "")])
        intro = nodes.paragraph()
        intro += nodes.Text(f"{len(prims)} primitives, generated when this page was built from ")
        intro += _code("autograd_lite.ops.primitives()")
        intro += nodes.Text(" (in order of definition; the math is each class's docstring).")
        return [intro, _table(["name", "class", "inputs", "saves", "kind", "math"], rows,
                              [10, 12, 10, 8, 10, 50], ["op-table"])]


# ---- the compiler's tables -----------------------------------------------------------------------
class RulesTable(SphinxDirective):
    """The algebra pass's rules, autograd_lite.compiler.rewrite.RULES, in the order tried."""

    def run(self) -> list[nodes.Node]:
        from autograd_lite.compiler.rewrite import RULES

        self.env.note_dependency(str(ROOT / "autograd_lite" / "compiler" / "rewrite.py"))
        rows = []
        for r in RULES:
            ops_text = "any binary ufunc" if r.ops is None else ", ".join(o.name for o in r.ops)
            pattern = nodes.entry()
            for alternative in " ".join(r.pattern.split()).split(";"):
                pattern += nodes.paragraph("", "", _code(alternative.strip()))
            rows.append([nodes.paragraph("", "", _code(r.name)), ops_text, pattern,
                         _inline(r.exact)])
        intro = nodes.paragraph()
        intro += nodes.Text(f"{len(RULES)} rules, generated when this page was built from ")
        intro += _code("autograd_lite.compiler.rewrite.RULES")
        intro += nodes.Text(" (the pattern is each rule's docstring, the last column its ")
        intro += _code("exact")
        intro += nodes.Text(" condition).")
        return [intro, _table(["rule", "rewrites", "pattern -> replacement", "exact"], rows,
                              [16, 8, 38, 38], ["rules-table"])]


def _pass_function(run: object, passes_module: object) -> object:
    """The function a pass entry runs: through a wrapper (functools.wraps' __wrapped__, or a
    closure such as passes.in_loop_bodies'), or a backend's lambda calling a passes function."""
    for _ in range(5):
        if hasattr(run, "__wrapped__"):
            run = run.__wrapped__
        elif getattr(run, "__name__", "") == "<lambda>":
            called = [n for n in run.__code__.co_names if hasattr(passes_module, n)]
            if not called:
                break
            run = getattr(passes_module, called[-1])
        elif "<locals>" in getattr(run, "__qualname__", "") and getattr(run, "__closure__", None):
            inner = [c.cell_contents for c in run.__closure__
                     if callable(getattr(c, "cell_contents", None))]
            if not inner:
                break
            run = inner[0]
        else:
            break
    return run


class PassesList(SphinxDirective):
    """The passes in the order they run: the shared ones, then the numpy backend's."""

    def run(self) -> list[nodes.Node]:
        from autograd_lite import compiler
        from autograd_lite.compiler import passes as passes_module
        from autograd_lite.compiler.numpy_backend import NUMPY

        items = nodes.enumerated_list()
        shared = len(compiler.PASSES)
        for k, (name, run) in enumerate((*compiler.PASSES, *NUMPY.passes)):
            item = nodes.list_item()
            para = nodes.paragraph()
            para += nodes.strong(name, name)
            run = _pass_function(run, passes_module)
            where = f"{run.__module__}.{run.__qualname__}".replace("autograd_lite.compiler.", "")
            para += nodes.Text(": ")
            para += _code(where)
            if k >= shared:
                para += nodes.Text(f" (the {NUMPY.name} backend's)")
            doc = (run.__doc__ or "").strip().split("\n\n")[0]
            if doc:
                para += nodes.Text(" - ")
                para += _inline(" ".join(doc.split())).children
            item += para
            items += item
        return [items]


class LoweringsTable(SphinxDirective):
    """How the numpy backend prints each primitive: grouped by the kind of table entry."""

    def run(self) -> list[nodes.Node]:
        from autograd_lite import ops
        from autograd_lite.compiler.numpy_backend import NUMPY

        groups: dict[str, list[str]] = {}
        for p in ops.primitives():
            entry = NUMPY.lowering(p)
            if entry is None:
                kind = "no entry: printed as a call of the primitive's own forward"
            elif p.ufunc is not None and entry.into is not None and (
                    getattr(entry.expr, "__qualname__", "").startswith("ufunc")):
                kind = "numpy ufunc call, np.<ufunc>(...), can write into a dead array (out=)"
            elif entry.into is not None:
                kind = "operator or expression that can write into a dead array"
            elif entry.in_place is not None:
                kind = "expression, or an in-place update of its first operand"
            else:
                kind = "expression of its own (a table entry)"
            groups.setdefault(kind, []).append(p.name)
        rows = [[kind, nodes.paragraph("", "", *[n for name in names for n in
                                                (_code(name), nodes.Text(" "))])]
                for kind, names in groups.items()]
        return [_table(["how it prints", "primitives"], rows, [40, 60], ["lowerings-table"])]


# ---- docstrings as Markdown ----------------------------------------------------------------------
def _module_docstring(path: Path) -> str:
    return ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""


class TestModules(_MarkdownDirective):
    """Every tests/test_*.py with its module docstring."""

    def run(self) -> list[nodes.Node]:
        out: list[nodes.Node] = []
        files = sorted((ROOT / "tests").glob("test_*.py"))
        for path in files:
            self.env.note_dependency(str(path))
            doc = _module_docstring(path)
            text = f"`tests/{path.name}`\n: " + "\n  ".join(
                (doc or "(no module docstring)").splitlines())
            out += self.parse_markdown(text, str(path))
        return out


class PythonDocstring(_MarkdownDirective):
    """The module docstring of one file (a path from the repository root), as Markdown."""

    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        path = ROOT / self.arguments[0]
        self.env.note_dependency(str(path))
        return self.parse_markdown(_module_docstring(path), str(path))


# ---- plain-prose docstrings as reStructuredText, for autodoc -------------------------------------


def _escape_prose(text: str) -> str:
    """Escape what reST would read as markup in prose, outside `backquoted` spans: * (emphasis),
    | (substitutions) and a word's trailing _ (a reference)."""
    parts = _LITERAL.split(text)
    for k in range(0, len(parts), 2):
        p = parts[k].replace("\\", "\\\\").replace("*", r"\*").replace("|", r"\|")
        parts[k] = re.sub(r"(\w)_(?=\W|$)", r"\1\\_", p)
    return "".join(parts)




def prose_to_rest(lines: list[str]) -> list[str]:
    """The project's docstrings (plain prose, `backquoted` names, '- ' lists, code examples
    indented under a line) rewritten so that reST reads them as written: prose escaped, an
    indented block that is not a list item's continuation becomes a literal block (code), and
    a list gets the blank line reST needs before it."""
    out: list[str] = []
    in_code = False
    code_indent = 0
    list_indent: int | None = None  # the indent of the current list's items
    for line in lines:
        stripped = line.strip()
        if in_code:
            if not stripped or _indent(line) > code_indent:
                out.append(line)
                continue
            in_code = False
        if not stripped:
            out.append(line)
            continue
        previous = next((x for x in reversed(out) if x.strip()), None)
        indent = _indent(line)
        is_item = re.match(r"[-*] |\d+\. ", stripped) is not None
        if previous is not None and indent > _indent(previous) and not is_item and (
                list_indent is None or indent > list_indent + 4 or indent <= list_indent):
            # an indented block under prose: code, shown as it is (a reST literal block)
            while not out[-1].strip():
                out.pop()
            if out[-1].rstrip().endswith(":") and not out[-1].rstrip().endswith("::"):
                out[-1] = out[-1].rstrip() + ":"
            else:
                out += ["", "::"]
            out.append("")
            in_code, code_indent = True, _indent(previous)
            list_indent = None
            out.append(line)
            continue
        if is_item:
            if previous is not None and out[-1].strip() and list_indent is None:
                out.append("")  # reST needs a blank line before a list
            list_indent = indent
        elif list_indent is not None and indent <= list_indent:
            if out[-1].strip():
                out.append("")  # the end of a list needs a blank line too
            list_indent = None
        out.append(line[:indent] + _escape_prose(line[indent:]))
    return out


def docstring_as_rest(app: object, what: str, name: str, obj: object, options: object,
                      lines: list[str]) -> None:
    lines[:] = prose_to_rest(lines)


# ---- the tutorials' solutions --------------------------------------------------------------------
_TAGS = re.compile(r"^(?P<lead>\s*:?tags:\s*)\[(?P<tags>[^\]]*)\]", re.MULTILINE)


def hide_solution_cells(app: object, docname: str, source: list[str]) -> None:
    """A code cell tagged `solution` is also tagged `hide-cell`: myst-nb then renders it
    collapsed (input and output) behind a "Show code cell" button, so a teacher can hand out
    the page without the answers showing. The notebook files themselves keep only `solution`."""
    if not docname.startswith("tutorials/"):
        return

    def add(m: re.Match) -> str:
        tags = [t.strip().strip("'\"") for t in m.group("tags").split(",") if t.strip()]
        if "solution" in tags and "hide-cell" not in tags:
            tags.append("hide-cell")
        return f"{m.group('lead')}[{', '.join(tags)}]"

    source[0] = _TAGS.sub(add, source[0])


def setup(app: object) -> dict:
    app.add_directive("autograd-lite-ops", OpsTable)
    app.add_directive("compiler-rules", RulesTable)
    app.add_directive("compiler-passes", PassesList)
    app.add_directive("compiler-lowerings", LoweringsTable)
    app.add_directive("test-modules", TestModules)
    app.add_directive("python-docstring", PythonDocstring)
    app.connect("source-read", hide_solution_cells)
    app.connect("autodoc-process-docstring", docstring_as_rest)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
