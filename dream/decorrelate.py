"""Decorrelated colour: the space natural-image priors optimise in.

Its axes are the principal components of ImageNet's RGB colour covariance, so a
step in one of them changes luminance or chroma the way natural images vary
(lucid's ``_linear_decorrelate_color``).
"""

from __future__ import annotations

import functools

import torch

# Square root of the ImageNet RGB colour covariance (from its SVD), as lucid uses it.
COLOR_CORRELATION_SVD_SQRT = (
    (0.26, 0.09, 0.02),
    (0.27, 0.00, -0.05),
    (0.27, -0.09, 0.03),
)


@functools.cache
def color_correlation(device: torch.device) -> torch.Tensor:
    """(3, 3) matrix mapping decorrelated colour to RGB, its largest column norm scaled to 1.

    Cached per device: image parameterisations call it on every optimisation step, and a fresh
    tensor there is a host-to-device copy each time. Callers never change it in place.
    """
    matrix = torch.tensor(COLOR_CORRELATION_SVD_SQRT, dtype=torch.float32, device=device)
    return matrix / matrix.norm(dim=0).max()


def decorrelated_to_rgb(image: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) decorrelated colour -> (B, 3, H, W) RGB logits (before the sigmoid)."""
    return torch.einsum("rc,bchw->brhw", color_correlation(image.device), image)


def rgb_to_decorrelated(image: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) RGB -> (B, 3, H, W) decorrelated colour: the inverse of ``decorrelated_to_rgb``."""
    inverse = torch.linalg.inv(color_correlation(image.device))
    return torch.einsum("cr,brhw->bchw", inverse, image)
