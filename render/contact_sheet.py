"""``python -m render.contact_sheet VIDEO [--every N] [--out sheet.png]``: an animation at a glance.

Every N-th frame, scaled down and laid out in a grid with its frame number, saved as one PNG.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import imageio_ffmpeg
from PIL import Image, ImageDraw


def sampled_frames(video: Path, every: int, width: int) -> list[tuple[int, Image.Image]]:
    """(frame index, thumbnail) for frames 0, every, 2*every, ... and the last frame."""
    reader = imageio_ffmpeg.read_frames(str(video))
    meta = next(reader)
    size = meta["size"]
    picked, last = [], None
    for index, raw in enumerate(reader):
        frame = Image.frombuffer("RGB", size, raw, "raw", "RGB", 0, 1)
        last = (index, frame)
        if index % every == 0:
            picked.append((index, frame.resize((width, round(width * size[1] / size[0])))))
    if last and last[0] % every:
        picked.append((last[0], last[1].resize((width, round(width * size[1] / size[0])))))
    return picked


def contact_sheet(video: Path, out: Path, every: int = 10, width: int = 240, columns: int = 4) -> Path:
    thumbs = sampled_frames(video, every, width)
    if not thumbs:
        raise SystemExit(f"{video} has no frames.")
    tile_h = thumbs[0][1].height
    rows = (len(thumbs) + columns - 1) // columns
    sheet = Image.new("RGB", (columns * width, rows * tile_h), "black")
    draw = ImageDraw.Draw(sheet)
    for n, (index, thumb) in enumerate(thumbs):
        x, y = (n % columns) * width, (n // columns) * tile_h
        sheet.paste(thumb, (x, y))
        draw.text((x + 4, y + 2), str(index), fill="white", stroke_width=2, stroke_fill="black")
    sheet.save(out)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m render.contact_sheet", description=__doc__)
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
