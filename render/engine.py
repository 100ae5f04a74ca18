"""What every render mode shares: the device, the model, the objective plan and per-frame dream settings."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import torch
from omegaconf import OmegaConf

from dream.auto import Decision, decide_precision, decide_tile_size
from dream.errors import UserError
from dream.models.base import TapNet
from dream.models.registry import LoadedModel, get_entry, load_model
from dream.octaves import DreamParams, deepdream, resize
from dream.speed import SpeedOptions, apply_speed_options
from render.config import DreamConfig, RenderConfig
from render.media.images import load_image
from render.ops.objective_plan import ObjectivePlan, PlanContext, build_plan
from render.timeline import Timeline, Track

GUIDE_MAX_SIDE = 512


def pick_device(name: str) -> torch.device:
    """'auto' -> CUDA when present, else CPU; an unavailable CUDA request is a UserError."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise UserError(f"device={name} is not a device; use auto, cpu, cuda or cuda:N.") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise UserError(f"device={name} was asked for, but this machine has no CUDA GPU; use device=cpu or auto.")
    return device


@dataclass
class DreamSchedules:
    """Per-frame dream settings from the ``dream`` config section (the tile size is the engine's decision)."""

    octaves: Track
    iterations: Track
    step_size: Track
    dream_cfg: DreamConfig

    def at(self, frame: int) -> DreamParams:
        iterations = round(self.iterations.at(frame))
        if frame == 0 and self.dream_cfg.first_frame_iterations is not None:
            iterations = self.dream_cfg.first_frame_iterations
        return DreamParams(
            octaves=max(1, round(self.octaves.at(frame))),
            octave_scale=self.dream_cfg.octave_scale,
            iterations=max(0, iterations),
            step_size=self.step_size.at(frame),
            jitter=self.dream_cfg.jitter,
        )


def dream_schedules(dream_cfg: DreamConfig, timeline: Timeline) -> DreamSchedules:
    """The ``dream`` section's animated values, as the render's timeline has them."""
    octaves, iterations, step_size = (timeline.track(f"dream.{key}") for key in ("octaves", "iterations", "step_size"))
    return DreamSchedules(octaves, iterations, step_size, dream_cfg)


@dataclass
class Engine:
    """A loaded model with its objective plan and dream schedules, ready to dream frames.

    Attributes:
        timeline: the render's animated keys (the dream settings and objective weights are read from it).
        precision: the precision the network runs in, as decided from ``speed.precision``.
        max_batch: the most images one dream call takes (the tile decision plans for it).
        log: prints the one line that tells the render's speed decisions.
        tile: the tile size as decided from ``dream.tile_size`` on the first dream (None before).
        speed: the speed options the model runs with (a visualisation's other networks take them too).
        estimate: what ``render.estimate`` announced (None: no estimate, e.g. a resumed render).
    """

    model: LoadedModel
    plan: ObjectivePlan
    schedules: DreamSchedules
    device: torch.device
    timeline: Timeline
    precision: Decision = Decision("float32", "float32", "as asked")
    max_batch: int = 1
    log: Callable[[str], None] = lambda _: None
    tile: Decision | None = None
    speed: SpeedOptions = SpeedOptions()
    estimate: object | None = None  # the Estimate announced before the first frame: the progress line's pace

    def dream(self, image: torch.Tensor, frame: int, generator: torch.Generator,
              mask: torch.Tensor | None = None) -> torch.Tensor:
        """(B, 3, H, W) -> (B, 3, H, W): the frame's dream with the frame's settings, only where ``mask``
        (B or 1, 1, H, W) is above 0 when one is given."""
        if mask is not None and not bool(mask.any()):
            return image  # nothing may change: no need to ask the network
        params = dataclasses.replace(self.schedules.at(frame), tile_size=self.tile_size(image))
        return deepdream(self.model.net, image, self.plan.at(frame), params, generator, mask)

    def tile_size(self, image: torch.Tensor) -> int:
        """The render's tile size, decided (and logged with the precision) on the first frame: (B, 3, H, W)."""
        if self.tile is None:
            batch, _, height, width = image.shape
            shape = (max(batch, self.max_batch), height, width)
            self.tile = decide_tile_size(self.schedules.dream_cfg.tile_size, self.model.net, self.plan.taps, shape,
                                         self.device)
            self.log(speed_line(self.precision, self.tile))
        return int(self.tile.value)

    def speed_record(self) -> dict:
        """The speed decisions for meta.json: values used, values asked for, and why."""
        record = {"precision": self.precision.value, "precision_requested": self.precision.requested}
        reasons = {"precision": self.precision.reason}
        if self.tile is not None:  # modes that never dream a frame (visualize) tile nothing
            record.update(tile_size=self.tile.value, tile_size_requested=self.tile.requested)
            reasons["tile_size"] = self.tile.reason
        return {**record, "speed_reasons": reasons}


def speed_line(precision: Decision, tile: Decision) -> str:
    """One console line with both speed decisions."""
    tiles = "untiled" if tile.value == 0 else f"tiles of {tile.value}"
    return (f"Speed: precision {precision.value} ({precision.requested}: {precision.reason}); "
            f"{tiles} ({tile.requested}: {tile.reason})")


def build_engine(cfg: RenderConfig, timeline: Timeline, warn: Callable[[str], None],
                 log: Callable[[str], None] = lambda _: None, max_batch: int = 1) -> Engine:
    """Load the model (or its fallback) and check the dream config against it.

    ``speed.precision=auto`` is decided here; ``dream.tile_size=auto`` on the first frame, whose size it needs.

    Args:
        cfg: the render's config.
        timeline: the render's animated keys; objective weights are declared on it.
        warn: prints a loud warning (fallback model, remapped layers).
        log: prints the one line with the speed decisions.
        max_batch: the most frames one dream call takes (the tile decision plans for it).
    """
    device = pick_device(cfg.device)
    model = load_model(
        cfg.model.name, device=device, weights=cfg.model.weights, fallback=cfg.model.fallback, warn=warn
    )
    precision = decide_precision(str(cfg.speed.precision), device)  # dream/ takes the choices as plain words
    options = SpeedOptions(**{**OmegaConf.to_container(cfg.speed, enum_to_str=True), "precision": precision.value})
    net = apply_speed_options(model.net, options, device)
    resolve = net.resolve
    if model.record["fallback"]:
        resolve = fallback_resolver(get_entry(model.record["requested_model"]).build(), net, warn)
    ctx = PlanContext(
        net=net,
        resolve=resolve,
        default_layer=cfg.dream.layer or model.entry.dream_layer,
        timeline=timeline,
        load_guide=lambda layer, path: guide_features(net, layer, path, device),
    )
    if model.record["fallback"] and cfg.dream.layer is None:
        ctx = dataclasses.replace(ctx, default_layer=model.entry.dream_layer)
    plan = build_plan(cfg.dream, ctx)
    schedules = dream_schedules(cfg.dream, timeline)
    return Engine(model, plan, schedules, device, timeline, precision, max_batch, log, speed=options)


def guide_features(net: TapNet, layer: str, path: str, device: torch.device) -> torch.Tensor:
    """The guide image's activation at ``layer``, (1, C, h, w), at most GUIDE_MAX_SIDE pixels a side."""
    image = load_image(path, device)
    scale = GUIDE_MAX_SIDE / max(image.shape[-2:])
    if scale < 1:
        image = resize(image, (round(image.shape[-2] * scale), round(image.shape[-1] * scale)))
    with torch.no_grad():
        return net(image, [layer])[layer]


def fallback_resolver(requested: TapNet, fallback: TapNet, warn: Callable[[str], None]) -> Callable[[str], str]:
    """Map the requested model's layer names onto the fallback's taps at the same relative depth.

    A preset written for one network then still dreams at a comparable level
    (low layers: strokes and textures, high layers: objects) on the fallback.
    """
    requested_taps, fallback_taps = list(requested.taps), list(fallback.taps)

    def resolve(name: str) -> str:
        if name in fallback.taps or name in fallback.aliases:
            return fallback.resolve(name)
        depth = requested_taps.index(requested.resolve(name)) / max(1, len(requested_taps) - 1)
        mapped = fallback_taps[round(depth * (len(fallback_taps) - 1))]
        warn(f"Layer '{name}' of the requested model is dreamed as '{mapped}' of the fallback model.")
        return mapped

    return resolve
