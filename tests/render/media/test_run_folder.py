import json

import pytest
import torch
from omegaconf import OmegaConf

from dream.errors import UserError
from render.media.run_folder import (
    CONFIG_FILE,
    check_not_foreign,
    check_writable,
    claim_run_dir,
    foreign_files,
    holds_a_run,
    media_files,
    package_versions,
    read_meta,
    remove_unstarted,
    resume_command,
    resume_run_dir,
    save_config,
    write_meta,
)


def test_claim_creates_a_new_folder(tmp_path):
    run_dir = tmp_path / "runs" / "first"
    assert claim_run_dir(run_dir) == run_dir
    assert run_dir.is_dir()


def test_claim_accepts_a_folder_without_results(tmp_path):
    (tmp_path / ".hydra").mkdir()
    (tmp_path / "preview.jpg").write_bytes(b"")
    assert not holds_a_run(tmp_path)
    assert claim_run_dir(tmp_path) == tmp_path


@pytest.mark.parametrize("marker", ["meta.json", "dream.mp4", "chunks/manifest.json"])
def test_claim_refuses_a_folder_holding_a_run(tmp_path, marker):
    (tmp_path / marker).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / marker).write_text("{}")
    assert holds_a_run(tmp_path)
    with pytest.raises(UserError, match="already holds a render") as info:
        claim_run_dir(tmp_path)
    assert f"resume={tmp_path}" in str(info.value)


def test_resume_without_config_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="no render to continue") as info:
        resume_run_dir(tmp_path)
    assert str(tmp_path / CONFIG_FILE) in str(info.value)


def test_resume_of_a_finished_run_is_a_user_error(tmp_path):
    save_config(tmp_path, OmegaConf.create({"frames": 3}))
    write_meta(tmp_path, {"finished": True})
    with pytest.raises(UserError, match="finished already"):
        resume_run_dir(tmp_path)


def test_resume_returns_the_saved_config(tmp_path):
    save_config(tmp_path, OmegaConf.create({"frames": 3, "fps": "${frames}"}))
    write_meta(tmp_path, {"finished": False})
    run_dir, cfg = resume_run_dir(str(tmp_path))
    assert run_dir == tmp_path
    assert cfg.frames == 3 and cfg.fps == 3  # saved resolved


def test_meta_round_trip_and_atomic_write(tmp_path):
    assert read_meta(tmp_path) == {}
    write_meta(tmp_path, {"seed": 3, "model": "efficientnet_lite0"})
    assert read_meta(tmp_path) == {"seed": 3, "model": "efficientnet_lite0"}
    assert json.loads((tmp_path / "meta.json").read_text())["seed"] == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["meta.json"]


def test_package_versions_has_torch_and_python():
    versions = package_versions()
    assert versions["torch"].split("+")[0] == torch.__version__.split("+")[0]
    assert versions["python"].count(".") == 2
    assert {"torchvision", "kornia", "numpy", "hydra-core"} <= set(versions)


def test_check_writable_refuses_a_path_under_a_file(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(UserError, match="is a file, not a folder.*hydra.run.dir=PATH"):
        check_writable(tmp_path / "file" / "run")
    check_writable(tmp_path / "new" / "deeper")  # not made yet, but can be
    assert not (tmp_path / "new").exists()


def test_a_folder_with_only_start_files_is_removed(tmp_path):
    run_dir = tmp_path / "run"
    save_config(run_dir, OmegaConf.create({"frames": 2}))
    write_meta(run_dir, {"finished": False})
    assert remove_unstarted(run_dir)
    assert not run_dir.exists() and tmp_path.exists()


def test_a_folder_holding_frames_is_kept(tmp_path):
    run_dir = tmp_path / "run"
    (run_dir / "chunks").mkdir(parents=True)
    write_meta(run_dir, {"finished": False})
    (run_dir / "chunks" / "chunk_00000.mp4").write_bytes(b"x")
    assert not remove_unstarted(run_dir)
    assert (run_dir / "chunks" / "chunk_00000.mp4").exists() and (run_dir / "meta.json").exists()


def test_media_files_lists_a_video_its_web_formats_and_a_list_of_stills(tmp_path):
    assert media_files(tmp_path, {"media": "a.mp4", "webm": "a.webm"}) == [str(tmp_path / "a.mp4"),
                                                                          str(tmp_path / "a.webm")]
    assert media_files(tmp_path, {"media": ["v.png", "v_0.png"]}) == [str(tmp_path / "v.png"),
                                                                    str(tmp_path / "v_0.png")]


def test_resume_command_works_from_the_project_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert resume_command(tmp_path / "outputs" / "run") == "make render ARGS=\"resume='outputs/run'\""


def test_a_folder_of_other_things_is_refused_and_left_as_it_was(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / "drafts").mkdir()
    assert foreign_files(tmp_path) == ["drafts", "notes.txt"]
    with pytest.raises(UserError, match=r"holds other things \(drafts, notes.txt\) and no render") as info:
        claim_run_dir(tmp_path)
    assert "hydra.run.dir=" in str(info.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["drafts", "notes.txt"]


def test_a_missing_empty_starting_or_run_folder_is_not_foreign(tmp_path):
    check_not_foreign(tmp_path / "missing")
    check_not_foreign(tmp_path)
    (tmp_path / ".render.lock").write_text("process 1")
    save_config(tmp_path, OmegaConf.create({"frames": 3}))
    check_not_foreign(tmp_path)  # a render is just starting here
    (tmp_path / "notes.txt").write_text("mine")
    write_meta(tmp_path, {"finished": False})
    assert foreign_files(tmp_path) == []  # a run folder: claim_run_dir says it holds a render
