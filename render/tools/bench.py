"""``make bench``: how fast the dream step runs on this CPU, and what the render loop costs on top.

Every ratio is measured in this one run, so it holds for the machine it runs on:

1. float32 matmul rate (the machine's practical peak);
2. per model at 640x360, float32 and bfloat16 autocast: ms per dream iteration, FLOPs per iteration (torch's
   FlopCounterMode), achieved GFLOP/s and its ratio to the matmul rate;
3. a zoom render's wall time against the time of its dream steps alone (the
   warp, colour match, encoder and checkpoints should add <= 5 %);
4. peak memory (RSS) of a 40-frame against a 400-frame render (streaming: ~1.0);
5. ``drift``: does an endless zoom keep its character? ``zoom_places`` (offline: its fallback) and
   ``zoom_spiral`` rendered for ``--drift-frames`` (10,000) frames at 64x36, one octave of two steps; the
   CIELAB mean and spread, saturation, detail and clipped share per window of ``--drift-window`` (500)
   frames against the first window's (``render.tools.drift``), a table and a PNG plot per preset;
6. the video dream's frames/s with batches of 1 and 4 independent frames;
7. video dreaming: temporal instability with flow-guided blending against every
   frame dreamed on its own (``render.tools.bench_video``; target ratio <= 0.5);
8. ``defaults``: a zoom frame of the ``zoom_places`` preset at 640x360 as users run it, with the old
   defaults (float32, tiles of 512) and the new ones (``auto``), for GoogLeNet-Places365 and the
   offline fallback, and bfloat16 forced where ``auto`` chose float32;
9. ``tiles``: one dream step at 1280x720 untiled and in tiles of 512 and 256 (do tiles help the
   CPU's caches? ``dream.tile_size=auto`` keeps frames whole on a CPU by this measurement);
10. ``cadence``: a zoom's frames/s at dream cadence 1, 2, 4 and 8 beside its temporal instability
   (``render.tools.bench_cadence``);
11. ``coherence``: the video dream's excess warping error (Lai et al.) at 1, 5 and 10 frames and its
   strength, as shares of independent frames', on three 160x96 photo clips with known motion: a pan, an
   occluder, an inset crossing the pan (``render.tools.bench_coherence``);
12. ``profile`` (only when named in ``--only``): the ops that take the time of an EfficientNet-Lite0
   and a GoogLeNet step in float32 and bfloat16 (torch.profiler).

``--only defaults tiles`` runs just those sections.

Models whose weights are not on this machine are timed with random weights:
speed does not depend on the values.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from rich.console import Console
from rich.table import Table
from torch.utils.flop_counter import FlopCounterMode

from dream.models.base import TapNet
from dream.objectives import layer_l2
from dream.speed import SpeedOptions, apply_speed_options
from dream.step import StepParams, ascent_step
from render.cli import compose_preset
from render.tools.bench_defaults import bench_net

ROOT = Path(__file__).resolve().parent.parent
SECTIONS = ("models", "zoom", "rss", "drift", "batch", "video", "defaults", "tiles", "cadence", "coherence")
TILE_MODELS = (("googlenet_places365", "inception_4c/output"), ("efficientnet_lite0", "block10"))
PRECISIONS = ("float32", "bfloat16")  # bfloat16 autocast runs on AMX / AVX512-BF16 units where the CPU has them
BENCH_MODELS = (("googlenet", "inception4c"), ("efficientnet_lite0", "block10"), ("efficientnet_lite2", "block14"),
                ("googlenet_places365", "inception_4c/output"))


def median_seconds(fn, repeats: int, warmup: int = 1) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def matmul_gflops(dtype: torch.dtype = torch.float32, size: int = 2048, repeats: int = 15) -> float:
    """This machine's matmul rate in GFLOP/s for ``dtype`` (its practical peak)."""
    a, b = torch.randn(size, size, dtype=dtype), torch.randn(size, size, dtype=dtype)
    return 2 * size**3 / median_seconds(lambda: a @ b, repeats, warmup=3) / 1e9


def iteration_flops(net: TapNet, image: torch.Tensor, layer: str) -> float:
    """FLOPs of one gradient of the L2 objective (forward to the tap and backward to the image)."""
    x = image.clone().requires_grad_(True)
    objective = layer_l2(layer)
    with FlopCounterMode(display=False) as counter:
        objective(net(x, objective.taps)).sum().backward()
    return float(counter.get_total_flops())


def bench_models(width: int, height: int, repeats: int, matmul: float) -> list[dict]:
    """Per model and precision: ms per dream iteration, FLOPs, GFLOP/s and the ratio to the fp32 matmul rate."""
    rows = []
    generator = torch.Generator().manual_seed(0)
    image = torch.rand(1, 3, height, width, generator=generator)
    for name, layer in BENCH_MODELS:
        net, weights = bench_net(name)
        objective, params = layer_l2(layer), StepParams(tile_size=0)
        flops = iteration_flops(net, image, layer)
        for precision in PRECISIONS:
            apply_speed_options(net, SpeedOptions(precision=precision), torch.device("cpu"))
            seconds = median_seconds(lambda: ascent_step(net, image, objective, params, generator), repeats)  # noqa: B023
            gflops = flops / seconds / 1e9
            rows.append({"model": name, "layer": layer, "weights": weights, "precision": precision,
                         "ms_per_iteration": 1000 * seconds, "gflop_per_iteration": flops / 1e9, "gflops": gflops,
                         "ratio_to_matmul": gflops / matmul})
    return rows


def zoom_overhead(width: int, height: int, frames: int) -> dict:
    """Wall time of a zoom render's frame loop against its dream steps alone."""
    from omegaconf import OmegaConf

    import render.engine
    from render.run import run

    dream_seconds = []
    real_dream = render.engine.Engine.dream

    def timed_dream(self, image, frame, generator):
        start = time.perf_counter()
        out = real_dream(self, image, frame, generator)
        dream_seconds.append(time.perf_counter() - start)
        return out

    # The headline preset as rendered offline (its fallback model): a real render's balance of work.
    cfg = compose_preset("zoom_places", [f"frames={frames}", f"width={width}", f"height={height}",
                                         "model=efficientnet_lite0", "dream.layer=block10"])
    render.engine.Engine.dream = timed_dream
    try:
        with tempfile.TemporaryDirectory() as folder:
            plain = OmegaConf.create(OmegaConf.to_container(cfg, enum_to_str=True))
            meta = run(plain, Path(folder) / "run", Console(quiet=True))
    finally:
        render.engine.Engine.dream = real_dream
    loop = meta["loop_seconds"]
    return {"preset": "zoom_places (efficientnet_lite0)", "frames": frames, "loop_seconds": loop,
            "dream_seconds": sum(dream_seconds), "overhead_ms_per_frame": 1000 * (loop - sum(dream_seconds)) / frames,
            "frames_per_second": frames / loop, "ratio": loop / sum(dream_seconds)}


def peak_rss_mb(frames: int, width: int, height: int) -> float:
    """Peak RSS of a whole render process (a fresh interpreter, so nothing else counts)."""
    with tempfile.TemporaryDirectory() as folder:
        command = [sys.executable, "-m", "render", "--config-name", "smoke", f"frames={frames}", f"width={width}",
                   f"height={height}", "dream.octaves=1", "dream.iterations=1", "dream.first_frame_iterations=1",
                   f"hydra.run.dir={folder}/run"]
        probe = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, "
                 "stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
                 "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
        result = subprocess.run([sys.executable, "-c", probe, *command], cwd=ROOT, capture_output=True, text=True,
                                check=True)
    return int(result.stdout.strip()) / 1024


DRIFT_PRESETS = ("zoom_places", "zoom_spiral")
DRIFT_SETTINGS = ["width=64", "height=36", "dream.octaves=1", "dream.iterations=2", "dream.first_frame_iterations=10",
                  "output.png_frames=true", "output.checkpoint_every=1000"]


def long_zoom_drift(frames: int, window: int, out: Path, overrides: list[str]) -> dict[str, dict]:
    """Render each of ``DRIFT_PRESETS`` for ``frames`` frames at ``DRIFT_SETTINGS`` into ``out``, measure every
    frame (``render.tools.drift``) and write each preset's plot beside its run folder."""
    from render.run import run
    from render.tools.drift import judged, measure, plot, run_frames, windows

    results = {}
    for preset in DRIFT_PRESETS:
        run_dir = out / preset
        run(compose_preset(preset, [f"frames={frames}", *DRIFT_SETTINGS, *overrides]), run_dir, Console(stderr=True))
        per_frame = measure(run_frames(run_dir))
        rows = windows(per_frame, window)
        picture = plot(per_frame, rows, out / f"{preset}_drift.png", f"{preset}, {len(per_frame)} frames at "
                       f"{' '.join(DRIFT_SETTINGS[:5])} {' '.join(overrides)}, windows of {window}")
        results[preset] = {"frames": len(per_frame), "windows": rows, "verdicts": judged(rows), "plot": str(picture),
                           "run": str(run_dir)}
    return results


def print_models(console: Console, rows: list[dict]) -> None:
    table = Table(title="Dream iteration at 640x360 (forward to the layer + backward to the image)")
    for column in ("model", "layer", "weights", "precision", "ms/iter", "GFLOP/iter", "GFLOP/s",
                   "ratio to fp32 matmul"):
        table.add_column(column)
    for r in rows:
        table.add_row(r["model"], r["layer"], r["weights"], r["precision"], f"{r['ms_per_iteration']:.0f}",
                      f"{r['gflop_per_iteration']:.2f}", f"{r['gflops']:.1f}", f"{r['ratio_to_matmul']:.2f}")
    console.print(table)


def print_zoom(console: Console, zoom: dict) -> None:
    console.print(f"zoom render ({zoom['preset']}, 640x360) {zoom['frames']} frames: "
                  f"loop {zoom['loop_seconds']:.1f} s, dream steps alone "
                  f"{zoom['dream_seconds']:.1f} s, overhead {zoom['overhead_ms_per_frame']:.0f} ms/frame, "
                  f"{zoom['frames_per_second']:.2f} frames/s, "
                  f"[bold]ratio {zoom['ratio']:.3f}[/bold] (target <= 1.05)")


def print_rss(console: Console, rss: dict) -> None:
    console.print(f"peak RSS at 320x180: 40 frames {rss[40]:.0f} MB, 400 frames {rss[400]:.0f} MB, "
                  f"[bold]ratio {rss[400] / rss[40]:.3f}[/bold] (target <= 1.1)")


def print_drift(console: Console, drift: dict[str, dict], window: int) -> None:
    from render.tools.drift import table_lines

    for preset, result in drift.items():
        holds = all(verdict["holds"] for verdict in result["verdicts"])
        console.print(f"[bold]{preset}[/bold]: {result['frames']} frames in windows of {window}, every window within "
                      f"15 % of the first: {'yes' if holds else 'NO'} (plot {result['plot']}, run {result['run']})",
                      highlight=False)
        console.print("\n".join(table_lines(result["windows"], result["verdicts"])), highlight=False)


def video_batches(repeats: int) -> list[dict]:
    """Video dream frames/s at 320x180 (the video_dream preset's model) for batches of 1 and 4 frames."""
    from dream.speed import SpeedOptions
    from render.tools.bench_gpu import Case, Timer, print_video_batches, video_batch_rows

    cpu = torch.device("cpu")
    case = Case("efficientnet_lite0", "block10", 320, 180)
    rows = video_batch_rows(case, (1, 4), SpeedOptions(precision="float32"), cpu, min(repeats, 3), Timer(cpu))
    print_video_batches(Console(), case, rows, "CPU")
    return rows


def video_stability() -> dict:
    """Flow-guided blending against independent frames on a 3 s panning clip (render.tools.bench_video)."""
    from render.tools.bench_video import compare

    with tempfile.TemporaryDirectory() as folder:
        return compare(Path(folder), "mandelbrot", 320, 180, 3.0, [])


def print_video(console: Console, figures: dict) -> None:
    table = Table(title=f"video dream stability ({figures['clip']})")
    for column in ("source", "blended", "independent", "blended / independent", "target"):
        table.add_column(column, justify="right")
    table.add_row(f"{figures['source_instability']:.2f}", f"{figures['blended_instability']:.2f}",
                  f"{figures['independent_instability']:.2f}", f"{figures['ratio_blended_to_independent']:.3f}",
                  "<= 0.5")
    console.print(table)


def video_coherence(console: Console) -> dict:
    """The video dream's warping error against independent frames on three clips (render.tools.bench_coherence)."""
    from render.tools.bench_coherence import compare, table_lines

    with tempfile.TemporaryDirectory() as folder:
        results = compare(Path(folder), 160, 96, 32, [])
    console.print("video dream coherence, 160x96, 32 frames (target: short-term <= 0.25 on the pan, strength "
                  ">= 0.9)", highlight=False)
    console.print("\n".join(table_lines(results)), highlight=False)
    return results


def run_default_sections(console: Console, args: argparse.Namespace, results: dict) -> None:
    """The sections on the defaults (render.tools.bench_defaults): old against new, tiles, profile."""
    from render.tools import bench_defaults as bd

    if "defaults" not in args.skip:
        results["defaults"] = bd.compare_defaults(640, 360, min(args.repeats, 3))
        bd.print_defaults(console, results["defaults"])
    if "tiles" not in args.skip:
        results["tiles"] = bd.compare_tiles(TILE_MODELS, 1280, 720, (0, 512, 256), min(args.repeats, 3))
        bd.print_tiles(console, results["tiles"])
    if args.only and "profile" in args.only:
        results["profile"] = {}
        for name, layer in TILE_MODELS:
            results["profile"][name] = bd.profile_step(name, layer, 640, 360)
            bd.print_profile(console, name, results["profile"][name])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m render.tools.bench", description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--zoom-frames", type=int, default=48)
    parser.add_argument("--drift-frames", type=int, default=10000, help="frames of each long zoom (drift)")
    parser.add_argument("--drift-window", type=int, default=500, help="frames per window of the drift table")
    parser.add_argument("--drift-out", type=Path, help="where the drift renders and plots go "
                        "(default outputs/bench_drift/<time>)")
    parser.add_argument("--drift-set", nargs="*", default=[], metavar="KEY=VALUE",
                        help="config overrides for the drift renders, e.g. color.anchor=none")
    parser.add_argument("--cadence-frames", type=int, default=48)
    parser.add_argument("--skip", nargs="*", default=[], choices=SECTIONS)
    parser.add_argument("--only", nargs="*", choices=(*SECTIONS, "profile"), help="run just these sections")
    parser.add_argument("--json", type=Path, help="also write the numbers to this file")
    args = parser.parse_args(argv)
    if args.only is not None:
        args.skip = [section for section in SECTIONS if section not in args.only]
    console = Console(width=132)
    results: dict = {"matmul_gflops": matmul_gflops(), "bf16_matmul_gflops": matmul_gflops(torch.bfloat16),
                      "threads": torch.get_num_threads()}
    console.print(f"float32 matmul: [bold]{results['matmul_gflops']:.1f} GFLOP/s[/bold], bfloat16 matmul: "
                  f"{results['bf16_matmul_gflops']:.1f} GFLOP/s ({results['threads']} threads)")
    if "models" not in args.skip:
        results["models"] = bench_models(640, 360, args.repeats, results["matmul_gflops"])
        print_models(console, results["models"])
    if "zoom" not in args.skip:
        results["zoom"] = zoom_overhead(640, 360, args.zoom_frames)
        print_zoom(console, results["zoom"])
    if "rss" not in args.skip:
        results["rss_mb"] = {n: peak_rss_mb(n, 320, 180) for n in (40, 400)}
        print_rss(console, results["rss_mb"])
    if "drift" not in args.skip:
        out = args.drift_out or ROOT.parent / "outputs" / "bench_drift" / time.strftime("%Y-%m-%d_%H-%M-%S")
        results["drift"] = long_zoom_drift(args.drift_frames, args.drift_window, out, args.drift_set)
        print_drift(console, results["drift"], args.drift_window)
    if "batch" not in args.skip:
        results["video_batch"] = video_batches(args.repeats)
    if "video" not in args.skip:
        results["video"] = video_stability()
        print_video(console, results["video"])
    run_default_sections(console, args, results)
    if "cadence" not in args.skip:
        from render.tools.bench_cadence import compare_cadences, print_cadences

        results["cadence"] = compare_cadences(256, 144, args.cadence_frames)
        print_cadences(console, results["cadence"], 256, 144)
    if "coherence" not in args.skip:
        results["coherence"] = video_coherence(console)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
