"""Masks keyed on the picture itself, so "dream only the sky" needs no painting.

``mask.source=key:CHANNEL:LOW-HIGH`` selects the pixels whose channel lies in the
range; several terms joined by ``+`` must all hold:

    key:brightness:0.7-1                   the bright parts
    key:hue:190-250+saturation:0.15-1      blue sky (blue, and not grey)
    key:hue:330-30                         reds (a hue range may wrap through 0)

Channels: ``brightness`` (BT.601 luma), ``red``, ``green``, ``blue`` and ``saturation``
from 0 to 1, ``hue`` in degrees from 0 to 360. The syntax holds only characters a
Hydra override takes unquoted, so it is typed as printed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import kornia
import torch

from dream.errors import UserError
from render.media.mask_file import brightness

KEY_PREFIX = "key:"
CHANNEL_RANGES = {"brightness": 1.0, "red": 1.0, "green": 1.0, "blue": 1.0, "saturation": 1.0, "hue": 360.0}
TERM = re.compile(r"^([a-z]+):(\d+(?:\.\d*)?|\.\d+)-(\d+(?:\.\d*)?|\.\d+)$")
EXAMPLES = "key:brightness:0.7-1 (bright parts) or key:hue:190-250+saturation:0.15-1 (blue sky)"


@dataclass(frozen=True)
class KeyTerm:
    """One channel range; ``low > high`` wraps round (hue only)."""

    channel: str
    low: float
    high: float


def is_key(source: str | None) -> bool:
    """Whether ``mask.source`` is a key rather than a file."""
    return source is not None and source.startswith(KEY_PREFIX)


def parse_key(source: str) -> list[KeyTerm]:
    """``key:CHANNEL:LOW-HIGH[+CHANNEL:LOW-HIGH...]`` -> its terms; anything else is a UserError."""
    body = source[len(KEY_PREFIX):]
    terms, position = [], len(KEY_PREFIX)
    for text in body.split("+"):
        terms.append(_parse_term(source, text, position))
        position += len(text) + 1
    return terms


def _parse_term(source: str, text: str, position: int) -> KeyTerm:
    match = TERM.match(text.strip())
    if match is None:
        raise _key_error(source, position, f"'{text}' is not CHANNEL:LOW-HIGH")
    channel, low, high = match[1], float(match[2]), float(match[3])
    if channel not in CHANNEL_RANGES:
        raise _key_error(source, position, f"'{channel}' is not a channel (use {', '.join(CHANNEL_RANGES)})")
    top = CHANNEL_RANGES[channel]
    if max(low, high) > top:
        raise _key_error(source, position, f"{channel} runs from 0 to {top:g}, but the range is {low:g}-{high:g}")
    if low > high and channel != "hue":
        raise _key_error(source, position, f"the range {low:g}-{high:g} is empty (only a hue range wraps round)")
    return KeyTerm(channel, low, high)


def _key_error(source: str, position: int, problem: str) -> UserError:
    return UserError(
        f"Config key 'mask.source' is '{source}', which can't be read as a key at character {position + 1}: "
        f"{problem}. A key is key:CHANNEL:LOW-HIGH, terms joined by + must all hold, e.g. {EXAMPLES}; "
        f"channels: brightness, red, green, blue, saturation (0-1), hue (0-360 degrees)."
    )


def channel_values(frame: torch.Tensor, channel: str) -> torch.Tensor:
    """One channel of (B, 3, H, W) RGB in [0, 1] as (B, 1, H, W), in the units of ``CHANNEL_RANGES``."""
    if channel in ("red", "green", "blue"):
        index = ("red", "green", "blue").index(channel)
        return frame[:, index : index + 1]
    if channel == "brightness":
        return brightness(frame)
    hsv = kornia.color.rgb_to_hsv(frame)  # hue in radians [0, 2 pi), saturation in [0, 1]
    if channel == "saturation":
        return hsv[:, 1:2]
    return torch.rad2deg(hsv[:, 0:1])


def key_mask(frame: torch.Tensor, terms: list[KeyTerm]) -> torch.Tensor:
    """Where every term holds: (B, 3, H, W) RGB in [0, 1] -> (B, 1, H, W) of 0.0 and 1.0."""
    selected = torch.ones_like(frame[:, :1], dtype=torch.bool)
    for term in terms:
        values = channel_values(frame, term.channel)
        if term.low <= term.high:
            inside = (values >= term.low) & (values <= term.high)
        else:
            inside = (values >= term.low) | (values <= term.high)
        selected &= inside
    return selected.to(frame.dtype)
