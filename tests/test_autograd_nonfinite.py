"""Derivatives at inf, -inf, NaN and 0, as a numerics reader expects them; NaN propagates.

The expected values are the textbook derivatives evaluated at those points in IEEE arithmetic
(tanh'(inf) = 1 - 1 = 0, exp'(-inf) = 0, sqrt'(0) = 1 / (2 sqrt 0) = inf), the conventions at
kinks (relu'(0) = abs'(0) = 0; ties of maximum and max split the gradient equally), and NaN
where the function itself is NaN or its derivative depends on a NaN input (a finite gradient
there would be a silently wrong number). Constant derivatives stay constant (d(-x)/dx = -1,
also at NaN). Every value is checked both ways: reverse mode (grad) and forward mode (jvp).
"""

import warnings

import numpy as np
import pytest
from op_table import TABLE

import autograd_lite as ag
from autograd_lite import Tensor

INF, NAN = np.inf, np.nan
LOG2 = np.log(2.0)

DERIVATIVES = {  # name: (f, {x: f'(x)})
    "neg": (lambda x: -x, {INF: -1.0, NAN: -1.0, 0.0: -1.0}),
    "tanh": (ag.tanh, {INF: 0.0, -INF: 0.0, NAN: NAN, 0.0: 1.0}),
    "exp": (ag.exp, {INF: INF, -INF: 0.0, NAN: NAN, 0.0: 1.0}),
    "log": (ag.log, {INF: 0.0, 0.0: INF, NAN: NAN, 1.0: 1.0}),
    "expm1": (ag.expm1, {INF: INF, -INF: 0.0, NAN: NAN, 0.0: 1.0}),
    "log1p": (ag.log1p, {INF: 0.0, -1.0: INF, NAN: NAN, 0.0: 1.0}),
    "sin": (ag.sin, {INF: NAN, -INF: NAN, NAN: NAN, 0.0: 1.0}),
    "cos": (ag.cos, {INF: NAN, -INF: NAN, NAN: NAN, 0.0: 0.0}),
    "tan": (ag.tan, {INF: NAN, -INF: NAN, NAN: NAN, 0.0: 1.0}),
    "sinh": (ag.sinh, {INF: INF, -INF: INF, NAN: NAN, 0.0: 1.0}),
    "cosh": (ag.cosh, {INF: INF, -INF: -INF, NAN: NAN, 0.0: 0.0}),
    "sigmoid": (ag.sigmoid, {INF: 0.0, -INF: 0.0, NAN: NAN, 0.0: 0.25}),
    "relu": (ag.relu, {INF: 1.0, -INF: 0.0, NAN: NAN, 0.0: 0.0}),
    "abs": (ag.abs, {INF: 1.0, -INF: -1.0, NAN: NAN, 0.0: 0.0}),
    # sqrt(x) is NaN for x < 0, -inf included: so is its derivative
    "sqrt": (ag.sqrt, {INF: 0.0, 0.0: INF, NAN: NAN, -INF: NAN, -1.0: NAN}),
    "square": (ag.square, {INF: INF, -INF: -INF, NAN: NAN, 0.0: 0.0}),
    "x ** 3": (lambda x: x ** 3, {INF: INF, -INF: INF, NAN: NAN, 0.0: 0.0}),
    "x ** 0": (lambda x: x ** 0, {INF: 0.0, NAN: 0.0, 0.0: 0.0}),  # the constant 1
    "x ** 0.5": (lambda x: x ** 0.5, {INF: 0.0, 0.0: INF, NAN: NAN, -INF: NAN}),  # numpy: nan
    "1 / x": (lambda x: 1.0 / x, {INF: 0.0, -INF: 0.0, 0.0: -INF, NAN: NAN}),
    "2 ** x": (lambda x: 2.0 ** x, {INF: INF, -INF: 0.0, NAN: NAN, 0.0: LOG2}),
    # nan where the function is nan (arccosh below 1, arctanh beyond 1, arcsin at infinity),
    # and 0 where nan_to_num replaced a value
    "log2": (ag.log2, {INF: 0.0, 0.0: INF, NAN: NAN, 1.0: 1 / np.log(2.0)}),
    "log10": (ag.log10, {INF: 0.0, 0.0: INF, NAN: NAN, 1.0: 1 / np.log(10.0)}),
    "exp2": (ag.exp2, {INF: INF, -INF: 0.0, NAN: NAN, 0.0: np.log(2.0)}),
    "arcsin": (ag.arcsin, {1.0: INF, -1.0: INF, 2.0: NAN, INF: NAN, NAN: NAN, 0.0: 1.0}),
    "arccos": (ag.arccos, {1.0: -INF, 2.0: NAN, INF: NAN, NAN: NAN, 0.0: -1.0}),
    "arctan": (ag.arctan, {INF: 0.0, -INF: 0.0, NAN: NAN, 0.0: 1.0}),
    "arcsinh": (ag.arcsinh, {INF: 0.0, -INF: 0.0, NAN: NAN, 0.0: 1.0}),
    "arccosh": (ag.arccosh, {1.0: INF, INF: 0.0, -2.0: NAN, -INF: NAN, NAN: NAN, 0.0: NAN}),
    "arctanh": (ag.arctanh, {1.0: INF, -1.0: INF, 2.0: NAN, INF: NAN, NAN: NAN, 0.0: 1.0}),
    "reciprocal": (ag.reciprocal, {INF: 0.0, -INF: 0.0, 0.0: -INF, NAN: NAN}),
    "deg2rad": (ag.deg2rad, {INF: np.pi / 180, NAN: np.pi / 180, 0.0: np.pi / 180}),
    "rad2deg": (ag.rad2deg, {INF: 180 / np.pi, NAN: 180 / np.pi, 0.0: 180 / np.pi}),
    "fabs": (ag.fabs, {INF: 1.0, -INF: -1.0, NAN: NAN, 0.0: 0.0}),
    "sinc": (ag.sinc, {INF: NAN, -INF: NAN, NAN: NAN, 0.0: 0.0}),
    "nan_to_num": (ag.nan_to_num, {INF: 0.0, -INF: 0.0, NAN: 0.0, 0.0: 1.0}),
}
ROWS = [(name, x) for name in DERIVATIVES for x in DERIVATIVES[name][1]]


@pytest.mark.parametrize("name, x", ROWS, ids=[f"{n} at {x}" for n, x in ROWS])
def test_derivative_at_special_points(name, x):
    f, table = DERIVATIVES[name]
    expected = table[x]
    point = np.array([x])
    with np.errstate(all="ignore"):
        reverse = ag.grad(lambda t: f(t).sum())(point)
        _, forward = ag.jvp(f, (point,), (np.ones(1),))
    np.testing.assert_array_equal(reverse, [expected], err_msg=f"grad of {name} at {x}")
    np.testing.assert_array_equal(forward, [expected], err_msg=f"jvp of {name} at {x}")


def test_every_elementwise_function_has_rows_at_nan_and_zero():
    """Fails when an elementwise function joins the op table without its special values."""
    covered = {name for name, _ in ROWS if NAN in DERIVATIVES[name][1]
               and any(x == 0 for x in DERIVATIVES[name][1])}
    wanted = {op.name for op in TABLE if op.elementwise_unary and op.differentiable}
    assert wanted <= covered, f"no rows at NaN and 0 for {sorted(wanted - covered)}"


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sigmoid_is_finite_at_infinity_without_warnings(dtype):
    x = Tensor(np.array([-INF, INF], dtype), requires_grad=True)
    with np.errstate(all="raise"), warnings.catch_warnings():
        warnings.simplefilter("error")
        s = ag.sigmoid(x)
        s.backward(np.ones(2, dtype))
    np.testing.assert_array_equal(s.data, [0.0, 1.0])
    np.testing.assert_array_equal(x.grad, [0.0, 0.0])


# ---- ties, zeros and selections: exact --------------------------------------------------------
def grads(f, *arrays):
    with np.errstate(all="ignore"):
        return ag.grad(lambda *ts: f(*ts).sum(), tuple(range(len(arrays))))(
            *(np.array(a, dtype=float) for a in arrays))


@pytest.mark.parametrize("f", [ag.maximum, ag.minimum], ids=["maximum", "minimum"])
def test_maximum_and_minimum_ties_split_the_gradient_in_half(f):
    a = [1.0, 2.0, INF, -INF, 0.0]
    b = [1.0, 2.0, INF, -INF, -0.0]  # -0 == 0: a tie too
    ga, gb = grads(f, a, b)
    np.testing.assert_array_equal(ga, [0.5] * 5)
    np.testing.assert_array_equal(gb, [0.5] * 5)
    _, tangent = ag.jvp(f, (np.array(a), np.array(b)), (np.ones(5), np.ones(5)))
    np.testing.assert_array_equal(tangent, np.ones(5))  # 1/2 + 1/2


@pytest.mark.parametrize("f", [ag.maximum, ag.minimum], ids=["maximum", "minimum"])
def test_maximum_and_minimum_propagate_nan_into_the_gradient(f):
    """maximum(1, nan) is nan (numpy propagates it): the result depends on the NaN operand, so
    its gradient is NaN, or 1 (the operand the result is); never 0 for both."""
    ga, gb = grads(f, [1.0, NAN], [NAN, 1.0])
    assert np.isnan(gb[0]) or gb[0] == 1.0, gb
    assert np.isnan(ga[1]) or ga[1] == 1.0, ga


def test_max_and_min_ties_share_the_gradient_equally():
    np.testing.assert_array_equal(grads(ag.max, [3.0, 3.0, 1.0])[0], [0.5, 0.5, 0.0])
    np.testing.assert_array_equal(grads(ag.max, [2.0, 2.0, 2.0, 2.0])[0], [0.25] * 4)
    np.testing.assert_array_equal(grads(ag.min, [INF, INF])[0], [0.5, 0.5])
    np.testing.assert_array_equal(grads(ag.max, [1.0, INF, 3.0])[0], [0.0, 1.0, 0.0])
    per_row = grads(lambda t: ag.max(t, axis=1), [[1.0, 1.0], [0.0, 2.0]])[0]
    np.testing.assert_array_equal(per_row, [[0.5, 0.5], [0.0, 1.0]])


def test_max_of_a_nan_entry_propagates_nan():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        g = grads(ag.max, [1.0, NAN, 3.0])[0]
    assert np.isnan(g[1]) or g[1] == 1.0, g


@pytest.mark.parametrize("x, expected", [
    ([2.0, 0.0, 3.0], [0.0, 6.0, 0.0]),  # one zero: the product of the others, at the zero
    ([0.0, 0.0, 3.0], [0.0, 0.0, 0.0]),  # two zeros: every partial has a zero factor
    ([-0.0, 5.0], [5.0, -0.0]),
    ([2.0, 4.0, 0.5], [2.0, 1.0, 8.0]),  # no zero: out / x_i
])
def test_prod_with_zeros_is_exact(x, expected):
    np.testing.assert_array_equal(grads(ag.prod, x)[0], expected)
    _, tangent = ag.jvp(ag.prod, (np.array(x),), (np.ones(len(x)),))
    assert tangent == sum(expected)


def test_prod_with_zeros_along_an_axis_is_exact():
    x = [[0.0, 2.0, 5.0], [3.0, 4.0, 0.5], [0.0, 0.0, 1.0]]
    g = grads(lambda t: ag.prod(t, axis=1, keepdims=True), x)[0]
    np.testing.assert_array_equal(g, [[10.0, 0.0, 0.0], [2.0, 1.5, 12.0], [0.0, 0.0, 0.0]])


def test_where_gives_the_unselected_branch_exactly_zero():
    """Also where the unselected branch is inf or NaN: nothing leaks from it."""
    condition = np.array([True, False, True, False])
    a = [1.0, INF, NAN, 2.0]
    b = [NAN, 3.0, -INF, INF]
    ga, gb = grads(lambda s, t: ag.where(condition, s, t), a, b)
    np.testing.assert_array_equal(ga, [1.0, 0.0, 1.0, 0.0])
    np.testing.assert_array_equal(gb, [0.0, 1.0, 0.0, 1.0])
    _, tangent = ag.jvp(lambda s, t: ag.where(condition, s, t),
                        (np.array(a), np.array(b)), (np.full(4, 2.0), np.full(4, 3.0)))
    np.testing.assert_array_equal(tangent, [2.0, 3.0, 2.0, 3.0])


def test_clip_at_its_bounds_is_a_tie_of_maximum_and_minimum():
    """clip = minimum(maximum(x, low), high): exactly at a bound the tie rule gives 1/2."""
    g = grads(lambda t: ag.clip(t, -1.0, 1.0), [-1.0, -0.5, 1.0, 2.0])[0]
    np.testing.assert_array_equal(g, [0.5, 1.0, 0.5, 0.0])


def test_products_with_infinity_propagate():
    """d(a b)/da = b: inf and NaN factors show up in the other operand's gradient."""
    ga, gb = grads(lambda s, t: s * t, [2.0, 3.0, 0.0], [INF, NAN, 1.0])
    np.testing.assert_array_equal(ga, [INF, NAN, 1.0])
    np.testing.assert_array_equal(gb, [2.0, 3.0, 0.0])


def test_dividing_by_a_python_zero_gives_infinite_derivatives_in_every_mode():
    """t / 0.0 with the 0.0 a Python number: numpy's inf, not Python's ZeroDivisionError, in
    reverse mode, forward mode and compiled; likewise log and log1p at their poles."""
    with np.errstate(divide="ignore", invalid="ignore"):  # the value sums inf and -inf
        for f, x in [(lambda t: ag.sum(t / 0.0), np.array([1.0, -2.0])),
                     (lambda t: ag.sum(ag.log(t)), np.array([0.0, 0.0])),
                     (lambda t: ag.sum(ag.log1p(t)), np.array([-1.0, -1.0]))]:
            np.testing.assert_array_equal(ag.grad(f)(x), [np.inf, np.inf])
            np.testing.assert_array_equal(ag.compile(f)(x)[1], [np.inf, np.inf])
            assert ag.jvp(f, (x,), (np.ones(2),))[1] == np.inf
