"""Before the first frame: how long the render will take and how much memory it needs, measured here and now.

A dream's time is its ascent steps: one step is timed at each octave size the render uses (after an
untimed warm-up step at that size), with the render's own model, layers, precision and tile size, and
the frames' steps are added up from the dream schedules. A video dream adds its optical flow, timed on
two frames; a visualisation times two of its own optimisation steps. So a slower or busier machine gives
a longer estimate. Peak memory is the process's peak after those steps (the GPU's peak allocation on CUDA).
"""

from __future__ import annotations

import resource
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import TYPE_CHECKING

import torch
from rich.console import Console

from dream.octaves import octave_sizes
from dream.step import StepParams, ascent_step
from render.config import RenderConfig
from render.engine import Engine
from render.media.images import load_image, smooth_noise
from render.media.video_source import VideoInfo, frame_size
from render.modes.video_dream import output_size
from render.ops.flow import flow_settings, frame_motion

if TYPE_CHECKING:
    from render.plan import RenderPlan

GIB = 1024**3


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


def announce_estimate(plan: RenderPlan, engine: Engine, console: Console) -> Estimate:
    """Measure the plan's mode's work, print the estimate line before the first frame, and return the estimate."""
    cfg, mode = plan.cfg, plan.mode
    estimate = mode.estimate(cfg, engine, plan.frames, plan.source)
    console.print(estimate_line(estimate, engine.device, mode.quicker(cfg, estimate)), highlight=False)
    return estimate


def estimate_record(estimate: Estimate | None, device: torch.device) -> dict:
    """meta.json's ``estimate``: what was announced and how long the render then took (None: no estimate)."""
    if estimate is None:
        return {}
    return {"estimate": {"seconds": round(estimate.seconds, 2), "peak_gib": round(estimate.peak_bytes / GIB, 3),
                         "render_seconds": round(time.perf_counter() - estimate.made_at, 2),
                         "peak_gib_measured": round(peak_bytes(device) / GIB, 3)}}


def estimate_frames(cfg: RenderConfig, engine: Engine, frames: int, size: tuple[int, int],
                    flow: bool = False) -> Estimate:
    """The dream steps of ``frames`` frames of ``size`` (H, W); ``flow``: and the optical flow between two frames."""
    height, width = size
    step_seconds = StepTimer(engine, height, width)
    cadence = cfg.dream.cadence if isinstance(cfg.dream.cadence, int) else 1  # the frames between only move
    seconds = sum(step_seconds.frame(frame) for frame in range(0, frames, cadence))
    if flow and frames > 1:
        seconds += (frames - 1) * flow_seconds(cfg, height, width, engine.device)
    return Estimate(seconds, peak_bytes(engine.device), frames, "frame", seconds / max(1, frames), (height, width))


def estimate_zoom(cfg: RenderConfig, engine: Engine, frames: int, *_) -> Estimate:
    return estimate_frames(cfg, engine, frames, (cfg.height, cfg.width))


def estimate_video(cfg: RenderConfig, engine: Engine, frames: int, source: VideoInfo | None = None) -> Estimate:
    return estimate_frames(cfg, engine, frames, video_size(cfg, source), flow=True)


def estimate_still(cfg: RenderConfig, engine: Engine, frames: int, *_) -> Estimate:
    from render.modes.still import still_size

    size = still_size(cfg, load_image(cfg.input, engine.device)) if cfg.input else (cfg.height, cfg.width)
    return estimate_frames(cfg, engine, frames, size)


def video_size(cfg: RenderConfig, source: VideoInfo | None) -> tuple[int, int]:
    """(H, W) of a video dream's frames; ``source``: the video as the render probed it (read again when None)."""
    width, height = (source.width, source.height) if source is not None else frame_size(cfg.input)
    width, height = output_size(cfg, SimpleNamespace(width=width, height=height))
    return height, width


class StepTimer:
    """Seconds of one ascent step per octave size, timed once per size; a frame's seconds from its settings."""

    def __init__(self, engine: Engine, height: int, width: int):
        self.engine, self.height, self.width = engine, height, width
        self.generator = torch.Generator().manual_seed(0)  # its own: the render's random numbers stay as they are
        self.seconds: dict[tuple[int, int], float] = {}

    def frame(self, frame: int) -> float:
        params = self.engine.schedules.at(frame)
        sizes = octave_sizes(self.height, self.width, params.octaves, params.octave_scale, params.min_size)
        steps = params.per_octave(params.iterations, len(sizes))
        return sum(int(n) * self.step(size, frame) for size, n in zip(sizes, steps) if n)

    def step(self, size: tuple[int, int], frame: int) -> float:
        if size not in self.seconds:
            image = smooth_noise(*size, self.generator, self.engine.device)
            full = torch.zeros(1, 3, self.height, self.width, device=self.engine.device)
            step = StepParams(step_size=1.5, jitter=self.engine.schedules.dream_cfg.jitter,
                              tile_size=self.engine.tile_size(full))
            objective = self.engine.plan.at(frame)
            self.seconds[size] = timed(lambda: ascent_step(self.engine.model.net, image, objective, step,
                                                           self.generator), self.engine.device)
        return self.seconds[size]


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


def flow_seconds(cfg: RenderConfig, height: int, width: int, device: torch.device) -> float:
    """Seconds of one frame's optical flow (forward and backward) at the render's size."""
    generator = torch.Generator().manual_seed(0)
    before = smooth_noise(height, width, generator, device)
    after = before.roll(2, dims=3)
    settings = flow_settings(cfg.video)
    return timed(lambda: frame_motion(before, after, settings), device)


def estimate_visualization(cfg: RenderConfig, engine: Engine, *_) -> Estimate:
    """Two of the visualisation's own steps (after one warm-up step), times its steps (not frames)."""
    from dream.visualize import find_target, optimised_size, total_steps
    from render.modes.visualize import detail_of, visualization_nets, visualize_steps

    nets, _ = visualization_nets(cfg, engine, cfg.target, lambda _: None)
    targets = [find_target(net, cfg.target) for net in nets]
    stamps = []
    visualize_steps(cfg, nets, targets, engine.device, 3, on_step=lambda _: stamps.append(time.perf_counter()))
    step = (stamps[-1] - stamps[0]) / (len(stamps) - 1)
    settings = cfg.visualize  # the fine stage's steps see crops of the same size, so they cost the same
    size = optimised_size(cfg.height, cfg.width, settings.size)
    steps = total_steps(settings.steps, size, settings.parameterization, detail_of(settings))
    return Estimate(steps * step, peak_bytes(engine.device), steps, "step", step, (cfg.height, cfg.width))


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


def duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
