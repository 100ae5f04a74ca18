"""Dream cadence: dream every N-th frame; the frames between follow the camera and blend toward the new dream.

As Deforum's cadence ("turbo"): the two latest dreams are both carried along by each
frame's camera move, and the frames after a dream blend from the dream before it to
the new one, reaching the new one just before the next dream. Frame ``K + j`` after
the dream at ``K`` (cadence N) shows::

    (1 - w) * move(D_previous) + w * move(D_K),  w = (j + 1) / N

The camera moves since a dream are composed into one matrix and each picture is resampled
once per frame from the dream itself, not from the frame before, so in-betweens stay as
sharp as the dream (resampling frame after frame would blur them). The next dream starts
from the last frame shown, moved one more step, so cadence 1 is exactly the plain zoom
(every frame dreamed from the one before). Nothing looks ahead: each frame is made from
dreams already done, so a live stream can show it at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from dream.errors import UserError

LARGEST_CADENCE = 8  # past this, in-betweens are mostly camera moves of an old dream
Resample = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # (image (1, 3, H, W), move (1, 3, 3)) -> image


@dataclass
class CadenceState:
    """The dreams an in-between frame blends, and the camera moves since each.

    Attributes:
        previous: (1, 3, H, W) the frame shown just before the latest dream; None before the second dream.
        previous_move: (1, 3, 3) the camera's move since ``previous`` was shown.
        latest: (1, 3, H, W) the latest dream as dreamed; None before the first dream.
        latest_move: (1, 3, 3) the camera's move since the latest dream.
        key_index: the frame the latest dream was made for.
        cadence: frames from the latest dream to the next one.
    """

    previous: torch.Tensor | None = None
    previous_move: torch.Tensor | None = None
    latest: torch.Tensor | None = None
    latest_move: torch.Tensor | None = None
    key_index: int = -1
    cadence: int = 1

    def dream_due(self, index: int) -> bool:
        """True when frame ``index`` is dreamed rather than carried along."""
        return self.latest is None or index - self.key_index >= self.cadence

    def snapshot(self) -> dict:
        """The state as CPU tensors, for a resume point."""
        tensors = {"cadence_key_index": torch.tensor(self.key_index), "cadence": torch.tensor(self.cadence)}
        for name in ("previous", "previous_move", "latest", "latest_move"):
            value = getattr(self, name)
            if value is not None:
                tensors[f"cadence_{name}"] = value.detach().cpu().clone()
        return tensors

    @staticmethod
    def restore(snapshot: dict, device: torch.device) -> CadenceState:
        """The state ``snapshot`` saved; a resume point without cadence starts afresh (cadence 1 render)."""
        if "cadence" not in snapshot:
            return CadenceState()
        tensors = {name: snapshot[f"cadence_{name}"].to(device) if f"cadence_{name}" in snapshot else None
                   for name in ("previous", "previous_move", "latest", "latest_move")}
        return CadenceState(**tensors, key_index=int(snapshot["cadence_key_index"]),
                            cadence=int(snapshot["cadence"]))


def cadence_frame(state: CadenceState, index: int, shown: torch.Tensor, step: torch.Tensor, resample: Resample,
                  dream: Callable[[torch.Tensor], torch.Tensor], cadence: int) -> torch.Tensor:
    """Frame ``index``: dreamed when due (at ``cadence`` from here on), otherwise carried and blended.

    Args:
        state: updated in place.
        index: the frame being made.
        shown: (1, 3, H, W) the frame shown last (the start image before frame 0).
        step: (1, 3, 3) the camera move of frame ``index`` (the identity for frame 0).
        resample: moves an image by a (1, 3, 3) matrix in one resampling.
        dream: dreams a (1, 3, H, W) frame for ``index``.
        cadence: dream every ``cadence`` frames from this dream on; read only when a dream is due.

    Returns:
        (1, 3, H, W) the frame to show.
    """
    if state.dream_due(index):
        had_dream = state.latest is not None
        state.previous, state.previous_move = (shown, step) if had_dream else (None, None)
        state.latest = dream(resample(shown, step))
        state.latest_move = torch.eye(3, dtype=step.dtype, device=step.device)[None]
        state.key_index, state.cadence = index, cadence
    else:
        state.latest_move = step @ state.latest_move
        state.previous_move = step @ state.previous_move if state.previous is not None else None
    latest = resample(state.latest, state.latest_move)
    weight = (index - state.key_index + 1) / state.cadence
    if state.previous is None or weight >= 1.0:
        return latest
    return torch.lerp(resample(state.previous, state.previous_move), latest, weight)


def check_cadence(value, live: bool) -> int | str:
    """``dream.cadence`` as 1..8 or 'auto' (live only); one UserError naming the fix otherwise."""
    if value == "auto":
        if not live:
            raise UserError(
                "dream.cadence=auto picks the cadence that holds a live stream's frame rate, so it needs "
                "live.enabled=true. A file render takes a number: dream.cadence=2 dreams every 2nd frame."
            )
        return value
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= LARGEST_CADENCE:
        raise UserError(
            f"Config key 'dream.cadence' is '{value}', but must be a whole number 1..{LARGEST_CADENCE} (dream every "
            f"N-th frame; 1 dreams every frame) or 'auto' in live mode."
        )
    return value
