"""autograd_lite.compile: value_and_grad semantics, the signature cache, never a stale program.

The oracle is always the eager tape, `autograd_lite.value_and_grad` (itself checked against
central differences in tests/test_autograd_*.py), run on the same inputs; no expected number is
computed by the compiler.

Tolerance (float64): RTOL = 1e-12 relative, with an absolute floor RTOL * scale. The
generated program does the floating operations of the recorded tape, except that the passes
reassociate chains of scalar factors (c * (d * x) -> (c * d) * x), compute sum(x * x) as a dot
product, fold constants and lay tall products out column-major (the same BLAS dot products in
another order). Each of those changes a result by a few units in the last place of the values
it is computed from, i.e. by <= ~1e-15 relative to their magnitude; 1e-12 leaves a margin of
~4500 ulps. Where a result is a difference of larger terms (a sum that cancels), the error is
relative to the terms, not to the result: the floor is 1e-12 times a scale of the terms (the
largest 1-norm of any value the function computes, or of the gradient array compared). A bug
(a stale mask, a buffer overwritten too early, a dropped term) is off by O(1) instead.

float32: the same operations in float32 (unit roundoff 6e-8), reassociated over <= 64 terms of
magnitude <= ~10: F32_RTOL = 1e-5 with a floor of 1e-5 times the scale.
"""

from __future__ import annotations

import itertools
import math
import operator
import re
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd_lite as ag
from autograd_lite import Tensor, TraceError
from autograd_lite.compiler import PASSES as SHARED_PASSES
from autograd_lite.compiler.numpy_backend import NUMPY
from autograd_lite.compiler.trace import trace

PASSES = (*SHARED_PASSES, *NUMPY.passes)  # the numpy backend's pipeline

RTOL = 1e-12
F32_RTOL = 1e-5


# ---- comparison with the eager tape -------------------------------------------------------------
def as_tuple(grads: Any, argnums: int | Sequence[int]) -> tuple:
    return (grads,) if isinstance(argnums, int) else tuple(grads)


def assert_close(actual: Any, expected: Any, scale: float, rtol: float, what: str) -> None:
    """|actual - expected| <= rtol * |expected| + rtol * scale, same shape and dtype."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    assert actual.dtype == expected.dtype, f"{what}: dtype {actual.dtype} != {expected.dtype}"
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * scale, err_msg=what)


def assert_matches_eager(cf: ag.CompiledFunction, f: Callable[..., Any], args: Sequence[Any],
                         argnums: int | Sequence[int] = 0, scale: float = 1.0,
                         rtol: float = RTOL) -> tuple[float, tuple]:
    """cf(*args) == value_and_grad(f, argnums)(*args): value, each gradient's shape, dtype and
    entries (floor: rtol * (scale + the largest |entry| of that gradient))."""
    value, grads = cf(*args)
    expected_value, expected_grads = ag.value_and_grad(f, argnums)(*args)
    assert isinstance(value, float), f"value is {type(value).__name__}, not a float"
    assert_close(value, expected_value, scale, rtol, "value")
    grads, expected_grads = as_tuple(grads, argnums), as_tuple(expected_grads, argnums)
    assert len(grads) == len(expected_grads)
    for k, (g, e) in enumerate(zip(grads, expected_grads)):
        assert isinstance(g, np.ndarray), f"gradient {k} is {type(g).__name__}, not an ndarray"
        floor = scale + float(np.max(np.abs(e), initial=0.0))
        assert_close(g, e, floor, rtol, f"gradient {k}")
    return value, grads


# ---- random functions: DAGs of primitives over broadcastable shapes ---------------------------
# A function is a list of steps; each step applies one operation to earlier values (the inputs
# first) and appends its result. The output is the sum of the last values' sums. Operations keep
# values bounded: exp of sin, log of v*v + 0.5, division by 1.5 + tanh (>= 0.5 away from 0).
# Each input's shape is a pattern over the symbolic dims (rows, cols) = "a", "b" (or 1), so that
# the same function runs at a second pair of dims: that call has a new signature (a retrace).
# A step's operands are drawn among those for which it is valid at both pairs of dims (tried on
# shadow Tensors of both shapes).

BASIC_INDICES = (0, slice(1, None), (Ellipsis, slice(None, None, -1)), (None,), (Ellipsis, None),
                 (slice(None), 0))
CONSTANT_ROWS = np.array([0, 0, -1])  # repeats and a negative entry: the scatter adds twice
INDEX_VALUES = (-2, -1, 0, 1)  # an index argument's entries: valid wherever axis 0 has >= 2
EINSUMS = {"ij->ji": 1, "ij,ij->i": 2, "ij,jk->ik": 2, "i,i->": 2, "ij,j->i": 2}
SHAPE_PATTERNS = (("a", "b"), ("b",), (1, "b"), ("a", 1), ())


def _reduce(reduction: Callable[..., Any]) -> Callable[..., Any]:
    return lambda v, p, index: reduction(v[0], p[0], p[1])


STEP_OPS: dict[str, tuple[int, Any, Callable[..., Any]]] = {
    # name: (number of operands, strategy of the parameter, the operation)
    "tanh": (1, st.none(), lambda v, p, index: ag.tanh(v[0])),
    "sin": (1, st.none(), lambda v, p, index: ag.sin(v[0])),
    "relu": (1, st.none(), lambda v, p, index: ag.relu(v[0])),
    "abs": (1, st.none(), lambda v, p, index: ag.abs(v[0])),
    "sigmoid": (1, st.none(), lambda v, p, index: ag.sigmoid(v[0])),
    "exp_of_sin": (1, st.none(), lambda v, p, index: ag.exp(ag.sin(v[0]))),
    "log_of_positive": (1, st.none(), lambda v, p, index: ag.log(v[0] * v[0] + 0.5)),
    "square": (1, st.none(), lambda v, p, index: v[0] ** 2),
    "negate_twice": (1, st.none(), lambda v, p, index: operator.neg(operator.neg(v[0]))),
    "times_one_plus_zero": (1, st.none(), lambda v, p, index: v[0] * 1.0 + 0.0),
    "scalar_chain": (1, st.none(), lambda v, p, index: 0.5 * (-(v[0] * 3.0) / 4.0)),
    "add": (2, st.none(), lambda v, p, index: v[0] + v[1]),
    "sub": (2, st.none(), lambda v, p, index: v[0] - v[1]),
    "mul": (2, st.none(), lambda v, p, index: v[0] * v[1]),
    "div": (2, st.none(), lambda v, p, index: v[0] / (1.5 + ag.tanh(v[1]))),
    "maximum": (2, st.none(), lambda v, p, index: ag.maximum(v[0], v[1])),
    "where": (2, st.none(), lambda v, p, index: ag.where(v[0] > 0, v[0], v[1])),
    "sum": (1, st.tuples(st.sampled_from([None, 0, -1]), st.booleans()), _reduce(ag.sum)),
    "mean": (1, st.tuples(st.sampled_from([None, 0, -1]), st.booleans()), _reduce(ag.mean)),
    "max": (1, st.tuples(st.sampled_from([None, 0, -1]), st.booleans()), _reduce(ag.max)),
    "matmul": (2, st.none(), lambda v, p, index: v[0] @ v[1]),
    "gram": (1, st.none(), lambda v, p, index: v[0] @ ag.transpose(v[0])),
    "index_basic": (1, st.sampled_from(BASIC_INDICES), lambda v, p, index: v[0][p]),
    "index_constant_rows": (1, st.none(), lambda v, p, index: v[0][CONSTANT_ROWS]),
    "index_argument": (1, st.none(), lambda v, p, index: v[0][index]),
    "reshape": (1, st.none(), lambda v, p, index: ag.reshape(v[0], (-1,))),
    "transpose": (1, st.none(), lambda v, p, index: ag.transpose(v[0])),
    "concatenate": (2, st.sampled_from([0, -1]),
                    lambda v, p, index: ag.concatenate([v[0], v[1]], axis=p)),
    "einsum": (2, st.sampled_from(sorted(EINSUMS)),
               lambda v, p, index: ag.einsum(p, *v[:EINSUMS[p]])),
}


class Step(NamedTuple):
    op: str
    operands: tuple[int, ...]
    param: Any = None


class RandomFunction(NamedTuple):
    """A drawn function: input shape patterns, two pairs of dims, the steps, how many of the last
    values the output sums, the length of the integer index argument (0: none), a seed."""

    patterns: tuple[tuple, ...]
    dims: tuple[int, int]
    new_dims: tuple[int, int]
    steps: tuple[Step, ...]
    n_summed: int
    index_length: int
    seed: int

    def shapes(self, dims: tuple[int, int]) -> list[tuple[int, ...]]:
        size = {"a": dims[0], "b": dims[1], 1: 1}
        return [tuple(size[d] for d in p) for p in self.patterns]

    def function(self) -> Callable[..., Any]:
        n_inputs, steps, n_summed = len(self.patterns), self.steps, self.n_summed
        has_index = self.index_length > 0

        def random_function(*args: Any) -> Any:
            values = list(args[:n_inputs])
            index = args[n_inputs] if has_index else None
            for step in steps:
                values.append(run_step(step, values, index))
            return sum(ag.sum(v) for v in values[-n_summed:])

        return random_function

    def arguments(self, rng: np.random.Generator, dims: tuple[int, int]) -> list[Any]:
        """Fresh float64 inputs in [-1.5, 1.5] (|x| >= 0.05) and a fresh index argument."""
        args: list[Any] = []
        for shape in self.shapes(dims):
            magnitude = rng.uniform(0.05, 1.5, shape)
            args.append(np.asarray(magnitude * rng.choice([-1.0, 1.0], shape)))
        if self.index_length:
            args.append(rng.choice(INDEX_VALUES, self.index_length))
        return args

    @property
    def argnums(self) -> tuple[int, ...]:
        return tuple(range(len(self.patterns)))


def run_step(step: Step, values: list[Any], index: Any) -> Any:
    return STEP_OPS[step.op][2]([values[i] for i in step.operands], step.param, index)


def _shadows(fn: RandomFunction, dims: tuple[int, int]) -> tuple[list[Any], Any]:
    values = [Tensor(np.full(s, 0.5)) for s in fn.shapes(dims)]  # as f sees them: Tensors
    index = np.array([INDEX_VALUES[0], INDEX_VALUES[-1]] * max(1, fn.index_length // 2))
    return values, index[:fn.index_length] if fn.index_length else None


@st.composite
def random_functions(draw: st.DrawFn, max_steps: int = 6) -> RandomFunction:
    n_inputs = draw(st.integers(1, 3))
    patterns = (("a", "b"),) + tuple(
        draw(st.sampled_from(SHAPE_PATTERNS)) for _ in range(n_inputs - 1))
    dims = (draw(st.integers(2, 4)), draw(st.integers(2, 4)))
    new_dims = (dims[0] + draw(st.integers(1, 2)), dims[1] + draw(st.integers(1, 2)))
    index_length = draw(st.sampled_from([0, 2, 3]))
    fn = RandomFunction(patterns, dims, new_dims, (), 1, index_length,
                        draw(st.integers(0, 2**32 - 1)))
    shadows = [_shadows(fn, dims), _shadows(fn, new_dims)]
    steps: list[Step] = []
    names = sorted(STEP_OPS) if index_length else sorted(set(STEP_OPS) - {"index_argument"})
    for _ in range(draw(st.integers(1, max_steps))):
        name = draw(st.sampled_from(names))
        arity, param_strategy, _ = STEP_OPS[name]
        param = draw(param_strategy)
        n_values = len(shadows[0][0])
        # operands for which the step is valid at both pairs of dims, latest values first (so
        # that shrinking keeps chains); the results on the shadows come along
        valid = {}
        for operands in itertools.product(range(n_values - 1, -1, -1), repeat=arity):
            step = Step(name, operands, param)
            try:
                results = [run_step(step, v, index) for v, index in shadows]
            except (ag.ShapeError, IndexError, ValueError, TypeError):
                continue
            if all(r.size for r in results):  # an empty array would end in a mean of nothing
                valid[operands] = results
        if not valid:
            continue
        operands = draw(st.sampled_from(list(valid)))
        for (values, _), result in zip(shadows, valid[operands]):
            values.append(result)
        steps.append(Step(name, operands, param))
    n_summed = draw(st.integers(1, min(3, len(shadows[0][0]))))
    return fn._replace(steps=tuple(steps), n_summed=n_summed)


def magnitude_scale(fn: RandomFunction, args: Sequence[Any]) -> float:
    """The largest 1-norm of any value the function computes (on Tensors that record nothing)."""
    n_inputs = len(fn.patterns)
    values = [Tensor(a) for a in args[:n_inputs]]
    index = args[n_inputs] if fn.index_length else None
    for step in fn.steps:
        values.append(run_step(step, values, index))
    return max(float(np.sum(np.abs(v.data))) for v in values)


def check_random_function(fn: RandomFunction, require: Callable[[bool], Any] = assume) -> None:
    """Compiled == eager at the tracing inputs, at fresh inputs of the same signature (new
    values; every sign flipped, so relu and where masks flip and maxima move; a fresh index
    argument), with no retrace, then at new dims, with exactly one retrace."""
    f = fn.function()
    rng = np.random.default_rng(fn.seed)
    tracing_args = fn.arguments(rng, fn.dims)
    scale = max(magnitude_scale(fn, tracing_args), 1.0)
    require(math.isfinite(scale) and scale < 1e100)  # growth: squares of squares of ...
    cf = ag.compile(f, fn.argnums)
    assert_matches_eager(cf, f, tracing_args, fn.argnums, scale)
    assert cf.traces == 1
    flipped = [-a if a.dtype.kind == "f" else a for a in tracing_args]
    for args in (fn.arguments(rng, fn.dims), flipped, fn.arguments(rng, fn.dims)):
        assert_matches_eager(cf, f, args, fn.argnums, max(magnitude_scale(fn, args), 1.0))
        assert cf.traces == 1, "a call with the same signature traced again"
    new_args = fn.arguments(rng, fn.new_dims)
    assert_matches_eager(cf, f, new_args, fn.argnums, max(magnitude_scale(fn, new_args), 1.0))
    assert cf.traces == 2, "new shapes must trace a new program"


@settings(suppress_health_check=[HealthCheck.too_slow])  # examples, deadline: conftest's profile
@given(random_functions())
def test_random_functions_compiled_equal_eager_on_fresh_inputs_and_new_shapes(fn):
    check_random_function(fn)


# Functions the property found (kept as explicit cases: the property draws them only rarely).
REGRESSIONS = {
    # einsum('ij->ji') returns a view of its operand; the buffer plan took it for a fresh array
    # and wrote tanh's result into it, i.e. into the caller's input
    "einsum_transpose_view": RandomFunction(
        (("a", "b"),), (3, 4), (4, 5),
        (Step("einsum", (0, 0), "ij->ji"), Step("tanh", (1,)), Step("mul", (2, 2))), 1, 0, 7),
    # the gradient of a whole sum (a broadcast view of one number) plus the scatter of an
    # indexing: index_add wrote into the read-only broadcast view (or through its zero strides)
    "sum_plus_indexing": RandomFunction(
        (("a", "b"), ("b",)), (4, 3), (5, 4),
        (Step("sum", (1,), (None, False)), Step("index_basic", (1,), slice(1, None)),
         Step("mul", (2, 3))), 1, 0, 11),
    "sum_plus_index_argument": RandomFunction(
        (("a", "b"), ("b",)), (4, 3), (5, 4),
        (Step("sum", (1,), (None, False)), Step("index_argument", (1,)), Step("tanh", (3,)),
         Step("mul", (2, 4))), 1, 2, 13),
}


@pytest.mark.parametrize("name", sorted(REGRESSIONS))
def test_random_function_regressions(name):
    def require(condition: bool) -> None:
        assert condition

    check_random_function(REGRESSIONS[name], require)


# ---- value_and_grad semantics -------------------------------------------------------------------
RNG = np.random.default_rng(20240601)
W_34 = RNG.uniform(-1.0, 1.0, (3, 4))
X_53 = RNG.uniform(-1.0, 1.0, (5, 3))


def small_layer(W, X):
    return ag.sum(ag.tanh(X @ W) ** 2) + 0.1 * ag.sum(W * W)


@pytest.mark.parametrize("argnums", [0, 1, -1, (0,), (0, 1), (1, 0)])
def test_value_and_grad_semantics_for_every_form_of_argnums(argnums):
    cf = ag.compile(small_layer, argnums)
    value, grads = assert_matches_eager(cf, small_layer, [W_34, X_53], argnums)
    if isinstance(argnums, int):
        assert isinstance(cf(W_34, X_53)[1], np.ndarray)  # one gradient, not a tuple
    else:
        assert isinstance(cf(W_34, X_53)[1], tuple) and len(grads) == len(argnums)
    shapes = [(W_34, X_53)[i].shape for i in ((argnums,) if isinstance(argnums, int)
                                                else argnums)]
    assert [g.shape for g in grads] == shapes


def test_an_integer_array_argnum_is_differentiated_as_float64():
    cf = ag.compile(small_layer, (0,))
    _, (grad,) = assert_matches_eager(cf, small_layer, [np.arange(12).reshape(3, 4) - 6, X_53],
                                      (0,))
    assert grad.dtype == np.float64


def test_argnums_out_of_range_is_refused():
    with pytest.raises(IndexError, match="argnums 2"):
        ag.compile(small_layer, 2)(W_34, X_53)


def test_duplicate_argnums_give_the_gradient_at_every_position():
    """argnums=(0, 0) asks twice for the same gradient (as jax.grad allows)."""
    cf = ag.compile(small_layer, (0, 0))
    _, expected = ag.value_and_grad(small_layer, 0)(W_34, X_53)
    _, (first, second) = cf(W_34, X_53)
    assert_close(first, expected, 1.0, RTOL, "first gradient")
    assert_close(second, expected, 1.0, RTOL, "second gradient")


# ---- the signature cache ------------------------------------------------------------------------
def counting(f: Callable[..., Any]) -> tuple[Callable[..., Any], list]:
    calls: list = []

    def counted(*args: Any) -> Any:
        calls.append(1)
        return f(*args)

    return counted, calls


def scaled_tanh(x, s):
    return ag.sum(ag.tanh(x * s) ** 2)


def test_a_repeated_signature_runs_only_the_generated_function():
    f, calls = counting(scaled_tanh)
    cf = ag.compile(f)
    x = RNG.uniform(-1, 1, 6)
    for k in range(4):  # new values, the same shapes, dtypes and number
        assert_matches_eager(cf, scaled_tanh, [x * (k - 1.5), 2.0])
    assert cf.traces == 1 and len(calls) == 1, "f ran again for a signature already compiled"


@pytest.mark.parametrize("change", ["shape", "dtype", "number value", "number type"])
def test_a_new_signature_traces_again_and_the_old_one_stays_cached(change):
    f, calls = counting(scaled_tanh)
    cf = ag.compile(f)
    x = RNG.uniform(-1, 1, 6)
    new = {"shape": (RNG.uniform(-1, 1, (2, 3)), 2.0), "dtype": (x.astype(np.float32), 2.0),
           "number value": (x, 3.0), "number type": (x, 2)}[change]
    cf(x, 2.0)
    value, grad = cf(*new)
    expected_value, expected_grad = ag.value_and_grad(scaled_tanh)(*new)
    rtol = F32_RTOL if change == "dtype" else RTOL
    assert_close(value, expected_value, 1.0, rtol, "value")
    assert_close(grad, expected_grad, 1.0, rtol, "gradient")
    assert cf.traces == 2
    signature = {"shape": "arg0 float64 (2, 3), arg1 = 2.0",
                 "dtype": "arg0 float32 (6,), arg1 = 2.0",
                 "number value": "arg0 float64 (6,), arg1 = 3.0",
                 "number type": "arg0 float64 (6,), arg1 = 2"}[change]
    assert cf.stats["signature"] == signature and signature in cf.source  # the last one
    cf(x, 2.0)
    cf(*new)
    assert cf.traces == 2 and len(calls) == 2, "a cached signature was traced again"


def test_the_cache_is_bounded_and_retraces_an_evicted_signature():
    cf = ag.compile(scaled_tanh)
    for n in range(1, cf.cache_size + 2):  # one signature more than the cache holds
        cf(np.ones(n), 0.5)
    assert cf.traces == cf.cache_size + 1
    assert_matches_eager(cf, scaled_tanh, [np.full(1, 0.3), 0.5])  # the first one went
    assert cf.traces == cf.cache_size + 2


def test_negative_zero_is_a_different_number_argument():
    """-0.0 == 0.0 in Python, but it is another value (copysign, 1/x, atan2 tell them apart)."""
    def signed(x, s):
        return ag.sum(x * math.copysign(1.0, s))

    cf = ag.compile(signed)
    x = np.array([0.5, -1.0, 2.0])
    cf(x, 0.0)
    assert_matches_eager(cf, signed, [x, -0.0])


def test_a_nan_number_argument_is_one_signature():
    """nan != nan, yet a second call with nan must reuse the program traced for nan."""
    def shifted(x, s):
        return ag.sum(x + s)

    cf = ag.compile(shifted)
    x = np.array([0.5, -1.0])
    cf(x, float("nan"))
    value, _ = cf(x, float("nan"))
    assert cf.traces == 1, f"a second nan argument retraced ({cf.traces} traces)"
    assert math.isnan(value)


def test_a_numpy_scalar_argument_keeps_numpy_promotion():
    """float32 array * np.float64 scalar is float64 in numpy 2 (a Python float would keep it
    float32): the compiled value must be computed as eagerly, in float64."""
    def scaled(x, s):
        return ag.sum(x * s)

    x32 = np.array([0.1, 0.7, -1.3], dtype=np.float32)
    assert_matches_eager(ag.compile(scaled), scaled, [x32, np.float64(1.1)])


# ---- never a stale program ----------------------------------------------------------------------
def relu_weighted(x):
    return ag.sum(ag.relu(x) * x * 3.0)


def where_masked(x, y):
    return ag.sum(ag.where(x > y, x * y, -(x ** 2)))


def maximum_located(x):
    return ag.max(ag.tanh(x)) * ag.sum(ag.max(x * x, axis=0))


def data_chosen_rows(x, table):
    entries = ag.astype(x > 0, np.int64)  # an index computed from the data
    return ag.sum(table[entries] * x)


X_SIGNED = np.array([[0.8, -0.3, 1.2], [-1.1, 0.4, -0.6]])


@pytest.mark.parametrize("f, args, argnums", [
    (relu_weighted, [X_SIGNED], 0),
    (where_masked, [X_SIGNED, X_SIGNED[::-1] * 0.5], (0, 1)),
    (maximum_located, [X_SIGNED], 0),
    (data_chosen_rows, [X_SIGNED, np.array([10.0, -1.0])], (0, 1)),
], ids=["relu mask", "where mask", "max position", "index from data"])
def test_masks_comparisons_and_data_derived_indices_are_recomputed(f, args, argnums):
    cf = ag.compile(f, argnums)
    assert_matches_eager(cf, f, args, argnums)
    flipped = [-args[0], *args[1:]]  # every mask and every maximum moves
    shuffled = [args[0][::-1, ::-1].copy(), *args[1:]]
    for fresh in (flipped, shuffled):
        assert_matches_eager(cf, f, fresh, argnums)
    assert cf.traces == 1


def test_no_grad_and_detach_values_are_recomputed_and_get_no_gradient():
    def f(x):
        with ag.no_grad():
            norm = ag.sum(x * x)
        return ag.sum(x) * norm + ag.sum(x * ag.tanh(x).detach())

    cf = ag.compile(f)
    cf(np.array([0.1, 0.2, 0.3]))
    for x in (np.array([0.5, -1.0, 2.0]), np.array([-3.0, 0.25, 1.5])):
        value, grad = cf(x)
        # the hand-derived answer: norm and tanh(x) are constants of differentiation
        np.testing.assert_allclose(value, x.sum() * (x @ x) + x @ np.tanh(x), rtol=RTOL)
        np.testing.assert_allclose(grad, (x @ x) + np.tanh(x), rtol=RTOL)


@pytest.mark.parametrize("make", [lambda t: Tensor(t), lambda t: Tensor(t * 2.0)],
                         ids=["Tensor(x)", "Tensor(x * 2)"])
def test_a_tensor_built_from_a_traced_value_is_not_baked_in(make):
    """Tensor(t) copies t's data (like detach): while tracing, that copy is the tracing value,
    and a program that kept it would be stale. Recompute it, or refuse it with TraceError."""
    def f(x):
        return ag.sum(make(x) * x)

    cf = ag.compile(f)
    try:
        cf(np.array([1.0, 2.0, 3.0]))
    except TraceError as error:  # refusing is fine: never a stale number
        assert "compile(f)" in str(error)
        return
    assert_matches_eager(cf, f, [np.array([-4.0, 0.5, 7.0])])


def test_a_compiled_function_called_while_tracing_is_not_baked_in():
    """A compiled function takes a Tensor's data (its results are plain arrays): called on a
    traced value, that data is the tracing value. Recompute it, or refuse it with TraceError."""
    inner = ag.compile(lambda x: ag.sum(ag.tanh(x) ** 2))

    def outer(x):
        value, grad = inner(x)
        return ag.sum(x * grad) + value

    cf = ag.compile(outer)
    try:
        cf(np.array([0.5, -1.0, 2.0]))
    except TraceError as error:
        assert "compile(outer)" in str(error)
        return
    assert_matches_eager(cf, outer, [np.array([-2.0, 0.3, 1.0])])


@pytest.mark.parametrize("f", [
    lambda x: ag.max(ag.where(x > 0, x, -np.inf)) + ag.sum(x),  # masking before a maximum
    lambda x: ag.sum(ag.clip(x, -np.inf, 1.0) ** 2),
    lambda x: ag.sum(ag.minimum(x, math.inf) * x),
    lambda x: ag.sum(ag.where(x > 5.0, np.nan, x)),
], ids=["where -inf", "clip -inf", "minimum inf", "where nan"])
def test_non_finite_constants_are_written_as_numbers_numpy_reads(f):
    cf = ag.compile(f)
    for x in (np.array([0.5, -1.0, 2.0]), np.array([-0.5, 1.0, 3.0])):
        assert_matches_eager(cf, f, [x])


def test_a_non_finite_number_argument():
    def bounded(x, high):
        return ag.sum(ag.minimum(x, high) * x)

    assert_matches_eager(ag.compile(bounded), bounded, [np.array([0.5, -1.0, 2.0]), math.inf])


CONSTANT_CHECKED = {
    "chapter loss": lambda W, w, X, y: chapter_loss(W, w, X, y),
    "relu": relu_weighted,
    "where": lambda x: where_masked(x, x * 0.5),
    "max": maximum_located,
    "detach": lambda x: ag.sum(x * ag.sigmoid(x).detach()),
    "Tensor(x)": lambda x: ag.sum(Tensor(x) * x),
}


@pytest.mark.parametrize("name", sorted(CONSTANT_CHECKED))
def test_no_constant_of_a_program_depends_on_the_tracing_values(name):
    """Two traces of one signature at different values must give the same program, constants
    included: a constant that differs was computed from the tracing inputs."""
    from autograd_lite.compiler.codegen import generate

    f = CONSTANT_CHECKED[name]
    if name == "chapter loss":
        first = list(chapter_data(40, np.random.default_rng(1)))
        second = list(chapter_data(40, np.random.default_rng(2)))
    else:
        first, second = [X_SIGNED], [-2.0 * X_SIGNED[::-1]]
    programs = []
    for args in (first, second):
        program = trace(ag.value_and_grad(f, (0,)), args, name,
                        [f"a{i}" for i in range(len(args))])
        for _, run in PASSES:
            program = run(program)
        programs.append(generate(program, "g", "the signature", NUMPY))
    (source_1, namespace_1), (source_2, namespace_2) = programs
    assert source_1 == source_2
    constants = [k for k in namespace_1 if re.fullmatch(r"c\d+", k)]
    for k in constants:
        np.testing.assert_array_equal(namespace_1[k], namespace_2[k], err_msg=f"constant {k}")


def test_compiling_inside_no_grad_still_differentiates():
    """compile is a transformation: an enclosing no_grad() does not switch its gradients off."""
    x = np.array([0.5, -1.0, 2.0])
    with ag.no_grad():
        value, grad = ag.compile(lambda t: ag.sum(ag.tanh(t) ** 2))(x)
        assert not ag.is_grad_enabled(), "tracing must restore the enclosing no_grad()"
    np.testing.assert_allclose(value, np.sum(np.tanh(x) ** 2), rtol=RTOL)
    np.testing.assert_allclose(grad, 2 * np.tanh(x) * (1 - np.tanh(x) ** 2), rtol=RTOL)


def test_an_error_while_tracing_caches_nothing_and_leaves_no_trace_behind():
    cf = ag.compile(small_layer)
    with pytest.raises(ag.ShapeError):
        cf(W_34, X_53.T)  # (3, 5) @ (3, 4): not aligned
    assert cf.traces == 0 and cf.source is None and ag.is_grad_enabled()
    assert_matches_eager(cf, small_layer, [W_34, X_53])
    assert cf.traces == 1


def test_an_ndarray_subclass_argument_is_keyed_by_its_shape():
    """An ndarray subclass (np.memmap, np.matrix-like) at two shapes: two signatures, each
    program run only for its own shape."""
    class Sub(np.ndarray):
        pass

    def f(w, X):
        return ag.mean((X @ w) ** 2)

    cf = ag.compile(f)
    for rows in (4, 8):
        X = np.ones((rows, 3)).view(Sub)
        assert_matches_eager(cf, f, [np.ones(3), X])
    assert cf.traces == 2, f"{cf.traces} traces for two shapes of a subclass argument"


def test_a_number_subclass_argument_is_keyed_as_the_built_in_number():
    import enum

    class Width(enum.IntEnum):
        THREE = 3

    def f(x, k):
        return ag.sum(x * k)

    cf = ag.compile(f)
    assert_matches_eager(cf, f, [np.ones(2), Width.THREE])
    assert_matches_eager(cf, f, [[1.0] * 5, 1.0])  # a new signature, never the cached program
    assert cf.traces == 2


def test_tensors_made_inside_or_outside_the_function_are_constants_of_the_trace():
    """A leaf created inside f, and a closed-over value computed on the eager tape before the
    trace: both are constants; the program neither follows their graph nor needs it alive."""
    c = Tensor(np.arange(3.0) + 1, requires_grad=True)
    doubled = c * 2.0  # on the eager tape, outside any trace

    def inside(x):
        return ag.sum(x * Tensor(np.ones(3), requires_grad=True))

    def outside(x):
        return ag.sum(ag.tanh(x) * doubled)

    x = np.array([0.5, -1.0, 2.0])
    assert_matches_eager(ag.compile(inside), inside, [x])
    expected = (float(np.sum(np.tanh(x) * doubled.data)), (1 - np.tanh(x) ** 2) * doubled.data)
    for graph in ("alive", "freed"):
        if graph == "freed":
            ag.sum(doubled * 1.0).backward()  # an eager backward frees doubled's graph
        value, grad = ag.compile(outside)(x)
        assert_close(value, expected[0], 1.0, RTOL, f"value, doubled's graph {graph}")
        assert_close(grad, expected[1], 1.0, RTOL, f"gradient, doubled's graph {graph}")


def test_a_view_of_a_constant_is_never_a_buffer():
    """broadcast_to of a closed-over array is a read-only view: the buffer plan must not write
    an elementwise result into it."""
    c = Tensor(np.arange(3.0) + 1, requires_grad=True)

    def f(x):
        b = ag.broadcast_to(c, (1000, 3))  # first: the view exists before tanh's result is placed
        return ag.sum(ag.tanh(x) * b)

    x = np.random.default_rng(0).normal(size=(1000, 3))
    cf = ag.compile(f)
    assert_matches_eager(cf, f, [x])
    assert_matches_eager(cf, f, [x])  # and the constant is unchanged for the next call


def test_zero_and_negative_zero_factors_stay_two_values():
    """x*0.0 and x*-0.0 are not one common subexpression: at x > 0, 1/(x*0.0) is inf and
    1/(x*-0.0) is -inf, so the two tanh terms cancel (merged, they would add up)."""
    def f(y, x):
        return (ag.sum(y * ag.tanh(1.0 / (x * 0.0))) + ag.sum(y * ag.tanh(1.0 / (x * -0.0))))

    with np.errstate(divide="ignore", invalid="ignore"):  # the backward has 0 * inf in x's term
        assert_matches_eager(ag.compile(f), f, [np.ones(2), np.array([1.0, 2.0])])


# ---- Python control flow on traced values -------------------------------------------------------
def branch_on_sum(x):
    if ag.sum(x) > 0:
        return ag.sum(x)
    return -ag.sum(x)


def float_of_value(x):
    return float(ag.sum(x)) * ag.sum(x)


def item_of_value(x):
    return ag.sum(x * x) * ag.max(x).item()


def int_of_value(x):
    return ag.sum(x) * int(ag.sum(x))


def while_on_value(x):
    while ag.max(ag.abs(x)) > 1.0:
        x = x * 0.5
    return ag.sum(x)


def branch_on_no_grad_value(x):
    with ag.no_grad():
        big = ag.sum(x * x) > 1.0
    return ag.sum(x) * (2.0 if big else 1.0)


def branch_on_detached_value(x):
    return ag.sum(x) * float(ag.mean(x).detach())


def array_of_value(x):
    return ag.sum(x) * np.asarray(x).sum()


CONVERSIONS = [branch_on_sum, float_of_value, item_of_value, int_of_value, while_on_value,
               branch_on_no_grad_value, branch_on_detached_value, array_of_value]


@pytest.mark.parametrize("f", CONVERSIONS, ids=lambda f: f.__name__)
def test_python_control_flow_on_a_traced_value_raises_trace_error(f):
    cf = ag.compile(f)
    x = np.array([0.5, -1.0, 2.0])
    for _ in range(2):  # a failed trace caches nothing: the second call fails the same way
        with pytest.raises(TraceError) as info:
            cf(x)
        message = str(info.value)
        assert f.__name__ in message, "the error must name the function"
        assert "eager" in message and "non-array argument" in message
    assert cf.traces == 0
    # the tape is left as it was: eager mode works, recording is on
    assert ag.is_grad_enabled()
    value, grad = ag.value_and_grad(lambda t: ag.sum(t * t))(x)
    assert value == 5.25 and np.array_equal(grad, 2 * x)


def test_a_boolean_mask_computed_from_traced_values_raises_trace_error():
    def masked(x):
        return ag.sum(x[x > 0])

    with pytest.raises(TraceError, match="masked") as info:
        ag.compile(masked)(np.array([0.5, -1.0, 2.0]))
    assert "where" in str(info.value) and "eager" in str(info.value)


def test_control_flow_on_a_number_argument_is_fine_and_part_of_the_signature():
    def gated(x, s):
        return ag.sum(ag.tanh(x)) if s > 0 else ag.sum(x * x)

    cf = ag.compile(gated)
    x = np.array([0.5, -1.0, 2.0])
    for s in (1.0, -1.0, 1.0):
        assert_matches_eager(cf, gated, [x, s])
    assert cf.traces == 2


# ---- arguments and results ----------------------------------------------------------------------
def test_float32_arguments_stay_float32_and_the_signature_tells_dtypes_apart():
    cf = ag.compile(small_layer, (0, 1))
    W32, X32 = W_34.astype(np.float32), X_53.astype(np.float32)
    value, (gW, gX) = cf(W32, X32)
    assert gW.dtype == np.float32 and gX.dtype == np.float32
    expected_value, expected = ag.value_and_grad(small_layer, (0, 1))(W32, X32)
    assert_close(value, expected_value, 1.0, F32_RTOL, "value")
    for g, e in zip((gW, gX), expected):
        assert_close(g, e, 1.0 + float(np.max(np.abs(e))), F32_RTOL, "float32 gradient")
    _, (gW64, _) = cf(W_34, X_53)  # the same shapes in float64: another program
    assert gW64.dtype == np.float64 and cf.traces == 2
    assert_matches_eager(cf, small_layer, [W_34, X_53], (0, 1))


def gather_rows(x, rows):
    return ag.sum(ag.tanh(x[rows]) * x[rows[0]])


def test_integer_index_arguments_are_program_inputs():
    x = RNG.uniform(-1, 1, (5, 3))
    cf = ag.compile(gather_rows)
    cf(x, np.array([0, 1, 2, 3]))
    assert cf.source.startswith("def gather_rows_value_and_grad(x, rows):")
    assert "rows int64 (4,)" in cf.stats["signature"]
    for rows in (np.array([0, 0, 4, -1]), np.array([2, 3, 1, 1]), np.array([4, 4, 4, 4])):
        assert_matches_eager(cf, gather_rows, [x, rows])
    assert cf.traces == 1, "another index array of the same shape must not retrace"
    # repeated rows add up: d/dx sum(x[rows]) counts each row as often as it is picked
    cf_count = ag.compile(lambda x, rows: ag.sum(x[rows]))
    _, grad = cf_count(x, np.array([4, 4, 4, 1]))
    np.testing.assert_array_equal(grad[:, 0], [0.0, 1.0, 0.0, 0.0, 3.0])


def test_closure_constants_and_number_arguments():
    table = RNG.uniform(-1, 1, (3, 4))
    weight = Tensor(RNG.uniform(-1, 1, 4))

    def uses_closures(x, scale):
        return ag.sum(ag.tanh(x @ table) * weight) * scale

    cf = ag.compile(uses_closures)
    for x in (RNG.uniform(-1, 1, (2, 3)), RNG.uniform(-1, 1, (2, 3))):
        assert_matches_eager(cf, uses_closures, [x, 0.7])
    assert cf.traces == 1


def test_a_python_float_argnum_is_differentiated():
    def f(s, x):
        return ag.sum(ag.tanh(x * s))

    cf = ag.compile(f)
    x = np.array([0.5, -1.0, 2.0])
    for s in (0.7, -1.3):
        _, (grad,) = assert_matches_eager(cf, f, [s, x])
        assert grad.shape == ()


def test_tensor_arguments_are_accepted_and_left_alone():
    leaf = Tensor(W_34, requires_grad=True)
    cf = ag.compile(small_layer, (0, 1))
    value, (gW, gX) = cf(leaf, Tensor(X_53))
    expected_value, (eW, eX) = ag.value_and_grad(small_layer, (0, 1))(W_34, X_53)
    assert_close(value, expected_value, 1.0, RTOL, "value")
    assert_close(gW, eW, 1.0, RTOL, "gradient W")
    assert_close(gX, eX, 1.0, RTOL, "gradient X")
    assert leaf.grad is None  # compile returns gradients, it does not accumulate them


def elementwise_result(x):
    return ag.tanh(x)


@pytest.mark.parametrize("f, shape", [(elementwise_result, "(1, 3)"),
                                      (lambda x: ag.sum(x, axis=0), "(3,)"),
                                      (lambda x: ag.stack([ag.sum(x), ag.sum(x)]), "(2,)")])
def test_a_non_scalar_result_is_a_clear_error(f, shape):
    with pytest.raises(ag.ShapeError, match=r"one real number.*" + re.escape(shape)) as info:
        ag.compile(f)(np.array([[0.5, -1.0, 2.0]]))
    assert f.__name__.replace("<lambda>", "lambda") in str(info.value)


def identity_gradient(x, y):
    return ag.sum(x * y)  # d/dx = y, d/dy = x: the inputs themselves


def constant_gradient(x):
    return ag.sum(x) + 2.0 * ag.sum(x[1:])  # d/dx: a constant


def buffered_gradient(x):
    return ag.sum(ag.exp(ag.sin(x)) * ag.tanh(x))  # elementwise: written into dead buffers


RESULT_CASES = {
    "inputs as gradients": (identity_gradient, (0, 1), 2),
    "constant gradient": (constant_gradient, 0, 1),
    "buffered gradient": (buffered_gradient, 0, 1),
    "chapter loss": (lambda W, w, X, y: chapter_loss(W, w, X, y), (0, 1), 4),
    "einsum transpose": (lambda a: ag.sum(ag.tanh(ag.einsum("ij->ji", a)) * 2.0), 0, 1),
    "one gradient twice": (lambda x, y: ag.sum(ag.tanh(x + y)), (0, 1), 2),  # d/dx = d/dy
}


def result_case_args(name: str, rng: np.random.Generator) -> list[np.ndarray]:
    if name == "chapter loss":
        return list(chapter_data(30, rng))
    n_args = RESULT_CASES[name][2]
    shape = (3, 4) if name == "einsum transpose" else (6,)
    return [rng.uniform(-1, 1, shape) for _ in range(n_args)]


@pytest.mark.parametrize("name", sorted(RESULT_CASES))
def test_results_are_fresh_arrays_that_later_calls_never_touch(name):
    f, argnums, _ = RESULT_CASES[name]
    cf = ag.compile(f, argnums)
    rng = np.random.default_rng(3)
    first_args, second_args = result_case_args(name, rng), result_case_args(name, rng)
    _, first = cf(*first_args)
    first = as_tuple(first, argnums)
    assert all(not np.shares_memory(g, h) for g, h in itertools.combinations(first, 2))
    kept = [g.copy() for g in first]
    for g in first:
        assert g.flags.writeable and not any(np.shares_memory(g, a) for a in first_args)
        g[...] = 99.0  # the caller owns its results: editing one changes no later call
    _, second = cf(*second_args)
    second = as_tuple(second, argnums)
    assert all(not np.shares_memory(g, h) for g in first for h in second)
    assert all(np.all(g == 99.0) for g in first), "a later call wrote into an earlier result"
    _, again = cf(*first_args)
    for g, k in zip(as_tuple(again, argnums), kept):
        np.testing.assert_array_equal(g, k)
    assert_matches_eager(cf, f, second_args, argnums)


@pytest.mark.parametrize("name", sorted(RESULT_CASES))
def test_inputs_are_never_written_and_read_only_inputs_work(name):
    f, argnums, _ = RESULT_CASES[name]
    cf = ag.compile(f, argnums)
    rng = np.random.default_rng(4)
    for _ in range(2):  # the tracing call, then a call of the generated program
        args = result_case_args(name, rng)
        before = [a.tobytes() for a in args]
        read_only = [a.copy() for a in args]
        for a in read_only:
            a.flags.writeable = False
        cf(*args)
        assert [a.tobytes() for a in args] == before, "the program wrote into an input"
        assert_matches_eager(cf, f, read_only, argnums)
        assert not any(a.flags.writeable for a in read_only)


def test_strided_and_fortran_ordered_inputs_of_a_compiled_signature():
    """The signature is shapes and dtypes: the program must not assume the tracing layout."""
    cf = ag.compile(chapter_loss, (0, 1))
    W, w, X, y = chapter_data(40, np.random.default_rng(6))
    cf(W, w, X, y)
    wide = np.random.default_rng(7).uniform(0, 365, (80, 3))
    args = [np.asfortranarray(W), np.repeat(w, 2)[::2], wide[::2, 1:2], np.stack([y, y], 1)[:, 1]]
    assert not all(a.flags.c_contiguous for a in args)
    before = [a.tobytes() for a in args]
    assert_matches_eager(cf, chapter_loss, args, (0, 1))
    assert cf.traces == 1 and [a.tobytes() for a in args] == before


# ---- gradcheck accepts compiled functions -------------------------------------------------------
@pytest.mark.parametrize("f, args, argnums", [
    (small_layer, [W_34, X_53], (0, 1)),
    (lambda W, w, X, y: chapter_loss(W, w, X, y),
     [np.array([[0.1, 0.2, 0.3], [-1.0, -0.5, 0.4]]), np.array([0.3, -0.2, 0.5]),
      np.linspace(-2, 2, 12)[:, None], np.sin(np.linspace(-2, 2, 12))], (0, 1)),
    (relu_weighted, [X_SIGNED], 0),
    (where_masked, [X_SIGNED, X_SIGNED[::-1] * 0.5], 1),
], ids=["layer", "chapter loss", "relu", "where"])
def test_gradcheck_passes_on_compiled_functions(f, args, argnums):
    assert ag.gradcheck(ag.compile(f, argnums), *args)


def test_gradcheck_of_a_compiled_function_can_fail():
    cf = ag.compile(small_layer, 0)

    def wrong(*args: Any) -> tuple[float, np.ndarray]:
        value, grad = cf(*args)
        return value, grad * 1.01

    wrong.value_and_grad, wrong.argnums = True, 0
    with pytest.raises(ag.GradcheckError):
        ag.gradcheck(wrong, W_34, X_53)


# ---- the generated source and the statistics ----------------------------------------------------
LINE = re.compile(r"    (\S.*?)\s+# (.+)")  # one equation: its code, then its comment
NEW = re.compile(r"(v\d+) = .+")  # a new value
IN_PLACE = re.compile(r"(v\d+)(\[.+\])? [-+*/]= .+|np\.\w+\(.+, out=(v\d+)\)")  # into a dead one


def body_lines(source: str) -> list[re.Match]:
    lines = source.splitlines()
    return [m for m in map(LINE.fullmatch, lines) if m is not None]


def test_source_is_readable_one_named_line_per_equation():
    def loss(W, X):
        return small_layer(W, X)

    cf = ag.compile(loss, (0, 1))
    cf(W_34, X_53)
    lines = cf.source.splitlines()
    assert lines[0] == "def loss_value_and_grad(W, X):"
    assert "W float64 (3, 4)" in cf.source and "X float64 (5, 3)" in cf.source
    body = body_lines(cf.source)
    assert len(body) == cf.stats["equations"]["buffers"], "one line per remaining equation"
    assert len(lines) == len(body) + 4, "a def, two docstring lines, the equations, a return"
    defined = []
    for m in body:  # a new value takes the next number; in place, an array named before
        new, in_place = NEW.fullmatch(m.group(1)), IN_PLACE.fullmatch(m.group(1))
        assert new or in_place, m.group(1)
        if new:
            defined.append(new.group(1))
        else:
            assert (in_place.group(1) or in_place.group(3)) in defined, m.group(1)
    assert defined == [f"v{k}" for k in range(1, len(defined) + 1)]
    comments = [m.group(2) for m in body]
    assert any(c.startswith("tanh") for c in comments)
    assert any("(vjp of tanh v" in c for c in comments), "backward lines name their rule"
    assert lines[-1].startswith("    return ")


def test_stats_count_every_pass_and_report_bytes_and_times():
    cf = ag.compile(lambda x: ag.sum(ag.tanh(x)))
    cf(np.zeros(1000))
    stats = cf.stats
    assert list(stats["equations"]) == ["traced"] + [name for name, _ in PASSES]
    assert all(isinstance(n, int) and n >= 0 for n in stats["equations"].values())
    assert stats["trace_seconds"] > 0 and stats["compile_seconds"] > 0
    # by hand: tanh(x) allocates 1000 floats and the sum one; the backward pass's t * t and
    # 1 - t * t are written into tanh's array, dead by then (2 x 8000 bytes reused)
    assert stats["bytes_allocated"] == 8000 + 8
    assert stats["bytes_written_into_reused_buffers"] == 2 * 8000


# ---- the chapter's loss -------------------------------------------------------------------------
CHAPTER_W0 = np.array([[0.1, 0.2, 0.3], [-10.0, -50.0, -100.0]])


def chapter_loss(W, w, X, y, ridge=0.1, ridge_basis=0.1):
    """0.5 mean((y - tanh(X W[:-1] + W[-1]) w)^2) + ridge/2 |w|^2 + ridge_basis/2 |W|^2."""
    residual = y - ag.tanh(X @ W[:-1] + W[-1]) @ w
    return (0.5 * ag.mean(residual ** 2) + 0.5 * ridge * ag.sum(w ** 2)
            + 0.5 * ridge_basis * ag.sum(W ** 2))


def chapter_data(n: int, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """W0, a weight vector, day indices of a random permutation of 365 as a column, and a
    seasonal maximum temperature in degrees C (a warm summer, noise of 3 degrees)."""
    days = rng.permutation(365)[:n].astype(np.float64)
    y = 12.0 - 10.0 * np.cos(2 * np.pi * (days - 15.0) / 365) + rng.normal(0.0, 3.0, n)
    return CHAPTER_W0.copy(), rng.normal(0.0, 5.0, 3), days[:, None], y


def test_chapter_loss_compiled_equals_eager_along_a_descent():
    rng = np.random.default_rng(2)
    W, w, X, y = chapter_data(100, rng)
    w[:] = 0.0  # the chapter starts from w = 0
    cf = ag.compile(chapter_loss, (0, 1))
    for _ in range(5):  # a few gradient steps: other tanh saturations, the same signature
        _, (gW, gw) = assert_matches_eager(cf, chapter_loss, [W, w, X, y], (0, 1))
        W, w = W - 1e-3 * gW, w - 0.1 * gw
    _, _, X_test, y_test = chapter_data(100, np.random.default_rng(5))
    assert_matches_eager(cf, chapter_loss, [W, w, X_test, y_test], (0, 1))
    assert cf.traces == 1


def test_chapter_loss_program_has_no_jacobian_sized_array():
    n, d, k = 100, 1, 3  # n (d+1) k = 600 equals no other size: n, n d, n k, (d+1) k, k
    args = list(chapter_data(n, np.random.default_rng(2)))
    program = trace(ag.value_and_grad(chapter_loss, (0, 1)), args, "chapter_loss")
    for _, run in PASSES:
        program = run(program)
    for e in program.eqns:
        assert e.out.size != n * (d + 1) * k and len(e.out.shape) <= 2, (
            f"{e.op.name} makes an array of shape {e.out.shape}")
    cf = ag.compile(chapter_loss, (0, 1))
    cf(*args)
    assert len(body_lines(cf.source)) == len(program.eqns) == cf.stats["equations"]["buffers"]


# ---- indexing, as numpy reads an index ----------------------------------------------------------
def indexed(index: Any) -> Callable[..., Any]:
    def f(x):
        return ag.sum(ag.tanh(x[index]) ** 2 * 1.5) + 0.1 * ag.sum(x * x)

    return f


@pytest.mark.parametrize("index", [
    (slice(None, None, -1), 0), (Ellipsis, slice(1, None, 2)), (None, 1), (np.int64(1),),
    (slice(np.int64(0), np.int64(2)),), (-1, slice(-2, None)), (np.array([1, 1, -2]),),
    (slice(None), np.array([[0, 2], [2, 2]])), (True,), (False, 0),
], ids=repr)
def test_indices_are_written_as_numpy_reads_them(index):
    x = RNG.uniform(-1, 1, (3, 4))
    f = indexed(index)
    cf = ag.compile(f)
    for args in ([x], [-x[::-1].copy()]):
        assert_matches_eager(cf, f, args)


@given(st.data())
def test_random_basic_and_integer_array_indices(data):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    index = data.draw(st.one_of(
        hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True),
        hnp.integer_array_indices(shape, result_shape=hnp.array_shapes(max_dims=2,
                                                                         max_side=3))))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    f = indexed(index)
    cf = ag.compile(f)
    for _ in range(2):
        assert_matches_eager(cf, f, [rng.uniform(-1.5, 1.5, shape)])
    assert cf.traces == 1


# ---- names, higher order, the rest of the op set ------------------------------------------------
def test_parameter_named_like_an_operation_of_the_generated_code():
    def clipped(x, maximum):  # the generated code calls the Maximum primitive as `maximum`
        return ag.sum(ag.maximum(x, maximum) * ag.relu(x))

    def rectified(x, relu):
        return ag.sum(ag.relu(x) * relu)

    x = np.array([0.5, -1.0, 2.0])
    assert_matches_eager(ag.compile(clipped), clipped, [x, 0.7])
    assert_matches_eager(ag.compile(rectified), rectified, [x, 2.0])


def test_derivatives_inside_the_compiled_function():
    def inner(x):
        return ag.sum(ag.tanh(x) ** 3)

    def penalised(x):  # a gradient penalty: reverse over reverse
        return inner(x) + ag.sum(ag.grad(inner)(x) ** 2)

    def directional(x):  # forward over reverse
        return ag.jvp(inner, (x,), (ag.tanh(x),))[1]

    x = np.array([0.3, -0.5, 0.9])
    for f in (penalised, directional):
        cf = ag.compile(f)
        for args in ([x], [-2.0 * x]):
            assert_matches_eager(cf, f, args)


A_34 = RNG.uniform(0.5, 1.5, (3, 4)) * RNG.choice([-1.0, 1.0], (3, 4))

OP_SET = {
    "cumsum": lambda a: ag.sum(ag.tanh(ag.cumsum(a, 1)) * a) + ag.sum(ag.cumsum(a, 0) ** 3),
    "prod": lambda a: ag.sum(ag.prod(a, 1)) + ag.prod(a[0]),
    "min, minimum": lambda a: ag.sum(ag.min(a, 0) * ag.min(a)) + ag.sum(ag.minimum(a, 0.3)),
    "expm1, log1p": lambda a: ag.sum(ag.expm1(ag.sin(a)) + ag.log1p(a * a)),
    "cos, tan": lambda a: ag.sum(ag.cos(a) * a + ag.tan(ag.sin(a))),
    "sinh, cosh": lambda a: ag.sum(ag.sinh(a) * ag.cosh(a)),
    "clip, sqrt": lambda a: ag.sum(ag.clip(a, -0.8, 0.9) ** 2 + ag.sqrt(a * a + 1.0)),
    "powers": lambda a: ag.sum(ag.power(a * a + 1.0, 1.5) + a ** 3 + (a * a + 1.0) ** -0.5),
    "mse": lambda a: ag.mse(a, ag.tanh(a)),
    "tensordot, outer": lambda a: ag.sum(ag.tanh(ag.tensordot(a, a, axes=([1], [1]))))
    + ag.sum(ag.tanh(ag.outer(a[0], a[1]))),
    "stack, repeat": lambda a: ag.sum(ag.stack([a, a * 2.0], 1) ** 2)
    + ag.sum(ag.tanh(ag.repeat(a, 2, axis=1))),
    "squeeze, swapaxes": lambda a: ag.sum(ag.squeeze(ag.expand_dims(a, 0)) * a)
    + ag.sum(ag.swapaxes(a, 0, 1) @ a),
    "broadcast_to": lambda a: ag.sum(ag.tanh(ag.broadcast_to(a[0], (5, 4)))),
    "astype": lambda a: ag.sum(ag.astype(a, np.float32) * 2.0),
    "sign": lambda a: ag.sum(ag.sign(a) * a),
    "stacked matmul": lambda a: ag.sum(ag.tanh(ag.reshape(a, (3, 2, 2))
                                               @ ag.reshape(a, (3, 2, 2)))),
    "numpy dispatch": lambda a: np.sum(np.tanh(a) * np.exp(np.sin(a))),
}


@pytest.mark.parametrize("name", sorted(OP_SET))
def test_the_rest_of_the_op_set(name):
    f = OP_SET[name]
    cf = ag.compile(f)
    for a in (A_34, -A_34, A_34[::-1] * 0.5):
        assert_matches_eager(cf, f, [np.ascontiguousarray(a)], scale=10.0)
    assert cf.traces == 1
