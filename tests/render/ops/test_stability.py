"""Temporal stability metric: near zero for tracked motion, high for flicker, source flow."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from skimage import data

from render.ops.flow import FlowSettings, frame_motion
from render.ops.stability import StabilityMeter, measure_stability


def pan(frames: int = 6, step: int = 2) -> list[torch.Tensor]:
    """(1, 3, 64, 96) crops of a photo, the camera moving ``step`` px right per frame."""
    pixels = data.astronaut()
    crops = [pixels[100:164, 150 + step * i : 246 + step * i] for i in range(frames)]
    return [torch.from_numpy(np.ascontiguousarray(c)).permute(2, 0, 1)[None].float() / 255 for c in crops]


def flickering(frames: list[torch.Tensor], amount: float, seed: int = 0) -> list[torch.Tensor]:
    """Each frame plus its own smooth random pattern: a dream that doesn't follow the picture."""
    generator = torch.Generator().manual_seed(seed)
    out = []
    for frame in frames:
        noise = torch.nn.functional.interpolate(torch.rand(1, 3, 8, 12, generator=generator) - 0.5, size=(64, 96),
                                                mode="bilinear")
        out.append((frame + amount * noise).clamp(0, 1))
    return out


def test_still_frames_score_zero():
    frame = pan(1)[0]
    assert measure_stability([frame] * 4).instability < 0.01  # DIS finds almost no motion in a still picture


def test_tracked_motion_scores_low_and_flicker_high():
    source = pan()
    steady = measure_stability(source).instability
    assert steady < 3.0
    assert measure_stability(flickering(source, 0.3), source).instability > 3 * steady


def test_pattern_moving_with_the_source_ranks_below_a_swimming_one():
    source = pan()
    base = flickering(source[:1], 0.3)[0] - source[0]  # one pattern, moved along with the picture
    stuck = [(s + torch.roll(base, -2 * i, dims=3)).clamp(0, 1) for i, s in enumerate(source)]
    swimming = flickering(source, 0.3, seed=1)
    assert measure_stability(stuck, source).instability < 0.5 * measure_stability(swimming, source).instability


def test_report_has_source_figure_and_difference():
    source = pan(4)
    report = measure_stability(flickering(source, 0.2), source, FlowSettings(preset="fast"))
    assert report.pairs == 3
    assert report.source_instability < report.instability
    assert report.difference_from_source > 1.0
    alone = measure_stability(source)
    assert alone.source_instability is None and alone.difference_from_source is None


def test_meter_pools_pixels_and_is_nan_when_empty():
    assert math.isnan(StabilityMeter().value)
    first, second = pan(2)
    meter = StabilityMeter()
    motion = frame_motion(first, second, FlowSettings())
    meter.add(first, second, motion)
    assert meter.count == pytest.approx(motion.mask.sum().item() * 3)
    assert meter.value == pytest.approx(measure_stability([first, second]).instability)
    assert math.isnan(measure_stability(pan(1)).instability)
