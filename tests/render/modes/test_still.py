"""The still mode: a photo dreamed at its own size into one PNG."""

import imageio.v3 as iio
import numpy as np
import pytest
from skimage import data

from dream.errors import UserError
from render.run import run
from tests.compose import compose_preset


def test_still_image_mode_writes_png(tmp_path):
    photo = tmp_path / "coffee.png"
    iio.imwrite(photo, data.coffee()[::4, ::4])
    cfg = compose_preset("dream_image", [f"input={photo}", "dream.octaves=2", "dream.iterations=2"])
    meta = run(cfg, tmp_path / "run")
    dreamed = iio.imread(tmp_path / "run" / "dream.png")
    assert dreamed.shape == (100, 150, 3) and (meta["width"], meta["height"]) == (150, 100)
    assert np.abs(dreamed.astype(int) - iio.imread(photo).astype(int)).mean() > 2


def test_width_and_height_resize_the_photo(tmp_path):
    photo = tmp_path / "coffee.png"
    iio.imwrite(photo, data.coffee()[::4, ::4])  # 150x100
    cfg = compose_preset("dream_image", [f"input={photo}", "dream.octaves=1", "dream.iterations=1", "width=60"])
    meta = run(cfg, tmp_path / "one")
    assert iio.imread(tmp_path / "one" / "dream.png").shape == (40, 60, 3) and meta["height"] == 40
    cfg = compose_preset("dream_image", [f"input={photo}", "dream.octaves=1", "dream.iterations=1",
                                         "width=32", "height=48"])
    assert run(cfg, tmp_path / "both")["width"] == 32
    assert iio.imread(tmp_path / "both" / "dream.png").shape == (48, 32, 3)


def test_masked_still_keeps_every_pixel_outside_the_feathered_mask(tmp_path):
    photo, mask = tmp_path / "coffee.png", tmp_path / "left.png"
    iio.imwrite(photo, data.coffee()[::4, ::4])
    left = np.zeros((50, 75), np.uint8)  # half the photo's size: scaled up to it
    left[:, :30] = 255
    iio.imwrite(mask, left)
    overrides = [f"input={photo}", "dream.octaves=2", "dream.iterations=2", f"mask.source={mask}", "mask.feather=4"]
    run(compose_preset("dream_image", overrides), tmp_path / "run")
    dreamed, original = iio.imread(tmp_path / "run" / "dream.png").astype(int), iio.imread(photo).astype(int)
    assert np.array_equal(dreamed[:, 64:], original[:, 64:])  # the mask's edge is at 60, its feather 2 px out
    assert np.abs(dreamed[:, :56] - original[:, :56]).mean() > 2


def test_a_key_that_selects_nothing_of_a_still_is_refused(tmp_path):
    photo = tmp_path / "coffee.png"
    iio.imwrite(photo, data.coffee()[::8, ::8])
    cfg = compose_preset("dream_image", [f"input={photo}", "mask.source=key:brightness:0.999-1"])
    with pytest.raises(UserError, match="selects nothing of .*coffee.png"):
        run(cfg, tmp_path / "run")
    assert not (tmp_path / "run" / "dream.png").exists()
