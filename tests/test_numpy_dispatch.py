"""numpy's dispatch protocols on Tensors: every numpy spelling of tests/op_table.py (np.tanh(t),
np.einsum(..., t), np.concatenate([t, ndarray]), ...) records on the tape and gives
central-difference gradients; every entry of the dispatch tables is spelled in the table; any
other numpy function raises a TypeError naming it instead of silently dropping the graph."""

import numpy as np
import pytest
from checks import assert_grad_matches_finite_differences as check
from checks import fewer_examples
from hypothesis import given
from hypothesis import strategies as st
from op_table import DIFFERENTIABLE, TABLE, bind, spelling_params
from strategies import AG_BOUND, AG_POSITIVE_LOW, ag_arrays, ag_shapes

import autograd_lite as ag
from autograd_lite import Tensor
from autograd_lite import functions as F

X = np.array([[-1.5, 0.25, 2.0], [0.5, -0.75, 1.25]])  # (2, 3)
#: dispatch-table entries that are not operations: shape queries, constants of a Tensor's shape
#: (np.zeros_like, ...) and np.positive (the identity)
NOT_OPERATIONS = {np.shape, np.ndim, np.size, np.positive, np.zeros_like, np.ones_like,
                  np.empty_like, np.full_like}


def test_every_dispatched_numpy_function_is_spelled_in_the_table():
    dispatched = set(F.UFUNCS) | set(F.FUNCTIONS)
    spelled = {s.target for op in TABLE for s in op.spellings if s.kind == "numpy"}
    missing = sorted(f.__name__ for f in dispatched - NOT_OPERATIONS - spelled)
    assert not missing, f"dispatched numpy functions no table entry spells: {missing}"


@pytest.mark.parametrize("op, spelling", spelling_params(DIFFERENTIABLE, ("numpy",)))
@fewer_examples(4)  # 7 examples per spelling by default: about 140 numpy spellings
@given(data=st.data())
def test_numpy_spelling_records_on_the_tape(op, spelling, data):
    """All operands Tensors, then each one alone (the others plain ndarrays, on either side):
    a Tensor with the entry's grad_fn, numpy's value and the central-difference gradient."""
    case = data.draw(op.cases, label="case")
    f, reference = bind(spelling.call, case.params), bind(op.reference, case.params)
    numeric = None if op.numeric is None else bind(op.numeric, case.params)
    n = len(case.arrays)
    for argnums in [tuple(range(n))] + ([(i,) for i in range(n)] if n > 1 else []):
        out, _ = check(f, case.arrays, argnums, reference=reference, numeric=numeric)
        assert out.grad_fn == op.output_grad_fn(case.params)


@given(x=ag_arrays(ag_shapes(), AG_POSITIVE_LOW, AG_BOUND))
def test_numpy_ufunc_chains(x):
    check(lambda t: np.log(np.exp(np.tanh(t)) * t) / np.cosh(t) + np.sin(t) ** 2, [x],
          reference=lambda a: np.log(np.exp(np.tanh(a)) * a) / np.cosh(a) + np.sin(a) ** 2)


def test_np_positive_is_the_identity():
    t = Tensor(X, requires_grad=True)
    out = np.positive(t) * 2.0
    out.sum().backward()
    np.testing.assert_array_equal(out.data, 2.0 * X)
    np.testing.assert_array_equal(t.grad, np.full(X.shape, 2.0))


def test_shape_queries_pass_through():
    t = Tensor(X, requires_grad=True)
    assert np.shape(t) == (2, 3) and np.ndim(t) == 2 and np.size(t) == 6
    assert np.size(t, 1) == 3 and np.size(t, axis=-2) == 2


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_arrays_like_a_tensor_are_constants_of_its_shape_and_dtype(dtype):
    """np.zeros_like(W) (a momentum buffer, say) of a Tensor, also of one being compiled."""
    t = Tensor(X.astype(dtype), requires_grad=True)
    for made, expected in ((np.zeros_like(t), np.zeros_like(t.data)),
                           (np.ones_like(t, dtype=np.float32), np.ones_like(t.data, np.float32)),
                           (np.full_like(t, 2.5), np.full_like(t.data, 2.5)),
                           (np.empty_like(t).shape, t.shape)):
        assert not isinstance(made, Tensor)
        np.testing.assert_array_equal(made, expected)
        assert np.asarray(made).dtype == np.asarray(expected).dtype
    value, g = ag.compile(lambda w: (w * np.ones_like(w) * 2.0).sum())(X)
    assert value == 2.0 * X.sum() and np.array_equal(g, np.full_like(X, 2.0))


UNSUPPORTED = {  # what numpy is asked: (the call, the name and the advice the message contains)
    "np.median": (lambda t: np.median(t), "np.median", "np.sort"),
    "np.cumprod": (lambda t: np.cumprod(t), "np.cumprod", "np.exp(np.cumsum(np.log(x)))"),
    "np.linalg.svd": (lambda t: np.linalg.svd(t), "np.linalg.svd", "decompositions"),
    "np.linalg.eigh": (lambda t: np.linalg.eigh(t[:, :2]), "np.linalg.eigh", "decompositions"),
    "np.percentile": (lambda t: np.percentile(t, 50), "np.percentile", "differentiable numpy"),
    "np.add.reduce": (lambda t: np.add.reduce(t), "np.add.reduce", "np.sum(x, axis)"),
    "np.add.accumulate": (lambda t: np.add.accumulate(t), "np.add.accumulate", "np.cumsum"),
    "np.multiply.outer": (lambda t: np.multiply.outer(t, t), "np.multiply.outer", "np.outer"),
    "np.maximum.at": (lambda t: np.maximum.at(t, 0, 1.0), "np.maximum.at", "np.max"),
    "np.cbrt": (lambda t: np.cbrt(t), "np.cbrt", "differentiable numpy functions"),
}


@pytest.mark.parametrize("name", sorted(UNSUPPORTED))
@pytest.mark.parametrize("requires_grad", [True, False])
def test_unsupported_numpy_functions_raise_type_error_naming_them(name, requires_grad):
    """The message names numpy's function as numpy spells it (np.linalg.svd, not np.svd) and
    says what to write instead."""
    call, named, instead = UNSUPPORTED[name]
    t = Tensor(X, requires_grad=requires_grad)
    with pytest.raises(TypeError) as info:
        call(t)
    assert named in str(info.value) and instead in str(info.value)


def test_the_messages_name_np_linalg_functions_by_their_module():
    """np.linalg.norm's __name__ is 'norm': the message must not say np.norm."""
    with pytest.raises(ValueError, match="np.linalg.norm") as info:
        np.linalg.norm(Tensor(X, requires_grad=True), ord="nuc")
    assert "singular values" in str(info.value)
    with pytest.raises(TypeError, match=r"np\.linalg\.pinv") as info:
        np.linalg.pinv(Tensor(X, requires_grad=True))
    assert "np.pinv" not in str(info.value)


UNSUPPORTED_KEYWORDS = {  # the call: (the keyword named, the advice the message contains)
    "np.tanh(t, out=)": (lambda t: np.tanh(t, out=np.empty_like(X)), "out=", "assign the result"),
    "np.add(t, t, where=)": (lambda t: np.add(t, t, where=X > 0), "where=", "ag.where"),
    "np.exp(t, dtype=)": (lambda t: np.exp(t, dtype=np.float32), "dtype=", "astype"),
    "np.sum(t, dtype=)": (lambda t: np.sum(t, dtype=np.float32), "dtype=", "astype"),
    "np.mean(t, where=)": (lambda t: np.mean(t, where=X > 0), "where=", "ag.where"),
    "np.max(t, initial=)": (lambda t: np.max(t, initial=0.0), "initial=", "ag.maximum"),
    "np.var(t, out=)": (lambda t: np.var(t, out=np.empty(())), "out=", "assign the result"),
    "np.reshape(t, order=F)": (lambda t: np.reshape(t, (3, 2), order="F"), "order='F'",
                               "x.T.reshape"),
    "np.ravel(t, order=F)": (lambda t: np.ravel(t, order="F"), "order='F'", "x.T.ravel()"),
    "np.sort(t, order=)": (lambda t: np.sort(t, order="x"), "order=", "structured"),
    "np.concatenate(out=)": (lambda t: np.concatenate([t, t], out=np.empty((4, 3))), "out=",
                             "assign the result"),
    "np.einsum(out=)": (lambda t: np.einsum("ij->i", t, out=np.empty(2)), "out=",
                        "assign the result"),
    "t.std(dtype=)": (lambda t: t.std(dtype=np.float32), "dtype=", "astype"),
    "t.clip(0, 1, out=)": (lambda t: t.clip(0, 1, out=np.empty_like(X)), "out=",
                           "assign the result"),
}


@pytest.mark.parametrize("name", sorted(UNSUPPORTED_KEYWORDS))
def test_unsupported_keywords_are_named_with_what_to_write_instead(name):
    """A numpy keyword autograd_lite leaves out: a TypeError naming the function and the
    keyword, and saying what to write instead (never an internal message)."""
    call, keyword, instead = UNSUPPORTED_KEYWORDS[name]
    with pytest.raises(TypeError) as info:
        call(Tensor(X, requires_grad=True))
    message = str(info.value)
    assert keyword in message and instead in message, message
    assert "unexpected keyword" not in message and "Traceback" not in message


NEUTRAL_KEYWORDS = {  # keywords whose values change nothing: accepted
    "np.tanh(t, out=None)": (lambda t: np.tanh(t, out=None), np.tanh(X)),
    "np.add(t, t, where=True)": (lambda t: np.add(t, t, where=True), X + X),
    "np.exp(t, order=K)": (lambda t: np.exp(t, order="K"), np.exp(X)),
    "np.sum(t, dtype=None, out=None)": (lambda t: np.sum(t, 0, None, None, True),
                                        np.sum(X, 0, keepdims=True)),
    "np.reshape(t, order=C)": (lambda t: np.reshape(t, (3, 2), order="C"), X.reshape(3, 2)),
    "np.einsum(optimize=True)": (lambda t: np.einsum("ij->i", t, optimize=True), X.sum(1)),
    "np.var(t, 1, None, None, 1)": (lambda t: np.var(t, 1, None, None, 1), np.var(X, 1, ddof=1)),
    "t.std(0, None, None, 1, True)": (lambda t: t.std(0, None, None, 1, True),
                                      X.std(0, ddof=1, keepdims=True)),
}


@pytest.mark.parametrize("name", sorted(NEUTRAL_KEYWORDS))
def test_numpy_keywords_that_change_nothing_are_accepted(name):
    """numpy's defaults, passed explicitly (and positionally, in numpy's order), are accepted
    and mean what they mean in numpy."""
    call, expected = NEUTRAL_KEYWORDS[name]
    out = call(Tensor(X, requires_grad=True))
    assert isinstance(out, Tensor) and out.requires_grad
    np.testing.assert_allclose(out.data, expected, rtol=1e-12)


def test_arguments_numpy_does_not_have_either_give_numpys_own_error():
    """numpy's own complaint, as for an ndarray (numpy raises it before dispatching, or its
    signature refuses the arguments)."""
    t = Tensor(X, requires_grad=True)
    with pytest.raises(TypeError, match="unexpected keyword argument 'axes'"):
        np.sum(t, axes=0)
    with pytest.raises(TypeError, match="takes from 1 to 6 positional arguments"):
        np.var(t, 0, None, None, 0, False, 1)


@pytest.mark.parametrize("build", [np.array, np.asarray], ids=["np.array", "np.asarray"])
def test_building_an_array_from_tensors_that_require_grad_is_refused(build):
    """np.array([t1, t2]) would drop the graph: a TypeError naming autograd_lite.stack."""
    t1, t2 = Tensor([1.0, 2.0], requires_grad=True), Tensor([3.0, 4.0], requires_grad=True)
    with pytest.raises(TypeError, match=r"autograd_lite\.stack"):
        build([t1, t2])
    with pytest.raises(TypeError, match=r"autograd_lite\.stack"):
        build([Tensor(1.0, requires_grad=True), 2.0])


def test_building_an_array_from_tensors_without_grad_works():
    """Constants carry no graph: np.array of them is their data."""
    np.testing.assert_array_equal(np.array([Tensor([1.0, 2.0]), Tensor([3.0, 4.0])]),
                                  [[1.0, 2.0], [3.0, 4.0]])
