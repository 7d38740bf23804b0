"""kernels.py: each speed-only path equals the mathematical rule (or forward) it replaces, in
float64 and float32; the plain backward runs them, the recorded backward and forward mode never.

Exactness, path by path:
- tanh_vjp computes 1 - out*out and then times g, the rule g * (1 - out*out): the same
  roundings in the same order (multiplication commutes exactly): bit-equal.
- pow_vjp for p = 2 computes x * (2 g), the rule g * (2 x^1): both are the exact product 2 x g
  rounded once (doubling is exact), bit-equal; p = 1 returns g, the rule g * (1 x^0) = g * 1.0.
- sum_vjp and mean_vjp spread the same number (g, or g / n computed once, as the rule does) as
  a zero-stride view instead of broadcast_to: bit-equal.
- mean_forward divides x.sum(axis) by the count, as np.mean does (add.reduce, then true_divide
  in the input's dtype): bit-equal.
- matmul_forward for tall 2-D products computes (b^T a^T)^T, matmul_vjp_a's outer product
  writes g_n b_k into a transposed buffer (bit-equal: one multiplication per entry), and
  matmul_vjp_b computes a^T g as a matrix-vector product instead of a^T @ g[:, None]. A BLAS
  may sum the D products of an entry in another order: the two results then differ by at most
  the standard dot-product bound gamma_D sum_d |a_nd b_dk| per entry, gamma_D = D u / (1 - D u)
  (u = 2^-53 or 2^-24), twice that for two orders: BOUND_FACTOR * D * u * (|a| @ |b|).
"""

import numpy as np
import pytest
from checks import cotangent
from hypothesis import given
from hypothesis import strategies as st
from strategies import ag_arrays, ag_reduction_cases, ag_tall_products

import autograd_lite as ag
from autograd_lite import Tensor, kernels
from autograd_lite import ops as P
from autograd_lite.tensor import gradients

DTYPES = [np.float64, np.float32]
BOUND_FACTOR = 2.01  # two summation orders, each within gamma_D (D u / (1 - D u) < 1.005 D u)


def reordered_sum_bound(abs_a, abs_b, inner, dtype):
    """Largest difference of two summation orders of the products: see the module docstring."""
    u = np.finfo(dtype).eps / 2
    return BOUND_FACTOR * inner * u * (abs_a.astype(np.float64) @ abs_b.astype(np.float64))


@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_matmul_forward_equals_matmul(dtype, data):
    a, b = data.draw(ag_tall_products(dtype))
    fast, rule = kernels.matmul_forward(a, b), P.Matmul.forward(a, b)
    assert fast.dtype == rule.dtype == dtype and fast.shape == rule.shape
    assert fast.flags.f_contiguous  # the fast path was taken: the column-major layout
    bound = reordered_sum_bound(np.abs(a), np.abs(b), a.shape[1], dtype)
    assert np.all(np.abs(fast.astype(np.float64) - rule) <= bound)
    wide = b.T @ a.T  # (K, N) with K < N: not tall, the plain product
    np.testing.assert_array_equal(kernels.matmul_forward(b.T, a.T), wide)


@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_matmul_vjps_of_a_matrix_times_a_vector_equal_the_rules(dtype, data):
    """(N, K) @ (K,): d/da = g b^T (exact), d/db = a^T g (a matrix-vector product)."""
    a, b = data.draw(ag_tall_products(dtype))
    b = b[:, 0]
    g = cotangent((a.shape[0],)).astype(dtype)
    fast_a, rule_a = kernels.matmul_vjp_a(g, a, b), P.Matmul.vjp_a(g, a, b)
    assert fast_a.dtype == rule_a.dtype == dtype
    np.testing.assert_array_equal(fast_a, rule_a)
    fast_b, rule_b = kernels.matmul_vjp_b(g, a, b), P.Matmul.vjp_b(g, a, b)
    assert fast_b.dtype == rule_b.dtype == dtype and fast_b.shape == rule_b.shape == b.shape
    bound = reordered_sum_bound(np.abs(a).T, np.abs(g), a.shape[0], dtype)
    assert np.all(np.abs(fast_b.astype(np.float64) - rule_b) <= bound)


@given(pair=st.sampled_from([((3,), (3,)), ((2, 3), (3, 4)), ((3,), (3, 2)), ((2, 2, 3), (3,))])
       .flatmap(lambda shapes: st.tuples(ag_arrays(shapes[0]), ag_arrays(shapes[1]))))
def test_matmul_vjps_of_other_shapes_equal_the_rules(pair):
    """Two matrices: one product without np.swapaxes; the rest fall back to the rules."""
    a, b = pair
    g = cotangent(np.matmul(a, b).shape)
    np.testing.assert_array_equal(kernels.matmul_vjp_a(g, a, b), P.Matmul.vjp_a(g, a, b))
    np.testing.assert_array_equal(kernels.matmul_vjp_b(g, a, b), P.Matmul.vjp_b(g, a, b))


@pytest.mark.parametrize("dtype", DTYPES)
@given(out=ag_arrays(st.sampled_from([(), (1,), (4,), (3, 5)]), -1.0, 1.0), data=st.data())
def test_tanh_vjp_equals_the_rule_and_writes_into_neither_input(dtype, out, data):
    out = out.astype(dtype)
    g = data.draw(ag_arrays(out.shape, dtype=dtype))
    g_before, out_before = g.copy(), out.copy()
    fast = kernels.tanh_vjp(g, out)
    rule = P.Tanh.vjp_x(g, out)
    assert np.asarray(fast).dtype == np.asarray(rule).dtype == dtype
    np.testing.assert_array_equal(fast, rule)
    np.testing.assert_array_equal(g, g_before)
    np.testing.assert_array_equal(out, out_before)
    broadcast_g = np.full((2,) + out.shape, 0.5, dtype)  # a shape the in-place path refuses
    np.testing.assert_array_equal(kernels.tanh_vjp(broadcast_g, out),
                                  P.Tanh.vjp_x(broadcast_g, out))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p", [2, 1, 3, 0.5, -1, 0])
@given(x=ag_arrays(st.sampled_from([(), (4,), (2, 3)]), 0.5, 3.0), data=st.data())
def test_pow_vjp_equals_the_rule(dtype, p, x, data):
    x = x.astype(dtype)
    g = data.draw(ag_arrays(x.shape, dtype=dtype))
    fast, rule = np.asarray(kernels.pow_vjp(g, x, p)), np.asarray(P.Pow.vjp_x(g, x, p=p))
    assert fast.dtype == rule.dtype == dtype
    np.testing.assert_array_equal(fast, rule)


@pytest.mark.parametrize("dtype", DTYPES)
@given(case=ag_reduction_cases())
def test_sum_and_mean_equal_their_rules(dtype, case):
    x, axis, keepdims = case
    x = x.astype(dtype)
    axes = ag.functions._axes(axis, x.ndim, "sum")
    params = {"axis": axes, "keepdims": keepdims, "shape": x.shape}
    fast, rule = kernels.mean_forward(x, **params), P.Mean.forward(x, **params)
    assert np.asarray(fast).dtype == np.asarray(rule).dtype == dtype
    np.testing.assert_array_equal(fast, rule)
    g = cotangent(np.shape(rule)).astype(dtype)
    for kernel, primitive in ((kernels.sum_vjp, P.Sum), (kernels.mean_vjp, P.Mean)):
        fast, rule = kernel(g, **params), primitive.vjp_x(g, **params)
        assert fast.shape == rule.shape == x.shape and fast.dtype == rule.dtype
        np.testing.assert_array_equal(fast, rule)
    g0 = np.asarray(np.float64(1.5).astype(dtype))  # a whole-array reduction's 0-d gradient
    whole = {"axis": None, "keepdims": False, "shape": x.shape}
    spread = kernels.sum_vjp(g0, **whole)
    np.testing.assert_array_equal(spread, np.full(x.shape, 1.5, dtype))
    assert spread.dtype == dtype


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("template", [(slice(None, -1),), (-1,), (slice(None), 1),
                                      (slice(None, None, 2), None), (Ellipsis, 0), ()])
def test_a_basic_index_gradient_equals_the_scatter_add_rule(dtype, template):
    x = np.arange(12.0, dtype=dtype).reshape(3, 4)
    g = cotangent(x[template].shape).astype(dtype)
    params = {"template": template, "shape": x.shape}
    fast, rule = kernels.getitem_vjp(g, **params), P.Getitem.vjp_x(g, **params)
    assert fast.dtype == rule.dtype == dtype and fast.shape == x.shape
    np.testing.assert_array_equal(fast, rule)
    assert np.count_nonzero(fast) == np.count_nonzero(g)  # g landed once, nothing else


# ---- which passes run the kernels ------------------------------------------------------------
KERNEL_RULES = [(P.Matmul, "eager_vjps"), (P.Tanh, "eager_vjps"), (P.Pow, "eager_vjps"),
                (P.Sum, "eager_vjps"), (P.Mean, "eager_vjps"), (P.Getitem, "eager_vjps")]
KERNEL_FORWARDS = [(P.Matmul, "eager_forward"), (P.Mean, "eager_forward")]


def model(W, w, X):
    """Every kernel's primitive: a tall matmul, tanh, x ** 2, sum, mean, a matrix @ vector, a
    basic index."""
    return (ag.tanh(X @ W) @ w).mean() + (w ** 2).sum() + ((X @ W) ** 2).mean() + W[-1].sum()


RNG = np.random.default_rng(5)
W0, w0, X0 = RNG.normal(size=(2, 3)), RNG.normal(size=3), RNG.normal(size=(8, 2))


def counting(monkeypatch, attribute_pairs):
    """Wrap the given rules/forwards with a shared call counter: {primitive name: calls}."""
    calls = {}

    def wrap(name, f):
        def counted(*args, **kwargs):
            calls[name] = calls.get(name, 0) + 1
            return f(*args, **kwargs)
        return counted

    for primitive, attribute in attribute_pairs:
        value = getattr(primitive, attribute)
        if attribute == "eager_forward":
            monkeypatch.setattr(primitive, attribute, staticmethod(wrap(primitive.name, value)))
        else:
            monkeypatch.setattr(primitive, attribute,
                                tuple(wrap(primitive.name, r) for r in value))
    return calls


def test_the_plain_backward_runs_the_kernels(monkeypatch):
    calls = counting(monkeypatch, KERNEL_RULES)
    W, w = Tensor(W0, requires_grad=True), Tensor(w0, requires_grad=True)
    model(W, w, X0).backward()
    assert set(calls) == {"matmul", "tanh", "pow", "sum", "mean", "getitem"}


@pytest.mark.parametrize("recorded", ["create_graph", "gradients", "grad inside vjp"])
def test_recorded_backward_passes_never_run_the_kernel_rules(monkeypatch, recorded):
    """The recorded walk runs the mathematical rules (`vjps`) on Tensors; a kernel's in-place
    arithmetic could not be recorded. Its result equals the plain backward's. (A backward pass
    *through* a recorded gradient, e.g. hessian's outer passes, is a plain one again.)"""
    W, w = Tensor(W0, requires_grad=True), Tensor(w0, requires_grad=True)
    model(W, w, X0).backward()
    plain_W, plain_w = W.grad, w.grad
    W, w = Tensor(W0, requires_grad=True), Tensor(w0, requires_grad=True)
    loss = model(W, w, X0)  # the forward pass may use the forward kernels: it is eager
    calls = counting(monkeypatch, KERNEL_RULES)
    if recorded == "create_graph":
        loss.backward(create_graph=True)
        grad_W, grad_w = W.grad.data, w.grad.data
    elif recorded == "gradients":
        grad_W, grad_w = (g.data for g in gradients(loss, np.ones(()), [W, w]))
    else:
        grad_W = plain_W
        grad_w, _ = ag.vjp(ag.grad(lambda v: model(W0, v, X0)), w0)  # grad records inside
        grad_w = np.asarray(getattr(grad_w, "data", grad_w))
    assert calls == {}
    np.testing.assert_allclose(grad_W, plain_W, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(grad_w, plain_w, rtol=1e-12, atol=1e-15)


def test_forward_mode_never_runs_the_kernels(monkeypatch):
    calls = counting(monkeypatch, KERNEL_RULES + KERNEL_FORWARDS)
    ag.jvp(lambda W: model(W, w0, X0), (W0,), (np.ones_like(W0),))
    ag.jacfwd(lambda v: model(W0, v, X0))(w0)
    assert calls == {}
