"""The console: a rich progress bar with frames/s and ETA, and loud warnings."""

from __future__ import annotations

from collections.abc import Callable

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


def frame_progress(console: Console) -> Progress:
    """A progress bar showing frames done, frames per second (the task's ``rate`` field), elapsed time and ETA."""
    return counting_progress(console, "{task.fields[rate]} frames/s")


def counting_progress(console: Console, unit: str) -> Progress:
    """A progress bar: description, bar, done/total, ``unit`` (a rich format string), elapsed time and ETA."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(unit),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console,
    )


def warner(console: Console):
    """A function printing a message as a loud, unmissable warning."""

    def warn(message: str) -> None:
        console.print(f"[bold yellow]WARNING[/bold yellow] {message}", highlight=False)

    return warn


def noting(warn: Callable[[str], None], notes: list[str]) -> Callable[[str], None]:
    """``warn`` that also appends each message to ``notes`` (for meta.json)."""

    def warn_and_note(message: str) -> None:
        notes.append(message)
        warn(message)

    return warn_and_note
