"""The numpy an ML course uses (issues 18 and 20), where the op table cannot say it: exact values
and gradients at special points, the forms of the functions that return several arrays or refuse
an argument, and issue 18's wrapper fixes, each of which failed before them.

The oracles are numpy (values, and closed forms written with numpy: det(A) A^-T for d det) and
exact arithmetic (a permutation, 0, 1); tolerances: exact where the result is a permutation or a
selection of the inputs, else 1e-12 relative (a few roundings of values of order 1).
"""

import warnings

import numpy as np
import pytest

import autograd_lite as ag
from autograd_lite import Dual, ShapeError, Tensor

RTOL = 1e-12
RNG = np.random.default_rng(20)
A = np.array([[2.0, 0.5, -0.25], [0.25, -1.5, 0.5], [0.5, 0.25, 1.75]])  # det != 0


def leaf(x) -> Tensor:
    return Tensor(np.array(x, dtype=float), requires_grad=True)


# ---- issue 18: the wrappers -------------------------------------------------------------------
def test_mse_of_empty_arrays_is_numpys_nan_with_empty_gradients():
    """mean((a - b)^2) of no entries is nan in numpy; the rule's 2/n divided by zero."""
    a, b = np.zeros(0), np.zeros(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = np.mean((a - b) ** 2)
        value, (ga, gb) = ag.value_and_grad(ag.mse, (0, 1))(a, b)
        _, tangent = ag.jvp(ag.mse, (a, b), (a, b))
    assert np.isnan(value) and np.isnan(expected)
    assert ga.shape == (0,) and gb.shape == (0,)
    assert np.isnan(tangent)


def test_expand_dims_with_a_tuple_of_axes_and_concatenate_of_no_axis():
    t = leaf(RNG.normal(size=(2, 3)))
    out = ag.expand_dims(t, (0, -1))
    assert out.shape == np.expand_dims(t.data, (0, -1)).shape == (1, 2, 3, 1)
    joined = ag.concatenate([t, t[0]], axis=None)
    np.testing.assert_array_equal(joined.data, np.concatenate([t.data, t.data[0]], axis=None))
    joined.backward(np.arange(9.0))
    np.testing.assert_array_equal(t.grad, np.arange(6.0).reshape(2, 3) + [[6, 7, 8], [0, 0, 0]])


def test_clip_takes_numpys_keywords():
    x = np.array([-1.0, 0.5, 2.0])
    for call in (lambda t: np.clip(t, a_min=0.1, a_max=1.1), lambda t: np.clip(t, min=0.1,
                                                                                 max=1.1),
                 lambda t: t.clip(0.1, 1.1), lambda t: t.clip(min=0.1, max=1.1)):
        t = leaf(x)
        out = call(t)
        np.testing.assert_array_equal(out.data, np.clip(x, 0.1, 1.1))
        out.sum().backward()
        np.testing.assert_array_equal(t.grad, [0.0, 1.0, 0.0])
    with pytest.raises(TypeError, match="a_min or min, not both"):
        ag.clip(x, a_min=0.0, min=0.0)


def test_vstack_and_hstack_of_0d_and_1d_values_and_a_dtype():
    a, b = leaf(1.5), leaf([2.0])
    np.testing.assert_array_equal(np.vstack([a, b]).data, np.vstack([1.5, [2.0]]))
    np.testing.assert_array_equal(np.hstack([a, b, a]).data, np.hstack([1.5, [2.0], 1.5]))
    out = np.vstack([a, b], dtype=np.float32)
    assert out.dtype == np.float32 == np.vstack([1.5, [2.0]], dtype=np.float32).dtype
    out.sum().backward()
    assert a.grad.dtype == np.float64 and float(a.grad) == 1.0 and b.grad.tolist() == [1.0]
    with pytest.raises(TypeError, match="cannot cast float64 to int32 under casting='safe'"):
        np.hstack([a, b], dtype=np.int32, casting="safe")


def test_the_gradient_of_zero_to_a_power_in_the_exponent():
    """np.power(0.0, y) is 0 for every y > 0: its derivative in y is 0 there, not an error (and
    0 at y = 0 too, as JAX takes it); x**y of two arrays has both derivatives (numpy's values;
    d/dy = x^y log x)."""
    y = leaf([0.5, 1.0, 3.0])
    out = np.power(0.0, y)
    np.testing.assert_array_equal(out.data, np.power(0.0, y.data))
    out.sum().backward()
    np.testing.assert_array_equal(y.grad, [0.0, 0.0, 0.0])
    x, y = leaf([0.0, 2.0, 3.0]), leaf([0.0, 0.5, 2.0])
    (x ** y).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.5 * 2.0 ** -0.5, 6.0])  # 0 ** 0 = 1: flat
    np.testing.assert_allclose(y.grad, [0.0, 2.0 ** 0.5 * np.log(2.0), 9.0 * np.log(3.0)],
                               rtol=RTOL)


def test_einsum_with_ellipsis_sublists_and_a_diagonal():
    a, b = RNG.normal(size=(2, 3, 4)), RNG.normal(size=(4, 5))
    ta, tb = leaf(a), leaf(b)
    np.testing.assert_allclose(np.einsum("...ij,jk->...ik", ta, tb).data,
                               np.einsum("...ij,jk->...ik", a, b), rtol=RTOL)
    np.testing.assert_allclose(np.einsum(ta, [0, 1, 2], tb, [2, 3], [0, 3]).data,
                               np.einsum(a, [0, 1, 2], b, [2, 3], [0, 3]), rtol=RTOL)
    m = leaf(A)
    trace = np.einsum("ii", m)
    assert float(trace.data) == np.trace(A)
    trace.backward()
    np.testing.assert_array_equal(m.grad, np.eye(3))  # d tr(A)/dA = I
    m = leaf(A)
    np.einsum("ii->i", m).backward(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(m.grad, np.diag([1.0, 2.0, 3.0]))


def test_ndarray_methods_of_an_argument_under_compile():
    """Tracing turns every array argument into a Tensor: X.std() of a non-differentiated one
    must work compiled as eagerly."""
    X = RNG.normal(size=(6, 3))

    def f(w, X):
        return ((X - X.mean(0)) / X.std(0, ddof=1) @ w).sum() + X.var() * w.dot(w)

    w = np.array([0.5, -1.0, 2.0])
    value, g = ag.compile(f)(w, X)
    expected_value, expected_g = ag.value_and_grad(f)(w, X)
    np.testing.assert_allclose(value, expected_value, rtol=1e-10)
    np.testing.assert_allclose(g, expected_g, rtol=1e-10)


def test_missing_ndarray_attributes_are_named_with_what_to_write_instead():
    t = leaf([3.0, 1.0, 2.0])
    with pytest.raises(AttributeError, match=r"'Tensor' object has no attribute 'sort': .*"
                                             r"np\.sort\(t\)"):
        t.sort()
    with pytest.raises(AttributeError, match="changes the array in place"):
        t.fill(0.0)
    with pytest.raises(AttributeError, match=r"t\.data\.searchsorted"):
        t.searchsorted(1.0)
    with pytest.raises(AttributeError, match=r"^'Tensor' object has no attribute 'nope'$"):
        t.nope  # noqa: B018
    assert getattr(t, "nope", 7) == 7 and not hasattr(t, "__array_interface__")


def test_getattr_never_hides_the_error_of_a_slot_or_a_property():
    """`__getattr__` runs whenever the ordinary lookup raises AttributeError, also from inside a
    property or for an unset slot: those keep their own messages."""
    bare = object.__new__(Tensor)  # no slot set
    with pytest.raises(AttributeError, match=r"^'Tensor' object has no attribute 'grad'$"):
        bare.grad  # noqa: B018
    broken = Dual(1.5, 1.0)  # a Python float as the primal: its .shape property fails inside
    with pytest.raises(AttributeError, match="'float' object has no attribute 'shape'"):
        broken.shape  # noqa: B018


def test_the_ndarray_methods_work_in_forward_mode():
    x, v = np.array([0.5, -1.0, 2.0]), np.array([1.0, 0.0, -1.0])
    _, tangent = ag.jvp(lambda t: t.std() + t.var(ddof=1) + t.clip(0.0, 1.0).sum(), (x,), (v,))
    J = ag.jacobian(lambda t: t.std() + t.var(ddof=1) + t.clip(0.0, 1.0).sum())(x)
    np.testing.assert_allclose(tangent, J @ v, rtol=1e-12)


# ---- issue 20: exact values and gradients ----------------------------------------------------
def test_sinc_at_zero():
    """sinc(0) = 1, sinc'(0) = 0 (the rule's (cos(pi x) - sinc x) / x is 0/0 there)."""
    x = leaf([0.0, 0.5])
    out = ag.sinc(x)
    np.testing.assert_array_equal(out.data, np.sinc([0.0, 0.5]))
    out.sum().backward()
    assert x.grad[0] == 0.0
    np.testing.assert_allclose(x.grad[1], (np.cos(np.pi / 2) - np.sinc(0.5)) / 0.5, rtol=RTOL)


def test_fmax_and_fmin_give_the_gradient_to_the_number_beside_a_nan():
    """numpy returns the operand that is not nan: it takes the gradient (maximum: the nan)."""
    a, b = leaf([np.nan, 1.0, 2.0]), leaf([3.0, np.nan, 2.0])
    for f, expected in ((ag.fmax, [3.0, 1.0, 2.0]), (ag.fmin, [3.0, 1.0, 2.0])):
        a.grad = b.grad = None
        out = f(a, b)
        np.testing.assert_array_equal(out.data, expected)
        out.sum().backward()
        np.testing.assert_array_equal(a.grad, [0.0, 1.0, 0.5])  # a tie shares it
        np.testing.assert_array_equal(b.grad, [1.0, 0.0, 0.5])


def test_remainder_and_the_mod_operator():
    a, b = leaf([7.5, -7.5, 7.5]), leaf([2.0, 2.0, -2.0])
    out = a % b
    np.testing.assert_array_equal(out.data, np.remainder(a.data, b.data))
    out.sum().backward()
    np.testing.assert_array_equal(a.grad, [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(b.grad, -np.floor(a.data / b.data))  # -3, 4, 4
    np.testing.assert_array_equal((7.5 % leaf([2.0])).data, [1.5])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_floor_ceil_round_carry_numpys_values_and_no_gradient(dtype):
    x = Tensor(np.array([-1.5, -0.5, 0.5, 1.5, 2.25], dtype), requires_grad=True)
    y = np.floor(x) + ag.ceil(x) * 2.0 + x.round() * 3.0 + x
    np.testing.assert_array_equal(
        y.data, np.floor(x.data) + np.ceil(x.data) * 2 + np.round(x.data) * 3 + x.data)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, np.ones(5))  # only the + x path


def test_linear_algebra_gradients_are_the_matrix_calculus_identities():
    """d det(A) = det(A) tr(A^-1 dA); d inv(A) = -A^-1 dA A^-1; d log|det A| = A^-T; x = solve(A,
    b): d/db = A^-T g, d/dA = -(A^-T g) x^T (closed forms evaluated with numpy)."""
    inverse, g = np.linalg.inv(A), RNG.normal(size=(3, 3))
    m = leaf(A)
    ag.linalg.det(m).backward()
    np.testing.assert_allclose(m.grad, np.linalg.det(A) * inverse.T, rtol=RTOL)
    m = leaf(A)
    ag.linalg.inv(m).backward(g)
    np.testing.assert_allclose(m.grad, -inverse.T @ g @ inverse.T, rtol=RTOL)
    m = leaf(A)
    sign, logabsdet = ag.linalg.slogdet(m)
    assert float(sign.data) == np.sign(np.linalg.det(A)) and not sign.requires_grad
    logabsdet.backward()
    np.testing.assert_allclose(m.grad, inverse.T, rtol=RTOL)
    m, b, u = leaf(A), leaf([1.0, -2.0, 0.5]), np.array([0.5, 1.0, -1.0])
    x = ag.linalg.solve(m, b)
    x.backward(u)
    np.testing.assert_allclose(b.grad, np.linalg.solve(A.T, u), rtol=RTOL)
    np.testing.assert_allclose(m.grad, -np.outer(np.linalg.solve(A.T, u), x.data), rtol=RTOL)


def test_a_singular_matrix_names_the_operation_where_an_inverse_is_needed():
    """det of a singular matrix is 0, but its gradient needs A^-1: numpy's LinAlgError (a
    ValueError) naming inv, the operand and why, eager and compiled; solve likewise."""
    singular = np.array([[1.0, 2.0], [2.0, 4.0]])
    assert float(ag.linalg.det(leaf(singular)).data) == 0.0
    with pytest.raises(np.linalg.LinAlgError, match=r"linalg\.inv of float64\[2, 2\]: Singular"
                                                     r".*gradients of det"):
        ag.grad(lambda a: ag.linalg.det(a))(singular)
    with pytest.raises(np.linalg.LinAlgError, match=r"linalg\.inv of float64\[2, 2\]: Singular"):
        ag.compile(lambda a: ag.linalg.det(a))(singular)
    with pytest.raises(np.linalg.LinAlgError,
                       match=r"linalg\.solve of float64\[2, 2\], float64\[2\]: Singular"):
        ag.linalg.solve(leaf(singular), np.ones(2))


def test_solve_reads_a_1d_b_as_one_vector_for_a_stack_of_matrices():
    """numpy 2: b of shape (n,) is one vector for every matrix of the stack; b's gradient sums
    over the stack."""
    stack, b = np.stack([A, A.T, 2 * A]), np.array([1.0, -2.0, 0.5])
    ts, tb = leaf(stack), leaf(b)
    x = ag.linalg.solve(ts, tb)
    np.testing.assert_allclose(x.data, np.linalg.solve(stack, b), rtol=RTOL)
    x.sum().backward()
    expected = sum(np.linalg.solve(m.T, np.ones(3)) for m in stack)
    np.testing.assert_allclose(tb.grad, expected, rtol=RTOL)


def test_sort_gradient_permutes_g_back_and_argsort_gives_integers():
    x = leaf([3.0, 1.0, 2.0])
    out = np.sort(x)
    np.testing.assert_array_equal(out.data, [1.0, 2.0, 3.0])
    out.backward(np.array([10.0, 20.0, 30.0]))
    np.testing.assert_array_equal(x.grad, [30.0, 10.0, 20.0])
    order = x.argsort()
    assert order.dtype.kind == "i" and not order.requires_grad
    np.testing.assert_array_equal(order.data, [1, 2, 0])
    assert int(x.argmax()) == 0 and int(np.argmin(x)) == 1


def test_split_functions_return_numpys_parts():
    x = RNG.normal(size=(4, 6))
    t = leaf(x)
    for ours, theirs in ((ag.split(t, 3, axis=1), np.split(x, 3, axis=1)),
                         (ag.array_split(t, [1, 5], axis=1), np.array_split(x, [1, 5], axis=1)),
                         (np.array_split(t, 3), np.array_split(x, 3)),
                         (np.hsplit(t, 2), np.hsplit(x, 2)), (np.vsplit(t, [3]),
                                                              np.vsplit(x, [3]))):
        assert isinstance(ours, list) and len(ours) == len(theirs)
        for part, expected in zip(ours, theirs):
            np.testing.assert_array_equal(part.data, expected)
    with pytest.raises(ShapeError, match="array_split"):
        ag.split(t, 4, axis=1)


def test_atleast_functions_return_a_tuple_for_several_arrays_and_keep_larger_ones():
    a, b, c = leaf(1.0), leaf([1.0, 2.0]), leaf(np.ones((2, 2, 2)))
    ours, theirs = ag.atleast_2d(a, b, c), np.atleast_2d(1.0, [1.0, 2.0], np.ones((2, 2, 2)))
    assert isinstance(ours, tuple) and [o.shape for o in ours] == [t.shape for t in theirs]
    assert ours[2] is c  # numpy returns an array that has the dimensions as it is


def test_inner_of_a_0d_operand_and_cross_of_2_vectors():
    np.testing.assert_array_equal(ag.inner(leaf(2.0), leaf([1.0, 3.0])).data, [2.0, 6.0])
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # numpy 2 deprecates 2-vectors
        expected = np.cross([1.0, 2.0], [3.0, 4.0])
    out = ag.cross(a, b)
    assert float(out.data) == expected
    out.backward()
    np.testing.assert_array_equal(a.grad, [4.0, -3.0])  # d/da (a0 b1 - a1 b0)


def test_norm_orders_and_what_is_refused():
    x = np.array([[3.0, -4.0], [0.0, 1.0]])
    for kwargs in ({}, {"ord": 0, "axis": 1}, {"ord": 1}, {"ord": np.inf}, {"ord": "fro"},
                   {"ord": 3, "axis": 0}, {"axis": (0, 1), "keepdims": True}):
        np.testing.assert_allclose(ag.linalg.norm(leaf(x), **kwargs).data,
                                   np.linalg.norm(x, **kwargs), rtol=RTOL)
    for order in ("nuc", 2, -2):
        with pytest.raises(ValueError, match="singular values"):
            ag.linalg.norm(leaf(x), ord=order)
    with pytest.raises(ValueError, match="invalid norm order 'fro' for vectors"):
        ag.linalg.norm(leaf(x), ord="fro", axis=0)


def test_linspace_forms():
    start, stop = leaf(1.0), leaf(2.0)
    out, step = ag.linspace(start, stop, 5, retstep=True)
    expected, expected_step = np.linspace(1.0, 2.0, 5, retstep=True)
    np.testing.assert_allclose(out.data, expected, rtol=RTOL)
    assert float(step.data) == expected_step
    out.backward(np.ones(5))
    # samples k/4 of the way: d/dstart = sum(1 - k/4) = 2.5, d/dstop = sum(k/4) = 2.5
    assert float(start.grad) == 2.5 and float(stop.grad) == 2.5
    np.testing.assert_array_equal(ag.linspace(start, stop, 1).data, np.linspace(1.0, 2.0, 1))
    np.testing.assert_array_equal(ag.linspace(0.0, 7.0, 4, dtype=int),
                                  np.linspace(0.0, 7.0, 4, dtype=int))


def test_pad_and_nan_to_num_refuse_what_they_leave_out():
    with pytest.raises(ValueError, match="mode='edge' is not supported.*concatenate"):
        np.pad(leaf([1.0, 2.0]), 1, mode="edge")
    with pytest.raises(TypeError, match="copy=False .* in place"):
        np.nan_to_num(leaf([1.0]), copy=False)


def test_where_with_only_a_condition_is_refused_with_the_mask_to_use():
    with pytest.raises(TypeError, match="np.nonzero"):
        np.where(leaf([1.0, 0.0]) > 0)
