"""The beat grid: conversions, schedule variables, keys at any frame rate, and the tempo found in audio."""

from pathlib import Path

import numpy as np
import pytest

from dream.errors import UserError
from render.config import TempoConfig
from render.media.audio import ANALYSIS_SAMPLE_RATE, AudioTrack
from render.ops.tempo import (
    TempoGrid,
    announce_tempo,
    find_tempo,
    grid_lines,
    tempo_grid,
    tempo_schedule_parts,
    tempo_variables,
)
from render.schedule import ScheduleContext, ScheduleError, TimeBase
from render.tools.bench_tempo import click_track, drum_loop


def track(samples: np.ndarray) -> AudioTrack:
    return AudioTrack(Path("test.wav"), samples, ANALYSIS_SAMPLE_RATE)


# ------------------------------------------------------------------ the grid


def test_seconds_beats_and_bar_beat_convert_both_ways():
    grid = TempoGrid(bpm=120, offset=0.5, meter=4)
    assert grid.seconds_of_beat(0) == 0.5 and grid.seconds_of_beat(3) == 2.0 and grid.seconds_of_beat(-1) == 0.0
    assert grid.beat_of_seconds(2.0) == 3.0
    assert grid.seconds_of_bar_beat(2, 1) == 2.5 and grid.seconds_of_bar_beat(1, 2.5) == 1.25
    assert grid.bar_beat_of_seconds(2.5) == (2, 1.0) and grid.bar_beat_of_seconds(1.25) == (1, 2.5)
    times = np.linspace(0, 20, 41)
    np.testing.assert_allclose(grid.seconds_of_beat(grid.beat_of_seconds(times)), times)


def test_a_tempo_change_takes_over_at_its_bars_downbeat():
    grid = TempoGrid(bpm=120, offset=0.0, meter=4, changes=((3, 60.0),))  # bars 1-2 at 0.5 s a beat, then 1 s
    assert grid.seconds_of_bar_beat(3, 1) == 4.0
    assert grid.seconds_of_bar_beat(3, 2) == 5.0 and grid.seconds_of_bar_beat(4, 1) == 8.0
    assert grid.beat_of_seconds(6.0) == 10.0 and grid.bar_beat_of_seconds(6.0) == (3, 3.0)
    times = np.linspace(0, 20, 81)
    np.testing.assert_allclose(grid.seconds_of_beat(grid.beat_of_seconds(times)), times)


def test_variables_count_beats_and_bars_from_the_offset_in_the_middle_of_each_frame():
    variables = tempo_variables(TempoGrid(bpm=90, offset=0.2 + 0.5 / 30, meter=3), fps=30)
    frames = np.array([0, 6, 26, 66, 86])  # frame 6's middle is the first downbeat; a beat is 20 frames
    np.testing.assert_allclose(variables.at("beat", frames, "x"), [-0.3, 0, 1, 3, 4])
    np.testing.assert_allclose(variables.at("bar", frames, "x"), [-0.1, 0, 1 / 3, 1, 4 / 3])
    np.testing.assert_allclose(variables.at("beat_phase", frames, "x"), [0.7, 0, 0, 0, 0], atol=1e-12)
    np.testing.assert_allclose(variables.at("bar_phase", frames, "x"), [0.9, 0, 1 / 3, 0, 1 / 3], atol=1e-12)


@pytest.mark.parametrize("fps", [24, 30, 60])
def test_a_beat_pulse_peaks_on_the_frame_its_key_lands_on(fps):
    grid = TempoGrid(bpm=97, offset=0.137)
    context = ScheduleContext(fps * 10, variables=tempo_variables(grid, fps), time=TimeBase(fps, grid))
    zoom = context.parse("0:(1.0 + 0.04*hit(beat))", "motion.zoom").table
    peaks = np.flatnonzero((zoom[1:-1] > zoom[:-2]) & (zoom[1:-1] >= zoom[2:])) + 1
    keys = [context.key_frame(f"{1 + beat // 4}:{1 + beat % 4}", "x") for beat in range(len(peaks))]
    assert peaks.tolist() == keys and len(keys) == 16


def test_an_endless_render_keeps_counting_beats_and_never_loops():
    variables = tempo_variables(TempoGrid(bpm=120, offset=0.5 / 24), fps=24, frames=None)
    assert variables.at("beat", np.array([24 * 3600 * 10]), "x")[0] == 2 * 3600 * 10  # ten hours on


def test_without_a_tempo_the_variables_say_how_to_give_one():
    variables = tempo_variables(None, fps=30)
    assert not variables.values and "tempo.bpm=N" in variables.missing["bar"]


@pytest.mark.parametrize("fps", [24, 30, 60])
def test_the_same_schedule_at_24_30_and_60_fps_puts_every_keyframe_within_half_a_frame_of_its_time(fps):
    grid = TempoGrid(bpm=97, offset=0.137, meter=4, changes=((5, 133.0),))
    keys = {"1:1": 1.0, "2:3": 1.2, "3:2.5": 0.9, "5:1": 1.1, "6:4": 1.3, "7:1": 1.0, "9.25s": 1.05}
    context = ScheduleContext(round(30 * fps), time=TimeBase(fps, grid))
    values = context.parse(", ".join(f"{key}:({value})" for key, value in keys.items()), "motion.zoom").table
    for key, value in keys.items():
        seconds = float(key[:-1]) if key.endswith("s") else grid.seconds_of_bar_beat(*map(float, key.split(":")))
        frame = context.key_frame(key, "motion.zoom")
        assert abs(frame / fps - seconds) <= 0.5 / fps + 1e-9
        assert values[frame] == pytest.approx(value)


def test_grid_lines_mark_downbeats_and_the_other_beats():
    bars, beats = grid_lines(TempoGrid(bpm=120, offset=0.25, meter=4), frames=60, fps=10)  # a beat is 5 frames
    np.testing.assert_allclose(bars, [2.5, 22.5, 42.5])
    np.testing.assert_allclose(beats, [7.5, 12.5, 17.5, 27.5, 32.5, 37.5, 47.5, 52.5, 57.5])


# ------------------------------------------------------------------ config


def test_offset_defaults_to_zero_with_a_given_tempo_and_changes_are_sorted():
    grid = tempo_grid(TempoConfig(bpm=128, changes={33: 140, 17: 100}))
    assert (grid.bpm, grid.offset, grid.meter, grid.changes, grid.found) == (128, 0, 4, ((17, 100), (33, 140)), ())


def test_no_bpm_is_no_grid_and_bar_keys_say_how_to_give_one():
    parts = tempo_schedule_parts(TempoConfig(), fps=30, frames=10)
    assert parts.grid is None and parts.record == {}
    with pytest.raises(ScheduleError, match=r"bar:beat key needs a tempo: give tempo.bpm=N .*\n.*\n  \s*\^"):
        ScheduleContext(10, time=parts.time).parse("0:(1), 2:1:(2)", "motion.zoom")


def test_auto_without_a_soundtrack_is_a_clear_error():
    with pytest.raises(UserError, match="tempo.bpm=auto .* pass audio="):
        tempo_grid(TempoConfig(bpm="auto"))


def test_given_values_are_recorded_and_not_announced():
    parts = tempo_schedule_parts(TempoConfig(bpm=120, offset=0.5, meter=3), fps=30, frames=10)
    said = []
    assert announce_tempo(parts, said.append) == {"tempo": parts.record["tempo"]} and not said
    assert parts.record["tempo"] == {"bpm": 120, "offset": 0.5, "meter": 3, "changes": {}, "found": []}


# ------------------------------------------------------------------ auto


@pytest.mark.parametrize("bpm", [90, 120, 174])
def test_auto_finds_a_click_tracks_tempo_within_1_bpm_and_its_offset_within_one_frame(bpm):
    found_bpm, offset = find_tempo(track(click_track(bpm, 5.0, offset=0.137)))
    assert abs(found_bpm - bpm) < 1.0
    assert abs(offset - 0.137) < 1 / 60


def test_auto_finds_a_drum_loops_tempo_and_first_downbeat():
    found_bpm, offset = find_tempo(track(drum_loop(100, 6.0, offset=0.31)))
    assert abs(found_bpm - 100) < 1.0 and abs(offset - 0.31) < 1 / 60


def test_auto_offset_with_a_given_tempo_finds_the_first_beat():
    bpm, offset = find_tempo(track(click_track(120, 4.0, offset=0.0)), bpm=120.0)
    assert bpm == 120.0 and abs(offset) < 1 / 60


def test_auto_is_announced_and_recorded():
    parts = tempo_schedule_parts(TempoConfig(bpm="auto"), fps=30, frames=90, soundtrack=track(click_track(120, 3.0)))
    said = []
    record = announce_tempo(parts, said.append)["tempo"]
    assert record["found"] == ["bpm", "offset"] and abs(record["bpm"] - 120) < 1
    assert len(said) == 1 and "bpm" in said[0] and "found in the audio" in said[0]


def test_silence_is_a_clear_error_that_says_to_give_the_tempo():
    with pytest.raises(UserError, match=r"No tempo can be found in 'test.wav': the track is silent\. .*tempo.bpm=N"):
        find_tempo(track(np.zeros(ANALYSIS_SAMPLE_RATE * 2, dtype=np.float32)))
