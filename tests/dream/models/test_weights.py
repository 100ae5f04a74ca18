import hashlib
import shutil
import subprocess

import pytest
import torch
from torch import nn

from dream.errors import WeightsError
from dream.models import weights as W


class Payload:
    """A custom class: unpickling it would run arbitrary code, so weights_only must refuse it."""


@pytest.fixture
def weights_file(tmp_path):
    path = tmp_path / "served" / "tiny-net.pth"
    path.parent.mkdir()
    torch.save(nn.Linear(3, 2).state_dict(), path)
    return path


def test_cache_dir_honours_torch_home(torch_home):
    assert W.cache_dir() == torch_home / "hub" / "checkpoints"
    expected = torch_home / "hub" / "checkpoints" / "net-1234abcd.pth"
    assert W.cache_path_for("https://x.org/a/b/net-1234abcd.pth") == expected


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_git_blob_sha1_equals_git_hash_object(weights_file):
    expected = subprocess.run(["git", "hash-object", str(weights_file)], capture_output=True, text=True, check=True)
    assert W.git_blob_sha1_of(weights_file) == expected.stdout.strip()


def test_git_blob_sha1_of_known_content(tmp_path):
    path = tmp_path / "hello.txt"
    path.write_bytes(b"hello\n")
    assert W.git_blob_sha1_of(path) == "ce013625030ba8dba906f756967f9e9ca394464a"


def test_sha256_of(weights_file):
    assert W.sha256_of(weights_file) == hashlib.sha256(weights_file.read_bytes()).hexdigest()


def test_torchvision_hash_prefix():
    assert W.torchvision_hash_prefix("https://download.pytorch.org/models/googlenet-1378be20.pth") == "1378be20"
    assert W.torchvision_hash_prefix("https://example.org/plain.pth") == ""


def test_load_state_dict_file_reads_tensors_and_unwraps_state_dict(tmp_path, weights_file):
    state = W.load_state_dict_file("tiny", weights_file)
    assert set(state) == {"weight", "bias"} and state["weight"].shape == (2, 3)
    wrapped = tmp_path / "wrapped.pth"
    torch.save({"state_dict": state, "epoch": 3}, wrapped)
    assert set(W.load_state_dict_file("tiny", wrapped)) == {"weight", "bias"}


def test_load_state_dict_file_refuses_pickled_code(tmp_path):
    path = tmp_path / "evil.pth"
    torch.save({"weight": torch.zeros(1), "payload": Payload()}, path)
    with pytest.raises(WeightsError, match="could not be read") as info:
        W.load_state_dict_file("tiny", path)
    assert str(path) in str(info.value)


def test_load_state_dict_file_missing_and_corrupt(tmp_path):
    missing = tmp_path / "missing.pth"
    with pytest.raises(WeightsError, match="does not exist") as info:
        W.load_state_dict_file("tiny", missing)
    assert str(missing) in str(info.value)
    corrupt = tmp_path / "corrupt.pth"
    corrupt.write_bytes(b"not a zip nor a pickle")
    with pytest.raises(WeightsError, match="corrupt") as info:
        W.load_state_dict_file("tiny", corrupt)
    assert str(corrupt) in str(info.value)


def test_load_state_dict_file_refuses_a_non_dict(tmp_path):
    path = tmp_path / "tensor.pth"
    torch.save(torch.zeros(3), path)
    with pytest.raises(WeightsError, match="not a state_dict"):
        W.load_state_dict_file("tiny", path)


def test_load_strict_loads_a_matching_state():
    source, target = nn.Linear(3, 2), nn.Linear(3, 2)
    W.load_strict("tiny", target, source.state_dict(), "file.pth")
    assert torch.equal(target.weight, source.weight)


def test_load_strict_names_missing_unexpected_and_misshapen_keys():
    state = nn.Linear(4, 2).state_dict()  # weight (2, 4) instead of (2, 3)
    state["extra.weight"] = torch.zeros(1)
    del state["bias"]
    with pytest.raises(WeightsError) as info:
        W.load_strict("tiny", nn.Linear(3, 2), state, "other.pth")
    text = str(info.value)
    assert "other.pth" in text and "'tiny'" in text
    assert "1 missing keys (bias)" in text
    assert "1 unexpected keys (extra.weight)" in text
    assert "1 wrong shapes (weight (2, 4) != (2, 3))" in text


def test_fetch_downloads_into_the_cache_then_uses_it(torch_home, weights_file):
    url = weights_file.as_uri()
    path = W.fetch_url_weights("tiny", url, git_blob_sha1=W.git_blob_sha1_of(weights_file))
    assert path == torch_home / "hub" / "checkpoints" / "tiny-net.pth"
    assert path.read_bytes() == weights_file.read_bytes()
    assert not list(path.parent.glob("*.partial"))
    weights_file.unlink()  # the source is gone: the second call must not need it
    assert W.fetch_url_weights("tiny", url) == path


def test_fetch_checks_the_sha256_prefix(torch_home, weights_file):
    prefix = W.sha256_of(weights_file)[:8]
    assert W.fetch_url_weights("tiny", weights_file.as_uri(), sha256_prefix=prefix).is_file()


@pytest.mark.parametrize("check", [{"git_blob_sha1": "0" * 40}, {"sha256_prefix": "deadbeef"}])
def test_fetch_with_wrong_checksum_leaves_nothing_in_the_cache(torch_home, weights_file, check):
    with pytest.raises(WeightsError, match="checksum"):
        W.fetch_url_weights("tiny", weights_file.as_uri(), **check)
    assert not list((torch_home / "hub" / "checkpoints").iterdir())


def test_fetch_unreachable_url_names_url_cache_path_and_offline_models(torch_home, tmp_path):
    url = (tmp_path / "nowhere" / "net.pth").as_uri()
    with pytest.raises(WeightsError) as info:
        W.fetch_url_weights("tiny", url)
    text = str(info.value)
    assert url in text
    assert str(torch_home / "hub" / "checkpoints" / "net.pth") in text
    assert all(name in text for name in W.OFFLINE_MODELS)
    assert not list((torch_home / "hub" / "checkpoints").iterdir())
