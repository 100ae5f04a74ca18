"""MJPEG view: the latest frame once per index, encoded as JPEG, parts carrying their frame's index."""

from __future__ import annotations

import io
import threading

import numpy as np
from PIL import Image

from render.live.mjpeg import BOUNDARY, FrameHub, encode_jpeg, part


def test_each_new_frame_is_handed_once_and_close_ends_the_stream():
    hub = FrameHub()
    got: list[int] = []
    reader = threading.Thread(target=lambda: got.extend(index for index, _ in hub.frames()))
    hub.publish(0, np.zeros((8, 8, 3), np.uint8))
    reader.start()
    for index in (0, 1, 1, 2):  # a repeat (the same index) is not sent again
        hub.publish(index, np.full((8, 8, 3), index * 50, np.uint8))
        threading.Event().wait(0.05)
    hub.close()
    reader.join(5)
    assert not reader.is_alive() and got == sorted(set(got)) and got[-1] == 2


def test_a_part_is_a_jpeg_with_its_index():
    jpeg = encode_jpeg(np.full((6, 10, 3), 200, np.uint8))
    assert Image.open(io.BytesIO(jpeg)).size == (10, 6)
    data = part(7, jpeg)
    assert data.startswith(f"--{BOUNDARY}\r\n".encode()) and b"X-Frame: 7\r\n" in data and data.endswith(b"\r\n")
