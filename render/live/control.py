"""Steering a running render: every animated key read and changed while it runs, each change recorded.

``LiveControl`` sits between the outside (the page's panel and ``POST /control``, OSC) and the
render's ``Timeline``. A change IS ``Timeline.override``: it is parsed and checked at once
(a bad value raises the command line's ``UserError`` and changes nothing) and applies from the
first frame the render has not begun. Each change is appended to ``live/changes.jsonl`` as it
happens (one JSON object a line: frame, key, value), which ``replay=RUN_DIR`` plays again.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from dream.errors import UserError
from render.timeline import Timeline, config_value

CHANGES_FILE = "changes.jsonl"  # in the live folder


def read_changes(path: Path) -> list[dict]:
    """The changes recorded in a ``changes.jsonl`` (none when it is missing), in the order they were made."""
    path = Path(path)
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def plain_value(key: str, value: Any) -> float | str:
    """``value`` as a control sends it: a number or a schedule string; anything else is a UserError."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise UserError(f"'{key}' was sent {value!r}, but a live change is a number (e.g. 1.04) or a schedule "
                        f"string (e.g. \"0:(1.0025+0.002*sin(t/8))\").")
    return value


class LiveControl:
    """The render's animated keys, read and overridden from other threads; changes recorded in ``folder``.

    Args:
        timeline: the render's timeline (the plan's).
        cfg: the render's config (each key's spec until it is changed).
        folder: where ``changes.jsonl`` is appended.
        log: says each change (and each refusal) in the log.
    """

    def __init__(self, timeline: Timeline, cfg: Any, folder: Path, log: Callable[[str], None] = print):
        self.timeline, self.cfg, self.log = timeline, cfg, log
        self.path = Path(folder) / CHANGES_FILE
        self._lock = threading.Lock()  # one change at a time: the file's lines keep the order of the overrides

    def keys(self) -> list[str]:
        return list(self.timeline.tracks)

    def spec(self, key: str) -> Any:
        """The spec ``key`` follows now: its latest change, or the config's."""
        latest = [change.spec for change in self.timeline.changes if change.key == key]
        if latest:
            return latest[-1]
        value = config_value(self.cfg, key) if _in_config(self.cfg, key) else None
        return value if isinstance(value, (int, float, str)) or value is None else str(value)

    def current(self) -> dict:
        """What ``GET /control`` answers: the frame in progress, each key's value there and the spec in force."""
        frame = max(self.timeline.begun, 0)
        values = {key: self.timeline.track(key).at(frame) for key in self.keys()}
        return {"frame": frame, "values": values, "specs": {key: self.spec(key) for key in self.keys()}}

    def apply(self, changes: Mapping[str, Any]) -> dict[str, int]:
        """Override each key of ``changes`` (key -> number or schedule string) from the next frame, in order.

        Returns:
            key -> the frame the change applies from.

        Raises:
            UserError: the first bad key or value, with the command line's message; the keys before it are
                applied, it and the ones after it are not.
        """
        applied: dict[str, int] = {}
        with self._lock:
            for key, value in changes.items():
                try:
                    applied[key] = self._apply_one(key, plain_value(key, value))
                except UserError as refused:
                    self.log(f"Live: a change was refused: {refused}")
                    raise
        return applied

    def _apply_one(self, key: str, value: float | str) -> int:
        frame = self.timeline.override(key, value)
        with open(self.path, "a") as changes:
            changes.write(json.dumps({"frame": frame, "key": key, "value": value}) + "\n")
        self.log(f"Live: {key} = {value} from frame {frame}.")
        return frame


def _in_config(cfg: Any, key: str) -> bool:
    try:
        config_value(cfg, key)
    except (AttributeError, LookupError, TypeError, ValueError):  # a declared key (an objective term's weight)
        return False
    return True
