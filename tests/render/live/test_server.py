"""Live server: serves the page and the stream's files; traversal, listing, symlinks and writes are refused."""

from __future__ import annotations

import http.client
import os
import socket
from pathlib import Path

import pytest

from dream.errors import UserError
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
