"""Which frames one segment of a video dream renders, so that a long video can be split over many jobs.

A video of ``T`` frames split into ``segment.count`` pieces gives piece ``k`` the frames
``[k*T//count, (k+1)*T//count)``. The flow-carried dream of a frame depends on every frame
before it, so a piece can't start cold: it starts ``segment.warmup`` frames earlier, dreams
them with the same settings, and drops them. The carried detail forgets its start
geometrically (each frame keeps ``video.blend`` of it, less where the flow is unreliable), so
every frame's jitter is seeded by its index (``frame_seed``), so after the warm-up the dream at
the first kept frame is close to a sequential render's there, but not bit-identical: the
warm-up's first frame was dreamed without the detail carried from before it.

DeepDream amplifies whatever detail it is given, so that difference does not fade away: two
chains of dreams that started apart stay about as different as two seeds. The seam is
therefore dissolved instead of cut: the last ``segment.crossfade`` warm-up frames of a piece
and the last as many kept frames of the piece before it are the same source frames dreamed
twice; both are kept losslessly (render/media/seam_frames.py) and the join blends one into the
other (``SegmentSpan``).

Zoom animations have no such split: each frame is dreamed from the last one's output, so
their frames must be made one after another; sweeps of zooms run many renders in parallel.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from dream.errors import UserError
from render.config import SegmentConfig

SEED_STRIDE = 1_000_003  # frames of one seed get seeds apart from other seeds' frames


@dataclass(frozen=True)
class SegmentSpan:
    """Frames of one segment: dreamed from ``start``, kept from ``first`` up to (not including) ``end``.

    Each seam with a neighbour is one chunk the join encodes, centred on the boundary: the
    previous segment's last ``crossfade`` frames dissolving into this segment's warm-up take of
    them, then this segment's first ``crossfade`` kept frames. Those frames are saved losslessly
    (``incoming_seam``, ``outgoing_seam``; empty at the video's ends), and a segment starts a new
    chunk of its own video at ``seam_cut``, where the join's stream copy of it begins. So the
    encoder restarts a dissolve's length away from the boundary, where one take plays alone.
    """

    index: int
    count: int
    start: int
    first: int
    end: int
    crossfade: int = 0

    @property
    def warmup_frames(self) -> int:
        return self.first - self.start

    @property
    def incoming_seam(self) -> range:
        """Frames of this segment's take in the seam with the previous segment: warm-up, then kept."""
        fade = self.crossfade if self.index > 0 else 0
        return range(self.first - fade, self.first + fade)

    @property
    def outgoing_seam(self) -> range:
        """This segment's last frames, which the seam with the next segment dissolves away from."""
        fade = self.crossfade if self.index < self.count - 1 else 0
        return range(self.end - fade, self.end)

    @property
    def seam_cut(self) -> int:
        """The first frame the join copies from this segment's video (its first frame without a seam before it)."""
        return self.incoming_seam.stop if self.incoming_seam else self.first

    def keeps_losslessly(self, index: int) -> bool:
        """Whether frame ``index`` belongs to a seam, so the join needs it without compression loss."""
        return index in self.incoming_seam or index in self.outgoing_seam

    @classmethod
    def from_meta(cls, meta: dict) -> SegmentSpan:
        """The span a segment's meta.json ``segment`` entry (``as_meta``) describes; no crossfade when it has none."""
        return cls(meta["index"], meta["count"], meta["start"], meta["first"], meta["end"], meta.get("crossfade", 0))

    def as_meta(self) -> dict:
        seams = {name: [frames.start, frames.stop] if frames else None
                 for name, frames in (("incoming_seam", self.incoming_seam), ("outgoing_seam", self.outgoing_seam))}
        return {**asdict(self), "warmup_frames": self.warmup_frames, **seams}


def check_segment_keys(segment: SegmentConfig) -> None:
    """Range checks of ``segment.*``; a clear UserError otherwise (``Mode.check`` splits video dreams only)."""
    if segment.count < 1 or segment.warmup < 0 or segment.crossfade < 0:
        raise UserError(f"Config keys 'segment.count' ({segment.count}), 'segment.warmup' ({segment.warmup}) and "
                        f"'segment.crossfade' ({segment.crossfade}) must be at least 1, 0 and 0; e.g. "
                        f"segment.count=4 segment.warmup=30 segment.crossfade=30.")
    if not 0 <= segment.index < segment.count:
        raise UserError(f"Config key 'segment.index' is {segment.index}, but a video in {segment.count} segments "
                        f"has segments 0..{segment.count - 1}; e.g. 'segment.index=range({segment.count})' in a "
                        f"sweep (-m).")


def segment_span(segment: SegmentConfig, total: int) -> SegmentSpan:
    """The frames segment ``segment.index`` of ``segment.count`` renders of a ``total``-frame video."""
    if segment.count > total:
        raise UserError(f"segment.count={segment.count} is more than the {total} frames of the video; use at most "
                        f"{total} segments (a few hundred frames each is sensible).")
    first = segment.index * total // segment.count
    end = (segment.index + 1) * total // segment.count
    # A segment holds a seam's second half at its start and the next seam's first half at its end.
    crossfade = min(segment.crossfade, segment.warmup, total // segment.count // 2)
    return SegmentSpan(segment.index, segment.count, max(0, first - segment.warmup), first, end,
                       crossfade if segment.count > 1 else 0)


def frame_seed(seed: int, index: int) -> int:
    """The jitter generator's seed for frame ``index``: the same in every render with ``seed``.

    Seeding by frame, not once per render, makes a segment dream each frame with the jitter the
    sequential render uses there, so the only difference left after the warm-up is the carried
    detail's start, which fades by ``video.blend`` per frame.
    """
    return (seed * SEED_STRIDE + index) % 2**63
