import pytest
import torch
from torch import nn

from dream.models.base import freeze
from dream.models.fold import conv_bn_pairs, fold_batchnorm, fold_conv_bn
from dream.models.registry import MODELS, get_entry


def randomise_batchnorms(module: nn.Module, generator: torch.Generator) -> None:
    for bn in module.modules():
        if isinstance(bn, nn.BatchNorm2d):
            c = bn.num_features
            bn.running_mean.copy_(torch.rand(c, generator=generator) - 0.5)
            bn.running_var.copy_(torch.rand(c, generator=generator) + 0.5)
            bn.weight.data.copy_(torch.rand(c, generator=generator) + 0.5)
            bn.bias.data.copy_(torch.rand(c, generator=generator) * 0.4 - 0.2)


def test_fold_conv_bn_equals_bn_after_conv():
    generator = torch.Generator().manual_seed(0)
    conv, bn = nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4).eval()
    randomise_batchnorms(bn, generator)
    x = torch.rand(2, 3, 8, 8, generator=generator)
    with torch.no_grad():
        expected = bn(conv(x))
        fold_conv_bn(conv, bn)
        assert torch.allclose(conv(x), expected, atol=1e-5)


def test_pairs_need_matching_channels_and_order():
    assert len(conv_bn_pairs(nn.Sequential(nn.Conv2d(3, 4, 1), nn.BatchNorm2d(4)))) == 1
    assert conv_bn_pairs(nn.Sequential(nn.BatchNorm2d(3), nn.Conv2d(3, 4, 1))) == []
    assert conv_bn_pairs(nn.Sequential(nn.Conv2d(3, 4, 1), nn.BatchNorm2d(5))) == []


@pytest.mark.parametrize("name", list(MODELS))
def test_folding_keeps_every_tap_of_every_model(name):
    generator = torch.Generator().manual_seed(1)
    net = freeze(get_entry(name).build())
    randomise_batchnorms(net, generator)
    x = torch.rand(1, 3, 128, 128, generator=generator)
    taps = list(net.taps)
    with torch.no_grad():
        before = net(x, taps)
        fold_batchnorm(net.body)
        after = net(x, taps)
    for tap in taps:
        scale = before[tap].abs().max() + 1e-6
        assert (before[tap] - after[tap]).abs().max() / scale < 1e-4, tap
    assert not any(isinstance(m, nn.BatchNorm2d) for m in net.modules()) or name.startswith(("vgg", "inception5h"))
