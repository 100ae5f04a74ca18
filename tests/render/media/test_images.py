import imageio.v3 as iio
import numpy as np
import pytest
import torch

from dream.errors import UserError
from render.media.images import load_image, pixels_to_tensor, save_png, smooth_noise, to_uint8_pixels

CPU = torch.device("cpu")


def _pixels(shape, dtype=np.uint8, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, np.iinfo(dtype).max, size=shape, endpoint=True, dtype=dtype)


def test_load_rgb_png(tmp_path):
    pixels = _pixels((5, 7, 3))
    iio.imwrite(tmp_path / "rgb.png", pixels)
    image = load_image(tmp_path / "rgb.png", CPU)
    assert image.shape == (1, 3, 5, 7) and image.dtype == torch.float32
    assert torch.equal(image[0, :, 2, 3], torch.tensor(pixels[2, 3], dtype=torch.float32) / 255)


def test_load_grey_png_repeats_the_channel(tmp_path):
    pixels = _pixels((5, 7))
    iio.imwrite(tmp_path / "grey.png", pixels)
    image = load_image(tmp_path / "grey.png", CPU)
    assert image.shape == (1, 3, 5, 7)
    assert torch.equal(image[0, 0], image[0, 2]) and torch.equal(image[0, 1], torch.from_numpy(pixels) / 255.0)


def test_load_rgba_png_drops_alpha(tmp_path):
    pixels = _pixels((4, 6, 4))
    iio.imwrite(tmp_path / "rgba.png", pixels)
    image = load_image(str(tmp_path / "rgba.png"), CPU)
    assert image.shape == (1, 3, 4, 6)
    assert torch.allclose(image[0].permute(1, 2, 0), torch.from_numpy(pixels[..., :3]) / 255.0)


def test_load_16_bit_png_scales_to_unit_range(tmp_path):
    pixels = np.array([[0, 65535, 32768], [1000, 50000, 12]], dtype=np.uint16)
    iio.imwrite(tmp_path / "deep.png", pixels)
    image = load_image(tmp_path / "deep.png", CPU)
    assert image.shape == (1, 3, 2, 3)
    assert image.min() == 0.0 and image.max() == 1.0
    assert image[0, 1, 0, 2].item() == pytest.approx(32768 / 65535)


def test_load_and_resize(tmp_path):
    iio.imwrite(tmp_path / "rgb.png", _pixels((8, 10, 3)))
    assert load_image(tmp_path / "rgb.png", CPU, size=(4, 6)).shape == (1, 3, 4, 6)


def test_missing_and_corrupt_images_are_user_errors(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        load_image(tmp_path / "missing.png", CPU)
    corrupt = tmp_path / "corrupt.png"
    corrupt.write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 10)
    with pytest.raises(UserError, match="corrupt") as info:
        load_image(corrupt, CPU)
    assert str(corrupt) in str(info.value)


def test_pixels_to_tensor_refuses_a_stack_of_frames():
    with pytest.raises(UserError, match="4 dimensions"):
        pixels_to_tensor(_pixels((2, 4, 4, 3)), CPU)


def test_save_png_round_trip_is_exact_at_uint8(tmp_path):
    pixels = _pixels((6, 9, 3), seed=3)
    image = torch.from_numpy(pixels).permute(2, 0, 1)[None].float() / 255
    path = save_png(image, tmp_path / "out.png")
    assert path == tmp_path / "out.png"
    assert np.array_equal(iio.imread(path), pixels)
    assert torch.equal(load_image(path, CPU), image)
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"]  # no partial file left


def test_to_uint8_pixels_rounds_and_clamps():
    image = torch.tensor([-0.5, 0.5 / 255, 1.6 / 255, 2.0]).view(1, 1, 1, 4).expand(1, 3, 1, 4)
    assert to_uint8_pixels(image)[0, :, 0].tolist() == [0, 0, 2, 255]


def test_smooth_noise_shape_range_and_seed():
    noise = smooth_noise(24, 40, torch.Generator().manual_seed(0), CPU)
    assert noise.shape == (1, 3, 24, 40)
    assert 0.0 <= noise.min() and noise.max() <= 1.0
    assert abs(noise.mean().item() - 0.5) < 0.1
    assert torch.equal(noise, smooth_noise(24, 40, torch.Generator().manual_seed(0), CPU))
    assert not torch.equal(noise, smooth_noise(24, 40, torch.Generator().manual_seed(1), CPU))


def test_smooth_noise_is_smoother_than_white_noise():
    noise = smooth_noise(64, 64, torch.Generator().manual_seed(0), CPU)
    white = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    def roughness(x):
        return (x.diff(dim=-1).abs().mean() / x.std()).item()
    assert roughness(noise) < 0.5 * roughness(white)


def test_smooth_noise_tiny_sizes():
    assert smooth_noise(1, 3, torch.Generator().manual_seed(0), CPU).shape == (1, 3, 1, 3)
