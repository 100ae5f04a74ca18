"""``make bench`` section ``cadence``: frames/s of a zoom at dream cadence 1, 2, 4, 8 beside its temporal instability.

Each cadence renders the same ``zoom_places`` zoom (its offline fallback model) through ``run``;
the figures are measured in one run, so their ratios hold for the machine. The temporal
instability is the mean absolute step between consecutive frames after undoing the camera
motion: frame ``i - 1`` is moved by the schedule's own warp of frame ``i`` and compared with
frame ``i`` (8-bit levels, a border band left out where the warp reflects the edge). A
steady zoom scores low; a dream that boils from frame to frame scores high.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from pathlib import Path

import torch
from omegaconf import OmegaConf
from rich.console import Console
from rich.table import Table

from render.cli import compose_preset
from render.ops.camera import Camera, warp
from render.ops.cameras import camera_for
from render.timeline import Timeline

BORDER = 0.08  # share of each side left out of the step (the warp fills it by reflection when zooming out)


def camera_step(frames: Iterable[torch.Tensor], camera: Camera, timeline: Timeline,
                border: str = "reflection") -> float:
    """Mean absolute step between consecutive frames after undoing the camera motion, in 8-bit levels.

    Args:
        frames: (1, 3, H, W) float frames in [0, 1], frame 0 first.
        camera: the render's camera (frame ``i`` is frame ``i - 1`` moved by its move at ``timeline.at(i)``).

    Returns:
        The mean over all consecutive pairs; NaN for fewer than two frames.
    """
    total, pairs, previous = 0.0, 0, None
    for index, frame in enumerate(frames):
        if previous is not None:
            height, width = frame.shape[-2:]
            moved = warp(previous, camera.move(timeline.at(index), height, width, previous.device), border)
            dy, dx = int(height * BORDER), int(width * BORDER)
            step = (frame - moved)[..., dy:height - dy, dx:width - dx].abs().mean().item()
            total, pairs = total + 255.0 * step, pairs + 1
        previous = frame
    return total / pairs if pairs else float("nan")


def render_at_cadence(cadence: int, width: int, height: int, frames: int, folder: Path) -> dict:
    """One ``zoom_places`` render at ``dream.cadence=cadence``; its frames/s and temporal instability."""
    from render.media.video_source import iter_video_frames
    from render.run import run

    cfg = compose_preset("zoom_places", [f"frames={frames}", f"width={width}", f"height={height}",
                                         "model=efficientnet_lite0", "dream.layer=block10", f"dream.cadence={cadence}",
                                         "output.crf=0", "output.preset=ultrafast", "output.poster=false"])
    cfg = OmegaConf.create(OmegaConf.to_container(cfg, enum_to_str=True))
    meta = run(cfg, folder / f"cadence_{cadence}", Console(quiet=True))
    camera, timeline = camera_for(cfg.motion, cfg.fps), Timeline(cfg, frames)
    video = folder / f"cadence_{cadence}" / meta["media"]
    instability = camera_step(iter_video_frames(video, device=torch.device("cpu")), camera, timeline,
                              cfg.motion.border)
    return {"cadence": cadence, "frames": frames, "frames_per_second": meta["frames_per_second"],
            "instability": instability}


def compare_cadences(width: int, height: int, frames: int, cadences: tuple[int, ...] = (1, 2, 4, 8)) -> list[dict]:
    """``render_at_cadence`` for each cadence, in one run, with the speed-up over the first."""
    with tempfile.TemporaryDirectory() as folder:
        rows = [render_at_cadence(cadence, width, height, frames, Path(folder)) for cadence in cadences]
    for row in rows:
        row["speedup"] = row["frames_per_second"] / rows[0]["frames_per_second"]
    return rows


def print_cadences(console: Console, rows: list[dict], width: int, height: int) -> None:
    table = Table(title=f"Dream cadence: zoom_places (efficientnet_lite0) at {width}x{height}, {rows[0]['frames']} "
                        f"frames")
    for column in ("cadence", "frames/s", "speed-up", "temporal instability (8-bit levels)"):
        table.add_column(column, justify="right")
    for row in rows:
        table.add_row(str(row["cadence"]), f"{row['frames_per_second']:.2f}", f"{row['speedup']:.2f}x",
                      f"{row['instability']:.2f}")
    console.print(table)
