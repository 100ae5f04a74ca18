import dataclasses

import pytest
import torch
from torchvision.models import get_weight

from dream.errors import NameChoiceError, WeightsError
from dream.models import efficientnet_lite, torchvision_nets
from dream.models import registry as R
from dream.models.base import TapNet
from dream.models.weights import cache_dir


@pytest.fixture
def unreachable_places365(monkeypatch, tmp_path):
    """googlenet_places365 whose URL points at a file that doesn't exist."""
    entry = R.MODELS["googlenet_places365"]
    url = (tmp_path / "offline" / "googlenet_places365.pth").as_uri()
    moved = dataclasses.replace(entry, weights=dataclasses.replace(entry.weights, location=url))
    monkeypatch.setitem(R.MODELS, entry.name, moved)
    return url


@pytest.mark.slow
@pytest.mark.parametrize("name", list(R.MODELS))
def test_every_model_builds_and_its_dream_layer_resolves(name):
    entry = R.MODELS[name]
    net = entry.build()
    assert net.resolve(entry.dream_layer) in net.taps
    assert list(net.body.state_dict())


def test_dream_layers_agree_with_the_builders():
    for module in (efficientnet_lite, torchvision_nets):
        for name, layer in module.DREAM_LAYER.items():
            assert R.MODELS[name].dream_layer == layer, name


def test_unknown_model_lists_choices():
    with pytest.raises(NameChoiceError, match="Did you mean: .*vgg16"):
        R.get_entry("vgg61")


def test_load_efficientnet_lite0_offline(torch_home):
    loaded = R.load_model("efficientnet_lite0")
    record, net = loaded.record, loaded.net
    assert record["model"] == record["requested_model"] == "efficientnet_lite0"
    assert record["fallback"] is False
    assert record["weights_source"] == "package"
    assert len(record["weights_sha256"]) == 64
    assert record["preprocess"]["channel_order"] == "RGB"
    assert not net.training
    assert not any(p.requires_grad for p in net.parameters())
    assert not (torch_home / "hub").exists()  # nothing downloaded or cached


def test_fallback_is_announced_and_recorded(torch_home, unreachable_places365):
    warnings = []
    loaded = R.load_model("googlenet_places365", fallback="efficientnet_lite0", warn=warnings.append)
    assert len(warnings) == 1 and "FALLBACK" in warnings[0] and "efficientnet_lite0" in warnings[0]
    assert unreachable_places365 in warnings[0]
    assert loaded.record["fallback"] is True
    assert loaded.record["requested_model"] == "googlenet_places365"
    assert loaded.record["model"] == loaded.entry.name == "efficientnet_lite0"
    assert unreachable_places365 in loaded.record["fallback_reason"]


def test_without_fallback_the_weights_error_names_the_url_and_cache(torch_home, unreachable_places365):
    with pytest.raises(WeightsError) as info:
        R.load_model("googlenet_places365", warn=pytest.fail)
    assert unreachable_places365 in str(info.value)
    assert str(cache_dir() / "googlenet_places365.pth") in str(info.value)


def test_local_weights_file(torch_home, tmp_path):
    reference = R.MODELS["googlenet_places365"].build()
    path = tmp_path / "my_places.pth"
    torch.save(reference.body.state_dict(), path)
    loaded = R.load_model("googlenet_places365", weights=str(path))
    assert loaded.record["weights_source"] == "local file"
    assert loaded.record["weights_file"] == str(path)
    assert loaded.record["fallback"] is False
    _assert_runs_like(loaded, reference)


def test_local_weights_of_another_model_are_refused(torch_home, tmp_path):
    path = tmp_path / "lite0.pth"
    torch.save(R.MODELS["efficientnet_lite0"].build().body.state_dict(), path)
    with pytest.raises(WeightsError, match="does not fit model 'googlenet_places365'"):
        R.load_model("googlenet_places365", weights=str(path))


@pytest.mark.slow
def test_torchvision_weights_come_from_the_cache(torch_home, monkeypatch):
    def no_download(url, *args, **kwargs):
        raise AssertionError(f"tried to download {url}")

    monkeypatch.setattr(torch.hub, "download_url_to_file", no_download)
    entry = R.MODELS["googlenet"]
    url = get_weight(entry.weights.location).url
    cached = cache_dir() / url.rsplit("/", 1)[-1]
    assert R.default_weights_path(entry) == cached
    cached.parent.mkdir(parents=True)
    reference = entry.build()
    torch.save(reference.body.state_dict(), cached)
    loaded = R.load_model("googlenet")
    assert loaded.record["weights_file"] == str(cached)
    assert loaded.record["weights_source"] == "torchvision"
    _assert_runs_like(loaded, reference)


def _assert_runs_like(loaded: R.LoadedModel, reference: TapNet) -> None:
    """The loaded net computes what the net its weights were saved from computes (however the loader
    rearranges the weights)."""
    reference.eval()
    image = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    layer = loaded.entry.dream_layer
    with torch.no_grad():
        expected, got = reference(image, [layer])[layer], loaded.net(image, [layer])[layer]
    assert torch.allclose(got, expected, rtol=1e-3, atol=1e-4 * expected.abs().max().item())
