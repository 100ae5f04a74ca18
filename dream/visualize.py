"""Dreams from noise: what image would make the network see a banana (or fire a channel)?

Start from a grey, nearly empty image and follow the gradient of an objective
with Adam. On its own that finds adversarial noise; with the natural-image prior
(``dream.param.fourier_image``: correlated neighbouring pixels, natural colour
statistics) and transformation robustness (``dream.transforms``) it finds
pictures. Several images at once can be pushed apart by a diversity term, so a
user sees several bananas, not one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from dream.errors import UserError
from dream.labels import class_index
from dream.models.base import TapNet
from dream.objectives import Activations, Objective, channel, class_logit
from dream.octaves import resize
from dream.param import make_image
from dream.transforms import robustness

# Where the diversity term compares images when the objective reads the class scores:
# a fraction of the way through the network, where features describe parts and textures.
DIVERSITY_DEPTH = 0.7


@dataclass(frozen=True)
class Target:
    """A parsed ``target``: one class score or one channel of a layer.

    Attributes:
        tap: the tap the objective reads (the logits tap for a class).
        index: the class index or channel index.
        label: the class label, or ``LAYER:CHANNEL`` for a channel.
        is_class: whether the target is a class.
    """

    tap: str
    index: int
    label: str
    is_class: bool

    def objective(self) -> Objective:
        if self.is_class:
            return class_logit(self.tap, self.index, self.label)
        return channel(self.tap, self.index)


def find_target(net: TapNet, target: str | int) -> Target:
    """Parse a class name or index ("banana", "Granny smith", "954") or ``LAYER:CHANNEL`` ("block10:97").

    Raises:
        NameChoiceError: an unknown class or layer, listing close matches.
        UserError: a channel out of range, or a class asked of a model without labels.
    """
    text = str(target).strip()
    layer, separator, channel_text = text.rpartition(":")
    if separator and channel_text.strip().isdigit():
        return channel_target(net, layer.strip(), int(channel_text))
    if not net.labels or net.logits_tap is None:
        raise UserError(
            f"target={text} names a class, but this model has no class labels. "
            "Visualise a channel instead: target=LAYER:CHANNEL "
            "(list layers with `python -m render.tools.list layers MODEL`)."
        )
    index = class_index(net.labels, text)
    return Target(net.logits_tap, index, net.labels[index], is_class=True)


def channel_target(net: TapNet, layer: str, index: int) -> Target:
    """Channel ``index`` of ``layer`` (a tap name or alias), checked against the layer's width."""
    tap = net.resolve(layer)
    channels = net.channels[tap]
    if index >= channels:
        raise UserError(
            f"target={layer}:{index} asks for channel {index}, but layer '{tap}' has {channels} channels. "
            f"Pick a channel in 0..{channels - 1}."
        )
    return Target(tap, index, f"{tap}:{index}", is_class=False)


def parse_target(net: TapNet, target: str | int) -> Objective:
    """The objective for ``target``: a class logit or a channel's mean activation (see ``find_target``)."""
    return find_target(net, target).objective()


def diversity_tap(net: TapNet, objective: Objective) -> str:
    """The tap where batch images are compared: the objective's own layer, unless that is the class scores."""
    tap = net.resolve(objective.taps[0])
    if tap != net.logits_tap:
        return tap
    features = [name for name in net.taps if name != net.logits_tap]
    return features[round(DIVERSITY_DEPTH * (len(features) - 1))]


def gram_similarity(activation: torch.Tensor) -> torch.Tensor:
    """Mean cosine similarity between the Gram matrices of every pair of batch images (lucid's diversity).

    Gram matrices describe which features occur together regardless of where,
    so images that differ here differ in kind, not only in layout.

    Args:
        activation: (B, C, h, w) with B >= 2.

    Returns:
        () in [-1, 1]; 1 when all images have the same feature statistics.
    """
    flat = activation.flatten(2)  # (B, C, hw)
    grams = torch.bmm(flat, flat.transpose(1, 2)).flatten(1)  # (B, C*C)
    grams = torch.nn.functional.normalize(grams, dim=1, eps=1e-10)
    similarity = grams @ grams.T  # (B, B)
    batch = activation.shape[0]
    return (similarity.sum() - similarity.diagonal().sum()) / (batch * (batch - 1))


def visualize(
    net: TapNet,
    objective: Objective,
    *,
    size: int | tuple[int, int],
    generator: torch.Generator,
    device: torch.device,
    batch: int = 1,
    steps: int = 512,
    lr: float = 0.05,
    parameterization: str = "fourier",
    diversity: float = 0.0,
    jitter: int = 16,
    scales: Sequence[float] = (1.0, 0.975, 1.025, 0.95, 1.05),
    rotate_degrees: float = 5.0,
    on_step: Callable[[int], None] | None = None,
) -> torch.Tensor:
    """Optimise ``batch`` images from near-grey to maximise ``objective``.

    Args:
        net: a frozen TapNet on ``device``.
        objective: what to maximise, e.g. ``parse_target(net, "banana")``.
        size: side of a square image, or (H, W).
        generator: all randomness (initial image, transforms); a CPU generator.
        device: where the image is optimised.
        batch: images optimised together.
        steps: Adam steps.
        lr: Adam learning rate.
        parameterization: "fourier" (the natural-image prior) or "pixel" (plain pixel ascent).
        diversity: weight of the penalty on Gram-matrix similarity between batch images
            (class logits reach ~30-40 on efficientnet_lite0; 50 gives clearly different images); ignored
            when batch is 1.
        jitter, scales, rotate_degrees: transformation robustness per step (0, [1], 0 turn it off).
        on_step: called with the step index after every step (progress bars).

    Returns:
        (B, 3, H, W) RGB in [0, 1], detached.
    """
    height, width = (size, size) if isinstance(size, int) else size
    params, render = make_image(parameterization, batch, height, width, generator, device)
    transform = robustness(jitter, scales, rotate_degrees, generator)
    loss_of = visualization_loss(net, objective, batch, diversity)
    optimizer = torch.optim.Adam(params, lr=lr)
    for step in range(steps):
        optimizer.zero_grad(set_to_none=True)
        loss_of(transform(render())).backward()
        optimizer.step()
        if on_step is not None:
            on_step(step)
    with torch.no_grad():
        return render().detach()


def visualization_loss(
    net: TapNet, objective: Objective, batch: int, diversity: float
) -> Callable[[torch.Tensor], torch.Tensor]:
    """``image (B, 3, H, W) -> ()``: minus the mean objective, plus the weighted diversity penalty."""
    compare = diversity_tap(net, objective) if batch > 1 and diversity > 0 else None
    taps = list(objective.taps) + ([compare] if compare else [])

    def loss(image: torch.Tensor) -> torch.Tensor:
        activations: Activations = net(image, taps)
        value = -objective(activations).mean()
        if compare:
            value = value + diversity * gram_similarity(activations[compare])
        return value

    return loss


def top_classes(net: TapNet, images: torch.Tensor, k: int = 5) -> list[list[tuple[str, float]]]:
    """The ``k`` most probable classes of each image, as (label, probability), most probable first.

    Args:
        images: (B, 3, H, W) RGB in [0, 1].
    """
    with torch.no_grad():
        logits = net(images, [net.logits_tap])[net.logits_tap].flatten(1)  # (B, K)
    top = logits.softmax(dim=1).topk(k, dim=1)
    return [
        [(net.labels[i], round(float(p), 4)) for p, i in zip(probs.tolist(), indices.tolist())]
        for probs, indices in zip(top.values, top.indices)
    ]


def class_start_image(
    net: TapNet,
    target: str,
    height: int,
    width: int,
    generator: torch.Generator,
    device: torch.device,
    steps: int = 128,
    size: int = 224,
) -> torch.Tensor:
    """A class (or channel) visualisation to start a zoom from: optimised small, then resized.

    The shorter side is optimised at ``size`` pixels (the networks' training
    size, and fast), keeping the frame's aspect ratio.

    Returns:
        (1, 3, height, width) RGB in [0, 1].
    """
    small = optimised_size(height, width, size)
    image = visualize(net, parse_target(net, target), size=small, generator=generator, device=device, steps=steps)
    return resize(image, (height, width))


def optimised_size(height: int, width: int, size: int) -> tuple[int, int]:
    """(h, w) with the shorter side ``size`` and the aspect ratio of ``height`` x ``width``."""
    scale = size / min(height, width)
    return max(1, round(height * scale)), max(1, round(width * scale))
