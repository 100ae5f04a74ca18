import socket
import subprocess
import threading

import imageio_ffmpeg
import pytest
import torch

from dream.errors import UserError
from render.live.input import LatestFrame, LiveInput, input_kind, probe_live_input, wait_for_frames
from tests.render.media.test_video_source import make_clip

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def short_clip(tmp_path_factory):
    """5 frames at 25 fps (0.2 s): a looped reader passes its end many times in a second or two."""
    return make_clip(tmp_path_factory.mktemp("input") / "short.mp4", "48x32", "25", 5, audio=False)


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_input_kinds():
    assert input_kind("/dev/video0") == "device"
    assert input_kind("udp://127.0.0.1:5000") == "url" and input_kind("srt://host:9000?mode=caller") == "url"
    assert input_kind("clip.mp4") == "file" and input_kind("C:/clips/a.mp4") == "file"


def test_the_mailbox_keeps_only_the_newest_frame_and_counts_the_skipped():
    latest = LatestFrame()
    for frame in (b"1", b"2", b"3"):
        latest.put(frame)
    assert latest.take(0.1) == b"3" and latest.skipped == 2 and latest.received == 3
    assert latest.take(0.05) is None  # nothing new: no frame is handed out twice
    threading.Timer(0.05, latest.put, (b"4",)).start()
    assert latest.take(5.0) == b"4"  # waits for the next one


def test_the_reader_keeps_only_the_latest_frame_at_the_render_size(short_clip):
    with LiveInput(str(short_clip), 24, 16) as source:
        assert wait_for_frames(source, 10, timeout_s=30)
        frame = source.next_frame(CPU, timeout_s=5)
        assert frame.shape == (1, 3, 16, 24) and 0.0 <= frame.min() and frame.max() <= 1.0
        assert source.latest.skipped >= 9  # the frames nobody took were dropped, not queued


def test_a_looped_file_goes_on_past_its_end(short_clip):
    with LiveInput(str(short_clip), 48, 32) as source:
        assert wait_for_frames(source, 15, timeout_s=30)  # three times its 5 frames
        assert source.reopened == 0  # looped by ffmpeg, not opened again


@pytest.mark.slow  # ffmpeg analyses an MPEG-TS stream for about 5 s, twice (probe, reader)
def test_a_url_served_by_a_local_ffmpeg_is_read(short_clip):
    url = f"udp://127.0.0.1:{free_udp_port()}"
    server = subprocess.Popen([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-re", "-stream_loop", "-1", "-i",
                               str(short_clip), "-c:v", "mpeg2video", "-g", "5", "-f", "mpegts", url],
                              stdin=subprocess.DEVNULL)
    try:
        info = probe_live_input(url, timeout_s=30)
        assert (info.kind, info.width, info.height) == ("url", 48, 32)
        with LiveInput(url, 48, 32) as source:
            assert wait_for_frames(source, 5, timeout_s=30)
            assert source.next_frame(CPU, timeout_s=5).shape == (1, 3, 32, 48)
    finally:
        server.kill()
        server.wait()


def test_a_file_is_probed_for_its_size_and_rate(short_clip):
    info = probe_live_input(str(short_clip))
    assert (info.kind, info.width, info.height, info.fps) == ("file", 48, 32, 25)


def test_what_ffmpeg_cant_open_is_refused_with_the_fix(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not a video")
    with pytest.raises(UserError, match="live.input=.*notes.txt can't be used.*existing video file"):
        probe_live_input(str(text))
    silent = f"udp://127.0.0.1:{free_udp_port()}"  # nothing is sent there
    with pytest.raises(UserError, match="no frame came within 1 s. Check that the stream is running"):
        probe_live_input(silent, timeout_s=1)
