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


@dataclass(frozen=True)
class Feature:
    """Something a render may ask for that only some modes do.

    Attributes:
        fact: the ``Mode`` attribute that says a mode does it.
        asked: cfg -> the setting that asks for it, as given (``loop=true``); None when the render doesn't.
        does: what the setting does, said after it.
        example: a render that does it.
    """

    fact: str
    asked: Callable[[RenderConfig], str | None]
    does: str
    example: str


FEATURES = (
    Feature("streams_live", lambda cfg: "live.enabled=true" if cfg.live.enabled else None,
            "streams the render while it is made", "make live conf=zoom_places"),
    Feature("dreams_every", lambda cfg: f"dream.cadence={cfg.dream.cadence}" if cfg.dream.cadence != 1 else None,
            "dreams every N-th frame and moves the frames between", 'make render conf=smoke ARGS="dream.cadence=2"'),
    Feature("closes_loop", lambda cfg: "loop=true" if cfg.loop else None,
            "closes the clip on itself for seamless looping", 'make render conf=smoke ARGS="loop=true"'),
    Feature("starts_from_class", lambda cfg: f"init={cfg.init}" if class_start_target(cfg.init) else None,
            "starts the animation from a class visualisation", 'make render conf=smoke ARGS="init=class:banana"'),
    Feature("mask_follows_camera",
            lambda cfg: "mask.follow=camera" if cfg.mask.source and cfg.mask.follow == "camera" else None,
            "moves the mask with the camera", 'make render conf=smoke ARGS="mask.source=mask.png mask.follow=camera"'),
    Feature("reads_video", lambda cfg: "mask.track=flow" if cfg.mask.source and cfg.mask.track == "flow" else None,
            "carries the first frame's mask along the source video's motion",
            'make render conf=video_dream ARGS="input=clip.mp4 mask.source=mask.png mask.track=flow"'),
)
LIVE_INPUT_FEATURES = ("streams_live", "dreams_every")  # a live source is streamed and paced as it comes
LIVE_INPUT_EXAMPLE = 'make live conf=video_dream ARGS="live.input=clip.mp4"'


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
        moves_camera: the frames follow a moving camera (the ``motion`` keys): the plan picks one for the mode.
        streams_live: streams while it renders (``live.enabled``), endlessly with ``frames=null``.
        dreams_every: dreams every N-th frame (``dream.cadence``); the frames between follow the camera.
        closes_loop: closes its clip on itself (``loop=true``).
        starts_from_class: starts from a class visualisation (``init=class:NAME``).
        mask_follows_camera: its mask may move with the camera (``mask.follow=camera``).
        dreams_live_input: dreams over a live source (``live.input``) instead of ``input``; with one it streams
            and dreams every N-th frame, whatever ``streams_live`` and ``dreams_every`` say.
    """

    name: str
    render: Callable[..., dict]
    estimate: Callable[..., Estimate]
    quicker: Callable[[RenderConfig, Estimate], list[str]]
    required: tuple[tuple[str, str], ...] = ()
    reads_video: bool = False
    sized_by_input: bool = False
    moves_camera: bool = False
    streams_live: bool = False
    dreams_every: bool = False
    closes_loop: bool = False
    starts_from_class: bool = False
    mask_follows_camera: bool = False
    dreams_live_input: bool = False

    def check(self, cfg: RenderConfig) -> None:
        """Refuse, once at start, what this mode can't honour: one UserError naming the fix."""
        class_start_target(cfg.init)  # neither noise nor class:NAME is refused in any mode
        live_input = self.dreams_live_input and cfg.live.input is not None
        for feature in FEATURES:
            given = feature.asked(cfg)
            done = getattr(self, feature.fact) or (live_input and feature.fact in LIVE_INPUT_FEATURES)
            if given is not None and not done:
                self.refuse_feature(feature, given)
        if cfg.loop and cfg.frames is None:
            raise UserError("loop=true closes a clip of frames=N frames on itself; an endless render (frames=null) "
                            "has no end to close. Give frames=N, or drop loop=true.")
        for key, missing in self.required:
            if not getattr(cfg, key) and not (key == "input" and live_input):
                raise UserError(missing)
        if cfg.segment.count > 1 and not self.reads_video:
            self.refuse_segments(cfg.segment.count)

    def refuse_feature(self, feature: Feature, given: str) -> None:
        """``given`` asks for ``feature``, which this mode lacks: say which modes do it, and how to go without."""
        modes = [mode.name for mode in MODES.values() if getattr(mode, feature.fact)]
        over_live_source = ""
        if self.dreams_live_input and feature.fact in LIVE_INPUT_FEATURES:
            over_live_source = f" unless they dream over a live source ({LIVE_INPUT_EXAMPLE})"
        raise UserError(f"{given} {feature.does}, which {self.name} renders don't do{over_live_source}. "
                        f"{' and '.join(modes).capitalize()} renders do (e.g. {feature.example}); or leave "
                        f"{given.split('=')[0]} out.")

    def refuse_segments(self, count: int) -> None:
        """Only a video dream is split into segments (a zoom's frames grow from each other)."""
        raise UserError(
            f"segment.count={count} splits a video dream, but this is a {self.name} render. Zoom animations are "
            f"sequential by nature (each frame is dreamed from the last), so they can't be split; render many of "
            f"them at once instead with a sweep, e.g. -m seed=1,2,3,4 hydra/launcher=joblib."
        )


MODES = {mode.name: mode for mode in (
    Mode("zoom", render_zoom, estimate_zoom, fewer_frames, moves_camera=True, streams_live=True, dreams_every=True,
         closes_loop=True, starts_from_class=True, mask_follows_camera=True),
    Mode("image", render_still, estimate_still, smaller, sized_by_input=True,
         required=(("input", "The dream_image preset dreams a photo: pass one with input=photo.jpg."),)),
    Mode("video", render_video, estimate_video, fewer_frames, reads_video=True, sized_by_input=True,
         dreams_live_input=True,
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
