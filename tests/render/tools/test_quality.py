"""``render.tools.quality``: the rows measured, judging by held-out networks, the report and its gallery card."""

import json

import torch

from dream.visualize import LUCID_ROBUSTNESS, PLAIN, Robustness
from render.tools.gallery import find_runs
from render.tools.quality import (
    HELD_OUT_JUDGE,
    SOURCES,
    Setting,
    background_noise,
    coarse,
    object_coverage,
    picture_table,
    preset_settings,
    results_table,
    run_setting,
    save_report,
    settings_table,
)
from tests.conftest import make_tiny_net

TINY_CROPS = Robustness(crops=2, crop_range=(0.5, 1.0), crop_size=12, noise=0.0)


def test_the_table_measures_the_preset_default_first_against_both_baselines():
    default = preset_settings()
    assert default.parameterization == "maco" and default.ensemble[0] == SOURCES["ensemble"][0]
    rows = settings_table(default, steps=7, baseline_steps=5)
    assert [row.name for row in rows] == [
        "maco/ensemble", "maco/one", "fourier/one", "pixel/one", "fourier/ensemble", "pixel/ensemble",
    ]  # fmt: skip
    assert rows[0].steps == 7 and rows[0].size == default.size and rows[0].robust.crops == default.crops
    assert {row.robust for row in rows[2:]} == {LUCID_ROBUSTNESS, PLAIN} and rows[2].steps == 5
    assert HELD_OUT_JUDGE not in sum(SOURCES.values(), ())  # the judge was never optimised against


def test_rows_judged_reported_and_shown_in_the_gallery(tiny_net, tmp_path):
    labels = ["banana", "zebra"]
    nets = {"efficientnet_lite0": tiny_net, "efficientnet_lite2": make_tiny_net(seed=1)}
    judges = {HELD_OUT_JUDGE: make_tiny_net(seed=2)}
    settings = [Setting("maco", "ensemble", TINY_CROPS, 16, 2), Setting("pixel", "one", PLAIN, 12, 2)]
    lines = []
    rows = [run_setting(setting, nets, judges, labels, seed=0, log=lines.append) for setting in settings]
    assert len(lines) == 4 and rows[0].images[0].shape == (1, 3, 16, 16)
    assert len(rows[1].top5[HELD_OUT_JUDGE]) == len(rows[1].top5[f"{HELD_OUT_JUDGE} 1/4"]) == 2
    assert len(rows[1].seconds) == 2 and len(rows[0].coverage) == len(rows[0].noise) == 2
    assert "mean cover" in picture_table(labels, rows, HELD_OUT_JUDGE).caption
    assert "top-5" in results_table(labels, rows, HELD_OUT_JUDGE).caption
    save_report(labels, rows, tmp_path, {"seed": 0})
    report = json.loads((tmp_path / "transfer.json").read_text())
    assert set(report["results"]) == {"maco/ensemble", "pixel/one"}
    hits = report["results"]["maco/ensemble"]["hits"][HELD_OUT_JUDGE]
    top5 = report["results"]["maco/ensemble"]["top5"][HELD_OUT_JUDGE]
    assert len(report["results"]["pixel/one"]["object_coverage"]) == 2
    assert report["results"]["maco/ensemble"]["judge_top1"] == [top[0][0] for top in top5]
    assert hits["top5"] == sum(label in [name for name, _ in top] for label, top in zip(labels, top5))
    assert (tmp_path / "transfer_sheet.png").is_file() and (tmp_path / "classes_sheet.png").is_file()
    assert (tmp_path / "images" / "maco_ensemble_zebra.png").is_file()
    assert find_runs([tmp_path]) == [tmp_path.resolve()]
    assert json.loads((tmp_path / "meta.json").read_text())["media"] == "classes_sheet.png"


def test_same_seed_same_images(tiny_net):
    nets = {"efficientnet_lite0": tiny_net}
    setting = Setting("maco", "one", TINY_CROPS, 16, 2)
    first, again = (run_setting(setting, nets, {}, ["banana"], 0, lambda _: None) for _ in range(2))
    assert torch.equal(first.images[0], again.images[0])


def test_coarse_view_keeps_shapes_and_drops_fine_texture():
    checker = (torch.arange(64)[:, None] + torch.arange(64)[None, :]) % 2  # 1-pixel checkerboard
    images = torch.stack([checker.float().expand(3, -1, -1), torch.ones(3, 64, 64)])
    seen = coarse(images, size=16)
    assert seen.shape == images.shape
    assert torch.allclose(seen[0], torch.full_like(seen[0], 0.5), atol=1e-4)  # texture gone
    assert torch.allclose(seen[1], images[1])  # flat areas stay


def test_coverage_is_the_share_of_important_pixels():
    importance = torch.zeros(2, 1, 10, 10)
    importance[0, :, :5] = 1.0  # the top half
    importance[1, :, :, :2] = 0.4  # faint: below the threshold
    assert object_coverage(importance) == [0.5, 0.0]


def test_background_noise_reads_the_fine_mottle_outside_the_object_only():
    generator = torch.Generator().manual_seed(0)
    mottle = torch.rand(1, 1, 320, 320, generator=generator).expand(-1, 3, -1, -1)
    smooth = torch.linspace(0, 1, 320).expand(1, 3, 320, 320)  # a gentle gradient: calm
    importance = torch.zeros(1, 1, 320, 320)
    importance[..., :160, :] = 1.0  # the object: the top half
    loud_object = torch.cat([mottle[..., :160, :], smooth[..., 160:, :]], dim=2)
    loud_background = torch.cat([smooth[..., :160, :], mottle[..., 160:, :]], dim=2)
    quiet, loud = background_noise(torch.cat([loud_object, loud_background]), importance.expand(2, -1, -1, -1))
    assert loud > 30 and quiet < loud / 20  # what is left: the blur reaching across the edge
