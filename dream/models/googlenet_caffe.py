"""The Caffe GoogLeNets of the original DeepDream work: BVLC (ImageNet), Places205, Places365.

The three converted weight files share one architecture and differ only in the
number of classes, the input mean and the labels. They hold the network up to
``inception_5b`` plus the two auxiliary classifiers; the main classifier is not
in them, so class scores come from the auxiliary heads (``loss2/classifier`` is
the logits tap). Layer taps carry the Caffe blob names (``inception_4c/output``,
``conv2/3x3``), which are post-ReLU because Caffe applies its ReLUs in place.

The pieces shared with the TF GoogLeNet (``inception5h``) live here too: the
inception block, its convolutions, its layer listing, label files and the short
layer aliases.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import partial
from importlib import resources

import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models._meta import _IMAGENET_CATEGORIES

from dream.models.base import Preprocess, Stage, Tap, TapNet, local_response_norm

DREAM_LAYER = "inception_4c/output"

# Convolutions of an inception block; widths tuples list their output channels in this order.
BRANCHES = ("1x1", "3x3_reduce", "3x3", "5x5_reduce", "5x5", "pool_proj")

# Output channels of each block's convolutions, in BRANCHES order.
CAFFE_WIDTHS = {
    "3a": (64, 96, 128, 16, 32, 32),
    "3b": (128, 128, 192, 32, 96, 64),
    "4a": (192, 96, 208, 16, 48, 64),
    "4b": (160, 112, 224, 24, 64, 64),
    "4c": (128, 128, 256, 24, 64, 64),
    "4d": (112, 144, 288, 32, 64, 64),
    "4e": (256, 160, 320, 32, 128, 128),
    "5a": (256, 160, 320, 32, 128, 128),
    "5b": (384, 192, 384, 48, 128, 128),
}

STEM_CHANNELS = 192

# The converted files list their layers in this order (a converter artefact); registering the
# modules in it makes state_dict() list the keys exactly as the files do.
_LAYER_ORDER = """
conv1_7x7_s2 conv2_3x3_reduce conv2_3x3
inception_3a_1x1 inception_3a_5x5_reduce inception_3a_3x3_reduce inception_3a_pool_proj inception_3a_5x5
inception_3a_3x3 inception_3b_3x3_reduce inception_3b_1x1 inception_3b_5x5_reduce inception_3b_pool_proj
inception_3b_3x3 inception_3b_5x5 inception_4a_1x1 inception_4a_3x3_reduce inception_4a_5x5_reduce
inception_4a_pool_proj inception_4a_3x3 inception_4a_5x5 inception_4b_5x5_reduce inception_4b_1x1
inception_4b_3x3_reduce inception_4b_pool_proj loss1_conv inception_4b_5x5 inception_4b_3x3 loss1_fc_1
inception_4c_5x5_reduce inception_4c_1x1 inception_4c_3x3_reduce inception_4c_pool_proj inception_4c_5x5
inception_4c_3x3 loss1_classifier_1 inception_4d_3x3_reduce inception_4d_1x1 inception_4d_5x5_reduce
inception_4d_pool_proj inception_4d_3x3 inception_4d_5x5 inception_4e_1x1 inception_4e_5x5_reduce
inception_4e_3x3_reduce loss2_conv inception_4e_pool_proj inception_4e_5x5 inception_4e_3x3 loss2_fc_1
inception_5a_1x1 inception_5a_5x5_reduce inception_5a_3x3_reduce inception_5a_pool_proj loss2_classifier_1
inception_5a_5x5 inception_5a_3x3 inception_5b_3x3_reduce inception_5b_5x5_reduce inception_5b_1x1
inception_5b_pool_proj inception_5b_3x3 inception_5b_5x5
""".split()

# Stride-2 max pools of the main chain that follow a block.
_POOL_AFTER = {"3b": "pool3/3x3_s2", "4e": "pool4/3x3_s2"}

# Auxiliary classifier -> the block whose output feeds it.
_AUX_SOURCES = {"loss1": "4a", "loss2": "4d"}

# Caffe LRN (ACROSS_CHANNELS); PyTorch divides alpha by size exactly as Caffe does.
_LRN = {"size": 5, "alpha": 9.999999747378752e-05, "beta": 0.75, "k": 1.0}


def block_out_channels(widths: Sequence[int]) -> int:
    """Channels of a block's output: the concat of its 1x1, 3x3, 5x5 and pool_proj branches."""
    c1, _, c3, _, c5, cp = widths
    return c1 + c3 + c5 + cp


def block_convs(in_channels: int, widths: Sequence[int]) -> dict[str, nn.Conv2d]:
    """The six convolutions of an inception block, keyed by BRANCHES name.

    Padding is k // 2, which equals both Caffe's symmetric pad and TF "SAME" at stride 1.
    """
    c1, c3r, c3, c5r, c5, cp = widths
    shapes = {
        "1x1": (in_channels, c1, 1),
        "3x3_reduce": (in_channels, c3r, 1),
        "3x3": (c3r, c3, 3),
        "5x5_reduce": (in_channels, c5r, 1),
        "5x5": (c5r, c5, 5),
        "pool_proj": (in_channels, cp, 1),
    }
    return {branch: nn.Conv2d(i, o, k, padding=k // 2) for branch, (i, o, k) in shapes.items()}


def block_layers(in_channels: int, widths: Sequence[int]) -> list[tuple[str, int]]:
    """(layer, channels) of a block in prototxt order: the convs, 'pool' before 'pool_proj', then 'output'."""
    layers = list(zip(BRANCHES, widths))
    layers.insert(BRANCHES.index("pool_proj"), ("pool", in_channels))
    return layers + [("output", block_out_channels(widths))]


def inception_block(x: torch.Tensor, convs: Sequence[nn.Module], pool: nn.Module) -> torch.Tensor:
    """One inception block: four ReLU branches concatenated on channels.

    Args:
        x: (B, C, H, W) block input.
        convs: the six convolutions in BRANCHES order.
        pool: the 3x3 stride-1 max pool of the pool branch.

    Returns:
        (B, c1 + c3 + c5 + cp, H, W).
    """
    conv_1x1, conv_3x3_reduce, conv_3x3, conv_5x5_reduce, conv_5x5, pool_proj = convs
    return torch.cat(
        [
            F.relu(conv_1x1(x)),
            F.relu(conv_3x3(F.relu(conv_3x3_reduce(x)))),
            F.relu(conv_5x5(F.relu(conv_5x5_reduce(x)))),
            F.relu(pool_proj(pool(x))),
        ],
        dim=1,
    )


def block_aliases(caffe_name: str) -> list[str]:
    """Short names of a Caffe inception-block layer.

    'inception_4c/3x3' -> ['inception4c/3x3', '4c/3x3']; an '/output' layer also gets
    the block name: 'inception_4c/output' -> [..., 'inception_4c', 'inception4c', '4c'].
    """
    match = re.fullmatch(r"inception_(\d[a-e])/(\w+)", caffe_name)
    if match is None:
        return []
    block, layer = match.groups()
    names = [f"inception{block}/{layer}", f"{block}/{layer}"]
    if layer == "output":
        names += [f"inception_{block}", f"inception{block}", block]
    return names


def read_labels(filename: str) -> list[str]:
    """Class names, one per line, from a file in ``dream/models/data``."""
    text = resources.files("dream.models").joinpath("data").joinpath(filename).read_text(encoding="utf-8")
    return text.splitlines()


def fit_avg_pool(x: torch.Tensor, kernel: int, stride: int, ceil_mode: bool = False) -> torch.Tensor:
    """Caffe average pooling (no padding), its kernel shrunk to fit maps smaller than it.

    Args:
        x: (B, C, H, W).
        kernel: the Caffe kernel size; used as is when H and W are at least that large.
        stride: the Caffe stride.
        ceil_mode: Caffe's rounding of the output size (the aux heads use it).

    Returns:
        (B, C, h, w) pooled; windows cut by the border average their valid part, as in Caffe.
    """
    size = (min(kernel, x.shape[-2]), min(kernel, x.shape[-1]))
    return F.avg_pool2d(x, size, stride, ceil_mode=ceil_mode, count_include_pad=False)


def caffe_max_pool(x: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) -> (B, C, ceil((H-3)/2)+1, ...): Caffe's 3x3 stride-2 max pool (ceil rounding)."""
    return F.max_pool2d(x, 3, stride=2, ceil_mode=True)


def caffe_lrn(x: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) -> (B, C, H, W): Caffe local response norm across 5 channels."""
    return local_response_norm(x, **_LRN)


def pool5(x: torch.Tensor) -> torch.Tensor:
    """(B, 1024, H, W) -> (B, 1024, H-6, W-6): 7x7 stride-1 average pool (1x1 at 224 px input)."""
    return fit_avg_pool(x, 7, 1)


def _caffe_layers(num_classes: int) -> dict[str, nn.Module]:
    """Every layer with weights, keyed by its name in the weights file."""
    layers: dict[str, nn.Module] = {
        "conv1_7x7_s2": nn.Conv2d(3, 64, 7, stride=2, padding=3),
        "conv2_3x3_reduce": nn.Conv2d(64, 64, 1),
        "conv2_3x3": nn.Conv2d(64, STEM_CHANNELS, 3, padding=1),
    }
    channels = STEM_CHANNELS
    for block, widths in CAFFE_WIDTHS.items():
        layers.update({f"inception_{block}_{b}": conv for b, conv in block_convs(channels, widths).items()})
        channels = block_out_channels(widths)
    for head, block in _AUX_SOURCES.items():
        layers[f"{head}_conv"] = nn.Conv2d(block_out_channels(CAFFE_WIDTHS[block]), 128, 1)
        layers[f"{head}_fc_1"] = nn.Linear(128 * 4 * 4, 1024)
        layers[f"{head}_classifier_1"] = nn.Linear(1024, num_classes)
    return layers


class CaffeGoogLeNet(nn.Module):
    """The converted Caffe GoogLeNet: state_dict keys equal the weights files' keys.

    Args:
        num_classes: outputs of the auxiliary classifiers (1000, 205 or 365).
    """

    def __init__(self, num_classes: int):
        super().__init__()
        layers = _caffe_layers(num_classes)
        for name in _LAYER_ORDER:
            self.add_module(name, layers[name])
        for block in CAFFE_WIDTHS:
            # Padding never wins a max: Caffe's MAX pooling ignores its pad.
            self.add_module(f"inception_{block}_pool", nn.MaxPool2d(3, stride=1, padding=1))

    def conv1(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) -> (B, 64, ceil(H/2), ceil(W/2))."""
        return F.relu(self.conv1_7x7_s2(x))

    def conv2_reduce(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 64, H, W) -> (B, 64, H, W)."""
        return F.relu(self.conv2_3x3_reduce(x))

    def conv2(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 64, H, W) -> (B, 192, H, W)."""
        return F.relu(self.conv2_3x3(x))

    def inception(self, block: str, x: torch.Tensor) -> torch.Tensor:
        """(B, C_in, H, W) -> (B, C_out, H, W): inception block ``block`` ('3a' ... '5b')."""
        convs = [self.get_submodule(f"inception_{block}_{branch}") for branch in BRANCHES]
        return inception_block(x, convs, self.get_submodule(f"inception_{block}_pool"))

    def aux_classifier(self, head: str, x: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) block output -> (B, num_classes) logits of head 'loss1' or 'loss2'.

        The fc layer needs a 4x4 map (what a 224 px input gives); other sizes are
        average-pooled to 4x4 after Caffe's 5x5 stride-3 pool.
        """
        x = F.adaptive_avg_pool2d(fit_avg_pool(x, 5, 3, ceil_mode=True), 4)
        x = F.relu(self.get_submodule(f"{head}_conv")(x))
        x = F.relu(self.get_submodule(f"{head}_fc_1")(x.flatten(1)))
        # Dropout (p=0.7) is the identity at inference.
        return self.get_submodule(f"{head}_classifier_1")(x)


def _caffe_graph(body: CaffeGoogLeNet, num_classes: int) -> tuple[list[Stage], dict[str, Tap]]:
    """The stages in forward order and every Caffe blob as a tap."""
    stages: list[Stage] = []
    taps: dict[str, Tap] = {}

    def add(name: str, fn, channels: int, source: str | None = None) -> None:
        stages.append(Stage(name, fn, source))
        taps[name] = Tap(name, channels)

    add("conv1/7x7_s2", body.conv1, 64)
    add("pool1/3x3_s2", caffe_max_pool, 64)
    add("pool1/norm1", caffe_lrn, 64)
    add("conv2/3x3_reduce", body.conv2_reduce, 64)
    add("conv2/3x3", body.conv2, STEM_CHANNELS)
    add("conv2/norm2", caffe_lrn, STEM_CHANNELS)
    add("pool2/3x3_s2", caffe_max_pool, STEM_CHANNELS)
    channels = STEM_CHANNELS
    for block, widths in CAFFE_WIDTHS.items():
        stages.append(Stage(f"inception_{block}/output", partial(body.inception, block)))
        taps.update(_block_taps(block, channels, widths))
        channels = block_out_channels(widths)
        if block in _POOL_AFTER:
            add(_POOL_AFTER[block], caffe_max_pool, channels)
    add("pool5/7x7_s1", pool5, channels)
    for head, block in _AUX_SOURCES.items():
        add(f"{head}/classifier", partial(body.aux_classifier, head), num_classes, f"inception_{block}/output")
    return stages, taps


def _block_taps(block: str, in_channels: int, widths: Sequence[int]) -> dict[str, Tap]:
    """Taps of one block: convs hooked pre-ReLU (served post-ReLU), the pool branch, the output."""
    stage = f"inception_{block}/output"
    taps = {}
    for layer, channels in block_layers(in_channels, widths):
        if layer == "output":
            taps[stage] = Tap(stage, channels)
        else:
            module = f"inception_{block}_{layer}"
            taps[f"inception_{block}/{layer}"] = Tap(stage, channels, module, relu=layer != "pool")
    return taps


def _build_caffe_googlenet(num_classes: int, mean_bgr: Sequence[float], labels: Sequence[str]) -> TapNet:
    """A randomly initialised Caffe GoogLeNet as a TapNet; load the weights into ``net.body``."""
    body = CaffeGoogLeNet(num_classes)
    stages, taps = _caffe_graph(body, num_classes)
    aliases = {alias: name for name in taps for alias in block_aliases(name)}
    aliases["logits"] = "loss2/classifier"
    # Caffe convention: BGR, 0-256 scale (as the converted files were used), per-channel mean.
    preprocess = Preprocess(256.0, mean_bgr, (1.0, 1.0, 1.0), bgr=True)
    return TapNet(body, stages, taps, preprocess, aliases, labels, logits_tap="loss2/classifier")


def build_bvlc_googlenet() -> TapNet:
    """BVLC GoogLeNet (ImageNet, 1000 classes in torchvision order)."""
    return _build_caffe_googlenet(1000, (103.939, 116.779, 123.68), _IMAGENET_CATEGORIES)


def build_googlenet_places205() -> TapNet:
    """GoogLeNet trained on MIT Places205 (205 scene classes)."""
    return _build_caffe_googlenet(205, (105.417, 113.753, 116.047), read_labels("places205.txt"))


def build_googlenet_places365() -> TapNet:
    """GoogLeNet trained on Places365 (365 scene classes)."""
    return _build_caffe_googlenet(365, (104.051, 112.514, 116.676), read_labels("places365.txt"))
