"""The render modes by name (``mode=``): what each one renders with, and what it is, as named facts.

``run`` looks the mode up once (``mode_of``) and asks it to check the config once, before
anything is written (``Mode.check``); every other part of the render reads the mode's facts
instead of testing the ``mode`` string.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dream.errors import UserError
from render.config import RenderConfig, class_start_target
from render.estimate import Estimate, fewer_frames, fewer_steps, smaller
from render.modes.still import estimate_still, render_still
from render.modes.video_dream import estimate_video, render_video
from render.modes.visualize import estimate_visualization, render_visualization
from render.modes.zoom import estimate_zoom, render_zoom

# (mask key, its value that only some modes honour, the renders that do)
MASK_SCOPES = (("track", "flow", "video"), ("follow", "camera", "zoom"))


@dataclass(frozen=True)
class Mode:
    """One render mode.

    Attributes:
        name: the value of ``mode=``.
        render: (plan, run_dir, engine, console, resume, stop) -> facts for meta.json.
        estimate: (cfg, engine, frames, source video or None) -> Estimate, measured before the first frame
            (render/estimate.py).
        quicker: (cfg, estimate) -> overrides that do about a quarter of the mode's work.
        required: (top-level key, what to say when it is empty) for each key the mode can't do without.
        reads_video: dreams over a source video: probed once, its own frame count and audio, may be split into
            segments, its mask may follow the source's flow (``mask.track=flow``).
        sized_by_input: ``frames``, ``width`` and ``height`` may be null: the input decides them.
        animates_camera: the frames follow a moving camera from a start image: live streams, ``dream.cadence``,
            ``loop``, ``init=class:NAME`` and masks that follow the camera (``mask.follow=camera``).
    """

    name: str
    render: Callable[..., dict]
    estimate: Callable[..., Estimate]
    quicker: Callable[[RenderConfig, Estimate], list[str]]
    required: tuple[tuple[str, str], ...] = ()
    reads_video: bool = False
    sized_by_input: bool = False
    animates_camera: bool = False

    def check(self, cfg: RenderConfig) -> None:
        """Refuse, once at start, what this mode can't honour: one UserError naming the fix."""
        start_class = class_start_target(cfg.init)
        live_input = self.reads_video and cfg.live.input is not None  # streamed and paced like a zoom
        if not self.animates_camera:
            self.refuse_camera_keys(cfg, start_class, streams=live_input)
        elif cfg.frames is None and cfg.loop:
            raise UserError("loop=true closes a clip of frames=N frames on itself; an endless render (frames=null) "
                            "has no end to close. Give frames=N, or drop loop=true.")
        for key, missing in self.required:
            if not getattr(cfg, key) and not (key == "input" and live_input):
                raise UserError(missing)
        if cfg.segment.count > 1 and not self.reads_video:
            self.refuse_segments(cfg.segment.count)
        self.check_mask_scope(cfg)

    def refuse_camera_keys(self, cfg: RenderConfig, start_class: str | None, streams: bool = False) -> None:
        """Live streams, cadence, loops and class starts given to a mode without a camera: refused (live streams and
        cadence not when it ``streams`` a live input)."""
        if not streams and (cfg.live.enabled or cfg.dream.cadence != 1):
            live_input = " or dream over a live source (make live conf=video_dream ARGS=\"live.input=clip.mp4\")"
            raise UserError(
                f"live.enabled=true and dream.cadence stream and pace zoom renders; this render's mode is "
                f"'{self.name}'. Use a zoom preset (make live conf=zoom_places){live_input if self.reads_video else ''}"
                f", or leave live.enabled and dream.cadence at their defaults."
            )
        if cfg.loop:
            self.refuse_zoom_key("loop=true", "closes a zoom on itself")
        if start_class is not None:
            self.refuse_zoom_key(f"init={cfg.init}", "starts a zoom from a class visualisation")

    def refuse_zoom_key(self, given: str, does: str) -> None:
        raise UserError(f"{given} {does}, but this render's mode is '{self.name}'. Use a zoom preset (make render "
                        f"conf=smoke ARGS=\"{given}\"), or leave {given.split('=')[0]} out.")

    def refuse_segments(self, count: int) -> None:
        """Only a video dream is split into segments (a zoom's frames grow from each other)."""
        raise UserError(
            f"segment.count={count} splits a video dream, but this is a {self.name} render. Zoom animations are "
            f"sequential by nature (each frame is dreamed from the last), so they can't be split; render many of "
            f"them at once instead with a sweep, e.g. -m seed=1,2,3,4 hydra/launcher=joblib."
        )

    def check_mask_scope(self, cfg: RenderConfig) -> None:
        """``mask.track=flow`` needs a source video, ``mask.follow=camera`` a camera."""
        honoured = {"video": self.reads_video, "zoom": self.animates_camera}
        for key, value, renders in MASK_SCOPES:
            if cfg.mask.source and getattr(cfg.mask, key) == value and not honoured[renders]:
                raise UserError(f"mask.{key}={value} applies to {renders} renders only, not to this {self.name} "
                                f"render. Leave mask.{key} out.")


MODES = {mode.name: mode for mode in (
    Mode("zoom", render_zoom, estimate_zoom, fewer_frames, animates_camera=True),
    Mode("image", render_still, estimate_still, smaller, sized_by_input=True,
         required=(("input", "The dream_image preset dreams a photo: pass one with input=photo.jpg."),)),
    Mode("video", render_video, estimate_video, fewer_frames, reads_video=True, sized_by_input=True,
         required=(("input", "Dreaming a video needs one: pass input=clip.mp4."),)),
    Mode("visualize", render_visualization, estimate_visualization, fewer_steps,
         required=(("target", "Visualisation needs a target: pass a class name or index (target=banana) or "
                              "target=LAYER:CHANNEL."),)),
)}


def mode_of(cfg: RenderConfig) -> Mode:
    """The mode ``cfg.mode`` names; an unknown name is a UserError listing the modes."""
    if cfg.mode not in MODES:
        raise UserError(f"Config key 'mode' is '{cfg.mode}', but must be one of: {', '.join(MODES)}.")
    return MODES[cfg.mode]
