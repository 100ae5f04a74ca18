"""The common shape of every dream network: preprocessing plus named stages with taps.

A ``TapNet`` takes an RGB image in [0, 1] and returns the activations of the
requested layer taps. Its ``body`` is the plain network whose ``state_dict``
keys are exactly those of the weights file (loaded strictly); its stages are
callables over that body. It runs its stages in order and stops after the stage
that produces the deepest requested tap, so a dream at ``inception_4c/output``
never pays for (or fails on the input size of) the layers above it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from dream.errors import NameChoiceError


@dataclass(frozen=True)
class Tap:
    """Where a named activation comes from.

    Attributes:
        stage: name of the stage whose run produces the activation.
        module: dotted path of a submodule of the body whose output is the
            activation, captured with a forward hook while the stage runs
            ('' means the stage's own output).
        channels: number of channels of the activation.
        relu: apply ReLU to the captured output (a conv hooked pre-ReLU whose
            original network applies the ReLU in place, as Caffe does).
    """

    stage: str
    channels: int
    module: str = ""
    relu: bool = False


@dataclass(frozen=True)
class Stage:
    """One step of the forward pass.

    ``source`` is the stage whose output feeds this one; None means the main
    chain (the previous main stage). A stage with a source is a side branch
    (an auxiliary classifier): it runs only when one of its taps is requested
    and its output does not continue the main chain.
    """

    name: str
    fn: Callable[[torch.Tensor], torch.Tensor]
    source: str | None = None


class Preprocess(nn.Module):
    """Map RGB [0, 1] to a network's input: ``(flip(x) * scale - mean) / std``.

    Args:
        scale: multiplier applied first (255, 256, or 1).
        mean: per-channel mean in the network's channel order, after scaling.
        std: per-channel std in the network's channel order, after scaling.
        bgr: reverse the channel order (Caffe networks).
    """

    def __init__(self, scale: float, mean: Sequence[float], std: Sequence[float], bgr: bool = False):
        super().__init__()
        self.scale, self.bgr = float(scale), bool(bgr)
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1), persistent=False)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) RGB in [0, 1] -> (B, 3, H, W) network input."""
        x = image.flip(1) if self.bgr else image
        return (x * self.scale - self.mean) / self.std

    def describe(self) -> dict:
        return {
            "scale": self.scale,
            "mean": self.mean.flatten().tolist(),
            "std": self.std.flatten().tolist(),
            "channel_order": "BGR" if self.bgr else "RGB",
        }


class TapNet(nn.Module):
    """A frozen network that returns named activations and stops at the deepest tap.

    Args:
        body: the network; its state_dict keys are the weights file's keys.
        stages: forward order; main-chain stages have ``source=None``.
        taps: tap name -> Tap, in forward order (this order is what users see).
        preprocess: maps RGB [0, 1] to the network's input convention.
        aliases: extra names accepted for taps (short names, other naming schemes).
        labels: class names in the order of the logits tap, if known.
        logits_tap: the tap holding class scores (B, num_classes, 1, 1) or (B, num_classes).
    """

    def __init__(
        self,
        body: nn.Module,
        stages: Sequence[Stage],
        taps: dict[str, Tap],
        preprocess: Preprocess,
        aliases: dict[str, str] | None = None,
        labels: Sequence[str] | None = None,
        logits_tap: str | None = None,
    ):
        super().__init__()
        self.stage_order = [s.name for s in stages]
        self.stage_sources = {s.name: s.source for s in stages}
        self.stage_fns = {s.name: s.fn for s in stages}
        self.body = body
        self.taps = dict(taps)
        self.aliases = dict(aliases or {})
        self.labels = list(labels) if labels is not None else None
        self.logits_tap = logits_tap
        self.preprocess = preprocess
        # channels_last runs convolutions several times faster on CPU (oneDNN) and on GPU tensor cores.
        self.memory_format = torch.channels_last
        self.autocast_dtype: torch.dtype | None = None  # bfloat16/float16: mixed precision forward
        self._check_taps()

    def _check_taps(self) -> None:
        for name, tap in self.taps.items():
            if tap.stage not in self.stage_sources:
                raise ValueError(f"tap {name!r} names unknown stage {tap.stage!r}")
        for alias, target in self.aliases.items():
            if target not in self.taps:
                raise ValueError(f"alias {alias!r} points at unknown tap {target!r}")

    def resolve(self, name: str) -> str:
        """Canonical tap name for a tap name or alias; a clear error listing taps otherwise."""
        if name in self.taps:
            return name
        if name in self.aliases:
            return self.aliases[name]
        hint = "List them with `python -m render.tools.list layers MODEL`."
        raise NameChoiceError("layer", name, list(self.taps), hint=hint)

    @property
    def channels(self) -> dict[str, int]:
        """Tap name -> channel count, in forward order."""
        return {name: tap.channels for name, tap in self.taps.items()}

    def forward(self, image: torch.Tensor, taps: Sequence[str]) -> dict[str, torch.Tensor]:
        """(B, 3, H, W) RGB in [0, 1] -> {tap: (B, C, h, w)} for the requested taps."""
        names = [self.resolve(t) for t in taps]
        needed = self._needed_stages(names)
        captured: dict[str, torch.Tensor] = {}
        handles = self._hook_submodules(names, captured)
        x = self.preprocess(image).contiguous(memory_format=self.memory_format)
        try:
            with torch.autocast(x.device.type, dtype=self.autocast_dtype or torch.float32,
                                enabled=self.autocast_dtype is not None):
                outputs = self._run_stages(x, needed)
        finally:
            for h in handles:
                h.remove()
        for name in names:
            tap = self.taps[name]
            if not tap.module:
                captured[name] = outputs[tap.stage]
            if tap.relu:
                captured[name] = torch.relu(captured[name])
        return {t: _at_least_float32(captured[n]) for t, n in zip(taps, names)}

    def _needed_stages(self, names: list[str]) -> set[str]:
        """Every stage that must run to produce the taps, including branch sources."""
        needed: set[str] = set()
        for name in names:
            stage = self.taps[name].stage
            while stage is not None and stage not in needed:
                needed.add(stage)
                source = self.stage_sources[stage]
                if source is None:
                    index = self.stage_order.index(stage)
                    needed.update(s for s in self.stage_order[:index] if self.stage_sources[s] is None)
                    break
                stage = source
        return needed

    def _run_stages(self, x: torch.Tensor, needed: set[str]) -> dict[str, torch.Tensor]:
        outputs: dict[str, torch.Tensor] = {}
        last = max(self.stage_order.index(s) for s in needed)
        for name in self.stage_order[: last + 1]:
            if name not in needed:
                continue
            source = self.stage_sources[name]
            outputs[name] = self.stage_fns[name](x if source is None else outputs[source])
            if source is None:
                x = outputs[name]
        return outputs

    def _hook_submodules(self, names: list[str], captured: dict) -> list:
        handles = []
        for name in names:
            tap = self.taps[name]
            if tap.module:
                module = self.body.get_submodule(tap.module)
                handles.append(module.register_forward_hook(_capture_into(captured, name)))
        return handles


def _at_least_float32(activation: torch.Tensor) -> torch.Tensor:
    """Objectives and gradient normalisation run in float32 even under half-precision autocast."""
    return activation.float() if activation.dtype in (torch.float16, torch.bfloat16) else activation


def _capture_into(captured: dict, name: str):
    def hook(_module, _inputs, output):
        captured[name] = output

    return hook


def freeze(net: nn.Module) -> nn.Module:
    """Eval mode and no parameter gradients: only the input image is optimised."""
    net.eval()
    for p in net.parameters():
        p.requires_grad_(False)
    return net


def local_response_norm(x: torch.Tensor, size: int, alpha: float, beta: float, k: float) -> torch.Tensor:
    """(B, C, H, W) -> (B, C, H, W): x / (k + alpha / size * sum of x^2 over ``size`` channels around c)^beta.

    The same values as ``F.local_response_norm``. The channel-window sum is a 1x1
    convolution with a banded 0/1 matrix, which runs at matmul speed (channels_last
    included) where the library's 3-D average pooling is several times slower. It
    runs in float32 even under autocast: squared activations overflow float16.
    """
    channels = torch.arange(x.shape[1], device=x.device)
    offset = channels[None, :] - channels[:, None]  # [out, in]: input channel minus output channel
    band = ((offset >= -(size // 2)) & (offset <= (size - 1) // 2)).float()[:, :, None, None]
    with torch.autocast(x.device.type, enabled=False):
        x32 = x.float()
        window = nn.functional.conv2d(x32 * x32, band)
        return (x32 / (k + alpha / size * window).pow(beta)).to(x.dtype)
