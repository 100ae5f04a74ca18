"""Stopping a render cleanly on a signal: finish the frame, write a resume point, exit.

Slurm sends SIGTERM (or the ``--signal`` of the job, SIGUSR2 with submitit) a while before it
kills a pre-empted or timed-out job; Ctrl-C is SIGINT. ``StopSignals`` turns these into a
request the frame loop checks between frames, so the frame being dreamed is finished and
saved with its state, instead of being lost mid-step. A second Ctrl-C interrupts at once
(frames after the last resume point are then redone on resume).

A handler that was installed before (submitit's checkpoint-and-requeue) is called once the
render has stopped cleanly, so a requeued job continues from the resume point just written.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
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
    """Context manager: while inside, SIGTERM/SIGINT/SIGUSR2 set ``event`` instead of killing the process.

    Outside the main thread (where handlers can't be installed) it does nothing and ``event`` is never set.
    """

    def __init__(self) -> None:
        self.event = threading.Event()
        self.received: int | None = None
        self._previous: dict[int, Callable | int | None] = {}

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

    @property
    def requested(self) -> bool:
        return self.event.is_set()

    def stopped(self, frames_kept: int, recorded: Path | None = None) -> RenderStopped:
        """The exception a frame loop raises once its resume point (and an endless render's recording) is written."""
        return RenderStopped(self.signal_name, frames_kept, recorded)

    @property
    def signal_name(self) -> str:
        return signal.Signals(self.received).name if self.received is not None else "a stop request"

    def _on_signal(self, number: int, frame) -> None:
        if self.event.is_set() and number == signal.SIGINT:
            raise KeyboardInterrupt  # a second Ctrl-C: stop now, without waiting for the frame
        self.received = number
        self.event.set()

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


def _is_python_handler(handler) -> bool:
    return callable(handler) and handler is not signal.default_int_handler
