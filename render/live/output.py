"""A render's live output: the page and its server, the HLS/RTMP stream fed at its frame rate, the status line.

``LiveOutput`` is one more place shown frames go (beside the mp4 file when ``live.record``
is on): a context manager with ``write(frame)``. Frames leave at the stream's rate through a
``Pacer`` (a render ahead of real time waits, one behind gets repeated frames, never a
stall), to the HLS/RTMP encode and the MJPEG view; ``say`` puts a line on the page's status
and in the log. With the render's timeline, the server answers ``/control`` and OSC listens
on ``live.osc_port`` (render/live/control.py). Leaving the ``with`` block (the end, Ctrl-C or
SIGTERM) sends the frames still queued, ends the playlist and says so on the page.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import torch

from render.config import LiveConfig, RenderConfig
from render.live.control import LiveControl
from render.live.mjpeg import FrameHub
from render.live.osc import OscControl
from render.live.page import write_page
from render.live.replay import LIVE_FOLDER, write_performance
from render.live.secrets import redact
from render.live.server import LiveServer
from render.live.stream import SEGMENT_SECONDS, LiveSettings, LiveStream, write_status
from render.media.encoder import fps_fraction, to_uint8_hwc
from render.media.pacer import Pacer
from render.timeline import Timeline

# How far the render may run ahead of the stream's clock: a change made live shows after this plus one dream
# (0.5 s: 1.22 s at 1 s on a quiet 2-core AMD EPYC, smoke at 256x144 at 0.08 s a frame), and the stream repeats
# frames rather than stall when a dream runs past it.
BUFFER_SECONDS = 0.5
LINGER_SECONDS = 3 * SEGMENT_SECONDS  # players play about 3 segments behind the end; they get to see it


class LiveOutput:
    """Streams shown frames live from ``run_dir/live`` (see the module docstring).

    Attributes:
        url: the page's address once entered.
        repeated: frames sent again because the render was late (from the pacer).
    """

    def __init__(self, live: LiveConfig, run_dir: Path, title: str, stream: LiveSettings,
                 log: Callable[[str], None] = print, linger_s: float | None = None,
                 control: LiveControl | None = None, first_index: int = 0):
        self.live, self.title, self.log, self.control = live, title, log, control
        self.linger_s = LINGER_SECONDS if linger_s is None else linger_s
        self.folder = Path(run_dir) / LIVE_FOLDER
        self.settings = replace(stream, folder=self.folder)
        self.url: str | None = None
        self.hub = FrameHub()
        self.next_index = first_index  # the shown frame the next write is (counted on from a resume point)
        self._stream: LiveStream | None = None
        self._pacer: Pacer | None = None
        self._server: LiveServer | None = None
        self._osc: OscControl | None = None
        self._message = f"{title}: live."

    @property
    def repeated(self) -> int:
        return self._pacer.repeated if self._pacer else 0

    def __enter__(self) -> LiveOutput:
        # the port first: a render refused because it is taken has written nothing into its run folder
        server = LiveServer(self.folder, self.live.host, self.live.port, announce=self.log,
                            control=self.control, hub=self.hub, token=self.live.token)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            write_page(self.folder, self.title)
            write_status(self.folder, {"state": "starting", "message": f"{self.title}: the first dream is on its way…"})
        except BaseException:
            server.close()
            raise
        self._server = server.__enter__()
        self.url = self._server.url
        if self.control is not None and self.live.osc_port is not None:
            self._osc = OscControl(self.control, self.live.host, self.live.osc_port, self.live.token,
                                   self.log).__enter__()
        self._stream = LiveStream(self.settings, on_push_failed=lambda line: self.say(line, log=True))
        self._pacer = Pacer(self._emit, float(self.settings.fps),
                            max(1, round(BUFFER_SECONDS * float(self.settings.fps)))).__enter__()
        if self.settings.url:
            self.log(f"Live: pushing the stream to {redact(self.settings.url)}.")
        return self

    def write(self, frame: torch.Tensor) -> None:
        """Queue one (1, 3, H, W) float frame in [0, 1] for the stream; waits while the render is ahead."""
        first = self._pacer.emitted == 0 and self._pacer.repeated == 0
        self._pacer.put((self.next_index, to_uint8_hwc(frame).cpu().numpy()))
        self.next_index += 1
        if first:
            self.say(self._message)

    def _emit(self, shown: tuple) -> None:
        """One tick of the stream's clock: frame (index, (H, W, 3) uint8) to the encode and the MJPEG view."""
        index, pixels = shown
        self._stream.write(pixels)
        self.hub.publish(index, pixels)

    def say(self, message: str, log: bool = False) -> None:
        """Show ``message`` on the page's status line (and in the log when ``log``)."""
        self._message = message
        write_status(self.folder, {"state": "live", "message": message})
        if log:
            self.log(f"Live: {message}")

    def __exit__(self, exc_type, exc, tb) -> bool:
        try:
            if self._pacer is not None:
                self._pacer.close()  # the frames still queued go out at the stream's rate
        finally:
            if self._osc is not None:
                self._osc.close()
            if self._stream is not None:
                self._stream.close()  # ends the playlist: players show the end
            write_status(self.folder, {"state": "ended", "message": f"{self.title}: the stream has ended."})
            write_performance(self.folder, self.next_index)  # replay=RUN_DIR renders these frames again
            if self._server is not None:
                self._linger()
                self._server.close()
        return False


    def _linger(self) -> None:
        """Keep serving a little after the end, so a viewer a few segments behind plays to the end."""
        if self.linger_s > 0 and self._stream is not None and self._stream.frames:
            self.log(f"Live: the stream has ended; the page stays up {self.linger_s:g} s more for viewers to reach "
                     f"the end.")
            time.sleep(self.linger_s)


def open_live(cfg: RenderConfig, run_dir: Path, picture: tuple, frames_done: int = 0,
              audio_seconds: float | None = None, log: Callable[[str], None] = print,
              timeline: Timeline | None = None) -> LiveOutput:
    """The live output of a render; a resumed one (``frames_done`` > 0) continues its playlist and soundtrack.

    Args:
        picture: (fps, width, height) of the frames.
        audio_seconds: the soundtrack's length, so a resumed stream picks the track up where it was.
        timeline: the render's timeline: the page, ``/control`` and OSC steer it (None: watch only).
    """
    fps, width, height = picture
    offset = (frames_done / float(fps)) % audio_seconds if cfg.audio and audio_seconds else 0.0
    settings = LiveSettings(
        Path(run_dir) / LIVE_FOLDER, width, height, fps_fraction(fps), url=cfg.live.url,
        audio=Path(cfg.audio) if cfg.audio else None, audio_offset_s=offset, resume=frames_done > 0,
    )
    folder = Path(run_dir) / LIVE_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    control = LiveControl(timeline, cfg, folder, log) if timeline is not None else None
    return LiveOutput(cfg.live, run_dir, cfg.preset, settings, log, control=control, first_index=frames_done)
