"""Your own primitive, in public: subclass `Primitive` or `Elementwise`, exactly as ops.py does.

    import numpy as np
    import autograd_lite as ag

    class Softplus(ag.Elementwise):
        \"\"\"softplus(x) = log(1 + exp(x));   d/dx = sigmoid(x)\"\"\"
        saves = ("x",)

        @staticmethod
        def forward(x): return np.logaddexp(0.0, x)    # stable for large |x|

        @staticmethod
        def d_x(x): return ag.sigmoid(x)

    softplus = Softplus.apply        # on arrays, Tensors and Duals alike
    ag.gradcheck(softplus, np.linspace(-3, 3, 7))

The declarations are ops.py's: `inputs` (default ("x",)), `saves` (the inputs and/or "out" the
rules need), a `forward` on ndarrays, and per input either a derivative `d_<input>` (an
`Elementwise`: vjp = g * d, jvp = t * d) or the two rules `vjp_<input>(g, *saved, **params)`
and `jvp_<input>(t, *saved, **params)`. Parameters (keyword arguments of `apply`) reach the
forward and every rule. It then works
- on the eager tape, with your rules run as they are on ndarrays;
- in forward mode (`jvp`, `jacfwd`): Elementwise from the same d_<input>, a Primitive from its
  jvp_<input> rules;
- for second and higher order, when the rules are written with autograd_lite's functions or
  numpy's on Tensors (then the backward pass, recorded, is differentiated again);
- under `compile`: the generated program calls your forward and your rules by their names
  (`softplus(x)`, `softplus_d_x(x)`), as `.source` shows.

How: each rule of a primitive defined outside autograd_lite becomes a primitive of its own (a
"rule call"), whose forward is your rule and whose derivatives are found by differentiating
your rule. Recorded backward passes and forward mode apply the rule call, so the compiler sees
one equation per rule, and a second derivative differentiates your rule's operations.
"""

from __future__ import annotations

import functools
from typing import Any

from . import ops as P
from .forward import jvp
from .functional import vjp


def _rule_call(owner: type[P.Primitive], rule_name: str, rule: Any) -> type[P.Primitive]:
    """A primitive computing `rule` (its arguments: the rule's positional ones, any number)."""
    def vjp_args(g: Any, *args: Any, argument: int, **params: Any) -> Any:
        def along(x: Any) -> Any:
            return rule(*args[:argument], x, *args[argument + 1:], **params)
        return vjp(along, args[argument])[1](g)[0]

    def jvp_args(t: Any, *args: Any, argument: int, **params: Any) -> Any:
        def along(x: Any) -> Any:
            return rule(*args[:argument], x, *args[argument + 1:], **params)
        return jvp(along, (args[argument],), (t,))[1]

    return type(f"{owner.__name__}_{rule_name}", (P.Primitive,), {
        "__module__": __name__, "__qualname__": f"{owner.__qualname__}.{rule_name}",
        "__doc__": f"{owner.__name__}.{rule_name}, called as a primitive of its own (its "
                   "derivatives: those of the rule's operations)",
        "name": f"{owner.name}_{rule_name}", "inputs": ("*args",), "saves": ("args",),
        "position": "argument", "forward": staticmethod(rule),
        "vjp_args": staticmethod(vjp_args), "jvp_args": staticmethod(jvp_args)})


def _apply_call(call: type[P.Primitive], g: Any, *saved: Any, **params: Any) -> Any:
    """A rule applied as its rule call: `vjp_x(g, *saved)` as one equation."""
    return P.apply_to(call, g, *saved, **params)


def _times_call(call: type[P.Primitive], g: Any, *saved: Any, **params: Any) -> Any:
    """An elementwise chain rule with the derivative applied as its rule call: g * d_x(...)."""
    return g * P.apply_to(call, *saved, **params)


def is_builtin(cls: type) -> bool:
    return cls.__module__.split(".")[0] == "autograd_lite"


def rules_by_name(cls: type[P.Primitive]) -> None:
    """Make a user's primitive apply its rules as rule calls (see the module docstring) on every
    path but the eager tape's, which runs them directly on ndarrays (`eager_vjps`)."""
    if is_builtin(cls):
        return
    for k, n in enumerate(cls.input_names()):
        if cls.has_rule("jvp", k) and not cls.has_rule("vjp", k):
            raise TypeError(f"primitive {cls.__name__}: input {n!r} has a forward-mode rule but "
                            f"no reverse-mode one: write vjp_{n} (grad, vjp and compile need it)")
    calls: dict[str, Any] = {}
    derivatives = cls.derivatives if issubclass(cls, P.Elementwise) else {}
    for n in cls.input_names():
        if n in derivatives:  # one rule call, the same in both modes
            times = functools.partial(_times_call, _rule_call(cls, f"d_{n}", derivatives[n]))
            calls[f"vjp_{n}"] = calls[f"jvp_{n}"] = times
            continue
        for kind in ("vjp", "jvp"):
            rule = getattr(cls, f"{kind}_{n}", None)
            if rule is not None:
                calls[f"{kind}_{n}"] = functools.partial(_apply_call, _rule_call(
                    cls, f"{kind}_{n}", rule))
    cls.vjps, cls.jvps = cls.rules("vjp", calls.get), cls.rules("jvp", calls.get)


P.DEFINITION_HOOKS.append(rules_by_name)
