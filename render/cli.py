"""``python -m render --config-name PRESET key=value ...``: Hydra in, clear errors out.

Problems a user can fix (a bad name, a missing file, a bad schedule) print as
one paragraph with exit status 2, never as a traceback. Ctrl-C or SIGTERM (a
cluster pre-empting the job) finishes the frame in progress, writes a resume point
and says how to resume.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf
from rich.console import Console

from dream.errors import UserError
from render.config import register_configs
from render.media.run_folder import CONFIG_FILE, read_meta, resume_override, resume_run_dir
from render.media.stop import RenderStopped, StopSignals
from render.run import run, typed_config

CONF_DIR = Path(__file__).resolve().parent.parent / "conf"
EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130
EXIT_STOPPED = {"SIGINT": 130, "SIGTERM": 143, "SIGUSR2": 140}  # 128 + the signal's number, as shells report it


def compose_preset(name: str, overrides: list[str] | None = None) -> DictConfig:
    """The preset ``name`` with ``overrides``, composed as the CLI would, without running Hydra's app."""
    from hydra import compose, initialize_config_dir

    register_configs()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base=None):
        return compose(config_name=name, overrides=list(overrides or []))


def presets() -> list[str]:
    return sorted(p.stem for p in CONF_DIR.glob("*.yaml"))


def fail(console: Console, message: str, status: int = EXIT_USER_ERROR) -> None:
    console.print(f"[bold red]Error:[/bold red] {message}", highlight=False, soft_wrap=True)
    sys.exit(status)


def render_job(cfg: DictConfig) -> dict:
    """One Hydra job: a new render in Hydra's run folder, or a resumed one in its own.

    A sweep job whose folder holds its own interrupted render (a requeued or re-run job) continues it.
    """
    console = Console(stderr=True)
    run_dir = Path(HydraConfig.get().runtime.output_dir)
    multirun = HydraConfig.get().mode == RunMode.MULTIRUN
    with StopSignals() as stop:
        try:
            if cfg.resume or (multirun and interrupted_here(run_dir, cfg)):
                resumed_dir, saved = resume_run_dir(cfg.resume or run_dir)
                if cfg.resume:
                    _remove_if_empty(run_dir)
                saved.device = cfg.device
                run_dir = resumed_dir
                return run(saved, resumed_dir, console, resume=True, stop=stop)
            return run(cfg, run_dir, console, stop=stop)
        except UserError as exc:
            if multirun:
                # One bad combination must not stop a sweep: report it, the summary marks it failed.
                console.print(f"[bold red]Error in {run_dir}:[/bold red] {exc}", highlight=False, soft_wrap=True)
                return {}
            fail(console, str(exc))
        except RenderStopped as stopped:
            console.print(f"[bold yellow]Stopped by {stopped.signal_name}[/bold yellow] after the frame in progress: "
                          f"{stopped.frames_kept} frames are kept with a resume point. Continue with: python -m render "
                          f"{resume_override(run_dir)}", highlight=False, soft_wrap=True)
            stop.chain()  # submitit's checkpoint-and-requeue, when it installed a handler: the requeued job continues
            sys.exit(EXIT_STOPPED.get(stopped.signal_name, EXIT_INTERRUPTED))
        except KeyboardInterrupt:
            fail(console, f"Interrupted. Frames up to the last resume point are kept; continue with "
                 f"{resume_override(run_dir)}", EXIT_INTERRUPTED)
    return {}


def interrupted_here(run_dir: Path, cfg: DictConfig) -> bool:
    """True when ``run_dir`` holds an unfinished render of exactly ``cfg`` (the device aside)."""
    saved_file = run_dir / CONFIG_FILE
    if not saved_file.is_file() or read_meta(run_dir).get("finished"):
        return False
    saved, wanted = typed_config(OmegaConf.load(saved_file)), typed_config(cfg)
    saved.device = wanted.device
    return OmegaConf.to_container(saved, resolve=True) == OmegaConf.to_container(wanted, resolve=True)


def _remove_if_empty(folder: Path) -> None:
    if folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()


def check_preset(argv: list[str]) -> None:
    """A clear error for an unknown preset, before Hydra composes anything."""
    if any(arg.startswith(("--config-path", "-cp", "--config-dir", "-cd")) for arg in argv):
        return  # a config from elsewhere, e.g. a run folder's .hydra/config.yaml
    for i, arg in enumerate(argv):
        name = argv[i + 1] if arg in ("--config-name", "-cn") and i + 1 < len(argv) else None
        if arg.startswith("--config-name="):
            name = arg.split("=", 1)[1]
        if name is not None and name not in presets():
            fail(Console(stderr=True), f"Unknown preset '{name}'. Presets: {', '.join(presets())} "
                 f"(e.g. make render conf=smoke).")


def main() -> None:
    # Resizing a video on decode is deliberate; imageio-ffmpeg would warn about it on every read.
    logging.getLogger("imageio_ffmpeg").setLevel(logging.ERROR)
    check_preset(sys.argv[1:])
    register_configs()
    hydra.main(version_base=None, config_path=str(CONF_DIR), config_name="smoke")(render_job)()
