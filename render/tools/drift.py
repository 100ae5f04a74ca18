"""``python -m render.tools.drift RUN [--window 500] [--plot drift.png]``: does a long zoom keep its character?

Measures every frame of a finished render (its lossless PNG frames when it has them, else its video)
and averages the measures over windows of ``--window`` frames:

- lightness: CIELAB L* mean (0-100); lightness spread: its standard deviation;
- colour spread: sqrt(var a* + var b*); colour cast: how far the mean (a*, b*) moved from the first
  window's, as a share of the first window's colour spread (a palette turning purple shows here);
- saturation: HSV saturation mean (0-1);
- detail: mean absolute Laplacian of L* (blur lowers it, noise raises it);
- clipped: share of pixels with a channel at 0 or 255 (burn-out).

A window holds when each relative measure is within ``TOLERANCE`` (15 %) of the first window's, the colour
cast is at most ``TOLERANCE``, and no more pixels are clipped than in the first window (give or take
``CLIP_SLACK``, 0.1 % of the pixels: at 64x36 one stray pixel in a few frames is not burn-out).
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Iterable, Iterator
from pathlib import Path

import imageio.v3 as iio
import kornia
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw

from render.media.run_folder import FRAMES_DIR
from render.media.video_source import iter_video_frames

TOLERANCE = 0.15
CLIP_SLACK = 0.001  # clipped share above the first window's that counts as burn-out: a few stray pixels don't
MEASURES = ("lightness", "lightness_spread", "colour_spread", "colour_cast", "saturation", "detail", "clipped")
RELATIVE = ("lightness", "lightness_spread", "colour_spread", "saturation", "detail")  # judged against window 0
LAPLACIAN = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]]).view(1, 1, 3, 3)
CPU = torch.device("cpu")


def frame_measures(frame: torch.Tensor) -> dict[str, float]:
    """The measures of one frame (1, 3, H, W) RGB in [0, 1]; ``colour_cast`` is (a*, b*) mean, judged later."""
    lab = kornia.color.rgb_to_lab(frame)
    lightness, colour = lab[:, :1], lab[:, 1:]
    brightest, darkest = frame.amax(1), frame.amin(1)
    saturation = torch.where(brightest > 0, (brightest - darkest) / brightest.clamp_min(1e-6), 0.0)
    laplacian = F.conv2d(lightness, LAPLACIAN.to(frame))
    level = (frame * 255).round()
    return {
        "lightness": lightness.mean().item(),
        "lightness_spread": lightness.std().item(),
        "colour_spread": colour.var((2, 3)).sum().sqrt().item(),
        "a": colour[:, 0].mean().item(),
        "b": colour[:, 1].mean().item(),
        "saturation": saturation.mean().item(),
        "detail": laplacian.abs().mean().item(),
        "clipped": ((level <= 0) | (level >= 255)).any(1).float().mean().item(),
    }


def run_frames(path: Path) -> Iterator[torch.Tensor]:
    """(1, 3, H, W) frames of a run folder (its PNG frames, else its video), a PNG folder or a video file."""
    folder = path / FRAMES_DIR if (path / FRAMES_DIR).is_dir() else path
    if folder.is_dir():
        pngs = sorted(folder.glob("*.png"))
        if pngs:
            for png in pngs:
                pixels = np.ascontiguousarray(iio.imread(png)[..., :3])
                yield torch.from_numpy(pixels).permute(2, 0, 1)[None].float() / 255
            return
        videos = sorted(folder.glob("*.mp4"))
        if not videos:
            raise SystemExit(f"{path} holds no PNG frames and no .mp4 to measure.")
        path = videos[0]
    yield from iter_video_frames(path, device=CPU)


def windows(per_frame: list[dict[str, float]], size: int) -> list[dict[str, float]]:
    """The mean of each measure over consecutive windows of ``size`` frames (a last, shorter one included),
    with ``colour_cast`` against the first window and ``first``/``last`` frame numbers."""
    rows = []
    for start in range(0, len(per_frame), size):
        chunk = per_frame[start : start + size]
        row = {key: sum(m[key] for m in chunk) / len(chunk) for key in chunk[0]}
        rows.append({"first": start, "last": start + len(chunk) - 1, **row})
    for row in rows:
        shift = math.hypot(row["a"] - rows[0]["a"], row["b"] - rows[0]["b"])
        row["colour_cast"] = shift / max(rows[0]["colour_spread"], 1e-6)
    return rows


def judged(rows: list[dict[str, float]]) -> list[dict[str, float | bool]]:
    """Each window's change from the first (relative for ``RELATIVE``) and whether it holds."""
    first = rows[0]
    verdicts = []
    for row in rows:
        change = {key: row[key] / max(first[key], 1e-9) - 1.0 for key in RELATIVE}
        holds = all(abs(v) <= TOLERANCE for v in change.values())
        holds = holds and row["colour_cast"] <= TOLERANCE and row["clipped"] <= first["clipped"] + CLIP_SLACK
        verdicts.append({**{f"{key}_change": v for key, v in change.items()}, "holds": holds})
    return verdicts


def table_lines(rows: list[dict], verdicts: list[dict]) -> list[str]:
    """The window table as text: each measure, and its change from the first window in brackets."""
    head = (f"{'frames':>11} {'L*':>13} {'L* spread':>13} {'colour spr.':>13} {'cast':>6} {'saturation':>14} "
            f"{'detail':>13} {'clipped':>8} holds")
    lines = [head]
    for row, verdict in zip(rows, verdicts, strict=True):
        def cell(key: str, digits: int, width: int = 13, row: dict = row, verdict: dict = verdict) -> str:
            return f"{row[key]:.{digits}f} ({100 * verdict[key + '_change']:+.0f}%)".rjust(width)

        lines.append(f"{row['first']:>5}-{row['last']:<5} {cell('lightness', 1)} {cell('lightness_spread', 1)} "
                     f"{cell('colour_spread', 1)} {row['colour_cast']:>6.2f} {cell('saturation', 3, 14)} "
                     f"{cell('detail', 2)} {100 * row['clipped']:>7.3f}% {'yes' if verdict['holds'] else 'NO'}")
    return lines


def plot(per_frame: list[dict[str, float]], rows: list[dict], out: Path, title: str = "") -> Path:
    """A PNG of each measure over the frames: per frame (grey), per window (black), the first window's
    +-15 % band (green)."""
    keys = [k for k in MEASURES if k != "colour_cast"]
    panel_h, width, left, top = 110, 960, 120, 24
    image = Image.new("RGB", (width, top + panel_h * len(keys)), "white")
    draw = ImageDraw.Draw(image)
    draw.text((left, 4), title, fill="black")
    frames = max(len(per_frame) - 1, 1)
    for n, key in enumerate(keys):
        y0 = top + n * panel_h
        values = [m[key] for m in per_frame]
        base = rows[0][key]
        low = min(min(values), base * (1 - TOLERANCE))
        high = max(max(values), base * (1 + TOLERANCE), low + 1e-6)

        def xy(frame: float, value: float, y0: int = y0, low: float = low, high: float = high) -> tuple[float, float]:
            return (left + (width - left - 10) * frame / frames,
                    y0 + panel_h - 12 - (panel_h - 24) * (value - low) / (high - low))

        band = [xy(0, base * (1 + TOLERANCE)), xy(frames, base * (1 - TOLERANCE))]
        draw.rectangle((band[0][0], band[0][1], band[1][0], band[1][1]), fill=(220, 245, 220))
        draw.line([xy(i, v) for i, v in enumerate(values)], fill=(170, 170, 170))
        for row in rows:
            draw.line([xy(row["first"], row[key]), xy(row["last"], row[key])], fill="black", width=3)
        draw.text((6, y0 + panel_h // 2 - 12), f"{key}\n{low:.3g}..{high:.3g}", fill="black")
        draw.line([(left, y0 + panel_h - 1), (width, y0 + panel_h - 1)], fill=(200, 200, 200))
    image.save(out)
    return out


def measure(frames: Iterable[torch.Tensor]) -> list[dict[str, float]]:
    """``frame_measures`` of every frame, in order."""
    return [frame_measures(frame) for frame in frames]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m render.tools.drift", description=__doc__.split("\n\n")[0])
    parser.add_argument("run", type=Path, help="a run folder, a folder of PNG frames or a video")
    parser.add_argument("--window", type=int, default=500, help="frames per window (default 500)")
    parser.add_argument("--plot", type=Path, help="write the plot (PNG) here")
    parser.add_argument("--json", type=Path, help="write the per-frame measures and the windows here")
    args = parser.parse_args(argv)
    per_frame = measure(run_frames(args.run))
    if not per_frame:
        raise SystemExit(f"{args.run} has no frames.")
    rows = windows(per_frame, args.window)
    verdicts = judged(rows)
    print(f"{args.run}: {len(per_frame)} frames in windows of {args.window}")
    print("\n".join(table_lines(rows, verdicts)))
    if args.plot:
        plot(per_frame, rows, args.plot, f"{args.run} ({len(per_frame)} frames, windows of {args.window})")
    if args.json:
        args.json.write_text(json.dumps({"frames": per_frame, "windows": rows, "verdicts": verdicts}, indent=1))


if __name__ == "__main__":
    main()
