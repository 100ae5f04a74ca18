"""Class and channel visualisation (mode: visualize): ``<name>.png`` of what the network thinks ``target`` is.

Beside it, ``<name>_importance.png``: where the gradient accumulated (white: the
pixels the networks relied on), MaCo's transparency map, and ``<name>_rgba.png``: the
optimised image with that map as its alpha, for compositing. ``visualize.background=calm``
blurs and fades the background of ``<name>.png`` (``keep``: as optimised);
``visualize.importance_fade`` fades it toward grey.

A batch writes ``<name>_0.png``, ``<name>_1.png``, ... and ``<name>_sheet.png``,
all of them side by side. meta.json records the target, its label and how the
network that made each image classifies it (the self-check).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from PIL import Image, ImageDraw
from rich.console import Console

from dream.models.base import TapNet
from dream.models.registry import get_entry, load_model
from dream.octaves import resize
from dream.speed import apply_speed_options
from dream.visualize import (
    Detail,
    Robustness,
    Visualization,
    find_target,
    is_class_target,
    optimised_size,
    top_classes,
    total_steps,
    visualize,
)
from render.config import RenderConfig, VisualizeConfig
from render.engine import Engine
from render.estimate import Estimate, peak_bytes
from render.media.images import save_png, save_rgba_png, to_uint8_pixels
from render.media.progress import counting_progress

ONE_STAGE = Detail(steps=0)  # no fine stage: the coarse steps only

if TYPE_CHECKING:
    from render.plan import RenderPlan


def render_visualization(plan: RenderPlan, run_dir: Path, engine: Engine, console: Console, *_) -> dict:
    """Visualise ``cfg.target`` (given: ``Mode.check``) with the ``cfg.visualize`` settings; facts for meta.json."""
    cfg = plan.cfg
    settings = cfg.visualize
    nets, records = visualization_nets(cfg, engine, cfg.target, console.print)
    targets = [find_target(net, cfg.target) for net in nets]
    optimised = optimised_size(cfg.height, cfg.width, settings.size)
    detail = detail_of(settings)
    total = total_steps(settings.steps, optimised, settings.parameterization, detail)
    with counting_progress(console, "steps") as progress:
        task = progress.add_task(f"visualising {targets[0].label}", total=total)
        result = visualize_steps(cfg, nets, targets, engine.device, settings.steps,
                                 on_step=lambda _step: progress.advance(task), detail=detail)
    picture = Visualization(result.picture(settings.background), result.importance)
    images = picture.faded(settings.importance_fade) if settings.importance_fade > 0 else picture.images
    self_check = top_classes(nets[0], images) if nets[0].labels else []
    size = picture_size(cfg.height, cfg.width, settings.size)
    if size != (cfg.height, cfg.width):
        console.print(f"visualize.size={settings.size} is larger than width x height ({cfg.width}x{cfg.height}): "
                      f"the picture keeps the canvas's detail at {size[1]}x{size[0]}.", highlight=False)
    media = save_images(resize(images, size), run_dir, cfg.output.name)
    media += save_importance(resize(result.importance, size), run_dir, cfg.output.name)
    media += save_rgba(resize(result.images, size), resize(result.alpha(), size), run_dir, cfg.output.name)
    return {
        "media": media,
        "target": str(cfg.target),
        "label": targets[0].label,
        "target_objective": targets[0].objective().name,
        "parameterization": settings.parameterization,
        "background": settings.background,
        "steps": total,
        "ensemble": records,
        "self_check_top5": [[{"label": label, "probability": p} for label, p in top] for top in self_check],
        "width": int(size[1]),
        "height": int(size[0]),
        "frames": 1,
    }


def picture_size(height: int, width: int, size: int) -> tuple[int, int]:
    """(h, w) of the saved picture: ``width`` x ``height``, or larger with that aspect when the canvas is larger.

    ``visualize.size`` is the canvas's shorter side; shrinking a larger canvas to the frame would throw away
    the detail that was asked for, so ``visualize.size=1024`` alone gives a 1024 px picture.
    """
    if min(height, width) >= size:
        return height, width
    return optimised_size(height, width, size)


def visualize_steps(cfg: RenderConfig, nets: list[TapNet], targets: list, device: torch.device, steps: int,
                    on_step: Callable[[int], None], detail: Detail = ONE_STAGE):
    """``steps`` steps of the visualisation ``cfg.visualize`` describes (the render's, or a timed few).

    Args:
        detail: the fine stage of a canvas above ``visualize.coarse_size`` (the default: none, the coarse steps only).
    """
    settings = cfg.visualize
    return visualize(
        nets,
        [target.objective() for target in targets],
        size=optimised_size(cfg.height, cfg.width, settings.size),
        batch=settings.batch,
        steps=steps,
        lr=settings.learning_rate,
        parameterization=settings.parameterization,
        diversity=settings.diversity,
        robust=robustness_of(settings),
        detail=detail,
        generator=torch.Generator().manual_seed(cfg.seed),
        device=device,
        on_step=on_step,
    )


def visualization_nets(
    cfg: RenderConfig, engine: Engine, target: str, note: Callable[[str], None]
) -> tuple[list[TapNet], list[dict]]:
    """The networks ``target`` is optimised against, and what was loaded for each (for meta.json).

    The ensemble is led by ``model``: it is used while ``model`` is its first entry, so
    ``model=NAME`` alone still means that one network. ``visualize.ensemble=[]`` also means
    ``model`` alone. A channel target belongs to one network, so it always uses ``model``.

    Raises:
        NameChoiceError: an unknown model in the ensemble (before anything is optimised).
    """
    names = list(dict.fromkeys(cfg.visualize.ensemble))
    for name in names:
        get_entry(name)
    own = engine.model
    if not names or names[0] != own.entry.name or not is_class_target(own.net, target):
        if names:
            note(f"visualising {target} with {own.entry.name} alone (visualize.ensemble is led by {names[0]}).")
        return [own.net], [own.record]
    loaded = [own] + [load_model(name, device=engine.device) for name in names[1:]]
    for model in loaded[1:]:  # the render's precision and memory format hold for every network it runs
        apply_speed_options(model.net, engine.speed, engine.device)
    note(f"optimising against an ensemble of {len(loaded)}: {', '.join(names)}")
    return [model.net for model in loaded], [model.record for model in loaded]


def robustness_of(settings: VisualizeConfig) -> Robustness:
    """The ``visualize`` section's random crops (or lucid's jitter, scales and rotation when crops is 0)."""
    return Robustness(
        crops=settings.crops,
        crop_range=(float(settings.crop_range[0]), float(settings.crop_range[1])),
        crop_size=settings.crop_size,
        noise=settings.crop_noise,
        jitter=settings.jitter,
        scales=tuple(float(s) for s in settings.scales),
        rotate_degrees=settings.rotate_degrees,
    )


def detail_of(settings: VisualizeConfig) -> Detail:
    """The ``visualize`` section's coarse-to-fine schedule for canvases larger than ``coarse_size``."""
    return Detail(coarse_size=settings.coarse_size, steps=settings.detail_steps)


def save_rgba(images: torch.Tensor, alpha: torch.Tensor, run_dir: Path, name: str) -> list[str]:
    """Write (B, 3, H, W) images with (B, 1, H, W) alpha as ``name_rgba.png`` (B = 1) or ``name_rgba_i.png``."""
    if images.shape[0] == 1:
        return [save_rgba_png(images, alpha, run_dir / f"{name}_rgba.png").name]
    return [
        save_rgba_png(image[None], mask[None], run_dir / f"{name}_rgba_{i}.png").name
        for i, (image, mask) in enumerate(zip(images, alpha))
    ]


def save_importance(importance: torch.Tensor, run_dir: Path, name: str) -> list[str]:
    """Write (B, 1, H, W) importance maps as ``name_importance.png`` (B = 1) or ``name_importance_i.png``."""
    grey = importance.expand(-1, 3, -1, -1)
    if grey.shape[0] == 1:
        return [save_png(grey, run_dir / f"{name}_importance.png").name]
    return [save_png(map_[None], run_dir / f"{name}_importance_{i}.png").name for i, map_ in enumerate(grey)]


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


def estimate_visualization(cfg: RenderConfig, engine: Engine, *_) -> Estimate:
    """Two of the visualisation's own steps (after one warm-up step), times its steps (not frames)."""
    nets, _ = visualization_nets(cfg, engine, cfg.target, lambda _: None)
    targets = [find_target(net, cfg.target) for net in nets]
    stamps = []
    visualize_steps(cfg, nets, targets, engine.device, 3, on_step=lambda _: stamps.append(time.perf_counter()))
    step = (stamps[-1] - stamps[0]) / (len(stamps) - 1)
    settings = cfg.visualize  # the fine stage's steps see crops of the same size, so they cost the same
    size = optimised_size(cfg.height, cfg.width, settings.size)
    steps = total_steps(settings.steps, size, settings.parameterization, detail_of(settings))
    return Estimate(steps * step, peak_bytes(engine.device), steps, "step", step, (cfg.height, cfg.width))
