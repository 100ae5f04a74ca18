"""Cadence bench: the camera step is zero for a pure camera move and grows with what changes beyond it."""

from __future__ import annotations

import math

import torch

from render.config import MotionConfig
from render.ops.motion import motion_schedules
from render.ops.warp import warp
from render.schedule import ScheduleContext
from render.tools.bench_cadence import camera_step


def zoom_frames(count: int, noise: float) -> list[torch.Tensor]:
    """A picture flown into by the schedule's zoom, with ``noise`` added to every frame after the first."""
    generator = torch.Generator().manual_seed(0)
    motion = motion_schedules(MotionConfig(zoom=1.05), ScheduleContext(count), 30.0)
    frame = torch.rand((1, 3, 32, 48), generator=generator)
    frames = [frame]
    for index in range(1, count):
        frame = warp(frame, motion.at(index))
        frames.append((frame + noise * torch.rand(frame.shape, generator=generator)).clamp(0, 1))
        frame = frames[-1]
    return frames


def test_a_pure_camera_move_has_no_step():
    motion = motion_schedules(MotionConfig(zoom=1.05), ScheduleContext(6), 30.0)
    assert camera_step(zoom_frames(6, noise=0.0), motion) < 1e-3


def test_flicker_beyond_the_camera_move_raises_the_step():
    motion = motion_schedules(MotionConfig(zoom=1.05), ScheduleContext(6), 30.0)
    calm, boiling = camera_step(zoom_frames(6, 0.02), motion), camera_step(zoom_frames(6, 0.2), motion)
    assert 0 < calm < boiling


def test_a_single_frame_has_no_step():
    motion = motion_schedules(MotionConfig(), ScheduleContext(1), 30.0)
    assert math.isnan(camera_step([torch.zeros(1, 3, 8, 8)], motion))
