"""Frame observers: numbered lossless PNGs and a preview of the latest frame."""

from __future__ import annotations

import imageio.v3 as iio
import numpy as np

from render.media.frame_files import FrameFiles


def test_png_frames_are_numbered_from_the_first_index_and_exact(tmp_path):
    files = FrameFiles(tmp_path, first_index=5, preview_every_s=1000.0, png_frames=True)
    frames = [np.full((4, 6, 3), level, np.uint8) for level in (10, 200)]
    for pixels in frames:
        files(pixels)
    names = sorted(p.name for p in (tmp_path / "frames").iterdir())
    assert names == ["frame_000005.png", "frame_000006.png"]
    assert np.array_equal(iio.imread(tmp_path / "frames" / names[1]), frames[1])


def test_the_preview_is_the_first_frame_until_asked_again(tmp_path):
    files = FrameFiles(tmp_path, first_index=0, preview_every_s=1000.0)
    files(np.zeros((4, 6, 3), np.uint8))
    files(np.full((4, 6, 3), 255, np.uint8))
    assert iio.imread(tmp_path / "preview.jpg").mean() < 5 and not (tmp_path / "frames").exists()
    files.save_preview()
    assert iio.imread(tmp_path / "preview.jpg").mean() > 250
