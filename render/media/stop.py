"""Stopping a render cleanly on a signal: finish the frame, write a resume point, exit.

Slurm sends SIGTERM (or the ``--signal`` of the job, SIGUSR2 with submitit) a while before it
kills a pre-empted or timed-out job; Ctrl-C is SIGINT. While a frame loop runs
(``StopSignals.between_frames``), the first of these becomes a request the loop checks between
frames, so the frame being dreamed is finished and saved with its state instead of being lost
mid-step; the render says at once what happens next and about how long it takes. A second
signal interrupts at once (``KeyboardInterrupt``): the last resume point is kept, the frames
after it are redone on resume. Outside a frame loop (loading, the estimate, a still, a
visualisation) there is no frame to finish, so the first signal interrupts at once.

A handler that was installed before (submitit's checkpoint-and-requeue) is called once the
render has stopped cleanly, so a requeued job continues from the resume point just written.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

HANDLED = ("SIGTERM", "SIGINT", "SIGUSR2")


class RenderStopped(Exception):
    """A render stopped on request after writing a resume point; ``signal_name`` says what asked.

    ``recorded``: an endless render's video of the frames kept (``live.record``), else None.
    """

    def __init__(self, signal_name: str, frames_kept: int, recorded: Path | None = None):
        super().__init__(f"stopped by {signal_name} with {frames_kept} frames kept")
        self.signal_name, self.frames_kept, self.recorded = signal_name, frames_kept, recorded


class StopSignals:
    """Context manager: while inside, SIGTERM/SIGINT/SIGUSR2 stop the render cleanly instead of killing the process.

    Inside ``between_frames`` the first signal sets ``event`` (the loop stops after its frame) and a second one
    raises ``KeyboardInterrupt``; elsewhere every signal raises ``KeyboardInterrupt`` at once. Outside the main
    thread (where handlers can't be installed) it does nothing and ``event`` is never set.
    """

    def __init__(self) -> None:
        self.event = threading.Event()
        self.received: int | None = None
        self._previous: dict[int, Callable | int | None] = {}
        self._loop: FrameLoop | None = None
        self._settled = False

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is not threading.main_thread():
            return self
        for name in HANDLED:
            number = getattr(signal, name, None)
            if number is not None:
                self._previous[number] = signal.signal(number, self._on_signal)
        return self

    def __exit__(self, *exc) -> bool:
        for number, handler in self._previous.items():
            signal.signal(number, handler if handler is not None else signal.SIG_DFL)
        return False

    @contextmanager
    def between_frames(self, loop: FrameLoop) -> Iterator[None]:
        """While inside, the first signal asks ``loop`` to stop after its frame and says so through ``loop.say``."""
        self._loop = loop
        try:
            yield
        finally:
            self._loop = None

    @property
    def requested(self) -> bool:
        return self.event.is_set()

    def stopped(self, frames_kept: int, recorded: Path | None = None) -> RenderStopped:
        """The exception a frame loop raises once its resume point (and an endless render's recording) is written."""
        return RenderStopped(self.signal_name, frames_kept, recorded)

    @property
    def signal_name(self) -> str:
        return signal.Signals(self.received).name if self.received is not None else "a stop request"

    def settle(self) -> None:
        """The render has ended and is saying so: later signals change nothing (no traceback mid-message)."""
        self._settled = True

    def _on_signal(self, number: int, frame) -> None:
        if self._settled:
            return
        if self.event.is_set() or self._loop is None:
            self.received = self.received or number
            raise KeyboardInterrupt  # a second signal, or nothing to finish: stop now
        self.received = number
        self.event.set()
        self._loop.say(first_stop_message(self._loop.seconds_left(), self._loop.frames_kept()))

    def chain(self) -> None:
        """Hand over to the handler installed before (submitit's checkpoint-and-requeue), if there was one.

        submitit ignores SIGTERM and requeues on SIGUSR2; a render stopped by SIGTERM inside such a job
        asks for the requeue too, so the job continues from the resume point just written.
        """
        number = self.received
        requeue = self._previous.get(getattr(signal, "SIGUSR2", None))
        if number == signal.SIGTERM and _is_python_handler(requeue):
            number = signal.SIGUSR2
        previous = self._previous.get(number)
        if _is_python_handler(previous):
            previous(number, None)


@dataclass(frozen=True)
class FrameLoop:
    """What a frame loop tells the stop signals: how to say something, and what stopping would cost and keep.

    Attributes:
        say: prints a line at once (called from the signal handler, on the main thread).
        seconds_left: the frame in progress's remaining seconds and its resume point's, as measured; None: unknown.
        frames_kept: frames the last resume point keeps.
    """

    say: Callable[[str], None]
    seconds_left: Callable[[], float | None]
    frames_kept: Callable[[], int]


def first_stop_message(seconds: float | None, frames_kept: int) -> str:
    """What the first stop signal does next, and what a second one would keep."""
    about = f", about {max(1, round(seconds))} s" if seconds is not None else ""
    kept = f"{frames_kept} frames" if frames_kept else "no frame yet: nothing is kept"
    return (f"Stopping after the frame in progress{about}; press Ctrl-C again to stop now with the last resume "
            f"point ({kept}).")


def _is_python_handler(handler) -> bool:
    return callable(handler) and handler is not signal.default_int_handler
