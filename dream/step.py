"""One gradient-ascent step on the image (the notebook's ``make_step``), tiled for big images.

The image is rolled by a random jitter, the objective's gradient is taken (in
tiles once the image exceeds ``tile_size``, the roll hiding the tile seams), the
image moves by ``step_size / mean|g| * g`` and is rolled back and clipped.

A mask restricts the step to part of the image: the gradient is multiplied by it
and ``mean|g|`` is taken over the masked area only, so where the mask is 1 the
step is as large as an unmasked one, and where it is 0 no pixel moves at all.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from dream.models.base import TapNet
from dream.objectives import Objective


@dataclass(frozen=True)
class StepParams:
    """Settings of one ascent step.

    Attributes:
        step_size: step in 0-255 pixel units after gradient normalisation (notebook: 1.5).
        jitter: maximum random roll in pixels (notebook: 32).
        tile_size: gradients are computed in tiles of this size once the image is
            larger (0 = never tile).
    """

    step_size: float = 1.5
    jitter: int = 32
    tile_size: int = 512


def objective_gradient(net: TapNet, image: torch.Tensor, objective: Objective) -> torch.Tensor:
    """d objective / d image for every image of the batch.

    Args:
        image: (B, 3, H, W) RGB in [0, 1].

    Returns:
        (B, 3, H, W) gradient; images of the batch don't interact.
    """
    x = image.detach().requires_grad_(True)
    with torch.enable_grad():
        score = objective(net(x, objective.taps)).sum()
        (grad,) = torch.autograd.grad(score, x)
    return grad


def tile_starts(length: int, tile: int) -> list[int]:
    """Start offsets of tiles covering ``length`` (the last tile may be shorter)."""
    if tile <= 0 or length <= tile:
        return [0]
    return list(range(0, length, tile))


def tiled_gradient(net: TapNet, image: torch.Tensor, objective: Objective, tile_size: int,
                   mask: torch.Tensor | None = None) -> torch.Tensor:
    """The objective's gradient computed tile by tile, so memory is bounded by the tile.

    A last tile narrower than half a tile is merged into its neighbour: very
    small tiles see too little context for deep layers.

    Args:
        image: (B, 3, H, W).
        mask: (B or 1, 1, H, W) or None; tiles where it is all 0 are skipped (their gradient is 0).

    Returns:
        (B, 3, H, W); equal to ``objective_gradient`` when one tile covers the image.
    """
    _, _, height, width = image.shape
    grad = torch.zeros_like(image)
    for top, bottom in _spans(height, tile_size):
        for left, right in _spans(width, tile_size):
            if mask is not None and not mask[:, :, top:bottom, left:right].any():
                continue  # nothing there may change: no need to ask the network
            tile = image[:, :, top:bottom, left:right]
            # Scores are means over positions: weighting each tile by its share of the image makes
            # the sum the whole image's gradient, so a narrow last tile doesn't take bigger steps.
            share = (bottom - top) * (right - left) / (height * width)
            grad[:, :, top:bottom, left:right] = share * objective_gradient(net, tile, objective)
    return grad


def _spans(length: int, tile: int) -> list[tuple[int, int]]:
    starts = tile_starts(length, tile)
    if len(starts) > 1 and length - starts[-1] < tile // 2:
        starts.pop()
    ends = starts[1:] + [length]
    return list(zip(starts, ends))


def random_roll(jitter: int, generator: torch.Generator) -> tuple[int, int]:
    """A (dy, dx) shift, each uniform in [-jitter, jitter], drawn from ``generator``."""
    if jitter <= 0:
        return 0, 0
    dy, dx = torch.randint(-jitter, jitter + 1, (2,), generator=generator).tolist()
    return dy, dx


def masked_gradient(grad: torch.Tensor, mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """The gradient restricted to ``mask`` and its mean absolute value over the masked area, per image.

    Args:
        grad: (B, 3, H, W).
        mask: (B or 1, 1, H, W) weights in [0, 1], or None (the whole image).

    Returns:
        ``mask * grad`` (B, 3, H, W), exactly 0 where the mask is 0, and its scale (B, 1, 1, 1):
        mean |grad| over the image, or the mask-weighted mean inside the mask.
    """
    if mask is None:
        return grad, grad.abs().flatten(1).mean(1).clamp_min(1e-12).view(-1, 1, 1, 1)
    masked = grad * mask
    area = mask.expand(grad.shape[0], 1, *grad.shape[2:]).flatten(1).sum(1) * grad.shape[1]
    scale = masked.abs().flatten(1).sum(1) / area.clamp_min(1e-12)
    return masked, scale.clamp_min(1e-12).view(-1, 1, 1, 1)


def ascent_step(
    net: TapNet,
    image: torch.Tensor,
    objective: Objective,
    params: StepParams,
    generator: torch.Generator,
    mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """One normalised gradient-ascent step (the notebook's make_step).

    Args:
        image: (B, 3, H, W) RGB in [0, 1].
        generator: CPU generator for the jitter roll (reproducible on every device).
        mask: (B or 1, 1, H, W) in [0, 1]: where the image may change; None: everywhere.

    Returns:
        (B, 3, H, W) in [0, 1]; pixels where ``mask`` is 0 are ``image``'s own.
    """
    dy, dx = random_roll(params.jitter, generator)
    rolled = image.roll((dy, dx), dims=(2, 3))
    rolled_mask = None if mask is None else mask.roll((dy, dx), dims=(2, 3))
    grad = tiled_gradient(net, rolled, objective, params.tile_size, rolled_mask)
    grad, scale = masked_gradient(grad, rolled_mask)
    stepped = rolled + (params.step_size / 255.0) * grad / scale
    return stepped.roll((-dy, -dx), dims=(2, 3)).clamp(0.0, 1.0)
