"""Every command README.md shows in its code blocks runs as printed, with tiny sizes appended.

The commands run from a scratch folder that holds the project's Makefile and .venv (as a fresh clone
would after its first ``make``) and the files they name: photo.jpg, clip.mp4, song.mp3 and the masks are
generated there. Tiny sizes are appended only for settings the command does not set itself.
Not run, each for its reason in ``SKIPPED``: the test suite itself, the benchmark, and the pip
install of the cluster extra (the extra is checked to be declared instead). The Slurm example is
checked for parsing and composition only (its launcher settings too): there is no cluster here.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import imageio_ffmpeg
import pytest

from render.cli import compose_preset
from render.overrides import check_composes, quote_all

ROOT = Path(__file__).resolve().parents[1]
COMMAND_WORDS = ("make", "python", ".venv/bin/python", ".venv/bin/pip")
SKIPPED = {
    "make test": "the test suite itself",
    "make test-fast": "the test suite itself",
    "make bench": "minutes of benchmarks; tests/render/tools/test_bench*.py run its parts",
    ".venv/bin/pip install": "installs packages; the extra it names is checked in test_the_cluster_extra_is_declared",
}
TINY = {"width": "64", "height": "48", "frames": "2", "dream.octaves": "1", "dream.iterations": "1",
        "dream.first_frame_iterations": "1", "output.preset": "ultrafast", "visualize.steps": "2",
        "visualize.size": "64", "visualize.crop_size": "64", "visualize.crops": "1", "segment.warmup": "1",
        "segment.crossfade": "1"}

SWEEP_TINY = ("width", "height", "dream.octaves", "dream.iterations", "segment.warmup", "segment.crossfade")


def readme_commands(text: str) -> list[str]:
    """Commands in README's plain code blocks: continuation lines joined, comments dropped."""
    commands = []
    for block in re.findall(r"^```(\w*)\n(.*?)^```", text, re.S | re.M):
        language, body = block
        if language not in ("", "sh", "bash", "shell"):
            continue
        for line in body.replace("\\\n", " ").splitlines():
            line = strip_comment(line).strip()
            if line.split(" ", 1)[0] in COMMAND_WORDS:
                commands.append(re.sub(r"\s+", " ", line))
    return commands


def strip_comment(line: str) -> str:
    """``line`` without a shell comment: the first `` #`` outside quotes and what follows."""
    for match in re.finditer(r"\s#", line):
        head = line[: match.start()]
        if head.count('"') % 2 == 0 and head.count("'") % 2 == 0:
            return head.rstrip()
    return line


def with_tiny_sizes(command: str) -> str:
    """``command`` with tiny settings after its own (Hydra takes the last), in ARGS for make, at the end otherwise.

    A song's length (``frames=null``) and a clip split into segments keep their frame counts.
    """
    renders = re.search(r"(^| )(make render|make live|make segments|\S*python -m render)( |$)", command)
    if not renders or " --cfg " in command:
        return command
    keep = ("frames",) if "frames=null" in command or "segment.count" in command else ()
    sweep = " -m " in command or command.startswith("make segments")
    tiny = {key: TINY[key] for key in SWEEP_TINY} if sweep else TINY  # sweep folders are named after them
    extra = [f"{key}={value}" for key, value in tiny.items() if key not in keep]  # the last value given wins
    if "frames=null" in command:
        extra.append("fps=4")  # the song's length at 4 frames a second
    if not command.startswith("make"):
        return f"{command} {' '.join(extra)}"
    if 'ARGS="' in command:
        return re.sub(r'ARGS="([^"]*)"', lambda m: f'ARGS="{m[1]} {" ".join(extra)}"', command, count=1)
    return f'{command} ARGS="{" ".join(extra)}"'


def skip_reason(command: str) -> str | None:
    for start, reason in SKIPPED.items():
        if command == start or command.startswith(start + " "):
            return reason
    return None


def _ffmpeg(*args: str) -> None:
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", *args], check=True)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """A folder like the project's, with the files README's commands name."""
    work = tmp_path_factory.mktemp("readme")
    for name in ("Makefile", "pyproject.toml", ".venv", "dream", "render", "tests"):  # make lint reads the code
        (work / name).symlink_to(ROOT / name)
    _ffmpeg("-f", "lavfi", "-i", "testsrc2=size=96x64", "-frames:v", "1", str(work / "photo.jpg"))
    _ffmpeg("-f", "lavfi", "-i", "testsrc2=size=96x64:rate=12:d=1", "-f", "lavfi", "-i", "sine=d=1",
            "-shortest", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", str(work / "clip.mp4"))
    _ffmpeg("-f", "lavfi", "-i", "sine=frequency=220:d=1", "-f", "lavfi", "-i", "anoisesrc=d=1:a=0.3",
            "-filter_complex", "amix=inputs=2", str(work / "song.mp3"))
    for mask in ("sky.png", "window.png", "dancer.png"):  # white = dream: a bright box on black
        _ffmpeg("-f", "lavfi", "-i", "color=black:size=96x64", "-vf", "drawbox=x=24:y=16:w=48:h=32:color=white:t=fill",
                "-frames:v", "1", "-pix_fmt", "gray", str(work / mask))
    return work


PARALLEL = 2  # renders wait on files, ffmpeg and single-threaded start-up much of the time: two at once
# The commands of a lane run one after another, in README's order: live streams share a port, sweeps a folder
# named to the second (and the join reads the last sweep).
LANES = (("make live",), (" -m ", "make segments", "render.join"))


def run_command(command: str, workdir: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MAKEFLAGS": "-o .venv/.installed",  # installed already
           "OMP_NUM_THREADS": str(max(1, (os.cpu_count() or 1) // PARALLEL))}
    return subprocess.run(["bash", "-c", command], cwd=workdir, env=env, capture_output=True, text=True,
                          timeout=600)


COMMANDS = readme_commands((ROOT / "README.md").read_text())


def composed_only(command: str) -> bool:
    return "submitit_slurm" in command  # no cluster here: parsed and composed (the launcher's settings too) only


def jobs_of(commands: list[str]) -> list[list[str]]:
    """The commands to run as jobs: a lane's commands in order in one job, every other command alone."""
    lanes: dict[int, list[str]] = {}
    jobs: list[list[str]] = []
    for command in commands:
        if skip_reason(command) or composed_only(command):
            continue
        lane = next((i for i, marks in enumerate(LANES) if any(mark in command for mark in marks)), None)
        if lane is None:
            jobs.append([command])
        elif lane in lanes:
            lanes[lane].append(command)
        else:
            jobs.append(lanes.setdefault(lane, [command]))
    return jobs


def run_printed(command: str, workdir: Path) -> subprocess.CompletedProcess:
    """``command`` as README prints it, with tiny sizes (a join: of the last sweep, made joinable again)."""
    if "SWEEP_DIR" in command:
        command = command.replace("SWEEP_DIR", shlex.quote(str(joinable_sweep(workdir))))
    return run_command(with_tiny_sizes(command), workdir)


@pytest.fixture(scope="module")
def outcomes(workdir, request) -> dict[str, subprocess.CompletedProcess | BaseException]:
    """The result of every selected command, ``PARALLEL`` jobs at a time (a skip or error is kept as raised)."""
    selected = [item.callspec.params["command"] for item in request.session.items
                if getattr(item, "originalname", "") == "test_readme_command_works_as_printed"]
    results: dict[str, subprocess.CompletedProcess | BaseException] = {}

    def run_job(job: list[str]) -> None:
        for command in job:
            try:
                results[command] = run_printed(command, workdir)
            except BaseException as raised:  # pytest's skip is a BaseException; each test re-raises its own
                results[command] = raised

    with ThreadPoolExecutor(PARALLEL) as pool:
        list(pool.map(run_job, sorted(jobs_of(selected), key=len, reverse=True)))
    return results


def test_readme_shows_commands():
    assert len(COMMANDS) >= 20
    assert any("motion.zoom='0:(1.04), 120:(1.0)'" in command for command in COMMANDS)


@pytest.mark.slow
@pytest.mark.parametrize("command", COMMANDS)
def test_readme_command_works_as_printed(command, outcomes):
    if skip_reason(command):
        pytest.skip(skip_reason(command))
    if composed_only(command):
        check_composes(compose_preset, "video_dream", quote_all(shlex.split(command)[3:], multirun=True))
        return
    result = outcomes[command]
    if isinstance(result, BaseException):
        raise result
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{command}\n{output[-3000:]}"
    assert "Traceback" not in output


def test_lanes_keep_their_order_and_other_commands_run_alone():
    commands = ["make live conf=a", "make render conf=b", "python -m render -m x=1,2", "make live conf=c",
                ".venv/bin/python -m render.join SWEEP_DIR", "make test"]
    assert jobs_of(commands) == [["make live conf=a", "make live conf=c"], ["make render conf=b"],
                                 ["python -m render -m x=1,2", ".venv/bin/python -m render.join SWEEP_DIR"]]


def joinable_sweep(workdir: Path) -> Path:
    """A segmented video dream's sweep folder with its join taken away, so that the join runs again."""
    sweeps = sorted((workdir / "outputs" / "video_dream-sweep").glob("*"))
    if not sweeps:
        pytest.skip("no segmented sweep was rendered by the commands before this one")
    for joined in [*sweeps[-1].glob("*.mp4"), sweeps[-1] / "meta.json"]:
        joined.unlink(missing_ok=True)
    return sweeps[-1]


def test_the_cluster_extra_is_declared():
    text = (ROOT / "pyproject.toml").read_text()
    assert re.search(r"^cluster = \[.*hydra-joblib-launcher.*hydra-submitit-launcher", text, re.M)


def test_tiny_sizes_go_where_each_command_reads_them():
    tiny = with_tiny_sizes('make render conf=smoke ARGS="frames=9"')
    assert tiny.startswith('make render conf=smoke ARGS="frames=9 ') and "frames=2" in tiny
    assert "frames=2" not in with_tiny_sizes('make render ARGS="audio=song.mp3 frames=null"')
    assert with_tiny_sizes("make live conf=zoom_places").startswith('make live conf=zoom_places ARGS="width=64 ')
    assert with_tiny_sizes("make render conf=smoke").endswith('width=64 height=48 frames=2 dream.octaves=1 '
                                                              'dream.iterations=1 dream.first_frame_iterations=1 '
                                                              'output.preset=ultrafast visualize.steps=2 '
                                                              'visualize.size=64 visualize.crop_size=64 '
                                                              'visualize.crops=1 segment.warmup=1 '
                                                              'segment.crossfade=1"')
    listing = ".venv/bin/python -m render.tools.list models"
    assert with_tiny_sizes(listing) == listing


def test_comments_are_dropped_but_not_hashes_inside_quotes():
    assert strip_comment("make test   # run it") == "make test"
    assert strip_comment("make render ARGS=\"x='#1'\"  # note") == "make render ARGS=\"x='#1'\""
