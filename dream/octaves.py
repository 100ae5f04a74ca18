"""The notebook's ``deepdream``: ascent over an image pyramid, carrying the dreamed detail up.

The smallest octave is dreamed first; the detail it adds (dreamed minus base)
is upscaled onto the next octave's base, so large structures form at coarse
scales and fine ones on top.

With a mask, every step is restricted to it (``dream.step``), at every octave
with the mask scaled to that octave's size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from dream.models.base import TapNet
from dream.objectives import Objective
from dream.step import StepParams, ascent_step


@dataclass(frozen=True)
class DreamParams:
    """Settings of one dream (defaults: the original notebook).

    Attributes:
        octaves: number of pyramid levels.
        octave_scale: size ratio between neighbouring levels.
        iterations: ascent steps per octave: one number for all, or one per octave
            (smallest octave first).
        step_size: step in 0-255 units: one number, or one per octave.
        jitter: random roll in pixels.
        tile_size: gradient tile size (0 = never tile).
        min_size: octaves whose shorter side would fall below this are skipped
            (tiny images tell a deep layer nothing).
    """

    octaves: int = 4
    octave_scale: float = 1.4
    iterations: int | Sequence[int] = 10
    step_size: float | Sequence[float] = 1.5
    jitter: int = 32
    tile_size: int = 512
    min_size: int = 32

    def per_octave(self, value, count: int) -> list:
        values = list(value) if isinstance(value, (list, tuple)) else [value] * count
        if len(values) < count:
            values = [values[0]] * (count - len(values)) + values
        return values[-count:]


def octave_sizes(height: int, width: int, octaves: int, scale: float, min_size: int) -> list[tuple[int, int]]:
    """Pyramid sizes, smallest first, ending with (height, width)."""
    sizes = [(height, width)]
    for level in range(1, octaves):
        h, w = round(height / scale**level), round(width / scale**level)
        if min(h, w) < min_size:
            break
        sizes.append((h, w))
    return sizes[::-1]


def resize(image: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """(B, C, H, W) -> (B, C, *size), bilinear, antialiased when shrinking."""
    if tuple(image.shape[-2:]) == tuple(size):
        return image
    shrinking = size[0] < image.shape[-2] or size[1] < image.shape[-1]
    return F.interpolate(image, size=size, mode="bilinear", align_corners=False, antialias=shrinking)


def deepdream(
    net: TapNet,
    image: torch.Tensor,
    objective: Objective,
    params: DreamParams,
    generator: torch.Generator,
    mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """Dream ``image`` at every octave, smallest first.

    Args:
        image: (B, 3, H, W) RGB in [0, 1].
        generator: CPU generator driving the jitter (same seed, same dream).
        mask: (B or 1, 1, H, W) in [0, 1]: where to dream; None: everywhere.

    Returns:
        (B, 3, H, W) RGB in [0, 1]. Where ``mask`` is 0 only detail carried up from coarser
        octaves (a few pixels round the mask's edge) can differ from ``image``.
    """
    sizes = octave_sizes(*image.shape[-2:], params.octaves, params.octave_scale, params.min_size)
    iterations = params.per_octave(params.iterations, len(sizes))
    step_sizes = params.per_octave(params.step_size, len(sizes))
    detail = torch.zeros_like(resize(image, sizes[0]))
    for size, steps, step_size in zip(sizes, iterations, step_sizes):
        base = resize(image, size)
        dreamed = (base + resize(detail, size)).clamp(0.0, 1.0)
        step = StepParams(step_size=float(step_size), jitter=params.jitter, tile_size=params.tile_size)
        octave_mask = None if mask is None else resize(mask, size)
        for _ in range(int(steps)):
            dreamed = ascent_step(net, dreamed, objective, step, generator, octave_mask)
        detail = dreamed - base
    return dreamed
