"""The one finite-difference checker and the one relative error every autograd_lite test uses.

The oracle is always independent of the tape: central differences
(``autograd_lite.finite_differences.central_difference_jacobian``, plain numpy, itself checked
against analytic Jacobians in test_autograd_functional.py) of a plain-numpy reference function,
or of the function run with recording switched off (``no_grad``).

Tolerances (float64, step EPS = 1e-6)
-------------------------------------
A central difference of f has truncation error eps^2/6 * |f'''| and rounding error about
macheps * |f| / eps = 2.2e-16 * |f| / 1e-6 = 2.2e-10 * |f|. The strategies bound the values
(|x| <= 3; log inputs, divisors and bases of fractional/negative powers have 0.5 <= |x| <= 3;
tan's inputs |x| <= 1.2; inputs near a kink stay 1e-3 away from it), so |f| <= ~1e3 (sums of
<= 64 products of such values, exp(3) ~ 20) and |f'''| <= ~1e3 (e.g. d^3/db^3 a/b = -6a/b^4 <=
6*3/0.5^4 = 288; d^3 x^-2 = -24 x^-5 <= 768; tan''' <= 2 (1 + tan^2)(1 + 3 tan^2) <= 150 at
1.2). Both errors are then <= ~2e-7, so ATOL = 1e-6 with RTOL = 1e-5 passes every correct rule
with margin, while a wrong rule (a missing factor, a wrong sign, a dropped broadcast sum) is off
by O(1). Products (prod) can be large (<= 2^64 for 64 entries of |x| <= 2), but they are linear
in each entry, so their truncation error is 0 and the rounding error stays relative (RTOL).

The same budget holds for J v (tangents |v| <= 1) and for Hessians, which are central
differences of the first-order gradient (checked separately), one derivative higher.

float32 tapes are compared with the same float64 central differences, but their own rounding
(unit roundoff 6e-8, a few roundings of values <= ~30, summed over <= 64 terms) can reach
~1e-4, hence F32_ATOL = 1e-4 and F32_RTOL = 1e-3.

Forward values are compared with numpy at FORWARD_RTOL = 1e-12 (float64) / 1e-5 (float32):
the tape may use an algebraically equal formula (2**x as exp(x log 2), the sigmoid split by
sign), which differs from numpy's only by rounding.

Two exact routes to the same numbers (J v by forward mode and by the reverse-mode Jacobian,
H v against H @ v) differ only by the order of their roundings: <= n * macheps * max|terms|
for sums of n <= 64 terms of size <= max|result|, i.e. ~1e-14 relative to the largest entry;
`rel_err` <= EXACT_RTOL = 1e-10 leaves four digits of margin (float32: unit roundoff 6e-8
times the same 64 terms is ~4e-6, EXACT_RTOL_F32 = 1e-5).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from hypothesis import settings

from autograd_lite import Tensor, no_grad
from autograd_lite.finite_differences import central_difference_jacobian

EPS = 1e-6
ATOL, RTOL = 1e-6, 1e-5
F32_ATOL, F32_RTOL = 1e-4, 1e-3
FORWARD_ATOL, FORWARD_RTOL = 1e-12, 1e-12
F32_FORWARD_ATOL, F32_FORWARD_RTOL = 1e-6, 1e-5
EXACT_RTOL, EXACT_RTOL_F32 = 1e-10, 1e-5


def fewer_examples(divisor: int, floor: int = 5) -> settings:
    """The loaded profile's max_examples divided by `divisor` (costly properties: Hessians)."""
    return settings(max_examples=max(floor, settings.default.max_examples // divisor))


def rel_err(actual: Any, expected: Any) -> float:
    """max|actual - expected| / max|expected| over whole arrays of equal shape.

    0.0 when they are equal (also both zero), a huge number when `expected` is zero and `actual`
    is not, NaN when an entry is NaN or both are the same infinity (compare non-finite values
    with np.testing.assert_array_equal instead). Shapes must match exactly: no broadcasting.
    """
    actual = np.asarray(getattr(actual, "data", actual), dtype=np.float64)
    expected = np.asarray(getattr(expected, "data", expected), dtype=np.float64)
    assert actual.shape == expected.shape, f"shape {actual.shape} != expected {expected.shape}"
    if actual.size == 0:
        return 0.0
    scale = max(float(np.max(np.abs(expected))), np.finfo(np.float64).tiny)
    return float(np.max(np.abs(actual - expected))) / scale


def exact_rtol(dtype: Any) -> float:
    """EXACT_RTOL for float64 results, EXACT_RTOL_F32 for float32 ones (see the docstring)."""
    return EXACT_RTOL_F32 if np.dtype(dtype) == np.float32 else EXACT_RTOL


def cotangent(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """A fixed float64 weight per output entry, |u| in [0.5, 1.5] with random signs.

    Seeding backward with u checks u^T J, which for a generic u catches any wrong entry of J.
    """
    rng = np.random.default_rng(seed)
    return rng.uniform(0.5, 1.5, shape) * rng.choice([-1.0, 1.0], shape)


def numeric_vjp(reference: Callable[..., Any], inputs: Sequence[Any], argnum: int,
                weights: Any = 1.0, eps: float = EPS) -> np.ndarray:
    """u^T J by central differences: J of reference(*inputs) w.r.t. inputs[argnum] (float64)."""
    jac = central_difference_jacobian(reference, list(inputs), argnum, eps)
    out_ndim = jac.ndim - np.ndim(np.asarray(getattr(inputs[argnum], "data", inputs[argnum])))
    return np.tensordot(np.broadcast_to(weights, jac.shape[:out_ndim]), jac, axes=out_ndim)


def numeric_jvp(reference: Callable[..., Any], inputs: Sequence[Any],
                tangents: Sequence[Any], eps: float = EPS) -> np.ndarray:
    """J v = sum_i J_i v_i by central differences (the same checker, column by column)."""
    total = None
    for i, v in enumerate(tangents):
        jac = central_difference_jacobian(reference, list(inputs), i, eps)
        v = np.asarray(v, dtype=np.float64)
        part = np.tensordot(jac, v, axes=v.ndim)
        total = part if total is None else total + part
    return total


def assert_grads_close(actual: Any, expected: Any, like: Any = None, atol: float = ATOL,
                       rtol: float = RTOL, what: str = "gradient") -> None:
    """actual == expected within atol + rtol*|expected|; with `like`, shape == like's shape."""
    actual = np.asarray(actual)
    if like is not None:
        assert actual.shape == np.shape(like), (
            f"{what}: shape {actual.shape} != input shape {np.shape(like)}")
    assert actual.shape == np.shape(expected), (
        f"{what}: shape {actual.shape} != expected shape {np.shape(expected)}")
    np.testing.assert_allclose(actual, expected, atol=atol, rtol=rtol, err_msg=what)


def assert_forward_equal(actual: Any, expected: Any, what: str = "forward value") -> None:
    """Same shape, same dtype, values within FORWARD (or F32_FORWARD) tolerances."""
    expected = np.asarray(expected)
    actual = np.asarray(getattr(actual, "data", actual))
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    assert actual.dtype == expected.dtype, f"{what}: dtype {actual.dtype} != {expected.dtype}"
    atol, rtol = ((F32_FORWARD_ATOL, F32_FORWARD_RTOL) if expected.dtype == np.float32
                  else (FORWARD_ATOL, FORWARD_RTOL))
    if expected.dtype.kind == "b":
        np.testing.assert_array_equal(actual, expected, err_msg=what)
    else:
        np.testing.assert_allclose(actual, expected, atol=atol, rtol=rtol, err_msg=what)


def assert_grad_matches_finite_differences(
    f: Callable[..., Tensor],
    inputs: Sequence[Any],
    argnums: int | Sequence[int] = 0,
    *,
    reference: Callable[..., Any] | None = None,
    numeric: Callable[..., Any] | None = None,
    atol: float | None = None,
    rtol: float | None = None,
    eps: float = EPS,
    seed: int = 0,
) -> tuple[Tensor, list[np.ndarray]]:
    """Check the tape's gradient of f against central differences; return (output, grads).

    Each ``inputs[i]`` with i in ``argnums`` becomes a fresh leaf ``Tensor(requires_grad=True)``
    of its own dtype; the other inputs are passed to f unchanged (ndarrays, numbers, ...).
    The output is back-propagated with ``backward()`` if it has one element, else with
    ``backward(u)`` for the fixed ``cotangent(out.shape, seed)``. Then, for every argnum:

    * the leaf's .grad exists, has the input's shape and the input's dtype;
    * it equals u^T J, J from ``central_difference_jacobian`` in float64 of ``numeric`` (default:
      ``reference``, plain numpy; without either, f itself under ``no_grad``), within
      atol + rtol*|expected|.

    With a ``reference``, the forward value must also equal it (shape, dtype and values).
    ``numeric`` is for a reference whose own rounding would swamp a difference quotient (a cast
    to float32 is the identity in exact arithmetic: its numeric reference is the identity).
    Default tolerances: ATOL/RTOL for float64 inputs, F32_ATOL/F32_RTOL if any differentiated
    input is float32 (see the module docstring for why).
    """
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    single = any(np.asarray(inputs[i]).dtype == np.float32 for i in nums)
    atol = (F32_ATOL if single else ATOL) if atol is None else atol
    rtol = (F32_RTOL if single else RTOL) if rtol is None else rtol

    args = list(inputs)
    for i in nums:
        data = np.array(inputs[i])  # a private copy: the tape must not see later edits
        assert data.dtype.kind == "f", f"argnum {i}: differentiate floating data only"
        args[i] = Tensor(data, requires_grad=True)
    out = f(*args)
    assert isinstance(out, Tensor), f"f returned {type(out).__name__}, not a Tensor"
    assert out.requires_grad and out.grad_fn is not None, "the output was not recorded"

    if reference is not None:
        assert_forward_equal(out, reference(*inputs), "forward value differs from numpy")
    numeric_f = numeric or reference
    if numeric_f is None:
        def numeric_f(*xs: np.ndarray) -> Any:
            with no_grad():
                return f(*(Tensor(x) if i in nums else x for i, x in enumerate(xs)))

    if out.size == 1:
        weights = np.ones(out.shape)
        out.backward()
    else:
        weights = cotangent(out.shape, seed)
        out.backward(weights)

    grads = []
    for i in nums:
        leaf = args[i]
        assert leaf.grad is not None, f"argnum {i}: backward left .grad None"
        # a 0-d gradient may come back as a numpy scalar (numpy's 0-d arithmetic does that)
        assert isinstance(leaf.grad, np.ndarray | np.generic), (
            f"argnum {i}: .grad is {type(leaf.grad).__name__}, not a numpy array")
        assert leaf.grad.dtype == leaf.dtype, (
            f"argnum {i}: grad dtype {leaf.grad.dtype} != input dtype {leaf.dtype}")
        expected_grad = numeric_vjp(numeric_f, inputs, i, weights, eps)
        assert_grads_close(leaf.grad, expected_grad, like=inputs[i], atol=atol, rtol=rtol,
                           what=f"gradient w.r.t. argument {i}")
        grads.append(leaf.grad)
    return out, grads
