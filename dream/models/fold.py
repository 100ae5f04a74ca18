"""Fold frozen batch norms into the convolutions before them.

In a frozen network a BatchNorm is a fixed per-channel scale and shift, which
the preceding convolution can absorb. Folding removes a full memory pass from
every forward and backward (batch norm in channels_last is slow on CPU), with
the same result up to float rounding.
"""

from __future__ import annotations

import torch
from torch import nn


@torch.no_grad()
def fold_conv_bn(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> None:
    """Make ``conv`` compute ``bn(conv(x))`` (eval-mode statistics); ``bn`` is then redundant."""
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)  # (C_out,)
    bias = conv.bias if conv.bias is not None else torch.zeros_like(bn.running_mean)
    conv.weight.mul_(scale.view(-1, 1, 1, 1))
    conv.bias = nn.Parameter((bias - bn.running_mean) * scale + bn.bias, requires_grad=False)


def conv_bn_pairs(module: nn.Module) -> list[tuple[nn.Module, str, str]]:
    """(parent, conv name, bn name) for every Conv2d directly followed by a matching BatchNorm2d.

    "Followed" means the next child registered in the same parent, which is how
    torchvision's blocks and the EfficientNet-Lite blocks are written (conv, then its norm).
    """
    pairs = []
    for parent in module.modules():
        children = list(parent.named_children())
        for (conv_name, conv), (bn_name, bn) in zip(children, children[1:]):
            if isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d) and bn.num_features == conv.out_channels:
                pairs.append((parent, conv_name, bn_name))
    return pairs


def fold_batchnorm(module: nn.Module) -> int:
    """Fold every conv -> batch-norm pair of an eval-mode ``module`` in place; returns how many."""
    pairs = conv_bn_pairs(module)
    for parent, conv_name, bn_name in pairs:
        fold_conv_bn(getattr(parent, conv_name), getattr(parent, bn_name))
        setattr(parent, bn_name, nn.Identity())
    return len(pairs)
