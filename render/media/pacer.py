"""A live stream's clock: frames go out at exactly the stream's rate, whatever the render's speed.

The render puts frames into a small queue; a thread takes one every ``1 / fps`` seconds
and hands it to the stream. A render faster than real time waits on the full queue (so
memory stays flat and segments aren't made faster than viewers watch them); a render
that falls behind never stalls the stream: the last frame is sent again, and counted.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from typing import Any

STOP = object()
RESYNC_FRAMES = 4  # behind by more than this many ticks (the process was paused): restart the clock, don't burst


class Pacer:
    """Calls ``emit(frame)`` ``fps`` times a second from a thread, from frames given to ``put``.

    Attributes:
        emitted: frames handed to ``emit`` (repeats included).
        repeated: ticks at which no new frame was ready and the last one was sent again.
    """

    def __init__(self, emit: Callable[[Any], None], fps: float, buffer_frames: int,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep):
        self._emit, self._period, self._clock, self._sleep = emit, 1.0 / fps, clock, sleep
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, buffer_frames))
        self._error: BaseException | None = None
        self.emitted = self.repeated = 0
        self._thread = threading.Thread(target=self._run, name="Pacer", daemon=True)

    def __enter__(self) -> Pacer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> bool:
        self.close()
        return False

    def put(self, frame: Any) -> None:
        """Queue one frame; waits while the queue is full (the render is ahead of the clock)."""
        while True:
            self._raise_pending()
            try:
                self._queue.put(frame, timeout=0.5)
                return
            except queue.Full:
                continue

    def close(self) -> None:
        """Send the frames still queued at the stream's rate, then stop."""
        if self._thread.is_alive():
            self.put(STOP)
            self._thread.join()
        self._raise_pending()

    def _raise_pending(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def _run(self) -> None:
        try:
            self._pace()
        except BaseException as err:  # handed to the render's thread at its next put
            self._error = err
            while True:  # keep draining so put() never blocks on a pacer that has given up
                if self._queue.get() is STOP:
                    return

    def _pace(self) -> None:
        last = self._queue.get()  # the clock starts with the first frame
        if last is STOP:
            return
        due = self._clock()
        while True:
            self._emit(last)
            self.emitted += 1
            due += self._period
            if self._clock() - due > RESYNC_FRAMES * self._period:
                due = self._clock()
            try:
                frame = self._queue.get(timeout=max(0.0, due - self._clock()))
            except queue.Empty:
                self.repeated += 1
                continue
            if frame is STOP:
                return
            self._sleep(max(0.0, due - self._clock()))
            last = frame
