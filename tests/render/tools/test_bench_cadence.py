"""Cadence bench: the camera step is zero for a pure camera move and grows with what changes beyond it."""

from __future__ import annotations

import math

import torch

from render.ops.camera import AffineCamera, warp
from render.tools.bench_cadence import camera_step
from tests.compose import timeline_of

CAMERA = AffineCamera()


def zoom_frames(count: int, noise: float) -> list[torch.Tensor]:
    """A picture flown into by the schedule's zoom, with ``noise`` added to every frame after the first."""
    generator = torch.Generator().manual_seed(0)
    timeline = timeline_of(count, ["motion.zoom=1.05"])
    frame = torch.rand((1, 3, 32, 48), generator=generator)
    frames = [frame]
    for index in range(1, count):
        frame = warp(frame, CAMERA.move(timeline.at(index), 32, 48, frame.device))
        frames.append((frame + noise * torch.rand(frame.shape, generator=generator)).clamp(0, 1))
        frame = frames[-1]
    return frames


def test_a_pure_camera_move_has_no_step():
    assert camera_step(zoom_frames(6, noise=0.0), CAMERA, timeline_of(6, ["motion.zoom=1.05"])) < 1e-3


def test_flicker_beyond_the_camera_move_raises_the_step():
    timeline = timeline_of(6, ["motion.zoom=1.05"])
    calm, boiling = (camera_step(zoom_frames(6, noise), CAMERA, timeline) for noise in (0.02, 0.2))
    assert 0 < calm < boiling


def test_a_single_frame_has_no_step():
    assert math.isnan(camera_step([torch.zeros(1, 3, 8, 8)], CAMERA, timeline_of(1)))
