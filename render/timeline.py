"""The render's timeline: every animated key declared once, parsed once, read per frame.

``ANIMATED_KEYS`` is the one table of the keys that may be schedules (a number, a Deforum
keyframe string or a mapping): its path in the config, the rule every frame's value must
keep, and a value that works. ``Timeline`` parses each of them once, through the render's
schedule context (its frames, seed, ``motion.interpolation`` and variable sources: the
soundtrack's features today, a tempo grid next), checks the rules over the render's frames
(an endless render's over its first minute), and gives each frame's settings with ``at``.
No other module of the renderer parses a schedule.

While the render runs a key can be changed from another thread (live control):
``override(key, spec, from_frame)`` parses and checks the new schedule at once (a bad one
raises and changes nothing) and applies it from ``from_frame`` on, by default the first
frame the render has not begun. An override's keyframes count in the render's frames, like
the config's, so ``t``, the audio and the tempo grid stay in step with the picture. Every
override is kept in ``changes`` (frame, key, spec) to be recorded and played again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dream.errors import UserError
from render.schedule import Schedule, ScheduleContext, ScheduleVariables, TimeBase, merge_variables

ENDLESS_CHECKED_S = 60  # an endless render's schedules are checked over their first minute (they go on forever)
LARGEST_STEP_SIZE = 16.0  # dream.step_size in 0-255 units per step: far above this every step is mostly noise


@dataclass(frozen=True)
class AnimatedKey:
    """One key that may be a schedule.

    Attributes:
        path: its place in the config, e.g. ``motion.zoom``.
        rule: what every frame's value must keep (None: any finite value).
        meaning: the rule in words, for the error.
        example: a value that works, for the error.
    """

    path: str
    rule: Callable[[float], bool] | None = None
    meaning: str = ""
    example: str = "0"

    def check(self, schedule: Schedule | Track, spec: Any, frames: range) -> None:
        """The first frame of ``frames`` whose value breaks the rule, as a UserError naming the key and a fix."""
        if self.rule is None:
            return
        bad = next(((i, v) for i in frames if not self.rule(v := schedule.at(i))), None)
        if bad is not None:
            raise UserError(f"Config key '{self.path}' ({spec!r}) is {bad[1]:g} at frame {bad[0]}, but must be "
                            f"{self.meaning}. Change it, e.g. {self.path}={self.example}.")


ANIMATED_KEYS: tuple[AnimatedKey, ...] = (
    AnimatedKey("motion.zoom", lambda v: v > 0, "above 0: it is a scale per frame (1 = still, 1.04 flies in, 0.97 "
                "flies out); at 0 the picture collapses to grey noise", "1.04"),
    AnimatedKey("motion.angle", example="0.5"),
    AnimatedKey("motion.translation_x", example="2"),
    AnimatedKey("motion.translation_y", example="2"),
    AnimatedKey("motion.center_x", example="0.5"),
    AnimatedKey("motion.center_y", example="0.5"),
    AnimatedKey("dream.octaves", lambda v: round(v) >= 1, "1 or more (1 = the frame at its own size only)", "4"),
    AnimatedKey("dream.iterations", lambda v: round(v) >= 0, "0 or more steps per octave", "10"),
    AnimatedKey("dream.step_size", lambda v: 0 < v <= LARGEST_STEP_SIZE,
                f"above 0 and at most {LARGEST_STEP_SIZE:g} (0-255 units a step; above that the picture turns to "
                "noise, and 0 or less dreams nothing or the opposite)", "1.5"),
    AnimatedKey("video.blend", lambda v: 0 <= v <= 1, "within 0..1 on every frame (how much of the previous "
                "dream is carried into the next frame)", "0.9"),
    AnimatedKey("video.strength", lambda v: v >= 0, "0 or more on every frame (0 = the source, 1 = the full "
                "dream)", "1.0"),
    AnimatedKey("mask.strength", lambda v: 0 <= v <= 1, "within 0..1 on every frame (how much of the dream shows "
                "inside the mask)", "'0:(0), 48:(1)'"),
    AnimatedKey("color.hue_turn", lambda v: -180 <= v <= 180, "within -180..180 degrees per frame (a turn of the "
                "palette's hue; 0.1 goes once round the colour wheel in 3600 frames)", "0.1"),
)
KEYS_BY_PATH = {key.path: key for key in ANIMATED_KEYS}


def config_value(cfg: Any, path: str) -> Any:
    """The value at a dotted ``path`` of ``cfg``."""
    for part in path.split("."):
        cfg = getattr(cfg, part)
    return cfg


class Track:
    """One key's value per frame: its schedule, and the overrides that replace it from a frame on.

    Reads take no lock: an override replaces the whole list of pieces at once.
    """

    def __init__(self, path: str, schedule: Schedule):
        self.path = path
        self.pieces: tuple[tuple[int, Schedule], ...] = ((0, schedule),)  # (from frame, schedule), ascending

    def at(self, frame: int) -> float:
        """The value at ``frame`` (the latest override that starts at or before it)."""
        for start, schedule in reversed(self.pieces):
            if frame >= start:
                return schedule.at(frame)
        raise IndexError(f"{self.path}: frame {frame} is before the render's start")

    def replace_from(self, frame: int, schedule: Schedule) -> None:
        kept = tuple(piece for piece in self.pieces if piece[0] < frame)
        self.pieces = (*kept, (frame, schedule))

    @property
    def frames(self) -> int:
        return self.pieces[0][1].frames


@dataclass(frozen=True)
class FrameSettings:
    """Every animated key's value at one frame: ``settings["motion.zoom"]``."""

    frame: int
    values: Mapping[str, float]

    def __getitem__(self, path: str) -> float:
        return self.values[path]


@dataclass(frozen=True)
class Change:
    """One override: from ``frame`` on, ``key`` follows ``spec``."""

    frame: int
    key: str
    spec: Any


class Timeline:
    """The render's animated keys, parsed once, each frame's settings, and overrides while it runs.

    Args:
        cfg: the render's config (the specs of ``keys`` are read from it).
        frames: frames the schedules cover (a loop's head included); None: endless.
        fps: frames per second (an endless render's rules are checked over ``ENDLESS_CHECKED_S``).
        sources: variable sources whose names expressions may read (the audio features, a tempo grid); a later
            source wins a name two of them give.
        keys: the animated keys (``ANIMATED_KEYS`` and the camera's).
        time: what keyframes in seconds and bar:beat mean (the tempo grid); None: frame keys only.
    """

    def __init__(self, cfg: Any, frames: int | None, sources: Sequence[ScheduleVariables] = (),
                 keys: Sequence[AnimatedKey] = ANIMATED_KEYS, time: TimeBase | None = None):
        variables = merge_variables(*sources) if sources else ScheduleVariables()
        self.context = ScheduleContext(frames, cfg.seed, cfg.motion.interpolation, variables, time)
        self.fps = cfg.fps
        self.keys = {key.path: key for key in keys}
        self.tracks = {key.path: self._checked_track(key, config_value(cfg, key.path), 0) for key in keys}
        self.changes: list[Change] = []
        self.begun = -1  # the last frame whose settings the render has asked for
        self._lock = threading.Lock()

    @property
    def frames(self) -> int | None:
        return self.context.frames

    def _checked_track(self, key: AnimatedKey, spec: Any, start: int) -> Track:
        schedule = self.context.parse(spec, key.path)
        key.check(schedule, spec, self.checked_frames(schedule, start))
        return Track(key.path, schedule)

    def checked_frames(self, schedule: Schedule, start: int = 0) -> range:
        """The frames a rule is checked over: all of them; an endless render's first minute from ``start``."""
        if self.frames is not None:
            return range(start, self.frames)
        return range(start, max(schedule.frames, start + round(ENDLESS_CHECKED_S * self.fps)))

    def track(self, path: str) -> Track:
        """The track of a declared key (``ANIMATED_KEYS``, or one ``declare`` added)."""
        return self.tracks[path]

    def key_frame(self, key: str | int | float, name: str) -> int:
        """The frame a keyframe key names: a frame, an expression of ``max_f``, seconds (``12.5s``) or bar:beat."""
        return self.context.key_frame(key, name)

    def declare(self, path: str, spec: Any, interpolation: str | None = None) -> Track:
        """Add a key the config names by content (an objective term's weight, a layer tour's crossfade).

        Args:
            interpolation: joins this key's keyframes instead of ``motion.interpolation``.
        """
        track = Track(path, self.context.parse(spec, path, interpolation))
        self.tracks[path] = track
        self.keys.setdefault(path, AnimatedKey(path))
        return track

    def at(self, frame: int) -> FrameSettings:
        """Frame ``frame``'s settings; from now on an override without a frame starts after it."""
        self.begin(frame)
        return FrameSettings(frame, {path: track.at(frame) for path, track in self.tracks.items()})

    def begin(self, last: int) -> None:
        """The render is making frames up to ``last``: an override without a frame starts after it."""
        with self._lock:
            self.begun = max(self.begun, last)

    def override(self, path: str, spec: Any, from_frame: int | None = None) -> int:
        """From ``from_frame`` on (default: the first frame not begun), ``path`` follows ``spec``.

        Safe to call from another thread. Returns the frame it applies from.

        Raises:
            UserError: an unknown key, or a spec that doesn't parse or breaks the key's rule (nothing changes).
        """
        if path not in self.tracks:
            raise UserError(f"'{path}' is not an animated key of this render. Animated keys: "
                            f"{', '.join(self.tracks)}.")
        with self._lock:
            start = max(self.begun + 1, from_frame if from_frame is not None else 0)
            key = self.keys[path]
            schedule = self.context.parse(spec, path)
            key.check(schedule, spec, self.checked_frames(schedule, start))
            self.tracks[path].replace_from(start, schedule)
            self.changes.append(Change(start, path, spec))
        return start
