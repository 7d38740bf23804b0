"""What every transformation does to its arguments first, written once: which arguments are
differentiated (`argnums`), and the array a differentiated argument becomes (`float_array`)."""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .errors import DTypeError

ArgNums = int | Sequence[int]


def positions(value: Any, n: int, not_an_int: Callable[[], str],
              out_of_range: Callable[[int], Exception]) -> list[int]:
    """`value`, an int or a tuple or list of ints, as non-negative positions below `n` (negative
    ones counted back), in the order given: TypeError(not_an_int()) for a non-integer,
    out_of_range(i) for one outside [-n, n). Argument numbers and axes are both read so."""
    items = (value,) if not isinstance(value, tuple | list) else tuple(value)
    out = []
    for i in items:
        try:
            i = operator.index(i)
        except TypeError:
            raise TypeError(not_an_int()) from None
        if not -n <= i < n:
            raise out_of_range(i)
        out.append(i % n)
    return out


def normalise_argnums(argnums: ArgNums, n_args: int, what: str = "argnums") -> tuple[int, ...]:
    """The positions named by `argnums` as non-negative ints, in the order given (an argument
    named twice stays twice: its gradient is returned at both places); IndexError if one is out
    of range for `n_args` positional arguments."""
    return tuple(positions(
        argnums, n_args,
        lambda: f"{what}: argnums must be an int or a tuple of ints, got {argnums!r}",
        lambda i: IndexError(f"{what}: argnums {i} is out of range for {n_args} positional "
                             "arguments")))


def single(argnums: ArgNums) -> bool:
    """Does `argnums` name one argument (results unwrapped) rather than a sequence of them?"""
    return not isinstance(argnums, tuple | list)


def float_array(x: Any, what: str) -> np.ndarray:
    """A differentiated argument's values as a real floating array: float32 and float64 kept,
    integers and booleans as float64; complex, object and other data refused."""
    data = np.asarray(getattr(x, "data", x))
    if data.dtype.kind not in "biuf":
        raise DTypeError(f"{what}: argument of dtype {data.dtype} (shape {data.shape}) is not "
                         "real; autograd_lite differentiates real functions of real arrays")
    return data if data.dtype.kind == "f" else data.astype(np.float64)
