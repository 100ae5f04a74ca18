"""The timeline: every animated key parsed once and checked, each frame's settings, overrides from other threads."""

import threading

import numpy as np
import pytest
from omegaconf import OmegaConf

from dream.errors import UserError
from render.config import RenderConfig
from render.schedule import ScheduleVariables
from render.timeline import ANIMATED_KEYS, AnimatedKey, Timeline
from tests.compose import timeline_of


def test_every_declared_key_is_read_per_frame_from_its_schedule():
    timeline = timeline_of(5, ["motion.zoom='0:(1.0), 4:(1.4)'", "dream.iterations=3"])
    settings = timeline.at(2)
    assert settings.frame == 2 and settings["motion.zoom"] == pytest.approx(1.2)
    assert settings["dream.iterations"] == 3.0
    assert set(settings.values) == {key.path for key in ANIMATED_KEYS}


def test_the_render_interpolation_and_variable_sources_apply_to_every_key():
    loud = ScheduleVariables(values={"loud": np.array([0.0, 0.5, 1.0])})
    tempo = ScheduleVariables(values={"beat": np.array([2.0, 3.0, 4.0])})
    timeline = timeline_of(3, ["motion.interpolation=step", "motion.angle='0:(0), 2:(6)'",
                               "video.strength='0:(loud + beat)'"], [loud, tempo])
    assert [timeline.at(i)["motion.angle"] for i in range(3)] == [0.0, 0.0, 6.0]
    assert [timeline.at(i)["video.strength"] for i in range(3)] == [2.0, 3.5, 5.0]


def test_a_name_missing_from_one_source_but_given_by_another_is_not_missing():
    without = ScheduleVariables(missing={"beat": "needs audio"})
    given = ScheduleVariables(values={"beat": np.array([1.0, 0.0])})
    assert timeline_of(2, ["motion.zoom='0:(1 + beat)'"], [without, given]).at(0)["motion.zoom"] == 2.0
    with pytest.raises(UserError, match="needs audio"):
        timeline_of(2, ["motion.zoom='0:(1 + beat)'"], [without])


@pytest.mark.parametrize(
    ("override", "words"),
    [
        ("motion.zoom='0:(1.04), 3:(-1)'", ["'motion.zoom'", "at frame 2", "motion.zoom=1.04"]),
        ("dream.step_size=-1", ["'dream.step_size'", "above 0"]),
        ("dream.step_size=400", ["'dream.step_size'", "noise"]),
        ("video.blend=1.5", ["'video.blend'", "0..1"]),
        ("video.strength='0:(1), 5:(-1)'", ["'video.strength'", "-0.2 at frame 3"]),
        ("mask.strength='0:(0), 3:(2)'", ["'mask.strength'", "1.33333 at frame 2"]),
    ],
)
def test_values_outside_a_keys_rule_are_refused_naming_key_frame_and_fix(override, words):
    with pytest.raises(UserError) as error:
        timeline_of(8, [override])
    for word in words:
        assert word in str(error.value)


def test_an_endless_timeline_is_checked_over_its_first_minute():
    timeline_of(None, ["fps=10", "motion.zoom='0:(1.0 - t/1000)'"])  # reaches 0 at frame 1000: past the minute
    with pytest.raises(UserError, match="at frame 100"):
        timeline_of(None, ["fps=10", "motion.zoom='0:(1.0 - t/100)'"])


def test_an_override_applies_from_the_first_frame_not_begun_and_is_recorded():
    timeline = timeline_of(10)
    timeline.at(0), timeline.at(3)
    assert timeline.override("motion.zoom", 1.08) == 4
    assert timeline.at(3)["motion.zoom"] == 1.0 and timeline.at(4)["motion.zoom"] == 1.08
    assert timeline.override("motion.zoom", "0:(1.5)", from_frame=7) == 7
    assert [timeline.track("motion.zoom").at(i) for i in (4, 6, 7, 9)] == [1.08, 1.08, 1.5, 1.5]
    assert [(c.frame, c.key, c.spec) for c in timeline.changes] == [(4, "motion.zoom", 1.08), (7, "motion.zoom",
                                                                                                "0:(1.5)")]


def test_an_override_counts_in_the_renders_frames():
    timeline = timeline_of(10)
    timeline.at(4)
    timeline.override("motion.angle", "0:(t)")
    assert timeline.at(6)["motion.angle"] == 6.0  # t is the frame, not frames since the change


def test_a_bad_override_is_refused_and_changes_nothing():
    timeline = timeline_of(10)
    for key, spec, message in [("motion.zoom", -2, "above 0"), ("motion.zoom", "0:(1", "motion.zoom"),
                               ("motion.zom", 1.0, "not an animated key.*motion.zoom")]:
        with pytest.raises(UserError, match=message):
            timeline.override(key, spec)
    assert timeline.at(5)["motion.zoom"] == 1.0 and timeline.changes == []


def test_overrides_from_another_thread_never_change_a_frame_already_begun():
    timeline = timeline_of(None)
    seen: dict[int, float] = {}

    def render() -> None:
        for frame in range(2000):
            first = timeline.at(frame)["motion.zoom"]
            seen[frame] = first if timeline.track("motion.zoom").at(frame) == first else float("nan")

    worker = threading.Thread(target=render)
    worker.start()
    starts = [timeline.override("motion.zoom", 1.0 + i / 100) for i in range(1, 50)]
    worker.join()
    assert not any(np.isnan(list(seen.values())))
    assert starts == sorted(starts)


def test_declared_keys_join_the_timeline_with_their_own_interpolation():
    timeline = timeline_of(5, ["motion.interpolation=step"])
    weight = timeline.declare("dream.layers[0]", {0: 0.0, 4: 1.0}, interpolation="linear")
    assert weight.at(2) == 0.5 and timeline.at(2)["dream.layers[0]"] == 0.5
    timeline.override("dream.layers[0]", 0.25)
    assert weight.at(4) == 0.25


def test_a_camera_adds_its_keys_with_their_rules():
    extra = AnimatedKey("motion.angle", lambda v: abs(v) < 10, "under 10 degrees", "1")
    cfg = OmegaConf.merge(OmegaConf.structured(RenderConfig), {"motion": {"angle": 45}})
    assert Timeline(cfg, 3).at(1)["motion.angle"] == 45
    with pytest.raises(UserError, match="under 10 degrees"):
        Timeline(cfg, 3, keys=(*ANIMATED_KEYS[1:], extra))
