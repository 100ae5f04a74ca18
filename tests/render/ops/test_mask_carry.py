"""Carrying a mask: the subject's shift from the flow inside it, refined on the pixels; placing the drawing."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from skimage import data

from render.ops.flow import FrameMotion, warp_by_flow
from render.ops.mask_carry import interior, place, refine_shift, shift_matrix, subject_shift


def test_subject_shift_ignores_the_edge_and_unreliable_pixels():
    mask = torch.zeros(1, 1, 20, 20)
    mask[..., 4:16, 4:16] = 1.0
    flow = torch.zeros(1, 2, 20, 20)
    flow[:, 0, 7:13, 7:13] = -2.0  # the interior moved 2 px right
    flow[:, 1, 4:16, 4:6] = 9.0  # wrong flow on the edge
    reliable = torch.ones(1, 1, 20, 20)
    reliable[..., 7:9, 7:13] = 0.0
    flow[:, 0, 7:9, 7:13] = 50.0  # and where the flow is unreliable
    assert subject_shift(mask, FrameMotion(flow, reliable, False)) == (2.0, -0.0)
    assert subject_shift(mask, FrameMotion(flow, torch.zeros_like(reliable), False)) == (0.0, 0.0)


def test_refine_shift_aligns_a_textured_subject_to_a_fraction_of_a_pixel():
    photo = torch.from_numpy(np.ascontiguousarray(data.camera()[200:264, 200:264])).float()[None, None] / 255
    true_shift = (1.3, -0.6)
    flow = torch.tensor([-true_shift[0], -true_shift[1]]).view(1, 2, 1, 1).expand(1, 2, 64, 64)
    moved = warp_by_flow(photo, flow)  # moved(p) = photo(p - shift)
    region = torch.zeros(1, 1, 64, 64, dtype=torch.bool)
    region[..., 8:56, 8:56] = True
    dx, dy = refine_shift(photo, moved, region, (1.0, 0.0))
    assert dx == pytest.approx(1.3, abs=0.05) and dy == pytest.approx(-0.6, abs=0.05)
    flat = torch.full((1, 1, 64, 64), 0.5)
    assert refine_shift(flat, flat, region, (1.0, 0.0)) == (1.0, 0.0)  # nothing to align: the guess stays


def test_place_moves_the_drawing_and_interior_keeps_off_the_edge():
    drawing = torch.zeros(1, 1, 16, 16)
    drawing[..., 2:10, 2:10] = 1.0
    placed = place(drawing, shift_matrix(3.0, 1.0, torch.device("cpu")), "zeros")
    assert torch.allclose(placed[..., 3:11, 5:13], torch.ones(1, 1, 8, 8)) and placed.sum().item() == pytest.approx(64)
    inner = interior(drawing)
    assert inner.sum() == 4 and inner[0, 0, 5:7, 5:7].all()
