"""Live control: keys read and overridden through the timeline, refusals as the command line words them, recorded."""

from __future__ import annotations

import json

import pytest
from omegaconf import OmegaConf

from dream.errors import UserError
from render.config import RenderConfig
from render.live.control import LiveControl, read_changes
from render.timeline import Timeline


@pytest.fixture
def control(tmp_path) -> LiveControl:
    cfg = OmegaConf.structured(RenderConfig)
    cfg.motion.zoom = 1.04
    return LiveControl(Timeline(cfg, None), cfg, tmp_path, log=lambda line: None)


def test_current_values_and_specs_at_the_frame_in_progress(control):
    control.timeline.at(5)
    state = control.current()
    assert state["frame"] == 5 and state["values"]["motion.zoom"] == pytest.approx(1.04)
    assert state["specs"]["motion.zoom"] == 1.04 and "dream.step_size" in state["values"]


def test_a_change_applies_from_the_next_frame_and_is_recorded(control, tmp_path):
    control.timeline.at(9)
    assert control.apply({"motion.zoom": 1.08, "motion.angle": "0:(0.5*sin(t))"}) == {"motion.zoom": 10,
                                                                                   "motion.angle": 10}
    assert control.timeline.track("motion.zoom").at(9) == pytest.approx(1.04)
    assert control.timeline.track("motion.zoom").at(10) == pytest.approx(1.08)
    assert control.current()["specs"]["motion.angle"] == "0:(0.5*sin(t))"
    assert read_changes(tmp_path / "changes.jsonl") == [{"frame": 10, "key": "motion.zoom", "value": 1.08},
                                                        {"frame": 10, "key": "motion.angle", "value": "0:(0.5*sin(t))"}]


def test_a_bad_value_is_refused_with_the_command_lines_message_and_changes_nothing(control, tmp_path):
    with pytest.raises(UserError) as cli:
        Timeline(OmegaConf.merge(control.cfg, {"motion": {"zoom": 0}}), None)
    with pytest.raises(UserError) as live:
        control.apply({"motion.zoom": 0})
    assert str(live.value) == str(cli.value) and "motion.zoom" in str(live.value)
    assert control.timeline.track("motion.zoom").at(100) == pytest.approx(1.04)
    assert not (tmp_path / "changes.jsonl").exists()


@pytest.mark.parametrize("value", [True, None, [1, 2], {"0": 1}])
def test_a_value_that_is_neither_a_number_nor_a_schedule_is_refused(control, value):
    with pytest.raises(UserError, match="number"):
        control.apply({"motion.zoom": value})


def test_an_unknown_key_names_the_keys(control):
    with pytest.raises(UserError, match="motion.zoom"):
        control.apply({"motion.zooom": 1.0})


def test_read_changes_of_a_missing_file_is_empty(tmp_path):
    assert read_changes(tmp_path / "none.jsonl") == []
    (tmp_path / "c.jsonl").write_text(json.dumps({"frame": 1, "key": "k", "value": 2}) + "\n\n")
    assert read_changes(tmp_path / "c.jsonl") == [{"frame": 1, "key": "k", "value": 2}]
