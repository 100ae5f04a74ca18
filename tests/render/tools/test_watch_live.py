"""The live page in a real browser (headless Chromium): it plays the rolling stream, the picture moves, it ends."""

from __future__ import annotations

import threading
from fractions import Fraction

import numpy as np
import pytest

from render.live.page import write_page
from render.live.server import LiveServer
from render.live.stream import LiveSettings, LiveStream
from render.media.pacer import Pacer
from render.tools.watch_live import find_browser, main, watch

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(find_browser() is None, reason="needs Chromium (apt-get install chromium)"),
]
W, H, FPS = 128, 72, 12


def moving_frame(index: int) -> np.ndarray:
    """(H, W, 3) uint8: a bright bar that sweeps across a dark frame, one step a frame."""
    pixels = np.full((H, W, 3), 30, np.uint8)
    x = (index * 4) % (W - 16)
    pixels[:, x:x + 16] = (240, 200, 60)
    return pixels


def feed(stream: LiveStream, frames: int) -> None:
    """Send ``frames`` frames at the stream's real rate, then end the stream."""
    with Pacer(stream.write, FPS, buffer_frames=FPS) as pacer:
        for index in range(frames):
            pacer.put(moving_frame(index))
    stream.close()


@pytest.fixture
def live_site(tmp_path):
    """A live folder with the page, served on a free port; yields (folder, page address)."""
    write_page(tmp_path, "test stream")
    with LiveServer(tmp_path, "127.0.0.1", 0, announce=lambda line: None) as server:
        yield tmp_path, server.url


def test_the_page_plays_the_stream_while_it_is_made(live_site):
    folder, url = live_site
    stream = LiveStream(LiveSettings(folder, W, H, Fraction(FPS), preset="ultrafast"))
    feeder = threading.Thread(target=feed, args=(stream, FPS * 16))
    feeder.start()
    try:
        report = watch(url, seconds=14, stop_when_ended=False)
    finally:
        feeder.join()
    assert report.error is None
    assert report.first_play_s is not None and report.played_s > 4  # playback started and went on
    assert report.longest_stall_s < 1.0
    assert report.pictures >= 4  # the picture moved


def test_a_finished_stream_shows_its_end(live_site, capsys):
    folder, url = live_site
    stream = LiveStream(LiveSettings(folder, W, H, Fraction(FPS), preset="ultrafast"))
    for index in range(FPS * 3):
        stream.write(moving_frame(index))
    stream.close()
    report = watch(url, seconds=20)
    assert report.ended and report.error is None
    assert report.played_s == pytest.approx(3.0, abs=0.2)
    assert main([url, "--seconds", "8"]) == 0
    assert '"ended": true' in capsys.readouterr().out
