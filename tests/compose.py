"""Compose the real presets for tests, shrunk, without running Hydra's app (lightning-hydra-template style)."""

from render.cli import compose_preset

__all__ = ["compose_preset"]
