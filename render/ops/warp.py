"""The per-frame camera move: zoom, rotation and translation about a centre, with kornia.

Border modes matter in feedback loops: zeros would pull black in from the edges
on every zoom-out or rotation, so reflection is the default.
"""

from __future__ import annotations

from dataclasses import dataclass

import kornia
import torch


@dataclass(frozen=True)
class Motion:
    """One frame's camera move.

    Attributes:
        zoom: scale factor (>1 magnifies, i.e. flies in).
        angle: rotation in degrees, counter-clockwise.
        translation: (x, y) shift in pixels (positive moves content right and down).
        center: (x, y) transform centre as fractions of the width and height.
    """

    zoom: float = 1.0
    angle: float = 0.0
    translation: tuple[float, float] = (0.0, 0.0)
    center: tuple[float, float] = (0.5, 0.5)

    @property
    def is_identity(self) -> bool:
        return self.zoom == 1.0 and self.angle == 0.0 and tuple(self.translation) == (0.0, 0.0)


def motion_matrix(motion: Motion, height: int, width: int, device: torch.device) -> torch.Tensor:
    """The (1, 2, 3) affine matrix mapping source pixels to destination pixels."""
    # Pixel centres run from 0 to size-1, so the image centre is at (size-1)/2.
    center = torch.tensor([[motion.center[0] * (width - 1), motion.center[1] * (height - 1)]], device=device)
    scale = torch.full((1, 2), float(motion.zoom), device=device)
    angle = torch.tensor([float(motion.angle)], device=device)
    matrix = kornia.geometry.transform.get_rotation_matrix2d(center, angle, scale)
    shift = torch.tensor([[float(t) for t in motion.translation]], device=device)
    matrix[:, :, 2] += shift
    return matrix


def warp(image: torch.Tensor, motion: Motion, border: str = "reflection", sampling: str = "bilinear") -> torch.Tensor:
    """Apply one frame's camera move.

    Args:
        image: (B, C, H, W).
        border: 'reflection', 'replicate' or 'zeros'.
        sampling: 'bilinear' or 'bicubic'.

    Returns:
        (B, C, H, W); ``image`` itself when the move is the identity.
    """
    if motion.is_identity:
        return image
    height, width = image.shape[-2:]
    return warp_by_matrix(image, motion_matrix(motion, height, width, image.device), border, sampling)


def warp_by_matrix(image: torch.Tensor, matrix: torch.Tensor, border: str = "reflection",
                   sampling: str = "bilinear") -> torch.Tensor:
    """Move ``image`` (B, C, H, W) by a (1, 2, 3) affine matrix mapping source pixels to destination pixels."""
    height, width = image.shape[-2:]
    matrix = matrix.expand(image.shape[0], -1, -1)
    padding = "border" if border == "replicate" else border
    warped = kornia.geometry.transform.warp_affine(
        image, matrix.to(image.dtype), (height, width), mode=sampling, padding_mode=padding, align_corners=True
    )
    return warped.clamp(0.0, 1.0) if sampling == "bicubic" else warped
