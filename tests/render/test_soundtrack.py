"""What the schedules hear: no audio names the fix; features load lazily, once, and are stored for resume."""

import pytest
from omegaconf import OmegaConf

from dream.errors import UserError
from render.config import RenderConfig
from render.ops.audio_features import FEATURES_FILE
from render.schedule import ScheduleError, parse_schedule
from render.soundtrack import audio_variables, keep_features, open_soundtrack
from tests.render.media.test_audio import click_track


def config(**overrides):
    cfg = OmegaConf.structured(RenderConfig)
    cfg.merge_with({"fps": 24, "frames": 24, **overrides})
    return cfg


def test_without_audio_a_feature_is_an_error_naming_the_fix(tmp_path):
    variables = audio_variables(config(), tmp_path, 24, 0)
    with pytest.raises(ScheduleError, match="audio=song.mp3"):
        parse_schedule("0:(1.0+0.04*beat)", frames=24, name="motion.zoom", variables=variables)


def test_features_are_computed_on_first_read_and_stored(tmp_path):
    track = click_track(tmp_path / "clicks.wav", [0.25, 0.75], 1.0)
    cfg = config(audio=str(track))
    variables = audio_variables(cfg, tmp_path, 24, 0, open_soundtrack(cfg.audio))
    assert not (tmp_path / FEATURES_FILE).exists()  # nothing read yet: nothing analysed
    beat = parse_schedule("0:(beat)", frames=24, name="dream.step_size", variables=variables).values()
    assert (tmp_path / FEATURES_FILE).is_file() and len(beat) == 24
    assert max(beat) == pytest.approx(1.0) and beat[6] > 0.5 and beat[3] < 0.2  # the click at 0.25 s = frame 6
    onset = parse_schedule("0:(onset)", frames=24, name="x", variables=variables).values()
    assert onset == beat  # the same feature under the name a tempo grid's beat count leaves free


def test_features_read_before_the_run_folder_exists_are_stored_once_it_does(tmp_path):
    track = click_track(tmp_path / "clicks.wav", [0.25, 0.75], 1.0)
    cfg, run_dir = config(audio=str(track)), tmp_path / "run"
    variables = audio_variables(cfg, run_dir, 24, 0, open_soundtrack(cfg.audio))
    parse_schedule("0:(beat)", frames=24, name="dream.step_size", variables=variables)
    run_dir.mkdir()
    keep_features(variables, run_dir)
    assert (run_dir / FEATURES_FILE).is_file()
    unread = audio_variables(cfg, tmp_path / "other", 24, 0, open_soundtrack(cfg.audio))
    (tmp_path / "other").mkdir()
    keep_features(unread, tmp_path / "other")
    assert not (tmp_path / "other" / FEATURES_FILE).exists()  # never read: never analysed


def test_a_missing_track_fails_before_anything_renders(tmp_path):
    with pytest.raises(UserError, match="missing.mp3"):
        open_soundtrack(str(tmp_path / "missing.mp3"))
