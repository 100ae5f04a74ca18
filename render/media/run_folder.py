"""The run folder contract: media, meta.json, the resolved config, a preview; never overwritten.

It names the run folder's parts: ``chunks/`` (resume points, laid out by render/media/checkpoints.py),
``seam/`` (frames kept losslessly for a join, render/media/seam_frames.py), ``frames/`` (every frame as a PNG
with ``output.png_frames``) and ``preview.jpg`` (the latest frame), both written by render/media/frame_files.py.
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from dream.errors import UserError
from render.config import RenderConfig
from render.media.run_lock import LOCK_FILE

CONFIG_FILE = Path(".hydra") / "config.yaml"
CHUNKS_DIR = "chunks"
MANIFEST = "manifest.json"  # in CHUNKS_DIR: the last resume point
SEAM_DIR = "seam"
FRAMES_DIR = "frames"
PREVIEW = "preview.jpg"
LIVE_DIR = "live"  # a live render's page and stream (render/media/live.py)
# What a render writes before its first frame: a folder holding only these is removed when the render is refused.
STARTUP_FILES = {CONFIG_FILE.as_posix(), "meta.json", LOCK_FILE, "audio_features.npz"}
PACKAGES = ("torch", "torchvision", "kornia", "imageio", "imageio-ffmpeg", "numpy", "hydra-core", "deepdream-render")


def holds_a_run(run_dir: Path) -> bool:
    """True when ``run_dir`` already has a render's results or its resume state."""
    run_dir = Path(run_dir)
    markers = [run_dir / "meta.json", run_dir / CHUNKS_DIR / MANIFEST]
    return any(m.exists() for m in markers) or any(run_dir.glob("*.mp4"))


def seam_folder(run_dir: Path) -> Path:
    """The folder of the frames kept for a later join; it survives a resume (it is outside ``chunks/``)."""
    return Path(run_dir) / SEAM_DIR


def seam_frame_path(run_dir: Path, index: int) -> Path:
    """Where frame ``index`` is kept losslessly for a later join."""
    return seam_folder(run_dir) / frame_png_name(index)


def png_frame_path(run_dir: Path, index: int) -> Path:
    """Where frame ``index`` is written as a PNG with ``output.png_frames``."""
    return Path(run_dir) / FRAMES_DIR / frame_png_name(index)


def frame_png_name(index: int) -> str:
    return f"frame_{index:06d}.png"


def check_writable(folder: Path) -> None:
    """A clear error when ``folder`` can't be made or written: a file in its way, a read-only disk, no permission."""
    existing = Path(folder).absolute()
    while not existing.exists():
        existing = existing.parent
    fix = "Pick a folder you can write with hydra.run.dir=PATH (e.g. hydra.run.dir=$HOME/dreams/run1)."
    if not existing.is_dir():
        raise UserError(f"The run folder can't be made under {folder}: {existing} is a file, not a folder. {fix}")
    try:
        tempfile.TemporaryDirectory(dir=existing).cleanup()
    except OSError as exc:
        raise UserError(f"The run folder can't be made under {folder}: {existing} can't be written "
                        f"({exc.strerror}). {fix}") from None


def foreign_files(folder: Path) -> list[str]:
    """What ``folder`` holds that no render of ours wrote before its first frame (sorted names, at most 3 + '...').

    Empty for a missing or empty folder, for a run folder and for one a render is just starting in.
    """
    folder = Path(folder)
    if not folder.is_dir() or holds_a_run(folder):
        return []
    ours = STARTUP_FILES | {CONFIG_FILE.parts[0], CHUNKS_DIR, SEAM_DIR, FRAMES_DIR, PREVIEW, LIVE_DIR}
    names = sorted(p.name for p in folder.iterdir() if p.name not in ours)
    return names[:3] + (["..."] if len(names) > 3 else [])


def check_not_foreign(folder: Path) -> None:
    """Refuse a run folder that already holds other things (someone's notes): a render would write among them."""
    others = foreign_files(folder)
    if others:
        raise UserError(
            f"hydra.run.dir={shown_path(folder)} is a folder that holds other things ({', '.join(others)}) and no "
            f"render, so nothing was written there. Give a new or empty folder (e.g. hydra.run.dir="
            f"{shown_path(Path(folder) / 'run1')}), or leave hydra.run.dir out for a new folder under outputs/."
        )


def claim_run_dir(run_dir: Path) -> Path:
    """Create ``run_dir`` for a new render; refuse a folder that holds another run or other things."""
    run_dir = Path(run_dir)
    check_not_foreign(run_dir)
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


def resume_command(run_dir: Path) -> str:
    """The command that continues ``run_dir``'s render, typed in the project's folder (no venv needed).

    Hydra needs the inner quotes, since sweep folder names hold '=' and ','.
    """
    return f"make render ARGS=\"resume='{shown_path(run_dir)}'\""


def shown_path(path: Path) -> str:
    """``path`` relative to the working folder when it is below it (as users typed it), else absolute."""
    path = Path(path).absolute()
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def media_files(run_dir: Path, meta: dict) -> list[str]:
    """The media a finished render made (video or stills, then its web formats), as paths to show."""
    names = meta.get("media") or []
    names = [names] if isinstance(names, str) else list(names)
    names += [meta[key] for key in ("webm", "gif") if meta.get(key)]
    return [shown_path(Path(run_dir) / name) for name in names]


def remove_unstarted(run_dir: Path) -> bool:
    """Remove ``run_dir`` when it holds nothing but what a render writes before its first frame.

    A render refused at its start must not leave an empty-looking run next to the real ones; a folder
    holding any frame, chunk or media is kept as it is. Returns True when the folder was removed.
    """
    run_dir = Path(run_dir)
    files = [p for p in run_dir.rglob("*") if not p.is_dir()] if run_dir.is_dir() else []
    if not run_dir.is_dir() or any(p.relative_to(run_dir).as_posix() not in STARTUP_FILES for p in files):
        return False
    for path in files:
        path.unlink()
    for folder in sorted((p for p in run_dir.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
        folder.rmdir()
    run_dir.rmdir()
    return True


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
