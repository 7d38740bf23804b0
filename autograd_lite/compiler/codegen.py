"""Write a `Program` as Python source, one assignment per line, and compile it once.

The source is for people too: named inputs, values numbered in order, a comment on each line
naming the primitive (and, in the backward pass, the forward value whose rule wrote it).

How each primitive prints is not decided here: a `Backend` holds one `Lowering` per primitive
(JAX registers one lowering per primitive per platform the same way), and this writer only
assembles lines from them. A primitive without an entry is printed as a call of its own
`forward` by name (a user-defined primitive, for instance), so every primitive prints.
"""

from __future__ import annotations

import builtins
import keyword
import linecache
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .ir import Eqn, Operand, Out, Program, Var


@dataclass(frozen=True)
class Lowering:
    """How one primitive prints.

    `expr(e, ins)`: the expression of e's result, from its operands' texts;
    `into(e, ins, target)`: the statement that writes the result into the dead array `target`
    (numpy's `out=`; `target += b` where `target` is the first operand), if the backend can;
    `in_place(e, ins)`: the statement that updates the first operand's array in place
    (`base[index] += values`), for the primitives that `updates_in_place`;
    `block(e, writer, ins)`: the (code, comment) lines of a statement that holds others (a
    loop), written with the writer's `body` and `fresh_name`.
    """

    expr: Callable[[Eqn, Sequence[str]], str] | None = None
    into: Callable[[Eqn, Sequence[str], str], str] | None = None
    in_place: Callable[[Eqn, Sequence[str]], str] | None = None
    block: Callable[[Eqn, Any, Sequence[str]], list[tuple[str, str]]] | None = None


@dataclass
class Backend:
    """A target of the printer: its table of lowerings, and how it writes numbers and results.

    `module` is the name the generated code calls the array module by (np, jnp); `namespace`
    what the generated code may call (the module and helper functions).
    """

    name: str
    module: str
    table: dict[type, Lowering]
    namespace: dict[str, Any]
    value: Callable[[str, Var], str]  # the loss as the caller gets it
    copy: Callable[[str, np.dtype], str]  # an output the caller may keep, as a fresh array
    passes: tuple = ()  # the backend-specific passes that follow the shared ones
    reserved: frozenset[str] = field(default_factory=frozenset)
    #: must an output that is not an array of the program's own be copied? (numpy: yes, the
    #: caller may write it; JAX: arrays are immutable)
    copies_outputs: bool = True
    #: the generated function as the caller gets it (JAX: jitted, results converted)
    finish: Callable[[Any, Program, tuple], Any] = lambda function, program, shards: function
    #: how a primitive without an entry prints (numpy: a call of its own forward by name)
    default: Callable[[type, Any], Lowering] = None  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.default is None:
            self.default = call_forward

    def lowering(self, op: type) -> Lowering | None:
        return self.table.get(op)

    def writes_out(self, op: type) -> bool:
        entry = self.table.get(op)
        return entry is not None and entry.into is not None

    def updates_in_place(self, op: type) -> bool:
        entry = self.table.get(op)
        return entry is not None and entry.in_place is not None

    def number(self, v: float) -> str:
        """A float as this backend reads it back (inf and nan through the module's names)."""
        if v != v:
            return f"{self.module}.nan"
        if math.isinf(v):
            return f"{self.module}.inf" if v > 0 else f"-{self.module}.inf"
        return repr(v)


def identifier(name: str) -> str:
    """`name` made a Python identifier (a function's or a primitive's name may be anything)."""
    name = re.sub(r"\W", "_", name) or "f"
    return "_" + name if name[0].isdigit() or keyword.iskeyword(name) else name


def call_forward(op: type, writer: Any) -> Lowering:
    """A primitive the backend has no entry for, printed as a call of its forward by name."""
    name, backend = writer.bind(op.name, op.forward), writer.backend

    def call(e: Eqn, ins: Sequence[str]) -> str:
        keywords = [f"{k}={param_text(v, backend)}" for k, v in e.params.items()]
        return f"{name}({', '.join([*ins, *keywords])})"

    return Lowering(call)


def param_text(v: Any, backend: Backend) -> str:
    """A parameter as code: dtypes by the module's name for them, numbers as literals."""
    if isinstance(v, np.dtype):
        return f"{backend.module}.{v.name}"
    if isinstance(v, float):
        return backend.number(v)
    return repr(v)


class _Writer:
    def __init__(self, program: Program, backend: Backend) -> None:
        self.program, self.backend = program, backend
        self.names: dict[int, str] = {id(v): v.name for v in program.inputs}
        self.namespace: dict[str, Any] = dict(backend.namespace)
        self.constants: list[str] = []
        self.count = 0  # values named so far

    def name(self, x: Operand, weak_is_safe: bool = False) -> str:
        """An operand as code: a variable's name, a number's literal, else a named constant.
        A numpy scalar is written as a plain number only where that cannot change numpy's type
        promotion (`weak_is_safe`: every other operand is float64), else with its type."""
        if isinstance(x, Var):
            return self.names[id(x)]
        v = x.value
        if isinstance(v, bool):
            return repr(v)
        if isinstance(v, int):  # beside float64 arrays as a float: numpy int scalars are slower
            return repr(float(v)) if weak_is_safe and abs(v) < 2**53 else repr(v)
        if isinstance(v, float):
            return self.backend.number(v)
        module = self.backend.module
        if isinstance(v, np.ndarray | np.generic) and v.ndim == 0 and v.dtype.kind in "fiub":
            number = self.backend.number(float(v)) if v.dtype.kind == "f" else repr(v.item())
            return number if weak_is_safe and v.dtype == np.float64 else (
                f"{module}.{v.dtype.name}({number})")
        label = f"c{len(self.constants)}"
        self.namespace[label] = v
        self.constants.append(f"{label}: {np.asarray(v).dtype} {np.shape(v)}")
        return label

    def operands(self, e: Eqn) -> list[str]:
        weak = all(x.dtype == np.float64 for x in e.ins if isinstance(x, Var))
        return [self.name(x, weak) for x in e.ins]

    def lowering(self, op: type) -> Lowering:
        """The backend's entry, or its default for a primitive it has no entry for."""
        entry = self.backend.lowering(op)
        return entry if entry is not None else self.backend.default(op, self)

    def bind(self, stem: str, value: Any) -> str:
        """A name in the generated code's namespace for `value` (a function the code calls),
        clear of every name the code uses otherwise."""
        name = identifier(stem)
        taken = {*self.program.arguments, *self.backend.reserved}
        while (self.namespace.get(name, value) is not value or name in taken
               or re.fullmatch(r"[vcs]\d+", name)):
            name += "_"  # a user's primitive named like something else
        self.namespace[name] = value
        return name

    def fresh_name(self, stem: str = "v") -> str:
        self.count += 1
        return f"{stem}{self.count}"

    def lines(self, e: Eqn) -> list[tuple[str, str]]:
        """The (code, comment) lines of one equation: `vK = expression`; or, for a result
        written into a dead array (which then goes on under that array's name), the in-place
        form: `v2 += v3`, `np.tanh(v2, out=v2)`, `v9[-1] += v8`; or a block (a loop)."""
        lowering, ins = self.lowering(e.op), self.operands(e)
        comment = self.comment(e)
        if lowering.block is not None:
            return lowering.block(e, self, ins)
        if e.in_place:
            self.names[id(e.out)] = ins[0]
            return [(lowering.in_place(e, ins), comment)]
        if e.buffer is not None:
            target = self.names[id(e.out)] = self.names[id(e.buffer)]
            return [(lowering.into(e, ins, target), comment)]
        name = self.names[id(e.out)] = self.fresh_name()
        return [(f"{name} = {lowering.expr(e, ins)}", comment)]

    def comment(self, e: Eqn) -> str:
        label = e.op.label(e.params)
        if e.note == "forward":
            return label
        origin = e.origin
        where = f" {self.names[id(origin)]}" if origin is not None and id(origin) in self.names \
            else ""
        return f"{label}  ({e.note}{where})"

    def body(self, program: Program, input_names: Sequence[str]) -> tuple[list, list[str]]:
        """A (sub)program's lines, its inputs named `input_names`, and the texts of its
        outputs: an output the buffer plan found is an array of the program's own goes by its
        name, any other is copied (the caller, or the next iteration of a loop, may write it)."""
        outer, self.program = self.program, program
        self.names.update({id(v): n for v, n in zip(program.inputs, input_names)})
        lines = [line for e in program.eqns for line in self.lines(e)]
        texts = []
        for k, x in enumerate(program.outputs):
            if isinstance(x, Var) and (k in program.fresh_outputs
                                       or not self.backend.copies_outputs):
                texts.append(self.names[id(x)])
            else:
                texts.append(self.backend.copy(self.name(x), np.dtype(x.dtype)))
        self.program = outer
        return lines, texts

    def result(self, structure: Any, outputs: list[Any], texts: list[str]) -> str:
        """What the function returns, as code: the result's tuples, lists and dicts of `Out`s."""
        if isinstance(structure, dict):
            return "{" + ", ".join(f"{k!r}: {self.result(v, outputs, texts)}"
                                   for k, v in structure.items()) + "}"
        if isinstance(structure, tuple | list):
            items = [self.result(v, outputs, texts) for v in structure]
            if isinstance(structure, list):
                return "[" + ", ".join(items) + "]"
            return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
        x, text = outputs[structure.index], texts[structure.index]
        if structure.number:
            if isinstance(x, Var):
                return self.backend.value(self.names[id(x)], x)
            return self.backend.number(float(np.asarray(x.value).reshape(-1)[0]))
        if structure.dtype is not None and np.dtype(x.dtype) != structure.dtype:
            return self.backend.copy(self.name(x), structure.dtype)
        return text


def generate(program: Program, function_name: str, signature: str, backend: Backend,
             description: str = "") -> tuple[str, dict[str, Any]]:
    """The source of `function_name(*arguments)`, returning the program's result, and the
    namespace it runs in."""
    w = _Writer(program, backend)
    body, texts = w.body(program, [v.name for v in program.inputs])
    structure = program.result
    if structure is None:
        structure = tuple(Out(k) for k in range(len(program.outputs)))
    returned = w.result(structure, list(program.outputs), texts)
    width = max([len(code) for code, _ in body] + [0]) + 4
    lines = [f"def {function_name}({', '.join(program.arguments)}):",
             f'    """Generated by autograd_lite.{description or "jit"} from {program.name}.',
             f"    Traced for {signature}."]
    if program.hidden:
        lines.append(f"    Read at each call by name, as {program.name} reads them: "
                     f"{', '.join(program.hidden)}.")
    if w.constants:
        lines.append("    Constants: " + "; ".join(w.constants) + ".")
    lines[-1] += '"""'
    lines += [f"    {code.ljust(width)}# {comment}".rstrip() if comment else f"    {code}"
              for code, comment in body]
    lines.append(f"    return {returned}")
    return "\n".join(lines) + "\n", w.namespace


def indented(lines: list[tuple[str, str]], by: str = "    ") -> list[tuple[str, str]]:
    return [(by + code, comment) for code, comment in lines]


def build(source: str, namespace: dict[str, Any], function_name: str) -> Any:
    """Compile the source once (registered with linecache, so tracebacks show its lines)."""
    filename = f"<autograd_lite.compile {function_name}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(builtins.compile(source, filename, "exec"), namespace)
    return namespace[function_name]
