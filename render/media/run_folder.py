"""The run folder contract: media, meta.json, the resolved config, a preview; never overwritten."""

from __future__ import annotations

import json
import os
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from dream.errors import UserError
from render.config import RenderConfig

CONFIG_FILE = Path(".hydra") / "config.yaml"
PACKAGES = ("torch", "torchvision", "kornia", "imageio", "imageio-ffmpeg", "numpy", "hydra-core", "deepdream-render")


def holds_a_run(run_dir: Path) -> bool:
    """True when ``run_dir`` already has a render's results or its resume state."""
    run_dir = Path(run_dir)
    markers = [run_dir / "meta.json", run_dir / "chunks" / "manifest.json"]
    return any(m.exists() for m in markers) or any(run_dir.glob("*.mp4"))


def claim_run_dir(run_dir: Path) -> Path:
    """Create ``run_dir`` for a new render; refuse a folder that holds another run."""
    run_dir = Path(run_dir)
    if holds_a_run(run_dir):
        raise UserError(
            f"The run folder {run_dir} already holds a render, which would be overwritten. Pick a new folder "
            f"(hydra.run.dir=PATH), or continue an interrupted render with resume={run_dir}."
        )
    run_dir.mkdir(parents=True, exist_ok=True)
    return run_dir


def resume_run_dir(run_dir: str | Path) -> tuple[Path, Any]:
    """The folder and saved config of an interrupted render; clear errors otherwise."""
    run_dir = Path(run_dir).expanduser()
    config = run_dir / CONFIG_FILE
    if not config.is_file():
        raise UserError(
            f"resume={run_dir}: no render to continue there ({config} is missing). Pass the run folder of an "
            f"interrupted render (it holds .hydra/config.yaml and chunks/)."
        )
    meta = read_meta(run_dir)
    if meta.get("finished"):
        raise UserError(f"resume={run_dir}: that render finished already; its results are kept as they are.")
    return run_dir, OmegaConf.load(config)


def resume_override(run_dir: Path) -> str:
    """The ``resume=`` argument for a shell: Hydra needs the quotes, since sweep folder names hold '=' and ','."""
    return f"\"resume='{run_dir}'\""


def save_config(run_dir: Path, cfg: RenderConfig) -> None:
    """Write the resolved config: enough to render the same frames again."""
    path = Path(run_dir) / CONFIG_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, OmegaConf.to_yaml(cfg, resolve=True))


def read_meta(run_dir: Path) -> dict:
    path = Path(run_dir) / "meta.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def write_meta(run_dir: Path, meta: dict) -> None:
    write_atomic(Path(run_dir) / "meta.json", json.dumps(meta, indent=2, sort_keys=True) + "\n")


def write_atomic(path: Path, text: str) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text)
    os.replace(partial, path)


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions
