"""The drift measures of a long zoom: per frame, per window, judged against the first window, plotted."""

from __future__ import annotations

import imageio.v3 as iio
import numpy as np
import pytest
import torch

from render.tools.drift import frame_measures, judged, main, plot, windows


def test_frame_measures_see_grey_colour_detail_and_clipping():
    grey = frame_measures(torch.full((1, 3, 8, 8), 0.5))
    assert grey["lightness"] == pytest.approx(53.4, abs=0.5) and grey["detail"] == 0.0
    assert grey["saturation"] == pytest.approx(0.0) and grey["clipped"] == 0.0 and abs(grey["a"]) < 0.1
    checker = torch.zeros(1, 3, 8, 8)
    checker[..., ::2, ::2] = 1.0
    busy = frame_measures(checker)
    assert busy["detail"] > 50 and busy["clipped"] == 1.0 and busy["lightness_spread"] > 30
    red = torch.zeros(1, 3, 4, 4)
    red[:, 0] = 0.8
    assert frame_measures(red)["saturation"] == pytest.approx(1.0) and frame_measures(red)["a"] > 40


def steady(count: int, **changes) -> list[dict[str, float]]:
    base = {"lightness": 50.0, "lightness_spread": 10.0, "colour_spread": 20.0, "a": 0.0, "b": 0.0,
            "saturation": 0.3, "detail": 5.0, "clipped": 0.01}
    return [{**base, **changes} for _ in range(count)]


def test_windows_hold_within_fifteen_percent_and_catch_blur_burn_out_and_casts():
    rows = windows(steady(10) + steady(10, detail=4.5) + steady(5, lightness=56.0), 10)
    assert [(r["first"], r["last"]) for r in rows] == [(0, 9), (10, 19), (20, 24)]
    assert [v["holds"] for v in judged(rows)] == [True, True, True]  # -10 % detail, +12 % lightness
    for change in ({"detail": 4.0}, {"clipped": 0.02}, {"a": 4.0}):  # blur, burn-out, a colour cast
        rows = windows(steady(10) + steady(10, **change), 10)
        assert [v["holds"] for v in judged(rows)] == [True, False]
    assert windows(steady(10) + steady(10, a=4.0), 10)[1]["colour_cast"] == pytest.approx(0.2)


def test_the_command_measures_png_frames_and_plots_them(tmp_path, capsys):
    frames = tmp_path / "frames"
    frames.mkdir()
    generator = np.random.default_rng(0)
    for index in range(6):
        iio.imwrite(frames / f"frame_{index:06d}.png", generator.integers(40, 200, (12, 16, 3), dtype=np.uint8))
    main([str(tmp_path), "--window", "3", "--plot", str(tmp_path / "drift.png")])
    out = capsys.readouterr().out
    assert "6 frames in windows of 3" in out and out.count("yes") == 2
    assert iio.imread(tmp_path / "drift.png").shape[1] == 960
    rows = windows(steady(4), 2)
    assert plot(steady(4), rows, tmp_path / "flat.png").is_file()  # constant measures draw without dividing by 0
