"""Function transformations on the tape: grad, value_and_grad, vjp, jacobian, hvp, hessian and
gradcheck. (Forward mode, jvp and jacfwd, is in `forward.py`.)

Nesting: every transformation composes with every other and with `jvp`, to any depth.

- Reverse inside reverse (grad of grad): a transformation whose differentiated argument is a
  Tensor on the tape, or that runs while an enclosing reverse transformation evaluates its
  function, records its own backward pass and returns Tensors the enclosing one
  differentiates. Each differentiated argument gets a node of its own, so that the derivative
  w.r.t. *this argument* is collected even if the same Tensor is passed twice.
- Forward inside reverse (grad of jvp): Duals whose parts are Tensors; the tape records the
  tangent computation like any other.
- Reverse inside forward (jvp of grad, "forward over reverse"): the differentiated argument is a
  Dual, x + e v. The transformation puts its tape leaf L at the Dual's base value, so that f
  sees L + e v and returns a Dual f0 + e f1 of Tensors; each part is differentiated w.r.t. L:
  d/dL (f0 + e f1) = grad f0 + e grad f1 (taking the e-part commutes with d/dL, the direction
  being a constant). So the gradient comes back as the Dual grad f(x) + e H v, of the jvp's
  level, and nested Duals (jvp of jvp of grad) part by part the same way.

Results that do not depend on an enclosing recording come back as plain ndarrays and floats,
each gradient an array of its own (fresh, writable), in its argument's dtype.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import engine
from . import functions as F
from .arguments import ArgNums, float_array, normalise_argnums, single
from .engine import no_grad
from .errors import GradcheckError, ShapeError
from .finite_differences import central_difference_jacobian
from .forward import Dual, _stacked, is_box, jacfwd, jvp
from .tensor import Tensor, gradients, is_recorded, new_leaf

_depth = 0  # > 0 while a reverse-mode transformation is evaluating the user's function


def evaluate(f: Callable[..., Any], args: Sequence[Any]) -> Any:
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
    return engine.grad_enabled and _depth > 0


# ---- Dual-structured values: a Dual's parts, recursively ---------------------------------------
def _parts(x: Any) -> list[Any]:
    """The non-Dual values inside x (x itself if it is not a Dual)."""
    return _parts(x.primal) + _parts(x.tangent) if type(x) is Dual else [x]


def _map(x: Any, fn: Callable[[Any], Any]) -> Any:
    """fn applied to each part of x, the Dual structure (and levels) kept."""
    return Dual(_map(x.primal, fn), _map(x.tangent, fn), x.level) if type(x) is Dual else fn(x)


def _base(x: Any) -> Any:
    """The value at the bottom of x's primals (x + e v: x)."""
    while type(x) is Dual:
        x = x.primal
    return x


def _with_base(x: Any, leaf: Any) -> Any:
    """x with its base value replaced by `leaf` (the directions kept)."""
    return Dual(_with_base(x.primal, leaf), x.tangent, x.level) if type(x) is Dual else leaf


def _nested(args: Sequence[Any]) -> bool:
    """Must this transformation record its backward pass for an enclosing one?"""
    if not engine.grad_enabled:
        return False
    if _depth > 0:
        return True
    for a in args:  # (is_recorded inlined for Tensors: this runs on every call)
        if isinstance(a, Tensor):
            if a._node is not None:
                return True
        elif type(a) is Dual and any(is_recorded(p) for p in _parts(a)):
            return True
    return False


def _inputs(args: Sequence[Any], nums: Sequence[int], what: str
            ) -> tuple[list[Any], dict[int, Tensor]]:
    """The arguments with each differentiated one's base value made a Tensor to differentiate
    against (a fresh leaf; for a Tensor already on an enclosing tape, an identity node of its
    own), and those Tensors by position."""
    args, leaves = list(args), {}
    for i in dict.fromkeys(nums):
        base = _base(args[i])
        leaf = F.reshape(base, base.shape) if is_recorded(base) else Tensor(
            float_array(base, what), requires_grad=True)
        args[i], leaves[i] = _with_base(args[i], leaf), leaf
    return args, leaves


def _result(g: Any, like: Tensor, owned: bool = False) -> Any:
    """A gradient as returned to the caller: a Tensor if it carries a graph, else an array of
    its own in the argument's dtype (`owned`: it is one already)."""
    if is_recorded(g):  # in the argument's dtype, as a plain gradient is
        return g if g.dtype == like.dtype else F.astype(g, like.dtype)
    if g is None:
        return np.zeros_like(like.data)
    data = g.data if isinstance(g, Tensor) else g
    if owned and type(data) is np.ndarray and data.dtype == like.data.dtype:
        return data
    return np.array(data, dtype=like.data.dtype)


def _distinct(grads: Sequence[Any]) -> tuple:
    """The gradients, an array returned twice (an argument named twice in argnums) copied."""
    seen: set[int] = set()
    out = []
    for g in grads:
        out.append(np.array(g) if id(g) in seen and isinstance(g, np.ndarray) else g)
        seen.add(id(g))
    return tuple(out)


def _gradients(out: Any, targets: list[Tensor], nested: bool, seed: Any = None) -> list[Any]:
    """Per target, the gradient of `out` (weighted by `seed`, default 1) as out's Dual
    structure: each part of out differentiated w.r.t. the target (see the module docstring)."""
    if type(out) is Dual:
        primal = _gradients(out.primal, targets, nested, seed)
        tangent = _gradients(out.tangent, targets, nested, seed)
        return [Dual(p, t, out.level) for p, t in zip(primal, tangent)]
    if not is_recorded(out):  # this part does not depend on the arguments
        return [_result(None, t) for t in targets]
    seed = np.ones_like(out.data) if seed is None else seed
    grads = gradients(out, seed, targets, retain_graph=True, create_graph=nested or is_recorded(
        seed))
    return [_result(g, t) for g, t in zip(grads, targets)]


def _value(out: Any, nested: bool) -> Any:
    """f's value as the caller gets it: a number (or a Tensor, nested), part by part."""
    def one(part: Any) -> Any:
        if nested and is_recorded(part):
            return part
        return np.asarray(part.data if isinstance(part, Tensor) else part).item()

    return _map(out, one)


def _scalar_output(out: Any, what: str) -> Any:
    for part in _parts(out):
        data = part.data if isinstance(part, Tensor) else np.asarray(part)
        if data.size != 1 or data.dtype.kind not in "biuf":
            raise ShapeError(f"{what}: f must return one real number (a one-element Tensor), got "
                             f"{type(out).__name__} of shape {data.shape}")
    return out


def value_and_grad(f: Callable[..., Any], argnums: ArgNums = 0) -> Callable[..., Any]:
    """Return g(*args) -> (f(*args) as a float, gradient(s) w.r.t. args[argnums]).

    f must return one number (a one-element Tensor). With a tuple `argnums`, the gradients come
    as a tuple. Nested (see the module docstring), the value and the gradients that depend on
    an enclosing recording are Tensors carrying their graph, or Duals.
    """
    def wrapped(*args: Any) -> tuple[Any, Any]:
        nums = normalise_argnums(argnums, len(args), "grad")
        nested = _nested(args)
        if not nested and not any(type(a) is Dual for a in args):
            value, grads = _at_top_level(f, args, nums)
        else:
            args, leaves = _inputs(args, nums, "grad")
            out = _scalar_output(evaluate(f, args), "grad")
            value = _value(out, nested)
            grads = _distinct(_gradients(out, [leaves[i] for i in nums], nested))
        return value, grads[0] if single(argnums) else grads

    return wrapped


def _at_top_level(f: Callable[..., Any], args: Sequence[Any], nums: tuple[int, ...]
                  ) -> tuple[Any, tuple]:
    """value_and_grad's common case, no enclosing transformation and no Duals: fresh leaves
    on the caller's arrays (the graph lives for this call only), one plain backward pass that
    accumulates each gradient into its leaf as an array of its own."""
    args, leaves = list(args), {}
    for i in dict.fromkeys(nums):
        args[i] = leaves[i] = new_leaf(float_array(args[i], "grad"))
    out = evaluate(f, args)
    data = getattr(out, "data", None)
    if (type(out) is Tensor and out._node is not None and data.size == 1
            and data.dtype.kind == "f" and len(leaves) == len(nums)):
        # the usual answer, a recorded real number (and each argument named once): one
        # backward pass, without the general path's checks of the output and the gradients
        out.backward()
        return data.item(), tuple(_result(leaves[i].grad, leaves[i], owned=True) for i in nums)
    out = _scalar_output(out, "grad")
    if not is_recorded(out):  # f ignored its arguments, or returned a Dual of a closure
        grads = _gradients(out, [leaves[i] for i in nums], False)
    else:
        out.backward()
        grads = [_result(leaves[i].grad, leaves[i], owned=True) for i in nums]
    return _value(out, False), _distinct(grads)


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
    args, leaves = _inputs(primals, range(len(primals)), "vjp")
    targets = [leaves[i] for i in range(len(primals))]
    out = evaluate(f, args)
    if not is_box(out):
        out = Tensor(out)

    def vjp_fn(cotangent: Any) -> tuple[Any, ...]:
        if tuple(np.shape(cotangent) if not is_box(cotangent) else cotangent.shape) != tuple(
                out.shape):
            raise ShapeError(f"vjp: the cotangent has shape {np.shape(cotangent)} but f's "
                             f"value has shape {tuple(out.shape)}; they must be equal")
        if type(out) is Dual or type(cotangent) is Dual:
            # sum(u * f), part by part: the pairing of two Duals is Dual arithmetic
            return tuple(_gradients(F.sum(cotangent * out), targets, nested))
        if not is_recorded(out):  # f ignored its inputs: every gradient is zero
            return tuple(np.zeros_like(t.data) for t in targets)
        u = cotangent if is_recorded(cotangent) else out._seed(cotangent)
        return tuple(_gradients(out, targets, nested, seed=u))

    return _value_array(out, nested), vjp_fn


def _value_array(out: Any, nested: bool) -> Any:
    """f's (array) value as the caller gets it, part by part."""
    return _map(out, lambda part: part if nested and is_recorded(part) else np.asarray(
        part.data if isinstance(part, Tensor) else part))


def jacobian(f: Callable[..., Any], argnums: ArgNums = 0) -> Callable[..., Any]:
    """Return J(*args): the Jacobian of f w.r.t. args[argnums], shape out.shape + arg.shape.

    Reverse mode yields one row per backward pass: seeding the output with the unit vector e_i
    gives e_i^T J, the gradient of output element i. So the Jacobian costs one forward pass and
    out.size backward passes: the cheap way for a *wide* Jacobian (few outputs, many inputs; a
    scalar loss needs one pass). For a *tall* one, forward mode (`jacfwd`) is cheaper.
    """
    def wrapped(*args: Any) -> Any:
        nums = normalise_argnums(argnums, len(args), "jacobian")
        value, pullback = vjp(f, *args)
        shape = tuple(value.shape)
        seed = np.zeros(shape)
        rows = []
        for i in range(seed.size):
            seed.flat[i] = 1.0
            rows.append(pullback(seed.copy()))
            seed.flat[i] = 0.0
        jacs = []
        for num in nums:
            base = _base(args[num])
            x_shape = tuple(getattr(base, "shape", None) or np.shape(base))
            jacs.append(_stacked([F.reshape(r[num], (-1,)) for r in rows], shape + x_shape,
                                 axis=0))
        return jacs[0] if single(argnums) else tuple(jacs)

    return wrapped


def hvp(f: Callable[..., Any], x: Any, v: Any) -> Any:
    """H v, the Hessian of the scalar f at x times the vector v, without forming H.

    Forward over reverse, as JAX computes it: the jvp of the gradient function along v, one
    forward pass carrying the tangent and two backward passes (of f and of its tangent), about
    four times the cost of f, whatever x.size.
    """
    x_shape = tuple(x.shape) if is_box(x) else np.shape(getattr(x, "data", x))
    v_shape = tuple(v.shape) if is_box(v) else np.shape(getattr(v, "data", v))
    if v_shape != x_shape:
        raise ShapeError(f"hvp: v has shape {v_shape} but x has shape {x_shape}; they must be "
                         "equal")
    return jvp(grad(f), (x,), (v,))[1]


def hessian(f: Callable[..., Any], argnum: int = 0) -> Callable[..., Any]:
    """Return H(*args): the Hessian of the scalar f w.r.t. args[argnum], shape x.shape * 2.

    The reverse-mode Jacobian of the gradient, `jacobian(grad(f, argnum), argnum)`: the inner
    grad records its backward pass, and each row of H is one backward pass through it (x.size
    passes in all). For H v alone, `hvp` is cheaper.
    """
    if not isinstance(argnum, int):
        raise TypeError(f"hessian: argnum must be one int, got {argnum!r}")
    return jacobian(grad(f, argnum), argnum)


# ---- checking derivatives against central differences ------------------------------------------
MAX_LISTED = 10  # wrong entries a GradcheckError lists one by one


def _mismatches(derivative: np.ndarray, numeric: np.ndarray, atol: float,
                rtol: float) -> np.ndarray:
    """The indices of the entries where |derivative - numeric| > atol + rtol |numeric|; a
    non-finite entry on either side is a mismatch, never a silent pass."""
    excess = np.abs(derivative - numeric) - (atol + rtol * np.abs(numeric))
    excess[~(np.isfinite(derivative) & np.isfinite(numeric))] = np.inf
    return np.argwhere(excess > 0)


def gradcheck(f: Callable[..., Any], *inputs: Any, eps: float = 1e-6, atol: float = 1e-5,
              rtol: float = 1e-3, modes: Sequence[str] = ("reverse", "forward")) -> bool:
    """Check f's derivatives against central differences, for every input, in both modes.

    f either returns an array computed with autograd_lite's operations (its Jacobian is
    checked by reverse mode, `jacobian`, and by forward mode, `jacfwd`), or has
    `value_and_grad` semantics and says so with `f.value_and_grad = True` and `f.argnums` (a
    compiled function: its gradients are checked against central differences of its value).
    Inputs are taken in float64 (finite differences in float32 are too coarse to check anything).
    Passes when |derivative - numeric| <= atol + rtol * |numeric| everywhere; otherwise raises
    GradcheckError naming the mode and the input, and listing the wrong entries one by one
    ([output index, input index], the derivative, the central difference, the error).
    """
    returns_gradients = getattr(f, "value_and_grad", False)
    nums = normalise_argnums(f.argnums, len(inputs)) if returns_gradients else tuple(
        range(len(inputs)))
    arrays = [np.array(float_array(x, "gradcheck"), dtype=np.float64) if i in nums else x
              for i, x in enumerate(inputs)]

    def f_numpy(*xs: np.ndarray) -> Any:
        if returns_gradients:
            return f(*xs)[0]
        with no_grad():
            return f(*(Tensor(x) for x in xs))

    if returns_gradients:
        grads = f(*arrays)[1]
        found = {"reverse": grads if not single(f.argnums) else (grads,)}
    else:
        transforms = {"reverse": jacobian, "forward": jacfwd}
        unknown = set(modes) - set(transforms)
        if unknown:
            raise ValueError(f"gradcheck: modes must be 'reverse' and/or 'forward', got "
                             f"{sorted(unknown)}")
        found = {mode: transforms[mode](f, nums)(*arrays) for mode in modes}
    for mode, derivatives in found.items():
        for num, derivative in zip(nums, derivatives):
            tape = np.asarray(derivative, dtype=np.float64)
            numeric = central_difference_jacobian(f_numpy, arrays, num, eps).reshape(tape.shape)
            wrong = _mismatches(tape, numeric, atol, rtol)
            if len(wrong):
                raise GradcheckError(_report(mode, num, arrays[num].shape, tape, numeric, wrong,
                                             atol, rtol))
    return True


def _report(mode: str, num: int, shape: tuple[int, ...], tape: np.ndarray, numeric: np.ndarray,
            wrong: np.ndarray, atol: float, rtol: float) -> str:
    out_ndim = tape.ndim - len(shape)
    lines = [f"gradcheck: {mode} mode, input {num} (shape {shape}): {len(wrong)} of {tape.size} "
             f"derivative entries differ from central differences by more than atol + "
             f"rtol*|numeric| (atol={atol:g}, rtol={rtol:g}):"]
    for index in wrong[:MAX_LISTED]:
        index = tuple(int(i) for i in index)
        d, n = float(tape[index]), float(numeric[index])
        lines.append(f"  [output {index[:out_ndim]}, input {index[out_ndim:]}]: derivative "
                     f"{d!r}, central difference {n!r}, error {abs(d - n):.3e}")
    if len(wrong) > MAX_LISTED:
        lines.append(f"  ... and {len(wrong) - MAX_LISTED} more")
    return "\n".join(lines)
