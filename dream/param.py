"""Image parameterisations: what the optimiser changes when it dreams an image from nothing.

Each ``*_image`` function returns ``(params, render)``: the tensors to optimise
and a callable that turns them into a ``(B, 3, H, W)`` RGB image in [0, 1].

``maco_image`` is the default natural-image prior (MaCo, Fel et al. 2023): the
image's Fourier magnitude is fixed to the average spectrum of natural photos
(``dream.spectrum``) and only the phase is optimised, so every iterate has the
energy per frequency of a photo; the optimiser can only decide *where* edges and
regions go, never turn the image into high-frequency noise.
``fourier_image`` is lucid's prior (``optvis/param``):
the image is a spectrum whose amplitudes are scaled by 1/frequency, so a step
moves whole regions (neighbouring pixels are correlated), and its channels are
decorrelated colour, mapped to RGB through the ImageNet colour covariance, so a
step changes luminance and chroma the way natural images vary. ``pixel_image``
is plain pixel ascent, kept to show what the prior buys.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from dream.decorrelate import decorrelated_to_rgb
from dream.errors import NameChoiceError
from dream.spectrum import magnitude_for

Render = Callable[[], torch.Tensor]


@dataclass(frozen=True)
class Canvas:
    """What a parameterisation renders: ``(batch, 3, height, width)`` images on ``device``.

    Attributes:
        generator: seeds the initial parameters (a CPU generator).
    """

    batch: int
    height: int
    width: int
    generator: torch.Generator
    device: torch.device

# lucid divides the spectrum's image by 4 so the initial image sits well inside the sigmoid's linear range.
FOURIER_IMAGE_SCALE = 0.25
# Standard deviation of the magnitude-constrained image's logits before the sigmoid: about 1.5 puts
# most pixels in the sigmoid's responsive range with visible but not clipped contrast.
MACO_CONTRAST = 1.5


def spectrum_scale(height: int, width: int, decay_power: float, device: torch.device) -> torch.Tensor:
    """(H, W // 2 + 1) amplitude per frequency of a real 2-D FFT: 1 / frequency ** decay_power.

    Frequencies are in cycles per pixel; the zero frequency is treated as the
    lowest nonzero one so the mean colour can still move. The ``sqrt(H * W)``
    factor makes the scale independent of the image size.
    """
    fy = torch.fft.fftfreq(height, device=device)[:, None]  # (H, 1)
    fx = torch.fft.rfftfreq(width, device=device)[None, :]  # (1, W // 2 + 1)
    frequency = (fy**2 + fx**2).sqrt().clamp(min=1.0 / max(height, width))
    return frequency.pow(-decay_power) * (height * width) ** 0.5


def fourier_image(
    canvas: Canvas,
    sd: float = 0.01,
    decay_power: float = 1.0,
) -> tuple[list[torch.Tensor], Render]:
    """A Fourier-space, colour-decorrelated image: the natural-image prior.

    Args:
        canvas: the images' shape, seed and device.
        sd: standard deviation of the initial spectrum (small: a grey start).
        decay_power: how fast amplitude falls with frequency (1 as in lucid).

    Returns:
        ([spectrum (B, 3, H, W // 2 + 1, 2)], render () -> (B, 3, H, W) in [0, 1]).
    """
    height, width = canvas.height, canvas.width
    shape = (canvas.batch, 3, height, width // 2 + 1, 2)
    spectrum = (torch.randn(shape, generator=canvas.generator) * sd).to(canvas.device).requires_grad_(True)
    scale = spectrum_scale(height, width, decay_power, canvas.device)

    def render() -> torch.Tensor:
        scaled = scale * torch.view_as_complex(spectrum)  # (B, 3, H, W // 2 + 1)
        image = torch.fft.irfft2(scaled, s=(height, width)) * FOURIER_IMAGE_SCALE  # (B, 3, H, W)
        return torch.sigmoid(decorrelated_to_rgb(image))

    return [spectrum], render


def grown_phase(phase: torch.Tensor, canvas: Canvas) -> tuple[torch.Tensor, torch.Tensor]:
    """A smaller image's phase carried onto ``canvas``'s larger grid: coarse to fine.

    Bin (ky, kx) of an ``rfft2`` holds the frequency of ky and kx cycles across the image,
    whatever its size, so the small image's phase moves to the same bins of the large grid
    and only the new, finer frequencies start at random. The natural magnitude falls as
    1/frequency at any size, so the large image shows the same picture, with room for detail.

    Args:
        phase: (B, 3, h, w // 2 + 1) with h <= canvas.height and w <= canvas.width.
        canvas: the larger image; its generator draws the new bins' phase.

    Returns:
        The phase (B, 3, H, W // 2 + 1) on ``phase``'s device, and (H, W // 2 + 1) bool: the bins it carried.
    """
    rows, columns = phase.shape[-2], phase.shape[-1]
    shape = (phase.shape[0], 3, canvas.height, canvas.width // 2 + 1)
    grown = ((torch.rand(shape, generator=canvas.generator) * 2 - 1) * torch.pi).to(phase)
    positive, negative = (rows + 1) // 2, rows // 2  # rows 0.. are frequencies 0, 1, ...; the last ones -1, -2, ...
    grown[..., :positive, :columns] = phase[..., :positive, :]
    carried = torch.zeros(shape[-2:], dtype=torch.bool, device=phase.device)
    carried[:positive, :columns] = True
    if negative:
        grown[..., -negative:, :columns] = phase[..., -negative:, :]
        carried[-negative:, :columns] = True
    return grown, carried


def maco_image(
    canvas: Canvas,
    contrast: float = MACO_CONTRAST,
    start_phase: torch.Tensor | None = None,
    carried_rate: float = 0.25,
) -> tuple[list[torch.Tensor], Render]:
    """A phase-only image whose Fourier magnitude is that of natural photos (magnitude-constrained).

    Each decorrelated colour channel is ``irfft2(magnitude * exp(i * phase))``;
    the image is then standardised (zero mean, unit deviation over the whole
    image), so its statistics cannot drift, mapped to RGB through the colour
    covariance and squashed into [0, 1] by a sigmoid.

    Args:
        canvas: the images' shape, seed and device; the initial phase is uniform in [-pi, pi).
        contrast: gain before the sigmoid (standard deviation of the RGB logits).
        start_phase: (B, 3, h, w // 2 + 1) the phase of a smaller picture to refine
            (``grown_phase``); None: a random start.
        carried_rate: how fast the carried phase moves, relative to the new bins' (``refined_phase``).

    Returns:
        ([phase (B, 3, H, W // 2 + 1)] or, refining, [its offset], render () -> (B, 3, H, W) in [0, 1]).
    """
    height, width = canvas.height, canvas.width
    magnitude = magnitude_for(height, width, canvas.device)  # (3, H, W // 2 + 1)
    if start_phase is None:
        phase = (torch.rand((canvas.batch, *magnitude.shape), generator=canvas.generator) * 2 - 1) * torch.pi
        phase = phase.to(canvas.device).requires_grad_(True)
        params, current = [phase], lambda: phase
    else:
        params, current = refined_phase(start_phase, canvas, carried_rate)

    def render() -> torch.Tensor:
        phase = current()
        spectrum = torch.polar(magnitude.expand_as(phase), phase)  # (B, 3, H, W // 2 + 1)
        image = torch.fft.irfft2(spectrum, s=(height, width), norm="ortho")  # (B, 3, H, W)
        image = image - image.mean(dim=(1, 2, 3), keepdim=True)
        image = image / (image.std(dim=(1, 2, 3), keepdim=True) + 1e-6)
        return torch.sigmoid(contrast * decorrelated_to_rgb(image))

    return params, render


def refined_phase(
    start_phase: torch.Tensor, canvas: Canvas, carried_rate: float
) -> tuple[list[torch.Tensor], Callable[[], torch.Tensor]]:
    """The phase of a larger picture grown from ``start_phase``, as an offset the optimiser moves.

    Adam moves every parameter by about the learning rate at first, whatever its gradient, which
    would scramble the picture carried from the coarse stage; the carried bins move at
    ``carried_rate`` times the rate of the new, finer ones, so the composition stays and detail grows.

    Returns:
        ([offset (B, 3, H, W // 2 + 1), zero at first], phase () -> (B, 3, H, W // 2 + 1)).
    """
    grown, carried = grown_phase(start_phase.detach().to(canvas.device), canvas)
    rate = torch.where(carried, carried_rate, 1.0).to(grown)  # (H, W // 2 + 1)
    offset = torch.zeros_like(grown, requires_grad=True)
    return [offset], lambda: grown + rate * offset


def pixel_image(
    canvas: Canvas,
    sd: float = 0.01,
) -> tuple[list[torch.Tensor], Render]:
    """Plain pixels (through a sigmoid, so they stay in [0, 1]): no prior at all.

    Args:
        canvas: the images' shape, seed and device.
        sd: standard deviation of the initial logits (small: a grey start).

    Returns:
        ([pixel logits (B, 3, H, W)], render () -> (B, 3, H, W) in [0, 1]).
    """
    shape = (canvas.batch, 3, canvas.height, canvas.width)
    logits = (torch.randn(shape, generator=canvas.generator) * sd).to(canvas.device).requires_grad_(True)
    return [logits], lambda: torch.sigmoid(logits)


PARAMETERIZATIONS = {"maco": maco_image, "fourier": fourier_image, "pixel": pixel_image}


def make_image(parameterization: str, canvas: Canvas) -> tuple[list[torch.Tensor], Render]:
    """``maco_image``, ``fourier_image`` or ``pixel_image`` by name; an unknown name is a UserError listing them."""
    if parameterization not in PARAMETERIZATIONS:
        raise NameChoiceError("parameterization", parameterization, list(PARAMETERIZATIONS))
    return PARAMETERIZATIONS[parameterization](canvas)
