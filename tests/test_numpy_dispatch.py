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

from autograd_lite import Tensor
from autograd_lite import functions as F

X = np.array([[-1.5, 0.25, 2.0], [0.5, -0.75, 1.25]])  # (2, 3)
#: dispatch-table entries that are not operations: shape queries, and np.positive (the identity)
NOT_OPERATIONS = {np.shape, np.ndim, np.size, np.positive}


def test_every_dispatched_numpy_function_is_spelled_in_the_table():
    dispatched = set(F.UFUNCS) | set(F.FUNCTIONS)
    spelled = {s.target for op in TABLE for s in op.spellings if s.kind == "numpy"}
    missing = sorted(f.__name__ for f in dispatched - NOT_OPERATIONS - spelled)
    assert not missing, f"dispatched numpy functions no table entry spells: {missing}"


@pytest.mark.parametrize("op, spelling", spelling_params(DIFFERENTIABLE, ("numpy",)))
@fewer_examples(2)
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


UNSUPPORTED = {  # what numpy is asked: (the call, the name the message must contain)
    "np.arctan": (lambda t: np.arctan(t), "np.arctan"),
    "np.floor": (lambda t: np.floor(t), "np.floor"),
    "np.sort": (lambda t: np.sort(t), "np.sort"),
    "np.var": (lambda t: np.var(t), "np.var"),
    "np.median": (lambda t: np.median(t), "np.median"),
    "np.cumprod": (lambda t: np.cumprod(t), "np.cumprod"),
    "np.diff": (lambda t: np.diff(t), "np.diff"),
    "np.linalg.norm": (lambda t: np.linalg.norm(t), "norm"),
    "np.add.reduce": (lambda t: np.add.reduce(t), "np.add.reduce"),
    "np.add.accumulate": (lambda t: np.add.accumulate(t), "np.add.accumulate"),
    "np.multiply.outer": (lambda t: np.multiply.outer(t, t), "np.multiply.outer"),
}


@pytest.mark.parametrize("name", sorted(UNSUPPORTED))
@pytest.mark.parametrize("requires_grad", [True, False])
def test_unsupported_numpy_functions_raise_type_error_naming_them(name, requires_grad):
    call, named = UNSUPPORTED[name]
    t = Tensor(X, requires_grad=requires_grad)
    with pytest.raises(TypeError) as info:
        call(t)
    assert named in str(info.value)


def test_unsupported_keyword_arguments_raise_type_error():
    t = Tensor(X, requires_grad=True)
    with pytest.raises(TypeError, match="np.tanh"):
        np.tanh(t, out=np.empty_like(X))
    with pytest.raises(TypeError, match="np.sum"):
        np.sum(t, dtype=np.float32)


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
