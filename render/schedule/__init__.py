"""Keyframe schedules: every animated value is a pure function frame index -> float.

A schedule is written as

- a Deforum keyframe string: ``"0:(1.04), 120:(1.0)"`` or
  ``"0:(1.0025+0.002*sin(1.25*3.14*t/30))"``; parentheses around values are
  optional and surrounding quotes are stripped; a string without any ``key:``
  is one keyframe at frame 0 (``"1.04"``, ``"sin(t/10)"``);
- a mapping ``{0: 1.04, 120: "1.0+0.1*sin(t)"}`` (keys int or str, values numbers
  or expression strings);
- a plain number (a constant).

Deforum's semantics, which existing strings rely on (every string Deforum's own
parser evaluates gives the same per-frame values here): keys are frame numbers or
expressions of ``max_f`` and ``s`` truncated to int; order does not matter, a
later duplicate wins, keys below 0 or at/after the frame count are ignored. A
*number* keyframe is a value that, stripped of quotes and parentheses, is a plain
decimal (``1.04``, ``-2``, ``.5``, ``('1.04')``: Deforum's ``check_is_number``); it is an
interpolation anchor. Anything else (``1e-3``, ``1.`` and ``( 1.04 )`` included, as in
Deforum) is an *expression* keyframe: evaluated on every frame from its key until the
next keyframe (or to the end) with ``t`` = frame, ``max_f`` = frames - 1, ``s`` = seed
and any extra per-frame variables (``ScheduleVariables``: the audio features ``loud beat
low mid high``), and never interpolated toward the next key; the gap from a number
keyframe to a following expression keyframe is interpolated toward the expression's
value at its key. Before the first key its value is held (Deforum crashes there),
after the last key the last value is held. Interpolation between anchors: ``linear``
(default, Deforum's), ``cubic`` (monotone piecewise cubic, flat at the first and last
key so it eases into the held values and never overshoots) or ``step`` (hold until
the next key).

Expressions: what numexpr (Deforum's evaluator) accepts, evaluated without it:
numbers, ``t max_f s pi e``, ``+ - * / // % **``, unary ``- + ~``, comparisons
``< <= > >= == !=`` (1.0 or 0.0), ``& | ^ << >>`` on whole numbers and comparisons
(bitwise, so ``^`` is exclusive or, not a power; ``~`` of a comparison is "not"),
parentheses, Python's precedence, and the functions listed in ``FUNCTIONS``
(``min``/``max`` take one or more arguments, ``where(cond, a, b)`` picks ``a`` where
``cond`` is non-zero). A small tokenizer and recursive-descent parser build a tiny AST
that is evaluated with numpy over all frames of a segment at once; nothing is passed to
``eval`` or numexpr. Errors (``ScheduleError``) name the schedule and keyframe and point
at the position in the string with a caret.

Command line (prints ``frame<TAB>value`` per line, value to 10 significant digits;
``--plot`` also writes a PNG line plot, over the audio's loudness and beat envelope
with ``--audio``; a bad string or audio file exits with status 2)::

    python -m render.schedule "0:(1.04), 120:(1.0)" --frames 240 [--seed S]
        [--interpolation linear|cubic|step] [--name NAME] [--plot out.png]
    python -m render.schedule "0:(1.0+0.04*beat)" --fps 30 --audio song.mp3 [--frames N] [--plot p.png]
"""

from __future__ import annotations

import difflib
import functools
import itertools
import math
import numbers
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from dream.errors import UserError

INTERPOLATIONS = ("linear", "cubic", "step")
KEY_VARIABLES = ("max_f", "s", "pi", "e")
VALUE_VARIABLES = ("t",) + KEY_VARIABLES
ENDLESS_MAX_F = ("is the last frame, and an endless render (frames=null) has none: write the schedule with frame "
                 "numbers, or render a finite number of frames (frames=N).")


class ScheduleError(UserError):
    """A schedule string or mapping that cannot be parsed or evaluated."""


@dataclass(frozen=True)
class _Function:
    call: Callable[..., np.ndarray]
    min_args: int
    max_args: int | None  # None: any number from min_args up


def _where(condition, if_true, if_false):
    """``if_true`` where ``condition`` is non-zero (comparisons give 1.0 / 0.0), else ``if_false``."""
    return np.where(np.asarray(condition) != 0, if_true, if_false)


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
}

_BINARY: dict[str, Callable] = {
    "+": np.add, "-": np.subtract, "*": np.multiply, "/": np.true_divide, "//": np.floor_divide, "%": np.mod,
    "**": np.power, "<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal,
    "==": np.equal, "!=": np.not_equal,
}  # fmt: skip
_BITWISE: dict[str, Callable] = {
    "&": np.bitwise_and, "|": np.bitwise_or, "^": np.bitwise_xor, "<<": np.left_shift, ">>": np.right_shift,
}  # fmt: skip
_COMPARISONS = ("<", "<=", ">", ">=", "==", "!=")


# ---------------------------------------------------------------- the schedule


@dataclass(frozen=True, eq=False)
class Schedule:
    """A value per frame, computed once at parse time.

    Attributes:
        name: the config path it came from, e.g. ``motion.zoom`` (for messages).
        table: ``(frames,)`` float64, read-only: the value of every frame.
        beyond: an endless schedule's value after its table (the last key's, held or evaluated per
            frame); None for a schedule of a fixed number of frames.
    """

    name: str
    table: np.ndarray
    beyond: Callable[[int], float] | None = None

    def __post_init__(self):
        table = np.array(self.table, dtype=np.float64)
        table.flags.writeable = False
        object.__setattr__(self, "table", table)

    @property
    def frames(self) -> int:
        """The number of frames the schedule covers."""
        return len(self.table)

    def at(self, frame: int) -> float:
        """The value at ``frame`` (0 <= frame < frames, or any frame >= 0 when endless; no wrap-around)."""
        index = operator.index(frame)
        if index >= self.frames and self.beyond is not None:
            return self.beyond(index)
        if not 0 <= index < self.frames:
            raise IndexError(f"{self.name}: frame {index} is outside 0..{self.frames - 1}")
        return float(self.table[index])

    def values(self) -> list[float]:
        """The values of all frames, frame 0 first."""
        return self.table.tolist()


@dataclass(frozen=True)
class ScheduleVariables:
    """Per-frame variables that value expressions may read beside ``t`` (e.g. audio features).

    Attributes:
        values: name -> ``(frames,)`` array indexed by frame. It may be a lazy mapping: an array is
            only read when a schedule uses its name.
        missing: name -> why the name can't be used in this render and how to make it usable; a
            schedule that uses it fails with that sentence.
        loop: frames past the arrays' end wrap around (a soundtrack looping under an endless render).
    """

    values: Mapping[str, np.ndarray] = field(default_factory=dict)
    missing: Mapping[str, str] = field(default_factory=dict)
    loop: bool = False

    def at(self, name: str, frames: np.ndarray, schedule: str) -> np.ndarray:
        """``(N,)`` values of variable ``name`` at ``frames`` ``(N,)``."""
        array = np.asarray(self.values[name], dtype=np.float64)
        if self.loop:
            return array[frames % len(array)]
        if len(array) <= frames.max():
            raise ScheduleError(
                f"{schedule}: variable '{name}' has {len(array)} frames, the schedule needs {frames.max() + 1}."
            )
        return array[frames]


@dataclass(frozen=True)
class ScheduleContext:
    """What every schedule of one render is parsed with, so that all of them agree.

    Attributes:
        frames: frames the schedules cover (``max_f`` = frames - 1).
        seed: the run's seed, the ``s`` of expressions.
        interpolation: ``motion.interpolation``: how number keyframes are joined.
        variables: extra per-frame variables (audio features).
    """

    frames: int | None
    seed: int = 0
    interpolation: str = "linear"
    variables: ScheduleVariables = field(default_factory=ScheduleVariables)

    def parse(self, spec: str | int | float | Mapping, name: str, interpolation: str | None = None) -> Schedule:
        """``spec`` as a schedule named ``name`` (the config path errors show); ``interpolation`` overrides."""
        return parse_schedule(spec, frames=self.frames, seed=self.seed, name=name,
                              interpolation=interpolation or self.interpolation, variables=self.variables)


def parse_schedule(
    spec: str | int | float | Mapping,
    *,
    frames: int | None,
    seed: int = 0,
    name: str = "schedule",
    interpolation: str = "linear",
    variables: ScheduleVariables | None = None,
) -> Schedule:
    """Parse a keyframe string, mapping or number into a ``Schedule``.

    Args:
        spec: Deforum keyframe string, mapping ``{frame: value}`` or a number.
        frames: number of frames to cover (``max_f`` = frames - 1); None: endless (no ``max_f``; after
            the last key its value is held, or its expression evaluated, on every frame however far).
        seed: the run's seed, the ``s`` of expressions.
        name: the config path shown in errors, e.g. ``motion.zoom``.
        interpolation: ``linear``, ``cubic`` or ``step`` between number keyframes.
        variables: extra per-frame variables of value expressions (none by default).

    Returns:
        The schedule with all ``frames`` values precomputed.

    Raises:
        ScheduleError: on a syntax error, unknown name, non-finite value or bad argument.
    """
    endless = frames is None
    if not endless:
        _check_arguments(frames, name, interpolation)
        frames = int(frames)
    elif interpolation not in INTERPOLATIONS:
        _check_arguments(1, name, interpolation)
    scope = _scope(frames, seed, variables or ScheduleVariables())
    keyframes = _keyframes(spec, name, scope)
    in_range = {frame: kf for frame, kf in keyframes.items() if 0 <= frame and (endless or frame < frames)}
    if not in_range:
        raise ScheduleError(
            f"{name}: every keyframe lies outside frames 0..{'' if endless else frames - 1} ({sorted(keyframes)}). "
            f"Add a keyframe inside the render, e.g. at frame 0."
        )
    covered = max(in_range) + 1 if endless else frames
    table = _fill_gaps(_keyframe_table(in_range, covered, scope, name), interpolation)
    return Schedule(name, table, _beyond(in_range[max(in_range)], table, scope, name) if endless else None)


def _scope(frames: int | None, seed: int, variables: ScheduleVariables) -> _Scope:
    """The names of one schedule; an endless one (``frames`` None) has no ``max_f`` and says why when used."""
    constants = {"max_f": float(frames - 1)} if frames is not None else {}
    constants.update(s=float(seed), pi=math.pi, e=math.e)
    if frames is None:
        variables = ScheduleVariables(variables.values, {**variables.missing, "max_f": ENDLESS_MAX_F}, variables.loop)
    return _Scope(constants, ("t", *constants, *variables.values), variables)


def _beyond(last: _Keyframe, table: np.ndarray, scope: _Scope, name: str) -> Callable[[int], float]:
    """An endless schedule's value after its table: the last anchor held, or the last expression evaluated."""
    if last.anchor:
        held = float(table[-1])
        return lambda frame: held
    return lambda frame: float(_evaluate_keyframe(last, np.array([frame]), scope, name)[0])


def _check_arguments(frames: int, name: str, interpolation: str) -> None:
    if isinstance(frames, bool) or not isinstance(frames, numbers.Integral) or frames < 1:
        raise ScheduleError(f"{name}: frames must be a whole number of at least 1, got {frames!r}.")
    if interpolation not in INTERPOLATIONS:
        raise ScheduleError(
            f"{name}: unknown interpolation '{interpolation}'. Valid interpolations: {', '.join(INTERPOLATIONS)}."
        )


# ------------------------------------------------------------- error messages


def _error(name: str, problem: str, text: str, pos: int, detail: str) -> ScheduleError:
    """A ScheduleError: ``problem`` (what and which keyframe) at ``pos``, then the line of ``text``
    that holds ``pos`` with a caret under it."""
    line_start = text.rfind("\n", 0, pos) + 1
    line_end = text.find("\n", pos)
    line = text[line_start : len(text) if line_end < 0 else line_end].replace("\t", " ")
    column = pos - line_start + 1
    where = f"line {text.count(chr(10), 0, pos) + 1}, column {column}" if "\n" in text else f"column {column}"
    return ScheduleError(f"{name}: {problem} at {where}: {detail}\n  {line}\n  {' ' * (column - 1)}^")


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


# Deforum's test for a number keyframe (its check_is_number), applied to the value with all quotes
# and parentheses removed: only such values are interpolation anchors. Anything else, ``1e-3``,
# ``1.`` or ``( 1.04 )`` (inner spaces) included, is an expression that Deforum hands to numexpr on
# every frame up to the next key, so its value is held, not interpolated.
_DEFORUM_NUMBER = re.compile(r"[+-]?(?=\.?\d)\d*(?:\.\d+)?")


def _bare_number(value_text: str) -> str | None:
    """The number a keyframe value is, without its quotes and parentheses; None for an expression."""
    bare = re.sub(r"['\"()]", "", value_text)
    return bare if _DEFORUM_NUMBER.fullmatch(bare) else None


def _is_boolean(node: _Node) -> bool:
    """Whether a node is a truth value (a comparison, or & | ^ ~ of truth values), as numexpr types it."""
    if isinstance(node, _Binary):
        return node.op in _COMPARISONS or (node.op in "&|^" and _is_boolean(node.left) and _is_boolean(node.right))
    return isinstance(node, _Unary) and node.op == "~" and _is_boolean(node.operand)


# ------------------------------------------------------------------ evaluator


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


# ---------------------------------------------------------- keyframe splitting


@dataclass(frozen=True)
class _Keyframe:
    """One parsed keyframe value and where it came from (for error messages)."""

    label: str  # the key as written
    node: _Node
    text: str  # the source string
    pos: int  # where the value starts in ``text``
    anchor: bool  # a number keyframe: interpolated toward, not evaluated per frame


@dataclass(frozen=True)
class _Scope:
    """What names mean in one schedule: key constants, and the names a value may use."""

    constants: Mapping[str, float]  # max_f, s, pi, e
    value_names: tuple[str, ...]  # t, the constants, then the extra per-frame variables
    variables: ScheduleVariables


_TRIM = " \t\r\n'\""
_DEPTH_CHANGE = {"(": 1, ")": -1}


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Narrow ``[start, end)`` past surrounding whitespace and quotes."""
    while start < end and text[start] in _TRIM:
        start += 1
    while end > start and text[end - 1] in _TRIM:
        end -= 1
    return start, end


def _top_level(text: str, start: int, end: int, char: str) -> list[int]:
    """Offsets of ``char`` in ``text[start:end]`` outside parentheses (so ``max(a, b)`` stays whole)."""
    depth, found = 0, []
    for pos in range(start, end):
        depth += _DEPTH_CHANGE.get(text[pos], 0)
        if text[pos] == char and depth <= 0:
            found.append(pos)
    return found


def _pieces(text: str) -> list[tuple[int, int]]:
    """The non-blank comma-separated keyframe spans of a keyframe string."""
    start, end = _trim(text, 0, len(text))
    cuts = [start - 1] + _top_level(text, start, end, ",") + [end]
    spans = [_trim(text, a + 1, b) for a, b in itertools.pairwise(cuts)]
    return [(a, b) for a, b in spans if a < b]


def _keyframes(spec, name: str, scope: _Scope) -> dict[int, _Keyframe]:
    """Frame -> keyframe from any accepted spec; a later duplicate key wins."""
    if isinstance(spec, bool) or spec is None:
        raise ScheduleError(f"{name}: expected a number, a keyframe string or a mapping, got {spec!r}.")
    if isinstance(spec, numbers.Real):
        return {0: _number_keyframe(spec, "0", name)}
    if isinstance(spec, str):
        return _keyframes_from_text(spec, name, scope)
    if isinstance(spec, Mapping):
        return dict(_mapping_item(key, value, name, scope) for key, value in spec.items())
    raise ScheduleError(f"{name}: expected a number, a keyframe string or a mapping, got {type(spec).__name__}.")


def _unclosed_parenthesis(text: str) -> int | None:
    """The offset of the first '(' that is never closed, if any."""
    opened = []
    for pos, char in enumerate(text):
        if char == "(":
            opened.append(pos)
        elif char == ")" and opened:
            opened.pop()
    return opened[0] if opened else None


def _keyframes_from_text(text: str, name: str, scope: _Scope) -> dict[int, _Keyframe]:
    pieces = _pieces(text)
    if not pieces:
        raise ScheduleError(f'{name}: the schedule string is empty. Write keyframes like "0:(1.04), 120:(1.0)".')
    unclosed = _unclosed_parenthesis(text)
    if unclosed is not None:
        raise _error(name, "syntax error", text, unclosed, "this '(' is never closed; add the missing ')'")
    keyframes = {}
    for start, end in pieces:
        colons = _top_level(text, start, end, ":")
        if not colons and len(pieces) > 1:
            detail = "missing ':' between frame and value; write keyframes as 'frame: (value)'"
            raise _error(name, f"syntax error in keyframe {text[start:end]}", text, start, detail)
        if not colons:  # a lone value without a key: one keyframe at frame 0
            return {0: _value_keyframe(text, start, end, "0", name, scope)}
        key_start, key_end = _trim(text, start, colons[0])
        label = text[key_start:key_end] or "?"
        frame = _key_frame(text, key_start, key_end, label, name, scope)
        keyframes[frame] = _value_keyframe(text, *_trim(text, colons[0] + 1, end), label, name, scope)
    return keyframes


def _mapping_item(key, value, name: str, scope: _Scope) -> tuple[int, _Keyframe]:
    label = str(key)
    if isinstance(key, bool) or not isinstance(key, (numbers.Real, str)):
        raise ScheduleError(f"{name}: keyframe key {key!r} is not a frame number or an expression of max_f.")
    if isinstance(key, str):
        start, end = _trim(key, 0, len(key))
        frame = _key_frame(key, start, end, label, name, scope)
    else:
        frame = _whole_frame(key, label, name)
    if isinstance(value, str):
        return frame, _value_keyframe(value, *_trim(value, 0, len(value)), label, name, scope)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ScheduleError(f"{name}: keyframe {label} has value {value!r}; expected a number or an expression string.")
    return frame, _number_keyframe(value, label, name)


def _number_keyframe(value: float, label: str, name: str) -> _Keyframe:
    if not math.isfinite(value):
        raise ScheduleError(f"{name}: keyframe {label} is {value}; use a finite number.")
    return _Keyframe(label, _Num(float(value)), str(value), 0, anchor=True)


def _value_keyframe(text: str, start: int, end: int, label: str, name: str, scope: _Scope) -> _Keyframe:
    bare = _bare_number(text[start:end])
    if bare is not None:  # a number however quoted or parenthesised, e.g. ('1.04'), as Deforum reads it
        return _Keyframe(label, _Num(float(bare)), text, start, anchor=True)
    try:
        node = _parse(text, start, end, scope.value_names, scope.variables.missing)
    except _ParseError as problem:
        raise _error(name, f"syntax error in keyframe {label}", text, problem.pos, problem.detail) from None
    return _Keyframe(label, node, text, start, anchor=False)


def _key_frame(text: str, start: int, end: int, label: str, name: str, scope: _Scope) -> int:
    """The frame a key names: a number or an expression of ``max_f`` and ``s``, truncated to int."""
    constants = scope.constants
    try:
        node = _parse(text, start, end, tuple(constants), scope.variables.missing)
    except _ParseError as problem:
        raise _error(name, f"syntax error in the key of keyframe {label}", text, problem.pos, problem.detail) from None
    try:
        with np.errstate(all="ignore"):
            value = float(_evaluate(node, constants))
    except _EvaluationError as problem:
        raise _error(name, f"bad key in keyframe {label}", text, start, str(problem)) from None
    if not math.isfinite(value):
        raise _error(name, f"non-finite key in keyframe {label}", text, start, f"the key evaluates to {value}")
    return _whole_frame(value, label, name)


def _whole_frame(key: float, label: str, name: str) -> int:
    if not math.isfinite(key):
        raise ScheduleError(f"{name}: keyframe key {label} is not a finite frame number.")
    return int(key)  # truncates toward zero, as Deforum's int() does


# ------------------------------------------------------------- frame table


def _keyframe_table(keyframes: Mapping[int, _Keyframe], frames: int, scope: _Scope, name: str) -> np.ndarray:
    """``(frames,)`` values: number keyframes at their frame, expression keyframes on every frame
    up to the next key, NaN in the gaps left for interpolation."""
    table = np.full(frames, np.nan)
    starts = sorted(keyframes)
    for start, stop in zip(starts, starts[1:] + [frames], strict=True):
        keyframe = keyframes[start]
        covered = slice(start, start + 1) if keyframe.anchor else slice(start, stop)
        table[covered] = _evaluate_keyframe(keyframe, np.arange(covered.start, covered.stop), scope, name)
    return table


def _evaluate_keyframe(keyframe: _Keyframe, frames: np.ndarray, scope: _Scope, name: str) -> np.ndarray:
    """``(N,)`` values of one keyframe at ``frames`` ``(N,)``; non-finite values are errors."""
    env = {**scope.constants, "t": frames.astype(np.float64)}
    for variable in _names_in(keyframe.node) & set(scope.variables.values):
        env[variable] = scope.variables.at(variable, frames, name)
    try:
        with np.errstate(all="ignore"):
            values = np.broadcast_to(_evaluate(keyframe.node, env), frames.shape)
    except _EvaluationError as problem:
        problem_in = f"bad value in keyframe {keyframe.label}"
        raise _error(name, problem_in, keyframe.text, keyframe.pos, str(problem)) from None
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        detail = (
            f"the value is {values[bad[0]]} at frame {frames[bad[0]]}. "
            f"Keep it finite on every frame it covers, e.g. guard a division with where(...)"
        )
        raise _error(name, f"non-finite value in keyframe {keyframe.label}", keyframe.text, keyframe.pos, detail)
    return values


def _names_in(node: _Node) -> set[str]:
    """The variable names an AST reads."""
    if isinstance(node, _Var):
        return {node.name}
    children = {_Unary: lambda n: (n.operand,), _Binary: lambda n: (n.left, n.right), _Call: lambda n: n.args}
    reader = children.get(type(node))
    return set().union(*(_names_in(child) for child in reader(node))) if reader else set()


# -------------------------------------------------------------- interpolation


def _fill_gaps(table: np.ndarray, method: str) -> np.ndarray:
    """Fill the NaN frames of ``table`` ``(frames,)`` from the known ones; ends are held."""
    known = np.flatnonzero(~np.isnan(table))
    missing = np.flatnonzero(np.isnan(table))
    filled = table.copy()
    interpolate = {"linear": np.interp, "cubic": _monotone_cubic, "step": _step}[method]
    filled[missing] = interpolate(missing.astype(np.float64), known.astype(np.float64), table[known])
    return filled


def _step(query: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """The value of the last anchor at or before each query (the first one before it)."""
    index = np.clip(np.searchsorted(xs, query, side="right") - 1, 0, None)
    return ys[index]


def _monotone_cubic(query: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Piecewise cubic Hermite through ``(xs, ys)`` with monotone (PCHIP) slopes; held outside."""
    if len(xs) < 2:
        return np.full_like(query, ys[0])
    slopes = _pchip_slopes(xs, ys)
    q = np.clip(query, xs[0], xs[-1])
    k = np.clip(np.searchsorted(xs, q, side="right") - 1, 0, len(xs) - 2)
    h = xs[k + 1] - xs[k]
    u = (q - xs[k]) / h
    return (
        (1 + 2 * u) * (1 - u) ** 2 * ys[k]
        + u * (1 - u) ** 2 * h * slopes[k]
        + u**2 * (3 - 2 * u) * ys[k + 1]
        + u**2 * (u - 1) * h * slopes[k + 1]
    )


def _pchip_slopes(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Fritsch-Carlson slopes (weighted harmonic mean, zero at extrema); zero at both ends so the
    curve joins the held values smoothly."""
    h = np.diff(xs)
    delta = np.diff(ys) / h
    w1, w2 = 2 * h[1:] + h[:-1], h[1:] + 2 * h[:-1]
    same_sign = delta[:-1] * delta[1:] > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        harmonic = (w1 + w2) / (w1 / delta[:-1] + w2 / delta[1:])
    slopes = np.zeros_like(ys)
    slopes[1:-1] = np.where(same_sign, harmonic, 0.0)
    return slopes
