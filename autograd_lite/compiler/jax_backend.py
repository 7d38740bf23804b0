"""The JAX backend: the same optimised program printed as `jax.numpy` source, then `jax.jit`.

A second table of the printer (codegen.py), not a second compiler: one entry per primitive, as
JAX registers one lowering per primitive per platform. The program is pure (no `out=`
buffers, no layout pass: XLA plans its own memory and fuses the elementwise work); a
scatter-add is `.at[index].add`, a loop `jax.lax.fori_loop`. Every ufunc primitive prints as
its `jnp` namesake. A primitive without an entry (your own, or one this table lacks) runs its
numpy forward through `jax.pure_callback` on the host: correct, but not fused.

Importing this module turns on JAX's float64 (`jax_enable_x64`), as autograd_lite computes in
float64 by default. `data_parallel` arguments (their first axis the samples) are split over a
one-axis mesh of all devices (`jax.sharding`), the rest replicated; XLA inserts the sums across
devices. On a GPU or TPU machine nothing changes: jax.devices() lists the accelerators.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .. import ops as P
from .codegen import Backend, Lowering, indented
from .ir import Eqn, Loop, Out, Program
from .numpy_backend import array_module_lowerings, function_reduction, index_code

jax.config.update("jax_enable_x64", True)


def operator(symbol: str) -> Lowering:
    return Lowering(lambda e, ins: f"{ins[0]} {symbol} {ins[1]}")


def ufunc(op: type) -> Lowering:
    return Lowering(lambda e, ins: f"jnp.{op.ufunc.__name__}({', '.join(ins)})")


def reduction(e: Eqn, ins: Sequence[str]) -> str:
    return function_reduction(e, ins).replace("np.", "jnp.", 1)


def loop(e: Eqn, w: Any, ins: Sequence[str]) -> list[tuple[str, str]]:
    """A nested function as the body of `jax.lax.fori_loop`; it reads the enclosing
    function's values (the data) as a closure."""
    n, body = e.params["carried"], e.params["body"]
    function, index = w.fresh_name("loop_body"), w.fresh_name("i")
    carry = [w.fresh_name() for _ in range(n)]
    body_lines, results = w.body(body, [index, *carry, *ins[n:]])

    def packed(names: Sequence[str]) -> str:
        return "(" + ", ".join(names) + ("," if len(names) == 1 else "") + ")"

    outs = [w.fresh_name() for _ in e.outs]
    for out, name in zip(e.outs, outs):
        w.names[id(out)] = name
    return [(f"def {function}({index}, carry):", e.op.label(e.params)),
            (f"    {packed(carry)} = carry", ""), *indented(body_lines),
            (f"    return {packed(results)}", ""),
            (f"{packed(outs)} = jax.lax.fori_loop({e.params['lower']}, {e.params['upper']}, "
             f"{function}, {packed(ins[:n])})", "")]


TABLE: dict[type, Lowering] = {op: ufunc(op) for op in P.primitives() if op.ufunc is not None}
TABLE.update({
    P.Add: operator("+"), P.Sub: operator("-"), P.Mul: operator("*"), P.Div: operator("/"),
    **{op: operator(op.symbol) for op in P.primitives() if issubclass(op, P._Comparison)},
    P.Neg: Lowering(lambda e, ins: f"-{ins[0]}"),
    P.Matmul: Lowering(lambda e, ins: f"{ins[0]} @ {ins[1]}"),
    P.Outer: Lowering(lambda e, ins: f"jnp.outer({ins[0]}, {ins[1]})"),
    P.ScatterAdd: Lowering(lambda e, ins: f"jnp.zeros({e.params['shape']}, {ins[0]}.dtype)"
                                          f".at[{index_code(e, ins, 1)}].add({ins[0]})"),
    P.IndexAdd: Lowering(lambda e, ins: f"{ins[0]}.at[{index_code(e, ins, 2)}].add({ins[1]})"),
    **{op: Lowering(reduction) for op in (P.Sum, P.Mean, P.Prod, P.Max, P.Min)},
    P.Transpose: Lowering(lambda e, ins: f"jnp.transpose({ins[0]}, {e.params['axes']})"),
    **array_module_lowerings("jnp"),
    P.Sigmoid: Lowering(lambda e, ins: f"jax.nn.sigmoid({ins[0]})"),
    P.Relu: Lowering(lambda e, ins: f"jax.nn.relu({ins[0]})"),
    P.Mse: Lowering(lambda e, ins: f"jnp.mean(({ins[0]} - {ins[1]}) ** 2)"),
    Loop: Lowering(block=loop),
})


def host_call(op: type, writer: Any) -> Lowering:
    """A primitive without an entry: its numpy forward on the host, through jax.pure_callback."""
    def expr(e: Eqn, ins: Sequence[str]) -> str:
        result = jax.ShapeDtypeStruct(e.out.shape, e.out.dtype)
        params, forward = dict(e.params), op.forward
        name = writer.bind(f"{op.name}_on_host", lambda *args: jax.pure_callback(
            lambda *a: np.asarray(forward(*a, **params), dtype=result.dtype), result, *args))
        return f"{name}({', '.join(ins)})"
    return Lowering(expr)


def _finish(function: Callable[..., Any], program: Program,
            data_parallel: tuple[int, ...]) -> Callable[..., Any]:
    """jax.jit of the generated function (the arguments that are not arrays static), sharded
    as asked, returning numpy arrays of their own (and the loss as a number)."""
    arrays = {v.name for v in program.inputs}
    static = tuple(i for i, name in enumerate(program.arguments) if name not in arrays)
    kwargs: dict[str, Any] = {"static_argnums": static}
    devices = jax.devices()
    if data_parallel and len(devices) > 1:
        mesh = jax.sharding.Mesh(np.array(devices), ("data",))
        split = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("data"))
        whole = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec())
        kwargs["in_shardings"] = tuple(split if i in data_parallel else whole
                                       for i in range(len(program.arguments)) if i not in static)
    jitted = jax.jit(function, **kwargs)
    structure = program.result
    if structure is None:
        structure = tuple(Out(k) for k in range(len(program.outputs)))

    def convert(shape: Any, value: Any) -> Any:
        if isinstance(shape, dict):
            return {k: convert(v, value[k]) for k, v in shape.items()}
        if isinstance(shape, tuple | list):
            return type(shape)(convert(s, v) for s, v in zip(shape, value))
        return float(value) if shape.number else np.array(value)  # an array of its own

    def run(*args: Any) -> Any:
        if data_parallel and len(devices) > 1:
            for i in data_parallel:
                if np.shape(args[i])[0] % len(devices):
                    raise ValueError(f"data_parallel: argument {i} has {np.shape(args[i])[0]} "
                                     f"samples, which do not split evenly over {len(devices)} "
                                     "devices")
        return convert(structure, jitted(*args))

    run.jitted = jitted  # for timing the XLA program alone
    return run


JAX = Backend(
    name="jax", module="jnp", table=TABLE, namespace={"jnp": jnp, "jax": jax},
    value=lambda name, v: name, copy=lambda name, dtype: f"{name}.astype(jnp.{dtype.name})",
    reserved=frozenset({"jnp", "jax", "float"}), finish=_finish, default=host_call,
    copies_outputs=False,
)
