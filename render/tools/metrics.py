"""``python -m render.tools.metrics VIDEO [--source SRC] [--flow-preset medium]``: how stable is a video?

Prints the temporal instability (``render.ops.stability``) of a finished video and,
with ``--source``, of its source measured along the source's flow, their ratio, and
how far the video departs from the source.
"""

from __future__ import annotations

import argparse
import itertools
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import torch

from dream.errors import UserError
from render.media.video_source import iter_video_frames
from render.ops.flow import DIS_PRESETS, FlowSettings
from render.ops.stability import StabilityReport, measure_stability


def video_and_source_frames(
    video: Path, source: Path | None, device: torch.device
) -> tuple[Iterator[torch.Tensor], Iterator[torch.Tensor] | None]:
    """Stream a video's frames and, when given, its source's frames scaled to the video's size."""
    frames = iter_video_frames(video, device=device)
    if source is None:
        return frames, None
    first = next(frames, None)
    if first is None:
        raise UserError(f"{video} holds no frames to measure; pass a video with at least two frames.")
    size = (first.shape[-1], first.shape[-2])
    return itertools.chain([first], frames), iter_video_frames(source, size=size, device=device)


def format_report(video: Path, source: Path | None, report: StabilityReport) -> str:
    """The lines the command line prints."""
    flow_of = source if source is not None else video
    lines = [f"{video}: temporal instability {report.instability:.3f} "
             f"(8-bit levels, {report.pairs} frame pairs, flow of {flow_of})"]
    if report.source_instability is not None:
        ratio = report.instability / report.source_instability if report.source_instability else float("nan")
        lines.append(f"{source}: temporal instability {report.source_instability:.3f}")
        lines.append(f"ratio video/source: {ratio:.2f}")
        lines.append(f"mean difference video - source: {report.difference_from_source:.2f} levels")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m render.tools.metrics", description=__doc__.split("\n\n")[0])
    parser.add_argument("video", type=Path)
    parser.add_argument("--source", type=Path, help="the source video; its flow measures both (recommended)")
    parser.add_argument("--flow-preset", choices=list(DIS_PRESETS), default="medium")
    args = parser.parse_args(argv)
    logging.getLogger("imageio_ffmpeg").setLevel(logging.ERROR)  # scaling the source on decode is deliberate
    try:
        frames, source = video_and_source_frames(args.video, args.source, torch.device("cpu"))
        report = measure_stability(frames, source, FlowSettings(preset=args.flow_preset))
    except UserError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        sys.exit(2)
    print(format_report(args.video, args.source, report))


if __name__ == "__main__":
    main()
