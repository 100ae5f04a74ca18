"""What one render is, derived once in ``run``: its frame total, its source video, its schedule context."""

from __future__ import annotations

from dataclasses import dataclass

from render.media.video_source import VideoInfo
from render.schedule import ScheduleContext


@dataclass(frozen=True)
class RenderContext:
    """Facts every part of one render reads instead of deriving them again.

    Attributes:
        frames: frames dreamed: ``frames`` (plus a loop's head), or a video dream's source
            frames (at most ``frames``); None: an endless render.
        source: the input video as probed (its frames counted by decoding it, once per render); None unless dreaming
            over a video.
        schedules: the one context every schedule of the render is parsed through (``motion.interpolation`` and the
            audio variables apply to all of them alike).
    """

    frames: int | None
    schedules: ScheduleContext
    source: VideoInfo | None = None

    @classmethod
    def of_frames(cls, frames: int, seed: int = 0, interpolation: str = "linear") -> RenderContext:
        """A context without a source or audio: for tools and tests that dream ``frames`` frames."""
        return cls(frames, ScheduleContext(frames, seed, interpolation))
