"""Errors raised by autograd_lite; each names the operation and the shapes or dtypes involved."""


class ShapeError(ValueError):
    """Operands whose shapes an operation cannot combine (broadcasting, matmul, grad shape)."""


class DTypeError(TypeError):
    """Data of a dtype an operation cannot use (integer/bool leaves, complex, object)."""


class GraphFreedError(RuntimeError):
    """A backward pass through a graph whose saved values were already freed."""


class GradcheckError(AssertionError):
    """The tape's Jacobian disagrees with central finite differences."""


class TraceError(TypeError):
    """A function being compiled needs a traced value as a Python value (control flow on data)."""
