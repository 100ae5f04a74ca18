"""Frames out of a video file: what it holds (size, exact frame rate, frame count, audio), then a stream of tensors."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import imageio_ffmpeg
import torch

from dream.errors import UserError

ERROR_TAIL_CHARS = 600


@dataclass(frozen=True)
class VideoInfo:
    """What a video file holds, as the frames come out of ``iter_video_frames`` (rotation applied).

    Attributes:
        width, height: frame size in pixels.
        fps: frames per second as a float (29.97002997...).
        fps_exact: the same rate as ffmpeg keeps it (Fraction(30000, 1001)); give this to the sink.
        frames: the exact number of frames (counted by decoding).
        duration: seconds of video.
        has_audio: whether the file has an audio stream worth keeping.
        announced_frames: what the header's duration announces (more than ``frames``: a truncated file); None: none.
    """

    width: int
    height: int
    fps: float
    fps_exact: Fraction
    frames: int
    duration: float
    has_audio: bool
    announced_frames: int | None = None


def probe_video(path: str | Path) -> VideoInfo:
    """Read a video's size, exact frame rate, frame count and whether it has audio.

    Counting frames decodes the whole video (exact, but takes a while for long files).

    Raises:
        UserError: the file is missing, unreadable, truncated, has no video stream or no frames.
    """
    path = _existing(path)
    header, first_frame = _first_frame_report(path)
    size = re.search(r"^#dimensions 0: (\d+)x(\d+)", first_frame, re.M)
    rate = re.search(r"^#tb 0: (\d+)/(\d+)", first_frame, re.M)
    if size is None or rate is None:
        raise _unreadable(path, "ffmpeg decoded no video frame from it", header)
    try:
        frames, seconds = imageio_ffmpeg.count_frames_and_secs(str(path))
    except RuntimeError as err:
        raise _unreadable(path, "ffmpeg could not decode it to the end", str(err)) from None
    if not frames:
        raise _unreadable(path, "it holds no video frames", header)
    fps_exact = Fraction(int(rate[2]), int(rate[1]))  # a constant-rate stream's time base is 1/fps
    return VideoInfo(
        width=int(size[1]),
        height=int(size[2]),
        fps=float(fps_exact),
        fps_exact=fps_exact,
        frames=frames,
        duration=seconds or frames / float(fps_exact),
        has_audio=re.search(r"Stream #0:\d+.*: Audio: ", header) is not None,
        announced_frames=_announced(header, first_frame),
    )


def announced_frames(path: str | Path) -> int | None:
    """Frames the file's header announces (its duration at the stream's rate), read without decoding it all.

    A truncated file still announces its whole duration while only its start decodes. None: no duration given.
    """
    return _announced(*_first_frame_report(_existing(path)))


def _announced(header: str, first_frame: str) -> int | None:
    duration = re.search(r"Duration: (\d+):(\d+):(\d+(?:\.\d+)?)", header)
    rate = re.search(r"^#tb 0: (\d+)/(\d+)", first_frame, re.M)
    if duration is None or rate is None:
        return None
    seconds = int(duration[1]) * 3600 + int(duration[2]) * 60 + float(duration[3])
    return round(seconds * int(rate[2]) / int(rate[1]))


def frame_size(path: str | Path) -> tuple[int, int]:
    """(width, height) of the first frame, read without decoding the whole video."""
    header, first_frame = _first_frame_report(_existing(path))
    size = re.search(r"^#dimensions 0: (\d+)x(\d+)", first_frame, re.M)
    if size is None:
        raise _unreadable(Path(path), "ffmpeg decoded no video frame from it", header)
    return int(size[1]), int(size[2])


def iter_video_frames(
    path: str | Path,
    *,
    size: tuple[int, int] | None = None,
    start: int = 0,
    device: torch.device,
) -> Iterator[torch.Tensor]:
    """Stream a video's frames one at a time; the video is never held in memory.

    Args:
        path: the video file.
        size: (width, height) to scale every frame to, as ffmpeg and ``VideoSink`` order it; None keeps
            the video's size.
        start: frames to skip first (a resumed render starts where its video stopped); ffmpeg drops
            them after decoding, so the count is exact.
        device: where the frames go.

    Yields:
        (1, 3, H, W) float RGB in [0, 1] on ``device``.
    """
    path = _existing(path)
    filters = [f"select=gte(n\\,{start})"] if start > 0 else []
    if size is not None:
        filters.append(f"scale={size[0]}:{size[1]}")
    output = ["-map", "0:v:0", "-fps_mode", "passthrough"] + (["-vf", ",".join(filters)] if filters else [])
    reader = imageio_ffmpeg.read_frames(str(path), output_params=output)
    try:
        width, height = next(reader)["size"]
        for raw in reader:
            pixels = torch.frombuffer(bytearray(raw), dtype=torch.uint8).view(height, width, 3)
            yield pixels.to(device).permute(2, 0, 1).unsqueeze(0).float().div_(255)
    except (OSError, RuntimeError) as err:
        raise _unreadable(path, "ffmpeg could not read its frames", str(err)) from None
    finally:
        reader.close()


def _existing(path: str | Path) -> Path:
    path = Path(path).expanduser()
    if path.is_dir():
        raise UserError(f"Input video {path} is a folder, not a video. Pass a video file, e.g. input=clip.mp4.")
    if not path.is_file():
        raise UserError(f"Input video {path} does not exist. Pass an existing video file, e.g. input=clip.mp4.")
    return path


def _first_frame_report(path: Path) -> tuple[str, str]:
    """ffmpeg's description of the file (stderr) and a checksum report of its first frame (stdout).

    The report's time base is the exact rate (1001/30000, where the header says a rounded
    "29.97 fps"), and its size is the frame size after rotation metadata is applied.
    """
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)]
    cmd += ["-map", "0:v:0?", "-frames:v", "1", "-f", "framecrc", "-"]
    result = subprocess.run(cmd, capture_output=True, text=True, errors="replace")
    if "Input #0" not in result.stderr:
        raise _unreadable(path, "ffmpeg could not open it", result.stderr)
    if not re.search(r"Stream #0:\d+.*: Video: ", result.stderr):
        raise _unreadable(path, "it has no video stream", result.stderr)
    if result.returncode != 0:
        raise _unreadable(path, "ffmpeg could not decode its first frame", result.stderr)
    return result.stderr, result.stdout


def _unreadable(path: Path, problem: str, ffmpeg_output: str) -> UserError:
    tail = " ".join(ffmpeg_output.strip().splitlines()[-4:])[-ERROR_TAIL_CHARS:]
    return UserError(
        f"Input video {path} can't be used: {problem} (ffmpeg: {tail}). The file may be truncated, corrupt or "
        f"not a video; re-export or re-download it, or pass another file."
    )
