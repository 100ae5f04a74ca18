"""``python -m render.tools.seam VIDEO [--sheet PNG]``: does a looping clip jump where it wraps around?

A looped playback shows the last frame, then the first. The step across that seam
should look like any other step between frames, so it is compared with the steps
inside the clip: the seam is "ok" when the last -> first difference is no larger
than the 95th percentile of the consecutive-frame differences. Differences are the
mean absolute difference over all pixels and RGB channels of the decoded 8-bit
frames, on the 0-255 scale (0: identical; a hard cut between unrelated images is
typically 50-100). Frames are streamed: two are held at a time, plus the first.

Exit status: 0 when the seam is ok, 1 when it jumps, 2 for a missing video.
"""

from __future__ import annotations

import argparse
import sys
from collections import deque
from pathlib import Path

import numpy as np
from PIL import Image

from dream.errors import UserError
from render.tools.contact_sheet import lay_out, thumbnail, video_frames

SEAM_PERCENTILE = 95


def frame_difference(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute difference of two equal-sized RGB frames, 0-255 scale."""
    return float(np.abs(np.asarray(a, np.int16) - np.asarray(b, np.int16)).mean())


def seam_report(video: Path) -> dict:
    """How the loop seam (last frame -> first frame) compares with the steps inside ``video``.

    Returns:
        ``{"seam": float, "p95": float, "ok": bool, "frames": int}``: the last -> first mean
        absolute difference, the 95th percentile of the frame i -> i+1 differences (both
        0-255), whether seam <= p95, and the number of frames.
    """
    first = previous = None
    steps = []
    for _, frame in video_frames(video):
        if previous is None:
            first = frame
        else:
            steps.append(frame_difference(previous, frame))
        previous = frame
    if not steps:
        raise UserError(f"{video} has fewer than 2 frames, so it has no loop seam to measure. Render more frames.")
    seam = frame_difference(previous, first)
    p95 = float(np.percentile(steps, SEAM_PERCENTILE))
    return {"seam": round(seam, 4), "p95": round(p95, 4), "ok": seam <= p95, "frames": len(steps) + 1}


def seam_sheet(video: Path, out: Path, around: int = 4, width: int = 160) -> Path:
    """A one-row contact sheet of the last ``around`` frames then the first ``around``, in playback order.

    The labels show the frame numbers, so the seam sits where they wrap to 0.
    """
    if around < 1:
        raise UserError(f"around={around} must be at least 1 (frames shown on each side of the seam).")
    head, tail = [], deque(maxlen=around)
    for index, frame in video_frames(video):
        tile = (index, thumbnail(frame, width))
        tail.append(tile)
        if index < around:
            head.append(tile)
    if not head:
        raise UserError(f"{video} has no frames, so there is no loop seam to show.")
    tiles = [*tail, *head]
    return lay_out(tiles, Path(out), columns=len(tiles))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m render.tools.seam", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("video", type=Path)
    parser.add_argument("--sheet", type=Path, help="also save the frames around the seam as this PNG")
    parser.add_argument("--around", type=int, default=4, help="frames on each side of the seam in the sheet")
    args = parser.parse_args(argv)
    if not args.video.is_file():
        print(f"Error: video {args.video} does not exist.", file=sys.stderr)
        sys.exit(2)
    try:
        report = seam_report(args.video)
        if args.sheet:
            seam_sheet(args.video, args.sheet, args.around)
    except UserError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        sys.exit(2)
    verdict = "ok" if report["ok"] else "JUMP"
    print(f"seam {report['seam']:.3f}  p95 {report['p95']:.3f}  ({report['frames']} frames, 0-255 scale)  {verdict}")
    sys.exit(0 if report["ok"] else 1)


if __name__ == "__main__":
    main()
