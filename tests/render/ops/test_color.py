import math

import numpy as np
import pytest
import torch

from render.ops.color import (
    anchor_reference,
    channel_stats,
    match_colors,
    palette_summary,
    turn_hue,
    turned_reference,
)


def _smooth(seed: int, low: float, high: float, tint=(1.0, 1.0, 1.0)) -> torch.Tensor:
    """(1, 3, 32, 32) smooth random image in [low, high], scaled per channel by ``tint``."""
    coarse = torch.rand(1, 3, 4, 4, generator=torch.Generator().manual_seed(seed))
    image = torch.nn.functional.interpolate(coarse, size=(32, 32), mode="bilinear", align_corners=False)
    return (low + (high - low) * image) * torch.tensor(tint).view(1, 3, 1, 1)


def test_channel_stats_shapes():
    mean, std = channel_stats(torch.rand(2, 3, 8, 8), "lab")
    assert mean.shape == std.shape == (2, 3, 1, 1)
    assert 0 < mean[0, 0].item() < 100  # LAB lightness


@pytest.mark.parametrize("space, tolerance", [("lab", 0.5), ("rgb", 1e-4)])
def test_match_colors_matches_the_reference_statistics(space, tolerance):
    reference = channel_stats(_smooth(1, 0.3, 0.7, tint=(1.0, 0.8, 0.6)), space)
    drifted = _smooth(2, 0.2, 0.5, tint=(0.7, 0.9, 1.0))
    out = match_colors(drifted, reference, space=space)
    assert out.shape == drifted.shape
    assert 0 <= out.min() and out.max() <= 1
    mean, std = channel_stats(out, space)
    assert torch.allclose(mean, reference[0], atol=tolerance)
    assert torch.allclose(std, reference[1], atol=tolerance)
    before = channel_stats(drifted, space)[0]
    assert (before - reference[0]).abs().max() > 10 * tolerance  # there was drift to correct


def test_strength_zero_is_identity_and_half_is_between():
    reference = channel_stats(_smooth(1, 0.3, 0.7, tint=(1.0, 0.8, 0.6)), "lab")
    image = _smooth(2, 0.2, 0.5)
    assert match_colors(image, reference, strength=0.0) is image
    half = channel_stats(match_colors(image, reference, strength=0.5), "lab")[0]
    start = channel_stats(image, "lab")[0]
    assert torch.allclose(half, (start + reference[0]) / 2, atol=0.5)


def test_match_colors_per_batch_image():
    images = torch.cat([_smooth(2, 0.2, 0.5), _smooth(3, 0.4, 0.9)])
    reference = channel_stats(_smooth(1, 0.3, 0.7), "rgb")
    mean, _ = channel_stats(match_colors(images, reference, space="rgb"), "rgb")
    assert torch.allclose(mean, reference[0].expand(2, -1, -1, -1), atol=1e-4)


def test_palette_summary_of_grey_has_no_chroma():
    summary = palette_summary(torch.full((1, 3, 8, 8), 0.5))
    assert summary["chroma"] < 0.01
    assert summary["lightness"] == pytest.approx(53.4, abs=0.5)  # sRGB 0.5 is L* 53.4


def test_palette_summary_sees_colour_and_darkness():
    red = torch.zeros(1, 3, 8, 8)
    red[:, 0] = 0.8
    assert palette_summary(red)["chroma"] > 50
    assert palette_summary(torch.zeros(1, 3, 8, 8))["lightness"] < 1


def test_weighted_statistics_are_those_of_the_weighted_part():
    image = torch.rand(1, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    weight = torch.zeros(1, 1, 8, 8)
    weight[..., :, :4] = 1.0
    mean, std = channel_stats(image, "rgb", weight)
    part = image[..., :4].flatten(2)
    assert torch.allclose(mean.flatten(), part.mean(2).flatten())
    assert torch.allclose(std.flatten(), part.std(2, unbiased=False).flatten())


def test_matching_under_a_weight_matches_that_part_only():
    generator = torch.Generator().manual_seed(1)
    image = torch.rand(1, 3, 8, 8, generator=generator) * 0.5
    weight = torch.zeros(1, 1, 8, 8)
    weight[..., 4:, :] = 1.0
    reference = (torch.full((1, 3, 1, 1), 0.6), torch.full((1, 3, 1, 1), 0.1))
    matched = match_colors(image, reference, "rgb", 1.0, weight)
    mean, std = channel_stats(matched, "rgb", weight)
    assert torch.allclose(mean, reference[0], atol=1e-5) and torch.allclose(std, reference[1], atol=1e-5)


def _hue_angle(image: torch.Tensor) -> float:
    """The hue angle in degrees of ``image``'s mean (a*, b*)."""
    mean = channel_stats(image, "lab")[0][0, :, 0, 0]
    return math.degrees(math.atan2(mean[2].item(), mean[1].item()))


def test_turn_hue_turns_the_colours_and_keeps_lightness_and_chroma():
    image = _smooth(3, 0.3, 0.6, tint=(1.0, 0.7, 0.5))  # orange, well inside the gamut
    assert turn_hue(image, 0.0) is image
    turned = turn_hue(image, 40.0)
    before, after = palette_summary(image), palette_summary(turned)
    assert after["lightness"] == pytest.approx(before["lightness"], abs=0.5)
    assert after["chroma"] == pytest.approx(before["chroma"], rel=0.05)
    assert (_hue_angle(turned) - _hue_angle(image)) % 360 == pytest.approx(40.0, abs=2.0)


def test_turned_reference_is_the_statistics_of_the_turned_palette():
    image = _smooth(3, 0.3, 0.6, tint=(1.0, 0.7, 0.5))
    reference = channel_stats(image, "lab")
    mean, std = turned_reference(reference, 40.0, "lab")
    true_mean, true_std = channel_stats(turn_hue(image, 40.0), "lab")
    assert torch.allclose(mean, true_mean, atol=0.5)
    # a* and b* are taken as uncorrelated: lightness's spread and the colours' whole spread are exact
    assert std[0, 0].item() == pytest.approx(true_std[0, 0].item(), abs=0.3)
    assert std[0, 1:].square().sum().item() == pytest.approx(true_std[0, 1:].square().sum().item(), rel=0.05)
    assert turned_reference(reference, 40.0, "rgb") is reference
    assert turned_reference(reference, 0.0, "lab") is reference


def test_anchor_reference_is_an_images_palette_or_none(tmp_path):
    import imageio.v3 as iio

    red = np.zeros((10, 20, 3), np.uint8)
    red[..., 0] = 200
    iio.imwrite(tmp_path / "red.png", red)
    mean, std = anchor_reference(str(tmp_path / "red.png"), "lab", (5, 8), torch.device("cpu"))
    assert mean.shape == (1, 3, 1, 1) and mean[0, 1].item() > 40 and std.abs().max() < 1e-3
    assert anchor_reference("frame0", "lab", (5, 8), torch.device("cpu")) is None
    assert anchor_reference("none", "lab", (5, 8), torch.device("cpu")) is None
    assert anchor_reference(str(tmp_path / "red.png"), "none", (5, 8), torch.device("cpu")) is None
