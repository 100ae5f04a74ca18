"""The Caffe GoogLeNets against their specs: exact weight-file keys, taps, sizes, preprocessing."""

import json
import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torchvision.models._meta import _IMAGENET_CATEGORIES

from dream.errors import NameChoiceError
from dream.models import googlenet_caffe
from dream.models.googlenet_caffe import (
    DREAM_LAYER,
    build_bvlc_googlenet,
    build_googlenet_places205,
    build_googlenet_places365,
)

SPECS = Path(__file__).parents[2] / "model_specs"

BUILDERS = {
    "bvlc_googlenet": build_bvlc_googlenet,
    "googlenet_places205": build_googlenet_places205,
    "googlenet_places365": build_googlenet_places365,
}


def load_spec(name: str) -> dict:
    return json.loads((SPECS / f"{name}.json").read_text())


def random_state_dict(spec: dict, seed: int = 0) -> dict[str, torch.Tensor]:
    """A state_dict with the spec's keys and shapes; weights scaled by 1/sqrt(fan_in) so activations stay finite."""
    generator = torch.Generator().manual_seed(seed)
    state = {}
    for key, shape in spec["state_dict"]:
        scale = math.prod(shape[1:]) ** -0.5 if len(shape) > 1 else 0.1
        state[key] = torch.randn(shape, generator=generator) * scale
    return state


def load_through_file(body: torch.nn.Module, spec: dict, tmp_path: Path) -> dict[str, torch.Tensor]:
    """Save a random state_dict as a weights file and load it the way the real file is loaded."""
    path = tmp_path / f"{spec['name']}.pth"
    torch.save(random_state_dict(spec), path)
    state = torch.load(path, weights_only=True)
    body.load_state_dict(state, strict=True)
    return state


def assert_body_matches_spec(body: torch.nn.Module, spec: dict) -> None:
    """The body's state_dict lists the weights file's keys, in its order, with its shapes."""
    assert list(body.state_dict()) == [key for key, _ in spec["state_dict"]]
    assert [list(t.shape) for t in body.state_dict().values()] == [shape for _, shape in spec["state_dict"]]
    assert sum(p.numel() for p in body.parameters()) == spec["num_params"]


def assert_spec_layers_are_taps(net, spec: dict, out: dict[str, torch.Tensor]) -> None:
    """Every spec layer is a tap, in spec order, with the spec's channels and 224 px size."""
    spec_names = [layer["name"] for layer in spec["layers"]]
    assert [name for name in net.taps if name in spec_names] == spec_names
    for layer in spec["layers"]:
        activation = out[layer["name"]]
        assert net.channels[layer["name"]] == layer["channels"] == activation.shape[1], layer["name"]
        assert list(activation.shape[2:]) == layer["hw_at_224"], layer["name"]
        assert torch.isfinite(activation).all(), layer["name"]


def all_layers_at_224(net) -> dict[str, torch.Tensor]:
    """Every tap of ``net`` from one forward of a 1x3x224x224 image."""
    with torch.no_grad():
        return net(torch.rand(1, 3, 224, 224, generator=torch.Generator().manual_seed(1)), list(net.taps))


@pytest.fixture(scope="module", params=list(BUILDERS))
def loaded(request, tmp_path_factory):
    """(net with random weights loaded from a file, its spec, the loaded state_dict, all taps at 224 px)."""
    spec = load_spec(request.param)
    net = BUILDERS[request.param]().eval()
    state = load_through_file(net.body, spec, tmp_path_factory.mktemp(request.param))
    return net, spec, state, all_layers_at_224(net)


def test_state_dict_keys_shapes_and_order_equal_the_weights_file(loaded):
    net, spec, _, _ = loaded
    assert_body_matches_spec(net.body, spec)


def test_weights_file_loads_strictly_into_the_body(loaded):
    net, _, state, _ = loaded
    assert torch.equal(net.body.inception_4c_3x3.weight, state["inception_4c_3x3.weight"])
    assert torch.equal(net.body.loss2_classifier_1.bias, state["loss2_classifier_1.bias"])


def test_every_spec_layer_is_a_tap_with_its_channels_and_size(loaded):
    net, spec, _, out = loaded
    assert_spec_layers_are_taps(net, spec, out)


def test_aux_classifiers_give_class_scores(loaded):
    net, spec, _, out = loaded
    assert net.logits_tap == "loss2/classifier"
    assert out["loss1/classifier"].shape == out["loss2/classifier"].shape == (1, spec["num_classes"])
    assert not torch.allclose(out["loss1/classifier"], out["loss2/classifier"])


def test_branch_taps_are_post_relu_views_of_the_hooked_convs(loaded):
    net, spec, _, out = loaded
    with torch.no_grad():
        conv = net.body.inception_3a_3x3_reduce(out["pool2/3x3_s2"])
    assert conv.min() < 0
    torch.testing.assert_close(out["inception_3a/3x3_reduce"], F.relu(conv))
    torch.testing.assert_close(out["inception_3a/pool"], F.max_pool2d(out["pool2/3x3_s2"], 3, 1, 1))


def test_forward_stops_at_the_deepest_requested_tap():
    net = build_bvlc_googlenet().eval()

    def refuse(*_):
        raise RuntimeError("ran past the requested tap")

    handles = [
        net.body.get_submodule(name).register_forward_hook(refuse) for name in ("inception_5b_1x1", "loss1_conv")
    ]
    image = torch.rand(1, 3, 96, 96)
    with torch.no_grad():
        assert net(image, ["conv1/7x7_s2"])["conv1/7x7_s2"].shape == (1, 64, 48, 48)
        net(image, ["inception_4e/output", "loss2/classifier"])  # aux head 1 is a side branch: not run
        with pytest.raises(RuntimeError, match="ran past"):
            net(image, ["inception_5b/output"])
    for handle in handles:
        handle.remove()


def caffe_size(size: int) -> list[int]:
    """Sizes after conv1 and the four ceil-mode stride-2 max pools, from Caffe's formulas."""
    sizes = [(size + 2 * 3 - 7) // 2 + 1]
    for _ in range(4):
        sizes.append(math.ceil((sizes[-1] - 3) / 2) + 1)
    return sizes


@pytest.mark.parametrize("height, width", [(157, 211), (64, 64), (225, 97)])
def test_odd_and_small_input_sizes_follow_caffe_pooling(height, width):
    net = build_googlenet_places365().eval()
    names = ["conv1/7x7_s2", "pool1/3x3_s2", "pool2/3x3_s2", "pool3/3x3_s2", "pool4/3x3_s2"]
    with torch.no_grad():
        out = net(torch.rand(1, 3, height, width), [*names, "pool5/7x7_s1", "logits", "loss1/classifier"])
    for name, h, w in zip(names, caffe_size(height), caffe_size(width)):
        assert out[name].shape[2:] == (h, w), name
    assert out["logits"].shape == out["loss1/classifier"].shape == (1, 365)
    assert out["pool5/7x7_s1"].shape[:2] == (1, 1024)


def test_unknown_layer_lists_the_valid_names():
    net = build_bvlc_googlenet()
    with pytest.raises(NameChoiceError) as info:
        net(torch.rand(1, 3, 64, 64), ["inception_4c/outptu"])
    assert info.value.choices == list(net.taps)
    assert "Did you mean: inception_4c/output" in str(info.value)


def test_short_aliases_resolve_to_caffe_names():
    net = build_bvlc_googlenet()
    for alias in ("4c", "inception4c", "inception_4c", "4c/output", "inception4c/output"):
        assert net.resolve(alias) == "inception_4c/output"
    assert net.resolve("4d/3x3_reduce") == "inception_4d/3x3_reduce"
    assert net.resolve("logits") == "loss2/classifier"
    assert DREAM_LAYER in net.taps
    assert not set(net.aliases) & set(net.taps)


def test_preprocess_is_bgr_times_256_minus_the_model_mean():
    for name, build in BUILDERS.items():
        mean_bgr = load_spec(name)["input_convention"]["neural_dream"]["mean_subtracted_bgr"]
        image = torch.tensor([0.25, 0.5, 1.0]).view(1, 3, 1, 1)  # RGB
        expected = torch.tensor([256.0, 128.0, 64.0]) - torch.tensor(mean_bgr)
        torch.testing.assert_close(build().preprocess(image).flatten(), expected)


def test_labels_follow_torchvision_and_places_lists():
    labels = json.loads((SPECS / "labels.json").read_text())
    assert build_bvlc_googlenet().labels == list(_IMAGENET_CATEGORIES)
    assert build_googlenet_places205().labels == labels["places205"]
    assert build_googlenet_places365().labels == labels["places365"]


def test_lrn_matches_the_caffe_formula():
    x = torch.rand(2, 16, 5, 5, generator=torch.Generator().manual_seed(0)) * 300
    squares = F.pad(x.pow(2), (0, 0, 0, 0, 2, 2))
    window_sum = sum(squares[:, c : c + 16] for c in range(5))
    expected = x / (1 + 1e-4 / 5 * window_sum).pow(0.75)
    actual = googlenet_caffe.caffe_lrn(x)
    assert ((actual - expected).abs() / expected.abs()).max() < 1e-5


def test_gradient_reaches_the_input():
    net = googlenet_caffe.build_googlenet_places205().eval()
    image = torch.rand(1, 3, 67, 93, requires_grad=True)
    out = net(image, ["inception_4c/output", "logits"])
    (out["inception_4c/output"].pow(2).sum() + out["logits"][0, 3]).backward()
    assert torch.isfinite(image.grad).all() and image.grad.abs().sum() > 0

