"""Joining a segmented video dream: exact frames, rate, duration and audio; refusal while incomplete."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import imageio.v3 as iio
import imageio_ffmpeg
import numpy as np
import pytest
from omegaconf import OmegaConf

from dream.errors import UserError
from render.media.encoder import ChunkEncoder, Encoding
from render.media.seam_frames import load_seam_frame, missing_seam_frames
from render.media.video_source import probe_video
from render.ops.crossfade import crossfade_weight
from render.segments.join import join_segments
from tests.render.modes.test_video_dream import decoded
from tests.render.segments.conftest import SEGMENTS

ROOT = Path(__file__).resolve().parents[3]


def audio_seconds(path: Path) -> float:
    """Seconds of the first audio stream, decoded to the end (what a player plays)."""
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path), "-map", "0:a:0", "-f", "null", "-"]
    times = re.findall(r"time=(\d+):(\d+):([\d.]+)", subprocess.run(cmd, capture_output=True, text=True).stderr)
    hours, minutes, seconds = times[-1]
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def test_joined_video_has_the_sources_frames_rate_duration_and_audio(rendered, sweep):
    clip, _ = rendered
    meta = join_segments(sweep)
    source, joined = probe_video(clip), probe_video(sweep / "video_dream.mp4")
    assert source.fps_exact == Fraction(30000, 1001) and source.frames == 20
    assert (joined.frames, joined.fps_exact, joined.width, joined.height) == (20, source.fps_exact, 64, 48)
    assert joined.duration == pytest.approx(source.duration, abs=0.001)
    assert joined.has_audio and audio_seconds(sweep / "video_dream.mp4") == pytest.approx(source.duration, abs=0.03)
    assert (meta["frames"], meta["fps_exact"], meta["finished"]) == (20, "30000/1001", True)
    assert json.loads((sweep / "meta.json").read_text()) == meta


def segment_folders_in_order(sweep: Path) -> list[Path]:
    return sorted(p for p in sweep.iterdir() if p.is_dir() and not p.name.startswith("."))


def test_join_copies_the_segments_and_dissolves_each_seam(sweep):
    folders = segment_folders_in_order(sweep)
    parts = [frame for folder in folders for frame in decoded(folder / "video_dream.mp4")]
    assert not any(probe_video(folder / "video_dream.mp4").has_audio for folder in folders)  # audio once, at the join
    meta = join_segments(sweep)
    joined = decoded(sweep / "video_dream.mp4")
    assert len(joined) == len(parts) == 20
    assert meta["crossfade_frames"] == 3 and meta["seams"] == [[3, 6], [10, 13]]
    encoded_here = [range(3, 9), range(10, 16)]  # each dissolve, then as many frames of the next segment
    in_seams = {i for frames in encoded_here for i in frames}
    assert all(np.array_equal(joined[i], parts[i]) for i in range(20) if i not in in_seams)  # stream copies
    for frames, (fade_start, fade_stop), outgoing_dir, incoming_dir in zip(encoded_here, meta["seams"], folders,
                                                                          folders[1:]):
        expected = []
        for index in frames:
            incoming = load_seam_frame(incoming_dir, index).astype(np.float64)
            if index < fade_stop:
                outgoing = load_seam_frame(outgoing_dir, index).astype(np.float64)
                weight = crossfade_weight(index - fade_start, fade_stop - fade_start)
                incoming = outgoing + weight * (incoming - outgoing)
            expected.append(np.rint(incoming).astype(np.uint8))
        reencoded = encoded(expected, sweep.parent)
        assert all(np.array_equal(a, b) for a, b in zip(joined[frames.start : frames.stop], reencoded, strict=True))
    assert not (sweep / ".video_dream.join").exists()


def encoded(frames: list[np.ndarray], folder: Path) -> list[np.ndarray]:
    """``frames`` as the segments' encoder makes them (one chunk, decoded again)."""
    height, width, _ = frames[0].shape
    encoding = Encoding(width, height, Fraction(30000, 1001), preset="ultrafast")  # the segments' (TINY_DREAM)
    encoder = ChunkEncoder(folder / "expected.mp4", encoding, folder / "log")
    for frame in frames:
        encoder.write(np.ascontiguousarray(frame))
    encoder.close()
    return decoded(folder / "expected.mp4")


def test_segments_keep_their_seam_frames_losslessly(sweep):
    first, middle, last = segment_folders_in_order(sweep)
    kept = [sorted(int(p.stem.split("_")[1]) for p in (folder / "seam").iterdir()) for folder in (first, middle, last)]
    assert kept == [[3, 4, 5], [3, 4, 5, 6, 7, 8, 10, 11, 12], [10, 11, 12, 13, 14, 15]]
    assert missing_seam_frames(last, range(16, 20)) == [16, 17, 18, 19]
    for index in range(3, 6):  # a kept seam frame is exactly the frame the segment encoded
        assert np.array_equal(load_seam_frame(first, index), iio.imread(first / "frames" / f"frame_{index:06d}.png"))


def test_join_refuses_without_a_segments_seam_frames_naming_it(sweep):
    (sweep / "2_segment.index=2" / "seam" / "frame_000011.png").unlink()
    with pytest.raises(UserError, match=r"Segment 2 in .*2_segment.index=2 lacks the seam frames 11..11"):
        join_segments(sweep)
    assert not (sweep / "video_dream.mp4").exists() and not (sweep / "meta.json").exists()


def test_meta_json_records_each_segment(sweep):
    meta = join_segments(sweep)
    spans = [(s["index"], s["first"], s["end"], s["warmup_frames"], s["frames"]) for s in meta["segments"]]
    assert spans == [(0, 0, 6, 0, 6), (1, 6, 13, 3, 7), (2, 13, 20, 3, 7)]
    assert all(s["run_dir"].startswith(f"{s['index']}_") and s["elapsed_seconds"] > 0 for s in meta["segments"])
    assert meta["segment_count"] == SEGMENTS and meta["source"]["has_audio"]


def test_join_refuses_while_a_segment_is_missing_naming_it(sweep):
    shutil.rmtree(sweep / "1_segment.index=1")
    with pytest.raises(UserError, match=r"segment 1 has no run folder: render it with .*segment.index=1"):
        join_segments(sweep)
    assert not (sweep / "video_dream.mp4").exists() and not (sweep / "meta.json").exists()


def test_join_refuses_while_a_segment_is_unfinished_and_says_how_to_resume(sweep):
    folder = sweep / "2_segment.index=2"
    meta = json.loads((folder / "meta.json").read_text())
    (folder / "meta.json").write_text(json.dumps({**meta, "finished": False}))
    with pytest.raises(UserError, match=rf"segment 2 is unfinished in .*: continue it with make render ARGS="
                                        rf"\"resume='.*{re.escape(folder.name)}'\""):
        join_segments(sweep)


def test_join_refuses_segments_of_different_renders(sweep):
    config = sweep / "1_segment.index=1" / ".hydra" / "config.yaml"
    cfg = OmegaConf.load(config)
    cfg.video.blend = 0.5
    config.write_text(OmegaConf.to_yaml(cfg))
    with pytest.raises(UserError, match="not all pieces of one render.*video"):
        join_segments(sweep)


def test_join_never_overwrites_a_joined_video(sweep):
    join_segments(sweep)
    before = (sweep / "video_dream.mp4").read_bytes()
    with pytest.raises(UserError, match="joined video already"):
        join_segments(sweep)
    assert (sweep / "video_dream.mp4").read_bytes() == before


def test_command_line_joins_and_refuses_clearly(sweep):
    shutil.move(sweep / "0_segment.index=0", sweep.parent / "aside")
    refused = subprocess.run([sys.executable, "-m", "render.join", str(sweep)], cwd=ROOT, capture_output=True,
                             text=True, timeout=120)
    assert refused.returncode == 2 and "segment 0 has no run folder" in refused.stderr
    assert "Traceback" not in refused.stderr
    shutil.move(sweep.parent / "aside", sweep / "0_segment.index=0")
    joined = subprocess.run([sys.executable, "-m", "render.join", str(sweep)], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert joined.returncode == 0, joined.stderr
    assert "Joined 3 segments" in joined.stderr and (sweep / "video_dream.mp4").is_file()


@pytest.mark.slow
def test_killed_segment_resumed_then_joined_gives_the_frames_of_an_unkilled_one(rendered, sweep):
    clip, _ = rendered
    run_dir = sweep / "1_segment.index=1"
    shutil.rmtree(run_dir)
    args = ["--config-name", "video_dream", f"input={clip}", "dream.octaves=1", "dream.iterations=2",
            "output.checkpoint_every=4", "output.preset=ultrafast", f"segment.count={SEGMENTS}", "segment.index=1",
            "segment.warmup=3", "output.png_frames=true"]
    process = subprocess.Popen([sys.executable, "-m", "render", *args, f"hydra.run.dir='{run_dir}'"], cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    manifest = run_dir / "chunks" / "manifest.json"
    while process.poll() is None and not manifest.is_file():
        time.sleep(0.05)
    assert process.poll() is None, "the render ended before its first resume point"
    process.kill()  # kill -9, mid-render: the frames after the resume point are lost and redone
    process.wait()
    assert not (run_dir / "video_dream.mp4").exists()
    with pytest.raises(UserError, match="segment 1 is unfinished"):
        join_segments(sweep)
    resumed = subprocess.run([sys.executable, "-m", "render", *args, f"resume='{run_dir}'",
                              f"hydra.run.dir={sweep.parent / 'unused'}"], cwd=ROOT, capture_output=True, text=True,
                             timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    join_segments(sweep)
    unkilled = sweep.parent / "unkilled"
    shutil.copytree(rendered[1], unkilled)
    join_segments(unkilled)
    assert len(decoded(sweep / "video_dream.mp4")) == 20
    assert all(np.array_equal(a, b) for a, b in zip(decoded(sweep / "video_dream.mp4"),
                                                    decoded(unkilled / "video_dream.mp4"), strict=True))
