"""The zoom mode frame by frame; the quality guard of the speed autos."""

import dataclasses

import numpy as np
import pytest
import torch

from dream import auto
from render.engine import build_engine
from render.modes.zoom import advance, initial_state
from render.plan import plan_render
from render.run import run, typed_config
from tests.compose import compose_preset

GUARD_FRAMES = 6
SIZE = ["width=192", "height=108"]  # wider than the smallest tile, so a short memory budget does tile
FLOAT32_UNTILED = ["speed.precision=float32", "dream.tile_size=0"]


def zoom_frames(overrides: list[str], count: int = GUARD_FRAMES, nudge: float = 0.0) -> tuple[list, object]:
    """The first ``count`` frames of the default preset (zoom_places) on the CPU, and its engine.

    ``nudge``: the standard deviation of a noise added to the start image (how chaotic is the dream?).
    """
    cfg = typed_config(compose_preset("zoom_places", [*SIZE, "device=cpu", f"frames={count}", *overrides]))
    plan = plan_render(cfg)
    engine = build_engine(cfg, plan.timeline, warn=lambda _: None)
    state = initial_state(plan, engine)
    noise = torch.randn(state.frame.shape, generator=torch.Generator().manual_seed(99))
    state = dataclasses.replace(state, frame=(state.frame + nudge * noise).clamp(0.0, 1.0))
    return [advance(state, engine, plan.camera, cfg).clone() for _ in range(count)], engine


def relative_l2(frames: list[torch.Tensor], reference: list[torch.Tensor]) -> list[float]:
    return [float((f - r).norm() / r.norm()) for f, r in zip(frames, reference)]


@pytest.fixture(scope="module")
def float32_untiled(tmp_path_factory):
    """The reference render and the same render from a start nudged by 1e-6 (no weights cached: the fallback)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TORCH_HOME", str(tmp_path_factory.mktemp("torch_home")))
        return zoom_frames(FLOAT32_UNTILED)[0], zoom_frames(FLOAT32_UNTILED, nudge=1e-6)[0]


@pytest.mark.slow
def test_autos_on_a_cpu_without_bf16_units_render_the_float32_untiled_frames(monkeypatch, float32_untiled, tmp_path):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setattr(auto, "cpu_flags", lambda: {"avx512f", "avx512_vnni"})
    frames, engine = zoom_frames([])
    assert (engine.precision.value, engine.tile.value) == ("float32", 0)
    assert max(relative_l2(frames, float32_untiled[0])) <= 0.05


@pytest.mark.slow
def test_bfloat16_and_tiles_change_the_frames_no_more_than_the_dream_is_chaotic(monkeypatch, float32_untiled,
                                                                                tmp_path):
    """Posing as a CPU with bf16 units and little RAM, so that auto picks bfloat16 *and* tiles.

    A dream from noise amplifies the smallest difference: float32 frames from a start nudged by
    1e-6 already differ from the reference by ~0.13 relative L2 (the same motifs, placed
    elsewhere), so no change of arithmetic can stay within 0.05. The guard: the autos move the
    frames at most 1.5x as far as that nudge does, and keep their brightness and contrast.
    """
    reference, nudged = float32_untiled
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setattr(auto, "cpu_flags", lambda: {"avx512f", "avx512_bf16", "amx_bf16"})
    monkeypatch.setattr(auto, "available_ram", lambda meminfo=None: 20 * 2**20)
    frames, engine = zoom_frames([])
    assert engine.precision.value == "bfloat16" and engine.tile.value == auto.MIN_TILE
    chaos = relative_l2(nudged, reference)
    assert max(relative_l2(frames, reference)) <= 1.5 * max(chaos)
    for fast, slow in zip(frames, reference):
        assert torch.allclose(fast.mean((2, 3)), slow.mean((2, 3)), atol=0.03)
        assert torch.allclose(fast.std((2, 3)), slow.std((2, 3)), atol=0.03)
    assert max(relative_l2(reference[1:], reference[:-1])) > 0.01  # the camera did move



class StubEngine:
    """Stands in for the network: a dream brightens the frame a little and is recorded with its index."""

    device = torch.device("cpu")

    def __init__(self, timeline):
        self.dreamed: list[int] = []
        self.timeline = timeline

    def dream(self, frame, index, generator, mask=None):
        self.dreamed.append(index)
        return (frame * 0.9 + 0.08).clamp(0, 1)


def stub_zoom(cadence, count: int, overrides=()):
    """``count`` frames of a tiny zoom at ``cadence`` with the stub engine; (frames, dreamed indices)."""
    plan = plan_render(typed_config(compose_preset("smoke", ["color.coherence=none", f"frames={count}", *overrides])))
    engine = StubEngine(plan.timeline)
    state = initial_state(plan, engine)
    return [advance(state, engine, plan.camera, plan.cfg, cadence).clone() for _ in range(count)], engine.dreamed


def test_cadence_dreams_every_nth_frame_and_cadence_one_every_frame():
    assert stub_zoom(3, 7)[1] == [0, 3, 6]
    assert stub_zoom(1, 4)[1] == [0, 1, 2, 3]


def test_in_betweens_are_the_dream_moved_by_the_camera_in_one_resampling():
    from render.ops.warp import warp_by_matrix

    frames, _ = stub_zoom(4, 4)
    plan = plan_render(typed_config(compose_preset("smoke", ["frames=4"])))
    cfg, camera = plan.cfg, plan.camera
    moved = torch.eye(3)[None]
    for index in (1, 2, 3):  # no dream here: frame 0's dream, moved by every camera step since
        moved = camera.move(plan.timeline.at(index), cfg.height, cfg.width, torch.device("cpu")) @ moved
        torch.testing.assert_close(frames[index], warp_by_matrix(frames[0], moved, cfg.motion.border))


def test_an_endless_zoom_is_never_done_and_reports_its_auto_cadence(tmp_path):
    from render.modes.zoom import ZoomMode

    endless = ["frames=null", "live.enabled=true", "dream.cadence=auto"]
    plan = plan_render(typed_config(compose_preset("smoke", endless)))
    reports = []
    mode = ZoomMode(plan, tmp_path, StubEngine(plan.timeline), console=None,
                    report=lambda line, facts: reports.append(facts))
    mode.restore(None, 0)
    for _ in range(30):
        mode.step()
    assert mode.steps_total is None and not mode.done and mode.steps_done == 30
    assert reports and reports[-1]["cadence_requested"] == "auto" and reports[-1]["cadence"] == mode.auto.cadence
    changes = mode.cadence_facts()["cadence_changes"]
    assert changes[0][0] > 0  # reported once a dream was measured (frame 0's is not typical)
    assert len(reports) == len(changes)


def zoom_png_frames(tmp_path, name: str, overrides: list[str]) -> list:
    """The lossless frames of a 4-frame smoke zoom from a photo."""
    import imageio.v3 as iio

    cfg = compose_preset("smoke", ["frames=4", "output.png_frames=true", "device=cpu", *overrides])
    run(cfg, tmp_path / name)
    return [iio.imread(path).astype(int) for path in sorted((tmp_path / name / "frames").glob("*.png"))]


@pytest.fixture(scope="module")
def zoom_photo(tmp_path_factory):
    import imageio.v3 as iio
    from skimage import data

    folder = tmp_path_factory.mktemp("zoom_photo")
    iio.imwrite(folder / "photo.png", data.astronaut()[::8, ::8])  # 64 x 64
    mask = torch.zeros(64, 96, dtype=torch.uint8)
    mask[16:48, 24:72] = 255
    iio.imwrite(folder / "window.png", mask.numpy())
    return folder


@pytest.mark.parametrize("follow, left, top", [("screen", 20, 12), ("camera", 8, 4)])  # camera: the window grows
def test_masked_zoom_outside_the_mask_is_the_photo_moved_by_the_camera_alone(tmp_path, zoom_photo, follow, left, top):
    photo, window = zoom_photo / "photo.png", zoom_photo / "window.png"
    masked = zoom_png_frames(tmp_path, "masked", [f"input={photo}", f"mask.source={window}", "mask.feather=4",
                                                  f"mask.follow={follow}"])
    undreamed = zoom_png_frames(tmp_path, "undreamed", [f"input={photo}", "dream.iterations=0",
                                                        "dream.first_frame_iterations=0", "color.coherence=none"])
    assert len(masked) == len(undreamed) == 4
    for dreamed, plain in zip(masked, undreamed):
        assert np.array_equal(dreamed[:, :left], plain[:, :left]) and np.array_equal(dreamed[:top], plain[:top])
        assert np.abs(dreamed[20:44, 28:68] - plain[20:44, 28:68]).mean() > 2


def photo_zoom(overrides: list[str], photo, count: int = 4) -> list[torch.Tensor]:
    """``count`` frames of a tiny zoom from ``photo`` with the stub engine, LAB coherence, ``overrides``."""
    cfg = typed_config(compose_preset("smoke", [f"input={photo}", f"frames={count}", *overrides]))
    plan = plan_render(cfg)
    engine = StubEngine(plan.timeline)
    state = initial_state(plan, engine)
    return [advance(state, engine, plan.camera, plan.cfg).clone() for _ in range(count)]


def mean_ab(frame: torch.Tensor) -> tuple[float, float]:
    from render.ops.color import channel_stats

    mean = channel_stats(frame, "lab")[0][0, :, 0, 0]
    return mean[1].item(), mean[2].item()


def test_hue_turn_turns_the_held_palette_as_scheduled(zoom_photo):
    import math

    photo = zoom_photo / "photo.png"
    held = photo_zoom([], photo)
    turned = photo_zoom(["color.hue_turn=30"], photo)
    assert torch.equal(held[0], turned[0])  # the turn is per frame: frame 0 is not turned
    angles = [math.degrees(math.atan2(b, a)) for a, b in (mean_ab(held[3]), mean_ab(turned[3]))]
    assert (angles[1] - angles[0]) % 360 == pytest.approx(90.0, abs=6.0)  # frames 1, 2, 3: three turns of 30


def test_palette_anchor_image_holds_its_palette_and_none_holds_none(zoom_photo, tmp_path):
    import imageio.v3 as iio

    teal = np.zeros((16, 16, 3), np.uint8)
    teal[..., 1:] = 150
    teal[::2, ::2] = 90  # some spread
    iio.imwrite(tmp_path / "teal.png", teal)
    photo = zoom_photo / "photo.png"
    anchored = photo_zoom([f"color.anchor={tmp_path / 'teal.png'}"], photo, count=2)
    a, b = mean_ab(anchored[1])
    assert a < -10 and b < -5  # teal, though the photo is warm
    free = photo_zoom(["color.anchor=none"], photo, count=2)
    unmatched = photo_zoom(["color.coherence=none"], photo, count=2)
    assert all(torch.equal(x, y) for x, y in zip(free, unmatched))
