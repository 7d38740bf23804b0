"""Function transformations on the tape: grad, value_and_grad, vjp, jacobian, hvp, hessian and
gradcheck. (Forward mode, jvp and jacfwd, is in `forward.py`.)

Nesting. Every transformation here composes with every other and with `jvp`: one whose
differentiated argument is a Tensor on the tape (an enclosing transformation is recording), or
that is called while an enclosing transformation evaluates its function, records its own
backward pass and returns Tensors that the enclosing one differentiates. Results that do not
depend on the enclosing recording come back as plain ndarrays and floats, as at top level.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import engine
from . import functions as F
from .engine import no_grad
from .errors import DTypeError, GradcheckError, ShapeError
from .finite_differences import central_difference_jacobian
from .forward import Dual
from .tensor import Tensor, gradients

ArgNums = int | Sequence[int]

_depth = 0  # > 0 while a reverse-mode transformation is evaluating the user's function


def _evaluate(f: Callable[..., Any], args: Sequence[Any]) -> Any:
    """f(*args), recorded (also inside `no_grad()`: a transformation asked for its derivative)
    and counted as running inside a transformation (so that inner ones record)."""
    global _depth
    previous, engine.grad_enabled = engine.grad_enabled, True
    _depth += 1
    try:
        return f(*args)
    finally:
        _depth -= 1
        engine.grad_enabled = previous


def inside_transformation() -> bool:
    """Is a reverse-mode transformation evaluating its function (or compile tracing one)?"""
    return engine.grad_enabled and (_depth > 0 or engine.tracing is not None)


def _recorded(x: Any) -> bool:
    return isinstance(x, Tensor) and x._node is not None


def _nested(args: Sequence[Any]) -> bool:
    """Must this transformation record its backward pass for an enclosing one?"""
    if not engine.grad_enabled:
        return False
    if _depth > 0:
        return True
    for a in args:
        if type(a) is Tensor and a._node is not None:
            return True
    return False


def _normalise(argnums: ArgNums, n_args: int) -> tuple[int, ...]:
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    for i in nums:
        if not -n_args <= i < n_args:
            raise IndexError(f"argnums {i} is out of range for {n_args} positional arguments")
    return nums


def _float_data(x: Any, what: str) -> np.ndarray:
    """A differentiated argument as a real floating array (integers become float64)."""
    if type(x) is Dual:
        raise TypeError(f"{what}: reverse mode of a forward-mode Dual (grad inside jvp) is not "
                        "supported; put jvp inside grad, or use hvp for second derivatives")
    data = np.asarray(x.data if isinstance(x, Tensor) else x)
    if data.dtype.kind not in "biuf":
        raise DTypeError(f"{what}: argument of dtype {data.dtype} (shape {data.shape}) is not "
                         "real; autograd_lite differentiates real functions of real arrays")
    return data if data.dtype.kind == "f" else data.astype(np.float64)


def _inputs(args: Sequence[Any], nums: tuple[int, ...], what: str) -> list[Any]:
    """The arguments, the differentiated ones as Tensors to differentiate against: a fresh
    leaf, or, for a Tensor already on an enclosing tape, an identity node of its own (so that
    the derivative w.r.t. *this argument* is collected, even if one Tensor is passed twice)."""
    args = list(args)
    for i in nums:
        a = args[i]
        args[i] = F.reshape(a, a.shape) if _recorded(a) else Tensor(_float_data(a, what),
                                                                  requires_grad=True)
    return args


def _scalar_output(out: Any, what: str) -> Any:
    data = out.data if type(out) is Tensor else np.asarray(out)
    if data.size != 1 or data.dtype.kind not in "biuf":
        raise ShapeError(f"{what}: f must return one real number (a one-element Tensor), got "
                         f"{type(out).__name__} of shape {data.shape}")
    return out


def _result(g: Any, like: Tensor) -> Any:
    """A gradient as returned to the caller: a Tensor only if it carries a graph."""
    if type(g) is np.ndarray:
        return g
    if g is None:
        return np.zeros_like(like.data)
    return g if _recorded(g) else np.asarray(g.data if isinstance(g, Tensor) else g)


def _distinct(grads: tuple) -> tuple:
    """The gradients, an array returned twice (an argument named twice in argnums) copied."""
    seen: set[int] = set()
    out = []
    for g in grads:
        out.append(np.array(g) if id(g) in seen and isinstance(g, np.ndarray) else g)
        seen.add(id(g))
    return tuple(out)


def value_and_grad(f: Callable[..., Any], argnums: ArgNums = 0) -> Callable[..., Any]:
    """Return g(*args) -> (f(*args) as a float, gradient(s) w.r.t. args[argnums]).

    f must return one number (a one-element Tensor). With a tuple `argnums`, the gradients come
    as a tuple. Nested (see the module docstring), the value and the gradients that depend on
    the enclosing recording are Tensors carrying their graph.
    """
    def wrapped(*args: Any) -> tuple[Any, Any]:
        nums = _normalise(argnums, len(args))
        nested = _nested(args)
        args = _inputs(args, tuple(dict.fromkeys(nums)), "grad")  # an argument named twice: once
        out = _scalar_output(_evaluate(f, args), "grad")
        targets = [args[i] for i in nums]
        if not _recorded(out):
            grads = [None] * len(nums)
        elif nested:
            grads = gradients(out, np.ones_like(out.data), targets)
        else:
            out.backward()
            grads = [t.grad for t in targets]
        grads = _distinct(tuple(_result(g, t) for g, t in zip(grads, targets)))
        value = out if nested and _recorded(out) else (
            out.data if type(out) is Tensor else np.asarray(out)).item()
        return value, grads if not isinstance(argnums, int) else grads[0]

    return wrapped


def grad(f: Callable[..., Any], argnums: ArgNums = 0) -> Callable[..., Any]:
    """Return g(*args) -> gradient of the scalar f w.r.t. args[argnums] (ndarrays)."""
    both = value_and_grad(f, argnums)
    return lambda *args: both(*args)[1]


def vjp(f: Callable[..., Any], *primals: Any) -> tuple[Any, Callable[[Any], tuple]]:
    """Evaluate f(*primals) once and return (value, vjp_fn).

    vjp_fn(u) returns, for every primal, u^T J: the gradient of sum(u * f) w.r.t. that primal.
    It can be called many times: the graph is retained.
    """
    nested = _nested(primals)
    args = _inputs(primals, tuple(range(len(primals))), "vjp")
    out = _evaluate(f, args)
    if not isinstance(out, Tensor):
        out = Tensor(out)

    def vjp_fn(cotangent: Any) -> tuple[Any, ...]:
        if not _recorded(out):  # f ignored its inputs: every gradient is zero
            return tuple(np.zeros_like(a.data) for a in args)
        u = cotangent if _recorded(cotangent) else out._seed(cotangent)
        if nested or _recorded(u):
            grads = gradients(out, u, list(args))
        else:
            for a in args:
                a.grad = None
            out.backward(u, retain_graph=True)
            grads = [a.grad for a in args]
        return tuple(_result(g, a) for g, a in zip(grads, args))

    value = out if nested and _recorded(out) else out.data
    return value, vjp_fn


def jacobian(f: Callable[..., Any], argnums: ArgNums = 0) -> Callable[..., Any]:
    """Return J(*args): the Jacobian of f w.r.t. args[argnums], shape out.shape + arg.shape.

    Reverse mode yields one row per backward pass: seeding the output with the unit vector e_i
    gives e_i^T J, the gradient of output element i. So the Jacobian costs one forward pass and
    out.size backward passes: the cheap way for a *wide* Jacobian (few outputs, many inputs; a
    scalar loss needs one pass). For a *tall* one, forward mode (`jacfwd`) is cheaper.
    """
    def wrapped(*args: Any) -> Any:
        nums = _normalise(argnums, len(args))
        value, pullback = vjp(f, *args)
        shape = tuple(np.shape(getattr(value, "data", value)))
        seed = np.zeros(shape)
        rows = []
        for i in range(seed.size):
            seed.flat[i] = 1.0
            rows.append(pullback(seed.copy()))
            seed.flat[i] = 0.0
        jacs = []
        for num in nums:
            x_shape = tuple(np.shape(getattr(args[num], "data", args[num])))
            parts = [F.reshape(r[num], (-1,)) for r in rows]
            if any(_recorded(p) for p in parts):
                jacs.append(F.reshape(F.stack(parts), shape + x_shape))
            elif parts:
                jacs.append(np.stack(parts).reshape(shape + x_shape))
            else:
                jacs.append(np.zeros(shape + x_shape))
        return tuple(jacs) if not isinstance(argnums, int) else jacs[0]

    return wrapped


def hvp(f: Callable[..., Any], x: Any, v: Any) -> Any:
    """H v, the Hessian of the scalar f at x times the vector v, without forming H.

    Reverse over reverse: the vjp of the gradient function, applied to v. One forward pass, one
    recorded backward pass giving grad f(x) on the tape, one backward pass through it: about
    three or four times the cost of f, whatever x.size (H is symmetric, so v^T H = (H v)^T).
    """
    v = np.asarray(getattr(v, "data", v)) if not _recorded(v) else v
    if tuple(np.shape(v)) != tuple(np.shape(getattr(x, "data", x))):
        raise ShapeError(f"hvp: v has shape {np.shape(v)} but x has shape "
                         f"{np.shape(getattr(x, 'data', x))}; they must be equal")
    _, pullback = vjp(grad(f), x)
    return pullback(v)[0]


def hessian(f: Callable[..., Any], argnum: int = 0) -> Callable[..., Any]:
    """Return H(*args): the Hessian of the scalar f w.r.t. args[argnum], shape x.shape * 2.

    The reverse-mode Jacobian of the gradient, `jacobian(grad(f, argnum), argnum)`: the inner
    grad records its backward pass, and each row of H is one backward pass through it (x.size
    passes in all). For H v alone, `hvp` is cheaper.
    """
    if not isinstance(argnum, int):
        raise TypeError(f"hessian: argnum must be one int, got {argnum!r}")
    return jacobian(grad(f, argnum), argnum)


def gradcheck(f: Callable[..., Any], *inputs: Any, eps: float = 1e-6, atol: float = 1e-5,
              rtol: float = 1e-3) -> bool:
    """Check derivatives of f against central differences, for every input.

    f either returns a Tensor (its tape Jacobian is checked, one row per output entry), or has
    `value_and_grad` semantics and says so with `f.value_and_grad = True` and `f.argnums` (a
    compiled function: its gradients are checked against central differences of its value).
    Inputs are taken in float64 (finite differences in float32 are too coarse to check anything).
    Passes when |derivative - numeric| <= atol + rtol * |numeric| everywhere; otherwise raises
    GradcheckError naming the input, the worst entry, both values and the error.
    """
    returns_gradients = getattr(f, "value_and_grad", False)
    nums = _normalise(f.argnums, len(inputs)) if returns_gradients else range(len(inputs))
    arrays = [np.array(_float_data(x, "gradcheck"), dtype=np.float64) if i in nums else x
              for i, x in enumerate(inputs)]
    if returns_gradients:
        derivatives = f(*arrays)[1]
        derivatives = derivatives if isinstance(f.argnums, tuple | list) else (derivatives,)
    else:
        nums = tuple(nums)
        derivatives = jacobian(f, nums)(*arrays)

    def f_numpy(*xs: np.ndarray) -> Any:
        if returns_gradients:
            return f(*xs)[0]
        with no_grad():
            return f(*(Tensor(x) for x in xs))

    for num, derivative in zip(nums, derivatives):
        tape = np.asarray(derivative, dtype=np.float64)
        numeric = central_difference_jacobian(f_numpy, arrays, num, eps)
        numeric = numeric.reshape(tape.shape)
        excess = np.abs(tape - numeric) - (atol + rtol * np.abs(numeric))
        # a non-finite entry on either side is a failure, never a silent pass
        excess[~(np.isfinite(tape) & np.isfinite(numeric))] = np.inf
        if excess.size and np.max(excess) > 0:
            worst = np.unravel_index(int(np.argmax(excess)), excess.shape)
            raise GradcheckError(
                f"gradcheck: input {num} (shape {arrays[num].shape}), derivative entry "
                f"{tuple(int(i) for i in worst)} [output index, input index]: tape "
                f"{float(tape[worst])!r} vs central difference {float(numeric[worst])!r}, error "
                f"{abs(tape[worst] - numeric[worst]):.3e} > atol + rtol*|numeric| = "
                f"{atol + rtol * abs(numeric[worst]):.3e}")
    return True
