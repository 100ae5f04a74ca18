"""``python -m render.tools.bench_video``: does flow-guided blending make a dreamed video stable?

On a generated clip with real motion (ffmpeg's ``mandelbrot`` or ``testsrc2`` seen
through a panning crop, with a sine tone), render the ``video_dream`` preset twice at
equal dream strength: with its default ``video.blend`` and with ``video.blend=0``
(every frame dreamed on its own). Print each video's temporal instability
(``render.tools.metrics``, flow of the source), the source's, the ratio blended /
independent (the target is <= 0.5), and how far each video is from the source
(the dream must stay visible).
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import tempfile
from pathlib import Path

import imageio_ffmpeg
import torch
from rich.console import Console

from render.cli import compose_preset
from render.media.video_source import iter_video_frames
from render.ops.stability import StabilityReport, measure_stability
from render.run import run

PATTERNS = {
    # Coloured fractal detail everywhere; the pattern also zooms slowly on its own.
    "mandelbrot": "mandelbrot=size={big}:rate={rate}",
    # Flat colour fields, moving elements and sharp edges.
    "testsrc2": "testsrc2=size={big}:rate={rate}",
}


def make_pan_clip(path: Path, pattern: str, width: int, height: int, seconds: float, rate: str = "30") -> Path:
    """An H.264 clip of ``pattern`` seen through a window panning right and down, with a 440 Hz tone (AAC).

    The pattern is drawn at 4x the clip's size, cropped at 2x and scaled down by area averaging:
    the pan moves in half-pixel steps and fine detail is antialiased, as a camera would see it
    (the raw patterns alias, so their fine detail would flicker in the source itself).
    """
    big = f"{4 * width}x{4 * height}"
    # About 3 px per frame to the right and 1.5 px down at 320x180 and 30 fps.
    pan = f"crop={2 * width}:{2 * height}:x='t*{0.6 * width:g}':y='t*{0.3 * height:g}'"
    source = f"{PATTERNS[pattern].format(big=big, rate=rate)},{pan},scale={width}:{height}:flags=area"
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", source]
    cmd += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}", "-c:a", "aac", "-shortest"]
    cmd += ["-t", str(seconds), "-c:v", "libx264", "-crf", "18", "-pix_fmt", "yuv420p", str(path)]
    subprocess.run(cmd, check=True)
    return path


def render_clip(clip: Path, run_dir: Path, overrides: list[str]) -> Path:
    """Render the ``video_dream`` preset over ``clip``; returns the video's path."""
    cfg = compose_preset("video_dream", [f"input={clip}", *overrides])
    meta = run(cfg, run_dir, Console(stderr=True))
    return run_dir / meta["media"]


def measure(video: Path, clip: Path) -> StabilityReport:
    cpu = torch.device("cpu")
    return measure_stability(iter_video_frames(video, device=cpu), iter_video_frames(clip, device=cpu))


def compare(folder: Path, pattern: str, width: int, height: int, seconds: float, overrides: list[str]) -> dict:
    """Render blended and independent videos over one clip in ``folder``; returns the figures."""
    clip = make_pan_clip(folder / f"{pattern}_pan.mp4", pattern, width, height, seconds)
    blended = measure(render_clip(clip, folder / "blended", overrides), clip)
    independent = measure(render_clip(clip, folder / "independent", [*overrides, "video.blend=0"]), clip)
    return {
        "clip": f"{pattern} pan {width}x{height}, {seconds} s, sine audio",
        "source_instability": round(blended.source_instability, 3),
        "blended_instability": round(blended.instability, 3),
        "independent_instability": round(independent.instability, 3),
        "ratio_blended_to_independent": round(blended.instability / independent.instability, 3),
        "blended_difference_from_source": round(blended.difference_from_source, 2),
        "independent_difference_from_source": round(independent.difference_from_source, 2),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m render.tools.bench_video", description=__doc__.split("\n\n")[0])
    parser.add_argument("--pattern", choices=list(PATTERNS), default="mandelbrot")
    parser.add_argument("--width", type=int, default=320)
    parser.add_argument("--height", type=int, default=180)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--keep", type=Path, help="folder to keep the clip and both renders in")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("overrides", nargs="*", help="config overrides for both renders, e.g. video.strength=0.8")
    args = parser.parse_args(argv)
    logging.getLogger("imageio_ffmpeg").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        figures = compare(folder, args.pattern, args.width, args.height, args.seconds, args.overrides)
    for key, value in figures.items():
        print(f"{key:36s} {value}")
    verdict = "ok" if figures["ratio_blended_to_independent"] <= 0.5 else "ABOVE the 0.5 target"
    print(f"{'blended / independent <= 0.5':36s} {verdict}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
