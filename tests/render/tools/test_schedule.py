"""``python -m render.schedule``: one line per frame, plots over the audio's envelope, exit 2 on bad input."""

import subprocess
import sys
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

from tests.render.media.test_audio import click_track

REPO = Path(__file__).resolve().parents[3]


def run_cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "render.schedule", *args], cwd=REPO, capture_output=True, text=True, timeout=60
    )


def test_cli_prints_one_line_per_frame_and_plots(tmp_path):
    plot = tmp_path / "zoom.png"
    result = run_cli("0:(1.04), 120:(1.0)", "--frames", "240", "--interpolation", "cubic", "--plot", str(plot))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 240
    assert lines[0] == "0\t1.04" and lines[239] == "239\t1"
    image = iio.imread(plot)
    assert image.ndim == 3 and image.shape[:2] == (240, 640)
    assert (image[..., 2] > 150).any() and (image[..., 0] < 60).any()  # the blue curve is drawn


def test_cli_bad_string_exits_2_without_traceback():
    result = run_cli("0:(1.04), 120:(1.0+))", "--frames", "240", "--name", "motion.zoom")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "motion.zoom: syntax error in keyframe 120" in result.stderr and "^" in result.stderr
    assert result.stdout == ""


def test_cli_with_audio_reads_features_at_fps_and_plots_over_the_envelope(tmp_path):
    track = click_track(tmp_path / "clicks.wav", [0.5, 1.2], 2.0)
    plot = tmp_path / "beat.png"
    result = run_cli("0:(1.0+0.04*beat)", "--fps", "30", "--audio", str(track), "--plot", str(plot))
    assert result.returncode == 0, result.stderr
    zoom = np.array([float(line.split("\t")[1]) for line in result.stdout.splitlines()])
    assert len(zoom) == 60  # 2 s at 30 fps
    assert zoom.max() == pytest.approx(1.04) and zoom.min() == pytest.approx(1.0)
    assert {int(np.argmax(zoom))} <= {15, 16, 36, 37} and zoom[15] > 1.02 and zoom[36] > 1.02 and zoom[10] == 1.0
    image = iio.imread(plot)
    grey = (image[..., 0] == 205) & (image[..., 1] == 205)
    red = (image[..., 0] == 250) & (image[..., 1] == 180)
    assert grey.any() and red.any()  # the loudness and beat envelopes are drawn behind the curve


def test_cli_audio_variable_without_audio_exits_2_with_the_fix():
    result = run_cli("0:(1.0+0.04*beat)", "--frames", "10")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "'beat' is an audio feature: pass --audio song.mp3" in result.stderr


def test_cli_with_a_tempo_takes_bar_beat_keys_and_plots_the_grid_under_the_curve(tmp_path):
    plot = tmp_path / "grid.png"
    result = run_cli("1:1:(1.0+0.03*hit(beat)), 3:1:(1.0+0.06*hit(beat))", "--frames", "100", "--fps", "10",
                     "--bpm", "120", "--offset", "0.5", "--plot", str(plot))
    assert result.returncode == 0, result.stderr
    zoom = np.array([float(line.split("\t")[1]) for line in result.stdout.splitlines()])
    peaks = np.flatnonzero((zoom[1:-1] > zoom[:-2]) & (zoom[1:-1] >= zoom[2:])) + 1
    assert peaks.tolist() == list(range(10, 100, 5))  # every beat from 1:2 (0.5 s is frame 5, a beat 5 frames)
    assert zoom[45] - 1 == pytest.approx(2 * (zoom[15] - 1))  # bar 3 (4.5 s) kicks twice as hard
    image = iio.imread(plot)
    bars = (image[..., 0] == 120) & (image[..., 1] == 120)
    beats = (image[..., 0] == 222) & (image[..., 1] == 222)
    assert len(np.flatnonzero(bars.sum(axis=0) > 100)) == 5  # downbeats at 0.5, 2.5, 4.5, 6.5, 8.5 s: full-height lines
    assert len(np.flatnonzero(beats.sum(axis=0) > 100)) > 5


@pytest.mark.slow
def test_cli_finds_the_tempo_of_its_audio(tmp_path):
    from render.tools import bench_tempo

    wav = bench_tempo.write_wav(tmp_path / "clicks.wav", bench_tempo.click_track(120, 4.0, offset=0.25))
    result = run_cli("0:(beat)", "--fps", "20", "--audio", str(wav), "--bpm", "auto")
    assert result.returncode == 0, result.stderr
    beat = [float(line.split("\t")[1]) for line in result.stdout.splitlines()]
    assert len(beat) == 80 and abs(beat[5]) < 0.1 and abs(beat[45] - 4) < 0.1  # 0.25 s is frame 5, 2.25 s is 45


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["0:(1), 2:1:(2)", "--frames", "50"], "a bar:beat key needs a tempo: pass --bpm N"),
        (["0:(bar)", "--frames", "50"], "'bar' is a tempo variable: pass --bpm N"),
        (["0:(1), 2:7:(2)", "--frames", "50", "--bpm", "90", "--meter", "6"], "beat 7 is past the meter"),
        (["0:(1)", "--frames", "50", "--bpm", "auto"], "pass audio="),
        (["0:(1)", "--frames", "50", "--bpm", "quick"], "--bpm is 'quick', but must be a number or auto"),
    ],
)
def test_cli_tempo_mistakes_exit_2_with_the_fix(args, message):
    result = run_cli(*args)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert message in result.stderr
