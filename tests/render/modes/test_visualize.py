"""The visualize mode: images, importance maps, a sheet for batches, the self-check, ensembles, clear errors."""

import json
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf
from PIL import Image
from rich.console import Console

from dream.errors import NameChoiceError, UserError
from dream.speed import SpeedOptions
from dream.visualize import ALPHA_EDGES
from render.config import RenderConfig, validate_visualize
from render.modes import visualize as V
from render.modes.visualize import render_visualization
from tests.conftest import make_tiny_net

CPU = torch.device("cpu")


def visualize_config(**overrides):
    cfg = OmegaConf.structured(RenderConfig)
    cfg.merge_with(
        {"mode": "visualize", "target": "zebra", "width": 20, "height": 16, "output": {"name": "vis"},
         "visualize": {"size": 16, "steps": 3, "crops": 2, "crop_size": 12}}
    )  # fmt: skip
    cfg.merge_with(overrides)
    return cfg


def fake_model(net, name: str = "tiny"):
    return SimpleNamespace(net=net, entry=SimpleNamespace(name=name), record={"model": name})


def run_visualization(net, tmp_path, speed: SpeedOptions | None = None, **overrides) -> dict:
    engine = SimpleNamespace(model=fake_model(net), device=CPU, speed=speed or SpeedOptions())
    plan = SimpleNamespace(cfg=visualize_config(**overrides))
    return render_visualization(plan, tmp_path, engine, Console(file=open("/dev/null", "w")))


class Loads(list):
    """The names of the models loaded, and (``nets``) their networks."""

    def __init__(self):
        super().__init__()
        self.nets = []


@pytest.fixture
def other_model(monkeypatch):
    """``load_model`` and ``get_entry`` of the mode know a second tiny network, "other"; returns its loads."""
    loads = Loads()

    def load(name, device):
        model = fake_model(make_tiny_net(seed=1), name)
        loads.append(name)
        loads.nets.append(model.net)
        return model


    monkeypatch.setattr(V, "load_model", load)
    monkeypatch.setattr(V, "get_entry", lambda name: name)
    return loads


def test_render_one_image_with_self_check(tiny_net, tmp_path):
    meta = run_visualization(tiny_net, tmp_path)
    assert meta["media"] == ["vis.png", "vis_importance.png", "vis_rgba.png"] and (tmp_path / "vis.png").is_file()
    assert (tmp_path / "vis_importance.png").is_file() and meta["parameterization"] == "maco"
    assert meta["ensemble"] == [{"model": "tiny"}]
    assert (meta["label"], meta["width"], meta["height"]) == ("zebra", 20, 16)
    assert len(meta["self_check_top5"]) == 1 and len(meta["self_check_top5"][0]) == 5
    json.dumps(meta)  # meta.json must be able to hold it


def test_render_a_batch_writes_each_image_and_a_sheet(tiny_net, tmp_path):
    meta = run_visualization(tiny_net, tmp_path, visualize={"batch": 3, "diversity": 10.0})
    assert meta["media"][:4] == ["vis_0.png", "vis_1.png", "vis_2.png", "vis_sheet.png"]
    assert meta["media"][4:7] == ["vis_importance_0.png", "vis_importance_1.png", "vis_importance_2.png"]
    assert meta["media"][7:] == ["vis_rgba_0.png", "vis_rgba_1.png", "vis_rgba_2.png"]
    assert all((tmp_path / name).is_file() for name in meta["media"])
    assert len(meta["self_check_top5"]) == 3


def test_rgba_holds_the_optimised_image_with_the_importance_as_alpha(tiny_net, tmp_path):
    run_visualization(tiny_net, tmp_path, visualize={"background": "keep"})
    rgba = np.asarray(Image.open(tmp_path / "vis_rgba.png"))
    plain = np.asarray(Image.open(tmp_path / "vis.png"))
    importance = np.asarray(Image.open(tmp_path / "vis_importance.png"))[..., 0]
    assert rgba.shape == (16, 20, 4) and np.array_equal(rgba[..., :3], plain)
    low, high = ALPHA_EDGES  # the alpha is the smoothstep of the importance between the edges
    t = ((importance / 255 - low) / (high - low)).clip(0, 1)
    expected = 255 * t * t * (3 - 2 * t)
    assert np.abs(rgba[..., 3].astype(float) - expected).max() <= 4  # the importance PNG is rounded to 8 bits
    assert rgba[..., 3].max() == 255 and (rgba[..., 3] < 255).any()


def test_a_canvas_above_the_coarse_size_is_grown_and_counted(tiny_net, tmp_path):
    meta = run_visualization(tiny_net, tmp_path, visualize={"size": 24, "coarse_size": 12, "detail_steps": 2})
    assert meta["steps"] == 3 + 2 and Image.open(tmp_path / "vis.png").size == (30, 24)  # never below the canvas


def test_the_canvas_size_alone_sizes_the_picture_with_the_frame_s_aspect(tiny_net, tmp_path):
    meta = run_visualization(tiny_net, tmp_path, width=16, height=16, visualize={"size": 24})
    assert Image.open(tmp_path / "vis.png").size == (24, 24) and (meta["width"], meta["height"]) == (24, 24)
    assert Image.open(tmp_path / "vis_rgba.png").size == (24, 24)
    assert V.picture_size(360, 640, 320) == (360, 640)  # a frame larger than the canvas is kept as asked
    assert V.picture_size(320, 320, 1024) == (1024, 1024) and V.picture_size(16, 32, 24) == (24, 48)


def test_an_ensemble_led_by_the_model_loads_the_others(tiny_net, tmp_path, other_model):
    meta = run_visualization(tiny_net, tmp_path, visualize={"ensemble": ["tiny", "other", "other"]})
    assert other_model == ["other"]
    assert meta["ensemble"] == [{"model": "tiny"}, {"model": "other"}]


def test_the_ensemble_runs_at_the_render_s_precision(tiny_net, tmp_path, other_model):
    run_visualization(tiny_net, tmp_path, speed=SpeedOptions(precision="bfloat16"),
                      visualize={"ensemble": ["tiny", "other"], "steps": 1})
    assert other_model.nets[0].autocast_dtype == torch.bfloat16


@pytest.mark.parametrize(
    "overrides",
    [
        {"visualize": {"ensemble": ["other", "tiny"]}},
        {"target": "conv2:1", "visualize": {"ensemble": ["tiny", "other"]}},
    ],
)
def test_model_alone_when_it_does_not_lead_the_ensemble_or_the_target_is_a_channel(
    tiny_net, tmp_path, other_model, overrides
):
    meta = run_visualization(tiny_net, tmp_path, **overrides)
    assert other_model == [] and meta["ensemble"] == [{"model": "tiny"}]


def test_an_unknown_ensemble_model_fails_before_optimising(tiny_net, tmp_path):
    with pytest.raises(NameChoiceError, match="visualize|model"):
        run_visualization(tiny_net, tmp_path, visualize={"ensemble": ["tiny", "efficientnet_lite9"]})
    assert not list(tmp_path.iterdir())


def test_importance_fade_greys_the_unimportant_areas(tiny_net, tmp_path):
    (tmp_path / "plain").mkdir(), (tmp_path / "faded").mkdir()
    run_visualization(tiny_net, tmp_path / "plain")
    run_visualization(tiny_net, tmp_path / "faded", visualize={"importance_fade": 1.0})
    plain, faded = (np.asarray(Image.open(tmp_path / name / "vis.png"), dtype=float) for name in ("plain", "faded"))
    assert np.abs(faded - 127.5).mean() < np.abs(plain - 127.5).mean()


@pytest.mark.parametrize(
    "visualize, key",
    [({"crop_range": [0.9, 0.4]}, "crop_range"), ({"crop_range": [0.5]}, "crop_range"),
     ({"crop_range": [0.7, 2.5]}, "crop_range"),
     ({"crops": -1}, "crops"), ({"importance_fade": 2.0}, "importance_fade"),
     ({"coarse_size": 0}, "coarse_size"),
     ({"detail_steps": -1}, "detail_steps")],
)  # fmt: skip
def test_bad_visualize_settings_name_the_key(visualize, key):
    with pytest.raises(UserError, match=key):
        validate_visualize(visualize_config(visualize=visualize).visualize)


def test_class_visualize_preset_defaults_to_the_prior_and_the_ensemble():
    from render.config import validate
    from render.run import typed_config
    from tests.compose import compose_preset

    cfg = typed_config(compose_preset("class_visualize", ["target=goldfish"]))
    validate(cfg)
    assert cfg.visualize.parameterization == "maco" and cfg.model.name == cfg.visualize.ensemble[0]
    assert cfg.visualize.ensemble == ["efficientnet_lite0", "efficientnet_lite2"]
    single = typed_config(compose_preset("class_visualize", ["model=efficientnet_lite2"]))
    assert single.visualize.ensemble[0] != single.model.name  # model=NAME alone: that network alone


def test_zoom_from_a_class_start_uses_the_visualize_settings(tiny_net, other_model):
    from render.modes.zoom import initial_state

    cfg = visualize_config(mode="zoom", init="class:zebra", visualize={"ensemble": ["tiny", "other"]})
    engine = SimpleNamespace(model=fake_model(tiny_net), device=CPU, speed=SpeedOptions())
    state = initial_state(SimpleNamespace(cfg=OmegaConf.to_object(cfg), masks=None), engine)
    assert state.frame.shape == (1, 3, 16, 20) and other_model == ["other"]
