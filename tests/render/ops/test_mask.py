"""Masks: feathering with an exact zero, the exact keep, checks, and each frame's mask read, keyed or carried."""

from __future__ import annotations

import subprocess

import imageio.v3 as iio
import imageio_ffmpeg
import numpy as np
import pytest
import torch

from dream.errors import UserError
from render.config import MaskConfig
from render.media.sink import to_uint8_hwc
from render.ops.flow import FrameMotion
from render.ops.mask import feather, keep, mask_settings, open_frame_masks
from render.ops.warp import Motion, step_matrix
from render.schedule import ScheduleVariables
from tests.compose import timeline_of

CPU = torch.device("cpu")


def square(size: int = 20, top: int = 5, bottom: int = 15) -> torch.Tensor:
    mask = torch.zeros(1, 1, size, size)
    mask[..., top:bottom, top:bottom] = 1.0
    return mask


def settings_of(frames: int = 4, **keys):
    """The checked mask settings of ``keys``, the strength as a render's timeline over ``frames`` has it."""
    strength = timeline_of(frames, [f"mask.strength={keys.get('strength', 1.0)}"]).track("mask.strength")
    return mask_settings(MaskConfig(**keys), strength)


def masks_for(tmp_path, frames: int = 4, **keys):
    settings = settings_of(frames, **keys)
    return open_frame_masks(settings, frames, "the source video's frames", CPU)


def save_mask(tmp_path, pixels: np.ndarray, name: str = "mask.png") -> str:
    iio.imwrite(tmp_path / name, pixels)
    return str(tmp_path / name)


def test_feather_ramps_over_its_width_and_is_exact_beyond():
    soft = feather(square(), 4)
    row = soft[0, 0, 10]
    assert torch.equal(row[:3], torch.zeros(3)) and torch.equal(row[17:], torch.zeros(3))
    assert torch.equal(row[7:13], torch.ones(6))
    ramp = row[3:7]
    assert (ramp > 0).all() and (ramp < 1).all() and (ramp.diff() > 0).all()
    assert feather(square(), 0) is not None and torch.equal(feather(square(), 0), square())


def test_feather_keeps_an_all_white_mask_white_at_the_borders():
    assert torch.equal(feather(torch.ones(1, 1, 9, 12), 6), torch.ones(1, 1, 9, 12))


def test_keep_is_the_source_bit_for_bit_where_the_weight_is_0():
    generator = torch.Generator().manual_seed(0)
    source = (torch.randint(0, 256, (1, 3, 20, 20), generator=generator).float() / 255)
    dreamed = torch.rand(1, 3, 20, 20, generator=generator)
    weight = feather(square(), 4)
    kept = keep(source, dreamed, weight)
    outside = (weight == 0).expand_as(source)
    assert torch.equal(kept[outside], source[outside])
    assert torch.equal(to_uint8_hwc(kept)[outside[0].permute(1, 2, 0)],
                       to_uint8_hwc(source)[outside[0].permute(1, 2, 0)])
    inside = (weight == 1).expand_as(source)
    assert torch.equal(kept[inside], dreamed[inside])


@pytest.mark.parametrize(
    "keys, message",
    [
        ({"feather": -1}, "'mask.feather' is -1"),
        ({"source": "key:hue"}, "can't be read as a key"),
    ],
)
def test_bad_mask_settings_are_user_errors(keys, message):
    with pytest.raises(UserError, match=message):
        settings_of(4, **{"source": "key:red:0-1", **keys})


def test_strength_is_the_timelines_with_its_interpolation_and_variables():
    beat = np.array([0.0, 1.0, 0.0, 1.0])
    variables = [ScheduleVariables(values={"beat": beat})]
    stepped = timeline_of(4, ["motion.interpolation=step", "mask.strength='0:(0), 2:(1)'"], variables)
    strength = mask_settings(MaskConfig(), stepped.track("mask.strength")).strength
    assert [strength.at(i) for i in range(4)] == [0.0, 0.0, 1.0, 1.0]  # step, not linear's 0.5 at frame 1
    beating = timeline_of(4, ["mask.strength='0:(beat)'"], variables).track("mask.strength")
    assert [beating.at(i) for i in range(4)] == beat.tolist()


def test_no_source_no_masks():
    assert open_frame_masks(settings_of(4), 4, "", CPU) is None


def test_image_mask_inverted_feathered_and_weighted_by_the_strength_schedule(tmp_path):
    pixels = np.zeros((10, 10), np.uint8)
    pixels[:, :5] = 255
    masks = masks_for(tmp_path, source=save_mask(tmp_path, pixels), invert=True, feather=0, strength="0:(0), 2:(1)")
    frame = torch.rand(1, 3, 20, 20)
    first, second = masks.next(0, frame), masks.next(1, frame)
    assert torch.equal(first.dream[..., 11:], torch.ones(1, 1, 20, 9))
    assert torch.equal(first.dream[..., :9], torch.zeros(1, 1, 20, 9))
    assert first.empty and not second.empty
    assert torch.allclose(second.weight, 0.5 * second.dream)


@pytest.mark.parametrize("invert", [False, True])
def test_a_mask_that_dreams_nowhere_is_refused(tmp_path, invert):
    pixels = np.full((6, 6), 255 if invert else 0, np.uint8)
    with pytest.raises(UserError, match="is all (black|white).* nothing would be dreamed"):
        masks_for(tmp_path, source=save_mask(tmp_path, pixels), invert=invert)


def test_key_mask_is_read_from_each_frame():
    settings = settings_of(2, source="key:brightness:0.5-1", feather=0)
    masks = open_frame_masks(settings, 2, "", CPU)
    bright, dark = torch.ones(1, 3, 4, 4), torch.zeros(1, 3, 4, 4)
    assert masks.next(0, bright).dream.all() and masks.next(1, dark).empty


def test_track_flow_moves_the_first_mask_with_the_subject(tmp_path):
    pixels = np.zeros((20, 20), np.uint8)
    pixels[5:12, 5:12] = 255
    masks = masks_for(tmp_path, source=save_mask(tmp_path, pixels), track="flow", feather=0)
    frame = torch.zeros(1, 3, 20, 20)  # a key would see nothing here: the first mask is the one carried
    masks.next(0, frame)
    flow = torch.zeros(1, 2, 20, 20)
    flow[:, 0] = -3.0  # current(p) ~ previous(p - 3 px in x): content moved 3 px right
    motion = FrameMotion(flow, torch.ones(1, 1, 20, 20), scene_cut=False)
    moved = masks.next(1, frame, motion=motion).dream
    assert torch.equal(moved[0, 0, 5:12, 8:15], torch.ones(7, 7)) and moved.sum() == 49
    restored = masks_for(tmp_path, source=masks.settings.cfg.source, track="flow", feather=0)
    restored.restore(masks.snapshot(), CPU)
    again = masks.next(2, frame, motion=motion).dream
    assert torch.equal(restored.next(2, frame, motion=motion).dream, again)
    assert torch.equal(again[0, 0, 5:12, 11:18], torch.ones(7, 7))  # placed afresh: still crisp
    cut = FrameMotion(flow, torch.zeros(1, 1, 20, 20), scene_cut=True)
    assert torch.equal(masks.next(3, frame, motion=cut).dream, again)


def test_an_inverted_tracked_mask_follows_the_subject_not_the_background(tmp_path):
    pixels = np.zeros((24, 24), np.uint8)
    pixels[6:14, 6:14] = 255  # the subject, kept; everything else is dreamed
    masks = masks_for(tmp_path, source=save_mask(tmp_path, pixels), track="flow", feather=0, invert=True)
    frame = torch.zeros(1, 3, 24, 24)
    assert torch.equal(masks.next(0, frame).dream[0, 0, 6:14, 6:14], torch.zeros(8, 8))
    flow = torch.full((1, 2, 24, 24), 0.0)
    flow[:, 0] = 2.0  # the background pans 2 px left
    flow[:, 0, 6:14, 6:14] = -3.0  # the subject moves 3 px right
    moved = masks.next(1, frame, motion=FrameMotion(flow, torch.ones(1, 1, 24, 24), scene_cut=False)).dream
    assert torch.equal(moved[0, 0, 6:14, 9:17], torch.zeros(8, 8)) and moved.sum() == 24 * 24 - 64


def test_follow_camera_moves_the_mask_with_the_zoom(tmp_path):
    pixels = np.zeros((21, 21), np.uint8)
    pixels[8:13, 8:13] = 255
    source = save_mask(tmp_path, pixels)
    masks = masks_for(tmp_path, source=source, follow="camera", feather=0)
    screen = masks_for(tmp_path, source=source, feather=0)
    frame = torch.zeros(1, 3, 21, 21)
    zoom = step_matrix(Motion(zoom=1.5), 21, 21, CPU)
    first = masks.next(0, frame).dream
    grown = masks.next(1, frame, camera=zoom).dream
    assert (grown > 0.5).sum() > 1.5 * (first > 0.5).sum()
    assert torch.equal(screen.next(1, frame, camera=zoom).dream, first)
    twice = masks.next(2, frame, camera=zoom).dream
    assert twice[0, 0, 10, 10] == 1.0 and twice[0, 0, 10, 0] == 0.0 and (twice > 0.5).sum() > (grown > 0.5).sum()


def mask_clip(path, frames: int, colour: str = "white") -> str:
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i",
                    f"color={colour}:size=16x16:rate=10", "-frames:v", str(frames), "-pix_fmt", "yuv444p",
                    "-crf", "0", str(path)], check=True)
    return str(path)


def test_mask_video_gives_each_frame_its_mask_and_checks_the_count(tmp_path):
    clip = mask_clip(tmp_path / "mask.mp4", 4)
    masks = masks_for(tmp_path, frames=4, source=clip, feather=0)
    frame = torch.zeros(1, 3, 8, 8)
    assert all(masks.next(i, frame).dream.min() > 0.99 for i in (0, 1, 3))  # a jump reopens it there
    with pytest.raises(UserError, match="has 4 frames, but the source video's frames are 5"):
        masks_for(tmp_path, frames=5, source=clip)
    with pytest.raises(UserError, match="mask video .* is all black"):
        masks_for(tmp_path, frames=3, source=mask_clip(tmp_path / "black.mp4", 3, "black"))
    with pytest.raises(UserError, match="leave out mask.track"):
        masks_for(tmp_path, frames=4, source=clip, track="flow")
