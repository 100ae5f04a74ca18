"""The objective of every frame: weighted terms whose weights are schedules.

Config forms, from simplest:

- ``dream.layer: inception_4c/output`` (or null: the model's dream layer): L2 of one layer.
- ``dream.layers: {0: block4, 120: block8}``: a layer tour; each layer hands over
  to the next with a linear crossfade of ``dream.crossfade`` frames ending at the key
  (keys may be times ``8s`` or, with a tempo, bars ``5:1``, as in schedules).
- ``dream.objective``: a list of terms, each one of
  ``{layer: L}`` (L2), ``{layer: L, channel: 12}``, ``{class: banana}``,
  ``{guide: photo.jpg, layer: L}``, with an optional ``weight`` (number or schedule).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from dream import objectives as obj
from dream.errors import UserError
from dream.models.base import TapNet
from dream.visualize import find_target
from render.config import DreamConfig
from render.timeline import Timeline, Track

TERM_KEYS = {"layer", "channel", "class", "guide", "weight"}


@dataclass(frozen=True)
class WeightedTerm:
    objective: obj.Objective
    weight: Track | float


@dataclass(frozen=True)
class ObjectivePlan:
    """The objective at each frame."""

    terms: tuple[WeightedTerm, ...]

    @property
    def taps(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t for term in self.terms for t in term.objective.taps))

    def at(self, frame: int) -> obj.Objective:
        """The weighted sum of the terms active at ``frame`` (weight != 0)."""
        active = [weight * term.objective for term in self.terms if (weight := weight_at(term, frame)) != 0.0]
        if not active:
            raise UserError(f"At frame {frame} every objective weight is 0: give at least one term a weight.")
        return obj.total(active)

    def describe(self) -> list[str]:
        return [term.objective.name for term in self.terms]

    def weights_at(self, frame: int) -> tuple[float, ...]:
        return tuple(weight_at(term, frame) for term in self.terms)


def weight_at(term: WeightedTerm, frame: int) -> float:
    """A term's weight at ``frame``: its track's value, or its constant."""
    return term.weight if isinstance(term.weight, float) else term.weight.at(frame)


GuideLoader = Callable[[str, str], torch.Tensor]  # (layer, image path) -> (1, C, h, w) features


@dataclass(frozen=True)
class PlanContext:
    """What terms are checked against: the network, a layer-name resolver, and the render's
    timeline, which the weights are declared on."""

    net: TapNet
    resolve: Callable[[str], str]
    default_layer: str
    timeline: Timeline
    load_guide: GuideLoader


def build_plan(dream_cfg: DreamConfig, ctx: PlanContext) -> ObjectivePlan:
    """The ObjectivePlan a ``dream`` config section asks for, checked against the network."""
    if dream_cfg.objective:
        return ObjectivePlan(tuple(_term(spec, ctx, f"dream.objective[{i}].weight")
                                   for i, spec in enumerate(dream_cfg.objective)))
    if dream_cfg.layers:
        return ObjectivePlan(tuple(_tour_terms(dict(dream_cfg.layers), dream_cfg.crossfade, ctx)))
    layer = ctx.resolve(dream_cfg.layer or ctx.default_layer)
    return ObjectivePlan((WeightedTerm(obj.layer_l2(layer), 1.0),))


def _term(spec: Any, ctx: PlanContext, weight_key: str) -> WeightedTerm:
    spec = dict(spec)
    unknown = set(spec) - TERM_KEYS
    if unknown:
        raise UserError(f"dream.objective term {spec} has unknown keys {sorted(unknown)}; use {sorted(TERM_KEYS)}.")
    weight = ctx.timeline.declare(weight_key, spec.get("weight", 1.0))
    layer = ctx.resolve(spec.get("layer") or ctx.default_layer)
    if "class" in spec:
        return WeightedTerm(_class_objective(ctx.net, spec["class"]), weight)
    if "guide" in spec:
        return WeightedTerm(obj.guide(layer, ctx.load_guide(layer, spec["guide"])), weight)
    if "channel" in spec:
        return WeightedTerm(obj.channel(layer, _channel_index(ctx.net, layer, spec["channel"])), weight)
    return WeightedTerm(obj.layer_l2(layer), weight)


def _class_objective(net: TapNet, target: Any) -> obj.Objective:
    return find_target(net, target).objective()


def _channel_index(net: TapNet, layer: str, channel: Any) -> int:
    count = net.channels[layer]
    # bool is an int subclass: `channel: true` in YAML must not mean channel 1.
    if isinstance(channel, bool) or not isinstance(channel, int) or not 0 <= channel < count:
        raise UserError(f"Channel {channel} does not exist in layer '{layer}', which has channels 0..{count - 1}.")
    return channel


def _tour_terms(layers: dict, crossfade: int, ctx: PlanContext) -> list[WeightedTerm]:
    """One L2 term per tour layer, weights fading each layer out as the next fades in; keys are frames, times
    (``8s``) or bars (``5:1``)."""
    by_frame = {ctx.timeline.key_frame(key, "dream.layers"): layer for key, layer in layers.items()}
    keys = sorted(by_frame)
    terms = []
    for j, key in enumerate(keys):
        anchors: dict[int, float] = {0: 0.0}
        if j > 0:
            anchors.update({max(0, key - crossfade): 0.0, key: 1.0})
        else:
            anchors[0] = 1.0
        if j + 1 < len(keys):
            following = keys[j + 1]
            anchors.update({max(key, following - crossfade): 1.0, following: 0.0})
        layer = ctx.resolve(str(by_frame[key]))
        # a crossfade of straight lines, whatever motion.interpolation joins users' keyframes with
        weight = ctx.timeline.declare(f"dream.layers[{key}]", anchors, interpolation="linear")
        terms.append(WeightedTerm(obj.layer_l2(layer), weight))
    return terms
