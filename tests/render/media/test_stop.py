"""Stop requests from signals: between frames a flag and a message, a second signal interrupts, handlers come back."""

from __future__ import annotations

import os
import signal

import pytest

from render.media.stop import FrameLoop, RenderStopped, StopSignals, first_stop_message


def frame_loop(said: list[str], seconds: float | None = 12.4, kept: int = 48) -> FrameLoop:
    return FrameLoop(say=said.append, seconds_left=lambda: seconds, frames_kept=lambda: kept)


def test_sigterm_between_frames_sets_the_request_and_says_what_happens_next():
    said = []
    with StopSignals() as stop, stop.between_frames(frame_loop(said)):
        assert not stop.requested
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop.requested and stop.signal_name == "SIGTERM"
        stopped = stop.stopped(frames_kept=7)
    assert isinstance(stopped, RenderStopped) and stopped.frames_kept == 7 and stopped.signal_name == "SIGTERM"
    assert said == ["Stopping after the frame in progress, about 12 s; press Ctrl-C again to stop now with the last "
                    "resume point (48 frames)."]


@pytest.mark.parametrize("second", [signal.SIGINT, signal.SIGTERM])
def test_a_second_signal_interrupts_at_once(second):
    with StopSignals() as stop, stop.between_frames(frame_loop([])):
        os.kill(os.getpid(), signal.SIGINT)
        assert stop.requested
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), second)
        assert stop.signal_name == "SIGINT"


def test_outside_a_frame_loop_the_first_signal_interrupts_at_once():
    with StopSignals() as stop:
        with pytest.raises(KeyboardInterrupt):  # loading, the estimate, a still: no frame to finish first
            os.kill(os.getpid(), signal.SIGTERM)
        assert stop.signal_name == "SIGTERM"


def test_a_settled_render_ignores_later_signals():
    with StopSignals() as stop:
        stop.settle()
        os.kill(os.getpid(), signal.SIGINT)
    assert not stop.requested


def test_the_message_says_when_the_time_or_a_resume_point_is_unknown():
    assert first_stop_message(None, 0) == ("Stopping after the frame in progress; press Ctrl-C again to stop now "
                                           "with the last resume point (no frame yet: nothing is kept).")
    assert "about 1 s" in first_stop_message(0.2, 3)


@pytest.fixture()
def usr2_calls():
    """SIGUSR2 recorded in a list by a handler of someone else's (as submitit installs), restored afterwards."""
    calls = []
    before = signal.signal(signal.SIGUSR2, lambda number, frame: calls.append(number))
    yield calls
    signal.signal(signal.SIGUSR2, before)


def test_previous_handlers_come_back_and_are_chained(usr2_calls):
    with StopSignals() as stop, stop.between_frames(frame_loop([])):
        os.kill(os.getpid(), signal.SIGUSR2)
        assert stop.requested and usr2_calls == []  # the render stops first ...
        stop.chain()
        assert usr2_calls == [signal.SIGUSR2]  # ... then the earlier handler (submitit's requeue) runs
    os.kill(os.getpid(), signal.SIGUSR2)
    assert usr2_calls == [signal.SIGUSR2, signal.SIGUSR2]


def test_sigterm_inside_a_requeuing_job_asks_for_the_requeue(usr2_calls):
    with StopSignals() as stop, stop.between_frames(frame_loop([])):
        os.kill(os.getpid(), signal.SIGTERM)
        stop.chain()
    assert usr2_calls == [signal.SIGUSR2]
