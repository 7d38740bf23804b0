"""A primitive of your own (autograd_lite/extend.py): in the four places issue 20 names (the
eager tape, forward mode, second order, compile), gradcheck telling a wrong rule entry by entry,
and the definition errors.

Oracles: closed forms (softplus' = sigmoid, softplus'' = sigmoid (1 - sigmoid); logsumexp's
gradient is softmax) and central differences through gradcheck; compiled == eager to 1e-12.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import autograd_lite as ag

RTOL = 1e-12
X = np.linspace(-3.0, 3.0, 7)


class Softplus(ag.Elementwise):
    """softplus(x) = log(1 + exp(x));   d/dx = sigmoid(x)"""
    saves = ("x",)

    @staticmethod
    def forward(x): return np.logaddexp(0.0, x)

    @staticmethod
    def d_x(x): return ag.sigmoid(x)


class LogSumExp(ag.Primitive):
    """logsumexp(x, axis) = m + log(sum(exp(x - m)));   d/dx = exp(x - out) (softmax)"""
    saves = ("x", "out")

    @staticmethod
    def forward(x, axis):
        m = np.max(x, axis=axis, keepdims=True)
        return np.squeeze(m, axis) + np.log(np.sum(np.exp(x - m), axis=axis))

    @staticmethod
    def vjp_x(g, x, out, axis):
        return ag.expand_dims(g, axis) * ag.exp(x - ag.expand_dims(out, axis))

    @staticmethod
    def jvp_x(t, x, out, axis):
        return ag.sum(t * ag.exp(x - ag.expand_dims(out, axis)), axis)


class WeightedSum(ag.Primitive):
    """sum_i w_i x_i over any number of arrays;   d/dx_i = w_i"""
    inputs, saves = ("*xs",), ()

    @staticmethod
    def forward(*xs, weights): return sum(w * x for w, x in zip(weights, xs))

    @staticmethod
    def vjp_xs(g, i, weights): return weights[i] * g

    @staticmethod
    def jvp_xs(t, i, weights): return weights[i] * t


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def softplus_total(x):
    return ag.sum(Softplus.apply(x) * Softplus.apply(x))


# ---- the four places ------------------------------------------------------------------------
def test_on_the_eager_tape():
    np.testing.assert_allclose(ag.grad(lambda x: ag.sum(Softplus.apply(x)))(X), sigmoid(X),
                               rtol=RTOL)
    A = np.arange(6.0).reshape(2, 3) / 3
    softmax = np.exp(A) / np.exp(A).sum(1, keepdims=True)
    np.testing.assert_allclose(ag.grad(lambda a: ag.sum(LogSumExp.apply(a, axis=1)))(A),
                               softmax, rtol=RTOL)
    grads = ag.grad(lambda a, b: ag.sum(WeightedSum.apply(a, b, a, weights=(2.0, 3.0, 5.0))),
                    (0, 1))(X, X)
    np.testing.assert_allclose(grads[0], np.full(7, 7.0))
    np.testing.assert_allclose(grads[1], np.full(7, 3.0))


def test_in_forward_mode():
    np.testing.assert_allclose(ag.jvp(Softplus.apply, (X,), (np.ones(7),))[1], sigmoid(X),
                               rtol=RTOL)
    A, T = np.arange(6.0).reshape(2, 3) / 3, np.ones((2, 3))
    np.testing.assert_allclose(ag.jvp(lambda a: LogSumExp.apply(a, axis=1), (A,), (T,))[1],
                               [1.0, 1.0], rtol=RTOL)
    assert ag.gradcheck(Softplus.apply, X)  # reverse and forward mode
    assert ag.gradcheck(lambda a: LogSumExp.apply(a, axis=0), A)
    assert ag.gradcheck(lambda a, b: WeightedSum.apply(a, b, weights=(2.0, -1.0)), X, X[::-1])


def test_second_order_through_rules_written_with_differentiable_operations():
    s = sigmoid(X)
    hessian = ag.hessian(lambda x: ag.sum(Softplus.apply(x)))(X)
    np.testing.assert_allclose(hessian, np.diag(s * (1 - s)), rtol=1e-12, atol=1e-15)
    forward_over_reverse = ag.hvp(lambda x: ag.sum(Softplus.apply(x)), X, np.ones(7))
    np.testing.assert_allclose(forward_over_reverse, s * (1 - s), rtol=RTOL)
    third = ag.grad(lambda x: ag.sum(ag.grad(lambda y: ag.sum(ag.grad(
        lambda z: ag.sum(Softplus.apply(z)))(y)))(x)))(X)
    np.testing.assert_allclose(third, s * (1 - s) * (1 - 2 * s), rtol=1e-10, atol=1e-15)


def test_under_compile_the_program_calls_the_forward_and_the_rule_by_name():
    cf = ag.compile(softplus_total)
    value, grad = cf(X)
    eager = ag.value_and_grad(softplus_total)(X)
    np.testing.assert_allclose(value, eager[0], rtol=RTOL)
    np.testing.assert_allclose(grad, eager[1], rtol=RTOL)
    assert re.search(r"= softplus\(x\) ", cf.source) and "softplus_d_x(x)" in cf.source
    A = np.arange(6.0).reshape(2, 3) / 3
    lse = ag.compile(lambda a: ag.sum(LogSumExp.apply(a, axis=1) ** 2))
    lse_value, lse_grad = lse(A)
    assert "log_sum_exp(a, axis=1)" in lse.source and "log_sum_exp_vjp_x(" in lse.source
    np.testing.assert_allclose(lse_grad, ag.grad(lambda a: ag.sum(
        LogSumExp.apply(a, axis=1) ** 2))(A), rtol=RTOL)


def test_second_order_under_compile():
    f = lambda x: ag.sum(ag.grad(lambda y: ag.sum(Softplus.apply(y)))(x) ** 2)  # noqa: E731
    cf = ag.compile(f)
    value, grad = cf(X)
    s = sigmoid(X)
    np.testing.assert_allclose(value, np.sum(s * s), rtol=RTOL)
    np.testing.assert_allclose(grad, 2 * s * s * (1 - s), rtol=RTOL)


# ---- gradcheck on a wrong rule -------------------------------------------------------------
class WrongSoftplus(Softplus):
    """softplus with its derivative 10% off at x > 0 (a student's bug)"""

    @staticmethod
    def d_x(x): return ag.sigmoid(x) * ag.where(x > 0, 1.1, 1.0)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_gradcheck_lists_each_wrong_entry_of_a_wrong_rule(mode):
    with pytest.raises(ag.GradcheckError) as info:
        ag.gradcheck(WrongSoftplus.apply, X, modes=(mode,))
    message = str(info.value)
    assert f"{mode} mode, input 0" in message and "3 of 49 derivative entries" in message
    listed = re.findall(r"\[output \((\d+),\), input \((\d+),\)\]: derivative ([-0-9.e]+), "
                        r"central difference ([-0-9.e]+)", message)
    assert [(int(o), int(i)) for o, i, _, _ in listed] == [(4, 4), (5, 5), (6, 6)]
    for k, _, derivative, numeric in listed:
        k = int(k)
        np.testing.assert_allclose(float(derivative), 1.1 * sigmoid(X[k]), rtol=1e-12)
        np.testing.assert_allclose(float(numeric), sigmoid(X[k]), rtol=1e-8)


# ---- definitions that are wrong say so when the class is defined -------------------------
def test_a_saved_value_that_is_no_input_is_refused_at_definition():
    with pytest.raises(TypeError, match="saves 'y', which is neither an input"):
        class Bad(ag.Elementwise):
            saves = ("y",)

            @staticmethod
            def forward(x): return x


def test_a_misspelt_rule_is_refused_at_definition():
    with pytest.raises(TypeError, match="rule d_z names no input"):
        class Bad(ag.Elementwise):
            @staticmethod
            def forward(x): return x

            @staticmethod
            def d_z(x): return x


def test_a_primitive_without_forward_is_refused_at_definition():
    with pytest.raises(TypeError, match="define its forward"):
        class Bad(ag.Primitive):
            @staticmethod
            def vjp_x(g): return g


def test_a_forward_rule_without_a_reverse_one_is_refused_at_definition():
    with pytest.raises(TypeError, match="write vjp_x"):
        class Bad(ag.Primitive):
            @staticmethod
            def forward(x): return x

            @staticmethod
            def jvp_x(t): return t


def test_forward_mode_of_a_primitive_without_a_forward_rule_is_an_error_not_a_zero():
    class ReverseOnly(ag.Primitive):
        """x^3, reverse mode only"""
        saves = ("x",)

        @staticmethod
        def forward(x): return x ** 3

        @staticmethod
        def vjp_x(g, x): return 3 * g * x * x

    np.testing.assert_allclose(ag.grad(lambda x: ag.sum(ReverseOnly.apply(x)))(X), 3 * X * X)
    with pytest.raises(NotImplementedError, match="ReverseOnly has no forward-mode rule"):
        ag.jvp(ReverseOnly.apply, (X,), (np.ones(7),))
