"""The low-latency view: the latest shown frame as JPEG, sent to each viewer as it changes (MJPEG over HTTP).

HLS plays seconds behind (whole segments); a ``multipart/x-mixed-replace`` stream of JPEGs shows each
frame as it leaves for the stream. ``FrameHub`` keeps the latest frame (its index and pixels) and
encodes it once, only when someone watches; each part carries its frame's index (``X-Frame``), so a
client can tell when a change it made shows.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator

import numpy as np
from PIL import Image

BOUNDARY = "dreamframe"
CONTENT_TYPE = f"multipart/x-mixed-replace; boundary={BOUNDARY}"
JPEG_QUALITY = 85
WAIT_S = 1.0  # a viewer with no new frame checks this often whether the stream has ended


class FrameHub:
    """The latest shown frame, handed from the stream's clock thread to the MJPEG viewers' threads."""

    def __init__(self):
        self._changed = threading.Condition()
        self._index, self._pixels, self._jpeg = -1, None, None
        self.closed = False

    def publish(self, index: int, pixels: np.ndarray) -> None:
        """Frame ``index`` ((H, W, 3) uint8) is being shown; the same index again (a repeat) changes nothing."""
        with self._changed:
            if index == self._index:
                return
            self._index, self._pixels, self._jpeg = index, pixels, None
            self._changed.notify_all()

    def close(self) -> None:
        """The stream has ended: every viewer's stream ends."""
        with self._changed:
            self.closed = True
            self._changed.notify_all()

    def frames(self) -> Iterator[tuple[int, bytes]]:
        """(index, JPEG) of each new frame from now on, until ``close``; the current one first."""
        seen = -1
        while True:
            with self._changed:
                self._changed.wait_for(lambda last=seen: self.closed or self._index > last, WAIT_S)
                if self.closed:
                    return
                if self._index <= seen:
                    continue
                seen = self._index
                if self._jpeg is None:
                    self._jpeg = encode_jpeg(self._pixels)
                jpeg = self._jpeg
            yield seen, jpeg


def encode_jpeg(pixels: np.ndarray) -> bytes:
    """(H, W, 3) uint8 RGB as JPEG bytes."""
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue()


def part(index: int, jpeg: bytes) -> bytes:
    """One part of the multipart stream: its headers (the frame's index) and the JPEG."""
    head = (f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n"
            f"X-Frame: {index}\r\n\r\n")
    return head.encode() + jpeg + b"\r\n"
