"""Keys in musical or clock time: ``5:1`` (bar 5, beat 1) and ``12.5s`` (seconds), turned into frames.

A ``TimeBase`` says how: the frame rate, and for bar:beat keys a beat grid (``render.ops.tempo.TempoGrid``
is one; the language only needs the ``BeatGrid`` protocol). A key lands on the nearest frame, so it is
within half a frame of its time at any frame rate.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Protocol

from render.schedule.errors import ScheduleError, _error

NO_GRID = "give tempo.bpm=N (beats per minute), or tempo.bpm=auto with audio=song.mp3 to find it"
NO_FPS = "a key in seconds needs the frame rate, and this schedule has none; write the key as a frame number"

_SECONDS = re.compile(r"(\d+\.?\d*|\.\d+)\s*s")
_BAR_BEAT = re.compile(r"(?P<bar>[^:]*):(?P<beat>[^:]*)")
_NUMBER = re.compile(r"\d+\.?\d*|\.\d+")


class BeatGrid(Protocol):
    """Where the beats are: what bar:beat keys need of a tempo."""

    meter: int  # beats per bar

    def seconds_of_beat(self, beats: float) -> float:
        """The time in seconds of ``beats`` beats after the first downbeat (bar 1 beat 1 is beat 0)."""
        ...


@dataclass(frozen=True)
class TimeBase:
    """What turns keys in seconds and bars into frames.

    Attributes:
        fps: frames per second: a time ``s`` seconds lands on frame ``round(s * fps) + shift``.
        grid: the beat grid of bar:beat keys; None: such a key is an error that says ``no_grid``.
        shift: dreamed frame - shown frame (a loop's head), so a time lands on the frame shown then.
        no_grid: how to give a tempo, for the error of a bar:beat key without one.
    """

    fps: float
    grid: BeatGrid | None = None
    shift: int = 0
    no_grid: str = NO_GRID

    def frame_of_seconds(self, seconds: float) -> int:
        """The frame nearest ``seconds`` (halves round up, so a key never depends on the float's last bit)."""
        return math.floor(seconds * self.fps + 0.5) + self.shift


def time_key_frame(text: str, start: int, end: int, label: str, name: str, time: TimeBase | None) -> int | None:
    """The frame of the key ``text[start:end]`` when it is ``BAR:BEAT`` or ``SECONDSs``; None for a frame key.

    Raises:
        ScheduleError: with a caret under the problem: bar or beat 0, a beat past the meter, no tempo or fps.
    """
    key = text[start:end]
    bar_beat = _BAR_BEAT.fullmatch(key)
    if bar_beat is None and not _SECONDS.fullmatch(key):
        return None

    def error(pos: int, detail: str) -> ScheduleError:
        return _error(name, f"bad key in keyframe {label}", text, pos, detail)

    if time is None:
        raise error(start, NO_FPS)
    if bar_beat is None:
        return time.frame_of_seconds(float(_NUMBER.match(key).group()))
    if time.grid is None:
        raise error(start, f"a bar:beat key needs a tempo: {time.no_grid}")
    beats = _beats_of_key(text, start, bar_beat, time.grid.meter, error)
    return time.frame_of_seconds(time.grid.seconds_of_beat(beats))


def _beats_of_key(text: str, start: int, key: re.Match, meter: int, error) -> float:
    """Beats after the first downbeat of a ``BAR:BEAT`` key, both counted from 1 as musicians count."""
    bar = _count(text, start + key.start("bar"), key.group("bar"), "bar", error)
    beat = _count(text, start + key.start("beat"), key.group("beat"), "beat", error)
    if bar != int(bar):
        raise error(start + key.start("bar"), f"bar {bar:g} is not a whole number: bars count 1, 2, 3, ...")
    if beat >= meter + 1:
        detail = (f"beat {beat:g} is past the meter: a bar has {meter} beats (tempo.meter={meter}), so its beats "
                  f"are 1 to {meter} (a fraction such as {meter}.5 lies between beat {meter} and the next bar)")
        raise error(start + key.start("beat"), detail)
    return (bar - 1) * meter + (beat - 1)


def _count(text: str, pos: int, part: str, what: str, error) -> float:
    """A bar or beat number of a key: 1 or more; ``pos`` is where ``part`` starts in ``text``."""
    at = pos + len(part) - len(part.lstrip())
    if not _NUMBER.fullmatch(part.strip()):
        raise error(at, f"a bar:beat key is two numbers, e.g. 5:1 (bar 5, beat 1), got {what} '{part.strip()}'")
    value = float(part)
    if value < 1:
        raise error(at, f"{what} {value:g} does not exist: bars and beats count from 1, as musicians count "
                        "(1:1 is the first downbeat, at tempo.offset)")
    return value


def check_time_base(time: TimeBase | None, name: str) -> None:
    """A time base's frame rate must be positive and finite."""
    if time is not None and not (math.isfinite(time.fps) and time.fps > 0):
        raise ScheduleError(f"{name}: the frame rate of keys in seconds must be greater than 0, got {time.fps}.")
