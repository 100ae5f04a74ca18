"""The Hydra callback that joins a segmented sweep when it ends, and where it is registered."""

from __future__ import annotations

import json

from omegaconf import OmegaConf

from render.cli import CONF_DIR, presets, register_configs
from render.segments.callback import SegmentJoin


def test_multirun_end_callback_joins_segments_and_ignores_other_sweeps(sweep, tmp_path, capsys):
    SegmentJoin().on_multirun_end(OmegaConf.create({"hydra": {"sweep": {"dir": str(tmp_path / "empty")}}}))
    assert capsys.readouterr().err == ""
    SegmentJoin().on_multirun_end(OmegaConf.create({"hydra": {"sweep": {"dir": str(sweep)}}}))
    assert "Joined 3 segments" in capsys.readouterr().err
    assert json.loads((sweep / "meta.json").read_text())["finished"] is True


def hydra_callbacks(preset: str) -> list[str]:
    """The names of the Hydra callbacks a render of ``preset`` loads."""
    from hydra import compose, initialize_config_dir

    register_configs()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base=None):
        return list(compose(config_name=preset, return_hydra_config=True).hydra.callbacks)


def test_only_the_video_dream_preset_loads_the_join_beside_the_sweep_summary():
    loaded = {preset: hydra_callbacks(preset) for preset in presets()}
    assert loaded.pop("video_dream") == ["sweep_summary", "segment_join"]
    assert loaded and all(callbacks == ["sweep_summary"] for callbacks in loaded.values()), loaded
