"""Every error autograd_lite raises: its class, and that its message names what went wrong."""

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from strategies import AG_MAX_DIMS, AG_MAX_SIDE

import autograd_lite as ag
from autograd_lite import DTypeError, ShapeError, Tensor

X = np.ones((2, 3))


def leaf(shape=(2, 3)):
    return Tensor(np.ones(shape), requires_grad=True)


def names_shape(message: str, shape: tuple[int, ...]) -> bool:
    """True if `message` spells `shape` as (2, 3), (2,3) or [2, 3]."""
    spellings = {str(shape), str(shape).replace(" ", ""), str(list(shape))}
    return any(s in message for s in spellings)


def test_error_hierarchy():
    assert issubclass(ShapeError, ValueError)
    assert issubclass(DTypeError, TypeError)
    assert issubclass(ag.GraphFreedError, RuntimeError)
    assert issubclass(ag.GradcheckError, AssertionError)


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


def test_matmul_rejects_more_than_two_dimensions():
    with pytest.raises(ShapeError, match="matmul") as info:
        leaf((2, 3)) @ np.ones((2, 3, 4))
    assert names_shape(str(info.value), (2, 3, 4))
    with pytest.raises(ShapeError, match="matmul"):
        ag.matmul(leaf((2, 3)), 2.0)


@st.composite
def incompatible_shape_pairs(draw):
    """Two shapes that cannot broadcast: some aligned axis has sizes n != m, both > 1."""
    shape = list(draw(hnp.array_shapes(min_dims=1, max_dims=AG_MAX_DIMS, min_side=1,
                                       max_side=AG_MAX_SIDE)))
    other = list(shape[draw(st.integers(0, len(shape) - 1)):])
    axis = draw(st.integers(0, len(other) - 1))
    n = draw(st.integers(2, AG_MAX_SIDE))
    m = draw(st.integers(2, AG_MAX_SIDE).filter(lambda v: v != n))
    shape[len(shape) - len(other) + axis], other[axis] = n, m
    return tuple(shape), tuple(other)


BROADCASTING_OPS = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b, "mse": ag.mse,
}


@pytest.mark.parametrize("name", sorted(BROADCASTING_OPS))
@settings(max_examples=20, deadline=None)
@given(shapes=incompatible_shape_pairs(), swap=st.booleans())
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


def test_tensor_exponent_and_bad_constant_base_are_refused():
    with pytest.raises(DTypeError, match="pow"):
        leaf((3,)) ** leaf((3,))
    with pytest.raises(DTypeError, match="pow"):
        (-2.0) ** leaf((3,))


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
