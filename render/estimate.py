"""Before the first frame: how long the render will take and how much memory it needs, measured here and now.

A dream's time is its ascent steps: one step is timed at each octave size the render uses (after an
untimed warm-up step at that size), with the render's own model, layers, precision and tile size, and
the frames' steps are added up from the dream schedules. A size above ``TIMED_PIXELS`` is timed at that
many pixels and scaled by its pixels (a step's work grows with its pixels, tiled or not), so the estimate
of a 6000x4000 still appears as quickly as a small one's. Each frame adds what it costs beside its dream,
measured too: its mask, the camera's warp, the colour match, the bytes, the encoder (and its start at every
resume point). A mask that leaves a frame nothing to dream (``Engine.dream`` skips the network then) makes its
steps free. With ``speed.compile`` the steps are timed uncompiled (timing them compiled would compile
first, minutes before the estimate shows) and each distinct shape adds ``COMPILE_SECONDS``. A video dream
adds its optical flow, timed on two frames; a visualisation times two of its own optimisation steps. So a
slower or busier machine gives a longer estimate. Peak memory is the process's peak after those steps (the
GPU's peak allocation on CUDA), plus what the pixels beyond the timed size need.
"""

from __future__ import annotations

import resource
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from rich.console import Console

from dream.octaves import octave_sizes, resize
from dream.speed import was_compiled
from dream.step import StepParams, ascent_step
from render.config import MaskConfig, RenderConfig
from render.engine import Engine
from render.media.encoder import ChunkEncoder, Encoding, fps_fraction, to_uint8_hwc
from render.media.images import load_image, save_png, smooth_noise
from render.media.mask_file import is_video_file
from render.media.progress import duration
from render.ops.camera import warp
from render.ops.cameras import camera_for
from render.ops.color import channel_stats, match_colors
from render.ops.mask import keep, render_masks

if TYPE_CHECKING:
    from render.plan import RenderPlan

GIB = 1024**3
# Steps on larger images are timed at this many pixels and scaled by theirs. A step's time a pixel grows by
# about 1.5x between 1 and 4 megapixels, then stays (lite0 on a 2-core AMD EPYC: 0.34 us at 1280x720, 0.54 at
# 2560x1440, 0.56 at 3000x2000), so the timed size is past that step; one step there takes about 2 s.
TIMED_PIXELS = 2560 * 1440
# torch.compile (inductor, C++ on a CPU) of one shape's forward and backward, cold: 22-26 s a shape on a quiet
# 2-core AMD EPYC (efficientnet_lite0 at 96x64 and at zoom_places' three octaves of 320x180), 30-60 s on a GPU
# host; the render compiles each octave size (and tile shape) once.
COMPILE_SECONDS = {"cpu": 25.0, "cuda": 45.0}
# A shape compiled by an earlier render on this machine mostly reads torch's compile cache back.
CACHED_COMPILE_SECONDS = 3.0
IMAGE_COPIES = 8  # float images of the frame's size a dream holds at once (image, base, detail, gradient, ...)


@dataclass
class Estimate:
    """The render's expected wall time and peak memory, and the unit of work they were measured in."""

    seconds: float
    peak_bytes: int
    units: int  # frames, or steps of a visualisation
    unit: str
    unit_seconds: float
    size: tuple[int, int]  # (H, W) of the frames dreamed, or of the visualisation
    made_at: float = field(default_factory=time.perf_counter)  # the render starts right after
    frame_seconds: list[float] | None = None  # each frame's estimated seconds, in order (the progress line's pace)


def announce_estimate(plan: RenderPlan, engine: Engine, console: Console) -> Estimate:
    """Measure the plan's mode's work, print the estimate line before the first frame, and return the estimate.

    It is measured uncompiled (``speed.compile``): compiling first would take minutes before the estimate shows, and
    the estimate counts the compiling instead (``StepTimer.compile_seconds``).
    """
    cfg, mode = plan.cfg, plan.mode
    with torch.compiler.set_stance("force_eager"):
        estimate = mode.estimate(cfg, engine, plan.frames, plan.source)
    engine.estimate = estimate
    console.print(estimate_line(estimate, engine.device, mode.quicker(cfg, estimate)), highlight=False)
    return estimate


def estimate_record(estimate: Estimate | None, device: torch.device) -> dict:
    """meta.json's ``estimate``: what was announced and how long the render then took (None: no estimate)."""
    if estimate is None:
        return {}
    return {"estimate": {"seconds": round(estimate.seconds, 2), "peak_gib": round(estimate.peak_bytes / GIB, 3),
                         "render_seconds": round(time.perf_counter() - estimate.made_at, 2),
                         "peak_gib_measured": round(peak_bytes(device) / GIB, 3)}}


def estimate_frames(cfg: RenderConfig, engine: Engine, frames: int, first: torch.Tensor,
                    mode_seconds: float = 0.0, encoded: bool = True) -> Estimate:
    """The dream steps of ``frames`` frames like ``first`` and each frame's own work beside its dream.

    Args:
        first: (1, 3, H, W) the render's first frame before its dream (the photo, noise, the source's first frame).
        mode_seconds: each frame's work of the mode's own (a video dream's optical flow), measured by the mode.
        encoded: the frames are encoded into a video (an animation; a still is not).
    """
    height, width = first.shape[-2:]
    share, mask_seconds = mask_cost(cfg.mask, cfg.motion.border, engine, first)
    step_seconds = StepTimer(engine, height, width, share)
    step_seconds.calibrate(first, min(1, frames - 1))
    frame_seconds, finish_seconds = frame_overhead(cfg, engine, first, encoded)
    beside = mask_seconds + frame_seconds + mode_seconds
    cadence = cfg.dream.cadence if isinstance(cfg.dream.cadence, int) else 1  # the frames between only move
    per_frame = [beside + (step_seconds.frame(i) if i % cadence == 0 else 0.0) for i in range(frames)]
    if per_frame:
        per_frame[0] += step_seconds.compile_seconds()  # the first frame compiles (the progress line's pace knows)
        per_frame[-1] += finish_seconds
    seconds = sum(per_frame)
    peak = peak_bytes(engine.device) + step_seconds.extra_bytes()
    return Estimate(seconds, peak, frames, "frame", seconds / max(1, frames), (height, width), frame_seconds=per_frame)


class StepTimer:
    """Seconds of one ascent step per octave size, timed once per size; a frame's seconds from its settings.

    Args:
        share: the part of a frame's steps that runs the network (0: a mask leaves nothing to dream).
    """

    def __init__(self, engine: Engine, height: int, width: int, share: float = 1.0):
        self.engine, self.height, self.width, self.share = engine, height, width, share
        self.generator = torch.Generator().manual_seed(0)  # its own: the render's random numbers stay as they are
        self.seconds: dict[tuple[int, int], float] = {}
        self.dreamed: set[tuple[int, int]] = set()  # the sizes the render's steps take
        self.factor = 1.0  # a whole dream's seconds over its steps' (``calibrate``)

    def frame(self, frame: int) -> float:
        params = self.engine.schedules.at(frame)
        sizes = octave_sizes(self.height, self.width, params.octaves, params.octave_scale, params.min_size)
        steps = params.per_octave(params.iterations, len(sizes))
        return self.factor * self.share * sum(int(n) * self.step(size, frame) for size, n in zip(sizes, steps) if n)

    def calibrate(self, first: torch.Tensor, frame: int) -> None:
        """Time one whole dream of frame ``frame`` on ``first`` (1, 3, H, W), at the timed size, against the sum of
        its steps: the rest of a dream (octave resizes, jitter, the gradient's normalising) adds its share, a
        larger one on larger images (6000x4000: 1.2x at the timed size, where a zoom at 320x180 is 1.1x)."""
        if self.share == 0.0 or self.frame(frame) == 0.0:  # the real size's steps first: they decide the tiles
            return
        timed_size = timed_size_of((self.height, self.width))
        at_timed = StepTimer(self.engine, *timed_size)
        at_timed.seconds = self.seconds  # a size's step is timed once for both
        steps = at_timed.frame(frame)
        image = resize(first, timed_size)
        started = time.perf_counter()
        self.engine.dream(image, frame, torch.Generator().manual_seed(0))
        synchronize(self.engine.device)
        self.factor = min(3.0, max(0.8, (time.perf_counter() - started) / steps))  # one call: a hiccup stays small

    def step(self, size: tuple[int, int], frame: int) -> float:
        """Seconds of one step at ``size``: timed there, or at ``TIMED_PIXELS`` and scaled by the pixels."""
        self.dreamed.add(size)
        if size not in self.seconds:
            timed_size = timed_size_of(size)
            scale = size[0] * size[1] / (timed_size[0] * timed_size[1])
            if timed_size not in self.seconds:
                self.seconds[timed_size] = self.time_step(timed_size, frame)
            self.seconds[size] = self.seconds[timed_size] * scale
        return self.seconds[size]

    def time_step(self, size: tuple[int, int], frame: int) -> float:
        """One step at ``size`` (H, W) timed."""
        image = smooth_noise(*size, self.generator, self.engine.device)
        full = torch.zeros(1, 3, self.height, self.width, device=self.engine.device)
        step = StepParams(step_size=1.5, jitter=self.engine.schedules.dream_cfg.jitter,
                          tile_size=self.engine.tile_size(full))
        objective = self.engine.plan.at(frame)
        return timed(lambda: ascent_step(self.engine.model.net, image, objective, step, self.generator),
                     self.engine.device)

    def compile_seconds(self) -> float:
        """With ``speed.compile``: the compiling of each distinct size the render's steps take (its octave sizes),
        a few seconds only for a size an earlier render here compiled (``dream.speed.was_compiled``)."""
        if self.engine.speed.compile == "none":
            return 0.0
        cold = COMPILE_SECONDS.get(self.engine.device.type, COMPILE_SECONDS["cuda"])
        net, speed = self.engine.model.net, self.engine.speed
        return sum(CACHED_COMPILE_SECONDS if was_compiled(net, speed, (1, 3, *size)) else cold for size in self.dreamed)

    def extra_bytes(self) -> int:
        """Memory beyond the timed steps' peak: the frame's images, and a larger untiled step's activations."""
        frame_pixels = self.height * self.width
        images = IMAGE_COPIES * 3 * 4 * frame_pixels
        if not self.seconds:
            return images  # no step is dreamed (dream.iterations=0): no network activations either
        timed_pixels = max(h * w for h, w in self.seconds)
        tile = int(self.engine.tile.value) if self.engine.tile is not None else 0
        step_pixels = min(frame_pixels, (1.5 * tile) ** 2) if tile else frame_pixels
        activations = max(0.0, step_pixels - timed_pixels) * self.bytes_per_pixel()
        return int(images + activations)

    def bytes_per_pixel(self) -> float:
        from dream.auto import probe_bytes_per_pixel

        return probe_bytes_per_pixel(self.engine.model.net, self.engine.plan.taps, self.engine.device)


def timed_size_of(size: tuple[int, int]) -> tuple[int, int]:
    """``size`` (H, W), or the same aspect at ``TIMED_PIXELS`` when it has more pixels than that."""
    height, width = size
    if height * width <= TIMED_PIXELS:
        return size
    factor = (TIMED_PIXELS / (height * width)) ** 0.5
    return max(1, round(height * factor)), max(1, round(width * factor))


def mask_cost(mask: MaskConfig, border: str, engine: Engine, start: torch.Tensor) -> tuple[float, float]:
    """(the part of each frame's steps that runs the network, seconds of a frame's mask) with ``mask.source``.

    The part is 0 when the mask leaves the first frame ``start`` (1, 3, H, W) nothing to dream (``Engine.dream``
    skips the network then); the first frame's mask stands for all of them (a render's mask rarely turns from
    nothing to something). A mask video was checked by the plan and is read a frame at a time: only its blend
    is timed.
    """
    if not mask.source:
        return 1.0, 0.0
    if is_video_file(mask.source):
        return 1.0, timed(lambda: keep(start, start, start[:, :1]), engine.device, budget_s=0.5)
    masks = render_masks(mask, border, 1, "the estimate's first frame", engine.device, engine.timeline)
    share = 1.0 if bool(masks.next(0, start).dream.any()) else 0.0
    seconds = timed(lambda: keep(start, start, masks.next(0, start).weight), engine.device, budget_s=0.5)
    return share, seconds


def frame_overhead(cfg: RenderConfig, engine: Engine, first: torch.Tensor, encoded: bool) -> tuple[float, float]:
    """(seconds a frame like ``first`` (1, 3, H, W) costs beside its dream, seconds the render's end costs).

    A frame: an animation's camera warp, colour match, bytes and encoding (with an encoder's start and close at
    every resume point); a still's PNG. Timed at ``timed_size_of`` its size and scaled by the pixels. The end: an
    animation's chunks are joined into its video by one more ffmpeg run, about an encoder's start and close.
    """
    size = tuple(first.shape[-2:])
    timed_size = timed_size_of(size)
    scale = size[0] * size[1] / (timed_size[0] * timed_size[1])
    frame = resize(first, timed_size) if timed_size != size else first
    if not encoded:
        return scale * png_seconds(frame), 0.0
    seconds = timed(moving_frame(cfg, engine, frame), engine.device, budget_s=0.3)
    start, per_frame = encoder_seconds(cfg.output, *timed_size, cfg.fps or 24)
    return scale * (seconds + per_frame) + start / max(1, cfg.output.checkpoint_every), start


def moving_frame(cfg: RenderConfig, engine: Engine, frame: torch.Tensor) -> Callable[[], None]:
    """The work on ``frame`` (1, 3, H, W) an animation's frame does beside its dream: the render's camera moves it,
    its colours are matched, its bytes are taken."""
    height, width = frame.shape[-2:]
    move = camera_for(cfg.motion, cfg.fps or 24).move(engine.timeline.at(0), height, width, engine.device)
    space = cfg.color.coherence
    reference = channel_stats(frame, space) if space != "none" else None

    def beside_the_dream() -> None:
        moved = warp(frame, move, cfg.motion.border, cfg.motion.sampling)
        if reference is not None:
            moved = match_colors(moved, reference, space, cfg.color.strength)
        to_uint8_hwc(moved).cpu()

    return beside_the_dream


def png_seconds(frame: torch.Tensor) -> float:
    """Seconds to write ``frame`` (1, 3, H, W) as a still's PNG."""
    with tempfile.TemporaryDirectory() as folder:
        return timed(lambda: save_png(frame, Path(folder) / "still.png"), frame.device, budget_s=0.3, most=3)


def encoder_seconds(output, height: int, width: int, fps) -> tuple[float, float]:
    """(seconds to start and close a chunk, seconds a frame) of the render's encoder, timed on 2 and 6 frames."""
    encoding = Encoding(width, height, fps_fraction(fps), output.crf, output.preset)
    generator = torch.Generator().manual_seed(0)
    pixels = [to_uint8_hwc(smooth_noise(height, width, generator, torch.device("cpu"))).numpy() for _ in range(2)]
    with tempfile.TemporaryDirectory() as folder:

        def encode(frames: int) -> float:
            started = time.perf_counter()
            encoder = ChunkEncoder(Path(folder) / f"{frames}.mp4", encoding, Path(folder) / "log")
            for i in range(frames):
                encoder.write(pixels[i % 2])
            encoder.close()
            return time.perf_counter() - started

        few, more = encode(2), encode(6)
    per_frame = max(0.0, (more - few) / 4)
    return max(0.0, few - 2 * per_frame), per_frame


def timed(fn: Callable[[], object], device: torch.device, budget_s: float = 1.0, most: int = 5) -> float:
    """Median seconds of a call of ``fn``, after an untimed warm-up call (first calls allocate and pick kernels).

    Calls repeat (at least 2, at most ``most``) until ``budget_s`` is spent: on a shared machine one call alone
    is noisy.
    """
    fn()
    synchronize(device)
    times = []
    while len(times) < 2 or (len(times) < most and sum(times) < budget_s):
        started = time.perf_counter()
        fn()
        synchronize(device)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def peak_bytes(device: torch.device) -> int:
    """The process's peak memory so far (its peak GPU allocation on CUDA)."""
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device)
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def estimate_line(estimate: Estimate, device: torch.device, quicker: list[str]) -> str:
    """The estimate, and the overrides that would make the render take about a quarter of the time.

    Args:
        quicker: the mode's overrides for about a quarter of its work (``Mode.quicker``).
    """
    text = (f"Estimate: about {duration(estimate.seconds)} for {estimate.units} {estimate.unit}s "
            f"({estimate.unit_seconds:.2f} s a {estimate.unit}, measured just now on this machine), "
            f"peak memory about {estimate.peak_bytes / GIB:.1f} GiB.")
    return text + " " + faster_overrides(estimate, device, quicker)


def faster_overrides(estimate: Estimate, device: torch.device, quicker: list[str]) -> str:
    """Overrides for about a quarter of the time: the mode's ``quicker`` ones, or a GPU."""
    quarter = duration(estimate.seconds / 4)
    text = f"About {quarter} with {' or '.join(quicker)}" if quicker else ""
    if device.type == "cpu" and torch.cuda.is_available():
        text += (" or " if text else "") + "device=cuda"
    return text + "." if text else ""


def fewer_frames(cfg: RenderConfig, estimate: Estimate) -> list[str]:
    """An animation's ``Mode.quicker``: a quarter of the frames, or half the size."""
    return [f"frames={max(1, estimate.units // 4)}", *smaller(cfg, estimate)]


def smaller(cfg: RenderConfig, estimate: Estimate) -> list[str]:
    """A still's ``Mode.quicker``: half the size (a quarter of the pixels)."""
    height, width = estimate.size
    return [f"width={max(2, width // 2)} height={max(2, height // 2)}"]


def fewer_steps(cfg: RenderConfig, estimate: Estimate) -> list[str]:
    """A visualisation's ``Mode.quicker``: a quarter of the steps."""
    return [f"visualize.steps={max(1, cfg.visualize.steps // 4)}"]


def start_image(path: str | None, seed: int, size: tuple[int, int], device: torch.device) -> torch.Tensor:
    """(1, 3, H, W) a zoom's or a still's first frame before its dream: the image at ``path`` (``input``) at
    ``size``, or noise of ``seed``."""
    if path:
        return load_image(path, device, size=size)
    return smooth_noise(*size, torch.Generator().manual_seed(seed), device)
