"""The compiled program's edges (issue 18, round 3 of "no silent wrong numbers"), and the
adversarial cases written for it: stale programs, aliasing, dtypes, names, signatures.

The oracle is the eager tape (`value_and_grad`), itself checked against central differences in
test_autograd_ops.py: compiled and eager must agree to 1e-12 relative (the same operations up to
reassociated scalar factors and a dot product for sum(x * x); see test_compiler.py), and give
the same inf and nan.
"""

from __future__ import annotations

import numpy as np
import pytest

import autograd_lite as ag

RTOL = 1e-12


def assert_like_eager(cf: ag.CompiledFunction, f, args, argnums=0):
    value, grads = cf(*args)
    eager_value, eager_grads = ag.value_and_grad(f, argnums)(*args)
    single = isinstance(argnums, int)
    for got, expected in zip((value, *((grads,) if single else grads)),
                             (eager_value, *((eager_grads,) if single else eager_grads))):
        np.testing.assert_allclose(got, expected, rtol=RTOL, atol=0)
    return value, grads


# ---- values read from outside the arguments -----------------------------------------------
GLOBAL_X = np.ones((4, 2))
SCALE = 2.0


def reads_global(w):
    return (GLOBAL_X @ w).sum() * SCALE


@pytest.fixture
def restore_globals():
    global GLOBAL_X, SCALE
    saved = GLOBAL_X, SCALE
    yield
    GLOBAL_X, SCALE = saved


def test_a_closed_over_array_changed_in_place_is_read_at_call_time():
    """Issue 18, 1: the value followed X, the gradient stayed at the traced X."""
    X = np.ones((4, 2))

    def f(w):
        return (X @ w).sum()

    cf, w = ag.compile(f), np.ones(2)
    assert_like_eager(cf, f, [w])
    X[:] = 10.0
    value, grad = assert_like_eager(cf, f, [w])
    assert value == 80.0 and np.array_equal(grad, [40.0, 40.0])
    assert cf.traces == 1


def test_a_rebound_closure_variable_is_read_at_call_time():
    X = np.ones((4, 2))

    def f(w):
        return (X @ w).sum()

    cf, w = ag.compile(f), np.ones(2)
    cf(w)
    X = np.full((4, 2), 10.0)  # noqa: F841  (f reads the rebound cell)
    value, grad = assert_like_eager(cf, f, [w])
    assert value == 80.0 and np.array_equal(grad, [40.0, 40.0])
    assert cf.traces == 1, "the same shape and dtype: the same program, the new array"
    X = np.ones((3, 2))  # noqa: F841
    assert assert_like_eager(cf, f, [w])[0] == 6.0
    assert cf.traces == 2, "another shape: traced again"


def test_rebound_globals_arrays_and_numbers_are_read_at_call_time(restore_globals):
    global GLOBAL_X, SCALE
    cf, w = ag.compile(reads_global), np.array([1.0, 2.0])
    assert assert_like_eager(cf, reads_global, [w])[0] == 24.0
    GLOBAL_X = np.full((4, 2), 0.5)
    assert assert_like_eager(cf, reads_global, [w])[0] == 12.0
    SCALE = -1.0
    value, grad = assert_like_eager(cf, reads_global, [w])
    assert value == -6.0 and np.array_equal(grad, [-2.0, -2.0])
    assert "GLOBAL_X" in cf.source and "Read at each call" in cf.source


class Model:
    def __init__(self) -> None:
        self.X = np.ones((4, 2))

    def loss(self, w):
        return (self.X @ w).sum()


def test_an_attribute_of_self_is_read_at_call_time():
    model, w = Model(), np.ones(2)
    cf = ag.compile(model.loss)
    cf(w)
    model.X[:] = 3.0
    assert assert_like_eager(cf, model.loss, [w])[0] == 24.0
    model.X = np.full((4, 2), -1.0)
    value, grad = assert_like_eager(cf, model.loss, [w])
    assert value == -8.0 and np.array_equal(grad, [-4.0, -4.0]) and cf.traces == 1


def test_an_attribute_of_a_closed_over_object_is_read_at_call_time():
    model, w = Model(), np.ones(2)

    def f(w):
        return ag.sum(ag.tanh(model.X @ w))

    cf = ag.compile(f)
    cf(w)
    model = Model()  # a new object in the cell, with its own X
    model.X = np.full((4, 2), 0.25)
    assert_like_eager(cf, f, [w])


def test_an_array_reached_otherwise_gives_a_value_and_gradient_of_the_same_data():
    """A dict entry is neither a name nor an attribute of f's code: it is read by reference
    when the program runs and nothing is computed from it when compiling, so an in-place
    change moves the value and the gradient together."""
    data = {"X": np.ones((4, 2))}

    def f(w):
        return ag.sum((data["X"] @ w) ** 2)

    cf, w = ag.compile(f), np.array([1.0, -0.5])
    cf(w)
    data["X"][:] = np.arange(8.0).reshape(4, 2)
    assert_like_eager(cf, f, [w])


# ---- what the program returns -----------------------------------------------------------------
@pytest.mark.parametrize("f, args, argnums", [
    (lambda x, y: x.sum() * y.sum(), (np.arange(5.0), np.arange(3.0) + 1), (0, 1)),  # issue 18
    (lambda x, y: (x * y).sum(), (np.arange(3.0), np.arange(3.0) + 1), 0),  # d/dx is y itself
    (lambda x: (x[:2] * 3.0).sum() + x[2], (np.arange(4.0),), 0),
    (lambda x: ag.sum(ag.tanh(x) @ np.ones((3, 5))), (np.ones((40, 3)),), 0),  # a tall product
])
def test_every_returned_gradient_is_a_fresh_writable_array_of_its_own(f, args, argnums):
    cf = ag.compile(f, argnums)
    _, grads = cf(*args)
    before = [np.array(a) for a in args]
    for g in (grads,) if isinstance(argnums, int) else grads:
        assert isinstance(g, np.ndarray) and g.flags.writeable and g.flags.owndata
        assert not any(np.shares_memory(g, a) for a in args)
        g *= 0.5  # model.fit updates in place
    for a, b in zip(args, before):
        np.testing.assert_array_equal(a, b)
    again = cf(*args)[1]
    np.testing.assert_allclose(again if isinstance(argnums, int) else again[0],
                               ag.value_and_grad(f, argnums)(*args)[1] if isinstance(argnums, int)
                               else ag.value_and_grad(f, argnums)(*args)[1][0], rtol=RTOL)


def test_a_one_element_value_of_shape_1_is_a_number():
    """Issue 18: x[:1] * 2.0 raised TypeError from float(v)."""
    f = lambda x: x[:1] * 2.0  # noqa: E731
    value, grad = assert_like_eager(ag.compile(f), f, [np.ones(3)])
    assert type(value) is float and value == 2.0 and np.array_equal(grad, [2.0, 0.0, 0.0])


# ---- argnums ----------------------------------------------------------------------------------
@pytest.mark.parametrize("transform", ["grad", "value_and_grad", "compile", "jacobian", "jacfwd"])
def test_an_argument_named_twice_with_a_negative_index(transform):
    """Issue 18, 3: grad(f, (0, -2)) and value_and_grad(f, (1, -1)) returned zeros."""
    def f(a, b):
        return ag.sum(ag.tanh(a) * b * b)

    a, b = np.array([0.3, -0.7]), np.array([1.5, 2.0])
    expected_a, expected_b = (1 - np.tanh(a) ** 2) * b * b, 2 * np.tanh(a) * b
    for argnums, expected in (((0, -2), (expected_a, expected_a)),
                              ((1, -1), (expected_b, expected_b))):
        if transform == "grad":
            grads = ag.grad(f, argnums)(a, b)
        elif transform == "value_and_grad":
            grads = ag.value_and_grad(f, argnums)(a, b)[1]
        elif transform == "compile":
            grads = ag.compile(f, argnums)(a, b)[1]
        else:
            jac = ag.jacobian if transform == "jacobian" else ag.jacfwd
            grads = jac(f, argnums)(a, b)
        assert len(grads) == 2 and grads[0] is not grads[1]
        for g, e in zip(grads, expected):
            np.testing.assert_allclose(g, e, rtol=RTOL)


# ---- internal errors that must give eager's answer -----------------------------------------
def test_division_by_zero_gives_numpy_inf_and_nan():
    x = np.array([1.0, 0.0, -2.0])
    with np.errstate(all="ignore"):
        f = lambda x: ((x / 0.0) * 2.0).sum()  # noqa: E731
        value, grad = ag.compile(f)(x)
        eager = ag.value_and_grad(f)(x)
        np.testing.assert_array_equal(value, eager[0])
        np.testing.assert_array_equal(grad, eager[1])
        g = lambda x, s: ((x / s) * 3.0).sum()  # noqa: E731
        compiled, eager = ag.compile(g)(x, 0.0), ag.value_and_grad(g)(x, 0.0)
        np.testing.assert_array_equal(compiled[0], eager[0])
        np.testing.assert_array_equal(compiled[1], eager[1])


def test_a_scatter_add_into_a_zero_dimensional_gradient():
    """Issue 18: 'numpy.float64' object does not support item assignment."""
    def f(x):
        s = x @ x
        return (s[None] * x).sum() + s * s

    assert_like_eager(ag.compile(f), f, [np.array([0.5, -1.0, 2.0])])


def test_the_empty_index_of_a_zero_dimensional_array():
    """Issue 18: the generated code read `x[]` (a SyntaxError)."""
    f = lambda x: x[()] ** 2  # noqa: E731
    value, grad = assert_like_eager(ag.compile(f), f, [np.array(3.0)])
    assert value == 9.0 and grad == 6.0


def test_names_the_generated_code_uses_are_free_for_parameters():
    """A parameter named float (the code calls float()), np, v1, c0 or index_add, and a
    function whose __name__ is not an identifier."""
    def f(float, np_, v1, c0, index_add):  # noqa: A002
        return ag.sum(ag.tanh(float) * v1 * c0) + ag.sum(np_ * index_add)

    f.__name__ = "my loss (v2)!"
    args = [np.array([0.5, -0.2]), np.array([1.0, 2.0]), np.array([3.0, 1.0]),
            np.array([2.0, 2.0]), np.array([0.5, 0.25])]
    cf = ag.compile(f, (0, 1))
    assert_like_eager(cf, f, args, (0, 1))
    assert cf.source.startswith("def my_loss__v2___value_and_grad(arg0, np_, arg2, arg3, arg4):")


def test_a_tuple_argument_is_part_of_the_signature():
    """Issue 18: an axis passed as an argument."""
    f = lambda x, axis: ag.sum(ag.sum(ag.tanh(x), axis) ** 2)  # noqa: E731
    cf, x = ag.compile(f), np.arange(6.0).reshape(2, 3) / 6
    assert_like_eager(cf, f, [x, (0,)])
    assert_like_eager(cf, f, [x, (1,)])
    assert cf.traces == 2


# ---- adversarial cases of this round ---------------------------------------------------------
def test_one_array_passed_as_two_arguments_is_neither_written_nor_returned():
    x = np.array([0.5, -1.0, 2.0])
    f = lambda a, b: ag.sum(ag.tanh(a) * b)  # noqa: E731
    before = x.copy()
    _, (ga, gb) = assert_like_eager(ag.compile(f, (0, 1)), f, [x, x], (0, 1))
    np.testing.assert_array_equal(x, before)
    assert not np.shares_memory(ga, x) and not np.shares_memory(gb, x)


def test_float32_arguments_beside_a_float64_closure():
    X = np.linspace(-1, 1, 6).reshape(3, 2)

    def f(w):
        return ag.sum(ag.tanh(X @ w))

    w = np.array([0.5, -0.25], dtype=np.float32)
    value, grad = ag.compile(f)(w)
    eager_value, eager_grad = ag.value_and_grad(f)(w)
    assert grad.dtype == eager_grad.dtype == np.float32
    np.testing.assert_allclose(grad, eager_grad, rtol=1e-6)
    np.testing.assert_allclose(value, eager_value, rtol=1e-12)


def test_a_closure_array_that_changes_dtype_traces_again():
    X = np.ones((2, 2))

    def f(w):
        return ag.sum(X @ w)

    cf = ag.compile(f)
    cf(np.ones(2))
    X = np.ones((2, 2), dtype=np.float32)  # noqa: F841
    assert_like_eager(cf, f, [np.ones(2)])
    assert cf.traces == 2


def test_a_closure_mask_or_index_array_selects_and_a_changed_one_traces_again():
    """A bool mask or an int index from a closure fixes the program's shapes: the values are in
    the cache key, so changing one in place or rebinding it gives eager's answer again."""
    mask, index = np.array([True, False, True]), np.array([0, 0, 2])

    def masked(w):
        return (w[mask] ** 2).sum()

    def indexed(w):
        return (w[index] ** 2).sum()

    w = np.array([1.0, 2.0, 3.0])
    cm, ci = ag.compile(masked), ag.compile(indexed)
    assert cm(w) == (10.0, pytest.approx([2.0, 0.0, 6.0]))  # 1 + 9; the read entries' 2 w
    assert ci(w) == (11.0, pytest.approx([4.0, 0.0, 6.0]))  # 1 + 1 + 9; index 0 twice
    mask[1], index[0] = True, 1
    assert cm(w) == (14.0, pytest.approx([2.0, 4.0, 6.0]))
    assert ci(w) == (14.0, pytest.approx([2.0, 4.0, 6.0]))
    mask = np.array([False, False, True])  # noqa: F841  (masked reads the rebound cell)
    assert cm(w) == (9.0, pytest.approx([0.0, 0.0, 6.0]))
    assert (cm.traces, ci.traces) == (3, 2)
    with pytest.raises(ag.TraceError, match="shape depends on the values of traced inputs"):
        ag.compile(lambda v: (v[v > 1.5] ** 2).sum())(w)  # a mask computed from the argument


def test_variadic_and_keyword_defaults_of_the_compiled_function():
    def f(*xs, scale=2.0):
        return ag.sum(ag.tanh(xs[0]) * xs[1]) * scale

    args = [np.array([0.1, 0.2]), np.array([3.0, 4.0])]
    cf = ag.compile(f, (0, 1))
    assert_like_eager(cf, f, args, (0, 1))
    assert cf.source.startswith("def f_value_and_grad(arg0, arg1):")
