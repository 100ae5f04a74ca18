"""``python -m render.tools.bench_estimate``: the estimate printed before the first frame against the real time.

Renders a zoom, a video dream and a class visualisation of different sizes through the CLI, each as a
user would, and prints what the estimate announced, how long the render then took, their ratio
(target: within 1.5x either way) and the announced and measured peak memory. Extra arguments are
added to every render (e.g. ``device=cpu``).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from render.tools.bench_video import make_pan_clip

RENDERS = {
    "zoom 320x180, 24 frames": ["--config-name", "zoom_places", "width=320", "height=180", "frames=24"],
    "video dream 256x144, 48 frames": ["--config-name", "video_dream", "input={clip}"],
    "class visualisation 224x224, 32 steps": ["--config-name", "class_visualize", "width=224", "height=224",
                                              "visualize.size=224", "visualize.steps=32"],
}


def render_meta(args: list[str], run_dir: Path) -> dict:
    """Render through the CLI into ``run_dir``; its meta.json."""
    command = [sys.executable, "-m", "render", *args, f"hydra.run.dir={run_dir}"]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{result.stderr[-2000:]}")
    return json.loads((run_dir / "meta.json").read_text())


def main(argv: list[str] | None = None) -> None:
    extra = list(sys.argv[1:] if argv is None else argv)
    with tempfile.TemporaryDirectory() as tmp:
        clip = make_pan_clip(Path(tmp) / "clip.mp4", "testsrc2", 256, 144, 2.0, rate="24")
        print(f"{'render':40} {'estimate s':>10} {'actual s':>9} {'ratio':>6} {'peak GiB est/actual':>20}")
        for name, args in RENDERS.items():
            args = [arg.format(clip=clip) for arg in args] + extra
            estimate = render_meta(args, Path(tmp) / name.split()[0])["estimate"]
            ratio = estimate["seconds"] / estimate["render_seconds"]
            peaks = f"{estimate['peak_gib']:.2f} / {estimate['peak_gib_measured']:.2f}"
            print(f"{name:40} {estimate['seconds']:10.1f} {estimate['render_seconds']:9.1f} {ratio:6.2f} {peaks:>20}")


if __name__ == "__main__":
    main()
