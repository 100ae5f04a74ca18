"""``python -m render.tools.contact_sheet VIDEO [--every N] [--out sheet.png]``: an animation at a glance.

Every N-th frame, scaled down and laid out in a grid with its frame number, saved as one PNG.
The pieces (streamed frames, thumbnails, the grid) also serve the loop-seam sheet in ``render.tools.seam``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path

import imageio_ffmpeg
from PIL import Image, ImageDraw


def video_frames(video: Path) -> Iterator[tuple[int, Image.Image]]:
    """(frame index, RGB frame) for every frame, decoded one at a time (never the whole video in memory)."""
    reader = imageio_ffmpeg.read_frames(str(video))
    size = next(reader)["size"]
    for index, raw in enumerate(reader):
        yield index, Image.frombuffer("RGB", size, raw, "raw", "RGB", 0, 1)


def thumbnail(frame: Image.Image, width: int) -> Image.Image:
    """``frame`` scaled to ``width`` pixels wide, aspect kept."""
    return frame.resize((width, round(width * frame.height / frame.width)))


def sampled_frames(video: Path, every: int, width: int) -> list[tuple[int, Image.Image]]:
    """(frame index, thumbnail) for frames 0, every, 2*every, ... and the last frame."""
    picked, last = [], None
    for index, frame in video_frames(video):
        last = (index, frame)
        if index % every == 0:
            picked.append((index, thumbnail(frame, width)))
    if last and last[0] % every:
        picked.append((last[0], thumbnail(last[1], width)))
    return picked


def lay_out(tiles: list[tuple[int, Image.Image]], out: Path, columns: int) -> Path:
    """Save equal-sized ``(frame index, thumbnail)`` tiles as a grid PNG, each labelled with its index."""
    width, tile_h = tiles[0][1].size
    rows = (len(tiles) + columns - 1) // columns
    sheet = Image.new("RGB", (columns * width, rows * tile_h), "black")
    draw = ImageDraw.Draw(sheet)
    for n, (index, thumb) in enumerate(tiles):
        x, y = (n % columns) * width, (n // columns) * tile_h
        sheet.paste(thumb, (x, y))
        draw.text((x + 4, y + 2), str(index), fill="white", stroke_width=2, stroke_fill="black")
    sheet.save(out)
    return out


def contact_sheet(video: Path, out: Path, every: int = 10, width: int = 240, columns: int = 4) -> Path:
    thumbs = sampled_frames(video, every, width)
    if not thumbs:
        raise SystemExit(f"{video} has no frames.")
    return lay_out(thumbs, out, columns)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m render.tools.contact_sheet", description=__doc__)
    parser.add_argument("video", type=Path)
    parser.add_argument("--every", type=int, default=10)
    parser.add_argument("--width", type=int, default=240)
    parser.add_argument("--columns", type=int, default=4)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    if not args.video.is_file():
        print(f"Error: video {args.video} does not exist.", file=sys.stderr)
        sys.exit(2)
    out = args.out or args.video.with_name(args.video.stem + "_sheet.png")
    print(contact_sheet(args.video, out, args.every, args.width, args.columns))


if __name__ == "__main__":
    main()
