"""The live stream's web server: the page and the stream's files from one folder, the control, the MJPEG view.

Safe to leave running on a screen in a room: it answers GET and HEAD for files directly
inside the live folder whose kind it knows (the page, the playlist, its segments, the
status), refuses ``..``, absolute paths, sub-folders and symlinks, never lists a folder,
and writes nothing. ``/mjpeg`` is the low-latency view (render/live/mjpeg.py).
``/control`` (GET: the animated keys' values; POST: a JSON object key -> value, applied at the
next frame) is the only thing that changes anything; with a token every control request must
carry it (``Authorization: Bearer TOKEN`` or ``?token=TOKEN``), or gets 401. It listens on
localhost unless told a host (and a host other than localhost needs a token: render/config.py).
"""

from __future__ import annotations

import errno
import hmac
import json
import logging
import threading
from collections.abc import Callable
from functools import partial
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from dream.errors import UserError
from render.config import LOCAL_HOSTS
from render.live.control import LiveControl
from render.live.mjpeg import CONTENT_TYPE as MJPEG_TYPE
from render.live.mjpeg import FrameHub, part

log = logging.getLogger(__name__)

PAGE = "index.html"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".m3u8": "application/vnd.apple.mpegurl",
    ".ts": "video/mp2t",
    ".json": "application/json",
}
CONTROL_PATH = "/control"
MJPEG_PATH = "/mjpeg"
LARGEST_CONTROL_BYTES = 65536  # a control request is a few keys; anything longer is refused unread


def token_of(headers, url_path: str) -> str | None:
    """The token a request carries: ``Authorization: Bearer TOKEN``, else ``?token=TOKEN``; None without one."""
    scheme, _, value = (headers.get("Authorization") or "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    given = parse_qs(urlsplit(url_path).query).get("token")
    return given[0] if given else None


def allowed(token: str | None, given: str | None) -> bool:
    """True when no token is needed, or ``given`` is it (compared in constant time)."""
    return token is None or (given is not None and hmac.compare_digest(token.encode(), given.encode()))


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
    """GET/HEAD of the live folder's files (``resolve_request``), the MJPEG view, GET/POST of the control."""

    server_version = "DreamLive"
    sys_version = ""

    def __init__(self, *args, folder: Path, control: LiveControl | None = None, hub: FrameHub | None = None,
                 token: str | None = None, **kwargs):
        self.folder, self.control, self.hub, self.token = folder, control, hub, token
        super().__init__(*args, **kwargs)

    @property
    def route(self) -> str:
        return urlsplit(self.path).path

    def do_GET(self) -> None:
        if self.route == CONTROL_PATH and self.control is not None:
            if self._authorised():
                self._send_json(HTTPStatus.OK, self.control.current())
        elif self.route == MJPEG_PATH and self.hub is not None:
            self._send_mjpeg()
        else:
            self._answer(with_body=True)

    def do_HEAD(self) -> None:
        self._answer(with_body=False)

    def do_POST(self) -> None:
        if self.route != CONTROL_PATH or self.control is None:
            self._refuse_method()
        elif self._authorised():
            self._change()

    def _refuse_method(self) -> None:
        self.send_error(HTTPStatus.METHOD_NOT_ALLOWED, "read-only")

    do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _refuse_method

    def _authorised(self) -> bool:
        if allowed(self.token, token_of(self.headers, self.path)):
            return True
        self._send_json(HTTPStatus.UNAUTHORIZED, {"error": "This render's control needs its token (live.token): "
                                                            "send Authorization: Bearer TOKEN or ?token=TOKEN."})
        return False

    def _change(self) -> None:
        """POST /control: a JSON object key -> value, applied at the next frame; 400 with the reason otherwise."""
        length = int(self.headers.get("Content-Length") or 0)
        if not 0 < length <= LARGEST_CONTROL_BYTES:
            self._send_json(HTTPStatus.BAD_REQUEST, {"error": "Send a JSON object of key -> value, e.g. "
                                                              '{"motion.zoom": 1.08}.'})
            return
        try:
            changes = json.loads(self.rfile.read(length))
            if not isinstance(changes, dict):
                raise ValueError("not an object")
            applied = self.control.apply(changes)
        except UserError as refused:
            self._send_json(HTTPStatus.BAD_REQUEST, {"error": str(refused)})
        except ValueError:
            self._send_json(HTTPStatus.BAD_REQUEST, {"error": "The body is not a JSON object of key -> value, e.g. "
                                                              '{"motion.zoom": 1.08}.'})
        else:
            self._send_json(HTTPStatus.OK, {"applied": applied})

    def _send_json(self, status: HTTPStatus, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def _send_mjpeg(self) -> None:
        """Each new shown frame as one JPEG part until the stream ends or the viewer leaves."""
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", MJPEG_TYPE)
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        try:
            for index, jpeg in self.hub.frames():
                self.wfile.write(part(index, jpeg))
                self.wfile.flush()
        except OSError:
            pass  # the viewer has gone

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
                 announce: Callable[[str], None] = print, control: LiveControl | None = None,
                 hub: FrameHub | None = None, token: str | None = None):
        self.folder, self.hub = Path(folder), hub
        handler = partial(LiveRequestHandler, folder=self.folder, control=control, hub=hub, token=token)
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
        """Stop answering and free the port (MJPEG viewers' streams end)."""
        if self.hub is not None:
            self.hub.close()
        if self._thread.is_alive():
            self._server.shutdown()  # waits for serve_forever, so only when it runs
            self._thread.join(5)
        self._server.server_close()


def check_port_free(host: str, port: int) -> None:
    """Refuse ``host:port`` when the page could not be served there, before the render writes anything.

    The server is bound the way ``LiveServer`` binds it and let go at once; port 0 (any free port) always works.
    """
    try:
        ThreadingHTTPServer((host, port), BaseHTTPRequestHandler).server_close()
    except OSError as err:
        raise UserError(_listen_error(host, port, err)) from None


def listening_note(host: str, port: int) -> str:
    """The log line saying where the page is and who can reach it."""
    if host in LOCAL_HOSTS:
        return (f"Live: the stream plays at http://{host}:{port}/ (this machine only; live.host=0.0.0.0 shows it "
                f"to the local network).")
    shown = "THIS_MACHINE" if host in ("0.0.0.0", "::") else host
    return (f"Live: the stream plays at http://{shown}:{port}/ — listening on {host}, reachable from the network "
            f"(the page and the stream's files; the control only with live.token: open "
            f"http://{shown}:{port}/?token=TOKEN to steer it).")


def _listen_error(host: str, port: int, err: OSError) -> str:
    if err.errno == errno.EADDRINUSE:
        return (f"Live: port {port} on {host} is taken by another program (another live render?). Pick a free one "
                f"with live.port=N, e.g. live.port={port + 1}.")
    return (f"Live: can't listen on {host}:{port}: {err.strerror or err}. Use live.host=127.0.0.1 (this machine) or "
            f"an address of this machine, and a port above 1023 (live.port=8000).")
