"""``dream.spectrum``: the shipped natural-image spectrum, how it is measured and resampled."""

import numpy as np
import pytest
import torch

from dream.spectrum import (
    SPECTRUM_SIZE,
    isotropic,
    load_natural_spectrum,
    magnitude_for,
    mean_magnitude,
    patches,
    peak_ratio,
    shipped_photos,
)

CPU = torch.device("cpu")


def radial_mean(magnitude: torch.Tensor, low: float, high: float) -> float:
    """Mean of a (3, H, W // 2 + 1) magnitude over frequencies in [low, high) cycles per pixel."""
    height, half = magnitude.shape[-2:]
    fy = torch.fft.fftfreq(height)[:, None]
    fx = torch.fft.rfftfreq(2 * (half - 1))[None, :]
    band = ((fy**2 + fx**2).sqrt() >= low) & ((fy**2 + fx**2).sqrt() < high)
    return magnitude[:, band].mean().item()


def test_shipped_spectrum_falls_with_frequency_like_photos():
    spectrum = load_natural_spectrum()
    assert spectrum.shape == (3, SPECTRUM_SIZE, SPECTRUM_SIZE // 2 + 1) and spectrum.dtype == torch.float32
    assert torch.isfinite(spectrum).all() and (spectrum >= 0).all()
    low, mid, high = (radial_mean(spectrum, a, b) for a, b in ((0.01, 0.02), (0.05, 0.1), (0.3, 0.5)))
    assert low > 3 * mid > 9 * high  # roughly 1/f: natural photos, not white noise


@pytest.mark.parametrize("height, width", [(320, 320), (97, 131), (512, 288)])
def test_magnitude_for_any_canvas(height, width):
    magnitude = magnitude_for(height, width, CPU)
    assert magnitude.shape == (3, height, width // 2 + 1)
    assert magnitude[:, 0, 0].eq(0).all()  # the mean is the prior's, never optimised
    assert radial_mean(magnitude, 0.01, 0.03) > 3 * radial_mean(magnitude, 0.2, 0.4)


def test_patches_tile_and_mirror():
    photo = np.arange(6 * 8 * 3, dtype=np.uint8).reshape(6, 8, 3)
    tiles = patches(photo, size=4, stride=2)
    assert tiles.shape == (2 * 3 * 2, 3, 4, 4)  # (2 rows x 3 columns of patches) and their mirrors
    assert torch.equal(tiles[6], tiles[0].flip(-1))
    assert tiles[0, 0, 0, 0].item() == pytest.approx(photo[0, 0, 0] / 255)


def test_mean_magnitude_of_stripes_peaks_at_their_frequency():
    x = np.arange(64)
    stripes = (127 + 100 * np.sin(2 * np.pi * x / 8))[None, :, None].repeat(64, 0).repeat(3, 2).astype(np.uint8)
    magnitude = mean_magnitude([stripes], size=32, stride=32)  # (3, 32, 17)
    assert magnitude.shape == (3, 32, 17)
    assert magnitude[0, 0].argmax().item() == 32 // 8  # 4 cycles across a 32-pixel patch


def test_isotropic_removes_a_streak_and_keeps_the_energy():
    x = np.arange(64)
    stripes = (127 + 60 * np.sin(2 * np.pi * x / 3))[None, :, None].repeat(64, 0).repeat(3, 2).astype(np.uint8)
    magnitude = mean_magnitude([stripes], size=32, stride=32) + 0.01  # fine vertical stripes: one axis bin
    assert peak_ratio(magnitude) > 3
    flat = isotropic(magnitude)
    assert peak_ratio(flat) == pytest.approx(1.0, abs=1e-4)
    assert flat.square().sum().item() == pytest.approx(magnitude.square().sum().item(), rel=0.05)


def test_shipped_spectrum_has_no_orientation():
    assert peak_ratio(load_natural_spectrum()) < 1.01  # the measured photos' axis peaks reached 4.5


@pytest.mark.slow
def test_shipped_file_is_what_the_photos_give():
    rebuilt = isotropic(mean_magnitude(shipped_photos()))
    assert torch.allclose(rebuilt, load_natural_spectrum(), rtol=2e-3, atol=1e-3)
