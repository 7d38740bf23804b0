"""autograd_lite: a small reverse-mode automatic differentiation tape on numpy.

Forward operations record what their derivative rules need; `Tensor.backward()` walks the
recorded graph once, in reverse. The layers, each importing only the ones before it:

    errors -> engine (nodes, the walk) -> ops (the primitives and their rules) -> kernels
    (speed-only eager paths) -> functions (the public functions) -> tensor (Tensor, the tape)
    -> forward (forward mode) -> functional (grad, vjp, jacobian, hessian, ...) -> compiler
    (a recorded tape as a straight-line numpy program) -> tapeview (what the tape saves)
"""

from . import extend, kernels  # noqa: F401  (register user primitives' rules, the eager fast paths)
from .compiler import CompiledFunction, compile
from .engine import is_grad_enabled, no_grad
from .errors import DTypeError, GradcheckError, GraphFreedError, ShapeError, TraceError
from .finite_differences import central_difference_gradient, central_difference_jacobian
from .forward import Dual, jacfwd, jvp
from .functional import grad, gradcheck, hessian, hvp, jacobian, value_and_grad, vjp
from .functions import (
    abs,
    astype,
    broadcast_to,
    clip,
    concatenate,
    cos,
    cosh,
    cumsum,
    dot,
    einsum,
    exp,
    expand_dims,
    expm1,
    hstack,
    log,
    log1p,
    matmul,
    max,
    maximum,
    mean,
    min,
    minimum,
    mse,
    outer,
    power,
    prod,
    ravel,
    relu,
    repeat,
    reshape,
    sigmoid,
    sign,
    sin,
    sinh,
    sqrt,
    square,
    squeeze,
    stack,
    sum,
    swapaxes,
    tan,
    tanh,
    tensordot,
    transpose,
    vstack,
    where,
)
from .ops import Elementwise, Primitive
from .tapeview import SavedArray, TapeEntry, TapeView, view_tape
from .tensor import Tensor

__all__ = [
    "Tensor", "no_grad", "is_grad_enabled",
    "grad", "value_and_grad", "vjp", "jacobian", "gradcheck",
    "jvp", "jacfwd", "Dual", "hvp", "hessian",
    "compile", "CompiledFunction", "Primitive", "Elementwise",
    "central_difference_jacobian", "central_difference_gradient",
    "abs", "astype", "broadcast_to", "clip", "concatenate", "cos", "cosh", "cumsum", "dot",
    "einsum", "exp", "expand_dims", "expm1", "hstack", "log", "log1p", "matmul", "max",
    "maximum", "mean", "min", "minimum", "mse", "outer", "power", "prod", "ravel", "relu",
    "repeat", "reshape", "sigmoid", "sign", "sin", "sinh", "sqrt", "square", "squeeze", "stack",
    "sum", "swapaxes", "tan", "tanh", "tensordot", "transpose", "vstack", "where",
    "view_tape", "TapeView", "TapeEntry", "SavedArray",
    "ShapeError", "DTypeError", "GraphFreedError", "GradcheckError", "TraceError",
]
