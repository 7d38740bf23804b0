"""What the chapter's model and its deep version share: gradient descent by one of three routes.

`RidgeRegressionGD` holds the route check, the iteration-count check, the choice between
`autograd_lite.value_and_grad` (route "backprop") and `autograd_lite.compile` (route "compiled"),
and `pred`, `loss`, `gradients`, `loss_and_gradients` and `fit`, written once. A model supplies
its weight matrices, its forward pass, its explicit chain rule and how it hands its parameters to
the tape (the hooks at the end of the class).

`fit` runs its steps through `_descend(X, y, steps, callback, callback_every)`: a Python loop of
`gradients` and updates for the explicit and eager routes; for the compiled route, the whole
loop compiled (`autograd_lite.jit` of a `fori_loop` whose body takes the gradients and updates
the parameters), run in chunks of `callback_every` steps when there is a callback. `backend`
("numpy" or "jax") chooses the compiled route's printer; with "jax", the samples (X and y) are
split over all devices JAX sees (`data_parallel`).

Gradients have the dtype of the parameter they belong to, on every route: a float32 W gets a
float32 gradient, as the tape returns it (the explicit chain rule computes in float64 where x~
appends float64 ones, and casts back at the end).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

import autograd_lite as ag

#: The routes to the gradients: the chapter's explicit Jacobian, the eager tape, the compiled tape.
ROUTES: tuple[str, ...] = ("explicit", "backprop", "compiled")


def real_array(a: ArrayLike, name: str) -> np.ndarray:
    """`a` as a float array: float32 is kept, every other real, integer or bool -> float64."""
    arr = np.asarray(a)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers (bool, integer or float); got dtype "
                        f"{str(arr.dtype)!r} with shape {arr.shape}")
    return arr if arr.dtype in (np.float64, np.float32) else arr.astype(np.float64)


def output_weights(w: Any, K: int) -> np.ndarray:
    """w, or zeros(K) if w is None (as the chapter sets it); a w of another length is refused."""
    if w is None:
        return np.zeros(K)
    shape = w.shape if type(w) is np.ndarray else np.shape(w)
    if shape != (K,):
        raise ValueError(f"w has shape {shape} but the basis has K={K} outputs; w must be (K,)")
    return w


def count(value: Any, name: str) -> int:
    """`value` as a non-negative int; bools and floats are refused (2.0 iterations is a slip)."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return int(value)


#: The compiled route's printers: numpy (always), JAX (the optional extra `.[jax]`).
BACKENDS: tuple[str, ...] = ("numpy", "jax")


def _descent_steps(loss_function: Callable[..., Any], argnums: tuple[int, ...]
                   ) -> Callable[..., Any]:
    """steps(n, learning_rate, *arguments) -> the parameters (arguments[argnums]) after n
    gradient-descent steps on loss_function(*arguments): p -= learning_rate * grad_p, all
    gradients taken at the same parameters, as fit's Python loop does; a fori_loop, so that
    compiled it is one loop of the program."""
    def steps(n: int, learning_rate: float, *arguments: Any) -> tuple[Any, ...]:
        def step(i: Any, parameters: tuple[Any, ...]) -> tuple[Any, ...]:
            call = list(arguments)
            for k, p in zip(argnums, parameters):
                call[k] = p
            grads = ag.grad(loss_function, argnums)(*call)
            return tuple(p - learning_rate * g for p, g in zip(parameters, grads))

        return ag.fori_loop(0, n, step, tuple(arguments[k] for k in argnums))

    steps.__name__ = f"{loss_function.__name__}_descent"
    parameters = [inspect.Parameter(name, inspect.Parameter.POSITIONAL_ONLY)
                  for name in ("n", "learning_rate")]
    steps.__signature__ = inspect.signature(loss_function).replace(  # names for the program
        parameters=parameters + list(inspect.signature(loss_function).parameters.values()))
    return steps


def like(gradient: np.ndarray, parameter: np.ndarray) -> np.ndarray:
    """`gradient` in `parameter`'s dtype (no copy when it already is)."""
    return gradient.astype(parameter.dtype, copy=False)


class RidgeRegressionGD:
    """Ridge regression on a tanh basis, trained by gradient descent on the basis' weight
    matrices (updated in place) and the output weights w.

    `route` chooses how `gradients` (and so `fit`) computes the gradients: "explicit" (the chain
    rule with materialised Jacobians), "backprop" (the eager tape) or "compiled" (the tape
    compiled once to a numpy program). `w` is None until `fit` or the first prediction.
    """

    def __init__(self, learning_rate: float, num_iterations: int, ridge: float,
                 ridge_basis: float, route: str, loss_function: Callable[..., Any],
                 argnums: tuple[int, ...], data: tuple[int, int], backend: str = "numpy"
                 ) -> None:
        if route not in ROUTES:
            raise ValueError(f"route must be one of {ROUTES}, got {route!r}")
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
        if backend != "numpy" and route != "compiled":
            raise ValueError(f"backend={backend!r} is the compiled route's printer; use "
                             "route='compiled' with it")
        self.learning_rate = learning_rate
        self.num_iterations = count(num_iterations, "num_iterations")
        self.ridge = float(ridge)
        self.ridge_basis = float(ridge_basis)
        self.route = route
        self.backend = backend
        self.w: np.ndarray | None = None
        self.loss_function, self.argnums = loss_function, argnums
        shards = data if backend == "jax" else ()  # the positions of X and y: split over devices
        #: what the back-propagation routes call: `value_and_grad(loss_function, argnums)`
        #: (eager), or `compile(...)` of it (its `.source` and `.stats` show the program)
        self.value_and_grad = (ag.value_and_grad(loss_function, argnums) if route != "compiled"
                               else ag.compile(loss_function, argnums, backend=backend,
                                               data_parallel=shards))
        #: the compiled route's whole descent: `steps(n, learning_rate, *loss arguments)` runs n
        #: gradient-descent steps in one compiled loop (its `.source` shows the program)
        self.descent = ag.jit(_descent_steps(loss_function, argnums), backend=backend,
                              data_parallel=tuple(2 + k for k in shards)) \
            if route == "compiled" else None

    def _weights(self) -> np.ndarray:
        """`self.w`, set to zeros(K) first if it is None (as the chapter does)."""
        self.w = output_weights(self.w, self._matrices()[-1].shape[1])
        return self.w

    def pred(self, X: ArrayLike) -> np.ndarray:
        """y_hat = H(X) w, shape (N,); sets w = zeros(K) if w is None."""
        H = self._features(X)
        return H @ self._weights()

    def loss(self, X: ArrayLike, y: ArrayLike) -> float:
        """The ridge loss at the current parameters (see the class docstring)."""
        X, y = self._data(X, y)
        return float(self._loss(X, y))

    def gradients(self, X: ArrayLike, y: ArrayLike) -> tuple[Any, np.ndarray]:
        """(gradient of the weight matrices, grad_w L) at the current parameters, by the route;
        the explicit route does not evaluate the loss (fit does not need it)."""
        X, y = self._data(X, y)
        if self.route == "explicit":
            _, grad_matrices, grad_w = self._explicit(X, y, with_loss=False)
        else:
            _, grad_matrices, grad_w = self._taped(X, y)
        return self._pack(grad_matrices), grad_w

    def loss_and_gradients(self, X: ArrayLike, y: ArrayLike) -> tuple[float, Any, np.ndarray]:
        """(L, gradient of the weight matrices, grad_w L): the explicit chain rule, or one
        forward and one backward pass of the tape, eager or compiled."""
        X, y = self._data(X, y)
        loss, grad_matrices, grad_w = (self._explicit(X, y, with_loss=True)
                                       if self.route == "explicit" else self._taped(X, y))
        return loss, self._pack(grad_matrices), grad_w

    def _taped(self, X: np.ndarray, y: np.ndarray) -> tuple[float, list[np.ndarray], np.ndarray]:
        loss, grads = self.value_and_grad(*self._tape_arguments(X, y))
        return (loss, *self._from_tape(grads))

    def fit(self, X: ArrayLike, y: ArrayLike, callback: Callable[[int, Any], None] | None = None,
            callback_every: int = 10_000) -> Any:
        """Gradient descent from w = 0: each weight matrix W -= lr grad_W L (in place), then
        w -= lr grad_w L, num_iterations times; all gradients are taken at the same parameters
        before any update. `callback(iteration, self)` runs every `callback_every` iterations
        (progress reports)."""
        X, y = self._data(X, y)
        self.w = np.zeros(self._matrices()[-1].shape[1])
        self._descend(X, y, self.num_iterations, callback, callback_every)
        return self

    def _descend(self, X: np.ndarray, y: np.ndarray, steps: int,
                 callback: Callable[[int, Any], None] | None, callback_every: int) -> None:
        """`steps` gradient-descent steps on checked data, calling `callback(iteration, self)`
        every `callback_every` iterations: a Python loop, or for the compiled route the compiled
        loop, in chunks of `callback_every` steps when there is a callback."""
        if self.route == "compiled":
            chunk = min(callback_every, steps) if callback is not None else steps
            done = 0
            while done < steps:
                n = min(chunk, steps - done)
                arguments = self._tape_arguments(X, y)
                new = self.descent(n, self.learning_rate, *arguments)
                for k, value in zip(self.argnums, new):  # the parameters, updated in place
                    arguments[k][...] = value
                done += n
                if callback is not None and done % callback_every == 0:
                    callback(done, self)
            return
        for iteration in range(1, steps + 1):
            grad_matrices, grad_w = self.gradients(X, y)
            for W, grad_W in zip(self._matrices(), self._unpack(grad_matrices), strict=True):
                W -= self.learning_rate * grad_W
            self.w -= self.learning_rate * grad_w
            if callback is not None and iteration % callback_every == 0:
                callback(iteration, self)

    # -- what a model supplies -------------------------------------------------------------------
    def _matrices(self) -> list[np.ndarray]:
        """The basis' own weight matrices, first layer first (fit updates them in place)."""
        raise NotImplementedError

    def _data(self, X: ArrayLike, y: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """X and y checked against the basis and each other."""
        raise NotImplementedError

    def _features(self, X: ArrayLike) -> np.ndarray:
        """The basis' output H(X), (N, K)."""
        raise NotImplementedError

    def _loss(self, X: np.ndarray, y: np.ndarray) -> Any:
        """The loss at the current parameters, on checked data."""
        raise NotImplementedError

    def _explicit(self, X: np.ndarray, y: np.ndarray, with_loss: bool
                  ) -> tuple[float | None, list[np.ndarray], np.ndarray]:
        """(L or None, [grad of each weight matrix], grad_w) by the explicit chain rule."""
        raise NotImplementedError

    def _tape_arguments(self, X: np.ndarray, y: np.ndarray) -> tuple[Any, ...]:
        """The arguments of the loss function the tape differentiates."""
        raise NotImplementedError

    def _from_tape(self, grads: Sequence[np.ndarray]) -> tuple[list[np.ndarray], np.ndarray]:
        """The tape's gradients (in argnums order) as ([grad of each weight matrix], grad_w)."""
        raise NotImplementedError

    def _pack(self, grad_matrices: list[np.ndarray]) -> Any:
        """What `gradients` returns for the weight matrices (the chapter's model: one array)."""
        return grad_matrices

    def _unpack(self, packed: Any) -> list[np.ndarray]:
        """The inverse of `_pack`."""
        return packed
