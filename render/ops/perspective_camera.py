"""The perspective camera: the affine camera on a picture plane that tilts, as Deforum's perspective flip.

``motion.tilt_x`` turns the picture plane about its horizontal centre line (its top leans away
from or toward the viewer), ``motion.tilt_y`` about its vertical centre line, in degrees per
frame, seen through a pinhole camera with a horizontal field of view of ``motion.fov`` degrees
(a narrow field flattens the perspective, a wide one deepens it). Each frame's tilt is a
homography about the move's centre (``motion.center_x``/``center_y``), composed with the affine
move, so a tilting plane keeps leaning further as the zoom flies on. With both tilts 0 the move
is the affine camera's, bit for bit.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import torch

from render.ops.camera import AffineCamera
from render.timeline import AnimatedKey, FrameSettings

TILT_KEYS = ("motion.tilt_x", "motion.tilt_y")


class PerspectiveCamera(AffineCamera):
    """The affine camera with a tilting picture plane."""

    keys: ClassVar[tuple[AnimatedKey, ...]] = (
        AnimatedKey("motion.tilt_x", lambda v: abs(v) < 90, "between -90 and 90 degrees per frame", "0.5"),
        AnimatedKey("motion.tilt_y", lambda v: abs(v) < 90, "between -90 and 90 degrees per frame", "0.5"),
        AnimatedKey("motion.fov", lambda v: 1 <= v <= 170, "a horizontal field of view of 1..170 degrees", "60"),
    )

    @classmethod
    def wanted(cls, motion_cfg: Any) -> bool:
        """Any tilt that is not a plain 0."""
        return any(getattr(motion_cfg, key.split(".")[1]) not in (0, 0.0, "0") for key in TILT_KEYS)

    def move(self, settings: FrameSettings, height: int, width: int, device: torch.device) -> torch.Tensor:
        affine = super().move(settings, height, width, device)
        tilt_x, tilt_y = (settings[key] * self.rate for key in TILT_KEYS)
        if tilt_x == 0.0 and tilt_y == 0.0:
            return affine
        centre = (settings["motion.center_x"] * (width - 1), settings["motion.center_y"] * (height - 1))
        tilt = tilt_homography(tilt_x, tilt_y, settings["motion.fov"], width, centre, device)
        return affine @ tilt

    @staticmethod
    def focal_length(fov: float, width: int) -> float:
        """Pixels from the pinhole to the picture plane for a horizontal field of view of ``fov`` degrees."""
        return (width / 2) / math.tan(math.radians(fov) / 2)


def tilt_homography(tilt_x: float, tilt_y: float, fov: float, width: int, centre: tuple[float, float],
                    device: torch.device) -> torch.Tensor:
    """(1, 3, 3) the picture plane turned ``tilt_x`` degrees about its horizontal line through ``centre`` (x, y
    pixels), then ``tilt_y`` about its vertical line, and seen again through the pinhole: the centre stays put,
    the side turned away shrinks toward it and the side turned near grows.

    In coordinates about the centre, a point (x, y) of the plane at the focal distance f is at (x, y, f); turned,
    it is ``R (x, y, 0) + (0, 0, f)``, and it projects to f X / Z, f Y / Z.
    """
    focal = PerspectiveCamera.focal_length(fov, width)
    a, b = math.radians(tilt_x), math.radians(tilt_y)
    about_x = torch.tensor([[1, 0, 0], [0, math.cos(a), -math.sin(a)], [0, math.sin(a), math.cos(a)]],
                           dtype=torch.float64)
    about_y = torch.tensor([[math.cos(b), 0, math.sin(b)], [0, 1, 0], [-math.sin(b), 0, math.cos(b)]],
                           dtype=torch.float64)
    turned = about_y @ about_x
    plane = torch.stack([turned[:, 0], turned[:, 1], torch.tensor([0.0, 0.0, focal], dtype=torch.float64)], dim=1)
    project = torch.diag(torch.tensor([focal, focal, 1.0], dtype=torch.float64))
    centred = torch.tensor([[1, 0, -centre[0]], [0, 1, -centre[1]], [0, 0, 1]], dtype=torch.float64)
    homography = torch.linalg.inv(centred) @ project @ plane @ centred
    return (homography / homography[2, 2]).to(torch.float32).to(device)[None]
