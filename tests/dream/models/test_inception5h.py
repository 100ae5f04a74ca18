"""inception5h against its spec: exact weight-file keys, TF names, "SAME" padding, TF LRN, labels."""

import json
import math

import pytest
import torch
import torch.nn.functional as F
from torchvision.models._meta import _IMAGENET_CATEGORIES

from dream.errors import NameChoiceError
from dream.models.inception5h import DREAM_LAYER, build_inception5h, pad_same, same_pads, tf_lrn
from tests.dream.models.test_googlenet_caffe import (
    SPECS,
    all_layers_at_224,
    assert_body_matches_spec,
    assert_spec_layers_are_taps,
    load_spec,
    load_through_file,
)


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    """(net with random weights loaded from a file, its spec, the loaded state_dict, all taps at 224 px)."""
    spec = load_spec("inception5h")
    net = build_inception5h().eval()
    state = load_through_file(net.body, spec, tmp_path_factory.mktemp("inception5h"))
    return net, spec, state, all_layers_at_224(net)


def test_state_dict_keys_shapes_and_order_equal_the_weights_file(loaded):
    net, spec, state, _ = loaded
    assert_body_matches_spec(net.body, spec)
    key = "mixed4d_3x3_bottleneck_pre_relu_conv.weight"
    assert torch.equal(net.body.state_dict()[key], state[key])


def test_every_spec_layer_is_a_tap_with_its_channels_size_and_caffe_alias(loaded):
    net, spec, _, out = loaded
    assert_spec_layers_are_taps(net, spec, out)
    for layer in spec["layers"]:
        if "caffe_alias" in layer:
            assert net.resolve(layer["caffe_alias"]) == layer["name"]


def test_pre_relu_taps_are_the_conv_outputs(loaded):
    net, _, _, out = loaded
    for name in ("conv2d0", "mixed3a_1x1", "mixed4d_3x3_bottleneck", "mixed5b_pool_reduce"):
        pre = out[f"{name}_pre_relu"]
        assert pre.min() < 0, name
        torch.testing.assert_close(out[name], F.relu(pre))
    with torch.no_grad():
        conv = net.body.mixed3a_3x3_bottleneck_pre_relu_conv(out["maxpool1"])
    torch.testing.assert_close(out["mixed3a_3x3_bottleneck_pre_relu"], conv)


def test_logits_and_softmax(loaded):
    net, _, _, out = loaded
    assert net.logits_tap == "softmax2_pre_activation"
    assert net.resolve("logits") == net.resolve("softmax2_pre_activation_matmul") == net.logits_tap
    assert out["softmax2_pre_activation"].shape == (1, 1008)
    torch.testing.assert_close(out["softmax2"], out["softmax2_pre_activation"].softmax(1))


def test_forward_stops_at_the_deepest_requested_tap():
    net = build_inception5h().eval()

    def refuse(*_):
        raise RuntimeError("ran past the requested tap")

    handle = net.body.mixed5b_1x1_pre_relu_conv.register_forward_hook(refuse)
    image = torch.rand(1, 3, 96, 96)
    with torch.no_grad():
        assert net(image, ["conv2d0"])["conv2d0"].shape == (1, 64, 48, 48)
        net(image, ["mixed5a"])
        with pytest.raises(RuntimeError, match="ran past"):
            net(image, ["mixed5b"])
    handle.remove()


@pytest.mark.parametrize("height, width", [(157, 211), (225, 64)])
def test_odd_sizes_halve_with_ceil_like_tf(height, width):
    net = build_inception5h().eval()
    names = ["conv2d0", "maxpool0", "maxpool1", "maxpool4", "maxpool10"]
    with torch.no_grad():
        out = net(torch.rand(1, 3, height, width), [*names, "logits"])
    for i, name in enumerate(names, start=1):
        assert out[name].shape[2:] == (math.ceil(height / 2**i), math.ceil(width / 2**i)), name
    assert out["logits"].shape == (1, 1008)


def test_same_pads_follow_tf():
    assert same_pads(13, 6, 5) == (1, 2)  # the worked example of TF's padding documentation
    assert same_pads(224, 7, 2) == (2, 3)  # extra pixel after (the old port's fixed pad at 224)
    assert same_pads(225, 7, 2) == (3, 3)
    assert same_pads(56, 3, 2) == (0, 1)
    assert same_pads(57, 3, 2) == (1, 1)
    assert same_pads(5, 3, 1) == (1, 1)
    assert same_pads(2, 1, 2) == (0, 0)
    assert pad_same(torch.ones(1, 1, 4, 5), 3, 2, value=-1.0)[0, 0, :, 0].tolist() == [-1.0] * 5


def centred_then_strided(x, op, kernel):
    """Reference: a stride-2 TF "SAME" layer is the centred stride-1 layer sampled at every 2nd position.

    TF puts the odd pad pixel after, so on an even size the samples start one pixel later.
    """
    full = op(x, kernel // 2)
    start_h, start_w = 1 - x.shape[-2] % 2, 1 - x.shape[-1] % 2
    return full[..., start_h::2, start_w::2]


@pytest.mark.parametrize("height, width", [(9, 12), (10, 13), (11, 11)])
def test_stride_2_layers_match_tf_same_reference(height, width):
    net = build_inception5h().eval()
    image = torch.rand(1, 3, height, width, generator=torch.Generator().manual_seed(height))
    with torch.no_grad():
        out = net(image, ["conv2d0_pre_relu", "conv2d0", "maxpool0"])
        conv = net.body.conv2d0_pre_relu_conv
        expected_conv = centred_then_strided(
            net.preprocess(image), lambda x, p: F.conv2d(x, conv.weight, conv.bias, padding=p), 7
        )
        expected_pool = centred_then_strided(out["conv2d0"], lambda x, p: F.max_pool2d(x, 3, 1, padding=p), 3)
    torch.testing.assert_close(out["conv2d0_pre_relu"], expected_conv)
    torch.testing.assert_close(out["maxpool0"], expected_pool)


def tf_lrn_reference(x: torch.Tensor) -> torch.Tensor:
    """TF: x / (bias + alpha * sum over channels c-5..c+5 of x^2)^beta, bias 2, alpha 1e-4, beta 0.5."""
    channels = x.shape[1]
    out = torch.empty_like(x)
    for c in range(channels):
        window = x[:, max(0, c - 5) : min(channels, c + 6)].pow(2).sum(1)
        out[:, c] = x[:, c] / (2.0 + 9.999999747378752e-05 * window).pow(0.5)
    return out


def test_lrn_matches_the_tf_formula():
    x = torch.randn(2, 64, 6, 5, generator=torch.Generator().manual_seed(0)).double() * 200
    expected = tf_lrn_reference(x)
    assert ((tf_lrn(x) - expected).abs() / expected.abs()).max() < 1e-5
    older_ports = F.local_response_norm(x, 9, 9.99999974738e-05, 0.5, 1.0)
    assert ((older_ports - expected).abs() / expected.abs()).max() > 1e-2


def test_lrn_layers_of_the_net_use_tf_lrn(loaded):
    _, _, _, out = loaded
    torch.testing.assert_close(out["localresponsenorm0"], tf_lrn_reference(out["maxpool0"]))


def test_unknown_layer_lists_the_valid_names():
    net = build_inception5h()
    with pytest.raises(NameChoiceError) as info:
        net.resolve("mixed4z")
    assert info.value.choices == list(net.taps)
    assert "mixed4c" in str(info.value)


def test_aliases():
    net = build_inception5h()
    for alias in ("4c", "inception4c", "inception_4c", "inception_4c/output"):
        assert net.resolve(alias) == "mixed4c"
    assert net.resolve("4d/3x3_reduce") == "mixed4d_3x3_bottleneck"
    assert net.resolve("pool5/7x7_s1") == "avgpool0"
    assert DREAM_LAYER in net.taps
    assert not set(net.aliases) & set(net.taps)


def test_preprocess_is_rgb_times_255_minus_117():
    image = torch.tensor([0.0, 0.5, 1.0]).view(1, 3, 1, 1)
    torch.testing.assert_close(build_inception5h().preprocess(image).flatten(), torch.tensor([-117.0, 10.5, 138.0]))


def test_labels_place_torchvision_names_in_inception5h_order():
    labels = build_inception5h().labels
    index_map = json.loads((SPECS / "labels.json").read_text())["caffe_index_to_inception5h_index"]
    assert len(labels) == 1008 and labels[0] == "dummy"
    assert [labels[i] for i in index_map] == list(_IMAGENET_CATEGORIES)
    assert labels[1001:] == [f"unused_{i}" for i in range(1001, 1008)]
    assert labels[323] == "banana"


def test_gradient_reaches_the_input_through_padded_pools():
    net = build_inception5h().eval()
    image = torch.rand(1, 3, 67, 93, requires_grad=True)
    out = net(image, ["mixed4c", "logits"])
    (out["mixed4c"].pow(2).sum() + out["logits"][0, 323]).backward()
    assert torch.isfinite(image.grad).all() and image.grad.abs().sum() > 0
