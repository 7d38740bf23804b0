"""Function transformations on top of the tape: grad, value_and_grad, vjp, jacobian, gradcheck."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .engine import no_grad
from .errors import GradcheckError, ShapeError
from .finite_differences import central_difference_jacobian
from .tensor import Tensor

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


def _normalise(argnums: ArgNums) -> tuple[tuple[int, ...], bool]:
    if isinstance(argnums, int):
        return (argnums,), False
    return tuple(argnums), True


def _zeros_if_none(t: Tensor) -> np.ndarray:
    return np.zeros_like(t.data) if t.grad is None else t.grad


def value_and_grad(f: Callable[..., Any], argnums: ArgNums = 0) -> Callable[..., Any]:
    """Return g(*args) -> (f(*args) as a float, gradient(s) w.r.t. args[argnums]).

    f must return a one-element Tensor. With a tuple `argnums`, the gradients come as a tuple.
    """
    nums, as_tuple = _normalise(argnums)

    def wrapped(*args: Any) -> tuple[float, Any]:
        args = _leaves(args, nums)
        out = f(*args)
        if not isinstance(out, Tensor) or out.size != 1:
            raise ShapeError(f"grad: f must return a one-element Tensor, got "
                             f"{type(out).__name__} of shape {np.shape(getattr(out, 'data', out))}")
        if out.requires_grad:
            out.backward()
        grads = tuple(_zeros_if_none(args[i]) for i in nums)
        return out.item(), grads if as_tuple else grads[0]

    return wrapped


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
    out = f(*args)
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
    has few outputs and many inputs (a scalar loss needs just one).
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
        if excess.size and (np.max(excess) > 0 or not np.all(np.isfinite(tape))):
            worst = np.unravel_index(int(np.nanargmax(np.where(np.isfinite(excess), excess,
                                                              np.inf))), excess.shape)
            raise GradcheckError(
                f"gradcheck: input {num} (shape {arrays[num].shape}), Jacobian entry "
                f"{tuple(int(i) for i in worst)} [output index, input index]: tape "
                f"{tape[worst]!r} vs central difference {numeric[worst]!r}, error "
                f"{abs(tape[worst] - numeric[worst]):.3e} > atol + rtol*|numeric| = "
                f"{atol + rtol * abs(numeric[worst]):.3e}")
    return True
