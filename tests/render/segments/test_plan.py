"""Segments of a video dream: the split, the warm-up, and what a segment renders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dream.errors import UserError
from render.config import SegmentConfig
from render.segments.plan import SegmentSpan, check_segment_keys, frame_seed, segment_span
from render.tools.bench_video import make_pan_clip
from tests.compose import compose_preset
from tests.render.modes.test_video_dream import decoded, dream_video


@pytest.mark.parametrize(("total", "count"), [(10, 1), (10, 3), (240, 4), (7, 7), (301, 4)])
def test_segments_cover_every_frame_once_in_order(total, count):
    spans = [segment_span(SegmentConfig(count, index, warmup=5), total) for index in range(count)]
    kept = [frame for span in spans for frame in range(span.first, span.end)]
    assert kept == list(range(total))
    assert max(s.end - s.first for s in spans) - min(s.end - s.first for s in spans) <= 1


def test_warmup_starts_earlier_but_never_before_frame_0():
    spans = [segment_span(SegmentConfig(4, index, warmup=30), 240) for index in range(4)]
    assert [(s.start, s.first, s.end) for s in spans] == [(0, 0, 60), (30, 60, 120), (90, 120, 180), (150, 180, 240)]
    assert segment_span(SegmentConfig(4, 1, warmup=100), 240).start == 0
    assert spans[2].as_meta()["warmup_frames"] == 30


def test_each_seam_is_a_dissolve_then_the_next_segments_first_frames():
    spans = [segment_span(SegmentConfig(4, index, warmup=30, crossfade=20), 240) for index in range(4)]
    assert [(s.incoming_seam, s.outgoing_seam) for s in spans] == [
        (range(0, 0), range(40, 60)), (range(40, 80), range(100, 120)), (range(100, 140), range(160, 180)),
        (range(160, 200), range(240, 240))]
    assert [s.seam_cut for s in spans] == [0, 80, 140, 200]
    assert [i for i in range(240) if spans[1].keeps_losslessly(i)] == [*range(40, 80), *range(100, 120)]
    for before, after in zip(spans, spans[1:]):  # the dissolve: the end of one, the warm-up of the next
        assert before.outgoing_seam == range(after.incoming_seam.start, after.first)
        assert after.start <= after.incoming_seam.start
    assert spans[1].as_meta()["incoming_seam"] == [40, 80] and spans[3].as_meta()["outgoing_seam"] is None


def test_crossfade_is_at_most_the_warmup_and_half_the_shortest_segment():
    assert segment_span(SegmentConfig(4, 1, warmup=10, crossfade=30), 240).crossfade == 10
    assert segment_span(SegmentConfig(4, 1, warmup=30, crossfade=30), 50).crossfade == 6
    assert not segment_span(SegmentConfig(4, 1, warmup=30, crossfade=0), 240).incoming_seam
    assert segment_span(SegmentConfig(1, 0, warmup=30, crossfade=30), 240).crossfade == 0


def test_each_frame_has_its_own_jitter_seed_the_same_in_every_render():
    seeds = [frame_seed(7, index) for index in range(100)]
    assert len(set(seeds)) == 100 and seeds == [frame_seed(7, index) for index in range(100)]
    assert not set(seeds) & {frame_seed(8, index) for index in range(100)}


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        (["segment.count=0"], ["segment.count", "at least 1"]),
        (["segment.warmup=-1"], ["segment.warmup"]),
        (["segment.crossfade=-2"], ["segment.crossfade", "(-2)"]),
        (["segment.count=4", "segment.index=4"], ["segment.index", "0..3", "range(4)"]),
    ],
)
def test_bad_segment_keys_are_user_errors(overrides, words):
    with pytest.raises(UserError) as err:
        check_segment_keys(compose_preset("video_dream", ["input=clip.mp4", *overrides]).segment)
    for word in words:
        assert word in str(err.value)


def test_more_segments_than_frames_is_a_user_error():
    with pytest.raises(UserError, match="more than the 5 frames"):
        segment_span(SegmentConfig(6, 0), 5)


@pytest.fixture(scope="module")
def pan(tmp_path_factory) -> tuple[Path, list[np.ndarray]]:
    """A 24-frame panning clip and its sequential render's frames."""
    folder = tmp_path_factory.mktemp("segment")
    clip = make_pan_clip(folder / "pan.mp4", "testsrc2", 64, 48, 1.0, rate="24")
    meta = dream_video(clip, folder / "sequential")
    return clip, decoded(folder / "sequential" / meta["media"])


def mean_difference(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.float64) - b.astype(np.float64)).mean())


def test_first_segment_equals_the_sequential_render(pan, tmp_path):
    clip, sequential = pan
    meta = dream_video(clip, tmp_path / "seg0", "segment.count=2", "segment.index=0")
    frames = decoded(tmp_path / "seg0" / meta["media"])
    assert meta["frames"] == len(frames) == 12 and meta["segment"]["warmup_frames"] == 0
    assert all(np.array_equal(a, b) for a, b in zip(frames, sequential[:12]))


def test_warmup_brings_the_first_kept_frame_close_to_the_sequential_one(pan, tmp_path):
    clip, sequential = pan
    cold = dream_video(clip, tmp_path / "cold", "segment.count=2", "segment.index=1", "segment.warmup=0")
    warm = dream_video(clip, tmp_path / "warm", "segment.count=2", "segment.index=1", "segment.warmup=10")
    cold_frames, warm_frames = decoded(tmp_path / "cold" / cold["media"]), decoded(tmp_path / "warm" / warm["media"])
    assert warm["frames"] == cold["frames"] == len(warm_frames) == 12  # the warm-up frames are dropped
    assert warm["segment"] == {"index": 1, "count": 2, "start": 2, "first": 12, "end": 24, "warmup_frames": 10,
                               "crossfade": 6, "incoming_seam": [6, 18], "outgoing_seam": None}
    warm_gap = mean_difference(warm_frames[0], sequential[12])
    cold_gap = mean_difference(cold_frames[0], sequential[12])
    assert warm_gap < 0.8 * cold_gap, (warm_gap, cold_gap)


def test_a_span_comes_back_from_its_meta_json_entry():
    span = segment_span(SegmentConfig(4, 2, warmup=30, crossfade=20), 240)
    assert SegmentSpan.from_meta(span.as_meta()) == span
    hard_cut = {key: value for key, value in span.as_meta().items() if key != "crossfade"}  # joined without seams
    assert not SegmentSpan.from_meta(hard_cut).incoming_seam
