"""``python -m render.tools.bench_masks``: do masks hold, and does a tracked mask follow its subject?

Holding: a masked still (``dream_image``), zoom (``smoke`` from a photo) and video dream
(``video_dream`` over the clip below) are rendered to lossless PNG frames, beside the same
renders unmasked and undreamed (the zoom undreamed is the photo moved by the camera alone).
Outside the feathered mask the masked frames must equal the undreamed ones (the largest
difference, in 8-bit levels, must be 0); inside it the mean change must be at least 80 %
of the unmasked render's.

Tracking: a clip of a photo panning left with a square of another photo moving right
and down over it (both known to a quarter pixel). A mask of the square on frame 0 is
carried along the clip's optical flow (``mask.track=flow``, the flow the video dream
computes) and compared with the true square: intersection over union per frame, beside
the IoU of the same mask left where it was drawn.

Insets (``--only inset``): three 3 s clips of a 64 px photo inset moving 80 px over a pan (against it,
with it, across it), the mask drawn on frame 0, tracked plain and with ``mask.invert=true`` (the inset is
kept, everything else dreamed): IoU with the true inset at frames 23, 48 and 71.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

import imageio.v3 as iio
import imageio_ffmpeg
import numpy as np
import torch
import torch.nn.functional as F
from omegaconf import OmegaConf
from rich.console import Console
from skimage import data

from render.cli import compose_preset
from render.config import MaskConfig, RenderConfig
from render.media.mask_file import read_mask_image
from render.media.run_folder import FRAMES_DIR
from render.media.video_source import iter_video_frames
from render.ops.flow import FlowSettings, frame_motion
from render.ops.mask import feather, mask_settings, open_frame_masks
from render.run import run
from render.timeline import Timeline

SUPERSAMPLE = 4  # the clip is drawn at 4x and averaged down: motion in quarter pixels, no aliasing
CPU = torch.device("cpu")
PARTS = ("tracking", "inset", "still", "zoom", "video")


@dataclass(frozen=True)
class SquareClip:
    """A panning clip with a moving square; positions and speeds in pixels of the clip.

    Attributes:
        width, height: frame size.
        frames: frame count.
        side: the square's side.
        start: (x, y) of the square's top left corner on frame 0.
        velocity: (dx, dy) of the square per frame.
        pan: how far the background moves left per frame.
    """

    width: int = 320
    height: int = 176
    frames: int = 49
    side: int = 48
    start: tuple[float, float] = (24.0, 24.0)
    velocity: tuple[float, float] = (2.5, 0.75)
    pan: float = 1.5

    def corner(self, index: int) -> tuple[float, float]:
        """(x, y) of the square's top left corner on frame ``index``."""
        return self.start[0] + self.velocity[0] * index, self.start[1] + self.velocity[1] * index

    def true_mask(self, index: int) -> torch.Tensor:
        """(1, 1, H, W): 1.0 on the pixels the square covers at least half of on frame ``index``."""
        big = self._big_square(index).float()
        return (F.avg_pool2d(big, SUPERSAMPLE) >= 0.5).float()

    def _big_square(self, index: int) -> torch.Tensor:
        x, y = (round(v * SUPERSAMPLE) for v in self.corner(index))
        side = self.side * SUPERSAMPLE
        square = torch.zeros(1, 1, self.height * SUPERSAMPLE, self.width * SUPERSAMPLE, dtype=torch.bool)
        square[..., y : y + side, x : x + side] = True
        return square

    def frame(self, index: int, background: torch.Tensor, patch: torch.Tensor) -> np.ndarray:
        """Frame ``index`` as (H, W, 3) uint8: ``background`` (1, 3, 4H, 4W+) panned, ``patch`` pasted."""
        left = round(self.pan * index * SUPERSAMPLE)
        big = background[..., :, left : left + self.width * SUPERSAMPLE].clone()
        x, y = (round(v * SUPERSAMPLE) for v in self.corner(index))
        big[..., y : y + patch.shape[-2], x : x + patch.shape[-1]] = patch
        small = F.avg_pool2d(big, SUPERSAMPLE)[0].permute(1, 2, 0)
        return np.ascontiguousarray(small.mul(255).round().clamp(0, 255).to(torch.uint8).numpy())


VIDEO_CLIP = SquareClip(width=96, height=64, side=24, start=(8.0, 8.0), velocity=(1.0, 0.25), pan=0.5)
INSET_STEP = 80 / 72  # a photo inset moving 80 px in 3 s at 24 fps
# Three seconds of a 64 px photo inset moving 80 px over a background panning 1.5 px/frame left: against the pan,
# with it (the subject only 0.4 px/frame faster than its background) and across it.
INSET_CLIPS = {
    "against the pan": SquareClip(frames=72, side=64, start=(40.0, 56.0), velocity=(INSET_STEP, 0.0)),
    "with the pan": SquareClip(frames=72, side=64, start=(200.0, 56.0), velocity=(-INSET_STEP, 0.0)),
    "across the pan": SquareClip(frames=72, side=64, start=(40.0, 20.0), velocity=(0.6 * INSET_STEP, 0.8 * INSET_STEP)),
}
INSET_FRAMES = (23, 48, 71)


def _photo(pixels: np.ndarray, height: int, width: int) -> torch.Tensor:
    image = torch.from_numpy(np.ascontiguousarray(pixels)).permute(2, 0, 1)[None].float() / 255
    return F.interpolate(image, size=(height, width), mode="bilinear", antialias=True, align_corners=False)


def write_square_clip(clip: SquareClip, folder: Path) -> tuple[Path, Path]:
    """The clip (H.264, near lossless) and its frame-0 mask (PNG) in ``folder``."""
    big_h, big_w = clip.height * SUPERSAMPLE, clip.width * SUPERSAMPLE
    background = _photo(data.astronaut(), big_h, big_w + round(clip.pan * clip.frames * SUPERSAMPLE) + 1)
    side = clip.side * SUPERSAMPLE
    patch = _photo(data.chelsea(), side, side)
    video = folder / "square_pan.mp4"
    writer = imageio_ffmpeg.write_frames(str(video), (clip.width, clip.height), fps=24, quality=None,
                                         macro_block_size=1, output_params=["-crf", "12"], ffmpeg_log_level="error")
    writer.send(None)
    for index in range(clip.frames):
        writer.send(clip.frame(index, background, patch))
    writer.close()
    mask = folder / "square_mask.png"
    iio.imwrite(mask, (clip.true_mask(0)[0, 0].numpy() * 255).astype(np.uint8))
    return video, mask


def iou(a: torch.Tensor, b: torch.Tensor) -> float:
    """Intersection over union of two masks thresholded at 0.5."""
    a, b = a >= 0.5, b >= 0.5
    return (a & b).sum().item() / max(1, (a | b).sum().item())


def track_square(clip: SquareClip, video: Path, mask: Path, every: int = 12, invert: bool = False,
                 frames: tuple[int, ...] = ()) -> dict:
    """IoU of the carried and of the unmoved frame-0 mask with the true square, every ``every`` frames and at
    ``frames``.

    With ``invert`` the mask dreams everywhere but the square; the IoU is that of the square it keeps, and
    ``dreamed`` is the share of the square's pixels that would be dreamed.
    """
    cfg = MaskConfig(source=str(mask), track="flow", feather=0, invert=invert)
    timeline = Timeline(OmegaConf.structured(RenderConfig(frames=clip.frames, mask=cfg)), clip.frames)
    settings = mask_settings(cfg, timeline.track("mask.strength"))
    masks = open_frame_masks(settings, clip.frames, "the clip's frames", CPU)
    first, previous, rows = None, None, {}
    for index, frame in enumerate(iter_video_frames(video, device=CPU)):
        motion = frame_motion(previous, frame, FlowSettings()) if previous is not None else None
        dreamed = masks.next(index, frame, motion=motion).dream
        carried = 1.0 - dreamed if invert else dreamed
        first = carried if first is None else first
        if index % every == 0 or index == clip.frames - 1 or index in frames:
            truth = clip.true_mask(index)
            rows[index] = {"tracked": round(iou(carried, truth), 3), "unmoved": round(iou(first, truth), 3)}
            if invert:
                rows[index]["dreamed"] = round((dreamed >= 0.5)[truth >= 0.5].float().mean().item(), 3)
        previous = frame
    return rows


def track_insets(folder: Path) -> dict:
    """``track_square`` on each of ``INSET_CLIPS``, plain and inverted, at ``INSET_FRAMES``."""
    results = {}
    for name, clip in INSET_CLIPS.items():
        (folder / name).mkdir(parents=True, exist_ok=True)
        video, mask = write_square_clip(clip, folder / name)
        for invert in (False, True):
            rows = track_square(clip, video, mask, every=clip.frames, invert=invert, frames=INSET_FRAMES)
            results[f"{name}{', inverted' if invert else ''}"] = {i: rows[i] for i in INSET_FRAMES}
    return results


def print_insets(results: dict) -> None:
    """The IoU of the tracked inset per clip at ``INSET_FRAMES`` (and the share of it dreamed when inverted)."""
    print(f"mask.track=flow on 320x176 clips of a 64 px photo inset moving 80 px in 72 frames over a background "
          f"panning 1.5 px/frame: IoU of the tracked inset at frames {', '.join(map(str, INSET_FRAMES))}")
    for name, rows in results.items():
        cells = [f"{rows[i]['tracked']:.3f}" + (f" ({rows[i]['dreamed']:.0%} dreamed)" if "dreamed" in rows[i]
                                                 else "") for i in INSET_FRAMES]
        print(f"{name:>28}  " + "  ".join(cells))


def write_window_mask(path: Path, width: int, height: int) -> Path:
    """A white ellipse on black filling the middle half of the frame: the masks the renders use."""
    ys, xs = np.mgrid[0:height, 0:width]
    inside = ((xs - width / 2) / (width / 4)) ** 2 + ((ys - height / 2) / (height / 4)) ** 2 <= 1
    iio.imwrite(path, (inside * 255).astype(np.uint8))
    return path


def rendered_frames(preset: str, overrides: list[str], run_dir: Path) -> list[np.ndarray]:
    """Render ``preset`` with lossless PNG frames; returns them as (H, W, 3) uint8, in order."""
    meta = run(compose_preset(preset, [*overrides, "output.png_frames=true"]), run_dir, Console(stderr=True))
    files = sorted((run_dir / FRAMES_DIR).glob("*.png")) or [run_dir / meta["media"]]
    return [iio.imread(path)[..., :3] for path in files]


def holding(masked: list[np.ndarray], unmasked: list[np.ndarray], plain: list[np.ndarray],
            weight: np.ndarray) -> dict:
    """How exactly ``masked`` keeps ``plain`` where ``weight`` (H, W) is 0, and how strongly it dreams where it is 1."""
    outside, inside = weight == 0, weight == 1
    stack = [np.stack(frames).astype(np.int16) for frames in (masked, unmasked, plain)]
    masked_change = np.abs(stack[0] - stack[2])
    unmasked_change = np.abs(stack[1] - stack[2])
    return {
        "frames": len(masked),
        "max_diff_outside": int(masked_change[:, outside].max()),
        "mean_change_inside": round(float(masked_change[:, inside].mean()), 2),
        "unmasked_mean_change_inside": round(float(unmasked_change[:, inside].mean()), 2),
        "ratio": round(float(masked_change[:, inside].mean() / unmasked_change[:, inside].mean()), 3),
    }


def compare_masked(folder: Path, preset: str, base: list[str], undreamed: list[str], mask: Path,
                   feather_px: int) -> dict:
    """Render ``preset`` masked, unmasked and undreamed in ``folder``; returns ``holding``'s figures."""
    masked = rendered_frames(preset, [*base, f"mask.source={mask}", f"mask.feather={feather_px}"], folder / "masked")
    unmasked = rendered_frames(preset, base, folder / "unmasked")
    plain = rendered_frames(preset, [*base, *undreamed], folder / "undreamed")
    height, width = masked[0].shape[:2]
    drawn = read_mask_image(mask, (height, width), CPU)
    weight = feather(drawn, feather_px)[0, 0].numpy()
    return holding(masked, unmasked, plain, weight)


def hold(kind: str, folder: Path, clip: Path, photo: Path, overrides: list[str]) -> dict:
    """The masked ``kind`` (still, zoom or video) against its unmasked and undreamed renders."""
    zero = ["dream.iterations=0", "dream.first_frame_iterations=0"]
    if kind == "still":
        mask = write_window_mask(folder / "still_mask.png", 256, 160)
        return compare_masked(folder / "still", "dream_image", [f"input={photo}", *overrides], zero, mask, 8)
    if kind == "zoom":
        mask = write_window_mask(folder / "zoom_mask.png", 192, 112)
        base = [f"input={photo}", "frames=48", "width=192", "height=112", *overrides]
        return compare_masked(folder / "zoom", "smoke", base, [*zero, "color.coherence=none"], mask, 8)
    mask = write_window_mask(folder / "video_mask.png", VIDEO_CLIP.width, VIDEO_CLIP.height)
    return compare_masked(folder / "video", "video_dream", [f"input={clip}", *overrides], zero, mask, 6)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m render.tools.bench_masks", description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=49, help="clip length; the last frame is frame frames-1")
    parser.add_argument("--keep", type=Path, help="folder to keep the clip, masks and renders in")
    parser.add_argument("--only", nargs="+", choices=PARTS, default=list(PARTS),
                        help="parts to measure (tracking takes seconds, each render part minutes)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("overrides", nargs="*", help="config overrides for every render, e.g. dream.iterations=2")
    args = parser.parse_args(argv)
    clip = SquareClip(frames=args.frames)
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        rows = track_square(clip, *write_square_clip(clip, folder)) if "tracking" in args.only else {}
        photo = folder / "photo.png"
        pixels = _photo(data.astronaut(), 160, 256)[0].permute(1, 2, 0).mul(255).round().clamp(0, 255)
        iio.imwrite(photo, pixels.byte().numpy())
        (folder / "small").mkdir(exist_ok=True)
        small_clip = write_square_clip(VIDEO_CLIP, folder / "small")[0] if "video" in args.only else None
        insets = track_insets(folder / "inset") if "inset" in args.only else {}
        held = {kind: hold(kind, folder, small_clip, photo, args.overrides) for kind in PARTS[2:] if kind in args.only}
    for kind, figures in held.items():
        print(f"masked {kind}: {figures}")
    if rows:
        print(f"mask.track=flow on a {clip.width}x{clip.height} pan, square of {clip.side} px moving "
              f"{clip.velocity} px/frame over a background moving {clip.pan} px/frame")
        print(f"{'frame':>6} {'IoU tracked':>12} {'IoU unmoved':>12}")
    for index, row in rows.items():
        print(f"{index:>6} {row['tracked']:>12.3f} {row['unmoved']:>12.3f}")
    if insets:
        print_insets(insets)
    if args.json:
        args.json.write_text(json.dumps({"holding": held, "tracking": rows, "inset": insets}, indent=2))


if __name__ == "__main__":
    main()
