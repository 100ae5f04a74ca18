"""Colour coherence against the drift of feedback loops, and a measure of that drift.

Dreaming a frame's own output again and again shifts its colour statistics a
little every time: frames darken or the palette dies. Matching each frame's
per-channel mean and std (in LAB, where lightness and colour separate) to a
reference frame holds the palette steady while the content keeps changing.

The reference is the palette anchor (``color.anchor``): the first frame's statistics (or the input
photo's), an image's, or none (the palette is free). A deliberate drift (``color.hue_turn``, degrees
per frame) turns the hue of the frame and of the anchor together about the grey axis of CIELAB, so the
palette turns as scheduled while keeping its lightness, spread and saturation.
"""

from __future__ import annotations

import math
from pathlib import Path

import kornia
import torch

from render.media.images import load_image

ANCHORS = ("frame0", "none")  # or an image file's path


def channel_stats(image: torch.Tensor, space: str,
                  weight: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and std, each (B, 3, 1, 1), of ``image`` (B, 3, H, W) RGB in ``space``.

    ``weight`` (B or 1, 1, H, W) takes them over part of the image (a mask) instead of all of it.
    """
    return _moments(to_space(image, space), weight)


def _moments(converted: torch.Tensor, weight: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
    if weight is None:
        return converted.mean((2, 3), keepdim=True), converted.std((2, 3), keepdim=True)
    total = weight.sum((2, 3), keepdim=True).clamp_min(1e-6)
    mean = (converted * weight).sum((2, 3), keepdim=True) / total
    variance = ((converted - mean).square() * weight).sum((2, 3), keepdim=True) / total
    return mean, variance.sqrt()


def to_space(image: torch.Tensor, space: str) -> torch.Tensor:
    return kornia.color.rgb_to_lab(image) if space == "lab" else image


def from_space(image: torch.Tensor, space: str) -> torch.Tensor:
    return kornia.color.lab_to_rgb(image, clip=True) if space == "lab" else image


def match_colors(
    image: torch.Tensor,
    reference: tuple[torch.Tensor, torch.Tensor],
    space: str = "lab",
    strength: float = 1.0,
    weight: torch.Tensor | None = None,
) -> torch.Tensor:
    """Shift and scale each channel of ``image`` to the reference statistics.

    Args:
        image: (B, 3, H, W) RGB in [0, 1].
        reference: (mean, std), each (B or 1, 3, 1, 1), from ``channel_stats`` in ``space``.
        space: 'lab' or 'rgb'.
        strength: 0 leaves the image alone, 1 matches fully.
        weight: (B or 1, 1, H, W): the image's own statistics are taken there (a mask); None: everywhere.

    Returns:
        (B, 3, H, W) RGB in [0, 1].
    """
    if strength <= 0.0:
        return image
    converted = to_space(image, space)
    mean, std = _moments(converted, weight)
    ref_mean, ref_std = reference
    matched = (converted - mean) * (ref_std / std.clamp_min(1e-6)) + ref_mean
    blended = converted + strength * (matched - converted)
    return from_space(blended, space).clamp(0.0, 1.0)


def turn_hue(image: torch.Tensor, degrees: float) -> torch.Tensor:
    """``image`` (B, 3, H, W) RGB in [0, 1] with every colour turned ``degrees`` about CIELAB's grey axis.

    Lightness and chroma stay; a colour turned out of the RGB gamut is clipped into it.
    """
    if degrees == 0.0:
        return image
    lab = kornia.color.rgb_to_lab(image)
    cos, sin = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    a, b = lab[:, 1:2], lab[:, 2:3]
    turned = torch.cat((lab[:, :1], cos * a - sin * b, sin * a + cos * b), 1)
    return kornia.color.lab_to_rgb(turned, clip=True).clamp(0.0, 1.0)


def turned_reference(reference: tuple[torch.Tensor, torch.Tensor], degrees: float,
                     space: str) -> tuple[torch.Tensor, torch.Tensor]:
    """LAB statistics (mean, std), each (B, 3, 1, 1), of a palette turned ``degrees`` (``turn_hue``).

    The mean (a*, b*) turns with the colours; each std becomes that of the turned axis (a* and b* taken
    as uncorrelated). RGB statistics are returned as they are: the turn is defined in LAB.
    """
    if degrees == 0.0 or space != "lab":
        return reference
    mean, std = reference
    cos, sin = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    a, b = mean[:, 1:2], mean[:, 2:3]
    sa, sb = std[:, 1:2].square(), std[:, 2:3].square()
    turned_mean = torch.cat((mean[:, :1], cos * a - sin * b, sin * a + cos * b), 1)
    turned_std = torch.cat((std[:, :1], (cos**2 * sa + sin**2 * sb).sqrt(), (sin**2 * sa + cos**2 * sb).sqrt()), 1)
    return turned_mean, turned_std


def anchor_reference(anchor: str, space: str, size: tuple[int, int],
                     device: torch.device) -> tuple[torch.Tensor, torch.Tensor] | None:
    """The statistics an image anchor holds the palette to (its whole picture, scaled to ``size`` (H, W));
    None for ``frame0`` (taken from the first frame later), ``none`` or ``space`` none."""
    if anchor in ANCHORS or space == "none":
        return None
    return channel_stats(load_image(Path(anchor), device, size=size), space)


def palette_summary(image: torch.Tensor) -> dict[str, float]:
    """Lightness (0-100) and chroma of an RGB image (B, 3, H, W): the two numbers that drift."""
    lab = kornia.color.rgb_to_lab(image)
    chroma = lab[:, 1:].pow(2).sum(1).sqrt()
    return {"lightness": float(lab[:, 0].mean()), "chroma": float(chroma.mean())}


def palette_drift(frames) -> dict[str, float]:
    """How far the palette moves over an animation: lightness and chroma, first frame vs last.

    Args:
        frames: an iterable of (1, 3, H, W) RGB frames in [0, 1].

    Returns:
        first/last lightness and chroma, and the relative change of each.
    """
    first = last = None
    for frame in frames:
        summary = palette_summary(frame)
        first = first or summary
        last = summary
    if first is None:
        raise ValueError("no frames")
    return {
        "lightness_first": first["lightness"],
        "lightness_last": last["lightness"],
        "chroma_first": first["chroma"],
        "chroma_last": last["chroma"],
        "lightness_change": (last["lightness"] - first["lightness"]) / max(first["lightness"], 1e-6),
        "chroma_change": (last["chroma"] - first["chroma"]) / max(first["chroma"], 1e-6),
    }
