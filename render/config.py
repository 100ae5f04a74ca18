"""The typed config: dataclasses registered in Hydra's ConfigStore, checked once at start.

Presets in ``conf/`` start from ``base_config`` (this schema), so a YAML value of
the wrong type or an unknown key fails at compose time; ``validate`` then checks
ranges and schedule strings and raises one clear ``UserError``.

Values that may be animated (``Any`` below) accept a number, a Deforum keyframe
string (``"0:(1.04), 120:(1.0)"``) or a mapping ``{0: 1.04, 120: 1.0}``.

A key with a closed set of values has a ``Choice`` enum as its type, its words spelled once
below. Keys that also take a path, a number or a name (``color.anchor``, ``init``, ``device``,
``dream.tile_size``) are ``str``/``Any``, checked by ``validate``; ``mode`` is a name of the mode
registry (``render.modes.registry.MODES``), where a mode is added.
"""

from __future__ import annotations

import hashlib
import typing
from dataclasses import dataclass, field, is_dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import OmegaConf

from dream.errors import UserError


class Choice(str, Enum):
    """A closed choice of a config key, shown as its value wherever it is printed or saved.

    Members are named by their values (``choice``): OmegaConf reads an enum key by member name, so
    ``speed.compile=reduce-overhead`` is taken as typed, and saved config files hold the same words.
    A member equals its plain string (``Coherence.lab == "lab"``) and hashes as it (an enum hashes its name),
    so tables keyed by the words find it; ``str`` and f-strings give the word (a plain str-mixin enum gives
    ``Coherence.lab`` on Python 3.11).
    """

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)


def choice(name: str, *values: str) -> Any:
    """A ``Choice`` enum called ``name`` whose members are ``values``, each named by itself.

    The functional form takes names that are not Python names (``reduce-overhead``); members are reached
    as ``CompileMode["reduce-overhead"]`` or, where the name allows, ``Coherence.lab``.
    """
    return Choice(name, [(value, value) for value in values], module=__name__)


Parameterization = choice("Parameterization", "maco", "fourier", "pixel")  # dream/param.py builds each
Background = choice("Background", "calm", "keep")  # dream/visualize.py's picture backgrounds
Precision = choice("Precision", "auto", "float32", "bfloat16", "float16")  # auto: decided by render/engine.py
CompileMode = choice("CompileMode", "none", "default", "reduce-overhead", "max-autotune")  # torch.compile's modes
Border = choice("Border", "reflection", "replicate", "zeros")  # kornia's padding modes
Sampling = choice("Sampling", "bilinear", "bicubic")
Interpolation = choice("Interpolation", "linear", "cubic", "step")
Coherence = choice("Coherence", "none", "lab", "rgb")
EncoderPreset = choice("EncoderPreset", "ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow",
                       "slower", "veryslow")  # x264's presets
FlowMethod = choice("FlowMethod", "dis")  # OpenCV's DIS, which needs no downloaded weights
FlowPreset = choice("FlowPreset", "ultrafast", "fast", "medium")  # DIS's presets
MaskTrack = choice("MaskTrack", "none", "flow")
MaskFollow = choice("MaskFollow", "screen", "camera")


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
    tilt_x: Any = 0.0  # degrees per frame the picture plane turns about the horizontal axis (perspective camera)
    tilt_y: Any = 0.0  # ... about the vertical axis
    fov: Any = 60.0  # the perspective camera's horizontal field of view, degrees
    border: Border = Border.reflection
    sampling: Sampling = Sampling.bilinear
    interpolation: Interpolation = Interpolation.linear  # how keyframes are joined
    rate_fps: float | None = None  # per-frame motion is given at this fps; rescaled to `fps`


@dataclass
class ColorConfig:
    coherence: Coherence = Coherence.lab  # match each frame's colour statistics to the anchor's (none: don't)
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
    preset: EncoderPreset = EncoderPreset.medium
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
    parameterization: Parameterization = Parameterization.maco
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
    background: Background = Background.calm  # calm: blur and fade where the importance map is empty | keep
    coarse_size: int = 320  # a larger canvas is optimised at this side first, then grown (maco)
    detail_steps: int = 48  # steps at the full size of a canvas larger than coarse_size


@dataclass
class VideoConfig:
    """Dreaming over an existing video (mode: video)."""

    blend: Any = 0.9  # how much of the earlier frames' dream, carried along the optical flow, enters each frame
    long_term: list[int] = field(default_factory=lambda: [2, 4])  # frames further back whose dream is carried too
    passes: int = 1  # 2: a backward pass reconciles the forward dream before any frame is written (offline)
    strength: Any = 1.0  # 0 = the source, 1 = the full dream
    flow: FlowMethod = FlowMethod.dis
    flow_preset: FlowPreset = FlowPreset.medium  # faster presets follow fast motion less exactly
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

    precision: Precision = Precision.auto  # auto: bfloat16 where the hardware has bf16 units
    channels_last: bool = True
    cudnn_benchmark: bool = True
    compile: CompileMode = CompileMode.none  # reduce-overhead captures CUDA graphs


@dataclass
class LiveConfig:
    """Streaming while rendering: a rolling HLS playlist and its page, served by the render; RTMP."""

    enabled: bool = False
    host: str = "127.0.0.1"  # where the page is served: this machine only; 0.0.0.0 for screens on the network
    port: int = 8000  # the page is at http://HOST:PORT/
    url: str | None = None  # rtmp://... or rtmps://...: also push the stream to a streaming site (its key: a secret)
    record: bool = False  # also keep the whole render as the usual mp4
    token: str | None = None  # the secret /control and OSC need; required when host is not this machine
    osc_port: int | None = None  # UDP port for OSC control (/dream/KEY VALUE); null: no OSC
    input: str | None = None  # video: a live source to dream over: /dev/video0, a URL (udp, srt, rtmp, http), a file


@dataclass
class MaskConfig:
    """Where to dream (render/ops/mask.py): outside the mask every frame is its source, exactly."""

    source: str | None = None  # a greyscale image or video (white = dream, black = keep) | key:CHANNEL:LOW-HIGH[+...]
    invert: bool = False  # dream where the mask is black instead
    feather: int = 8  # pixels of soft edge (0: a hard edge)
    strength: Any = 1.0  # 0..1, a schedule: how much of the dream shows inside the mask
    track: MaskTrack = MaskTrack.none  # flow (video): the first frame's mask follows the source's motion
    follow: MaskFollow = MaskFollow.screen  # screen: a window into the dream | camera (zoom): moves with it


@dataclass
class TempoConfig:
    """The beat grid of schedules (render/ops/tempo.py): bar:beat keys and the bar, beat, *_phase variables."""

    bpm: Any = None  # beats per minute | auto (found in the soundtrack) | null: no beat grid
    offset: Any = None  # seconds to the first downbeat (bar 1 beat 1) | auto | null: auto with bpm=auto, else 0
    meter: int = 4  # beats per bar
    changes: Any = None  # {bar: bpm}: from that bar's downbeat on the tempo is bpm, e.g. {17: 140, 33: 120}


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
    replay: str | None = None  # run folder of a live render: render the same performance again, offline
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
    tempo: TempoConfig = field(default_factory=TempoConfig)


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


def choice_type(key: str) -> Any:
    """The ``Choice`` enum of the dotted config ``key`` (``motion.border``); None for a key that is no choice."""
    section: Any = RenderConfig
    for part in key.split("."):
        section = typing.get_type_hints(section).get(part) if is_dataclass(section) else None
    return section if isinstance(section, type) and issubclass(section, Choice) else None


def choice_error(key: str, value: Any) -> UserError | None:
    """The paragraph for a bad ``value`` of the closed choice ``key``; None when ``key`` is no choice.

    OmegaConf refuses such a value itself, listing the enum's names; this says it as every other key's check does.
    """
    kind = choice_type(key)
    if kind is None:
        return None
    return UserError(f"Config key '{key}' is '{value}', but must be one of: {', '.join(kind)}.")


POSITIVE = ("frames", "width", "height", "fps", "output.checkpoint_every")
MIN_FPS = 1  # below, a motion written per frame at 30 fps is raised to powers that overflow
MAX_FPS = 240  # what players and screens show; more frames a second only makes a clip shorter
MAX_SEED = 2**63 - 1  # torch.Generator.manual_seed's range (a larger seed is an overflow deep in the render)
NAME_BYTES = 100  # an output name plus its longest suffix (_importance_N.png, .partial.mp4) stays far below 255
NAME_FORBIDDEN = set('/\\:*?"<>|')  # separators, and what Windows and shells make hard to handle
STILL_MODES = ("image", "visualize")  # one picture: no timeline for a soundtrack to drive


def _get(cfg: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        cfg = getattr(cfg, part)
    return cfg


def validate(cfg: RenderConfig, sized_by_input: bool = False) -> None:
    """Range checks the schema's types can't express; one UserError per problem.

    The closed choices are enums of the schema (``Choice``): a bad one fails when the config is composed or typed,
    as ``choice_error``'s paragraph.

    The mode (``render.modes.registry.mode_of``) checks ``mode`` and its own keys, the flow keys are checked beside
    the flow code (``render.ops.flow.flow_settings``); ``run`` calls them all.

    Args:
        sized_by_input: the render's mode takes ``frames``, ``width`` and ``height`` from its input when they are null.
    """
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
    validate_video(cfg.video)
    if cfg.video.passes == 2 and (cfg.segment.count > 1 or cfg.mask.source or cfg.live.input):
        raise UserError("Config key 'video.passes' is 2, which keeps every frame until the backward pass: it works "
                        "on one whole file, without segment.count, mask.source or live.input.")
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
    validate_live_input(cfg)
    validate_output_name(cfg.output.name)
    validate_dream(cfg.dream)
    validate_timing(cfg)
    check_frame_memory(cfg.width, cfg.height)
    validate_tempo(cfg.tempo, has_sound=bool(cfg.audio) or cfg.mode == "video")
    if not cfg.audio_smoothing >= 0:
        raise UserError(f"Config key 'audio_smoothing' is {cfg.audio_smoothing}, but must be 0 or more seconds.")
    validate_color(cfg.color)


LONGEST_REACH = 16  # frames back video.long_term may carry from: each is held in memory and costs a flow a frame


def validate_video(video: VideoConfig) -> None:
    """``video.batch`` and ``video.long_term`` (the flow keys are checked in ``render.ops.flow``)."""
    if video.batch < 1:
        raise UserError(f"Config key 'video.batch' is {video.batch}, but must be at least 1 (frames per dream).")
    distances = list(video.long_term)
    if any(not 2 <= d <= LONGEST_REACH for d in distances) or len(set(distances)) != len(distances):
        raise UserError(
            f"Config key 'video.long_term' is {distances}, but must list distinct frame distances from 2 to "
            f"{LONGEST_REACH} (e.g. video.long_term=[2,4]; [] carries the previous frame's dream only)."
        )
    if video.passes not in (1, 2):
        raise UserError(f"Config key 'video.passes' is {video.passes}, but must be 1 (forward) or 2 (forward, then "
                        "a backward pass that reconciles the two directions).")


def validate_output_name(name: str) -> None:
    """``output.name`` is a plain file name inside the run folder: one clear UserError otherwise.

    The media are written as NAME.mp4, NAME_poster.jpg, ... in the run folder; a path would write outside it
    (``../x``) or into a folder that isn't there (``sub/clip``), an empty or dotted name makes hidden files.
    """
    fix = ("Give a plain file name without a folder or suffix (e.g. output.name=clip); the folder is chosen with "
           "hydra.run.dir=PATH.")
    shown = repr(name) if name is not None else "empty"
    if name is None or not name.strip():
        raise UserError(f"Config key 'output.name' is {shown}: the media would have no name. {fix}")
    problems = []
    if NAME_FORBIDDEN & set(name) or name in (".", ".."):
        problems.append(f"holds {', '.join(sorted(NAME_FORBIDDEN & set(name))) or name}, which make a path")
    if name.startswith((".", "-")) or name != name.strip():
        problems.append("starts with '.' or '-' or a space (hidden, or read as an option by ffmpeg)")
    if any(ord(char) < 32 or ord(char) == 127 for char in name):
        problems.append("holds control characters")
    if len(name.encode(errors="surrogateescape")) > NAME_BYTES:
        problems.append(f"is longer than {NAME_BYTES} bytes (file systems take at most 255 with the suffixes)")
    if problems:
        raise UserError(f"Config key 'output.name' is {shown[:60] + ('...' if len(shown) > 60 else '')}, which "
                        f"{'; '.join(problems)}. {fix}")


def validate_dream(dream: DreamConfig) -> None:
    """The layer name and octave scale of ``dream``: one UserError naming the key and a valid value."""
    if dream.layer is not None and not str(dream.layer).strip():
        raise UserError(
            "Config key 'dream.layer' is empty. Leave it out (or dream.layer=null) for the model's own dream layer, "
            "or name one: list them with `.venv/bin/python -m render.tools.list layers MODEL`."
        )
    if not dream.octave_scale > 1:
        raise UserError(
            f"Config key 'dream.octave_scale' is {dream.octave_scale}, but must be greater than 1: each octave is "
            "that many times smaller than the next (1 would dream the same size again; 1.4 is the original). "
            "For one size only, use dream.octaves=1."
        )


def validate_timing(cfg: RenderConfig) -> None:
    """``fps``, ``seed`` and ``audio`` against what the render can honour: one UserError naming the key."""
    if not MIN_FPS <= cfg.fps <= MAX_FPS:
        raise UserError(f"Config key 'fps' is {cfg.fps}, but must be {MIN_FPS}..{MAX_FPS} frames a second: players "
                        "don't show more, and the motion per frame is scaled by it. For slow motion render more "
                        "frames (frames=N) at fps=30.")
    if cfg.motion.rate_fps is not None and not MIN_FPS <= cfg.motion.rate_fps <= MAX_FPS:
        raise UserError(f"Config key 'motion.rate_fps' is {cfg.motion.rate_fps}, but must be null (the motion is "
                        f"per frame as given) or the fps it was written for, {MIN_FPS}..{MAX_FPS} (e.g. "
                        "motion.rate_fps=30).")
    if not (cfg.output.gif_width > 0 and cfg.output.gif_fps > 0):
        raise UserError(f"Config keys 'output.gif_width' and 'output.gif_fps' are {cfg.output.gif_width} and "
                        f"{cfg.output.gif_fps}, but must be greater than 0 (e.g. output.gif_width=480 "
                        "output.gif_fps=15).")
    if not 0 <= cfg.seed <= MAX_SEED:
        raise UserError(f"Config key 'seed' is {cfg.seed}, but must be in 0..{MAX_SEED} (there is no random seed: "
                        "the same seed renders the same frames; e.g. seed=7).")
    if cfg.loop and cfg.loop_frames < 1:
        raise UserError(f"Config key 'loop_frames' is {cfg.loop_frames}, but a loop needs 1 or more frames to "
                        "crossfade its tail into its head (e.g. loop_frames=30).")
    if not cfg.output.preview_every_s >= 0:
        raise UserError(f"Config key 'output.preview_every_s' is {cfg.output.preview_every_s}, but must be 0 (every "
                        "frame) or more seconds (e.g. output.preview_every_s=1).")
    if cfg.audio and cfg.mode in STILL_MODES:
        raise UserError(f"audio={cfg.audio} can't be used with mode={cfg.mode}: a single picture has no timeline "
                        "for a soundtrack to drive or play under. Leave audio= out, or render an animation "
                        "(e.g. make render conf=zoom_places ARGS=\"audio=song.mp3\").")


def check_input_file(path: str | None, mode: str) -> None:
    """``input=`` names a file that is there: refused before the model loads, not when the first frame needs it.

    The command line checks it before the run folder is made; ``validate`` leaves it to the modes' own readers,
    so a config can be checked before its input exists.
    """
    if not path:
        return
    kind, example = ("video", "clip.mp4") if mode == "video" else ("image", "photo.jpg")
    file = Path(path).expanduser()
    if file.is_dir():
        raise UserError(f"Input {kind} {file} is a folder, not {'a' if kind == 'video' else 'an'} {kind}. Pass "
                        f"{'a' if kind == 'video' else 'an'} {kind} file, e.g. input={example}.")
    if not file.exists():
        raise UserError(f"Input {kind} {file} does not exist. Pass an existing {kind} file, e.g. input={example}.")


BYTES_PER_PIXEL = 4 * 3 * 8  # float32 RGB, about 8 copies alive at once (frame, octave bases, detail, gradient)


def check_frame_memory(width: int | None, height: int | None, available: int | None = None) -> None:
    """Refuse a frame whose bare copies can't fit in this machine's memory, before anything big is made.

    The network needs more on top (tiles bound that part); this is the floor no tiling can lower.

    Args:
        available: bytes of memory (None: what the machine has available now).
    """
    if not width or not height or width <= 0 or height <= 0:
        return
    needed = width * height * BYTES_PER_PIXEL
    available = available_memory() if available is None else available
    if available is None or needed <= available:
        return
    side = int((available / BYTES_PER_PIXEL / 2 * width / height) ** 0.5) // 8 * 8
    raise UserError(
        f"A {width}x{height} frame needs at least {needed / 2**30:,.1f} GiB of memory (its float copies alone, "
        f"before the network runs), and this machine has {available / 2**30:.1f} GiB available. Render a smaller "
        f"frame: e.g. width={max(8, side)} height={max(8, round(side * height / width) // 8 * 8)}."
    )


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation (Linux MemAvailable); None where it can't be read."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")  # addresses only this machine reaches


def validate_live(live: LiveConfig) -> None:
    """The ports, RTMP address and token of ``live``: one UserError naming the key and a valid value."""
    if live.enabled and live.host not in LOCAL_HOSTS and not live.token:
        raise UserError(
            f"Config key 'live.host' is {live.host}, so anyone on the network could steer the render through its "
            "control (POST /control, OSC); that needs a secret: add live.token=A_LONG_SECRET (control requests then "
            "send Authorization: Bearer A_LONG_SECRET, or open the page as http://HOST:PORT/?token=A_LONG_SECRET), "
            "or keep live.host=127.0.0.1 for this machine only."
        )
    if live.osc_port is not None and not 0 <= live.osc_port <= 65535:
        raise UserError(f"Config key 'live.osc_port' is {live.osc_port}, but must be a UDP port 1..65535 (e.g. "
                        "live.osc_port=9000) or null (no OSC).")
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


def validate_live_input(cfg: RenderConfig) -> None:
    """``live.input`` belongs to a live video dream and is a device or file that is there; whether ffmpeg can
    read it is checked by opening it, before the run folder is made (``render.live.input.probe_live_input``)."""
    spec = cfg.live.input
    if spec is None:
        return
    usage = f'make live conf=video_dream ARGS="live.input={spec}"'
    if cfg.mode != "video" or not (cfg.live.enabled or cfg.replay):  # a replay dreams the recorded source offline
        raise UserError(f"live.input={spec} is a live source for the video dream, so it needs mode=video and "
                        f"live.enabled=true (this render: mode={cfg.mode}, live.enabled={cfg.live.enabled}). "
                        f"Run {usage}.")
    if cfg.input:
        raise UserError(f"input={cfg.input} and live.input={spec} both name what to dream over; a live video dream "
                        f"reads live.input only. Leave out input=.")
    if cfg.segment.count > 1 or cfg.mask.source:
        raise UserError(f"A live video dream (live.input={spec}) is one endless stream without segments or a mask. "
                        f"Leave out segment.count and mask.source.")
    if "://" not in spec and not Path(spec).expanduser().exists():
        raise UserError(f"live.input={spec} does not exist. Pass a video file (looped), a device (live.input="
                        f"/dev/video0) or a stream URL (live.input=udp://127.0.0.1:5000), e.g. {usage}.")


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
    if settings.learning_rate is not None and not settings.learning_rate > 0:
        raise UserError(f"Config key 'visualize.learning_rate' is {settings.learning_rate}, but must be greater than "
                        "0, or null for the parameterisation's own (e.g. visualize.learning_rate=null).")
    if not settings.diversity >= 0:
        raise UserError(f"Config key 'visualize.diversity' is {settings.diversity}, but must be 0 (off) or more "
                        "(e.g. visualize.batch=4 visualize.diversity=50).")
    if not settings.scales or not all(isinstance(v, (int, float)) and v > 0 for v in settings.scales):
        raise UserError(f"Config key 'visualize.scales' is {list(settings.scales)}, but must be a list of one or "
                        "more factors above 0 (e.g. visualize.scales=[1.0,0.95,1.05]; [1.0] turns scaling off).")
    if settings.size < 8 or settings.batch < 1:
        raise UserError(
            f"Config keys 'visualize.size' (the canvas's shorter side, 8 or more pixels) and 'visualize.batch' "
            f"(pictures made together, 1 or more) are {settings.size} and {settings.batch} (e.g. visualize.size=320 "
            "visualize.batch=1)."
        )
    if settings.crops < 0 or settings.crop_size < 8 or settings.steps < 1:
        raise UserError(
            "Config keys 'visualize.crops' (0 or more), 'visualize.crop_size' (8 or more) and 'visualize.steps' "
            f"(1 or more) are {settings.crops}, {settings.crop_size} and {settings.steps}."
        )
    if not 0.0 <= settings.importance_fade <= 1.0:
        raise UserError(f"Config key 'visualize.importance_fade' is {settings.importance_fade}, but must be in 0..1.")
    if settings.coarse_size < 8 or settings.detail_steps < 0:
        raise UserError(
            f"Config keys 'visualize.coarse_size' (8 or more) and 'visualize.detail_steps' (0 or more) are "
            f"{settings.coarse_size} and {settings.detail_steps} (e.g. visualize.coarse_size=320, "
            "visualize.detail_steps=48)."
        )


AUTO = "auto"


def validate_tempo(tempo: TempoConfig, has_sound: bool) -> None:
    """``tempo``'s keys: one UserError naming the key and a valid value.

    Args:
        has_sound: the render has a soundtrack (``audio=``, or a video dream's own sound) that auto reads.
    """
    if tempo.bpm is None:
        if tempo.changes or tempo.offset not in (None, 0):
            raise UserError("Config keys 'tempo.offset' and 'tempo.changes' need a tempo: give tempo.bpm=N (beats "
                            "per minute) or tempo.bpm=auto.")
        return
    _check_tempo_value("tempo.bpm", tempo.bpm, "a tempo in beats per minute (e.g. tempo.bpm=120)", low=1.0)
    _check_tempo_value("tempo.offset", tempo.offset, "seconds to the first downbeat (e.g. tempo.offset=0.5)")
    if AUTO in (tempo.bpm, tempo.offset) and not has_sound:
        raise UserError("tempo.bpm=auto and tempo.offset=auto read the beat from the soundtrack, and this render "
                        "has none: pass audio=song.mp3, or give tempo.bpm=N and tempo.offset=SECONDS.")
    if isinstance(tempo.meter, bool) or not isinstance(tempo.meter, int) or not 1 <= tempo.meter <= 32:
        raise UserError(f"Config key 'tempo.meter' is {tempo.meter}, but must be the beats per bar, 1..32 "
                        "(e.g. tempo.meter=3 for a waltz).")
    validate_tempo_changes(tempo)


def _check_tempo_value(key: str, value: Any, what: str, low: float = 0.0) -> None:
    """``value`` is null, auto, or a number of at least ``low`` (below 1000)."""
    if value is None or value == AUTO:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value < 1000:
        raise UserError(f"Config key '{key}' is {value!r}, but must be {what}, or auto to find it in the audio.")


def validate_tempo_changes(tempo: TempoConfig) -> None:
    """``tempo.changes``: a mapping {bar (2 or more): bpm}, with a number for ``tempo.bpm``."""
    if not tempo.changes:
        return
    example = "e.g. tempo.changes='{17: 140, 33: 120}': 140 bpm from bar 17, 120 from bar 33"
    if not hasattr(tempo.changes, "items"):
        raise UserError(f"Config key 'tempo.changes' is {tempo.changes!r}, but must be a mapping {{bar: bpm}} "
                        f"({example}).")
    if AUTO in (tempo.bpm, tempo.offset):
        raise UserError("Config key 'tempo.changes' needs tempo.bpm and tempo.offset as numbers (auto finds one "
                        f"steady tempo): give bar 1's tempo and downbeat, e.g. tempo.bpm=120 tempo.offset=0.5 "
                        f"({example}).")
    for bar, bpm in tempo.changes.items():
        whole = str(bar).isdigit() and int(bar) >= 2
        if not whole or isinstance(bpm, bool) or not isinstance(bpm, (int, float)) or not 1 <= bpm < 1000:
            raise UserError(f"Config key 'tempo.changes' has {bar}: {bpm!r}, but each change is a bar (2 or more; "
                            f"bar 1 is tempo.bpm) and a tempo in beats per minute ({example}).")
