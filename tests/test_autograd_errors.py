"""Every error autograd_lite raises: its class, and that its message names what went wrong."""

import re
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import ag_incompatible_shape_pairs

import autograd_lite as ag
from autograd_lite import DTypeError, ShapeError, Tensor

X = np.ones((2, 3))


def leaf(shape=(2, 3)):
    return Tensor(np.ones(shape), requires_grad=True)


def names_shape(message: str, shape: tuple[int, ...]) -> bool:
    """True if `message` spells `shape` as (2, 3), (2,3) or [2, 3]."""
    spellings = {str(shape), str(shape).replace(" ", ""), str(list(shape))}
    return any(s in message for s in spellings)


# ---- shapes ----------------------------------------------------------------------------------
@pytest.mark.parametrize("a_shape, b_shape", [((2, 3), (2, 3)), ((3,), (4,)), ((2, 3), (4,)),
                                              ((5,), (4, 2)), ((2, 3), (2, 4))])
def test_matmul_incompatible_shapes(a_shape, b_shape):
    for a, b in [(leaf(a_shape), np.ones(b_shape)), (np.ones(a_shape), leaf(b_shape)),
                 (leaf(a_shape), leaf(b_shape))]:
        with pytest.raises(ShapeError) as info:
            a @ b
        message = str(info.value)
        assert "matmul" in message
        assert names_shape(message, a_shape) and names_shape(message, b_shape), message


def test_matmul_batch_axes_that_do_not_broadcast_and_scalars():
    with pytest.raises(ShapeError, match="matmul") as info:
        leaf((2, 3, 4)) @ np.ones((5, 4, 2))
    assert names_shape(str(info.value), (2, 3, 4)) and names_shape(str(info.value), (5, 4, 2))
    with pytest.raises(ShapeError, match="matmul"):
        ag.matmul(leaf((2, 3)), 2.0)


BROADCASTING_OPS = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b, "mse": ag.mse, "maximum": ag.maximum, "minimum": ag.minimum,
    "where": lambda a, b: ag.where(True, a, b), "greater": lambda a, b: a > b,
    "equal": lambda a, b: a == b,
}


@pytest.mark.parametrize("name", sorted(BROADCASTING_OPS))
@settings(max_examples=max(settings.default.max_examples // 3, 1))  # one per broadcasting op
@given(shapes=ag_incompatible_shape_pairs(), swap=st.booleans())
def test_broadcasting_incompatible_shapes(name, shapes, swap):
    a_shape, b_shape = shapes[::-1] if swap else shapes
    with pytest.raises(ShapeError) as info:
        BROADCASTING_OPS[name](leaf(a_shape), np.ones(b_shape))
    message = str(info.value)
    assert name in message
    assert names_shape(message, a_shape) and names_shape(message, b_shape), message
    with pytest.raises(ShapeError):
        BROADCASTING_OPS[name](np.ones(a_shape), leaf(b_shape))


def test_broadcast_to_incompatible_shape():
    with pytest.raises(ShapeError, match="broadcast_to") as info:
        ag.broadcast_to(leaf((2, 3)), (3, 3))
    assert names_shape(str(info.value), (2, 3)) and names_shape(str(info.value), (3, 3))


def test_reshape_to_wrong_size():
    with pytest.raises(ShapeError, match="reshape") as info:
        leaf((2, 3)).reshape(4, 2)
    assert names_shape(str(info.value), (2, 3))


# ---- dtypes ----------------------------------------------------------------------------------
@pytest.mark.parametrize("data", [np.array([1, 2]), np.array([1, 2], dtype=np.int32),
                                  np.array([1, 2], dtype=np.uint8), np.array([True, False])],
                         ids=["int64", "int32", "uint8", "bool"])
def test_requires_grad_on_integer_or_bool_data(data):
    with pytest.raises(DTypeError) as info:
        Tensor(data, requires_grad=True)
    assert str(data.dtype) in str(info.value)
    t = Tensor(data)  # without requires_grad the data is accepted ...
    with pytest.raises(DTypeError, match=str(data.dtype)):
        t.requires_grad = True  # ... but cannot be switched to requiring a gradient


@pytest.mark.parametrize("data, dtype_name", [
    (np.array([1 + 2j]), "complex128"),
    (np.array([1.0], dtype=np.complex64), "complex64"),
    (np.array([object()]), "object"),
    (np.array(["a", "b"]), "<U1"),
    (np.array([b"a"]), "|S1"),
])
@pytest.mark.parametrize("requires_grad", [False, True])
def test_non_real_data_is_refused(data, dtype_name, requires_grad):
    with pytest.raises(DTypeError) as info:
        Tensor(data, requires_grad=requires_grad)
    assert dtype_name in str(info.value)


@pytest.mark.parametrize("other", [np.array([1j, 2j, 3j]), np.array(["a", "b", "c"]), 1 + 1j],
                         ids=["complex-array", "str-array", "complex-scalar"])
def test_non_real_operands_are_refused(other):
    with pytest.raises(DTypeError):
        leaf((3,)) + other
    with pytest.raises(DTypeError):
        leaf((3,)) * other


def test_array_exponents_and_any_constant_base_are_numpys_power():
    """x ** y of two arrays and a constant base <= 0 are numpy's power (issue 18: they were
    refused): numpy's values, nan where numpy gives nan (a negative base to a fractional
    power), and no error."""
    x, y = leaf((3,)), np.array([0.5, 2.0, 3.0])
    np.testing.assert_array_equal((x ** y).data, x.data ** y)
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(((-2.0) ** Tensor(y)).data, (-2.0) ** y)


# ---- backward ----------------------------------------------------------------------------------
@pytest.mark.parametrize("grad_shape", [(3, 2), (6,), (2, 3, 1), (), (1, 3)])
def test_backward_grad_of_wrong_shape(grad_shape):
    y = leaf((2, 3)) * 2.0
    with pytest.raises(ShapeError) as info:
        y.backward(np.ones(grad_shape))
    message = str(info.value)
    assert str(grad_shape) in message and str((2, 3)) in message, message


def test_backward_on_scalar_with_wrong_grad_shape():
    y = (leaf((2, 3)) * 2.0).sum()
    with pytest.raises(ShapeError) as info:
        y.backward(np.ones(2))
    assert str((2,)) in str(info.value) and str(()) in str(info.value)


def test_backward_on_non_scalar_without_grad():
    y = leaf((2, 3)) * 2.0
    with pytest.raises(ShapeError) as info:
        y.backward()
    message = str(info.value)
    assert "grad" in message and names_shape(message, (2, 3)), message


def test_backward_with_non_numeric_grad():
    with pytest.raises(DTypeError):
        (leaf((2,)) * 2.0).backward(np.array(["a", "b"]))


def test_backward_on_tensor_that_does_not_require_grad():
    for t in (Tensor(X), Tensor(X).sum(), leaf().detach().sum()):
        with pytest.raises(RuntimeError, match="does not require grad"):
            t.backward()


# ---- leaving the tape ------------------------------------------------------------------------
def test_np_asarray_of_requires_grad_tensor_raises_type_error():
    t = leaf()
    for convert in (np.asarray, np.array, lambda v: np.asarray(v, dtype=np.float32)):
        with pytest.raises(TypeError, match=re.escape("detach()")):
            convert(t)
    with pytest.raises(TypeError):
        np.asarray(t * 2.0)
    np.testing.assert_array_equal(np.asarray(t.detach()), X)  # the documented way out
    np.testing.assert_array_equal(np.asarray(Tensor(X)), X)


def test_item_of_multi_element_tensor():
    with pytest.raises(ShapeError) as info:
        leaf((2, 3)).item()
    assert names_shape(str(info.value), (2, 3))


def test_index_out_of_range_names_index_and_shape():
    with pytest.raises(IndexError) as info:
        leaf((2, 3))[5]
    assert "5" in str(info.value) and names_shape(str(info.value), (2, 3))


# ---- complex numbers are refused by every entry point (issue 14, repro 1) --------------------
Z = np.array([1.0 + 2.0j, 3.0j])
SCALAR_F = lambda x: (x * x).sum()  # noqa: E731
COMPLEX_ENTRY_POINTS = {
    "grad": lambda: ag.grad(SCALAR_F)(Z),
    "grad of a complex scalar": lambda: ag.grad(lambda x: x * x)(1.0 + 1.0j),
    "value_and_grad": lambda: ag.value_and_grad(SCALAR_F)(Z),
    "vjp": lambda: ag.vjp(lambda x: x * x, Z),
    "vjp, complex cotangent": lambda: ag.vjp(lambda x: x * x, np.ones(2))[1](Z),
    "jacobian": lambda: ag.jacobian(lambda x: x * x)(Z),
    "hessian": lambda: ag.hessian(SCALAR_F)(Z),
    "hvp": lambda: ag.hvp(SCALAR_F, Z, np.ones(2)),
    "hvp, complex direction": lambda: ag.hvp(SCALAR_F, np.ones(2), Z),
    "gradcheck": lambda: ag.gradcheck(lambda x: x * x, Z),
    "jvp": lambda: ag.jvp(lambda x: x * x, (Z,), (np.ones(2),)),
    "jvp, complex tangent": lambda: ag.jvp(lambda x: x * x, (np.ones(2),), (Z,)),
    "jacfwd": lambda: ag.jacfwd(lambda x: x * x)(Z),
    "Tensor": lambda: Tensor(Z),
    "backward, complex seed": lambda: (leaf((2,)) * 2.0).backward(Z),
    "astype to complex": lambda: ag.astype(leaf((2,)), np.complex128),
}


@pytest.mark.parametrize("name", sorted(COMPLEX_ENTRY_POINTS))
def test_complex_input_is_refused_with_a_dtype_error(name):
    """A DTypeError naming the dtype, never numpy's ComplexWarning and a silent cast."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a ComplexWarning (a silent cast) fails the test
        with pytest.raises(DTypeError, match="complex"):
            COMPLEX_ENTRY_POINTS[name]()


def test_sigmoid_of_a_complex_array_is_refused_or_right():
    """On plain arrays the functions are numpy; sigmoid's own formula (split by the sign of
    x) has no meaning for complex x: a DTypeError, or the true 1 / (1 + exp(-z))."""
    z = np.array([1.0j, 0.5 - 2.0j])
    try:
        out = ag.sigmoid(z)
    except DTypeError:
        return
    np.testing.assert_allclose(out, 1 / (1 + np.exp(-z)), rtol=1e-12)


# ---- casts -----------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.bool_])
def test_cast_to_integers_is_refused_or_carries_no_gradient(dtype):
    """int(x) is piecewise constant: d/dx sum(int(x) x) = int(x), not int(x) + x. A DTypeError
    (integer results cannot carry a gradient) is as good as the right number."""
    x = np.array([1.5, 2.75, -0.5])
    try:
        g = ag.grad(lambda t: (ag.astype(t, dtype) * t).sum())(x)
    except DTypeError:
        return
    np.testing.assert_array_equal(g, x.astype(dtype).astype(float))


# ---- arguments that are not axes, shapes or permutations -------------------------------------
def test_transpose_with_too_few_axes_raises_like_numpy():
    """t.transpose(0) of a 2-D tensor: numpy raises (axes don't match), so must we."""
    t = leaf((2, 3))
    with pytest.raises(ValueError):
        np.ones((2, 3)).transpose(0)
    for call in (lambda: t.transpose(0), lambda: t.transpose((0,)), lambda: ag.transpose(t, 0),
                 lambda: np.transpose(t, (0,))):
        with pytest.raises(ShapeError, match="transpose") as info:
            call()
        assert names_shape(str(info.value), (2, 3))


@pytest.mark.parametrize("call", [
    lambda t: t.sum(axis=1.5), lambda t: np.mean(t, axis=1.5), lambda t: t.max(axis=(0, 0.5)),
    lambda t: ag.cumsum(t, axis="1"), lambda t: ag.squeeze(t, 0.0),
], ids=["sum", "np.mean", "max tuple", "cumsum", "squeeze"])
def test_non_integer_axis_is_a_type_error_about_the_axis(call):
    with pytest.raises(TypeError, match="axis") as info:
        call(leaf((2, 3)))
    assert not isinstance(info.value, DTypeError)  # a wrong argument, not a wrong dtype


def test_non_integer_shape_names_reshape():
    with pytest.raises(TypeError, match="reshape"):
        leaf((2, 3)).reshape(2.0, 3)


@pytest.mark.parametrize("call, op", [
    (lambda t: t.sum(axis=2), "sum"), (lambda t: t.mean(axis=(0, 0)), "mean"),
    (lambda t: ag.squeeze(t, 0), "squeeze"), (lambda t: ag.expand_dims(t, 3), "expand_dims"),
    (lambda t: ag.swapaxes(t, 0, 2), "swapaxes"), (lambda t: ag.max(t[:0]), "max"),
    (lambda t: ag.concatenate([t, t.T]), "concatenate"), (lambda t: ag.stack([t, t.T]), "stack"),
    (lambda t: ag.concatenate([]), "concatenate"), (lambda t: ag.tensordot(t, t, 1),
                                                   "einsum"),
    (lambda t: ag.dot(t.reshape(1, 2, 3), t.T), "dot"),
    (lambda t: ag.repeat(t, np.array([1, 2, 3]), axis=0), "repeat"),
], ids=["sum", "mean", "squeeze", "expand_dims", "swapaxes", "max", "concatenate", "stack",
        "concatenate []", "tensordot", "dot", "repeat"])
def test_shape_errors_name_the_operation(call, op):
    with pytest.raises(ShapeError, match=op):
        call(leaf((2, 3)))


EINSUM_ERRORS = {  # subscripts, operand shapes, what the message says
    "ellipsis": ("...i,i", [(3,), (2,)], "index 'i' has sizes 3 and 2"),
    "diagonal": ("ii", [(3, 2)], "the repeated index 'i' has sizes 3 and 2"),
    "two ellipses": ("......i", [(3,)], "'.' only as one '...'"),
    "output twice": ("ij->ii", [(3, 3)], "each output index must appear once"),
    "output unknown": ("ij->k", [(3, 3)], "each output index must appear once"),
    "operand count": ("ij,jk->ik", [(2, 3)], "2 operand subscripts for 1 operands"),
    "sizes": ("ij,jk->ik", [(2, 3), (4, 2)], "index 'j' has sizes 3 and 4"),
    "rank": ("ij,jk->ik", [(2, 3), (3,)], "subscripts 'jk' for an operand of shape (3,)"),
}


@pytest.mark.parametrize("name", sorted(EINSUM_ERRORS))
def test_einsum_errors_name_the_subscripts(name):
    subscripts, shapes, says = EINSUM_ERRORS[name]
    with pytest.raises(ShapeError) as info:
        ag.einsum(subscripts, *(leaf(s) for s in shapes))
    assert repr(subscripts) in str(info.value) and says in str(info.value)


def test_index_arrays_of_floats_are_refused():
    with pytest.raises(IndexError, match="integers or booleans"):
        leaf((3,))[np.array([0.5])]


def test_max_and_min_refuse_only_an_empty_reduction():
    """numpy reduces an empty axis to an error, a non-empty one to an empty result: so do
    max and min, eager and with a gradient (zeros of the input's shape)."""
    empty_rows = np.zeros((0, 3))
    for f in (ag.max, ag.min):
        with pytest.raises(ShapeError, match="zero-size array"):
            f(empty_rows, axis=0)
        with pytest.raises(ShapeError, match="zero-size array"):
            f(Tensor(empty_rows, requires_grad=True))
        assert f(empty_rows, axis=1).shape == np.max(empty_rows, axis=1).shape == (0,)
        t = Tensor(empty_rows, requires_grad=True)
        ag.sum(f(t, axis=1)).backward()
        assert t.grad.shape == (0, 3)
