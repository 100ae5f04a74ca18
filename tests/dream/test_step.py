import pytest
import torch

from dream import objectives as obj
from dream.step import (
    StepParams,
    _spans,
    ascent_step,
    masked_gradient,
    objective_gradient,
    random_roll,
    tile_starts,
    tiled_gradient,
)

L2 = obj.layer_l2("conv3")


def _image(height: int, width: int, seed: int = 0, batch: int = 1) -> torch.Tensor:
    return torch.rand(batch, 3, height, width, generator=torch.Generator().manual_seed(seed))


def test_objective_gradient_shape_and_no_grad_left_on_input(tiny_net):
    image = _image(20, 24, batch=2)
    grad = objective_gradient(tiny_net, image, L2)
    assert grad.shape == image.shape
    assert grad.abs().sum() > 0
    assert not image.requires_grad


def test_objective_gradient_matches_finite_difference(tiny_net):
    image = _image(8, 8).double()
    net = tiny_net.double()
    grad = objective_gradient(net, image, L2)
    bump = torch.zeros_like(image)
    bump[0, 1, 3, 4] = 1e-6
    with torch.no_grad():
        numeric = (L2(net(image + bump, L2.taps)) - L2(net(image - bump, L2.taps))) / 2e-6
    assert grad[0, 1, 3, 4].item() == pytest.approx(numeric.item(), rel=1e-4)


def test_tiled_equals_untiled_when_one_tile_covers(tiny_net):
    image = _image(20, 24)
    untiled = objective_gradient(tiny_net, image, L2)
    assert torch.equal(tiled_gradient(tiny_net, image, L2, 24), untiled)
    assert torch.equal(tiled_gradient(tiny_net, image, L2, 0), untiled)


@pytest.mark.parametrize("length, tile", [(10, 4), (16, 4), (17, 8), (100, 32), (5, 8), (9, 0), (24, 16)])
def test_spans_cover_without_gaps_or_overlap(length, tile):
    spans = _spans(length, tile)
    assert spans[0][0] == 0 and spans[-1][1] == length
    assert all(end == next_start for (_, end), (next_start, _) in zip(spans, spans[1:]))
    assert all(end > start for start, end in spans)
    if tile > 0 and len(spans) > 1:
        # A short remainder is merged: no tile is narrower than half a tile.
        assert min(end - start for start, end in spans) >= tile // 2


def test_spans_merge_a_short_last_tile():
    assert _spans(35, 16) == [(0, 16), (16, 35)]
    assert _spans(40, 16) == [(0, 16), (16, 32), (32, 40)]
    assert tile_starts(40, 16) == [0, 16, 32]
    assert tile_starts(12, 16) == [0]


def test_multi_tile_gradient_close_to_untiled_in_the_interior(tiny_net):
    """The tiny net sees 7x7 pixels: a pixel's gradient reads activations 3 px away, which read pixels 3 px
    further, so only 6 px either side of a tile seam may differ."""
    image = _image(48, 52)
    untiled = objective_gradient(tiny_net, image, L2)
    tiled = tiled_gradient(tiny_net, image, L2, 16)
    assert tiled.shape == untiled.shape
    margin = 6
    for top, bottom in _spans(48, 16):
        for left, right in _spans(52, 16):
            inside = (..., slice(top + margin, bottom - margin), slice(left + margin, right - margin))
            assert torch.allclose(tiled[inside], untiled[inside], rtol=1e-4, atol=1e-9)
    assert not torch.allclose(tiled, untiled)  # the seams do differ


def test_random_roll_in_range_and_seeded():
    rolls = [random_roll(3, torch.Generator().manual_seed(s)) for s in range(50)]
    assert all(-3 <= dy <= 3 and -3 <= dx <= 3 for dy, dx in rolls)
    assert len(set(rolls)) > 5
    assert random_roll(0, torch.Generator()) == (0, 0)


def test_same_seed_same_step_different_seed_different(tiny_net):
    image, params = _image(20, 24), StepParams(step_size=2.0, jitter=8)
    first = ascent_step(tiny_net, image, L2, params, torch.Generator().manual_seed(7))
    again = ascent_step(tiny_net, image, L2, params, torch.Generator().manual_seed(7))
    other = ascent_step(tiny_net, image, L2, params, torch.Generator().manual_seed(8))
    assert torch.equal(first, again)
    assert not torch.equal(first, other)


def test_step_size_is_mean_abs_normalised(tiny_net):
    image = _image(20, 24) * 0.5 + 0.25  # far from the clamp
    params = StepParams(step_size=1.5, jitter=0, tile_size=0)
    moved = ascent_step(tiny_net, image, L2, params, torch.Generator())
    assert (moved - image).abs().mean().item() == pytest.approx(1.5 / 255, rel=1e-4)


def test_output_clamped_to_unit_range(tiny_net):
    image = _image(20, 24)
    params = StepParams(step_size=200.0, jitter=4)
    out = ascent_step(tiny_net, image, L2, params, torch.Generator().manual_seed(0))
    assert out.min() >= 0.0 and out.max() <= 1.0
    assert (out == 0.0).any() and (out == 1.0).any()


def test_batch_images_are_independent(tiny_net):
    batch = _image(20, 24, batch=2)
    params = StepParams(step_size=1.5, jitter=5, tile_size=16)
    together = ascent_step(tiny_net, batch, L2, params, torch.Generator().manual_seed(3))
    for i in range(2):
        alone = ascent_step(tiny_net, batch[i : i + 1], L2, params, torch.Generator().manual_seed(3))
        assert torch.allclose(together[i : i + 1], alone, atol=1e-6)


def _half_mask(height: int, width: int) -> torch.Tensor:
    """(1, 1, H, W): 1 on the left half, 0 on the right."""
    mask = torch.zeros(1, 1, height, width)
    mask[..., : width // 2] = 1.0
    return mask


def test_masked_step_leaves_the_unmasked_pixels_exactly(tiny_net):
    image, mask = _image(20, 24) * 0.5 + 0.25, _half_mask(20, 24)
    params = StepParams(step_size=1.5, jitter=5, tile_size=0)
    moved = ascent_step(tiny_net, image, L2, params, torch.Generator().manual_seed(2), mask)
    assert torch.equal(moved[..., 12:], image[..., 12:])
    assert (moved[..., :12] - image[..., :12]).abs().mean() > 0


def test_masked_step_is_as_large_inside_the_mask_as_an_unmasked_step(tiny_net):
    image, mask = _image(20, 24) * 0.5 + 0.25, _half_mask(20, 24)
    params = StepParams(step_size=1.5, jitter=0, tile_size=0)
    moved = ascent_step(tiny_net, image, L2, params, torch.Generator(), mask)
    assert (moved - image)[..., :12].abs().mean().item() == pytest.approx(1.5 / 255, rel=1e-4)


def test_masked_gradient_normalises_over_the_weighted_area():
    grad = torch.ones(2, 3, 4, 4)
    grad[1] *= 5.0
    mask = torch.zeros(1, 1, 4, 4)
    mask[..., :2, :] = 0.5
    masked, scale = masked_gradient(grad, mask)
    assert torch.equal(masked[..., 2:, :], torch.zeros(2, 3, 2, 4))
    assert scale.flatten().tolist() == pytest.approx([1.0, 5.0])  # mean |g| where the mask weighs
    unmasked, whole = masked_gradient(grad)
    assert unmasked is grad and whole.flatten().tolist() == pytest.approx([1.0, 5.0])


def test_an_all_zero_mask_moves_nothing(tiny_net):
    image = _image(20, 24)
    params = StepParams(step_size=1.5, jitter=3, tile_size=0)
    moved = ascent_step(tiny_net, image, L2, params, torch.Generator(), torch.zeros(1, 1, 20, 24))
    assert torch.equal(moved, image)


def test_tiles_outside_the_mask_are_skipped(tiny_net):
    image, mask = _image(32, 32), torch.zeros(1, 1, 32, 32)
    mask[..., :16, :16] = 1.0
    calls = []
    counted = lambda x, taps: calls.append(x.shape) or tiny_net(x, taps)  # noqa: E731
    grad = tiled_gradient(counted, image, L2, 16, mask)
    assert calls == [(1, 3, 16, 16)]
    assert torch.equal(grad[..., 16:, :], torch.zeros(1, 3, 16, 32))
    assert torch.equal(grad[..., :16, 16:], torch.zeros(1, 3, 16, 16))
