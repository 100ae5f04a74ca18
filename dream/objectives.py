"""What the dream maximises: small composable objectives over tap activations.

An ``Objective`` maps ``{tap: activation}`` to one score per image ``(B,)``.
Objectives add and scale like numbers, so ``0.7 * layer_l2("a") + 0.3 *
channel("b", 12)`` is an objective over both taps. Scores are means over
positions (not sums), so weights mean the same at every image size.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

Activations = dict[str, torch.Tensor]


@dataclass(frozen=True)
class Objective:
    """A score per image from tap activations.

    Attributes:
        taps: the taps the score reads (the forward pass runs up to the deepest).
        score: ``{tap: (B, C, h, w)} -> (B,)``.
        name: a readable description for logs and meta.json.
    """

    taps: tuple[str, ...]
    score: Callable[[Activations], torch.Tensor]
    name: str

    def __call__(self, activations: Activations) -> torch.Tensor:
        return self.score(activations)

    def __add__(self, other: Objective) -> Objective:
        taps = tuple(dict.fromkeys(self.taps + other.taps))
        return Objective(taps, lambda a: self.score(a) + other.score(a), f"{self.name} + {other.name}")

    def __mul__(self, weight: float) -> Objective:
        weight = float(weight)
        return Objective(self.taps, lambda a: weight * self.score(a), f"{weight:g} * {self.name}")

    __rmul__ = __mul__

    def __neg__(self) -> Objective:
        return self * -1.0

    def __sub__(self, other: Objective) -> Objective:
        return self + (-other)


def layer_l2(tap: str) -> Objective:
    """The original DeepDream objective: ½ mean a², whose gradient w.r.t. a is a (scaled)."""
    return Objective((tap,), lambda a: 0.5 * a[tap].pow(2).flatten(1).mean(1), f"l2({tap})")


def channel(tap: str, index: int) -> Objective:
    """Mean activation of one channel: dream what that one feature detects."""

    def score(a: Activations) -> torch.Tensor:
        return a[tap][:, index].flatten(1).mean(1)

    return Objective((tap,), score, f"channel({tap}, {index})")


def class_logit(tap: str, index: int, label: str = "") -> Objective:
    """The score of one class at the logits tap ``(B, K)`` or ``(B, K, h, w)``."""

    def score(a: Activations) -> torch.Tensor:
        logits = a[tap]
        return logits[:, index].flatten(1).mean(1) if logits.dim() > 2 else logits[:, index]

    return Objective((tap,), score, f"class({label or index})")


def guide(tap: str, guide_features: torch.Tensor) -> Objective:
    """The original notebook's guided objective: follow the guide's best-matching feature.

    At each position of the dreamed activation, pick the guide position whose
    feature vector has the largest dot product with it, and maximise that dot
    product, so the dream grows the guide image's kind of structure.

    Args:
        tap: the layer compared (the notebook uses inception_3b/output).
        guide_features: the guide image's activation at ``tap``, ``(1, C, h', w')``, detached.
    """
    guide_flat = guide_features.detach().flatten(2)[0]  # (C, M)

    def score(a: Activations) -> torch.Tensor:
        x = a[tap].flatten(2)  # (B, C, N)
        similarity = torch.einsum("bcn,cm->bnm", x, guide_flat)  # (B, N, M)
        best = guide_flat[:, similarity.argmax(dim=2)]  # (C, B, N)
        return (x * best.permute(1, 0, 2)).sum(1).mean(1)

    return Objective((tap,), score, f"guide({tap})")


def total(objectives: list[Objective]) -> Objective:
    """The sum of several objectives (at least one)."""
    result = objectives[0]
    for objective in objectives[1:]:
        result = result + objective
    return result
