"""What one render is, built and checked once, before its run folder is made.

``plan_render`` reads the config once: it finds the mode, decodes the soundtrack and probes the
source video (once each), counts the frames (a loop's head and a video's own length included),
picks the camera, builds the timeline (every animated key parsed and checked), checks the mask
settings and the rest of the config against the mode. Whatever it refuses is refused before
anything is written; the modes receive the plan and derive none of it again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from dream.errors import UserError
from render.checks import check_render
from render.config import RenderConfig, check_frame_memory, validate
from render.live.input import LiveSourceInfo, probe_live_input
from render.live.replay import replay_changes
from render.media.audio import AudioTrack
from render.media.progress import noting
from render.media.video_source import VideoInfo, probe_video
from render.modes.loop import loop_length
from render.modes.registry import Mode, mode_of
from render.modes.video_dream import output_size, video_frame_count
from render.ops.audio_features import frame_count as frames_of_audio
from render.ops.cadence import check_cadence
from render.ops.camera import Camera
from render.ops.cameras import camera_for, camera_keys
from render.ops.flow import flow_settings
from render.ops.mask import MaskSettings, mask_settings
from render.ops.tempo import TempoParts, tempo_schedule_parts
from render.schedule import ScheduleVariables
from render.segments.plan import check_segment_keys
from render.soundtrack import audio_variables, keep_features, open_soundtrack
from render.timeline import ANIMATED_KEYS, Timeline


@dataclass
class RenderPlan:
    """One render's facts, derived once.

    Attributes:
        cfg: the config, typed and checked (``frames`` filled in from the soundtrack where it was null).
        mode: the render mode.
        frames: frames dreamed: ``frames`` plus a loop's head, or a video dream's source frames (at most
            ``frames``); None: an endless render.
        source: the input video as probed (its frames counted by decoding it); None unless dreaming over a video file.
        audio: the soundtrack, decoded; None without ``audio=``.
        loop_head: dreamed frame - shown frame (a loop's head, kept aside and shown at the end; 0 otherwise).
        timeline: every animated key, parsed and checked; each frame's settings.
        camera: what moves the picture between frames (modes that animate a camera); None otherwise.
        masks: the checked ``mask`` section; None without ``mask.source``.
        variables: the schedule variables of the audio (stored in the run folder once it exists).
        tempo: the beat grid (``tempo.*``): its variables, the time base of bar:beat keys, its meta.json record.
        notes: what is honoured differently than asked, said before the first frame.
        live_source: ``live.input`` as probed (a live video dream's source); None otherwise.
    """

    cfg: RenderConfig
    mode: Mode
    frames: int | None
    source: VideoInfo | None
    audio: AudioTrack | None
    loop_head: int
    timeline: Timeline
    camera: Camera | None = None
    masks: MaskSettings | None = None
    variables: ScheduleVariables = field(default_factory=ScheduleVariables)
    tempo: TempoParts | None = None
    notes: list[str] = field(default_factory=list)
    live_source: LiveSourceInfo | None = None

    @property
    def endless(self) -> bool:
        return self.frames is None

    def keep_in(self, run_dir: Path) -> None:
        """Store in the run folder, now that it exists, what the plan computed before (the audio features)."""
        keep_features(self.variables, run_dir)


def plan_render(cfg: RenderConfig, run_dir: Path | None = None,
                warn: Callable[[str], None] = lambda _: None) -> RenderPlan:
    """Check ``cfg`` and derive the render's facts; a UserError names the first problem.

    Args:
        cfg: a typed config (``render.run.typed_config``); ``frames`` may be filled in from the soundtrack.
        run_dir: where the render will be (a resumed render's audio features are read back from there); None for
            a render without a folder (tools, tests).
        warn: says what is honoured differently than asked (kept in ``notes`` too).
    """
    mode = mode_of(cfg)
    audio = open_soundtrack(cfg.audio)  # bad audio stops here, before any frame
    if cfg.frames is None and audio is not None and not mode.reads_video and not cfg.live.enabled:
        cfg.frames = frames_of_audio(audio.duration, cfg.fps)
    check_config(cfg, mode)
    live_source = live_input_facts(cfg)
    source = probe_video(cfg.input) if mode.reads_video and not live_source else None  # decoded to count its frames
    head = loop_length(cfg)
    frames = video_frame_count(cfg.frames, source) if source else endless_or(cfg.frames, head)
    variables = audio_variables(cfg, run_dir, frames, head, audio, source)
    tempo = tempo_schedule_parts(cfg.tempo, source.fps if source else cfg.fps, frames, head,
                                 audio or (cfg.input if source else None))
    camera = camera_for(cfg.motion, cfg.fps) if mode.moves_camera else None
    timeline = Timeline(cfg, frames, [variables, tempo.variables], (*ANIMATED_KEYS, *camera_keys()), tempo.time)
    if cfg.replay:
        replay_changes(timeline, cfg.replay)  # a live performance's changes, at the frames they were made
    masks = mask_settings(cfg.mask, timeline.track("mask.strength")) if cfg.mask.source else None
    plan = RenderPlan(cfg, mode, frames, source, audio, head, timeline, camera, masks, variables, tempo,
                      live_source=live_source)
    check_render(plan, noting(warn, plan.notes))
    return plan


def check_config(cfg: RenderConfig, mode: Mode) -> None:
    """The checks of single keys and of what the mode can honour."""
    validate(cfg, mode.sized_by_input)
    check_cadence(cfg.dream.cadence, cfg.live.enabled)
    mode.check(cfg)
    flow_settings(cfg.video)  # the flow keys are checked beside the flow code
    check_segment_keys(cfg.segment)
    if cfg.mask.track == "flow" and cfg.segment.count > 1:
        raise UserError("mask.track=flow carries the first frame's mask through every frame before, so a video "
                        "dream with it can't be split into segments: leave out segment.count or mask.track.")


def live_input_facts(cfg: RenderConfig) -> LiveSourceInfo | None:
    """``live.input`` opened once and probed (refused here, before the run folder, when ffmpeg can't read it).

    A null ``width``/``height`` takes the source's picture (one alone keeps its aspect); a file sets ``fps`` to its
    own rate, as it plays at its own speed; a device or URL is paced at ``fps`` (give the stream's rate).
    """
    if cfg.live.input is None:
        return None
    info = probe_live_input(cfg.live.input)
    cfg.width, cfg.height = output_size(cfg, info)
    check_frame_memory(cfg.width, cfg.height)
    if info.kind == "file":
        cfg.fps = float(info.fps)
    return info


def endless_or(frames: int | None, extra: int) -> int | None:
    """``frames`` plus a loop's ``extra`` frames; None (an endless render) stays None."""
    return None if frames is None else frames + extra
