"""Dream cadence: dream every N-th frame; the frames between follow the camera and blend toward the new dream.

As Deforum's cadence ("turbo"): the two latest dreams are both carried along by each
frame's camera move, and the frames after a dream blend from the dream before it to
the new one, reaching the new one just before the next dream. Frame ``K + j`` after
the dream at ``K`` (cadence N) shows::

    (1 - w) * move(D_previous) + w * move(D_K),  w = (j + 1) / N

The next dream starts from the last frame shown, moved one more step, so cadence 1 is
exactly the plain zoom (every frame dreamed from the one before). Nothing looks ahead:
each frame is made from dreams already done, so a live stream can show it at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from dream.errors import UserError

LARGEST_CADENCE = 8  # past this, in-betweens are mostly camera moves of an old dream


@dataclass
class CadenceState:
    """The dreams an in-between frame blends, and when the last one was made.

    Attributes:
        previous: (1, 3, H, W) the dream before the latest, moved by the camera up to the last frame; or None.
        latest: (1, 3, H, W) the latest dream, moved up to the last frame; None before the first dream.
        key_index: the frame the latest dream was made for.
        cadence: frames from the latest dream to the next one.
    """

    previous: torch.Tensor | None = None
    latest: torch.Tensor | None = None
    key_index: int = -1
    cadence: int = 1

    def dream_due(self, index: int) -> bool:
        """True when frame ``index`` is dreamed rather than carried along."""
        return self.latest is None or index - self.key_index >= self.cadence

    def snapshot(self) -> dict:
        """The state as CPU tensors, for a resume point."""
        tensors = {"cadence_key_index": torch.tensor(self.key_index), "cadence": torch.tensor(self.cadence)}
        if self.latest is not None:
            tensors["cadence_latest"] = self.latest.detach().cpu().clone()
        if self.previous is not None:
            tensors["cadence_previous"] = self.previous.detach().cpu().clone()
        return tensors

    @staticmethod
    def restore(snapshot: dict, device: torch.device) -> CadenceState:
        """The state ``snapshot`` saved; a resume point without cadence starts afresh (cadence 1 render)."""
        if "cadence" not in snapshot:
            return CadenceState()
        latest, previous = snapshot.get("cadence_latest"), snapshot.get("cadence_previous")
        return CadenceState(
            previous.to(device) if previous is not None else None,
            latest.to(device) if latest is not None else None,
            int(snapshot["cadence_key_index"]),
            int(snapshot["cadence"]),
        )


def cadence_frame(state: CadenceState, index: int, shown: torch.Tensor, move: Callable[[torch.Tensor], torch.Tensor],
                  dream: Callable[[torch.Tensor], torch.Tensor], cadence: int) -> torch.Tensor:
    """Frame ``index``: dreamed when due (at ``cadence`` from here on), otherwise carried and blended.

    Args:
        state: updated in place.
        index: the frame being made.
        shown: (1, 3, H, W) the frame shown last (the start image before frame 0).
        move: the camera move of frame ``index`` (identity for frame 0).
        dream: dreams a (1, 3, H, W) frame for ``index``.
        cadence: dream every ``cadence`` frames from this dream on; read only when a dream is due.

    Returns:
        (1, 3, H, W) the frame to show.
    """
    if state.dream_due(index):
        start = move(shown)
        state.previous = start if state.latest is not None else None
        state.latest = dream(start)
        state.key_index, state.cadence = index, cadence
    else:
        state.latest = move(state.latest)
        state.previous = move(state.previous) if state.previous is not None else None
    weight = (index - state.key_index + 1) / state.cadence
    if state.previous is None or weight >= 1.0:
        return state.latest
    return torch.lerp(state.previous, state.latest, weight)


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
