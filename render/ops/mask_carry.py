"""Carrying the first frame's mask from frame to frame: with the subject (flow) or with the camera.

The mask drawn for the first frame is kept, and each frame's mask is that drawing
placed by one affine matrix, the product of the moves since the first frame. Placing
the drawing afresh every frame keeps it crisp: warping last frame's mask again and
again would blur it a little more each time.

``mask.track=flow`` moves the drawing as a whole by the median motion of the reliable
pixels inside it (its interior, where the flow is surest), refined by aligning the
subject's pixels themselves (Lucas-Kanade): DIS's flow lags a small subject that moves
against its background by about a tenth, and the lag would add up frame after frame. Warping the mask pixel by
pixel along the flow follows a subject's deformation in principle, but in practice it
drags a trail behind the subject wherever the flow of the revealed background is wrong
and frays at every frame; measured on a known moving square (``render.tools.bench_masks``)
the drawing moved whole keeps about twice the overlap after 48 frames. It does not turn
or scale with the subject.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from render.ops.flow import FrameMotion, warp_by_flow
from render.ops.warp import warp_by_matrix

INTERIOR_MARGIN = 3  # pixels inside the mask's edge: the flow at a moving edge mixes subject and background
ALIGN_ITERATIONS = 3
MAX_CORRECTION = 2.0  # pixels per iteration; a larger one means the alignment is lost, and the flow is kept


def shift_matrix(dx: float, dy: float, device: torch.device) -> torch.Tensor:
    """(1, 3, 3) translation by (dx, dy) pixels."""
    matrix = torch.eye(3, device=device).unsqueeze(0)
    matrix[0, 0, 2], matrix[0, 1, 2] = dx, dy
    return matrix


def subject_shift(mask: torch.Tensor, motion: FrameMotion) -> tuple[float, float]:
    """How far the masked subject moved from the previous frame: the median flow inside it, reversed.

    Args:
        mask: (1, 1, H, W) the previous frame's mask.
        motion: previous -> current; its flow is backward (current(p) ~ previous(p + flow)).

    Returns:
        (dx, dy) in pixels; (0, 0) across a scene cut or where nothing inside the mask is reliable.
    """
    if motion.scene_cut:
        return 0.0, 0.0
    reliable = motion.mask >= 0.5
    for region in (interior(mask), mask >= 0.5):
        picked = (region & reliable)[0, 0]
        if picked.any():
            dx, dy = motion.flow[0][:, picked].median(dim=1).values.tolist()
            return -dx, -dy
    return 0.0, 0.0


def interior(mask: torch.Tensor) -> torch.Tensor:
    """(1, 1, H, W) bool: at least ``INTERIOR_MARGIN`` pixels inside the mask's half-way edge."""
    return -F.max_pool2d(-mask, 2 * INTERIOR_MARGIN + 1, stride=1, padding=INTERIOR_MARGIN) >= 0.5


def refine_shift(previous: torch.Tensor, current: torch.Tensor, region: torch.Tensor,
                 shift: tuple[float, float]) -> tuple[float, float]:
    """Refine the subject's shift so that ``current(p) ~ previous(p - shift)`` over ``region`` (Lucas-Kanade).

    Args:
        previous, current: (1, 1, H, W) grey frames.
        region: (1, 1, H, W) bool, the subject's pixels in the current frame.
        shift: (dx, dy) to start from.

    Returns:
        The refined (dx, dy); ``shift`` itself where the region has no texture to align.
    """
    height, width = current.shape[-2:]
    for _ in range(ALIGN_ITERATIONS):
        flow = current.new_tensor([-shift[0], -shift[1]]).view(1, 2, 1, 1).expand(1, 2, height, width)
        moved = warp_by_flow(previous, flow)
        gx, gy = torch.zeros_like(moved), torch.zeros_like(moved)
        gx[..., 1:-1] = (moved[..., 2:] - moved[..., :-2]) / 2
        gy[..., 1:-1, :] = (moved[..., 2:, :] - moved[..., :-2, :]) / 2
        gx, gy, residual = gx[region], gy[region], (current - moved)[region]
        normal = torch.stack((torch.stack(((gx * gx).sum(), (gx * gy).sum())),
                              torch.stack(((gx * gy).sum(), (gy * gy).sum()))))
        step, info = torch.linalg.solve_ex(normal, -torch.stack(((gx * residual).sum(), (gy * residual).sum())))
        if info.item() != 0 or not torch.isfinite(step).all() or step.abs().max() > MAX_CORRECTION:
            return shift
        shift = (shift[0] + step[0].item(), shift[1] + step[1].item())
    return shift


def place(drawing: torch.Tensor, placement: torch.Tensor, border: str) -> torch.Tensor:
    """The first frame's mask (1, 1, H, W) moved by ``placement`` (1, 3, 3), clamped to [0, 1]."""
    return warp_by_matrix(drawing, placement, border).clamp(0.0, 1.0)
