"""The names a schedule's expressions read: ``t``, the key constants, and extra per-frame variables."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

import numpy as np

from render.schedule.errors import ScheduleError
from render.schedule.time_keys import TimeBase

KEY_VARIABLES = ("max_f", "s", "pi", "e")
VALUE_VARIABLES = ("t",) + KEY_VARIABLES
ENDLESS_MAX_F = ("is the last frame, and an endless render (frames=null) has none: write the schedule with frame "
                 "numbers, or render a finite number of frames (frames=N).")


@dataclass(frozen=True)
class ScheduleVariables:
    """Per-frame variables that value expressions may read beside ``t`` (audio features, the tempo grid).

    Attributes:
        values: name -> ``(frames,)`` array indexed by frame, or a function of frame indices ``(N,) -> (N,)``
            (a variable that goes on for ever, as a beat count does). It may be a lazy mapping: a value is
            only read when a schedule uses its name.
        missing: name -> why the name can't be used in this render and how to make it usable; a
            schedule that uses it fails with that sentence.
        loop: frames past the arrays' end wrap around (a soundtrack looping under an endless render);
            functions are called with the frames as they are.
    """

    values: Mapping[str, np.ndarray] = field(default_factory=dict)
    missing: Mapping[str, str] = field(default_factory=dict)
    loop: bool = False

    def at(self, name: str, frames: np.ndarray, schedule: str) -> np.ndarray:
        """``(N,)`` values of variable ``name`` at ``frames`` ``(N,)``."""
        value = self.values[name]
        if callable(value):
            return np.asarray(value(frames), dtype=np.float64)
        array = np.asarray(value, dtype=np.float64)
        if self.loop:
            return array[frames % len(array)]
        if len(array) <= frames.max():
            raise ScheduleError(
                f"{schedule}: variable '{name}' has {len(array)} frames, the schedule needs {frames.max() + 1}."
            )
        return array[frames]


def merge_variables(*sources: ScheduleVariables) -> ScheduleVariables:
    """One set of variables from several sources (audio, tempo grid, ...): a later source wins a name
    both give. Nothing is read until a schedule uses a name, and a looping source keeps looping.

    A name none of them gives but some say is missing keeps every source's reason, joined.
    """
    values = _MergedValues(sources)
    reasons: dict[str, list[str]] = {}
    for source in sources:
        for name, reason in source.missing.items():
            if name not in values and reason not in reasons.setdefault(name, []):
                reasons[name].append(reason)
    return ScheduleVariables(values, {name: "; or it ".join(why) for name, why in reasons.items()})


class _MergedValues(Mapping):
    """name -> the value of the last source that has it; a looping source's arrays become functions that wrap."""

    def __init__(self, sources: tuple[ScheduleVariables, ...]):
        self._owner = {name: source for source in sources for name in source.values}

    def __getitem__(self, name: str) -> np.ndarray | Callable[[np.ndarray], np.ndarray]:
        source = self._owner[name]
        value = source.values[name]
        if not source.loop or callable(value):
            return value
        array = np.asarray(value, dtype=np.float64)
        return lambda frames: array[frames % len(array)]

    def __contains__(self, name: object) -> bool:
        return name in self._owner  # Mapping's own would read the value, and a lazy source would load it

    def __iter__(self) -> Iterator[str]:
        return iter(self._owner)

    def __len__(self) -> int:
        return len(self._owner)


@dataclass(frozen=True)
class _Scope:
    """What names mean in one schedule: key constants, and the names a value may use."""

    constants: Mapping[str, float]  # max_f, s, pi, e
    value_names: tuple[str, ...]  # t, the constants, then the extra per-frame variables
    variables: ScheduleVariables
    time: TimeBase | None = None  # what keys in seconds and bar:beat mean


def _scope(frames: int | None, seed: int, variables: ScheduleVariables, time: TimeBase | None = None) -> _Scope:
    """The names of one schedule; an endless one (``frames`` None) has no ``max_f`` and says why when used."""
    constants = {"max_f": float(frames - 1)} if frames is not None else {}
    constants.update(s=float(seed), pi=math.pi, e=math.e)
    if frames is None:
        variables = ScheduleVariables(variables.values, {**variables.missing, "max_f": ENDLESS_MAX_F}, variables.loop)
    return _Scope(constants, ("t", *constants, *variables.values), variables, time)
