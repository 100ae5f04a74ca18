"""``python -m render.tools.quality``: do class visualisations read as objects to a network that never made them?

The held-out transfer check. Every class is visualised with each
parameterisation (``maco``: phase only with the magnitude of natural photos, the
default; ``fourier``: lucid's prior with a few pixels of jitter, as before;
``pixel``: plain ascent), once against one network (EfficientNet-Lite0) and once
against an ensemble (Lite0 + Lite2). Then judges that were never optimised
against classify every image: EfficientNet-Lite1 (offline weights) and every
torchvision ImageNet network whose weights are already in the local torch cache
(another architecture family; nothing is downloaded). Adversarial noise fools
only the networks it was made on; a picture of a banana is a banana to all.

Each judge also classifies a thumbnail of every image (56 px, scaled back up),
reported as "JUDGE 1/4": a texture of parts that excites the network only up
close loses its class there. So does a small object, which the thumbnail shrinks
to a few pixels; read it beside the full-size judge, not alone.

Three figures describe each picture as a picture: the share of the canvas the
object covers (importance above ``OBJECT_THRESHOLD``), the background noise (RMS
fine detail, in grey levels, outside the object: a mottle or streaks) and the held-out
judge's top-1. The default is judged as ``class_visualize`` shows it (its
``visualize.background``); the baselines as optimised.

Writes into ``--out`` (default ``outputs/quality``), after every row so an
interrupted run keeps what it measured: ``transfer.json`` (every judge's top-5,
seconds per image), ``transfer_sheet.png`` (one row per setting),
``classes_sheet.png`` (the default's images, large: the contact sheet), every image
in ``images/`` and a
``meta.json`` that makes the folder a card of ``make gallery``.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from kornia.filters import gaussian_blur2d
from omegaconf import OmegaConf
from rich.console import Console
from rich.table import Table

from dream.models.base import TapNet
from dream.models.registry import MODELS, default_weights_path, load_model
from dream.octaves import resize
from dream.visualize import LUCID_ROBUSTNESS, PLAIN, Detail, Robustness, find_target, top_classes, visualize
from render.cli import compose_preset
from render.config import VisualizeConfig
from render.media.images import save_png
from render.modes.visualize import detail_of, image_grid, robustness_of

CLASSES = (
    "banana", "strawberry", "pineapple", "goldfish", "flamingo", "zebra",
    "monarch", "jellyfish", "daisy", "volcano", "school bus", "teapot",
)  # fmt: skip
SOURCES = {"ensemble": ("efficientnet_lite0", "efficientnet_lite2"), "one": ("efficientnet_lite0",)}
HELD_OUT_JUDGE = "efficientnet_lite1"
TORCHVISION_JUDGES = ("resnet50", "mobilenet_v2", "googlenet", "vgg16", "inception_v3")
JUDGE_SIZE = {"efficientnet_lite1": 240, "inception_v3": 299}  # training resolutions; others 224
BASELINE_SIZE = 224  # the canvas the Fourier and pixel visualisations were made at
COARSE_SIZE = 56  # the thumbnail each judge also sees: a quarter of the networks' input side
COARSE_VIEW = "1/4"  # how the thumbnail judge is named in the report
OBJECT_THRESHOLD = 0.5  # importance above which a pixel belongs to the object
NOISE_SIZE = 320  # pictures are compared at this side, so a 1024 px picture's finer grain is not penalised
NOISE_SIGMA = 1.5  # pixels at NOISE_SIZE: the high-pass keeps what a blur of this radius removes


def object_coverage(importance: torch.Tensor) -> list[float]:
    """Share of the canvas the object covers: (B, 1, H, W) importance -> B fractions in [0, 1]."""
    return (importance > OBJECT_THRESHOLD).float().mean(dim=(1, 2, 3)).tolist()


def background_noise(images: torch.Tensor, importance: torch.Tensor) -> list[float]:
    """RMS high-frequency grey level (0-255) outside the object, per image, seen at ``NOISE_SIZE`` px.

    Args:
        images: (B, 3, H, W) RGB in [0, 1].
        importance: (B, 1, H, W) in [0, 1]; pixels at or below ``OBJECT_THRESHOLD`` are background.

    Returns:
        B values: 0 for a flat or smooth background; a fine mottle or streaks of a few levels give 5-15.
    """
    grey = resize(images.mean(1, keepdim=True), (NOISE_SIZE, NOISE_SIZE))  # (B, 1, S, S)
    background = (resize(importance, (NOISE_SIZE, NOISE_SIZE)) <= OBJECT_THRESHOLD).float()
    kernel = int(6 * NOISE_SIGMA) | 1
    detail = grey - gaussian_blur2d(grey, (kernel, kernel), (NOISE_SIGMA, NOISE_SIGMA), border_type="reflect")
    energy = (detail.square() * background).sum((1, 2, 3)) / background.sum((1, 2, 3)).clamp(min=1)
    return (255 * energy.sqrt()).tolist()


@dataclass(frozen=True)
class Setting:
    """One row of the table: a parameterisation, its robustness and canvas, and the networks optimised."""

    parameterization: str
    sources: str  # a key of SOURCES
    robust: Robustness
    size: int
    steps: int
    background: str = "keep"  # Visualization.picture's background: what is shown and judged
    detail: Detail = Detail()

    @property
    def name(self) -> str:
        return f"{self.parameterization}/{self.sources}"


@dataclass
class Row:
    """A setting's images, each judge's top-5 per image, and the seconds each image took."""

    setting: Setting
    images: list[torch.Tensor] = field(default_factory=list)  # (1, 3, H, W) each
    top5: dict[str, list[list[tuple[str, float]]]] = field(default_factory=dict)  # judge -> per class
    seconds: list[float] = field(default_factory=list)
    coverage: list[float] = field(default_factory=list)  # share of the canvas the object covers
    noise: list[float] = field(default_factory=list)  # background_noise of each picture

    def hits(self, judge: str, labels: list[str], k: int) -> list[bool]:
        return [label in [name for name, _ in top[:k]] for label, top in zip(labels, self.top5[judge])]


def preset_settings(overrides: list[str] | None = None) -> VisualizeConfig:
    """The ``class_visualize`` preset's ``visualize`` section: the default the table measures."""
    section = compose_preset("class_visualize", overrides).visualize
    return VisualizeConfig(**OmegaConf.to_container(section, resolve=True))


def settings_table(default: VisualizeConfig, steps: int, baseline_steps: int) -> list[Setting]:
    """Six rows, the default prior first: MaCo, today's Fourier prior and plain pixels, x one net and the ensemble."""
    maco = [
        Setting("maco", sources, robustness_of(default), default.size, steps, default.background, detail_of(default))
        for sources in ("ensemble", "one")
    ]
    baselines = [
        Setting(parameterization, sources, robust, BASELINE_SIZE, baseline_steps)
        for sources in ("one", "ensemble")
        for parameterization, robust in (("fourier", LUCID_ROBUSTNESS), ("pixel", PLAIN))
    ]
    return maco + baselines


def available_judges(device: torch.device) -> dict[str, TapNet]:
    """EfficientNet-Lite1 and every torchvision judge whose weights file is already on this machine."""
    names = [HELD_OUT_JUDGE] + [name for name in TORCHVISION_JUDGES if default_weights_path(MODELS[name]).is_file()]
    return {name: load_model(name, device=device).net for name in names}


def run_setting(
    setting: Setting, nets: dict[str, TapNet], judges: dict[str, TapNet], labels: list[str], seed: int, log
) -> Row:
    """Visualise every class with ``setting`` (one image each, as ``class_visualize`` does) and judge it."""
    sources = [nets[name] for name in SOURCES[setting.sources]]
    device = next(sources[0].parameters()).device
    row = Row(setting)
    for label in labels:
        started = time.perf_counter()
        result = visualize(
            sources, [find_target(net, label).objective() for net in sources], size=setting.size,
            steps=setting.steps, parameterization=setting.parameterization, robust=setting.robust,
            detail=setting.detail, generator=torch.Generator().manual_seed(seed), device=device,
        )  # fmt: skip
        row.seconds.append(round(time.perf_counter() - started, 1))
        picture = result.picture(setting.background).cpu()
        row.images.append(picture)
        row.coverage += object_coverage(result.importance.cpu())
        row.noise += background_noise(picture, result.importance.cpu())
        for name, judge in judges.items():
            size = JUDGE_SIZE.get(name, 224)
            for view, images in ((name, picture), (f"{name} {COARSE_VIEW}", coarse(picture))):
                row.top5.setdefault(view, []).extend(top_classes(judge, resize(images, (size, size))))
        judged = {name: tops[-1][0] for name, tops in row.top5.items()}
        log(f"{setting.name:17s} {label:12s} {row.seconds[-1]:6.1f} s  object {row.coverage[-1]:.2f} of the "
            f"canvas, background noise {row.noise[-1]:.1f}  {judged}")
    return row


def coarse(images: torch.Tensor, size: int = COARSE_SIZE) -> torch.Tensor:
    """(B, 3, H, W) -> (B, 3, H, W) seen at ``size`` pixels (area-averaged down, bilinear up).

    Fine texture that fires the network only up close (eyes and scales everywhere) is averaged away.
    """
    small = torch.nn.functional.interpolate(images, size=(size, size), mode="area")
    return resize(small, tuple(images.shape[-2:]))


def class_table(
    title: str, labels: list[str], rows: list[Row], header: Callable[[Row], str],
    cell: Callable[[Row, int], str], summary: Callable[[Row], str],
) -> Table:  # fmt: skip
    """One line per class, one column per row of settings (``cell(row, class index)``), a summary caption."""
    table = Table(title=title)
    table.add_column("class")
    for row in rows:
        table.add_column(header(row))
    for i, label in enumerate(labels):
        table.add_row(label, *[cell(row, i) for row in rows])
    table.caption = "; ".join(f"{row.setting.name}: {summary(row)}" for row in rows)
    return table


def results_table(labels: list[str], rows: list[Row], judge: str) -> Table:
    """Per class and setting: the judge's top-1 (with probability) and '5' when the class is in its top-5."""

    def cell(row: Row, i: int) -> str:
        name, probability = row.top5[judge][i][0]
        mark = "*" if name == labels[i] else ("5" if row.hits(judge, labels, 5)[i] else " ")
        return f"{mark} {name[:18]} {probability:.2f}"

    def summary(r: Row) -> str:
        return (f"top-1 {sum(r.hits(judge, labels, 1))}/{len(labels)}, top-5 {sum(r.hits(judge, labels, 5))}/"
                f"{len(labels)}, {sum(r.seconds) / len(r.seconds):.0f} s/image")  # fmt: skip

    title = f"Held-out judge {judge}: top-1 per image ('*' top-1 hit, '5' top-5 hit)"
    return class_table(title, labels, rows, lambda row: row.setting.name, cell, summary)


def picture_table(labels: list[str], rows: list[Row], judge: str) -> Table:
    """Per class and setting: the object's share of the canvas, the background noise and ``judge``'s top-1."""

    def cell(r: Row, i: int) -> str:
        return f"{r.coverage[i]:.2f}  {r.noise[i]:5.1f}  {r.top5[judge][i][0][0][:16]}"

    def summary(r: Row) -> str:
        return (f"mean cover {sum(r.coverage) / len(r.coverage):.2f}, mean noise {sum(r.noise) / len(r.noise):.1f}, "
                f"top-1 {sum(r.hits(judge, labels, 1))}/{len(labels)}")  # fmt: skip

    title = f"Pictures: object coverage, background noise (grey levels), {judge} top-1"
    return class_table(title, labels, rows, lambda row: f"{row.setting.name}\ncover  noise  top-1", cell, summary)


def report(labels: list[str], rows: list[Row], settings: dict) -> dict:
    """transfer.json's content: the settings, and per row the hits and every top-5 of every judge."""
    return {
        **settings,
        "classes": labels,
        "results": {
            r.setting.name: {
                "steps": r.setting.steps,
                "size": r.setting.size,
                "crops": r.setting.robust.crops,
                "seconds_per_image": r.seconds,
                "background": r.setting.background,
                "object_coverage": [round(c, 3) for c in r.coverage],
                "background_noise": [round(n, 2) for n in r.noise],
                "judge_top1": [top[0][0] for top in r.top5.get(HELD_OUT_JUDGE, [])],
                "hits": {
                    judge: {"top1": sum(r.hits(judge, labels, 1)), "top5": sum(r.hits(judge, labels, 5))}
                    for judge in r.top5
                },
                "top5": r.top5,
            }
            for r in rows
        },
    }


def save_report(labels: list[str], rows: list[Row], out: Path, settings: dict) -> None:
    """transfer.json, transfer_sheet.png, classes_sheet.png and the gallery card's meta.json."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "transfer.json").write_text(json.dumps(report(labels, rows, settings), indent=2))
    judge = HELD_OUT_JUDGE
    small = torch.cat([resize(image, (BASELINE_SIZE, BASELINE_SIZE)) for row in rows for image in row.images])
    captions = [f"{labels[i][:12]} {mark(row, judge, labels, i)}" for row in rows for i in range(len(row.images))]
    image_grid(small, columns=len(labels), captions=captions, row_titles=[r.setting.name for r in rows]).save(
        out / "transfer_sheet.png"
    )
    default = rows[0]
    images = torch.cat(default.images)
    default_captions = [f"{lab} {mark(default, judge, labels, i)}" for i, lab in enumerate(labels[: len(images)])]
    image_grid(images, columns=4, captions=default_captions).save(out / "classes_sheet.png")
    write_card(out, default, labels, settings)
    (out / "images").mkdir(exist_ok=True)
    for row in rows:
        for label, image in zip(labels, row.images):
            name = f"{row.setting.name.replace('/', '_')}_{label.replace(' ', '_')}.png"
            save_png(image, out / "images" / name)


def mark(row: Row, judge: str, labels: list[str], index: int) -> str:
    """'top-1', 'top-5' or '-': where ``judge`` put the class of image ``index``."""
    top = [name for name, _ in row.top5[judge][index]]
    return "top-1" if top[0] == labels[index] else ("top-5" if labels[index] in top else "-")


def write_card(out: Path, default: Row, labels: list[str], settings: dict) -> None:
    """A meta.json that shows the contact sheet as a finished run in ``make gallery``."""
    done = len(default.images)
    meta = {
        "finished": True,
        "preset": "quality",
        "mode": "visualize",
        "media": "classes_sheet.png",
        "model": "+".join(SOURCES[default.setting.sources]),
        "label": f"{done} classes, judged by {HELD_OUT_JUDGE}: "
        f"top-1 {sum(default.hits(HELD_OUT_JUDGE, labels[:done], 1))}/{done}, "
        f"top-5 {sum(default.hits(HELD_OUT_JUDGE, labels[:done], 5))}/{done}",
        "objective": f"{default.setting.name}, {default.setting.steps} steps",
        "width": default.setting.size,
        "height": default.setting.size,
        "seed": settings["seed"],
        "elapsed_seconds": sum(default.seconds),
    }
    (out / "meta.json").write_text(json.dumps(meta, indent=2))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m render.tools.quality", description=__doc__)
    parser.add_argument("--steps", type=int, default=None, help="steps of the default prior (default: the preset's)")
    parser.add_argument("--baseline-steps", type=int, default=256, help="steps of the Fourier and pixel rows")
    parser.add_argument("--classes", default=",".join(CLASSES), help="comma-separated class names")
    parser.add_argument("--rows", default="", help="only these rows, e.g. maco/ensemble,fourier/one (default: all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--out", type=Path, default=Path("outputs/quality"))
    args = parser.parse_args(argv)
    console, device = Console(), torch.device(args.device)
    labels = [label.strip() for label in args.classes.split(",") if label.strip()]
    default = preset_settings()
    table = settings_table(default, args.steps or default.steps, args.baseline_steps)
    chosen = [s for s in table if not args.rows or s.name in args.rows.split(",")]
    nets = {name: load_model(name, device=device).net for name in dict.fromkeys(sum(SOURCES.values(), ()))}
    judges = available_judges(device)
    console.print(f"judges never optimised against: {', '.join(judges)}")
    settings = {"seed": args.seed, "judges": list(judges), "sources": SOURCES, "device": str(device)}
    rows: list[Row] = []
    for setting in chosen:
        rows.append(run_setting(setting, nets, judges, labels, args.seed, console.print))
        save_report(labels, rows, args.out, settings)
    for judge in rows[0].top5 if rows else []:
        console.print(results_table(labels, rows, judge))
    if rows and HELD_OUT_JUDGE in rows[0].top5:
        console.print(picture_table(labels, rows, HELD_OUT_JUDGE))
    console.print(f"wrote {args.out / 'transfer.json'}, {args.out / 'classes_sheet.png'} and transfer_sheet.png")


if __name__ == "__main__":
    main()
