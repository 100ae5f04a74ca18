"""Dream one still image into ``<name>.png``."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING

import torch

from dream.errors import UserError
from dream.octaves import resize
from render.config import RenderConfig
from render.engine import Engine
from render.estimate import Estimate, estimate_frames
from render.media.images import load_image, save_png
from render.modes.video_dream import output_size
from render.ops.mask import keep, render_masks

if TYPE_CHECKING:
    from render.plan import RenderPlan


def render_still(plan: RenderPlan, run_dir: Path, engine: Engine, *_) -> dict:
    """Dream the photo ``cfg.input`` at the frame-0 settings; returns facts for meta.json.

    A photo keeps its own size unless ``width``/``height`` are given (one alone keeps its aspect). A still
    without a photo was refused before the model loaded (``Mode.check``).
    """
    cfg = plan.cfg
    plan.timeline.at(0)
    generator = torch.Generator().manual_seed(cfg.seed)
    image = load_image(cfg.input, engine.device)
    if cfg.width or cfg.height:
        image = resize(image, still_size(cfg, image))
    dreamed = _dream_masked(plan, engine, image, generator)
    path = save_png(dreamed, run_dir / f"{cfg.output.name}.png")
    height, width = dreamed.shape[-2:]
    return {"media": path.name, "width": int(width), "height": int(height), "frames": 1}


def still_size(cfg: RenderConfig, image: torch.Tensor) -> tuple[int, int]:
    """(H, W) the photo is dreamed at: ``width``/``height`` as given, the other one following the photo's aspect.

    Args:
        image: the photo, (1, 3, H, W).
    """
    height, width = image.shape[-2:]
    source = SimpleNamespace(width=int(width), height=int(height))  # all output_size reads of a source
    out_width, out_height = output_size(cfg, source)
    return out_height, out_width


def _dream_masked(plan: RenderPlan, engine: Engine, image: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """The dream of ``image`` (1, 3, H, W), only inside ``mask.source`` when one is given."""
    cfg = plan.cfg
    masks = render_masks(cfg.mask, cfg.motion.border, 1, "a still's frames", engine.device, plan.timeline)
    if masks is None:
        return engine.dream(image, 0, generator)
    frame_mask = masks.next(0, image)
    if frame_mask.empty:
        raise UserError(f"mask.source={cfg.mask.source} selects nothing of {cfg.input} (mask.strength "
                        f"{cfg.mask.strength}), so nothing would be dreamed; loosen the key or check mask.invert.")
    return keep(image, engine.dream(image, 0, generator, frame_mask.dream), frame_mask.weight)


def estimate_still(cfg: RenderConfig, engine: Engine, frames: int, *_) -> Estimate:
    """The photo's dream at the size it is dreamed at (``Mode.estimate``)."""
    photo = load_image(cfg.input, engine.device)  # a still without a photo was refused (Mode.check)
    return estimate_frames(cfg, engine, frames, resize(photo, still_size(cfg, photo)), encoded=False)
