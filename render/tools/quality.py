"""``python -m render.tools.quality``: does the natural-image prior make pictures, or adversarial noise?

The transfer check: visualise 10 classes with ``efficientnet_lite0``, once with
the prior (Fourier-space, decorrelated colour, transformation robustness) and
once with plain pixel ascent, then classify every image with
``efficientnet_lite2``, a network that never saw the optimisation. Adversarial
noise fools only the network it was made on; a picture of a banana is a banana
to both. Prints a table, writes ``outputs/quality/transfer.json`` and a contact
sheet ``outputs/quality/transfer_sheet.png`` (top row: prior, bottom: pixels).
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from rich.console import Console
from rich.table import Table

from dream.models.base import TapNet
from dream.models.registry import load_model
from dream.objectives import Activations, Objective
from dream.octaves import resize
from dream.visualize import find_target, top_classes, visualize
from render.config import VisualizeConfig
from render.modes.visualize import image_grid

CLASSES = (
    "banana", "goldfish", "flamingo", "strawberry", "pineapple",
    "daisy", "zebra", "jellyfish", "volcano", "monarch",
)  # fmt: skip
SOURCE_MODEL, JUDGE_MODEL = "efficientnet_lite0", "efficientnet_lite2"
JUDGE_SIZE = 260  # EfficientNet-Lite2's training resolution
# Plain pixel ascent: no prior at all, so no transformation robustness either.
PLAIN = {"jitter": 0, "scales": [1.0], "rotate_degrees": 0.0}


@dataclass
class Result:
    """One parameterisation's images and how both networks classify them."""

    parameterization: str
    images: torch.Tensor  # (N, 3, H, W)
    self_top5: list[list[tuple[str, float]]]
    judge_top5: list[list[tuple[str, float]]]

    def judged_in_top5(self, labels: list[str]) -> list[bool]:
        return [label in [name for name, _ in top] for label, top in zip(labels, self.judge_top5)]

    def self_hits(self, labels: list[str]) -> list[bool]:
        return [label == top[0][0] for label, top in zip(labels, self.self_top5)]


def one_class_per_image(tap: str, indices: list[int]) -> Objective:
    """The logit of class ``indices[b]`` for image ``b``: several classes optimised in one batch."""
    index = torch.tensor(indices)

    def score(a: Activations) -> torch.Tensor:
        logits = a[tap].flatten(1)  # (B, K)
        return logits.gather(1, index.to(logits.device)[:, None])[:, 0]

    return Objective((tap,), score, f"classes({', '.join(map(str, indices))})")


def visualize_classes(
    source: TapNet, judge: TapNet, labels: list[str], parameterization: str, steps: int, size: int, seed: int
) -> Result:
    """Visualise ``labels`` (one image each) on ``source``; classify with ``source`` and ``judge``."""
    settings = VisualizeConfig()
    robustness = {"jitter": settings.jitter, "scales": settings.scales, "rotate_degrees": settings.rotate_degrees}
    indices = [find_target(source, label).index for label in labels]
    device = next(source.parameters()).device
    images = visualize(
        source,
        one_class_per_image(source.logits_tap, indices),
        size=size,
        batch=len(labels),
        steps=steps,
        lr=settings.learning_rate,
        parameterization=parameterization,
        generator=torch.Generator().manual_seed(seed),
        device=device,
        **(robustness if parameterization == "fourier" else PLAIN),
    )
    judged = top_classes(judge, resize(images, (JUDGE_SIZE, JUDGE_SIZE)))
    return Result(parameterization, images, top_classes(source, images), judged)


def results_table(labels: list[str], results: list[Result]) -> Table:
    """Per class and parameterisation: the judge's top-1 and whether the class is in its top-5."""
    table = Table(title=f"Transfer check: optimised on {SOURCE_MODEL}, classified by {JUDGE_MODEL}")
    table.add_column("class")
    for result in results:
        table.add_column(f"{result.parameterization}: judge top-1")
        table.add_column("top-5")
    for row, label in enumerate(labels):
        cells = [label]
        for result in results:
            name, probability = result.judge_top5[row][0]
            cells += [f"{name} {probability:.2f}", "yes" if result.judged_in_top5(labels)[row] else "no"]
        table.add_row(*cells)
    hits = ", ".join(f"{r.parameterization} {sum(r.judged_in_top5(labels))}/{len(labels)}" for r in results)
    own = ", ".join(f"{r.parameterization} {sum(r.self_hits(labels))}/{len(labels)}" for r in results)
    table.caption = f"{JUDGE_MODEL} top-5: {hits}. Self-check ({SOURCE_MODEL} top-1 is the class): {own}."
    return table


def save_report(labels: list[str], results: list[Result], out: Path, settings: dict) -> None:
    """transfer.json (every top-5) and transfer_sheet.png (one row per parameterisation)."""
    out.mkdir(parents=True, exist_ok=True)
    report = {
        **settings,
        "classes": labels,
        "results": {
            r.parameterization: {
                "judge_top5_hits": sum(r.judged_in_top5(labels)),
                "self_top1_hits": sum(r.self_hits(labels)),
                "self_top5": r.self_top5,
                "judge_top5": r.judge_top5,
            }
            for r in results
        },
    }
    (out / "transfer.json").write_text(json.dumps(report, indent=2))
    images = torch.cat([r.images for r in results])
    hits = [hit for r in results for hit in r.judged_in_top5(labels)]
    captions = [f"{label} {'+' if hit else '-'}" for label, hit in zip(labels * len(results), hits)]
    titles = [r.parameterization for r in results]
    image_grid(images.cpu(), columns=len(labels), captions=captions, row_titles=titles).save(out / "transfer_sheet.png")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m render.tools.quality", description=__doc__)
    parser.add_argument("--steps", type=int, default=128)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--out", type=Path, default=Path("outputs/quality"))
    args = parser.parse_args(argv)
    console = Console()
    device = torch.device(args.device)
    source, judge = (load_model(name, device=device).net for name in (SOURCE_MODEL, JUDGE_MODEL))
    labels, started = list(CLASSES), time.perf_counter()
    results = []
    for parameterization in ("fourier", "pixel"):
        console.print(f"visualising {len(labels)} classes with the {parameterization} parameterisation ...")
        results.append(visualize_classes(source, judge, labels, parameterization, args.steps, args.size, args.seed))
    console.print(results_table(labels, results))
    elapsed = round(time.perf_counter() - started, 1)
    save_report(labels, results, args.out, {"steps": args.steps, "size": args.size, "seed": args.seed,
                                            "elapsed_seconds": elapsed})
    console.print(f"{elapsed} s; wrote {args.out / 'transfer.json'} and {args.out / 'transfer_sheet.png'}")


if __name__ == "__main__":
    main()
