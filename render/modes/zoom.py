"""The endless zoom: dream a frame, move the camera a little, dream the result again.

State that makes frame ``i`` is exactly (previous frame as float, generator
state, colour reference, and with a mask the camera's view of the start and the
carried mask); it is saved at every resume point, so a resumed render produces
the same frames as one that never stopped.

With ``mask.source`` the zoom's source is the start image moved by the camera alone
(what the zoom shows undreamed); outside the mask every frame is that, exactly.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import torch
from rich.console import Console

from render.config import RenderConfig
from render.engine import Engine
from render.media.audio import decode_audio
from render.media.images import load_image, smooth_noise
from render.media.progress import frame_progress
from render.media.seam_frames import drop_seam_frames
from render.media.sink import VideoSink, state_writer
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


def state_saver(run_dir: Path, state: ZoomState):
    """A callable for ``VideoSink.mark``: writes a snapshot of ``state`` taken now."""
    snapshot = {
        "frame": state.frame.detach().cpu().clone(),
        "generator": state.generator.get_state(),
        "next_index": torch.tensor(state.next_index),
    }
    if state.reference is not None:
        snapshot["reference_mean"], snapshot["reference_std"] = (t.cpu().clone() for t in state.reference)
    if state.masks is not None:
        snapshot.update(state.masks.snapshot(), mask_source=state.source.cpu().clone())

    return state_writer(run_dir, snapshot)


def load_state(path: Path, device: torch.device, masks: FrameMasks | None = None) -> ZoomState:
    """The state saved at a resume point; ``masks`` (the render's, unread) continue from it."""
    snapshot = torch.load(path, map_location="cpu", weights_only=True)
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


def render_zoom(cfg: RenderConfig, run_dir: Path, engine: Engine, console: Console, resume: bool = False,
                stop: StopSignals | None = None) -> dict:
    """Render ``cfg.frames`` zoom frames into ``run_dir/<name>.mp4``; returns facts for meta.json.

    With ``loop=true`` it dreams ``loop_length`` frames more and closes the loop (render/loop.py).
    A stop request (``stop``) ends the render after the frame being dreamed, with a resume point written.
    """
    extra = loop_length(cfg)
    total = cfg.frames + extra
    motion = motion_schedules(cfg.motion, total, cfg.seed, cfg.fps, engine.variables)
    state_file = VideoSink.resume_point(run_dir)[1] if resume else None
    # the start image is made only without a resume state (a class start costs a whole optimisation)
    if state_file:
        state = load_state(run_dir / "chunks" / state_file, engine.device, zoom_masks(cfg, engine))
    else:
        state = initial_state(cfg, engine)
    sink = _open_sink(cfg, run_dir, resume)
    started = time.perf_counter()
    with sink, frame_progress(console) as progress:
        task = progress.add_task("dreaming", total=total, completed=state.next_index, rate="-")
        first = state.next_index
        while state.next_index < total:
            emit_one_frame(state, engine, motion, cfg, run_dir, sink, extra, stop)
            rate = (state.next_index - first) / (time.perf_counter() - started)
            progress.update(task, completed=state.next_index, rate=f"{rate:.2f}")
        video = sink.finish(audio_from=soundtrack_note(cfg, sink, console), fit_audio=True)
    drop_seam_frames(run_dir)  # a loop's head frames are in the video now
    loop_seconds = time.perf_counter() - started
    return {
        "media": video.name,
        "frames_rendered_now": total - first,
        "loop_frames": extra,
        "loop_seconds": round(loop_seconds, 3),
        "frames_per_second": round((total - first) / loop_seconds, 4),
        "notes": list(sink.notes),
    }


def emit_one_frame(state: ZoomState, engine: Engine, motion: MotionSchedules, cfg: RenderConfig, run_dir: Path,
                   sink: VideoSink, extra: int, stop: StopSignals | None = None):
    """Dream the next frame, write what the video shows of it, and mark resume points (at once on a stop)."""
    frame = advance(state, engine, motion, cfg)
    shown = close_loop(run_dir, state.next_index - 1, frame, cfg.frames, extra) if extra else frame
    if shown is None:
        return
    state.frame = shown  # a loop's tail grows from the crossfaded frame
    sink.write(shown)
    written = state.next_index - extra
    stopping = stop is not None and stop.requested and written < cfg.frames
    if (written % cfg.output.checkpoint_every == 0 or stopping) and written < cfg.frames:
        sink.mark(state_saver(run_dir, state))
    if stopping:
        raise stop.stopped(written)


def soundtrack_note(cfg: RenderConfig, sink: VideoSink, console: Console) -> Path | None:
    """``audio=`` for muxing, after saying in the log and meta.json how it is fitted to the video's length."""
    if not cfg.audio:
        return None
    audio_seconds, video_seconds = decode_audio(cfg.audio, NOTE_SAMPLE_RATE).duration, cfg.frames / cfg.fps
    if abs(audio_seconds - video_seconds) < 0.5 / cfg.fps:
        fitted = "kept whole: it is as long as"
    else:
        fitted = "trimmed to" if audio_seconds > video_seconds else "padded with silence to"
    note = f"The soundtrack {cfg.audio} ({audio_seconds:.3f} s) is {fitted} the video's {video_seconds:.3f} s."
    sink.notes.append(note)
    console.print(note, highlight=False)
    return Path(cfg.audio)


def _open_sink(cfg: RenderConfig, run_dir: Path, resume: bool) -> VideoSink:
    return VideoSink(
        run_dir, cfg.output.name, cfg.fps, cfg.width, cfg.height,
        crf=cfg.output.crf, preset=cfg.output.preset, chunk_frames=cfg.output.checkpoint_every,
        preview_every_s=cfg.output.preview_every_s, png_frames=cfg.output.png_frames, resume=resume,
    )
