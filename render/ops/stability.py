"""Temporal stability: how much consecutive frames differ once the picture's motion is compensated.

The figure is the mean absolute difference, in 8-bit levels, between each frame and
the previous frame warped onto it along the optical flow (``render.ops.flow``), over the
pixels where that flow is reliable, pooled over all consecutive pairs. A still or
perfectly tracked picture scores near 0; flicker, and a dream that swims over the
picture instead of moving with it, raise it.

The flow comes from the *source* video when one is given, for both the source's and
the output's figure: the same vectors and mask measure both, so the two numbers are
comparable, and a dream that sticks to the source's moving objects scores close to
the source. (Flow estimated on a dreamed video would follow swimming dream patterns
and hide the very motion the figure is meant to catch.) Without a source, the video's
own flow is used.

The command line that measures a finished video is ``python -m render.tools.metrics``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass

import torch

from render.ops.flow import FlowSettings, FrameMotion, frame_motion, warp_by_flow


@dataclass
class StabilityMeter:
    """Running sums of the flow-compensated difference of consecutive frames.

    Attributes:
        total: sum of absolute differences in 8-bit levels over reliable pixels and channels.
        count: number of reliable pixels times channels summed.
    """

    total: float = 0.0
    count: float = 0.0

    def add(self, previous: torch.Tensor, current: torch.Tensor, motion: FrameMotion) -> None:
        """Add one consecutive pair.

        Args:
            previous, current: (1, C, H, W) float frames in [0, 1].
            motion: flow and mask from the previous to the current *source* frame.
        """
        difference = (current - warp_by_flow(previous, motion.flow)).abs() * motion.mask
        self.total += difference.sum().item() * 255.0
        self.count += motion.mask.sum().item() * current.shape[1]

    @property
    def value(self) -> float:
        """Mean difference in 8-bit levels; NaN before any reliable pixel was seen."""
        return self.total / self.count if self.count else float("nan")


@dataclass(frozen=True)
class StabilityReport:
    """What ``measure_stability`` found.

    Attributes:
        instability: the frames' temporal instability (8-bit levels).
        source_instability: the source's, measured with the same flow; None without a source.
        difference_from_source: mean absolute difference between frames and source (8-bit levels):
            how visible the dream is; None without a source.
        pairs: consecutive pairs measured.
    """

    instability: float
    source_instability: float | None
    difference_from_source: float | None
    pairs: int


def measure_stability(
    frames: Iterable[torch.Tensor],
    source: Iterable[torch.Tensor] | None = None,
    settings: FlowSettings | None = None,
) -> StabilityReport:
    """Temporal instability of ``frames``, next to the source's when ``source`` is given.

    Args:
        frames: (1, 3, H, W) float frames in [0, 1], in order (streamed; none is kept beyond the last).
        source: the source frames at the same size, or None to estimate the flow on ``frames``.
            Pairs run to the shorter of the two.
        settings: flow preset and thresholds; defaults to ``FlowSettings()``.

    Returns:
        The figures; NaN where no pair had a reliable pixel (fewer than two frames, only cuts).
    """
    settings = settings or FlowSettings()
    guides = source if source is not None else itertools.repeat(None)
    meter, source_meter = StabilityMeter(), StabilityMeter()
    difference, pixels, pairs = 0.0, 0, 0
    previous = previous_guide = None
    for frame, guide in zip(frames, guides):
        guide_or_frame = frame if guide is None else guide
        if previous is not None:
            motion = frame_motion(previous_guide, guide_or_frame, settings)
            meter.add(previous, frame, motion)
            if guide is not None:  # without a source the second figure would measure the same frames again
                source_meter.add(previous_guide, guide, motion)
            pairs += 1
        if guide is not None:
            difference += (frame - guide).abs().sum().item() * 255.0
            pixels += frame.numel()
        previous, previous_guide = frame, guide_or_frame
    has_source = source is not None
    return StabilityReport(
        meter.value,
        source_meter.value if has_source else None,
        difference / pixels if has_source and pixels else None,
        pairs,
    )
