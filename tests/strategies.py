"""Shared hypothesis strategies for the project's tests (one module for all test files)."""

from typing import NamedTuple

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

# ---------------------------------------------------------------------------------------------
# chainrule.model: the chapter's explicit-Jacobian tanh-basis ridge regression.
# Ranges are bounded so that finite-difference checks have a provable error budget
# (see tests/test_chainrule_explicit.py): |X| <= 5, |W| <= 3, |w| <= 3, |y| <= 10.
# ---------------------------------------------------------------------------------------------

MODEL_MAX_N, MODEL_MAX_D, MODEL_MAX_K = 64, 5, 6
MODEL_X_BOUND, MODEL_W_BOUND, MODEL_w_BOUND, MODEL_Y_BOUND = 5.0, 3.0, 3.0, 10.0


def bounded_floats(bound: float) -> st.SearchStrategy[float]:
    """Finite float64 values in [-bound, bound]."""
    return st.floats(-bound, bound, allow_nan=False, allow_infinity=False, width=64)


def float_arrays(shape: tuple[int, ...], bound: float) -> st.SearchStrategy[np.ndarray]:
    """float64 arrays of the given shape with entries in [-bound, bound]."""
    return hnp.arrays(np.float64, shape, elements=bounded_floats(bound))


def model_dims(
    max_N: int = MODEL_MAX_N, max_D: int = MODEL_MAX_D, max_K: int = MODEL_MAX_K
) -> st.SearchStrategy[tuple[int, int, int]]:
    """(N, D, K) with N in [1, max_N], D in [1, max_D], K in [1, max_K]."""
    return st.tuples(st.integers(1, max_N), st.integers(1, max_D), st.integers(1, max_K))


def ridge_strengths() -> st.SearchStrategy[float]:
    """Ridge penalty strengths in [0, 1]."""
    return st.floats(0.0, 1.0, allow_nan=False, allow_infinity=False)


class TanhModelCase(NamedTuple):
    """One problem for BasisFunctionRidgeRegressionGD: X (N, D), y (N,), W (D+1, K), w (K,)."""

    X: np.ndarray
    y: np.ndarray
    W: np.ndarray
    w: np.ndarray
    ridge: float
    ridge_basis: float


@st.composite
def tanh_model_cases(
    draw: st.DrawFn,
    max_N: int = MODEL_MAX_N,
    max_D: int = MODEL_MAX_D,
    max_K: int = MODEL_MAX_K,
    D: int | None = None,
) -> TanhModelCase:
    """A random tanh-basis ridge-regression problem in the bounded ranges above.

    Pass ``D`` to fix the input dimension (e.g. D=1 for 1-D vs 2-D X checks).
    """
    N, drawn_D, K = draw(model_dims(max_N, max_D, max_K))
    D = drawn_D if D is None else D
    return TanhModelCase(
        X=draw(float_arrays((N, D), MODEL_X_BOUND)),
        y=draw(float_arrays((N,), MODEL_Y_BOUND)),
        W=draw(float_arrays((D + 1, K), MODEL_W_BOUND)),
        w=draw(float_arrays((K,), MODEL_w_BOUND)),
        ridge=draw(ridge_strengths()),
        ridge_basis=draw(ridge_strengths()),
    )


# ---------------------------------------------------------------------------------------------
# autograd_lite: operands for the tape-vs-numpy / tape-vs-central-differences properties.
# Shapes have at most AG_MAX_DIMS axes of size 1..AG_MAX_SIDE (size-1 axes included, so that
# broadcasting is exercised); values are bounded so that tests/checks.py's error budget holds:
# |x| <= 3, log/sqrt/negative-power inputs in [0.5, 3], divisors with 0.5 <= |b| <= 3,
# relu inputs with |x| >= 1e-3 (no kink within eps of a sample).
# ---------------------------------------------------------------------------------------------

AG_MAX_DIMS, AG_MAX_SIDE, AG_BOUND = 3, 4, 3.0
AG_POSITIVE_LOW = 0.5  # lower end of log inputs, divisors and bases of fractional powers
AG_RELU_MARGIN = 1e-3  # relu inputs stay this far from the kink at 0


def ag_shapes(min_dims: int = 0, max_dims: int = AG_MAX_DIMS) -> st.SearchStrategy[tuple]:
    """Array shapes with min_dims..max_dims axes, each of size 1..AG_MAX_SIDE."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=1,
                            max_side=AG_MAX_SIDE)


def ag_arrays(shape, low: float = -AG_BOUND, high: float = AG_BOUND, min_abs: float = 0.0,
              dtype=np.float64) -> st.SearchStrategy[np.ndarray]:
    """Arrays of `shape` (a tuple or a strategy of tuples) with entries in [low, high].

    With `min_abs > 0` the entries have |x| in [min_abs, max(|low|, |high|)] and either sign
    allowed by [low, high]. Values are drawn as float64 and then cast to `dtype`.
    """
    if min_abs > 0:
        magnitude = st.floats(min_abs, max(abs(low), abs(high)))
        signs = [s for s in (-1.0, 1.0) if (low < 0 if s < 0 else high > 0)]
        elements = st.builds(lambda s, m: s * m, st.sampled_from(signs), magnitude)
    else:
        elements = st.floats(low, high, allow_nan=False, allow_infinity=False, width=64)
    return hnp.arrays(np.float64, shape, elements=elements).map(lambda a: a.astype(dtype))


@st.composite
def ag_broadcast_pairs(draw: st.DrawFn, b_min_abs: float = 0.0,
                       dtype=np.float64) -> tuple[np.ndarray, np.ndarray]:
    """(a, b) with mutually broadcastable shapes; |b| >= b_min_abs when that is positive."""
    shapes = draw(hnp.mutually_broadcastable_shapes(
        num_shapes=2, min_dims=0, max_dims=AG_MAX_DIMS, min_side=1, max_side=AG_MAX_SIDE))
    a_shape, b_shape = shapes.input_shapes
    return (draw(ag_arrays(a_shape, dtype=dtype)),
            draw(ag_arrays(b_shape, min_abs=b_min_abs, dtype=dtype)))


@st.composite
def ag_matmul_pairs(draw: st.DrawFn, dtype=np.float64) -> tuple[np.ndarray, np.ndarray]:
    """Operands of a @ b in all four 1-D/2-D combinations: (K,)@(K,), (K,)@(K,M),
    (N,K)@(K,), (N,K)@(K,M), with N, K, M in 1..AG_MAX_SIDE."""
    n, k, m = (draw(st.integers(1, AG_MAX_SIDE)) for _ in range(3))
    a_2d, b_2d = draw(st.booleans()), draw(st.booleans())
    a_shape = (n, k) if a_2d else (k,)
    b_shape = (k, m) if b_2d else (k,)
    return draw(ag_arrays(a_shape, dtype=dtype)), draw(ag_arrays(b_shape, dtype=dtype))


@st.composite
def ag_reduction_cases(draw: st.DrawFn) -> tuple[np.ndarray, object, bool]:
    """(x, axis, keepdims): axis None, one axis (maybe negative) or a tuple of distinct axes."""
    x = draw(ag_arrays(ag_shapes()))
    options = [st.none(), hnp.valid_tuple_axes(x.ndim)]
    if x.ndim:
        options.append(st.integers(-x.ndim, x.ndim - 1))
    return x, draw(st.one_of(*options)), draw(st.booleans())


@st.composite
def ag_reshape_cases(draw: st.DrawFn) -> tuple[np.ndarray, tuple[int, ...]]:
    """(x, new_shape) with the same number of entries; new_shape may contain one -1."""
    x = draw(ag_arrays(ag_shapes()))
    size, shape = x.size, x.shape
    candidates = [(size,), (-1,), (1, size), (size, 1), tuple(reversed(shape)), shape + (1,),
                  (1,) + shape]
    if size == 1:
        candidates.append(())
    if x.ndim >= 2:
        candidates.append((shape[0] * shape[1],) + shape[2:])
        candidates.append(shape[:1] + (-1,))
    return x, draw(st.sampled_from(candidates))


@st.composite
def ag_transpose_cases(draw: st.DrawFn) -> tuple[np.ndarray, tuple[int, ...] | None]:
    """(x, axes): None (reverse) or a permutation whose entries may be written negatively."""
    x = draw(ag_arrays(ag_shapes()))
    if draw(st.booleans()):
        return x, None
    perm = draw(st.permutations(range(x.ndim)))
    return x, tuple(a - x.ndim if draw(st.booleans()) else a for a in perm)


@st.composite
def ag_broadcast_to_cases(draw: st.DrawFn) -> tuple[np.ndarray, tuple[int, ...]]:
    """(x, target): x's shape is a suffix of target with some axes shrunk to 1."""
    target = draw(ag_shapes())
    k = draw(st.integers(0, len(target)))
    suffix = target[len(target) - k:]
    x_shape = tuple(1 if draw(st.booleans()) else n for n in suffix)
    return draw(ag_arrays(x_shape)), target


@st.composite
def ag_index_cases(draw: st.DrawFn) -> tuple[np.ndarray, object]:
    """(x, index): basic (ints, slices, Ellipsis, None), integer arrays on every axis, or an
    integer array (negative entries, repeats likely) on the first axis with slices after it."""
    x = draw(ag_arrays(ag_shapes(min_dims=1)))
    kind = draw(st.sampled_from(["basic", "integer_arrays", "first_axis_array"]))
    if kind == "basic":
        return x, draw(hnp.basic_indices(x.shape, allow_newaxis=True, allow_ellipsis=True))
    if kind == "integer_arrays":
        return x, draw(hnp.integer_array_indices(
            x.shape, result_shape=hnp.array_shapes(min_dims=1, max_dims=2, max_side=5)))
    n = x.shape[0]
    rows = draw(hnp.arrays(np.intp, st.integers(1, 6), elements=st.integers(-n, n - 1)))
    return x, (rows,) + tuple(slice(None) for _ in x.shape[1:])


@st.composite
def ag_power_cases(draw: st.DrawFn) -> tuple[np.ndarray, float]:
    """(x, p): integer p >= 0 with x in [-3, 3]; negative or fractional p with x in [0.5, 3]."""
    p = draw(st.one_of(st.sampled_from([0, 1, 2, 3, -1, -2, 0.5, -0.5, 1.5, 2.5]),
                       st.floats(-3.0, 3.0)))
    if float(p).is_integer() and p >= 0:
        return draw(ag_arrays(ag_shapes())), p
    return draw(ag_arrays(ag_shapes(), AG_POSITIVE_LOW, AG_BOUND)), p
