"""Dreams from noise: target parsing, the optimisation, diversity and zoom starts."""


import pytest
import torch

from dream.errors import NameChoiceError, UserError
from dream.models.base import TapNet
from dream.visualize import (
    class_start_image,
    diversity_tap,
    find_target,
    gram_similarity,
    optimised_size,
    parse_target,
    top_classes,
    visualize,
)

CPU = torch.device("cpu")


def dream(net: TapNet, target: str = "banana", **kwargs) -> torch.Tensor:
    settings = {"size": 16, "steps": 20, "lr": 0.1, "jitter": 2, "scales": [1.0, 1.05], "rotate_degrees": 5.0}
    settings.update(kwargs)
    return visualize(net, parse_target(net, target), generator=torch.Generator().manual_seed(0), device=CPU, **settings)


def score(net: TapNet, target: str, images: torch.Tensor) -> torch.Tensor:
    objective = parse_target(net, target)
    with torch.no_grad():
        return objective(net(images, list(objective.taps)))


@pytest.mark.parametrize(
    "target, tap, index, is_class",
    [("banana", "logits", 0, True), ("Tiger Cat", "logits", 1, True), ("3", "logits", 3, True),
     ("conv2:5", "conv2", 5, False), ("c2:1", "conv2", 1, False), (" conv3 : 0 ", "conv3", 0, False)],
)  # fmt: skip
def test_find_target(tiny_net, target, tap, index, is_class):
    found = find_target(tiny_net, target)
    assert (found.tap, found.index, found.is_class) == (tap, index, is_class)


def test_parse_target_builds_the_objective(tiny_net):
    assert parse_target(tiny_net, "granny smith").name == "class(Granny Smith)"
    assert parse_target(tiny_net, "conv2:5").name == "channel(conv2, 5)"


def test_unknown_class_lists_close_matches(tiny_net):
    with pytest.raises(NameChoiceError, match="Did you mean: banana?"):
        parse_target(tiny_net, "bananna")


@pytest.mark.parametrize("target, label", [("bananas", "banana"), ("Coffee-Mugs", "coffee mug"), ("mug", "coffee mug"),
                                           ("granny", "Granny Smith"), ("felis", "tiger cat, Felis tigris")])
def test_class_names_match_forgivingly(tiny_net, target, label):
    assert find_target(tiny_net, target).label == label


def test_a_word_of_several_labels_lists_them(tiny_net):
    tiny_net.labels = ["great white shark", "tiger shark", "banana"]
    with pytest.raises(UserError, match=r"several labels: great white shark \(0\), tiger shark \(1\)"):
        parse_target(tiny_net, "shark")


def test_unknown_layer_lists_close_matches(tiny_net):
    with pytest.raises(NameChoiceError, match="Did you mean: conv2"):
        parse_target(tiny_net, "conv22:1")


def test_channel_out_of_range_names_the_range(tiny_net):
    with pytest.raises(UserError, match=r"0\.\.5"):
        parse_target(tiny_net, "conv2:6")


def test_class_of_a_model_without_labels_suggests_a_channel(tiny_net):
    tiny_net.labels = None
    with pytest.raises(UserError, match="LAYER:CHANNEL"):
        parse_target(tiny_net, "banana")


@pytest.mark.parametrize("parameterization", ["fourier", "pixel"])
@pytest.mark.parametrize("target", ["banana", "conv3:2"])
def test_the_objective_rises(tiny_net, parameterization, target):
    before = score(tiny_net, target, dream(tiny_net, target, steps=0, parameterization=parameterization))
    after = score(tiny_net, target, dream(tiny_net, target, steps=20, parameterization=parameterization))
    assert after.item() > before.item() + 0.1


def test_shape_range_and_determinism(tiny_net):
    images = dream(tiny_net, size=(12, 20), batch=2, steps=3)
    assert images.shape == (2, 3, 12, 20)
    assert 0 <= images.min() and images.max() <= 1
    assert not images.requires_grad
    assert torch.equal(images, dream(tiny_net, size=(12, 20), batch=2, steps=3))


def test_on_step_sees_every_step(tiny_net):
    seen = []
    dream(tiny_net, steps=4, on_step=seen.append)
    assert seen == [0, 1, 2, 3]


def test_gram_similarity():
    same = torch.rand(1, 4, 5, 5).expand(3, -1, -1, -1)
    assert torch.isclose(gram_similarity(same), torch.tensor(1.0))
    apart = torch.zeros(2, 2, 3, 3)
    apart[0, 0], apart[1, 1] = 1.0, 1.0
    assert torch.isclose(gram_similarity(apart), torch.tensor(0.0))


def test_diversity_tap(tiny_net):
    assert diversity_tap(tiny_net, parse_target(tiny_net, "conv2:1")) == "conv2"
    assert diversity_tap(tiny_net, parse_target(tiny_net, "banana")) == "conv2"  # 0.7 of the way to conv3


def test_diversity_pushes_batch_images_apart(tiny_net):
    def similarity(diversity: float) -> float:
        images = dream(tiny_net, batch=3, steps=10, diversity=diversity)
        with torch.no_grad():
            return gram_similarity(tiny_net(images, ["conv2"])["conv2"]).item()

    alike, diverse = similarity(0.0), similarity(50.0)
    assert diverse < alike - 0.2


def test_class_start_image_has_the_frame_size(tiny_net):
    image = class_start_image(tiny_net, "zebra", 18, 32, torch.Generator().manual_seed(0), CPU, steps=2, size=12)
    assert image.shape == (1, 3, 18, 32)


def test_optimised_size_keeps_the_aspect_ratio():
    assert optimised_size(360, 640, 224) == (224, 398)
    assert optimised_size(224, 224, 128) == (128, 128)


def test_top_classes(tiny_net, tiny_image):
    top = top_classes(tiny_net, tiny_image, k=3)
    assert len(top) == 1 and len(top[0]) == 3
    probabilities = [p for _, p in top[0]]
    assert probabilities == sorted(probabilities, reverse=True) and sum(probabilities) <= 1.0001
    assert {label for label, _ in top[0]} <= set(tiny_net.labels)


def test_real_network_sees_its_class(tmp_path):
    from dream.models.registry import load_model

    net = load_model("efficientnet_lite0", device=CPU).net
    images = visualize(
        net, parse_target(net, "banana"), size=96, steps=24, jitter=8, generator=torch.Generator().manual_seed(0),
        device=CPU,
    )
    label, probability = top_classes(net, images)[0][0]
    assert label == "banana" and probability > 0.5
