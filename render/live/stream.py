"""The live stream: one ffmpeg encode of the frames, published as a rolling HLS playlist and pushed to RTMP.

Raw RGB frames go into ffmpeg's stdin once and are encoded once (H.264, AAC for a soundtrack);
ffmpeg's tee muxer writes the same packets to ``live/stream.m3u8`` (a window of recent
segments, older ones deleted, so disk stays flat) and, with ``live.url``, to a streaming
site over RTMP (a site that drops the connection doesn't stop the HLS stream). Closing
ends the playlist (``#EXT-X-ENDLIST``: players show the end, not an error); a resumed
stream appends to the same playlist after a discontinuity, so its address stays the same.
"""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import imageio_ffmpeg
import numpy as np

from dream.errors import UserError
from render.live.secrets import redact, redact_text, stream_key
from render.media.chunk_writer import STOP_TIMEOUT_S
from render.media.encoder import close_ffmpeg, even_size_filter, log_tail
from render.media.run_folder import write_atomic

PLAYLIST = "stream.m3u8"
STATUS = "status.json"
SEGMENT_PATTERN = "segment_%06d.ts"
SEGMENT_SECONDS = 2  # short segments: a late viewer starts within a few seconds of now
WINDOW_SEGMENTS = 6  # segments listed in the playlist; older ones are deleted


@dataclass(frozen=True)
class LiveSettings:
    """What one live stream is: its folder, picture, rate, soundtrack and RTMP target."""

    folder: Path
    width: int
    height: int
    fps: Fraction
    url: str | None = None  # rtmp://... or rtmps://...
    audio: Path | None = None  # looped for as long as the stream runs
    audio_offset_s: float = 0.0  # where in the track the stream starts (a resumed stream continues the track)
    resume: bool = False  # append to the folder's playlist after a discontinuity
    preset: str = "veryfast"
    crf: int = 23


def tee_escape(target: str) -> str:
    """A file name or URL as one tee muxer slave: its special characters backslash-escaped."""
    for char in "\\'|[]":
        target = target.replace(char, "\\" + char)
    return target


def hls_slave(resume: bool) -> str:
    """The tee slave writing the rolling playlist (names relative to the live folder, ffmpeg's cwd)."""
    flags = "delete_segments+independent_segments" + ("+append_list+discont_start" if resume else "")
    options = (f"f=hls:hls_time={SEGMENT_SECONDS}:hls_list_size={WINDOW_SEGMENTS}:hls_flags={flags}:"
               f"hls_segment_filename={SEGMENT_PATTERN}")
    return f"[{options}]{PLAYLIST}"


def live_command(settings: LiveSettings) -> list[str]:
    """The ffmpeg command: rgb24 frames on stdin (+ a looping soundtrack) -> H.264/AAC -> HLS (+ RTMP)."""
    s = settings
    # errors only: an endless stream's log must not grow with per-packet warnings
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-v", "error", "-y"]
    cmd += ["-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{s.width}x{s.height}", "-r", str(s.fps), "-i", "-"]
    if s.audio is not None:
        # read at the track's own rate (the frames come at theirs), so -shortest never has to hold much audio back;
        # a resumed stream starts the loop where it was with atrim (-ss before a looped input goes back in time)
        cmd += ["-re", "-stream_loop", "-1", "-i", str(s.audio), "-map", "1:a:0"]
        cmd += ["-af", f"atrim=start={s.audio_offset_s:.6f},asetpts=PTS-STARTPTS"]
        cmd += ["-c:a", "aac", "-b:a", "160k", "-ar", "48000", "-shortest"]
    cmd += ["-map", "0:v:0"]  # the tee muxer takes only mapped streams
    even_args, _ = even_size_filter(s.width, s.height)
    keyframes = max(1, round(float(s.fps) * SEGMENT_SECONDS))  # one keyframe a segment: segments cut exactly
    cmd += [*even_args, "-c:v", "libx264", "-preset", s.preset, "-tune", "zerolatency", "-crf", str(s.crf)]
    cmd += ["-g", str(keyframes), "-keyint_min", str(keyframes), "-sc_threshold", "0", "-pix_fmt", "yuv420p"]
    slaves = [hls_slave(s.resume)]
    if s.url:
        slaves.append(f"[f=flv:onfail=ignore]{tee_escape(s.url)}")
    return [*cmd, "-flags", "+global_header", "-f", "tee", "|".join(slaves)]


def push_failure(line: str) -> bool:
    """True when an ffmpeg line says the RTMP push failed (tee: a slave that didn't open, or dropped out)."""
    return "Slave" in line and ("error opening" in line or "failed" in line)


class LiveStream:
    """One ffmpeg process writing the live folder; feed it (H, W, 3) uint8 frames at the stream's rate.

    ffmpeg starts with the first frame, so a soundtrack read in real time starts with the pictures. Its
    output is read line by line, the stream key masked, into ``ffmpeg.log``; a push that fails is told to
    ``on_push_failed`` at once (the HLS stream goes on).
    """

    def __init__(self, settings: LiveSettings, on_push_failed: Callable[[str], None] | None = None):
        self.settings = settings
        self.secrets = tuple(s for s in (stream_key(settings.url),) if s)
        self.on_push_failed = on_push_failed
        self.push_failed = False
        self._reader: threading.Thread | None = None
        self.folder = Path(settings.folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        if settings.resume:
            drop_unlisted_segments(self.folder)
        self.log_path = self.folder / "ffmpeg.log"
        self.frames = 0
        self._proc: subprocess.Popen | None = None

    def _start(self) -> None:
        # a session of its own: Ctrl-C reaches the render, which then ends the playlist properly
        self._proc = subprocess.Popen(live_command(self.settings), cwd=self.folder, stdin=subprocess.PIPE,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        self._reader = threading.Thread(target=self._read_output, name="LiveStreamLog", daemon=True)
        self._reader.start()

    def _read_output(self) -> None:
        """ffmpeg's lines into the log with the stream key masked; a failed push said at once."""
        with open(self.log_path, "ab") as log_file:
            for raw in self._proc.stderr:
                line = redact_text(raw.decode(errors="replace"), self.secrets)
                log_file.write(line.encode())
                log_file.flush()
                if push_failure(line) and not self.push_failed:
                    self.push_failed = True
                    if self.on_push_failed is not None:
                        self.on_push_failed(f"the push to {redact(self.settings.url or '')} failed: {line.strip()} "
                                            f"-- the page's stream goes on; check live.url and the site's ingest.")

    def _wait(self, timeout: float | None = None) -> int:
        """ffmpeg's exit status, once its output is all in the log."""
        code = self._proc.wait(timeout)
        if self._reader is not None:
            self._reader.join(5)
        return code

    @property
    def playlist(self) -> Path:
        return self.folder / PLAYLIST

    def write(self, pixels: np.ndarray) -> None:
        """Encode one (H, W, 3) uint8 frame."""
        if self._proc is None:
            self._start()
        try:
            self._proc.stdin.write(np.ascontiguousarray(pixels).data)
        except OSError:
            self._wait()
            raise self._error("streaming") from None
        self.frames += 1

    def close(self) -> None:
        """End the stream: ffmpeg writes the last segment and ends the playlist."""
        if self._proc is None:
            return  # no frame came: there is no stream to end
        if close_ffmpeg(self._proc, STOP_TIMEOUT_S, self._wait) != 0:
            raise self._error("ending the stream")

    def _error(self, what: str) -> UserError:
        return UserError(
            f"Live: ffmpeg failed while {what}. Its last words: {log_tail(self.log_path)} -- Check that "
            f"{self.folder} is writable with free disk space, and live.url if one is set."
        )


def drop_unlisted_segments(folder: Path) -> None:
    """Delete segments a stopped stream left behind that its playlist no longer lists (disk stays bounded)."""
    playlist = folder / PLAYLIST
    listed = set(playlist.read_text().split()) if playlist.is_file() else set()
    for segment in folder.glob("segment_*.ts"):
        if segment.name not in listed:
            segment.unlink(missing_ok=True)


def write_status(folder: Path, status: dict) -> None:
    """What the page shows under the video (cadence, falling behind, ended); replaced atomically."""
    write_atomic(Path(folder) / STATUS, json.dumps(status))
