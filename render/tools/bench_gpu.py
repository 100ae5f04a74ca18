"""``make bench-gpu``: zoom frames/s on a GPU with each speed option off and on, in one run (< 5 min).

For googlenet (to inception4c) and googlenet_places365 (to inception_4c/output),
random weights (speed doesn't depend on values), at 1280x720 and 1920x1080, one
frame = warp + 5 dream iterations + colour match + uint8 conversion, all on the
device. Timed with CUDA events after warm-up, median of repeats. For each
setting: frames/s, achieved TFLOP/s of the dream steps, its ratio to a bf16
matmul measured in the same run, and the relative L2 error of the frame
against the float32 baseline from the same input and seed.

Then the video dream's frames/s with batches of 1, 4 and 8 independent frames at
1280x720 (bf16, channels_last).

Last, the presets as users run them, with their defaults (``speed.precision=auto``,
``dream.tile_size=auto``) at 1280x720 and 1920x1080: a ``zoom_places`` frame (warp,
dream, colour match; GoogLeNet-Places365 with random weights from a file) and the
``video_dream`` frames/s over a generated panning clip (decode, optical flow, dream,
blend, encode), beside the stripped loop above, so that the two can't drift apart.

``--device cpu --quick`` runs the same code on tiny sizes (what the tests do).
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import torch
from rich.console import Console
from rich.table import Table
from torch.utils.flop_counter import FlopCounterMode

from dream.models.base import TapNet, freeze
from dream.models.fold import fold_batchnorm
from dream.models.registry import get_entry
from dream.objectives import layer_l2
from dream.octaves import DreamParams, deepdream
from dream.speed import SpeedOptions, apply_speed_options
from render.media.encoder import to_uint8_hwc
from render.ops.color import channel_stats, match_colors
from render.ops.warp import Motion, warp

MODELS = (("googlenet", "inception4c"), ("googlenet_places365", "inception_4c/output"))
SETTINGS = {
    "float32 baseline": SpeedOptions(precision="float32", channels_last=False, cudnn_benchmark=False),
    "+ channels_last": SpeedOptions(precision="float32", channels_last=True, cudnn_benchmark=False),
    "+ cudnn benchmark": SpeedOptions(precision="float32", channels_last=True, cudnn_benchmark=True),
    "+ bf16 autocast": SpeedOptions(precision="bfloat16", channels_last=True, cudnn_benchmark=True),
    "+ compile (CUDA graphs)": SpeedOptions(precision="bfloat16", channels_last=True, cudnn_benchmark=True,
                                            compile="reduce-overhead"),
}
ITERATIONS = 5


@dataclass
class Case:
    model: str
    layer: str
    width: int
    height: int


class Timer:
    """Wall-clock seconds of a callable: CUDA events on a GPU, perf_counter on a CPU."""

    def __init__(self, device: torch.device):
        self.device = device

    def __call__(self, fn) -> float:
        if self.device.type != "cuda":
            start = time.perf_counter()
            fn()
            return time.perf_counter() - start
        begin, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        begin.record()
        fn()
        end.record()
        end.synchronize()
        return begin.elapsed_time(end) / 1000.0


def bf16_matmul_tflops(device: torch.device, size: int, timer: Timer) -> float:
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    a = torch.randn(size, size, device=device, dtype=dtype)
    b = torch.randn(size, size, device=device, dtype=dtype)
    for _ in range(3):
        a @ b
    seconds = statistics.median(timer(lambda: a @ b) for _ in range(10))
    return 2 * size**3 / seconds / 1e12


def fresh_net(name: str, device: torch.device, options: SpeedOptions) -> TapNet:
    torch.manual_seed(0)  # the same random weights for every setting, so outputs compare
    net = freeze(get_entry(name).build())
    fold_batchnorm(net.body)
    return apply_speed_options(net.to(device), options, device)


def zoom_frame(net: TapNet, frame: torch.Tensor, layer: str, reference, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """One zoom frame on the device: warp, dream, colour match, uint8. Returns (float frame, uint8 frame)."""
    moved = warp(frame, Motion(zoom=1.04, angle=0.3))
    params = DreamParams(octaves=1, iterations=ITERATIONS, tile_size=0)
    dreamed = deepdream(net, moved, layer_l2(layer), params, torch.Generator().manual_seed(seed))
    matched = match_colors(dreamed, reference)
    return matched, to_uint8_hwc(matched)


def dream_tflop(net: TapNet, frame: torch.Tensor, layer: str) -> float:
    """TFLOP of the 5 dream iterations of one frame (forward to the layer + backward to the image)."""
    x = frame.clone().requires_grad_(True)
    objective = layer_l2(layer)
    with FlopCounterMode(display=False) as counter:
        objective(net(x, objective.taps)).sum().backward()
    return ITERATIONS * counter.get_total_flops() / 1e12


def measure(case: Case, options: SpeedOptions, device: torch.device, repeats: int, timer: Timer) -> dict:
    net = fresh_net(case.model, device, options)
    start = torch.rand(1, 3, case.height, case.width, generator=torch.Generator().manual_seed(0)).to(device)
    reference = channel_stats(start, "lab")
    for _ in range(3):  # warm-up: cuDNN autotuning, compilation, graph capture
        zoom_frame(net, start, case.layer, reference, seed=1)
    seconds = statistics.median(
        timer(lambda: zoom_frame(net, start, case.layer, reference, seed=1)) for _ in range(repeats)
    )
    output, _ = zoom_frame(net, start, case.layer, reference, seed=1)
    return {"seconds": seconds, "output": output.float()}


def run_case(case: Case, device: torch.device, repeats: int, timer: Timer, deadline: float, matmul: float) -> list:
    rows, baseline = [], None
    flops = dream_tflop(fresh_net(case.model, device, SETTINGS["float32 baseline"]),
                        torch.rand(1, 3, case.height, case.width, device=device), case.layer)
    for label, options in SETTINGS.items():
        if time.monotonic() > deadline:
            rows.append((case, label, None, "skipped: time budget"))
            continue
        if options.compile != "none" and device.type != "cuda":
            rows.append((case, label, None, "skipped: CUDA graphs need a GPU"))
            continue
        try:
            result = measure(case, options, device, repeats, timer)
        except Exception as exc:  # one failing option must not hide the others' numbers
            rows.append((case, label, None, f"failed: {type(exc).__name__}: {str(exc)[:80]}"))
            continue
        baseline = baseline if baseline is not None else result["output"]
        error = float((result["output"] - baseline).norm() / baseline.norm())
        tflops = flops / result["seconds"]
        rows.append((case, label, {"fps": 1 / result["seconds"], "tflops": tflops, "ratio": tflops / matmul,
                                   "error": error}, ""))
    return rows


def video_batch_rows(case: Case, batches: tuple[int, ...], options: SpeedOptions, device: torch.device,
                     repeats: int, timer: Timer) -> list[dict]:
    """Frames/s of the video dream (the ``video`` dream group: 3 octaves x 5 steps) per batch of frames.

    Frames whose dreams don't depend on each other (``video.blend`` 0, or chunks that
    start at scene cuts) are dreamed as one batch; batch 1 is the baseline.
    """
    net = fresh_net(case.model, device, options)
    params = DreamParams(octaves=3, octave_scale=1.4, iterations=5, step_size=3.0, tile_size=0)
    rows = []
    for batch in batches:
        frames = torch.rand(batch, 3, case.height, case.width, generator=torch.Generator().manual_seed(0)).to(device)

        def dream_batch(frames=frames):
            return deepdream(net, frames, layer_l2(case.layer), params, torch.Generator().manual_seed(1))

        dream_batch()  # warm-up: cuDNN autotuning for this batch's shapes
        seconds = statistics.median(timer(dream_batch) for _ in range(repeats))
        rows.append({"batch": batch, "fps": batch / seconds})
    for row in rows:
        row["speedup"] = row["fps"] / rows[0]["fps"]
    return rows


def print_video_batches(console: Console, case: Case, rows: list[dict], device_name: str) -> None:
    table = Table(title=f"Video dream frames/s by batch on {device_name} ({case.model}, {case.width}x{case.height}, "
                        "3 octaves x 5 steps)")
    for column in ("batch", "frames/s", "vs batch 1"):
        table.add_column(column, justify="right")
    for row in rows:
        table.add_row(str(row["batch"]), f"{row['fps']:.2f}", f"{row['speedup']:.2f}x")
    console.print(table)


def zoom_preset_row(device: torch.device, width: int, height: int, repeats: int, weights: Path) -> dict:
    """Seconds per ``zoom_places`` frame (frame 1 on) with the preset's defaults on ``device``."""
    from render.tools.bench_defaults import frame_timer, in_turns

    one_frame, engine = frame_timer([f"model.weights={weights}", f"device={device}"], width, height)
    seconds = in_turns({"zoom": one_frame}, repeats)["zoom"]
    return {"preset": "zoom_places", "size": f"{width}x{height}", "fps": 1 / seconds, **engine.speed_record()}


def video_preset_row(device: torch.device, width: int, height: int, frames: int, folder: Path) -> dict:
    """``video_dream`` frames/s (meta.json's loop figure) over a generated clip, with the preset's defaults."""
    from render.cli import compose_preset
    from render.run import run
    from render.tools.bench_video import make_pan_clip

    clip = make_pan_clip(folder / f"pan-{width}x{height}.mp4", "mandelbrot", width, height, frames / 30 + 0.5)
    cfg = compose_preset("video_dream", [f"input={clip}", f"device={device}", f"frames={frames}"])
    meta = run(cfg, folder / f"video-{width}x{height}", Console(quiet=True))
    keys = ("precision", "precision_requested", "tile_size", "tile_size_requested", "speed_reasons")
    return {"preset": "video_dream", "size": f"{width}x{height}", "fps": meta["frames_per_second"],
            **{key: meta[key] for key in keys}}


def preset_cases(device: torch.device, sizes: list[tuple[int, int]], repeats: int, frames: int) -> list[dict]:
    """The presets as users run them, per size; a failure is a row, not the end of the bench."""
    import tempfile

    from render.tools.bench_defaults import random_weights_file

    rows = []
    with tempfile.TemporaryDirectory() as folder:
        weights = random_weights_file("googlenet_places365", Path(folder))
        for width, height in sizes:
            measures = {"zoom_places": partial(zoom_preset_row, device, width, height, repeats, weights),
                        "video_dream": partial(video_preset_row, device, width, height, frames, Path(folder))}
            for label, measure in measures.items():
                try:
                    rows.append(measure())
                except Exception as exc:  # one failing preset must not hide the others' numbers
                    rows.append({"preset": label, "size": f"{width}x{height}", "failed": f"{type(exc).__name__}: "
                                 f"{str(exc)[:80]}"})
    return rows


def print_presets(console: Console, rows: list[dict], device_name: str) -> None:
    table = Table(title=f"Presets as users run them on {device_name} (defaults: speed.precision=auto, "
                        "dream.tile_size=auto)")
    for column in ("preset", "size", "frames/s", "precision", "tiles", "why"):
        table.add_column(column)
    for r in rows:
        if "failed" in r:
            table.add_row(r["preset"], r["size"], f"failed: {r['failed']}", "", "", "")
            continue
        tiles = "untiled" if r["tile_size"] == 0 else f"tiles of {r['tile_size']}"
        table.add_row(r["preset"], r["size"], f"{r['fps']:.2f}", r["precision"], tiles,
                      r["speed_reasons"]["tile_size"])
    console.print(table)


def print_table(console: Console, rows: list, device_name: str, matmul: float) -> None:
    table = Table(title=f"Zoom frames/s on {device_name} ({ITERATIONS} dream iterations per frame); "
                        f"bf16 matmul {matmul:.1f} TFLOP/s")
    for column in ("model", "size", "setting", "frames/s", "TFLOP/s", "ratio to bf16 matmul", "rel. L2 vs fp32"):
        table.add_column(column)
    for case, label, r, note in rows:
        size = f"{case.width}x{case.height}"
        if r is None:
            table.add_row(case.model, size, label, note, "", "", "")
        else:
            table.add_row(case.model, size, label, f"{r['fps']:.2f}", f"{r['tflops']:.2f}", f"{r['ratio']:.3f}",
                          f"{r['error']:.4f}")
    console.print(table)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m render.tools.bench_gpu", description=__doc__)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--quick", action="store_true", help="tiny sizes and repeats (checks the script runs)")
    parser.add_argument("--budget-s", type=float, default=270.0, help="stop starting measurements after this")
    parser.add_argument("--models", nargs="*", default=[m for m, _ in MODELS], choices=[m for m, _ in MODELS])
    args = parser.parse_args(argv)
    console = Console(width=140)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        console.print("[bold red]No CUDA GPU here.[/bold red] Run this on a GPU machine, or --device cpu --quick.")
        raise SystemExit(2)
    sizes = [(96, 64)] if args.quick else [(1280, 720), (1920, 1080)]
    repeats = 2 if args.quick else 10
    timer = Timer(device)
    matmul = bf16_matmul_tflops(device, 256 if args.quick else 8192, timer)
    deadline = time.monotonic() + args.budget_s
    rows = []
    for width, height in sizes:
        for model, layer in (m for m in MODELS if m[0] in args.models):
            rows += run_case(Case(model, layer, width, height), device, repeats, timer, deadline, matmul)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    print_table(console, rows, name, matmul)
    video_case = Case("googlenet", "inception4c", *((96, 64) if args.quick else (1280, 720)))
    batches = (1, 2) if args.quick else (1, 4, 8)
    video_rows = video_batch_rows(video_case, batches, SETTINGS["+ bf16 autocast"], device, repeats, timer)
    print_video_batches(console, video_case, video_rows, name)
    preset_rows = preset_cases(device, sizes, 2 if args.quick else 5, 4 if args.quick else 24)
    print_presets(console, preset_rows, name)


if __name__ == "__main__":
    main()
