import pytest
import torch

from dream.decorrelate import rgb_to_decorrelated
from dream.errors import NameChoiceError
from dream.param import (
    Canvas,
    fourier_image,
    grown_phase,
    maco_image,
    make_image,
    pixel_image,
    spectrum_scale,
)
from dream.spectrum import magnitude_for

CPU = torch.device("cpu")


@pytest.mark.parametrize("make", [maco_image, fourier_image, pixel_image])
@pytest.mark.parametrize("height, width", [(16, 16), (15, 22)])
def test_render_shape_and_range(make, height, width):
    params, render = make(Canvas(2, height, width, torch.Generator().manual_seed(0), CPU))
    image = render()
    assert image.shape == (2, 3, height, width)
    assert 0 <= image.min() and image.max() <= 1
    assert all(p.requires_grad for p in params)


@pytest.mark.parametrize("make", [maco_image, fourier_image, pixel_image])
def test_same_seed_same_image_other_seed_other_image(make):
    def image(seed):
        return make(Canvas(1, 12, 12, torch.Generator().manual_seed(seed), CPU))[1]()

    assert torch.equal(image(3), image(3))
    assert not torch.equal(image(3), image(4))


@pytest.mark.parametrize("make", [fourier_image, pixel_image])
def test_start_is_near_grey(make):
    image = make(Canvas(1, 32, 32, torch.Generator().manual_seed(0), CPU))[1]()
    assert (image - 0.5).abs().max() < 0.1


def test_gradient_reaches_the_parameters():
    params, render = fourier_image(Canvas(1, 8, 10, torch.Generator().manual_seed(0), CPU))
    render()[:, 0].mean().backward()
    assert params[0].grad is not None and params[0].grad.abs().sum() > 0


def test_spectrum_scale_falls_with_frequency():
    scale = spectrum_scale(8, 8, 1.0, CPU)
    assert scale.shape == (8, 5)
    assert scale[0, 0] == scale[0, 1] == scale.max()  # DC is treated as the lowest frequency
    assert scale[0, 1] > scale[0, 2] > scale[0, 4]
    assert scale[4, 4] == scale.min()


def neighbour_correlation(image: torch.Tensor) -> float:
    """Correlation of horizontally adjacent pixel values: ~0 for white noise, near 1 for natural images."""
    image = image.detach()
    left, right = image[..., :-1].flatten(), image[..., 1:].flatten()
    return float(torch.corrcoef(torch.stack([left, right]))[0, 1])


def test_a_random_fourier_image_has_correlated_neighbours_and_pixels_do_not():
    generator = torch.Generator().manual_seed(0)
    fourier = fourier_image(Canvas(1, 64, 64, generator, CPU), sd=1.0)[1]()
    pixels = pixel_image(Canvas(1, 64, 64, generator, CPU), sd=1.0)[1]()
    assert neighbour_correlation(fourier) > 0.5
    assert abs(neighbour_correlation(pixels)) < 0.1


def test_fourier_colour_channels_are_correlated_like_natural_images():
    rgb = fourier_image(Canvas(1, 64, 64, torch.Generator().manual_seed(0), CPU), sd=1.0)[1]()
    red, green = rgb[0, 0].flatten(), rgb[0, 1].flatten()
    assert torch.corrcoef(torch.stack([red, green]))[0, 1] > 0.5


def test_make_image_by_name_and_unknown_name():
    params, render = make_image("pixel", Canvas(1, 4, 4, torch.Generator().manual_seed(0), CPU))
    assert render().shape == (1, 3, 4, 4)
    with pytest.raises(NameChoiceError, match="maco, fourier, pixel"):
        make_image("wavelet", Canvas(1, 4, 4, torch.Generator(), CPU))


def test_maco_optimises_only_the_phase_so_the_magnitude_is_always_natural():
    params, render = maco_image(Canvas(2, 32, 48, torch.Generator().manual_seed(0), CPU))
    assert [p.shape for p in params] == [(2, 3, 32, 25)]
    with torch.no_grad():
        params[0].add_(torch.randn(params[0].shape) * 3)  # any phase at all
        logits = torch.logit(render().clamp(1e-6, 1 - 1e-6))
    spectrum = torch.fft.rfft2(rgb_to_decorrelated(logits), norm="ortho").abs()  # (2, 3, 32, 25)
    natural = magnitude_for(32, 48, CPU)
    # Columns 0 and W/2 are their own mirror images: irfft2 keeps only their symmetric part.
    ratio = spectrum[..., 1:, 1:-1] / natural[:, 1:, 1:-1]
    # The same shape of spectrum, up to one gain per image (the standardisation).
    assert torch.allclose(ratio, ratio.flatten(1).median(1).values[:, None, None, None], rtol=0.05)


def test_maco_image_is_standardised_and_has_correlated_neighbours():
    image = maco_image(Canvas(1, 64, 64, torch.Generator().manual_seed(0), CPU))[1]()
    logits = torch.logit(image.clamp(1e-6, 1 - 1e-6))
    assert abs(logits.mean().item()) < 0.2
    assert neighbour_correlation(image) > 0.5


def test_grown_phase_carries_every_frequency_of_the_small_grid():
    small = torch.rand(1, 3, 5, 4) * 6 - 3  # a 5 x 6 image's phase
    grown, carried = grown_phase(small, Canvas(1, 9, 10, torch.Generator().manual_seed(0), CPU))
    assert grown.shape == (1, 3, 9, 6) and carried.sum() == 5 * 4
    assert torch.equal(grown[..., :3, :4], small[..., :3, :]) and torch.equal(grown[..., -2:, :4], small[..., -2:, :])
    assert not carried[3:7].any() and not carried[:, 4:].any()


def test_a_grown_image_shows_the_small_picture():
    generator = torch.Generator().manual_seed(0)
    params, render = maco_image(Canvas(1, 24, 24, generator, CPU))
    _, grown = maco_image(Canvas(1, 96, 96, generator, CPU), start_phase=params[0])
    seen = torch.nn.functional.interpolate(grown(), size=(24, 24), mode="area")
    assert torch.corrcoef(torch.stack([seen.flatten(), render().flatten()]))[0, 1] > 0.85


def test_refining_moves_the_carried_frequencies_at_their_rate():
    generator = torch.Generator().manual_seed(0)
    start = maco_image(Canvas(1, 8, 8, generator, CPU))[0][0].detach()
    params, render = maco_image(Canvas(1, 16, 16, generator, CPU), start_phase=start, carried_rate=0.0)
    before = torch.fft.rfft2(render().detach())
    render()[:, 0, :4].mean().backward()
    torch.optim.SGD(params, lr=100.0).step()
    after = torch.fft.rfft2(render().detach())
    # Only the new bins moved, so the image's coarsest frequencies barely change while the fine ones do.
    assert (after[..., :2, :2] - before[..., :2, :2]).abs().max() < 0.5 * (after - before).abs().max()
