"""The segment benchmark's clip and boundary table."""

from __future__ import annotations

import math

import pytest

from render.media.video_source import probe_video
from render.tools.bench_segments import boundary_table, make_photo_pan_clip, seam_windows


def test_photo_pan_clip_has_the_asked_frames_size_and_a_tone(tmp_path):
    pytest.importorskip("skimage")
    info = probe_video(make_photo_pan_clip(tmp_path / "pan.mp4", 64, 36, 1.0, 12))
    assert (info.frames, info.width, info.height, info.fps, info.has_audio) == (12, 64, 36, 12.0, True)


def test_boundary_table_compares_seams_with_the_frames_outside_them():
    sequential = [math.nan, 1.0, 2.0, 3.0, 4.0, 9.0, 100.0, 8.0, 5.0]
    joined = [math.nan, 1.0, 2.0, 3.0, 4.0, 300.0, 200.0, 7.0, 5.0]
    table = boundary_table(sequential, joined, [(5, 6, 7)])
    assert table["boundaries"] == [{"frame": 6, "sequential": 100.0, "segmented": 200.0, "segmented_seam_max": 300.0,
                                    "seam_frames": [5, 7]}]
    assert table["sequential"]["median"] == 3.0 and table["segmented"]["p95"] == pytest.approx(4.8)


def test_seam_windows_span_the_dissolve_and_the_next_segments_first_frames():
    segments = [{"first": 0, "incoming_seam": None}, {"first": 60, "incoming_seam": [30, 90]}, {"first": 120}]
    assert seam_windows(segments) == [(30, 60, 90), (120, 120, 120)]
