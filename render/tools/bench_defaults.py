"""``make bench`` sections on the defaults: old against new, tiles on a CPU, and where the time of a step goes.

- ``defaults``: zoom frames of ``zoom_places`` as users run it (warp, dream, colour match), with the
  old defaults and the new ``auto`` ones, timed in turns so that load from other programs hits both;
- ``tiles``: one dream step untiled and in tiles, in turns;
- ``profile``: torch.profiler's top ops of one dream step per precision.

GoogLeNet-Places365 runs with random weights from a temporary file (``model.weights=PATH``): speed
doesn't depend on the values.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch
from rich.console import Console
from rich.table import Table

from dream.errors import WeightsError
from dream.models.base import TapNet, freeze
from dream.models.fold import fold_batchnorm
from dream.models.registry import get_entry, load_model
from dream.objectives import layer_l2
from dream.speed import SpeedOptions, apply_speed_options
from dream.step import StepParams, ascent_step
from render.cli import compose_preset
from render.engine import build_engine
from render.modes.zoom import advance, initial_state
from render.plan import plan_render
from render.run import typed_config

PRESET = "zoom_places"
OLD_DEFAULTS = ["speed.precision=float32", "dream.tile_size=512"]
NEW_DEFAULTS: list[str] = []
FORCED_BF16 = ["speed.precision=bfloat16"]


def bench_net(name: str) -> tuple[TapNet, str]:
    """The model with its real weights when they are here, else random weights prepared the same way."""
    try:
        return load_model(name, warn=lambda _: None).net, "real"
    except WeightsError:
        net = freeze(get_entry(name).build())
        fold_batchnorm(net.body)
        return net.to(memory_format=net.memory_format), "random"


def random_weights_file(model: str, folder: Path) -> Path:
    """A weights file of ``model``'s exact keys and shapes with random values (the loader checks both)."""
    path = Path(folder) / f"{model}-random.pth"
    torch.manual_seed(0)
    torch.save(get_entry(model).build().body.state_dict(), path)
    return path


def preset_models(folder: Path) -> dict[str, list[str]]:
    """The preset's GoogLeNet (random weights) and its offline fallback, as config overrides."""
    return {
        "googlenet_places365 (random weights)": [f"model.weights={random_weights_file('googlenet_places365', folder)}"],
        "efficientnet_lite0 (offline fallback)": ["model.name=efficientnet_lite0", "dream.layer=block10"],
    }


def frame_timer(overrides: list[str], width: int, height: int) -> tuple[Callable[[], float], object]:
    """A callable timing one zoom frame of the preset (frame 1 on: frame 0 dreams longer), and the engine."""
    cfg = typed_config(compose_preset(PRESET, [f"width={width}", f"height={height}", "frames=1000", *overrides]))
    plan = plan_render(cfg)
    engine = build_engine(cfg, plan.timeline, warn=lambda _: None)
    state = initial_state(plan, engine)
    state.next_index = 1
    advance(state, engine, plan.camera, cfg)  # warm-up; the autos decide here

    def one_frame() -> float:
        start = time.perf_counter()
        advance(state, engine, plan.camera, cfg)
        if engine.device.type == "cuda":
            torch.cuda.synchronize(engine.device)  # the frame is done when the device is
        return time.perf_counter() - start

    return one_frame, engine


def in_turns(timers: dict[str, Callable[[], float]], repeats: int) -> dict[str, float]:
    """Median seconds per timer, the timers called in turns so that passing load hits all of them alike."""
    times: dict[str, list[float]] = {name: [] for name in timers}
    for _ in range(repeats):
        for name, timer in timers.items():
            times[name].append(timer())
    return {name: statistics.median(values) for name, values in times.items()}


def compare_defaults(width: int, height: int, repeats: int) -> list[dict]:
    """Per model: zoom frame seconds with the old and the new defaults (and forced bf16 where auto chose float32)."""
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for model, overrides in preset_models(Path(folder)).items():
            old, _ = frame_timer([*overrides, *OLD_DEFAULTS], width, height)
            new, engine = frame_timer([*overrides, *NEW_DEFAULTS], width, height)
            timers = {"old": old, "new": new}
            if engine.precision.value != "bfloat16":
                timers["bf16"], _ = frame_timer([*overrides, *FORCED_BF16], width, height)
            seconds = in_turns(timers, repeats)
            rows.append({"model": model, "size": f"{width}x{height}", "old_s": seconds["old"], "new_s": seconds["new"],
                         "speedup": seconds["old"] / seconds["new"], "forced_bf16_s": seconds.get("bf16"),
                         **engine.speed_record()})
    return rows


def print_defaults(console: Console, rows: list[dict]) -> None:
    table = Table(title=f"Zoom frame of {PRESET} as users run it: old defaults (float32, tiles of 512) against "
                        "new (auto)")
    for column in ("model", "size", "old s/frame", "new s/frame", "speedup", "auto chose", "bf16 forced s/frame"):
        table.add_column(column)
    for r in rows:
        tiles = "untiled" if r["tile_size"] == 0 else f"tiles of {r['tile_size']}"
        forced = "" if r["forced_bf16_s"] is None else f"{r['forced_bf16_s']:.2f}"
        table.add_row(r["model"], r["size"], f"{r['old_s']:.2f}", f"{r['new_s']:.2f}", f"[bold]{r['speedup']:.2f}x",
                      f"{r['precision']}, {tiles}", forced)
    console.print(table)
    console.print(f"auto precision: {rows[0]['speed_reasons']['precision']}", highlight=False)


def step_timer(net, image: torch.Tensor, layer: str, tile_size: int) -> Callable[[], float]:
    """A callable timing one ascent step of (1, 3, H, W) ``image`` in tiles of ``tile_size`` (0: whole)."""
    objective, params, generator = layer_l2(layer), StepParams(tile_size=tile_size), torch.Generator().manual_seed(0)
    ascent_step(net, image, objective, params, generator)  # warm-up: oneDNN primitives for these shapes

    def one_step() -> float:
        start = time.perf_counter()
        ascent_step(net, image, objective, params, generator)
        return time.perf_counter() - start

    return one_step


def compare_tiles(models: tuple[tuple[str, str], ...], width: int, height: int, tiles: tuple[int, ...],
                  repeats: int) -> list[dict]:
    """Seconds of one float32 step per model and tile size, timed in turns."""
    image = torch.rand(1, 3, height, width, generator=torch.Generator().manual_seed(0))
    rows = []
    for name, layer in models:
        net, _ = bench_net(name)
        apply_speed_options(net, SpeedOptions(precision="float32"), torch.device("cpu"))
        seconds = in_turns({tile: step_timer(net, image, layer, tile) for tile in tiles}, repeats)
        rows += [{"model": name, "size": f"{width}x{height}", "tile_size": tile, "seconds": s,
                  "vs_untiled": seconds[0] / s} for tile, s in seconds.items()]
    return rows


def print_tiles(console: Console, rows: list[dict]) -> None:
    table = Table(title="One float32 dream step on this CPU, untiled and in tiles (the roll hides the seams)")
    for column in ("model", "size", "tile_size", "s/step", "speed vs untiled"):
        table.add_column(column)
    for r in rows:
        table.add_row(r["model"], r["size"], str(r["tile_size"] or "untiled"), f"{r['seconds']:.2f}",
                      f"{r['vs_untiled']:.2f}x")
    console.print(table)


def profile_step(name: str, layer: str, width: int, height: int, top: int = 8) -> dict[str, list[dict]]:
    """Per precision, the ``top`` ops by self CPU time of one dream step (forward + backward)."""
    from torch.profiler import ProfilerActivity, profile

    net, _ = bench_net(name)
    image = torch.rand(1, 3, height, width, generator=torch.Generator().manual_seed(0))
    result = {}
    for precision in ("float32", "bfloat16"):
        apply_speed_options(net, SpeedOptions(precision=precision), torch.device("cpu"))
        timer = step_timer(net, image, layer, 0)
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            timer()
        events = sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)
        total = sum(e.self_cpu_time_total for e in events)
        result[precision] = [{"op": e.key, "ms": e.self_cpu_time_total / 1000, "share": e.self_cpu_time_total / total,
                              "calls": e.count} for e in events[:top]]
        result[precision].append({"op": "total", "ms": total / 1000, "share": 1.0, "calls": 0})
    return result


def print_profile(console: Console, name: str, profiled: dict[str, list[dict]]) -> None:
    for precision, ops in profiled.items():
        table = Table(title=f"{name}: where one {precision} dream step spends its time (self CPU time)")
        for column in ("op", "calls", "ms", "share"):
            table.add_column(column)
        for op in ops:
            table.add_row(op["op"], str(op["calls"]), f"{op['ms']:.0f}", f"{100 * op['share']:.0f} %")
        console.print(table)
