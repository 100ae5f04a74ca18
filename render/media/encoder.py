"""H.264 encoding: frames become bytes here, and one ffmpeg process turns them into one mp4 chunk."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import torch

from dream.errors import UserError
from render.config import EncoderPreset

X264_PRESETS = tuple(EncoderPreset)  # checked again here for encodes that take no config (join, tools)
LOG_TAIL_CHARS = 1500

def to_uint8_hwc(frame: torch.Tensor) -> torch.Tensor:
    """The one place frames become bytes: float [0, 1] RGB -> uint8, on the frame's device.

    Args:
        frame: (1, 3, H, W) or (3, H, W) float in [0, 1]; values outside are clamped.

    Returns:
        (H, W, 3) uint8, contiguous, on ``frame.device``.
    """
    if frame.dim() == 4 and frame.shape[0] == 1:
        frame = frame[0]
    if frame.dim() != 3 or frame.shape[0] != 3:
        raise ValueError(f"expected a (1, 3, H, W) or (3, H, W) RGB frame, got shape {tuple(frame.shape)}")
    pixels = frame.detach().mul(255).clamp_(0, 255).round_().to(torch.uint8)  # in place: fewest passes
    return pixels.permute(1, 2, 0).contiguous()


def fps_fraction(fps: float | Fraction) -> Fraction:
    """The exact frame rate ffmpeg is given: 29.97002997 -> 30000/1001, 25.0 -> 25."""
    return fps if isinstance(fps, Fraction) else Fraction(fps).limit_denominator(100_000)


def even_size_filter(width: int, height: int) -> tuple[list[str], str | None]:
    """ffmpeg arguments that make an odd size even, and the note saying so.

    yuv420p stores colour per 2x2 block, so H.264 in yuv420p needs even sides, and
    H.264 can only crop whole chroma blocks, so an odd size can't be stored exactly.
    Padding by one repeated column/row keeps every rendered pixel (cropping would drop
    one, scaling would blur all); players show the extra line, which matches its neighbour.

    Returns:
        (output arguments, note) — ``([], None)`` when the size is already even.
    """
    pad_w, pad_h = width % 2, height % 2
    if not (pad_w or pad_h):
        return [], None
    stored_w, stored_h = width + pad_w, height + pad_h
    vf = f"pad={stored_w}:{stored_h}:0:0,fillborders=right={pad_w}:bottom={pad_h}:mode=smear"
    note = (
        f"Video size {width}x{height} has an odd side, and H.264 yuv420p needs even sides: the mp4 is stored "
        f"as {stored_w}x{stored_h}, with the last column/row repeated (no pixel cropped or scaled). "
        f"Use even width and height to avoid this."
    )
    return ["-vf", vf], note


@dataclass(frozen=True)
class Encoding:
    """What all chunks of one video share, so that they join without re-encoding."""

    width: int
    height: int
    fps: Fraction
    crf: int = 18
    preset: str = "medium"

    def __post_init__(self):
        if not self.fps > 0:
            raise UserError(f"fps={self.fps} must be a positive number of frames per second, e.g. 30 or 30000/1001.")
        if self.width < 2 or self.height < 2:
            raise UserError(f"Video size {self.width}x{self.height} is too small; H.264 needs at least 2x2 pixels.")
        if not 0 <= self.crf <= 51:
            raise UserError(f"crf={self.crf} is outside 0..51 (0 lossless, 18 visually lossless, 23 x264's default).")
        if self.preset not in X264_PRESETS:
            raise UserError(f"preset={self.preset} is not an x264 preset; use one of {', '.join(X264_PRESETS)}.")

    def as_manifest(self) -> dict:
        return {
            "fps": float(self.fps),
            "fps_exact": str(self.fps),
            "width": self.width,
            "height": self.height,
            "crf": self.crf,
            "preset": self.preset,
        }


def close_ffmpeg(proc: subprocess.Popen, timeout: float | None = None,
                 wait: Callable[[float | None], int] | None = None) -> int:
    """End an ffmpeg that reads frames from its stdin: close the pipe, wait for it to finish its file, kill it
    after ``timeout`` seconds; returns its exit status.

    Args:
        wait: waits for the process (default ``proc.wait``; a caller that also drains its output passes its own).
    """
    wait = wait or proc.wait
    try:
        proc.stdin.close()
    except OSError:
        pass  # ffmpeg is gone already; its exit status says why
    try:
        return wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        return wait(None)


def log_tail(log_path: Path) -> str:
    if not log_path.is_file():
        return "(no ffmpeg output)"
    text = log_path.read_text(errors="replace").strip()
    return text[-LOG_TAIL_CHARS:] or "(no ffmpeg output)"


def ffmpeg_error(what: str, stderr_tail: str, where: Path) -> UserError:
    return UserError(
        f"ffmpeg failed while {what}. Its last words: {stderr_tail.strip()} -- Check that {where} is writable and "
        f"its disk has free space, then continue the render with resume (the frames up to the last checkpoint "
        f"are kept)."
    )


class ChunkEncoder:
    """One ffmpeg process: raw RGB frames on its stdin, one H.264 mp4 chunk out.

    The same pipe as ``imageio_ffmpeg.write_frames``, except that ffmpeg's messages go
    into ``log_path`` instead of straight to the console, so that their tail can go into
    the error when ffmpeg fails (a file, not a pipe: a chatty ffmpeg can never block).
    """

    def __init__(self, path: Path, encoding: Encoding, log_path: Path):
        self.path, self.log_path, self.frames = path, log_path, 0
        e = encoding
        even_args, _ = even_size_filter(e.width, e.height)
        cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-v", "error", "-y", "-f", "rawvideo"]
        cmd += ["-pix_fmt", "rgb24", "-s", f"{e.width}x{e.height}", "-r", str(e.fps), "-i", "-", "-an", *even_args]
        # No B-frames: a chunk of 1-2 frames has no reorder delay while longer ones do, and joining
        # chunks of both kinds without re-encoding shifts timestamps (players then repeat frames).
        cmd += ["-c:v", "libx264", "-preset", e.preset, "-crf", str(e.crf), "-bf", "0", "-pix_fmt", "yuv420p"]
        with open(log_path, "ab") as log_file:
            # A session of its own: Ctrl-C reaches Python, not ffmpeg, so the chunk is closed by us, cleanly.
            self._proc = subprocess.Popen(
                [*cmd, str(path)],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=log_file,
                start_new_session=True,
            )

    def write(self, pixels: np.ndarray) -> None:
        """Feed one (H, W, 3) uint8 frame."""
        try:
            self._proc.stdin.write(pixels.data)
        except OSError:
            self._proc.wait()
            raise ffmpeg_error(f"encoding {self.path.name}", log_tail(self.log_path), self.path.parent) from None
        self.frames += 1

    def close(self, timeout: float | None = None) -> int:
        """End the stream and wait for ffmpeg to finish the file; returns the frame count."""
        if close_ffmpeg(self._proc, timeout) != 0:
            raise ffmpeg_error(f"closing {self.path.name}", log_tail(self.log_path), self.path.parent)
        return self.frames
