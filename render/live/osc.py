"""OSC control: ``/dream/KEY VALUE`` (e.g. ``/dream/motion.zoom 1.08``) from a mixer or a controller app.

Each message is one ``LiveControl.apply``; a bad value is said in the log and changes nothing, and the
stream goes on. UDP carries no header, so where the render needs a token (a host other than this
machine) it is the message's second argument: ``/dream/motion.zoom 1.08 TOKEN``. python-osc is
imported only when ``live.osc_port`` is set.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from dream.errors import UserError
from render.live.control import LiveControl
from render.live.server import allowed

ADDRESS_PREFIX = "/dream/"


def handle_message(control: LiveControl, token: str | None, log: Callable[[str], None], address: str,
                   *args) -> None:
    """One OSC message: ``/dream/KEY VALUE [TOKEN]`` applied, or why not in the log."""
    key = address[len(ADDRESS_PREFIX):]
    if not allowed(token, str(args[1]) if len(args) > 1 else None):
        log(f"Live: an OSC message to {address} was ignored: this render's control needs its token as the "
            f"message's second argument.")
        return
    if not args:
        log(f"Live: the OSC message {address} has no value; send e.g. {ADDRESS_PREFIX}motion.zoom 1.08.")
        return
    try:
        control.apply({key: args[0]})
    except UserError:
        pass  # LiveControl said it in the log; the stream goes on


class OscControl:
    """Listens for OSC on ``host:port`` (UDP) from a daemon thread; a context manager. ``port`` 0 picks one."""

    def __init__(self, control: LiveControl, host: str, port: int, token: str | None = None,
                 log: Callable[[str], None] = print):
        try:
            from pythonosc.dispatcher import Dispatcher
            from pythonosc.osc_server import ThreadingOSCUDPServer
        except ImportError:
            raise UserError("live.osc_port needs the python-osc package: pip install python-osc (or leave "
                            "live.osc_port out).") from None
        dispatcher = Dispatcher()
        dispatcher.map(f"{ADDRESS_PREFIX}*", lambda address, *args: handle_message(control, token, log, address,
                                                                                   *args))
        try:
            self._server = ThreadingOSCUDPServer((host, port), dispatcher)
        except OSError as err:
            raise UserError(f"Live: can't listen for OSC on {host}:{port} ({err.strerror or err}). Pick a free port "
                            f"with live.osc_port=N, e.g. live.osc_port={port + 1}.") from None
        self.host, self.port = host, self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.1,), name="OscControl",
                                        daemon=True)
        self._log = log

    def __enter__(self) -> OscControl:
        self._thread.start()
        self._log(f"Live: OSC control on udp://{self.host}:{self.port} (e.g. {ADDRESS_PREFIX}motion.zoom 1.08).")
        return self

    def __exit__(self, *exc) -> bool:
        self.close()
        return False

    def close(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(5)
        self._server.server_close()
