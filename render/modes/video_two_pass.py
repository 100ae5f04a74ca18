"""The offline second pass of a video dream (``video.passes=2``): the forward dream reconciled backward.

The first pass dreams every frame forward as ``VideoDreamMode`` does and keeps each frame's source
and detail on disk (``two_pass/`` in the run folder, float16). The second pass runs from the last
frame back to the first and carries the reconciled detail of frame t+1 onto frame t along the flow,
weighted as the forward pass weighs its carry: ``D2_t = w * warp(D2_{t+1}) + (1 - w) * D1_t``,
``w = video.blend * reliability``. Each frame then holds what both directions agree on, the way
Ruder et al.'s multi-pass algorithm alternates directions, but without dreaming again: the second
pass costs one optical flow a frame. Then the frames are written, in order, as ``source +
video.strength * D2``. Nothing is shown before the first pass ends, so this is for offline renders
(no live input); a stop during the first pass starts the render over, one in the writing resumes.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import torch

from dream.errors import UserError
from render.driver import Step
from render.media.video_source import iter_video_frames
from render.modes.video_dream import (
    VideoDreamMode,
    VideoSchedules,
    advance,
    measure,
    snapshot_of,
    state_from,
    take,
)
from render.ops.flow import FlowSettings, frame_motion, warp_by_flow
from render.ops.stability import StabilityMeter
from render.segments.plan import frame_seed

STORE_DIR = "two_pass"


class FrameStore:
    """(1, C, H, W) tensors kept by kind and frame index in a folder, as float16 (half the disk of float32)."""

    def __init__(self, folder: Path):
        self.folder = folder

    def path(self, kind: str, index: int) -> Path:
        return self.folder / f"{kind}_{index:06d}.pt"

    def save(self, kind: str, index: int, tensor: torch.Tensor) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        torch.save(tensor.detach().to("cpu", torch.float16), self.path(kind, index))

    def load(self, kind: str, index: int, device: torch.device) -> torch.Tensor:
        return torch.load(self.path(kind, index), weights_only=True).to(device, torch.float32)


def reconcile(store: FrameStore, first: int, end: int, schedules: VideoSchedules, flow: FlowSettings,
              device: torch.device) -> None:
    """The backward pass: ``reconciled`` details from the stored ``forward`` ones, frame ``end - 1`` down to
    ``first``; each frame's carry from the next one is weighted by its ``video.blend`` and the flow's
    reliability (0 across a scene cut and where the next frame does not show the pixel)."""
    later = store.load("forward", end - 1, device)
    later_source = store.load("source", end - 1, device)
    store.save("reconciled", end - 1, later)
    for index in range(end - 2, first - 1, -1):
        source = store.load("source", index, device)
        motion = frame_motion(later_source, source, flow)  # its flow maps frame index onto index + 1
        weight = schedules.blend.at(index) * motion.mask
        carried = warp_by_flow(later, motion.flow, "bicubic")
        later = weight * carried + (1.0 - weight) * store.load("forward", index, device)
        later_source = source
        store.save("reconciled", index, later)


class TwoPassVideoDreamMode(VideoDreamMode):
    """``VideoDreamMode`` with ``video.passes=2``: dream forward into ``FrameStore``, reconcile backward, write.

    Its steps: one a frame dreamed (no frame shown), then one a frame written; ``steps_done`` counts the
    dreamed frames, which take the time (the first pass ends at the source's last frame, read or probed).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.store = FrameStore(self.run_dir / STORE_DIR)
        self.write_index: int | None = None  # the next frame to write; None during the first pass

    @property
    def done(self) -> bool:
        return self.write_index is not None and self.write_index >= self.state.next_index

    def restore(self, snapshot: dict[str, torch.Tensor] | None, frames_done: int) -> None:
        if snapshot is None or "write_index" not in snapshot:
            super().restore(None, 0)
            return
        self.state = state_from(snapshot, self.engine.device)
        self.write_index = int(snapshot["write_index"])
        if self.write_index != frames_done or not self.store.path("reconciled", self.write_index).is_file():
            raise UserError(f"The resume state is for frame {self.write_index}, but the video holds {frames_done} "
                            f"frames or {self.store.folder} lacks its files; start a new render.")
        self._open_sources(self.write_index)

    def step(self) -> Step:
        return self._dream_one() if self.write_index is None else Step([self._write_one()])

    def snapshot(self) -> dict[str, torch.Tensor]:
        return {**snapshot_of(self.state), "write_index": torch.tensor(self.write_index)}

    def finish(self) -> tuple[Path | None, bool]:
        shutil.rmtree(self.store.folder, ignore_errors=True)  # the video is whole: the stored passes are spent
        return super().finish()

    def _dream_one(self) -> Step:
        """The first pass's next frame: dreamed forward and stored; after the last, the backward pass."""
        state = self.state
        self.timeline.begin(state.next_index)
        sources, ended_early = take(self.sources, 1)
        state.generator.manual_seed(frame_seed(self.cfg.seed, state.next_index))
        if ended_early is not None:
            self._end_early(sources, ended_early)
        if sources:
            index = state.next_index
            advance(state, sources, self.engine, self.schedules, self.flow, self.long_term)
            self.store.save("source", index, sources[0])
            self.store.save("forward", index, state.detail)
        if self.ended or state.next_index >= self.span.end:
            self._start_writing()
        return Step()

    def _start_writing(self) -> None:
        """Reconcile the stored details backward and reopen the source at the first frame."""
        state = self.state
        reconcile(self.store, self.span.start, state.next_index, self.schedules, self.flow, self.engine.device)
        state.output_meter, state.source_meter, state.scene_cuts = StabilityMeter(), StabilityMeter(), []
        state.source = state.output = None
        self.write_index, self.ended = self.span.start, False
        self.sources.close()
        self._open_sources(self.span.start)

    def _write_one(self) -> torch.Tensor:
        """The next frame written: its source plus the reconciled detail at its ``video.strength``."""
        state, index = self.state, self.write_index
        source = next(self.sources)
        detail = self.store.load("reconciled", index, self.engine.device)
        output = (source + self.schedules.strength.at(index) * detail).clamp(0.0, 1.0)
        motion = frame_motion(state.source, source, self.flow) if state.source is not None else None
        measure(state, index, source, output, motion)
        state.source, state.output, self.write_index = source, output, index + 1
        return output

    def _open_sources(self, start: int) -> None:
        size = None if (self.width, self.height) == (self.info.width, self.info.height) else (self.width, self.height)
        self.sources = iter_video_frames(self.cfg.input, size=size, start=start, device=self.engine.device)
