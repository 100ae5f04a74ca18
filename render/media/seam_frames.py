"""Frames kept losslessly in a run folder, by frame index, for a later join to blend.

A segmented video dream saves the frames its seams are made of (render/segments/plan.py),
and a looping zoom its head frames (render/modes/loop.py), as 8-bit PNGs in
``RUN_DIR/seam/frame_NNNNNN.png``, numbered by frame index. PNG keeps them exact, so a
dissolve made from them is compressed once, like every other frame of the video; the
folder is outside ``chunks/``, so a resumed render still finds them. Their paths come from
the run folder's contract (render/media/run_folder.py).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import torch

from render.media.images import save_png
from render.media.run_folder import seam_folder, seam_frame_path


def save_seam_frame(run_dir: Path, index: int, frame: torch.Tensor) -> None:
    """Save frame ``index`` ((1, 3, H, W) float [0, 1], any device) as the sink would encode it, losslessly."""
    path = seam_frame_path(run_dir, index)
    path.parent.mkdir(exist_ok=True)
    save_png(frame, path)


def load_seam_frame(run_dir: Path, index: int) -> np.ndarray:
    """Frame ``index`` saved by ``save_seam_frame``, as (H, W, 3) uint8."""
    return iio.imread(seam_frame_path(run_dir, index))


def drop_seam_frames(run_dir: Path) -> None:
    """Delete the kept frames once nothing will blend them any more."""
    shutil.rmtree(seam_folder(run_dir), ignore_errors=True)


def missing_seam_frames(run_dir: Path, indices: range) -> list[int]:
    """Which of ``indices`` have no saved frame in ``run_dir``."""
    return [index for index in indices if not seam_frame_path(run_dir, index).is_file()]
