import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from hydra.core.utils import JobStatus
from omegaconf import OmegaConf
from rich.console import Console

from render.tools.gallery import build_gallery
from render.tools.sweep import SweepSummary, run_row, summary_table

ROOT = Path(__file__).resolve().parents[3]


def _job_end(summary: SweepSummary, run_dir: Path, overrides: list[str], status=JobStatus.COMPLETED) -> None:
    config = OmegaConf.create({"hydra": {"runtime": {"output_dir": str(run_dir)}}})
    summary.on_job_end(config, SimpleNamespace(overrides=overrides, status=status))


def test_rows_say_finished_or_failed(tmp_path):
    done, crashed, broken = tmp_path / "0_seed=1", tmp_path / "1_seed=2", tmp_path / "2_seed=3"
    done.mkdir()
    (done / "meta.json").write_text(json.dumps(
        {"model": "efficientnet_lite0", "fallback": True, "frames": 3, "elapsed_seconds": 4.26, "finished": True}))
    crashed.mkdir()
    (crashed / "meta.json").write_text(json.dumps({"frames": 3, "finished": False}))
    summary = SweepSummary()
    _job_end(summary, done, ["seed=1"])
    _job_end(summary, crashed, ["seed=2"])
    _job_end(summary, broken, ["seed=3"], JobStatus.FAILED)
    rows = [run_row(job) for job in summary.jobs]
    assert rows[0] == ["0_seed=1", "seed=1", "efficientnet_lite0 (fallback)", "3", "4.3 s", "finished"]
    assert rows[1][-1] == "failed" and rows[2] == ["2_seed=3", "seed=3", "?", "?", "?", "failed"]
    console = Console(width=200, record=True)
    console.print(summary_table(summary.jobs))
    assert "Sweep: 3 runs" in console.export_text()


def test_failed_run_ends_the_sweep_with_status_1(tmp_path, capsys):
    summary = SweepSummary()
    _job_end(summary, tmp_path / "0_model=nosuch", ["model=nosuch"], JobStatus.FAILED)
    with pytest.raises(SystemExit) as info:
        summary.on_multirun_end(OmegaConf.create({"hydra": {"sweep": {"dir": str(tmp_path)}}}))
    assert info.value.code == 1
    assert "0 of 1 runs finished" in capsys.readouterr().err


def test_single_runs_print_nothing(tmp_path, capsys):
    summary = SweepSummary()
    summary.on_run_start(OmegaConf.create({}))
    _job_end(summary, tmp_path, [])
    summary.on_run_end(OmegaConf.create({}))
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


@pytest.mark.slow
def test_multirun_renders_one_folder_per_combination(tmp_path):
    sweep_dir = tmp_path / "sweep"
    args = ["-m", "--config-name", "smoke", "seed=1,2", "frames=3", "output.webm=true", f"hydra.sweep.dir={sweep_dir}"]
    result = subprocess.run([sys.executable, "-m", "render", *args], cwd=ROOT, capture_output=True, text=True,
                            timeout=300, env={**os.environ, "COLUMNS": "160"})
    assert result.returncode == 0, result.stderr[-3000:]
    run_dirs = sorted(p for p in sweep_dir.iterdir() if p.is_dir())
    assert [p.name for p in run_dirs] == ["0_frames=3,output.webm=True,seed=1", "1_frames=3,output.webm=True,seed=2"]
    for run_dir, seed in zip(run_dirs, (1, 2), strict=True):
        meta = json.loads((run_dir / "meta.json").read_text())
        assert meta["finished"] is True and meta["seed"] == seed and meta["frames"] == 3
        assert (run_dir / "smoke.mp4").is_file() and (run_dir / meta["webm"]).is_file()
    assert "run folder" in result.stderr and "2 of 2 runs finished" in result.stderr
    assert result.stderr.count("finished") >= 3  # one per row and the closing line
    page, count = build_gallery([sweep_dir], sweep_dir / "index.html")
    assert count == 2 and page.read_text().count("<figure>") == 2


def has_launcher(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(f"hydra_plugins.{module}") is not None


def segmented_sweep(clip: Path, sweep_dir: Path, launcher: str, count: int, *extra: str) -> subprocess.CompletedProcess:
    args = ["-m", "--config-name", "video_dream", f"input={clip}", "dream.octaves=1", "dream.iterations=1",
            "output.preset=ultrafast", "device=cpu", f"segment.count={count}", f"segment.index=range({count})",
            "segment.warmup=3", f"hydra/launcher={launcher}", f"hydra.sweep.dir={sweep_dir}", *extra]
    return subprocess.run([sys.executable, "-m", "render", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=400, env={**os.environ, "COLUMNS": "160"})


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    from render.tools.bench_video import make_pan_clip

    return make_pan_clip(tmp_path_factory.mktemp("sweep") / "pan.mp4", "testsrc2", 48, 32, 0.75, rate="24")


@pytest.mark.slow
@pytest.mark.skipif(not has_launcher("hydra_joblib_launcher"), reason="needs hydra-joblib-launcher (.[cluster])")
def test_joblib_sweep_renders_segments_in_parallel_and_joins_them(clip, tmp_path):
    result = segmented_sweep(clip, tmp_path / "sweep", "joblib", 3, "hydra.launcher.n_jobs=2")
    assert result.returncode == 0, result.stderr[-3000:]
    meta = json.loads((tmp_path / "sweep" / "meta.json").read_text())
    assert meta["finished"] and meta["frames"] == 18 and [s["index"] for s in meta["segments"]] == [0, 1, 2]
    assert "3 of 3 runs finished" in result.stderr and "Joined 3 segments" in result.stderr


@pytest.mark.slow
@pytest.mark.skipif(not has_launcher("hydra_submitit_launcher"), reason="needs hydra-submitit-launcher (.[cluster])")
def test_submitit_local_sweep_renders_segments_and_joins_them(clip, tmp_path):
    result = segmented_sweep(clip, tmp_path / "sweep", "submitit_local", 2)
    assert result.returncode == 0, result.stderr[-3000:]
    meta = json.loads((tmp_path / "sweep" / "meta.json").read_text())
    assert meta["finished"] and meta["frames"] == 18 and (tmp_path / "sweep" / "video_dream.mp4").is_file()


@pytest.mark.slow
def test_a_rerun_sweep_job_continues_its_interrupted_render(clip, tmp_path):
    """What a requeued cluster job does: the same job in the same folder picks up at the resume point."""
    sweep_dir = tmp_path / "sweep"
    args = [sys.executable, "-m", "render", "-m", "--config-name", "video_dream", f"input={clip}", "dream.octaves=1",
            "dream.iterations=2", "output.checkpoint_every=3", "output.preset=ultrafast", "device=cpu",
            "segment.count=2", "segment.index=1", "segment.warmup=2", f"hydra.sweep.dir={sweep_dir}"]
    process = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    while process.poll() is None and not list(sweep_dir.glob("*/chunks/manifest.json")):
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 143 and "Stopped by SIGTERM" in stderr, stderr[:3000]
    again = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr[-3000:]
    (run_dir,) = [p for p in sweep_dir.iterdir() if p.is_dir()]
    meta = json.loads((run_dir / "meta.json").read_text())
    assert meta["finished"] and meta["frames"] == 9 and meta["frames_rendered_now"] < 9 + 2
