"""Keys on the picture: parsing with clear errors, and which pixels each channel range selects."""

from __future__ import annotations

import pytest
import torch

from dream.errors import UserError
from render.ops.mask_key import KeyTerm, channel_values, is_key, key_mask, parse_key


def swatches() -> torch.Tensor:
    """(1, 3, 1, 5): black, white, pure red, sky blue (135, 206, 235), mid grey."""
    colours = [(0, 0, 0), (255, 255, 255), (255, 0, 0), (135, 206, 235), (128, 128, 128)]
    return torch.tensor(colours, dtype=torch.float32).T.reshape(1, 3, 1, 5) / 255


def test_parse_terms_and_wrapping_hue():
    assert parse_key("key:brightness:0.7-1") == [KeyTerm("brightness", 0.7, 1.0)]
    assert parse_key("key:hue:190-250+saturation:.15-1") == [KeyTerm("hue", 190, 250), KeyTerm("saturation", 0.15, 1)]
    assert parse_key("key:hue:330-30") == [KeyTerm("hue", 330, 30)]
    assert is_key("key:red:0-1") and not is_key("sky.png") and not is_key(None)


@pytest.mark.parametrize(
    "source, position, problem",
    [
        ("key:", 5, "is not CHANNEL:LOW-HIGH"),
        ("key:brightness>0.7", 5, "is not CHANNEL:LOW-HIGH"),
        ("key:bright:0-1", 5, "'bright' is not a channel"),
        ("key:red:0-1+sat:0-1", 13, "'sat' is not a channel"),
        ("key:red:0-2", 5, "red runs from 0 to 1"),
        ("key:hue:0-400", 5, "hue runs from 0 to 360"),
        ("key:blue:0.8-0.2", 5, "is empty"),
    ],
)
def test_unparsable_keys_say_where_and_how_to_write_one(source, position, problem):
    with pytest.raises(UserError) as err:
        parse_key(source)
    message = str(err.value)
    assert f"'mask.source' is '{source}'" in message and f"character {position}:" in message
    assert problem in message and "key:brightness:0.7-1" in message


def test_channels_in_their_units():
    image = swatches()
    assert channel_values(image, "brightness")[0, 0, 0].tolist() == pytest.approx([0, 1, 0.299, 0.7376, 0.502],
                                                                                  abs=1e-3)
    assert channel_values(image, "red")[0, 0, 0, 2].item() == 1.0
    hue = channel_values(image, "hue")[0, 0, 0]
    assert hue[2].item() == pytest.approx(0.0, abs=1e-3) and hue[3].item() == pytest.approx(197.4, abs=0.5)
    assert channel_values(image, "saturation")[0, 0, 0, 4].item() == pytest.approx(0.0, abs=1e-6)


def test_key_mask_selects_where_every_term_holds():
    image = swatches()
    assert key_mask(image, parse_key("key:brightness:0.7-1"))[0, 0, 0].tolist() == [0, 1, 0, 1, 0]
    sky = key_mask(image, parse_key("key:hue:190-250+saturation:0.15-1"))
    assert sky[0, 0, 0].tolist() == [0, 0, 0, 1, 0]  # white and grey have no saturation
    reds = key_mask(image, parse_key("key:hue:330-30+saturation:0.5-1"))
    assert reds[0, 0, 0].tolist() == [0, 0, 1, 0, 0]
    assert sky.shape == (1, 1, 1, 5) and sky.dtype == torch.float32
