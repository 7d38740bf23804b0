"""The tape's reverse walk: accumulation, retain_graph, freed graphs, no_grad, deep chains,
each node's rule running exactly once per backward (plain and recorded), leaves owning their
data, elementwise comparisons and unhashable Tensors.

Expected gradients are analytic formulas evaluated in numpy, or central differences through
tests/checks.py; never values computed by autograd_lite itself.
"""

import gc
import sys

import numpy as np
import pytest
from checks import assert_grad_matches_finite_differences as check
from checks import assert_grads_close
from hypothesis import given
from strategies import ag_arrays, ag_shapes

import autograd_lite as ag
from autograd_lite import GraphFreedError, Tensor, no_grad
from autograd_lite import ops as P
from autograd_lite.tensor import gradients

X = np.array([[-1.5, 0.25, 2.0], [0.5, -0.75, 1.25]])


def leaf(values=X):
    return Tensor(np.array(values, dtype=float), requires_grad=True)


def diamond(t):
    """x -> a = 2x -> (tanh a, exp a) -> sum(tanh(a) * exp(a)): x reaches the output twice."""
    a = t * 2.0
    return (ag.tanh(a) * ag.exp(a)).sum()


def diamond_grad(x):
    """d/dx tanh(2x) e^(2x) = 2 (1 - tanh^2(2x)) e^(2x) + 2 tanh(2x) e^(2x)."""
    t, e = np.tanh(2 * x), np.exp(2 * x)
    return 2 * (1 - t * t) * e + 2 * t * e


# ---- a tensor used more than once --------------------------------------------------------------
@given(x=ag_arrays(ag_shapes()))
def test_reuse_x_times_x_and_x_plus_x(x):
    check(lambda t: t * t, [x], reference=lambda a: a * a)
    check(lambda t: t + t, [x], reference=lambda a: a + a)
    check(lambda t: t * t * t - t, [x], reference=lambda a: a * a * a - a)


def test_reuse_exact_values():
    x = leaf()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad, 2 * X, rtol=1e-15)
    y = leaf()
    (y + y + y).sum().backward()
    np.testing.assert_array_equal(y.grad, np.full(X.shape, 3.0))


@given(x=ag_arrays(ag_shapes(), -1.0, 1.0))
def test_diamond_graph(x):
    _, (g,) = check(diamond, [x], reference=lambda a: np.sum(np.tanh(2 * a) * np.exp(2 * a)))
    assert_grads_close(g, diamond_grad(x), like=x, what="diamond vs analytic")


def test_diamond_with_shared_intermediate_used_by_many_consumers():
    """h = tanh(x) feeds four consumers; d/dx sum(h*h + 3h + e^h + h) = (2h + 4 + e^h)(1 - h^2)."""
    x = leaf()

    def f(t):
        h = ag.tanh(t)
        return (h * h + h * 3.0 + ag.exp(h) + h).sum()

    f(x).backward()
    h = np.tanh(X)
    assert_grads_close(x.grad, (2 * h + 4 + np.exp(h)) * (1 - h * h), like=X)


# ---- accumulation across backward calls, zero_grad ---------------------------------------------
def test_gradients_accumulate_across_backward_calls_like_pytorch():
    x = leaf()
    diamond(x).backward()
    first = x.grad.copy()
    assert_grads_close(first, diamond_grad(X), like=X)
    diamond(x).backward()  # a second, fresh graph: its gradient is added
    assert_grads_close(x.grad, 2 * diamond_grad(X), like=X)
    (x * 3.0).sum().backward()  # a different function: adds 3 everywhere
    assert_grads_close(x.grad, 2 * diamond_grad(X) + 3.0, like=X)


def test_zero_grad_resets():
    x = leaf()
    (x * x).sum().backward()
    x.zero_grad()
    assert x.grad is None
    (x * 5.0).sum().backward()
    np.testing.assert_array_equal(x.grad, np.full(X.shape, 5.0))


def test_accumulated_grad_does_not_alias_other_buffers():
    """.grad must be the leaf's own buffer: editing it must not change another leaf's grad."""
    a, b = leaf(), leaf()
    (a + b).sum().backward()  # both rules return the same incoming gradient array
    a.grad[...] = 100.0
    np.testing.assert_array_equal(b.grad, np.ones(X.shape))


# ---- retain_graph and the freed-graph error --------------------------------------------------
def test_retain_graph_allows_second_backward_and_doubles_grad():
    x = leaf()
    y = diamond(x)
    y.backward(retain_graph=True)
    assert_grads_close(x.grad, diamond_grad(X), like=X)
    y.backward(retain_graph=True)
    assert_grads_close(x.grad, 2 * diamond_grad(X), like=X)
    y.backward()  # the last one may free
    assert_grads_close(x.grad, 3 * diamond_grad(X), like=X)
    with pytest.raises(GraphFreedError):
        y.backward()


def test_second_backward_without_retain_graph_raises_graph_freed_error():
    x = leaf()
    y = (ag.tanh(x) * x).sum()
    y.backward()
    with pytest.raises(GraphFreedError, match="retain_graph") as info:
        y.backward()
    assert isinstance(info.value, RuntimeError)


def test_backward_through_freed_shared_subgraph_raises():
    x = leaf()
    h = ag.exp(x)
    h.sum().backward()
    with pytest.raises(GraphFreedError, match="retain_graph"):
        (h * 2.0).sum().backward()


# ---- no_grad -----------------------------------------------------------------------------------
def test_no_grad_records_nothing():
    x = leaf()
    assert ag.is_grad_enabled()
    with no_grad():
        assert not ag.is_grad_enabled()
        y = (ag.tanh(x) * x + 1.0).sum()
        z = x @ x.T
    assert ag.is_grad_enabled()
    for out in (y, z):
        assert not out.requires_grad and out.grad_fn is None and out.is_leaf
    np.testing.assert_allclose(y.data, np.sum(np.tanh(X) * X + 1.0), rtol=1e-15)
    with pytest.raises(RuntimeError):
        y.backward()
    assert x.grad is None


def test_no_grad_restores_state_after_exception_and_nests():
    with pytest.raises(ZeroDivisionError):
        with no_grad():
            raise ZeroDivisionError
    assert ag.is_grad_enabled()
    with no_grad():
        with no_grad():
            pass
        assert not ag.is_grad_enabled()  # the inner block restores "off", not "on"
    assert ag.is_grad_enabled()
    assert (leaf() * 2.0).requires_grad


# ---- deep chains: iterative, exact --------------------------------------------------------------
DEPTH = 100_000


def test_100k_deep_multiplicative_chain():
    """z_{k+1} = 1.0001 z_k, so dz_N/dx = 1.0001^N. Each backward step multiplies the gradient by
    1.0001 once, so the relative rounding error is at most N * 2^-53 ~ 1e-11."""
    x = leaf(0.5)
    z = x
    for _ in range(DEPTH):
        z = z * 1.0001
    assert sys.getrecursionlimit() < DEPTH  # a recursive walk could not get through
    z.backward()
    np.testing.assert_allclose(x.grad, 1.0001 ** DEPTH, rtol=1e-9)
    np.testing.assert_allclose(z.data, 0.5 * 1.0001 ** DEPTH, rtol=1e-9)
    del z
    gc.collect()  # tearing down the 100k-node graph must not overflow the C stack either


def test_100k_deep_additive_chain_with_reused_leaf():
    """z = x; z = z + x (N times) gives z = (N + 1) x: dz/dx = N + 1 exactly (integers in floats).
    The leaf x has N + 1 consumers, all summed in one backward."""
    x = leaf(0.25)
    z = x
    for _ in range(DEPTH):
        z = z + x
    z.backward()
    assert x.grad == DEPTH + 1


# ---- each node's rule runs once per backward ------------------------------------------------
def count_calls(monkeypatch, primitive, rules="eager_vjps"):
    """Wrap the rules of `primitive` with counters; returns the list of counts.

    The plain backward runs `eager_vjps` (kernels.py's fast paths where it has them), the
    recorded one (create_graph, gradients, hessian) `vjps`, the mathematical rules."""
    original = tuple(getattr(primitive, rules))
    counts = [0] * len(original)

    def wrap(i, rule):
        def counted(*args, **kwargs):
            counts[i] += 1
            return rule(*args, **kwargs)
        return counted

    monkeypatch.setattr(primitive, rules, tuple(wrap(i, r) for i, r in enumerate(original)))
    return counts


def many_consumers(x):
    h = ag.tanh(x)  # one tanh node with five consumers
    return (h * h + h * 3.0 + ag.exp(h) + h * x).sum()  # three mul nodes


def test_each_rule_runs_once_per_backward_with_many_consumers(monkeypatch):
    tanh_calls = count_calls(monkeypatch, P.Tanh)
    mul_calls = count_calls(monkeypatch, P.Mul)
    x = leaf()
    y = many_consumers(x)
    y.backward(retain_graph=True)
    assert tanh_calls == [1]
    assert mul_calls == [3, 2]  # vjp_a for all three; vjp_b only where b requires grad
    y.backward()
    assert tanh_calls == [2] and mul_calls == [6, 4]


def test_each_rule_runs_once_per_recorded_backward(monkeypatch):
    """create_graph=True walks the same graph once with the mathematical rules (`vjps`)."""
    tanh_calls = count_calls(monkeypatch, P.Tanh, "vjps")
    mul_calls = count_calls(monkeypatch, P.Mul, "vjps")
    x = leaf()
    many_consumers(x).backward(create_graph=True)
    assert tanh_calls == [1]
    # the forward's three mul nodes; the rules themselves multiply, but on Tensors, which
    # records new nodes and runs no rule
    assert mul_calls == [3, 2]
    h = np.tanh(X)
    assert_grads_close(x.grad.data, (2 * h + 3 + np.exp(h) + X) * (1 - h * h) + h, like=X)


def test_each_rule_runs_once_in_a_deep_diamond_chain(monkeypatch):
    """Stacked diamonds z -> (z*0.5, tanh z) -> sum: the number of paths doubles per level
    (2^40 here), so a walk that followed paths instead of nodes would never finish."""
    tanh_calls = count_calls(monkeypatch, P.Tanh)
    add_calls = count_calls(monkeypatch, P.Add)
    x = leaf(0.3)
    z, expected = x, 1.0
    value = 0.3
    for _ in range(40):
        z = z * 0.5 + ag.tanh(z)
        expected *= 0.5 + (1 - np.tanh(value) ** 2)
        value = 0.5 * value + np.tanh(value)
    z.backward()
    assert tanh_calls == [40] and add_calls == [40, 40]
    np.testing.assert_allclose(x.grad, expected, rtol=1e-12)


# ---- graph bookkeeping ------------------------------------------------------------------------
def test_constants_and_detached_tensors_get_no_gradient():
    x, c = leaf(), Tensor(X * 2.0)
    y = (x * c + x.detach() * x).sum()
    y.backward()
    assert c.grad is None and not c.requires_grad
    assert_grads_close(x.grad, 2.0 * X + X, like=X)  # d/dx (2X x + X x) with X held constant


def test_backward_with_explicit_seed_on_non_scalar_output():
    x = leaf()
    seed = np.array([[1.0, -2.0, 0.5], [3.0, 0.0, -1.0]])
    ag.tanh(x).backward(seed)
    assert_grads_close(x.grad, seed * (1 - np.tanh(X) ** 2), like=X)


def test_grad_of_unused_leaf_stays_none():
    x, unused = leaf(), leaf()
    (x * 2.0).sum().backward()
    assert unused.grad is None


def test_requires_grad_flag_and_leaf_properties():
    x = leaf()
    y = x * 2.0
    assert x.is_leaf and x.grad_fn is None and x.requires_grad
    assert not y.is_leaf and y.grad_fn == "mul" and y.requires_grad
    with pytest.raises(RuntimeError):
        y.requires_grad = False
    assert not Tensor(X).requires_grad


# ---- leaves own their data -------------------------------------------------------------------
def test_tensor_copies_its_data():
    data = X.copy()
    t = Tensor(data, requires_grad=True)
    data[...] = 100.0
    np.testing.assert_array_equal(t.data, X)
    assert not np.shares_memory(t.data, data)


def test_mutating_the_callers_array_between_forward_and_backward_keeps_the_gradient():
    """Issue 14, repro 7: d/dx sum(x * x) = 2 x for the x of the forward pass, whatever the
    caller does to its array afterwards (the leaf copied it; the tape saved the copy)."""
    data = X.copy()
    x = Tensor(data, requires_grad=True)
    y = (x * x).sum()
    data[...] = 100.0
    y.backward()
    np.testing.assert_array_equal(x.grad, 2 * X)
    g = ag.grad(lambda t: (t * ag.tanh(t)).sum())
    data = X.copy()
    first = g(data)
    data[...] = 0.0
    np.testing.assert_array_equal(g(X.copy()), first)  # grad does not keep the caller's array


# ---- comparisons are elementwise; Tensors are not hashable ----------------------------------
def test_equality_is_elementwise_and_boolean():
    """Issue 14, repro 2: == and != compare entries, as for ndarrays."""
    t = Tensor([1.0, 2.0])
    for result, expected in [(t == 1.0, [True, False]), (t != 1.0, [False, True]),
                             (1.0 == t, [True, False]), (t == Tensor([1.0, 3.0]), [True, False]),
                             (t == np.array([0.0, 2.0]), [False, True])]:
        assert isinstance(result, Tensor) and result.dtype == np.bool_
        np.testing.assert_array_equal(result.data, expected)


def test_order_comparisons_are_elementwise_and_record_nothing():
    x = leaf()
    for result, expected in [(x > 0.5, X > 0.5), (x >= 0.5, X >= 0.5), (x < 0.5, X < 0.5),
                             (x <= 0.5, X <= 0.5), (0.5 < x, 0.5 < X)]:
        assert result.dtype == np.bool_ and not result.requires_grad
        np.testing.assert_array_equal(result.data, expected)


def test_tensors_are_unhashable():
    t = Tensor([1.0, 2.0])
    for use in (hash, lambda v: {v: 1}, lambda v: {v}):
        with pytest.raises(TypeError, match="unhashable"):
            use(t)
    with pytest.raises(TypeError, match="unhashable"):
        hash(Tensor(1.0, requires_grad=True))


def test_a_deep_recorded_backward_is_iterative_and_exact():
    """z_{k+1} = sin(z_k), 20k times (20x the recursion limit), differentiated twice on the
    tape: the recurrences d1' = cos(z) d1 and d2' = cos(z) d2 - sin(z) d1^2 (numpy, float64)
    give dz/dx and d^2z/dx^2; both routes round the same 20k products, ~1e-12 relative."""
    depth = 20_000
    assert sys.getrecursionlimit() < depth
    x = leaf(0.3)
    z = x
    for _ in range(depth):
        z = np.sin(z)
    z.backward(create_graph=True)
    first = x.grad
    x.grad = None
    first.backward()
    value, d1, d2 = 0.3, 1.0, 0.0
    for _ in range(depth):
        d1, d2 = np.cos(value) * d1, np.cos(value) * d2 - np.sin(value) * d1 * d1
        value = np.sin(value)
    np.testing.assert_allclose(first.data, d1, rtol=1e-9)
    np.testing.assert_allclose(x.grad, d2, rtol=1e-9)
    del z, first
    gc.collect()


def test_iterating_over_a_tensor_gives_differentiable_rows():
    x = leaf()
    rows = list(x)
    assert len(rows) == 2 and all(r.grad_fn == "getitem" for r in rows)
    (rows[0] * 2.0 + rows[1] * 3.0).sum().backward()
    np.testing.assert_array_equal(x.grad, [[2.0] * 3, [3.0] * 3])


def test_gradients_are_recorded_and_touch_no_grad():
    """tensor.gradients: d(out)/d(target) as Tensors with a graph, None for a target out does
    not depend on; no leaf's .grad is written."""
    a, b, unrelated = leaf([1.0, 2.0]), leaf([3.0, 4.0]), leaf([5.0])
    out = (a * b * b).sum()
    ga, gb, gu = gradients(out, np.ones(()), [a, b, unrelated])
    np.testing.assert_array_equal(ga.data, [9.0, 16.0])  # b^2
    np.testing.assert_array_equal(gb.data, [6.0, 16.0])  # 2 a b
    assert gu is None
    assert a.grad is None and b.grad is None and unrelated.grad is None
    gb.sum().backward()  # d/da sum(2 a b) = 2 b, d/db = 2 a
    np.testing.assert_array_equal(a.grad, [6.0, 8.0])
    np.testing.assert_array_equal(b.grad, [2.0, 4.0])
