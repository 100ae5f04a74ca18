"""The mode registry: every preset's mode resolves, and each mode refuses, once, what it can't honour."""

import dataclasses
import re
from pathlib import Path

import pytest

from dream.errors import UserError
from render.config import validate
from render.modes.registry import FEATURES, MODES, mode_of
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


FACTS = ("reads_video", "sized_by_input", "moves_camera", "streams_live", "dreams_every", "closes_loop",
         "starts_from_class", "mask_follows_camera", "dreams_live_input")


def test_the_modes_facts():
    facts = {name: {fact for fact in FACTS if getattr(mode, fact)} for name, mode in MODES.items()}
    assert facts == {"zoom": {"moves_camera", "streams_live", "dreams_every", "closes_loop", "starts_from_class",
                              "mask_follows_camera"},
                     "image": {"sized_by_input"}, "video": {"reads_video", "sized_by_input", "dreams_live_input"},
                     "visualize": set()}


def test_every_feature_a_render_asks_for_is_a_fact_of_the_modes():
    assert {feature.fact for feature in FEATURES} <= set(FACTS)


@pytest.mark.parametrize(
    ("fact", "overrides", "given"),
    [
        ("streams_live", ["live.enabled=true"], "live.enabled=true streams the render while it is made"),
        ("dreams_every", ["dream.cadence=2"], "dream.cadence=2 dreams every N-th frame"),
        ("closes_loop", ["loop=true"], "loop=true closes the clip on itself"),
        ("starts_from_class", ["init=class:banana"], "init=class:banana starts the animation from a class"),
        ("mask_follows_camera", ["mask.source=key:red:0-1", "mask.follow=camera"], "mask.follow=camera moves the mask"),
    ],
)
def test_a_mode_without_one_feature_refuses_that_feature_alone(fact, overrides, given):
    """A zoom that lacks one feature refuses it by name and points at the modes that have it; the others stand."""
    lacking = dataclasses.replace(MODES["zoom"], name="flat", **{fact: False})
    cfg = typed_config(compose_preset("smoke", overrides))
    with pytest.raises(UserError, match=f"^{re.escape(given)}.*, which flat renders don't do. Zoom renders do "):
        lacking.check(cfg)
    others = [name for name in FACTS if name != fact]
    MODES["zoom"].check(cfg)
    assert all(getattr(lacking, name) == getattr(MODES["zoom"], name) for name in others)


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
        ("video_dream", ["input=clip.mp4", "live.enabled=true"],
         "live.enabled=true streams .* which video renders don't do unless they dream over a live source "
         r"\(make live conf=video_dream ARGS=\"live.input=clip.mp4\"\). Zoom renders do"),
        ("dream_image", ["input=photo.jpg", "dream.cadence=2"],
         "dream.cadence=2 dreams every N-th frame .* which image renders don't do. Zoom renders do .* or leave "
         "dream.cadence out"),
        ("video_dream", ["input=clip.mp4", "loop=true"], "loop=true closes the clip on itself .* which video renders "
                                                          "don't do. Zoom renders do"),
        ("class_visualize", ["init=class:banana"], "init=class:banana starts the animation from a class "
                                                   "visualisation, which visualize renders don't do"),
        ("dream_image", ["input=photo.jpg", "mask.source=key:red:0-1", "mask.track=flow"],
         "mask.track=flow carries the first frame's mask along the source video's motion, which image renders "
         "don't do. Video renders do"),
        ("video_dream", ["input=clip.mp4", "mask.source=key:red:0-1", "mask.follow=camera"],
         "mask.follow=camera moves the mask with the camera, which video renders don't do. Zoom renders do"),
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
