import kornia
import pytest
import torch

from render.ops.warp import Motion, motion_matrix, warp


def _image(height: int = 9, width: int = 9, seed: int = 0) -> torch.Tensor:
    return 0.1 + 0.8 * torch.rand(2, 3, height, width, generator=torch.Generator().manual_seed(seed))


def test_identity_returns_the_same_tensor():
    image = _image()
    assert Motion().is_identity
    assert warp(image, Motion()) is image
    assert warp(image, Motion(center=(0.2, 0.5))) is image  # a centre alone moves nothing


def test_identity_matrix():
    matrix = motion_matrix(Motion(), 9, 11, torch.device("cpu"))
    assert matrix.shape == (1, 2, 3)
    assert torch.allclose(matrix, torch.tensor([[[1.0, 0, 0], [0, 1.0, 0]]]), atol=1e-6)


@pytest.mark.parametrize(
    "motion", [Motion(zoom=1.3), Motion(zoom=0.8), Motion(angle=33.0), Motion(zoom=1.1, angle=-70.0)]
)
def test_centre_pixel_is_invariant_under_zoom_and_rotation(motion):
    image = _image(9, 11)
    out = warp(image, motion)
    assert out.shape == image.shape
    assert torch.allclose(out[..., 4, 5], image[..., 4, 5], atol=1e-5)
    assert not torch.allclose(out, image)


def test_off_centre_transform_keeps_its_own_centre():
    image = _image(9, 11)
    out = warp(image, Motion(zoom=1.5, angle=20, center=(0.2, 0.75)))
    assert torch.allclose(out[..., 6, 2], image[..., 6, 2], atol=1e-5)


def test_translation_by_one_pixel_shifts_right_and_down():
    image = _image()
    right = warp(image, Motion(translation=(1.0, 0.0)))
    assert torch.allclose(right[..., :, 1:], image[..., :, :-1], atol=1e-6)
    down = warp(image, Motion(translation=(0.0, 1.0)))
    assert torch.allclose(down[..., 1:, :], image[..., :-1, :], atol=1e-6)


def test_90_degrees_is_a_counter_clockwise_quarter_turn():
    image = _image(8, 8)
    out = warp(image, Motion(angle=90.0))
    assert torch.allclose(out, torch.rot90(image, 1, dims=(2, 3)), atol=1e-5)
    # Counter-clockwise as displayed (rows run down): the top-right corner goes to the top-left.
    assert torch.allclose(out[..., 0, 0], image[..., 0, -1], atol=1e-5)


@pytest.mark.parametrize("zoom", [2.0, 0.5])
def test_zoom_above_one_magnifies(zoom):
    """A horizontal ramp zoomed by z about its centre changes 1/z as fast per output pixel."""
    ramp = torch.linspace(0, 1, 17).expand(1, 3, 17, 17).contiguous()
    out = warp(ramp, Motion(zoom=zoom), border="zeros")
    assert torch.allclose(out[..., 8, 6:11].diff(), ramp[..., 8, 6:11].diff() / zoom, atol=1e-5)


def test_border_modes_on_zoom_out():
    image = _image(12, 12)
    zoom_out = Motion(zoom=0.5)
    zeros = warp(image, zoom_out, border="zeros")
    reflection = warp(image, zoom_out, border="reflection")
    replicate = warp(image, zoom_out, border="replicate")
    assert torch.all(zeros[..., 0, :] == 0) and torch.all(zeros[..., :, -1] == 0)
    for filled in (reflection, replicate):
        assert filled[..., 0, :].min() > 0.05 and filled[..., :, -1].min() > 0.05
    assert not torch.allclose(reflection, replicate)
    # Inside the shrunken picture the modes agree.
    assert torch.allclose(zeros[..., 4:8, 4:8], reflection[..., 4:8, 4:8], atol=1e-6)


def test_bicubic_stays_in_unit_range():
    edge = (torch.arange(16) >= 8).float().expand(1, 3, 16, 16).contiguous()  # black left, white right
    motion = Motion(translation=(0.5, 0.0), angle=3.0)
    raw = kornia.geometry.transform.warp_affine(
        edge, motion_matrix(motion, 16, 16, edge.device), (16, 16), mode="bicubic", align_corners=True
    )
    assert raw.min() < -0.01 and raw.max() > 1.01  # bicubic rings at a hard edge...
    out = warp(edge, motion, sampling="bicubic")
    assert out.min() >= 0 and out.max() <= 1  # ...and the warp clamps it


def test_dtype_and_device_kept():
    image = _image().double()
    out = warp(image, Motion(zoom=1.1))
    assert out.dtype == torch.float64 and out.device == image.device


def test_composed_steps_resample_once_like_two_warps():
    from render.ops.warp import step_matrix, warp_by_matrix

    y, x = torch.meshgrid(torch.linspace(0, 1, 48), torch.linspace(0, 1, 64), indexing="ij")
    image = torch.stack([x, y, x * y])[None]  # smooth, so one or two resamplings agree closely
    first, second = Motion(zoom=1.05, angle=2.0), Motion(zoom=1.03, translation=(1.5, -1.0))
    composed = step_matrix(second, 48, 64, image.device) @ step_matrix(first, 48, 64, image.device)
    twice = warp(warp(image, first), second)
    once = warp_by_matrix(image, composed)
    inner = (slice(None), slice(None), slice(6, -6), slice(6, -6))
    assert (once - twice)[inner].abs().max() < 0.01


def test_the_identity_step_resamples_nothing():
    from render.ops.warp import step_matrix, warp_by_matrix

    image = torch.rand(1, 3, 8, 8)
    assert torch.equal(step_matrix(Motion(), 8, 8, image.device), torch.eye(3)[None])
    assert warp_by_matrix(image, step_matrix(Motion(), 8, 8, image.device)) is image
