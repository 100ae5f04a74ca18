"""The endless zoom: dream a frame, move the camera a little, dream the result again.

State that makes frame ``i`` is exactly (previous frame as float, generator
state, colour reference, and with a mask the camera's view of the start and the
carried mask); it is saved at every resume point, so a resumed render produces
the same frames as one that never stopped.

With ``mask.source`` the zoom's source is the start image moved by the camera alone
(what the zoom shows undreamed); outside the mask every frame is that, exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from rich.console import Console

from render.config import RenderConfig
from render.driver import Step, drive, open_video
from render.engine import Engine
from render.media.audio import decode_audio
from render.media.images import load_image, smooth_noise
from render.media.seam_frames import drop_seam_frames
from render.media.stop import StopSignals
from render.modes.loop import close_loop, loop_length
from render.ops.color import channel_stats, match_colors
from render.ops.mask import FrameMask, FrameMasks, keep, render_masks
from render.ops.motion import MotionSchedules, motion_schedules
from render.ops.warp import warp

NOTE_SAMPLE_RATE = 8000  # enough to measure a track's length for the log


@dataclass
class ZoomState:
    """Everything the next frame depends on."""

    frame: torch.Tensor  # (1, 3, H, W) the last emitted frame, float
    reference: tuple[torch.Tensor, torch.Tensor] | None  # colour statistics to hold
    generator: torch.Generator
    next_index: int
    masks: FrameMasks | None = None
    source: torch.Tensor | None = None  # (1, 3, H, W) with a mask: the start moved by the camera alone


def initial_state(cfg: RenderConfig, engine: Engine) -> ZoomState:
    """Frame -1: the input image, a class visualisation or noise.

    The colour reference of an input photo is the photo's; otherwise it is the first dreamed frame's.
    """
    generator = torch.Generator().manual_seed(cfg.seed)
    device = engine.device
    if cfg.init.startswith("class:"):
        from dream.visualize import class_start_image
        from render.modes.visualize import robustness_of, visualization_nets

        target, settings = cfg.init[6:], cfg.visualize
        nets, _ = visualization_nets(cfg, engine, target, print)
        start = class_start_image(
            nets, target, cfg.height, cfg.width, generator, device, steps=settings.steps, size=settings.size,
            parameterization=settings.parameterization, robust=robustness_of(settings), lr=settings.learning_rate,
        )
        reference = None
    elif cfg.input:
        start = load_image(cfg.input, device, size=(cfg.height, cfg.width))
        reference = channel_stats(start, cfg.color.coherence) if cfg.color.coherence != "none" else None
    else:
        start = smooth_noise(cfg.height, cfg.width, generator, device)
        reference = None
    masks = zoom_masks(cfg, engine)
    if masks is not None:
        reference = None  # taken on frame 0 under its mask (coherent_colors)
    return ZoomState(start, reference, generator, 0, masks, start if masks else None)


def zoom_masks(cfg: RenderConfig, engine: Engine) -> FrameMasks | None:
    """The zoom's masks (None without ``mask.source``), over its frames and a loop's."""
    if not cfg.mask.source:
        return None
    frames = cfg.frames + loop_length(cfg)
    return render_masks(cfg, frames, "the zoom's frames (frames + loop_frames)", engine.device, engine.variables)


def advance(state: ZoomState, engine: Engine, motion: MotionSchedules, cfg: RenderConfig) -> torch.Tensor:
    """Make frame ``state.next_index`` and update the state to follow it. Returns (1, 3, H, W)."""
    index = state.next_index
    frame, camera = state.frame, motion.at(index) if index > 0 else None
    if camera is not None:
        frame = warp(frame, camera, cfg.motion.border, cfg.motion.sampling)
        if state.source is not None:
            state.source = warp(state.source, camera, cfg.motion.border, cfg.motion.sampling)
    frame_mask = state.masks.next(index, state.source, camera=camera) if state.masks else None
    frame = engine.dream(frame, index, state.generator, frame_mask.dream if frame_mask else None)
    if cfg.color.coherence != "none":
        frame = coherent_colors(state, frame, frame_mask, cfg)
    if frame_mask is not None:
        frame = keep(state.source, frame, frame_mask.weight)
    state.frame, state.next_index = frame.detach(), index + 1
    return state.frame


def coherent_colors(state: ZoomState, frame: torch.Tensor, frame_mask: FrameMask | None,
                    cfg: RenderConfig) -> torch.Tensor:
    """``frame`` (1, 3, H, W) with the reference's colour statistics (taken from it on frame 0 if none yet).

    With a mask, statistics are taken under the mask only: the dream's palette is held to the
    photo's (or first dream's) under the mask, and the kept outside, which the match can't change,
    doesn't push the colours inside it further every frame.
    """
    space, weight = cfg.color.coherence, frame_mask.dream if frame_mask is not None else None
    if state.reference is None:
        basis = state.source if weight is not None and cfg.input else frame
        state.reference = channel_stats(basis, space, weight)
    return match_colors(frame, state.reference, space, cfg.color.strength, weight)


def snapshot_of(state: ZoomState) -> dict[str, torch.Tensor]:
    """``state`` as tensors on the CPU, copied now."""
    snapshot = {
        "frame": state.frame.detach().cpu().clone(),
        "generator": state.generator.get_state(),
        "next_index": torch.tensor(state.next_index),
    }
    if state.reference is not None:
        snapshot["reference_mean"], snapshot["reference_std"] = (t.cpu().clone() for t in state.reference)
    if state.masks is not None:
        snapshot.update(state.masks.snapshot(), mask_source=state.source.cpu().clone())
    return snapshot


def state_from(snapshot: dict[str, torch.Tensor], device: torch.device, masks: FrameMasks | None = None) -> ZoomState:
    """The state saved at a resume point; ``masks`` (the render's, unread) continue from it."""
    generator = torch.Generator()
    generator.set_state(snapshot["generator"])
    reference = None
    if "reference_mean" in snapshot:
        reference = (snapshot["reference_mean"].to(device), snapshot["reference_std"].to(device))
    source = None
    if masks is not None:
        masks.restore(snapshot, device)
        source = snapshot["mask_source"].to(device)
    return ZoomState(snapshot["frame"].to(device), reference, generator, int(snapshot["next_index"]), masks, source)


class ZoomMode:
    """``cfg.frames`` zoom frames; with ``loop=true`` ``loop_length`` frames more, closing the loop (loop.py)."""

    def __init__(self, cfg: RenderConfig, run_dir: Path, engine: Engine, console: Console):
        self.cfg, self.run_dir, self.engine, self.console = cfg, run_dir, engine, console
        self.extra = loop_length(cfg)
        self.steps_total = cfg.frames + self.extra
        self.motion = motion_schedules(cfg.motion, self.steps_total, cfg.seed, cfg.fps, engine.variables)
        self.notes: list[str] = []
        self.state: ZoomState | None = None

    @property
    def steps_done(self) -> int:
        return self.state.next_index

    @property
    def done(self) -> bool:
        return self.state.next_index >= self.steps_total

    def restore(self, snapshot: dict[str, torch.Tensor] | None, frames_done: int) -> None:
        # the start image is made only without a resume state (a class start costs a whole optimisation)
        if snapshot:
            self.state = state_from(snapshot, self.engine.device, zoom_masks(self.cfg, self.engine))
        else:
            self.state = initial_state(self.cfg, self.engine)

    def step(self) -> Step:
        """Dream the next frame; a loop's head frames are kept aside, its tail grows from the crossfaded frame."""
        frame = advance(self.state, self.engine, self.motion, self.cfg)
        index = self.state.next_index - 1
        shown = close_loop(self.run_dir, index, frame, self.cfg.frames, self.extra) if self.extra else frame
        if shown is None:
            return Step()
        self.state.frame = shown
        return Step([shown])

    def snapshot(self) -> dict[str, torch.Tensor]:
        return snapshot_of(self.state)

    def finish(self) -> tuple[Path | None, bool]:
        return soundtrack_note(self.cfg, self.notes, self.console), True

    def facts(self) -> dict:
        drop_seam_frames(self.run_dir)  # a loop's head frames are in the video now
        return {"loop_frames": self.extra}


def soundtrack_note(cfg: RenderConfig, notes: list[str], console: Console) -> Path | None:
    """``audio=`` for muxing, after saying in the log and meta.json how it is fitted to the video's length."""
    if not cfg.audio:
        return None
    audio_seconds, video_seconds = decode_audio(cfg.audio, NOTE_SAMPLE_RATE).duration, cfg.frames / cfg.fps
    if abs(audio_seconds - video_seconds) < 0.5 / cfg.fps:
        fitted = "kept whole: it is as long as"
    else:
        fitted = "trimmed to" if audio_seconds > video_seconds else "padded with silence to"
    note = f"The soundtrack {cfg.audio} ({audio_seconds:.3f} s) is {fitted} the video's {video_seconds:.3f} s."
    notes.append(note)
    console.print(note, highlight=False)
    return Path(cfg.audio)


def render_zoom(cfg: RenderConfig, run_dir: Path, engine: Engine, console: Console, resume: bool = False,
                stop: StopSignals | None = None) -> dict:
    """Render the zoom into ``run_dir/<name>.mp4``; returns facts for meta.json."""
    mode = ZoomMode(cfg, run_dir, engine, console)
    sink = open_video(cfg.output, run_dir, cfg.fps, cfg.width, cfg.height, resume)
    return drive(mode, sink, console, resume, stop)
