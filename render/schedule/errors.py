"""The schedule language's error: one ``ScheduleError`` naming the schedule, and a caret under the bad spot."""

from __future__ import annotations

from dream.errors import UserError


class ScheduleError(UserError):
    """A schedule string or mapping that cannot be parsed or evaluated."""


def _error(name: str, problem: str, text: str, pos: int, detail: str) -> ScheduleError:
    """A ScheduleError: ``problem`` (what and which keyframe) at ``pos``, then the line of ``text``
    that holds ``pos`` with a caret under it."""
    line_start = text.rfind("\n", 0, pos) + 1
    line_end = text.find("\n", pos)
    line = text[line_start : len(text) if line_end < 0 else line_end].replace("\t", " ")
    column = pos - line_start + 1
    where = f"line {text.count(chr(10), 0, pos) + 1}, column {column}" if "\n" in text else f"column {column}"
    return ScheduleError(f"{name}: {problem} at {where}: {detail}\n  {line}\n  {' ' * (column - 1)}^")
