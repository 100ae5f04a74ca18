"""Finding a class index from what a user types ("banana", "Tabby Cat", "bananas", "954")."""

from __future__ import annotations

import re
from collections.abc import Sequence

from dream.errors import NameChoiceError, UserError

AMBIGUOUS_LISTED = 12


def normalise(text: str) -> str:
    """Lower case, separators and punctuation folded to single spaces."""
    return re.sub(r"[\s_\-/,'.]+", " ", text.lower()).strip()


def folded(text: str) -> str:
    """``normalise`` without spaces and a trailing plural 's': "Gold fishes" and "goldfish" agree."""
    compact = normalise(text).replace(" ", "")
    return re.sub(r"(es|s)$", "", compact) if len(compact) > 3 else compact


def synonyms(label: str) -> list[str]:
    """The comma-separated names inside a label ("tiger cat, Felis tigris"), normalised."""
    return [normalise(name) for name in label.split(",")]


def class_index(labels: Sequence[str], target: str | int) -> int:
    """The index of ``target`` in ``labels``.

    Matches forgivingly, first rule that matches wins: an index, the exact
    label, the label ignoring case and separators, one of the comma-separated
    synonyms inside a label ("tiger cat, Felis tigris"), a synonym ignoring
    spaces and a plural 's' ("bananas", "gold fish"), and last the words of one
    single label ("white shark"). Names several labels contain list them; unknown
    names list close matches.
    """
    text = str(target).strip()
    if text.isdigit():
        return _index_in_range(labels, text)
    wanted = normalise(text)
    rules = (
        lambda label: normalise(label) == wanted,
        lambda label: wanted in synonyms(label),
        lambda label: folded(wanted) in (folded(name) for name in synonyms(label)),
    )
    for matches in rules:
        hits = [i for i, label in enumerate(labels) if matches(label)]
        if hits:
            return hits[0]
    return _index_by_words(labels, text)


def _index_in_range(labels: Sequence[str], text: str) -> int:
    index = int(text)
    if index < len(labels):
        return index
    raise NameChoiceError("class index", text, [f"0..{len(labels) - 1}"])


def _index_by_words(labels: Sequence[str], text: str) -> int:
    """The one label whose words contain ``text``'s words; several: an error listing them; none: close matches."""
    words = f" {normalise(text)} "
    hits = [i for i, label in enumerate(labels) if any(words in f" {name} " for name in synonyms(label))]
    if len(hits) == 1:
        return hits[0]
    if hits:
        listed = ", ".join(f"{labels[i]} ({i})" for i in hits[:AMBIGUOUS_LISTED])
        more = f" and {len(hits) - AMBIGUOUS_LISTED} more" if len(hits) > AMBIGUOUS_LISTED else ""
        raise UserError(
            f"Class '{text}' is part of several labels: {listed}{more}. Name one of them fully, or give its index."
        )
    raise NameChoiceError("class", text, list(labels), hint="Use a label of the model or its index.")
