"""The camera protocol and the affine camera: a frame's settings in, one (1, 3, 3) move out."""

import pytest
import torch

from render.ops.camera import AffineCamera, identity_move, warp
from render.ops.warp import Motion, step_matrix
from tests.compose import timeline_of

CPU = torch.device("cpu")


def test_the_affine_move_is_the_frames_motion():
    settings = timeline_of(3, ["motion.zoom=1.05", "motion.angle=2", "motion.translation_x=3"]).at(1)
    expected = step_matrix(Motion(1.05, 2.0, (3.0, 0.0)), 24, 32, CPU)
    assert torch.equal(AffineCamera().move(settings, 24, 32, CPU), expected)


def test_a_rate_rescales_zoom_as_a_power_and_the_rest_linearly():
    settings = timeline_of(3, ["motion.zoom=1.04", "motion.angle=2"]).at(1)
    motion = AffineCamera(rate=0.5).motion(settings)
    assert motion.zoom == pytest.approx(1.04**0.5) and motion.angle == pytest.approx(1.0)


def test_moves_compose_so_one_resampling_equals_two_moves():
    image = torch.rand(1, 3, 24, 32, generator=torch.Generator().manual_seed(0))
    settings = timeline_of(3, ["motion.translation_x=2"]).at(1)
    move = AffineCamera().move(settings, 24, 32, CPU)
    twice = warp(warp(image, move, "zeros"), move, "zeros")
    torch.testing.assert_close(warp(image, move @ move, "zeros")[..., 4:], twice[..., 4:])
    assert warp(image, identity_move(CPU)) is image
