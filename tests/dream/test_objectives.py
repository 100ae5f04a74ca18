import pytest
import torch
import torch.nn.functional as F
from skimage import data

from dream import objectives as obj
from dream.labels import class_index
from dream.step import StepParams, ascent_step


def _activations(seed: int = 0) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return {"a": torch.randn(2, 4, 5, 5, generator=generator), "b": torch.randn(2, 6, 3, 3, generator=generator)}


def _score(net, image, objective) -> torch.Tensor:
    with torch.no_grad():
        return objective(net(image, objective.taps))


def _rises_in_3_steps(net, image, objective, step_size: float = 3.0) -> None:
    params = StepParams(step_size=step_size, jitter=0, tile_size=0)
    generator = torch.Generator().manual_seed(0)
    before = _score(net, image, objective)
    for _ in range(3):
        image = ascent_step(net, image, objective, params, generator)
    after = _score(net, image, objective)
    assert (after > before).all(), f"{objective.name}: {before.tolist()} -> {after.tolist()}"


def test_layer_l2_is_half_mean_square():
    a = _activations()
    expected = 0.5 * a["a"].pow(2).mean(dim=(1, 2, 3))
    assert torch.allclose(obj.layer_l2("a")(a), expected)
    assert obj.layer_l2("a")(a).shape == (2,)


def test_channel_reads_one_channel():
    a = _activations()
    assert torch.allclose(obj.channel("b", 5)(a), a["b"][:, 5].mean(dim=(1, 2)))


def test_class_logit_flat_and_spatial():
    flat = {"logits": torch.arange(10.0).view(2, 5)}
    assert obj.class_logit("logits", 3)(flat).tolist() == [3.0, 8.0]
    spatial = {"logits": torch.arange(10.0).view(2, 5, 1, 1).expand(2, 5, 2, 2)}
    assert obj.class_logit("logits", 3, "zebra")(spatial).tolist() == [3.0, 8.0]
    assert obj.class_logit("logits", 3, "zebra").name == "class(zebra)"


def test_algebra_unions_taps_and_combines_scores():
    a = _activations()
    first, second = obj.layer_l2("a"), obj.channel("b", 2)
    combined = 0.7 * first + second * 0.3
    assert combined.taps == ("a", "b")
    assert torch.allclose(combined(a), 0.7 * first(a) + 0.3 * second(a))
    assert (first + first).taps == ("a",)
    assert torch.allclose((first - second)(a), first(a) - second(a))
    assert torch.allclose((-first)(a), -first(a))
    assert combined.name == "0.7 * l2(a) + 0.3 * channel(b, 2)"


def test_total_sums_and_keeps_tap_order():
    a = _activations()
    parts = [obj.channel("b", 0), obj.layer_l2("a"), obj.channel("b", 1)]
    combined = obj.total(parts)
    assert combined.taps == ("b", "a")
    assert torch.allclose(combined(a), sum(p(a) for p in parts))


def test_guide_picks_best_matching_guide_feature():
    guide_features = torch.tensor([[1.0, 0.0], [0.0, 2.0]]).view(1, 2, 1, 2)  # two guide positions
    x = torch.tensor([[3.0, 1.0], [0.0, 1.0]]).view(1, 2, 1, 2)  # (C=2, N=2)
    # Position 0 (3, 0) matches guide (1, 0) -> 3; position 1 (1, 1) matches (0, 2) -> 2. Mean 2.5.
    assert obj.guide("g", guide_features)({"g": x}).tolist() == [2.5]


def test_guide_gradcheck():
    generator = torch.Generator().manual_seed(0)
    guide_features = torch.randn(1, 3, 2, 2, generator=generator, dtype=torch.float64)
    x = torch.randn(2, 3, 2, 3, generator=generator, dtype=torch.float64, requires_grad=True)
    objective = obj.guide("g", guide_features)
    assert torch.autograd.gradcheck(lambda t: objective({"g": t}), (x,))


@pytest.mark.parametrize(
    "make",
    [
        lambda net: obj.layer_l2("conv3"),
        lambda net: obj.channel("conv2", 1),
        lambda net: obj.class_logit("logits", 2),
        lambda net: obj.guide("conv2", _guide_features(net)),
        lambda net: 0.5 * obj.layer_l2("conv1") + obj.channel("conv3", 0),
    ],
    ids=["layer_l2", "channel", "class_logit", "guide", "sum"],
)
def test_objective_rises_within_3_steps(tiny_net, tiny_image, make):
    _rises_in_3_steps(tiny_net, tiny_image, make(tiny_net))


def _guide_features(net) -> torch.Tensor:
    guide_image = torch.rand(1, 3, 12, 12, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        return net(guide_image, ["conv2"])["conv2"]


@pytest.mark.slow
def test_class_logit_rises_with_real_weights(lite0):
    net = lite0.net
    photo = torch.from_numpy(data.coffee()).permute(2, 0, 1)[None].float() / 255
    image = F.interpolate(photo, size=(128, 128), mode="bilinear", antialias=True).clamp(0, 1)
    objective = obj.class_logit("logits", class_index(net.labels, "banana"), "banana")
    _rises_in_3_steps(net, image, objective, step_size=1.5)
