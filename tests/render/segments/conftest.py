"""A segmented sweep rendered once for the join and callback tests: 3 finished segments of a short clip."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from render.tools.bench_video import make_pan_clip
from tests.render.modes.test_video_dream import dream_video

SEGMENTS = 3


@pytest.fixture(scope="package")
def rendered(tmp_path_factory) -> tuple[Path, Path]:
    """A 20-frame 29.97 fps clip with a tone, and a sweep folder with its 3 finished segments (not joined)."""
    folder = tmp_path_factory.mktemp("join")
    clip = make_pan_clip(folder / "pan.mp4", "testsrc2", 64, 48, 20.5 * 1001 / 30000, rate="30000/1001")
    for index in range(SEGMENTS):
        dream_video(clip, folder / "sweep" / f"{index}_segment.index={index}", f"segment.count={SEGMENTS}",
                    f"segment.index={index}", "segment.warmup=3", "output.png_frames=true")
    return clip, folder / "sweep"


@pytest.fixture()
def sweep(rendered, tmp_path) -> Path:
    """A fresh copy of the rendered sweep folder, for one test to join or spoil."""
    return Path(shutil.copytree(rendered[1], tmp_path / "sweep"))
