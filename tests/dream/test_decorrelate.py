"""Decorrelated colour: a normalised ImageNet colour basis and an exact round trip to RGB."""

import torch

from dream.decorrelate import color_correlation, decorrelated_to_rgb, rgb_to_decorrelated

CPU = torch.device("cpu")


def test_colour_matrix_is_normalised():
    matrix = color_correlation(CPU)
    assert matrix.shape == (3, 3)
    assert torch.isclose(matrix.norm(dim=0).max(), torch.tensor(1.0))


def test_decorrelated_colour_round_trip():
    image = torch.rand(2, 3, 5, 7)
    assert torch.allclose(decorrelated_to_rgb(rgb_to_decorrelated(image)), image, atol=1e-5)
