"""Resume points: the layout of chunks/, the manifest, the state files, and what a resume keeps."""

from __future__ import annotations

import pytest
import torch

from dream.errors import UserError
from render.media.checkpoints import Checkpoints

ENCODING = {"width": 8, "height": 8, "fps_exact": "25"}


def test_a_new_run_has_no_resume_point(tmp_path):
    assert Checkpoints(tmp_path).resume_point() == (0, None) and Checkpoints(tmp_path).resume_state() == (0, None)


def test_a_saved_state_comes_back_with_its_frame_count(tmp_path):
    points = Checkpoints(tmp_path)
    points.open(False, ENCODING)
    points.chunk(0).write_bytes(b"chunk")
    name = points.saver({"frame": torch.arange(4.0), "next": torch.tensor(6)})(6)
    points.record([{"file": points.chunk(0).name, "frames": 6}], 6, name, None, ENCODING)
    frames_done, state = Checkpoints(tmp_path).resume_state()
    assert frames_done == 6 and torch.equal(state["frame"], torch.arange(4.0)) and int(state["next"]) == 6


def test_resume_keeps_the_resume_point_and_drops_what_came_after(tmp_path):
    points = Checkpoints(tmp_path)
    points.open(False, ENCODING)
    points.chunk(0).write_bytes(b"chunk")
    name = points.saver({"next": torch.tensor(3)})(3)
    points.record([{"file": points.chunk(0).name, "frames": 3}], 3, name, None, ENCODING)
    points.chunk(1).write_bytes(b"unmarked")
    chunks, state = Checkpoints(tmp_path).open(True, ENCODING)
    assert state == name and [c["file"] for c in chunks] == ["chunk_00000.mp4"]
    assert sorted(p.name for p in points.folder.iterdir()) == ["chunk_00000.mp4", "manifest.json", name]


def test_a_new_resume_point_deletes_the_previous_state(tmp_path):
    points = Checkpoints(tmp_path)
    points.open(False, ENCODING)
    first = points.saver({"next": torch.tensor(3)})(3)
    points.record([], 3, first, None, ENCODING)
    second = points.saver({"next": torch.tensor(6)})(6)
    points.record([], 6, second, first, ENCODING)
    assert sorted(p.name for p in points.folder.glob("state_*")) == [second]


def test_an_interrupted_run_is_neither_overwritten_nor_resumed_with_other_settings(tmp_path):
    points = Checkpoints(tmp_path)
    points.open(False, ENCODING)
    points.record([], 0, None, None, ENCODING)
    with pytest.raises(UserError, match="interrupted render"):
        Checkpoints(tmp_path).open(False, ENCODING)
    with pytest.raises(UserError, match="width 8 -> 16"):
        Checkpoints(tmp_path).open(True, {**ENCODING, "width": 16})


def test_a_full_disk_while_saving_keeps_the_previous_resume_point_and_no_partial_file(tmp_path, monkeypatch):
    import errno

    points = Checkpoints(tmp_path)
    points.open(False, ENCODING)
    first = points.saver({"next": torch.tensor(3)})(3)
    points.record([], 3, first, None, ENCODING)

    def full_disk(obj, path, *args, **kwargs):
        with open(path, "wb") as half:
            half.write(b"half a state")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(torch, "save", full_disk)
    with pytest.raises(UserError, match="No space left on device") as refused:
        points.saver({"next": torch.tensor(6)})(6)
    assert "previous one (3 frames) is kept" in str(refused.value) and "resume=" in str(refused.value)
    assert "\n" not in str(refused.value)
    assert sorted(p.name for p in points.folder.iterdir()) == ["manifest.json", first]
    monkeypatch.undo()
    assert Checkpoints(tmp_path).resume_state()[0] == 3 and int(Checkpoints(tmp_path).resume_state()[1]["next"]) == 3
