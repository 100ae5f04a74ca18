"""Live stream: a rolling HLS window that ends properly, resumes after a discontinuity, loops audio, pushes RTMP."""

from __future__ import annotations

import json
import socket
import subprocess
import time
from fractions import Fraction
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest

from render.live.stream import (
    PLAYLIST,
    WINDOW_SEGMENTS,
    LiveSettings,
    LiveStream,
    drop_unlisted_segments,
    live_command,
    tee_escape,
    write_status,
)

W, H, FPS = 64, 48, Fraction(12)
FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()


def level_frame(index: int) -> np.ndarray:
    """(H, W, 3) uint8 flat grey whose level tells ``index`` back after lossy encoding."""
    return np.full((H, W, 3), 16 + 8 * (index % 28), np.uint8)


def stream_frames(settings: LiveSettings, count: int, first: int = 0) -> LiveStream:
    stream = LiveStream(settings)
    for index in range(first, first + count):
        stream.write(level_frame(index))
    stream.close()
    return stream


def levels(count: int, first: int = 0) -> list[int]:
    """What ``decoded_levels`` reads back from frames ``first .. first + count - 1``."""
    return [index % 28 for index in range(first, first + count)]


def decoded_levels(path: str) -> list[int]:
    reader = imageio_ffmpeg.read_frames(path)
    next(reader)
    return [round((float(np.frombuffer(raw, np.uint8).mean()) - 16) / 8) for raw in reader]


def probe(path: Path) -> str:
    return subprocess.run([FFMPEG, "-hide_banner", "-i", str(path)], capture_output=True, text=True).stderr


def test_a_finite_stream_is_a_playlist_that_ends(tmp_path):
    stream = stream_frames(LiveSettings(tmp_path, W, H, FPS, preset="ultrafast"), 36)
    playlist = stream.playlist.read_text()
    assert playlist.rstrip().endswith("#EXT-X-ENDLIST")  # players show the end, not an error
    assert "#EXT-X-DISCONTINUITY" not in playlist
    assert decoded_levels(str(stream.playlist)) == levels(36)
    assert stream.frames == 36


def test_the_window_rolls_and_old_segments_are_deleted(tmp_path):
    stream_frames(LiveSettings(tmp_path, W, H, FPS, preset="ultrafast"), 12 * 2 * (WINDOW_SEGMENTS + 4))
    listed = [line for line in (tmp_path / PLAYLIST).read_text().split() if line.endswith(".ts")]
    on_disk = sorted(p.name for p in tmp_path.glob("*.ts"))
    assert len(listed) == WINDOW_SEGMENTS
    assert listed[-1] == "segment_000009.ts"  # 10 segments made, the first ones gone
    assert len(on_disk) <= WINDOW_SEGMENTS + 2  # ffmpeg keeps one or two past the window while players read them


def test_a_resumed_stream_continues_the_same_playlist_after_a_discontinuity(tmp_path):
    settings = LiveSettings(tmp_path, W, H, FPS, preset="ultrafast")
    stream_frames(settings, 24)
    (tmp_path / "segment_000099.ts").write_bytes(b"left over")
    stream_frames(LiveSettings(tmp_path, W, H, FPS, preset="ultrafast", resume=True), 24, first=24)
    playlist = (tmp_path / PLAYLIST).read_text()
    assert playlist.count("#EXT-X-ENDLIST") == 1 and playlist.rstrip().endswith("#EXT-X-ENDLIST")
    before, after = playlist.split("#EXT-X-DISCONTINUITY\n#EXTINF")[:2]
    assert "segment_000000.ts" in before and "segment_000001.ts" in after
    assert not (tmp_path / "segment_000099.ts").exists()
    assert decoded_levels(str(tmp_path / PLAYLIST)) == levels(48)


def test_the_soundtrack_loops_for_as_long_as_the_stream(tmp_path):
    track = tmp_path / "beep.wav"
    subprocess.run([FFMPEG, "-v", "error", "-f", "lavfi", "-i", "sine=frequency=440:duration=0.5", str(track)],
                   check=True)
    folder = tmp_path / "live"
    stream_frames(LiveSettings(folder, W, H, FPS, audio=track, preset="ultrafast"), 36)  # 3 s of video
    report = probe(folder / PLAYLIST)
    assert "Audio: aac" in report
    audio_seconds = float(subprocess.run(
        [FFMPEG, "-v", "error", "-i", str(folder / PLAYLIST), "-map", "0:a", "-f", "null", "-stats", "-"],
        capture_output=True, text=True).stderr.rsplit("time=", 1)[1].split()[0].split(":")[-1])
    assert audio_seconds == pytest.approx(3.0, abs=0.15)  # 6 loops of the 0.5 s track, cut with the video


def test_command_is_one_encode_teed_to_hls_and_rtmp(tmp_path):
    cmd = live_command(LiveSettings(tmp_path, W, H, FPS, url="rtmp://127.0.0.1:1935/live/key"))
    assert cmd.count("-c:v") == 1 and cmd[cmd.index("-f", cmd.index("-c:v")) + 1] == "tee"
    hls, rtmp = cmd[-1].split("|")
    assert hls.endswith("]stream.m3u8") and "delete_segments" in hls and "append_list" not in hls
    assert rtmp == "[f=flv:onfail=ignore]rtmp://127.0.0.1:1935/live/key"
    assert tee_escape("rtmp://h/a|b[c]") == "rtmp://h/a\\|b\\[c\\]"


def test_odd_sizes_are_padded_to_even(tmp_path):
    folder = tmp_path / "odd"
    stream = LiveStream(LiveSettings(folder, 63, 47, FPS, preset="ultrafast"))
    for _ in range(6):
        stream.write(np.zeros((47, 63, 3), np.uint8))
    stream.close()
    assert "64x48" in probe(folder / PLAYLIST)


def test_unlisted_segments_are_dropped(tmp_path):
    (tmp_path / PLAYLIST).write_text("#EXTM3U\n#EXTINF:2.0,\nsegment_000003.ts\n")
    for name in ("segment_000002.ts", "segment_000003.ts"):
        (tmp_path / name).write_bytes(b"x")
    drop_unlisted_segments(tmp_path)
    assert sorted(p.name for p in tmp_path.glob("*.ts")) == ["segment_000003.ts"]


def test_status_is_replaced_whole(tmp_path):
    write_status(tmp_path, {"message": "Cadence 2"})
    assert json.loads((tmp_path / "status.json").read_text()) == {"message": "Cadence 2"}
    assert not list(tmp_path.glob("*.partial"))


def free_port() -> int:
    with socket.socket() as probe_socket:
        probe_socket.bind(("127.0.0.1", 0))
        return probe_socket.getsockname()[1]


def test_rtmp_listener_receives_the_rendered_frames(tmp_path):
    port, received = free_port(), tmp_path / "received.flv"
    listener = subprocess.Popen(
        [FFMPEG, "-v", "error", "-y", "-listen", "1", "-timeout", "20", "-i", f"rtmp://127.0.0.1:{port}/live/test",
         "-c", "copy", str(received)], stdin=subprocess.DEVNULL)
    try:
        time.sleep(1.0)  # the listener binds its port
        settings = LiveSettings(tmp_path / "live", W, H, FPS, url=f"rtmp://127.0.0.1:{port}/live/test",
                                preset="ultrafast")
        stream_frames(settings, 40)
        assert listener.wait(20) == 0
    finally:
        listener.kill()
    assert decoded_levels(str(received)) == levels(40)  # every frame, in order, the same pictures
    assert decoded_levels(str(tmp_path / "live" / PLAYLIST)) == levels(40)


def test_a_push_that_cannot_connect_is_said_at_once_and_the_key_stays_out_of_the_log(tmp_path):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # nothing listens there once the socket is closed
    said: list[str] = []
    settings = LiveSettings(tmp_path, W, H, FPS, url=f"rtmp://127.0.0.1:{port}/live/KEY-1234-secret",
                            preset="ultrafast")
    stream = LiveStream(settings, on_push_failed=said.append)
    stream.write(level_frame(0))
    deadline = time.monotonic() + 10
    while not said and time.monotonic() < deadline:
        stream.write(level_frame(1))
        time.sleep(0.05)
    assert said and "failed" in said[0] and "KEY-1234" not in said[0] and "********" in said[0]
    stream.close()  # the HLS side went on: the playlist ends properly
    assert (tmp_path / PLAYLIST).read_text().rstrip().endswith("#EXT-X-ENDLIST")
    assert "KEY-1234" not in (tmp_path / "ffmpeg.log").read_text()
