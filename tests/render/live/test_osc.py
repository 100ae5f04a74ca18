"""OSC control: /dream/KEY VALUE over UDP becomes a live change; a bad value or a missing token changes nothing."""

from __future__ import annotations

import socket
import time

import pytest

from render.live.osc import OscControl, handle_message

pytest.importorskip("pythonosc")
from pythonosc.osc_message_builder import OscMessageBuilder  # noqa: E402


class Control:
    def __init__(self):
        self.applied: list[dict] = []

    def apply(self, changes: dict) -> dict:
        self.applied.append(changes)
        return {key: 0 for key in changes}


def osc_packet(address: str, *args) -> bytes:
    builder = OscMessageBuilder(address)
    for arg in args:
        builder.add_arg(arg)
    return builder.build().dgram


def wait_for(condition, seconds: float = 5.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end and not condition():
        time.sleep(0.02)
    return condition()


def test_a_message_over_udp_changes_the_key():
    control, lines = Control(), []
    with OscControl(control, "127.0.0.1", 0, log=lines.append) as osc, socket.socket(type=socket.SOCK_DGRAM) as udp:
        udp.sendto(osc_packet("/dream/motion.zoom", 1.08), ("127.0.0.1", osc.port))
        assert wait_for(lambda: control.applied)
    assert control.applied == [{"motion.zoom": pytest.approx(1.08)}] and "OSC control on udp://" in lines[0]


def test_with_a_token_it_is_the_second_argument():
    control, lines = Control(), []
    handle_message(control, "s3cret", lines.append, "/dream/motion.angle", 2.0)
    handle_message(control, "s3cret", lines.append, "/dream/motion.angle", 2.0, "wrong")
    assert control.applied == [] and "token" in lines[0]
    handle_message(control, "s3cret", lines.append, "/dream/motion.angle", 2.0, "s3cret")
    assert control.applied == [{"motion.angle": 2.0}]


def test_a_message_without_a_value_is_said_and_ignored():
    control, lines = Control(), []
    handle_message(control, None, lines.append, "/dream/motion.zoom")
    assert control.applied == [] and "no value" in lines[0]
