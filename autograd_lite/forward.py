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
Dual's primal may itself be a Tensor on the tape: forward mode then records, and `jvp` inside
`grad` is differentiated like any other function (forward over reverse).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import functions as F
from . import ops as P
from .errors import DTypeError, ShapeError
from .tensor import ArrayOperators, Tensor

ArgNums = int | Sequence[int]


def apply_forward(op: type[P.Primitive], *args: Any, **params: Any) -> Any:
    """Run `op` on the primals and its `jvp_<input>` rules on the tangents; return a Dual.

    Operands that are not Duals are constants (zero tangent). The output tangent is the sum of
    the inputs' contributions, broadcast to the output's shape, in the output's dtype.
    """
    primals = [x.primal if type(x) is Dual else x for x in args]
    out = P.apply_to(op, *primals, **params)
    if not isinstance(out, Tensor):
        out = np.asarray(out)
    if not op.differentiable:
        return out
    saved = op.pick_saved(primals, out)
    tangent = None
    for x, rule in zip(args, op.jvps):
        if type(x) is Dual:
            contribution = rule(x.tangent, *saved, **params)
            tangent = contribution if tangent is None else tangent + contribution
    if tangent is None:  # Duals only where no rule reaches (an index): a constant result
        return out
    if tangent.shape != out.shape:
        tangent = F.broadcast_to(tangent, out.shape)
    if tangent.dtype != out.dtype and out.dtype.kind == "f":
        tangent = F.astype(tangent, out.dtype)
    return Dual(out, tangent)


class Dual(ArrayOperators):
    """A value and its tangent (same shape): what forward mode computes with."""

    __slots__ = ("primal", "tangent")
    apply_primitive = staticmethod(apply_forward)

    def __init__(self, primal: Any, tangent: Any) -> None:
        self.primal = primal
        self.tangent = tangent

    @property
    def shape(self) -> tuple[int, ...]:
        return self.primal.shape

    @property
    def ndim(self) -> int:
        return self.primal.ndim

    @property
    def size(self) -> int:
        return self.primal.size

    @property
    def dtype(self) -> np.dtype:
        return self.primal.dtype

    def __repr__(self) -> str:
        return f"Dual(primal={self.primal!r}, tangent={self.tangent!r})"

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        raise TypeError("converting a Dual to an ndarray would drop its tangent; use "
                        ".primal (the value) or .tangent (its directional derivative)")


# ---- the transformations ------------------------------------------------------------------------
def _recorded(x: Any) -> bool:
    return isinstance(x, Tensor) and x._node is not None


def _primal(x: Any, what: str) -> Any:
    """A primal as forward mode uses it: a Tensor on the tape stays one; anything else becomes a
    real floating array (integers become float64)."""
    if _recorded(x):
        return x
    data = np.asarray(x.data if isinstance(x, Tensor) else x)
    if data.dtype.kind not in "biuf":
        raise DTypeError(f"{what}: {data.dtype} input is not real; autograd_lite differentiates "
                         "real functions of real arrays")
    return data if data.dtype.kind == "f" else data.astype(np.float64)


def _output(out: Any) -> tuple[Any, Any]:
    """(value, tangent) of what f returned: a Dual, or a constant (its tangent is zero). Values
    that carry a graph (a reverse-mode transformation encloses this one, or f closes over a
    Tensor on the tape) stay Tensors, so that the enclosing differentiation sees them."""
    if type(out) is Dual:
        value, tangent = out.primal, out.tangent
        if _recorded(value) or _recorded(tangent):
            return value, tangent
        return np.asarray(getattr(value, "data", value)), np.array(getattr(tangent, "data",
                                                                           tangent))
    value = out if _recorded(out) else np.asarray(getattr(out, "data", out))
    if np.asarray(getattr(value, "data", value)).dtype.kind not in "biuf":
        raise DTypeError(f"jvp: f must return an array, a number or a Dual; got "
                         f"{type(out).__name__}")
    dtype = np.result_type(value.dtype, np.float64)
    return value, np.zeros(value.shape, dtype)


def jvp(f: Callable[..., Any], primals: Any, tangents: Any) -> tuple[Any, Any]:
    """Forward mode: (f(*primals), J v), J the Jacobian of f at primals, v the tangents.

    `primals` and `tangents` are tuples (or lists) with one entry per argument of f; a single
    array is taken as the one argument. Each tangent must have its primal's shape; it is used in
    its primal's floating dtype. One pass through f, computing each value and its directional
    derivative side by side. Inside a reverse-mode transformation (primals or tangents that are
    Tensors on the tape), the results are Tensors that can be differentiated again.
    """
    if not isinstance(primals, tuple | list):
        primals, tangents = (primals,), (tangents,)
    if not isinstance(tangents, tuple | list) or len(tangents) != len(primals):
        raise ShapeError(f"jvp: got {len(primals)} primals but "
                         f"{len(tangents) if isinstance(tangents, tuple | list) else 1} tangents")
    duals = []
    for i, (x, v) in enumerate(zip(primals, tangents)):
        x = _primal(x, "jvp")
        v = v if _recorded(v) else _primal(v, "jvp")
        if tuple(v.shape) != tuple(x.shape):
            raise ShapeError(f"jvp: tangent {i} has shape {tuple(v.shape)} but its primal has "
                             f"shape {tuple(x.shape)}; they must be equal")
        duals.append(Dual(x, F.astype(v, x.dtype)))
    return _output(f(*duals))


def jacfwd(f: Callable[..., Any], argnums: ArgNums = 0) -> Callable[..., Any]:
    """Return J(*args): the Jacobian of f w.r.t. args[argnums] by forward mode.

    Shape out.shape + arg.shape, as `jacobian`'s. Forward mode yields one *column* per pass: the
    tangent e_j gives J e_j, the derivatives of every output along input entry j. So it costs
    arg.size forward-mode passes and no backward pass: the cheap way for a *tall* Jacobian, with
    many outputs and few inputs (e.g. the N*K entries of Phi(W) against the (D+1)*K entries of W).
    Reverse mode (`jacobian`, one pass per output entry) is the cheap way for a *wide* one.
    """
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)

    def wrapped(*args: Any) -> Any:
        jacs = []
        for num in nums:
            if not -len(args) <= num < len(args):
                raise IndexError(f"argnums {num} is out of range for {len(args)} positional "
                                 f"arguments")
            x = _primal(args[num], "jacfwd")
            call_args = list(args)
            columns, value = [], None
            for j in range(x.size):
                direction = np.zeros(x.size, x.dtype)
                direction[j] = 1.0
                call_args[num] = Dual(x, direction.reshape(x.shape))
                value, column = _output(f(*call_args))
                columns.append(F.reshape(column, (-1,)))
            if value is None:  # an empty input: no pass, but the output's shape is needed
                call_args[num] = x
                value = f(*call_args)
            out_shape = tuple(np.shape(getattr(value, "data", value)))
            if not columns:
                jacs.append(np.zeros(out_shape + tuple(x.shape)))
            elif any(_recorded(c) for c in columns):
                jacs.append(F.reshape(F.stack(columns, axis=-1), out_shape + tuple(x.shape)))
            else:
                jacs.append(np.stack(columns, axis=-1).reshape(out_shape + tuple(x.shape)))
        return tuple(jacs) if not isinstance(argnums, int) else jacs[0]

    return wrapped
