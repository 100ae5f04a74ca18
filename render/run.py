"""``run(cfg, run_dir)``: one render from a resolved config. No Hydra globals below this line."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException, ValidationError
from rich.console import Console

from dream.errors import UserError
from render.config import RenderConfig, choice_error
from render.engine import Engine, build_engine
from render.estimate import announce_estimate, estimate_record
from render.live.secrets import without_secrets
from render.media.progress import warner
from render.media.run_folder import claim_run_dir, package_versions, read_meta, save_config, write_meta
from render.media.stop import StopSignals
from render.media.web_formats import web_outputs
from render.ops.tempo import announce_tempo
from render.plan import RenderPlan, plan_render


def run(cfg: RenderConfig, run_dir: Path, console: Console | None = None, resume: bool = False,
        stop: StopSignals | None = None) -> dict:
    """Render ``cfg`` into ``run_dir``: plan -> folder -> engine -> estimate -> render -> record.

    Args:
        cfg: a resolved config (RenderConfig shape).
        run_dir: the run folder; a new render refuses a folder that holds another run.
        resume: continue the interrupted render in ``run_dir`` (its saved config is ``cfg``).
        stop: signals that end a zoom or video render cleanly at the next frame (RenderStopped).

    Returns:
        The meta.json contents.
    """
    console = console or Console(stderr=True)
    run_dir = Path(run_dir)
    plan = plan_render(typed_config(cfg), run_dir, warner(console))  # refusals leave nothing behind
    cfg = plan.cfg
    if not resume:
        claim_run_dir(run_dir)
        save_config(run_dir, without_secrets(cfg))  # the stream key and token stay in memory
    plan.keep_in(run_dir)
    previous = read_meta(run_dir) if resume else {}
    started = time.perf_counter()
    write_meta(run_dir, {**previous, **base_meta(cfg), "finished": False})
    announce_tempo(plan.tempo, lambda line: console.print(line, highlight=False))
    engine = build_engine(cfg, plan.timeline, warner(console), log=lambda line: console.print(line, highlight=False),
                          max_batch=cfg.video.batch if plan.source else 1)
    estimate = None if resume or plan.endless else announce_estimate(plan, engine, console)
    media = plan.mode.render(plan, run_dir, engine, console, resume, stop)
    media.update(estimate_record(estimate, engine.device))
    if str(media["media"]).endswith(".mp4"):
        media.update(web_outputs(run_dir / media["media"], cfg.output))
    elapsed = previous.get("elapsed_seconds", 0.0) + time.perf_counter() - started
    return record(plan, engine, media, elapsed, run_dir)


def record(plan: RenderPlan, engine: Engine, media: dict, elapsed: float, run_dir: Path) -> dict:
    """The finished render's meta.json: the config's facts, the model and speed used, the mode's facts."""
    cfg = plan.cfg
    tempo = plan.tempo.record if plan.tempo is not None else {}
    meta = {**base_meta(cfg), **tempo, **engine.model.record, **engine.speed_record(), **media}
    meta.update(device=str(engine.device), elapsed_seconds=round(elapsed, 3))
    meta.setdefault("objective", media.get("target_objective") or engine.plan.describe())
    if plan.notes:
        meta["notes"] = plan.notes + [note for note in meta.get("notes", []) if note not in plan.notes]
    meta["finished"] = True
    write_meta(run_dir, meta)
    return meta


def typed_config(cfg: RenderConfig) -> Any:
    """``cfg`` on the schema: a saved config from an older version gains the newer keys' defaults.

    Closed choices become their enums (``render.config.Choice``), which compare and print as the words given.
    """
    try:
        return OmegaConf.merge(OmegaConf.structured(RenderConfig), cfg)
    except OmegaConfBaseException as exc:
        bad_choice = choice_error(str(exc.full_key), exc.value) if isinstance(exc, ValidationError) else None
        unfit = UserError(f"The config does not fit the renderer's schema: {exc}".replace("\n", " "))
        raise bad_choice or unfit from None


def base_meta(cfg: RenderConfig) -> dict:
    return {
        "preset": cfg.preset,
        "mode": cfg.mode,
        "frames": cfg.frames,
        "fps": cfg.fps,
        "width": cfg.width,
        "height": cfg.height,
        "seed": cfg.seed,
        "input": cfg.input,
        "audio": cfg.audio,
        "live": cfg.live.enabled,
        "cadence_requested": cfg.dream.cadence,
        "versions": package_versions(),
    }
