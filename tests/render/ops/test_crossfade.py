"""The dissolve curve shared by loop seams and segment seams."""

from render.ops.crossfade import crossfade_weight


def test_crossfade_weight_rises_from_near_zero_to_near_one():
    weights = [crossfade_weight(j, 8) for j in range(8)]
    assert weights == sorted(weights) and 0 < weights[0] < 0.05 and 0.95 < weights[-1] < 1


def test_crossfade_weight_is_symmetric_and_flat_at_the_ends():
    length = 30
    weights = [crossfade_weight(j, length) for j in range(length)]
    assert all(abs(a + b - 1) < 1e-12 for a, b in zip(weights, reversed(weights)))
    steps = [b - a for a, b in zip(weights, weights[1:])]
    assert steps[0] < 0.2 * max(steps) and steps[-1] < 0.2 * max(steps)
