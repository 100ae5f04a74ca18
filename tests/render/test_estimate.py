"""The estimate before the first frame: measured steps added up over the render's frames."""

import torch
from rich.console import Console

from render.engine import build_engine
from render.estimate import Estimate, StepTimer, duration, estimate_record, faster_overrides
from render.modes.registry import mode_of
from render.modes.zoom import estimate_zoom
from render.run import typed_config
from render.timeline import Timeline
from tests.compose import compose_preset


def _engine(preset: str, overrides: list[str], frames: int):
    cfg = typed_config(compose_preset(preset, overrides))
    return cfg, build_engine(cfg, Timeline(cfg, frames), lambda _: None)


def test_a_frames_time_is_its_steps_times_the_measured_step():
    cfg, engine = _engine("smoke", ["dream.iterations=2", "dream.first_frame_iterations=6"], 4)
    timer = StepTimer(engine, cfg.height, cfg.width)
    assert timer.frame(0) == 3 * timer.frame(1) > 0  # 6 steps against 2, at the one (cached) size
    assert len(timer.seconds) == 1


def test_octaves_are_timed_at_each_size():
    cfg, engine = _engine("smoke", ["dream.octaves=2", "width=96", "height=64"], 2)
    timer = StepTimer(engine, 64, 96)
    timer.frame(1)
    assert sorted(timer.seconds) == [(46, 69), (64, 96)]


def test_the_estimate_covers_every_frame_and_reads_the_peak():
    cfg, engine = _engine("smoke", ["frames=5"], 5)
    estimate = estimate_zoom(cfg, engine, 5)
    assert estimate.units == 5 and estimate.unit == "frame" and estimate.seconds > 0
    assert estimate.peak_bytes > 100 * 2**20 and estimate.size == (64, 96)
    record = estimate_record(estimate, engine.device)["estimate"]
    assert record["render_seconds"] >= 0 and record["peak_gib_measured"] >= record["peak_gib"] * 0.99


def quicker_text(preset: str, overrides: list[str], estimate: Estimate) -> str:
    """The faster overrides the estimate line names for ``preset``'s mode."""
    cfg = typed_config(compose_preset(preset, overrides))
    return faster_overrides(estimate, torch.device("cpu"), mode_of(cfg).quicker(cfg, estimate))


def test_faster_overrides_name_fewer_frames_or_a_smaller_size():
    estimate = Estimate(400.0, 2**30, 240, "frame", 400 / 240, (360, 640))
    text = quicker_text("smoke", ["frames=240", "width=640", "height=360"], estimate)
    assert text.startswith("About 2 min with frames=60 or width=320 height=180")
    assert "visualize.steps=28" in quicker_text("class_visualize", [], Estimate(60, 1, 112, "step", 0.5, (320, 320)))


def test_a_still_is_made_quicker_by_its_size_alone():
    text = quicker_text("dream_image", ["input=photo.jpg"], Estimate(8.0, 2**30, 1, "frame", 8.0, (400, 600)))
    assert "width=300 height=200" in text and "frames=" not in text  # a still has one frame to cut


def test_durations_read_as_people_say_them():
    assert [duration(s) for s in (12, 300, 7200)] == ["12 s", "5 min", "2.0 h"]


def test_the_render_prints_the_estimate_before_its_first_frame_and_records_it(tmp_path):
    from render.run import run

    console = Console(record=True, width=200)
    meta = run(compose_preset("smoke", ["frames=3"]), tmp_path / "run", console)
    text = console.export_text()
    assert text.index("Estimate: about") < text.index("dreaming")
    assert meta["estimate"]["seconds"] > 0 and meta["estimate"]["render_seconds"] > 0
    assert "left" in text  # the progress line says the time left


def test_a_large_size_is_timed_at_the_timed_pixels_and_scaled_by_its_own(monkeypatch):
    from render.estimate import TIMED_PIXELS, timed_size_of

    cfg, engine = _engine("smoke", ["dream.octaves=2"], 2)
    timer = StepTimer(engine, 4000, 6000)
    timed_sizes = []
    monkeypatch.setattr(timer, "time_step", lambda size, frame: timed_sizes.append(size) or 1.0)
    small = timed_size_of((4000, 6000))
    assert abs(small[0] * small[1] - TIMED_PIXELS) < 0.01 * TIMED_PIXELS and abs(small[1] / small[0] - 1.5) < 0.01
    assert timer.step((4000, 6000), 1) == 4000 * 6000 / (small[0] * small[1])
    timer.step((2857, 4286), 1)
    assert timed_sizes == [small]  # one timing serves every size of that aspect


def test_a_mask_that_leaves_nothing_to_dream_makes_the_steps_free():
    from render.estimate import mask_cost, start_image

    cfg, engine = _engine("smoke", ["mask.source=key:hue:0-10+saturation:0.9-1"], 4)
    share, seconds = mask_cost(cfg.mask, cfg.motion.border, engine, start_image(None, 0, (64, 96), engine.device))
    assert share == 0.0 and seconds > 0
    assert StepTimer(engine, 64, 96, share).frame(1) == 0.0


def test_compiling_is_counted_once_per_dreamed_size_and_briefly_for_a_size_compiled_before(tmp_path, monkeypatch):
    import dataclasses

    from dream.speed import compiled_shape_mark
    from render.estimate import CACHED_COMPILE_SECONDS, COMPILE_SECONDS

    monkeypatch.setenv("TORCHINDUCTOR_CACHE_DIR", str(tmp_path))
    cfg, engine = _engine("smoke", ["dream.octaves=2"], 2)
    timer = StepTimer(engine, 64, 96)
    timer.frame(1)
    assert timer.compile_seconds() == 0.0
    engine.speed = dataclasses.replace(engine.speed, compile="default")
    assert timer.compile_seconds() == 2 * COMPILE_SECONDS["cpu"]
    mark = compiled_shape_mark(engine.model.net, engine.speed, (1, 3, 64, 96))
    mark.parent.mkdir(parents=True)
    mark.touch()
    assert timer.compile_seconds() == COMPILE_SECONDS["cpu"] + CACHED_COMPILE_SECONDS


def test_each_frame_adds_its_work_beside_the_dream():
    from render.estimate import frame_overhead

    cfg, engine = _engine("smoke", [], 2)
    first = torch.rand(1, 3, 64, 96)
    animation, still = frame_overhead(cfg, engine, first, encoded=True), frame_overhead(cfg, engine, first, False)
    assert animation[0] > 0 and animation[1] > 0  # a frame's work, and the join of its chunks at the end
    assert still[0] > 0 and still[1] == 0.0


def test_a_render_that_dreams_no_step_is_estimated_without_timing_one():
    cfg, engine = _engine("smoke", ["dream.iterations=0", "dream.first_frame_iterations=0"], 3)
    estimate = estimate_zoom(cfg, engine, 3)
    assert estimate.seconds >= 0 and estimate.peak_bytes > 0
