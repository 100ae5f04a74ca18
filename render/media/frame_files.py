"""Frame observers: what else a written frame becomes besides video (the preview image, numbered PNGs)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import imageio.v3 as iio
import numpy as np

from render.media.run_folder import PREVIEW, png_frame_path


def write_image_atomic(path: Path, pixels: np.ndarray) -> None:
    """Write (H, W, 3) uint8 as an image (format from the suffix); readers never see half a file."""
    partial = path.with_name(path.stem + ".partial" + path.suffix)
    iio.imwrite(partial, pixels)
    os.replace(partial, path)


class FrameFiles:
    """``run_dir/preview.jpg`` at most every ``preview_every_s`` seconds, and ``frames/frame_NNNNNN.png`` if asked.

    Called on the sink's writer thread with each encoded frame's (H, W, 3) uint8 pixels.
    """

    def __init__(self, run_dir: Path, first_index: int, preview_every_s: float = 1.0, png_frames: bool = False):
        self.run_dir, self.index = Path(run_dir), first_index
        self.preview_every_s, self.png_frames = preview_every_s, png_frames
        self._last_preview_at, self._latest = -float("inf"), None

    def __call__(self, pixels: np.ndarray) -> None:
        if self.png_frames:
            path = png_frame_path(self.run_dir, self.index)
            path.parent.mkdir(exist_ok=True)
            write_image_atomic(path, pixels)
        self.index += 1
        self._latest = pixels
        if time.monotonic() - self._last_preview_at >= self.preview_every_s:
            self.save_preview()

    def save_preview(self) -> None:
        """Write the latest frame as the preview now (at a checkpoint, so a stopped render shows its last frame)."""
        if self._latest is not None:
            write_image_atomic(self.run_dir / PREVIEW, self._latest)
            self._last_preview_at = time.monotonic()
