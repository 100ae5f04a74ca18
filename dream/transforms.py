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
