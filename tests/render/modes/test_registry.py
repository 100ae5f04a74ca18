"""The mode registry: every preset's mode resolves, and each mode refuses, once, what it can't honour."""

from pathlib import Path

import pytest

from dream.errors import UserError
from render.config import validate
from render.modes.registry import MODES, mode_of
from render.run import typed_config
from tests.compose import compose_preset

PRESETS = sorted(path.stem for path in (Path(__file__).parents[3] / "conf").glob("*.yaml"))


def checked(preset: str, overrides: list[str]) -> str:
    """The name of the mode that accepted ``preset`` with ``overrides``, as ``run`` checks them at start."""
    cfg = typed_config(compose_preset(preset, overrides))
    mode = mode_of(cfg)
    validate(cfg, mode.sized_by_input)
    mode.check(cfg)
    return mode.name


@pytest.mark.parametrize("preset", PRESETS)
def test_every_preset_names_a_mode_that_accepts_it(preset):
    needs_input = preset in ("video_dream", "dream_image")
    assert checked(preset, ["input=clip.mp4"] if needs_input else []) in MODES


def test_the_modes_facts():
    facts = {name: (mode.reads_video, mode.sized_by_input, mode.animates_camera) for name, mode in MODES.items()}
    assert facts == {"zoom": (False, False, True), "image": (False, True, False), "video": (True, True, False),
                     "visualize": (False, False, False)}


def test_an_unknown_mode_is_a_user_error_listing_the_modes():
    with pytest.raises(UserError, match="'mode' is 'film', but must be one of: zoom, image, video, visualize"):
        mode_of(typed_config(compose_preset("smoke", ["mode=film"])))


@pytest.mark.parametrize(
    ("preset", "overrides", "message"),
    [
        ("dream_image", [], "dreams a photo: pass one with input=photo.jpg"),
        ("video_dream", [], "Dreaming a video needs one: pass input=clip.mp4"),
        ("class_visualize", ["target=null"], "Visualisation needs a target: .*target=banana"),
        ("smoke", ["segment.count=2"], "sequential by nature"),
        ("smoke", ["init=photo"], "init=class:banana"),
        ("smoke", ["frames=null", "live.enabled=true", "loop=true"], "no end to close"),
        ("video_dream", ["input=clip.mp4", "live.enabled=true"], "this render's mode is 'video'"),
        ("dream_image", ["input=photo.jpg", "dream.cadence=2"], "stream and pace zoom renders"),
        ("video_dream", ["input=clip.mp4", "loop=true"], "loop=true closes a zoom on itself, but .* mode is 'video'"),
        ("class_visualize", ["init=class:banana"], "init=class:banana starts a zoom .* mode is 'visualize'"),
        ("dream_image", ["input=photo.jpg", "mask.source=key:red:0-1", "mask.track=flow"],
         "mask.track=flow applies to video renders only, not to this image render"),
        ("video_dream", ["input=clip.mp4", "mask.source=key:red:0-1", "mask.follow=camera"],
         "mask.follow=camera applies to zoom renders only"),
    ],
)
def test_each_mode_refuses_what_it_cant_honour(preset, overrides, message):
    with pytest.raises(UserError, match=message):
        checked(preset, overrides)


@pytest.mark.parametrize(
    ("preset", "overrides"),
    [
        ("video_dream", ["input=clip.mp4", "segment.count=2", "mask.source=key:red:0-1", "mask.track=flow"]),
        ("smoke", ["loop=true", "init=class:banana", "mask.source=key:red:0-1", "mask.follow=camera"]),
        ("smoke", ["frames=null", "live.enabled=true", "dream.cadence=auto"]),
        ("dream_image", ["input=photo.jpg", "mask.track=flow"]),  # no mask.source: nothing to track
    ],
)
def test_each_mode_accepts_its_own_keys(preset, overrides):
    checked(preset, overrides)
