"""Finding a class index from what a user types ("banana", "Tabby Cat", "954")."""

from __future__ import annotations

import re
from collections.abc import Sequence

from dream.errors import NameChoiceError


def normalise(text: str) -> str:
    """Lower case, separators and punctuation folded to single spaces."""
    return re.sub(r"[\s_\-/,'.]+", " ", text.lower()).strip()


def class_index(labels: Sequence[str], target: str | int) -> int:
    """The index of ``target`` in ``labels``.

    Matches forgivingly: an index, the exact label, the label ignoring case and
    separators, or one of the comma-separated synonyms inside a label
    ("tiger cat, Felis tigris"). Ambiguous or unknown names list close matches.
    """
    text = str(target).strip()
    if text.isdigit():
        index = int(text)
        if index < len(labels):
            return index
        raise NameChoiceError("class index", text, [f"0..{len(labels) - 1}"])
    wanted = normalise(text)
    exact = [i for i, label in enumerate(labels) if normalise(label) == wanted]
    if exact:
        return exact[0]
    synonyms = [i for i, label in enumerate(labels) if wanted in (normalise(s) for s in label.split(","))]
    if synonyms:
        return synonyms[0]
    raise NameChoiceError("class", text, list(labels), hint="Use a label of the model or its index.")
