"""``python -m render.tools.bench_coherence``: does the video dream hold to the motion, short and long term?

Three clips made from photos with known motion (``render.tools.bench_masks.SquareClip``: a photo inset
over a photo background panning left): a plain pan (the inset rides with the background), an occluder
(the inset moving against the pan, covering and revealing the background) and an inset moving across
the pan. Each is dreamed with the ``video_dream`` preset (lossless PNG frames) and with
``video.blend=0`` (every frame dreamed on its own, the same dream strength per frame).

The figures (``render.ops.coherence``, measured with the clip's known flow): the *excess* warping
error of each render (its error minus the source's) at distance 1 (short-term), 5 and 10 frames, as
a share of the independent frames' excess, and the dream's strength (mean change from the source)
as a share of the independent frames'. The aim: short-term at most 0.25 on the pan, strength at
least 0.9.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np
import torch

from render.media.video_source import iter_video_frames
from render.ops.coherence import warping_errors
from render.tools.bench_masks import SquareClip, rendered_frames, write_square_clip

CPU = torch.device("cpu")
DISTANCES = (1, 5, 10)
VARIANTS = {"independent": ["video.blend=0"], "dreamed": []}


def coherence_clips(width: int = 160, height: int = 96, frames: int = 32) -> dict[str, SquareClip]:
    """The three clips at ``width`` x ``height``: a 1.5 px/frame pan left, a photo inset a third of the height."""
    side = height // 3 // 4 * 4
    pan = 1.5
    return {
        "pan": SquareClip(width, height, frames, side, (width / 2 - side / 2, height / 3), (-pan, 0.0), pan),
        "occluder": SquareClip(width, height, frames, side, (8.0, height / 4), (2.0, 0.5), pan),
        "across": SquareClip(width, height, frames, side, (width / 2, 4.0),
                             (0.5, quarter((height - side - 8) / frames)), pan),
    }


def quarter(pixels: float) -> float:
    """``pixels`` rounded to the clip's quarter-pixel grid, so that its motion is known exactly."""
    return round(pixels * 4) / 4


def known_flow(clip: SquareClip, t: int, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The clip's true (backward t -> t-k, forward t-k -> t) flows, each (1, 2, H, W) in pixels."""
    background = torch.tensor([clip.pan * k, 0.0]).view(1, 2, 1, 1)
    inset = torch.tensor(clip.velocity).view(1, 2, 1, 1) * k
    backward = torch.where(clip.true_mask(t) > 0, -inset, background)
    forward = torch.where(clip.true_mask(t - k) > 0, inset, -background)
    return backward, forward


def as_tensors(frames: list[np.ndarray]) -> list[torch.Tensor]:
    """(H, W, 3) uint8 frames as (1, 3, H, W) float in [0, 1]."""
    return [torch.from_numpy(f).permute(2, 0, 1)[None].float() / 255 for f in frames]


def strength(frames: list[torch.Tensor], source: list[torch.Tensor]) -> float:
    """Mean absolute change from the source in 8-bit levels: how visible the dream is."""
    return 255 * float(np.mean([(f - s).abs().mean().item() for f, s in zip(frames, source)]))


def measure_clip(clip: SquareClip, folder: Path, overrides: list[str]) -> dict:
    """Dream ``clip`` independently and with the preset in ``folder``; the excess errors and strengths."""
    video, _ = write_square_clip(clip, folder)
    source = list(iter_video_frames(video, device=CPU))
    base = [f"input={video}", *overrides]
    renders = {name: as_tensors(rendered_frames("video_dream", [*base, *extra], folder / name))
               for name, extra in VARIANTS.items()}
    source_error, *errors = warping_errors([source, *renders.values()], lambda t, k: known_flow(clip, t, k), DISTANCES)
    figures = {"source_error": source_error}
    for name, error in zip(renders, errors):
        figures[name] = {"excess": {k: error[k] - source_error[k] for k in DISTANCES},
                         "strength": strength(renders[name], source)}
    independent = figures["independent"]
    figures["ratio"] = {k: figures["dreamed"]["excess"][k] / independent["excess"][k] for k in DISTANCES}
    figures["strength_ratio"] = figures["dreamed"]["strength"] / independent["strength"]
    return figures


def table_lines(results: dict[str, dict]) -> list[str]:
    """One line per clip: excess error ratios (dreamed / independent) at 1, 5, 10 frames, strength ratio."""
    lines = [f"{'clip':>10} {'short-term':>11} {'t-5':>7} {'t-10':>7} {'strength':>9}   "
             f"(excess warping error and strength, dreamed / independent frames)"]
    for name, figures in results.items():
        ratio = figures["ratio"]
        lines.append(f"{name:>10} {ratio[1]:>11.3f} {ratio[5]:>7.3f} {ratio[10]:>7.3f} "
                     f"{figures['strength_ratio']:>9.3f}")
    return lines


def compare(folder: Path, width: int, height: int, frames: int, overrides: list[str],
            names: list[str] | None = None) -> dict[str, dict]:
    """``measure_clip`` on each of ``coherence_clips`` (or those in ``names``), in sub-folders of ``folder``."""
    clips = coherence_clips(width, height, frames)
    results = {}
    for name in names or list(clips):
        (folder / name).mkdir(parents=True, exist_ok=True)
        results[name] = measure_clip(clips[name], folder / name, overrides)
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m render.tools.bench_coherence",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--width", type=int, default=160)
    parser.add_argument("--height", type=int, default=96)
    parser.add_argument("--frames", type=int, default=32)
    parser.add_argument("--clips", nargs="+", choices=("pan", "occluder", "across"), help="default: all three")
    parser.add_argument("--keep", type=Path, help="folder to keep the clips and renders in")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("overrides", nargs="*", help="config overrides for both renders, e.g. video.blend=0.9")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or Path(scratch)
        results = compare(folder, args.width, args.height, args.frames, args.overrides, args.clips)
    print("\n".join(table_lines(results)))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
