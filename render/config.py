"""The typed config: dataclasses registered in Hydra's ConfigStore, checked once at start.

Presets in ``conf/`` start from ``base_config`` (this schema), so a YAML value of
the wrong type or an unknown key fails at compose time; ``validate`` then checks
ranges and schedule strings and raises one clear ``UserError``.

Values that may be animated (``Any`` below) accept a number, a Deforum keyframe
string (``"0:(1.04), 120:(1.0)"``) or a mapping ``{0: 1.04, 120: 1.0}``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import OmegaConf

from dream.errors import UserError


@dataclass
class ModelConfig:
    name: str = "efficientnet_lite0"
    weights: str | None = None  # a local weights file instead of the model's own source
    fallback: str | None = None  # used (loudly) when the weights can't be had


@dataclass
class DreamConfig:
    layer: str | None = None  # null: the model's own dream layer
    layers: Any | None = None  # keyframed layer tour {frame: layer}, crossfaded
    crossfade: int = 24  # frames over which one tour layer hands over to the next
    objective: Any | None = None  # list of terms {layer, channel, class, guide, weight}
    octaves: Any = 4
    octave_scale: float = 1.4
    iterations: Any = 10
    step_size: Any = 1.5
    jitter: int = 32
    tile_size: Any = "auto"  # auto (tile only when the frame won't fit in memory) | side in pixels | 0 = never
    first_frame_iterations: int | None = None  # more steps on frame 0 so structure exists at once
    cadence: Any = 1  # dream every N-th frame, the frames between follow the camera (1..8) | auto (live)


@dataclass
class MotionConfig:
    zoom: Any = 1.0  # scale per frame (>1 flies in)
    angle: Any = 0.0  # degrees per frame, counter-clockwise
    translation_x: Any = 0.0  # pixels per frame
    translation_y: Any = 0.0
    center_x: Any = 0.5  # transform centre as a fraction of the width
    center_y: Any = 0.5
    border: str = "reflection"  # reflection | replicate | zeros
    sampling: str = "bilinear"  # bilinear | bicubic
    interpolation: str = "linear"  # how keyframes are joined: linear | cubic | step
    rate_fps: float | None = None  # per-frame motion is given at this fps; rescaled to `fps`


@dataclass
class ColorConfig:
    coherence: str = "lab"  # none | lab | rgb: match each frame's colour statistics to the anchor's
    strength: float = 1.0
    anchor: str = "frame0"  # frame0 (the first frame's, or the input photo's) | an image's path | none (free)
    hue_turn: Any = 0.0  # degrees per frame, a schedule: a deliberate turn of the palette's hue


def validate_color(color: ColorConfig) -> None:
    """``color.strength`` and ``color.anchor``: one UserError naming the key and a valid value."""
    if not 0.0 <= color.strength <= 1.0:
        raise UserError(f"Config key 'color.strength' is {color.strength}, but must be in 0..1.")
    if color.anchor not in ("frame0", "none") and not Path(color.anchor).expanduser().is_file():
        raise UserError(f"Config key 'color.anchor' is '{color.anchor}', but must be frame0 (hold the first frame's "
                        "palette), none (let it go) or an existing image file whose palette is held, e.g. "
                        "color.anchor=palette.jpg.")


@dataclass
class OutputConfig:
    name: str = "dream"
    crf: int = 18
    preset: str = "medium"
    png_frames: bool = False
    checkpoint_every: int = 240  # frames between resume points; each restarts the encoder (a faint texture twitch)
    preview_every_s: float = 1.0
    webm: bool = False  # also a VP9 WebM for the web
    gif: bool = False  # also an optimised looping GIF
    gif_width: int = 480
    gif_fps: float = 15.0
    poster: bool = True  # a poster image per clip


@dataclass
class VisualizeConfig:
    """Dreams from noise with a natural-image prior (class and channel visualisation)."""

    # maco (phase only, the Fourier magnitude of natural photos) | fourier (lucid: decorrelated colour +
    # 1/f-scaled spectrum) | pixel (plain ascent)
    parameterization: str = "maco"
    steps: int = 64  # enough for a zoom start; the class_visualize preset takes 128 (fourier wanted 256-512)
    learning_rate: float | None = None  # null: the parameterisation's own (maco 1.0 with NAdam, else 0.05 with Adam)
    batch: int = 1  # several images at once
    diversity: float = 0.0  # weight of the term pushing batch images apart
    ensemble: list = field(default_factory=list)  # models optimised together for class targets; empty: `model` alone
    crops: int = 6  # random crops per image per step (MaCo robustness); 0: jitter, scales and rotation instead
    crop_range: list = field(default_factory=lambda: [0.7, 1.3])  # crop side, fraction of the shorter side: object size
    crop_size: int = 192  # side each crop is resized to for the network: objects drawn larger, 1.6x faster than 224
    crop_noise: float = 0.05  # standard deviation of the noise added to each crop
    jitter: int = 16  # transformation robustness when crops is 0: random shift in pixels
    scales: list = field(default_factory=lambda: [1.0, 0.975, 1.025, 0.95, 1.05])
    rotate_degrees: float = 5.0
    size: int = 320  # side of the optimised image (the canvas) before it is scaled to width x height
    importance_fade: float = 0.0  # 0..1: fade areas where little gradient accumulated toward grey
    background: str = "calm"  # calm: blur and fade where the importance map is empty | keep: as optimised
    coarse_size: int = 320  # a larger canvas is optimised at this side first, then grown (maco)
    detail_steps: int = 48  # steps at the full size of a canvas larger than coarse_size


@dataclass
class VideoConfig:
    """Dreaming over an existing video (mode: video)."""

    blend: Any = 0.8  # how much of the previous dream, carried along the optical flow, enters each frame
    strength: Any = 1.0  # 0 = the source, 1 = the full dream
    flow: str = "dis"
    flow_preset: str = "medium"
    occlusion_threshold: float = 1.0  # forward-backward flow disagreement (pixels) marking a pixel unreliable
    scene_cut_threshold: float = 0.1  # flow-compensated grey difference above which the previous dream is dropped
    batch: int = 1


@dataclass
class SegmentConfig:
    """One of ``count`` pieces of a video dream, rendered as its own job (render/segments/plan.py)."""

    count: int = 1  # pieces the video is split into; 1 = the whole video in one render
    index: int = 0  # which piece this render makes, 0..count-1
    warmup: int = 30  # frames dreamed (and dropped) before the piece's first frame, so the carried dream converges
    crossfade: int = 30  # frames over which the join dissolves each piece into the next (at most the warm-up)


@dataclass
class SpeedConfig:
    """How fast the network runs (dream/speed.py); defaults are safe everywhere."""

    precision: str = "auto"  # auto (bfloat16 where the hardware has bf16 units) | float32 | bfloat16 | float16
    channels_last: bool = True
    cudnn_benchmark: bool = True
    compile: str = "none"  # none | default | reduce-overhead (CUDA graphs) | max-autotune


@dataclass
class LiveConfig:
    """Streaming while rendering: a rolling HLS playlist and its page, served by the render; RTMP."""

    enabled: bool = False
    host: str = "127.0.0.1"  # where the page is served: this machine only; 0.0.0.0 for screens on the network
    port: int = 8000  # the page is at http://HOST:PORT/
    url: str | None = None  # rtmp://... or rtmps://...: also push the stream to a streaming site
    record: bool = False  # also keep the whole render as the usual mp4


@dataclass
class MaskConfig:
    """Where to dream (render/ops/mask.py): outside the mask every frame is its source, exactly."""

    source: str | None = None  # a greyscale image or video (white = dream, black = keep) | key:CHANNEL:LOW-HIGH[+...]
    invert: bool = False  # dream where the mask is black instead
    feather: int = 8  # pixels of soft edge (0: a hard edge)
    strength: Any = 1.0  # 0..1, a schedule: how much of the dream shows inside the mask
    track: str = "none"  # none | flow (video: the first frame's mask follows the source's motion)
    follow: str = "screen"  # screen (a window into the dream) | camera (zoom: the mask moves with the camera)


@dataclass
class RenderConfig:
    preset: str = "custom"  # the preset's name, for run folders and meta.json
    mode: str = "zoom"  # zoom | image | video | visualize
    frames: int | None = 120  # video: null = every source frame; with audio: null = the track's length
    width: int | None = 640  # video: null = the source's size
    height: int | None = 360
    fps: float = 30.0
    seed: int = 0
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    input: str | None = None  # image (zoom, image) or video (video); null: start from noise
    resume: str | None = None  # run folder of an interrupted render to continue
    target: str | None = None  # visualize: a class name or index, or LAYER:CHANNEL
    init: str = "noise"  # zoom start: noise | class:NAME (a class visualisation)
    loop: bool = False  # zoom: close the animation on itself for seamless looping playback
    loop_frames: int = 30  # zoom loop: frames over which the tail crossfades into the head
    audio: str | None = None  # a soundtrack (any file ffmpeg reads); its features drive schedules, zooms get it muxed
    audio_smoothing: float = 0.1  # seconds over which audio features fall off after a peak (0: none)
    model: ModelConfig = field(default_factory=ModelConfig)
    dream: DreamConfig = field(default_factory=DreamConfig)
    motion: MotionConfig = field(default_factory=MotionConfig)
    color: ColorConfig = field(default_factory=ColorConfig)
    output: OutputConfig = field(default_factory=OutputConfig)
    visualize: VisualizeConfig = field(default_factory=VisualizeConfig)
    video: VideoConfig = field(default_factory=VideoConfig)
    speed: SpeedConfig = field(default_factory=SpeedConfig)
    segment: SegmentConfig = field(default_factory=SegmentConfig)
    live: LiveConfig = field(default_factory=LiveConfig)
    mask: MaskConfig = field(default_factory=MaskConfig)


CLASS_START = "class:"  # init=class:NAME: the zoom starts from a class visualisation of NAME


def class_start_target(init: str) -> str | None:
    """The class (or LAYER:CHANNEL) an ``init`` value starts the zoom from; None for ``noise``.

    Raises:
        UserError: neither ``noise`` nor ``class:NAME``.
    """
    if init == "noise":
        return None
    target = init.removeprefix(CLASS_START).strip() if init.startswith(CLASS_START) else ""
    if target:
        return target
    raise UserError(f"Config key 'init' is '{init}', but must be 'noise' or 'class:NAME' (e.g. init=class:banana).")


FOLDER_NAME_BYTES = 200  # file systems refuse names over 255 bytes; room left for the job number


def folder_name(overrides: str) -> str:
    """A sweep job's folder name from its overrides: one path component, at most ``FOLDER_NAME_BYTES`` bytes.

    A long schedule would otherwise make a name the file system refuses, and a path value would nest folders;
    a cut name ends in a hash of the whole, so two jobs never share a folder.
    """
    name = overrides.replace("/", "_").replace("\\", "_")
    if len(name.encode()) <= FOLDER_NAME_BYTES:
        return name
    digest = hashlib.sha1(overrides.encode()).hexdigest()[:10]
    head = name.encode()[: FOLDER_NAME_BYTES - len(digest) - 1].decode(errors="ignore")
    return f"{head}~{digest}"


def register_configs() -> None:
    """Make ``base_config`` and the group schemas known to Hydra, and the ``folder_name`` resolver."""
    store = ConfigStore.instance()
    store.store(name="base_config", node=RenderConfig)
    OmegaConf.register_new_resolver("folder_name", folder_name, replace=True)


CHOICES = {
    "visualize.parameterization": ("maco", "fourier", "pixel"),
    "speed.precision": ("auto", "float32", "bfloat16", "float16"),
    "speed.compile": ("none", "default", "reduce-overhead", "max-autotune"),
    "motion.border": ("reflection", "replicate", "zeros"),
    "motion.sampling": ("bilinear", "bicubic"),
    "motion.interpolation": ("linear", "cubic", "step"),
    "color.coherence": ("none", "lab", "rgb"),
}

POSITIVE = ("frames", "width", "height", "fps", "dream.octave_scale", "output.checkpoint_every")


def _get(cfg: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        cfg = getattr(cfg, part)
    return cfg


def validate(cfg: RenderConfig, sized_by_input: bool = False) -> None:
    """Range and choice checks the schema's types can't express; one UserError per problem.

    The mode (``render.modes.registry.mode_of``) checks ``mode`` and its own keys, the flow keys are checked beside
    the flow code (``render.ops.flow.flow_settings``); ``run`` calls them all.

    Args:
        sized_by_input: the render's mode takes ``frames``, ``width`` and ``height`` from its input when they are null.
    """
    for key, choices in CHOICES.items():
        value = _get(cfg, key)
        if value not in choices:
            raise UserError(f"Config key '{key}' is '{value}', but must be one of: {', '.join(choices)}.")
    for key in POSITIVE:
        value = _get(cfg, key)
        if value is None and sized_by_input and key in ("frames", "width", "height"):
            continue
        if value is None and key == "frames" and cfg.audio:
            continue  # the track's length at fps, filled in by run()
        if value is None and key == "frames" and cfg.live.enabled:
            continue  # endless: streams until stopped
        if value is None or not value > 0:
            raise UserError(f"Config key '{key}' is {value}, but must be greater than 0 (e.g. {key}=120).")
    if cfg.video.batch < 1:
        raise UserError(f"Config key 'video.batch' is {cfg.video.batch}, but must be at least 1 (frames per dream).")
    if cfg.dream.jitter < 0 or cfg.dream.crossfade < 0:
        raise UserError("Config keys 'dream.jitter' and 'dream.crossfade' must be 0 or more.")
    tile = cfg.dream.tile_size
    if tile != "auto" and (isinstance(tile, bool) or not isinstance(tile, int) or tile < 0):
        raise UserError(f"Config key 'dream.tile_size' is '{tile}', but must be 'auto', a tile side in pixels "
                        "(e.g. dream.tile_size=512) or 0 (never tile).")
    if not 0 <= cfg.output.crf <= 51:
        raise UserError(f"Config key 'output.crf' is {cfg.output.crf}, but must be in 0..51 (18 looks lossless).")
    validate_visualize(cfg.visualize)
    validate_live(cfg.live)
    if not cfg.audio_smoothing >= 0:
        raise UserError(f"Config key 'audio_smoothing' is {cfg.audio_smoothing}, but must be 0 or more seconds.")
    validate_color(cfg.color)


def validate_live(live: LiveConfig) -> None:
    """The port and RTMP address of ``live``: one UserError naming the key and a valid value."""
    if not 0 <= live.port <= 65535:
        raise UserError(
            f"Config key 'live.port' is {live.port}, but must be a TCP port 1..65535 (e.g. live.port=8000; 0 picks "
            "a free one)."
        )
    if live.url is not None and not live.url.startswith(("rtmp://", "rtmps://")):
        raise UserError(
            f"Config key 'live.url' is '{live.url}', but must be an RTMP ingest address, e.g. "
            "live.url=rtmp://a.rtmp.youtube.com/live2/STREAM_KEY (quote it in the shell)."
        )


def validate_visualize(settings: VisualizeConfig) -> None:
    """The crop range, crop size and fade of ``visualize``: one UserError naming the key and a valid value."""
    low, high = (list(settings.crop_range) + [None, None])[:2]
    if len(settings.crop_range) != 2 or not (isinstance(low, (int, float)) and isinstance(high, (int, float))) or not (
        0 < low <= high <= 2
    ):
        raise UserError(
            f"Config key 'visualize.crop_range' is {list(settings.crop_range)}, but must be two fractions "
            "0 < smallest <= largest <= 2 of the image's shorter side (above 1 a crop holds the whole image, smaller; "
            "e.g. visualize.crop_range=[0.7,1.3])."
        )
    if settings.crops < 0 or settings.crop_size < 8 or settings.steps < 1:
        raise UserError(
            "Config keys 'visualize.crops' (0 or more), 'visualize.crop_size' (8 or more) and 'visualize.steps' "
            f"(1 or more) are {settings.crops}, {settings.crop_size} and {settings.steps}."
        )
    if not 0.0 <= settings.importance_fade <= 1.0:
        raise UserError(f"Config key 'visualize.importance_fade' is {settings.importance_fade}, but must be in 0..1.")
    if settings.background not in ("calm", "keep"):
        raise UserError(f"Config key 'visualize.background' is '{settings.background}', but must be calm (blurred "
                        "and faded where the importance map is empty) or keep (as optimised).")
    if settings.coarse_size < 8 or settings.detail_steps < 0:
        raise UserError(
            f"Config keys 'visualize.coarse_size' (8 or more) and 'visualize.detail_steps' (0 or more) are "
            f"{settings.coarse_size} and {settings.detail_steps} (e.g. visualize.coarse_size=320, "
            "visualize.detail_steps=48)."
        )
