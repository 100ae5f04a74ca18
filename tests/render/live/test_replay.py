"""Replay: a live performance's changes recorded as they happen, rendered again to the same lossless frames."""

from __future__ import annotations

import json
import socket
import urllib.request

import numpy as np
import pytest
from omegaconf import OmegaConf
from PIL import Image

import render.modes.zoom
from dream.errors import UserError
from render.config import RenderConfig
from render.live.replay import performance_frames, replay_changes, replay_config, write_performance
from render.media.run_folder import CONFIG_FILE
from render.run import run
from render.timeline import Timeline
from tests.compose import compose_preset


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def post(port: int, changes: dict) -> dict:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/control", json.dumps(changes).encode(),
                                     {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as reply:
        return json.loads(reply.read())


def frames_of(run_dir) -> list[np.ndarray]:
    return [np.asarray(Image.open(path)) for path in sorted((run_dir / "frames").glob("frame_*.png"))]


def test_recorded_changes_apply_at_their_frames(tmp_path):
    cfg = OmegaConf.structured(RenderConfig)
    (tmp_path / "live").mkdir()
    (tmp_path / "live" / "changes.jsonl").write_text(
        '{"frame": 3, "key": "motion.zoom", "value": 1.1}\n{"frame": 5, "key": "motion.angle", "value": "0:(t)"}\n')
    timeline = Timeline(cfg, 8)
    assert replay_changes(timeline, tmp_path) == 2
    assert [timeline.track("motion.zoom").at(i) for i in (2, 3)] == [1.0, pytest.approx(1.1)]
    assert timeline.track("motion.angle").at(4) == 0 and timeline.track("motion.angle").at(6) == 6


def test_the_replay_config_is_the_saved_one_with_the_new_size_and_live_off(tmp_path):
    saved = compose_preset("smoke", ["frames=null", "live.enabled=true", "seed=5"])
    (tmp_path / ".hydra").mkdir()
    (tmp_path / CONFIG_FILE).write_text(OmegaConf.to_yaml(saved))
    with pytest.raises(UserError, match="no live performance"):
        performance_frames(tmp_path)
    (tmp_path / "live").mkdir()
    write_performance(tmp_path / "live", 17)
    given = compose_preset("smoke", ["width=384", "height=256", f"replay={tmp_path}"])
    cfg = replay_config(tmp_path, given, ["width=384", "height=256", f"replay={tmp_path}"])
    assert (cfg.width, cfg.height, cfg.frames, cfg.seed, cfg.live.enabled) == (384, 256, 17, 5, False)
    assert cfg.replay == str(tmp_path)


@pytest.mark.slow
def test_a_replay_at_the_same_size_makes_the_live_recordings_frames(tmp_path, monkeypatch):
    monkeypatch.setattr("render.live.output.LINGER_SECONDS", 0)
    port, made = free_port(), {}
    advance = render.modes.zoom.advance

    def steered(state, *args, **kwargs):  # changes sent over HTTP while the stream runs
        if state.next_index == 3:
            made.update(post(port, {"motion.zoom": 0.97, "motion.angle": 3})["applied"])
        if state.next_index == 5:
            made.update(post(port, {"motion.translation_x": "0:(2*sin(t))"})["applied"])
        return advance(state, *args, **kwargs)

    monkeypatch.setattr(render.modes.zoom, "advance", steered)
    live = tmp_path / "live_run"
    run(compose_preset("smoke", ["frames=8", "live.enabled=true", f"live.port={port}", "live.record=true",
                                 "output.png_frames=true"]), live)
    assert made == {"motion.zoom": 3, "motion.angle": 3, "motion.translation_x": 5}
    assert len((live / "live" / "changes.jsonl").read_text().splitlines()) == 3
    monkeypatch.setattr(render.modes.zoom, "advance", advance)
    replayed = tmp_path / "replay"
    run(replay_config(live, compose_preset("smoke", []), []), replayed)
    original, again = frames_of(live), frames_of(replayed)
    assert len(original) == len(again) == 8
    assert all(np.array_equal(a, b) for a, b in zip(original, again, strict=True))
    assert not np.array_equal(original[4], frames_of_unsteered(tmp_path)[4])  # the changes did change the frames


def frames_of_unsteered(tmp_path) -> list[np.ndarray]:
    plain = tmp_path / "plain"
    run(compose_preset("smoke", ["frames=8", "output.png_frames=true"]), plain)
    return frames_of(plain)
