"""Cameras: what moves the picture between two frames of an animation, behind one protocol.

A camera turns one frame's settings (``render.timeline.FrameSettings``) into that frame's
move: a (1, 3, 3) matrix from the last frame's pixels to this frame's. Moves compose by
matrix product (the later move on the left), so what works on moves works for every
camera alike: cadence in-betweens carry a dream through several moves at once, a mask
that follows the camera is the drawing moved by the product of every move since, and
``warp`` resamples a picture once by any of them. The affine camera here is today's
zoom, rotation and translation; ``render.ops.cameras`` lists the cameras and picks one.
"""

from __future__ import annotations

from typing import Any, ClassVar, Protocol

import torch

from render.ops.warp import Motion, step_matrix, warp_by_matrix
from render.timeline import AnimatedKey, FrameSettings

RATE_LINEAR = ("motion.angle", "motion.translation_x", "motion.translation_y")  # rescaled by a factor


class Camera(Protocol):
    """One kind of camera.

    Attributes:
        keys: the animated keys this camera adds to the timeline beyond the affine ones (``ANIMATED_KEYS``).
    """

    keys: ClassVar[tuple[AnimatedKey, ...]]

    def move(self, settings: FrameSettings, height: int, width: int, device: torch.device) -> torch.Tensor:
        """The (1, 3, 3) move of the frame ``settings`` are for: last frame's pixels -> this frame's."""


def identity_move(device: torch.device) -> torch.Tensor:
    """(1, 3, 3): no move (frame 0, or a frame the camera holds still)."""
    return torch.eye(3, device=device)[None]


def warp(image: torch.Tensor, move: torch.Tensor, border: str = "reflection",
         sampling: str = "bilinear") -> torch.Tensor:
    """``image`` (B, C, H, W) resampled once by ``move`` (1, 3, 3), any camera's or several composed."""
    return warp_by_matrix(image, move, border, sampling)


class AffineCamera:
    """Zoom, rotation and translation about a centre (``motion.zoom``, ``angle``, ``translation_*``, ``center_*``).

    ``rate`` rescales moves written for another frame rate (``motion.rate_fps / fps``): zoom is a factor per
    frame, so it rescales as a power (``1.04 ** (30 / fps)``, not ``1.04 * (30 / fps)``); angle and
    translation rescale linearly.
    """

    keys: ClassVar[tuple[AnimatedKey, ...]] = ()

    def __init__(self, rate: float = 1.0):
        self.rate = rate

    @classmethod
    def wanted(cls, motion_cfg: Any) -> bool:
        return True

    def motion(self, settings: FrameSettings) -> Motion:
        """The frame's zoom, rotation and translation, at the render's frame rate."""
        linear = {key: settings[key] * self.rate for key in RATE_LINEAR}
        return Motion(
            zoom=settings["motion.zoom"] ** self.rate,
            angle=linear["motion.angle"],
            translation=(linear["motion.translation_x"], linear["motion.translation_y"]),
            center=(settings["motion.center_x"], settings["motion.center_y"]),
        )

    def move(self, settings: FrameSettings, height: int, width: int, device: torch.device) -> torch.Tensor:
        return step_matrix(self.motion(settings), height, width, device)
