"""The live stream's web server: the page and the stream's files from one folder, nothing else.

Safe to leave running on a screen in a room: it answers only GET and HEAD for files
directly inside the live folder whose kind it knows (the page, the playlist, its
segments, the status), refuses ``..``, absolute paths, sub-folders and symlinks,
never lists a folder, and writes nothing. It listens on localhost unless told a host.
"""

from __future__ import annotations

import errno
import logging
import threading
from collections.abc import Callable
from functools import partial
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from dream.errors import UserError

log = logging.getLogger(__name__)

PAGE = "index.html"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".m3u8": "application/vnd.apple.mpegurl",
    ".ts": "video/mp2t",
    ".json": "application/json",
}
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def resolve_request(folder: Path, url_path: str) -> tuple[HTTPStatus, Path | None]:
    """Which file of ``folder`` a request path names, or why it is refused.

    Returns:
        (200, file) for a servable file; (403, None) for ``..``, absolute paths, sub-folders,
        folders and symlinks; (404, None) for anything that is not there or not a stream file.
    """
    name = unquote(urlsplit(url_path).path)
    if name in ("", "/"):
        name = PAGE
    elif name.startswith("/"):
        name = name[1:]
    if not name or "/" in name or "\\" in name or name in (".", "..") or "\0" in name:
        return HTTPStatus.FORBIDDEN, None  # a sub-path, an absolute path or a traversal: never looked up
    path = folder / name
    if path.is_symlink() or path.is_dir():
        return HTTPStatus.FORBIDDEN, None
    if path.suffix not in CONTENT_TYPES or not path.is_file():
        return HTTPStatus.NOT_FOUND, None
    return HTTPStatus.OK, path


class LiveRequestHandler(BaseHTTPRequestHandler):
    """GET/HEAD of the live folder's files (``resolve_request``); every other method is refused."""

    server_version = "DreamLive"
    sys_version = ""

    def __init__(self, *args, folder: Path, **kwargs):
        self.folder = folder
        super().__init__(*args, **kwargs)

    def do_GET(self) -> None:
        self._answer(with_body=True)

    def do_HEAD(self) -> None:
        self._answer(with_body=False)

    def _refuse_method(self) -> None:
        self.send_error(HTTPStatus.METHOD_NOT_ALLOWED, "read-only")

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _refuse_method

    def _answer(self, with_body: bool) -> None:
        status, path = resolve_request(self.folder, self.path)
        if path is None:
            self.send_error(status)
            return
        try:
            body = path.read_bytes()  # segments are small; a deleted one is a 404, not a broken reply
        except OSError:
            self.send_error(HTTPStatus.NOT_FOUND)
            return
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", CONTENT_TYPES[path.suffix])
        self.send_header("Content-Length", str(len(body)))
        # the playlist and status change every segment; segments never change once named
        self.send_header("Cache-Control", "no-cache" if path.suffix in (".m3u8", ".json", ".html") else "max-age=60")
        self.end_headers()
        if with_body:
            self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:
        log.debug("%s %s", self.address_string(), format % args)


class LiveServer:
    """Serves ``folder`` on ``host:port`` from a daemon thread while the render runs.

    Use as a context manager; ``url`` is the page's address (port 0 picks a free port).
    """

    def __init__(self, folder: Path, host: str = "127.0.0.1", port: int = 8000,
                 announce: Callable[[str], None] = print):
        self.folder = Path(folder)
        handler = partial(LiveRequestHandler, folder=self.folder)
        try:
            self._server = ThreadingHTTPServer((host, port), handler)
        except OSError as err:
            raise UserError(_listen_error(host, port, err)) from None
        self._server.daemon_threads = True
        self.host, self.port = host, self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.1,), name="LiveServer", daemon=True)
        self._announce = announce

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    def __enter__(self) -> LiveServer:
        self._thread.start()
        self._announce(listening_note(self.host, self.port))
        return self

    def __exit__(self, *exc) -> bool:
        self.close()
        return False

    def close(self) -> None:
        """Stop answering and free the port."""
        if self._thread.is_alive():
            self._server.shutdown()  # waits for serve_forever, so only when it runs
            self._thread.join(5)
        self._server.server_close()


def listening_note(host: str, port: int) -> str:
    """The log line saying where the page is and who can reach it."""
    if host in LOCAL_HOSTS:
        return (f"Live: the stream plays at http://{host}:{port}/ (this machine only; live.host=0.0.0.0 shows it "
                f"to the local network).")
    shown = "THIS_MACHINE" if host in ("0.0.0.0", "::") else host
    return (f"Live: the stream plays at http://{shown}:{port}/ — listening on {host}, reachable from the network "
            f"(read-only: the page and the stream's files).")


def _listen_error(host: str, port: int, err: OSError) -> str:
    if err.errno == errno.EADDRINUSE:
        return (f"Live: port {port} on {host} is taken by another program (another live render?). Pick a free one "
                f"with live.port=N, e.g. live.port={port + 1}.")
    return (f"Live: can't listen on {host}:{port}: {err.strerror or err}. Use live.host=127.0.0.1 (this machine) or "
            f"an address of this machine, and a port above 1023 (live.port=8000).")
