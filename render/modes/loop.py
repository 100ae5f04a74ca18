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
from render.media.sink import to_uint8_hwc

HEAD_FOLDER = Path("chunks") / "loop_head"


def loop_length(cfg: RenderConfig) -> int:
    """K: the frames crossfaded at the seam (0 when the render doesn't loop)."""
    return min(cfg.loop_frames, cfg.frames // 2) if cfg.loop else 0


def crossfade_weight(j: int, length: int) -> float:
    """Weight of the head at tail frame ``j`` of ``length``: smoothstep from ~0 to ~1."""
    x = (j + 1) / (length + 1)
    return x * x * (3 - 2 * x)


def save_head(run_dir: Path, j: int, frame: torch.Tensor) -> None:
    """Keep head frame ``j`` (1, 3, H, W) as uint8 on disk (it survives a resume)."""
    folder = run_dir / HEAD_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f"head_{j:05d}.pt.partial"
    torch.save(to_uint8_hwc(frame).cpu(), partial)
    partial.replace(folder / f"head_{j:05d}.pt")


def load_head(run_dir: Path, j: int, device: torch.device) -> torch.Tensor:
    """Head frame ``j`` as (1, 3, H, W) float in [0, 1]."""
    pixels = torch.load(run_dir / HEAD_FOLDER / f"head_{j:05d}.pt", weights_only=True)
    return (pixels.to(device).permute(2, 0, 1).unsqueeze(0).float() / 255.0)


def close_loop(run_dir: Path, index: int, frame: torch.Tensor, frames: int, length: int) -> torch.Tensor | None:
    """What dream frame ``index`` becomes in a loop of ``frames`` output frames.

    Returns:
        None for a head frame (kept aside), the frame itself in the middle, and in
        the tail the crossfade toward its head frame, (1, 3, H, W).
    """
    if index < length:
        save_head(run_dir, index, frame)
        return None
    if index < frames:
        return frame
    j = index - frames
    weight = crossfade_weight(j, length)
    return torch.lerp(frame, load_head(run_dir, j, frame.device), weight)
