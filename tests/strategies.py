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
