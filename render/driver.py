"""One frame loop for every animated mode: the mode says what its next frames are, the driver does the rest.

The driver owns what every animation shares: the outputs (the mp4 file today; any
object with ``write``/``mark``/``finish`` beside it later), resume points every
``output.checkpoint_every`` written frames, the progress bar and speed, stop signals,
per-frame post-operations applied to every shown frame, and the speed facts of the
final record. A mode (``FrameMode``) keeps its own state and knows nothing of these.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import torch
from rich.console import Console

from render.config import OutputConfig, RenderConfig
from render.live.output import open_live
from render.live.stream import PLAYLIST
from render.media.audio import AudioTrack
from render.media.checkpoints import Checkpoints
from render.media.progress import Pace, frame_progress
from render.media.resume_only import ResumeOnlySink
from render.media.run_folder import read_meta, write_meta
from render.media.sink import VideoSink
from render.media.stop import FrameLoop, StopSignals
from render.timeline import Timeline

PostOp = Callable[[int, torch.Tensor], torch.Tensor]  # (shown frame index, (1, 3, H, W)) -> (1, 3, H, W)


class FrameOutput(Protocol):
    """Where shown frames go besides the video file (a stream, a screen): a context manager that takes frames."""

    def __enter__(self) -> FrameOutput: ...

    def __exit__(self, *exc) -> bool | None: ...

    def write(self, frame: torch.Tensor) -> None:
        """Take one (1, 3, H, W) float frame in [0, 1]."""


class Sink(Protocol):
    """The file side of a render's frames (``VideoSink``: the mp4; ``ResumeOnlySink``: only resume points).

    Attributes:
        run_dir: the run folder its resume points are in.
        notes: what it changed about the video and why, for meta.json.
        frames_written / frames_since_mark / mark_due: its frame counts (``render.media.checkpoints.MarkCounts``).
    """

    run_dir: Path
    notes: list[str]
    frames_written: int
    frames_since_mark: int
    mark_due: bool

    def __enter__(self) -> Sink: ...

    def __exit__(self, *exc) -> bool | None: ...

    def write(self, frame: torch.Tensor) -> None:
        """Take one (1, 3, H, W) float frame in [0, 1]."""

    def mark(self, save_state: Callable[[int], str | None]) -> None:
        """A resume point after the frames written so far; ``save_state(frames_done)`` saves the mode's state."""

    def finish(self, audio_from: Path | None = None, fit_audio: bool = False) -> Path:
        """The finished media (with ``audio_from``'s sound, fitted to the video when ``fit_audio``)."""

    def record_so_far(self, audio_from: Path | None = None) -> Path | None:
        """An endless render's recording up to its last resume point, if it keeps one."""


@dataclass
class Step:
    """What one step of a mode made.

    Attributes:
        frames: the (1, 3, H, W) frames to show, in order (none while a loop's head is kept aside).
        checkpoint: the mode asks for a resume point after these frames (e.g. where a join starts copying).
    """

    frames: list[torch.Tensor] = field(default_factory=list)
    checkpoint: bool = False


class FrameMode(Protocol):
    """What an animated mode says; everything else is the driver's.

    Attributes:
        steps_done / steps_total: dream steps made and to make (progress and speed); total None = endless.
        done: no frame is left to make (set by ``step`` when a source runs out early too).
        notes: what the mode changed and why, for meta.json.
    """

    steps_done: int
    steps_total: int | None
    notes: list[str]

    @property
    def done(self) -> bool: ...

    def restore(self, snapshot: dict[str, torch.Tensor] | None, frames_done: int) -> None:
        """Continue from a resume point's snapshot (``frames_done`` frames shown), or start afresh (None)."""

    def step(self) -> Step:
        """Make the next frames."""

    def snapshot(self) -> dict[str, torch.Tensor]:
        """Everything the next frame depends on, copied now (tensors on the CPU)."""

    def finish(self) -> tuple[Path | None, bool]:
        """Release sources; returns (the audio to mux or None, whether it is a soundtrack fitted to the video)."""

    def facts(self) -> dict:
        """The mode's own facts for meta.json, once the video is finished."""


Report = Callable[[str, dict], None]  # a mode's news: (a line for the log and live viewers, facts for meta.json)


@dataclass
class Outputs:
    """Where a render's frames go: the file side (the mp4, or only resume points) and the outputs beside it.

    Attributes:
        sink: the video file (``VideoSink``), or ``ResumeOnlySink`` for a live render without a record.
        extra: outputs beside the file (the live stream).
        report: where a mode's news goes (the log; the live page and meta.json when live).
    """

    sink: Sink
    extra: tuple[FrameOutput, ...] = ()
    report: Report | None = None


def open_video(output: OutputConfig, run_dir: Path, fps, width: int, height: int, resume: bool) -> VideoSink:
    """The render's mp4 file output, with checkpoints every ``output.checkpoint_every`` frames."""
    return VideoSink(
        run_dir, output.name, fps, width, height,
        crf=output.crf, preset=output.preset, chunk_frames=output.checkpoint_every,
        preview_every_s=output.preview_every_s, png_frames=output.png_frames, resume=resume,
    )


def open_outputs(cfg: RenderConfig, run_dir: Path, resume: bool, console: Console, fps=None, width: int | None = None,
                 height: int | None = None, audio: AudioTrack | None = None,
                 timeline: Timeline | None = None) -> Outputs:
    """A render's outputs: its mp4; with ``live.enabled`` also the live stream, and the mp4 only with ``live.record``.

    ``fps``, ``width`` and ``height`` default to the config's (a video dream passes its source's); ``audio`` is
    the soundtrack as the plan decoded it (a resumed stream picks it up where it was); ``timeline`` (the plan's)
    is what the live control steers.
    """
    fps, width, height = fps or cfg.fps, width or cfg.width, height or cfg.height

    def log(line: str) -> None:
        console.print(line, highlight=False)

    if not cfg.live.enabled:
        video = open_video(cfg.output, run_dir, fps, width, height, resume)
        return Outputs(video, report=lambda line, facts: log(line))
    frames_done = Checkpoints(run_dir).resume_point()[0] if resume else 0
    track_seconds = audio.duration if audio is not None and frames_done else None
    live = open_live(cfg, run_dir, (fps, width, height), frames_done, track_seconds, log, timeline)
    if cfg.live.record:
        sink = open_video(cfg.output, run_dir, fps, width, height, resume)
    else:
        playlist = live.settings.folder / PLAYLIST
        sink = ResumeOnlySink(run_dir, playlist, cfg.output.checkpoint_every, resume,
                              {"width": width, "height": height, "fps": float(fps)})

    def report(line: str, facts: dict) -> None:
        log(line)
        live.say(line)
        write_meta(run_dir, {**read_meta(run_dir), **facts})  # an endless render's meta.json says it while it runs

    return Outputs(sink, (live,), report)


def drive(mode: FrameMode, sink: Sink, console: Console, resume: bool = False,
          stop: StopSignals | None = None, post_ops: tuple[PostOp, ...] = (),
          outputs: tuple[FrameOutput, ...] = ()) -> dict:
    """Run ``mode`` to its end into ``sink`` (and ``outputs``); returns the facts for meta.json.

    Every shown frame passes through ``post_ops`` in order, then goes to the sink and each output.
    A resume point is written once ``sink.mark_due``, when the mode asks, and at once on a stop
    request (then ``RenderStopped`` is raised); never after the last frame, which finishing keeps.
    A stop is an endless render's end: its recording so far (if it keeps one) is written then.
    The progress line's time left follows the measured pace (``Pace``); when that parts from the
    estimate by more than 1.5x either way, the render says so once.
    """
    checkpoints = Checkpoints(sink.run_dir)
    frames_done, snapshot = checkpoints.resume_state() if resume else (0, None)
    mode.restore(snapshot, frames_done)
    first, started = mode.steps_done, time.perf_counter()
    pace = Pace(planned_seconds(mode), mode.steps_total)
    pace.step(first, started)
    with sink, ExitStack() as opened, frame_progress(console) as progress:
        writers = [sink.write] + [opened.enter_context(output).write for output in outputs]
        task = progress.add_task("dreaming", total=mode.steps_total, completed=first, rate="-", left=pace.left_text())
        if stop is not None:
            opened.enter_context(stop.between_frames(stop_loop(console, pace, sink)))
        while not mode.done:
            step = mode.step()
            for frame in step.frames:
                show(frame, sink.frames_written, post_ops, writers)
            resume_point_or_stop(mode, step, sink, checkpoints, stop)
            now = time.perf_counter()
            pace.step(mode.steps_done, now)
            if (news := pace.departure()) is not None:
                console.print(news, highlight=False)
            rate = (mode.steps_done - first) / (now - started)
            progress.update(task, completed=mode.steps_done, rate=f"{rate:.2f}", left=pace.left_text())
        audio, fit = mode.finish()
        video = sink.finish(audio_from=audio, fit_audio=fit)
    seconds = time.perf_counter() - started
    made = mode.steps_done - first
    return {
        "media": str(video.relative_to(sink.run_dir)),
        **mode.facts(),
        "frames_rendered_now": made,
        "loop_seconds": round(seconds, 3),
        "frames_per_second": round(made / seconds, 4) if seconds > 0 else None,
        "notes": sink.notes + mode.notes,
    }


def planned_seconds(mode: FrameMode) -> list[float] | None:
    """The estimate's seconds of each frame, when the render announced one (``Engine.estimate``)."""
    estimate = getattr(getattr(mode, "engine", None), "estimate", None)
    return None if estimate is None else estimate.frame_seconds


def stop_loop(console: Console, pace: Pace, sink: Sink) -> FrameLoop:
    """What the first stop signal says: the frame in progress's measured time left and the frames kept."""
    return FrameLoop(say=lambda line: console.print(f"[bold yellow]{line}[/bold yellow]", highlight=False),
                     seconds_left=lambda: pace.seconds_left_in_step(time.perf_counter()),
                     frames_kept=lambda: sink.frames_written - sink.frames_since_mark)


def show(frame: torch.Tensor, index: int, post_ops: tuple[PostOp, ...], writers: list) -> None:
    """Shown frame ``index`` ((1, 3, H, W)) through the post-operations into every output."""
    for post in post_ops:
        frame = post(index, frame)
    for write in writers:
        write(frame)


def resume_point_or_stop(mode: FrameMode, step: Step, sink: Sink, checkpoints: Checkpoints,
                         stop: StopSignals | None) -> None:
    """Mark a resume point when one is due or asked for, or at once on a stop request (then stop)."""
    if mode.done:
        return  # the last frame is made: finishing is quicker than a resume point
    stopping = stop is not None and stop.requested
    if sink.mark_due or ((stopping or step.checkpoint) and sink.frames_since_mark):
        sink.mark(checkpoints.saver(mode.snapshot()))
    if stopping:
        recorded = sink.record_so_far(mode.finish()[0]) if mode.steps_total is None else None
        raise stop.stopped(sink.frames_written, recorded)
