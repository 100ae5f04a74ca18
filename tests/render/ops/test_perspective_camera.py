"""The perspective camera: the affine camera's move bit for bit at tilt 0, a keystone on a tilted plane."""

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf

from dream.errors import UserError
from render.config import RenderConfig
from render.ops.camera import AffineCamera, warp
from render.ops.cameras import camera_for
from render.ops.perspective_camera import PerspectiveCamera, tilt_homography
from render.ops.warp import is_affine
from render.timeline import ANIMATED_KEYS, FrameSettings, Timeline
from tests.compose import timeline_of

CPU = torch.device("cpu")
KEYS = PerspectiveCamera.keys


def checkerboard(height: int = 96, width: int = 128, square: int = 8) -> torch.Tensor:
    """(1, 3, H, W) black and white squares of ``square`` pixels."""
    y, x = torch.meshgrid(torch.arange(height), torch.arange(width), indexing="ij")
    board = (((y // square) + (x // square)) % 2).float()
    return board.expand(1, 3, height, width).clone()


def horizontal_period(image: torch.Tensor, rows: slice) -> float:
    """Mean pixels per checker period along the rows ``rows`` of (1, 3, H, W), from their sign changes."""
    grey = image[0, 0, rows].numpy() - 0.5
    changes = np.count_nonzero(np.diff(np.sign(grey), axis=1), axis=1).mean()
    return 2 * grey.shape[1] / changes


def test_at_tilt_zero_the_move_is_the_affine_cameras_bit_for_bit():
    timeline = timeline_of(4, ["motion.zoom=1.03", "motion.angle=0.7", "motion.translation_x=2"])
    settings = timeline.at(2)
    perspective = PerspectiveCamera().move(_with_tilt(settings, 0.0, 0.0), 36, 64, CPU)
    assert torch.equal(perspective, AffineCamera().move(settings, 36, 64, CPU))


def test_a_tilt_about_the_horizontal_axis_makes_top_and_bottom_periods_differ():
    board, timeline = checkerboard(square=4), timeline_of(2)
    bands = (slice(4, 16), slice(80, 92))
    tilted = warp(board, PerspectiveCamera().move(_with_tilt(timeline.at(1), 30.0, 0.0), 96, 128, CPU))
    top, bottom = (horizontal_period(tilted, rows) for rows in bands)
    assert abs(top - bottom) / min(top, bottom) >= 0.10
    flat = warp(board, PerspectiveCamera().move(_with_tilt(timeline.at(1), 0.0, 0.0), 96, 128, CPU))
    top, bottom = (horizontal_period(flat, rows) for rows in bands)
    assert abs(top - bottom) / min(top, bottom) <= 0.02


def test_a_tilt_keeps_the_centre_and_is_a_true_perspective():
    tilt = tilt_homography(20.0, -10.0, 60.0, 64, (31.5, 17.5), CPU)
    centre = tilt[0] @ torch.tensor([31.5, 17.5, 1.0])
    torch.testing.assert_close(centre[:2] / centre[2], torch.tensor([31.5, 17.5]))
    assert not is_affine(tilt)


@pytest.mark.parametrize(("overrides", "camera"), [([], AffineCamera), (["motion.tilt_x=0.5"], PerspectiveCamera),
                                                   (["motion.tilt_y='0:(0), 30:(2)'"], PerspectiveCamera)])
def test_the_motion_section_picks_the_camera(overrides, camera):
    cfg = OmegaConf.merge(OmegaConf.structured(RenderConfig), OmegaConf.from_dotlist(overrides))
    assert type(camera_for(cfg.motion, cfg.fps)) is camera


def test_its_keys_join_the_timeline_with_their_rules():
    cfg = OmegaConf.merge(OmegaConf.structured(RenderConfig), OmegaConf.from_dotlist(["motion.fov=0"]))
    with pytest.raises(UserError, match="'motion.fov'.*1..170"):
        Timeline(cfg, 2, keys=(*ANIMATED_KEYS, *KEYS))


def _with_tilt(settings: FrameSettings, tilt_x: float, tilt_y: float) -> FrameSettings:
    values = {**settings.values, "motion.tilt_x": tilt_x, "motion.tilt_y": tilt_y, "motion.fov": 60.0}
    return FrameSettings(settings.frame, values)
