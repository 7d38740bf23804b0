"""The primitives: each forward beside its derivative, with one docstring line of math.

A primitive is a subclass of `Primitive` (never instantiated: the class is the operation). It
declares the names of its `inputs` and of the values its rules need (`saves`: inputs and/or
`out`), a `forward` on ndarrays, and per input one reverse-mode and one forward-mode rule, with
one argument convention:

    vjp_<input>(g, *saved, **params)  that input's gradient, given the output's gradient g
    jvp_<input>(t, *saved, **params)  that input's share of the output's tangent, given its own t

An `Elementwise` primitive writes only its partial derivatives `d_<input>(*saved, **params)`: the
chain rule then gives vjp = g * d and jvp = t * d. Rules are written with operations that ndarrays
and Tensors share, so that a backward pass can itself be recorded (`create_graph`, `compile`);
broadcast axes are summed by the engine, so rules ignore broadcasting. Inputs without a rule (an
index, a condition) come last: the engine pairs parents with rules, and stops at the rules' end.
An input name starting with `*` takes any number of inputs; its rules get their position `i`.

This is also the public way to add an operation: subclass `autograd_lite.Primitive` (or
`Elementwise`) in your own module, exactly as below, and call it with `YourOp.apply(x, ...)`
(extend.py: the compiler then calls your forward and rules by their names).
"""

from __future__ import annotations

import functools
import itertools
import math
import operator
import re
from typing import Any

import numpy as np

from .errors import ShapeError

OUT = "out"


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class _Positions:
    """The rules of fixed inputs, then `rule(..., i=k)` for k = 0, 1, ... (a variadic input);
    `zip` with a node's parents takes as many as the node has inputs."""

    def __init__(self, fixed: tuple, rule: Any, keyword: str = "i") -> None:
        self.fixed, self.rule, self.keyword, self.cache = fixed, rule, keyword, []

    def __iter__(self) -> Any:
        yield from self.fixed
        for k in itertools.count():
            if k == len(self.cache):
                self.cache.append(functools.partial(self.rule, **{self.keyword: k}))
            yield self.cache[k]


def _check_definition(cls: type) -> None:
    """A primitive's declarations, checked when its class is defined (a misspelt rule or a saved
    value that is neither an input nor `out` is an error here, not a wrong gradient later)."""
    names = cls.input_names()
    where = f"primitive {cls.__name__}"
    if not isinstance(cls.inputs, tuple) or not all(isinstance(n, str) for n in cls.inputs):
        raise TypeError(f"{where}: inputs must be a tuple of names, got {cls.inputs!r}")
    if any(n.startswith("*") for n in cls.inputs[:-1]):
        raise TypeError(f"{where}: only the last input may be variadic ('*name'), got "
                        f"{cls.inputs!r}")
    for s in cls.saves:
        if s != OUT and s not in names:
            raise TypeError(f"{where}: saves {s!r}, which is neither an input {tuple(names)} nor "
                            f"'{OUT}'")
    for attr in vars(cls):
        kind, _, n = attr.partition("_")
        if kind in ("vjp", "jvp", "d") and n and n not in names:
            raise TypeError(f"{where}: rule {attr} names no input (inputs: {tuple(names)})")
    if (cls.forward is Primitive.forward and cls.__module__ != __name__
            and not cls.__name__.startswith("_")):  # a user's primitive (an abstract one: _Name)
        raise TypeError(f"{where}: define its forward, a staticmethod computing the result from "
                        f"the inputs {tuple(names)} (ndarrays)")


#: Functions called with every Primitive subclass once it is defined (extend.py registers one).
DEFINITION_HOOKS: list[Any] = []


class Primitive:
    """Base of every operation (see the module docstring). Optional declarations:

    - `differentiable = False`: no gradient flows through it (comparisons, sign);
    - `ufunc`: the numpy ufunc it computes (then also its `forward`, unless it has one; the
      compiler writes a ufunc's results into dead buffers);
    - `label(params)`: how the tape viewer names a node, e.g. "getitem [:-1]".

    `Op.apply(*inputs, **params)` applies it (to arrays, Tensors or Duals alike).
    """

    name: str
    inputs: tuple[str, ...] = ("x",)
    saves: tuple[str, ...] = ()
    differentiable = True
    ufunc: np.ufunc | None = None
    vjps: Any = ()
    jvps: Any = ()
    position = "i"  # the keyword that gives a variadic input's rules their position

    def __init_subclass__(cls) -> None:
        cls.name = cls.__dict__.get("name") or _snake(cls.__name__)
        if cls.ufunc is not None and "forward" not in cls.__dict__:  # a ufunc is its forward
            cls.forward = staticmethod(cls.ufunc)
        _check_definition(cls)
        cls.vjps, cls.jvps = cls.rules("vjp"), cls.rules("jvp")
        cls.eager_vjps = cls.vjps  # kernels.py may give the eager tape faster equivalents
        cls.eager_forward = cls.forward
        cls._slots, cls._pickers = {}, {}
        if not cls.variadic():
            slots = cls.saved_slots(len(cls.inputs))
            cls.pick_saved = staticmethod(_picker(slots))
        for hook in DEFINITION_HOOKS:
            hook(cls)

    @classmethod
    def variadic(cls) -> bool:
        """Does the last input take any number of arrays ('*name')?"""
        return bool(cls.inputs) and cls.inputs[-1].startswith("*")

    @classmethod
    def rules(cls, kind: str, lookup: Any = None) -> Any:
        """The `kind` ("vjp" or "jvp") rules in input order, as the engine pairs them with a
        node's parents: the fixed inputs' rules up to the first input without one, then the
        variadic input's rule once per position. `lookup(name)` finds a rule (default: the
        class attribute, or None)."""
        lookup = lookup or (lambda name: getattr(cls, name, None))
        names = cls.input_names()
        fixed = names[:-1] if cls.variadic() else names
        rules = []
        for n in fixed:
            rule = lookup(f"{kind}_{n}")
            if rule is None:
                break
            rules.append(rule)
        tail = lookup(f"{kind}_{names[-1]}") if cls.variadic() else None
        return tuple(rules) if tail is None else _Positions(tuple(rules), tail, cls.position)

    @classmethod
    def has_rule(cls, kind: str, position: int) -> bool:
        """Has the input at `position` a `kind` ("vjp" or "jvp") rule?"""
        rules = cls.vjps if kind == "vjp" else cls.jvps
        return isinstance(rules, _Positions) or position < len(rules)

    @classmethod
    def input_names(cls) -> list[str]:
        """The inputs' names, a variadic one without its '*'."""
        return [n.lstrip("*") for n in cls.inputs]

    @classmethod
    def apply(cls, *inputs: Any, **params: Any) -> Any:
        """This operation on the inputs: arrays give an array, Tensors record it on the tape,
        Duals push their tangents through it."""
        return apply_to(cls, *inputs, **params)

    @classmethod
    def saved_slots(cls, n_inputs: int) -> tuple[int, ...]:
        """Per saved value: the position of the input it is, or -1 for the output."""
        slots = cls._slots.get(n_inputs)
        if slots is None:
            names = cls.input_names()
            start = len(names) - 1  # where a variadic input begins
            slots = []
            for s in cls.saves:
                if s == OUT:
                    slots.append(-1)
                elif cls.inputs[-1] == "*" + s:
                    slots.extend(range(start, n_inputs))
                else:
                    slots.append(names.index(s))
            slots = cls._slots[n_inputs] = tuple(slots)
        return slots

    @classmethod
    def pick_saved(cls, inputs: list, out: Any) -> tuple:
        """The values the rules need, out of the inputs and the output (variadic primitives)."""
        picker = cls._pickers.get(len(inputs))
        if picker is None:
            picker = cls._pickers[len(inputs)] = _picker(cls.saved_slots(len(inputs)))
        return picker(inputs, out)

    @staticmethod
    def forward(*inputs: Any, **params: Any) -> Any:
        raise NotImplementedError

    @classmethod
    def label(cls, params: dict | None) -> str:
        return cls.name

    @classmethod
    def data_dependent_shape(cls, inputs: list, params: dict) -> bool:
        """Does the result's shape depend on the inputs' values (not only their shapes)?
        Inputs whose values are known (constants of a compiled program) come as None."""
        return False


def _picker(slots: tuple[int, ...]) -> Any:
    """A function (inputs, out) -> the saved values, built once per primitive (the hot path)."""
    if not slots:
        return lambda inputs, out: ()
    if len(slots) == 1:
        (slot,) = slots
        return (lambda inputs, out: (out,)) if slot < 0 else (lambda inputs, out: (inputs[slot],))
    get = operator.itemgetter(*slots)  # -1 picks `out`, the last of (*inputs, out)
    return lambda inputs, out: get((*inputs, out))


class Elementwise(Primitive):
    """An elementwise primitive: its rules are the partial derivatives `d_<input>` times g or t."""

    derivatives: dict[str, Any] = {}  # input name -> its d_<input>, as declared

    def __init_subclass__(cls) -> None:
        cls.derivatives = {}
        for n in cls.inputs:
            d = cls.__dict__.get(f"d_{n}")
            if d is not None:
                d = cls.derivatives[n] = getattr(d, "__func__", d)
                setattr(cls, f"vjp_{n}", staticmethod(functools.partial(_times, d)))
                setattr(cls, f"jvp_{n}", staticmethod(functools.partial(_times, d)))
        super().__init_subclass__()


def _times(derivative: Any, g: Any, *saved: Any, **params: Any) -> Any:
    """The chain rule for one input of an elementwise primitive: g * d(input)."""
    return g * derivative(*saved, **params)


def apply_to(op: type[Primitive], *args: Any, **params: Any) -> Any:
    """`op` on ndarrays directly; an operand that is a Tensor (or Dual) records it instead."""
    for a in args:
        box = getattr(type(a), "apply_primitive", None)
        if box is not None:
            return box(op, *args, **params)
    arrays = [a if isinstance(a, np.ndarray | np.generic | float | int) else np.asarray(a)
              for a in args]  # a list or tuple of numbers, as numpy would take it
    return op.forward(*arrays, **params)


# ---- arithmetic ---------------------------------------------------------------------------------
class Add(Primitive):
    """a + b;   d/da = 1,  d/db = 1"""
    inputs, ufunc = ("a", "b"), np.add

    @staticmethod
    def vjp_a(g): return g

    @staticmethod
    def vjp_b(g): return g

    @staticmethod
    def jvp_a(t): return t

    @staticmethod
    def jvp_b(t): return t


class Sub(Primitive):
    """a - b;   d/da = 1,  d/db = -1"""
    inputs, ufunc = ("a", "b"), np.subtract

    @staticmethod
    def vjp_a(g): return g

    @staticmethod
    def vjp_b(g): return -g

    @staticmethod
    def jvp_a(t): return t

    @staticmethod
    def jvp_b(t): return -t


class Neg(Primitive):
    """-x;   d/dx = -1"""
    ufunc = np.negative

    @staticmethod
    def vjp_x(g): return -g

    @staticmethod
    def jvp_x(t): return -t


class Mul(Elementwise):
    """a * b;   d/da = b,  d/db = a"""
    inputs, saves, ufunc = ("a", "b"), ("a", "b"), np.multiply

    @staticmethod
    def d_a(a, b): return b

    @staticmethod
    def d_b(a, b): return a


class Div(Elementwise):
    """a / b;   d/da = 1/b,  d/db = -a/b^2 = -out/b"""
    inputs, saves, ufunc = ("a", "b"), ("b", "out"), np.true_divide

    # g / b rather than g * (1/b): one rounding, and a Python b = 0.0 gives inf, not an error
    @staticmethod
    def vjp_a(g, b, out): return g / b

    @staticmethod
    def jvp_a(t, b, out): return t / b

    @staticmethod
    def d_b(b, out): return -out / b


class Pow(Primitive):
    """x ** p (p a constant);   d/dx = p x^(p-1)  (0 for p = 0, also at x = 0)"""
    saves = ("x",)

    @staticmethod
    def forward(x, p): return x ** p

    # (g p) x^(p-1): the constant factor meets g first, so that where g is a constant too (a
    # loss's seed) the compiler folds the two into one number, as the eager kernel computes it
    @staticmethod
    def vjp_x(g, x, p): return _times_power(g, x, p)

    @staticmethod
    def jvp_x(t, x, p): return _times_power(t, x, p)

    @classmethod
    def label(cls, params): return f"pow p={params['p']!r}"


def _times_power(g: Any, x: Any, p: Any) -> Any:
    """g * (p x^(p-1)), computed as (g p) x^(p-1)."""
    if p == 0:
        return g * 0.0
    if float(p).is_integer():
        return (g * p) * x ** (p - 1)
    # (-inf) ** p is nan for a fractional p, but (-inf) ** (p - 1) is 0 or inf: say nan
    return (g * p) * np.where(x == -np.inf, np.nan, x ** (p - 1))


class Power(Elementwise):
    """x ** y, y an array;   d/dx = y x^(y-1),  d/dy = x^y log x  (d/dx 0 at x = y = 0, where
    x^0 = 1; d/dy 0 where x = 0: 0^y is 0 for every y > 0, and JAX's choice at y = 0)"""
    inputs, saves, ufunc = ("x", "y"), ("x", "y", "out"), np.power

    @staticmethod
    def d_x(x, y, out): return np.where((x == 0) * (y == 0), 0.0, y * x ** (y - 1))

    @staticmethod
    def d_y(x, y, out): return out * np.log(np.where(x == 0, 1.0, x))


class Remainder(Elementwise):
    """a mod b = a - floor(a/b) b, with the sign of b;   d/da = 1,  d/db = -floor(a/b)  (piecewise:
    it jumps where a/b is an integer)"""
    inputs, saves, ufunc = ("a", "b"), ("a", "b"), np.remainder

    @staticmethod
    def vjp_a(g, a, b): return g

    @staticmethod
    def jvp_a(t, a, b): return t

    @staticmethod
    def d_b(a, b): return -np.floor(a / b)


class _Extremum(Elementwise):
    """maximum, minimum, fmax, fmin: the winner (`wins`) takes the gradient and ties share it;
    where a nan decides the result, the nan takes it (maximum: the result is the nan) or, with
    `skips_nan`, the other operand does (fmax: numpy returns the other operand)."""
    inputs, saves = ("a", "b"), ("a", "b")
    wins: Any = operator.gt
    skips_nan = False

    def __init_subclass__(cls) -> None:
        wins, skips_nan = cls.wins, cls.skips_nan

        def nan(u: Any, v: Any) -> Any:  # u's share where a nan decides the result
            return (v != v) * (u == u) if skips_nan else (u != u)

        cls.d_a = staticmethod(lambda a, b: wins(a, b) + (a == b) * 0.5 + nan(a, b))
        cls.d_b = staticmethod(lambda a, b: wins(b, a) + (a == b) * 0.5 + nan(b, a))
        super().__init_subclass__()


class Maximum(_Extremum):
    """maximum(a, b);   d/da = [a > b] + 1/2 [a = b] + [a is nan]  (b likewise: ties share the
    gradient, and a nan, which the result then is, takes it)"""
    ufunc = np.maximum


class Minimum(_Extremum):
    """minimum(a, b);   d/da = [a < b] + 1/2 [a = b] + [a is nan]  (b likewise)"""
    ufunc, wins = np.minimum, operator.lt


class Fmax(_Extremum):
    """fmax(a, b);   d/da = [a > b] + 1/2 [a = b] + [b is nan, a is not]  (b likewise: numpy's
    maximum ignoring nan, which gives the number beside a nan)"""
    ufunc, skips_nan = np.fmax, True


class Fmin(_Extremum):
    """fmin(a, b);   d/da = [a < b] + 1/2 [a = b] + [b is nan, a is not]  (b likewise)"""
    ufunc, wins, skips_nan = np.fmin, operator.lt, True


class Arctan2(Elementwise):
    """arctan2(a, b), the angle of (b, a);   d/da = b / (a^2 + b^2),  d/db = -a / (a^2 + b^2)"""
    inputs, saves, ufunc = ("a", "b"), ("a", "b"), np.arctan2

    @staticmethod
    def d_a(a, b): return b / (a * a + b * b)

    @staticmethod
    def d_b(a, b): return -a / (a * a + b * b)


class Hypot(Elementwise):
    """sqrt(a^2 + b^2) without overflow;   d/da = a / out,  d/db = b / out"""
    inputs, saves, ufunc = ("a", "b"), ("a", "b", "out"), np.hypot

    @staticmethod
    def d_a(a, b, out): return a / out

    @staticmethod
    def d_b(a, b, out): return b / out


class Logaddexp(Elementwise):
    """log(exp(a) + exp(b)) without overflow;   d/da = exp(a - out),  d/db = exp(b - out)"""
    inputs, saves, ufunc = ("a", "b"), ("a", "b", "out"), np.logaddexp

    @staticmethod
    def d_a(a, b, out): return np.exp(a - out)

    @staticmethod
    def d_b(a, b, out): return np.exp(b - out)


class Logaddexp2(Elementwise):
    """log2(2^a + 2^b);   d/da = 2^(a - out),  d/db = 2^(b - out)"""
    inputs, saves, ufunc = ("a", "b"), ("a", "b", "out"), np.logaddexp2

    @staticmethod
    def d_a(a, b, out): return np.exp2(a - out)

    @staticmethod
    def d_b(a, b, out): return np.exp2(b - out)


class Where(Primitive):
    """where(condition, a, b);   d/da = [condition],  d/db = [not condition]  (exactly 0 off)"""
    inputs, saves = ("a", "b", "condition"), ("condition",)

    @staticmethod
    def forward(a, b, condition): return np.where(condition, a, b)

    @staticmethod
    def vjp_a(g, condition): return np.where(condition, g, 0.0)

    @staticmethod
    def vjp_b(g, condition): return np.where(condition, 0.0, g)

    @staticmethod
    def jvp_a(t, condition): return np.where(condition, t, 0.0)

    @staticmethod
    def jvp_b(t, condition): return np.where(condition, 0.0, t)


# ---- elementwise functions ----------------------------------------------------------------------
class Tanh(Elementwise):
    """tanh(x);   d tanh(x)/dx = 1 - tanh(x)^2"""
    saves, ufunc = ("out",), np.tanh

    @staticmethod
    def d_x(out): return 1 - out * out


class Exp(Elementwise):
    """exp(x);   d exp(x)/dx = exp(x)"""
    saves, ufunc = ("out",), np.exp

    @staticmethod
    def d_x(out): return out


class Log(Elementwise):
    """log(x);   d log(x)/dx = 1/x"""
    saves, ufunc = ("x",), np.log

    @staticmethod  # g / x rather than g * (1/x), as for Div
    def vjp_x(g, x): return g / x

    @staticmethod
    def jvp_x(t, x): return t / x


class Sqrt(Elementwise):
    """sqrt(x);   d sqrt(x)/dx = 1 / (2 sqrt(x))  (inf at 0, nan where sqrt is nan)"""
    saves, ufunc = ("out",), np.sqrt

    @staticmethod
    def d_x(out): return 0.5 / out


class Expm1(Elementwise):
    """exp(x) - 1;   d/dx = exp(x) = out + 1"""
    saves, ufunc = ("out",), np.expm1

    @staticmethod
    def d_x(out): return out + 1


class Log1p(Elementwise):
    """log(1 + x);   d/dx = 1/(1 + x)"""
    saves, ufunc = ("x",), np.log1p

    @staticmethod  # g / (1 + x) rather than g * (1/(1 + x)), as for Div
    def vjp_x(g, x): return g / (1 + x)

    @staticmethod
    def jvp_x(t, x): return t / (1 + x)


class Sin(Elementwise):
    """sin(x);   d sin(x)/dx = cos(x)"""
    saves, ufunc = ("x",), np.sin

    @staticmethod
    def d_x(x): return np.cos(x)


class Cos(Elementwise):
    """cos(x);   d cos(x)/dx = -sin(x)"""
    saves, ufunc = ("x",), np.cos

    @staticmethod
    def d_x(x): return -np.sin(x)


class Tan(Elementwise):
    """tan(x);   d tan(x)/dx = 1 + tan(x)^2"""
    saves, ufunc = ("out",), np.tan

    @staticmethod
    def d_x(out): return 1 + out * out


class Sinh(Elementwise):
    """sinh(x);   d sinh(x)/dx = cosh(x)"""
    saves, ufunc = ("x",), np.sinh

    @staticmethod
    def d_x(x): return np.cosh(x)


class Cosh(Elementwise):
    """cosh(x);   d cosh(x)/dx = sinh(x)"""
    saves, ufunc = ("x",), np.cosh

    @staticmethod
    def d_x(x): return np.sinh(x)


class Sigmoid(Elementwise):
    """sigmoid(x) = 1/(1 + exp(-x));   d/dx = s (1 - s)"""
    saves = ("out",)

    @staticmethod
    def forward(x):
        e = np.exp(-np.abs(x))  # never overflows: the formula is chosen by the sign of x
        s = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
        return s.astype(np.result_type(x, 1.0), copy=False)  # float32 stays, ints -> float64

    @staticmethod
    def d_x(out): return out * (1 - out)


class Relu(Elementwise):
    """relu(x) = max(x, 0);   d/dx = [x > 0] = sign(out)  (0 at x = 0, nan at nan)"""
    saves = ("out",)

    @staticmethod
    def forward(x): return np.maximum(x, 0)

    @staticmethod
    def d_x(out): return np.sign(out)


class Abs(Elementwise):
    """|x|;   d|x|/dx = sign(x)  (0 at x = 0)"""
    saves, ufunc = ("x",), np.absolute

    @staticmethod
    def d_x(x): return np.sign(x)


class Fabs(Elementwise):
    """|x| for real x (numpy's fabs);   d/dx = sign(x)  (0 at x = 0)"""
    saves, ufunc = ("x",), np.fabs

    @staticmethod
    def d_x(x): return np.sign(x)


class Reciprocal(Elementwise):
    """1 / x;   d/dx = -1/x^2 = -out^2"""
    saves, ufunc = ("out",), np.reciprocal

    @staticmethod
    def d_x(out): return -(out * out)


class Log2(Elementwise):
    """log2(x);   d/dx = 1 / (x log 2)"""
    saves, ufunc = ("x",), np.log2

    @staticmethod
    def d_x(x): return 1 / (x * _LOG2)


class Log10(Elementwise):
    """log10(x);   d/dx = 1 / (x log 10)"""
    saves, ufunc = ("x",), np.log10

    @staticmethod
    def d_x(x): return 1 / (x * _LOG10)


class Exp2(Elementwise):
    """2^x;   d/dx = 2^x log 2"""
    saves, ufunc = ("out",), np.exp2

    @staticmethod
    def d_x(out): return out * _LOG2


_LOG2, _LOG10 = math.log(2.0), math.log(10.0)


class Arcsin(Elementwise):
    """arcsin(x);   d/dx = 1 / sqrt(1 - x^2)"""
    saves, ufunc = ("x",), np.arcsin

    @staticmethod
    def d_x(x): return 1 / np.sqrt((1 - x) * (1 + x))


class Arccos(Elementwise):
    """arccos(x);   d/dx = -1 / sqrt(1 - x^2)"""
    saves, ufunc = ("x",), np.arccos

    @staticmethod
    def d_x(x): return -1 / np.sqrt((1 - x) * (1 + x))


class Arctan(Elementwise):
    """arctan(x);   d/dx = 1 / (1 + x^2)"""
    saves, ufunc = ("x",), np.arctan

    @staticmethod
    def d_x(x): return 1 / (1 + x * x)


class Arcsinh(Elementwise):
    """arcsinh(x);   d/dx = 1 / sqrt(x^2 + 1)"""
    saves, ufunc = ("x",), np.arcsinh

    @staticmethod
    def d_x(x): return 1 / np.sqrt(x * x + 1)


class Arccosh(Elementwise):
    """arccosh(x);   d/dx = 1 / sqrt(x^2 - 1) = 1 / sinh(out)  (nan where arccosh is, x < 1)"""
    saves, ufunc = ("out",), np.arccosh

    @staticmethod
    def d_x(out): return 1 / np.sinh(out)


class Arctanh(Elementwise):
    """arctanh(x);   d/dx = 1 / (1 - x^2) = cosh(out)^2  (nan where arctanh is, |x| > 1)"""
    saves, ufunc = ("out",), np.arctanh

    @staticmethod
    def d_x(out):
        c = np.cosh(out)
        return c * c


class Deg2rad(Elementwise):
    """x pi / 180 (degrees to radians);   d/dx = pi / 180"""
    ufunc = np.deg2rad

    @staticmethod
    def d_x(): return math.pi / 180


class Rad2deg(Elementwise):
    """x 180 / pi (radians to degrees);   d/dx = 180 / pi"""
    ufunc = np.rad2deg

    @staticmethod
    def d_x(): return 180 / math.pi


class Sinc(Elementwise):
    """sinc(x) = sin(pi x) / (pi x), 1 at 0;   d/dx = (cos(pi x) - sinc(x)) / x  (0 at 0)"""
    saves = ("x", "out")
    forward = staticmethod(np.sinc)

    @staticmethod
    def d_x(x, out):
        zero = x == 0
        safe = np.where(zero, 1.0, x)
        return np.where(zero, 0.0, (np.cos(math.pi * safe) - out) / safe)


class Copy(Primitive):
    """a copy of x;   d/dx = 1"""

    @staticmethod
    def forward(x): return np.array(x, copy=True)

    @staticmethod
    def vjp_x(g): return g

    @staticmethod
    def jvp_x(t): return t


class Cast(Primitive):
    """x.astype(dtype);   the gradient is cast back to x's dtype"""

    @staticmethod
    def forward(x, dtype, source): return np.asarray(x).astype(dtype)  # a Python number too

    @staticmethod
    def vjp_x(g, dtype, source): return g.astype(source)

    @staticmethod
    def jvp_x(t, dtype, source): return t.astype(dtype)


# ---- comparisons: no gradient flows through them -----------------------------------------------
class _Comparison(Primitive):
    inputs, differentiable = ("a", "b"), False


def _comparison(name: str, ufunc: np.ufunc, symbol: str) -> type[Primitive]:
    return type(name, (_Comparison,), {"__doc__": f"a {symbol} b", "__module__": __name__,
                                       "ufunc": ufunc, "symbol": symbol})


Greater = _comparison("Greater", np.greater, ">")
GreaterEqual = _comparison("GreaterEqual", np.greater_equal, ">=")
Less = _comparison("Less", np.less, "<")
LessEqual = _comparison("LessEqual", np.less_equal, "<=")
Equal = _comparison("Equal", np.equal, "==")
NotEqual = _comparison("NotEqual", np.not_equal, "!=")


class StopGradient(Primitive):
    """x, with no gradient flowing back (detach(), no_grad() while compile traces)"""
    differentiable = False

    @staticmethod
    def forward(x): return x


class Sign(Primitive):
    """sign(x)  (piecewise constant: no gradient)"""
    differentiable, ufunc = False, np.sign


class _PiecewiseConstant(Primitive):
    """Its value is constant between jumps: the derivative is 0 wherever it exists, so no
    gradient flows through it (the gradient numpy's values imply)."""
    differentiable = False


def _piecewise_constant(name: str, ufunc: np.ufunc, what: str) -> type[Primitive]:
    return type(name, (_PiecewiseConstant,), {
        "__doc__": f"{what}  (piecewise constant: gradient 0, no gradient flows)",
        "__module__": __name__, "ufunc": ufunc})


Floor = _piecewise_constant("Floor", np.floor, "floor(x), the largest integer <= x")
Ceil = _piecewise_constant("Ceil", np.ceil, "ceil(x), the smallest integer >= x")
Trunc = _piecewise_constant("Trunc", np.trunc, "trunc(x), x rounded towards 0")
Rint = _piecewise_constant("Rint", np.rint, "rint(x), x rounded to the nearest integer")
Isnan = _piecewise_constant("Isnan", np.isnan, "isnan(x)")
Isinf = _piecewise_constant("Isinf", np.isinf, "isinf(x)")
Isfinite = _piecewise_constant("Isfinite", np.isfinite, "isfinite(x)")


class Round(_PiecewiseConstant):
    """round(x, decimals)  (piecewise constant: gradient 0, no gradient flows)"""

    @staticmethod
    def forward(x, decimals): return np.round(x, decimals)


class Argsort(_PiecewiseConstant):
    """argsort(x, axis): the positions that sort x along axis  (piecewise constant integers)"""

    @staticmethod
    def forward(x, axis, kind, stable): return np.argsort(x, axis, kind=kind, stable=stable)


class Argpartition(_PiecewiseConstant):
    """argpartition(x, kth, axis): positions that put the kth entries in sorted place
    (piecewise constant integers)"""

    @staticmethod
    def forward(x, kth, axis): return np.argpartition(x, kth, axis)


class Argmax(_PiecewiseConstant):
    """argmax(x, axis): the position of the largest entry  (piecewise constant integers)"""

    @staticmethod
    def forward(x, axis, keepdims): return np.argmax(x, axis, keepdims=keepdims)


class Argmin(_PiecewiseConstant):
    """argmin(x, axis): the position of the smallest entry  (piecewise constant integers)"""

    @staticmethod
    def forward(x, axis, keepdims): return np.argmin(x, axis, keepdims=keepdims)


# ---- reductions ---------------------------------------------------------------------------------
def expand_reduced(g: Any, shape: tuple[int, ...], axis: tuple[int, ...] | None,
                   keepdims: bool) -> Any:
    """Undo a reduction over `axis`: reinsert the reduced axes, then broadcast to `shape`."""
    if axis is not None and not keepdims:
        g = g.reshape(tuple(1 if i in axis else n for i, n in enumerate(shape)))
    return np.broadcast_to(g, shape)


def reduced_count(shape: tuple[int, ...], axis: tuple[int, ...] | None) -> int:
    return math.prod(shape) if axis is None else math.prod(shape[a] for a in axis)


def _axis_label(name: str, params: dict) -> str:
    return name if params.get("axis") is None else f"{name} axis={params['axis']}"


class Sum(Primitive):
    """sum(x, axis);   d/dx = 1 broadcast back over the summed axes"""

    @staticmethod
    def forward(x, axis, keepdims, shape): return np.add.reduce(x, axis, keepdims=keepdims)

    @staticmethod
    def vjp_x(g, axis, keepdims, shape): return expand_reduced(g, shape, axis, keepdims)

    @staticmethod
    def jvp_x(t, axis, keepdims, shape): return t.sum(axis, keepdims=keepdims)

    @classmethod
    def label(cls, params): return _axis_label(cls.name, params)


class Mean(Primitive):
    """mean(x, axis);   d/dx = 1/n broadcast back over the n averaged entries"""

    @staticmethod
    def forward(x, axis, keepdims, shape): return np.mean(x, axis, keepdims=keepdims)

    @staticmethod
    def vjp_x(g, axis, keepdims, shape):
        return expand_reduced(g / reduced_count(shape, axis), shape, axis, keepdims)

    @staticmethod
    def jvp_x(t, axis, keepdims, shape): return t.mean(axis, keepdims=keepdims)

    @classmethod
    def label(cls, params): return _axis_label(cls.name, params)


class _ReductionByPartials(Primitive):
    """A reduction declared by its partial derivatives d out / d x_i (`partials`): the chain rule
    gives vjp = (g spread back over the reduced axes) * partials and jvp = sum(t * partials)."""
    saves = ("x", "out")

    def __init_subclass__(cls) -> None:
        if "partials" in cls.__dict__:
            d = cls.__dict__["partials"].__func__
            cls.vjp_x = staticmethod(functools.partial(_spread_times, d))
            cls.jvp_x = staticmethod(functools.partial(_sum_times, d))
        super().__init_subclass__()

    @classmethod
    def label(cls, params): return _axis_label(cls.name, params)


def _spread_times(partials, g, x, out, axis, keepdims, shape):
    return expand_reduced(g, shape, axis, keepdims) * partials(x, out, axis, keepdims, shape)


def _sum_times(partials, t, x, out, axis, keepdims, shape):
    return (t * partials(x, out, axis, keepdims, shape)).sum(axis, keepdims=keepdims)


class Prod(_ReductionByPartials):
    """prod(x, axis);   d/dx_i = product of the other entries (zero-safe)"""

    @staticmethod
    def forward(x, axis, keepdims, shape): return np.prod(x, axis, keepdims=keepdims)

    @staticmethod
    def partials(x, out, axis, keepdims, shape):
        """out / x_i where the slice has no zero; with one zero, the product of the rest at that
        zero (0 elsewhere); with two or more, 0 everywhere."""
        zero = x == 0
        zeros = expand_reduced(zero.sum(axis, keepdims=keepdims), shape, axis, keepdims)
        safe = np.where(zero, 1.0, x)
        rest = expand_reduced(safe.prod(axis, keepdims=keepdims), shape, axis, keepdims)
        no_zero = expand_reduced(out, shape, axis, keepdims) / safe
        return np.where(zeros == 0, no_zero, np.where(zero * (zeros == 1), rest, 0.0))


class Max(_ReductionByPartials):
    """max(x, axis);   d/dx = 1 at the maximum (ties share it equally), else 0"""

    @staticmethod
    def forward(x, axis, keepdims, shape): return np.max(x, axis, keepdims=keepdims)

    @staticmethod
    def partials(x, out, axis, keepdims, shape):
        """1/k at the k entries equal to the slice's maximum (or minimum), else 0."""
        hit = x == expand_reduced(out, shape, axis, keepdims)
        return hit / expand_reduced(hit.sum(axis, keepdims=keepdims), shape, axis, keepdims)


class Min(Max):
    """min(x, axis);   d/dx = 1 at the minimum (ties share it equally), else 0"""

    @staticmethod
    def forward(x, axis, keepdims, shape): return np.min(x, axis, keepdims=keepdims)


class Cumsum(Primitive):
    """cumsum(x, axis);   the gradient is the reversed cumulative sum of g"""

    @staticmethod
    def forward(x, axis): return np.cumsum(x, axis)

    @staticmethod
    def vjp_x(g, axis):
        flip = (slice(None),) * axis + (slice(None, None, -1),)
        return np.cumsum(g[flip], axis)[flip]

    @staticmethod
    def jvp_x(t, axis): return np.cumsum(t, axis)


# ---- linear algebra -----------------------------------------------------------------------------
class Matmul(Primitive):
    """a @ b (vectors, matrices or stacks of them);   d/da = g b^T,  d/db = a^T g"""
    inputs, saves = ("a", "b"), ("a", "b")
    forward = staticmethod(np.matmul)

    @staticmethod
    def vjp_a(g, a, b):
        if b.ndim == 1:  # (..., N, K) @ (K,) or (K,) @ (K,): the outer product g b^T
            return g[..., None] * b
        if a.ndim == 1:  # (K,) @ (..., K, M): b g, summed over the stack by the engine
            return (b @ g[..., None])[..., 0]
        return g @ np.swapaxes(b, -1, -2)

    @staticmethod
    def vjp_b(g, a, b):
        if a.ndim == 1:
            return a * g if b.ndim == 1 else a[:, None] * g[..., None, :]
        if b.ndim == 1:
            return (np.swapaxes(a, -1, -2) @ g[..., None])[..., 0]
        return np.swapaxes(a, -1, -2) @ g

    @staticmethod
    def jvp_a(t, a, b): return t @ b  # d(a @ b) = da @ b + a @ db: bilinear

    @staticmethod
    def jvp_b(t, a, b): return a @ t


def parse_einsum(subscripts: str, n_operands: int) -> tuple[list[str], str]:
    """'ij,jk->ik' -> (['ij', 'jk'], 'ik'); without '->', numpy's implicit output (the indices
    that appear once, sorted). Ellipses and repeated indices within one operand are refused:
    `functions.einsum` writes '...' out and takes those diagonals first."""
    text = subscripts.replace(" ", "")
    ins, arrow, out = text.partition("->")
    operands = ins.split(",")
    if "." in text:
        raise ShapeError(f"einsum {subscripts!r}: '...' is not supported; write the axes out")
    if len(operands) != n_operands:
        raise ShapeError(f"einsum {subscripts!r}: {len(operands)} operand subscripts for "
                         f"{n_operands} operands")
    for s in operands:
        if len(set(s)) != len(s):
            raise ShapeError(f"einsum {subscripts!r}: the repeated index in {s!r} (a diagonal) "
                             "is not supported")
    if not arrow:
        counts = {c: ins.count(c) for c in ins if c.isalpha()}
        out = "".join(sorted(c for c, k in counts.items() if k == 1))
    return operands, out


class Einsum(Primitive):
    """einsum(subscripts, *operands);   d/d(operand i) = einsum of g with the other operands"""
    inputs, saves = ("*operands",), ("operands",)

    @staticmethod
    def forward(*operands, subscripts): return np.einsum(subscripts, *operands)

    @staticmethod
    def vjp_operands(g, *operands, i, subscripts):
        ins, out = parse_einsum(subscripts, len(operands))
        others = [s for j, s in enumerate(ins) if j != i]
        kept = "".join(c for c in ins[i] if c in out or any(c in s for s in others))
        spec = ",".join([out, *others]) + "->" + kept
        grad = np.einsum(spec, g, *(x for j, x in enumerate(operands) if j != i))
        shape = operands[i].shape
        if kept != ins[i]:  # indices only operand i had were summed over: broadcast back
            grad = grad.reshape(tuple(n if c in kept else 1 for c, n in zip(ins[i], shape)))
            grad = np.broadcast_to(grad, shape)
        return grad

    @staticmethod
    def jvp_operands(t, *operands, i, subscripts):
        return np.einsum(subscripts, *operands[:i], t, *operands[i + 1:])

    @classmethod
    def label(cls, params): return f"einsum {params['subscripts']}"


def _invertible(solver: Any, name: str) -> Any:
    """numpy's `solver`, its LinAlgError (a singular matrix) naming the operation and operands."""
    def forward(*arrays: Any) -> Any:
        try:
            return solver(*arrays)
        except np.linalg.LinAlgError as e:
            operands = ", ".join(f"{np.asarray(a).dtype}{list(np.shape(a))}" for a in arrays)
            raise np.linalg.LinAlgError(
                f"linalg.{name} of {operands}: {e} (inv and solve, and so the gradients of det "
                "and slogdet, need invertible matrices)") from None

    forward.__name__ = forward.__qualname__ = name
    return forward


class Inv(Primitive):
    """inv(a) of (..., n, n) matrices;   d inv(A) = -inv(A) dA inv(A):  d/da = -out^T g out^T"""
    inputs, saves = ("a",), ("out",)
    forward = staticmethod(_invertible(np.linalg.inv, "inv"))

    @staticmethod
    def vjp_a(g, out):
        t = np.swapaxes(out, -1, -2)
        return -(t @ g @ t)

    @staticmethod
    def jvp_a(t, out): return -(out @ t @ out)

    @classmethod
    def label(cls, params): return "linalg.inv"


class Det(Primitive):
    """det(a) of (..., n, n) matrices;   d det(A) = det(A) tr(A^-1 dA):  d/da = g det(A) A^-T"""
    inputs, saves = ("a",), ("a", "out")
    forward = staticmethod(np.linalg.det)

    @staticmethod
    def vjp_a(g, a, out): return (g * out)[..., None, None] * _inverse_transposed(a)

    @staticmethod
    def jvp_a(t, a, out): return out * (_inverse_transposed(a) * t).sum((-2, -1))

    @classmethod
    def label(cls, params): return "linalg.det"


class LogAbsDet(Primitive):
    """log |det(a)| (slogdet's second result);   d/da = A^-T"""
    inputs, saves = ("a",), ("a",)

    @staticmethod
    def forward(a): return np.linalg.slogdet(a)[1]

    @staticmethod
    def vjp_a(g, a): return g[..., None, None] * _inverse_transposed(a)

    @staticmethod
    def jvp_a(t, a): return (_inverse_transposed(a) * t).sum((-2, -1))


class SignDet(Primitive):
    """the sign of det(a) (slogdet's first result)  (piecewise constant: no gradient flows)"""
    inputs, differentiable = ("a",), False

    @staticmethod
    def forward(a): return np.linalg.slogdet(a)[0]


def _inverse_transposed(a: Any) -> Any:
    return np.swapaxes(apply_to(Inv, a), -1, -2)


class Solve(Primitive):
    """solve(a, b) = a^-1 b;   d/db = a^-T g,  d/da = -(a^-T g) x^T  (x the result; b one
    vector, or a stack of matrices)"""
    inputs, saves = ("a", "b"), ("a", "out")
    forward = staticmethod(_invertible(np.linalg.solve, "solve"))

    @staticmethod
    def vjp_a(g, a, out):
        vector = out.ndim < a.ndim  # b was one vector: x is (..., n)
        gb = _solve_matrices(np.swapaxes(a, -1, -2), g[..., None] if vector else g)
        x = out[..., None] if vector else out
        return -(gb @ np.swapaxes(x, -1, -2))

    @staticmethod
    def vjp_b(g, a, out):
        vector = out.ndim < a.ndim
        gb = _solve_matrices(np.swapaxes(a, -1, -2), g[..., None] if vector else g)
        return gb[..., 0] if vector else gb

    @staticmethod
    def jvp_a(t, a, out):
        vector = out.ndim < a.ndim
        dx = _solve_matrices(a, -(t @ (out[..., None] if vector else out)))
        return dx[..., 0] if vector else dx

    @staticmethod
    def jvp_b(t, a, out): return apply_to(Solve, a, t)

    @classmethod
    def label(cls, params): return "linalg.solve"


def _solve_matrices(a: Any, b: Any) -> Any:
    """solve(a, b) for a b of (..., n, k) matrices (numpy reads a 1-D b as one vector)."""
    return apply_to(Solve, a, b)


class Mse(Primitive):
    """mean((a - b)^2), fused;   d/da = 2 (a - b) / n,  d/db = -2 (a - b) / n"""
    inputs, saves = ("a", "b"), ("a", "b")

    @staticmethod
    def forward(a, b):
        d = a - b
        return (d * d).sum() / d.size if d.size else np.mean(d)  # no entries: nan, as numpy

    @staticmethod
    def vjp_a(g, a, b): return (a - b) * (g * _two_over_size(a, b))

    @staticmethod
    def vjp_b(g, a, b): return (b - a) * (g * _two_over_size(a, b))

    @staticmethod
    def jvp_a(t, a, b): return ((a - b) * t).sum() * _two_over_size(a, b)

    @staticmethod
    def jvp_b(t, a, b): return ((b - a) * t).sum() * _two_over_size(a, b)


def _two_over_size(a, b) -> float:
    """2 / n for the n entries of a - b; nan for none, as numpy's mean of no entries is."""
    n = math.prod(np.broadcast_shapes(np.shape(a), np.shape(b)))
    return 2.0 / n if n else math.nan


# ---- shapes -------------------------------------------------------------------------------------
class Reshape(Primitive):
    """reshape(x, new_shape);   the gradient is reshaped back"""

    @staticmethod
    def forward(x, new_shape, shape): return np.reshape(x, new_shape)

    @staticmethod
    def vjp_x(g, new_shape, shape): return g.reshape(shape)

    @staticmethod
    def jvp_x(t, new_shape, shape): return t.reshape(new_shape)


class Transpose(Primitive):
    """transpose(x, axes);   the gradient is transposed by the inverse permutation"""

    @staticmethod
    def forward(x, axes): return np.transpose(x, axes)

    @staticmethod
    def vjp_x(g, axes): return g.transpose(tuple(np.argsort(axes)))

    @staticmethod
    def jvp_x(t, axes): return t.transpose(axes)

    @classmethod
    def label(cls, params): return f"transpose {params['axes']}"


class BroadcastTo(Primitive):
    """broadcast_to(x, new_shape);   the gradient is summed back over the stretched axes"""

    @staticmethod
    def forward(x, new_shape): return np.broadcast_to(x, new_shape)

    @staticmethod
    def vjp_x(g, new_shape): return g  # the engine's sum_to does the summing

    @staticmethod
    def jvp_x(t, new_shape): return np.broadcast_to(t, new_shape)


class Concatenate(Primitive):
    """concatenate(xs, axis);   each input's gradient is its block of g"""
    inputs = ("*xs",)

    @staticmethod
    def forward(*xs, axis, sizes, shape): return np.concatenate(xs, axis)

    @staticmethod
    def vjp_xs(g, i, axis, sizes, shape): return g[_block(i, axis, sizes)]

    @staticmethod
    def jvp_xs(t, i, axis, sizes, shape):
        return apply_to(ScatterAdd, t, template=_block(i, axis, sizes), shape=shape)

    @classmethod
    def label(cls, params): return f"concatenate axis={params['axis']}"


def _block(i: int, axis: int, sizes: tuple[int, ...]) -> tuple:
    start = sum(sizes[:i])
    return (slice(None),) * axis + (slice(start, start + sizes[i]),)


class Slot:
    """Where an index array sits in an index template (the arrays are a primitive's inputs)."""

    def __init__(self, k: int) -> None:
        self.k = k

    def __repr__(self) -> str:
        return f"<index array {self.k}>"


def fill_index(template: Any, arrays: tuple) -> Any:
    """The index with each `Slot` of the template replaced by its array."""
    if isinstance(template, tuple):
        return tuple(arrays[p.k] if isinstance(p, Slot) else p for p in template)
    return arrays[template.k] if isinstance(template, Slot) else template


class Getitem(Primitive):
    """x[index];   the gradient is scatter-added into zeros of x's shape"""
    inputs, saves = ("x", "*index"), ("index",)

    @staticmethod
    def forward(x, *index, template, shape): return x[fill_index(template, index) if index
                                                     else template]

    @staticmethod
    def vjp_x(g, *index, template, shape):
        return apply_to(ScatterAdd, g, *index, template=template, shape=shape)

    @staticmethod
    def jvp_x(t, *index, template, shape): return t[fill_index(template, index)]

    @classmethod
    def label(cls, params): return f"getitem [{index_text(params['template'])}]"

    @classmethod
    def data_dependent_shape(cls, inputs, params):
        """A boolean mask selects as many entries as it holds True."""
        return any(i is not None and np.asarray(i).dtype.kind == "b" for i in inputs[1:])


class ScatterAdd(Primitive):
    """zeros(shape) with x added at index (repeated entries add up);   d/dx = g[index]"""
    inputs, saves = ("x", "*index"), ("index",)

    @staticmethod
    def forward(x, *index, template, shape):
        out = np.zeros(shape, dtype=x.dtype)
        where = fill_index(template, index)
        if index:  # integer arrays may repeat an entry: add at each occurrence
            np.add.at(out, where, x)
        else:  # basic indexing never repeats an entry: plain assignment
            out[where] = x
        return out

    @staticmethod
    def vjp_x(g, *index, template, shape): return g[fill_index(template, index)]

    @staticmethod
    def jvp_x(t, *index, template, shape):
        return apply_to(ScatterAdd, t, *index, template=template, shape=shape)

    @classmethod
    def label(cls, params): return f"scatter_add [{index_text(params['template'])}]"


# ---- written by the compiler's rewrites (never by the public functions) -------------------------
class Outer(Primitive):
    """outer(a, b) = a[:, None] * b[None, :] for vectors;   d/da = g b,  d/db = g^T a"""
    inputs, saves = ("a", "b"), ("a", "b")
    forward = staticmethod(np.multiply.outer)

    @staticmethod
    def vjp_a(g, a, b): return g @ b

    @staticmethod
    def vjp_b(g, a, b): return a @ g

    @staticmethod
    def jvp_a(t, a, b): return apply_to(Outer, t, b)

    @staticmethod
    def jvp_b(t, a, b): return apply_to(Outer, a, t)


class IndexAdd(Primitive):
    """base with values added at index (a scatter-add into base, not into zeros);
    d/dbase = 1,  d/dvalues = g[index]"""
    inputs, saves = ("base", "values", "*index"), ("index",)

    @staticmethod
    def forward(base, values, *index, template, shape):
        out = np.array(base)
        where = fill_index(template, index)
        if index:  # integer arrays may repeat an entry: add at each occurrence
            np.add.at(out, where, values)
        else:
            out[where] += values
        return out

    @staticmethod
    def vjp_base(g, *index, template, shape): return g

    @staticmethod
    def vjp_values(g, *index, template, shape): return g[fill_index(template, index)]

    @staticmethod
    def jvp_base(t, *index, template, shape): return t

    @staticmethod
    def jvp_values(t, *index, template, shape):
        return apply_to(ScatterAdd, t, *index, template=template, shape=shape)

    @classmethod
    def label(cls, params): return f"index_add [{index_text(params['template'])}]"


def index_text(template: Any, names: list[str] | None = None) -> str:
    """An index as code writes it, without the brackets: (slice(None, -1), 0) -> ':-1, 0'; the
    arrays of an index are named by `names` (else i0, i1, ...)."""
    parts = template if isinstance(template, tuple) else (template,)

    def one(p: Any) -> str:
        if isinstance(p, slice):
            text = ("" if p.start is None else str(p.start)) + ":" + (
                "" if p.stop is None else str(p.stop))
            return text + ("" if p.step is None else f":{p.step}")
        if p is None:
            return "None"
        if p is Ellipsis:
            return "..."
        if isinstance(p, Slot):
            return names[p.k] if names is not None else f"i{p.k}"
        return str(bool(p)) if isinstance(p, bool | np.bool_) else str(int(p))

    if not parts:
        return "()"  # x[()]: the one element of a 0-d array
    single_array = len(parts) == 1 and isinstance(parts[0], Slot)
    return ", ".join(one(p) for p in parts) + ("," if single_array else "")


def primitives() -> list[type[Primitive]]:
    """Every primitive defined here, in order of definition."""
    return [c for c in globals().values() if isinstance(c, type) and issubclass(c, Primitive)
            and c.__module__ == __name__ and not c.__name__.startswith("_")
            and c not in (Primitive, Elementwise)]
