"""Evaluate an expression's AST with numpy over all frames of a keyframe at once (nothing goes to ``eval``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from render.schedule.expression import _COMPARISONS, FUNCTIONS, _Binary, _Call, _Node, _Num, _Unary, _Var

_BINARY: dict[str, Callable] = {
    "+": np.add, "-": np.subtract, "*": np.multiply, "/": np.true_divide, "//": np.floor_divide, "%": np.mod,
    "**": np.power, "<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal,
    "==": np.equal, "!=": np.not_equal,
}  # fmt: skip
_BITWISE: dict[str, Callable] = {
    "&": np.bitwise_and, "|": np.bitwise_or, "^": np.bitwise_xor, "<<": np.left_shift, ">>": np.right_shift,
}  # fmt: skip


def _is_boolean(node: _Node) -> bool:
    """Whether a node is a truth value (a comparison, or & | ^ ~ of truth values), as numexpr types it."""
    if isinstance(node, _Binary):
        return node.op in _COMPARISONS or (node.op in "&|^" and _is_boolean(node.left) and _is_boolean(node.right))
    return isinstance(node, _Unary) and node.op == "~" and _is_boolean(node.operand)


class _EvaluationError(Exception):
    """A value an operator can't take (e.g. ``&`` of a fraction); turned into a ScheduleError by the caller."""


def _evaluate(node: _Node, env: Mapping[str, float | np.ndarray]) -> np.ndarray | float:
    """Evaluate an AST; ``env`` maps variable names to scalars or ``(N,)`` arrays (``t``, extra variables)."""
    if isinstance(node, _Num):
        return node.value
    if isinstance(node, _Var):
        return env[node.name]
    if isinstance(node, _Unary):
        return _unary(node, _evaluate(node.operand, env))
    if isinstance(node, _Binary) and node.op in _BITWISE:
        left, right = (_whole(_evaluate(side, env), node.op) for side in (node.left, node.right))
        result = _BITWISE[node.op](left, right)
    elif isinstance(node, _Binary):
        result = _BINARY[node.op](_evaluate(node.left, env), _evaluate(node.right, env))
    else:
        result = FUNCTIONS[node.name].call(*(_evaluate(arg, env) for arg in node.args))
    return np.asarray(result, dtype=np.float64)  # comparisons give bools: 1.0 / 0.0


def _unary(node: _Unary, operand: np.ndarray | float) -> np.ndarray | float:
    """``-x``, ``+x``, or ``~x``: logical not of a truth value, bitwise not (-x - 1) of a whole number."""
    if node.op == "-":
        return -operand
    if node.op == "~":
        return 1.0 - operand if _is_boolean(node.operand) else np.asarray(~_whole(operand, "~"), dtype=np.float64)
    return operand


def _whole(values: np.ndarray | float, op: str) -> np.ndarray:
    """``values`` as int64 for a bitwise operator; fractions are an error (numexpr refuses them too)."""
    values = np.asarray(values, dtype=np.float64)
    if not np.all(np.isfinite(values) & (values == np.round(values))):
        raise _EvaluationError(
            f"'{op}' works on whole numbers and comparisons only (it is bitwise, as in Deforum's numexpr), "
            f"got {values.flat[int(np.argmax(values != np.round(values)))]:g}; write powers as **"
        )
    return values.astype(np.int64)


def _names_in(node: _Node) -> set[str]:
    """The variable names an AST reads."""
    if isinstance(node, _Var):
        return {node.name}
    children = {_Unary: lambda n: (n.operand,), _Binary: lambda n: (n.left, n.right), _Call: lambda n: n.args}
    reader = children.get(type(node))
    return set().union(*(_names_in(child) for child in reader(node))) if reader else set()
