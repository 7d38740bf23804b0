"""autograd_lite: a small reverse-mode automatic differentiation tape on numpy.

Forward operations record what their derivative rules need; `Tensor.backward()` walks the
recorded graph once, in reverse. See `ops.py` for the table of rules and `engine.py` for the walk.
Forward mode (`jvp`, `jacfwd`, in `forward.py`) pushes tangents through the same primitives;
`backward(create_graph=True)`, nested `grad`, `hvp` and `hessian` differentiate the tape again.
"""

from .engine import is_grad_enabled, no_grad
from .errors import DTypeError, GradcheckError, GraphFreedError, ShapeError
from .finite_differences import central_difference_gradient, central_difference_jacobian
from .forward import Dual, jacfwd, jvp
from .functional import grad, gradcheck, hessian, hvp, jacobian, value_and_grad, vjp
from .tensor import (
    Tensor,
    broadcast_to,
    exp,
    log,
    matmul,
    mean,
    mse,
    power,
    relu,
    reshape,
    sigmoid,
    sum,
    tanh,
    transpose,
)
from .trace import SavedArray, Trace, TraceEntry, trace, trace_tensor

__all__ = [
    "Tensor", "no_grad", "is_grad_enabled",
    "grad", "value_and_grad", "vjp", "jacobian", "gradcheck",
    "jvp", "jacfwd", "Dual", "hvp", "hessian",
    "central_difference_jacobian", "central_difference_gradient",
    "tanh", "exp", "log", "sigmoid", "relu", "mse", "sum", "mean", "matmul", "power",
    "reshape", "transpose", "broadcast_to",
    "trace", "trace_tensor", "Trace", "TraceEntry", "SavedArray",
    "ShapeError", "DTypeError", "GraphFreedError", "GradcheckError",
]
