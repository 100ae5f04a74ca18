"""Transformation robustness: small random changes to the image before every step.

An image that drives a network only at one exact pixel alignment is an
adversarial pattern, not a picture. Shifting, scaling and rotating the image a
little at random each step (after lucid's ``optvis/transform``) makes the
optimiser find features that survive those changes, which look like things.

Each function returns a ``Transform``, a callable ``(B, 3, H, W) -> (B, 3, H', W')``
drawing its randomness from the ``torch.Generator`` it was built with.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import kornia.geometry.transform as KT
import torch
import torch.nn.functional as F
from torchvision.ops import roi_align

Transform = Callable[[torch.Tensor], torch.Tensor]


def pad(pixels: int, value: float = 0.5) -> Transform:
    """Grow the image by a grey border, so jitter and rotation never cut into the image itself."""

    def transform(image: torch.Tensor) -> torch.Tensor:
        return F.pad(image, (pixels,) * 4, value=value) if pixels > 0 else image

    return transform


def jitter(pixels: int, generator: torch.Generator) -> Transform:
    """Crop ``pixels`` rows and columns at a random offset: a random shift of up to ``pixels``."""

    def transform(image: torch.Tensor) -> torch.Tensor:
        if pixels <= 0:
            return image
        dy, dx = torch.randint(0, pixels + 1, (2,), generator=generator).tolist()
        height, width = image.shape[-2:]
        return image[..., dy : dy + height - pixels, dx : dx + width - pixels]

    return transform


def random_scale(scales: Sequence[float], generator: torch.Generator) -> Transform:
    """Scale each image about its centre by a factor picked from ``scales`` (the size is kept)."""
    choices = torch.tensor([float(s) for s in scales])

    def transform(image: torch.Tensor) -> torch.Tensor:
        picked = choices[torch.randint(0, len(choices), (image.shape[0],), generator=generator)]
        factor = picked.to(image.device, image.dtype)[:, None].expand(-1, 2)  # (B, 2)
        return KT.scale(image, factor, padding_mode="border", align_corners=False)

    return transform


def random_rotate(degrees: float, generator: torch.Generator) -> Transform:
    """Rotate each image about its centre by an angle drawn uniformly from [-degrees, degrees]."""

    def transform(image: torch.Tensor) -> torch.Tensor:
        if degrees <= 0:
            return image
        angle = (torch.rand(image.shape[0], generator=generator) * 2 - 1) * degrees  # (B,)
        return KT.rotate(image, angle.to(image.device, image.dtype), padding_mode="border", align_corners=False)

    return transform


def compose(transforms: Sequence[Transform]) -> Transform:
    """Apply ``transforms`` in order."""

    def transform(image: torch.Tensor) -> torch.Tensor:
        for step in transforms:
            image = step(image)
        return image

    return transform


def robustness(
    jitter_pixels: int, scales: Sequence[float], rotate_degrees: float, generator: torch.Generator
) -> Transform:
    """lucid's standard chain: pad, jitter, scale, rotate, then a finer jitter.

    The second, smaller jitter moves the rotated and scaled image off the
    pixel grid again, so no step sees the same alignment twice.
    """
    return compose(
        [
            pad(jitter_pixels),
            jitter(jitter_pixels, generator),
            random_scale(scales or [1.0], generator),
            random_rotate(rotate_degrees, generator),
            jitter(jitter_pixels // 2, generator),
        ]
    )


def random_crops(
    count: int,
    box_range: Sequence[float],
    output_size: int,
    noise: float,
    generator: torch.Generator,
) -> Transform:
    """``count`` square crops per image, of random size and position, resized to ``output_size``, plus noise.

    MaCo's robustness: each step the network sees the image at several scales
    and framings, so only a picture that reads as the object everywhere (the whole
    thing at once and in close-up) scores well; a few pixels of jitter cannot ask that.

    Args:
        count: crops per image per step.
        box_range: (smallest, largest) side of a crop as a fraction of the image's shorter side. Above 1 a
            crop holds the whole image, smaller, on its mean colour: the object must read from afar too.
        output_size: side of each crop fed to the network (its training size, e.g. 224).
        noise: standard deviation of Gaussian noise added to the crops.
        generator: draws the boxes and the noise (a CPU generator).

    Returns:
        A transform (B, 3, H, W) -> (B * count, 3, output_size, output_size); image b's crops
        are rows b * count .. b * count + count - 1.
    """
    low, high = float(box_range[0]), float(box_range[1])

    def transform(image: torch.Tensor) -> torch.Tensor:
        batch, _, height, width = image.shape
        boxes = crop_boxes(batch * count, height, width, low, high, generator)  # (B * count, 4)
        owner = torch.arange(batch).repeat_interleave(count)[:, None].to(boxes)  # (B * count, 1)
        rois = torch.cat([owner, boxes], dim=1).to(image.device, image.dtype)
        if high > 1:
            crops = crops_on_mean_colour(image, rois, output_size, count)
        else:
            crops = roi_align(image, rois, output_size=output_size, aligned=True, sampling_ratio=2)
        if noise > 0:
            crops = crops + noise * torch.randn(crops.shape, generator=generator).to(crops)
        return crops

    return transform


def crops_on_mean_colour(image: torch.Tensor, rois: torch.Tensor, output_size: int, count: int) -> torch.Tensor:
    """``roi_align`` of (B, 3, H, W) ``image`` where a box reaching outside the image reads its mean colour there.

    Args:
        rois: (B * count, 5) boxes (owner, x0, y0, x1, y1), image-major.

    Returns:
        (B * count, 3, output_size, output_size).
    """
    # roi_align reads zero outside the image: shifted by the mean colour, it pads with the mean colour
    fill = image.detach().mean(dim=(2, 3), keepdim=True)  # (B, 3, 1, 1)
    crops = roi_align(image - fill, rois, output_size=output_size, aligned=True, sampling_ratio=2)
    return crops + fill.repeat_interleave(count, dim=0)


def crop_boxes(
    count: int, height: int, width: int, low: float, high: float, generator: torch.Generator
) -> torch.Tensor:
    """``count`` square boxes (x0, y0, x1, y1) in pixels, side uniform in [low, high] of the shorter side.

    Returns:
        (count, 4) float boxes that lie inside the image, or, where the side exceeds the image, hold
        it whole along that axis.
    """
    side = (low + (high - low) * torch.rand(count, generator=generator)) * min(height, width)  # (count,)
    x0 = torch.rand(count, generator=generator) * (width - side)
    y0 = torch.rand(count, generator=generator) * (height - side)
    return torch.stack([x0, y0, x0 + side, y0 + side], dim=1)
