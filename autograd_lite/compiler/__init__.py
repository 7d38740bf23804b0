"""`compile(f)`: trace the tape once, run (and show) a generated straight-line numpy program.

The first call for an input signature (the shapes and dtypes of the array arguments, the values
of the others) runs f on traced inputs, records the backward pass with the rules themselves,
optimises the joint program (`passes.py`) and writes it as Python source with one line per
remaining operation (`codegen.py`), compiled once. Later calls with that signature only run the
generated function: no tape, no Python per recorded operation.

    cf = autograd_lite.compile(loss, argnums=(0, 1))
    value, (gW, gw) = cf(W, w, X, y)    # equal to value_and_grad(loss, (0, 1)) to rounding
    print(cf.source)                    # the program it wrote
    cf.stats                            # equations after each pass, bytes, times

What the program computes is recomputed on every call from the inputs (masks and comparisons
too); nothing computed from the tracing inputs' values is kept. Python control flow on a traced
value (`if t > 0:`, `float(t)`, `t.item()`) raises `TraceError` when tracing. f must be a pure
function of its arguments: a value it reads from elsewhere (a closure, `.data`) is a constant of
the trace.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..errors import DTypeError
from ..functional import inside_transformation, value_and_grad
from ..tensor import Tensor
from . import passes
from .codegen import build, generate
from .passes import allocated_bytes
from .trace import parameter_names, trace

PASSES = (
    ("dead code", passes.eliminate_dead_code),
    ("constants", passes.fold_constants),
    ("common subexpressions", passes.eliminate_common_subexpressions),
    ("algebra", passes.simplify),
    ("dead code again", passes.eliminate_dead_code),
    ("common subexpressions again", passes.eliminate_common_subexpressions),
    ("layout", passes.choose_layout),
    ("buffers", passes.plan_buffers),
)


def _key(args: Sequence[Any]) -> tuple | None:
    """The signature of arguments that need no conversion (ndarrays and numbers), else None:
    an array's shape and dtype, a number's type and value (floats by their exact bits, so that
    -0.0 and 0.0 differ and nan equals nan)."""
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
        else:
            return None
    return tuple(key)


class CompiledFunction:
    """`f` compiled for `value_and_grad` semantics: `value, grads = cf(*args)` (grads a tuple
    when argnums is a tuple). `source` and `stats` describe the last signature compiled."""

    value_and_grad = True  # gradcheck checks the gradients it returns

    def __init__(self, f: Callable[..., Any], argnums: int | Sequence[int] = 0,
                 cache_size: int = 8) -> None:
        self.function = f
        self.argnums = argnums
        self.name = getattr(f, "__name__", "f").replace("<lambda>", "lambda")
        self.cache_size = cache_size
        self.traces = 0
        self.source: str | None = None
        self.stats: dict[str, Any] = {}
        self._cache: dict[tuple, Callable[..., Any]] = {}

    def __call__(self, *args: Any) -> tuple[float, Any]:
        program = self._cache.get(_key(args))
        if program is None:
            if inside_transformation() and any(isinstance(a, Tensor) and a._node is not None
                                               for a in args):
                # inside a transformation (or a trace) on the tape: differentiate f there, so
                # that the enclosing computation sees its graph instead of constant numbers
                return value_and_grad(self.function, self.argnums)(*args)
            args = self._normalise(args)
            key = _key(args)
            program = self._cache.get(key)
            if program is None:
                program = self._compile(args, key)
        return program(*args)

    def _normalise(self, args: Sequence[Any]) -> list[Any]:
        """Arrays as ndarrays (differentiated ones floating), numbers as Python numbers."""
        nums = self._nums(len(args))
        out = []
        for i, a in enumerate(args):
            if isinstance(a, Tensor):
                a = a.data
            if i in nums:
                a = np.asarray(a)
                if a.dtype.kind not in "biuf":
                    raise DTypeError(f"compile({self.name}): argument {i} of dtype {a.dtype} is "
                                     "not real; autograd_lite differentiates real functions")
                a = a if a.dtype.kind == "f" else a.astype(np.float64)
            elif isinstance(a, np.ndarray):
                a = np.asarray(a)  # a subclass (np.memmap) as the ndarray the key knows
            elif isinstance(a, np.generic):
                pass  # a number, part of the signature (a numpy scalar keeps its type)
            elif isinstance(a, bool | int | float):  # a subclass (IntEnum) as the built-in
                a = bool(a) if isinstance(a, bool) else int(a) if isinstance(a, int) else float(a)
            else:
                try:
                    a = np.asarray(a)
                except (TypeError, ValueError):
                    a = None
                if a is None or a.dtype.kind not in "biuf":
                    raise DTypeError(f"compile({self.name}): argument {i} "
                                     f"({type(args[i]).__name__}) is neither an array nor a "
                                     "number")
            out.append(a)
        return out

    def _nums(self, n: int) -> tuple[int, ...]:
        nums = (self.argnums,) if isinstance(self.argnums, int) else tuple(self.argnums)
        for i in nums:
            if not -n <= i < n:
                raise IndexError(f"argnums {i} is out of range for {n} positional arguments")
        return tuple(i % n for i in nums)

    def _compile(self, args: list[Any], key: tuple) -> Callable[..., Any]:
        start = time.perf_counter()
        if key is None:
            raise DTypeError(f"compile({self.name}): an argument is neither an array nor a real "
                             "number of a built-in type")
        program = trace(self.function, args, self._nums(len(args)), self.name)
        traced = time.perf_counter()
        program.arguments = parameter_names(self.function, len(args))
        counts = {"traced": len(program.eqns)}
        for name, run in PASSES:
            program = run(program)
            counts[name] = len(program.eqns)
        signature = ", ".join(
            f"{n} {a.dtype} {a.shape}" if isinstance(a, np.ndarray) else f"{n} = {a!r}"
            for n, a in zip(program.arguments, args))
        function_name = f"{self.name}_value_and_grad"
        source, namespace = generate(program, function_name, isinstance(self.argnums, int),
                                     signature)
        function = build(source, namespace, function_name)
        fresh, reused = allocated_bytes(program)
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


def compile(f: Callable[..., Any], argnums: int | Sequence[int] = 0) -> CompiledFunction:  # noqa: A001
    """f compiled to a straight-line numpy program with `value_and_grad(f, argnums)` semantics."""
    return CompiledFunction(f, argnums)
