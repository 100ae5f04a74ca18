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
low mid high onset``, the tempo grid's ``beat bar beat_phase bar_phase``), and never
interpolated toward the next key; the gap from a number keyframe to a following expression
keyframe is interpolated toward the expression's value at its key. Before the first key its
value is held (Deforum crashes there), after the last key the last value is held.
Interpolation between anchors: ``linear``
(default, Deforum's), ``cubic`` (monotone piecewise cubic, flat at the first and last
key so it eases into the held values and never overshoots) or ``step`` (hold until
the next key).

Keys in musical and clock time (not Deforum's; a ``TimeBase`` in the ``ScheduleContext`` gives the
frame rate and the beat grid): ``"1:1:(1.00), 5:1:(1.08)"`` is bar:beat, both counted from 1 as
musicians count (bar 1 beat 1 is the first downbeat, at ``tempo.offset``; a fractional beat such as
``2:2.5`` lies halfway to beat 3); ``"12.5s:(1.02)"`` is seconds. Each lands on the nearest frame (so
within half a frame of its time at any frame rate) and may be mixed with frame keys. A keyframe
with two colons has a bar:beat key; with one, a frame key as before (``"5:1"`` is frame 5, value 1).
A bar or beat 0, a beat past the meter and a bar:beat key without a tempo are errors with a caret.

Expressions: what numexpr (Deforum's evaluator) accepts, evaluated without it:
numbers, ``t max_f s pi e``, ``+ - * / // % **``, unary ``- + ~``, comparisons
``< <= > >= == !=`` (1.0 or 0.0), ``& | ^ << >>`` on whole numbers and comparisons
(bitwise, so ``^`` is exclusive or, not a power; ``~`` of a comparison is "not"),
parentheses, Python's precedence, and the functions listed in ``FUNCTIONS``
(``min``/``max`` take one or more arguments, ``where(cond, a, b)`` picks ``a`` where
``cond`` is non-zero). Oscillators of period 1, to pair with the beat and bar counts (``saw(beat)``
repeats every beat, ``tri(bar)`` every bar), all 1 on the whole number but ``saw``: ``saw(x)``
rises 0 -> 1 through each period; ``tri(x)`` falls to 0 halfway and back; ``pulse(x, width=0.5)``
is 1 for the first ``width`` of each period, else 0; ``osc(x)`` = 0.5 + 0.5 cos(2 pi x), a smooth
pulse; ``hit(x, width=0.25)`` falls from 1 to 0 over the first ``width``, a drum hit. A zoom that
pulses on every beat: ``1.0 + 0.03*hit(beat)``. A small tokenizer and recursive-descent parser build a tiny AST
that is evaluated with numpy over all frames of a segment at once; nothing is passed to
``eval`` or numexpr. Errors (``ScheduleError``) name the schedule and keyframe and point
at the position in the string with a caret.

Command line (prints ``frame<TAB>value`` per line, value to 10 significant digits;
``--plot`` also writes a PNG line plot, over the audio's loudness and beat envelope
with ``--audio`` and over the beat grid (bars strong, beats faint) with ``--bpm``; a bad string
or audio file exits with status 2)::

    python -m render.schedule "0:(1.04), 120:(1.0)" --frames 240 [--seed S]
        [--interpolation linear|cubic|step] [--name NAME] [--plot out.png]
    python -m render.schedule "0:(1.0+0.04*beat)" --fps 30 --audio song.mp3 [--frames N] [--plot p.png]
    python -m render.schedule "1:1:(1.0), 5:1:(1.08)" --fps 30 --frames 600 --bpm 120 [--offset 0.5]
        [--meter 4] [--changes 17=140] [--plot p.png]     # or --bpm auto --audio song.mp3

The language lives in modules by concern: ``expression`` (tokenizer, parser, AST), ``evaluate``
(the AST over numpy arrays), ``variables`` (the names an expression reads), ``keyframes``
(Deforum's keyframe rules and the frame table), ``time_keys`` (keys in seconds and bars) and
``interpolation``; this module is its face.
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
from render.schedule.keyframes import _beyond, _key_frame, _keyframe_table, _keyframes, _trim, _whole_frame
from render.schedule.time_keys import BeatGrid, TimeBase, check_time_base
from render.schedule.variables import (
    ENDLESS_MAX_F,
    KEY_VARIABLES,
    VALUE_VARIABLES,
    ScheduleVariables,
    _scope,
    merge_variables,
)

__all__ = [
    "ENDLESS_MAX_F", "FUNCTIONS", "INTERPOLATIONS", "KEY_VARIABLES", "VALUE_VARIABLES", "BeatGrid",
    "Schedule", "ScheduleContext", "ScheduleError", "ScheduleVariables", "TimeBase", "merge_variables",
    "parse_schedule",
]  # fmt: skip


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
        variables: extra per-frame variables (audio features, the tempo grid's bar and beat counts).
        time: what keys in seconds (``12.5s``) and bars (``5:1``) mean: the fps and the beat grid;
            None: such keys are errors.
    """

    frames: int | None
    seed: int = 0
    interpolation: str = "linear"
    variables: ScheduleVariables = field(default_factory=ScheduleVariables)
    time: TimeBase | None = None

    def parse(self, spec: str | int | float | Mapping, name: str, interpolation: str | None = None) -> Schedule:
        """``spec`` as a schedule named ``name`` (the config path errors show); ``interpolation`` overrides."""
        return parse_schedule(spec, frames=self.frames, seed=self.seed, name=name, time=self.time,
                              interpolation=interpolation or self.interpolation, variables=self.variables)

    def key_frame(self, key: str | int | float, name: str) -> int:
        """The frame a keyframe key names (``120``, ``"max_f/2"``, ``"12.5s"``, ``"5:1"``), for keyed mappings
        that are not schedules (e.g. ``dream.layers``); ``name`` is the config path errors show."""
        if not isinstance(key, str):
            return _whole_frame(key, str(key), name)
        start, end = _trim(key, 0, len(key))
        return _key_frame(key, start, end, key.strip() or "?", name, _scope(self.frames, self.seed,
                                                                            self.variables, self.time))


def parse_schedule(
    spec: str | int | float | Mapping,
    *,
    frames: int | None,
    seed: int = 0,
    name: str = "schedule",
    interpolation: str = "linear",
    variables: ScheduleVariables | None = None,
    time: TimeBase | None = None,
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
        time: the fps and beat grid that keys in seconds and bar:beat are turned into frames with.

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
    check_time_base(time, name)
    scope = _scope(frames, seed, variables or ScheduleVariables(), time)
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
