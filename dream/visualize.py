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
from dataclasses import dataclass, replace

import torch
from kornia.filters import gaussian_blur2d

from dream.errors import NameChoiceError, UserError
from dream.labels import class_index
from dream.models.base import TapNet
from dream.objectives import Activations, Objective, channel, class_logit
from dream.octaves import resize
from dream.param import Canvas, maco_image, make_image
from dream.transforms import Transform, random_crops, robustness

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


def gram_similarity(activation: torch.Tensor, images: int | None = None) -> torch.Tensor:
    """Mean cosine similarity between the Gram matrices of every pair of images (lucid's diversity).

    Gram matrices describe which features occur together regardless of where,
    so images that differ here differ in kind, not only in layout.

    Args:
        activation: (B, C, h, w); with ``images`` given, B = images * crops, each image's
            crops in consecutive rows, and an image's Gram matrix is the mean over its crops.
        images: how many images the rows belong to (None: every row is an image). At least 2.

    Returns:
        () in [-1, 1]; 1 when all images have the same feature statistics.
    """
    flat = activation.flatten(2)  # (B, C, hw)
    grams = torch.bmm(flat, flat.transpose(1, 2)).flatten(1)  # (B, C*C)
    batch = images or activation.shape[0]
    grams = grams.reshape(batch, -1, grams.shape[1]).mean(1)  # (images, C*C)
    grams = torch.nn.functional.normalize(grams, dim=1, eps=1e-10)
    similarity = grams @ grams.T  # (images, images)
    return (similarity.sum() - similarity.diagonal().sum()) / (batch * (batch - 1))


@dataclass(frozen=True)
class Robustness:
    """How the image is changed at random before every step.

    Attributes:
        crops: random crops per image per step (MaCo); 0 uses jitter, scales and rotation instead.
        crop_range: (smallest, largest) crop side as a fraction of the image's shorter side.
        crop_size: side each crop is resized to before the network sees it.
        noise: standard deviation of the noise added to each crop.
        jitter, scales, rotate_degrees: lucid's chain, used when crops is 0 (0, [1], 0 turn it off).
    """

    crops: int = 6
    crop_range: tuple[float, float] = (0.7, 1.3)
    crop_size: int = 224
    noise: float = 0.05
    jitter: int = 16
    scales: tuple[float, ...] = (1.0, 0.975, 1.025, 0.95, 1.05)
    rotate_degrees: float = 5.0

    def finer(self, scale: float) -> Robustness:
        """The crops of a canvas ``1 / scale`` times larger: the smallest crop keeps its size in pixels.

        The network then sees parts of the picture at their own resolution (detail) as well as
        the whole (composition).
        """
        return replace(self, crop_range=(self.crop_range[0] * scale, self.crop_range[1]))

    def transform(self, generator: torch.Generator) -> Transform:
        if self.crops > 0:
            return random_crops(self.crops, self.crop_range, self.crop_size, self.noise, generator)
        return robustness(self.jitter, self.scales, self.rotate_degrees, generator)


LUCID_ROBUSTNESS = Robustness(crops=0)
"""Today's Fourier-prior robustness: a few pixels of jitter, 5 % scaling, 5 degrees of rotation."""
PLAIN = Robustness(crops=0, jitter=0, scales=(1.0,), rotate_degrees=0.0)
"""No robustness at all (plain pixel ascent)."""
ALPHA_EDGES = (0.02, 0.3)
"""Importance at or below the first is background (alpha 0), from the second on object (alpha 1).

Wide on purpose: the importance peaks on the object's most telling part, and an alpha as tight as that
peak cut objects into a round vignette that a held-out network no longer recognised."""
BACKGROUNDS = ("calm", "keep")
"""``Visualization.picture``'s backgrounds: blurred and faded, or the optimised image unchanged."""
CALM_BLUR = 60  # the calm background's blur: the shorter side / this (soft: a photo's out-of-focus background)
CALM_FADE = 0.25  # how far the calm background goes toward the picture's mean colour
LEARNING_RATES = {"maco": 1.0, "fourier": 0.05, "pixel": 0.05}
"""Each parameterisation's learning rate: a phase moves in radians, a spectrum or a logit in small units."""


@dataclass
class Visualization:
    """The optimised images and where the gradient accumulated on them.

    Attributes:
        images: (B, 3, H, W) RGB in [0, 1].
        importance: (B, 1, H, W) in [0, 1]: the mean absolute gradient on each pixel over all
            steps, smoothed and scaled so the 99th percentile is 1 (MaCo's transparency map).
    """

    images: torch.Tensor
    importance: torch.Tensor

    def faded(self, strength: float) -> torch.Tensor:
        """(B, 3, H, W): unimportant areas blended toward grey by ``strength`` in [0, 1] (0: unchanged)."""
        keep = 1 - strength * (1 - self.importance)
        return self.images * keep + 0.5 * (1 - keep)

    def alpha(self) -> torch.Tensor:
        """(B, 1, H, W) in [0, 1]: the object opaque, the background clear, a soft edge between.

        A smoothstep of the importance: at most ``ALPHA_EDGES[0]`` (where the networks never
        looked) is background, from ``ALPHA_EDGES[1]`` on the object.
        """
        low, high = ALPHA_EDGES
        t = ((self.importance - low) / (high - low)).clamp(0, 1)
        return t * t * (3 - 2 * t)

    def picture(self, background: str = "calm") -> torch.Tensor:
        """(B, 3, H, W): the image to show. ``calm``: the background blurred and faded toward its mean
        colour where the alpha says nothing is happening; ``keep``: the optimised image as it is.

        With the phase free and the magnitude of photos fixed, the image must hold a photo's fine
        detail everywhere, the background too; only the object's was shaped by the networks.
        """
        if background == "keep":
            return self.images
        if background != "calm":
            raise NameChoiceError("visualize.background", background, list(BACKGROUNDS))
        return self.images * self.alpha() + calm(self.images) * (1 - self.alpha())


@dataclass(frozen=True)
class Detail:
    """Coarse to fine: optimise the picture small, then grow it to the canvas and add detail.

    Attributes:
        coarse_size: shorter side of the first stage (the composition); a canvas no larger is made in one stage.
        steps: steps at the canvas size (MaCo only: its phase grows, ``dream.param.grown_phase``).
        carried_rate: how fast the coarse picture's frequencies move there, relative to the new ones.
    """

    coarse_size: int = 320
    steps: int = 48
    carried_rate: float = 0.25

    def stages(self, height: int, width: int, parameterization: str) -> list[tuple[int, int]]:
        """(h, w) of each stage: the canvas alone, or the coarse size and then the canvas."""
        if parameterization != "maco" or min(height, width) <= self.coarse_size or self.steps <= 0:
            return [(height, width)]
        return [optimised_size(height, width, self.coarse_size), (height, width)]


def calm(images: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) -> (B, 3, H, W): blurred (``CALM_BLUR``) and ``CALM_FADE`` of the way to the mean colour."""
    sigma = max(1.0, min(images.shape[-2:]) / CALM_BLUR)
    kernel = min(int(4 * sigma) | 1, (min(images.shape[-2:]) - 1) | 1)
    blurred = gaussian_blur2d(images, (kernel, kernel), (sigma, sigma), border_type="reflect")
    return CALM_FADE * images.mean(dim=(2, 3), keepdim=True) + (1 - CALM_FADE) * blurred


def visualize(
    nets: TapNet | Sequence[TapNet],
    objectives: Objective | Sequence[Objective],
    *,
    size: int | tuple[int, int],
    generator: torch.Generator,
    device: torch.device,
    batch: int = 1,
    steps: int = 64,
    lr: float | None = None,
    parameterization: str = "maco",
    diversity: float = 0.0,
    robust: Robustness = Robustness(),
    detail: Detail = Detail(),
    on_step: Callable[[int], None] | None = None,
) -> Visualization:
    """Optimise ``batch`` images from noise to maximise the objectives, one per network, together.

    Args:
        nets: a frozen TapNet on ``device``, or several: an ensemble whose mean objective is
            maximised (an image that convinces several networks is an object, not their noise).
        objectives: what to maximise on each net, e.g. ``parse_target(net, "banana")``.
        size: side of a square image, or (H, W).
        generator: all randomness (initial image, transforms); a CPU generator.
        device: where the image is optimised.
        batch: images optimised together.
        steps: optimiser steps (NAdam for "maco", Adam otherwise) of the first stage.
        lr: learning rate (None: the parameterisation's, ``LEARNING_RATES``).
        parameterization: "maco" (phase only, natural magnitude), "fourier" (lucid) or "pixel".
        diversity: weight of the penalty on Gram-matrix similarity between batch images
            (class logits reach ~30-40 on efficientnet_lite0; 50 gives clearly different images); ignored
            when batch is 1.
        robust: the random changes before every step (at the first stage's size; see ``Robustness.finer``).
        detail: the coarse-to-fine schedule of a large canvas (``total_steps`` counts its steps).
        on_step: called with the step index after every step (progress bars).

    Returns:
        The images and their importance maps, detached.
    """
    nets, objectives = _as_list(nets), _as_list(objectives)
    height, width = (size, size) if isinstance(size, int) else size
    stages = detail.stages(height, width, parameterization)
    losses = [visualization_loss(net, objective, batch, diversity) for net, objective in zip(nets, objectives)]
    rate = LEARNING_RATES.get(parameterization, 0.05) if lr is None else lr
    phase, done, maps = None, 0, []
    for index, (stage_h, stage_w) in enumerate(stages):
        canvas = Canvas(batch, stage_h, stage_w, generator, device)
        if phase is None:
            params, render = make_image(parameterization, canvas)
        else:
            params, render = maco_image(canvas, start_phase=phase, carried_rate=detail.carried_rate)
        stage_steps = steps if index == 0 else detail.steps
        stage_robust = robust if index == 0 else robust.finer(min(stages[0]) / min(stage_h, stage_w))
        report = (lambda step, before=done: on_step(before + step)) if on_step else (lambda step: None)
        transform = stage_robust.transform(generator)
        gradient_sum = ascend(params, render, losses, transform, stage_steps, rate, parameterization, report)
        phase, done = params[0].detach(), done + stage_steps
        maps.append((stage_steps, gradient_sum))
    with torch.no_grad():
        return Visualization(render().detach(), combined_importance(maps, (height, width)))


def total_steps(steps: int, size: int | tuple[int, int], parameterization: str, detail: Detail = Detail()) -> int:
    """Every optimiser step ``visualize`` takes for this canvas (a progress bar's total)."""
    height, width = (size, size) if isinstance(size, int) else size
    return steps + (detail.steps if len(detail.stages(height, width, parameterization)) > 1 else 0)


def ascend(
    params: list[torch.Tensor],
    render: Callable[[], torch.Tensor],
    losses: list[Callable[[torch.Tensor], torch.Tensor]],
    transform: Transform,
    steps: int,
    lr: float,
    parameterization: str,
    on_step: Callable[[int], None],
) -> torch.Tensor:
    """``steps`` optimiser steps on ``params``; returns the (B, 1, H, W) |gradient| summed on the image."""
    optimizer_class = torch.optim.NAdam if parameterization == "maco" else torch.optim.Adam
    optimizer = optimizer_class(params, lr=lr)
    gradient_sum = None
    for step in range(steps):
        optimizer.zero_grad(set_to_none=True)
        image = render()
        image.retain_grad()
        (sum(loss(transform(image)) for loss in losses) / len(losses)).backward()
        magnitude = image.grad.abs().mean(1, keepdim=True)  # (B, 1, H, W)
        gradient_sum = magnitude if gradient_sum is None else gradient_sum + magnitude
        optimizer.step()
        on_step(step)
    return gradient_sum if gradient_sum is not None else torch.zeros_like(render()[:, :1]).detach()


def combined_importance(maps: list[tuple[int, torch.Tensor]], size: tuple[int, int]) -> torch.Tensor:
    """(B, 1, H, W) importance of a picture made in stages: each stage's map, weighted by its steps."""
    total = sum(steps for steps, _ in maps) or 1
    mixed = sum(steps * resize(importance_map(gradient_sum), size) for steps, gradient_sum in maps) / total
    top = mixed.flatten(1).quantile(0.99, dim=1).clamp(min=1e-12)[:, None, None, None]
    return (mixed / top).clamp(0, 1)


def _as_list(value):
    return list(value) if isinstance(value, (list, tuple)) else [value]


def importance_map(gradient_sum: torch.Tensor) -> torch.Tensor:
    """(B, 1, H, W) accumulated |gradient| -> (B, 1, H, W) in [0, 1], smoothed, 99th percentile at 1."""
    sigma = max(1.0, gradient_sum.shape[-1] / 64)
    kernel = int(4 * sigma) | 1
    smooth = gaussian_blur2d(gradient_sum, (kernel, kernel), (sigma, sigma))
    top = smooth.flatten(1).quantile(0.99, dim=1).clamp(min=1e-12)[:, None, None, None]
    return (smooth / top).clamp(0, 1)


def visualization_loss(
    net: TapNet, objective: Objective, batch: int, diversity: float
) -> Callable[[torch.Tensor], torch.Tensor]:
    """``crops (B * n, 3, H, W) -> ()``: minus the mean objective, plus the weighted diversity penalty.

    ``batch`` is B, the number of images the crops were cut from (image-major order).
    """
    compare = diversity_tap(net, objective) if batch > 1 and diversity > 0 else None
    taps = list(objective.taps) + ([compare] if compare else [])

    def loss(crops: torch.Tensor) -> torch.Tensor:
        activations: Activations = net(crops, taps)
        value = -objective(activations).mean()
        if compare:
            value = value + diversity * gram_similarity(activations[compare], images=batch)
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
    nets: TapNet | Sequence[TapNet],
    target: str,
    height: int,
    width: int,
    generator: torch.Generator,
    device: torch.device,
    steps: int = 64,
    size: int = 320,
    parameterization: str = "maco",
    robust: Robustness = Robustness(),
    lr: float | None = None,
    background: str = "calm",
) -> torch.Tensor:
    """A class (or channel) visualisation to start a zoom from: optimised small, then resized.

    The shorter side is optimised at ``size`` pixels (fast, and the crops the
    networks see are near their training size), keeping the frame's aspect ratio.
    A channel target is read on the first network only: a channel belongs to one network.
    ``background``: as ``Visualization.picture`` shows it (calm: the zoom starts from the object, not a mottle).

    Returns:
        (1, 3, height, width) RGB in [0, 1].
    """
    nets = _as_list(nets)
    targets = [find_target(net, target) for net in (nets if is_class_target(nets[0], target) else nets[:1])]
    small = optimised_size(height, width, size)
    result = visualize(
        nets[: len(targets)], [t.objective() for t in targets], size=small, generator=generator, device=device,
        steps=steps, lr=lr, parameterization=parameterization, robust=robust,
    )  # fmt: skip
    return resize(result.picture(background), (height, width))


def is_class_target(net: TapNet, target: str | int) -> bool:
    """Whether ``target`` names a class (not ``LAYER:CHANNEL``); raises what ``find_target`` raises."""
    return find_target(net, target).is_class


def optimised_size(height: int, width: int, size: int) -> tuple[int, int]:
    """(h, w) with the shorter side ``size`` and the aspect ratio of ``height`` x ``width``."""
    scale = size / min(height, width)
    return max(1, round(height * scale)), max(1, round(width * scale))
