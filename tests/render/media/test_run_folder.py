import json

import pytest
import torch
from omegaconf import OmegaConf

from dream.errors import UserError
from render.media.run_folder import (
    CONFIG_FILE,
    claim_run_dir,
    holds_a_run,
    package_versions,
    read_meta,
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
    (tmp_path / "preview.png").write_bytes(b"")
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
