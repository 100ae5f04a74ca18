"""Stop requests from signals: between frames a flag and a message, a second signal interrupts, handlers come back."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import imageio_ffmpeg
import pytest

from render.media.stop import FrameLoop, RenderStopped, StopSignals, first_stop_message

ROOT = Path(__file__).resolve().parents[3]


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


def wait_for_line(process, text: str, seconds: float = 240) -> tuple[list[str], float]:
    """Lines of ``process``'s stderr up to the first one holding ``text``, and when that one came."""
    lines, deadline = [], time.time() + seconds
    for line in process.stderr:
        lines.append(line)
        if text in line:
            return lines, time.perf_counter()
        assert time.time() < deadline, "".join(lines)
    raise AssertionError("".join(lines))


@pytest.mark.slow
def test_a_real_render_says_what_a_first_ctrl_c_does_and_stops_at_a_second_keeping_its_resume_point(tmp_path):
    """Ctrl-C twice in a render through the CLI; then ``resume=`` finishes it with every frame.

    Frames of 192x108 with 4 steps take about half a second each on a quiet machine, so the first Ctrl-C lands
    mid-frame. The second Ctrl-C should end the process within 2 s; 10 s is asserted, a margin for a loaded machine.
    """
    run_dir = tmp_path / "run"
    args = [sys.executable, "-m", "render", "--config-name", "smoke", "frames=12", "width=192", "height=108",
            "dream.iterations=4", "output.checkpoint_every=2", f"hydra.run.dir={run_dir}"]
    process = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "COLUMNS": "300"})
    wait_for_line(process, "Speed:")
    manifest = run_dir / "chunks" / "manifest.json"
    while not (manifest.is_file() and json.loads(manifest.read_text())["frames_done"] >= 2):
        time.sleep(0.1)
    process.send_signal(signal.SIGINT)
    lines, _ = wait_for_line(process, "Stopping after the frame in progress")
    assert "press Ctrl-C again to stop now with the last resume point" in lines[-1]
    process.send_signal(signal.SIGINT)
    sent = time.perf_counter()
    rest = process.stderr.read()
    process.wait(timeout=60)
    assert time.perf_counter() - sent < 10 and process.returncode == 130, rest
    assert "Stopped now" in rest and "resume=" in rest and "Traceback" not in rest
    kept = json.loads(manifest.read_text())["frames_done"]
    assert kept >= 2 and not list((run_dir / "chunks").glob("*.partial"))
    resumed = subprocess.run([sys.executable, "-m", "render", f"resume={run_dir}",
                              f"hydra.run.dir={tmp_path / 'unused'}"], cwd=ROOT, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert imageio_ffmpeg.count_frames_and_secs(str(run_dir / "smoke.mp4"))[0] == 12
