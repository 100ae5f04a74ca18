"""``python -m render.tools.list models`` and ``python -m render.tools.list layers MODEL``: what can be dreamed.

Listing layers builds the architecture only (random weights), so it works
offline for every model.
"""

from __future__ import annotations

import argparse
import sys

from rich.console import Console
from rich.table import Table

from dream.errors import UserError
from dream.models.registry import MODELS, default_weights_path, get_entry


def models_table() -> Table:
    table = Table(title="Models (model=NAME)")
    table.add_column("name", no_wrap=True)  # the name is what a user types: never cut it
    for column in ("dream layer", "weights", "available here", "description"):
        table.add_column(column)
    for entry in MODELS.values():
        try:
            here = "yes" if default_weights_path(entry).is_file() else "download on first use"
        except UserError:
            here = "package missing"
        table.add_row(entry.name, entry.dream_layer, entry.weights.kind, here, entry.description)
    return table


def layers_table(name: str) -> Table:
    entry = get_entry(name)
    net = entry.build()
    aliases: dict[str, list[str]] = {}
    for alias, target in net.aliases.items():
        aliases.setdefault(target, []).append(alias)
    table = Table(title=f"Layers of {name} in forward order (dream.layer=NAME)")
    for column in ("layer", "channels", "aliases"):
        table.add_column(column)
    for tap, channels in net.channels.items():
        marker = " (default)" if tap == net.resolve(entry.dream_layer) else ""
        table.add_row(tap + marker, str(channels), ", ".join(aliases.get(tap, [])))
    if net.labels:
        usage = "target=NAME or dream.objective=[{class: NAME}]"
        table.caption = f"{len(net.labels)} classes at '{net.logits_tap}' ({usage})"
    return table


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m render.tools.list", description=__doc__)
    parser.add_argument("what", choices=("models", "layers", "classes"))
    parser.add_argument("model", nargs="?", default="efficientnet_lite0")
    args = parser.parse_args(argv)
    console = Console()
    try:
        if args.what == "models":
            console.print(models_table())
        elif args.what == "layers":
            console.print(layers_table(args.model))
        else:
            labels = get_entry(args.model).build().labels or []
            console.print("\n".join(f"{i}\t{label}" for i, label in enumerate(labels)))
    except UserError as exc:
        Console(stderr=True).print(f"[bold red]Error:[/bold red] {exc}", highlight=False)
        sys.exit(2)


if __name__ == "__main__":
    main()
