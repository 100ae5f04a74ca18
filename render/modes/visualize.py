"""Class and channel visualisation (mode: visualize): ``<name>.png`` of what the network thinks ``target`` is.

A batch writes ``<name>_0.png``, ``<name>_1.png``, ... and ``<name>_sheet.png``,
all of them side by side. meta.json records the target, its label and how the
network that made each image classifies it (the self-check).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch
from PIL import Image, ImageDraw
from rich.console import Console

from dream.errors import UserError
from dream.octaves import resize
from dream.visualize import find_target, optimised_size, top_classes, visualize
from render.config import RenderConfig
from render.engine import Engine
from render.media.images import save_png, to_uint8_pixels
from render.media.progress import counting_progress


def render_visualization(cfg: RenderConfig, run_dir: Path, engine: Engine, console: Console) -> dict:
    """Visualise ``cfg.target`` with the ``cfg.visualize`` settings; returns facts for meta.json."""
    if not cfg.target:
        raise UserError(
            "Visualisation needs a target: pass a class name or index (target=banana) or target=LAYER:CHANNEL."
        )
    net = engine.model.net
    target = find_target(net, cfg.target)
    settings = cfg.visualize
    optimised = optimised_size(cfg.height, cfg.width, settings.size)
    with counting_progress(console, "steps") as progress:
        task = progress.add_task(f"visualising {target.label}", total=settings.steps)
        images = visualize(
            net,
            target.objective(),
            size=optimised,
            batch=settings.batch,
            steps=settings.steps,
            lr=settings.learning_rate,
            parameterization=settings.parameterization,
            diversity=settings.diversity,
            jitter=settings.jitter,
            scales=list(settings.scales),
            rotate_degrees=settings.rotate_degrees,
            generator=torch.Generator().manual_seed(cfg.seed),
            device=engine.device,
            on_step=lambda _step: progress.advance(task),
        )
    self_check = top_classes(net, images) if net.labels else []
    media = save_images(resize(images, (cfg.height, cfg.width)), run_dir, cfg.output.name)
    return {
        "media": media,
        "target": str(cfg.target),
        "label": target.label,
        "target_objective": target.objective().name,
        "parameterization": settings.parameterization,
        "self_check_top5": [[{"label": label, "probability": p} for label, p in top] for top in self_check],
        "width": int(cfg.width),
        "height": int(cfg.height),
        "frames": 1,
    }


def save_images(images: torch.Tensor, run_dir: Path, name: str) -> list[str]:
    """Write (B, 3, H, W) as ``name.png`` (B = 1) or ``name_i.png`` and ``name_sheet.png``; returns file names."""
    if images.shape[0] == 1:
        return [save_png(images, run_dir / f"{name}.png").name]
    names = [save_png(image[None], run_dir / f"{name}_{i}.png").name for i, image in enumerate(images)]
    sheet = image_grid(images, columns=min(4, images.shape[0]))
    sheet_path = run_dir / f"{name}_sheet.png"
    sheet.save(sheet_path)
    return names + [sheet_path.name]


def image_grid(
    images: torch.Tensor, columns: int, captions: Sequence[str] = (), row_titles: Sequence[str] = ()
) -> Image.Image:
    """Lay out (B, 3, H, W) images in a grid, row-major, with a caption under each and a title left of each row.

    Args:
        images: (B, 3, H, W) RGB in [0, 1].
        columns: images per row.
        captions: one line per image (may be fewer than B).
        row_titles: one line per row, drawn in a left margin (none: no margin).
    """
    height, width = images.shape[-2:]
    rows = -(-images.shape[0] // columns)
    caption_h = 16 if captions else 0
    margin = 90 if row_titles else 0
    sheet = Image.new("RGB", (margin + columns * width, rows * (height + caption_h)), "white")
    draw = ImageDraw.Draw(sheet)
    for i, image in enumerate(images):
        x, y = margin + (i % columns) * width, (i // columns) * (height + caption_h)
        sheet.paste(Image.fromarray(to_uint8_pixels(image)), (x, y))
        if i < len(captions):
            draw.text((x + 3, y + height + 2), captions[i], fill="black")
    for row, title in enumerate(row_titles):
        draw.text((4, row * (height + caption_h) + height // 2), title, fill="black")
    return sheet
