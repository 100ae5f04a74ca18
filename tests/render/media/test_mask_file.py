"""Mask files: images of any size and colour read as brightness, mask videos streamed, clear errors."""

from __future__ import annotations

import subprocess

import imageio.v3 as iio
import imageio_ffmpeg
import numpy as np
import pytest
import torch

from dream.errors import UserError
from render.media.mask_file import is_video_file, iter_mask_frames, probe_mask_video, read_mask_image

CPU = torch.device("cpu")


def test_grey_image_scaled_to_the_render_size(tmp_path):
    pixels = np.zeros((40, 60), np.uint8)
    pixels[:, 30:] = 255
    iio.imwrite(tmp_path / "half.png", pixels)
    mask = read_mask_image(tmp_path / "half.png", (20, 30), CPU)
    assert mask.shape == (1, 1, 20, 30)
    assert torch.equal(mask[..., :14], torch.zeros(1, 1, 20, 14))
    assert torch.equal(mask[..., 16:], torch.ones(1, 1, 20, 14))
    assert read_mask_image(tmp_path / "half.png", None, CPU).shape == (1, 1, 40, 60)


def test_colour_and_alpha_images_read_as_brightness(tmp_path):
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., 1] = 255  # green, alpha 0: the alpha is ignored
    iio.imwrite(tmp_path / "green.png", rgba)
    mask = read_mask_image(tmp_path / "green.png", None, CPU)
    assert mask.shape == (1, 1, 4, 4) and mask.flatten()[0].item() == pytest.approx(0.587)
    grey_alpha = np.full((3, 3, 2), 255, np.uint8)
    iio.imwrite(tmp_path / "la.png", grey_alpha)
    assert torch.equal(read_mask_image(tmp_path / "la.png", None, CPU), torch.ones(1, 1, 3, 3))


def test_missing_and_unreadable_masks_are_user_errors(tmp_path):
    with pytest.raises(UserError, match="'mask.source' names .*nope.png, which does not exist"):
        read_mask_image(tmp_path / "nope.png", (4, 4), CPU)
    (tmp_path / "broken.png").write_bytes(b"not a png")
    with pytest.raises(UserError, match="mask image .*broken.png .* could not be read"):
        read_mask_image(tmp_path / "broken.png", (4, 4), CPU)
    (tmp_path / "broken.mp4").write_bytes(b"not a video")
    with pytest.raises(UserError, match=r"mask video \(mask.source\) can't be used"):
        probe_mask_video(tmp_path / "broken.mp4")


def test_mask_video_frames_stream_from_a_start(tmp_path):
    path = tmp_path / "mask.mp4"
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    # white for 0.2 s, then black: 5 white and 5 black frames at 25 fps
    subprocess.run([ffmpeg, "-v", "error", "-f", "lavfi", "-i", "color=white:size=32x16:rate=25:duration=0.2",
                    "-f", "lavfi", "-i", "color=black:size=32x16:rate=25:duration=0.2", "-filter_complex",
                    "[0][1]concat=n=2:v=1", "-pix_fmt", "yuv444p", "-crf", "0", str(path)], check=True)
    assert is_video_file(path) and not is_video_file("mask.PNG") and is_video_file("m.MOV")
    assert probe_mask_video(path).frames == 10
    frames = list(iter_mask_frames(path, (8, 16), 3, CPU))
    assert len(frames) == 7 and frames[0].shape == (1, 1, 8, 16)
    assert [round(f.mean().item()) for f in frames] == [1, 1, 0, 0, 0, 0, 0]
