"""Expressions of the keyframe language: the functions, a tokenizer, a tiny AST and its recursive-descent parser.

What numexpr (Deforum's evaluator) accepts, parsed without it; see ``render.schedule`` for the language.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class _Function:
    call: Callable[..., np.ndarray]
    min_args: int
    max_args: int | None  # None: any number from min_args up


def _where(condition, if_true, if_false):
    """``if_true`` where ``condition`` is non-zero (comparisons give 1.0 / 0.0), else ``if_false``."""
    return np.where(np.asarray(condition) != 0, if_true, if_false)


_ON_THE_COUNT = 1e-9  # a count this close to a whole number is on it (the float error of seconds * bpm / 60)


def settled(counts: float | np.ndarray) -> np.ndarray:
    """``counts`` with values a float error away from a whole number set on it, so a frame on the beat
    reads phase 0 and not 0.999999."""
    counts = np.asarray(counts, dtype=np.float64)
    nearest = np.round(counts)
    return np.where(np.abs(counts - nearest) < _ON_THE_COUNT, nearest, counts)


def cycle_phase(counts: float | np.ndarray) -> np.ndarray:
    """0..1 within each whole count, 0 on it: the phase of an oscillator of period 1."""
    counts = settled(counts)
    return counts - np.floor(counts)


def _saw(x):
    """Rises from 0 on each whole number to 1 just before the next."""
    return cycle_phase(x)


def _tri(x):
    """1 on each whole number, down to 0 halfway, back up to 1."""
    return np.abs(2.0 * cycle_phase(x) - 1.0)


def _pulse(x, width=0.5):
    """1 for the first ``width`` (0..1) of each period, from the whole number on, 0 for the rest."""
    return np.asarray(cycle_phase(x) < width, dtype=np.float64)


def _osc(x):
    """A smooth pulse: 1 on each whole number, 0 halfway (0.5 + 0.5 cos 2 pi x)."""
    return 0.5 + 0.5 * np.cos(2.0 * np.pi * settled(x))


def _hit(x, width=0.25):
    """A drum hit: 1 on each whole number, falling (quadratically) to 0 over the first ``width`` of the period."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.clip(1.0 - cycle_phase(x) / width, 0.0, 1.0) ** 2


_UNARY_NUMPY = (
    "sin cos tan arcsin arccos arctan sinh cosh tanh arcsinh arccosh arctanh exp expm1 log log10 log2 log1p "
    "sqrt abs floor ceil round trunc sign"
)
_BINARY_NUMPY = "arctan2 hypot fmod copysign minimum maximum"

FUNCTIONS: dict[str, _Function] = {
    **{name: _Function(getattr(np, name), 1, 1) for name in _UNARY_NUMPY.split()},
    **{name: _Function(getattr(np, name), 2, 2) for name in _BINARY_NUMPY.split()},
    # One argument: numexpr's reduction over a single value, i.e. the value itself (Deforum strings use it so).
    "min": _Function(lambda *args: functools.reduce(np.minimum, args), 1, None),
    "max": _Function(lambda *args: functools.reduce(np.maximum, args), 1, None),
    "where": _Function(_where, 3, 3),
    # Oscillators of period 1, so that saw(beat) repeats every beat and tri(bar) every bar.
    "saw": _Function(_saw, 1, 1),
    "tri": _Function(_tri, 1, 1),
    "pulse": _Function(_pulse, 1, 2),
    "osc": _Function(_osc, 1, 1),
    "hit": _Function(_hit, 1, 2),
}


_COMPARISONS = ("<", "<=", ">", ">=", "==", "!=")


class _ParseError(Exception):
    """A syntax problem at an offset of the source text; turned into a ScheduleError by the caller."""

    def __init__(self, pos: int, detail: str):
        super().__init__(detail)
        self.pos, self.detail = pos, detail


def _suggest(word: str, choices) -> str:
    close = difflib.get_close_matches(word, list(choices), n=3)
    return f" Did you mean {' or '.join(close)}?" if close else ""


# ------------------------------------------------------------------ tokenizer


@dataclass(frozen=True)
class _Token:
    kind: str  # "num", "name", "op" or "end"
    text: str
    pos: int  # offset in the source text


_TOKEN_RE = re.compile(
    r"\s*(?:(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"
    r"|(?P<name>[A-Za-z_]\w*)"
    r"|(?P<op>\*\*|//|<<|>>|<=|>=|==|!=|[-+*/%(),<>&|^~]))"
)


def _tokenize(text: str, start: int, end: int) -> list[_Token]:
    """Split ``text[start:end]`` into tokens, ending with an ``end`` token at ``end``."""
    tokens, pos = [], start
    while text[pos:end].strip():
        match = _TOKEN_RE.match(text, pos, end)
        if match is None:
            bad = pos + len(text[pos:end]) - len(text[pos:end].lstrip())
            raise _ParseError(bad, f"unexpected character '{text[bad]}'")
        kind = match.lastgroup
        tokens.append(_Token(kind, match.group(kind), match.start(kind)))
        pos = match.end()
    return tokens + [_Token("end", "", end)]


# --------------------------------------------------------------------- parser


@dataclass(frozen=True)
class _Num:
    value: float


@dataclass(frozen=True)
class _Var:
    name: str


@dataclass(frozen=True)
class _Unary:
    op: str
    operand: _Node


@dataclass(frozen=True)
class _Binary:
    op: str
    left: _Node
    right: _Node


@dataclass(frozen=True)
class _Call:
    name: str
    args: tuple


_Node = _Num | _Var | _Unary | _Binary | _Call


def _describe(token: _Token) -> str:
    return "end of keyframe" if token.kind == "end" else f"'{token.text}'"


class _Parser:
    """Recursive descent over the tokens of one key or value; precedence low to high, as in Python
    (and so in numexpr, which Deforum hands its strings to): comparisons, |, ^, &, << >>, + -, * / // %,
    unary + - ~, ** (right-associative, binds tighter than a unary on its left).
    """

    def __init__(self, tokens: list[_Token], variables: tuple[str, ...], missing: Mapping[str, str]):
        self.tokens, self.index, self.variables, self.missing = tokens, 0, variables, missing

    def parse(self) -> _Node:
        node = self._comparison()
        token = self.tokens[self.index]
        if token.kind != "end":
            raise _ParseError(token.pos, f"unexpected {_describe(token)}")
        return node

    def _take(self) -> _Token:
        token = self.tokens[self.index]
        self.index += token.kind != "end"
        return token

    def _accept(self, *ops: str) -> _Token | None:
        token = self.tokens[self.index]
        if token.kind == "op" and token.text in ops:
            self.index += 1
            return token
        return None

    def _left_associative(self, ops: tuple[str, ...], operand: Callable[[], _Node]) -> _Node:
        node = operand()
        while token := self._accept(*ops):
            node = _Binary(token.text, node, operand())
        return node

    def _comparison(self) -> _Node:
        return self._left_associative(_COMPARISONS, self._bit_or)

    def _bit_or(self) -> _Node:
        return self._left_associative(("|",), self._bit_xor)

    def _bit_xor(self) -> _Node:
        return self._left_associative(("^",), self._bit_and)

    def _bit_and(self) -> _Node:
        return self._left_associative(("&",), self._shift)

    def _shift(self) -> _Node:
        return self._left_associative(("<<", ">>"), self._sum)

    def _sum(self) -> _Node:
        return self._left_associative(("+", "-"), self._product)

    def _product(self) -> _Node:
        return self._left_associative(("*", "/", "//", "%"), self._unary)

    def _unary(self) -> _Node:
        token = self._accept("+", "-", "~")
        return _Unary(token.text, self._unary()) if token else self._power()

    def _power(self) -> _Node:
        base = self._primary()
        return _Binary("**", base, self._unary()) if self._accept("**") else base

    def _primary(self) -> _Node:
        token = self._take()
        if token.kind == "num":
            return _Num(float(token.text))
        if token.kind == "name":
            return self._name(token)
        if token.text == "(":
            node = self._comparison()
            self._close()
            return node
        raise _ParseError(token.pos, f"unexpected {_describe(token)}, expected a number, a name or '('")

    def _close(self) -> None:
        if not self._accept(")"):
            token = self.tokens[self.index]
            raise _ParseError(token.pos, f"expected ')' to close '(', got {_describe(token)}")

    def _name(self, token: _Token) -> _Node:
        if self._accept("("):
            return self._call(token, self._arguments(token))
        if token.text in FUNCTIONS:
            detail = f"function '{token.text}' needs its arguments in parentheses, e.g. {token.text}(t)"
            raise _ParseError(token.pos, detail)
        if token.text not in self.variables and token.text in self.missing:
            raise _ParseError(token.pos, f"'{token.text}' {self.missing[token.text]}")
        if token.text not in self.variables:
            raise _ParseError(
                token.pos,
                f"unknown name '{token.text}'.{_suggest(token.text, self.variables)} "
                f"Valid names here: {', '.join(self.variables)}",
            )
        return _Var(token.text)

    def _arguments(self, function: _Token) -> list[_Node]:
        args = []
        while not self._accept(")"):
            if args and not self._accept(","):
                token = self.tokens[self.index]
                raise _ParseError(token.pos, f"expected ',' or ')' in {function.text}(...), got {_describe(token)}")
            args.append(self._comparison())
        return args

    def _call(self, token: _Token, args: list[_Node]) -> _Node:
        function = FUNCTIONS.get(token.text)
        if function is None:
            raise _ParseError(
                token.pos,
                f"unknown function '{token.text}'.{_suggest(token.text, FUNCTIONS)} "
                f"Valid functions: {', '.join(sorted(FUNCTIONS))}",
            )
        if len(args) < function.min_args or (function.max_args is not None and len(args) > function.max_args):
            wanted = function.min_args if function.max_args == function.min_args else f"{function.min_args} or more"
            raise _ParseError(token.pos, f"{token.text}() takes {wanted} argument(s), got {len(args)}")
        return _Call(token.text, tuple(args))


def _parse(text: str, start: int, end: int, variables: tuple[str, ...],
           missing: Mapping[str, str] | None = None) -> _Node:
    """Parse ``text[start:end]`` into an AST; raises ``_ParseError``."""
    return _Parser(_tokenize(text, start, end), variables, missing or {}).parse()
