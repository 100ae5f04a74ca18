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
class _Scope:
    """What names mean in one schedule: key constants, and the names a value may use."""

    constants: Mapping[str, float]  # max_f, s, pi, e
    value_names: tuple[str, ...]  # t, the constants, then the extra per-frame variables
    variables: ScheduleVariables


def _scope(frames: int | None, seed: int, variables: ScheduleVariables) -> _Scope:
    """The names of one schedule; an endless one (``frames`` None) has no ``max_f`` and says why when used."""
    constants = {"max_f": float(frames - 1)} if frames is not None else {}
    constants.update(s=float(seed), pi=math.pi, e=math.e)
    if frames is None:
        variables = ScheduleVariables(variables.values, {**variables.missing, "max_f": ENDLESS_MAX_F}, variables.loop)
    return _Scope(constants, ("t", *constants, *variables.values), variables)
