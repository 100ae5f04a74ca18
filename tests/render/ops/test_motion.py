from types import SimpleNamespace

import pytest

from render.ops.motion import motion_schedules
from render.ops.warp import Motion
from render.schedule import ScheduleContext


def _motion_cfg(**overrides) -> SimpleNamespace:
    values = dict(
        zoom=1.0, angle=0.0, translation_x=0.0, translation_y=0.0, center_x=0.5, center_y=0.5,
        interpolation="linear", rate_fps=None,
    )
    return SimpleNamespace(**(values | overrides))


def test_schedules_give_a_motion_per_frame():
    cfg = _motion_cfg(zoom="0:(1.0), 4:(1.08)", angle={0: 0, 4: 2.0}, center_x=0.25)
    schedules = motion_schedules(cfg, ScheduleContext(5), fps=30)
    assert schedules.at(0) == Motion(zoom=1.0, center=(0.25, 0.5))
    assert schedules.at(2).zoom == pytest.approx(1.04)
    assert schedules.at(2).angle == pytest.approx(1.0)
    assert schedules.at(4).translation[1] == 0.0


def test_no_rate_fps_leaves_values_alone():
    schedules = motion_schedules(_motion_cfg(zoom=1.04, angle=2.0), ScheduleContext(3), fps=60)
    assert schedules.rate == 1.0
    assert schedules.at(1).zoom == pytest.approx(1.04)


def test_rate_fps_rescales_zoom_as_a_power_and_moves_linearly():
    cfg = _motion_cfg(zoom=1.04, angle=2.0, translation_x=3.0, translation_y=-1.0, center_x=0.3, rate_fps=30)
    motion = motion_schedules(cfg, ScheduleContext(3), fps=60).at(1)
    assert motion.zoom == pytest.approx(1.04**0.5)
    assert motion.zoom != pytest.approx(1.04 * 30 / 60)  # the known pitfall
    assert (motion.angle, *motion.translation) == pytest.approx((1.0, 1.5, -0.5))
    assert motion.center[0] == pytest.approx(0.3)  # a centre is a place, not a per-frame move


def test_two_frames_at_60_fps_zoom_as_much_as_one_at_30():
    per_frame = motion_schedules(_motion_cfg(zoom=1.04, rate_fps=30), ScheduleContext(2), fps=60).at(0).zoom
    assert per_frame**2 == pytest.approx(1.04)
