"""Speed options of the dream step: mixed precision, memory format, cuDNN autotuning, compilation.

Each is an option with a safe default. The image, the objective and the
gradient normalisation stay float32 under mixed precision; only the network's
forward (and so its backward) runs in bfloat16/float16.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from dream.errors import UserError
from dream.models.base import TapNet

PRECISIONS = {"float32": None, "bfloat16": torch.bfloat16, "float16": torch.float16}
COMPILE_MODES = ("none", "default", "reduce-overhead", "max-autotune")


@dataclass(frozen=True)
class SpeedOptions:
    """How the network runs.

    Attributes:
        precision: float32 | bfloat16 | float16 (autocast of the forward pass).
        channels_last: NHWC memory format (faster convolutions on CPU and tensor cores).
        cudnn_benchmark: let cuDNN pick the fastest kernels per shape (octave shapes are fixed).
        compile: torch.compile mode for the forward pass; 'reduce-overhead' captures CUDA graphs.
    """

    precision: str = "float32"
    channels_last: bool = True
    cudnn_benchmark: bool = True
    compile: str = "none"


def apply_speed_options(net: TapNet, options: SpeedOptions, device: torch.device) -> TapNet:
    """Configure ``net`` (in place) for ``options`` on ``device``; returns it."""
    if options.precision not in PRECISIONS:
        raise UserError(f"speed.precision={options.precision} is not one of {', '.join(PRECISIONS)}.")
    if options.compile not in COMPILE_MODES:
        raise UserError(f"speed.compile={options.compile} is not one of {', '.join(COMPILE_MODES)}.")
    net.autocast_dtype = PRECISIONS[options.precision]
    net.memory_format = torch.channels_last if options.channels_last else torch.contiguous_format
    net.to(memory_format=net.memory_format)
    if device.type == "cuda":
        # Process-wide by nature in PyTorch: the render owns the process.
        torch.backends.cudnn.benchmark = options.cudnn_benchmark
    if options.compile != "none":
        net.forward = torch.compile(net.forward, mode=options.compile, dynamic=False)
    return net
