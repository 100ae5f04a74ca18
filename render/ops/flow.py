"""Optical flow between consecutive source frames, backward warping along it, and where to trust it.

The flow is OpenCV's DIS (Dense Inverse Search, Kroeger et al. 2016) from
opencv-python-headless: maintained, needs no weights and no GPU, and takes
milliseconds per frame at small sizes (about 20 ms at 320x180 on "medium", two
CPU cores). Learned flow (torchvision's RAFT) is sharper at motion boundaries but
needs downloaded weights, which many machines can't fetch; the reliability mask
below covers the boundaries DIS gets wrong, so the carried dream doesn't smear there.

Conventions: a flow is ``(B, 2, H, W)`` in pixels, channel 0 = dx, channel 1 = dy.
``estimate_flow(target, source)`` gives ``flow`` with ``target(p) ~ source(p + flow(p))``,
so ``warp_by_flow(source, flow)`` lays ``source`` over ``target`` (backward warping:
every output pixel is fetched, none is lost or doubled).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from dream.errors import UserError
from render.config import FlowPreset, VideoConfig

DIS_PRESETS = {
    FlowPreset.ultrafast: cv2.DISOpticalFlow_PRESET_ULTRAFAST,
    FlowPreset.fast: cv2.DISOpticalFlow_PRESET_FAST,
    FlowPreset.medium: cv2.DISOpticalFlow_PRESET_MEDIUM,
}
LUMA = (0.299, 0.587, 0.114)  # ITU-R BT.601: the grey DIS is given
# Forward and backward flow may disagree by this share of their lengths before a pixel counts as
# occluded (Ruder et al. 2016, "Artistic style transfer for videos"): long vectors are less exact.
RELATIVE_DISAGREEMENT = 0.01
# Motion longer than this share of the frame's longer side is rarely estimated right by DIS
# (its coarsest pyramid level sees about that far); carrying a dream that far would smear it.
LARGE_MOTION_FRACTION = 0.15


@dataclass(frozen=True)
class FlowSettings:
    """How flow is estimated and when it is trusted (the ``video`` config section's flow keys).

    Attributes:
        preset: DIS preset, one of ``DIS_PRESETS``.
        occlusion_threshold: forward-backward disagreement in pixels above which a pixel is occluded.
        scene_cut_threshold: mean absolute grey difference (0-1) between a frame and the previous
            frame warped onto it above which the frames are taken as a scene cut. Motion leaves
            0.003-0.011 on the pans of the tests and bench, a cut between two photos 0.26.
    """

    preset: str = "medium"
    occlusion_threshold: float = 1.0
    scene_cut_threshold: float = 0.1


@dataclass(frozen=True)
class FrameMotion:
    """How the previous frame maps onto the current one.

    Attributes:
        flow: (1, 2, H, W) backward flow: current(p) ~ previous(p + flow(p)).
        mask: (1, 1, H, W) 1.0 where the previous frame's content may be carried over, else 0.0.
        scene_cut: the frames show different scenes (``mask`` is then all zero).
    """

    flow: torch.Tensor
    mask: torch.Tensor
    scene_cut: bool


def flow_settings(video_cfg: VideoConfig) -> FlowSettings:
    """The flow settings of a ``video`` config section, checked; bad values are UserErrors.

    ``video.flow`` and ``video.flow_preset`` are closed choices of the schema (``FlowMethod``, ``FlowPreset``).
    """
    if not video_cfg.occlusion_threshold > 0 or not video_cfg.scene_cut_threshold > 0:
        raise UserError(
            "Config keys 'video.occlusion_threshold' (pixels, e.g. 1.0) and 'video.scene_cut_threshold' "
            "(0-1, e.g. 0.1) must be greater than 0."
        )
    return FlowSettings(video_cfg.flow_preset, float(video_cfg.occlusion_threshold),
                        float(video_cfg.scene_cut_threshold))


def grey_uint8(frame: torch.Tensor) -> np.ndarray:
    """(1, 3, H, W) float RGB in [0, 1] -> (H, W) uint8 luma on the CPU, as DIS takes it."""
    weights = torch.tensor(LUMA, device=frame.device, dtype=frame.dtype).view(1, 3, 1, 1)
    grey = (frame * weights).sum(1)[0]
    return grey.mul(255).clamp_(0, 255).round_().to(torch.uint8).cpu().numpy()


def estimate_flow(target: np.ndarray, source: np.ndarray, preset: str, device: torch.device) -> torch.Tensor:
    """DIS flow from ``target`` to ``source``: target(p) ~ source(p + flow(p)).

    Args:
        target, source: (H, W) uint8 grey frames.
        preset: one of ``DIS_PRESETS``.
        device: where the flow goes.

    Returns:
        (1, 2, H, W) float32 flow in pixels (dx, dy).
    """
    dis = cv2.DISOpticalFlow_create(DIS_PRESETS[preset])  # 50 us to make; keeps no state between calls
    flow = dis.calc(target, source, None)  # (H, W, 2)
    return torch.from_numpy(flow).permute(2, 0, 1).unsqueeze(0).to(device)


def sample_grid(flow: torch.Tensor) -> torch.Tensor:
    """Where each pixel fetches from, as ``grid_sample`` wants it: (B, H, W, 2) in [-1, 1] (x, y).

    Args:
        flow: (B, 2, H, W) in pixels.
    """
    _, _, height, width = flow.shape
    ys, xs = torch.meshgrid(
        torch.arange(height, device=flow.device, dtype=flow.dtype),
        torch.arange(width, device=flow.device, dtype=flow.dtype),
        indexing="ij",
    )
    x = (xs + flow[:, 0]) * (2.0 / max(width - 1, 1)) - 1.0  # align_corners=True: pixel centres at +-1
    y = (ys + flow[:, 1]) * (2.0 / max(height - 1, 1)) - 1.0
    return torch.stack((x, y), dim=-1)


def warp_by_flow(image: torch.Tensor, flow: torch.Tensor, mode: str = "bilinear") -> torch.Tensor:
    """Backward warp: output(p) = image(p + flow(p)), edge pixels repeated outside the frame.

    Args:
        image: (B, C, H, W).
        flow: (B, 2, H, W) in pixels, e.g. from ``estimate_flow(current, previous)``.
        mode: "bilinear", or "bicubic", which blurs fine detail less at fractional shifts (bilinear
            halves the finest detail at a half-pixel shift, and a carried dream is warped every frame).

    Returns:
        (B, C, H, W) ``image`` laid over the frame the flow was estimated for.
    """
    grid = sample_grid(flow.to(image.dtype))
    return F.grid_sample(image, grid, mode=mode, padding_mode="border", align_corners=True)


def flow_reliability(backward: torch.Tensor, forward: torch.Tensor, occlusion_threshold: float) -> torch.Tensor:
    """Where the backward flow can be trusted: forward-backward consistent, inside the frame, not too long.

    A pixel visible in both frames comes back to itself: ``backward(p) + forward(p + backward(p)) ~ 0``.
    Occluded or newly revealed pixels, and places where DIS is wrong, fail that check.

    Args:
        backward: (B, 2, H, W) flow current -> previous.
        forward: (B, 2, H, W) flow previous -> current.
        occlusion_threshold: disagreement in pixels tolerated for a still pixel.

    Returns:
        (B, 1, H, W) float mask, 1.0 where reliable.
    """
    _, _, height, width = backward.shape
    forward_there = warp_by_flow(forward, backward)
    disagreement = (backward + forward_there).square().sum(1, keepdim=True)
    lengths = backward.square().sum(1, keepdim=True) + forward_there.square().sum(1, keepdim=True)
    consistent = disagreement <= occlusion_threshold**2 + RELATIVE_DISAGREEMENT * lengths
    inside = sample_grid(backward).abs().amax(-1).unsqueeze(1) <= 1.0  # came from inside the previous frame
    short = backward.norm(dim=1, keepdim=True) <= LARGE_MOTION_FRACTION * max(height, width)
    return (consistent & inside & short).to(backward.dtype)


def compensated_difference(current: np.ndarray, previous: np.ndarray, backward: torch.Tensor) -> float:
    """Mean absolute grey difference (0-1) between ``current`` and ``previous`` warped onto it.

    Motion alone leaves it near zero; a scene cut, which no flow explains, leaves it large.

    Args:
        current, previous: (H, W) uint8 grey frames.
        backward: (1, 2, H, W) flow current -> previous.
    """
    current_t, previous_t = (torch.from_numpy(g).to(backward)[None, None] / 255 for g in (current, previous))
    return (current_t - warp_by_flow(previous_t, backward)).abs().mean().item()


def frame_motion(previous: torch.Tensor, current: torch.Tensor, settings: FlowSettings) -> FrameMotion:
    """Flow and reliability between two consecutive frames.

    Args:
        previous, current: (1, 3, H, W) float RGB in [0, 1].
        settings: flow preset and thresholds.

    Returns:
        The backward flow (current -> previous), its reliability mask and whether there is a scene cut.
    """
    previous_grey, current_grey = grey_uint8(previous), grey_uint8(current)
    backward = estimate_flow(current_grey, previous_grey, settings.preset, current.device)
    forward = estimate_flow(previous_grey, current_grey, settings.preset, current.device)
    mask = flow_reliability(backward, forward, settings.occlusion_threshold)
    scene_cut = compensated_difference(current_grey, previous_grey, backward) > settings.scene_cut_threshold
    return FrameMotion(backward, torch.zeros_like(mask) if scene_cut else mask, scene_cut)
