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

The language lives in modules by concern: ``expression`` (tokenizer, parser, AST), ``evaluate``
(the AST over numpy arrays), ``variables`` (the names an expression reads), ``keyframes``
(Deforum's keyframe rules and the frame table) and ``interpolation``; this module is its face.
"""

from __future__ import annotations

import numbers
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from render.schedule.errors import ScheduleError
from render.schedule.expression import FUNCTIONS
from render.schedule.interpolation import INTERPOLATIONS, _fill_gaps
from render.schedule.keyframes import _beyond, _keyframe_table, _keyframes
from render.schedule.variables import (
    ENDLESS_MAX_F,
    KEY_VARIABLES,
    VALUE_VARIABLES,
    CombinedVariables,
    ScheduleVariables,
    _scope,
)

__all__ = [
    "ENDLESS_MAX_F", "FUNCTIONS", "INTERPOLATIONS", "KEY_VARIABLES", "VALUE_VARIABLES",
    "CombinedVariables", "Schedule", "ScheduleContext", "ScheduleError", "ScheduleVariables", "parse_schedule",
]


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
    variables: ScheduleVariables | CombinedVariables = field(default_factory=ScheduleVariables)

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
    variables: ScheduleVariables | CombinedVariables | None = None,
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


def _check_arguments(frames: int, name: str, interpolation: str) -> None:
    if isinstance(frames, bool) or not isinstance(frames, numbers.Integral) or frames < 1:
        raise ScheduleError(f"{name}: frames must be a whole number of at least 1, got {frames!r}.")
    if interpolation not in INTERPOLATIONS:
        raise ScheduleError(
            f"{name}: unknown interpolation '{interpolation}'. Valid interpolations: {', '.join(INTERPOLATIONS)}."
        )
