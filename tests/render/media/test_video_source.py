"""Video source: probing (size, exact rate, frame count, audio), streaming frames, clear errors."""

from __future__ import annotations

import subprocess
from fractions import Fraction
from pathlib import Path

import imageio_ffmpeg
import pytest
import torch

from dream.errors import UserError
from render.media.video_source import iter_video_frames, probe_video

CPU = torch.device("cpu")


def make_clip(path: Path, size: str, rate: str, frames: int, audio: bool) -> Path:
    """A tiny H.264 clip from ffmpeg's test pattern, with a sine tone when ``audio``.

    The hue turns a full circle per second, so every frame differs from every other.
    """
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y"]
    cmd += ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate},hue=h=t*360"]
    if audio:
        cmd += ["-f", "lavfi", "-i", "sine=frequency=440:duration=2", "-c:a", "aac", "-shortest"]
    cmd += ["-frames:v", str(frames), "-c:v", "libx264", "-pix_fmt", "yuv420p", str(path)]
    subprocess.run(cmd, check=True)
    return path


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("clips")
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    ntsc = make_clip(folder / "ntsc.mp4", "64x48", "30000/1001", 30, audio=True)
    portrait = make_clip(folder / "portrait.mp4", "48x64", "25", 25, audio=False)
    rotated = folder / "rotated.mp4"
    make_clip(folder / "landscape.mp4", "64x48", "24", 12, audio=False)
    subprocess.run(
        [
            ffmpeg,
            "-v",
            "error",
            "-display_rotation",
            "90",
            "-i",
            str(folder / "landscape.mp4"),
            "-c",
            "copy",
            str(rotated),
        ],
        check=True,
    )
    truncated = folder / "truncated.mp4"
    truncated.write_bytes(ntsc.read_bytes()[: ntsc.stat().st_size // 2])
    no_frames = folder / "no_frames.mp4"
    subprocess.run(
        [ffmpeg, "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=64x48", "-frames:v", "0", str(no_frames)],
        check=True,
    )
    empty = folder / "empty.mp4"
    empty.write_bytes(b"")
    audio_only = folder / "tone.m4a"
    subprocess.run([ffmpeg, "-v", "error", "-f", "lavfi", "-i", "sine=duration=1", str(audio_only)], check=True)
    names = dict(ntsc=ntsc, portrait=portrait, rotated=rotated, truncated=truncated, no_frames=no_frames)
    return names | dict(empty=empty, audio_only=audio_only, missing=folder / "missing.mp4")


def test_probe_ntsc_rate_is_exact_and_audio_found(clips):
    info = probe_video(clips["ntsc"])
    assert (info.width, info.height, info.frames) == (64, 48, 30)
    assert info.fps_exact == Fraction(30000, 1001)
    assert info.fps == pytest.approx(29.97002997)
    assert info.duration == pytest.approx(30 * 1001 / 30000, abs=0.02)
    assert info.has_audio


def test_probe_portrait_without_audio(clips):
    info = probe_video(clips["portrait"])
    assert (info.width, info.height, info.frames, info.fps_exact) == (48, 64, 25, Fraction(25))
    assert not info.has_audio


def test_probe_and_frames_agree_on_rotated_video(clips):
    """A phone video stored landscape with a rotation flag plays, probes and streams as portrait."""
    info = probe_video(clips["rotated"])
    frames = list(iter_video_frames(clips["rotated"], device=CPU))
    assert (info.width, info.height, info.frames) == (48, 64, 12)
    assert len(frames) == 12 and frames[0].shape == (1, 3, 64, 48)


def test_iter_gives_every_frame_as_float_rgb(clips):
    frames = list(iter_video_frames(clips["ntsc"], device=CPU))
    assert len(frames) == 30
    assert all(f.shape == (1, 3, 48, 64) and f.dtype == torch.float32 for f in frames)
    assert 0.0 <= min(f.min().item() for f in frames) and max(f.max().item() for f in frames) <= 1.0
    assert all((a - b).abs().mean() > 0.01 for a, b in zip(frames, frames[1:]))


def test_start_skips_exactly(clips):
    every = list(iter_video_frames(clips["ntsc"], device=CPU))
    rest = list(iter_video_frames(clips["ntsc"], start=21, device=CPU))
    assert len(rest) == 9
    assert all(torch.equal(a, b) for a, b in zip(rest, every[21:]))


def test_size_is_width_height(clips):
    frames = list(iter_video_frames(clips["ntsc"], size=(33, 17), start=28, device=CPU))
    assert [f.shape for f in frames] == [(1, 3, 17, 33)] * 2


@pytest.mark.parametrize("name", ["missing", "truncated", "no_frames", "empty", "audio_only"])
def test_probe_errors_are_user_errors(clips, name):
    with pytest.raises(UserError, match=str(clips[name].name)):
        probe_video(clips[name])


@pytest.mark.parametrize("name", ["missing", "truncated", "empty"])
def test_iter_errors_are_user_errors(clips, name):
    with pytest.raises(UserError, match=str(clips[name].name)):
        next(iter_video_frames(clips[name], device=CPU))
