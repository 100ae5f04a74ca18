"""Mask files: a greyscale image, or a video with one mask per frame (white = dream, black = keep).

Colour files are read as their brightness; any size is scaled to the render's.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import imageio.v3 as iio
import torch

from dream.errors import UserError
from dream.octaves import resize
from render.media.images import pixels_to_tensor
from render.media.video_source import VideoInfo, iter_video_frames, probe_video

VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v", ".mpg", ".mpeg")
LUMA = (0.299, 0.587, 0.114)


def is_video_file(path: str | Path) -> bool:
    """Whether a mask file is read as a video (by its suffix)."""
    return Path(path).suffix.lower() in VIDEO_SUFFIXES


def brightness(image: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) RGB in [0, 1] -> (B, 1, H, W) luma in [0, 1]."""
    weights = torch.tensor(LUMA, device=image.device, dtype=image.dtype).view(1, 3, 1, 1)
    return (image * weights).sum(1, keepdim=True).clamp(0.0, 1.0)


def existing_mask_file(path: str | Path) -> Path:
    """``path`` as a Path; a missing file is a UserError naming ``mask.source``."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise UserError(
            f"Config key 'mask.source' names {path}, which does not exist. Pass a greyscale image or video "
            f"(white = dream, black = keep), e.g. mask.source=sky.png, or a key such as "
            f"mask.source=key:brightness:0.7-1."
        )
    return path


def read_mask_image(path: str | Path, size: tuple[int, int] | None, device: torch.device) -> torch.Tensor:
    """A mask image as (1, 1, H, W) in [0, 1], scaled to ``size`` (H, W) unless None; unreadable is a UserError."""
    path = existing_mask_file(path)
    try:
        pixels = iio.imread(path)
    except Exception as exc:
        raise UserError(
            f"The mask image {path} (mask.source) could not be read ({type(exc).__name__}); it is corrupt or not "
            f"an image. Save the mask as a greyscale PNG (white = dream, black = keep)."
        ) from None
    if pixels.ndim == 4:
        pixels = pixels[0]  # an animated GIF or multi-page TIFF: its first picture
    if pixels.ndim == 3 and pixels.shape[-1] == 2:
        pixels = pixels[..., :1]  # grey with alpha: the grey
    mask = brightness(pixels_to_tensor(pixels, device))
    return resize(mask, size).clamp(0.0, 1.0) if size else mask


def probe_mask_video(path: str | Path) -> VideoInfo:
    """What a mask video holds; a missing or unreadable file is a UserError naming ``mask.source``."""
    path = existing_mask_file(path)
    try:
        return probe_video(path)
    except UserError as exc:
        raise UserError(f"The mask video (mask.source) can't be used. {exc}") from None


def iter_mask_frames(path: str | Path, size: tuple[int, int], start: int,
                     device: torch.device) -> Iterator[torch.Tensor]:
    """Stream a mask video's frames from ``start`` on as (1, 1, H, W) in [0, 1], scaled to ``size`` (H, W)."""
    height, width = size
    for frame in iter_video_frames(path, size=(width, height), start=start, device=device):
        yield brightness(frame)
