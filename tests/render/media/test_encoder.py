"""Frames become bytes in one place; one ffmpeg process makes one chunk with the settings asked for."""

from __future__ import annotations

from fractions import Fraction

import imageio_ffmpeg
import pytest
import torch

from dream.errors import UserError
from render.media.encoder import ChunkEncoder, Encoding, even_size_filter, fps_fraction, to_uint8_hwc


def test_to_uint8_hwc_rounds_clamps_and_keeps_device():
    frame = torch.tensor([0.0, 1.0, 0.2, -1.0, 2.0, 0.5 / 255 + 1e-4]).view(1, 1, 1, 6).expand(1, 3, 1, 6)
    pixels = to_uint8_hwc(frame)
    assert pixels.shape == (1, 6, 3) and pixels.dtype == torch.uint8 and pixels.device == frame.device
    assert pixels[0, :, 0].tolist() == [0, 255, 51, 0, 255, 1]
    assert torch.equal(to_uint8_hwc(frame[0]), pixels)
    with pytest.raises(ValueError, match="shape"):
        to_uint8_hwc(torch.zeros(2, 3, 4, 4))


def test_fps_fraction_is_exact_for_ntsc_rates():
    assert fps_fraction(29.97002997) == Fraction(30000, 1001) and fps_fraction(25.0) == 25


def test_odd_sizes_are_padded_and_said_even_ones_untouched():
    assert even_size_filter(64, 48) == ([], None)
    args, note = even_size_filter(65, 48)
    assert args[0] == "-vf" and "pad=66:48" in args[1] and "65x48" in note


@pytest.mark.parametrize(("kwargs", "match"), [({"crf": 60}, "crf"), ({"preset": "quick"}, "preset"),
                                               ({"width": 1}, "too small")])
def test_bad_encoding_settings_are_user_errors(kwargs, match):
    with pytest.raises(UserError, match=match):
        Encoding(**{"width": 8, "height": 8, "fps": Fraction(25), **kwargs})


def test_a_chunk_holds_every_frame_fed(tmp_path):
    encoder = ChunkEncoder(tmp_path / "c.mp4", Encoding(16, 8, Fraction(25), 0, "ultrafast"), tmp_path / "log")
    for level in range(3):
        encoder.write(to_uint8_hwc(torch.full((3, 8, 16), level / 4)).numpy())
    assert encoder.close() == 3 and imageio_ffmpeg.count_frames_and_secs(str(tmp_path / "c.mp4"))[0] == 3
