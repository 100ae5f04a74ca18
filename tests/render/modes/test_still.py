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
