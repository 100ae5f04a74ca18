import math

import imageio_ffmpeg
import numpy as np
import pytest
from PIL import Image

from dream.errors import UserError
from render.run import run
from render.tools.seam import frame_difference, main, seam_report, seam_sheet
from tests.compose import compose_preset


def _write_video(path, levels: list[int], width: int = 32, height: int = 16):
    """A tiny mp4 of flat grey frames, frame i at brightness ``levels[i]``."""
    writer = imageio_ffmpeg.write_frames(str(path), (width, height), fps=10, macro_block_size=1)
    writer.send(None)
    for level in levels:
        writer.send(np.full((height, width, 3), level, np.uint8))
    writer.close()
    return path


@pytest.fixture(scope="module")
def cyclic(tmp_path_factory):
    """Brightness goes round a circle in 24 frames; the seam falls on the gentle top of the cosine."""
    levels = [round(128 + 60 * math.cos(2 * math.pi * i / 24)) for i in range(24)]
    return _write_video(tmp_path_factory.mktemp("seam") / "cyclic.mp4", levels)


@pytest.fixture(scope="module")
def ramp(tmp_path_factory):
    """Brightness climbs by 8 per frame over 12 frames, then playback jumps from 88 back to 0."""
    return _write_video(tmp_path_factory.mktemp("seam") / "ramp.mp4", [8 * i for i in range(12)])


def test_frame_difference_on_the_0_255_scale():
    black, white = Image.new("RGB", (4, 4), "black"), Image.new("RGB", (4, 4), "white")
    assert frame_difference(black, white) == 255.0
    assert frame_difference(white, white) == 0.0


def test_cyclic_clip_has_a_clean_seam(cyclic):
    report = seam_report(cyclic)
    assert report["frames"] == 24
    assert report["ok"] is True
    assert report["seam"] <= report["p95"]
    assert report["p95"] == pytest.approx(60 * 2 * math.pi / 24, abs=2.5)  # the steepest steps, ~15.7


def test_ramp_jumps_at_the_seam(ramp):
    report = seam_report(ramp)
    assert report["ok"] is False
    assert report["seam"] == pytest.approx(88, abs=3)
    assert report["p95"] == pytest.approx(8, abs=2)


def test_one_frame_has_no_seam(tmp_path):
    with pytest.raises(UserError, match="fewer than 2 frames"):
        seam_report(_write_video(tmp_path / "one.mp4", [50]))


def test_sheet_shows_the_last_then_the_first_frames(ramp, tmp_path):
    out = seam_sheet(ramp, tmp_path / "seam.png", around=3, width=48)
    with Image.open(out) as sheet:
        assert sheet.size == (6 * 48, 24)  # one row: frames 9, 10, 11 | 0, 1, 2
        pixels = np.asarray(sheet.convert("RGB")).astype(int)
    brightness = [pixels[16:, 48 * n:48 * (n + 1)].mean() for n in range(6)]  # below each label
    assert brightness == pytest.approx([72, 80, 88, 0, 8, 16], abs=4)


def test_cli_prints_both_numbers_and_exits_on_a_jump(ramp, cyclic, tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        main([str(ramp), "--sheet", str(tmp_path / "sheet.png")])
    assert info.value.code == 1
    out = capsys.readouterr().out
    assert "seam 8" in out and "p95 " in out and "JUMP" in out
    assert (tmp_path / "sheet.png").is_file()
    with pytest.raises(SystemExit) as info:
        main([str(cyclic)])
    assert info.value.code == 0 and "ok" in capsys.readouterr().out


def test_cli_missing_video(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        main([str(tmp_path / "missing.mp4")])
    assert info.value.code == 2 and "does not exist" in capsys.readouterr().err


@pytest.mark.slow
def test_smoke_loop_closes_on_itself(tmp_path):
    cfg = compose_preset("smoke", ["loop=true", "seed=5"])
    meta = run(cfg, tmp_path)
    video = tmp_path / meta["media"]
    report = seam_report(video)
    print(f"smoke loop seam {report['seam']:.3f} vs p95 of steps {report['p95']:.3f}")
    assert report["frames"] == cfg.frames
    assert report["ok"] is True, report
    seam_sheet(video, tmp_path / "seam.png")
    with Image.open(tmp_path / "seam.png") as sheet:
        assert sheet.size[0] == 8 * 160
