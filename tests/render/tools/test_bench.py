"""``make bench`` pieces: the median timer calls warm-up then repeats; FLOPs of a step count forward and backward."""

import torch

from render.tools.bench import iteration_flops, median_seconds


def test_median_seconds_runs_warmup_and_repeats():
    calls = []
    seconds = median_seconds(lambda: calls.append(1), repeats=5, warmup=2)
    assert len(calls) == 7 and seconds >= 0


def test_iteration_flops_grow_with_the_image_and_the_depth(tiny_net):
    small, large = torch.rand(1, 3, 8, 8), torch.rand(1, 3, 16, 16)
    shallow = iteration_flops(tiny_net, small, "conv1")
    assert shallow > 0
    assert iteration_flops(tiny_net, large, "conv1") == 4 * shallow  # convolutions scale with the pixels
    assert iteration_flops(tiny_net, small, "conv3") > shallow
