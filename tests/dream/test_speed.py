import pytest
import torch

from dream.errors import UserError
from dream.objectives import layer_l2
from dream.octaves import DreamParams, deepdream
from dream.speed import SpeedOptions, apply_speed_options
from dream.step import objective_gradient


def relative_l2(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).norm() / b.norm())


def test_bfloat16_autocast_keeps_activations_and_gradient_float32(tiny_net, tiny_image):
    apply_speed_options(tiny_net, SpeedOptions(precision="bfloat16"), torch.device("cpu"))
    activations = tiny_net(tiny_image, ["conv3"])
    grad = objective_gradient(tiny_net, tiny_image, layer_l2("conv3"))
    assert activations["conv3"].dtype == torch.float32 and grad.dtype == torch.float32


def test_bfloat16_dream_is_within_tolerance_of_float32(lite0):
    """Relative L2 of the dreamed image after 2 octaves x 3 steps from the same seed."""
    net = lite0.net
    image = torch.rand(1, 3, 96, 128, generator=torch.Generator().manual_seed(0))
    objective, params = layer_l2("block8"), DreamParams(octaves=2, iterations=3)
    reference = deepdream(net, image, objective, params, torch.Generator().manual_seed(1))
    net.autocast_dtype = torch.bfloat16
    try:
        fast = deepdream(net, image, objective, params, torch.Generator().manual_seed(1))
    finally:
        net.autocast_dtype = None
    assert relative_l2(fast, reference) < 0.05


def test_memory_format_option(tiny_net, tiny_image):
    apply_speed_options(tiny_net, SpeedOptions(channels_last=False), torch.device("cpu"))
    assert tiny_net.memory_format == torch.contiguous_format
    assert tiny_net(tiny_image, ["conv2"])["conv2"].is_contiguous()


@pytest.mark.parametrize("options", [SpeedOptions(precision="int8"), SpeedOptions(compile="fastest")])
def test_unknown_options_are_user_errors(tiny_net, options):
    with pytest.raises(UserError):
        apply_speed_options(tiny_net, options, torch.device("cpu"))


@pytest.mark.slow
def test_compiled_forward_matches_eager(tiny_net, tiny_image):
    objective = layer_l2("conv3")
    eager = objective_gradient(tiny_net, tiny_image, objective)
    apply_speed_options(tiny_net, SpeedOptions(compile="default"), torch.device("cpu"))
    compiled = objective_gradient(tiny_net, tiny_image, objective)
    assert relative_l2(compiled, eager) < 1e-4


def test_a_shape_is_marked_once_after_its_first_call_and_never_under_force_eager(tmp_path):
    from dream.speed import marking_compiled_shapes

    calls, marks = [], []
    forward = marking_compiled_shapes(lambda image: calls.append(image.shape) or image,
                                      lambda shape: marks.append(shape) or tmp_path / "x".join(map(str, shape)))
    with torch.compiler.set_stance("force_eager"):
        forward(torch.zeros(1, 3, 4, 6))
    assert calls and not list(tmp_path.iterdir())
    forward(torch.zeros(1, 3, 4, 6))
    forward(torch.zeros(1, 3, 4, 6))
    forward(torch.zeros(2, 3, 4, 6))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["1x3x4x6", "2x3x4x6"]


def test_was_compiled_reads_the_mark_in_torchs_compile_cache(tiny_net, tmp_path, monkeypatch):
    from dream.speed import compiled_shape_mark, was_compiled

    monkeypatch.setenv("TORCHINDUCTOR_CACHE_DIR", str(tmp_path))
    options = SpeedOptions(compile="default")
    assert not was_compiled(tiny_net, options, (1, 3, 8, 8))
    mark = compiled_shape_mark(tiny_net, options, (1, 3, 8, 8))
    assert mark.is_relative_to(tmp_path)
    mark.parent.mkdir(parents=True)
    mark.touch()
    assert was_compiled(tiny_net, options, (1, 3, 8, 8))
    assert not was_compiled(tiny_net, SpeedOptions(compile="max-autotune"), (1, 3, 8, 8))
    assert not was_compiled(tiny_net, options, (1, 3, 8, 16))
