"""What a compiled function takes and returns: nested tuples, lists and dicts of arrays (a
"pytree", in JAX's word), flattened to a list of leaves and rebuilt from one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

CONTAINERS = (tuple, list, dict)


def flatten(tree: Any) -> tuple[list[Any], Any]:
    """(the leaves in order, the structure): the structure is the tree with each leaf replaced
    by its position in the list (dicts keep their keys' order)."""
    leaves: list[Any] = []

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, tuple | list):
            return type(node)(walk(v) for v in node)
        leaves.append(node)
        return len(leaves) - 1

    return leaves, walk(tree)


def unflatten(structure: Any, leaves: list[Any]) -> Any:
    """The tree of `structure` with its positions replaced by those leaves."""
    return map_leaves(structure, lambda k: leaves[k])


def map_leaves(tree: Any, fn: Callable[[Any], Any]) -> Any:
    if isinstance(tree, dict):
        return {k: map_leaves(v, fn) for k, v in tree.items()}
    if isinstance(tree, tuple | list):
        return type(tree)(map_leaves(v, fn) for v in tree)
    return fn(tree)


def same_structure(a: Any, b: Any) -> bool:
    """Do two structures (from `flatten`) have the same containers and keys?"""
    if isinstance(a, dict) or isinstance(b, dict):
        return (type(a) is type(b) and list(a) == list(b)
                and all(same_structure(a[k], b[k]) for k in a))
    if isinstance(a, tuple | list) or isinstance(b, tuple | list):
        return (type(a) is type(b) and len(a) == len(b)
                and all(same_structure(x, y) for x, y in zip(a, b)))
    return True
