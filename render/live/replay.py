"""``replay=RUN_DIR``: a live render's performance rendered again, offline, at any size.

A live render records what it needs in its run folder: the config it started with (the stream key
masked), every change made while it ran (``live/changes.jsonl``: frame, key, value) and how many
frames it made (``live/performance.json``). The replay starts from that config with the command
line's settings on top (``width=1920 height=1080``), live off, ``frames`` = the frames the
performance made, and applies each change at its frame through ``Timeline.override``, so at the
same size and seed it makes the same frames.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from dream.errors import UserError
from render.live.control import CHANGES_FILE, read_changes
from render.live.source_recording import recorded_source
from render.media.run_folder import CONFIG_FILE, write_atomic
from render.timeline import Timeline

LIVE_FOLDER = "live"  # in the run folder: the stream, its page, the changes, the performance
PERFORMANCE_FILE = "performance.json"  # in the live folder: {"frames": frames the live render made}
REPLAY_FREE_KEYS = ("replay", "resume")  # given with replay=, these are not settings of the performance


def write_performance(folder: Path, frames: int) -> None:
    """Say in the live ``folder`` how many frames the performance has made (rewritten at each stop)."""
    write_atomic(Path(folder) / PERFORMANCE_FILE, json.dumps({"frames": frames}))


def performance_frames(run_dir: Path) -> int:
    """How many frames the live render in ``run_dir`` made; a UserError when it made none or isn't one."""
    path = Path(run_dir) / LIVE_FOLDER / PERFORMANCE_FILE
    frames = json.loads(path.read_text()).get("frames", 0) if path.is_file() else 0
    if not (Path(run_dir) / CONFIG_FILE).is_file() or frames < 1:
        raise UserError(f"replay={run_dir}: no live performance to replay there ({LIVE_FOLDER}/{PERFORMANCE_FILE} and "
                        f"{CONFIG_FILE} are written by a live render once it has streamed a frame). Pass the run "
                        f"folder of a live render (make live conf=NAME).")
    return frames


def replay_config(run_dir: str | Path, given: Any, overrides: list[str]) -> Any:
    """The performance's saved config, the command line's ``overrides`` (read from ``given``) on top, live off.

    Args:
        given: the config composed from the command line (its values of the overridden keys are taken).
        overrides: the command line's overrides (``key=value``; Hydra's own and ``replay`` itself are skipped).
    """
    run_dir = Path(run_dir).expanduser()
    frames = performance_frames(run_dir)
    saved = OmegaConf.load(run_dir / CONFIG_FILE)
    for override in overrides:
        key = override.split("=", 1)[0].lstrip("+~")
        if key in REPLAY_FREE_KEYS or key.startswith("hydra"):
            continue
        OmegaConf.update(saved, key, OmegaConf.select(given, key), force_add=True)
    saved.frames, saved.replay, saved.resume = frames, str(run_dir), None
    saved.live.enabled, saved.live.url, saved.live.token, saved.live.osc_port = False, None, None, None
    if saved.live.input:  # a live source is dreamed again from its recording
        saved.live.input = str(recorded_source(run_dir / LIVE_FOLDER, run_dir))
    return saved


def replay_changes(timeline: Timeline, run_dir: str | Path) -> int:
    """Apply the changes recorded in ``run_dir``'s live folder at their frames; returns how many."""
    changes = read_changes(Path(run_dir) / LIVE_FOLDER / CHANGES_FILE)
    for change in changes:
        timeline.override(change["key"], change["value"], from_frame=change["frame"])
    return len(changes)
