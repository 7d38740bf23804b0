"""Forward mode: push a tangent through the same primitives, one pass per input direction.

A `Dual` pairs a value (`primal`) with a tangent: the directional derivative of that value along
the chosen input direction. Every operation on Duals runs the primitive's `forward` on the
primals and its forward-mode rules (`jvp_<input>` in `ops.py`) on the tangents, so a Dual
carries `J v` through the computation without a tape: nothing is recorded, nothing is saved.

The chain rule, accumulated the two ways:

- forward (`jvp`, `jacfwd`): J v, one pass per input direction v; a full Jacobian costs one pass
  per *input* entry;
- reverse (`vjp`, `jacobian`, `grad`): u^T J, one backward pass per output direction u; a full
  Jacobian costs one pass per *output* entry.

Duals implement the same operator surface as Tensors (arithmetic, `@`, `**`, indexing,
`sum`/`mean`/`reshape`/`transpose`, `tanh`/`exp`/`log`/`sigmoid`/`relu`, numpy's ufuncs and
functions through NEP 13/18, and `autograd_lite`'s own functions), so code written for the tape
(like `chainrule.model.tanh_basis`) runs on them unchanged. The tape and forward mode do not
mix: an operation on a Dual and a Tensor that requires grad raises TypeError.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import ops as P
from . import tensor as T
from .errors import DTypeError, ShapeError

ArgNums = int | Sequence[int]


class Dual(T.ArrayOperators):
    """A value and its tangent (same shape): what forward mode computes with."""

    __slots__ = ("primal", "tangent")
    __array_priority__ = 1000  # as Tensor: ndarray operators defer to Duals

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

    def _numbers(self) -> np.ndarray:
        return self.primal


def apply(op: type[P.Primitive], args: Sequence[Any], params: dict | None = None) -> Any:
    """Run `op` on the primals and its `jvp_<input>` rules on the tangents; return a Dual.

    Operands that are not Duals are constants (zero tangent). The output tangent is the sum of
    the inputs' contributions, broadcast to the output's shape, in the output's dtype.
    """
    params = params or {}
    primals = []
    tangents = []
    for x in args:
        if type(x) is Dual:
            primals.append(x.primal)
            tangents.append(x.tangent)
            continue
        if isinstance(x, T.Tensor):
            if x._node is not None:
                raise TypeError(
                    f"{op.name}: a forward-mode Dual meets a Tensor that requires grad; forward "
                    "mode (jvp/jacfwd) and the tape cannot be mixed in one computation (use "
                    "hvp/hessian for second derivatives)")
            primals.append(x.data)
        else:
            primals.append(T._as_operand(x, op.name))
        tangents.append(None)
    out = T.run_forward(op, primals, params)
    tangent = None
    for i, (t, rule) in enumerate(zip(tangents, op.jvps)):
        if t is None:
            continue
        if rule is None:
            raise NotImplementedError(f"{op.name} has no forward-mode rule for its input {i} "
                                      f"(define jvp_<input> beside its vjp rule)")
        contribution = rule(t, *primals, out, **params)
        tangent = contribution if tangent is None else tangent + contribution
    if tangent is None:  # no Dual operand (a function called on constants only)
        return T._make(out, None)
    if type(tangent) is not np.ndarray:
        tangent = np.asarray(tangent)
    if tangent.shape != out.shape:
        tangent = np.broadcast_to(tangent, out.shape)
    if tangent.dtype != out.dtype and out.dtype.kind == "f":
        tangent = tangent.astype(out.dtype)
    return Dual(out, tangent)


# ---- the transformations ------------------------------------------------------------------------
def _float_array(x: Any) -> np.ndarray:
    data = np.asarray(x.data if isinstance(x, T.Tensor) else x)
    if data.dtype.kind not in "biuf":
        raise DTypeError(f"jvp: primal of dtype {data.dtype} is not real numeric")
    return data if data.dtype.kind == "f" else data.astype(np.float64)


def _output(out: Any) -> tuple[np.ndarray, np.ndarray]:
    """(value, tangent) of what f returned: a Dual, or a constant (its tangent is zero)."""
    if type(out) is Dual:
        return out.primal, np.array(out.tangent)  # a private, writable copy
    if isinstance(out, T.Tensor):
        if out.requires_grad:
            raise TypeError("jvp: f returned a Tensor that requires grad; forward mode and the "
                            "tape cannot be mixed")
        out = out.data
    value = np.asarray(out)
    if value.dtype.kind not in "biuf":
        raise DTypeError(f"jvp: f must return an array, a number or a Dual; got "
                         f"{type(out).__name__}")
    return value, np.zeros(value.shape, np.result_type(value.dtype, np.float64))


def jvp(f: Callable[..., Any], primals: Any, tangents: Any) -> tuple[np.ndarray, np.ndarray]:
    """Forward mode: (f(*primals), J v), J the Jacobian of f at primals, v the tangents.

    `primals` and `tangents` are tuples (or lists) with one entry per argument of f; a single
    array is taken as the one argument. Each tangent must have its primal's shape; it is used
    in its primal's floating dtype (integer primals become float64). One pass through f,
    computing each value and its directional derivative side by side; no graph is kept.
    f must return one array (a Dual, or anything constant, whose tangent is then zero).
    """
    if not isinstance(primals, tuple | list):
        primals, tangents = (primals,), (tangents,)
    if not isinstance(tangents, tuple | list) or len(tangents) != len(primals):
        raise ShapeError(f"jvp: got {len(primals)} primals but "
                         f"{len(tangents) if isinstance(tangents, tuple | list) else 1} tangents")
    duals = []
    for i, (x, v) in enumerate(zip(primals, tangents)):
        x = _float_array(x)
        v = np.asarray(v.data if isinstance(v, T.Tensor) else v)
        if v.shape != x.shape:
            raise ShapeError(f"jvp: tangent {i} has shape {v.shape} but its primal has shape "
                             f"{x.shape}; they must be equal")
        duals.append(Dual(x, v.astype(x.dtype, copy=False)))
    return _output(f(*duals))


def jacfwd(f: Callable[..., Any], argnums: ArgNums = 0) -> Callable[..., Any]:
    """Return J(*args): the Jacobian of f w.r.t. args[argnums] by forward mode.

    Shape out.shape + arg.shape, as `jacobian`'s. Forward mode yields one *column* per pass:
    the tangent e_j gives J e_j, the derivatives of every output along input entry j. So it
    costs arg.size forward-mode passes (each about two or three plain evaluations), and no
    backward pass at all: the cheap way for a *tall* Jacobian, with many outputs and few inputs
    (e.g. the N*K entries of Phi(W) against the (D+1)*K entries of W). Reverse mode
    (`jacobian`, one pass per output entry) is the cheap way for a *wide* one, above all for a
    scalar loss, whose whole gradient is one backward pass.
    """
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)

    def wrapped(*args: Any) -> Any:
        jacs = []
        for num in nums:
            if not -len(args) <= num < len(args):
                raise IndexError(f"argnums {num} is out of range for {len(args)} positional "
                                 f"arguments")
            x = _float_array(args[num])
            call_args = list(args)
            direction = np.zeros(x.shape, x.dtype)
            flat = direction.reshape(-1)
            jac = None
            for j in range(max(x.size, 1)):
                if x.size:
                    flat[j] = 1.0
                call_args[num] = Dual(x, direction)
                value, column = _output(f(*call_args))
                if x.size:
                    flat[j] = 0.0
                if jac is None:
                    jac = np.empty(value.shape + x.shape)
                    columns = jac.reshape(value.size, x.size)
                if x.size:
                    columns[:, j] = column.reshape(-1)
            jacs.append(jac)
        return tuple(jacs) if not isinstance(argnums, int) else jacs[0]

    return wrapped
