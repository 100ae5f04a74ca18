"""The coherence bench: its clips' known flow explains the clips, and the table reads the ratios."""

from __future__ import annotations

import torch

from render.media.video_source import iter_video_frames
from render.ops.coherence import warping_errors
from render.tools.bench_coherence import coherence_clips, known_flow, quarter, table_lines
from render.tools.bench_masks import write_square_clip


def test_clips_move_in_quarter_pixels_and_stay_in_the_frame():
    for clip in coherence_clips(96, 64, 12).values():
        assert all(quarter(v) == v for v in (*clip.velocity, clip.pan))
        x, y = clip.corner(clip.frames - 1)
        assert 0 <= x and x + clip.side <= clip.width and 0 <= y and y + clip.side <= clip.height


def test_known_flow_explains_the_occluder_clip(tmp_path):
    clip = coherence_clips(96, 64, 8)["occluder"]
    source = list(iter_video_frames(write_square_clip(clip, tmp_path)[0], device=torch.device("cpu")))
    backward, forward = known_flow(clip, 6, 3)
    assert backward.shape == forward.shape == (1, 2, 64, 96)
    assert backward[0, :, 0, 0].tolist() == [4.5, 0.0]  # the background, 3 frames at 1.5 px/frame
    shuffled = source[::-1]
    right, wrong = warping_errors([source, shuffled], lambda t, k: known_flow(clip, t, k), (1, 3))
    assert right[1] < 0.005 and right[3] < 0.005  # codec noise and half-pixel resampling only
    assert wrong[3] > 10 * right[3]


def test_table_has_a_line_per_clip():
    figures = {"ratio": {1: 0.2, 5: 0.3, 10: 0.4}, "strength_ratio": 0.95}
    lines = table_lines({"pan": figures, "occluder": figures})
    assert len(lines) == 3 and lines[1].split() == ["pan", "0.200", "0.300", "0.400", "0.950"]
