"""The render plan: built and checked once, before any run folder exists."""

import dataclasses

import pytest

from dream.errors import UserError
from render.modes.registry import MODES
from render.ops.camera import AffineCamera
from render.ops.perspective_camera import PerspectiveCamera
from render.plan import endless_or, plan_render
from render.run import typed_config
from tests.compose import compose_preset


def plan_of(preset: str, overrides: list[str]):
    return plan_render(typed_config(compose_preset(preset, overrides)))


def test_a_zoom_plan_counts_its_loop_head_and_picks_its_camera():
    plan = plan_of("smoke", ["frames=8", "loop=true", "loop_frames=2"])
    assert (plan.frames, plan.loop_head, plan.source, plan.audio) == (10, 2, None, None)
    assert type(plan.camera) is AffineCamera and plan.timeline.frames == 10
    assert type(plan_of("smoke", ["motion.tilt_x=0.5"]).camera) is PerspectiveCamera


def test_an_endless_plan_has_no_frame_total():
    plan = plan_of("smoke", ["frames=null", "live.enabled=true"])
    assert plan.endless and plan.timeline.frames is None


def test_a_refused_plan_writes_nothing(tmp_path):
    run_dir = tmp_path / "run"
    with pytest.raises(UserError, match="motion.zoom"):
        plan_render(typed_config(compose_preset("smoke", ["motion.zoom=0"])), run_dir)
    assert not run_dir.exists()


def test_what_is_honoured_differently_is_said_and_kept_in_the_notes():
    said = []
    plan = plan_render(typed_config(compose_preset("smoke", ["loop=true", "frames=6", "loop_frames=30"])),
                       warn=said.append)
    assert said == plan.notes and "crossfades 3 frames" in said[0]


def test_the_camera_is_the_modes_fact_moves_camera(monkeypatch):
    """A mode that doesn't declare ``moves_camera`` gets no camera, whatever its other features."""
    monkeypatch.setitem(MODES, "zoom", dataclasses.replace(MODES["zoom"], moves_camera=False))
    assert plan_of("smoke", []).camera is None


def test_a_still_has_no_camera(tmp_path):
    from PIL import Image

    Image.new("RGB", (32, 24), (120, 80, 40)).save(tmp_path / "photo.png")
    plan = plan_of("dream_image", [f"input={tmp_path / 'photo.png'}"])
    assert plan.camera is None and plan.loop_head == 0


def test_a_loop_head_adds_to_a_finite_render_only():
    assert endless_or(None, 3) is None and endless_or(5, 3) == 8
