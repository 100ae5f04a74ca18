"""Warping error: how far a processed video's frames differ from earlier frames carried along the motion.

This is the measure of Lai et al. (2018, "Learning blind video temporal consistency"):
``E_k = mean over frames t >= k of (mean over pixels visible in t and t-k of ||O_t - warp(O_{t-k})||^2)``,
the squared difference summed over the RGB channels of frames in [0, 1]. A pixel counts
as visible when the flow passes the consistency check of Ruder et al. (2016, "Artistic
style transfer for videos"): the forward and backward flows agree,
``|w + w'|^2 <= 0.01 (|w|^2 + |w'|^2) + 0.5``, the pixel is not on a motion boundary,
``|grad u|^2 + |grad v|^2 <= 0.01 |w|^2 + 0.002``, and it came from inside the frame.

``k = 1`` is the short-term error; ``k = 5`` and ``k = 10`` catch a dream that drifts
slowly (each step small, the sum large). The source itself leaves some error (noise,
resampling, light); the *excess* of a processed video is its error minus the source's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from render.ops.flow import sample_grid, warp_by_flow

RELATIVE_DISAGREEMENT = 0.01  # Ruder's forward-backward check: share of the squared lengths tolerated
ABSOLUTE_DISAGREEMENT = 0.5  # ... plus this many squared pixels
RELATIVE_BOUNDARY = 0.01  # a motion boundary: the flow's squared gradient above this share of its squared length
ABSOLUTE_BOUNDARY = 0.002  # ... plus this


def flow_gradient_energy(flow: torch.Tensor) -> torch.Tensor:
    """``|grad u|^2 + |grad v|^2`` by central differences (edges repeated).

    Args:
        flow: (B, 2, H, W) in pixels.

    Returns:
        (B, 1, H, W).
    """
    padded = F.pad(flow, (1, 1, 1, 1), mode="replicate")
    dx = (padded[..., 1:-1, 2:] - padded[..., 1:-1, :-2]) / 2
    dy = (padded[..., 2:, 1:-1] - padded[..., :-2, 1:-1]) / 2
    return (dx.square() + dy.square()).sum(1, keepdim=True)


def visible_pixels(backward: torch.Tensor, forward: torch.Tensor) -> torch.Tensor:
    """Ruder's consistency check: where frame t's pixels are seen in frame t-k too.

    Args:
        backward: (B, 2, H, W) flow t -> t-k: O_t(p) ~ O_{t-k}(p + backward(p)).
        forward: (B, 2, H, W) flow t-k -> t.

    Returns:
        (B, 1, H, W) float, 1.0 where visible in both, not on a motion boundary, and from inside the frame.
    """
    forward_there = warp_by_flow(forward, backward)
    disagreement = (backward + forward_there).square().sum(1, keepdim=True)
    lengths = backward.square().sum(1, keepdim=True) + forward_there.square().sum(1, keepdim=True)
    consistent = disagreement <= RELATIVE_DISAGREEMENT * lengths + ABSOLUTE_DISAGREEMENT
    length = backward.square().sum(1, keepdim=True)
    smooth = flow_gradient_energy(backward) <= RELATIVE_BOUNDARY * length + ABSOLUTE_BOUNDARY
    inside = sample_grid(backward).abs().amax(-1).unsqueeze(1) <= 1.0
    return (consistent & smooth & inside).to(backward.dtype)


def pair_error(current: torch.Tensor, earlier: torch.Tensor, backward: torch.Tensor,
               visible: torch.Tensor) -> float:
    """Mean over visible pixels of ``||current - warp(earlier)||^2`` (summed over channels); NaN when none is.

    Args:
        current, earlier: (1, C, H, W) frames in [0, 1].
        backward: (1, 2, H, W) flow current -> earlier.
        visible: (1, 1, H, W) from ``visible_pixels``.
    """
    count = visible.sum().item()
    if not count:
        return float("nan")
    squared = (current - warp_by_flow(earlier, backward)).square().sum(1, keepdim=True)
    return (squared * visible).sum().item() / count


@dataclass
class WarpingError:
    """Running mean of per-frame warping errors at one distance ``k`` (Lai et al. average the frames' means)."""

    k: int
    errors: list[float] = field(default_factory=list)

    def add(self, error: float) -> None:
        if error == error:  # a frame with no visible pixel says nothing
            self.errors.append(error)

    @property
    def value(self) -> float:
        return sum(self.errors) / len(self.errors) if self.errors else float("nan")


def warping_errors(videos: list[list[torch.Tensor]], motion, distances: tuple[int, ...] = (1, 5, 10)
                   ) -> list[dict[int, float]]:
    """``E_k`` of each video for each ``k`` in ``distances``, all measured with the same flow and visibility.

    Args:
        videos: equally long lists of (1, 3, H, W) frames in [0, 1] (e.g. the source and its dreams).
        motion: ``motion(t, k)`` -> (backward flow t -> t-k, forward flow t-k -> t), each (1, 2, H, W):
            the clip's known motion, or flow estimated on the source.
        distances: the ``k`` to measure.

    Returns:
        Per video, ``{k: E_k}`` (NaN where no frame pair had a visible pixel).
    """
    meters = [{k: WarpingError(k) for k in distances} for _ in videos]
    for k in distances:
        for t in range(k, len(videos[0])):
            backward, forward = motion(t, k)
            visible = visible_pixels(backward, forward)
            for video, meter in zip(videos, meters):
                meter[k].add(pair_error(video[t], video[t - k], backward, visible))
    return [{k: meter[k].value for k in distances} for meter in meters]
