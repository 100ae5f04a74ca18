"""torchvision ImageNet classifiers as TapNets: GoogLeNet, Inception v3, VGG16/19, ResNet-50, MobileNet v2.

Each body is the torchvision model itself, built with ``weights=None``, so its
state_dict has exactly the keys of torchvision's weights (the registry loads
them through torchvision's weights API and cache). GoogLeNet and Inception v3
keep their auxiliary heads because torchvision's weights files contain them;
the heads are never run. Their ``transform_input`` is off and the equivalent
normalisation is in ``Preprocess`` instead.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
import torchvision.models as tvm
from torch import nn
from torchvision.models._meta import _IMAGENET_CATEGORIES

from dream.models.base import Preprocess, Stage, Tap, TapNet

TORCHVISION_WEIGHTS = {
    "googlenet": "GoogLeNet_Weights.IMAGENET1K_V1",
    "inception_v3": "Inception_V3_Weights.IMAGENET1K_V1",
    "vgg16": "VGG16_Weights.IMAGENET1K_V1",
    "vgg19": "VGG19_Weights.IMAGENET1K_V1",
    "resnet50": "ResNet50_Weights.IMAGENET1K_V2",
    "mobilenet_v2": "MobileNet_V2_Weights.IMAGENET1K_V2",
}
"""Model name -> torchvision's default weights enum member, as ``Enum.MEMBER``."""

DREAM_LAYER = {
    "googlenet": "inception4c",
    "inception_v3": "Mixed_6c",
    "vgg16": "conv4_3",
    "vgg19": "conv4_4",
    "resnet50": "layer3",
    "mobilenet_v2": "features.10",
}
"""Model name -> the tap a dream uses unless told otherwise."""

# Channel counts are read off a forward at this size: large enough for every
# network here (Inception v3 needs 75 px), small enough to cost nothing.
PROBE_SIZE = 96

# Caffe blob names of the original BVLC GoogLeNet for the torchvision modules that compute them.
GOOGLENET_CAFFE_NAMES = {
    "conv1/7x7_s2": "conv1",
    "pool1/3x3_s2": "maxpool1",
    "conv2/3x3_reduce": "conv2",
    "conv2/3x3": "conv3",
    "pool2/3x3_s2": "maxpool2",
    "pool3/3x3_s2": "maxpool3",
    "pool4/3x3_s2": "maxpool4",
}

IMAGENET_PREPROCESS = {"scale": 1.0, "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}
# What torchvision's transform_input=True computes for GoogLeNet and Inception v3 (their weights came from TF).
TF_PREPROCESS = {"scale": 1.0, "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]}


def _chain(body: nn.Module, names: list[str]) -> list[Stage]:
    """One stage per named submodule of ``body``, run in the given order."""
    return [Stage(name, body.get_submodule(name)) for name in names]


def _logits(pool: Callable, head: nn.Module) -> Stage:
    """The classifier stage: pool, flatten, head -> (B, num_classes)."""
    return Stage("logits", lambda x: head(torch.flatten(pool(x), 1)))


def _probe_channels(body: nn.Module, stages: list[Stage]) -> dict[str, int]:
    """Stage name -> output channels, from one small forward through every stage."""
    was_training = body.training
    body.eval()  # batch statistics of a 1x1 map would fail in train mode
    x = torch.zeros(1, 3, PROBE_SIZE, PROBE_SIZE)
    channels = {}
    with torch.no_grad():
        for stage in stages:
            x = stage.fn(x)
            channels[stage.name] = x.shape[1]
    body.train(was_training)
    return channels


def _tapnet(body: nn.Module, stages: list[Stage], preprocess: dict, aliases: dict[str, str]) -> TapNet:
    """A TapNet with one tap per stage (same name) and ImageNet labels on ``logits``."""
    taps = {name: Tap(name, c) for name, c in _probe_channels(body, stages).items()}
    return TapNet(body, stages, taps, Preprocess(**preprocess), aliases, list(_IMAGENET_CATEGORIES), "logits")


def build_googlenet() -> TapNet:
    """GoogLeNet (Inception v1): taps conv1 .. inception3a .. inception5b, pools, logits.

    Aliases give the Caffe blob names (``inception_4c/output``, ``conv2/3x3``, ...).
    """
    body = tvm.googlenet(weights=None, aux_logits=True, transform_input=False, init_weights=False)
    names = ["conv1", "maxpool1", "conv2", "conv3", "maxpool2", "inception3a", "inception3b", "maxpool3"]
    names += [f"inception4{c}" for c in "abcde"] + ["maxpool4", "inception5a", "inception5b"]
    stages = _chain(body, names) + [_logits(body.avgpool, nn.Sequential(body.dropout, body.fc))]
    aliases = dict(GOOGLENET_CAFFE_NAMES)
    for name in names:
        if name.startswith("inception"):
            caffe = f"inception_{name[-2:]}"
            aliases |= {caffe: name, f"{caffe}/output": name}
    return _tapnet(body, stages, TF_PREPROCESS, aliases)


def build_inception_v3() -> TapNet:
    """Inception v3: taps Conv2d_1a_3x3 .. Mixed_5b .. Mixed_7c, logits.

    Aliases ``mixed0`` .. ``mixed10`` are the Keras names of Mixed_5b .. Mixed_7c.
    """
    body = tvm.inception_v3(weights=None, aux_logits=True, transform_input=False, init_weights=False)
    mixed = [f"Mixed_5{c}" for c in "bcd"] + [f"Mixed_6{c}" for c in "abcde"] + [f"Mixed_7{c}" for c in "abc"]
    names = ["Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "maxpool1", "Conv2d_3b_1x1", "Conv2d_4a_3x3"]
    names += ["maxpool2", *mixed]
    stages = _chain(body, names) + [_logits(body.avgpool, nn.Sequential(body.dropout, body.fc))]
    aliases = {f"mixed{i}": name for i, name in enumerate(mixed)}
    return _tapnet(body, stages, TF_PREPROCESS, aliases)


def _vgg_stages(features: nn.Sequential) -> tuple[list[Stage], dict[str, str]]:
    """conv{b}_{i} (conv + ReLU) and pool{b} stages; aliases relu{b}_{i} and features.N."""
    stages, aliases = [], {}
    block, conv = 1, 0
    for index, layer in enumerate(features):
        if isinstance(layer, nn.Conv2d):
            conv += 1
            name = f"conv{block}_{conv}"
            stages.append(Stage(name, nn.Sequential(layer, features[index + 1])))
            aliases |= {f"relu{block}_{conv}": name, f"features.{index + 1}": name}
        elif isinstance(layer, nn.MaxPool2d):
            name = f"pool{block}"
            stages.append(Stage(name, layer))
            aliases[f"features.{index}"] = name
            block, conv = block + 1, 0
    return stages, aliases


def _build_vgg(builder: Callable[..., nn.Module]) -> TapNet:
    body = builder(weights=None)
    stages, aliases = _vgg_stages(body.features)
    stages.append(_logits(body.avgpool, body.classifier))
    return _tapnet(body, stages, IMAGENET_PREPROCESS, aliases)


def build_vgg16() -> TapNet:
    """VGG16: taps conv1_1 .. conv5_3 (post-ReLU), pool1 .. pool5, logits."""
    return _build_vgg(tvm.vgg16)


def build_vgg19() -> TapNet:
    """VGG19: taps conv1_1 .. conv5_4 (post-ReLU), pool1 .. pool5, logits."""
    return _build_vgg(tvm.vgg19)


def build_resnet50() -> TapNet:
    """ResNet-50: taps conv1, maxpool, every bottleneck ``layerX.N``, logits.

    The last bottleneck of each group is named ``layerX`` (the group's output);
    ``layerX.N`` for it is an alias.
    """
    body = tvm.resnet50(weights=None)
    # Look the modules up at call time: folding batch norms replaces body.bn1.
    stages = [Stage("conv1", lambda x: body.relu(body.bn1(body.conv1(x)))), Stage("maxpool", body.maxpool)]
    aliases = {}
    for group in ("layer1", "layer2", "layer3", "layer4"):
        blocks = body.get_submodule(group)
        for i, block in enumerate(blocks):
            name = group if i == len(blocks) - 1 else f"{group}.{i}"
            stages.append(Stage(name, block))
        aliases[f"{group}.{len(blocks) - 1}"] = group
    stages.append(_logits(body.avgpool, body.fc))
    return _tapnet(body, stages, IMAGENET_PREPROCESS, aliases)


def build_mobilenet_v2() -> TapNet:
    """MobileNet v2: taps features.0 .. features.18, logits."""
    body = tvm.mobilenet_v2(weights=None)
    stages = _chain(body, [f"features.{i}" for i in range(len(body.features))])
    stages.append(_logits(lambda x: F.adaptive_avg_pool2d(x, 1), body.classifier))
    return _tapnet(body, stages, IMAGENET_PREPROCESS, {})


BUILDERS = {
    "googlenet": build_googlenet,
    "inception_v3": build_inception_v3,
    "vgg16": build_vgg16,
    "vgg19": build_vgg19,
    "resnet50": build_resnet50,
    "mobilenet_v2": build_mobilenet_v2,
}
"""Model name -> builder of the TapNet with random weights."""
