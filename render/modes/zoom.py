"""The endless zoom: dream a frame, move the camera a little, dream the result again.

State that makes frame ``i`` is exactly (previous frame as float, generator
state, colour reference, the cadence's dreams, and with a mask the camera's view of
the start and the carried mask); it is saved at every resume point, so a resumed
render produces the same frames as one that never stopped. With ``dream.cadence`` N
only every N-th frame is dreamed (render/ops/cadence.py); with ``auto`` the cadence
follows the measured speed (render/ops/auto_cadence.py). ``frames=null`` (live)
zooms until stopped.

With ``mask.source`` the zoom's source is the start image moved by the camera alone
(what the zoom shows undreamed); outside the mask every frame is that, exactly.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from rich.console import Console

from render.config import RenderConfig, class_start_target
from render.driver import Outputs, Report, Step, drive, open_outputs
from render.engine import Engine
from render.estimate import Estimate, estimate_frames, start_image
from render.media.images import load_image, smooth_noise
from render.media.seam_frames import drop_seam_frames
from render.media.stop import StopSignals
from render.modes.loop import close_loop
from render.ops.auto_cadence import AutoCadence, CadenceChoice
from render.ops.cadence import CadenceState, cadence_frame
from render.ops.camera import Camera, identity_move, warp
from render.ops.color import anchor_reference, channel_stats, match_colors, turn_hue, turned_reference
from render.ops.mask import FrameMask, FrameMasks, keep, render_masks

if TYPE_CHECKING:
    from render.plan import RenderPlan



@dataclass
class ZoomState:
    """Everything the next frame depends on."""

    frame: torch.Tensor  # (1, 3, H, W) the last emitted frame, float
    reference: tuple[torch.Tensor, torch.Tensor] | None  # colour statistics to hold
    generator: torch.Generator
    next_index: int
    cadence: CadenceState = field(default_factory=CadenceState)
    masks: FrameMasks | None = None
    source: torch.Tensor | None = None  # (1, 3, H, W) with a mask: the start moved by the camera alone
    hue_target: float = 0.0  # degrees the palette is to be turned by now (color.hue_turn summed over the frames)
    hue_turned: float = 0.0  # degrees the picture is turned by (at its last dream)


def initial_state(plan: RenderPlan, engine: Engine) -> ZoomState:
    """Frame -1: the input image, a class visualisation or noise.

    The colour reference of an input photo is the photo's; otherwise it is the first dreamed frame's.
    """
    cfg = plan.cfg
    generator = torch.Generator().manual_seed(cfg.seed)
    device = engine.device
    target = class_start_target(cfg.init)
    if target is not None:
        from dream.visualize import class_start_image
        from render.modes.visualize import robustness_of, visualization_nets

        settings = cfg.visualize
        nets, _ = visualization_nets(cfg, engine, target, print)
        start = class_start_image(
            nets, target, cfg.height, cfg.width, generator, device, steps=settings.steps, size=settings.size,
            parameterization=settings.parameterization, robust=robustness_of(settings), lr=settings.learning_rate,
            background=settings.background,
        )
        reference = None
    elif cfg.input:
        start = load_image(cfg.input, device, size=(cfg.height, cfg.width))
        reference = channel_stats(start, cfg.color.coherence) if cfg.color.coherence != "none" else None
    else:
        start = smooth_noise(cfg.height, cfg.width, generator, device)
        reference = None
    masks = zoom_masks(plan, engine)
    if masks is not None:
        reference = None  # taken on frame 0 under its mask (coherent_colors)
    if cfg.color.anchor != "frame0":
        reference = anchor_reference(cfg.color.anchor, cfg.color.coherence, (cfg.height, cfg.width), device)
    return ZoomState(start, reference, generator, 0, masks=masks, source=start if masks else None)


def zoom_masks(plan: RenderPlan, engine: Engine) -> FrameMasks | None:
    """The zoom's masks (None without ``mask.source``), over its frames and a loop's."""
    if plan.masks is None:
        return None
    return render_masks(plan.cfg.mask, plan.cfg.motion.border, plan.frames, "the zoom's frames (frames + "
                        "loop_frames)", engine.device, plan.timeline)


def advance(state: ZoomState, engine: Engine, camera: Camera, cfg: RenderConfig, cadence: int = 1) -> torch.Tensor:
    """Make frame ``state.next_index`` and update the state to follow it. Returns (1, 3, H, W).

    The frame is dreamed from the last one moved by the ``camera``, or at ``cadence`` > 1 between
    dreams carried along by the camera and blended toward the latest dream.
    """
    index = state.next_index
    height, width = state.frame.shape[-2:]
    settings, device = engine.timeline.at(index), state.frame.device
    step = camera.move(settings, height, width, device) if index > 0 else identity_move(device)
    if index > 0 and state.source is not None:
        state.source = warp(state.source, step, cfg.motion.border, cfg.motion.sampling)
    frame_mask = state.masks.next(index, state.source, camera=step if index > 0 else None) if state.masks else None
    state.hue_target += settings["color.hue_turn"] if index > 0 else 0.0

    def resample(frame: torch.Tensor, move: torch.Tensor) -> torch.Tensor:
        return warp(frame, move, cfg.motion.border, cfg.motion.sampling)

    def dream(frame: torch.Tensor) -> torch.Tensor:
        frame = engine.dream(frame, index, state.generator, frame_mask.dream if frame_mask else None)
        return coherent_colors(state, frame, frame_mask, cfg).detach()

    frame = cadence_frame(state.cadence, index, state.frame, step, resample, dream, cadence)
    if frame_mask is not None:  # in-betweens too: outside the mask every shown frame is the source
        frame = keep(state.source, frame, frame_mask.weight)
    state.frame, state.next_index = frame.detach(), index + 1
    return state.frame


def coherent_colors(state: ZoomState, frame: torch.Tensor, frame_mask: FrameMask | None,
                    cfg: RenderConfig) -> torch.Tensor:
    """``frame`` (1, 3, H, W) turned to the scheduled hue and with the anchor's colour statistics, turned alike
    (``color.anchor=frame0``: taken from the frame on frame 0 if there is no photo's; ``none``: not held).

    With a mask, statistics are taken under the mask only: the dream's palette is held to the
    photo's (or first dream's) under the mask, and the kept outside, which the match can't change,
    doesn't push the colours inside it further every frame.
    """
    frame = turn_hue(frame, state.hue_target - state.hue_turned)
    state.hue_turned = state.hue_target
    space, weight = cfg.color.coherence, frame_mask.dream if frame_mask is not None else None
    if space == "none" or cfg.color.anchor == "none":
        return frame
    if state.reference is None:
        basis = state.source if weight is not None and cfg.input else frame
        state.reference = channel_stats(basis, space, weight)
    reference = turned_reference(state.reference, state.hue_target, space)
    return match_colors(frame, reference, space, cfg.color.strength, weight)


def snapshot_of(state: ZoomState) -> dict[str, torch.Tensor]:
    """``state`` as tensors on the CPU, copied now."""
    snapshot = {
        "frame": state.frame.detach().cpu().clone(),
        "generator": state.generator.get_state(),
        "next_index": torch.tensor(state.next_index),
        "hue": torch.tensor([state.hue_target, state.hue_turned], dtype=torch.float64),
    }
    if state.reference is not None:
        snapshot["reference_mean"], snapshot["reference_std"] = (t.cpu().clone() for t in state.reference)
    if state.masks is not None:
        snapshot.update(state.masks.snapshot(), mask_source=state.source.cpu().clone())
    return {**snapshot, **state.cadence.snapshot()}


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
    state = ZoomState(snapshot["frame"].to(device), reference, generator, int(snapshot["next_index"]),
                      CadenceState.restore(snapshot, device), masks, source)
    if "hue" in snapshot:
        state.hue_target, state.hue_turned = snapshot["hue"].tolist()
    return state


class ZoomMode:
    """``cfg.frames`` frames of the plan's camera (endless when None); with ``loop=true`` the loop's head frames more,
    closing the loop (loop.py). ``report`` hears of each cadence ``dream.cadence=auto`` picks."""

    def __init__(self, plan: RenderPlan, run_dir: Path, engine: Engine, console: Console,
                 report: Report | None = None):
        cfg = plan.cfg
        self.plan, self.cfg, self.run_dir, self.engine, self.console = plan, cfg, run_dir, engine, console
        self.extra = plan.loop_head
        self.steps_total = plan.frames
        self.camera = plan.camera
        self.notes: list[str] = []
        self.state: ZoomState | None = None
        self.report = report or (lambda line, facts: console.print(line, highlight=False))
        self.cadence_choice = CadenceChoice(cfg.dream.cadence, cfg.fps, self.report)

    @property
    def auto(self) -> AutoCadence | None:
        return self.cadence_choice.auto

    @property
    def steps_done(self) -> int:
        return self.state.next_index

    @property
    def done(self) -> bool:
        return self.steps_total is not None and self.state.next_index >= self.steps_total

    def restore(self, snapshot: dict[str, torch.Tensor] | None, frames_done: int) -> None:
        # the start image is made only without a resume state (a class start costs a whole optimisation)
        if snapshot:
            self.state = state_from(snapshot, self.engine.device, zoom_masks(self.plan, self.engine))
        else:
            self.state = initial_state(self.plan, self.engine)

    def step(self) -> Step:
        """Make the next frame; a loop's head frames are kept aside, its tail grows from the crossfaded frame."""
        index = self.state.next_index
        dreamed = self.state.cadence.dream_due(index)
        cadence = self.cadence_choice.at_dream(index) if dreamed else self.state.cadence.cadence
        started = time.perf_counter()
        frame = advance(self.state, self.engine, self.camera, self.cfg, cadence)
        self.cadence_choice.observe(index, time.perf_counter() - started, dreamed)
        shown = close_loop(self.run_dir, index, frame, self.cfg.frames, self.extra) if self.extra else frame
        if shown is None:
            return Step()
        self.state.frame = shown
        return Step([shown])

    def snapshot(self) -> dict[str, torch.Tensor]:
        return snapshot_of(self.state)

    def finish(self) -> tuple[Path | None, bool]:
        return soundtrack_note(self.plan, self.notes, self.console), True

    def facts(self) -> dict:
        drop_seam_frames(self.run_dir)  # a loop's head frames are in the video now
        return {"loop_frames": self.extra, **self.cadence_facts()}

    def cadence_facts(self) -> dict:
        return self.cadence_choice.facts()


def soundtrack_note(plan: RenderPlan, notes: list[str], console: Console) -> Path | None:
    """``audio=`` for muxing, after saying in the log and meta.json how it is fitted to the video's length."""
    cfg = plan.cfg
    if plan.audio is None:
        return None
    if cfg.frames is None:
        return Path(cfg.audio)  # an endless render: the track loops under its recording
    audio_seconds, video_seconds = plan.audio.duration, cfg.frames / cfg.fps
    if abs(audio_seconds - video_seconds) < 0.5 / cfg.fps:
        fitted = "kept whole: it is as long as"
    else:
        fitted = "trimmed to" if audio_seconds > video_seconds else "padded with silence to"
    note = f"The soundtrack {cfg.audio} ({audio_seconds:.3f} s) is {fitted} the video's {video_seconds:.3f} s."
    notes.append(note)
    console.print(note, highlight=False)
    return Path(cfg.audio)


def render_zoom(plan: RenderPlan, run_dir: Path, engine: Engine, console: Console, resume: bool = False,
                stop: StopSignals | None = None, outputs: Outputs | None = None) -> dict:
    """Render the zoom into ``run_dir/<name>.mp4`` (and the live outputs); returns facts for meta.json."""
    outputs = outputs or open_outputs(plan.cfg, run_dir, resume, console, audio=plan.audio, timeline=plan.timeline)
    mode = ZoomMode(plan, run_dir, engine, console, outputs.report)
    return drive(mode, outputs.sink, console, resume, stop, outputs=outputs.extra)


def estimate_zoom(cfg: RenderConfig, engine: Engine, frames: int, *_) -> Estimate:
    """The zoom's frames at the config's size (``Mode.estimate``)."""
    first = start_image(cfg.input, cfg.seed, (cfg.height, cfg.width), engine.device)
    return estimate_frames(cfg, engine, frames, first)
