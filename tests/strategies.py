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
# autograd_lite: operands for tests/op_table.py and the other autograd_lite tests.
# Shapes have at most AG_MAX_DIMS axes of size 1..AG_MAX_SIDE (size-1 axes included, so that
# broadcasting is exercised). Values are bounded so that tests/checks.py's error budget holds:
# |x| <= 3; inputs of log, of negative or fractional powers and divisors have |x| >= 0.5;
# inputs near a kink (relu, abs, maximum, clip, max) stay at least AG_KINK_MARGIN = 1e-3 from it,
# far beyond the finite-difference step 1e-6, so no central difference straddles a kink.
# "Lattice" arrays hold multiples of a power-of-two step (exact in float32 too): two lattices
# offset by half a step never tie, one lattice ties often (comparisons, equal maxima).
# ---------------------------------------------------------------------------------------------

AG_MAX_DIMS, AG_MAX_SIDE, AG_BOUND = 3, 4, 3.0
AG_POSITIVE_LOW = 0.5  # lower end of log inputs, divisors and bases of fractional powers
AG_KINK_MARGIN = 1e-3  # relu, abs inputs stay this far from the kink at 0
AG_LATTICE_STEP = 1 / 8


def ag_shapes(min_dims: int = 0, max_dims: int = AG_MAX_DIMS,
              max_side: int = AG_MAX_SIDE) -> st.SearchStrategy[tuple]:
    """Array shapes with min_dims..max_dims axes, each of size 1..max_side."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=max_side)


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


def lattice_arrays(shape, offset: float = 0.0, step: float = AG_LATTICE_STEP,
                   unique: bool = False) -> st.SearchStrategy[np.ndarray]:
    """float64 arrays of `shape` with entries offset + k * step, |k * step| <= AG_BOUND.

    With `unique`, all entries differ (by at least `step`): a maximum is then never tied.
    """
    n = int(AG_BOUND / step)
    return hnp.arrays(np.float64, shape, unique=unique,
                      elements=st.integers(-n, n).map(lambda k: offset + k * step))


def ag_broadcast_shapes(num_shapes: int, max_dims: int = AG_MAX_DIMS) -> st.SearchStrategy:
    """`num_shapes` mutually broadcastable shapes (a tuple of tuples)."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes, min_dims=0, max_dims=max_dims, min_side=1,
        max_side=AG_MAX_SIDE).map(lambda r: r.input_shapes)


@st.composite
def ag_broadcast_pairs(draw: st.DrawFn, b_min_abs: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """(a, b) with mutually broadcastable shapes; |b| >= b_min_abs when that is positive."""
    a_shape, b_shape = draw(ag_broadcast_shapes(2))
    return draw(ag_arrays(a_shape)), draw(ag_arrays(b_shape, min_abs=b_min_abs))


@st.composite
def ag_untied_pairs(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    """(a, b), mutually broadcastable, with |a - b| >= AG_LATTICE_STEP / 2 everywhere."""
    a_shape, b_shape = draw(ag_broadcast_shapes(2))
    return (draw(lattice_arrays(a_shape)),
            draw(lattice_arrays(b_shape, offset=AG_LATTICE_STEP / 2)))


@st.composite
def ag_tied_pairs(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    """(a, b), mutually broadcastable, on one coarse lattice: equal entries are common."""
    a_shape, b_shape = draw(ag_broadcast_shapes(2))
    return (draw(lattice_arrays(a_shape, step=0.5)), draw(lattice_arrays(b_shape, step=0.5)))


@st.composite
def ag_where_cases(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(condition, a, b): a boolean condition and two arrays, all mutually broadcastable."""
    c_shape, a_shape, b_shape = draw(ag_broadcast_shapes(3))
    return (draw(hnp.arrays(np.bool_, c_shape)), draw(ag_arrays(a_shape)),
            draw(ag_arrays(b_shape)))


@st.composite
def ag_clip_cases(draw: st.DrawFn) -> tuple[np.ndarray, float | None, float | None]:
    """(x, low, high), low <= high, one of them possibly None; x half a lattice step off both."""
    x = draw(lattice_arrays(ag_shapes(), offset=AG_LATTICE_STEP / 2))
    low, high = sorted(draw(st.lists(st.integers(-16, 16), min_size=2, max_size=2)))
    low, high = low * AG_LATTICE_STEP, high * AG_LATTICE_STEP
    which = draw(st.sampled_from(["both", "low", "high"]))
    return x, (None if which == "high" else low), (None if which == "low" else high)


@st.composite
def ag_matmul_pairs(draw: st.DrawFn, batched: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Operands of a @ b: 1-D or 2-D, and with `batched`, stacks of matrices whose batch
    dimensions broadcast against each other: (K,)@(K,), (..., N, K)@(K,), (K,)@(..., K, M),
    (..., N, K)@(..., K, M), with N, K, M in 1..AG_MAX_SIDE and at most two batch axes."""
    n, k, m = (draw(st.integers(1, AG_MAX_SIDE)) for _ in range(3))
    ranks = st.sampled_from([1, 2, 3, 4] if batched else [1, 2])
    batch_a, batch_b = draw(ag_broadcast_shapes(2, max_dims=2))
    a_shape = _matmul_operand(draw(ranks), batch_a, (n, k), k)
    b_shape = _matmul_operand(draw(ranks), batch_b, (k, m), k)
    return draw(ag_arrays(a_shape)), draw(ag_arrays(b_shape))


def _matmul_operand(rank: int, batch: tuple[int, ...], matrix: tuple[int, int],
                    vector: int) -> tuple[int, ...]:
    """A vector (rank 1), a matrix (rank 2) or a stack of matrices (up to rank - 2 batch axes,
    the last ones of `batch`: suffixes of broadcastable shapes still broadcast)."""
    if rank == 1:
        return (vector,)
    return tuple(batch[max(0, len(batch) - (rank - 2)):]) + matrix


@st.composite
def ag_dot_pairs(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    """Operands of np.dot in its 1-D/2-D combinations (what autograd_lite's dot supports)."""
    return draw(ag_matmul_pairs(batched=False))


@st.composite
def ag_axis_cases(draw: st.DrawFn, arrays=ag_arrays, min_dims: int = 0,
                  tuples: bool = True) -> tuple[np.ndarray, object, bool]:
    """(x, axis, keepdims): axis None, one axis (maybe negative) or, with `tuples`, a tuple of
    distinct axes. `arrays(shape)` draws x."""
    x = draw(arrays(ag_shapes(min_dims=min_dims)))
    options = [st.none()]
    if tuples:
        options.append(hnp.valid_tuple_axes(x.ndim))
    if x.ndim:
        options.append(st.integers(-x.ndim, x.ndim - 1))
    return x, draw(st.one_of(*options)), draw(st.booleans())


def ag_reduction_cases(arrays=ag_arrays) -> st.SearchStrategy[tuple[np.ndarray, object, bool]]:
    """(x, axis, keepdims) for sum, mean, prod, max, min."""
    return ag_axis_cases(arrays=arrays)


@st.composite
def ag_cumsum_cases(draw: st.DrawFn) -> tuple[np.ndarray, int | None]:
    """(x, axis): None (the flattened array) or one axis, maybe negative."""
    x, axis, _ = draw(ag_axis_cases(tuples=False))
    return x, axis


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
def ag_swapaxes_cases(draw: st.DrawFn) -> tuple[np.ndarray, int, int]:
    """(x, axis1, axis2), x at least 1-D, the axes maybe negative or equal."""
    x = draw(ag_arrays(ag_shapes(min_dims=1)))
    axis = st.integers(-x.ndim, x.ndim - 1)
    return x, draw(axis), draw(axis)


@st.composite
def ag_squeeze_cases(draw: st.DrawFn) -> tuple[np.ndarray, object]:
    """(x, axis): x with some size-1 axes; axis None, one size-1 axis or a tuple of them."""
    shape = draw(ag_shapes(max_side=2))
    x = draw(ag_arrays(shape))
    ones = [i for i, n in enumerate(shape) if n == 1]
    options = [st.none()]
    if ones:
        options.append(st.sampled_from(ones).map(lambda i: i - len(shape) if i % 2 else i))
        options.append(st.lists(st.sampled_from(ones), unique=True).map(tuple))
    return x, draw(st.one_of(*options))


@st.composite
def ag_expand_dims_cases(draw: st.DrawFn) -> tuple[np.ndarray, object]:
    """(x, axis): one axis in -(ndim + 1) .. ndim, or a tuple of 1 to 2 distinct positions in
    the result (maybe negative)."""
    x = draw(ag_arrays(ag_shapes()))
    if draw(st.booleans()):
        return x, draw(st.integers(-x.ndim - 1, x.ndim))
    count = draw(st.integers(1, 2))
    n = x.ndim + count
    axes = draw(st.lists(st.integers(0, n - 1), min_size=count, max_size=count, unique=True))
    return x, tuple(a - n if draw(st.booleans()) else a for a in axes)


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
    """(x, index): basic (ints, slices, Ellipsis, None), integer arrays on every axis, an
    integer array (negative entries, repeats likely) on the first axis with slices after it,
    or a boolean mask of x's shape or of its first axis."""
    x = draw(ag_arrays(ag_shapes(min_dims=1)))
    kind = draw(st.sampled_from(["basic", "integer_arrays", "first_axis_array", "mask"]))
    if kind == "basic":
        return x, draw(hnp.basic_indices(x.shape, allow_newaxis=True, allow_ellipsis=True))
    if kind == "integer_arrays":
        return x, draw(hnp.integer_array_indices(
            x.shape, result_shape=hnp.array_shapes(min_dims=1, max_dims=2, max_side=5)))
    if kind == "mask":
        mask_shape = draw(st.sampled_from([x.shape, x.shape[:1]]))
        return x, draw(hnp.arrays(np.bool_, mask_shape))
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


@st.composite
def ag_concatenate_cases(draw: st.DrawFn) -> tuple[list[np.ndarray], int | None]:
    """(xs, axis): 1 to 3 arrays (at least 1-D) that agree outside `axis` (maybe negative), or
    axis None and arrays of any shapes (numpy joins their entries)."""
    if draw(st.integers(0, 3)) == 0:
        return [draw(ag_arrays(ag_shapes())) for _ in range(draw(st.integers(1, 3)))], None
    shape = draw(ag_shapes(min_dims=1))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    xs = []
    for _ in range(draw(st.integers(1, 3))):
        own = list(shape)
        own[axis] = draw(st.integers(1, AG_MAX_SIDE))
        xs.append(draw(ag_arrays(tuple(own))))
    return xs, axis


@st.composite
def ag_stack_cases(draw: st.DrawFn) -> tuple[list[np.ndarray], int]:
    """(xs, axis): 1 to 3 arrays of one shape, axis in -(ndim + 1) .. ndim."""
    shape = draw(ag_shapes())
    xs = [draw(ag_arrays(shape)) for _ in range(draw(st.integers(1, 3)))]
    return xs, draw(st.integers(-len(shape) - 1, len(shape)))


@st.composite
def ag_vstack_cases(draw: st.DrawFn) -> list[np.ndarray]:
    """1 to 3 arrays for vstack: rows (1-D) and matrices (2-D) with one number of columns, or
    0-d values (rows of one column) among (1,) and (k, 1) arrays."""
    columns = draw(st.integers(1, AG_MAX_SIDE))
    shapes = [(columns,), (1, columns), (2, columns), (3, columns)] + (
        [()] if columns == 1 else [])
    return [draw(ag_arrays(draw(st.sampled_from(shapes))))
            for _ in range(draw(st.integers(1, 3)))]


@st.composite
def ag_hstack_cases(draw: st.DrawFn) -> list[np.ndarray]:
    """1 to 3 arrays for hstack: all 0-d or 1-D (any lengths), or all 2-D/3-D agreeing but on
    axis 1."""
    count = draw(st.integers(1, 3))
    if draw(st.booleans()):
        return [draw(ag_arrays(draw(st.sampled_from([(), (1,), (2,), (3,)]))))
                for _ in range(count)]
    shape = list(draw(ag_shapes(min_dims=2)))
    xs = []
    for _ in range(count):
        shape[1] = draw(st.integers(1, AG_MAX_SIDE))
        xs.append(draw(ag_arrays(tuple(shape))))
    return xs


EINSUM_SUBSCRIPTS = (
    "ij,jk->ik", "nk,ndk->dk", "i,i->", "i,j->ij", "ij->ji", "ij->", "ij->j", "ijk,k->ij",
    "ij,ij->i", "ij,jk", "bij,bjk->bik", "ij,jk,kl->il", "i->i",
    # a repeated index within an operand (a diagonal), '...', a size-1 index broadcasting
    "ii->i", "ii", "iij->j", "iji->ij", "ii,i->", "...ij,...jk->...ik", "i...->...", "...i,...i",
    "bij,bjk->bik:broadcast",
)


@st.composite
def ag_einsum_cases(draw: st.DrawFn) -> tuple[str, list[np.ndarray]]:
    """(subscripts, operands): explicit and implicit outputs, contractions over one or several
    indices, an index only one operand has (summed), three operands, diagonals, '...' (0 to 2
    axes, broadcasting against each other), an index of size 1 in one operand and n in the
    other ("...:broadcast"); each index of size 1..4."""
    subscripts, _, broadcast = draw(st.sampled_from(EINSUM_SUBSCRIPTS)).partition(":")
    inputs = subscripts.split("->")[0].split(",")
    size = {c: draw(st.integers(1, AG_MAX_SIDE)) for c in sorted(set("".join(inputs)) - {"."})}
    batch = draw(ag_broadcast_shapes(len(inputs), max_dims=2))
    shapes = []
    for k, s in enumerate(inputs):
        shape = tuple(size[c] for c in s.replace("...", ""))
        if "..." in s:
            at = s.index("...")
            shape = shape[:at] + batch[k] + shape[at:]
        if broadcast and k == 0:
            shape = (1,) + shape[1:]
        shapes.append(shape)
    return subscripts, [draw(ag_arrays(shape)) for shape in shapes]


@st.composite
def ag_tensordot_cases(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, object]:
    """(a, b, axes): axes an int (the last of a against the first of b) or two lists of axes
    (any positions, maybe negative), contracting 0 to 2 axes."""
    side = st.integers(1, AG_MAX_SIDE)
    contracted = [draw(side) for _ in range(draw(st.integers(0, 2)))]
    a_free = [draw(side) for _ in range(draw(st.integers(0, 2)))]
    b_free = [draw(side) for _ in range(draw(st.integers(0, 2)))]
    if draw(st.booleans()):
        a = draw(ag_arrays(tuple(a_free + contracted)))
        b = draw(ag_arrays(tuple(contracted + b_free)))
        return a, b, len(contracted)
    na, nb = len(a_free) + len(contracted), len(b_free) + len(contracted)
    a_pos = draw(st.permutations(range(na)))[:len(contracted)]
    b_pos = draw(st.permutations(range(nb)))[:len(contracted)]
    a_shape, b_shape = [None] * na, [None] * nb
    for i, j, n in zip(a_pos, b_pos, contracted):
        a_shape[i], b_shape[j] = n, n
    free_a, free_b = iter(a_free), iter(b_free)
    a_shape = [next(free_a) if n is None else n for n in a_shape]
    b_shape = [next(free_b) if n is None else n for n in b_shape]
    a_axes = [i - na if draw(st.booleans()) else i for i in a_pos]
    return (draw(ag_arrays(tuple(a_shape))), draw(ag_arrays(tuple(b_shape))),
            (a_axes, list(b_pos)))


@st.composite
def ag_outer_pairs(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    """(a, b) of any shapes up to 2-D (np.outer flattens both)."""
    return (draw(ag_arrays(ag_shapes(max_dims=2))), draw(ag_arrays(ag_shapes(max_dims=2))))


@st.composite
def ag_repeat_cases(draw: st.DrawFn) -> tuple[np.ndarray, object, int | None]:
    """(x, repeats, axis): repeats one count (0..3) or one count per entry along the axis
    (the flattened array when axis is None)."""
    x = draw(ag_arrays(ag_shapes()))
    axis = draw(st.none() | (st.integers(-x.ndim, x.ndim - 1) if x.ndim else st.none()))
    n = x.size if axis is None else x.shape[axis]
    counts = st.integers(0, 3)
    repeats = draw(counts | hnp.arrays(np.intp, (n,), elements=counts))
    return x, repeats, axis


@st.composite
def ag_incompatible_shape_pairs(draw: st.DrawFn) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Two shapes that cannot broadcast: some aligned axis has sizes n != m, both > 1."""
    shape = list(draw(ag_shapes(min_dims=1)))
    other = list(shape[draw(st.integers(0, len(shape) - 1)):])
    axis = draw(st.integers(0, len(other) - 1))
    n = draw(st.integers(2, AG_MAX_SIDE))
    m = draw(st.integers(2, AG_MAX_SIDE).filter(lambda v: v != n))
    shape[len(shape) - len(other) + axis], other[axis] = n, m
    return tuple(shape), tuple(other)


@st.composite
def ag_tall_products(draw: st.DrawFn, dtype: type = np.float64) -> tuple[np.ndarray, np.ndarray]:
    """(a, b): a (N, D) @ b (D, K) with N > K (kernels.py's tall-product case), N up to 40."""
    k = draw(st.integers(1, 6))
    n = draw(st.integers(k + 1, 40))
    d = draw(st.integers(1, 8))
    return draw(ag_arrays((n, d), dtype=dtype)), draw(ag_arrays((d, k), dtype=dtype))


def ag_point_direction_weights() -> st.SearchStrategy[tuple[np.ndarray, ...]]:
    """(x, v, u) for functions R^n -> R^(3 x n), n in 1..6: a point, a tangent (|v| <= 1) and
    output weights."""
    return st.integers(1, 6).flatmap(lambda n: st.tuples(
        ag_arrays((n,)), ag_arrays((n,), -1.0, 1.0), ag_arrays((3, n))))


# ---- the numpy that ML courses use (issue 20): operands for the entries added for it ---------
@st.composite
def ag_remainder_pairs(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    """(a, b) for a mod b: |b| in [0.5, 3], b's shape broadcasting to a's, and a / b at least
    0.1 away from an integer (where the remainder jumps): a = (k + f) b, f in [0.1, 0.9]."""
    a_shape = draw(ag_shapes())
    k = draw(st.integers(0, len(a_shape)))
    b_shape = tuple(1 if draw(st.booleans()) else n for n in a_shape[len(a_shape) - k:])
    b = draw(ag_arrays(b_shape, min_abs=AG_POSITIVE_LOW))
    k = draw(hnp.arrays(np.float64, a_shape, elements=st.integers(-2, 2).map(float)))
    f = draw(ag_arrays(a_shape, 0.1, 0.9))
    return (k + f) * np.broadcast_to(b, a_shape), b


@st.composite
def ag_power_pairs(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    """(x, y), broadcastable: x in [0.5, 3], y in [-2, 2] (x^y in [0.11, 9], smooth in both)."""
    x_shape, y_shape = draw(ag_broadcast_shapes(2))
    y_shape = y_shape or (1,)  # a 0-d constant exponent is pow's (x ** p), not this
    return draw(ag_arrays(x_shape, AG_POSITIVE_LOW, AG_BOUND)), draw(ag_arrays(y_shape, -2.0, 2.0))


@st.composite
def ag_moment_cases(draw: st.DrawFn, min_count: int = 1,
                    arrays=ag_arrays) -> tuple[np.ndarray, object, int, bool]:
    """(x, axis, ddof, keepdims) for var and std: at least `min_count` entries reduced, ddof 0 or
    1 below their number. (Use distinct entries: where they are all equal the deviations from
    the mean are rounding noise, and so is the derivative, exactly 0 in exact arithmetic.)"""
    x, axis, keepdims = draw(ag_axis_cases(arrays=arrays).filter(
        lambda c: _reduced_count(c[0].shape, c[1]) >= min_count))
    n = _reduced_count(x.shape, axis)
    return x, axis, draw(st.integers(0, min(1, n - 1))), keepdims


#: sinc's extrema in [-3, 3], where tan(pi x) = pi x and sinc' = (cos(pi x) - sinc x) / x is 0
#: computed as a difference of two numbers of about 0.1: float32 gets it only to ~1e-8, not to
#: a few ulps of 0 (tests/test_forward_and_second_order.py's float32 bound is relative to J)
SINC_EXTREMA = (1.4303, 2.4590)


def ag_sinc_arrays() -> st.SearchStrategy[np.ndarray]:
    """Arrays for sinc: 0.1 <= |x| <= 3 (its derivative's formula cancels near 0: sinc'(0) has
    its own test), at least 0.05 from the extrema, either sign."""
    magnitudes = st.one_of(st.floats(0.1, SINC_EXTREMA[0] - 0.05),
                           st.floats(SINC_EXTREMA[0] + 0.05, SINC_EXTREMA[1] - 0.05),
                           st.floats(SINC_EXTREMA[1] + 0.05, AG_BOUND))
    elements = st.builds(lambda s, m: s * m, st.sampled_from([-1.0, 1.0]), magnitudes)
    return hnp.arrays(np.float64, ag_shapes(), elements=elements)


def _reduced_count(shape: tuple[int, ...], axis: object) -> int:
    if axis is None:
        return int(np.prod(shape))
    axes = axis if isinstance(axis, tuple) else (axis,)
    return int(np.prod([shape[a] for a in axes]))


@st.composite
def ag_diagonal_cases(draw: st.DrawFn) -> tuple[np.ndarray, int, int, int]:
    """(x, offset, axis1, axis2): x of 2 or 3 dimensions, offset -2..2 (an empty diagonal
    possible), two different axes, maybe negative."""
    x = draw(ag_arrays(ag_shapes(min_dims=2)))
    axis1, axis2 = draw(st.permutations(range(x.ndim)))[:2]
    negative = st.booleans()
    return (x, draw(st.integers(-2, 2)), axis1 - x.ndim if draw(negative) else axis1,
            axis2 - x.ndim if draw(negative) else axis2)


@st.composite
def ag_diag_cases(draw: st.DrawFn) -> tuple[np.ndarray, int]:
    """(v, k): a vector (diag builds a matrix) or a matrix (diag takes its diagonal), k -2..2."""
    return draw(ag_arrays(ag_shapes(min_dims=1, max_dims=2))), draw(st.integers(-2, 2))


@st.composite
def ag_triangle_cases(draw: st.DrawFn) -> tuple[np.ndarray, int]:
    """(m, k): m of 1 to 3 dimensions (a 1-D m is broadcast to a square, as numpy), k -2..2."""
    return draw(ag_arrays(ag_shapes(min_dims=1))), draw(st.integers(-2, 2))


@st.composite
def ag_roll_cases(draw: st.DrawFn) -> tuple[np.ndarray, object, object]:
    """(x, shift, axis): axis None (the flattened array), one axis, or a tuple of axes (maybe
    repeated, their shifts add) with a tuple of shifts; shifts -5..5."""
    x = draw(ag_arrays(ag_shapes()))
    shift = st.integers(-5, 5)
    if x.ndim == 0 or draw(st.booleans()):
        return x, draw(shift), None
    axis = st.integers(-x.ndim, x.ndim - 1)
    if draw(st.booleans()):
        return x, draw(shift), draw(axis)
    count = draw(st.integers(1, 3))
    return x, tuple(draw(shift) for _ in range(count)), tuple(draw(axis) for _ in range(count))


@st.composite
def ag_append_cases(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, int | None]:
    """(arr, values, axis): axis None (any shapes, both flattened) or an axis on which they may
    differ."""
    if draw(st.booleans()):
        return draw(ag_arrays(ag_shapes())), draw(ag_arrays(ag_shapes())), None
    xs, axis = draw(ag_concatenate_cases().filter(lambda c: len(c[0]) == 2
                                                  and c[1] is not None))
    return xs[0], xs[1], axis


@st.composite
def ag_split_cases(draw: st.DrawFn, even: bool = False, min_dims: int = 1,
                   axis_of=None) -> tuple[np.ndarray, object, int]:
    """(x, indices_or_sections, axis): a number of sections (dividing the axis when `even`) or
    sorted indices (maybe beyond the axis: empty parts). `axis_of(ndim)`: the axis (hsplit's,
    vsplit's), else any axis, maybe negative."""
    x = draw(ag_arrays(ag_shapes(min_dims=min_dims)))
    axis = draw(st.integers(-x.ndim, x.ndim - 1)) if axis_of is None else axis_of(x.ndim)
    n = x.shape[axis]
    if draw(st.booleans()):
        sections = [k for k in range(1, n + 1) if n % k == 0] if even else range(1, n + 3)
        return x, draw(st.sampled_from(list(sections))), axis
    indices = sorted(draw(st.lists(st.integers(0, n + 1), min_size=1, max_size=3)))
    return x, indices, axis


@st.composite
def ag_column_stack_cases(draw: st.DrawFn) -> list[np.ndarray]:
    """1 to 3 arrays of one length n: vectors (columns) and (n, k) matrices."""
    n = draw(st.integers(1, AG_MAX_SIDE))
    shapes = st.sampled_from([(n,), (n, 1), (n, 2)])
    return [draw(ag_arrays(draw(shapes))) for _ in range(draw(st.integers(1, 3)))]


@st.composite
def ag_moveaxis_cases(draw: st.DrawFn) -> tuple[np.ndarray, object, object]:
    """(x, source, destination): one axis each, or tuples of as many distinct axes."""
    x = draw(ag_arrays(ag_shapes(min_dims=1)))
    if draw(st.booleans()):
        axis = st.integers(-x.ndim, x.ndim - 1)
        return x, draw(axis), draw(axis)
    count = draw(st.integers(1, x.ndim))
    return (x, tuple(draw(st.permutations(range(x.ndim)))[:count]),
            tuple(draw(st.permutations(range(x.ndim)))[:count]))


@st.composite
def ag_rollaxis_cases(draw: st.DrawFn) -> tuple[np.ndarray, int, int]:
    """(x, axis, start): start in -ndim .. ndim."""
    x = draw(ag_arrays(ag_shapes(min_dims=1)))
    return x, draw(st.integers(-x.ndim, x.ndim - 1)), draw(st.integers(-x.ndim, x.ndim))


@st.composite
def ag_flip_cases(draw: st.DrawFn) -> tuple[np.ndarray, object]:
    """(x, axis): None (every axis), one axis, or a tuple of distinct axes."""
    x = draw(ag_arrays(ag_shapes()))
    options = [st.none()]
    if x.ndim:
        options += [st.integers(-x.ndim, x.ndim - 1), hnp.valid_tuple_axes(x.ndim)]
    return x, draw(st.one_of(*options))


@st.composite
def ag_rot90_cases(draw: st.DrawFn) -> tuple[np.ndarray, int, tuple[int, int]]:
    """(m, k, axes): m of 2 or 3 dimensions, k -3..5, two different axes (maybe negative)."""
    m = draw(ag_arrays(ag_shapes(min_dims=2)))
    first, second = draw(st.permutations(range(m.ndim)))[:2]
    return m, draw(st.integers(-3, 5)), (first, second - m.ndim if draw(st.booleans())
                                         else second)


@st.composite
def ag_atleast_cases(draw: st.DrawFn, ndim: int) -> list[np.ndarray]:
    """1 or 2 arrays of fewer than `ndim` dimensions (those that atleast_<ndim>d reshapes)."""
    count = draw(st.integers(1, 2))
    return [draw(ag_arrays(ag_shapes(max_dims=ndim - 1))) for _ in range(count)]


@st.composite
def ag_diff_cases(draw: st.DrawFn) -> tuple[np.ndarray, int, int, dict]:
    """(x, n, axis, edges): n 1..2, edges {"prepend": ..., "append": ...} with either, both or
    none, each a 0-d array (numpy broadcasts it) or an array of x's shape but 1 or 2 long on the
    axis."""
    x = draw(ag_arrays(ag_shapes(min_dims=1)))
    axis = draw(st.integers(-x.ndim, x.ndim - 1))
    edges = {}
    for name in draw(st.sampled_from([(), ("prepend",), ("append",), ("prepend", "append")])):
        shape = list(x.shape)
        shape[axis] = draw(st.integers(1, 2))
        edges[name] = draw(ag_arrays(st.sampled_from([(), tuple(shape)])))
    return x, draw(st.integers(1, 2)), axis, edges


@st.composite
def ag_tile_cases(draw: st.DrawFn) -> tuple[np.ndarray, object]:
    """(x, reps): one count, or a tuple of 1 to 3 counts 1..3 (fewer or more than x's axes)."""
    x = draw(ag_arrays(ag_shapes(max_side=3)))
    counts = st.integers(1, 3)
    if draw(st.booleans()):
        return x, draw(counts)
    return x, tuple(draw(st.lists(counts, min_size=1, max_size=3)))


@st.composite
def ag_inner_pairs(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    """(a, b) of 1 or 2 dimensions whose last axes agree (a 0-d one: its own test)."""
    n = draw(st.integers(1, AG_MAX_SIDE))
    shape = st.sampled_from([(n,), (1, n), (2, n), (3, n)])
    a_shape, b_shape = draw(shape), draw(shape)
    return draw(ag_arrays(a_shape)), draw(ag_arrays(b_shape))


@st.composite
def ag_cross_cases(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, int]:
    """(a, b, axis): 3-vectors (either may be a 2-vector, a zero third component) along a common
    axis, the other axes broadcasting."""
    batch_a, batch_b = draw(ag_broadcast_shapes(2, max_dims=2))
    axis = draw(st.integers(-1, 0))
    size_a, size_b = draw(st.sampled_from([(3, 3), (3, 3), (2, 3), (3, 2)]))

    def shaped(batch: tuple[int, ...], size: int) -> tuple[int, ...]:
        return batch + (size,) if axis == -1 else (size,) + batch

    if axis == 0:  # the vectors on axis 0: both need the same number of dimensions
        batch_a = batch_b = batch_a[len(batch_a) - min(len(batch_a), len(batch_b)):]
    return (draw(ag_arrays(shaped(batch_a, size_a))), draw(ag_arrays(shaped(batch_b, size_b))),
            axis)


@st.composite
def ag_sort_cases(draw: st.DrawFn) -> tuple[np.ndarray, int | None]:
    """(x, axis): distinct entries (a sorted order without ties), axis None or one axis."""
    x = draw(lattice_arrays(ag_shapes(min_dims=1), step=1 / 64, unique=True))
    return x, draw(st.none() | st.integers(-x.ndim, x.ndim - 1))


@st.composite
def ag_partition_cases(draw: st.DrawFn) -> tuple[np.ndarray, object, int]:
    """(x, kth, axis): distinct entries, one kth or a list of them along the axis."""
    x = draw(lattice_arrays(ag_shapes(min_dims=1), step=1 / 64, unique=True))
    axis = draw(st.integers(-x.ndim, x.ndim - 1))
    n = x.shape[axis]
    kth = st.integers(-n, n - 1)
    return x, draw(kth | st.lists(kth, min_size=1, max_size=2)), axis


@st.composite
def ag_take_along_axis_cases(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, int]:
    """(x, indices, axis): integer indices (repeats likely) of x's shape but their own length on
    the axis."""
    x = draw(ag_arrays(ag_shapes(min_dims=1)))
    axis = draw(st.integers(-x.ndim, x.ndim - 1))
    shape = list(x.shape)
    shape[axis] = draw(st.integers(1, AG_MAX_SIDE))
    n = x.shape[axis]
    return x, draw(hnp.arrays(np.intp, tuple(shape), elements=st.integers(-n, n - 1))), axis


@st.composite
def ag_select_cases(draw: st.DrawFn) -> tuple[list[np.ndarray], list[np.ndarray], float]:
    """(choices, conditions, default): 1 to 3 arrays and as many boolean conditions, all
    broadcastable."""
    count = draw(st.integers(1, 3))
    shapes = draw(ag_broadcast_shapes(2 * count))
    choices = [draw(ag_arrays(s)) for s in shapes[:count]]
    conditions = [draw(hnp.arrays(np.bool_, s)) for s in shapes[count:]]
    return choices, conditions, draw(st.floats(-AG_BOUND, AG_BOUND))


@st.composite
def ag_pad_cases(draw: st.DrawFn) -> tuple[np.ndarray, object, object]:
    """(x, pad_width, constant_values): one width, (before, after), or a pair per axis (0..2);
    the constants 0, one number, or a pair per axis."""
    x = draw(ag_arrays(ag_shapes(min_dims=1)))
    width = st.integers(0, 2)
    pair = st.tuples(width, width)
    pad_width = draw(st.one_of(width, pair, st.tuples(*[pair] * x.ndim)))
    value = st.floats(-AG_BOUND, AG_BOUND)
    constants = draw(st.one_of(st.just(0), value,
                               st.tuples(*[st.tuples(value, value)] * x.ndim)))
    return x, pad_width, constants


@st.composite
def ag_linspace_cases(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, int, bool, int]:
    """(start, stop, num, endpoint, axis): broadcastable start and stop (0-d to 2-D), num 0..6,
    axis a position in the result (maybe negative)."""
    start_shape, stop_shape = draw(ag_broadcast_shapes(2, max_dims=2))
    ndim = len(np.broadcast_shapes(start_shape, stop_shape)) + 1
    return (draw(ag_arrays(start_shape)), draw(ag_arrays(stop_shape)), draw(st.integers(0, 6)),
            draw(st.booleans()), draw(st.integers(-ndim, ndim - 1)))


@st.composite
def ag_norm_cases(draw: st.DrawFn) -> tuple[np.ndarray, object, object, bool]:
    """(x, ord, axis, keepdims): the vector norms over one axis (None, 1, 2, inf, -inf, 0, 3,
    0.5) and the matrix norms over two ('fro', 1, -1, inf, -inf), or axis None (2-norm of all
    entries; with an ord, x of that many dimensions). |x| are distinct multiples of 1/64 plus
    1/128 (never 0, no tied maximum of |x|), each with either sign."""
    shape = draw(ag_shapes(min_dims=1))
    magnitudes = draw(hnp.arrays(np.float64, shape, unique=True,
                                 elements=st.integers(0, 191).map(lambda k: (k + 0.5) / 64)))
    x = magnitudes * draw(hnp.arrays(np.float64, shape, elements=st.sampled_from([-1.0, 1.0])))
    keepdims = draw(st.booleans())
    vector = st.sampled_from([None, 1, 2, np.inf, -np.inf, 3, 0.5])
    matrix = st.sampled_from([None, "fro", 1, -1, np.inf, -np.inf])
    kind = draw(st.sampled_from(["all", "vector", "matrix"] if x.ndim >= 2 else ["all", "vector"]))
    if kind == "all":
        return x, None, None, keepdims
    if kind == "vector":
        axis = draw(st.integers(-x.ndim, x.ndim - 1))
        return x, draw(vector), axis if x.ndim > 1 or draw(st.booleans()) else None, keepdims
    axes, ord = tuple(draw(st.permutations(range(x.ndim)))[:2]), draw(matrix)
    frobenius = ord in (None, "fro") and x.ndim == 2 and draw(st.booleans())
    return x, ord, None if frobenius else axes, keepdims


def ag_matrices(shape) -> st.SearchStrategy[np.ndarray]:
    """Square matrices (..., n, n) of a shape (or a strategy of shapes), strictly diagonally
    dominant: off-diagonal entries in [-1/(2n), 1/(2n)], diagonal ones +-[1, 2]. Every row sum of
    |off-diagonal| is < 1/2 <= |diagonal| - 1/2, so ||A^-1|| <= 2 in the infinity norm: the
    inverse, the solutions and the determinant (at most 2.5^4 ~ 39) stay within checks.py's
    value bounds."""
    def build(shape: tuple[int, ...]) -> st.SearchStrategy[np.ndarray]:
        n = shape[-1]
        diagonal = ag_arrays(shape[:-1], -2.0, 2.0, min_abs=1.0)
        return st.tuples(ag_arrays(shape, -0.5 / n, 0.5 / n), diagonal).map(_with_diagonal)
    shapes = shape if isinstance(shape, st.SearchStrategy) else st.just(shape)
    return shapes.flatmap(build)


def _with_diagonal(parts: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    off, diagonal = parts
    n = off.shape[-1]
    a = off.copy()
    a[..., np.arange(n), np.arange(n)] = diagonal
    return a


def ag_square_shapes(max_batch_dims: int = 1) -> st.SearchStrategy[tuple[int, ...]]:
    """(..., n, n), n 1..4, up to `max_batch_dims` batch axes of 1..3."""
    return st.tuples(hnp.array_shapes(min_dims=0, max_dims=max_batch_dims, min_side=1,
                                      max_side=3), st.integers(1, AG_MAX_SIDE)).map(
        lambda c: c[0] + (c[1], c[1]))


@st.composite
def ag_solve_cases(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    """(a, b): a (..., n, n) diagonally dominant; b one vector (n,) or (..., n, k) matrices
    whose batch axes broadcast with a's."""
    batch_a, batch_b = draw(ag_broadcast_shapes(2, max_dims=1))
    n = draw(st.integers(1, AG_MAX_SIDE))
    a = draw(ag_matrices(batch_a + (n, n)))
    if draw(st.booleans()):
        return a, draw(ag_arrays((n,)))
    return a, draw(ag_arrays(batch_b + (n, draw(st.integers(1, 3)))))


# ---------------------------------------------------------------------------------------------
# chainrule.deep (issue 13): L-layer tanh networks, L in 1..4, widths K_0 = D, K_1..K_L in 1..5,
# N in 1..20. Bounded so that tests/test_deep.py's finite-difference budget holds:
# |X| <= 2, |W_l| <= 1, |w| <= 2, |y| <= 5, ridge strengths in [0, 1].
# ---------------------------------------------------------------------------------------------

DEEP_MAX_L, DEEP_MAX_WIDTH, DEEP_MAX_N = 4, 5, 20
DEEP_X_BOUND, DEEP_W_BOUND, DEEP_w_BOUND, DEEP_Y_BOUND = 2.0, 1.0, 2.0, 5.0


class DeepModelCase(NamedTuple):
    """One problem for DeepRidgeRegressionGD: X (N, D), y (N,), Ws[l] (K_l + 1, K_{l+1}),
    w (K_L,)."""

    X: np.ndarray
    y: np.ndarray
    Ws: list
    w: np.ndarray
    ridge: float
    ridge_basis: float


@st.composite
def deep_model_cases(draw: st.DrawFn, max_L: int = DEEP_MAX_L, max_width: int = DEEP_MAX_WIDTH,
                     max_N: int = DEEP_MAX_N, L: int | None = None) -> DeepModelCase:
    """A random L-layer problem in the bounded ranges above (pass ``L`` to fix the depth)."""
    L = draw(st.integers(1, max_L)) if L is None else L
    K = draw(st.lists(st.integers(1, max_width), min_size=L + 1, max_size=L + 1))
    N = draw(st.integers(1, max_N))
    return DeepModelCase(
        X=draw(float_arrays((N, K[0]), DEEP_X_BOUND)),
        y=draw(float_arrays((N,), DEEP_Y_BOUND)),
        Ws=[draw(float_arrays((K[l - 1] + 1, K[l]), DEEP_W_BOUND)) for l in range(1, L + 1)],
        w=draw(float_arrays((K[L],), DEEP_w_BOUND)),
        ridge=draw(ridge_strengths()),
        ridge_basis=draw(ridge_strengths()),
    )
