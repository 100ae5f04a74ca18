"""The still mode: a photo dreamed at its own size into one PNG."""

import imageio.v3 as iio
import numpy as np
from skimage import data

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
