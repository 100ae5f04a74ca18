"""Dream one still image into ``<name>.png``."""

from __future__ import annotations

from pathlib import Path

import torch

from dream.errors import UserError
from render.config import RenderConfig
from render.engine import Engine
from render.media.images import load_image, save_png, smooth_noise


def render_still(cfg: RenderConfig, run_dir: Path, engine: Engine, *_) -> dict:
    """Dream ``cfg.input`` (or noise) at the frame-0 settings; returns facts for meta.json.

    A photo keeps its own size (width/height are the video size of other modes),
    so it is never squashed.
    """
    generator = torch.Generator().manual_seed(cfg.seed)
    if cfg.input:
        image = load_image(cfg.input, engine.device)
    elif cfg.mode == "image":
        raise UserError("The dream_image preset dreams a photo: pass one with input=photo.jpg.")
    else:
        image = smooth_noise(cfg.height, cfg.width, generator, engine.device)
    dreamed = engine.dream(image, 0, generator)
    path = save_png(dreamed, run_dir / f"{cfg.output.name}.png")
    height, width = dreamed.shape[-2:]
    return {"media": path.name, "width": int(width), "height": int(height), "frames": 1}
