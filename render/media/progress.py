"""The console: a progress bar whose remaining time follows the measured pace, and loud warnings."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

DEPARTURE = 1.5  # measured against estimated pace, either way: beyond this the render says so (once)
JUDGE_AFTER_STEPS = 3  # the first steps carry one-off costs (encoder start, first preview): judged after these
JUDGE_AFTER_S = 10.0
WINDOW_S = 60.0  # the measured pace is the pace of about the latest minute (at least the latest step)


def frame_progress(console: Console) -> Progress:
    """A progress bar: frames done, frames per second (field ``rate``), elapsed time and time left (field ``left``).

    The time left is the driver's (``Pace.left_text``): it follows the measured pace, where rich's own ETA
    shows nothing once a frame takes longer than its averaging window.
    """
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]} frames/s"),
        TimeElapsedColumn(),
        TextColumn("{task.fields[left]}"),
        console=console,
    )


def counting_progress(console: Console, unit: str) -> Progress:
    """A progress bar: description, bar, done/total, ``unit`` (a rich format string), elapsed time and ETA."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(unit),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console,
    )


@dataclass
class Pace:
    """A render's measured pace against its estimate: the time left, and a word once the two part.

    Attributes:
        planned: estimated seconds of each step (frame), in order; None: no estimate (a resumed render), then the
            measured pace alone counts.
        total: steps of the whole render; None: endless.
        samples: (steps done, time) at each finished step within about ``WINDOW_S``.
        start: (steps done, time) when the render started (or resumed).
        said: the departure from the estimate was said already.
    """

    planned: Sequence[float] | None
    total: int | None
    samples: deque = field(default_factory=deque)
    start: tuple[int, float] | None = None
    said: bool = False

    def step(self, steps_done: int, now: float) -> None:
        """Note that ``steps_done`` steps are done at ``now`` (``time.perf_counter``); call once at the start too."""
        self.start = self.start or (steps_done, now)
        self.samples.append((steps_done, now))
        while len(self.samples) > 2 and now - self.samples[1][1] >= WINDOW_S:
            self.samples.popleft()

    def ratio(self) -> float | None:
        """Measured over estimated seconds of the steps in the window; None before a step or without an estimate."""
        if self.planned is None or len(self.samples) < 2:
            return None
        (first, since), (done, now) = self.samples[0], self.samples[-1]
        planned = sum(self.planned[first:done])
        return (now - since) / planned if planned > 0 else None

    def step_seconds(self) -> float | None:
        """Measured seconds of one step lately; None before a step is done."""
        if len(self.samples) < 2:
            return None
        (first, since), (done, now) = self.samples[0], self.samples[-1]
        return (now - since) / max(1, done - first)

    def left(self) -> float | None:
        """Seconds until the last step, at the measured pace (the estimate's before a step is measured)."""
        if self.total is None or not self.samples:
            return None
        done = self.samples[-1][0]
        if self.planned is not None:
            return sum(self.planned[done:]) * (self.ratio() or 1.0)
        per_step = self.step_seconds()
        return None if per_step is None else per_step * (self.total - done)

    def seconds_left_in_step(self, now: float) -> float | None:
        """About how long the step in progress still takes."""
        per_step = self.step_seconds()
        if per_step is None and self.planned is not None and self.samples:
            per_step = self.planned[min(self.samples[-1][0], len(self.planned) - 1)]
        return None if per_step is None else max(0.0, per_step - (now - self.samples[-1][1]))

    def left_text(self) -> str:
        left = self.left()
        return "" if left is None else f"about {duration(left)} left"

    def departure(self) -> str | None:
        """Once, when the measured pace parts from the estimate by more than ``DEPARTURE`` either way: what it means."""
        ratio = self.ratio()
        if self.said or ratio is None or not self._judged():
            return None
        if 1 / DEPARTURE <= ratio <= DEPARTURE:
            return None
        self.said = True
        word = "slower" if ratio > 1 else "faster"
        return (f"The machine got {word}: now about {duration(self.left())} left ({ratio:.1f}x the estimated time "
                f"a frame).")

    def _judged(self) -> bool:
        """Enough steps and seconds since the start for the one-off costs of the first steps to weigh little."""
        (done, now), (start_done, start) = self.samples[-1], self.start
        return done - start_done >= JUDGE_AFTER_STEPS and now - start >= JUDGE_AFTER_S


def duration(seconds: float) -> str:
    """Seconds as people say them: 12 s, 5 min, 2.0 h."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def warner(console: Console):
    """A function printing a message as a loud, unmissable warning."""

    def warn(message: str) -> None:
        console.print(f"[bold yellow]WARNING[/bold yellow] {message}", highlight=False)

    return warn


def noting(warn: Callable[[str], None], notes: list[str]) -> Callable[[str], None]:
    """``warn`` that also appends each message to ``notes`` (for meta.json)."""

    def warn_and_note(message: str) -> None:
        notes.append(message)
        warn(message)

    return warn_and_note
