"""``run(cfg, run_dir)``: one render from a resolved config. No Hydra globals below this line."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException
from rich.console import Console

from dream.errors import UserError
from render.checks import check_render
from render.config import RenderConfig, validate
from render.context import RenderContext
from render.engine import build_engine
from render.estimate import announce_estimate, estimate_record
from render.media.audio import AudioTrack
from render.media.progress import noting, warner
from render.media.run_folder import claim_run_dir, package_versions, read_meta, save_config, write_meta
from render.media.stop import StopSignals
from render.media.video_source import probe_video
from render.media.web_formats import web_outputs
from render.modes.loop import loop_length
from render.modes.registry import Mode, mode_of
from render.modes.video_dream import video_frame_count
from render.ops.audio_features import frame_count as frames_of_audio
from render.ops.cadence import check_cadence
from render.ops.flow import flow_settings
from render.ops.mask import mask_settings
from render.ops.tempo import announce_tempo, tempo_schedule_parts
from render.schedule import ScheduleContext, merge_variables
from render.segments.plan import check_segment_keys
from render.soundtrack import audio_variables, open_soundtrack


def run(cfg: RenderConfig, run_dir: Path, console: Console | None = None, resume: bool = False,
        stop: StopSignals | None = None) -> dict:
    """Render ``cfg`` into ``run_dir``; returns the meta.json contents.

    Args:
        cfg: a resolved config (RenderConfig shape).
        run_dir: the run folder; a new render refuses a folder that holds another run.
        resume: continue the interrupted render in ``run_dir`` (its saved config is ``cfg``).
        stop: signals that end a zoom or video render cleanly at the next frame (RenderStopped).
    """
    console = console or Console(stderr=True)
    cfg = typed_config(cfg)
    mode = mode_of(cfg)
    track = open_soundtrack(cfg, resume)  # bad audio stops here, before any frame
    if cfg.frames is None and track is not None and not mode.reads_video and not cfg.live.enabled:
        cfg.frames = frames_of_audio(track.duration, cfg.fps)
    validate(cfg, mode.sized_by_input)
    check_cadence(cfg.dream.cadence, cfg.live.enabled)
    mode.check(cfg)
    flow_settings(cfg.video)  # the flow keys are checked beside the flow code
    check_segment_keys(cfg.segment)
    run_dir = Path(run_dir)
    if not resume:
        claim_run_dir(run_dir)
        save_config(run_dir, cfg)
    previous = read_meta(run_dir) if resume else {}
    started = time.perf_counter()
    write_meta(run_dir, {**previous, **base_meta(cfg), "finished": False})
    context = render_context(cfg, mode, run_dir, track)
    tempo = announce_tempo(context.schedules.time, lambda line: console.print(line, highlight=False))
    mask_settings(cfg.mask, context.schedules)  # a bad mask stops here, before the model loads
    start_notes: list[str] = []  # what was honoured differently than asked: said now, kept in meta.json
    check_render(cfg, context, noting(warner(console), start_notes))
    engine = build_engine(cfg, context, warner(console), log=lambda line: console.print(line, highlight=False),
                          max_batch=cfg.video.batch if context.source else 1)
    endless = context.frames is None  # a live stream has no total; its cadence holds the pace instead
    estimate = None if resume or endless else announce_estimate(cfg, mode, engine, context.frames, console)
    media = mode.render(cfg, run_dir, engine, console, resume, stop)
    media.update(estimate_record(estimate, engine.device))
    if str(media["media"]).endswith(".mp4"):
        media.update(web_outputs(run_dir / media["media"], cfg.output))
    elapsed = previous.get("elapsed_seconds", 0.0) + time.perf_counter() - started
    meta = {**base_meta(cfg), **tempo, **engine.model.record, **engine.speed_record(), **media}
    meta.update(device=str(engine.device), elapsed_seconds=round(elapsed, 3))
    meta.setdefault("objective", media.get("target_objective") or engine.plan.describe())
    if start_notes:
        meta["notes"] = start_notes + [note for note in meta.get("notes", []) if note not in start_notes]
    meta["finished"] = True
    write_meta(run_dir, meta)
    return meta


def typed_config(cfg: RenderConfig) -> Any:
    """``cfg`` on the schema: a saved config from an older version gains the newer keys' defaults."""
    try:
        return OmegaConf.merge(OmegaConf.structured(RenderConfig), cfg)
    except OmegaConfBaseException as exc:
        raise UserError(f"The config does not fit the renderer's schema: {exc}".replace("\n", " ")) from None


def render_context(cfg: RenderConfig, mode: Mode, run_dir: Path, track: AudioTrack | None) -> RenderContext:
    """The render's facts, derived once: the source video probed, the frame total, the schedule context."""
    source = probe_video(cfg.input) if mode.reads_video else None  # decoded to count its frames, once per render
    shift = loop_length(cfg)  # a loop's hidden head: dreamed frame - shown frame (only zooms loop)
    frames = video_frame_count(cfg, source) if source else endless_or(cfg.frames, shift)
    tempo = tempo_schedule_parts(cfg.tempo, source.fps if source else cfg.fps, frames, shift,
                                 track or cfg.audio or (cfg.input if source else None))
    variables = merge_variables(audio_variables(cfg, run_dir, frames, shift, track, source), tempo.variables)
    schedules = ScheduleContext(frames, cfg.seed, cfg.motion.interpolation, variables, tempo.time)
    return RenderContext(frames, schedules, source)


def endless_or(frames: int | None, extra: int) -> int | None:
    """``frames`` plus a loop's ``extra`` frames; None (an endless render) stays None."""
    return None if frames is None else frames + extra


def base_meta(cfg: RenderConfig) -> dict:
    return {
        "preset": cfg.preset,
        "mode": cfg.mode,
        "frames": cfg.frames,
        "fps": cfg.fps,
        "width": cfg.width,
        "height": cfg.height,
        "seed": cfg.seed,
        "input": cfg.input,
        "audio": cfg.audio,
        "live": cfg.live.enabled,
        "cadence_requested": cfg.dream.cadence,
        "versions": package_versions(),
    }
