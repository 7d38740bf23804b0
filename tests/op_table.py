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
    ag_append_cases,
    ag_arrays,
    ag_atleast_cases,
    ag_axis_cases,
    ag_broadcast_pairs,
    ag_broadcast_to_cases,
    ag_clip_cases,
    ag_column_stack_cases,
    ag_concatenate_cases,
    ag_cross_cases,
    ag_cumsum_cases,
    ag_diag_cases,
    ag_diagonal_cases,
    ag_diff_cases,
    ag_dot_pairs,
    ag_einsum_cases,
    ag_expand_dims_cases,
    ag_flip_cases,
    ag_hstack_cases,
    ag_index_cases,
    ag_inner_pairs,
    ag_linspace_cases,
    ag_matmul_pairs,
    ag_matrices,
    ag_moment_cases,
    ag_moveaxis_cases,
    ag_norm_cases,
    ag_outer_pairs,
    ag_pad_cases,
    ag_partition_cases,
    ag_power_cases,
    ag_power_pairs,
    ag_reduction_cases,
    ag_remainder_pairs,
    ag_repeat_cases,
    ag_reshape_cases,
    ag_roll_cases,
    ag_rollaxis_cases,
    ag_rot90_cases,
    ag_select_cases,
    ag_shapes,
    ag_sinc_arrays,
    ag_solve_cases,
    ag_sort_cases,
    ag_split_cases,
    ag_square_shapes,
    ag_squeeze_cases,
    ag_stack_cases,
    ag_swapaxes_cases,
    ag_take_along_axis_cases,
    ag_tensordot_cases,
    ag_tied_pairs,
    ag_tile_cases,
    ag_transpose_cases,
    ag_triangle_cases,
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


def numpy(f: Callable[..., Any], call: Callable[..., Any] | None = None,
          label: str | None = None) -> Spelling:
    return Spelling(label or F.numpy_name(f), call or f, "numpy", f)


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
    return lambda x, a_min, a_max: f(x, a_min, a_max)


def _clip_min_max(x: Any, a_min: Any, a_max: Any) -> Any:
    """numpy 2's keywords for the bounds."""
    return np.clip(x, min=a_min, max=a_max)


def _clip_grad_fn(params: dict) -> str:
    return "minimum" if params["a_max"] is not None else "maximum"


def unary(op: type[P.Primitive], reference: Callable[..., Any], *spellings: Spelling,
          arrays: st.SearchStrategy[np.ndarray] = ANY, **flags: Any) -> Op:
    """A unary elementwise ufunc: ag.<name>, np.<name> (plus the given spellings)."""
    return elementwise(op, reference, numpy(reference), *spellings, arrays=arrays, **flags)


def binary_function(op: type[P.Primitive], cases: st.SearchStrategy[tuple],
                    *spellings: Spelling, **flags: Any) -> Op:
    """A binary elementwise ufunc: ag.<name>(x1, x2), np.<name>, broadcasting."""
    return Op(op.name, pair(cases), op.ufunc, (function(getattr(ag, op.name)), numpy(op.ufunc),
                                               *spellings), (op,), broadcasting=True, **flags)


def piecewise_constant(op: type[P.Primitive], *spellings: Spelling) -> Op:
    """floor, isnan, ...: numpy's values, no gradient; lattice inputs hit the jumps (integers)."""
    return Op(op.name, one(lattice_arrays(ag_shapes(), step=0.25)), op.ufunc,
              (function(getattr(ag, op.name)), numpy(op.ufunc), *spellings), (op,),
              differentiable=False, elementwise_unary=True)


def cases_of(strategy: st.SearchStrategy[tuple], arrays: int, *names: str
             ) -> st.SearchStrategy[Case]:
    """(array_1, ..., array_k, p1, p2, ...) -> Case(the k arrays, {names[0]: p1, ...})."""
    return strategy.map(lambda c: Case(tuple(c[:arrays]), dict(zip(names, c[arrays:]))))


def _joined(f: Callable[..., Any]) -> Callable[..., Any]:
    """f returning a list of arrays (split): their entries, flattened and joined in order (so
    that one output carries every part's values, shapes and order)."""
    def joined(x: Any, **params: Any) -> Any:
        return ag.concatenate([ag.ravel(part) for part in f(x, **params)])
    return joined


def _split_reference(f: Callable[..., Any]) -> Callable[..., Any]:
    return lambda x, **params: np.concatenate([part.ravel() for part in f(x, **params)])


def _split(name: str, ag_f: Callable[..., Any], np_f: Callable[..., Any],
           cases: st.SearchStrategy[tuple], *names: str) -> Op:
    return Op(name, with_params(cases, *names), _split_reference(np_f),
              (function(ag_f, _joined(ag_f)), numpy(np_f, _joined(np_f))),
              (P.Getitem, P.Reshape, P.Concatenate), grad_fn="concatenate")


def _rot90_grad_fn(params: dict) -> str:
    return "transpose" if params["k"] % 4 == 1 else "getitem"


def _linspace_grad_fn(params: dict) -> str:
    if params["axis"] != 0:
        return "transpose"
    return "concatenate" if params["endpoint"] and params["num"] > 1 else "add"


def _norm_grad_fn(params: dict) -> str:
    order, matrix = params["ord"], isinstance(params["axis"], tuple)
    if params["keepdims"]:
        return "reshape"
    if order in (None, 2, "fro"):
        return "sqrt"
    if order == np.inf or (order == 1 and matrix):
        return "max"
    if order in (-np.inf, -1):
        return "min"
    return "sum" if order == 1 else "pow"


def _pad_grad_fn(params: dict) -> str:
    return "where" if np.any(np.asarray(params["constant_values"]) != 0) else "scatter_add"


def _select(f: Callable[..., Any]) -> Callable[..., Any]:
    """select(condlist, choicelist, default) with the choices as the array operands."""
    return lambda *choices, condlist, default: f(condlist, list(choices), default)


def _sublist_einsum(f: Callable[..., Any]) -> Callable[..., Any]:
    """einsum in numpy's sublist form: einsum(a, [0, 1], b, [1, 2], [0, 2])."""
    def call(*xs: Any, subscripts: str) -> Any:
        ins, _, out = subscripts.partition("->")
        letters = {c: k for k, c in enumerate(sorted(set(subscripts) - set(",->.")))}

        def sublist(s: str) -> list:
            return [Ellipsis if c == "." else letters[c] for c in s.replace("...", ".")]

        args = [v for x, s in zip(xs, ins.split(",")) for v in (x, sublist(s))]
        return f(*args, *([sublist(out)] if "->" in subscripts else []))
    return call


def _diff(f: Callable[..., Any]) -> Callable[..., Any]:
    """diff(x, n, axis, prepend=, append=) with the edges that are given as array operands."""
    return lambda x, *edges, n, axis, edges_: f(x, n, axis, **dict(zip(edges_, edges)))


def _first(f: Callable[..., Any]) -> Callable[..., Any]:
    """f's result is a tuple; its first entry."""
    return lambda *xs, **params: f(*xs, **params)[0]


SQUARE_MATRICES = ag_matrices(ag_square_shapes())


def distinct_entries(shape: Any) -> st.SearchStrategy[np.ndarray]:
    return lattice_arrays(shape, step=1 / 64, unique=True)
UNIT_INTERVAL = ag_arrays(ag_shapes(), -0.9, 0.9)  # arcsin, arccos, arctanh: |x| <= 0.9


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
    # two arrays: d/dy = x^y log x too
    Op("power_arrays", pair(ag_power_pairs()), np.power,
       (written("x ** y", operator.pow), function(ag.power), numpy(np.power)), (P.Power,),
       broadcasting=True),
    Op("remainder", pair(ag_remainder_pairs()), np.remainder,
       (written("a % b", operator.mod), function(ag.remainder), numpy(np.remainder)),
       (P.Remainder,), broadcasting=True),
    Op("maximum", pair(ag_untied_pairs()), np.maximum,
       (function(ag.maximum), numpy(np.maximum)), (P.Maximum,), broadcasting=True),
    Op("minimum", pair(ag_untied_pairs()), np.minimum,
       (function(ag.minimum), numpy(np.minimum)), (P.Minimum,), broadcasting=True),
    binary_function(P.Fmax, ag_untied_pairs()),
    binary_function(P.Fmin, ag_untied_pairs()),
    # |a| >= 0.5: away from the origin, where both are singular, and from arctan2's jump at
    # a = 0, b < 0
    binary_function(P.Arctan2, ag_broadcast_pairs(b_min_abs=AG_POSITIVE_LOW).map(
        lambda ab: ab[::-1])),
    binary_function(P.Hypot, ag_broadcast_pairs(b_min_abs=AG_POSITIVE_LOW)),
    binary_function(P.Logaddexp, ag_broadcast_pairs()),
    binary_function(P.Logaddexp2, ag_broadcast_pairs()),
    Op("clip", with_params(ag_clip_cases(), "a_min", "a_max"), _clip(np.clip),
       (function(ag.clip), numpy(np.clip), numpy(np.clip, _clip_min_max, "np.clip(min=, max=)"),
        method("clip", lambda x, a_min, a_max: x.clip(a_min, a_max), "x.clip(min, max)")),
       (P.Maximum, P.Minimum), grad_fn=_clip_grad_fn),
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
    unary(P.Fabs, np.fabs, arrays=OFF_KINK),
    unary(P.Reciprocal, np.reciprocal,
          arrays=ag_arrays(ag_shapes(), min_abs=AG_POSITIVE_LOW)),
    unary(P.Log2, np.log2, arrays=POSITIVE),
    unary(P.Log10, np.log10, arrays=POSITIVE),
    unary(P.Exp2, np.exp2),
    unary(P.Arcsin, np.arcsin, arrays=UNIT_INTERVAL),
    unary(P.Arccos, np.arccos, arrays=UNIT_INTERVAL),
    unary(P.Arctan, np.arctan),
    unary(P.Arcsinh, np.arcsinh),
    unary(P.Arccosh, np.arccosh, arrays=ag_arrays(ag_shapes(), 1.25, AG_BOUND)),
    unary(P.Arctanh, np.arctanh, arrays=UNIT_INTERVAL),
    unary(P.Deg2rad, np.deg2rad, numpy(np.radians)),
    unary(P.Rad2deg, np.rad2deg, numpy(np.degrees)),
    unary(P.Sinc, np.sinc, arrays=ag_sinc_arrays()),
    Op("nan_to_num", one(ANY), np.nan_to_num,
       (function(ag.nan_to_num), numpy(np.nan_to_num)),
       (P.Isfinite, P.Isnan, P.Greater, P.Where), grad_fn="where", elementwise_unary=True),
    Op("copy", one(ANY), np.copy, (function(ag.copy), method("copy"), numpy(np.copy)),
       (P.Copy,)),
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
    piecewise_constant(P.Floor),
    piecewise_constant(P.Ceil),
    piecewise_constant(P.Trunc),
    piecewise_constant(P.Rint),
    piecewise_constant(P.Isnan),
    piecewise_constant(P.Isinf),
    piecewise_constant(P.Isfinite),
    Op("round",
       st.tuples(lattice_arrays(ag_shapes(), step=1 / 64), st.integers(-1, 2)).map(
           lambda c: Case((c[0],), {"decimals": c[1]})),
       np.round, (function(ag.round), method("round"), numpy(np.round)), (P.Round,),
       differentiable=False),
    # integer positions: no gradient; keepdims or a whole-array result, so that x times the
    # result broadcasts (the tests multiply them)
    *(Op(op.name, with_params(ag_axis_cases(arrays=lambda shape: lattice_arrays(shape),
                                            tuples=False).filter(
        lambda c: c[2] or c[1] is None), "axis", "keepdims"),
        getattr(np, op.name), (function(getattr(ag, op.name)), method(op.name),
                               numpy(getattr(np, op.name))), (op,), differentiable=False)
      for op in (P.Argmax, P.Argmin)),
    Op("argsort", with_params(ag_sort_cases().filter(lambda c: c[1] is not None), "axis"),
       np.argsort, (function(ag.argsort), method("argsort"), numpy(np.argsort)),
       (P.Argsort,), differentiable=False),
    Op("argpartition", with_params(ag_partition_cases(), "kth", "axis"), np.argpartition,
       (function(ag.argpartition), numpy(np.argpartition)), (P.Argpartition,),
       differentiable=False),
    *(Op(name, with_params(ag_axis_cases(arrays=lambda shape: lattice_arrays(shape, step=1.0)
                                         ).filter(lambda c: c[2] or c[1] is None),
                           "axis", "keepdims"),
         getattr(np, name), (function(getattr(ag, name)), method(name), numpy(getattr(np, name))),
         (comparison_op, P.Sum, last), differentiable=False)
      for name, comparison_op, last in (("any", P.NotEqual, P.Greater),
                                        ("all", P.Equal, P.Equal))),
    Op("slogdet_sign", one(ag_matrices(ag_square_shapes(max_batch_dims=0))),
       _first(np.linalg.slogdet),
       (function(ag.linalg.slogdet, _first(ag.linalg.slogdet), "ag.linalg.slogdet(a).sign"),),
       (P.SignDet,), differentiable=False),
    # reductions; prod's entries 0.25 <= |x| <= 2 keep products of 64 of them in range, max and
    # min see distinct entries (1/64 apart), so that no maximum is tied (ties: their own tests)
    reduction(P.Sum),
    reduction(P.Mean),
    reduction(P.Prod, arrays=lambda shape: ag_arrays(shape, -2.0, 2.0, min_abs=0.25)),
    reduction(P.Max, arrays=lambda shape: lattice_arrays(shape, step=1 / 64, unique=True),
              numpy_functions=(np.amax,)),
    reduction(P.Min, arrays=lambda shape: lattice_arrays(shape, step=1 / 64, unique=True),
              numpy_functions=(np.amin,)),
    # distinct entries (1/64 apart): where all are equal, the deviations from the mean are
    # rounding noise (exactly 0 in exact arithmetic), and so is every derivative of the variance;
    # std sees at least two, so that it is never 0, where its gradient is infinite
    Op("var", with_params(ag_moment_cases(arrays=distinct_entries), "axis", "ddof", "keepdims"),
       np.var, (function(ag.var), method("var"), numpy(np.var)),
       (P.Mean, P.Sub, P.Mul, P.Sum, P.Div), grad_fn="div"),
    Op("std", with_params(ag_moment_cases(2, arrays=distinct_entries), "axis", "ddof", "keepdims"),
       np.std,
       (function(ag.std), method("std"), numpy(np.std)),
       (P.Mean, P.Sub, P.Mul, P.Sum, P.Div, P.Sqrt), grad_fn="sqrt"),
    Op("cumsum", with_params(ag_cumsum_cases(), "axis"), np.cumsum,
       (function(ag.cumsum), method("cumsum"), numpy(np.cumsum)), (P.Cumsum,)),
    # linear algebra
    Op("matmul", pair(ag_matmul_pairs()), np.matmul,
       (written("a @ b", operator.matmul), function(ag.matmul), numpy(np.matmul)), (P.Matmul,),
       broadcasting=True),
    Op("dot", pair(ag_dot_pairs()), np.dot,
       (function(ag.dot), method("dot", lambda a, b: a.dot(b), "a.dot(b)"), numpy(np.dot)),
       (P.Matmul,)),
    Op("einsum",
       ag_einsum_cases().map(lambda c: Case(tuple(c[1]), {"subscripts": c[0]})),
       _einsum(np.einsum), (function(ag.einsum, _einsum(ag.einsum)),
                            numpy(np.einsum, _einsum(np.einsum)),
                            numpy(np.einsum, _sublist_einsum(np.einsum), "np.einsum(a, [0, 1])")),
       (P.Einsum, P.Transpose, P.Getitem, P.BroadcastTo), grad_fn="einsum"),
    Op("tensordot", ag_tensordot_cases().map(lambda c: Case((c[0], c[1]), {"axes": c[2]})),
       np.tensordot, (function(ag.tensordot), numpy(np.tensordot)), (P.Einsum,),
       grad_fn="einsum"),
    Op("outer", pair(ag_outer_pairs()), np.outer, (function(ag.outer), numpy(np.outer)),
       (P.Reshape, P.Mul), grad_fn="mul"),
    Op("inner", pair(ag_inner_pairs()), np.inner, (function(ag.inner), numpy(np.inner)),
       (P.Einsum,)),
    Op("kron", pair(ag_outer_pairs()), np.kron, (function(ag.kron), numpy(np.kron)),
       (P.Reshape, P.Mul), grad_fn="reshape"),
    Op("cross", cases_of(ag_cross_cases(), 2, "axis"), np.cross,
       (function(ag.cross), numpy(np.cross)),
       (P.Transpose, P.Getitem, P.Mul, P.Sub, P.Neg, P.Reshape, P.Concatenate),
       grad_fn="transpose"),
    Op("diagonal", with_params(ag_diagonal_cases(), "offset", "axis1", "axis2"), np.diagonal,
       (function(ag.diagonal), method("diagonal"), numpy(np.diagonal)),
       (P.Transpose, P.Getitem), grad_fn="getitem"),
    Op("trace", with_params(ag_diagonal_cases(), "offset", "axis1", "axis2"), np.trace,
       (function(ag.trace), method("trace"), numpy(np.trace)),
       (P.Transpose, P.Getitem, P.Sum), grad_fn="sum"),
    Op("diag", with_params(ag_diag_cases().filter(lambda c: c[0].ndim == 1), "k"), np.diag,
       (function(ag.diag), numpy(np.diag)), (P.ScatterAdd,)),
    Op("diag_of_matrix", with_params(ag_diag_cases().filter(lambda c: c[0].ndim == 2), "k"),
       np.diag, (function(ag.diag), numpy(np.diag)), (P.Getitem,)),
    Op("triu", with_params(ag_triangle_cases(), "k"), np.triu,
       (function(ag.triu), numpy(np.triu)), (P.Where,)),
    Op("tril", with_params(ag_triangle_cases(), "k"), np.tril,
       (function(ag.tril), numpy(np.tril)), (P.Where,)),
    Op("linalg.inv", one(SQUARE_MATRICES), np.linalg.inv,
       (function(ag.linalg.inv, label="ag.linalg.inv"), numpy(np.linalg.inv)), (P.Inv,),
       grad_fn="inv"),
    Op("linalg.det", one(SQUARE_MATRICES), np.linalg.det,
       (function(ag.linalg.det, label="ag.linalg.det"), numpy(np.linalg.det)), (P.Det,),
       grad_fn="det"),
    Op("linalg.slogdet", one(SQUARE_MATRICES), lambda a: np.linalg.slogdet(a)[1],
       (function(ag.linalg.slogdet, lambda a: ag.linalg.slogdet(a).logabsdet,
                 "ag.linalg.slogdet(a).logabsdet"),
        numpy(np.linalg.slogdet, lambda a: np.linalg.slogdet(a)[1])), (P.LogAbsDet,),
       grad_fn="log_abs_det"),
    Op("linalg.solve", pair(ag_solve_cases()), np.linalg.solve,
       (function(ag.linalg.solve, label="ag.linalg.solve"), numpy(np.linalg.solve)),
       (P.Solve,), grad_fn="solve"),
    Op("linalg.norm", with_params(ag_norm_cases(), "ord", "axis", "keepdims"), np.linalg.norm,
       (function(ag.linalg.norm, label="ag.linalg.norm"), numpy(np.linalg.norm)),
       (P.Mul, P.Sum, P.Sqrt, P.Abs, P.Max, P.Min, P.Pow, P.Reshape), grad_fn=_norm_grad_fn),
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
       (function(ag.swapaxes), method("swapaxes"), numpy(np.swapaxes)), (P.Transpose,),
       grad_fn="transpose"),
    Op("moveaxis", with_params(ag_moveaxis_cases(), "source", "destination"), np.moveaxis,
       (function(ag.moveaxis), numpy(np.moveaxis)), (P.Transpose,)),
    Op("rollaxis", with_params(ag_rollaxis_cases(), "axis", "start"), np.rollaxis,
       (function(ag.rollaxis), numpy(np.rollaxis)), (P.Transpose,)),
    Op("flip", with_params(ag_flip_cases(), "axis"), np.flip,
       (function(ag.flip), numpy(np.flip)), (P.Getitem,)),
    Op("flipud", one(ag_arrays(ag_shapes(min_dims=1))), np.flipud,
       (function(ag.flipud), numpy(np.flipud)), (P.Getitem,)),
    Op("fliplr", one(ag_arrays(ag_shapes(min_dims=2))), np.fliplr,
       (function(ag.fliplr), numpy(np.fliplr)), (P.Getitem,)),
    Op("rot90", with_params(ag_rot90_cases(), "k", "axes"), np.rot90,
       (function(ag.rot90), numpy(np.rot90)), (P.Getitem, P.Transpose),
       grad_fn=_rot90_grad_fn),
    Op("roll", with_params(ag_roll_cases(), "shift", "axis"), np.roll,
       (function(ag.roll), numpy(np.roll)), (P.Getitem, P.Reshape),
       grad_fn=lambda params: "reshape" if params["axis"] is None else "getitem"),
    *(Op(f.__name__, one(ag_atleast_cases(k).map(lambda xs: xs[0])), getattr(np, f.__name__),
         (function(f), numpy(getattr(np, f.__name__))), (P.Reshape,))
      for k, f in ((1, ag.atleast_1d), (2, ag.atleast_2d), (3, ag.atleast_3d))),
    Op("tile", with_params(ag_tile_cases(), "reps"), np.tile,
       (function(ag.tile), numpy(np.tile)), (P.Reshape, P.BroadcastTo), grad_fn="reshape"),
    Op("pad", with_params(ag_pad_cases(), "pad_width", "constant_values"), np.pad,
       (function(ag.pad), numpy(np.pad)), (P.ScatterAdd, P.Where), grad_fn=_pad_grad_fn),
    Op("diff", ag_diff_cases().map(lambda c: Case((c[0], *c[3].values()), {
        "n": c[1], "axis": c[2], "edges_": tuple(c[3])})), _diff(np.diff),
       (function(ag.diff, _diff(ag.diff)), numpy(np.diff, _diff(np.diff))),
       (P.Sub, P.Getitem, P.Concatenate, P.BroadcastTo), grad_fn="sub"),
    Op("sort", with_params(ag_sort_cases(), "axis"), np.sort,
       (function(ag.sort), numpy(np.sort)), (P.Argsort, P.Getitem, P.Reshape),
       grad_fn="getitem"),
    Op("partition", with_params(ag_partition_cases(), "kth", "axis"), np.partition,
       (function(ag.partition), numpy(np.partition)), (P.Argpartition, P.Getitem),
       grad_fn="getitem"),
    Op("take_along_axis",
       ag_take_along_axis_cases().map(lambda c: Case((c[0],), {"indices": c[1],
                                                               "axis": c[2]})),
       np.take_along_axis, (function(ag.take_along_axis), numpy(np.take_along_axis)),
       (P.Getitem,)),
    Op("select",
       ag_select_cases().map(lambda c: Case(tuple(c[0]), {"condlist": c[1], "default": c[2]})),
       _select(np.select), (function(ag.select, _select(ag.select)),
                            numpy(np.select, _select(np.select))), (P.Where,)),
    Op("linspace", cases_of(ag_linspace_cases(), 2, "num", "endpoint", "axis"), np.linspace,
       (function(ag.linspace), numpy(np.linspace)),
       (P.Sub, P.Div, P.Mul, P.Add, P.Getitem, P.BroadcastTo, P.Concatenate, P.Transpose),
       grad_fn=_linspace_grad_fn),
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
       (P.Concatenate, P.Reshape), grad_fn="concatenate"),
    Op("hstack", ag_hstack_cases().map(lambda xs: Case(tuple(xs), {})), _listing(np.hstack),
       (function(ag.hstack, _listing(ag.hstack)), numpy(np.hstack, _listing(np.hstack))),
       (P.Concatenate, P.Reshape), grad_fn="concatenate"),
    Op("column_stack", ag_column_stack_cases().map(lambda xs: Case(tuple(xs), {})),
       _listing(np.column_stack), (function(ag.column_stack, _listing(ag.column_stack)),
                                   numpy(np.column_stack, _listing(np.column_stack))),
       (P.Reshape, P.Concatenate), grad_fn="concatenate"),
    Op("append", cases_of(ag_append_cases(), 2, "axis"), np.append,
       (function(ag.append), numpy(np.append)), (P.Reshape, P.Concatenate),
       grad_fn="concatenate"),
    _split("split", ag.split, np.split, ag_split_cases(even=True), "indices_or_sections",
           "axis"),
    _split("array_split", ag.array_split, np.array_split, ag_split_cases(),
           "indices_or_sections", "axis"),
    _split("hsplit", ag.hsplit, np.hsplit, ag_split_cases(
        even=True, axis_of=lambda ndim: 1 if ndim > 1 else 0).map(lambda c: c[:2]),
           "indices_or_sections"),
    _split("vsplit", ag.vsplit, np.vsplit, ag_split_cases(
        even=True, min_dims=2, axis_of=lambda ndim: 0).map(lambda c: c[:2]),
           "indices_or_sections"),
    Op("repeat", with_params(ag_repeat_cases(), "repeats", "axis"), np.repeat,
       (function(ag.repeat), method("repeat"), numpy(np.repeat)), (P.Getitem,),
       grad_fn="getitem"),
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
