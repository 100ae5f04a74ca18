"""The cameras an animation can move with, and the one a render's ``motion`` section picks.

A camera is one file implementing ``render.ops.camera.Camera``; listed here, its keys join the
timeline and a render whose ``motion`` section wants it moves with it. The first camera that
wants the section is taken, so the most specific comes first; the affine camera takes any.
"""

from __future__ import annotations

from typing import Any

from render.ops.camera import AffineCamera, Camera
from render.ops.perspective_camera import PerspectiveCamera
from render.timeline import AnimatedKey

CAMERAS: tuple[type[AffineCamera], ...] = (PerspectiveCamera, AffineCamera)


def camera_for(motion_cfg: Any, fps: float) -> Camera:
    """The camera the ``motion`` section asks for, at the render's ``fps`` (``motion.rate_fps`` rescales)."""
    rate = motion_cfg.rate_fps / fps if motion_cfg.rate_fps else 1.0
    return next(camera for camera in CAMERAS if camera.wanted(motion_cfg))(rate)


def camera_keys() -> tuple[AnimatedKey, ...]:
    """Every camera's own animated keys, for the timeline."""
    return tuple(key for camera in CAMERAS for key in camera.keys)
