"""The mux: chunks joined by stream copy, with a source's audio cut to the video or a soundtrack fitted to it."""

from __future__ import annotations

from fractions import Fraction

import imageio_ffmpeg
import numpy as np

from render.media.encoder import ChunkEncoder, Encoding
from render.media.mux import concat_chunks
from render.media.video_source import probe_video
from tests.render.media.test_video_source import make_clip

ENCODING = Encoding(16, 8, Fraction(25), 0, "ultrafast")


def chunks_of(folder, sizes: list[int]) -> list:
    paths = []
    for number, size in enumerate(sizes):
        encoder = ChunkEncoder(folder / f"chunk_{number}.mp4", ENCODING, folder / "log")
        for _ in range(size):
            encoder.write(np.zeros((8, 16, 3), np.uint8))
        encoder.close()
        paths.append(encoder.path)
    return paths


def test_chunks_join_into_every_frame_without_audio(tmp_path):
    notes = concat_chunks(chunks_of(tmp_path, [2, 3]), tmp_path / "out.mp4", None, 5 / 25)
    assert notes == [] and imageio_ffmpeg.count_frames_and_secs(str(tmp_path / "out.mp4"))[0] == 5
    assert not probe_video(tmp_path / "out.mp4").has_audio


def test_a_soundtrack_is_fitted_to_the_video(tmp_path):
    make_clip(tmp_path / "song.mp4", "16x8", "25", 50, audio=True)
    concat_chunks(chunks_of(tmp_path, [4]), tmp_path / "out.mp4", tmp_path / "song.mp4", 4 / 25, fit_audio=True)
    info = probe_video(tmp_path / "out.mp4")
    assert info.has_audio and info.frames == 4
