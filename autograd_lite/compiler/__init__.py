"""`compile(f)`: trace the tape once, run (and show) a generated straight-line numpy program.

The first call for an input signature (the shapes and dtypes of the array arguments, the values
of the others) runs f on traced inputs, records the backward pass with the rules themselves,
optimises the joint program (`passes.py`, `rewrite.py`) and writes it as Python source with one
line per remaining operation (`codegen.py`, printed by a backend's table: `numpy_backend.py`),
compiled once. Later calls with that signature only run the generated function: no tape, no
Python per recorded operation.

    cf = autograd_lite.compile(loss, argnums=(0, 1))
    value, (gW, gw) = cf(W, w, X, y)    # equal to value_and_grad(loss, (0, 1)) to rounding
    print(cf.source)                    # the program it wrote
    cf.stats                            # equations after each pass, bytes, times

What the program computes is recomputed on every call from the inputs (masks and comparisons
too). Values f reads from outside its arguments follow one rule, eager's: arrays and numbers
that f's own code names in its closure or its module's globals are read at every call (float
arrays are hidden inputs of the program; a changed number, a changed mask or index array, or
an array of another shape or dtype, traces again). Any other array f reaches (an attribute,
a dict entry) is read by reference when the program runs, and nothing is computed from it at
compile time, so a value and its gradient always come from the same data. Python control
flow on a traced value (`if t > 0:`, `float(t)`, `t.item()`) raises `TraceError` when tracing.
"""

from __future__ import annotations

import time
import types
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..arguments import ArgNums, float_array, normalise_argnums, single
from ..errors import DTypeError, ShapeError
from ..forward import Dual
from ..functional import inside_transformation, value_and_grad
from ..tensor import Tensor, is_recorded
from . import passes
from .codegen import Backend, build, generate, identifier
from .ir import Out
from .loops import fori_loop  # noqa: F401  (the package's public loop)
from .numpy_backend import NUMPY
from .rewrite import simplify
from .trace import parameter_names, trace

#: The passes every backend runs, in order (each also on every loop body); a backend appends
#: its own (`Backend.passes`).
PASSES = tuple((name, passes.in_loop_bodies(run)) for name, run in (
    ("dead code", passes.eliminate_dead_code),
    ("constants", passes.fold_constants),
    ("common subexpressions", passes.eliminate_common_subexpressions),
    ("algebra", simplify),
    ("dead code again", passes.eliminate_dead_code),
    ("common subexpressions again", passes.eliminate_common_subexpressions),
    ("loop invariants", passes.hoist_loop_invariants),
))


def _key(args: Sequence[Any]) -> tuple | None:
    """The signature of arguments that need no conversion (ndarrays and numbers), else None:
    an array's shape and dtype, a number's type and value (floats by their exact bits, so that
    -0.0 and 0.0 differ and nan equals nan), a tuple of ints as itself."""
    key = []  # two entries per argument: (shape, dtype) or (type, value)
    for a in args:
        kind = type(a)
        if kind is np.ndarray:
            key += a.shape, a.dtype
        elif kind is float:  # hex() only where == is not enough: it costs ten comparisons
            key += kind, (a if a == a and a != 0.0 else a.hex())
        elif kind is int or kind is bool:
            key += kind, a
        elif isinstance(a, np.generic) and a.dtype.kind in "biuf":
            key += kind, a.tobytes()
        elif kind is tuple and all(type(i) is int for i in a):  # an axis, a shape
            key += kind, a
        else:
            return None
    return tuple(key)


def _code_names(code: types.CodeType) -> set[str]:
    """The global names a code object (and the code nested in it: lambdas, comprehensions)
    reads."""
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _code_names(const)
    return names


class _Binding:
    """A name f reads from outside: a closure cell, a key of f's module globals, or an
    attribute of what another binding holds (`self.X`, `model.X`), read anew at every call."""

    __slots__ = ("name", "cell", "scope", "parent")

    def __init__(self, name: str, cell: Any = None, scope: dict | None = None,
                 parent: _Binding | Any = None) -> None:
        self.name, self.cell, self.scope, self.parent = name, cell, scope, parent

    def owner(self) -> Any:
        """The object whose attribute this is (a binding's current value, or a fixed self)."""
        return self.parent.get() if isinstance(self.parent, _Binding) else self.parent

    def get(self) -> Any:
        if self.cell is not None:
            try:
                return self.cell.cell_contents
            except ValueError:  # an empty cell (a variable assigned later)
                return None
        if self.scope is not None:
            return self.scope.get(self.name)
        return getattr(self.owner(), "__dict__", {}).get(self.name.rpartition(".")[2])

    def put(self, value: Any) -> Callable[[], None]:
        """Bind the name to `value`; returns the function that binds it back."""
        previous = self.get()
        if self.cell is not None:
            self.cell.cell_contents = value
            return lambda: setattr(self.cell, "cell_contents", previous)
        if self.scope is not None:
            self.scope[self.name] = value
            return lambda: self.scope.__setitem__(self.name, previous)
        owner, attribute = self.owner(), self.name.rpartition(".")[2]
        setattr(owner, attribute, value)
        return lambda: setattr(owner, attribute, previous)


def _holds_attributes(v: Any) -> bool:
    """An object whose attributes f may read as data (an instance, not a module or function)."""
    return hasattr(v, "__dict__") and not isinstance(
        v, types.ModuleType | types.FunctionType | types.BuiltinFunctionType | type | np.ufunc)


def _bindings(f: Callable[..., Any]) -> list[_Binding]:
    """What f's code reads by name: its closure variables, the globals it names, and the
    attributes it names of those and of a bound method's self (one level: `self.X`). Only the
    names that hold data (an array, a number) or nothing yet are watched."""
    owner = getattr(f, "__self__", None)
    f = getattr(f, "__func__", f)  # a bound method's function
    code = getattr(f, "__code__", None)
    if code is None:
        return []
    names = _code_names(code)
    roots = [_Binding(n, cell=c) for n, c in zip(code.co_freevars, f.__closure__ or ())]
    roots += [_Binding(n, scope=f.__globals__) for n in sorted(names) if n in f.__globals__]
    attributes = []
    for root, prefix in [(b, b.name) for b in roots] + ([(owner, "self")] if owner else []):
        value = root.get() if isinstance(root, _Binding) else root
        if _holds_attributes(value):
            attributes += [_Binding(f"{prefix}.{a}", parent=root)
                           for a in sorted(names & set(vars(value)))]
    return [b for b in roots + attributes if b.get() is None or _is_data(b.get())]


def _is_data(v: Any) -> bool:
    """Arrays and numbers: what a name read from outside contributes to the program."""
    return type(v) in (np.ndarray, float, int, bool) or (
        isinstance(v, np.generic) and v.dtype.kind in "biuf")


def backend_named(name: str | Backend) -> Backend:
    """The printer for `name`: "numpy" (always there) or "jax" (imports JAX, an optional
    extra: pip install -e ".[jax]")."""
    if isinstance(name, Backend):
        return name
    if name == "numpy":
        return NUMPY
    if name == "jax":
        from .jax_backend import JAX  # only here: the numpy path neither imports nor needs JAX
        return JAX
    raise ValueError(f"backend must be 'numpy' or 'jax', got {name!r}")


class JittedFunction:
    """f compiled: `jf(*args)` runs the generated program, which returns what f returns (a
    tuple, list or dict of arrays) as arrays of their own. f may take derivatives inside
    (`grad`, `value_and_grad`, `vjp`, `jvp`, ...) and loop (`fori_loop`). `source` and `stats`
    describe the last signature compiled; see the package docstring for what a signature is
    and how values read from outside the arguments are treated.

    With the JAX backend, `data_parallel` lists the arguments whose first axis is the sample
    axis: they are split over the devices of a one-axis mesh (`jax.sharding`), the others
    replicated, and XLA adds the cross-device sums (one device: no splitting).
    """

    what = "jit"  # the entry point, as the generated docstring and the errors name it

    def __init__(self, f: Callable[..., Any], backend: str | Backend = "numpy",
                 cache_size: int = 8, data_parallel: Sequence[int] = ()) -> None:
        self.function = f
        self.name = str(getattr(f, "__name__", type(f).__name__))
        self.backend = backend_named(backend)
        self.cache_size = cache_size
        self.data_parallel = tuple(data_parallel)
        if self.data_parallel and self.backend.name != "jax":
            raise ValueError("data_parallel needs backend='jax' (numpy runs on one core)")
        self.traces = 0
        self.source: str | None = None
        self.stats: dict[str, Any] = {}
        self._cache: dict[tuple, Callable[..., Any]] = {}
        self._bindings = _bindings(f)

    def _hidden(self) -> list[Any]:
        """The current values of the names f reads from outside that hold data (None else)."""
        return [v if _is_data(v) else None for v in (b.get() for b in self._bindings)]

    def __call__(self, *args: Any) -> Any:
        hidden = self._hidden() if self._bindings else ()
        key = _key(args)
        program = self._cache.get((key, _hidden_key(hidden)) if hidden else key)
        if program is None:
            if any(type(a) is Dual for a in args) or inside_transformation() and any(
                    is_recorded(a) for a in args):
                # inside a transformation (or a trace) on the tape, or inside jvp: run f there,
                # so that the enclosing one sees its derivatives, not constant numbers
                return self._eagerly(*args)
            args = self._normalise(args)
            key = _key(args)
            if hidden:
                key = (key, _hidden_key(hidden))
            program = self._cache.get(key)
            if program is None:
                program = self._compile(args, key, hidden)
        if hidden:
            return program(*args, *(v for v in hidden if _is_hidden_input(v)))
        return program(*args)

    # ---- what compile changes ----------------------------------------------------------------
    def _eagerly(self, *args: Any) -> Any:
        return self.function(*args)

    def _traced(self) -> Callable[..., Any]:
        return self.function

    def _float_arguments(self, n: int) -> tuple[int, ...]:
        """The arguments made floating arrays (the differentiated ones)."""
        return ()

    def _result(self, structure: Any, args: Sequence[Any]) -> Any:
        return structure

    # ---- the shared work ---------------------------------------------------------------------
    def _normalise(self, args: Sequence[Any]) -> list[Any]:
        """Arrays as ndarrays (differentiated ones floating), numbers as Python numbers."""
        floats = self._float_arguments(len(args))
        where = f"{self.what}({self.name})"
        out = []
        for i, a in enumerate(args):
            if isinstance(a, Tensor):
                a = a.data
            if i in floats:
                a = float_array(a, where)
            elif isinstance(a, np.ndarray):
                a = np.asarray(a)  # a subclass (np.memmap) as the ndarray the key knows
            elif isinstance(a, np.generic):
                pass  # a number, part of the signature (a numpy scalar keeps its type)
            elif isinstance(a, bool | int | float):  # a subclass (IntEnum) as the built-in
                a = bool(a) if isinstance(a, bool) else int(a) if isinstance(a, int) else float(a)
            elif isinstance(a, tuple) and all(type(i) is int for i in a):
                pass  # an axis or a shape, part of the signature
            else:
                try:
                    a = np.asarray(a)
                except (TypeError, ValueError):
                    a = None
                if a is None or a.dtype.kind not in "biuf":
                    raise DTypeError(f"{where}: argument {i} ({type(args[i]).__name__}) is "
                                     "neither an array, a number nor a tuple of ints")
            out.append(a)
        return out

    def _compile(self, args: list[Any], key: Any, hidden: Sequence[Any]) -> Callable[..., Any]:
        start = time.perf_counter()
        arrays = [(b, v) for b, v in zip(self._bindings, hidden) if _is_hidden_input(v)]
        names = parameter_names(self.function, len(args), self.backend.reserved,
                                [identifier(b.name) for b, _ in arrays])
        program = trace(self._traced(), args, self.name, names, [(v, b.put) for b, v in arrays],
                        lambda structure: self._result(structure, args))
        program = program.but(hidden=[b.name for b, _ in arrays])  # as f's code writes them
        traced = time.perf_counter()
        counts = {"traced": len(program.eqns)}
        for name, run in (*PASSES, *self.backend.passes):
            program = run(program)
            counts[name] = len(program.eqns)
        signature = ", ".join(
            f"{n} {a.dtype} {a.shape}" if isinstance(a, np.ndarray) else f"{n} = {a!r}"
            for n, a in zip(program.arguments, [*args, *(v for _, v in arrays)]))
        stem = self.name.replace("<lambda>", "lambda")
        function_name = identifier(f"{stem}_value_and_grad" if self.what == "compile"
                                   else f"{stem}_{self.backend.name}")
        source, namespace = generate(program, function_name, signature, self.backend, self.what)
        function = self.backend.finish(build(source, namespace, function_name), program,
                                       self.data_parallel)
        fresh, reused = passes.allocated_bytes(program)
        self.traces += 1
        self.source = source
        self.stats = {
            "signature": signature, "equations": counts,
            "bytes_allocated": fresh, "bytes_written_into_reused_buffers": reused,
            "trace_seconds": traced - start, "compile_seconds": time.perf_counter() - traced,
        }
        if len(self._cache) >= self.cache_size:
            del self._cache[next(iter(self._cache))]  # the oldest signature goes
        self._cache[key] = function
        return function


class CompiledFunction(JittedFunction):
    """`f` compiled for `value_and_grad` semantics: `value, grads = cf(*args)` (grads a tuple
    when argnums is a tuple): `jit` of `value_and_grad(f, argnums)`, the value a Python float
    and each gradient in its argument's dtype."""

    what = "compile"
    value_and_grad = True  # gradcheck checks the gradients it returns

    def __init__(self, f: Callable[..., Any], argnums: ArgNums = 0, cache_size: int = 8,
                 backend: str | Backend = "numpy", data_parallel: Sequence[int] = ()) -> None:
        super().__init__(f, backend, cache_size, data_parallel)
        self.argnums = argnums

    def _eagerly(self, *args: Any) -> Any:
        return value_and_grad(self.function, self.argnums)(*args)

    def _traced(self) -> Callable[..., Any]:
        f, name = self.function, self.name

        def scalar_f(*args: Any) -> Any:  # f's value checked first, so that the error names f
            out = f(*args)
            shape = tuple(getattr(out, "shape", np.shape(out)))
            if shape and int(np.prod(shape)) != 1:
                raise ShapeError(f"compile({name}): f must return one real number (a "
                                 f"one-element Tensor), got shape {shape}")
            return out

        return value_and_grad(scalar_f, self.argnums)

    def _float_arguments(self, n: int) -> tuple[int, ...]:
        return normalise_argnums(self.argnums, n, f"compile({self.name})")

    def _result(self, structure: Any, args: Sequence[Any]) -> Any:
        value, grads = structure
        nums = self._float_arguments(len(args))
        grads = (grads,) if single(self.argnums) else grads
        grads = tuple(Out(g.index, np.dtype(args[i].dtype)) for g, i in zip(grads, nums))
        return Out(value.index, number=True), grads[0] if single(self.argnums) else grads


def _is_hidden_input(value: Any) -> bool:
    """A float (or complex) array read from outside: an input of the program. Masks and index
    arrays (bool, int) are not: they can change the program's shapes, so the cache key holds
    their values, and a changed one traces again."""
    return type(value) is np.ndarray and value.dtype.kind in "fc"


def _hidden_key(hidden: Sequence[Any]) -> tuple:
    return tuple(None if v is None else _key([v]) + ((v.tobytes(),) if type(v) is np.ndarray
                                                     and not _is_hidden_input(v) else ())
                 for v in hidden)


def compile(f: Callable[..., Any], argnums: ArgNums = 0,  # noqa: A001
            backend: str = "numpy", data_parallel: Sequence[int] = ()) -> CompiledFunction:
    """f compiled to a straight-line program with `value_and_grad(f, argnums)` semantics (the
    same as `jit(value_and_grad(f, argnums))`, the value a Python float)."""
    return CompiledFunction(f, argnums, backend=backend, data_parallel=data_parallel)


def jit(f: Callable[..., Any], backend: str = "numpy",
        data_parallel: Sequence[int] = ()) -> JittedFunction:
    """f compiled to a straight-line program (numpy source, or jax.numpy with backend="jax"),
    traced once per signature: see `JittedFunction`."""
    return JittedFunction(f, backend, data_parallel=data_parallel)
