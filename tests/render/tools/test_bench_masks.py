"""The mask bench's clip: a known square moving over a panning photo, and a tracked mask that follows it."""

from __future__ import annotations

import torch

from render.media.video_source import probe_video
from render.tools.bench_masks import SquareClip, iou, track_square, write_square_clip


def test_true_square_is_where_the_clip_says():
    clip = SquareClip(width=64, height=48, side=12, start=(4.0, 6.0), velocity=(2.5, 0.5))
    assert clip.corner(4) == (14.0, 8.0)
    square = clip.true_mask(4)
    assert square.sum() == 144 and square[0, 0, 8:20, 14:26].all()
    assert iou(square, square) == 1.0 and iou(square, torch.zeros_like(square)) == 0.0


def test_tracked_mask_follows_the_square(tmp_path):
    clip = SquareClip(width=160, height=96, frames=13, side=32, start=(16.0, 16.0))
    video, mask = write_square_clip(clip, tmp_path)
    assert probe_video(video).frames == 13
    rows = track_square(clip, video, mask, every=12)
    assert rows[0] == {"tracked": 1.0, "unmoved": 1.0}
    assert rows[12]["tracked"] > 0.85 > rows[12]["unmoved"]


def test_an_inverted_tracked_mask_keeps_the_square_moving_against_the_pan(tmp_path):
    clip = SquareClip(width=160, height=96, frames=13, side=32, start=(16.0, 16.0), velocity=(1.5, 0.5), pan=1.5)
    video, mask = write_square_clip(clip, tmp_path)
    rows = track_square(clip, video, mask, every=12, invert=True)
    assert rows[12]["tracked"] > 0.85 > rows[12]["unmoved"]
    assert rows[12]["dreamed"] < 0.1  # the square is kept, not dreamed
