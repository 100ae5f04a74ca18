"""Optical flow: DIS recovers known shifts, backward warping, reliability mask, scene cuts, settings."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from skimage import data

from dream.errors import UserError
from render.config import FlowPreset
from render.ops.flow import (
    DIS_PRESETS,
    FlowSettings,
    estimate_flow,
    flow_reliability,
    flow_settings,
    frame_motion,
    grey_uint8,
    warp_by_flow,
)

CPU = torch.device("cpu")


def photo(top: int = 100, left: int = 150, height: int = 72, width: int = 96) -> torch.Tensor:
    """(1, 3, height, width) crop of a real photo: texture DIS can follow."""
    pixels = data.astronaut()[top : top + height, left : left + width]
    return torch.from_numpy(np.ascontiguousarray(pixels)).permute(2, 0, 1).unsqueeze(0).float() / 255


def constant_flow(dx: float, dy: float, height: int = 6, width: int = 8) -> torch.Tensor:
    return torch.tensor([dx, dy]).view(1, 2, 1, 1).expand(1, 2, height, width).clone()


def test_grey_is_uint8_luma():
    frame = torch.zeros(1, 3, 4, 5)
    frame[:, 1] = 1.0  # pure green
    grey = grey_uint8(frame)
    assert grey.shape == (4, 5) and grey.dtype == np.uint8
    assert (grey == round(0.587 * 255)).all()


def test_zero_flow_warp_is_identity():
    image = torch.rand(2, 3, 6, 8, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(warp_by_flow(image, torch.zeros(2, 2, 6, 8)), image, atol=1e-6)


def test_warp_fetches_from_position_plus_flow():
    image = torch.arange(48.0).view(1, 1, 6, 8)
    shifted = warp_by_flow(image, constant_flow(1.0, 2.0))
    assert torch.allclose(shifted[0, 0, :4, :7], image[0, 0, 2:, 1:], atol=1e-4)
    assert torch.allclose(shifted[0, 0, :4, 7], image[0, 0, 2:, 7], atol=1e-4)  # edge repeated outside


def test_dis_recovers_a_known_shift():
    previous = photo(left=150)
    current = photo(left=153)  # the camera moved 3 px right: content moved 3 px left
    flow = estimate_flow(grey_uint8(current), grey_uint8(previous), "medium", CPU)
    assert flow.shape == (1, 2, 72, 96)
    interior = flow[0, :, 10:-10, 10:-10]
    assert interior[0].median().item() == pytest.approx(3.0, abs=0.25)
    assert interior[1].median().item() == pytest.approx(0.0, abs=0.25)


def test_consistent_flow_is_reliable_except_where_it_leaves_the_frame():
    backward, forward = constant_flow(2.0, 0.0, 20, 20), constant_flow(-2.0, 0.0, 20, 20)
    mask = flow_reliability(backward, forward, occlusion_threshold=1.0)
    assert mask.shape == (1, 1, 20, 20)
    assert (mask[..., :18] == 1).all()
    assert (mask[..., 18:] == 0).all()  # these pixels came from outside the previous frame


def test_disagreeing_and_overlong_flow_is_unreliable():
    still = constant_flow(0.0, 0.0, 40, 40)
    assert (flow_reliability(still, constant_flow(3.0, 0.0, 40, 40), 1.0) == 0).all()  # occlusion
    near = flow_reliability(constant_flow(5.0, 0.0, 40, 40), constant_flow(-5.0, 0.0, 40, 40), 1.0)
    far = flow_reliability(constant_flow(7.0, 0.0, 40, 40), constant_flow(-7.0, 0.0, 40, 40), 1.0)
    assert (near[..., :35] == 1).all()
    assert (far == 0).all()  # 7 px in a 40 px frame: further than DIS is trusted


def test_motion_is_not_a_scene_cut_and_a_different_picture_is():
    moved = frame_motion(photo(left=150), photo(left=152, top=101), FlowSettings())
    assert not moved.scene_cut and moved.mask.mean() > 0.8
    cut = frame_motion(photo(), torch.from_numpy(data.coffee()[:72, :96].copy()).permute(2, 0, 1)[None] / 255,
                       FlowSettings())
    assert cut.scene_cut and (cut.mask == 0).all()


def test_frame_motion_shapes_follow_the_frame():
    previous = F.interpolate(photo(), size=(25, 33), mode="bilinear")
    motion = frame_motion(previous, previous, FlowSettings(preset="ultrafast"))
    assert motion.flow.shape == (1, 2, 25, 33) and motion.mask.shape == (1, 1, 25, 33)


@pytest.mark.parametrize(("key", "value"), [("occlusion_threshold", 0.0), ("scene_cut_threshold", -1.0)])
def test_bad_flow_thresholds_are_user_errors(key, value):
    video = dict(flow="dis", flow_preset="medium", occlusion_threshold=1.0, scene_cut_threshold=0.1)
    video[key] = value
    with pytest.raises(UserError, match=f"video.{key}"):
        flow_settings(SimpleNamespace(**video))


def test_flow_settings_from_config():
    video = SimpleNamespace(flow="dis", flow_preset="fast", occlusion_threshold=2.0, scene_cut_threshold=0.2)
    assert flow_settings(video) == FlowSettings("fast", 2.0, 0.2)


def test_every_flow_preset_of_the_schema_is_a_dis_preset():
    assert set(DIS_PRESETS) == set(FlowPreset)


def test_bicubic_warping_keeps_fine_detail_that_bilinear_halves():
    stripes = torch.zeros(1, 1, 4, 16)
    stripes[..., 1::2] = 1.0
    stripes[..., 2::4] = 0.5  # a period of 4 px: bilinear at half a pixel averages neighbours
    half = torch.zeros(1, 2, 4, 16)
    half[:, 0] = 0.5
    spread = {mode: warp_by_flow(stripes, half, mode)[..., 2:-2].std().item() for mode in ("bilinear", "bicubic")}
    assert spread["bicubic"] > 1.1 * spread["bilinear"]
    assert torch.allclose(warp_by_flow(stripes, torch.zeros_like(half), "bicubic"), stripes, atol=1e-5)
