"""Video sink: exact frame counts and order across chunks, crash and resume, odd sizes, audio, errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from fractions import Fraction
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest
import torch

from dream.errors import UserError
from render.media.checkpoints import Checkpoints
from render.media.encoder import to_uint8_hwc
from render.media.sink import VideoSink
from render.media.video_source import probe_video
from tests.render.media.test_video_source import make_clip

NTSC = Fraction(30000, 1001)
W, H = 64, 48
FAST = dict(crf=0, preset="ultrafast")


def grey(index: int, height: int = H, width: int = W) -> torch.Tensor:
    """Frame ``index`` as a flat grey (1, 3, H, W) whose level tells the index back after encoding."""
    return torch.full((1, 3, height, width), 8 * index / 255)


def decoded(path: Path) -> list[np.ndarray]:
    reader = imageio_ffmpeg.read_frames(str(path))
    width, height = next(reader)["size"]
    return [np.frombuffer(raw, np.uint8).reshape(height, width, 3) for raw in reader]


def indices(path: Path) -> list[int]:
    """The frame index each decoded grey frame stands for: shows any lost, doubled or swapped frame."""
    return [round(float(pixels.mean()) / 8) for pixels in decoded(path)]


def save_state_into(run_dir: Path, calls: list[int]):
    def save_state(frames_done: int) -> str:
        calls.append(frames_done)
        name = f"state_{frames_done:06d}.json"
        (run_dir / "chunks" / name).write_text(json.dumps({"frames_done": frames_done}))  # as state_writer does
        return name

    return save_state


def ffmpeg_report(path: Path) -> str:
    return subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)], capture_output=True, text=True
    ).stderr


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("sources")
    mulaw = folder / "mulaw.mkv"  # an audio codec mp4 can't hold
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "sine=duration=1", "-c:a", "pcm_mulaw"]
    subprocess.run([*cmd, str(mulaw)], check=True)
    return {
        "with_audio": make_clip(folder / "with_audio.mp4", f"{W}x{H}", "30000/1001", 30, audio=True),
        "silent": make_clip(folder / "silent.mp4", f"{W}x{H}", "30000/1001", 30, audio=False),
        "mulaw": mulaw,
    }


def test_nine_frames_exact_count_and_rate(tmp_path):
    with VideoSink(tmp_path, "nine", NTSC, W, H) as out:
        for i in range(9):
            out.write(grey(i)[0])
        path = out.finish()
    info = probe_video(path)
    assert imageio_ffmpeg.count_frames_and_secs(str(path))[0] == 9
    assert (info.frames, info.fps_exact, info.width, info.height) == (9, NTSC, W, H)
    assert not (tmp_path / "chunks").exists() and (tmp_path / "preview.jpg").is_file()


def test_marks_keep_every_frame_in_order(tmp_path):
    """B-frames (preset medium) and uneven chunks, one of them empty: the joined video has each frame once."""
    calls: list[int] = []
    with VideoSink(tmp_path, "marks", NTSC, W, H, crf=0, preset="medium", chunk_frames=5) as out:
        for i in range(23):
            out.write(grey(i))
            if i in (4, 11):
                assert out.mark_due
                out.mark(save_state_into(tmp_path, calls))
                assert not out.mark_due
        out.mark(save_state_into(tmp_path, calls))
        out.mark(save_state_into(tmp_path, calls))  # nothing new: no empty chunk
        path = out.finish()
    assert calls == [5, 12, 23, 23]
    assert indices(path) == list(range(23))
    assert not (tmp_path / "chunks").exists()  # states and chunks go once the video is whole


def test_chunks_of_one_and_two_frames_join_without_repeated_frames(tmp_path):
    """A render whose frame count isn't a multiple of the checkpoint cadence ends with a tiny chunk."""
    generator = torch.Generator().manual_seed(0)
    with VideoSink(tmp_path, "tiny", 30, W, H, crf=18, preset="medium") as out:
        for i in range(30):
            out.write(torch.rand(1, 3, H, W, generator=generator))  # busy frames: the encoder uses B-frames if allowed
            if i in (23, 24, 26):
                out.mark(save_state_into(tmp_path, []))
        path = out.finish()
    assert len(decoded(path)) == 30


def test_decoded_frames_match_written(tmp_path):
    y, x = torch.meshgrid(torch.linspace(0, 1, H), torch.linspace(0, 1, W), indexing="ij")
    frame = torch.stack([x, y, (x + y) / 2]).unsqueeze(0)  # smooth colour: little for yuv420p to lose
    with VideoSink(tmp_path, "exact", 25, W, H, crf=0) as out:
        out.write(frame)
        path = out.finish()
    error = np.abs(decoded(path)[0].astype(float) - to_uint8_hwc(frame).numpy()).mean()
    assert error < 2.0  # of 255


def test_crash_then_resume_redoes_only_unmarked_frames(tmp_path):
    calls: list[int] = []
    with pytest.raises(KeyboardInterrupt):
        with VideoSink(tmp_path, "resumed", NTSC, W, H, **FAST) as out:
            for i in range(10):
                out.write(grey(i))
                if i == 5:
                    out.mark(save_state_into(tmp_path, calls))
            raise KeyboardInterrupt  # Ctrl-C mid-render
    assert Checkpoints(tmp_path).resume_point() == (6, "state_000006.json")
    manifest = json.loads((tmp_path / "chunks" / "manifest.json").read_text())
    assert manifest["chunks"] == [{"file": "chunk_00000.mp4", "frames": 6}] and manifest["frames_done"] == 6
    assert (manifest["fps_exact"], manifest["width"], manifest["height"]) == ("30000/1001", W, H)
    with VideoSink(tmp_path, "resumed", NTSC, W, H, resume=True, **FAST) as out:
        # the unmarked chunk is gone; the state stays until a new resume point replaces it (a second crash)
        kept = ["chunk_00000.mp4", "manifest.json", "state_000006.json"]
        assert sorted(p.name for p in (tmp_path / "chunks").iterdir()) == kept
        start, _ = Checkpoints(tmp_path).resume_point()
        assert out.frames_written == start == 6
        for i in range(start, 15):
            out.write(grey(i))
        path = out.finish()
    assert imageio_ffmpeg.count_frames_and_secs(str(path))[0] == 15
    assert indices(path) == list(range(15))


@pytest.mark.slow
def test_resume_after_kill_9(tmp_path):
    script = textwrap.dedent(f"""
        import os, signal, torch
        from render.media.sink import VideoSink
        with VideoSink({str(tmp_path)!r}, "killed", 25, {W}, {H}, crf=0, preset="ultrafast") as out:
            for i in range(12):
                out.write(torch.full((1, 3, {H}, {W}), 8 * i / 255))
                if i == 6:
                    out.mark(lambda n: "state")
            out.mark(lambda n: os.kill(os.getpid(), signal.SIGKILL))  # dies mid-checkpoint
    """)
    result = subprocess.run([sys.executable, "-c", script], cwd=Path(__file__).parents[3])
    assert result.returncode == -signal.SIGKILL
    assert Checkpoints(tmp_path).resume_point() == (7, "state")
    with VideoSink(tmp_path, "killed", 25, W, H, resume=True, **FAST) as out:
        for i in range(7, 12):
            out.write(grey(i))
        path = out.finish()
    assert indices(path) == list(range(12))


def test_odd_size_is_padded_by_repeating_the_edge(tmp_path):
    frame = torch.rand(1, 3, 17, 33, generator=torch.Generator().manual_seed(0))
    with VideoSink(tmp_path, "odd", 24, 33, 17, crf=0) as out:
        for _ in range(3):
            out.write(frame)
        path = out.finish()
    assert len(out.notes) == 1 and "33x17" in out.notes[0] and "34x18" in out.notes[0]
    info = probe_video(path)
    assert (info.width, info.height, info.frames) == (34, 18, 3)
    pixels = decoded(path)[0].astype(float)
    assert np.abs(pixels[:, -1] - pixels[:, -2]).mean() < 1 and np.abs(pixels[-1] - pixels[-2]).mean() < 1


@pytest.mark.parametrize("frames", [9, 45])  # audio (1 s) longer, then shorter than the video
def test_audio_is_muxed_and_never_shortens_the_video(tmp_path, sources, frames):
    with VideoSink(tmp_path, "sound", NTSC, W, H, **FAST) as out:
        for i in range(frames):
            out.write(grey(i % 30))
        path = out.finish(audio_from=sources["with_audio"])
    assert "Audio: aac" in ffmpeg_report(path)
    assert probe_video(path).has_audio and imageio_ffmpeg.count_frames_and_secs(str(path))[0] == frames


def test_audio_mp4_cannot_hold_is_reencoded_and_noted(tmp_path, sources):
    with VideoSink(tmp_path, "mulaw", NTSC, W, H, **FAST) as out:
        out.write(grey(1))
        path = out.finish(audio_from=sources["mulaw"])
    assert "Audio: aac" in ffmpeg_report(path) and "AAC" in out.notes[-1]


def test_source_without_audio_gives_a_silent_video(tmp_path, sources):
    with VideoSink(tmp_path, "silent", NTSC, W, H, **FAST) as out:
        out.write(grey(1))
        path = out.finish(audio_from=sources["silent"])
    assert not probe_video(path).has_audio and probe_video(path).frames == 1


def test_png_frames_sort_by_name(tmp_path):
    with VideoSink(tmp_path, "pngs", 25, W, H, png_frames=True, **FAST) as out:
        for i in range(11):
            out.write(grey(i))
    names = sorted(p.name for p in (tmp_path / "frames").glob("*.png"))
    assert names[:2] == ["frame_000000.png", "frame_000001.png"] and names[-1] == "frame_000010.png"
    assert (tmp_path / "pngs.mp4").is_file()  # leaving the block normally finishes the video
    with pytest.raises(RuntimeError, match="closed"):
        out.write(grey(0))


def test_never_overwrites_a_run(tmp_path):
    with pytest.raises(RuntimeError):
        with VideoSink(tmp_path, "v", 25, W, H, **FAST) as out:
            out.write(grey(0))
            out.mark(lambda n: None)
            raise RuntimeError("crash")
    with pytest.raises(UserError, match="resume"):
        VideoSink(tmp_path, "v", 25, W, H, **FAST)
    with pytest.raises(UserError, match="crf 0 -> 18"):
        VideoSink(tmp_path, "v", 25, W, H, resume=True)
    with VideoSink(tmp_path, "v", 25, W, H, resume=True, **FAST):
        pass
    with pytest.raises(UserError, match="finished"):
        VideoSink(tmp_path, "v", 25, W, H, resume=True, **FAST)


def test_ffmpeg_failure_reaches_the_main_thread_with_its_message(tmp_path):
    with pytest.raises(UserError, match="ffmpeg failed.*chunk_00000.mp4"):
        with VideoSink(tmp_path, "broken", 25, W, H, **FAST) as out:
            (tmp_path / "chunks" / "chunk_00000.mp4").mkdir()  # ffmpeg can't write its file
            for i in range(200):
                out.write(grey(i % 30))
            out.finish()
    assert not (tmp_path / "broken.mp4").exists()
    with pytest.raises(UserError, match="Is a directory"):  # the same error, again, not a hang
        out.write(grey(0))


@pytest.mark.parametrize(
    "kwargs, match",
    [(dict(crf=60), "crf"), (dict(preset="turbo"), "preset"), (dict(fps=0), "fps"), (dict(width=1), "size")],
)
def test_bad_settings_are_user_errors(tmp_path, kwargs, match):
    settings = dict(run_dir=tmp_path, name="v", fps=25, width=W, height=H) | kwargs
    with pytest.raises(UserError, match=match):
        VideoSink(**settings)
    assert not (tmp_path / "chunks").exists()


def test_write_rejects_a_frame_of_another_size(tmp_path):
    with pytest.raises(ValueError, match="32x32"):
        with VideoSink(tmp_path, "v", 25, W, H, **FAST) as out:
            out.write(torch.zeros(1, 3, 32, 32))


def test_interrupt_before_any_mark_starts_over(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        with VideoSink(tmp_path, "v", 25, W, H, **FAST) as out:
            out.write(grey(5))
            raise KeyboardInterrupt
    assert Checkpoints(tmp_path).resume_point() == (0, None)
    with VideoSink(tmp_path, "v", 25, W, H, resume=True, **FAST) as out:
        assert os.listdir(tmp_path / "chunks") == []  # the unmarked chunk is gone
        out.write(grey(0))
        out.write(grey(1))
    assert indices(out.path) == [0, 1]


def test_a_new_mark_deletes_the_previous_state_file(tmp_path):
    calls: list[int] = []
    with pytest.raises(KeyboardInterrupt):
        with VideoSink(tmp_path, "states", 24, W, H, **FAST) as out:
            for i in range(9):
                out.write(grey(i))
                if i in (2, 5):
                    out.mark(save_state_into(tmp_path, calls))
            raise KeyboardInterrupt
    states = sorted(p.name for p in (tmp_path / "chunks").glob("state_*"))
    assert calls == [3, 6] and states == ["state_000006.json"]  # only the state the manifest names is kept
