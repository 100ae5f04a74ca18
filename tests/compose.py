"""Compose the real presets for tests, shrunk, without running Hydra's app (lightning-hydra-template style)."""

from collections.abc import Sequence

from omegaconf import OmegaConf

from render.cli import compose_preset
from render.config import RenderConfig
from render.schedule import ScheduleVariables, TimeBase
from render.timeline import Timeline

__all__ = ["compose_preset", "timeline_of"]


def timeline_of(frames: int | None, overrides: Sequence[str] = (), variables: Sequence[ScheduleVariables] = (),
                time: TimeBase | None = None) -> Timeline:
    """The timeline of a default render over ``frames`` frames, with dotted ``overrides`` ("motion.zoom=1.04")."""
    cfg = OmegaConf.merge(OmegaConf.structured(RenderConfig), OmegaConf.from_dotlist(list(overrides)))
    return Timeline(cfg, frames, variables, time=time)
