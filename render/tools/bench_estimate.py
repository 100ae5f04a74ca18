"""``python -m render.tools.bench_estimate``: the estimate printed before the first frame against the real time.

Renders every preset (shrunk alike for estimate and render: fewer frames, a smaller size) and the cases
the estimate once got wrong through the CLI, each as a user would, and prints a table: the case, what the
estimate announced, how long the render then took (from the estimate line to the end, as meta.json
records it), their ratio (target: within 1.5x either way), how long the estimate took to appear after
the command started (target: within 30 s at any size), and the load average before and after. Extra
arguments are added to every render (e.g. ``device=cpu``); ``--only NAME`` (repeatable) picks cases by
the start of their name.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import imageio.v3 as iio
import numpy as np
from skimage import data, transform

from render.tools.bench_video import make_pan_clip

SMALL = ["width=320", "height=180", "frames=24"]
CASES = {
    "smoke": ["--config-name", "smoke", "frames=24"],
    "zoom_places": ["--config-name", "zoom_places", *SMALL],
    "zoom_spiral": ["--config-name", "zoom_spiral", *SMALL],
    "zoom_tilt": ["--config-name", "zoom_tilt", *SMALL],
    "layer_tour": ["--config-name", "layer_tour", *SMALL],
    "video_dream": ["--config-name", "video_dream", "input={clip}"],
    "dream_image": ["--config-name", "dream_image", "input={photo}"],
    "class_visualize": ["--config-name", "class_visualize", "width=224", "height=224", "visualize.size=224",
                        "visualize.steps=32"],
    "masked zoom": ["--config-name", "zoom_places", *SMALL, "mask.source=key:hue:0-10+saturation:0.9-1"],
    "smoke, 1 step a frame": ["--config-name", "smoke", "frames=200", "dream.octaves=1", "dream.iterations=1"],
    "still 6000x4000": ["--config-name", "dream_image", "input={big}", "dream.octaves=2", "dream.iterations=1"],
    "speed.compile": ["--config-name", "smoke", "frames=12", "speed.compile=default"],
}


def inputs(folder: Path) -> dict[str, Path]:
    """The clip, the photo (512x512) and the 6000x4000 photo the cases read."""
    photo, big = folder / "photo.png", folder / "big.png"
    iio.imwrite(photo, data.astronaut())
    large = transform.resize(data.coffee(), (4000, 6000), order=1, anti_aliasing=False)
    iio.imwrite(big, (large * 255).astype(np.uint8))
    return {"clip": make_pan_clip(folder / "clip.mp4", "testsrc2", 256, 144, 2.0, rate="24"), "photo": photo,
            "big": big}


def render_case(args: list[str], run_dir: Path) -> tuple[dict, float]:
    """Render through the CLI into ``run_dir``: (meta.json's estimate, seconds until the estimate line showed)."""
    command = [sys.executable, "-m", "render", *args, f"hydra.run.dir={run_dir}"]
    started, shown, lines = time.perf_counter(), None, []
    with subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True) as process:
        for line in process.stderr:
            lines.append(line)
            if shown is None and "Estimate:" in line:
                shown = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{''.join(lines)[-2000:]}")
    return json.loads((run_dir / "meta.json").read_text())["estimate"], shown


def load() -> str:
    return Path("/proc/loadavg").read_text().split()[0]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", default=[], help="cases whose name starts with this")
    options, extra = parser.parse_known_args(argv)
    cases = {name: args for name, args in CASES.items() if not options.only or name.startswith(tuple(options.only))}
    with tempfile.TemporaryDirectory() as tmp:
        files = inputs(Path(tmp))
        print("| case | command | estimate s | actual s | ratio | estimate shown after s | load before/after |")
        print("|---|---|---|---|---|---|---|")
        for number, (name, args) in enumerate(cases.items()):
            args = [arg.format(**files) for arg in args] + extra
            before = load()
            estimate, shown = render_case(args, Path(tmp) / f"run{number}")
            ratio = estimate["seconds"] / estimate["render_seconds"]
            typed = " ".join(arg if "{" not in template else template.split("=")[0] + "=..."
                             for arg, template in zip(args, [*CASES[name], *extra]))
            print(f"| {name} | `{typed}` | {estimate['seconds']:.1f} | {estimate['render_seconds']:.1f} | "
                  f"{ratio:.2f} | {shown:.1f} | {before} / {load()} |", flush=True)


if __name__ == "__main__":
    main()
