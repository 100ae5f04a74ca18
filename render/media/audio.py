"""Audio out of any file ffmpeg reads (mp3, wav, m4a, a video's audio track) as mono float PCM.

Decoding uses the ffmpeg binary that imageio-ffmpeg ships, so no system ffmpeg is needed.
A missing file, a file without an audio stream and a track of zero length are
``UserError``s raised before anything is rendered.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg
import numpy as np

from dream.errors import UserError

ANALYSIS_SAMPLE_RATE = 22050  # librosa's default rate: its onset and spectral defaults are tuned for it
ERROR_TAIL_CHARS = 600


@dataclass(frozen=True)
class AudioTrack:
    """A decoded track.

    Attributes:
        path: the file it came from.
        samples: ``(N,)`` float32 mono samples in [-1, 1].
        sample_rate: samples per second.
    """

    path: Path
    samples: np.ndarray
    sample_rate: int

    @property
    def duration(self) -> float:
        """Seconds of audio."""
        return len(self.samples) / self.sample_rate


def decode_audio(path: str | Path, sample_rate: int = ANALYSIS_SAMPLE_RATE) -> AudioTrack:
    """Decode the first audio stream of ``path`` to mono float32 at ``sample_rate``.

    Raises:
        UserError: the file is missing, ffmpeg can't open it, it has no audio stream, or the
            stream holds no samples.
    """
    path = existing_audio(path)
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path)]
    cmd += ["-map", "0:a:0?", "-vn", "-ac", "1", "-ar", str(sample_rate), "-f", "f32le", "-"]
    result = subprocess.run(cmd, capture_output=True)
    report = result.stderr.decode("utf-8", errors="replace")
    if "Input #0" not in report:
        raise _unusable(path, "ffmpeg could not open it", report)
    if not re.search(r"Stream #0:\d+.*: Audio: ", report):
        raise UserError(
            f"audio={path} has no audio stream. Pass a file with sound (mp3, wav, m4a, or a video with an "
            f"audio track), or leave audio out."
        )
    if result.returncode != 0:
        raise _unusable(path, "ffmpeg could not decode its audio", report)
    samples = np.frombuffer(result.stdout[: len(result.stdout) // 4 * 4], dtype="<f4").astype(np.float32)
    if samples.size == 0:
        raise UserError(f"audio={path} holds an audio stream of zero length. Pass a track that has sound in it.")
    return AudioTrack(path, samples, sample_rate)


def existing_audio(path: str | Path) -> Path:
    """``path`` as a Path if it is a file; a UserError naming the key otherwise."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise UserError(f"audio={path} does not exist. Pass an existing audio or video file, e.g. audio=song.mp3.")
    return path


def _unusable(path: Path, problem: str, ffmpeg_output: str) -> UserError:
    tail = " ".join(ffmpeg_output.strip().splitlines()[-4:])[-ERROR_TAIL_CHARS:]
    return UserError(
        f"audio={path} can't be used: {problem} (ffmpeg: {tail}). The file may be truncated, corrupt or not "
        f"audio; re-export it or pass another file."
    )
