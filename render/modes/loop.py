"""Seamless loops for zoom renders: the tail dreams its way back into the head.

A zoom of N output frames dreams N + K frames. The first K (the head) are kept
aside, not shown. Output frames 0..N-K-1 are dream frames K..N-1; the last K
output frames are the tail (dream frames N..N+K-1), each crossfaded toward the
head frame it stands for, with a weight rising smoothly to ~1. The blended
frame is what the next tail frame grows from, so the tail's dream converges on
the head's content instead of double-exposing two pictures. The last output
frame is then almost head frame K-1, and playback wraps to dream frame K: one
ordinary step of the zoom, no jump.
"""

from __future__ import annotations

from pathlib import Path

import torch

from render.config import RenderConfig
from render.media.images import load_image
from render.media.run_folder import seam_frame_path
from render.media.seam_frames import save_seam_frame
from render.ops.crossfade import crossfade_weight


def loop_length(cfg: RenderConfig) -> int:
    """K: the frames crossfaded at the seam (0 when the render doesn't loop)."""
    return min(cfg.loop_frames, cfg.frames // 2) if cfg.loop else 0


def close_loop(run_dir: Path, index: int, frame: torch.Tensor, frames: int, length: int) -> torch.Tensor | None:
    """What dream frame ``index`` becomes in a loop of ``frames`` output frames.

    Returns:
        None for a head frame (kept aside), the frame itself in the middle, and in
        the tail the crossfade toward its head frame, (1, 3, H, W).
    """
    if index < length:
        save_seam_frame(run_dir, index, frame)  # outside chunks/, so it survives a resume
        return None
    if index < frames:
        return frame
    j = index - frames
    weight = crossfade_weight(j, length)
    return torch.lerp(frame, load_image(seam_frame_path(run_dir, j), frame.device), weight)
