"""The one frame loop: resume points, stop requests, resume, post-operations and the record, with a counting mode."""

from __future__ import annotations

import json
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest
import torch
from rich.console import Console

from render.config import OutputConfig
from render.driver import Step, drive, open_video
from render.media.checkpoints import Checkpoints
from render.media.stop import RenderStopped, StopSignals

W, H = 32, 16
OUTPUT = OutputConfig(name="count", crf=0, preset="ultrafast", checkpoint_every=3)
QUIET = Console(file=open("/dev/null", "w"))  # noqa: SIM115


class CountingMode:
    """Frame i is a flat grey of level 8*i; frames below ``hidden`` are made but not shown (like a loop's head)."""

    def __init__(self, total: int, hidden: int = 0, checkpoint_at: int | None = None):
        self.steps_total, self.hidden, self.checkpoint_at = total, hidden, checkpoint_at
        self.steps_done, self.notes, self.restored = 0, ["counted"], None

    @property
    def done(self) -> bool:
        return self.steps_done >= self.steps_total

    def restore(self, snapshot, frames_done):
        self.restored = frames_done
        self.steps_done = int(snapshot["next"]) if snapshot else 0

    def step(self) -> Step:
        index, self.steps_done = self.steps_done, self.steps_done + 1
        frames = [torch.full((1, 3, H, W), 8 * index / 255)] if index >= self.hidden else []
        return Step(frames, checkpoint=index + 1 == self.checkpoint_at)

    def snapshot(self):
        return {"next": torch.tensor(self.steps_done)}

    def finish(self):
        return None, False

    def facts(self):
        return {"counted": self.steps_done}


class StopAfter(StopSignals):
    """A stop request that arrives once ``mode`` has made ``steps`` steps."""

    def __init__(self, mode: CountingMode, steps: int):
        super().__init__()
        self.mode, self.steps = mode, steps

    @property
    def requested(self) -> bool:
        return self.mode.steps_done >= self.steps


def levels(path: Path) -> list[int]:
    reader = imageio_ffmpeg.read_frames(str(path))
    next(reader)
    return [round(float(np.frombuffer(raw, np.uint8).mean()) / 8) for raw in reader]


def render(run_dir: Path, mode: CountingMode, resume: bool = False, **kwargs) -> dict:
    return drive(mode, open_video(OUTPUT, run_dir, 12, W, H, resume), QUIET, resume, **kwargs)


def test_every_shown_frame_is_written_in_order_with_the_record(tmp_path):
    meta = render(tmp_path, CountingMode(7, hidden=2))
    assert levels(tmp_path / "count.mp4") == [2, 3, 4, 5, 6]
    assert meta["media"] == "count.mp4" and meta["counted"] == 7 and meta["frames_rendered_now"] == 7
    assert meta["notes"] == ["counted"] and not (tmp_path / "chunks").exists()


def test_a_stop_writes_a_resume_point_and_resume_continues_exactly(tmp_path):
    mode = CountingMode(8)
    with pytest.raises(RenderStopped) as stopped:
        render(tmp_path, mode, stop=StopAfter(mode, 5))
    assert stopped.value.frames_kept == 5 and Checkpoints(tmp_path).resume_point() == (5, "state_000005.pt")
    resumed = CountingMode(8)
    meta = render(tmp_path, resumed, resume=True)
    assert resumed.restored == 5 and meta["frames_rendered_now"] == 3
    assert levels(tmp_path / "count.mp4") == list(range(8))


def test_resume_points_follow_checkpoint_every_and_the_mode_s_request(tmp_path):
    mode = CountingMode(9, checkpoint_at=4)
    with pytest.raises(RenderStopped):
        render(tmp_path, mode, stop=StopAfter(mode, 8))
    manifest = json.loads((tmp_path / "chunks" / "manifest.json").read_text())
    assert manifest["frames_done"] == 8
    # every 3 frames, where the mode asked (frame 4), every 3 frames again, then at the stop (frame 8)
    assert [chunk["frames"] for chunk in manifest["chunks"]] == [3, 1, 3, 1]


def test_post_operations_see_every_shown_frame_with_its_index(tmp_path):
    seen = []

    def invert(index: int, frame: torch.Tensor) -> torch.Tensor:
        seen.append(index)
        return 1.0 - frame

    render(tmp_path, CountingMode(4), post_ops=(invert,))
    assert seen == [0, 1, 2, 3]
    assert levels(tmp_path / "count.mp4") == [round(255 / 8 - i) for i in range(4)]


class ListOutput:
    """An output beside the file that keeps each frame's level, and whether it was closed."""

    def __init__(self):
        self.levels, self.closed = [], False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.closed = True

    def write(self, frame: torch.Tensor) -> None:
        self.levels.append(round(float(frame.mean()) * 255 / 8))


def test_other_outputs_get_the_same_frames_and_are_closed(tmp_path):
    beside = ListOutput()
    render(tmp_path, CountingMode(5, hidden=1), outputs=(beside,))
    assert beside.levels == levels(tmp_path / "count.mp4") == [1, 2, 3, 4] and beside.closed


def without_repeats(values: list[int]) -> list[int]:
    """A live stream's frames with the pacer's repeats (sent while the render was late) taken out."""
    return [value for i, value in enumerate(values) if i == 0 or value != values[i - 1]]


def live_config(**live):
    from omegaconf import OmegaConf

    from render.config import RenderConfig

    cfg = OmegaConf.structured(RenderConfig)
    cfg.merge_with({"width": W, "height": H, "fps": 12, "output": {"preset": "ultrafast", "checkpoint_every": 3},
                    "live": {"port": 0, **live}})
    return cfg


def test_open_outputs_is_the_file_alone_without_live(tmp_path):
    from render.driver import open_outputs

    outputs = open_outputs(live_config(), tmp_path, False, QUIET)
    assert outputs.sink.path == tmp_path / "dream.mp4" and outputs.extra == ()


def test_a_live_render_without_record_streams_and_keeps_no_video(tmp_path):
    from render.driver import open_outputs
    from render.live.output import LiveOutput

    outputs = open_outputs(live_config(enabled=True), tmp_path, False, QUIET)
    (live,) = outputs.extra
    assert isinstance(live, LiveOutput)
    live.linger_s = 0
    meta = drive(CountingMode(8), outputs.sink, QUIET, outputs=outputs.extra)
    assert meta["media"] == "live/stream.m3u8"
    assert (tmp_path / "live" / "stream.m3u8").read_text().rstrip().endswith("#EXT-X-ENDLIST")
    assert without_repeats(levels(tmp_path / "live" / "stream.m3u8")) == list(range(8))
    assert not list(tmp_path.glob("*.mp4")) and not (tmp_path / "chunks").exists()


def test_a_recorded_live_render_also_keeps_the_mp4(tmp_path):
    from render.driver import open_outputs

    outputs = open_outputs(live_config(enabled=True, record=True), tmp_path, False, QUIET)
    outputs.extra[0].linger_s = 0
    meta = drive(CountingMode(5), outputs.sink, QUIET, outputs=outputs.extra)
    assert meta["media"] == "dream.mp4" and levels(tmp_path / "dream.mp4") == [0, 1, 2, 3, 4]
    assert without_repeats(levels(tmp_path / "live" / "stream.m3u8")) == [0, 1, 2, 3, 4]


def test_reports_reach_the_log_the_page_and_meta_json(tmp_path):
    from render.driver import open_outputs
    from render.media.run_folder import write_meta

    write_meta(tmp_path, {"preset": "smoke"})
    outputs = open_outputs(live_config(enabled=True), tmp_path, False, QUIET)
    with outputs.extra[0] as live:
        live.linger_s = 0
        outputs.report("Cadence 3: one dream every 3 frames.", {"cadence": 3})
    assert json.loads((tmp_path / "meta.json").read_text()) == {"preset": "smoke", "cadence": 3}
    assert (tmp_path / "live" / "status.json").is_file()
