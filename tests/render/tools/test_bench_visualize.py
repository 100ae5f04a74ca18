"""``render.tools.bench_visualize``: a share of a picture's steps, timed."""

from dream.visualize import Detail
from render.tools.bench_visualize import scaled_detail, time_picture
from render.tools.quality import preset_settings


def test_scaled_detail_keeps_the_schedule_and_at_least_one_step():
    assert scaled_detail(Detail(320, 48, 0.25), 1 / 16) == Detail(320, 3, 0.25)
    assert scaled_detail(Detail(320, 4), 0.01).steps == 1


def test_time_picture_runs_the_visualisation(tiny_net):
    settings = preset_settings(["visualize.crops=2", "visualize.crop_size=12"])
    assert time_picture([tiny_net], "banana", 24, 2, Detail(coarse_size=12, steps=1), settings) > 0
