"""Warping error: zero for a picture moved exactly, Ruder's check hides occluded pixels and motion boundaries."""

from __future__ import annotations

import math

import pytest
import torch

from render.ops.coherence import WarpingError, flow_gradient_energy, pair_error, visible_pixels, warping_errors


def shifted(image: torch.Tensor, dx: int) -> torch.Tensor:
    """``image`` (1, C, H, W) moved ``dx`` pixels left (content enters on the right)."""
    return torch.cat([image[..., dx:], image[..., -dx:]], dim=-1)


def uniform(dx: float, height: int = 8, width: int = 12) -> torch.Tensor:
    flow = torch.zeros(1, 2, height, width)
    flow[:, 0] = dx
    return flow


def test_a_uniform_pan_is_visible_except_what_came_in_from_outside():
    visible = visible_pixels(uniform(2.0), uniform(-2.0))
    assert visible.shape == (1, 1, 8, 12)
    assert visible[..., :10].all() and not visible[..., 10:].any()


def test_disagreeing_flows_mark_pixels_occluded():
    backward, forward = uniform(2.0), uniform(-2.0)
    forward[..., 6:] = 3.0  # what the current frame sees at x 4-5 moved elsewhere
    visible = visible_pixels(backward, forward)
    assert not visible[..., 4:6].any() and visible[..., :3].all()


def test_motion_boundaries_are_not_measured():
    flow = uniform(0.0)
    flow[:, 0, :, 6:] = 3.0
    energy = flow_gradient_energy(flow)
    assert energy[..., 5:7].gt(1).all() and energy[..., :4].eq(0).all()
    assert not visible_pixels(flow, -flow)[..., 5:7].any()


def test_pair_error_is_zero_for_exact_motion_and_counts_channels():
    earlier = torch.rand(1, 3, 8, 12, generator=torch.Generator().manual_seed(0))
    current, flow = shifted(earlier, 2), uniform(2.0)
    visible = visible_pixels(flow, -flow)
    assert pair_error(current, earlier, flow, visible) < 1e-10
    assert pair_error(current + 0.1, earlier, flow, visible) == pytest.approx(3 * 0.01)
    assert math.isnan(pair_error(current, earlier, flow, torch.zeros_like(visible)))


def test_warping_errors_per_distance_and_video():
    generator = torch.Generator().manual_seed(1)
    frames = [torch.rand(1, 3, 8, 40, generator=generator)]
    for _ in range(5):
        frames.append(shifted(frames[-1], 1))
    noisy = [f + 0.05 * torch.randn(f.shape, generator=generator) for f in frames]
    still, flicker = warping_errors([frames, noisy], lambda t, k: (uniform(k, 8, 40), uniform(-k, 8, 40)), (1, 3))
    assert still[1] < 1e-10 and still[3] < 1e-10
    assert flicker[1] > 0.01 and flicker[3] > 0.01


def test_a_frame_without_visible_pixels_is_left_out():
    meter = WarpingError(1)
    meter.add(float("nan"))
    assert math.isnan(meter.value)
    meter.add(2.0)
    meter.add(4.0)
    assert meter.value == 3.0
