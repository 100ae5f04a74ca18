"""Dreaming over an existing video, so that the dream moves with the picture instead of flickering.

The previous frame's dream *detail* (dreamed minus source) is carried along the
source's optical flow and weighted per pixel by ``w = video.blend * mask``, the mask
being the flow's reliability (zero where something was occluded or came into view,
moved too far, or the scene cut). With ``video.long_term`` the details of frames further
back are carried too, each along its own flow, and every pixel takes the mean of those that
see it (long-term consistency, after Ruder et al. 2016): the mean holds the dream where it
would drift over many frames, and restores it where an occluder moved away; a pixel no
carried frame sees is dreamed afresh (``w = 0``). The frame is dreamed from ``source + w * carried``,
and its detail becomes ``w * carried + (1 - w) * (dreamed - source)``: a running
average of the dream along the motion. Only ``1 - w`` of each frame's fresh dream is
new, so the jitter-driven change from frame to frame shrinks, while the dream keeps
about the strength of a frame dreamed on its own. (Carrying the detail only into the
start of the dream flickers almost as much as independent frames, because each frame's
fresh dream is as large as an independent one; carrying the dreamed frame instead of
the detail drags ghosts of the previous picture wherever the flow is wrong.)

The frame written is ``source + strength * detail``: ``video.strength`` (a schedule,
like ``video.blend``) fades the dream in and out without changing what is carried
from frame to frame. ``blend = 0`` dreams every frame on its own.

Frames are streamed from the source (never all in memory); the output keeps the
source's frame count (or the first ``frames``), exact frame rate, duration and audio,
and its size unless ``width``/``height`` are given. Where ``blend`` is 0, up to
``video.batch`` frames with the same dream settings are dreamed as one batch (a batch
shares its jitter, so its frames differ slightly from one-at-a-time dreaming).

With ``mask.source`` the dream is restricted to the mask, the detail is kept (and
carried) only inside it, and the frame written is the source frame itself wherever
the mask is 0.

The state that makes frame ``i`` (previous source, detail and output frames, the older
frames' sources and details, generator, stability sums, a carried mask) is saved at every resume point, so a
resumed render produces the frames of one that never stopped.

With ``live.input`` (and ``live.enabled``) the frames come from a live source as it plays
(``LiveVideoDreamMode``, render/live/input.py) and go to the live stream, endless until stopped.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING

import torch
from rich.console import Console

from dream.errors import UserError
from render.config import RenderConfig, VideoConfig
from render.driver import Report, Step, drive, open_outputs
from render.engine import Engine
from render.estimate import Estimate, estimate_frames, timed
from render.live.input import LiveInput
from render.live.replay import LIVE_FOLDER
from render.live.source_recording import RecordedInput, SourceRecording, forget_recording
from render.media.images import smooth_noise
from render.media.progress import warner
from render.media.seam_frames import save_seam_frame
from render.media.stop import StopSignals
from render.media.video_source import VideoInfo, frame_size, iter_video_frames
from render.ops.auto_cadence import CadenceChoice
from render.ops.flow import FlowSettings, FrameMotion, flow_settings, frame_motion, warp_by_flow
from render.ops.mask import FrameMask, FrameMasks, keep, render_masks
from render.ops.stability import StabilityMeter
from render.segments.plan import SegmentSpan, frame_seed, segment_span
from render.timeline import Timeline, Track

if TYPE_CHECKING:
    from render.plan import RenderPlan


@dataclass(frozen=True)
class VideoSchedules:
    """The per-frame values of the ``video`` config section."""

    blend: Track
    strength: Track


@dataclass
class VideoState:
    """Everything the next frame depends on; the frames are (1, 3, H, W) float, None before frame 0."""

    generator: torch.Generator
    next_index: int = 0
    source: torch.Tensor | None = None  # the previous source frame
    detail: torch.Tensor | None = None  # the previous frame's dreamed minus source
    output: torch.Tensor | None = None  # the previous frame written
    output_meter: StabilityMeter = field(default_factory=StabilityMeter)
    source_meter: StabilityMeter = field(default_factory=StabilityMeter)
    scene_cuts: list[int] = field(default_factory=list)  # frames where the previous dream was dropped
    masks: FrameMasks | None = None
    # (source, detail) of the frames before the previous one, newest first, for video.long_term
    older: list[tuple[torch.Tensor, torch.Tensor]] = field(default_factory=list)


def video_frame_count(asked: int | None, info: VideoInfo) -> int:
    """Frames dreamed: the source's (``info``, as probed), at most ``asked`` (``frames``; None: all of them)."""
    return min(info.frames, asked or info.frames)


def output_size(cfg: RenderConfig, info: VideoInfo) -> tuple[int, int]:
    """(width, height) of the output: the source's, or ``width``/``height``; one alone keeps the aspect."""
    width, height = cfg.width, cfg.height
    if width is None and height is None:
        return info.width, info.height
    if width is None:
        width = max(2, round(info.width * height / info.height))
    if height is None:
        height = max(2, round(info.height * width / info.width))
    return width, height


def video_schedules(timeline: Timeline) -> VideoSchedules:
    """``video.blend`` and ``video.strength`` as the render's timeline has them (parsed and checked there)."""
    return VideoSchedules(timeline.track("video.blend"), timeline.track("video.strength"))


def long_term_of(video_cfg: VideoConfig) -> tuple[int, ...]:
    """``video.long_term`` (checked by ``render.config.validate``) in rising order."""
    return tuple(sorted(int(distance) for distance in video_cfg.long_term))


def carried_detail(carriers: list[tuple[torch.Tensor, FrameMotion]],
                   blend: float) -> tuple[torch.Tensor | float, torch.Tensor | float]:
    """The earlier frames' detail laid over the current frame, and its per-pixel weight.

    Each pixel takes the mean of the carried details that see it (their flow is reliable there): the
    previous frame's, and with ``video.long_term`` those of frames further back, which pull the dream
    back where it drifted and bring it back where something moved away. A pixel none of them sees
    (newly revealed) gets weight 0: it is dreamed afresh from the plain source, not filled with a
    smeared warp of what covered it.

    Args:
        carriers: (detail (1, 3, H, W), motion from that frame to the current one), newest first.
        blend: the frame's ``video.blend``.

    Returns:
        (weight (1, 1, H, W) = blend * (1 where any carrier sees the pixel), carried detail (1, 3, H, W));
        (0.0, 0.0) when nothing is carried, which leaves every formula it enters as for an independent frame.
    """
    if blend == 0.0 or not carriers:
        return 0.0, 0.0
    masks = torch.cat([motion.mask for _, motion in carriers])  # (N, 1, H, W)
    warped = torch.cat([warp_by_flow(detail, motion.flow, "bicubic") for detail, motion in carriers])
    seen = masks.sum(0, keepdim=True)
    return blend * masks.amax(0, keepdim=True), (warped * masks).sum(0, keepdim=True) / seen.clamp(min=1.0)


def carriers_of(state: VideoState, source: torch.Tensor, motion: FrameMotion | None, flow: FlowSettings,
                long_term: tuple[int, ...]) -> list[tuple[torch.Tensor, FrameMotion]]:
    """The earlier frames whose detail is carried onto ``source`` (1, 3, H, W): the previous one (``motion``
    from it), and the frames ``long_term`` back that the state still holds, each with its own flow to now
    (estimated directly, not chained: it sees what the frames between covered)."""
    if state.detail is None or motion is None:
        return []
    carriers = [(state.detail, motion)]
    for distance in long_term:
        if distance - 2 < len(state.older) and not motion.scene_cut:
            older_source, older_detail = state.older[distance - 2]
            carriers.append((older_detail, frame_motion(older_source, source, flow)))
    return carriers


def remember(state: VideoState, source: torch.Tensor, detail: torch.Tensor, output: torch.Tensor,
             motion: FrameMotion | None, keep: int) -> None:
    """Move the state past a frame (all (1, 3, H, W)): the previous frame joins the ``keep`` older frames
    held for ``video.long_term`` (none are kept across a scene cut)."""
    if motion is not None and motion.scene_cut:
        state.older = []
    elif state.source is not None and keep > 0:
        state.older = [(state.source, state.detail), *state.older][:keep]
    state.source, state.detail, state.output = source, detail, output


def batch_length(state: VideoState, engine: Engine, schedules: VideoSchedules, limit: int, total: int) -> int:
    """How many frames from ``state.next_index`` on can be dreamed as one batch (at least 1).

    Frames join a batch only where blend is 0 (no frame depends on the one before) and the
    dream settings and objective weights equal the first frame's (one dream call serves all).
    """
    first = state.next_index

    def settings(i: int) -> tuple:
        return engine.schedules.at(i), engine.plan.weights_at(i)

    length = 1
    while length < limit and first + length < total:
        index = first + length
        if schedules.blend.at(first) or schedules.blend.at(index) or settings(index) != settings(first):
            break
        length += 1
    return length


def advance(state: VideoState, sources: list[torch.Tensor], engine: Engine, schedules: VideoSchedules,
            flow: FlowSettings, long_term: tuple[int, ...] = ()) -> list[torch.Tensor]:
    """Dream the frames ``sources`` (those from ``state.next_index`` on) and move the state past them.

    With more than one source frame, blend is 0 for all of them (see ``batch_length``), so none is carried
    from the frames before. ``long_term``: the ``video.long_term`` distances also carried.

    Returns:
        The (1, 3, H, W) frames to write, in order.
    """
    index, before, motions = state.next_index, state.source, []
    for source in sources:
        motions.append(frame_motion(before, source, flow) if before is not None else None)
        before = source
    blends = [schedules.blend.at(index + k) for k in range(len(sources))]
    carried = [carried_detail(carriers_of(state, source, motion, flow, long_term) if blend else [], blend)
               for source, motion, blend in zip(sources, motions, blends)]
    starts = [(source + weight * previous).clamp(0.0, 1.0) for source, (weight, previous) in zip(sources, carried)]
    masks = [state.masks.next(index + k, source, motion=motion) for k, (source, motion) in
             enumerate(zip(sources, motions))] if state.masks else None
    dreamed = engine.dream(torch.cat(starts), index, state.generator,
                           torch.cat([m.dream for m in masks]) if masks else None).detach()
    outputs = []
    for k, (source, motion, (weight, previous)) in enumerate(zip(sources, motions, carried)):
        detail = weight * previous + (1.0 - weight) * (dreamed[k : k + 1] - source)
        output = (source + schedules.strength.at(index + k) * detail).clamp(0.0, 1.0)
        if masks:
            detail, output = masked_frame(source, detail, output, masks[k])
        measure(state, index + k, source, output, motion)
        remember(state, source, detail, output, motion, max(long_term, default=1) - 1)
        outputs.append(output)
    state.next_index = index + len(sources)
    return outputs


def measure(state: VideoState, index: int, source: torch.Tensor, output: torch.Tensor,
            motion: FrameMotion | None) -> None:
    """Add frame ``index`` ((1, 3, H, W) source and output) to the stability sums; note a scene cut."""
    if motion is None:
        return
    state.output_meter.add(state.output, output, motion)
    state.source_meter.add(state.source, source, motion)
    if motion.scene_cut:
        state.scene_cuts.append(index)


def carry(state: VideoState, source: torch.Tensor, schedules: VideoSchedules, flow: FlowSettings,
          long_term: tuple[int, ...] = ()) -> torch.Tensor:
    """A cadence's in-between: the earlier details carried along the flow onto ``source`` (1, 3, H, W), nothing
    dreamed.

    The detail is kept where a carried frame's flow is reliable and dropped where none is (the source shows
    through there until the next dream). Returns the (1, 3, H, W) frame to write; the state moves past it.
    """
    index = state.next_index
    motion = frame_motion(state.source, source, flow)
    weight, previous = carried_detail(carriers_of(state, source, motion, flow, long_term), 1.0)
    detail = weight * previous
    output = (source + schedules.strength.at(index) * detail).clamp(0.0, 1.0)
    measure(state, index, source, output, motion)
    remember(state, source, detail, output, motion, max(long_term, default=1) - 1)
    state.next_index = index + 1
    return output


def masked_frame(source: torch.Tensor, detail: torch.Tensor, output: torch.Tensor,
                 frame_mask: FrameMask) -> tuple[torch.Tensor, torch.Tensor]:
    """The detail kept inside the mask only (nothing builds up outside it), and the frame written:
    the source itself where the mask's weight is 0. All (1, C, H, W)."""
    return detail * frame_mask.dream, keep(source, output, frame_mask.weight)


def snapshot_of(state: VideoState) -> dict[str, torch.Tensor]:
    """``state`` as tensors on the CPU, copied now."""
    return {
        "source": state.source.cpu().clone(),
        "detail": state.detail.cpu().clone(),
        "output": state.output.cpu().clone(),
        "generator": state.generator.get_state(),
        "next_index": torch.tensor(state.next_index),
        "meters": torch.tensor([state.output_meter.total, state.output_meter.count,
                                state.source_meter.total, state.source_meter.count], dtype=torch.float64),
        "scene_cuts": torch.tensor(state.scene_cuts, dtype=torch.int64),
        **older_snapshot(state.older),
        **(state.masks.snapshot() if state.masks else {}),
    }


def older_snapshot(older: list[tuple[torch.Tensor, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """The older frames' sources and details as (N, 3, H, W) tensors on the CPU; nothing when there are none."""
    if not older:
        return {}
    return {"older_sources": torch.cat([s for s, _ in older]).cpu().clone(),
            "older_details": torch.cat([d for _, d in older]).cpu().clone()}


def older_from(snapshot: dict[str, torch.Tensor], device: torch.device) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """``older_snapshot`` read back: (source, detail) pairs of (1, 3, H, W) on ``device``."""
    if "older_sources" not in snapshot:
        return []
    sources, details = snapshot["older_sources"].to(device), snapshot["older_details"].to(device)
    return [(sources[n : n + 1], details[n : n + 1]) for n in range(len(sources))]


def state_from(snapshot: dict[str, torch.Tensor], device: torch.device, masks: FrameMasks | None = None) -> VideoState:
    """The state saved at a resume point; ``masks`` (the render's, unread) continue from it."""
    generator = torch.Generator()
    generator.set_state(snapshot["generator"])
    sums = snapshot["meters"].tolist()
    if masks is not None:
        masks.restore(snapshot, device)
    return VideoState(
        generator,
        int(snapshot["next_index"]),
        snapshot["source"].to(device),
        snapshot["detail"].to(device),
        snapshot["output"].to(device),
        StabilityMeter(sums[0], sums[1]),
        StabilityMeter(sums[2], sums[3]),
        snapshot["scene_cuts"].tolist(),
        masks,
        older_from(snapshot, device),
    )


def resumed_state(seed: int, snapshot: dict | None, frames_done: int, device: torch.device,
                  span: SegmentSpan, masks: FrameMasks | None = None) -> VideoState:
    """The state of a resume point (``frames_done`` frames in the video), or the segment's start."""
    if snapshot:
        state = state_from(snapshot, device, masks)
    else:
        state = VideoState(torch.Generator().manual_seed(seed), span.start, masks=masks)
    if max(0, state.next_index - span.first) != frames_done:
        raise UserError(
            f"The resume state is for frame {state.next_index}, but the video holds {frames_done} frames from "
            f"frame {span.first} on; the run folder was changed by hand. Start a new render."
        )
    return state


def take(frames: Iterator[torch.Tensor], count: int) -> tuple[list[torch.Tensor], str | None]:
    """Up to ``count`` frames from the stream, and why it ended early (None when it didn't)."""
    taken = []
    try:
        for _ in range(count):
            frame = next(frames, None)
            if frame is None:
                return taken, "it has no more frames"
            taken.append(frame)
    except UserError as exc:  # a decode error past the start: keep what was read
        return taken, str(exc)
    return taken, None


class VideoDreamMode:
    """Dream over the frames of ``cfg.input`` (one segment of them with ``segment.count > 1``).

    A segment dreams its warm-up frames first and shows only its own frames, without audio (the
    join muxes the source's audio once over the whole); the frames of its seams are also kept as
    PNGs in ``run_dir/seam`` for the join's dissolve.
    """

    def __init__(self, plan: RenderPlan, run_dir: Path, engine: Engine, console: Console):
        cfg, info = plan.cfg, plan.source
        self.cfg, self.run_dir, self.engine, self.console, self.info = cfg, run_dir, engine, console, info
        self.timeline = plan.timeline
        self.span = segment_span(cfg.segment, plan.frames)
        self.width, self.height = output_size(cfg, info)
        self.schedules = video_schedules(plan.timeline)
        self.flow, self.long_term = flow_settings(cfg.video), long_term_of(cfg.video)
        self.masks = render_masks(cfg.mask, cfg.motion.border, info.frames, "the source video's frames",
                                  engine.device, plan.timeline)
        self.steps_total = self.span.end - self.span.start
        self.notes: list[str] = []
        self.ended = False
        self.state: VideoState | None = None
        self.sources: Iterator[torch.Tensor] | None = None

    @property
    def steps_done(self) -> int:
        return self.state.next_index - self.span.start

    @property
    def done(self) -> bool:
        return self.ended or self.state.next_index >= self.span.end

    def restore(self, snapshot: dict[str, torch.Tensor] | None, frames_done: int) -> None:
        self.state = resumed_state(self.cfg.seed, snapshot, frames_done, self.engine.device, self.span, self.masks)
        size = None if (self.width, self.height) == (self.info.width, self.info.height) else (self.width, self.height)
        self.sources = iter_video_frames(self.cfg.input, size=size, start=self.state.next_index,
                                         device=self.engine.device)

    def step(self) -> Step:
        """Dream the next batch; warm-up frames are dreamed but not shown, seam frames also kept losslessly."""
        state, span = self.state, self.span
        limit = min(self.cfg.video.batch, frames_to_next_cut(span, state.next_index))
        self.timeline.begin(state.next_index + limit - 1)  # a change made now starts after this batch
        sources, ended_early = take(self.sources, batch_length(state, self.engine, self.schedules, limit, span.end))
        state.generator.manual_seed(frame_seed(self.cfg.seed, state.next_index))  # segments share each frame's jitter
        if ended_early is not None:
            self._end_early(sources, ended_early)
        index = state.next_index
        outputs = advance(state, sources, self.engine, self.schedules, self.flow, self.long_term) if sources else []
        if state.next_index == span.first and span.warmup_frames:
            _forget_warmup(state)
        for frame_index, output in enumerate(outputs, start=index):
            if span.keeps_losslessly(frame_index):
                save_seam_frame(self.run_dir, frame_index, output)
        seam_ends = state.next_index == span.seam_cut > span.first  # the join copies this video from here on
        return Step(outputs[max(0, span.first - index):], checkpoint=seam_ends)

    def snapshot(self) -> dict[str, torch.Tensor]:
        return snapshot_of(self.state)

    def finish(self) -> tuple[Path | None, bool]:
        self.sources.close()  # stops the decoder now, not when the stream is garbage-collected
        return (Path(self.cfg.audio or self.cfg.input) if self.span.count == 1 else None), False

    def facts(self) -> dict:
        return _facts(self.cfg, self.info, self.state, self.width, self.height, self.span)

    def _end_early(self, sources: list, why: str) -> None:
        """Say that the source ran out before the frames it was probed to hold; fail when not one frame was read."""
        frames = self.state.next_index + len(sources)
        if frames == 0:
            raise UserError(f"No frame of the input video {self.cfg.input} could be read ({why}). Re-export it or "
                            f"pass another file.")
        note = (
            f"The source {self.cfg.input} ended after {frames} of the {self.span.end} frames it was probed to hold "
            f"({why}); the video has the {frames} frames that could be read. Re-export the source to dream all of it."
        )
        self.notes.append(note)
        warner(self.console)(note)
        self.ended = True


INPUT_WAIT_S = 1.0  # a step that gets no source frame in this time makes none, so a stop request is heard
SKIPPED_NEWS_S = 30.0  # at most this often the log and page say that source frames are being skipped


class LiveVideoDreamMode:
    """Dream over ``live.input`` as it plays: each step takes the source's newest frame (render/live/input.py).

    A source faster than the dream has frames skipped (the reader keeps only the newest), one slower makes
    the dream wait for its next frame, so the render is paced by the stream; the live output repeats frames
    when the render is late. With ``dream.cadence`` N only every N-th frame is dreamed and the frames
    between carry the detail along the flow (``carry``); ``auto`` picks N from the measured speed, as the
    zoom's does. Endless (``frames=null``) until stopped, or ``frames`` frames. ``report`` hears the news.
    """

    def __init__(self, plan: RenderPlan, engine: Engine, report: Report, live_folder: Path):
        cfg = plan.cfg
        self.cfg, self.engine, self.timeline, self.report = cfg, engine, plan.timeline, report
        self.info, self.live_folder = plan.live_source, live_folder
        self.schedules, self.flow = video_schedules(plan.timeline), flow_settings(cfg.video)
        self.long_term = long_term_of(cfg.video)
        self.steps_total = plan.frames
        self.notes: list[str] = []
        self.state: VideoState | None = None
        if cfg.replay:  # the performance's own source frames, in order (render/live/source_recording.py)
            self.input = RecordedInput(Path(cfg.live.input), cfg.width, cfg.height, engine.device)
        else:
            self.input = LiveInput(cfg.live.input, cfg.width, cfg.height, log=lambda line: report(line, {}))
        self.recording: SourceRecording | None = None
        self.cadence_choice = CadenceChoice(cfg.dream.cadence, cfg.fps, report)
        self.cadence = 1
        self.key_index: int | None = None  # the latest dreamed frame
        self.skipped_said = (time.monotonic(), 0)  # when the skipped frames were last said, and how many then

    @property
    def steps_done(self) -> int:
        return self.state.next_index

    @property
    def done(self) -> bool:
        return self.steps_total is not None and self.state.next_index >= self.steps_total

    def restore(self, snapshot: dict[str, torch.Tensor] | None, frames_done: int) -> None:
        self.state = (state_from(snapshot, self.engine.device) if snapshot
                      else VideoState(torch.Generator().manual_seed(self.cfg.seed)))
        self.input.__enter__()
        if self.cfg.replay:
            return
        if snapshot:
            forget_recording(self.live_folder)
            self.report("Live input: the recording of the source starts anew with a resume, so replay= can't render "
                        "this performance again.", {})
        else:
            self.recording = SourceRecording(self.live_folder, self.cfg.width, self.cfg.height, self.cfg.fps)

    def step(self) -> Step:
        """The next source frame dreamed, or carried along the flow between a cadence's dreams."""
        source = self.input.next_frame(self.engine.device, INPUT_WAIT_S)
        if source is None:
            return Step()  # the source is late or reopening; the stream repeats its last frame meanwhile
        index = self.state.next_index
        self.timeline.begin(index)
        dreamed = self._dreams(index)
        if self.recording is not None:
            self.recording.write(source, dreamed)
        if dreamed:
            self.cadence, self.key_index = self.cadence_choice.at_dream(index), index
            self.state.generator.manual_seed(frame_seed(self.cfg.seed, index))
        started = time.perf_counter()
        if dreamed:
            output = advance(self.state, [source], self.engine, self.schedules, self.flow, self.long_term)[0]
        else:
            output = carry(self.state, source, self.schedules, self.flow, self.long_term)
        self.cadence_choice.observe(index, time.perf_counter() - started, dreamed)
        self._say_skipped()
        return Step([output])

    def _dreams(self, index: int) -> bool:
        """Whether frame ``index`` is dreamed (else carried): the cadence's turn, or in a replay the performance's."""
        if isinstance(self.input, RecordedInput):
            return index in self.input.dreamed
        return self.key_index is None or index - self.key_index >= self.cadence

    def snapshot(self) -> dict[str, torch.Tensor]:
        return snapshot_of(self.state)

    def finish(self) -> tuple[Path | None, bool]:
        self.close()
        return (Path(self.cfg.audio) if self.cfg.audio else None), True

    def close(self) -> None:
        """Stop reading the source and close its recording."""
        self.input.close()
        if self.recording is not None:
            self.recording.close()
            self.recording = None

    def facts(self) -> dict:
        state, (output, source) = self.state, (self.state.output_meter.value, self.state.source_meter.value)
        received, skipped = self.input.latest.received, self.input.latest.skipped
        return {
            "frames": state.next_index, "fps": self.cfg.fps, "width": self.cfg.width, "height": self.cfg.height,
            "source": {**self.info.as_meta(), "frames_received": received, "frames_skipped": skipped,
                       "reopened": self.input.reopened},
            "flow": f"{self.cfg.video.flow}/{self.cfg.video.flow_preset}", "scene_cuts": list(state.scene_cuts),
            "temporal_instability": {"output": _rounded(output), "source": _rounded(source),
                                     "ratio": _rounded(output / source if source else float("nan"))},
            **self.cadence_choice.facts(),
        }

    def _say_skipped(self) -> None:
        """Every ``SKIPPED_NEWS_S`` at most: how many source frames the dream had no time for since last said."""
        (said_at, said), now, skipped = self.skipped_said, time.monotonic(), self.input.latest.skipped
        if now - said_at < SKIPPED_NEWS_S or skipped == said:
            return
        received = self.input.latest.received
        self.skipped_said = (now, skipped)
        self.report(f"Live input: the dream is slower than {self.cfg.live.input}: {skipped - said} of its frames "
                    f"skipped in the last {now - said_at:.0f} s ({skipped} of {received} in all); the stream repeats "
                    f"frames meanwhile. dream.cadence=auto, a smaller width/height or fewer dream.iterations keep up "
                    f"better.", {"input_frames_skipped": skipped, "input_frames_received": received})


def render_live_input(plan: RenderPlan, run_dir: Path, engine: Engine, console: Console, resume: bool = False,
                      stop: StopSignals | None = None) -> dict:
    """Dream over ``live.input`` into the live stream (and ``run_dir/<name>.mp4`` with ``live.record``)."""
    outputs = open_outputs(plan.cfg, run_dir, resume, console, audio=plan.audio, timeline=plan.timeline)
    mode = LiveVideoDreamMode(plan, engine, outputs.report, run_dir / LIVE_FOLDER)
    try:
        return drive(mode, outputs.sink, console, resume, stop, outputs=outputs.extra)
    finally:
        mode.close()  # the decoder and the recording stop with the render, however it ends


def render_video(plan: RenderPlan, run_dir: Path, engine: Engine, console: Console, resume: bool = False,
                 stop: StopSignals | None = None) -> dict:
    """Dream over the frames of ``cfg.input`` into ``run_dir/<name>.mp4``; returns facts for meta.json."""
    if plan.live_source is not None:
        return render_live_input(plan, run_dir, engine, console, resume, stop)
    if plan.cfg.video.passes == 2:
        from render.modes.video_two_pass import TwoPassVideoDreamMode  # imports this module

        mode = TwoPassVideoDreamMode(plan, run_dir, engine, console)
    else:
        mode = VideoDreamMode(plan, run_dir, engine, console)
    outputs = open_outputs(plan.cfg, run_dir, resume, console, plan.source.fps_exact, mode.width, mode.height,
                           audio=plan.audio)
    return drive(mode, outputs.sink, console, resume, stop, outputs=outputs.extra)


def frames_to_next_cut(span: SegmentSpan, index: int) -> int:
    """Frames from ``index`` to where the next batch must end: the warm-up's end, or the seam's chunk end."""
    cuts = [cut - index for cut in (span.first, span.seam_cut) if cut > index]
    return min(cuts, default=span.end - index)


def _forget_warmup(state: VideoState) -> None:
    """Measure stability and scene cuts over the segment's own frames only, not the warm-up."""
    state.output_meter, state.source_meter, state.scene_cuts = StabilityMeter(), StabilityMeter(), []


def _facts(cfg: RenderConfig, info: VideoInfo, state: VideoState, width: int, height: int, span: SegmentSpan) -> dict:
    frames = state.next_index - span.first
    output, source = state.output_meter.value, state.source_meter.value
    segment = {"segment": span.as_meta()} if span.count > 1 else {}
    return {
        **segment,
        "frames": frames,
        "fps": info.fps,
        "fps_exact": str(info.fps_exact),
        "duration": round(frames / info.fps, 4),
        "width": width,
        "height": height,
        "source": {"path": str(cfg.input), "width": info.width, "height": info.height, "fps_exact": str(info.fps_exact),
                   "frames": info.frames, "duration": round(info.duration, 4), "has_audio": info.has_audio},
        "flow": f"{cfg.video.flow}/{cfg.video.flow_preset}",
        "scene_cuts": list(state.scene_cuts),
        # Measured on the frames before encoding, with the source's flow (render.tools.metrics).
        "temporal_instability": {"output": _rounded(output), "source": _rounded(source),
                                 "ratio": _rounded(output / source if source else float("nan"))},
    }


def _rounded(value: float) -> float | None:
    return None if value != value else round(value, 4)  # NaN (no pair measured) -> null in meta.json


def estimate_video(cfg: RenderConfig, engine: Engine, frames: int, source: VideoInfo | None = None) -> Estimate:
    """The dream and the optical flows of every frame at the output's size (``Mode.estimate``): one from the
    previous frame, one from each ``video.long_term`` frame, and one more for the backward pass of two passes."""
    height, width = video_size(cfg, source)
    flows = 1 + len(cfg.video.long_term) + (cfg.video.passes == 2)
    flow = flows * flow_seconds(cfg.video, height, width, engine.device)
    return estimate_frames(cfg, engine, frames, first_frame(cfg, (height, width), engine.device), mode_seconds=flow)


def first_frame(cfg: RenderConfig, size: tuple[int, int], device: torch.device) -> torch.Tensor:
    """(1, 3, H, W) the source's first frame at ``size`` (H, W); noise for a live source (its frames are not there
    yet) or one that can't be read (the render says why)."""
    if cfg.live.input:
        return smooth_noise(*size, torch.Generator().manual_seed(cfg.seed), device)
    try:
        with closing(iter_video_frames(cfg.input, size=(size[1], size[0]), device=device)) as decoded:
            frame = next(decoded, None)
    except UserError:
        frame = None
    return frame if frame is not None else smooth_noise(*size, torch.Generator().manual_seed(cfg.seed), device)


def video_size(cfg: RenderConfig, source: VideoInfo | None) -> tuple[int, int]:
    """(H, W) of a video dream's frames; ``source``: the video as the render probed it (read again when None)."""
    if cfg.live.input:
        return cfg.height, cfg.width  # the plan set them from the live input's probe where they were null
    width, height = (source.width, source.height) if source is not None else frame_size(cfg.input)
    width, height = output_size(cfg, SimpleNamespace(width=width, height=height))
    return height, width


def flow_seconds(video: VideoConfig, height: int, width: int, device: torch.device) -> float:
    """Seconds of one frame's optical flow (forward and backward) at the render's size, with ``video``'s flow keys."""
    generator = torch.Generator().manual_seed(0)
    before = smooth_noise(height, width, generator, device)
    after = before.roll(2, dims=3)
    settings = flow_settings(video)
    return timed(lambda: frame_motion(before, after, settings), device)
