"""Stop requests from signals: set a flag instead of killing, a second Ctrl-C interrupts, handlers come back."""

from __future__ import annotations

import os
import signal

import pytest

from render.media.stop import RenderStopped, StopSignals


def test_sigterm_sets_the_request_instead_of_ending_the_process():
    with StopSignals() as stop:
        assert not stop.requested
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop.requested and stop.signal_name == "SIGTERM"
        stopped = stop.stopped(frames_kept=7)
    assert isinstance(stopped, RenderStopped) and stopped.frames_kept == 7 and stopped.signal_name == "SIGTERM"


def test_second_ctrl_c_interrupts_at_once():
    with StopSignals() as stop:
        os.kill(os.getpid(), signal.SIGINT)
        assert stop.requested
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)


@pytest.fixture()
def usr2_calls():
    """SIGUSR2 recorded in a list by a handler of someone else's (as submitit installs), restored afterwards."""
    calls = []
    before = signal.signal(signal.SIGUSR2, lambda number, frame: calls.append(number))
    yield calls
    signal.signal(signal.SIGUSR2, before)


def test_previous_handlers_come_back_and_are_chained(usr2_calls):
    with StopSignals() as stop:
        os.kill(os.getpid(), signal.SIGUSR2)
        assert stop.requested and usr2_calls == []  # the render stops first ...
        stop.chain()
        assert usr2_calls == [signal.SIGUSR2]  # ... then the earlier handler (submitit's requeue) runs
    os.kill(os.getpid(), signal.SIGUSR2)
    assert usr2_calls == [signal.SIGUSR2, signal.SIGUSR2]


def test_sigterm_inside_a_requeuing_job_asks_for_the_requeue(usr2_calls):
    with StopSignals() as stop:
        os.kill(os.getpid(), signal.SIGTERM)
        stop.chain()
    assert usr2_calls == [signal.SIGUSR2]
