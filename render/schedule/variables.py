"""The names a schedule's expressions read: ``t``, the key constants, and extra per-frame variables."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from render.schedule.errors import ScheduleError

KEY_VARIABLES = ("max_f", "s", "pi", "e")
VALUE_VARIABLES = ("t",) + KEY_VARIABLES
ENDLESS_MAX_F = ("is the last frame, and an endless render (frames=null) has none: write the schedule with frame "
                 "numbers, or render a finite number of frames (frames=N).")


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
class CombinedVariables:
    """Several sources of per-frame variables (audio, a tempo grid) read as one ``ScheduleVariables``.

    Each name is read from the first source that has it, with that source's own rules (an audio
    track loops under an endless render); a name one source lacks and another has is not missing.
    """

    sources: tuple[ScheduleVariables | CombinedVariables, ...]

    @property
    def values(self) -> Mapping[str, np.ndarray]:
        return _FirstOf(self.sources)

    @property
    def missing(self) -> Mapping[str, str]:
        present = set(self.values)
        return {name: why for source in reversed(self.sources) for name, why in source.missing.items()
                if name not in present}

    def at(self, name: str, frames: np.ndarray, schedule: str) -> np.ndarray:
        return next(s for s in self.sources if name in s.values).at(name, frames, schedule)


class _FirstOf(Mapping):
    """name -> array of the first source that has it; arrays stay lazy until read."""

    def __init__(self, sources):
        self._sources = sources

    def __getitem__(self, name: str) -> np.ndarray:
        for source in self._sources:
            if name in source.values:
                return source.values[name]
        raise KeyError(name)

    def __iter__(self):
        return iter(dict.fromkeys(name for source in self._sources for name in source.values))

    def __len__(self) -> int:
        return sum(1 for _ in self)


@dataclass(frozen=True)
class _Scope:
    """What names mean in one schedule: key constants, and the names a value may use."""

    constants: Mapping[str, float]  # max_f, s, pi, e
    value_names: tuple[str, ...]  # t, the constants, then the extra per-frame variables
    variables: ScheduleVariables | CombinedVariables
    missing: Mapping[str, str]  # names that can't be used here, and why


def _scope(frames: int | None, seed: int, variables: ScheduleVariables | CombinedVariables) -> _Scope:
    """The names of one schedule; an endless one (``frames`` None) has no ``max_f`` and says why when used."""
    constants = {"max_f": float(frames - 1)} if frames is not None else {}
    constants.update(s=float(seed), pi=math.pi, e=math.e)
    missing = dict(variables.missing)
    if frames is None:
        missing["max_f"] = ENDLESS_MAX_F
    return _Scope(constants, ("t", *constants, *variables.values), variables, missing)
