"""The zoom mode frame by frame; the quality guard of the speed autos."""

import pytest
import torch

from dream import auto
from render.engine import build_engine
from render.modes.zoom import advance, initial_state
from render.ops.motion import motion_schedules
from render.run import typed_config
from tests.compose import compose_preset

GUARD_FRAMES = 10


def zoom_frames(overrides: list[str], count: int) -> tuple[list[torch.Tensor], object]:
    """The first ``count`` frames of the default preset (zoom_places) at 256x144 on the CPU, and its engine."""
    cfg = typed_config(compose_preset("zoom_places", ["width=256", "height=144", "device=cpu", *overrides]))
    engine = build_engine(cfg, count, warn=lambda _: None)
    motion = motion_schedules(cfg.motion, count, cfg.seed, cfg.fps)
    state = initial_state(cfg, engine)
    return [advance(state, engine, motion, cfg).clone() for _ in range(count)], engine


@pytest.mark.slow
def test_frames_with_the_speed_autos_stay_close_to_float32_untiled(monkeypatch, torch_home):
    """Posing as a CPU with bf16 units and little RAM, so that auto picks bfloat16 *and* tiles."""
    reference, _ = zoom_frames(["speed.precision=float32", "dream.tile_size=0"], GUARD_FRAMES)
    monkeypatch.setattr(auto, "cpu_flags", lambda: {"avx512f", "avx512_bf16", "amx_bf16"})
    monkeypatch.setattr(auto, "available_ram", lambda meminfo=None: 20 * 2**20)
    fast, engine = zoom_frames([], GUARD_FRAMES)
    assert engine.precision.value == "bfloat16" and engine.tile.value == auto.MIN_TILE
    errors = [float((f - r).norm() / r.norm()) for f, r in zip(fast, reference)]
    assert max(errors) <= 0.05, errors
    assert float((reference[-1] - reference[0]).norm() / reference[0].norm()) > 0.05  # the frames did move
