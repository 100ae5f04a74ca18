"""The weight curve of every dissolve between two takes of the same frames (loop seams, segment seams)."""

from __future__ import annotations


def crossfade_weight(j: int, length: int) -> float:
    """Weight of the incoming take at frame ``j`` of a ``length``-frame dissolve: smoothstep from ~0 to ~1.

    Smoothstep, not a straight line: its slope is zero at both ends, so the dissolve adds
    almost nothing to the frame-to-frame change where it starts and where it ends.
    """
    x = (j + 1) / (length + 1)
    return x * x * (3 - 2 * x)
