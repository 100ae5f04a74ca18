import pytest
import torch
import torchvision.models as tvm
from torchvision.models._meta import _IMAGENET_CATEGORIES

from dream.models import torchvision_nets as T
from dream.models.base import Preprocess, freeze

NAMES = list(T.BUILDERS)
EARLY_TAP = {
    "googlenet": "conv3",
    "inception_v3": "Conv2d_4a_3x3",
    "vgg16": "conv2_1",
    "vgg19": "conv2_1",
    "resnet50": "layer1.1",
    "mobilenet_v2": "features.3",
}
ALIASES = {
    "googlenet": {"inception_4c/output": "inception4c", "inception_4c": "inception4c", "conv2/3x3": "conv3"},
    "inception_v3": {"mixed0": "Mixed_5b", "mixed10": "Mixed_7c"},
    "vgg16": {"relu4_3": "conv4_3", "features.22": "conv4_3", "features.30": "pool5"},
    "vgg19": {"relu4_4": "conv4_4", "features.26": "conv4_4", "features.36": "pool5"},
    "resnet50": {"layer3.5": "layer3", "layer4.2": "layer4"},
    "mobilenet_v2": {},
}


def _reference(name: str, device: str = "cpu") -> torch.nn.Module:
    """The model as torchvision's own builder makes it before loading weights (aux heads included)."""
    kwargs = {"aux_logits": True, "init_weights": False} if name in ("googlenet", "inception_v3") else {}
    with torch.device(device):
        return tvm.get_model(name, weights=None, **kwargs)


@pytest.fixture(scope="module", params=NAMES)
def net(request):
    return request.param, freeze(T.BUILDERS[request.param]())


@pytest.fixture(scope="module")
def image():
    return torch.rand(1, 3, 128, 128, generator=torch.Generator().manual_seed(0))


def test_tables_cover_every_model():
    assert set(T.TORCHVISION_WEIGHTS) == set(T.DREAM_LAYER) == set(T.BUILDERS) == set(EARLY_TAP) == set(ALIASES)


def test_every_tap_has_its_listed_channels(net, image):
    name, model = net
    with torch.no_grad():
        out = model(image, list(model.taps))
    for tap, activation in out.items():
        assert activation.shape[:2] == (1, model.taps[tap].channels), tap
    assert out["logits"].shape == (1, 1000)
    assert model.labels == list(_IMAGENET_CATEGORIES) and model.logits_tap == "logits"
    assert model.resolve(T.DREAM_LAYER[name]) in model.taps


def test_stages_reproduce_the_torchvision_forward(net, image):
    _, model = net
    with torch.no_grad():
        ours = model(image, ["logits"])["logits"]
        theirs = model.body(model.preprocess(image))
    # oneDNN may pick other kernels for the same convs; random logits reach ~100.
    torch.testing.assert_close(ours, theirs, rtol=1e-4, atol=1e-5 * theirs.abs().max().item())


def test_forward_stops_at_the_deepest_requested_tap(net, image):
    name, model = net
    last = list(model.body.children())[-1]  # the final classifier layer of every torchvision model
    calls = []
    handle = last.register_forward_hook(lambda *_: calls.append(1))
    try:
        with torch.no_grad():
            model(image, [EARLY_TAP[name]])
    finally:
        handle.remove()
    assert calls == []


def test_later_stages_leave_earlier_taps_intact(net, image):
    name, model = net
    early, dream = EARLY_TAP[name], T.DREAM_LAYER[name]
    with torch.no_grad():
        alone = model(image, [early])[early]
        together = model(image, [early, dream])[early]
    torch.testing.assert_close(alone, together)


def test_body_keys_and_shapes_equal_torchvision_weights_layout(net):
    name, model = net
    reference = _reference(name, device="meta")  # no memory, no init: only keys and shapes
    expected = {k: v.shape for k, v in reference.state_dict().items()}
    assert {k: v.shape for k, v in model.body.state_dict().items()} == expected


@pytest.mark.parametrize("name", ["googlenet", "inception_v3"])
def test_aux_head_state_dict_loads_strictly(name):
    model = T.BUILDERS[name]()
    model.body.load_state_dict(_reference(name).state_dict(), strict=True)


@pytest.mark.parametrize("name", ["googlenet", "inception_v3"])
def test_preprocess_equals_torchvision_transform_input(name):
    reference = tvm.get_model(name, weights=None, aux_logits=True, init_weights=False, transform_input=True)
    image = torch.rand(2, 3, 8, 8, generator=torch.Generator().manual_seed(1))
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    torch.testing.assert_close(Preprocess(**T.TF_PREPROCESS)(image), reference._transform_input((image - mean) / std))


@pytest.mark.parametrize("name", NAMES)
def test_weights_names_resolve_offline(name):
    weights = tvm.get_weight(T.TORCHVISION_WEIGHTS[name])
    assert weights in list(tvm.get_model_weights(name))
    assert weights.meta["categories"] == list(_IMAGENET_CATEGORIES)


def test_aliases_name_the_expected_taps(net):
    name, model = net
    for alias, tap in ALIASES[name].items():
        assert model.resolve(alias) == tap
