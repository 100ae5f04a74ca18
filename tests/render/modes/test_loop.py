"""Loop closure: the tail crossfades into the head kept on disk, so the clip wraps without a jump."""

import torch
from omegaconf import OmegaConf

from render.config import RenderConfig
from render.modes.loop import close_loop, loop_length
from render.ops.crossfade import crossfade_weight


def test_loop_length_is_zero_without_a_loop_and_at_most_half_the_frames():
    cfg = OmegaConf.structured(RenderConfig(frames=20, loop_frames=30))
    assert loop_length(cfg) == 0
    cfg.loop = True
    assert loop_length(cfg) == 10


def test_head_frames_are_kept_and_the_tail_fades_into_them(tmp_path):
    frames, length = 6, 2
    head = [torch.full((1, 3, 4, 4), v) for v in (0.2, 0.4)]
    assert [close_loop(tmp_path, j, head[j], frames, length) for j in range(length)] == [None, None]
    middle = torch.full((1, 3, 4, 4), 0.9)
    assert torch.equal(close_loop(tmp_path, 3, middle, frames, length), middle)
    tail = close_loop(tmp_path, frames + 1, torch.ones(1, 3, 4, 4), frames, length)
    expected = torch.lerp(torch.ones(1, 3, 4, 4), head[1], crossfade_weight(1, length))
    assert torch.allclose(tail, expected, atol=1 / 255)  # the head is kept as 8-bit pixels
