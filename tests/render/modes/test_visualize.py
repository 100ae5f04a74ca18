"""The visualize mode: images, a sheet for batches, the self-check, a clear error without a target."""

import json
from types import SimpleNamespace

import pytest
import torch
from omegaconf import OmegaConf
from rich.console import Console

from dream.errors import UserError
from render.config import RenderConfig
from render.modes.visualize import render_visualization

CPU = torch.device("cpu")


def visualize_config(**overrides):
    cfg = OmegaConf.structured(RenderConfig)
    cfg.merge_with(
        {"mode": "visualize", "target": "zebra", "width": 20, "height": 16, "output": {"name": "vis"},
         "visualize": {"size": 16, "steps": 3, "jitter": 2}}
    )  # fmt: skip
    cfg.merge_with(overrides)
    return cfg


def run_visualization(net, tmp_path, **overrides) -> dict:
    engine = SimpleNamespace(model=SimpleNamespace(net=net), device=CPU)
    return render_visualization(visualize_config(**overrides), tmp_path, engine, Console(file=open("/dev/null", "w")))


def test_render_one_image_with_self_check(tiny_net, tmp_path):
    meta = run_visualization(tiny_net, tmp_path)
    assert meta["media"] == ["vis.png"] and (tmp_path / "vis.png").is_file()
    assert (meta["label"], meta["width"], meta["height"]) == ("zebra", 20, 16)
    assert len(meta["self_check_top5"]) == 1 and len(meta["self_check_top5"][0]) == 5
    json.dumps(meta)  # meta.json must be able to hold it


def test_render_a_batch_writes_each_image_and_a_sheet(tiny_net, tmp_path):
    meta = run_visualization(tiny_net, tmp_path, visualize={"batch": 3, "diversity": 10.0})
    assert meta["media"] == ["vis_0.png", "vis_1.png", "vis_2.png", "vis_sheet.png"]
    assert all((tmp_path / name).is_file() for name in meta["media"])
    assert len(meta["self_check_top5"]) == 3


def test_render_without_target_says_how_to_give_one(tiny_net, tmp_path):
    with pytest.raises(UserError, match="target=banana"):
        run_visualization(tiny_net, tmp_path, target=None)
