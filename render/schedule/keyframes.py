"""Deforum's keyframe rules: split a spec into keyframes, find their frames, and fill the frame table."""

from __future__ import annotations

import itertools
import math
import numbers
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from render.schedule.errors import ScheduleError, _error
from render.schedule.evaluate import _evaluate, _EvaluationError, _names_in
from render.schedule.expression import _Node, _Num, _parse, _ParseError
from render.schedule.time_keys import time_key_frame
from render.schedule.variables import _Scope

# Deforum's test for a number keyframe (its check_is_number), applied to the value with all quotes
# and parentheses removed: only such values are interpolation anchors. Anything else, ``1e-3``,
# ``1.`` or ``( 1.04 )`` (inner spaces) included, is an expression that Deforum hands to numexpr on
# every frame up to the next key, so its value is held, not interpolated.
_DEFORUM_NUMBER = re.compile(r"[+-]?(?=\.?\d)\d*(?:\.\d+)?")


def _bare_number(value_text: str) -> str | None:
    """The number a keyframe value is, without its quotes and parentheses; None for an expression."""
    bare = re.sub(r"['\"()]", "", value_text)
    return bare if _DEFORUM_NUMBER.fullmatch(bare) else None


@dataclass(frozen=True)
class _Keyframe:
    """One parsed keyframe value and where it came from (for error messages)."""

    label: str  # the key as written
    node: _Node
    text: str  # the source string
    pos: int  # where the value starts in ``text``
    anchor: bool  # a number keyframe: interpolated toward, not evaluated per frame


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
        split = colons[1] if len(colons) > 1 else colons[0]  # two colons: a bar:beat key, "5:1:(1.08)"
        key_start, key_end = _trim(text, start, split)
        label = text[key_start:key_end] or "?"
        frame = _key_frame(text, key_start, key_end, label, name, scope)
        keyframes[frame] = _value_keyframe(text, *_trim(text, split + 1, end), label, name, scope)
    return keyframes


def _mapping_item(key, value, name: str, scope: _Scope) -> tuple[int, _Keyframe]:
    label = str(key)
    if isinstance(key, bool) or not isinstance(key, (numbers.Real, str)):
        raise ScheduleError(f"{name}: keyframe key {key!r} is not a frame number, an expression of max_f, a time "
                            "in seconds ('12.5s') or a bar:beat ('5:1').")
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
    """The frame a key names: ``BAR:BEAT`` or ``SECONDSs`` at the nearest frame, or a number or an expression
    of ``max_f`` and ``s``, truncated to int."""
    timed = time_key_frame(text, start, end, label, name, scope.time)
    if timed is not None:
        return timed
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


def _beyond(last: _Keyframe, table: np.ndarray, scope: _Scope, name: str) -> Callable[[int], float]:
    """An endless schedule's value after its table: the last anchor held, or the last expression evaluated."""
    if last.anchor:
        held = float(table[-1])
        return lambda frame: held
    return lambda frame: float(_evaluate_keyframe(last, np.array([frame]), scope, name)[0])
