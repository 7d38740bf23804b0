"""Function transformations on top of the tape: grad, value_and_grad, vjp, jacobian, gradcheck,
and the second-order ones, hvp and hessian. (Forward mode, jvp and jacfwd, is in `forward.py`.)

Nesting. `grad(grad(f))` works: a `grad` whose differentiated argument already is a Tensor that
requires grad (an enclosing transformation, or the user, is recording), or that is called while
an enclosing `grad`/`value_and_grad`/`vjp`/`jacobian`/`hvp`/`hessian` evaluates its function,
records its own backward pass (`create_graph`) and returns Tensors that the enclosing
transformation can differentiate. Values that do not depend on the enclosing recording still
come back as plain ndarrays/floats, as at top level.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import engine
from .engine import no_grad
from .errors import GradcheckError, ShapeError
from .finite_differences import central_difference_jacobian
from .tensor import Tensor, reshape

ArgNums = int | Sequence[int]


def _leaves(args: Sequence[Any], argnums: tuple[int, ...]) -> list[Any]:
    """Fresh leaf Tensors for the differentiated arguments; the others pass through."""
    args = list(args)
    for i in argnums:
        if not -len(args) <= i < len(args):
            raise IndexError(f"argnums {i} is out of range for {len(args)} positional arguments")
        data = args[i].data if isinstance(args[i], Tensor) else np.asarray(args[i])
        if data.dtype.kind != "f":
            data = data.astype(np.float64)
        args[i] = Tensor(data, requires_grad=True)
    return args


_trace_depth = 0  # > 0 while a reverse-mode transformation is evaluating the user's function


def _traced(f: Callable[..., Any], args: Sequence[Any]) -> Any:
    """f(*args), counted as running inside a transformation (so inner grads record)."""
    global _trace_depth
    _trace_depth += 1
    try:
        return f(*args)
    finally:
        _trace_depth -= 1


def _is_nested(args: Sequence[Any]) -> bool:
    """Must this grad record its backward pass for an enclosing differentiation?"""
    if not engine._grad_enabled:
        return False
    return _trace_depth > 0 or any(isinstance(a, Tensor) and a._node is not None for a in args)


def _check_scalar(out: Any) -> None:
    if not isinstance(out, Tensor) or out.size != 1:
        raise ShapeError(f"grad: f must return a one-element Tensor, got "
                         f"{type(out).__name__} of shape {np.shape(getattr(out, 'data', out))}")


def _normalise(argnums: ArgNums) -> tuple[tuple[int, ...], bool]:
    if isinstance(argnums, int):
        return (argnums,), False
    return tuple(argnums), True


def _zeros_if_none(t: Tensor) -> np.ndarray:
    return np.zeros_like(t.data) if t.grad is None else t.grad


def value_and_grad(f: Callable[..., Any], argnums: ArgNums = 0) -> Callable[..., Any]:
    """Return g(*args) -> (f(*args) as a float, gradient(s) w.r.t. args[argnums]).

    f must return a one-element Tensor. With a tuple `argnums`, the gradients come as a tuple.
    Nested (see the module docstring), the value and the gradients that depend on the enclosing
    recording are returned as Tensors carrying their graph.
    """
    nums, as_tuple = _normalise(argnums)

    def wrapped(*args: Any) -> tuple[Any, Any]:
        if _is_nested(args):
            value, grads = _nested_value_and_grad(f, args, nums)
            return value, grads if as_tuple else grads[0]
        args = _leaves(args, nums)
        out = _traced(f, args)
        _check_scalar(out)
        if out.requires_grad:
            out.backward()
        grads = tuple(_zeros_if_none(args[i]) for i in nums)
        return out.item(), grads if as_tuple else grads[0]

    return wrapped


def _nested_value_and_grad(f: Callable[..., Any], args: Sequence[Any],
                           nums: tuple[int, ...]) -> tuple[Any, tuple]:
    """value_and_grad with a recorded backward pass (`create_graph`), for nesting.

    A differentiated argument that already requires grad enters through an identity node of
    its own, so that the derivative w.r.t. *this argument* is collected (even when the same
    Tensor is passed twice); the others become fresh leaves. No `.grad` is touched.
    """
    args = list(args)
    for i in nums:
        if not -len(args) <= i < len(args):
            raise IndexError(f"argnums {i} is out of range for {len(args)} positional arguments")
        a = args[i]
        if isinstance(a, Tensor) and a._node is not None:
            args[i] = reshape(a, a.shape)
        else:
            args[i] = _leaves([a], (0,))[0]
    out = _traced(f, args)
    _check_scalar(out)
    targets = [args[i]._node for i in nums]
    if out.requires_grad:
        grads = engine.gradients(out._node, np.ones_like(out.data), targets)
    else:
        grads = [None] * len(nums)
    results = []
    for i, g in zip(nums, grads):
        if g is None:
            results.append(np.zeros_like(args[i].data))
        else:
            results.append(g if g._node is not None else g.data)
    return (out if out.requires_grad else out.item()), tuple(results)


def grad(f: Callable[..., Any], argnums: ArgNums = 0) -> Callable[..., Any]:
    """Return g(*args) -> gradient of the scalar f w.r.t. args[argnums] (ndarrays)."""
    both = value_and_grad(f, argnums)
    return lambda *args: both(*args)[1]


def vjp(f: Callable[..., Any], *primals: Any) -> tuple[np.ndarray, Callable[[Any], tuple]]:
    """Evaluate f(*primals) once and return (value, vjp_fn).

    vjp_fn(u) returns, for every primal, u^T J: the gradient of sum(u * f) w.r.t. that primal.
    It can be called many times: the graph is retained.
    """
    args = _leaves(primals, tuple(range(len(primals))))
    out = _traced(f, args)
    if not isinstance(out, Tensor):
        out = Tensor(out)

    def vjp_fn(cotangent: Any) -> tuple[np.ndarray, ...]:
        for a in args:
            a.grad = None
        if out.requires_grad:  # otherwise f ignored its inputs: every gradient is zero
            out.backward(cotangent, retain_graph=True)
        return tuple(_zeros_if_none(a) for a in args)

    return out.data, vjp_fn


def jacobian(f: Callable[..., Any], argnums: ArgNums = 0) -> Callable[..., Any]:
    """Return J(*args): the Jacobian of f w.r.t. args[argnums], shape out.shape + arg.shape.

    Reverse mode yields one row of the Jacobian per backward pass: seeding the output with the
    unit vector e_i gives e_i^T J, the gradient of output element i. So the explicit Jacobian
    costs one forward pass and out.size backward passes; it is the cheap way when the function
    has few outputs and many inputs (a *wide* Jacobian; a scalar loss needs just one pass). For a
    *tall* one, many outputs and few inputs, forward mode (`jacfwd`: one pass per input entry)
    is cheaper. Results are plain ndarrays (first order; `hessian` builds on this).
    """
    nums, as_tuple = _normalise(argnums)

    def wrapped(*args: Any) -> Any:
        value, pullback = vjp(lambda *xs: f(*xs), *args)
        inputs = [np.asarray(getattr(args[i], "data", args[i])) for i in nums]
        jacs = [np.empty(value.shape + x.shape) for x in inputs]
        seed = np.zeros(value.shape)
        for i in range(value.size):
            seed.flat[i] = 1.0
            rows = pullback(seed)
            seed.flat[i] = 0.0
            for jac, num in zip(jacs, nums):
                jac.reshape(value.size, -1)[i] = rows[num].reshape(-1)
        return tuple(jacs) if as_tuple else jacs[0]

    return wrapped


def hvp(f: Callable[..., Any], x: Any, v: Any) -> np.ndarray:
    """H v, the Hessian of the scalar f at x times the vector v, without forming H.

    Reverse over reverse: one forward pass, one *recorded* backward pass giving the gradient
    g(x) as a Tensor on the tape, then one ordinary backward pass of the scalar g(x) . v, whose
    gradient is H v (H is symmetric). About three or four times the cost of f, whatever x.size.
    """
    (leaf,) = _leaves([x], (0,))
    v = np.asarray(getattr(v, "data", v))
    if v.shape != leaf.shape:
        raise ShapeError(f"hvp: v has shape {v.shape} but x has shape {leaf.shape}; they must "
                         f"be equal")
    out = _traced(f, [leaf])
    _check_scalar(out)
    zeros = np.zeros_like(leaf.data)
    if not out.requires_grad:
        return zeros
    (g,) = engine.gradients(out._node, np.ones_like(out.data), [leaf._node])
    if g is None or g._node is None:  # f is at most linear in x: H = 0
        return zeros
    directional = (g * v).sum()
    if not directional.requires_grad:
        return zeros
    directional.backward()
    return _zeros_if_none(leaf)


def hessian(f: Callable[..., Any], argnum: int = 0) -> Callable[..., np.ndarray]:
    """Return H(*args): the Hessian of the scalar f w.r.t. args[argnum], shape x.shape * 2.

    The reverse-mode Jacobian of the gradient: `jacobian(grad(f, argnum), argnum)`. The inner
    grad records its backward pass, and each row of H is then one backward pass through that
    recorded gradient (x.size passes in all). For H v alone, `hvp` is cheaper.
    """
    if not isinstance(argnum, int):
        raise TypeError(f"hessian: argnum must be one int, got {argnum!r}")
    return jacobian(grad(f, argnum), argnum)


def gradcheck(f: Callable[..., Any], *inputs: Any, eps: float = 1e-6, atol: float = 1e-5,
              rtol: float = 1e-3) -> bool:
    """Check the tape's Jacobian of f against central differences, for every input.

    Inputs are taken in float64 (finite differences in float32 are too coarse to check anything).
    Passes when |tape - numeric| <= atol + rtol * |numeric| everywhere; otherwise raises
    GradcheckError naming the input, the worst entry, both values and the error.
    """
    arrays = [np.array(getattr(x, "data", x), dtype=np.float64) for x in inputs]

    def f_numpy(*xs: np.ndarray) -> Any:
        with no_grad():
            return f(*(Tensor(x) for x in xs))

    for num in range(len(arrays)):
        tape = jacobian(f, num)(*arrays)
        numeric = central_difference_jacobian(f_numpy, arrays, num, eps)
        excess = np.abs(tape - numeric) - (atol + rtol * np.abs(numeric))
        # a non-finite entry on either side is a failure, never a silent pass
        excess[~(np.isfinite(tape) & np.isfinite(numeric))] = np.inf
        if excess.size and np.max(excess) > 0:
            worst = np.unravel_index(int(np.argmax(excess)), excess.shape)
            raise GradcheckError(
                f"gradcheck: input {num} (shape {arrays[num].shape}), Jacobian entry "
                f"{tuple(int(i) for i in worst)} [output index, input index]: tape "
                f"{float(tape[worst])!r} vs central difference {float(numeric[worst])!r}, error "
                f"{abs(tape[worst] - numeric[worst]):.3e} > atol + rtol*|numeric| = "
                f"{atol + rtol * abs(numeric[worst]):.3e}")
    return True
