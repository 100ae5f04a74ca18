"""The segment benchmark's clip and boundary table."""

from __future__ import annotations

import math

import pytest

from render.media.video_source import probe_video
from render.tools.bench_segments import boundary_table, make_photo_pan_clip


def test_photo_pan_clip_has_the_asked_frames_size_and_a_tone(tmp_path):
    pytest.importorskip("skimage")
    info = probe_video(make_photo_pan_clip(tmp_path / "pan.mp4", 64, 36, 1.0, 12))
    assert (info.frames, info.width, info.height, info.fps, info.has_audio) == (12, 64, 36, 12.0, True)


def test_boundary_table_compares_boundaries_with_the_other_frames():
    sequential = [math.nan, 1.0, 2.0, 3.0, 4.0, 100.0]
    joined = [math.nan, 1.0, 2.0, 3.0, 4.0, 200.0]
    table = boundary_table(sequential, joined, [5])
    assert table["boundaries"] == [{"frame": 5, "sequential": 100.0, "segmented": 200.0}]
    assert table["sequential"]["median"] == 2.5 and table["segmented"]["p95"] == pytest.approx(3.85)
