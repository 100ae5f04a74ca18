"""The second pass of a video dream: the forward details reconciled backward, written in order, resumable."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch

import render.modes.video_two_pass
from dream.errors import UserError
from render.modes.video_dream import VideoSchedules
from render.modes.video_two_pass import FrameStore, reconcile
from render.ops.flow import FlowSettings
from render.run import run
from tests.compose import compose_preset
from tests.render.modes.test_video_dream import TINY_DREAM, decoded, ntsc  # noqa: F401 (a fixture)

CPU = torch.device("cpu")


def test_the_backward_pass_carries_each_later_frame_back_by_blend(tmp_path):
    store = FrameStore(tmp_path)
    picture = torch.rand(1, 3, 32, 48, generator=torch.Generator().manual_seed(0))
    for index, value in enumerate((0.1, 0.2, 0.4)):
        store.save("source", index, picture)
        store.save("forward", index, torch.full((1, 3, 32, 48), value))
    schedules = VideoSchedules(SimpleNamespace(at=lambda i: 0.5), SimpleNamespace(at=lambda i: 1.0))
    reconcile(store, 0, 3, schedules, FlowSettings(), CPU)
    means = [store.load("reconciled", i, CPU).mean().item() for i in range(3)]
    assert means == pytest.approx([0.5 * 0.3 + 0.5 * 0.1, 0.5 * 0.4 + 0.5 * 0.2, 0.4], abs=1e-3)


def test_two_passes_write_every_frame_and_leave_no_store(ntsc, tmp_path):  # noqa: F811
    clip, _, _ = ntsc
    meta = run(compose_preset("video_dream", [f"input={clip}", *TINY_DREAM, "video.passes=2", "frames=6"]), tmp_path)
    frames = decoded(tmp_path / "video_dream.mp4")
    assert meta["frames"] == 6 and len(frames) == 6 and not (tmp_path / "two_pass").exists()
    assert np.mean([np.abs(f.astype(int) - s.astype(int)).mean() for f, s in zip(frames, decoded(clip))]) > 2


def test_two_passes_resume_in_the_writing_as_if_never_stopped(ntsc, tmp_path, monkeypatch):  # noqa: F811
    clip, _, _ = ntsc
    cfg = compose_preset("video_dream", [f"input={clip}", *TINY_DREAM, "video.passes=2", "frames=6"])
    run(cfg, tmp_path / "straight")
    real = render.modes.video_two_pass.TwoPassVideoDreamMode._write_one

    def interrupted(self):
        if self.write_index == 5:
            raise KeyboardInterrupt
        return real(self)

    monkeypatch.setattr(render.modes.video_two_pass.TwoPassVideoDreamMode, "_write_one", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run(cfg, tmp_path / "resumed")
    monkeypatch.setattr(render.modes.video_two_pass.TwoPassVideoDreamMode, "_write_one", real)
    meta = run(cfg, tmp_path / "resumed", resume=True)
    assert meta["frames_rendered_now"] == 0  # every frame was dreamed before the stop: only writing was left
    resumed, straight = decoded(tmp_path / "resumed" / "video_dream.mp4"), decoded(tmp_path / "straight" /
                                                                                  "video_dream.mp4")
    assert len(resumed) == 6 and all(np.array_equal(a, b) for a, b in zip(resumed, straight, strict=True))


@pytest.mark.parametrize("overrides", [["video.passes=3"], ["video.passes=2", "segment.count=2"]])
def test_two_passes_want_one_whole_file(ntsc, tmp_path, overrides):  # noqa: F811
    clip, _, _ = ntsc
    with pytest.raises(UserError, match="video.passes"):
        run(compose_preset("video_dream", [f"input={clip}", *TINY_DREAM, *overrides]), tmp_path)
