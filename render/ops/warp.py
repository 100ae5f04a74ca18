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


def step_matrix(motion: Motion, height: int, width: int, device: torch.device) -> torch.Tensor:
    """One frame's move as a (1, 3, 3) matrix, so that moves compose by matrix product (later move on the left).

    Exactly the identity for a move that is one, so composing it resamples nothing.
    """
    if motion.is_identity:
        return torch.eye(3, device=device)[None]
    matrix = motion_matrix(motion, height, width, device)
    bottom = torch.tensor([[[0.0, 0.0, 1.0]]], dtype=matrix.dtype, device=device)
    return torch.cat([matrix, bottom], dim=1)


def warp_by_matrix(image: torch.Tensor, matrix: torch.Tensor, border: str = "reflection",
                   sampling: str = "bilinear") -> torch.Tensor:
    """Resample ``image`` (B, C, H, W) once by ``matrix``, e.g. several moves composed: an affine (1, 2, 3), or a
    (1, 3, 3) that is affine (bottom row 0 0 1) or a homography (a perspective camera's move).

    Returns:
        (B, C, H, W); ``image`` itself for the identity matrix.
    """
    if matrix.shape[-2] == 3 and not is_affine(matrix):
        return _warp_perspective(image, matrix, border, sampling)
    matrix = matrix[:, :2]
    if torch.equal(matrix, torch.eye(3, device=matrix.device, dtype=matrix.dtype)[None, :2]):
        return image
    height, width = image.shape[-2:]
    matrix = matrix.expand(image.shape[0], -1, -1)
    warped = kornia.geometry.transform.warp_affine(
        image, matrix.to(image.dtype), (height, width), mode=sampling, padding_mode=_padding(border),
        align_corners=True,
    )
    return warped.clamp(0.0, 1.0) if sampling == "bicubic" else warped


def is_affine(matrix: torch.Tensor) -> bool:
    """A (1, 3, 3) move whose bottom row is exactly 0 0 1."""
    return torch.equal(matrix[:, 2], matrix.new_tensor([[0.0, 0.0, 1.0]]))


def _padding(border: str) -> str:
    return "border" if border == "replicate" else border


def _warp_perspective(image: torch.Tensor, matrix: torch.Tensor, border: str, sampling: str) -> torch.Tensor:
    height, width = image.shape[-2:]
    matrix = matrix.expand(image.shape[0], -1, -1).to(image.dtype)
    warped = kornia.geometry.transform.warp_perspective(
        image, matrix, (height, width), mode=sampling, padding_mode=_padding(border), align_corners=True
    )
    return warped.clamp(0.0, 1.0) if sampling == "bicubic" else warped
