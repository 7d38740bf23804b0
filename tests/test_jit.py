"""`jit` and `fori_loop` on the numpy backend, against the eager tape (issue 22).

jit of any function of arrays: values, gradients taken inside, tuples/lists/dicts returned, and
loops (fori_loop) with nested transformations in their bodies. The oracle is the same function
run eagerly (the eager tape is checked against central differences elsewhere): compiled and
eager run the same floating operations up to reassociated scalar factors, so they agree to
1e-12 relative; a loop of the chapter's steps agrees to 1e-10 over 1,000 steps (issue 22's
bound: rounding differences may grow along a trajectory).
"""

from __future__ import annotations

import numpy as np
import pytest

import autograd_lite as ag
from autograd_lite import TraceError

RTOL = 1e-12
RNG = np.random.default_rng(0)
X, Y = RNG.normal(size=(30, 2)), RNG.normal(size=30)
W0, w0 = RNG.normal(size=(3, 4)) * 0.5, RNG.normal(size=4)


def loss(W, w, X, y):
    phi = ag.tanh(X @ W[:-1] + W[-1])
    return 0.5 * ag.mean((y - phi @ w) ** 2) + 0.05 * ag.sum(W * W) + 0.05 * ag.sum(w * w)


def assert_tree_close(actual, expected, rtol=RTOL):
    if isinstance(expected, dict):
        assert isinstance(actual, dict) and list(actual) == list(expected)
        for k in expected:
            assert_tree_close(actual[k], expected[k], rtol)
    elif isinstance(expected, tuple | list):
        assert type(actual) is type(expected) and len(actual) == len(expected)
        for a, e in zip(actual, expected):
            assert_tree_close(a, e, rtol)
    else:
        assert isinstance(actual, np.ndarray | float), type(actual)
        np.testing.assert_allclose(actual, expected, rtol=rtol, atol=0)


def eager(f, *args):
    """f run on plain arrays: Tensors in the result as their arrays."""
    def plain(x):
        if isinstance(x, dict):
            return {k: plain(v) for k, v in x.items()}
        if isinstance(x, tuple | list):
            return type(x)(plain(v) for v in x)
        return np.asarray(getattr(x, "data", x))
    return plain(f(*args))


# ---- jit of functions of arrays --------------------------------------------------------------
def structures(x, y):
    t = ag.tanh(x) * y
    return {"t": t, "pair": (ag.sum(t, axis=0), [x * 2.0, ag.exp(y)])}


def gradient_step(W, w, X, y):
    gW, gw = ag.grad(loss, (0, 1))(W, w, X, y)
    return W - 0.1 * gW, w - 0.1 * gw


def second_order(W, w, X, y):
    """A Hessian-vector product and a jvp of a gradient inside the compiled function."""
    v = np.ones(w.shape)
    hv = ag.hvp(lambda w_: loss(W, w_, X, y), w, v)
    return hv, ag.jvp(lambda W_: ag.grad(loss)(W_, w, X, y), (W,), (W * 0.5,))[1]


@pytest.mark.parametrize("f, args", [
    (structures, (RNG.normal(size=(5, 3)), RNG.normal(size=3))),
    (gradient_step, (W0, w0, X, Y)),
    (second_order, (W0, w0, X, Y)),
])
def test_jit_equals_eager(f, args):
    jf = ag.jit(f)
    assert_tree_close(jf(*args), eager(f, *args))
    fresh = [a * 0.5 for a in args]
    assert_tree_close(jf(*fresh), eager(f, *fresh))
    assert jf.traces == 1 and "def " in jf.source


def test_jit_outputs_are_arrays_of_their_own():
    x = np.arange(4.0)
    out = ag.jit(lambda x: (x, x * 1.0, ag.reshape(x, (2, 2))))(x)
    for o in out:
        assert isinstance(o, np.ndarray) and o.flags.writeable and o.flags.owndata
        assert not np.shares_memory(o, x)


# ---- fori_loop --------------------------------------------------------------------------------
def descent(W, w, X, y, steps):
    def step(i, params):
        W, w = params
        gW, gw = ag.grad(loss, (0, 1))(W, w, X, y)
        return W - 0.05 * gW, w - 0.05 * gw
    return ag.fori_loop(0, steps, step, (W, w))


def test_fori_loop_eagerly_is_a_python_loop():
    assert ag.fori_loop(2, 5, lambda i, c: c * 10 + i, 1) == 1234
    assert ag.fori_loop(3, 3, lambda i, c: c + 1.0, 7.0) == 7.0


@pytest.mark.parametrize("steps", [0, 1, 7, 1000])
def test_a_compiled_descent_loop_follows_the_eager_trajectory(steps):
    jf = ag.jit(descent)
    compiled = jf(W0, w0, X, Y, steps)
    assert_tree_close(compiled, eager(descent, W0, w0, X, Y, steps),
                      rtol=1e-10 if steps >= 1000 else RTOL)
    if steps:
        assert "for i" in jf.source and "np.array(W)" in jf.source


def test_the_loop_updates_its_carry_in_place_and_hoists_what_does_not_change():
    jf = ag.jit(descent)
    jf(W0, w0, X, Y, 3)
    lines = jf.source.splitlines()
    body = lines[lines.index(next(line for line in lines if "for i" in line)) + 1:]
    assert any(line.strip().startswith(("v2 -=", "np.subtract(v2")) for line in body), \
        "the new W is written into the carry's own array"
    assert not any(line.split("#")[0].rstrip().endswith("= X.T") for line in body), \
        "the gradient's X.T is computed once, before the loop"
    assert any(line.split("#")[0].rstrip().endswith("= X.T") for line in lines)


def test_a_loop_body_with_nested_transformations():
    """jvp of grad (forward over reverse) and a vjp inside the body."""
    def f(w, X, y):
        def step(i, w):
            g = ag.grad(lambda v: loss(W0, v, X, y))(w)
            hg = ag.jvp(lambda v: ag.grad(lambda u: loss(W0, u, X, y))(v), (w,), (g,))[1]
            _, pull = ag.vjp(lambda v: ag.tanh(v) * 2.0, w)
            return w - 0.1 * g - 0.01 * hg + 0.001 * pull(np.ones(4))[0]
        return ag.fori_loop(0, 5, step, w)

    assert_tree_close(ag.jit(f)(w0, X, Y), eager(f, w0, X, Y))


def test_the_carry_may_swap_alias_or_return_data_without_corrupting_it():
    def f(a, b, X):
        def step(i, c):
            a, b, kept = c
            return b, a * 2.0, X  # a swap, a fresh array, and the data itself
        return ag.fori_loop(0, 3, step, (a, b, X * 0.0))

    a, b, data = np.ones(2), np.full(2, 3.0), np.arange(2.0)
    before = data.copy()
    out = ag.jit(f)(a, b, data)
    assert_tree_close(out, eager(f, a, b, data))
    out[2][:] = -1.0  # the caller writes the returned carry: the data must not change
    np.testing.assert_array_equal(data, before)


def test_the_loop_index_reaches_the_body():
    f = lambda x: ag.fori_loop(1, 4, lambda i, c: c * i + x, x)  # noqa: E731
    assert_tree_close(ag.jit(f)(np.array([1.0, 2.0])), eager(f, np.array([1.0, 2.0])))


def test_a_carry_that_changes_shape_or_dtype_is_refused():
    with pytest.raises(TraceError, match="carry 0 as float64\\[3\\], but it was given as "
                                         "float64\\[2\\]"):
        ag.jit(lambda x: ag.fori_loop(0, 2, lambda i, c: ag.concatenate([c, c[:1]]), x))(
            np.ones(2))
    with pytest.raises(TraceError, match="structure"):
        ag.jit(lambda x: ag.fori_loop(0, 2, lambda i, c: (c, c), x))(np.ones(2))
    with pytest.raises(TraceError, match="bounds must be Python ints"):
        ag.jit(lambda x, n: ag.fori_loop(0, n, lambda i, c: c, x))(np.ones(2), np.array(3))


def test_differentiating_through_a_compiled_loop_is_refused_by_name():
    f = lambda x: ag.sum(ag.fori_loop(0, 3, lambda i, c: c * x, x))  # noqa: E731
    with pytest.raises(NotImplementedError, match="through fori_loop is not supported"):
        ag.compile(f)(np.ones(2))
    np.testing.assert_allclose(ag.grad(f)(np.array([2.0])), [4 * 2.0 ** 3])  # eagerly: fine


# ---- the chapter's model fits through the compiled loop --------------------------------------
def test_the_compiled_route_fits_through_one_compiled_loop():
    from chainrule import chapter
    from chainrule.model import BasisFunctionRidgeRegressionGD, TanhBasis

    x = np.arange(0.0, 365.0, 3.65)
    y = 10.0 - 12.0 * np.cos(2 * np.pi * (x - 15.0) / 365)
    models = {}
    for route in ("backprop", "compiled"):
        models[route] = BasisFunctionRidgeRegressionGD(
            TanhBasis(chapter.W0), learning_rate=chapter.LEARNING_RATE, num_iterations=1000,
            route=route).fit(x, y, callback=lambda i, m: None, callback_every=300)
    eager_model, compiled_model = models["backprop"], models["compiled"]
    np.testing.assert_allclose(compiled_model.basis_function.W, eager_model.basis_function.W,
                               rtol=1e-10)
    np.testing.assert_allclose(compiled_model.w, eager_model.w, rtol=1e-10)
    assert "for i" in compiled_model.descent.source
    assert compiled_model.descent.traces == 2  # chunks of 300 steps, then the last 100
