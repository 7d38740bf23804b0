"""Forward mode: push a tangent through the same primitives, one pass per input direction.

A `Dual` pairs a value (`primal`) with a tangent: the directional derivative of that value along
the chosen input direction. An operation on Duals runs the primitive on the primals and its
forward-mode rules (`jvp_<input>` in `ops.py`) on the tangents, so a Dual carries `J v` through
the computation without a tape.

The chain rule, accumulated the two ways:

- forward (`jvp`, `jacfwd`): J v, one pass per input direction v; a full Jacobian costs one pass
  per *input* entry;
- reverse (`vjp`, `jacobian`, `grad`): u^T J, one backward pass per output direction u; a full
  Jacobian costs one pass per *output* entry.

Duals have Tensor's operator surface, so code written for the tape runs on them unchanged. A
Dual's primal may itself be a Tensor on the tape (forward mode then records, and `jvp` inside
`grad`, "reverse over forward" in JAX's words, is differentiated like any other function) or a
Dual of an enclosing `jvp` (each jvp has its own `level`). `grad` inside `jvp`, "forward over
reverse", is the reverse transformations' part (functional.py).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np

from . import functions as F
from . import ops as P
from .arguments import ArgNums, float_array, normalise_argnums, single
from .errors import ShapeError
from .tensor import ArrayOperators, is_recorded

#: Each `jvp` takes a new level; a transformation nested inside another gets a higher one.
_levels = itertools.count(1)


def apply_forward(op: type[P.Primitive], *args: Any, **params: Any) -> Any:
    """Run `op` on the primals and its `jvp_<input>` rules on the tangents; return a Dual.

    Only the Duals of the highest level among the operands (the innermost jvp) are split into
    primal and tangent; other operands, lower-level Duals included, are constants of this level
    and go into the primal computation and the rules whole (their own levels handle them
    there). This is what keeps nested jvps apart ("perturbation confusion"). The output tangent
    is the sum of the inputs' contributions, broadcast to the output's shape, in its dtype.
    """
    level = max(x.level for x in args if type(x) is Dual)
    primals = [x.primal if type(x) is Dual and x.level == level else x for x in args]
    out = P.apply_to(op, *primals, **params)
    if isinstance(out, np.generic | float | int):
        out = np.asarray(out)
    if not op.differentiable:
        return out
    saved = op.pick_saved(primals, out)
    tangent = None
    for k, x in enumerate(args):
        if type(x) is not Dual or x.level != level:
            continue
        if not op.has_rule("jvp", k):
            if op.has_rule("vjp", k):  # differentiable there, but only in reverse mode
                raise NotImplementedError(
                    f"{op.__name__} has no forward-mode rule for its input "
                    f"{op.input_names()[min(k, len(op.inputs) - 1)]!r}: jvp, jacfwd and hvp need "
                    f"one (jvp_<input>, or d_<input> for an Elementwise primitive)")
            continue  # an index or a condition: no derivative flows through it
        contribution = op.jvps[k](x.tangent, *saved, **params) if isinstance(op.jvps, tuple) \
            else _nth(op.jvps, k)(x.tangent, *saved, **params)
        tangent = contribution if tangent is None else tangent + contribution
    if tangent is None:  # Duals only where no rule reaches (an index): a constant result
        return out
    if tuple(tangent.shape) != tuple(out.shape):
        tangent = F.broadcast_to(tangent, out.shape)
    if tangent.dtype != out.dtype and out.dtype.kind == "f":
        tangent = F.astype(tangent, out.dtype)
    return Dual(out, tangent, level)


def _nth(rules: Any, k: int) -> Any:
    """The k-th rule of a variadic primitive's (endless) rule sequence."""
    return next(itertools.islice(iter(rules), k, None))


class Dual(ArrayOperators):
    """A value and its tangent (same shape): what forward mode computes with.

    `level` tells nested jvps apart: each `jvp` makes Duals of its own level. The primal and
    the tangent may themselves be Duals of lower levels, or Tensors on the tape.
    """

    __slots__ = ("primal", "tangent", "level")
    apply_primitive = staticmethod(apply_forward)
    VALUES = "primal"  # shape, ndim, size and dtype are the primal's

    def __init__(self, primal: Any, tangent: Any, level: int = 0) -> None:
        self.primal = primal
        self.tangent = tangent
        self.level = level

    def __repr__(self) -> str:
        return f"Dual(primal={self.primal!r}, tangent={self.tangent!r}, level={self.level})"

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        raise TypeError("converting a Dual to an ndarray would drop its tangent; use "
                        ".primal (the value) or .tangent (its directional derivative)")


def is_box(x: Any) -> bool:
    """Does x carry derivatives: a Dual, or a Tensor on the tape?"""
    return type(x) is Dual or is_recorded(x)


def plain(x: Any) -> Any:
    """x as the caller gets it: boxes as they are, anything else as an ndarray."""
    return x if is_box(x) else np.asarray(getattr(x, "data", x))


# ---- the transformations ------------------------------------------------------------------------
def _primal(x: Any, what: str) -> Any:
    """A primal as forward mode uses it: a box (a Tensor on the tape, a Dual of an enclosing
    jvp) stays one; anything else becomes a real floating array."""
    return x if is_box(x) else float_array(x, what)


def _output(out: Any, level: int) -> tuple[Any, Any]:
    """(value, tangent) of what f returned: a Dual of this level, or a constant of it (its
    tangent is zero). Boxes of other transformations stay boxes, so that those see them."""
    if type(out) is Dual and out.level == level:
        return plain(out.primal), plain(out.tangent)
    value = plain(out)
    dtype = value.dtype
    if dtype.kind not in "biuf":
        raise ShapeError(f"jvp: f must return an array, a number or a Dual; got "
                         f"{type(out).__name__}")
    return value, np.zeros(tuple(value.shape), np.result_type(dtype, np.float64))


def jvp(f: Callable[..., Any], primals: Any, tangents: Any) -> tuple[Any, Any]:
    """Forward mode: (f(*primals), J v), J the Jacobian of f at primals, v the tangents.

    `primals` and `tangents` are tuples (or lists) with one entry per argument of f; a single
    array is taken as the one argument. Each tangent must have its primal's shape; it is used in
    its primal's floating dtype. One pass through f, computing each value and its directional
    derivative side by side. Any transformation may enclose it or be enclosed by it (grad of
    jvp, jvp of grad, jvp of jvp, ...): the results are then that transformation's values.
    """
    if not isinstance(primals, tuple | list):
        primals, tangents = (primals,), (tangents,)
    if not isinstance(tangents, tuple | list) or len(tangents) != len(primals):
        raise ShapeError(f"jvp: got {len(primals)} primals but "
                         f"{len(tangents) if isinstance(tangents, tuple | list) else 1} tangents")
    level = next(_levels)
    duals = []
    for i, (x, v) in enumerate(zip(primals, tangents)):
        x, v = _primal(x, "jvp"), _primal(v, "jvp")
        if tuple(v.shape) != tuple(x.shape):
            raise ShapeError(f"jvp: tangent {i} has shape {tuple(v.shape)} but its primal has "
                             f"shape {tuple(x.shape)}; they must be equal")
        duals.append(Dual(x, F.astype(v, x.dtype), level))
    return _output(f(*duals), level)


def jacfwd(f: Callable[..., Any], argnums: ArgNums = 0) -> Callable[..., Any]:
    """Return J(*args): the Jacobian of f w.r.t. args[argnums] by forward mode.

    Shape out.shape + arg.shape, as `jacobian`'s. Forward mode yields one *column* per pass: the
    tangent e_j gives J e_j, the derivatives of every output along input entry j. So it costs
    arg.size forward-mode passes and no backward pass: the cheap way for a *tall* Jacobian, with
    many outputs and few inputs (e.g. the N*K entries of Phi(W) against the (D+1)*K entries of W).
    Reverse mode (`jacobian`, one pass per output entry) is the cheap way for a *wide* one.
    """
    def wrapped(*args: Any) -> Any:
        jacs = []
        for num in normalise_argnums(argnums, len(args), "jacfwd"):
            x = _primal(args[num], "jacfwd")

            def along(x_: Any, num: int = num) -> Any:
                return f(*args[:num], x_, *args[num + 1:])

            columns, value = [], None
            for j in range(x.size):
                direction = np.zeros(x.size, x.dtype)
                direction[j] = 1.0
                value, column = jvp(along, (x,), (direction.reshape(x.shape),))
                columns.append(F.reshape(column, (-1,)))
            if value is None:  # an empty input: no pass, but the output's shape is needed
                value = along(x)
            out_shape = tuple(np.shape(value) if not is_box(value) else value.shape)
            jacs.append(_stacked(columns, out_shape + tuple(x.shape), axis=-1))
        return jacs[0] if single(argnums) else tuple(jacs)

    return wrapped


def _stacked(parts: list[Any], shape: tuple[int, ...], axis: int) -> Any:
    """The parts stacked along `axis` and shaped: with autograd_lite's stack if a part is a box
    (so that an enclosing transformation sees it), else numpy's; zeros if there are none."""
    if not parts:
        return np.zeros(shape)
    if any(is_box(p) for p in parts):
        return F.reshape(F.stack(parts, axis=axis), shape)
    return np.stack([np.asarray(p) for p in parts], axis=axis).reshape(shape)
