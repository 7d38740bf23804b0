"""Every public autograd_lite operation, listed once; every mode of test is driven from here.

One `Op` per operation: every primitive of `ops.primitives()` and every composite public function
(stack, outer, clip, tensordot, sqrt, astype, ...). Each says how to draw its inputs (a
hypothesis strategy of `Case`s, from tests/strategies.py), its numpy reference, the spellings to
test (the autograd_lite function, the Tensor method or operator, the numpy function through
dispatch, the primitive itself), the primitives it exercises, and flags.

A `Case` splits an operation's inputs in two: `arrays`, the array operands (for a
differentiable operation: exactly the inputs that are differentiated), and `params`, everything
else (axes, shapes, indices, an exponent, a where-condition), passed by keyword to every
spelling and to the reference alike.

The modes, and where they live:
- test_autograd_ops.py: table coverage, forward == numpy, VJP == central differences (every
  spelling but numpy's), broadcasting (each operand alone on the tape), float32, plain arrays
  in -> plain arrays out, the non-differentiable operations, values at inf / nan / 0;
- test_forward_and_second_order.py: JVP == reverse Jacobian times tangent == central
  differences; Hessian of sum(u * y * y) == central differences of its gradient;
- test_numpy_dispatch.py: the numpy spellings record on the tape, with the right gradient.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import pytest
from checks import F32_ATOL, F32_RTOL
from hypothesis import strategies as st
from strategies import (
    AG_BOUND,
    AG_KINK_MARGIN,
    AG_POSITIVE_LOW,
    ag_arrays,
    ag_broadcast_pairs,
    ag_broadcast_to_cases,
    ag_clip_cases,
    ag_concatenate_cases,
    ag_cumsum_cases,
    ag_dot_pairs,
    ag_einsum_cases,
    ag_expand_dims_cases,
    ag_hstack_cases,
    ag_index_cases,
    ag_matmul_pairs,
    ag_outer_pairs,
    ag_power_cases,
    ag_reduction_cases,
    ag_repeat_cases,
    ag_reshape_cases,
    ag_shapes,
    ag_squeeze_cases,
    ag_stack_cases,
    ag_swapaxes_cases,
    ag_tensordot_cases,
    ag_tied_pairs,
    ag_transpose_cases,
    ag_untied_pairs,
    ag_vstack_cases,
    ag_where_cases,
    lattice_arrays,
)

import autograd_lite as ag
from autograd_lite import Tensor
from autograd_lite import functions as F
from autograd_lite import ops as P


class Case(NamedTuple):
    """One drawn input: the array operands and the other parameters (see the module doc)."""

    arrays: tuple[np.ndarray, ...]
    params: dict[str, Any]

    def astype(self, dtype: Any) -> Case:
        return Case(tuple(a.astype(dtype) for a in self.arrays), self.params)


@dataclass(frozen=True)
class Spelling:
    """One way to write an operation: `call(*arrays, **params)`.

    kind: "function" (autograd_lite's), "method" (of Tensor), "operator", "numpy" (a numpy
    function reaching autograd_lite by dispatch) or "primitive" (`ops.apply_to` directly).
    `target` is the function called (the method's name for a method), for the coverage tests.
    `tensor_only`: a Tensor-only spelling (`detach`), not for forward mode's Duals.
    """

    label: str
    call: Callable[..., Any]
    kind: str
    target: Any = None
    tensor_only: bool = False


def function(f: Callable[..., Any], call: Callable[..., Any] | None = None,
             label: str | None = None) -> Spelling:
    return Spelling(label or f"ag.{f.__name__}", call or f, "function", f)


def method(name: str, call: Callable[..., Any] | None = None, label: str | None = None,
           tensor_only: bool = False) -> Spelling:
    def default(x: Any, **params: Any) -> Any:
        return getattr(x, name)(**params)

    return Spelling(label or f"x.{name}()", call or default, "method", name, tensor_only)


def written(label: str, call: Callable[..., Any]) -> Spelling:
    """An operator (or other syntax: x[index], abs(x), base ** x)."""
    return Spelling(label, call, "operator")


def numpy(f: Callable[..., Any], call: Callable[..., Any] | None = None) -> Spelling:
    return Spelling(f"np.{f.__name__}", call or f, "numpy", f)


def primitive(op: type[P.Primitive], call: Callable[..., Any] | None = None) -> Spelling:
    def default(*xs: Any, **params: Any) -> Any:
        return P.apply_to(op, *xs, **params)

    return Spelling(f"apply_to({op.__name__})", call or default, "primitive", op)


@dataclass(frozen=True)
class Op:
    """One public operation (see the module docstring).

    primitives: the primitives it exercises (the coverage test wants every one of
        `ops.primitives()` in some entry); grad_fn: the name of the primitive that records its
        output, when it is not primitives[0] (a function of the params if it varies).
    differentiable: False for comparisons, sign and stop_gradient (no gradient flows).
    f32_tolerance: (atol, rtol) of its float32 gradients against float64 central differences,
        None if it has no float32 mode.
    second_order: its rules are differentiated again by the Hessian test.
    broadcasting: its operands broadcast against each other (each is also tested alone on the
        tape, the others plain ndarrays).
    elementwise_unary: compared with numpy at inf, -inf, nan, 0 and -0 as well.
    numeric: the function whose central differences are the expected derivative, when the
        reference's own rounding would swamp them (default: the reference).
    keeps_dtype: float32 in -> float32 out (astype's output has the other dtype).
    """

    name: str
    cases: st.SearchStrategy[Case]
    reference: Callable[..., Any]
    spellings: tuple[Spelling, ...]
    primitives: tuple[type[P.Primitive], ...]
    grad_fn: str | Callable[[dict], str] | None = None
    differentiable: bool = True
    f32_tolerance: tuple[float, float] | None = (F32_ATOL, F32_RTOL)
    second_order: bool = True
    broadcasting: bool = False
    elementwise_unary: bool = False
    numeric: Callable[..., Any] | None = None
    keeps_dtype: bool = True

    def output_grad_fn(self, params: dict) -> str | None:
        """The grad_fn of the output for these params (None: nothing is recorded)."""
        if not self.differentiable:
            return None
        if self.grad_fn is None:
            return self.primitives[0].name
        return self.grad_fn(params) if callable(self.grad_fn) else self.grad_fn

    def __repr__(self) -> str:  # pytest ids and hypothesis reports
        return f"Op({self.name})"


def bind(call: Callable[..., Any], params: dict) -> Callable[..., Any]:
    """call with the params fixed: a function of the array operands only."""
    return lambda *xs: call(*xs, **params)


# ---- how cases are drawn --------------------------------------------------------------------
def one(arrays: st.SearchStrategy[np.ndarray]) -> st.SearchStrategy[Case]:
    return arrays.map(lambda x: Case((x,), {}))


def pair(pairs: st.SearchStrategy[tuple]) -> st.SearchStrategy[Case]:
    return pairs.map(lambda ab: Case(tuple(ab), {}))


def with_params(cases: st.SearchStrategy[tuple], *names: str) -> st.SearchStrategy[Case]:
    """(x, p1, p2, ...) -> Case((x,), {names[0]: p1, ...})."""
    return cases.map(lambda c: Case((c[0],), dict(zip(names, c[1:]))))


ANY = ag_arrays(ag_shapes())
POSITIVE = ag_arrays(ag_shapes(), AG_POSITIVE_LOW, AG_BOUND)
OFF_KINK = ag_arrays(ag_shapes(), min_abs=AG_KINK_MARGIN)


def _other_float(dtype: Any) -> np.dtype:
    return np.dtype(np.float32 if np.dtype(dtype) == np.float64 else np.float64)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x)) written as 0.5 (1 + tanh(x / 2)): another, overflow-free formula."""
    return 0.5 * (1.0 + np.tanh(x / 2))


def _scatter_add(v: np.ndarray, index: Any, shape: tuple[int, ...]) -> np.ndarray:
    out = np.zeros(shape, v.dtype)
    np.add.at(out, index, v)
    return out


def _index_template(index: Any) -> tuple[tuple, list[np.ndarray]]:
    """An index as ScatterAdd takes it: the template with `Slot`s, and the index arrays."""
    parts = index if isinstance(index, tuple) else (index,)
    template, arrays = [], []
    for p in parts:
        if isinstance(p, np.ndarray):
            template.append(P.Slot(len(arrays)))
            arrays.append(p)
        else:
            template.append(p)
    return tuple(template), arrays


def _scatter_add_primitive(v: Any, index: Any, shape: tuple[int, ...]) -> Any:
    template, arrays = _index_template(index)
    return P.apply_to(P.ScatterAdd, v, *arrays, template=template, shape=shape)


def _index_add(base: np.ndarray, v: np.ndarray, index: Any) -> np.ndarray:
    out = np.array(base, dtype=np.result_type(base, v))
    np.add.at(out, index, v)
    return out


def _index_add_primitive(base: Any, v: Any, index: Any) -> Any:
    template, arrays = _index_template(index)
    return P.apply_to(P.IndexAdd, base, v, *arrays, template=template, shape=np.shape(base))


def _index_add_cases() -> st.SearchStrategy[Case]:
    """(base, values) with values of base[index]'s shape (the index's entries may repeat)."""
    return ag_index_cases().map(
        lambda c: Case((c[0], np.asarray(c[0][c[1]] * 0.5 + 0.25, dtype=c[0].dtype)),
                       {"index": c[1]}))


VECTORS = ag_arrays(ag_shapes(min_dims=1, max_dims=1))


def _scatter_cases() -> st.SearchStrategy[Case]:
    return ag_index_cases().map(
        lambda c: Case((np.array(c[0][c[1]]),), {"index": c[1], "shape": c[0].shape}))


# ---- builders for the families -------------------------------------------------------------
def binary(name: str, op: type[P.Primitive], symbol: str, f: Callable[..., Any],
           ufunc: np.ufunc, cases: st.SearchStrategy[Case] | None = None, **flags: Any) -> Op:
    """An arithmetic operator: `a <symbol> b` and the numpy ufunc, broadcasting."""
    return Op(name, pair(ag_broadcast_pairs()) if cases is None else cases, ufunc,
              (written(f"a {symbol} b", f), numpy(ufunc)), (op,), broadcasting=True, **flags)


def elementwise(op: type[P.Primitive], reference: Callable[..., Any], *spellings: Spelling,
                arrays: st.SearchStrategy[np.ndarray] = ANY, **flags: Any) -> Op:
    """A unary elementwise function: ag.<name>, plus the given spellings."""
    f = getattr(ag, op.name)
    return Op(op.name, one(arrays), reference, (function(f), *spellings), (op,),
              elementwise_unary=True, **flags)


def comparison(op: type[P.Primitive], symbol: str, f: Callable[..., Any]) -> Op:
    """A comparison: elementwise bool, no gradient; lattice operands, so ties occur."""
    return Op(op.name, pair(ag_tied_pairs()), op.ufunc,
              (written(f"a {symbol} b", f), numpy(op.ufunc)), (op,), differentiable=False,
              broadcasting=True)


def reduction(op: type[P.Primitive], arrays: Callable[..., Any] = ag_arrays,
              numpy_functions: tuple = (), **flags: Any) -> Op:
    """sum, mean, prod, max, min over axis=None / int / tuple, keepdims or not."""
    name = op.name
    reference = getattr(np, name)
    spellings = (function(getattr(ag, name)), method(name), numpy(reference),
                 *(numpy(f) for f in numpy_functions))
    return Op(name, with_params(ag_reduction_cases(arrays), "axis", "keepdims"), reference,
              spellings, (op,), **flags)


def _reshape_varargs(x: Any, shape: tuple[int, ...]) -> Any:
    return x.reshape(*shape)


def _transpose_varargs(x: Any, axes: tuple[int, ...] | None) -> Any:
    return x.transpose(*(axes or ()))


def _listing(f: Callable[..., Any]) -> Callable[..., Any]:
    """f(list of arrays, **params) as a function of the arrays one by one."""
    return lambda *xs, **params: f(list(xs), **params)


def _einsum(f: Callable[..., Any]) -> Callable[..., Any]:
    return lambda *xs, subscripts: f(subscripts, *xs)


def _where(f: Callable[..., Any]) -> Callable[..., Any]:
    return lambda a, b, condition: f(condition, a, b)


def _power(f: Callable[..., Any]) -> Callable[..., Any]:
    return lambda x, p: f(x, p)


def _clip(f: Callable[..., Any]) -> Callable[..., Any]:
    return lambda x, low, high: f(x, low, high)


def _clip_grad_fn(params: dict) -> str:
    return "minimum" if params["high"] is not None else "maximum"


# ---- the table, in the order of ops.py -----------------------------------------------------
TABLE: tuple[Op, ...] = (
    # arithmetic
    binary("add", P.Add, "+", operator.add, np.add),
    binary("sub", P.Sub, "-", operator.sub, np.subtract),
    binary("mul", P.Mul, "*", operator.mul, np.multiply),
    binary("div", P.Div, "/", operator.truediv, np.divide,
           cases=pair(ag_broadcast_pairs(b_min_abs=AG_POSITIVE_LOW))),
    Op("neg", one(ANY), np.negative, (written("-x", operator.neg), numpy(np.negative)), (P.Neg,),
       elementwise_unary=True),
    Op("power", with_params(ag_power_cases(), "p"), _power(np.power),
       (written("x ** p", lambda x, p: x ** p), function(ag.power),
        numpy(np.power, _power(np.power))), (P.Pow,)),
    Op("sqrt", one(POSITIVE), np.sqrt, (function(ag.sqrt), numpy(np.sqrt)), (P.Sqrt,),
       elementwise_unary=True),  # x ** 0.5 is numpy's power, not its sqrt: see "power"
    Op("square", one(ANY), np.square, (function(ag.square), numpy(np.square)), (P.Pow,),
       elementwise_unary=True),
    # a constant base to a Tensor power: exp(x log base)
    Op("power_of_constant_base",
       st.tuples(ANY, st.just(2) | st.floats(0.25, 4.0)).map(
           lambda c: Case((c[0],), {"base": c[1]})),
       lambda x, base: np.power(base, x),
       (written("base ** x", lambda x, base: base ** x),
        function(ag.power, lambda x, base: ag.power(base, x), "ag.power(base, x)"),
        numpy(np.power, lambda x, base: np.power(base, x))),
       (P.Exp, P.Mul), grad_fn="exp"),
    Op("maximum", pair(ag_untied_pairs()), np.maximum,
       (function(ag.maximum), numpy(np.maximum)), (P.Maximum,), broadcasting=True),
    Op("minimum", pair(ag_untied_pairs()), np.minimum,
       (function(ag.minimum), numpy(np.minimum)), (P.Minimum,), broadcasting=True),
    Op("clip", with_params(ag_clip_cases(), "low", "high"), _clip(np.clip),
       (function(ag.clip), numpy(np.clip, _clip(np.clip))), (P.Maximum, P.Minimum),
       grad_fn=_clip_grad_fn),
    Op("where",
       ag_where_cases().map(lambda c: Case((c[1], c[2]), {"condition": c[0]})),
       _where(np.where),
       (function(ag.where, _where(ag.where), "ag.where(condition, a, b)"),
        function(ag.where, lambda a, b, condition: ag.where(Tensor(condition), a, b),
                 "ag.where(Tensor(condition), a, b)"),
        numpy(np.where, _where(np.where))),
       (P.Where,), broadcasting=True),
    # elementwise functions
    elementwise(P.Tanh, np.tanh, method("tanh"), numpy(np.tanh)),
    elementwise(P.Exp, np.exp, method("exp"), numpy(np.exp)),
    elementwise(P.Log, np.log, method("log"), numpy(np.log), arrays=POSITIVE),
    elementwise(P.Expm1, np.expm1, numpy(np.expm1)),
    elementwise(P.Log1p, np.log1p, numpy(np.log1p), arrays=ag_arrays(ag_shapes(), -0.5, 3.0)),
    elementwise(P.Sin, np.sin, numpy(np.sin)),
    elementwise(P.Cos, np.cos, numpy(np.cos)),
    elementwise(P.Tan, np.tan, numpy(np.tan), arrays=ag_arrays(ag_shapes(), -1.2, 1.2)),
    elementwise(P.Sinh, np.sinh, numpy(np.sinh)),
    elementwise(P.Cosh, np.cosh, numpy(np.cosh)),
    elementwise(P.Sigmoid, _sigmoid, method("sigmoid")),
    elementwise(P.Relu, lambda x: np.maximum(x, 0), method("relu"), arrays=OFF_KINK),
    elementwise(P.Abs, np.abs, written("abs(x)", abs), numpy(np.abs), arrays=OFF_KINK),
    # astype: to the other float dtype (float64 -> float32, float32 -> float64). The cast is the
    # identity in exact arithmetic; central differences of the rounded float32 values would
    # measure float32's rounding at step 1e-6 (~6%), so the identity is the numeric reference,
    # and the Hessian (whose gradient is computed in float32) is left to the other entries.
    Op("astype", one(ANY), lambda x: x.astype(_other_float(x.dtype)),
       (function(ag.astype, lambda x: ag.astype(x, _other_float(x.dtype)),
                 "ag.astype(x, other float)"),
        method("astype", lambda x: x.astype(_other_float(x.dtype)), "x.astype(other float)")),
       (P.Cast,), numeric=lambda x: x, second_order=False, keeps_dtype=False),
    # no gradient flows through these
    comparison(P.Greater, ">", operator.gt),
    comparison(P.GreaterEqual, ">=", operator.ge),
    comparison(P.Less, "<", operator.lt),
    comparison(P.LessEqual, "<=", operator.le),
    comparison(P.Equal, "==", operator.eq),
    comparison(P.NotEqual, "!=", operator.ne),
    Op("stop_gradient", one(ANY), np.array,
       (primitive(P.StopGradient), method("detach", tensor_only=True)), (P.StopGradient,),
       differentiable=False),
    Op("sign", one(lattice_arrays(ag_shapes(), step=0.5)), np.sign,
       (function(ag.sign), numpy(np.sign)), (P.Sign,), differentiable=False,
       elementwise_unary=True),
    # reductions; prod's entries 0.25 <= |x| <= 2 keep products of 64 of them in range, max and
    # min see distinct entries (1/64 apart), so that no maximum is tied (ties: their own tests)
    reduction(P.Sum),
    reduction(P.Mean),
    reduction(P.Prod, arrays=lambda shape: ag_arrays(shape, -2.0, 2.0, min_abs=0.25)),
    reduction(P.Max, arrays=lambda shape: lattice_arrays(shape, step=1 / 64, unique=True),
              numpy_functions=(np.amax,)),
    reduction(P.Min, arrays=lambda shape: lattice_arrays(shape, step=1 / 64, unique=True),
              numpy_functions=(np.amin,)),
    Op("cumsum", with_params(ag_cumsum_cases(), "axis"), np.cumsum,
       (function(ag.cumsum), method("cumsum"), numpy(np.cumsum)), (P.Cumsum,)),
    # linear algebra
    Op("matmul", pair(ag_matmul_pairs()), np.matmul,
       (written("a @ b", operator.matmul), function(ag.matmul), numpy(np.matmul)), (P.Matmul,),
       broadcasting=True),
    Op("dot", pair(ag_dot_pairs()), np.dot, (function(ag.dot), numpy(np.dot)), (P.Matmul,)),
    Op("einsum",
       ag_einsum_cases().map(lambda c: Case(tuple(c[1]), {"subscripts": c[0]})),
       _einsum(np.einsum), (function(ag.einsum, _einsum(ag.einsum)),
                            numpy(np.einsum, _einsum(np.einsum))), (P.Einsum,)),
    Op("tensordot", ag_tensordot_cases().map(lambda c: Case((c[0], c[1]), {"axes": c[2]})),
       np.tensordot, (function(ag.tensordot), numpy(np.tensordot)), (P.Einsum,),
       grad_fn="einsum"),
    Op("outer", pair(ag_outer_pairs()), np.outer, (function(ag.outer), numpy(np.outer)),
       (P.Reshape, P.Mul), grad_fn="mul"),
    Op("mse", pair(ag_broadcast_pairs()), lambda a, b: np.mean((a - b) ** 2),
       (function(ag.mse),), (P.Mse,), broadcasting=True),
    # shapes
    Op("reshape", with_params(ag_reshape_cases(), "shape"), np.reshape,
       (function(ag.reshape), method("reshape", lambda x, shape: x.reshape(shape),
                                     "x.reshape(shape)"),
        method("reshape", _reshape_varargs, "x.reshape(*shape)"), numpy(np.reshape)),
       (P.Reshape,)),
    Op("ravel", one(ANY), np.ravel,
       (function(ag.ravel), method("ravel"), method("flatten"), numpy(np.ravel)), (P.Reshape,),
       grad_fn="reshape"),
    Op("squeeze", with_params(ag_squeeze_cases(), "axis"), np.squeeze,
       (function(ag.squeeze), method("squeeze"), numpy(np.squeeze)), (P.Reshape,),
       grad_fn="reshape"),
    Op("expand_dims", with_params(ag_expand_dims_cases(), "axis"), np.expand_dims,
       (function(ag.expand_dims), numpy(np.expand_dims)), (P.Reshape,), grad_fn="reshape"),
    Op("transpose", with_params(ag_transpose_cases(), "axes"), np.transpose,
       (function(ag.transpose), method("transpose", lambda x, axes: x.transpose(axes),
                                       "x.transpose(axes)"),
        method("transpose", _transpose_varargs, "x.transpose(*axes)"), numpy(np.transpose)),
       (P.Transpose,)),
    Op("swapaxes", with_params(ag_swapaxes_cases(), "axis1", "axis2"), np.swapaxes,
       (function(ag.swapaxes), numpy(np.swapaxes)), (P.Transpose,), grad_fn="transpose"),
    Op("broadcast_to", with_params(ag_broadcast_to_cases(), "shape"), np.broadcast_to,
       (function(ag.broadcast_to), numpy(np.broadcast_to)), (P.BroadcastTo,)),
    Op("concatenate", ag_concatenate_cases().map(lambda c: Case(tuple(c[0]), {"axis": c[1]})),
       _listing(np.concatenate), (function(ag.concatenate, _listing(ag.concatenate)),
                                  numpy(np.concatenate, _listing(np.concatenate))),
       (P.Concatenate,)),
    Op("stack", ag_stack_cases().map(lambda c: Case(tuple(c[0]), {"axis": c[1]})),
       _listing(np.stack), (function(ag.stack, _listing(ag.stack)),
                            numpy(np.stack, _listing(np.stack))),
       (P.Reshape, P.Concatenate), grad_fn="concatenate"),
    Op("vstack", ag_vstack_cases().map(lambda xs: Case(tuple(xs), {})), _listing(np.vstack),
       (function(ag.vstack, _listing(ag.vstack)), numpy(np.vstack, _listing(np.vstack))),
       (P.Concatenate,), grad_fn="concatenate"),
    Op("hstack", ag_hstack_cases().map(lambda xs: Case(tuple(xs), {})), _listing(np.hstack),
       (function(ag.hstack, _listing(ag.hstack)), numpy(np.hstack, _listing(np.hstack))),
       (P.Concatenate,), grad_fn="concatenate"),
    Op("repeat", with_params(ag_repeat_cases(), "repeats", "axis"), np.repeat,
       (function(ag.repeat), numpy(np.repeat)), (P.Getitem,), grad_fn="getitem"),
    Op("getitem", with_params(ag_index_cases(), "index"), lambda x, index: x[index],
       (written("x[index]", lambda x, index: x[index]),
        function(F.getitem, label="functions.getitem")), (P.Getitem,)),
    Op("scatter_add", _scatter_cases(), _scatter_add,
       (primitive(P.ScatterAdd, _scatter_add_primitive),), (P.ScatterAdd,)),
    # written by the compiler's rewrites only
    Op("compiler_outer", st.tuples(VECTORS, VECTORS).map(lambda ab: Case(ab, {})),
       np.multiply.outer, (primitive(P.Outer),), (P.Outer,)),
    Op("index_add", _index_add_cases(), _index_add,
       (primitive(P.IndexAdd, _index_add_primitive),), (P.IndexAdd,)),
)

BY_NAME = {op.name: op for op in TABLE}
assert len(BY_NAME) == len(TABLE), "two entries with one name"

DIFFERENTIABLE = tuple(op for op in TABLE if op.differentiable)
NOT_DIFFERENTIABLE = tuple(op for op in TABLE if not op.differentiable)


def spelling_params(ops: tuple[Op, ...], kinds: tuple[str, ...] | None = None,
                    first_only: bool = False, skip_first: bool = False,
                    duals: bool = False) -> list:
    """pytest params (op, spelling) for the spellings of the given kinds (default: all);
    `first_only` / `skip_first`: each op's first such spelling / all but it; `duals`: only
    the spellings forward mode's Duals support."""
    params = []
    for op in ops:
        chosen = [s for s in op.spellings if (kinds is None or s.kind in kinds)
                  and not (duals and s.tensor_only)]
        for s in chosen[:1] if first_only else chosen[1:] if skip_first else chosen:
            params.append(pytest.param(op, s, id=f"{op.name}[{s.label}]"))
    return params
