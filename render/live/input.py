"""A live source for the video dream (``live.input``): a video device, a stream URL or a looped file.

One ffmpeg process decodes the source, scaled to the render's size, into raw RGB frames; a
reader thread keeps only the newest of them (``LatestFrame``), so a dream slower than the
source never builds a backlog: the frames it had no time for are skipped, and counted. A file
plays at its own speed (``-re``) and loops (``-stream_loop -1``); a device is read through
ffmpeg's v4l2 input; a URL is anything ffmpeg reads (rtmp, srt, udp, http). When the source
ends or drops (a stream that stops), the reader opens it again after a short pause, so an
endless render waits for it instead of ending.
"""

from __future__ import annotations

import re
import subprocess
import threading
import time
from collections import deque
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import imageio_ffmpeg
import torch

from dream.errors import UserError

PROBE_TIMEOUT_S = 15.0  # a URL or device that gives no frame in this time is refused before the render starts
REOPEN_PAUSE_S = 1.0  # between a source that ended or dropped and opening it again
LOG_LINES_KEPT = 20  # ffmpeg's last lines, for the message when the source can't be read


def input_kind(spec: str) -> str:
    """'device' (/dev/video*), 'url' (scheme://...) or 'file'."""
    if spec.startswith("/dev/"):
        return "device"
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", spec):
        return "url"
    return "file"


def input_args(spec: str, kind: str, realtime: bool) -> list[str]:
    """ffmpeg's arguments opening ``spec``; ``realtime``: a file plays at its own speed and loops."""
    if kind == "device":
        return ["-f", "v4l2", "-i", spec]
    if kind == "url":
        return ["-fflags", "nobuffer", "-i", spec]  # the newest picture matters, not a smooth buffer
    return (["-re", "-stream_loop", "-1"] if realtime else []) + ["-i", str(Path(spec).expanduser())]


@dataclass(frozen=True)
class LiveSourceInfo:
    """What a live input gives, as probed before the render starts.

    Attributes:
        spec: ``live.input`` as given.
        kind: 'device', 'url' or 'file'.
        width, height: the source's picture in pixels.
        fps: the source's frame rate as ffmpeg reports it (a file's own; a stream's may be a guess).
    """

    spec: str
    kind: str
    width: int
    height: int
    fps: Fraction

    def as_meta(self) -> dict:
        return {"live_input": self.spec, "kind": self.kind, "width": self.width, "height": self.height,
                "fps_exact": str(self.fps)}


def probe_live_input(spec: str, timeout_s: float = PROBE_TIMEOUT_S) -> LiveSourceInfo:
    """Open ``spec`` with ffmpeg and decode one frame: its size and rate.

    Raises:
        UserError: ffmpeg can't open it, finds no video in it, or no frame comes within ``timeout_s``.
    """
    kind = input_kind(spec)
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", *input_args(spec, kind, realtime=False)]
    cmd += ["-map", "0:v:0", "-frames:v", "1", "-f", "framecrc", "-"]
    try:
        result = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise _unopenable(spec, kind, f"no frame came within {timeout_s:g} s", "") from None
    size = re.search(r"^#dimensions 0: (\d+)x(\d+)", result.stdout, re.M)
    rate = re.search(r"^#tb 0: (\d+)/(\d+)", result.stdout, re.M)
    if result.returncode != 0 or size is None or rate is None:
        raise _unopenable(spec, kind, "ffmpeg could not read a video frame from it", result.stderr)
    return LiveSourceInfo(spec, kind, int(size[1]), int(size[2]), Fraction(int(rate[2]), int(rate[1])))


def _unopenable(spec: str, kind: str, problem: str, ffmpeg_output: str) -> UserError:
    tail = " ".join(ffmpeg_output.strip().splitlines()[-3:])[-400:]
    fixes = {
        "device": "check that the camera is connected and not in use by another program (ls /dev/video*)",
        "url": "check that the stream is running and the address is right, e.g. live.input=udp://127.0.0.1:5000 "
               "or 'live.input=srt://HOST:PORT' (quote it in the shell)",
        "file": "pass an existing video file, e.g. live.input=clip.mp4",
    }
    return UserError(f"live.input={spec} can't be used: {problem}" + (f" (ffmpeg: {tail})" if tail else "")
                     + f". {fixes[kind][0].upper()}{fixes[kind][1:]}.")


class LatestFrame:
    """A one-frame mailbox: ``put`` replaces the frame, ``take`` waits for one it has not given yet.

    Attributes:
        received: frames put in all.
        skipped: frames replaced before anyone took them (the reader was ahead of the dream).
    """

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._frame: bytes | None = None
        self._fresh = False
        self.received = self.skipped = 0

    def put(self, frame: bytes) -> None:
        with self._changed:
            self.skipped += self._fresh
            self._frame, self._fresh = frame, True
            self.received += 1
            self._changed.notify_all()

    def take(self, timeout_s: float) -> bytes | None:
        """The newest frame not taken yet, waiting up to ``timeout_s`` for one; None when none came."""
        with self._changed:
            if not self._changed.wait_for(lambda: self._fresh, timeout_s):
                return None
            self._fresh = False
            return self._frame


class LiveInput:
    """Decodes ``live.input`` at (width, height) from a thread, keeping the newest frame (module docstring).

    A context manager: entering starts ffmpeg, leaving stops it. ``next_frame`` hands the dream the newest
    frame it has not had yet.

    Attributes:
        reopened: how often the source ended or dropped and was opened again.
    """

    def __init__(self, spec: str, width: int, height: int, log=lambda line: None):
        self.spec, self.kind, self.width, self.height, self.log = spec, input_kind(spec), width, height, log
        self.latest = LatestFrame()
        self.reopened = 0
        self.ffmpeg_lines: deque[str] = deque(maxlen=LOG_LINES_KEPT)
        self._stopping = threading.Event()
        self._proc: subprocess.Popen | None = None
        self._thread = threading.Thread(target=self._run, name="LiveInput", daemon=True)

    def command(self) -> list[str]:
        """ffmpeg: the source -> rgb24 frames of the render's size on stdout."""
        cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error"]
        cmd += input_args(self.spec, self.kind, realtime=True)
        cmd += ["-map", "0:v:0", "-an", "-sn", "-fps_mode", "passthrough", "-vf", f"scale={self.width}:{self.height}"]
        return [*cmd, "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]

    def __enter__(self) -> LiveInput:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> bool:
        self.close()
        return False

    def close(self) -> None:
        """Stop ffmpeg and the reader thread."""
        self._stopping.set()
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.kill()
        if self._thread.is_alive():
            self._thread.join(5)

    def next_frame(self, device: torch.device, timeout_s: float) -> torch.Tensor | None:
        """(1, 3, H, W) float in [0, 1]: the newest frame not handed out yet; None when none came in ``timeout_s``."""
        raw = self.latest.take(timeout_s)
        if raw is None:
            return None
        pixels = torch.frombuffer(bytearray(raw), dtype=torch.uint8).view(self.height, self.width, 3)
        return pixels.to(device).permute(2, 0, 1).unsqueeze(0).float().div_(255)

    def _run(self) -> None:
        """Read the source until closed, opening it again whenever it ends or drops."""
        while not self._stopping.is_set():
            self._read_once()
            if self._stopping.wait(REOPEN_PAUSE_S):
                return
            self.reopened += 1
            self.log(f"Live input: {self.spec} ended or dropped ({self.last_words()}); opening it again.")

    def _read_once(self) -> None:
        """One ffmpeg process's frames into ``latest``, until it ends."""
        self._proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, start_new_session=True)
        threading.Thread(target=self._keep_log, args=(self._proc,), name="LiveInputLog", daemon=True).start()
        frame_bytes = self.width * self.height * 3
        try:
            while not self._stopping.is_set():
                raw = self._proc.stdout.read(frame_bytes)
                if len(raw) < frame_bytes:
                    return
                self.latest.put(raw)
        finally:
            if self._proc.poll() is None:
                self._proc.kill()
            self._proc.wait()
            self._proc.stdout.close()

    def _keep_log(self, proc: subprocess.Popen) -> None:
        for raw in proc.stderr:
            self.ffmpeg_lines.append(raw.decode(errors="replace").strip())
        proc.stderr.close()

    def last_words(self) -> str:
        return " ".join(self.ffmpeg_lines)[-300:] or "no message from ffmpeg"


def wait_for_frames(source: LiveInput, count: int, timeout_s: float) -> bool:
    """True once ``source`` has received ``count`` frames; False when ``timeout_s`` passed first (tests, tools)."""
    deadline = time.monotonic() + timeout_s
    while source.latest.received < count:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True
