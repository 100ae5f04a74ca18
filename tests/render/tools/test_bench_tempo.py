"""The generated tracks bench_tempo measures auto tempo on: clicks and drum hits where the beats are."""

import numpy as np

from render.media.audio import ANALYSIS_SAMPLE_RATE, decode_audio
from render.tools.bench_tempo import click_track, drum_loop, write_wav


def onsets(samples: np.ndarray) -> list[float]:
    """Seconds where the track sounds after 10 ms or more of quiet."""
    loud = np.flatnonzero(np.abs(samples) > 0.05)
    starts = loud[np.concatenate([[True], np.diff(loud) > 0.01 * ANALYSIS_SAMPLE_RATE])]
    return starts / ANALYSIS_SAMPLE_RATE


def test_a_click_track_clicks_on_every_beat_from_its_offset():
    clicks = onsets(click_track(120, 2.0, offset=0.25))
    np.testing.assert_allclose(clicks, [0.25, 0.75, 1.25, 1.75], atol=1e-3)


def test_a_drum_loop_has_its_first_hit_at_the_offset_and_stays_in_range():
    loop = drum_loop(100, 3.0, offset=0.4)
    assert len(loop) == 3 * ANALYSIS_SAMPLE_RATE and np.abs(loop).max() <= 1.0
    assert np.abs(loop[: int(0.4 * ANALYSIS_SAMPLE_RATE)]).max() == 0 and np.abs(loop).max() > 0.5


def test_write_wav_writes_what_ffmpeg_decodes_back(tmp_path):
    samples = click_track(90, 1.0)
    decoded = decode_audio(write_wav(tmp_path / "clicks.wav", samples)).samples
    assert len(decoded) == len(samples) and np.abs(decoded - samples).max() < 1e-3
