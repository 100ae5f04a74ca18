"""Audio decoding: any file ffmpeg reads to mono float PCM; clear errors for missing, silent-less and empty files."""

from __future__ import annotations

import subprocess
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest

from dream.errors import UserError
from render.media.audio import decode_audio
from tests.render.media.test_video_source import make_clip


def make_track(path: Path, expression: str, seconds: float, codec: list[str] | None = None) -> Path:
    """A synthetic mono track at 44.1 kHz from an ffmpeg ``aevalsrc`` expression of ``t`` (seconds)."""
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y"]
    cmd += ["-f", "lavfi", "-i", f"aevalsrc='{expression}':d={seconds}:s=44100", *(codec or []), str(path)]
    subprocess.run(cmd, check=True)
    return path


def click_track(path: Path, clicks: list[float], seconds: float) -> Path:
    """5 ms bursts of a 1 kHz tone at ``clicks`` (seconds), silence between."""
    burst = "+".join(f"between(t,{c},{c + 0.005})" for c in clicks)
    return make_track(path, f"({burst})*sin(2*PI*1000*t)", seconds)


def test_decodes_wav_and_mp3_to_mono_float_at_the_analysis_rate(tmp_path):
    for name, codec in (("tone.wav", None), ("tone.mp3", ["-c:a", "libmp3lame"])):
        track = decode_audio(make_track(tmp_path / name, "0.5*sin(2*PI*440*t)", 1.5, codec))
        assert track.sample_rate == 22050 and track.samples.dtype == np.float32 and track.samples.ndim == 1
        assert track.duration == pytest.approx(1.5, abs=0.06)  # mp3 frames round the length a little
        assert 0.3 < np.abs(track.samples).max() <= 0.55


def test_reads_the_audio_track_of_a_video(tmp_path):
    clip = make_clip(tmp_path / "with_sound.mp4", "64x48", "25", 25, audio=True)
    assert decode_audio(clip).duration == pytest.approx(1.0, abs=0.1)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(UserError, match=r"audio=.*nothing\.mp3 does not exist"):
        decode_audio(tmp_path / "nothing.mp3")


def test_a_video_without_sound_is_a_clear_error(tmp_path):
    clip = make_clip(tmp_path / "silent.mp4", "64x48", "25", 5, audio=False)
    with pytest.raises(UserError, match="has no audio stream"):
        decode_audio(clip)


def test_a_track_of_zero_length_is_a_clear_error(tmp_path):
    empty = tmp_path / "empty.wav"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "anullsrc=r=44100:cl=mono",
                    "-t", "0", str(empty)], check=True)
    with pytest.raises(UserError, match="zero length"):
        decode_audio(empty)


def test_a_file_that_is_not_audio_is_a_clear_error(tmp_path):
    notes = tmp_path / "notes.mp3"
    notes.write_text("not a song")
    with pytest.raises(UserError, match="can't be used: ffmpeg could not open it"):
        decode_audio(notes)
