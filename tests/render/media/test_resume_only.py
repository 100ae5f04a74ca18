"""Resume-only sink: counts frames, keeps one state at a time, resumes from it, leaves nothing when finished."""

from __future__ import annotations

import torch

from render.media.checkpoints import Checkpoints
from render.media.resume_only import ResumeOnlySink

ENCODING = {"width": 32, "height": 16, "fps": 12.0}


def open_sink(run_dir, resume=False) -> ResumeOnlySink:
    return ResumeOnlySink(run_dir, run_dir / "live" / "stream.m3u8", 3, resume, ENCODING)


def test_marks_keep_one_state_and_no_video(tmp_path):
    sink = open_sink(tmp_path)
    saver = Checkpoints(tmp_path).saver
    for index in range(7):
        sink.write(torch.zeros(1, 3, 16, 32))
        if sink.mark_due:
            sink.mark(saver({"next": torch.tensor(index + 1)}))
    assert sink.frames_written == 7 and sink.frames_since_mark == 1
    assert sorted(p.name for p in (tmp_path / "chunks").iterdir()) == ["manifest.json", "state_000006.pt"]
    assert not list(tmp_path.rglob("*.mp4"))


def test_a_resume_continues_from_the_last_mark(tmp_path):
    sink = open_sink(tmp_path)
    for _ in range(4):
        sink.write(torch.zeros(1, 3, 16, 32))
    sink.mark(Checkpoints(tmp_path).saver({"next": torch.tensor(4)}))
    resumed = open_sink(tmp_path, resume=True)
    frames_done, snapshot = Checkpoints(tmp_path).resume_state()
    assert resumed.frames_written == frames_done == 4 and int(snapshot["next"]) == 4


def test_finishing_removes_the_resume_points_and_names_the_playlist(tmp_path):
    with open_sink(tmp_path) as sink:
        sink.write(torch.zeros(1, 3, 16, 32))
        sink.mark(Checkpoints(tmp_path).saver({"next": torch.tensor(1)}))
    assert not (tmp_path / "chunks").exists()
    assert sink.finish() == tmp_path / "live" / "stream.m3u8"
