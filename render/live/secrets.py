"""The live render's secrets (the RTMP stream key, the control token): kept in memory, never written or printed.

The stream key is the last path part of ``live.url``. The run folder's config keeps the address
with its key masked and no token, ffmpeg's output is masked before it reaches ``live/ffmpeg.log``,
and the log shows the address masked. A resumed render is given them again on its command line.
"""

from __future__ import annotations

import copy
from typing import Any
from urllib.parse import urlsplit

MASK = "********"


def stream_key(url: str | None) -> str | None:
    """The secret part of an RTMP address (its last path part); None without one."""
    if not url:
        return None
    key = urlsplit(url).path.rpartition("/")[2]
    return key or None


def redact(url: str) -> str:
    """An RTMP address for the log without its stream key."""
    key = stream_key(url)
    return f"{url.rpartition('/')[0]}/{MASK}" if key else url


def secrets_of(live: Any) -> tuple[str, ...]:
    """The secrets of a ``live`` config section, longest first (a token holding a key is masked whole)."""
    found = {stream_key(live.url), getattr(live, "token", None)}
    return tuple(sorted((s for s in found if s and s != MASK), key=len, reverse=True))


def redact_text(text: str, secrets: tuple[str, ...]) -> str:
    """``text`` with every secret masked, as written and as escaped for ffmpeg's tee muxer."""
    for secret in secrets:
        escaped = "".join("\\" + c if c in "\\'|[]" else c for c in secret)
        text = text.replace(escaped, MASK).replace(secret, MASK)
    return text


def without_secrets(cfg: Any) -> Any:
    """A copy of ``cfg`` to write into the run folder: the stream key masked, no token."""
    kept = copy.deepcopy(cfg)
    if kept.live.url:
        kept.live.url = redact(kept.live.url)
    kept.live.token = None
    return kept


def given_again(saved: Any, given: Any) -> None:
    """A resumed render's secrets: those given on its command line; a masked stream key without one is dropped."""
    saved.live.token = given.live.token
    if given.live.url:
        saved.live.url = given.live.url
    elif saved.live.url and stream_key(saved.live.url) == MASK:
        saved.live.url = None
