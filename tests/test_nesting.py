"""Every transformation nested in every other: the grid of pairs of {grad, vjp, jacobian, jvp,
jacfwd, hessian, compile}, and a few triples (issue 20).

Each transformation is written as a map from a function of one array to another (`OUTER`):
grad, hessian and compile differentiate the weighted sum sum(g(x) * w) of a function's values
(w fixed, `weights`), vjp pulls back the same w, jvp pushes forward a fixed direction v. The
oracle of T2(T1(f)) is central differences of T1(f) evaluated at first order, without nesting
(`NUMERIC`: e.g. for T2 = grad, the central-difference gradient of x -> sum(T1(f)(x) * w)).
T1(f) at first order is itself checked against central differences in test_autograd_ops.py and
test_forward_and_second_order.py, so each pair is checked against an independent number. For a
triple, the oracle differentiates a pair numerically.

The functions broadcast and reduce: a (3,) input against a (3, 2) constant, sums over an axis,
a mean, a product of a reduction with the input. Tolerance: central differences with eps = 1e-6
of functions whose derivatives are O(1) on these inputs: truncation ~eps^2 |f'''| and rounding
~1e-16 |f| / eps, both below 1e-8; atol 1e-6, rtol 1e-5 as in tests/checks.py.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autograd_lite as ag
from autograd_lite.finite_differences import central_difference_jacobian

ATOL, RTOL, EPS = 1e-6, 1e-5, 1e-6
A = np.array([[0.5, -1.0], [1.5, 0.25], [-0.75, 2.0]])
X0 = np.array([0.3, -0.6, 0.9])


def broadcast_and_reduce(x):
    """(3,) -> (2,): tanh of an outer broadcast, summed over an axis, plus a mean times x."""
    return ag.sum(ag.tanh(ag.reshape(x, (3, 1)) * A + 0.1), axis=0) + ag.mean(x * x) * x[:2]


def reduce_then_broadcast(x):
    """(3,) -> (3,): a product of reductions broadcast back against x."""
    return ag.exp(ag.mean(ag.sin(x))) * x + ag.sum(x ** 3) * ag.cos(x)


FUNCTIONS = {"broadcast_and_reduce": broadcast_and_reduce,
             "reduce_then_broadcast": reduce_then_broadcast}


def weights(shape: tuple[int, ...]) -> np.ndarray:
    """Fixed weights (or a fixed direction) of a shape, none zero."""
    return (np.cos(np.arange(int(np.prod(shape))) + 1.0) + 1.5).reshape(shape)


def shape_of(y: Any) -> tuple[int, ...]:
    return tuple(y.shape) if hasattr(y, "shape") else np.shape(y)


def weighted_sum(g: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def h(x):
        y = g(x)
        return ag.sum(y * weights(shape_of(y)))
    return h


def _vjp(g):
    def pulled_back(x):
        value, pullback = ag.vjp(g, x)
        return pullback(weights(shape_of(value)))[0]
    return pulled_back


def _jvp(g):
    return lambda x: ag.jvp(g, (x,), (weights(shape_of(x)),))[1]


def _compile(g):
    compiled = ag.compile(weighted_sum(g))
    return lambda x: compiled(x)[1]


OUTER: dict[str, Callable[[Callable], Callable]] = {
    "grad": lambda g: ag.grad(weighted_sum(g)),
    "vjp": _vjp,
    "jacobian": ag.jacobian,
    "jvp": _jvp,
    "jacfwd": ag.jacfwd,
    "hessian": lambda g: ag.hessian(weighted_sum(g)),
    "compile": _compile,
}


def plain(g: Callable[[Any], Any]) -> Callable[[np.ndarray], np.ndarray]:
    """g evaluated at first order only: an ndarray in, an ndarray out."""
    return lambda x: np.asarray(getattr(g(x), "data", g(x)), dtype=np.float64)


def numeric(name: str, g: Callable[[Any], Any], x: np.ndarray) -> np.ndarray:
    """What OUTER[name](g)(x) must equal, by central differences of g itself."""
    if name in ("grad", "vjp", "compile"):
        h = plain(weighted_sum(g))
        return central_difference_jacobian(h, [x], 0, EPS).reshape(x.shape)
    if name in ("jacobian", "jacfwd"):
        return central_difference_jacobian(plain(g), [x], 0, EPS)
    if name == "jvp":
        v = weights(x.shape)
        return (plain(g)(x + EPS * v) - plain(g)(x - EPS * v)) / (2 * EPS)
    assert name == "hessian"
    return central_difference_jacobian(plain(ag.grad(weighted_sum(g))), [x], 0, EPS)


def assert_close(actual: Any, expected: np.ndarray, what: str) -> None:
    actual = np.asarray(getattr(actual, "data", actual))
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=ATOL, err_msg=what)


PAIRS = list(itertools.product(OUTER, repeat=2))


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
@pytest.mark.parametrize("outer, inner", PAIRS, ids=[f"{o}({i})" for o, i in PAIRS])
def test_every_pair_of_transformations(outer, inner, function):
    first_order = OUTER[inner](FUNCTIONS[function])
    nested = OUTER[outer](first_order)(X0)
    assert_close(nested, numeric(outer, first_order, X0), f"{outer}({inner}({function}))")


TRIPLES = [("grad", "jvp", "grad"), ("jvp", "jvp", "grad"), ("jacfwd", "grad", "jvp"),
           ("compile", "grad", "jvp"), ("hessian", "jvp", "jacobian"),
           ("vjp", "jacfwd", "grad"), ("jvp", "compile", "jvp"), ("jacobian", "hessian", "vjp")]


@pytest.mark.parametrize("outer, middle, inner", TRIPLES, ids=["(".join(t) for t in TRIPLES])
def test_triples_of_transformations(outer, middle, inner):
    second_order = OUTER[middle](OUTER[inner](broadcast_and_reduce))
    nested = OUTER[outer](second_order)(X0)
    assert_close(nested, numeric(outer, second_order, X0), f"{outer}({middle}({inner}))")


def test_jvp_of_jvp_keeps_the_two_perturbations_apart():
    """Perturbation confusion (Siskind & Pearlmutter): d/dx [x * d/dy (x + y)] at x = 1 is 1,
    not 2 (the inner derivative must not see the outer x's perturbation)."""
    def outer(x):
        return x * ag.jvp(lambda y: x + y, (np.array(1.0),), (np.array(1.0),))[1]

    value, tangent = ag.jvp(outer, (np.array(1.0),), (np.array(1.0),))
    assert value == 1.0 and tangent == 1.0


def test_hvp_is_forward_over_reverse_and_equals_the_hessian_times_v():
    f = weighted_sum(broadcast_and_reduce)
    v = np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(ag.hvp(f, X0, v), ag.hessian(f)(X0) @ v, rtol=1e-12, atol=1e-14)
