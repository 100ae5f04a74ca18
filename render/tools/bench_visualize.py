"""``python -m render.tools.bench_visualize``: seconds per class picture at 320, 512 and 1024 px.

A picture is ``steps`` (plus ``detail_steps`` above ``coarse_size``) optimiser steps, and
steps cost the same from first to last, so each size runs ``1 / --fraction`` of its steps,
in turns with the other sizes (load from other programs hits every size alike), and the
time is scaled back to the whole picture. Prints seconds per picture and the ratio to the
first size, measured in this one run.
"""

from __future__ import annotations

import argparse
import time

import torch
from rich.console import Console
from rich.table import Table

from dream.auto import decide_precision
from dream.models.registry import load_model
from dream.speed import SpeedOptions, apply_speed_options
from dream.visualize import Detail, find_target, total_steps, visualize
from render.modes.visualize import detail_of, robustness_of
from render.tools.quality import preset_settings


def scaled_detail(detail: Detail, fraction: float) -> Detail:
    """``detail`` with its steps cut to ``fraction`` (at least 1)."""
    return Detail(detail.coarse_size, max(1, round(detail.steps * fraction)), detail.carried_rate)


def time_picture(nets, label: str, size: int, steps: int, detail: Detail, settings) -> float:
    """Wall seconds of one ``visualize`` call at ``size`` with ``steps`` and ``detail``."""
    started = time.perf_counter()
    visualize(
        nets, [find_target(net, label).objective() for net in nets], size=size, steps=steps,
        parameterization=settings.parameterization, robust=robustness_of(settings), detail=detail,
        generator=torch.Generator().manual_seed(0), device=torch.device("cpu"),
    )  # fmt: skip
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m render.tools.bench_visualize", description=__doc__)
    parser.add_argument("--sizes", default="320,512,1024")
    parser.add_argument("--fraction", type=float, default=1 / 16, help="share of the steps each size runs")
    parser.add_argument("--rounds", type=int, default=1, help="turns over the sizes (the fastest counts)")
    parser.add_argument("--label", default="banana")
    args = parser.parse_args(argv)
    settings = preset_settings()
    cpu = torch.device("cpu")
    precision = decide_precision("auto", cpu).value  # as class_visualize runs here by default
    nets = [apply_speed_options(load_model(name, device=cpu).net, SpeedOptions(precision=precision), cpu)
            for name in settings.ensemble]
    sizes = [int(size) for size in args.sizes.split(",")]
    steps = max(1, round(settings.steps * args.fraction))
    detail = scaled_detail(detail_of(settings), args.fraction)
    best: dict[int, float] = {}
    for _ in range(args.rounds):
        for size in sizes:
            run = time_picture(nets, args.label, size, steps, detail, settings)
            scale = total_steps(settings.steps, size, "maco", detail_of(settings)) / total_steps(
                steps, size, "maco", detail
            )
            best[size] = min(best.get(size, float("inf")), run * scale)
    table = Table(title=f"class_visualize, {torch.get_num_threads()} threads, {precision}: seconds per picture")
    for column in ("size", "steps", "seconds", f"ratio to {sizes[0]}"):
        table.add_column(column)
    for size in sizes:
        table.add_row(str(size), str(total_steps(settings.steps, size, "maco", detail_of(settings))),
                      f"{best[size]:.0f}", f"{best[size] / best[sizes[0]]:.2f}")  # fmt: skip
    Console().print(table)


if __name__ == "__main__":
    main()
