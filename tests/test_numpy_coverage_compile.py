"""compile, for every entry of tests/op_table.py: the compiled program's value and gradients equal
the eager tape's (`value_and_grad`, itself checked against central differences by
test_autograd_ops.py), on the drawn inputs and again on other values of the same signature, so
that nothing computed from the values (a sort's order, a mask, a floor) is baked into the
program: the second call runs the program traced for the first.

The function compiled is sum(u * op(x, ...)) for a fixed cotangent u (a differentiable entry),
or sum(x * op(x, ...)) (the others: no gradient may flow through op, and its value must still
be recomputed). The other values are the same entries in reverse order (each input's
domain is kept: the strategies bound entries one by one; a square matrix reversed stays
diagonally dominant, distinct entries stay distinct).

Tolerance: the program runs the recorded operations, up to reassociated scalar factors, fused
products and buffers written in place; each changes a result by a few ulps of the values it is
computed from (|values| <= ~1e3 by checks.py's bounds). RTOL = 1e-10 relative, with an absolute
floor of 1e-10 times the largest magnitude compared, leaves five digits of margin; a stale value
or a wrong program is off by O(1).
"""

import numpy as np
import pytest
from checks import cotangent, fewer_examples
from hypothesis import assume, given
from hypothesis import strategies as st
from op_table import TABLE, Op

import autograd_lite as ag

RTOL = 1e-10


def reversed_entries(a: np.ndarray) -> np.ndarray:
    return a.ravel()[::-1].reshape(a.shape).copy()


def compiled_function(op: Op, case) -> tuple:
    spelling = op.spellings[0]
    if op.differentiable:
        u = cotangent(np.shape(op.reference(*case.arrays, **case.params)))

        def f(*xs):
            return (u * spelling.call(*xs, **case.params)).sum()
    else:
        def f(*xs):
            return (xs[0] * spelling.call(*xs, **case.params)).sum()
    return f, tuple(range(len(case.arrays)))


def assert_close(actual, expected, what: str) -> None:
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape and actual.dtype == expected.dtype, what
    scale = float(np.max(np.abs(expected), initial=1.0)) if np.all(np.isfinite(expected)) \
        else 1.0
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=RTOL * scale, err_msg=what)


def boolean_mask(params: dict) -> bool:
    """An index with a boolean mask: compile reads the arrays of f's closure at every call, and
    a mask it reads gives a result whose shape depends on values, which it refuses (TraceError:
    test_compiler.py's business)."""
    index = params.get("index")
    parts = index if isinstance(index, tuple) else (index,)
    return any(isinstance(p, np.ndarray) and p.dtype == bool for p in parts)


@pytest.mark.parametrize("op", TABLE, ids=lambda op: op.name)
@fewer_examples(6)  # 5 examples per entry by default
@given(data=st.data())
def test_compiled_program_equals_the_eager_tape_on_new_values(op, data):
    case = data.draw(op.cases, label="case")
    assume(not boolean_mask(case.params))
    f, argnums = compiled_function(op, case)
    cf = ag.compile(f, argnums=argnums)
    for label, arrays in (("drawn", case.arrays),
                          ("reversed", tuple(reversed_entries(a) for a in case.arrays))):
        value, grads = cf(*arrays)
        expected_value, expected_grads = ag.value_and_grad(f, argnums)(*arrays)
        assert_close(value, expected_value, f"{op.name}: value ({label} inputs)")
        for k, (g, e) in enumerate(zip(grads, expected_grads)):
            assert_close(g, e, f"{op.name}: gradient {k} ({label} inputs)")
    assert cf.traces == 1, "the second call (same shapes and dtypes) traced again"
