"""Live server: the page and the stream's files (traversal, listing, symlinks, writes refused), control, MJPEG."""

from __future__ import annotations

import http.client
import json
import os
import socket
from pathlib import Path

import numpy as np
import pytest

from dream.errors import UserError
from render.live.mjpeg import FrameHub
from render.live.server import LiveServer, listening_note, resolve_request


@pytest.fixture
def live_folder(tmp_path: Path) -> Path:
    """A run folder holding a secret, and its live folder with a page, a playlist, a segment and a sub-folder."""
    (tmp_path / "secret.json").write_text('{"key": "do not serve"}')
    folder = tmp_path / "live"
    folder.mkdir()
    (folder / "index.html").write_text("<video></video>")
    (folder / "stream.m3u8").write_text("#EXTM3U\nsegment_000000.ts\n")
    (folder / "segment_000000.ts").write_bytes(b"\x47" * 188)
    (folder / "ffmpeg.log").write_text("encoder chatter")
    (folder / "sub").mkdir()
    (folder / "sub" / "stream.m3u8").write_text("#EXTM3U\n")
    (folder / "link.m3u8").symlink_to(tmp_path / "secret.json")
    return folder


@pytest.fixture
def server(live_folder: Path):
    with LiveServer(live_folder, "127.0.0.1", 0, announce=lambda line: None) as running:
        yield running


def request(server: LiveServer, path: str, method: str = "GET") -> tuple[int, bytes, dict]:
    """Send ``path`` exactly as written (no client-side normalisation) and return (status, body, headers)."""
    connection = http.client.HTTPConnection(server.host, server.port, timeout=5)
    connection.putrequest(method, path, skip_accept_encoding=True)
    connection.endheaders()
    reply = connection.getresponse()
    body = reply.read()
    connection.close()
    return reply.status, body, dict(reply.getheaders())


def test_serves_the_page_at_the_root(server):
    status, body, headers = request(server, "/")
    assert status == 200 and body == b"<video></video>"
    assert headers["Content-Type"].startswith("text/html")


def test_serves_the_playlist_and_segments_with_their_types(server):
    status, body, headers = request(server, "/stream.m3u8")
    assert status == 200 and body.startswith(b"#EXTM3U")
    assert headers["Content-Type"] == "application/vnd.apple.mpegurl" and headers["Cache-Control"] == "no-cache"
    status, body, headers = request(server, "/segment_000000.ts?cache=1")
    assert status == 200 and len(body) == 188 and headers["Content-Type"] == "video/mp2t"


def test_head_answers_without_a_body(server):
    status, body, headers = request(server, "/stream.m3u8", "HEAD")
    assert status == 200 and body == b"" and int(headers["Content-Length"]) > 0


@pytest.mark.parametrize(
    "path",
    ["/../secret.json", "/..%2fsecret.json", "/%2e%2e/secret.json", "/%2e%2e%2fsecret.json", "//etc/passwd",
     "/%2fetc%2fpasswd", "/sub/stream.m3u8", "/sub/", "/sub", "/..", "/./index.html", "/link.m3u8",
     "/..%5csecret.json"],
)
def test_traversal_absolute_paths_subfolders_and_symlinks_are_forbidden(server, path):
    status, body, _ = request(server, path)
    assert status == 403
    assert b"do not serve" not in body


@pytest.mark.parametrize("path", ["/secret.json", "/missing.ts", "/ffmpeg.log", "/index.html.partial"])
def test_files_outside_the_stream_or_missing_are_not_found(server, path):
    status, body, _ = request(server, path)
    assert status == 404 and b"do not serve" not in body and b"chatter" not in body


def test_folders_are_never_listed(server):
    for path in ("/sub/", "/sub"):
        status, body, _ = request(server, path)
        assert status in (403, 404) and b"stream.m3u8" not in body


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_writes_are_refused_and_change_nothing(server, live_folder, method):
    status, _, _ = request(server, "/stream.m3u8", method)
    assert status == 405
    assert (live_folder / "stream.m3u8").read_text().startswith("#EXTM3U")


def test_resolve_request_maps_only_direct_children(live_folder):
    assert resolve_request(live_folder, "/")[1] == live_folder / "index.html"
    assert resolve_request(live_folder, "/stream.m3u8?t=1")[1] == live_folder / "stream.m3u8"
    assert resolve_request(live_folder, "/sub/stream.m3u8") == (403, None)


def test_a_taken_port_is_a_clear_error(live_folder):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(UserError, match=f"port {port}.*live.port="):
            LiveServer(live_folder, "127.0.0.1", port)


def test_the_log_says_where_it_listens_and_who_can_reach_it(live_folder):
    lines = []
    with LiveServer(live_folder, "127.0.0.1", 0, announce=lines.append) as running:
        assert lines == [listening_note("127.0.0.1", running.port)]
    assert "this machine only" in lines[0] and f":{running.port}/" in lines[0]
    assert "reachable from the network" in listening_note("0.0.0.0", 8000)


def test_listens_on_localhost_by_default(live_folder):
    server = LiveServer(live_folder, port=0, announce=lambda line: None)
    try:
        assert server.host == "127.0.0.1" and server.url == f"http://127.0.0.1:{server.port}/"
    finally:
        server.close()


def test_read_only_server_does_not_touch_the_folder(server, live_folder):
    before = sorted(os.listdir(live_folder))
    for path in ("/", "/stream.m3u8", "/../x", "/new.m3u8"):
        request(server, path)
    assert sorted(os.listdir(live_folder)) == before


def test_a_taken_port_is_found_before_anything_is_written(live_folder):
    from render.live.server import check_port_free

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(UserError, match=f"port {port}.*live.port="):
            check_port_free("127.0.0.1", port)
    check_port_free("127.0.0.1", 0)


class Control:
    """A stand-in for LiveControl: values it answers, changes it takes (a zoom of 0 is refused)."""

    def __init__(self):
        self.applied: list[dict] = []

    def current(self) -> dict:
        return {"frame": 3, "values": {"motion.zoom": 1.04}, "specs": {"motion.zoom": 1.04}}

    def apply(self, changes: dict) -> dict:
        if changes.get("motion.zoom") == 0:
            raise UserError("Config key 'motion.zoom' (0) is 0 at frame 4, but must be above 0.")
        self.applied.append(changes)
        return {key: 4 for key in changes}


def send(port: int, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    connection.request(method, path, body=body, headers=headers or {})
    reply = connection.getresponse()
    data = reply.read()
    connection.close()
    return reply.status, data


@pytest.fixture
def controlled(live_folder):
    control, hub = Control(), FrameHub()
    with LiveServer(live_folder, "127.0.0.1", 0, announce=lambda line: None, control=control, hub=hub,
                    token="s3cret") as running:
        yield running, control, hub


def test_control_reads_and_changes_with_the_token(controlled):
    server, control, _ = controlled
    status, body = send(server.port, "GET", "/control?token=s3cret")
    assert status == 200 and json.loads(body)["values"] == {"motion.zoom": 1.04}
    status, body = send(server.port, "POST", "/control", json.dumps({"motion.zoom": 1.08}).encode(),
                        {"Authorization": "Bearer s3cret", "Content-Type": "application/json"})
    assert status == 200 and json.loads(body) == {"applied": {"motion.zoom": 4}}
    assert control.applied == [{"motion.zoom": 1.08}]


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic s3cret"}])
def test_control_without_the_token_is_401_and_changes_nothing(controlled, headers):
    server, control, _ = controlled
    assert send(server.port, "GET", "/control", headers=headers)[0] == 401
    assert send(server.port, "POST", "/control", b'{"motion.zoom": 1.1}', headers)[0] == 401
    assert send(server.port, "POST", "/control?token=nope", b'{"motion.zoom": 1.1}')[0] == 401
    assert control.applied == []


@pytest.mark.parametrize(("body", "message"), [(b'{"motion.zoom": 0}', "must be above 0"),
                                               (b"[1, 2]", "JSON object"), (b"{not json", "JSON object"),
                                               (b"", "JSON object")])
def test_a_bad_change_is_400_with_the_reason(controlled, body, message):
    server, control, _ = controlled
    status, reply = send(server.port, "POST", "/control?token=s3cret", body)
    assert status == 400 and message in json.loads(reply)["error"] and control.applied == []


def test_the_mjpeg_view_sends_each_new_frame_with_its_index(controlled):
    server, _, hub = controlled
    hub.publish(5, np.full((8, 8, 3), 90, np.uint8))
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    connection.request("GET", "/mjpeg")
    reply = connection.getresponse()
    assert reply.status == 200 and reply.getheader("Content-Type").startswith("multipart/x-mixed-replace")
    head = reply.fp.read(120)
    assert b"X-Frame: 5" in head and b"image/jpeg" in head
    connection.close()


def test_a_server_without_control_refuses_control(server):
    assert request(server, "/control")[0] == 404
    assert request(server, "/control", "POST")[0] == 405
