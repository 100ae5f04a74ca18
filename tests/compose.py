"""Compose the real presets for tests, shrunk, without running Hydra's app (lightning-hydra-template style)."""

from __future__ import annotations

from pathlib import Path

from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

from render.cli import CONF_DIR
from render.config import register_configs


def compose_preset(name: str, overrides: list[str] | None = None) -> DictConfig:
    register_configs()
    with initialize_config_dir(config_dir=str(Path(CONF_DIR)), version_base=None):
        return compose(config_name=name, overrides=list(overrides or []))
