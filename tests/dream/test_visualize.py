"""Dreams from noise: target parsing, the optimisation, diversity and zoom starts."""


import pytest
import torch

from dream.errors import NameChoiceError, UserError
from dream.models.base import TapNet
from dream.objectives import Objective
from dream.visualize import (
    ALPHA_EDGES,
    LEARNING_RATES,
    Detail,
    Robustness,
    Visualization,
    class_start_image,
    diversity_tap,
    find_target,
    gram_similarity,
    optimised_size,
    parse_target,
    top_classes,
    total_steps,
    visualize,
)

CPU = torch.device("cpu")


TINY_CROPS = Robustness(crops=3, crop_range=(0.5, 1.0), crop_size=12, noise=0.02)
TINY_LUCID = Robustness(crops=0, jitter=2, scales=(1.0, 1.05), rotate_degrees=5.0)


def dream(net: TapNet, target: str = "banana", **kwargs) -> torch.Tensor:
    return visualization(net, target, **kwargs).images


def visualization(net: TapNet, target: str = "banana", **kwargs) -> Visualization:
    settings = {"size": 16, "steps": 20, "parameterization": "maco", "robust": TINY_CROPS}
    settings.update(kwargs)
    if settings["parameterization"] != "maco":
        settings = {"lr": 0.1, "robust": TINY_LUCID} | settings
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


@pytest.mark.parametrize("parameterization", ["maco", "fourier", "pixel"])
@pytest.mark.parametrize("target", ["banana", "conv3:2"])
def test_the_objective_rises(tiny_net, parameterization, target):
    before = score(tiny_net, target, dream(tiny_net, target, steps=0, parameterization=parameterization))
    after = score(tiny_net, target, dream(tiny_net, target, steps=20, parameterization=parameterization))
    assert after.item() > before.item() + 0.1


@pytest.mark.parametrize("parameterization", ["maco", "fourier", "pixel"])
def test_shape_range_and_determinism(tiny_net, parameterization):
    result = visualization(tiny_net, size=(12, 20), batch=2, steps=3, parameterization=parameterization)
    assert result.images.shape == (2, 3, 12, 20) and result.importance.shape == (2, 1, 12, 20)
    assert 0 <= result.images.min() and result.images.max() <= 1
    assert 0 <= result.importance.min() and result.importance.max() <= 1
    assert not result.images.requires_grad
    again = visualization(tiny_net, size=(12, 20), batch=2, steps=3, parameterization=parameterization)
    assert torch.equal(result.images, again.images)


def test_an_ensemble_raises_every_networks_objective(tiny_net):
    from tests.conftest import make_tiny_net

    other = make_tiny_net(seed=1)
    nets = [tiny_net, other]
    objectives = [parse_target(net, "banana") for net in nets]
    before = visualize(nets, objectives, size=16, steps=0, robust=TINY_CROPS, generator=torch.Generator(), device=CPU)
    after = visualize(nets, objectives, size=16, steps=20, robust=TINY_CROPS, generator=torch.Generator(), device=CPU)
    for net in nets:
        assert score(net, "banana", after.images).item() > score(net, "banana", before.images).item() + 0.1


def test_importance_is_where_the_gradient_went(tiny_net):
    # A channel read only at the image's left edge: the right half never gets a gradient.
    left = Objective(("conv1",), lambda a: a["conv1"][:, 0, :, :3].mean((1, 2)), "left edge")
    result = visualize(
        tiny_net, left, size=(16, 32), steps=3, robust=Robustness(crops=0, jitter=0, scales=(1.0,), rotate_degrees=0),
        generator=torch.Generator(), device=CPU,
    )  # fmt: skip
    assert result.importance[..., :4].mean() > 5 * result.importance[..., 20:].mean()


def test_fading_keeps_important_pixels_and_greys_the_rest():
    images = torch.ones(1, 3, 2, 2)
    importance = torch.tensor([[[[1.0, 0.0], [0.5, 0.0]]]])
    faded = Visualization(images, importance).faded(1.0)
    assert faded[0, 0].tolist() == [[1.0, 0.5], [0.75, 0.5]]
    assert torch.equal(Visualization(images, importance).faded(0.0), images)


def test_each_parameterisation_has_a_learning_rate():
    assert set(LEARNING_RATES) == {"maco", "fourier", "pixel"}


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
    # Two crops per image, image-major: the crops of one image are averaged, not compared.
    crops = torch.cat([apart[:1], apart[:1], apart[1:], apart[1:]])
    assert torch.isclose(gram_similarity(crops, images=2), torch.tensor(0.0))


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


@pytest.mark.parametrize("target", ["zebra", "conv2:1"])
def test_class_start_image_has_the_frame_size(tiny_net, target):
    from tests.conftest import make_tiny_net

    nets = [tiny_net, make_tiny_net(seed=1)]
    image = class_start_image(
        nets, target, 18, 32, torch.Generator().manual_seed(0), CPU, steps=2, size=12, robust=TINY_CROPS
    )
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
        net, parse_target(net, "banana"), size=96, steps=24, parameterization="fourier", robust=TINY_LUCID,
        lr=0.05, generator=torch.Generator().manual_seed(0), device=CPU,
    ).images
    label, probability = top_classes(net, images)[0][0]
    assert label == "banana" and probability > 0.5


def test_detail_stages_only_above_the_coarse_size_and_only_for_maco():
    detail = Detail(coarse_size=320, steps=48)
    assert detail.stages(320, 480, "maco") == [(320, 480)]
    assert detail.stages(1024, 1024, "maco") == [(320, 320), (1024, 1024)]
    assert detail.stages(1024, 1024, "fourier") == [(1024, 1024)]
    assert Detail(coarse_size=320, steps=0).stages(1024, 1024, "maco") == [(1024, 1024)]
    assert total_steps(128, 1024, "maco", detail) == 176 and total_steps(128, 320, "maco", detail) == 128


def test_finer_crops_keep_the_smallest_crop_in_pixels():
    assert Robustness(crop_range=(0.6, 1.0)).finer(0.5).crop_range == (0.3, 1.0)


def test_a_large_canvas_is_grown_from_a_small_one(tiny_net):
    seen = []
    result = visualization(tiny_net, size=24, steps=3, detail=Detail(coarse_size=12, steps=2), on_step=seen.append)
    assert seen == [0, 1, 2, 3, 4]
    assert result.images.shape == (1, 3, 24, 24) and result.importance.shape == (1, 1, 24, 24)
    assert result.importance.max() == 1


def test_alpha_is_a_soft_step_of_the_importance():
    importance = torch.tensor([0.0, ALPHA_EDGES[0], sum(ALPHA_EDGES) / 2, ALPHA_EDGES[1], 1.0]).reshape(1, 1, 1, 5)
    alpha = Visualization(torch.rand(1, 3, 1, 5), importance).alpha()
    assert alpha.flatten().tolist() == pytest.approx([0.0, 0.0, 0.5, 1.0, 1.0])


def test_calm_background_smooths_only_where_nothing_happens():
    generator = torch.Generator().manual_seed(0)
    images = torch.rand(1, 3, 64, 64, generator=generator)  # a loud mottle everywhere
    importance = torch.zeros(1, 1, 64, 64)
    importance[..., :, :32] = 1.0  # the object fills the left half
    picture = Visualization(images, importance).picture("calm")
    assert torch.equal(picture[..., :, :24], images[..., :, :24])
    right, loud = picture[..., :, 40:], images[..., :, 40:]
    assert (right[..., 1:] - right[..., :-1]).abs().mean() < 0.1 * (loud[..., 1:] - loud[..., :-1]).abs().mean()
    assert torch.equal(Visualization(images, importance).picture("keep"), images)


def test_an_unknown_background_lists_the_choices():
    with pytest.raises(UserError, match="calm"):
        Visualization(torch.rand(1, 3, 4, 4), torch.ones(1, 1, 4, 4)).picture("loud")


def test_class_start_image_is_the_picture_with_its_background_as_asked(tiny_net):
    def start(background):
        return class_start_image(tiny_net, "zebra", 12, 12, torch.Generator().manual_seed(0), CPU, steps=2, size=12,
                                 robust=TINY_CROPS, background=background)

    kept, calm = start("keep"), start("calm")
    assert not torch.equal(kept, calm)
    assert calm.std() < kept.std()  # the calm background is blurred and faded toward its mean colour
