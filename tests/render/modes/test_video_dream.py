"""Dreaming over a video: the source's frames, rate, duration, size and audio; stability; resume; errors."""

from __future__ import annotations

import itertools
import json
import subprocess
from fractions import Fraction
from pathlib import Path
from types import SimpleNamespace

import imageio_ffmpeg
import numpy as np
import pytest
import torch

import render.media.stop
import render.modes.video_dream
from dream.errors import UserError
from render.media.video_source import VideoInfo, iter_video_frames, probe_video
from render.modes.video_dream import (
    VideoSchedules,
    VideoState,
    advance,
    batch_length,
    carried_detail,
    frames_to_next_cut,
    output_size,
    remember,
    snapshot_of,
    state_from,
    video_schedules,
)
from render.ops.flow import FlowSettings, FrameMotion
from render.ops.stability import measure_stability
from render.run import run
from render.segments.plan import SegmentSpan
from render.tools.bench_video import make_pan_clip
from tests.compose import compose_preset, timeline_of
from tests.render.media.test_video_source import make_clip

CPU = torch.device("cpu")
TINY_DREAM = ["dream.octaves=1", "dream.iterations=2", "output.checkpoint_every=4", "output.preset=ultrafast"]


def dream_video(clip: Path, run_dir: Path, *overrides: str) -> dict:
    return run(compose_preset("video_dream", [f"input={clip}", *TINY_DREAM, *overrides]), run_dir)


def decoded(path: Path) -> list[np.ndarray]:
    reader = imageio_ffmpeg.read_frames(str(path))
    width, height = next(reader)["size"]
    return [np.frombuffer(f, np.uint8).reshape(height, width, 3) for f in reader]


@pytest.fixture(scope="module")
def ntsc(tmp_path_factory) -> tuple[Path, Path, dict]:
    """A panning 64x48 clip at 29.97 fps with a tone, and its default render."""
    folder = tmp_path_factory.mktemp("ntsc")
    clip = make_pan_clip(folder / "pan.mp4", "testsrc2", 64, 48, 12 * 1001 / 30000, rate="30000/1001")
    meta = dream_video(clip, folder / "run")
    return clip, folder / "run", meta


def test_output_keeps_frames_fps_duration_and_audio(ntsc):
    clip, run_dir, meta = ntsc
    source, output = probe_video(clip), probe_video(run_dir / "video_dream.mp4")
    assert source.frames == 12 and source.fps_exact == Fraction(30000, 1001) and source.has_audio
    assert (output.frames, output.fps_exact, output.width, output.height) == (12, source.fps_exact, 64, 48)
    assert output.duration == pytest.approx(source.duration, abs=0.01)
    assert output.has_audio
    assert (meta["frames"], meta["fps_exact"], meta["width"], meta["height"]) == (12, "30000/1001", 64, 48)
    assert meta["source"]["has_audio"] and meta["flow"] == "dis/medium"


def test_frames_are_dreamed(ntsc):
    clip, run_dir, meta = ntsc
    pairs = zip(decoded(run_dir / "video_dream.mp4"), decoded(clip))
    assert np.mean([np.abs(out.astype(int) - src.astype(int)).mean() for out, src in pairs]) > 2
    assert meta["temporal_instability"]["output"] > 0 and meta["temporal_instability"]["source"] > 0


def test_portrait_without_audio(tmp_path):
    clip = make_clip(tmp_path / "portrait.mp4", "48x64", "25", 5, audio=False)
    meta = dream_video(clip, tmp_path / "run")
    output = probe_video(tmp_path / "run" / "video_dream.mp4")
    assert (output.width, output.height, output.frames, output.fps_exact) == (48, 64, 5, Fraction(25))
    assert not output.has_audio and meta["notes"] == []


def test_odd_source_size_is_kept(tmp_path):
    clip = tmp_path / "odd.mp4"
    source = "testsrc2=size=252x142:rate=25,scale=251:141,format=yuv444p"  # 4:4:4 stores odd sizes
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", source, "-frames:v", "3"]
    subprocess.run([*cmd, "-c:v", "libx264", str(clip)], check=True)
    meta = dream_video(clip, tmp_path / "run", "dream.iterations=1")
    assert (meta["width"], meta["height"], meta["frames"]) == (251, 141, 3)
    assert any("251x141" in note for note in meta["notes"])  # stored with one repeated column and row
    assert decoded(tmp_path / "run" / "video_dream.mp4")[0].shape == (142, 252, 3)


def test_width_alone_scales_and_keeps_the_aspect(ntsc, tmp_path):
    clip, _, _ = ntsc
    meta = dream_video(clip, tmp_path / "run", "width=37", "frames=3")
    assert (meta["width"], meta["height"], meta["frames"]) == (37, 28, 3)
    assert probe_video(tmp_path / "run" / "video_dream.mp4").frames == 3


def test_scene_cut_drops_the_previous_dream(tmp_path):
    clip = tmp_path / "cut.mp4"
    scenes = "testsrc2=size=64x48:rate=25:duration=0.24[a];mandelbrot=size=64x48:rate=25,trim=duration=0.2[b]"
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-filter_complex", f"{scenes};[a][b]concat=n=2"]
    subprocess.run([*cmd, "-c:v", "libx264", "-pix_fmt", "yuv420p", str(clip)], check=True)
    meta = dream_video(clip, tmp_path / "run", "dream.iterations=1")
    assert meta["frames"] == 11 and meta["scene_cuts"] == [6]


def test_output_size_rules():
    info = VideoInfo(640, 360, 25.0, Fraction(25), 10, 0.4, False)
    asked = [(None, None), (320, None), (None, 90), (100, 100)]
    sizes = [output_size(SimpleNamespace(width=w, height=h), info) for w, h in asked]
    assert sizes == [(640, 360), (320, 180), (160, 90), (100, 100)]


@pytest.mark.slow
def test_flow_blending_is_steadier_than_independent_frames(tmp_path):
    clip = make_pan_clip(tmp_path / "pan.mp4", "mandelbrot", 96, 64, 0.5)
    tiny = ["dream.iterations=3"]
    figures = {}
    for name, blend in (("blended", []), ("independent", ["video.blend=0"])):  # blended: the preset's default
        meta = dream_video(clip, tmp_path / name, *tiny, *blend)
        frames = iter_video_frames(tmp_path / name / meta["media"], device=CPU)
        figures[name] = measure_stability(frames, iter_video_frames(clip, device=CPU)).instability
    assert figures["blended"] < 0.7 * figures["independent"]


def test_resume_after_interruption_matches_uninterrupted(ntsc, tmp_path, monkeypatch):
    clip, run_dir, _ = ntsc
    real_advance = render.modes.video_dream.advance

    def interrupted(state, *args):
        if state.next_index == 6:
            raise KeyboardInterrupt
        return real_advance(state, *args)

    monkeypatch.setattr(render.modes.video_dream, "advance", interrupted)
    cfg = compose_preset("video_dream", [f"input={clip}", *TINY_DREAM])
    with pytest.raises(KeyboardInterrupt):
        run(cfg, tmp_path)
    monkeypatch.setattr(render.modes.video_dream, "advance", real_advance)
    meta = run(cfg, tmp_path, resume=True)
    assert meta["frames_rendered_now"] == 12 - 4  # checkpoint_every=4: frames 0-3 were kept
    resumed, straight = decoded(tmp_path / "video_dream.mp4"), decoded(run_dir / "video_dream.mp4")
    assert len(resumed) == 12
    assert all(np.array_equal(a, b) for a, b in zip(resumed, straight, strict=True))
    assert probe_video(tmp_path / "video_dream.mp4").has_audio


def stream_that_stops(after: int, error: UserError | None = None):
    real = render.modes.video_dream.iter_video_frames

    def frames(*args, **kwargs):
        yield from itertools.islice(real(*args, **kwargs), after)
        if error is not None:
            raise error

    return frames


def test_source_ending_early_writes_what_it_has(ntsc, tmp_path, monkeypatch):
    clip, run_dir, _ = ntsc
    monkeypatch.setattr(render.modes.video_dream, "iter_video_frames", stream_that_stops(5))
    meta = dream_video(clip, tmp_path / "run")
    assert meta["frames"] == 5 and probe_video(tmp_path / "run" / "video_dream.mp4").frames == 5
    assert any("ended after 5 of the 12 frames" in note for note in meta["notes"])
    early, full = decoded(tmp_path / "run" / "video_dream.mp4"), decoded(run_dir / "video_dream.mp4")
    assert all(np.array_equal(a, b) for a, b in zip(early, full[:5]))


def test_decode_error_midway_keeps_the_frames_before_it(ntsc, tmp_path, monkeypatch):
    clip, _, _ = ntsc
    monkeypatch.setattr(render.modes.video_dream, "iter_video_frames", stream_that_stops(3, UserError("bad packet")))
    meta = dream_video(clip, tmp_path / "run")
    assert meta["frames"] == 3 and any("bad packet" in note for note in meta["notes"])


def test_no_readable_frame_is_a_user_error(ntsc, tmp_path, monkeypatch):
    clip, _, _ = ntsc
    monkeypatch.setattr(render.modes.video_dream, "iter_video_frames", stream_that_stops(0, UserError("bad packet")))
    with pytest.raises(UserError, match="No frame of the input video"):
        dream_video(clip, tmp_path / "run")


@pytest.fixture(scope="module")
def broken_clips(tmp_path_factory, ntsc) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("broken")
    clip, _, _ = ntsc
    truncated = folder / "truncated.mp4"
    truncated.write_bytes(clip.read_bytes()[: clip.stat().st_size // 2])
    garbage = folder / "garbage.mp4"
    garbage.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8)
    no_frames = folder / "no_frames.mp4"
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=64x48"]
    subprocess.run([*cmd, "-frames:v", "0", str(no_frames)], check=True)
    return {"truncated": truncated, "garbage": garbage, "no_frames": no_frames, "missing": folder / "missing.mp4"}


@pytest.mark.parametrize("name", ["truncated", "garbage", "no_frames", "missing"])
def test_corrupt_or_empty_input_fails_clearly(broken_clips, tmp_path, name):
    with pytest.raises(UserError, match=broken_clips[name].name):
        dream_video(broken_clips[name], tmp_path / "run")


@pytest.mark.parametrize(("override", "key"), [("video.blend=1.5", "video.blend"),
                                               ("video.strength='0:(1), 5:(-1)'", "video.strength")])
def test_out_of_range_schedules_are_user_errors(override, key):
    with pytest.raises(UserError, match=key):
        video_schedules(timeline_of(10, [override]))


def test_batches_only_where_blend_is_zero():
    constant = SimpleNamespace(at=lambda i: 1.0)
    engine = SimpleNamespace(schedules=SimpleNamespace(at=lambda i: "same"),
                             plan=SimpleNamespace(weights_at=lambda i: ()))
    blend_from_4 = SimpleNamespace(at=lambda i: 0.0 if i < 4 else 0.5)
    schedules = VideoSchedules(blend_from_4, constant)
    lengths = [batch_length(VideoState(torch.Generator(), i), engine, schedules, 3, 10) for i in (0, 2, 3, 4)]
    assert lengths == [3, 2, 1, 1]
    never_blended = VideoSchedules(SimpleNamespace(at=lambda i: 0.0), constant)
    assert batch_length(VideoState(torch.Generator(), 8), engine, never_blended, 3, 10) == 2  # stops at the end


def still_motion(mask: torch.Tensor, scene_cut: bool = False) -> FrameMotion:
    """No motion, trusted where ``mask`` (1, 1, H, W) is 1."""
    return FrameMotion(torch.zeros(1, 2, *mask.shape[-2:]), mask, scene_cut)


def test_carried_detail_averages_the_frames_that_see_a_pixel_and_leaves_revealed_pixels_fresh():
    left, everywhere = torch.zeros(1, 1, 2, 4), torch.ones(1, 1, 2, 4)
    left[..., :2] = 1.0
    newest, older = torch.full((1, 3, 2, 4), 0.2), torch.full((1, 3, 2, 4), 0.4)
    weight, carried = carried_detail([(newest, still_motion(left)), (older, still_motion(left))], 0.5)
    assert torch.equal(weight, 0.5 * left) and torch.allclose(carried[..., :2], torch.tensor(0.3))
    assert carried[..., 2:].eq(0).all()  # seen by none: nothing is smeared in
    weight, carried = carried_detail([(newest, still_motion(left)), (older, still_motion(everywhere))], 1.0)
    assert weight.eq(1).all() and torch.allclose(carried[..., 2:], torch.tensor(0.4))  # back from further
    assert carried_detail([], 0.8) == (0.0, 0.0) and carried_detail([(newest, still_motion(left))], 0.0) == (0.0, 0.0)


def test_the_state_holds_the_older_frames_long_term_asks_for_and_drops_them_at_a_cut():
    state, frame = VideoState(torch.Generator()), lambda v: torch.full((1, 3, 2, 2), float(v))
    motion = still_motion(torch.ones(1, 1, 2, 2))
    for v in range(5):
        remember(state, frame(v), frame(10 + v), frame(20 + v), motion, keep=3)
    assert [d.mean().item() for _, d in state.older] == [13, 12, 11] and state.detail.mean().item() == 14
    remember(state, frame(5), frame(15), frame(25), still_motion(torch.zeros(1, 1, 2, 2), scene_cut=True), keep=3)
    assert state.older == [] and state.source.mean().item() == 5


class Brighter:
    """A stand-in network: the dream lifts the frame a little."""

    device = CPU

    def dream(self, frames, index, generator, mask=None):
        return (frames * 0.9 + 0.08).clamp(0, 1)


def test_a_state_restored_from_its_snapshot_carries_the_long_term_dream_on_identically():
    generator = torch.Generator().manual_seed(0)
    base = torch.rand(1, 3, 24, 32, generator=generator)
    sources = [base.roll(k, dims=3) for k in range(6)]
    schedules = VideoSchedules(SimpleNamespace(at=lambda i: 0.8), SimpleNamespace(at=lambda i: 1.0))
    straight = VideoState(torch.Generator())
    expected = [advance(straight, [s], Brighter(), schedules, FlowSettings(), (2, 4))[0] for s in sources]
    state = VideoState(torch.Generator())
    for s in sources[:4]:
        advance(state, [s], Brighter(), schedules, FlowSettings(), (2, 4))
    assert len(state.older) == 3
    resumed = state_from(snapshot_of(state), CPU)
    again = [advance(resumed, [s], Brighter(), schedules, FlowSettings(), (2, 4))[0] for s in sources[4:]]
    assert all(torch.equal(a, b) for a, b in zip(again, expected[4:]))


def test_batched_independent_frames_render_every_frame(ntsc, tmp_path):
    clip, _, _ = ntsc
    meta = dream_video(clip, tmp_path / "run", "video.blend=0", "video.batch=5")
    assert meta["frames"] == 12 and probe_video(tmp_path / "run" / "video_dream.mp4").frames == 12


@pytest.mark.slow
def test_schedules_read_the_sources_own_audio_by_default(ntsc, tmp_path):
    clip, _, _ = ntsc
    meta = dream_video(clip, tmp_path / "run", "video.strength='0:(0.4+0.6*loud)'")
    stored = np.load(tmp_path / "run" / "audio_features.npz")
    assert json.loads(str(stored["info"])) == {"audio": str(clip), "fps": 30000 / 1001, "smoothing": 0.1}
    assert meta["frames"] == 12 and probe_video(tmp_path / "run" / "video_dream.mp4").has_audio


def test_audio_variables_over_a_silent_source_fail_before_any_frame(tmp_path):
    clip = make_clip(tmp_path / "silent.mp4", "48x64", "25", 5, audio=False)
    with pytest.raises(UserError, match=r"reads an audio feature .* has no audio stream"):
        dream_video(clip, tmp_path / "run", "video.strength='0:(0.4+0.6*low)'")
    assert not (tmp_path / "run" / "chunks").exists()


def test_batches_end_at_the_warmups_end_and_at_the_seams_chunk_cut():
    span = SegmentSpan(index=1, count=4, start=30, first=60, end=120, crossfade=20)
    assert [frames_to_next_cut(span, i) for i in (30, 59, 60, 79, 80, 119)] == [30, 1, 20, 1, 40, 1]
    whole = SegmentSpan(index=0, count=1, start=0, first=0, end=50)
    assert frames_to_next_cut(whole, 0) == 50


def test_a_video_dream_probes_its_source_once_even_when_schedules_hear_it(ntsc, tmp_path, monkeypatch):
    import render.media.video_source as video_source

    clip, _, _ = ntsc
    probes, real = [], video_source._first_frame_report
    monkeypatch.setattr(video_source, "_first_frame_report", lambda path: probes.append(path) or real(path))
    dream_video(clip, tmp_path / "run", "frames=3", "video.strength='0:(1.0 + 0*loud)'")
    assert len(probes) == 1


def test_masked_video_keeps_the_source_outside_the_mask(tmp_path):
    import imageio.v3 as iio

    clip = make_pan_clip(tmp_path / "pan.mp4", "mandelbrot", 64, 48, 6 / 30)
    mask = np.zeros((48, 64), np.uint8)
    mask[:, 32:] = 255
    iio.imwrite(tmp_path / "right.png", mask)
    dream_video(clip, tmp_path / "run", f"mask.source={tmp_path / 'right.png'}", "mask.feather=4",
                "output.png_frames=true")
    written = [iio.imread(p).astype(int) for p in sorted((tmp_path / "run" / "frames").glob("*.png"))]
    sources = [decoded_frame.astype(int) for decoded_frame in decoded(clip)]
    assert len(written) == len(sources) == 6
    for output, source in zip(written, sources):
        assert np.array_equal(output[:, :30], source[:, :30])  # the mask's edge at 32, its feather 2 px out
        assert np.abs(output[:, 34:] - source[:, 34:]).mean() > 2


def test_tracked_masks_are_not_split_into_segments(tmp_path):
    import imageio.v3 as iio

    clip = make_clip(tmp_path / "clip.mp4", "64x48", "10", 4, audio=False)
    iio.imwrite(tmp_path / "m.png", np.full((8, 8), 255, np.uint8))
    with pytest.raises(UserError, match="can't be split into segments"):
        dream_video(clip, tmp_path / "run", f"mask.source={tmp_path / 'm.png'}", "mask.track=flow",
                    "segment.count=2")
    with pytest.raises(UserError, match="has 4 frames, but the source video's frames are 5"):
        dream_video(make_clip(tmp_path / "five.mp4", "64x48", "10", 5, audio=False), tmp_path / "run2",
                    f"mask.source={clip}")


# ------------------------------------------------------------------ live input

TINY_LIVE = ["live.enabled=true", "live.port=0", "width=96", "height=64", "dream.octaves=1", "dream.iterations=1",
             "output.preset=ultrafast"]


@pytest.fixture(scope="module")
def live_clip(tmp_path_factory) -> Path:
    return make_clip(tmp_path_factory.mktemp("live") / "loop.mp4", "96x64", "12", 6, audio=False)


class StubDream:
    """Stands in for the network: a dream brightens the frame a little and is recorded with its index."""

    device = CPU

    def __init__(self):
        self.dreamed: list[int] = []

    def dream(self, frames, index, generator, mask=None):
        self.dreamed.append(index)
        return (frames * 0.9 + 0.08).clamp(0, 1)


def test_a_live_input_is_probed_before_the_run_folder_and_sets_size_and_rate(live_clip, tmp_path):
    from render.plan import plan_render
    from render.run import typed_config

    plan = plan_render(typed_config(compose_preset("video_dream", [f"live.input={live_clip}", "live.enabled=true",
                                                                   "width=48"])))
    assert plan.endless and plan.source is None and plan.live_source.kind == "file"
    assert (plan.cfg.width, plan.cfg.height, plan.cfg.fps) == (48, 32, 12.0)  # the aspect kept, the file's rate
    with pytest.raises(UserError, match="live.input=.*missing.mp4 does not exist"):
        run(compose_preset("video_dream", ["live.input=missing.mp4", *TINY_LIVE]), tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_a_live_dream_at_cadence_2_carries_the_detail_between_its_dreams(live_clip, tmp_path):
    from render.live.source_recording import DREAMED_FILE
    from render.modes.video_dream import LiveVideoDreamMode
    from render.plan import plan_render
    from render.run import typed_config

    plan = plan_render(typed_config(compose_preset("video_dream", [f"live.input={live_clip}", *TINY_LIVE,
                                                                   "frames=5", "dream.cadence=2"])))
    engine = StubDream()
    mode = LiveVideoDreamMode(plan, engine, report=lambda line, facts: None, live_folder=tmp_path)
    mode.restore(None, 0)
    try:
        shown = [frame for _ in range(60) if not mode.done for frame in mode.step().frames]
    finally:
        mode.finish()
    assert len(shown) == 5 and mode.done and engine.dreamed == [0, 2, 4]
    assert mode.state.detail.abs().mean() > 0  # the in-betweens kept the dream's detail
    assert (tmp_path / DREAMED_FILE).read_text().split() == ["0", "2", "4"]  # what a replay dreams again
    assert mode.facts()["source"]["frames_received"] >= 5


class StopAfter(render.media.stop.StopSignals):
    """A stop request (as Ctrl-C makes) once the driver has asked ``checks`` times (about one check a frame)."""

    def __init__(self, checks: int):
        super().__init__()
        self.checks = checks

    @property
    def requested(self) -> bool:
        self.checks -= 1
        return self.checks < 0


@pytest.mark.slow
def test_an_endless_live_dream_over_a_looped_file_streams_and_stops_cleanly(live_clip, tmp_path, monkeypatch):
    from render.media.stop import RenderStopped

    monkeypatch.setattr("render.live.output.LINGER_SECONDS", 0)
    cfg = compose_preset("video_dream", [f"live.input={live_clip}", *TINY_LIVE, "frames=null"])
    with pytest.raises(RenderStopped):
        run(cfg, tmp_path, stop=StopAfter(8))
    playlist = (tmp_path / "live" / "stream.m3u8").read_text()
    assert ".ts" in playlist and playlist.rstrip().endswith("#EXT-X-ENDLIST")  # the window keeps the latest 6
    meta = json.loads((tmp_path / "meta.json").read_text())
    assert meta["live"] and meta["frames"] is None
