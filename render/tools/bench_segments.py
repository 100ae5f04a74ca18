"""``python -m render.tools.bench_segments``: a video dreamed sequentially vs in segments on parallel workers.

Builds a real-looking clip (a pan with a slow zoom over photos of a cat, an astronaut, a coffee
cup and a rocket from ``skimage.data``, with a sine track), renders it once sequentially and once
as ``--segments`` segments on ``--workers`` joblib workers (the CLI's multirun, joined by the sweep's
callback), then prints:

- the temporal instability (``render.ops.stability``, 8-bit levels) of each segment boundary frame
  of the joined video (the pair last-of-segment -> first-of-next) and the largest over its seam's
  dissolve, against the median and 95th percentile of the frames outside the seams of both videos —
  the target is no boundary above the sequential render's p95;
- wall times of both renders and the per-job overhead: model load and set-up (elapsed minus the
  frame loop), decoding up to the segment's start, and dreaming the dropped warm-up frames.

Needs ``scikit-image`` (the dev extra) for the photos and ``hydra-joblib-launcher`` (the cluster extra).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import cv2
import imageio_ffmpeg
import numpy as np
import torch

from render.media.video_source import iter_video_frames
from render.ops.flow import FlowSettings, frame_motion
from render.ops.stability import StabilityMeter

PHOTOS = ("chelsea", "astronaut", "coffee", "rocket")


def make_photo_pan_clip(path: Path, width: int, height: int, seconds: float, fps: int) -> Path:
    """An H.264 clip panning right over a strip of photos while zooming in 15 %, with a 330 Hz tone (AAC)."""
    from skimage import data

    strip_height = 4 * height
    photos = [getattr(data, name)() for name in PHOTOS]
    strip = np.concatenate([cv2.resize(p, (round(p.shape[1] * strip_height / p.shape[0]), strip_height),
                                       interpolation=cv2.INTER_AREA) for p in photos], axis=1)
    silent = path.with_name(path.stem + ".silent.mp4")
    writer = imageio_ffmpeg.write_frames(str(silent), (width, height), fps=fps, quality=None, macro_block_size=1,
                                         output_params=["-crf", "16"])
    writer.send(None)
    frames = round(seconds * fps)
    for i in range(frames):
        t = i / (frames - 1)
        scale = strip_height / height * (1 - 0.15 * t)  # strip pixels per clip pixel
        x, y = (strip.shape[1] - width * scale) * t, (strip_height - height * scale) / 2
        to_clip = np.float32([[1 / scale, 0, -x / scale], [0, 1 / scale, -y / scale]])
        writer.send(np.ascontiguousarray(cv2.warpAffine(strip, to_clip, (width, height), flags=cv2.INTER_AREA)))
    writer.close()
    tone = ["-f", "lavfi", "-i", f"sine=frequency=330:duration={seconds}"]
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-i", str(silent), *tone,
                    "-c:v", "copy", "-c:a", "aac", "-shortest", str(path)], check=True)
    silent.unlink()
    return path


def per_frame_instability(video: Path, source: Path) -> list[float]:
    """Instability of each frame against the one before, along the source's flow (frame 0: NaN)."""
    values, previous, previous_guide = [float("nan")], None, None
    settings, cpu = FlowSettings(), torch.device("cpu")
    for frame, guide in zip(iter_video_frames(video, device=cpu), iter_video_frames(source, device=cpu)):
        if previous is not None:
            meter = StabilityMeter()
            meter.add(previous, frame, frame_motion(previous_guide, guide, settings))
            values.append(meter.value)
        previous, previous_guide = frame, guide
    return values


def render_cli(args: list[str]) -> float:
    """Run ``python -m render ARGS``; returns its wall time in seconds."""
    started = time.perf_counter()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [os.getcwd(), os.environ.get("PYTHONPATH")]))}
    subprocess.run([sys.executable, "-m", "render", *args], check=True, env=env, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def decode_seconds(clip: Path, start: int) -> float:
    """Seconds until the frame ``start`` of ``clip`` comes out of the decoder (a segment's seek cost)."""
    started = time.perf_counter()
    frames = iter_video_frames(clip, start=start, device=torch.device("cpu"))
    next(frames)
    frames.close()
    return time.perf_counter() - started


def boundary_table(sequential: list[float], joined: list[float], seams: list[tuple[int, int, int]]) -> dict:
    """Each seam's instability next to the median and p95 of the frames outside the seams, for each render.

    A seam ``(start, first, stop)`` is the part the join encodes: the dissolve's frames
    ``start..first-1``, the boundary ``first`` (the next segment's first frame), and that segment's
    frames up to ``stop``, where its stream copy resumes (``start == first == stop`` for a hard cut).
    """
    in_seams = {i for start, _, stop in seams for i in range(start, stop + 1)}

    def stats(values: list[float]) -> dict:
        rest = np.array([v for i, v in enumerate(values) if i and i not in in_seams and v == v])
        return {"median": float(np.median(rest)), "p95": float(np.percentile(rest, 95))}

    rows = [{"frame": first, "sequential": sequential[first], "segmented": joined[first],
             "segmented_seam_max": max(joined[start : stop + 1]), "seam_frames": [start, stop]}
            for start, first, stop in seams]
    return {"boundaries": rows, "sequential": stats(sequential), "segmented": stats(joined)}


def seam_windows(segments: list[dict]) -> list[tuple[int, int, int]]:
    """(start, first, stop) of each seam from the joined meta.json's segments (see ``boundary_table``)."""
    windows = []
    for segment in segments[1:]:
        start, stop = segment.get("incoming_seam") or (segment["first"], segment["first"])
        windows.append((start, segment["first"], stop))
    return windows


def segment_overheads(sweep: Path, clip: Path) -> list[dict]:
    """Per segment: set-up seconds (model load etc.), decoding to its start, and its warm-up's dream seconds."""
    meta = json.loads((sweep / "meta.json").read_text())
    rows = []
    for segment in meta["segments"]:
        dream_rate = (segment["frames"] + segment["warmup_frames"]) / segment["loop_seconds"]
        rows.append({"index": segment["index"], "frames": segment["frames"], "warmup_frames": segment["warmup_frames"],
                     "elapsed_s": segment["elapsed_seconds"],
                     "setup_s": round(segment["elapsed_seconds"] - segment["loop_seconds"], 2),
                     "decode_to_start_s": round(decode_seconds(clip, segment["start"]), 2),
                     "warmup_dream_s": round(segment["warmup_frames"] / dream_rate, 2)})
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m render.tools.bench_segments", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("outputs/bench_segments"))
    parser.add_argument("--size", default="192x108")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--fps", type=int, default=24)
    parser.add_argument("--segments", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    parser.add_argument("overrides", nargs="*", help="render settings for both renders, e.g. dream.iterations=3")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    width, height = map(int, args.size.split("x"))
    clip = make_photo_pan_clip(args.out / "photo_pan.mp4", width, height, args.seconds, args.fps)
    common = ["--config-name", "video_dream", f"input={clip}", *args.overrides]
    sequential_s = render_cli([*common, f"hydra.run.dir={args.out / 'sequential'}"])
    segmented_s = render_cli(["-m", *common, f"segment.count={args.segments}", f"segment.index=range({args.segments})",
                              "hydra/launcher=joblib", f"hydra.launcher.n_jobs={args.workers}",
                              f"hydra.sweep.dir={args.out / 'segmented'}"])
    meta = json.loads((args.out / "segmented" / "meta.json").read_text())
    seams = seam_windows(meta["segments"])
    table = boundary_table(per_frame_instability(args.out / "sequential" / "video_dream.mp4", clip),
                           per_frame_instability(args.out / "segmented" / "video_dream.mp4", clip), seams)
    report = {"clip": str(clip), "size": args.size, "frames": meta["frames"], "overrides": args.overrides,
              "sequential_s": round(sequential_s, 1), "segmented_s": round(segmented_s, 1),
              "workers": args.workers, "segments": segment_overheads(args.out / "segmented", clip), **table}
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
