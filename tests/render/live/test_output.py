"""Live output: page, server, paced stream and status together; leaving it ends the playlist and says so."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from fractions import Fraction

import pytest
import torch

from render.config import LiveConfig
from render.live.output import LiveOutput
from render.live.stream import LiveSettings

W, H, FPS = 64, 48, Fraction(24)


def frame(index: int) -> torch.Tensor:
    return torch.full((1, 3, H, W), (index % 20) / 20)


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=5) as reply:
        return reply.read()


def open_live(tmp_path, lines: list[str]) -> LiveOutput:
    return LiveOutput(LiveConfig(enabled=True, port=0), tmp_path, "smoke",
                      LiveSettings(tmp_path, W, H, FPS, preset="ultrafast"), log=lines.append, linger_s=0)


def test_frames_stream_while_the_page_is_served_and_the_end_is_shown(tmp_path):
    lines: list[str] = []
    with open_live(tmp_path, lines) as live:
        assert b"<video" in fetch(live.url)
        for index in range(30):
            live.write(frame(index))
        live.say("Cadence 2: one dream every 2 frames.", log=True)
        assert json.loads(fetch(live.url + "status.json"))["message"].startswith("Cadence 2")
        url = live.url
    folder = tmp_path / "live"
    assert (folder / "stream.m3u8").read_text().rstrip().endswith("#EXT-X-ENDLIST")
    assert json.loads((folder / "status.json").read_text())["state"] == "ended"
    assert any("this machine only" in line for line in lines) and "Live: Cadence 2" in lines[-1]
    with pytest.raises(urllib.error.URLError):
        fetch(url)  # the server has let go of its port


def test_an_interrupt_still_ends_the_playlist(tmp_path):
    with pytest.raises(KeyboardInterrupt), open_live(tmp_path, []) as live:
        for index in range(6):
            live.write(frame(index))
        raise KeyboardInterrupt
    assert (tmp_path / "live" / "stream.m3u8").read_text().rstrip().endswith("#EXT-X-ENDLIST")


def test_open_live_reads_the_config_and_continues_a_resumed_stream(tmp_path):
    from omegaconf import OmegaConf

    from render.config import RenderConfig
    from render.live.output import open_live

    cfg = OmegaConf.structured(RenderConfig)
    cfg.merge_with({"preset": "zoom_places", "width": 256, "height": 144, "fps": 12, "audio": "song.wav",
                    "live": {"enabled": True, "url": "rtmp://127.0.0.1/live/key"}})
    fresh = open_live(cfg, tmp_path, (12, 256, 144))
    assert fresh.settings.folder == tmp_path / "live" and not fresh.settings.resume
    assert (fresh.settings.width, fresh.settings.height, fresh.settings.fps) == (256, 144, 12)
    assert fresh.settings.url == "rtmp://127.0.0.1/live/key" and fresh.title == "zoom_places"
    resumed = open_live(cfg, tmp_path, (12, 256, 144), frames_done=12 * 25, audio_seconds=10.0)
    assert resumed.settings.resume and resumed.settings.audio_offset_s == pytest.approx(5.0)  # 25 s into a 10 s loop


def test_a_taken_port_writes_nothing_into_the_run_folder(tmp_path):
    import socket

    from dream.errors import UserError

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        output = LiveOutput(LiveConfig(enabled=True, port=taken.getsockname()[1]), tmp_path, "smoke",
                            LiveSettings(tmp_path, W, H, FPS, preset="ultrafast"), log=lambda line: None, linger_s=0)
        with pytest.raises(UserError, match="is taken"):
            output.__enter__()
    assert list(tmp_path.iterdir()) == []
