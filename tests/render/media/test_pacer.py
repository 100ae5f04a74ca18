"""Pacer: frames leave at the stream's rate; a slow render gets repeats, never a stall; a fast one waits."""

from __future__ import annotations

import threading
import time

import pytest

from render.media.pacer import Pacer


class Recorder:
    """``emit`` that records each frame with the time it left."""

    def __init__(self):
        self.frames: list = []
        self.times: list[float] = []

    def __call__(self, frame) -> None:
        self.frames.append(frame)
        self.times.append(time.monotonic())


def test_frames_leave_in_order_at_the_rate():
    out = Recorder()
    with Pacer(out, fps=50, buffer_frames=4) as pacer:
        for index in range(20):
            pacer.put(index)
    assert out.frames == list(range(20)) and pacer.repeated == 0
    gaps = [b - a for a, b in zip(out.times, out.times[1:])]
    assert sum(gaps) / len(gaps) == pytest.approx(0.02, rel=0.3)


def test_a_fast_render_waits_on_the_full_queue():
    out = Recorder()
    started = time.monotonic()
    with Pacer(out, fps=40, buffer_frames=2) as pacer:
        for index in range(12):
            pacer.put(index)
        put_done = time.monotonic() - started
    assert put_done >= 8 / 40  # it could not run more than the buffer ahead of the clock


def test_a_slow_render_gets_repeats_not_a_stall():
    out = Recorder()
    with Pacer(out, fps=50, buffer_frames=2) as pacer:
        pacer.put("a")
        time.sleep(0.4)  # the render is 20 frames late
        pacer.put("b")
    assert out.frames[0] == "a" and out.frames[-1] == "b"
    assert pacer.repeated >= 10 and out.frames.count("a") == 1 + pacer.repeated
    assert max(b - a for a, b in zip(out.times, out.times[1:])) < 0.2  # the stream kept going


def test_nothing_leaves_before_the_first_frame():
    out = Recorder()
    with Pacer(out, fps=100, buffer_frames=2):
        time.sleep(0.05)
    assert out.frames == []


def test_an_emit_error_reaches_the_render():
    def broken(frame):
        raise OSError("ffmpeg went away")

    pacer = Pacer(broken, fps=100, buffer_frames=1).__enter__()
    with pytest.raises(OSError, match="ffmpeg went away"):
        for index in range(50):
            pacer.put(index)
            time.sleep(0.01)
    pacer.close()
    assert not any(t.name == "Pacer" and t.is_alive() for t in threading.enumerate())
