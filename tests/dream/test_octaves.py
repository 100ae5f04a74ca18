import pytest
import torch
import torch.nn.functional as F
from skimage import data

from dream import objectives as obj
from dream.octaves import DreamParams, deepdream, octave_sizes, resize

TINY = DreamParams(octaves=2, octave_scale=1.5, iterations=2, jitter=4, tile_size=0, min_size=8)


def test_octave_sizes_smallest_first_ending_at_full_size():
    sizes = octave_sizes(100, 140, 4, 1.4, 16)
    assert sizes[-1] == (100, 140)
    assert len(sizes) == 4
    assert sizes == sorted(sizes)
    assert sizes[0] == (round(100 / 1.4**3), round(140 / 1.4**3))


def test_octave_sizes_skip_levels_below_min_size():
    assert octave_sizes(64, 64, 4, 2.0, 20) == [(32, 32), (64, 64)]
    assert octave_sizes(64, 64, 4, 2.0, 100) == [(64, 64)]
    assert octave_sizes(64, 64, 1, 2.0, 8) == [(64, 64)]


def test_per_octave_broadcasts_and_aligns_with_the_largest_octave():
    params = DreamParams()
    assert params.per_octave(10, 3) == [10, 10, 10]
    assert params.per_octave([1, 2, 3], 3) == [1, 2, 3]
    # Fewer values than octaves: the first value repeats for the smallest octaves.
    assert params.per_octave([5, 7], 4) == [5, 5, 5, 7]
    # More values than octaves (levels skipped by min_size): the values of the largest octaves stay.
    assert params.per_octave([1, 2, 3, 4], 2) == [3, 4]


def test_resize_identity_returns_the_input_and_shapes():
    image = torch.rand(2, 3, 10, 12)
    assert resize(image, (10, 12)) is image
    assert resize(image, (5, 7)).shape == (2, 3, 5, 7)
    assert resize(image, (20, 25)).shape == (2, 3, 20, 25)


def test_resize_keeps_a_constant_image_constant():
    image = torch.full((1, 3, 9, 13), 0.3)
    assert torch.allclose(resize(image, (4, 6)), image[..., :4, :6])
    assert torch.allclose(resize(image, (17, 30)), torch.full((1, 3, 17, 30), 0.3))


def test_deepdream_shape_range_and_seeded(tiny_net, tiny_image):
    objective = obj.layer_l2("conv3")
    first = deepdream(tiny_net, tiny_image, objective, TINY, torch.Generator().manual_seed(1))
    again = deepdream(tiny_net, tiny_image, objective, TINY, torch.Generator().manual_seed(1))
    other = deepdream(tiny_net, tiny_image, objective, TINY, torch.Generator().manual_seed(2))
    assert first.shape == tiny_image.shape
    assert 0.0 <= first.min() and first.max() <= 1.0
    assert torch.equal(first, again)
    assert not torch.equal(first, other)
    assert not torch.allclose(first, tiny_image)


def test_deepdream_zero_iterations_leaves_the_image(tiny_net, tiny_image):
    params = DreamParams(octaves=1, iterations=0, tile_size=0, min_size=8)
    out = deepdream(tiny_net, tiny_image, obj.layer_l2("conv3"), params, torch.Generator())
    assert torch.equal(out, tiny_image)


def test_deepdream_raises_the_objective(tiny_net, tiny_image):
    objective = obj.layer_l2("conv3")
    out = deepdream(tiny_net, tiny_image, objective, TINY, torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert objective(tiny_net(out, objective.taps)) > objective(tiny_net(tiny_image, objective.taps))


def test_masked_deepdream_changes_only_near_the_mask(tiny_net, tiny_image):
    """Detail carried up from a coarse octave may spread a few pixels past the mask's edge, no further."""
    mask = torch.zeros(1, 1, 24, 32)
    mask[..., :, :12] = 1.0
    out = deepdream(tiny_net, tiny_image, obj.layer_l2("conv3"), TINY, torch.Generator().manual_seed(0), mask)
    assert torch.equal(out[..., 16:], tiny_image[..., 16:])
    assert (out - tiny_image)[..., :12].abs().mean() > 0.01


def test_masked_deepdream_is_as_strong_inside_as_unmasked(tiny_net, tiny_image):
    objective, generator = obj.layer_l2("conv3"), torch.Generator
    mask = torch.zeros(1, 1, 24, 32)
    mask[..., :, :16] = 1.0
    whole = deepdream(tiny_net, tiny_image, objective, TINY, generator().manual_seed(0))
    masked = deepdream(tiny_net, tiny_image, objective, TINY, generator().manual_seed(0), mask)
    inside = (..., slice(None), slice(0, 12))
    ratio = (masked - tiny_image)[inside].abs().mean() / (whole - tiny_image)[inside].abs().mean()
    assert ratio > 0.8


@pytest.mark.slow
def test_real_dream_raises_the_dream_layer_and_changes_the_image(lite0):
    """Observed at 128 px over seeds 0-2: L2 x1.87-1.93, mean |change| 0.031 (pixels in [0, 1])."""
    net, objective = lite0.net, obj.layer_l2(lite0.entry.dream_layer)
    photo = torch.from_numpy(data.coffee()).permute(2, 0, 1)[None].float() / 255
    image = F.interpolate(photo, size=(128, 128), mode="bilinear", antialias=True).clamp(0, 1)
    params = DreamParams(octaves=3, iterations=10)
    dreamed = deepdream(net, image, objective, params, torch.Generator().manual_seed(0))
    with torch.no_grad():
        before, after = (objective(net(x, objective.taps)).item() for x in (image, dreamed))
    assert after >= 1.6 * before
    assert (dreamed - image).abs().mean() > 0.02
