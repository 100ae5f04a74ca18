"""Still images in and out, and the noise a dream can start from."""

from __future__ import annotations

from pathlib import Path

import imageio.v3 as iio
import numpy as np
import torch
import torch.nn.functional as F

from dream.errors import UserError
from dream.octaves import resize
from render.media.encoder import to_uint8_hwc
from render.media.frame_files import write_image_atomic


def load_image(path: str | Path, device: torch.device, size: tuple[int, int] | None = None) -> torch.Tensor:
    """Read an image file as (1, 3, H, W) RGB in [0, 1], optionally resized to ``size`` (H, W).

    Grey and RGBA images become RGB; a missing or unreadable file is a UserError.
    """
    path = Path(path).expanduser()
    if path.is_dir():
        raise UserError(f"Input image {path} is a folder, not an image. Pass an image file, e.g. input=photo.jpg.")
    if not path.is_file():
        raise UserError(f"Input image {path} does not exist. Pass an existing image file, e.g. input=photo.jpg.")
    try:
        pixels = iio.imread(path)
    except Exception as exc:
        raise UserError(
            f"Input image {path} could not be read ({type(exc).__name__}); it is corrupt or not an image. "
            f"Pass a PNG or JPEG file."
        ) from None
    image = pixels_to_tensor(pixels, device)
    return resize(image, size) if size else image


def pixels_to_tensor(pixels: np.ndarray, device: torch.device) -> torch.Tensor:
    """(H, W), (H, W, 1|3|4) uint8/uint16 -> (1, 3, H, W) float in [0, 1]."""
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    if pixels.ndim != 3:
        raise UserError(f"An image with {pixels.ndim} dimensions can't be dreamed; pass a single still image.")
    pixels = pixels[:, :, :3]
    if pixels.shape[2] == 1:
        pixels = np.repeat(pixels, 3, axis=2)
    scale = float(np.iinfo(pixels.dtype).max) if pixels.dtype.kind in "ui" else 1.0
    image = torch.from_numpy(np.ascontiguousarray(pixels)).to(device=device, dtype=torch.float32) / scale
    return image.permute(2, 0, 1).unsqueeze(0)


def to_uint8_pixels(image: torch.Tensor) -> np.ndarray:
    """(1, 3, H, W) or (3, H, W) float [0, 1] -> (H, W, 3) uint8 numpy."""
    return to_uint8_hwc(image).cpu().numpy()


def save_png(image: torch.Tensor, path: Path) -> Path:
    """Write ``image`` (1, 3, H, W) as a PNG, atomically (a crash never leaves half a file)."""
    write_image_atomic(Path(path), to_uint8_pixels(image))
    return Path(path)


def save_rgba_png(image: torch.Tensor, alpha: torch.Tensor, path: Path) -> Path:
    """Write ``image`` (1, 3, H, W) with ``alpha`` (1, 1, H, W) in [0, 1] as an RGBA PNG, atomically."""
    pixels = np.concatenate([to_uint8_pixels(image), to_uint8_pixels(alpha.expand(-1, 3, -1, -1))[..., :1]], axis=2)
    write_image_atomic(Path(path), pixels)
    return Path(path)


def smooth_noise(height: int, width: int, generator: torch.Generator, device: torch.device) -> torch.Tensor:
    """Grey-centred noise with structure at several scales: a start the network can read.

    White noise has no features a deep layer responds to; noise summed over
    octaves (coarse blobs plus fine grain) gives the first dream something to grow.

    Returns:
        (1, 3, H, W) RGB in [0, 1].
    """
    noise = torch.zeros(1, 3, height, width)
    amplitude = 0.5
    for divisor in (32, 16, 8, 4, 2, 1):
        h, w = max(1, height // divisor), max(1, width // divisor)
        layer = torch.rand(1, 3, h, w, generator=generator) - 0.5
        noise += amplitude * F.interpolate(layer, size=(height, width), mode="bicubic", align_corners=False)
        amplitude *= 0.7
    return (0.5 + 0.35 * noise).clamp(0, 1).to(device)
