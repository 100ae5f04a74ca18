"""``dream.cadence=auto``: the smallest cadence that holds a live stream's frame rate on this machine.

A stretch of N frames costs one dream and N - 1 in-betweens (camera moves and a blend),
so its frames come at ``(dream + (N - 1) * tween) / N`` seconds each. The controller keeps
the median of the latest dreams' times (one slow warm-up dream doesn't sway it) and a
smoothed in-between time and, at every dream, picks the smallest N whose frame time
fits the stream's with some headroom. It goes up as soon as most recent dreams are slower and
comes back down only when the smaller cadence fits with a wider margin and the cadence has held
for a few dreams, so it does not flip between two values on a machine whose load shifts.
When even the largest cadence is too slow, ``behind`` says so.
"""

from __future__ import annotations

import statistics
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from render.ops.cadence import LARGEST_CADENCE


@dataclass
class AutoCadence:
    """Picks the cadence from measured seconds per dream and per in-between frame.

    Attributes:
        fps: the stream's frame rate.
        largest: the largest cadence it may pick.
        headroom: share of a frame's time the render may use (the rest absorbs jitter and encoding).
        settle: a smaller cadence is taken only when it fits within ``headroom * settle``.
        smoothing: weight of each new in-between measurement in its running average.
        window: dreams whose median is the dream time.
        dwell: dreams a changed cadence is held at least before a smaller one is taken.
    """

    fps: float
    largest: int = LARGEST_CADENCE
    headroom: float = 0.85
    settle: float = 0.8
    smoothing: float = 0.3
    window: int = 5
    dwell: int = 8
    tween_s: float = 0.0
    cadence: int = 1
    behind: bool = False
    dreams: deque = field(default_factory=deque)
    held: int | None = None  # dreams since the cadence last changed; None: it has not changed yet

    @property
    def dream_s(self) -> float | None:
        """Seconds per dream: the median of the latest ``window``; None before the first."""
        return statistics.median(self.dreams) if self.dreams else None

    def observe(self, seconds: float, dreamed: bool) -> None:
        """One frame's measured time: a dreamed frame's or an in-between's."""
        if dreamed:
            self.dreams.append(seconds)
            while len(self.dreams) > self.window:
                self.dreams.popleft()
        else:
            self.tween_s = _smooth(self.tween_s, seconds, self.smoothing) if self.tween_s else seconds

    def frame_seconds(self, cadence: int) -> float:
        """Expected seconds per frame at ``cadence``."""
        return ((self.dream_s or 0.0) + (cadence - 1) * self.tween_s) / cadence

    def choose(self) -> int:
        """The cadence for the next stretch (called when a dream is due)."""
        if self.dream_s is None:
            return self.cadence
        budget = self.headroom / self.fps
        fits = [n for n in range(1, self.largest + 1) if self.frame_seconds(n) <= budget]
        self.behind = not fits
        wanted = fits[0] if fits else self.largest
        settling = self.held is not None and self.held < self.dwell
        if wanted < self.cadence and (settling or self.frame_seconds(wanted) > budget * self.settle):
            wanted = self.cadence  # fits, but not by enough (or not for long enough) to be sure yet
        self.held = 0 if wanted != self.cadence else (None if self.held is None else self.held + 1)
        self.cadence = wanted
        return wanted

    def describe(self) -> str:
        """One line for the log and the page."""
        speed = f"dream {self.dream_s or 0:.2f} s, in-between {self.tween_s * 1000:.0f} ms"
        if self.behind:
            return (f"Falling behind: even cadence {self.largest} can't hold {self.fps:g} fps on this machine "
                    f"({speed}); frames are repeated. Lower width/height or dream.iterations.")
        return f"Cadence {self.cadence}: one dream every {self.cadence} frames holds {self.fps:g} fps ({speed})."


def _smooth(average: float, value: float, weight: float) -> float:
    return (1 - weight) * average + weight * value


CHANGES_KEPT = 100  # an endless render records its latest cadence changes, not all of them


class CadenceChoice:
    """The cadence of each stretch between dreams: ``dream.cadence`` as given, or ``auto``'s pick, whose changes
    are kept (the latest ``CHANGES_KEPT``) and reported as ``report(line, facts)``."""

    def __init__(self, requested: int | str, fps: float, report: Callable[[str, dict], None]):
        self.requested, self.report = requested, report
        self.auto = AutoCadence(fps) if requested == "auto" else None
        self.changes: list[list[int]] = []  # [frame, cadence] where auto changed it

    def at_dream(self, index: int) -> int:
        """The cadence of the stretch starting with the dream at ``index``."""
        if self.auto is None:
            return self.requested
        was_behind, was = self.auto.behind, self.auto.cadence
        chosen = self.auto.choose()
        if self.auto.dream_s is not None and (chosen != was or self.auto.behind != was_behind or not self.changes):
            self.changes = [*self.changes, [index, chosen]][-CHANGES_KEPT:]
            self.report(self.auto.describe(), self.facts())
        return chosen

    def observe(self, index: int, seconds: float, dreamed: bool) -> None:
        """Frame ``index`` took ``seconds``; frame 0 (``first_frame_iterations``) is not a typical dream."""
        if self.auto is not None and index > 0:
            self.auto.observe(seconds, dreamed)

    def facts(self) -> dict:
        """The cadence used, for meta.json: the last one ``auto`` picked, and where it changed."""
        if self.auto is None:
            return {"cadence": self.requested, "cadence_requested": self.requested}
        return {"cadence": self.auto.cadence, "cadence_requested": "auto", "cadence_changes": self.changes,
                "cadence_behind": self.auto.behind}
