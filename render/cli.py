"""``python -m render --config-name PRESET key=value ...``: Hydra in, clear errors out.

Problems a user can fix (a bad name, a missing file, a bad schedule) print as
one paragraph with exit status 2, never as a traceback. Ctrl-C or SIGTERM (a
cluster pre-empting the job) finishes the frame in progress, writes a resume point
and says how to resume.
"""

from __future__ import annotations

import logging
import shutil
import sys
import time
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf
from rich.console import Console
from rich.markup import escape

from dream.errors import UserError
from render.config import check_input_file, register_configs, validate_live, validate_output_name
from render.live.replay import replay_config
from render.live.secrets import given_again
from render.live.server import check_port_free
from render.media.checkpoints import Checkpoints
from render.media.run_folder import (
    CONFIG_FILE,
    check_not_foreign,
    check_writable,
    media_files,
    read_meta,
    remove_unstarted,
    resume_command,
    resume_run_dir,
    shown_path,
    write_meta,
)
from render.media.run_lock import locked_run_dir
from render.media.stop import RenderStopped, StopSignals
from render.overrides import CONF_DIR, check_composes, output_folder, quote_all

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
    # a file name that is not UTF-8 reaches Python as surrogates, which no console can print: shown as \xNN
    printable = message.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    console.print(f"[bold red]Error:[/bold red] {escape(printable)}", highlight=False, soft_wrap=True)
    sys.exit(status)


def render_job(cfg: DictConfig) -> dict:
    """One Hydra job: a new render in Hydra's run folder, or a resumed one in its own.

    A sweep job whose folder holds its own interrupted render (a requeued or re-run job) continues it.
    The run folder is locked for the whole render; a new render refused before its first frame
    removes the folder it was given, so no empty run is left beside the real ones.
    """
    from render.run import run  # torch and the models load here, after the arguments were checked

    console = Console(stderr=True)
    run_dir = Path(HydraConfig.get().runtime.output_dir)
    multirun = HydraConfig.get().mode == RunMode.MULTIRUN
    started = time.perf_counter()
    with StopSignals() as stop:
        try:
            if cfg.replay:  # a live performance again: its saved config, this command line's settings on top
                cfg = replay_config(cfg.replay, cfg, HydraConfig.get().overrides.task)
            if cfg.resume or (multirun and interrupted_here(run_dir, cfg)):
                if cfg.resume:
                    _remove_if_empty(run_dir)
                run_dir, saved = resume_run_dir(cfg.resume or run_dir)
                check_resume_settings(HydraConfig.get().overrides.task, cfg, saved, run_dir)
                saved.device = cfg.device
                given_again(saved, cfg)  # the stream key and token are not in the run folder
                with locked_run_dir(run_dir):
                    meta = run(saved, run_dir, console, resume=True, stop=stop)
            else:
                meta = render_new(cfg, run_dir, console, stop, remove_if_refused=not multirun)
        except UserError as exc:
            if multirun:
                # One bad combination must not stop a sweep: report it, the summary marks it failed.
                console.print(f"[bold red]Error in {run_dir}:[/bold red] {exc}", highlight=False, soft_wrap=True)
                return {}
            fail(console, str(exc))
        except RenderStopped as stopped:
            stop.settle()
            add_elapsed(run_dir, started)
            kept = f"{stopped.frames_kept} frames are kept with a resume point"
            if stopped.recorded is not None:
                kept = f"{stopped.frames_kept} frames are recorded in {shown_path(stopped.recorded)} and kept"
                write_meta(run_dir, {**read_meta(run_dir), "media": stopped.recorded.name,
                                     "frames_recorded": stopped.frames_kept})
            console.print(f"[bold yellow]Stopped by {stopped.signal_name}[/bold yellow] after the frame in progress: "
                          f"{kept}. Continue with: {resume_command(run_dir)}", highlight=False, soft_wrap=True)
            stop.chain()  # submitit's checkpoint-and-requeue, when it installed a handler: the requeued job continues
            sys.exit(EXIT_STOPPED.get(stopped.signal_name, EXIT_INTERRUPTED))
        except KeyboardInterrupt:
            stop.settle()
            add_elapsed(run_dir, started)
            console.print(stopped_now(run_dir), highlight=False, soft_wrap=True)
            stop.chain()
            sys.exit(EXIT_STOPPED.get(stop.signal_name, EXIT_INTERRUPTED))
    console.print(f"[bold green]Done:[/bold green] {', '.join(media_files(run_dir, meta))} "
                  f"(run folder {shown_path(run_dir)})", highlight=False, soft_wrap=True)
    return meta


def render_new(cfg: DictConfig, run_dir: Path, console: Console, stop: StopSignals, remove_if_refused: bool) -> dict:
    """A new render in ``run_dir``, locked; refused before its first frame, the folder it was given goes too."""
    was_empty = run_dir.is_dir() and not any(run_dir.iterdir())
    from render.run import run

    with locked_run_dir(run_dir):
        try:
            return run(cfg, run_dir, console, stop=stop)
        except UserError:
            if was_empty and remove_if_refused:
                remove_unstarted(run_dir)
            raise


def stopped_now(run_dir: Path) -> str:
    """What an interrupt keeps: the frames of the last resume point (the frames after it are redone on resume)."""
    frames_kept = Checkpoints(run_dir).resume_point()[0]
    if frames_kept:
        kept = f"the last resume point keeps {frames_kept} frames"
    else:
        kept = "no frame had reached a resume point yet, so it starts from its first frame"
    return (f"[bold yellow]Stopped now[/bold yellow]: {kept}. Continue with: {resume_command(run_dir)}")


def add_elapsed(run_dir: Path, started: float) -> None:
    """Add this stopped part's seconds to the render's ``elapsed_seconds``, so a resumed render's total counts them."""
    meta = read_meta(run_dir)
    if meta and not meta.get("finished"):
        meta["elapsed_seconds"] = round(meta.get("elapsed_seconds", 0.0) + time.perf_counter() - started, 3)
        write_meta(run_dir, meta)


RESUME_FREE_KEYS = ("resume", "device", "live.url", "live.token")  # another device; secrets are given again


def check_resume_settings(overrides: list[str], cfg: DictConfig, saved: DictConfig, run_dir: Path) -> None:
    """``resume=`` continues a render exactly as it started: settings given with it that differ are refused."""
    changed = []
    for override in overrides:
        key = override.split("=", 1)[0].lstrip("+~")
        if key in RESUME_FREE_KEYS or key.startswith("hydra"):
            continue
        given, started = OmegaConf.select(cfg, key), OmegaConf.select(saved, key)
        plain = [OmegaConf.to_container(v) if OmegaConf.is_config(v) else v for v in (given, started)]
        if plain[0] != plain[1]:
            changed.append(f"{key} (started with {plain[1]}, given {plain[0]})")
    if changed:
        raise UserError(
            f"resume={shown_path(run_dir)} continues that render exactly as it was started, so these settings can't "
            f"change: {'; '.join(changed)}. Resume without them ({resume_command(run_dir)}), or start a new render "
            f"with them."
        )


def interrupted_here(run_dir: Path, cfg: DictConfig) -> bool:
    """True when ``run_dir`` holds an unfinished render of exactly ``cfg`` (the device aside)."""
    saved_file = run_dir / CONFIG_FILE
    if not saved_file.is_file() or read_meta(run_dir).get("finished"):
        return False
    from render.run import typed_config

    saved, wanted = typed_config(OmegaConf.load(saved_file)), typed_config(cfg)
    saved.device = wanted.device
    return OmegaConf.to_container(saved, resolve=True) == OmegaConf.to_container(wanted, resolve=True)


def _remove_if_empty(folder: Path) -> None:
    if folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()


def preset_of(argv: list[str]) -> str | None:
    """The preset ``argv`` names (``smoke`` when none); None for a config from elsewhere (a run's .hydra/)."""
    if any(arg.startswith(("--config-path", "-cp", "--config-dir", "-cd")) for arg in argv):
        return None
    name = "smoke"
    for i, arg in enumerate(argv):
        if arg in ("--config-name", "-cn") and i + 1 < len(argv):
            name = argv[i + 1]
        elif arg.startswith("--config-name="):
            name = arg.split("=", 1)[1]
    return name


def check_arguments(argv: list[str]) -> None:
    """The preset, the overrides and the output folder, checked before Hydra runs; one ``UserError`` each."""
    preset = preset_of(argv)
    if preset is not None and preset not in presets():
        raise UserError(f"Unknown preset '{preset}'. Presets: {', '.join(presets())} (e.g. make render conf=smoke).")
    if preset is None or {"--help", "-h", "--hydra-help", "--info", "-i"} & set(argv):
        return
    check_no_bare_words(argv)
    check_launcher(argv)
    composed: list[DictConfig] = []
    check_composes(lambda name, overrides: composed.append(compose_preset(name, overrides)) or composed[-1],
                   preset, argv)
    check_writable(output_folder(argv))
    if not {"-m", "--multirun"} & set(argv):
        check_before_the_folder(composed[-1], output_folder(argv) if any(
            arg.startswith("hydra.run.dir=") for arg in argv) else None)


OPTIONS_WITH_VALUES = {"--config-name", "-cn", "--config-path", "-cp", "--config-dir", "-cd", "--cfg", "-c",
                       "--package", "-p", "--experimental-rerun"}


def check_no_bare_words(argv: list[str]) -> None:
    """A word that is neither an option nor ``key=value``: the shell split a value with a space in it.

    ``target=golden retriever`` unquoted reaches the renderer as ``target=golden`` and ``retriever``.
    """
    for i, arg in enumerate(argv):
        after_option = i > 0 and argv[i - 1] in OPTIONS_WITH_VALUES
        if after_option or arg.startswith(("-", "~", "+")) or "=" in arg:
            continue
        before = next((a for a in reversed(argv[:i]) if "=" in a and not a.startswith("-")), None)
        whole = f"{before} {arg}" if before else f"key={arg}"
        key, _, value = whole.partition("=")
        rest_of = f", it looks like the rest of {before}" if before else ""
        raise UserError(
            f"'{arg}' is not a setting (settings are key=value){rest_of}"
            f": the shell split a value with a space in it. Quote the whole setting: python -m render "
            f"\"{whole}\", or make render ARGS=\"{key}='{value}'\"."
        )


def check_launcher(argv: list[str]) -> None:
    """``hydra/launcher=submitit_slurm`` off a cluster: refused before Hydra writes the sweep folder."""
    if "hydra/launcher=submitit_slurm" in argv and shutil.which("sbatch") is None:
        raise UserError(
            "hydra/launcher=submitit_slurm submits the jobs to a Slurm cluster, but this machine has no Slurm "
            "(no sbatch command), so nothing was started or written. Run it on the cluster's login node, or on "
            "this machine with hydra/launcher=joblib (or hydra/launcher=submitit_local) and without the "
            "hydra.launcher.* settings of Slurm (partition, gpus_per_node, timeout_min, max_num_timeout)."
        )


def check_before_the_folder(cfg: DictConfig, run_dir: Path | None) -> None:
    """What is known before the run folder is made: the media's name, the live port, a folder with other things.

    Args:
        run_dir: ``hydra.run.dir`` as given (None: a new folder under outputs/).
    """
    validate_output_name(cfg.output.name)
    if not cfg.resume:
        check_input_file(cfg.input, cfg.mode)
    if cfg.live.enabled and not cfg.resume:
        validate_live(cfg.live)
        check_port_free(cfg.live.host, cfg.live.port)
    if run_dir is not None and not cfg.resume:
        check_not_foreign(run_dir)


def main() -> None:
    # Resizing a video on decode is deliberate; imageio-ffmpeg would warn about it on every read.
    logging.getLogger("imageio_ffmpeg").setLevel(logging.ERROR)
    argv = quote_all(sys.argv[1:], multirun=bool({"-m", "--multirun"} & set(sys.argv)))
    try:
        check_arguments(argv)
    except UserError as exc:
        fail(Console(stderr=True), str(exc))
    sys.argv[1:] = argv  # Hydra reads the quoted overrides
    register_configs()
    hydra.main(version_base=None, config_path=str(CONF_DIR), config_name="smoke")(render_job)()
