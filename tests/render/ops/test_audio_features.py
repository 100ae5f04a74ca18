"""Audio features on synthetic tracks: onsets on the right frame, loudness follows the level, bands separate."""

from __future__ import annotations

import numpy as np
import pytest

from render.media.audio import decode_audio
from render.ops.audio_features import (
    FEATURE_NAMES,
    audio_features,
    fit_to_frames,
    frame_count,
    load_features,
    normalise,
    save_features,
    smooth,
)
from tests.render.media.test_audio import click_track, make_track

CLICKS = [0.5, 1.13, 1.71, 2.42, 3.05]  # irregular, so no frame rate lands them all on frame starts


@pytest.fixture(scope="module")
def clicks(tmp_path_factory):
    return decode_audio(click_track(tmp_path_factory.mktemp("audio") / "clicks.wav", CLICKS, 3.5))


def peaks(values: np.ndarray, floor: float = 0.3) -> list[int]:
    """Frames where ``values`` (F,) rises above ``floor`` from below: the onsets it shows."""
    above = values > floor
    return [int(k) for k in np.flatnonzero(above[1:] & ~above[:-1]) + 1]


@pytest.mark.parametrize("fps", [24.0, 30.0, 30000 / 1001])
def test_beat_marks_every_click_within_one_frame(clicks, fps):
    features = audio_features(clicks.samples, clicks.sample_rate, fps, smoothing=0.1)
    found = peaks(features["beat"])
    assert len(found) == len(CLICKS), found
    for frame, seconds in zip(found, CLICKS, strict=True):
        assert abs(frame - seconds * fps) <= 1.0, (frame, seconds * fps)


def test_every_feature_is_per_frame_and_normalised(clicks):
    fps = 30.0
    features = audio_features(clicks.samples, clicks.sample_rate, fps, smoothing=0.1)
    assert set(features) == set(FEATURE_NAMES)
    for values in features.values():
        assert values.shape == (frame_count(3.5, fps),) == (105,)
        assert values.min() == 0.0 and values.max() == 1.0


def test_loudness_rises_monotonically_with_a_tone_that_gets_louder(tmp_path):
    track = decode_audio(make_track(tmp_path / "swell.wav", "(t/3)*sin(2*PI*330*t)", 3.0))
    loud = audio_features(track.samples, track.sample_rate, 24.0, smoothing=0.1)["loud"]
    inner = loud[2:-2]  # the first and last analysis windows reach past the track's ends
    assert np.all(np.diff(inner) > 0), np.round(inner, 3)
    assert inner[0] < 0.05 and inner[-1] > 0.9


def test_bands_separate_a_low_tone_from_a_high_one(tmp_path):
    low_then_high = "0.5*if(lt(t,1.5),sin(2*PI*80*t),sin(2*PI*5000*t))"
    track = decode_audio(make_track(tmp_path / "low_high.wav", low_then_high, 3.0))
    features = audio_features(track.samples, track.sample_rate, 30.0, smoothing=0.0)
    first, second = slice(5, 40), slice(50, 85)  # away from the switch at frame 45
    assert features["low"][first].min() > 0.8 and features["low"][second].max() < 0.05
    assert features["high"][second].min() > 0.8 and features["high"][first].max() < 0.05
    assert features["mid"][first].max() < 0.2 and features["mid"][second].max() < 0.2


def test_smoothing_keeps_the_peak_frame_and_releases_after_it():
    impulse = np.zeros(10)
    impulse[3] = 1.0
    released = smooth(impulse, release=0.5)
    assert released[:3].tolist() == [0.0] * 3 and released[3] == 1.0
    assert released[4:7].tolist() == [0.5, 0.25, 0.125]
    assert smooth(impulse, release=0.0).tolist() == impulse.tolist()


def test_normalise_maps_the_track_onto_0_to_1_and_a_flat_track_to_0():
    assert normalise(np.array([2.0, 4.0, 3.0])).tolist() == [0.0, 1.0, 0.5]
    assert normalise(np.full(4, 7.0)).tolist() == [0.0] * 4


def test_fit_to_frames_pads_with_silence_trims_and_wraps_a_loops_head():
    features = {"beat": np.arange(1.0, 6.0)}  # frames 0..4 of the track hold 1..5
    assert fit_to_frames(features, 7)["beat"].tolist() == [1, 2, 3, 4, 5, 0, 0]
    assert fit_to_frames(features, 3)["beat"].tolist() == [1, 2, 3]
    # A loop of 4 shown frames dreams 2 head frames first: they stand for the loop's last two frames.
    assert fit_to_frames(features, 6, shift=2)["beat"].tolist() == [3, 4, 1, 2, 3, 4]
    assert not fit_to_frames(features, 3)["beat"].flags.writeable


def test_features_are_stored_in_the_run_folder_and_read_back_only_for_the_same_source(tmp_path):
    features = {name: np.linspace(0, 1, 5) * i for i, name in enumerate(FEATURE_NAMES)}
    info = {"audio": "song.mp3", "fps": 30.0, "smoothing": 0.1}
    save_features(tmp_path, features, info)
    loaded = load_features(tmp_path, dict(info))
    assert all(np.array_equal(loaded[name], features[name]) for name in FEATURE_NAMES)
    assert load_features(tmp_path, {**info, "fps": 24.0}) is None
    assert load_features(tmp_path / "elsewhere", info) is None
