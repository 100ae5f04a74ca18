import json
import subprocess

import imageio_ffmpeg
import numpy as np
import pytest
from omegaconf import OmegaConf

import render.modes.zoom
from dream.errors import UserError
from render.media.run_folder import CONFIG_FILE
from render.media.stop import RenderStopped, StopSignals
from render.run import run
from tests.compose import compose_preset


def decoded_frames(path) -> list[np.ndarray]:
    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    w, h = meta["size"]
    return [np.frombuffer(f, np.uint8).reshape(h, w, 3) for f in reader]


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    cfg = compose_preset("smoke", ["frames=7", "seed=3"])
    run_dir = tmp_path_factory.mktemp("smoke")
    meta = run(cfg, run_dir)
    return cfg, run_dir, meta


def test_smoke_video_has_exact_frames_and_fps(smoke_run):
    cfg, run_dir, meta = smoke_run
    frames, seconds = imageio_ffmpeg.count_frames_and_secs(str(run_dir / "smoke.mp4"))
    assert frames == 7
    assert seconds == pytest.approx(7 / cfg.fps, abs=0.05)


def test_run_folder_has_meta_config_and_preview(smoke_run):
    cfg, run_dir, meta = smoke_run
    saved = json.loads((run_dir / "meta.json").read_text())
    for key in ("model", "fallback", "weights_sha256", "frames", "fps", "width", "height", "seed",
                "elapsed_seconds", "versions"):
        assert key in saved, key
    assert saved["model"] == "efficientnet_lite0" and saved["fallback"] is False
    assert (saved["frames"], saved["width"], saved["height"], saved["seed"]) == (7, 96, 64, 3)
    assert saved["finished"] is True and saved["versions"]["torch"]
    assert (run_dir / CONFIG_FILE).is_file() and (run_dir / "preview.jpg").is_file()
    assert not (run_dir / "chunks").exists()


def test_meta_records_the_speed_decisions(smoke_run):
    _, run_dir, _ = smoke_run
    saved = json.loads((run_dir / "meta.json").read_text())
    assert (saved["precision_requested"], saved["tile_size_requested"]) == ("auto", "auto")
    assert saved["precision"] in ("float32", "bfloat16")
    assert saved["tile_size"] == 0  # a 96x64 frame always fits
    assert set(saved["speed_reasons"]) == {"precision", "tile_size"}


def test_the_speed_decisions_are_logged_in_one_line(tmp_path):
    from rich.console import Console

    console = Console(record=True, width=400)
    run(compose_preset("smoke", ["frames=2", "speed.precision=float32", "dream.tile_size=48"]), tmp_path / "run",
        console)
    lines = [line for line in console.export_text().splitlines() if line.startswith("Speed:")]
    assert len(lines) == 1
    assert "precision float32 (float32: as asked)" in lines[0] and "tiles of 48 (48: as asked)" in lines[0]
    saved = json.loads((tmp_path / "run" / "meta.json").read_text())
    assert (saved["precision"], saved["tile_size"]) == ("float32", 48)


def test_frames_are_dreamed_and_move(smoke_run):
    _, run_dir, _ = smoke_run
    frames = decoded_frames(run_dir / "smoke.mp4")
    assert frames[0].std() > 10  # structure, not flat grey
    assert np.abs(frames[1].astype(int) - frames[0].astype(int)).mean() > 1  # the camera moves


def test_rendering_the_saved_config_again_gives_the_same_frames(smoke_run, tmp_path):
    from omegaconf import OmegaConf

    _, run_dir, _ = smoke_run
    again = run(OmegaConf.load(run_dir / CONFIG_FILE), tmp_path / "again")
    assert again["frames"] == 7
    first, second = decoded_frames(run_dir / "smoke.mp4"), decoded_frames(tmp_path / "again" / "smoke.mp4")
    assert all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))


def test_a_finished_run_is_never_overwritten(smoke_run):
    cfg, run_dir, _ = smoke_run
    before = (run_dir / "smoke.mp4").read_bytes()
    with pytest.raises(UserError, match="already holds a render"):
        run(cfg, run_dir)
    assert (run_dir / "smoke.mp4").read_bytes() == before


def render_until_interrupted(cfg, run_dir, monkeypatch, frame: int = 5) -> None:
    """Render ``cfg`` into ``run_dir`` until Ctrl-C arrives before zoom frame ``frame``."""
    real_advance = render.modes.zoom.advance

    def interrupted(state, *args):
        if state.next_index == frame:
            raise KeyboardInterrupt
        return real_advance(state, *args)

    monkeypatch.setattr(render.modes.zoom, "advance", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run(cfg, run_dir)
    monkeypatch.setattr(render.modes.zoom, "advance", real_advance)


def test_resume_after_interruption_matches_uninterrupted(smoke_run, tmp_path, monkeypatch):
    cfg, run_dir, _ = smoke_run
    render_until_interrupted(cfg, tmp_path, monkeypatch)
    meta = run(cfg, tmp_path, resume=True)
    assert meta["frames_rendered_now"] == 7 - 3  # checkpoint_every=3: frames 0-2 were kept
    resumed, straight = decoded_frames(tmp_path / "smoke.mp4"), decoded_frames(run_dir / "smoke.mp4")
    assert len(resumed) == 7
    assert all(np.array_equal(a, b) for a, b in zip(resumed, straight, strict=True))


def test_a_resumed_loop_still_fades_into_its_head(tmp_path, monkeypatch):
    cfg = compose_preset("smoke", ["frames=7", "seed=3", "loop=true", "loop_frames=3"])
    straight = run(cfg, tmp_path / "straight")
    render_until_interrupted(cfg, tmp_path / "resumed", monkeypatch, frame=8)  # after the head, before the tail
    assert (tmp_path / "resumed" / "seam").is_dir()
    resumed = run(cfg, tmp_path / "resumed", resume=True)
    assert resumed["frames_rendered_now"] < straight["frames_rendered_now"] == 10
    first, second = (decoded_frames(tmp_path / folder / "smoke.mp4") for folder in ("resumed", "straight"))
    assert all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))
    assert not (tmp_path / "resumed" / "seam").exists()  # the head frames are in the video now


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("frames=0", "frames"),
        ("width=-5", "width"),
        ("motion.zoom='0:(1.04), 10:(1.0+'", "motion.zoom"),
        ("model.name=nosuchnet", "nosuchnet"),
        ("dream.layer=nosuchlayer", "nosuchlayer"),
        ("input=/nonexistent/photo.jpg", "/nonexistent/photo.jpg"),
        ("init=banana", "init"),
    ],
)
def test_bad_configs_raise_clear_user_errors(tmp_path, override, message):
    with pytest.raises(UserError, match=message.replace("(", r"\(").replace("+", r"\+")):
        run(compose_preset("smoke", [override]), tmp_path)


def test_a_bad_choice_in_a_plain_config_names_the_key_the_value_and_the_choices(tmp_path):
    plain = OmegaConf.to_container(compose_preset("smoke"), enum_to_str=True)  # as a saved or handmade config is
    plain["motion"]["border"] = "wrap"
    with pytest.raises(UserError, match="'motion.border' is 'wrap', but must be one of: reflection, replicate, zeros"):
        run(OmegaConf.create(plain), tmp_path / "run")
    assert not (tmp_path / "run").exists()


# ------------------------------------------------------------------ soundtrack

CLICK_TIMES = [0.09, 0.34, 0.59]


@pytest.fixture(scope="module")
def click_mp3(tmp_path_factory):
    from tests.render.media.test_audio import click_track

    wav = click_track(tmp_path_factory.mktemp("audio") / "clicks.wav", CLICK_TIMES, 0.75)
    mp3 = wav.with_suffix(".mp3")
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(wav), str(mp3)], check=True)
    return mp3


def audio_overrides(track, *more):
    return [f"audio={track}", "motion.zoom='0:(1.0+0.08*beat)'", "dream.step_size='0:(1.0+1.5*loud)'", *more]


def stream_seconds(path) -> tuple[float, float]:
    """(video seconds, audio seconds) of an mp4, each measured by decoding its own stream."""
    from render.media.audio import decode_audio

    frames, _ = imageio_ffmpeg.count_frames_and_secs(str(path))
    return frames, decode_audio(path).duration


@pytest.mark.slow
def test_zoom_with_audio_takes_the_tracks_length_and_gets_the_soundtrack(click_mp3, tmp_path):
    cfg = compose_preset("smoke", [*audio_overrides(click_mp3), "frames=null"])
    meta = run(cfg, tmp_path)
    assert meta["frames"] == 9 == round(0.75 * cfg.fps)  # fps 12
    frames, audio_seconds = stream_seconds(tmp_path / "smoke.mp4")
    assert frames == 9
    assert abs(audio_seconds - frames / cfg.fps) <= 1 / cfg.fps
    assert any("soundtrack" in note for note in meta["notes"]) and meta["audio"] == str(click_mp3)
    stored = np.load(tmp_path / "audio_features.npz")
    assert np.argmax(stored["beat"]) in {int(t * cfg.fps) + d for t in CLICK_TIMES for d in (0, 1)}


@pytest.mark.slow
def test_a_loop_longer_than_its_soundtrack_gets_it_padded_to_its_length(click_mp3, tmp_path):
    meta = run(compose_preset("smoke", [*audio_overrides(click_mp3), "frames=11", "loop=true", "loop_frames=2"]),
               tmp_path)
    frames, audio_seconds = stream_seconds(tmp_path / "smoke.mp4")
    assert frames == 11 and abs(audio_seconds - 11 / 12) <= 1 / 12
    assert any("padded with silence" in note for note in meta["notes"])


@pytest.mark.slow
def test_resume_with_audio_reads_the_stored_features_back(click_mp3, tmp_path, monkeypatch):
    import render.soundtrack

    cfg = compose_preset("smoke", [*audio_overrides(click_mp3), "frames=7"])
    render_until_interrupted(cfg, tmp_path / "resumed", monkeypatch)

    def recomputed(*args, **kwargs):
        raise AssertionError("a resumed render must read its features from the run folder")

    monkeypatch.setattr(render.soundtrack, "audio_features", recomputed)
    meta = run(cfg, tmp_path / "resumed", resume=True)
    assert meta["frames_rendered_now"] == 7 - 3 and len(decoded_frames(tmp_path / "resumed" / "smoke.mp4")) == 7


def no_frame_dreamed(monkeypatch):
    def dreamed(*args):
        raise AssertionError("a frame was dreamed before the error")

    monkeypatch.setattr(render.modes.zoom, "advance", dreamed)


@pytest.mark.parametrize(
    ("audio", "message"),
    [("missing.mp3", "does not exist"), ("silent.mp4", "has no audio stream"), ("empty.wav", "zero length")],
)
def test_bad_audio_is_a_clear_error_before_any_frame(tmp_path, monkeypatch, audio, message):
    from tests.render.media.test_video_source import make_clip

    make_clip(tmp_path / "silent.mp4", "64x48", "25", 3, audio=False)
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "anullsrc=r=44100:cl=mono",
                    "-t", "0", str(tmp_path / "empty.wav")], check=True)
    no_frame_dreamed(monkeypatch)
    with pytest.raises(UserError, match=message):
        run(compose_preset("smoke", audio_overrides(tmp_path / audio)), tmp_path / "run")
    assert not (tmp_path / "run" / "chunks").exists()


def test_an_audio_variable_without_audio_is_a_clear_error_before_any_frame(tmp_path, monkeypatch):
    no_frame_dreamed(monkeypatch)
    with pytest.raises(UserError, match=r"motion.zoom: .*'beat' is an audio feature, .* pass audio="):
        run(compose_preset("smoke", ["motion.zoom='0:(1.0+0.04*beat)'"]), tmp_path)
    assert not (tmp_path / "chunks").exists()


@pytest.mark.slow
def test_a_tempo_puts_bar_keys_on_the_grid_and_is_recorded_in_meta(tmp_path):
    cfg = compose_preset("smoke", ["frames=4", "tempo.bpm=180", "tempo.offset=0.25", "tempo.meter=3",
                                   "motion.zoom='1:1:(1.0), 1:2:(1.1)'"])  # frames 3 and 7 at 12 fps
    meta = run(cfg, tmp_path)
    assert meta["tempo"] == {"bpm": 180, "offset": 0.25, "meter": 3, "changes": {}, "found": []}
    assert json.loads((tmp_path / "meta.json").read_text())["tempo"]["bpm"] == 180


# ------------------------------------------------------------------ live


class StopAfter(StopSignals):
    """A stop request (as Ctrl-C makes) once the driver has asked ``checks`` times (about one check a frame)."""

    def __init__(self, checks: int):
        super().__init__()
        self.checks = checks

    @property
    def requested(self) -> bool:
        self.checks -= 1
        return self.checks < 0


@pytest.mark.slow
def test_an_endless_live_zoom_stops_cleanly_and_resumes_the_same_stream(click_mp3, tmp_path, monkeypatch):
    monkeypatch.setattr("render.live.output.LINGER_SECONDS", 0)
    monkeypatch.setattr("render.live.stream.WINDOW_SEGMENTS", 100)  # the discontinuity stays in the window
    cfg = compose_preset("smoke", ["frames=null", "live.enabled=true", "live.port=0", "dream.cadence=2",
                                   f"audio={click_mp3}", "output.checkpoint_every=4"])
    playlist = tmp_path / "live" / "stream.m3u8"
    with pytest.raises(RenderStopped):
        run(cfg, tmp_path, stop=StopAfter(6))
    assert playlist.read_text().rstrip().endswith("#EXT-X-ENDLIST")  # players show the end, not an error
    meta = json.loads((tmp_path / "meta.json").read_text())
    assert meta["live"] and meta["frames"] is None and meta["cadence_requested"] == 2
    saved = OmegaConf.load(tmp_path / CONFIG_FILE)
    with pytest.raises(RenderStopped):
        run(saved, tmp_path, resume=True, stop=StopAfter(4))
    text = playlist.read_text()
    assert "#EXT-X-DISCONTINUITY" in text and text.count("#EXT-X-ENDLIST") == 1 and text.rstrip().endswith("ENDLIST")
    report = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(playlist)],
                            capture_output=True, text=True).stderr
    assert "Audio: aac" in report and "Video: h264" in report
    assert not list(tmp_path.glob("*.mp4"))  # live.record=false: nothing but the window of segments


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["dream.cadence=auto"], "live.enabled=true"),
        (["dream.cadence=9"], "dream.cadence"),
        (["frames=null", "live.enabled=true", "loop=true"], "loop=true"),
        (["mode=image", "live.enabled=true"], "zoom"),
    ],
)
def test_live_and_cadence_misuse_is_a_clear_error(tmp_path, overrides, message):
    with pytest.raises(UserError, match=message):
        run(compose_preset("smoke", overrides), tmp_path)


@pytest.mark.parametrize(("preset", "overrides"), [("smoke", ["mode=film"]), ("dream_image", []),
                                                  ("video_dream", ["input=clip.mp4", "loop=true"])])
def test_what_the_mode_refuses_is_refused_before_the_run_folder_is_made(tmp_path, preset, overrides):
    with pytest.raises(UserError):
        run(compose_preset(preset, overrides), tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_what_was_said_before_the_first_frame_is_kept_in_meta_notes(tmp_path):
    cfg = compose_preset("smoke", ["frames=4", "seed=3", "loop=true", "loop_frames=30"])
    meta = run(cfg, tmp_path / "run")
    assert any("crossfades" in note for note in meta["notes"])
    assert json.loads((tmp_path / "run" / "meta.json").read_text())["notes"] == meta["notes"]


@pytest.mark.slow
def test_a_stopped_endless_recording_is_a_finished_video_that_grows_on_resume(click_mp3, tmp_path, monkeypatch):
    monkeypatch.setattr("render.live.output.LINGER_SECONDS", 0)
    cfg = compose_preset("smoke", ["frames=null", "live.enabled=true", "live.port=0", "live.record=true",
                                   f"audio={click_mp3}", "output.checkpoint_every=4"])
    with pytest.raises(RenderStopped) as first:
        run(cfg, tmp_path, stop=StopAfter(6))
    recorded = tmp_path / "smoke.mp4"
    assert first.value.recorded == recorded
    before = decoded_frames(recorded)
    assert len(before) == first.value.frames_kept > 0
    with pytest.raises(RenderStopped) as second:
        run(OmegaConf.load(tmp_path / CONFIG_FILE), tmp_path, resume=True, stop=StopAfter(4))
    after = decoded_frames(recorded)
    assert len(after) == second.value.frames_kept > len(before)
    assert all(np.array_equal(a, b) for a, b in zip(before, after))  # the resumed recording continues the first
    report = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(recorded)],
                            capture_output=True, text=True).stderr
    assert "Audio: aac" in report
