import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import imageio_ffmpeg
import pytest

from render.cli import presets

ROOT = Path(__file__).resolve().parents[2]


def cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "render", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )


def test_presets_include_the_documented_ones():
    assert {"smoke", "zoom_places", "dream_image", "layer_tour", "zoom_spiral"} <= set(presets())


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--config-name", "nosuch"], ["Unknown preset 'nosuch'", "smoke"]),
        (["--config-name", "smoke", "foo=1"], ["foo"]),
        (["--config-name", "smoke", "frames=0"], ["frames", "greater than 0"]),
        (["--config-name", "smoke", "height=-4"], ["height"]),
        (["--config-name", "smoke", "motion.zoom='0:(1.04), 3:(1.0+)'"], ["motion.zoom", "^"]),
        (["--config-name", "smoke", "model=nosuch"], ["nosuch"]),
        (["--config-name", "smoke", "dream.iteratons=3"], ["Unknown setting 'dream.iteratons'", "dream.iterations"]),
        (["--config-name", "smoke", "model=efficientnet_lite9"], ["Unknown model", "efficientnet_lite0"]),
        (["--config-name", "smoke", "frames=abc"], ["'frames'", "Integer"]),
        (["--config-name", "dream_image", "input=photo (1).jpg"], ["photo (1).jpg does not exist"]),
        (["--config-name", "dream_image", "input=fotó.jpg"], ["fotó.jpg does not exist"]),
    ],
)
def test_bad_input_exits_non_zero_without_traceback(tmp_path, args, words):
    result = cli(*args, f"hydra.run.dir={tmp_path / 'run'}")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    for word in words:
        assert word in result.stderr + result.stdout


def test_a_render_refused_at_its_start_leaves_no_run_folder(tmp_path):
    result = cli("--config-name", "dream_image", "input=nothere.jpg", f"hydra.run.dir={tmp_path / 'run'}")
    assert result.returncode == 2 and "does not exist" in result.stderr
    assert not (tmp_path / "run").exists()


def test_an_output_folder_under_a_file_is_refused_before_hydra_makes_it(tmp_path):
    (tmp_path / "file").write_text("kept")
    result = cli("--config-name", "smoke", f"hydra.run.dir={tmp_path / 'file' / 'run'}")
    assert result.returncode == 2 and "is a file, not a folder" in result.stderr
    assert "Traceback" not in result.stderr and (tmp_path / "file").read_text() == "kept"


def test_a_render_into_a_folder_another_render_holds_is_refused(tmp_path):
    from render.media.run_lock import locked_run_dir

    with locked_run_dir(tmp_path / "run") as run_dir:
        (run_dir / "meta.json").write_text('{"finished": false}')
        result = cli("--config-name", "smoke", f"hydra.run.dir={run_dir}")
        assert result.returncode == 2 and "Another render" in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
        assert sorted(p.name for p in run_dir.iterdir()) == [".render.lock", "meta.json"]


def test_smoke_render_from_the_cli(tmp_path):
    result = cli("--config-name", "smoke", "frames=4", f"hydra.run.dir={tmp_path}")
    assert result.returncode == 0, result.stderr
    assert f"Done: {tmp_path / 'smoke.mp4'}" in result.stderr and f"(run folder {tmp_path})" in result.stderr
    assert imageio_ffmpeg.count_frames_and_secs(str(tmp_path / "smoke.mp4"))[0] == 4
    assert json.loads((tmp_path / "meta.json").read_text())["finished"] is True


@pytest.mark.slow
def test_kill_9_then_resume_gives_every_frame_once(tmp_path):
    run_dir = tmp_path / "run"
    # 48 frames: the render must still be running when the poll sees the resume point at 6 (smoke is fast).
    args = [sys.executable, "-m", "render", "--config-name", "smoke", "frames=48", f"hydra.run.dir={run_dir}"]
    process = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    manifest = run_dir / "chunks" / "manifest.json"
    deadline = time.time() + 240
    while time.time() < deadline and process.poll() is None:
        if manifest.is_file() and json.loads(manifest.read_text())["frames_done"] >= 6:
            break
        time.sleep(0.2)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert not (run_dir / "smoke.mp4").exists()
    result = cli("--config-name", "smoke", f"resume={run_dir}", f"hydra.run.dir={tmp_path / 'unused'}")
    assert result.returncode == 0, result.stderr
    assert imageio_ffmpeg.count_frames_and_secs(str(run_dir / "smoke.mp4"))[0] == 48
    again = cli("--config-name", "smoke", f"resume={run_dir}", f"hydra.run.dir={tmp_path / 'unused2'}")
    assert again.returncode == 2 and "finished already" in again.stderr


VIDEO_ARGS = ["--config-name", "video_dream", "dream.octaves=1", "dream.iterations=2", "output.checkpoint_every=4",
              "output.preset=ultrafast", "output.png_frames=true", "device=cpu"]


def wait_for_frames(process: subprocess.Popen, run_dir: Path, frames: int, seconds: float = 240) -> int:
    """Wait until the render in ``run_dir`` has a resume point at ``frames`` or more; returns its frame count."""
    manifest, deadline = run_dir / "chunks" / "manifest.json", time.time() + seconds
    while time.time() < deadline and process.poll() is None:
        if manifest.is_file() and (done := json.loads(manifest.read_text())["frames_done"]) >= frames:
            return done
        time.sleep(0.1)
    raise AssertionError(f"no resume point at {frames} frames in {run_dir}")


def png_frames(run_dir: Path) -> list[bytes]:
    """The frames as rendered, before lossy encoding (chunk boundaries change the H.264, not the dream)."""
    return [png.read_bytes() for png in sorted((run_dir / "frames").glob("frame_*.png"))]


@pytest.fixture(scope="module")
def pan_clip(tmp_path_factory) -> Path:
    from render.tools.bench_video import make_pan_clip

    return make_pan_clip(tmp_path_factory.mktemp("cli") / "pan.mp4", "testsrc2", 64, 48, 1.0, rate="24")


@pytest.mark.slow
def test_sigterm_finishes_the_frame_writes_a_resume_point_and_resume_gives_the_same_frames(tmp_path, pan_clip):
    run_dir, reference = tmp_path / "run", tmp_path / "reference"
    args = [sys.executable, "-m", "render", *VIDEO_ARGS, f"input={pan_clip}", f"hydra.run.dir={run_dir}"]
    process = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    at_signal = wait_for_frames(process, run_dir, 4)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 143, stderr
    assert "Stopped by SIGTERM" in stderr and f"\"resume='{run_dir}'\"" in stderr and "Traceback" not in stderr
    kept = json.loads((run_dir / "chunks" / "manifest.json").read_text())["frames_done"]
    assert at_signal < kept < 24  # the frames dreamed after the last regular resume point are kept too
    assert f"{kept} frames are kept" in stderr
    resumed = cli(*VIDEO_ARGS, f"resume={run_dir}", f"hydra.run.dir={tmp_path / 'unused'}")
    assert resumed.returncode == 0, resumed.stderr
    whole = cli(*VIDEO_ARGS, f"input={pan_clip}", f"hydra.run.dir={reference}")
    assert whole.returncode == 0, whole.stderr
    assert imageio_ffmpeg.count_frames_and_secs(str(run_dir / "video_dream.mp4"))[0] == 24
    assert len(png_frames(run_dir)) == 24 and png_frames(run_dir) == png_frames(reference)


def test_resume_with_changed_settings_is_refused_naming_them(tmp_path):
    from omegaconf import OmegaConf

    from dream.errors import UserError
    from render.cli import check_resume_settings

    saved = OmegaConf.create({"width": 640, "seed": 0, "frames": 240, "device": "cpu", "motion": {"zoom": 1.04}})
    given = OmegaConf.create({"width": 320, "seed": 0, "frames": 240, "device": "cuda", "motion": {"zoom": 1.0},
                              "resume": str(tmp_path)})
    with pytest.raises(UserError) as error:
        check_resume_settings(["resume=x", "width=320", "seed=0", "device=cuda", "motion.zoom=1.0"], given, saved,
                              tmp_path)
    assert "width (started with 640, given 320); motion.zoom (started with 1.04, given 1.0)" in str(error.value)
    check_resume_settings(["resume=x", "device=cuda", "seed=0", "hydra.run.dir=y"], given, saved, tmp_path)


def test_a_stopped_part_adds_its_seconds_so_a_resumed_render_counts_them_all(tmp_path):
    from render.cli import add_elapsed
    from render.media.run_folder import read_meta, write_meta

    write_meta(tmp_path, {"finished": False, "elapsed_seconds": 5.0})  # what an earlier stopped part recorded
    add_elapsed(tmp_path, time.perf_counter() - 2.0)
    assert 7.0 <= read_meta(tmp_path)["elapsed_seconds"] < 60
    write_meta(tmp_path, {"finished": True, "elapsed_seconds": 9.0})
    add_elapsed(tmp_path, time.perf_counter() - 2.0)
    assert read_meta(tmp_path)["elapsed_seconds"] == 9.0  # a finished render's total is its own


@pytest.mark.parametrize(
    ("argv", "shown"),
    [(["--config-name", "class_visualize", "target=golden", "retriever"], "\"target=golden retriever\""),
     (["retriever"], "\"key=retriever\"")],
)
def test_a_word_that_is_not_a_setting_says_how_to_quote(argv, shown):
    from dream.errors import UserError
    from render.cli import check_no_bare_words

    with pytest.raises(UserError, match="is not a setting") as info:
        check_no_bare_words(argv)
    assert shown in str(info.value)
    check_no_bare_words(["-m", "--config-name", "smoke", "seed=1,2", "~dream.layer", "-cn", "smoke", "+x=1"])
