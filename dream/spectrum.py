"""The average Fourier magnitude of natural photos: the fixed half of the magnitude-constrained prior.

``dream.param.maco_image`` keeps an image's Fourier magnitude equal to this
spectrum and optimises only the phase (MaCo, Fel et al. 2023), so every iterate
has the energy per frequency of a photo. The spectrum is measured in decorrelated
colour (the space the prior's image lives in) from photos that packages ship:
scikit-image's ``data`` and scikit-learn's sample images, then made the same in
every orientation (``isotropic``). It is stored in ``dream/data/natural_spectrum.pt``
so rendering needs neither package; ``python -m dream.spectrum`` rebuilds the file
(needs scikit-image and scikit-learn).
"""

from __future__ import annotations

import argparse
from importlib import resources
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from dream.decorrelate import rgb_to_decorrelated

SPECTRUM_SIZE = 256  # side of the square patches the spectrum is measured on
PATCH_STRIDE = 64  # patches overlap: many per photo, so the average is smooth
SKIMAGE_PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "stereo_motorcycle")
SPECTRUM_FILE = "natural_spectrum.pt"


def shipped_photos() -> list[np.ndarray]:
    """Colour photos of everyday scenes that scikit-image and scikit-learn install (no download).

    Returns:
        (H, W, 3) uint8 arrays.
    """
    from skimage import data
    from sklearn.datasets import load_sample_images

    photos = []
    for name in SKIMAGE_PHOTOS:
        photo = getattr(data, name)()
        photos.append(photo[0] if isinstance(photo, tuple) else photo)  # stereo pairs: the left view
    return photos + list(load_sample_images().images)


def patches(photo: np.ndarray, size: int, stride: int) -> torch.Tensor:
    """Every ``size`` square patch of ``photo`` at ``stride``, and its mirror image.

    Returns:
        (N, 3, size, size) float in [0, 1].
    """
    image = torch.from_numpy(np.array(photo)).permute(2, 0, 1).float() / 255  # (3, H, W)
    tiles = image.unfold(1, size, stride).unfold(2, size, stride)  # (3, nh, nw, size, size)
    tiles = tiles.permute(1, 2, 0, 3, 4).reshape(-1, 3, size, size)
    # Mirrors make left- and right-leaning edges equally likely, as in the world.
    return torch.cat([tiles, tiles.flip(-1)])


def mean_magnitude(photos: list[np.ndarray], size: int = SPECTRUM_SIZE, stride: int = PATCH_STRIDE) -> torch.Tensor:
    """Average ``|rfft2|`` of the photos' Hann-windowed patches in decorrelated colour, mean colour removed.

    Returns:
        (3, size, size // 2 + 1) magnitude per decorrelated channel and frequency (orthonormal FFT).
    """
    # A patch's edges are not periodic: without a window their jumps put a bright cross on the
    # frequency axes, and images made from the spectrum get a woven grid of straight lines.
    hann = torch.hann_window(size, periodic=False)
    window = torch.outer(hann, hann) / torch.outer(hann, hann).pow(2).mean().sqrt()  # (size, size), unit energy
    total, count = torch.zeros(3, size, size // 2 + 1), 0
    for photo in photos:
        tiles = patches(photo, size, stride)
        tiles = rgb_to_decorrelated(tiles - tiles.mean(dim=(2, 3), keepdim=True)) * window
        total += torch.fft.rfft2(tiles, norm="ortho").abs().sum(0)
        count += tiles.shape[0]
    return total / count


def frequency_rings(height: int, half_width: int) -> torch.Tensor:
    """(H, W // 2 + 1) ring index of every ``rfft2`` bin: its radius in cycles per ``H`` pixels, rounded."""
    fy = torch.fft.fftfreq(height)[:, None]
    fx = torch.fft.rfftfreq(2 * (half_width - 1))[None, :]
    return ((fy**2 + fx**2).sqrt() * height).round().long()


def ring_mean(magnitude: torch.Tensor) -> torch.Tensor:
    """(C, H, W // 2 + 1) -> the same shape, every bin replaced by its ring's RMS magnitude (same energy)."""
    rings = frequency_rings(*magnitude.shape[-2:]).flatten()  # (H * (W // 2 + 1),)
    energy = magnitude.flatten(1).square()  # (C, bins)
    sums = torch.zeros(magnitude.shape[0], int(rings.max()) + 1).index_add_(1, rings, energy)
    return (sums / torch.bincount(rings).clamp(min=1)).sqrt()[:, rings].reshape(magnitude.shape)


def isotropic(magnitude: torch.Tensor) -> torch.Tensor:
    """The spectrum with every orientation alike: each frequency gets its ring's RMS magnitude.

    With the phase free, any energy a spectrum holds at one orientation becomes a texture all
    over the image. The photos' spectrum has narrow peaks on the horizontal-frequency axis
    (up to 4.6x its ring at 0.45 cycles per pixel in a chroma channel: camera and compression
    artefacts of a few photos), and images made from it had fine purple vertical streaks
    everywhere; ImageNet-scale averages are smooth, nine photos are not.
    """
    return ring_mean(magnitude)


def peak_ratio(magnitude: torch.Tensor, lowest: float = 0.05) -> float:
    """Largest ratio of a bin's magnitude to its ring's RMS, above ``lowest`` cycles per pixel.

    1 for an isotropic spectrum; a spectrum that makes streaks has bins far above their ring.
    ``magnitude`` is (C, H, W // 2 + 1), e.g. ``torch.fft.rfft2(image).abs()[0]``.
    """
    rings = frequency_rings(*magnitude.shape[-2:])
    ratio = magnitude / ring_mean(magnitude).clamp(min=1e-12)
    return float(ratio[:, rings >= lowest * magnitude.shape[-2]].max())


def load_natural_spectrum() -> torch.Tensor:
    """The shipped spectrum: (3, S, S // 2 + 1) float32 magnitudes (S = 256)."""
    path = resources.files("dream").joinpath("data", SPECTRUM_FILE)
    with resources.as_file(path) as file:
        return torch.load(file, map_location="cpu", weights_only=True).float()


def magnitude_for(height: int, width: int, device: torch.device) -> torch.Tensor:
    """The natural spectrum resampled to an ``height`` x ``width`` image's ``rfft2`` grid.

    The spectrum is interpolated in log-magnitude on the centred frequency plane,
    so the ``1/f`` fall-off survives any canvas size.

    Returns:
        (3, height, width // 2 + 1) magnitudes on ``device``.
    """
    spectrum = load_natural_spectrum()  # (3, S, S // 2 + 1)
    # The photos' mean was removed (zero energy at frequency 0); borrow the neighbours' so the log stays finite.
    spectrum[:, 0, 0] = (spectrum[:, 0, 1] + spectrum[:, 1, 0]) / 2
    centred = torch.fft.fftshift(spectrum.clamp(min=1e-8).log(), dim=1)  # zero frequency at row S // 2
    resized = F.interpolate(centred[None], size=(height, width // 2 + 1), mode="bilinear", align_corners=True)[0]
    # Row S // 2 maps to row height // 2 only approximately; ifftshift puts the zero frequency back at row 0.
    magnitude = torch.fft.ifftshift(resized, dim=1).exp()
    magnitude[:, 0, 0] = 0.0  # the mean colour is the prior's, not the optimiser's (see maco_image)
    return magnitude.to(device)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m dream.spectrum", description=__doc__)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "data" / SPECTRUM_FILE)
    args = parser.parse_args(argv)
    photos = shipped_photos()
    spectrum = isotropic(mean_magnitude(photos))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    torch.save(spectrum.half().clone(), args.out)
    print(f"{len(photos)} photos -> {tuple(spectrum.shape)} spectrum in {args.out}")


if __name__ == "__main__":
    main()
