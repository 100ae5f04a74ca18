"""The TF GoogLeNet of the original DeepDream notebook (``inception5h``), converted to PyTorch.

Taps carry the TF graph's op names as Lucid uses them: ``mixed4c`` is a block's
output, ``mixed4d_3x3_bottleneck`` a post-ReLU convolution and
``mixed4d_3x3_bottleneck_pre_relu`` the same convolution before its ReLU. The
Caffe blob names (``inception_4c/output``) and short names (``4c``) are aliases.

Two details make it match TensorFlow at every size an octave produces: "SAME"
padding is computed from the actual input size on every call (stride-2 layers
pad asymmetrically, and differently for odd sizes), and the LRN uses TF's
window of 11 channels with bias 2 and beta 0.5.
"""

from __future__ import annotations

import math
from functools import partial

import torch
import torch.nn.functional as F
from torch import nn

from dream.models.base import Preprocess, Stage, Tap, TapNet, local_response_norm
from dream.models.googlenet_caffe import (
    BRANCHES,
    CAFFE_WIDTHS,
    STEM_CHANNELS,
    block_aliases,
    block_convs,
    block_layers,
    block_out_channels,
    inception_block,
    read_labels,
)

DREAM_LAYER = "mixed4c"

NUM_CLASSES = 1008

# Output channels of each block's convolutions, in BRANCHES order: Caffe's, but for 4a's 3x3 and 5a's 5x5_reduce.
TF_WIDTHS = {**CAFFE_WIDTHS, "4a": (192, 96, 204, 16, 48, 64), "5a": (256, 160, 320, 48, 128, 128)}

# TF name of each block layer (keyed by its Caffe name).
_TF_LAYER = {
    "1x1": "1x1",
    "3x3_reduce": "3x3_bottleneck",
    "3x3": "3x3",
    "5x5_reduce": "5x5_bottleneck",
    "5x5": "5x5",
    "pool": "pool",
    "pool_proj": "pool_reduce",
}

# The weights file lists each block's convolutions in this order.
_FILE_ORDER = ("1x1", "3x3_reduce", "5x5_reduce", "pool_proj", "3x3", "5x5")

# Stride-2 max pools of the main chain that follow a block.
_POOL_AFTER = {"3b": "maxpool4", "4e": "maxpool10"}

# Caffe blob names of the layers outside the inception blocks.
_CAFFE_NAMES = {
    "conv2d0": "conv1/7x7_s2",
    "maxpool0": "pool1/3x3_s2",
    "localresponsenorm0": "pool1/norm1",
    "conv2d1": "conv2/3x3_reduce",
    "conv2d2": "conv2/3x3",
    "localresponsenorm1": "conv2/norm2",
    "maxpool1": "pool2/3x3_s2",
    "maxpool4": "pool3/3x3_s2",
    "maxpool10": "pool4/3x3_s2",
    "avgpool0": "pool5/7x7_s1",
}

# TF LRN: depth_radius 5 (a window of 11 channels), alpha 1e-4, beta 0.5, bias 2.
# PyTorch divides alpha by the window size; TF does not.
_LRN_SIZE = 2 * 5 + 1
_LRN = {"size": _LRN_SIZE, "alpha": _LRN_SIZE * 9.999999747378752e-05, "beta": 0.5, "k": 2.0}


def same_pads(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TF "SAME" padding (before, after) of one spatial dimension.

    The output has ceil(size / stride) positions; the odd pixel of padding goes after.
    """
    total = max((math.ceil(size / stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def pad_same(x: torch.Tensor, kernel: int, stride: int, value: float = 0.0) -> torch.Tensor:
    """(B, C, H, W) -> (B, C, H + pad, W + pad): TF "SAME" padding for this input's size.

    Args:
        x: the layer input.
        kernel: the layer's (square) kernel size.
        stride: the layer's stride.
        value: the pad value: 0 for convolutions, -inf for max pools (padding never wins).
    """
    top, bottom = same_pads(x.shape[-2], kernel, stride)
    left, right = same_pads(x.shape[-1], kernel, stride)
    return F.pad(x, (left, right, top, bottom), value=value)


def tf_max_pool(x: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) -> (B, C, ceil(H/2), ceil(W/2)): 3x3 stride-2 max pool with "SAME" padding."""
    return F.max_pool2d(pad_same(x, 3, 2, float("-inf")), 3, stride=2)


def tf_lrn(x: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) -> (B, C, H, W): x / (2 + 1e-4 * sum of x^2 over channels c-5..c+5)^0.5."""
    return local_response_norm(x, **_LRN)


def avgpool0(x: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) -> (B, C, 1, 1): global average (TF's 7x7 VALID pool at 224 px input)."""
    return F.adaptive_avg_pool2d(x, 1)


def _conv_name(block: str, layer: str) -> str:
    """Module name of a block convolution: ('4d', '3x3_reduce') -> 'mixed4d_3x3_bottleneck_pre_relu_conv'."""
    return f"mixed{block}_{_TF_LAYER[layer]}_pre_relu_conv"


class Inception5h(nn.Module):
    """The converted inception5h network: state_dict keys equal the weights file's keys."""

    def __init__(self):
        super().__init__()
        self.conv2d0_pre_relu_conv = nn.Conv2d(3, 64, 7, stride=2)  # "SAME" padded per call
        self.conv2d1_pre_relu_conv = nn.Conv2d(64, 64, 1)
        self.conv2d2_pre_relu_conv = nn.Conv2d(64, STEM_CHANNELS, 3, padding=1)
        channels = STEM_CHANNELS
        for block, widths in TF_WIDTHS.items():
            convs = block_convs(channels, widths)
            for layer in _FILE_ORDER:
                self.add_module(_conv_name(block, layer), convs[layer])
            self.add_module(f"mixed{block}_pool", nn.MaxPool2d(3, stride=1, padding=1))
            channels = block_out_channels(widths)
        self.softmax2_pre_activation_matmul = nn.Linear(channels, NUM_CLASSES)

    def conv2d0(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) -> (B, 64, ceil(H/2), ceil(W/2))."""
        return F.relu(self.conv2d0_pre_relu_conv(pad_same(x, 7, 2)))

    def conv2d1(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 64, H, W) -> (B, 64, H, W)."""
        return F.relu(self.conv2d1_pre_relu_conv(x))

    def conv2d2(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 64, H, W) -> (B, 192, H, W)."""
        return F.relu(self.conv2d2_pre_relu_conv(x))

    def mixed(self, block: str, x: torch.Tensor) -> torch.Tensor:
        """(B, C_in, H, W) -> (B, C_out, H, W): inception block ``block`` ('3a' ... '5b')."""
        convs = [self.get_submodule(_conv_name(block, layer)) for layer in BRANCHES]
        return inception_block(x, convs, self.get_submodule(f"mixed{block}_pool"))

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 1024, 1, 1) -> (B, 1008) class scores before the softmax."""
        return self.softmax2_pre_activation_matmul(x.flatten(1))


def _block_taps(block: str, in_channels: int, widths: tuple[int, ...]) -> list[tuple[str, Tap, str]]:
    """(tap name, tap, Caffe name or '') of one block in forward order.

    Each convolution gives two taps: ``NAME_pre_relu`` (the conv output) and ``NAME`` (after ReLU).
    """
    stage = f"mixed{block}"
    taps = []
    for layer, channels in block_layers(in_channels, widths):
        caffe_name = f"inception_{block}/{layer}"
        if layer == "output":
            taps.append((stage, Tap(stage, channels), caffe_name))
        elif layer == "pool":
            taps.append((f"{stage}_pool", Tap(stage, channels, f"{stage}_pool"), caffe_name))
        else:
            name, conv = f"{stage}_{_TF_LAYER[layer]}", _conv_name(block, layer)
            taps.append((f"{name}_pre_relu", Tap(stage, channels, conv), ""))
            taps.append((name, Tap(stage, channels, conv, relu=True), caffe_name))
    return taps


def _tf_graph(body: Inception5h) -> tuple[list[Stage], dict[str, Tap], dict[str, str]]:
    """The stages in forward order, every layer of the JSON spec as a tap, and the Caffe-name aliases."""
    stages: list[Stage] = []
    taps: dict[str, Tap] = {}
    aliases: dict[str, str] = {}

    def add(name: str, tap: Tap, caffe_name: str = "") -> None:
        taps[name] = tap
        if caffe_name:
            aliases.update(dict.fromkeys([caffe_name, *block_aliases(caffe_name)], name))

    def add_stage(name: str, fn, channels: int, conv: str = "") -> None:
        stages.append(Stage(name, fn))
        if conv:
            add(f"{name}_pre_relu", Tap(name, channels, conv))
        add(name, Tap(name, channels), _CAFFE_NAMES.get(name, ""))

    add_stage("conv2d0", body.conv2d0, 64, "conv2d0_pre_relu_conv")
    add_stage("maxpool0", tf_max_pool, 64)
    add_stage("localresponsenorm0", tf_lrn, 64)
    add_stage("conv2d1", body.conv2d1, 64, "conv2d1_pre_relu_conv")
    add_stage("conv2d2", body.conv2d2, STEM_CHANNELS, "conv2d2_pre_relu_conv")
    add_stage("localresponsenorm1", tf_lrn, STEM_CHANNELS)
    add_stage("maxpool1", tf_max_pool, STEM_CHANNELS)
    channels = STEM_CHANNELS
    for block, widths in TF_WIDTHS.items():
        stages.append(Stage(f"mixed{block}", partial(body.mixed, block)))
        for name, tap, caffe_name in _block_taps(block, channels, widths):
            add(name, tap, caffe_name)
        channels = block_out_channels(widths)
        if block in _POOL_AFTER:
            add_stage(_POOL_AFTER[block], tf_max_pool, channels)
    add_stage("avgpool0", avgpool0, channels)
    add_stage("softmax2_pre_activation", body.logits, NUM_CLASSES)
    add_stage("softmax2", partial(torch.softmax, dim=1), NUM_CLASSES)
    return stages, taps, aliases


def build_inception5h() -> TapNet:
    """A randomly initialised inception5h as a TapNet; load the weights into ``net.body``.

    Input convention: RGB, x * 255 - 117. Labels: 1008 entries, 0 = 'dummy',
    1..1000 the ImageNet classes, 1001..1007 unused.
    """
    body = Inception5h()
    stages, taps, aliases = _tf_graph(body)
    aliases.update(softmax2_pre_activation_matmul="softmax2_pre_activation", logits="softmax2_pre_activation")
    preprocess = Preprocess(255.0, (117.0, 117.0, 117.0), (1.0, 1.0, 1.0), bgr=False)
    labels = read_labels("inception5h.txt")
    return TapNet(body, stages, taps, preprocess, aliases, labels, logits_tap="softmax2_pre_activation")
