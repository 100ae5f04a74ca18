"""Speed options of the dream step: mixed precision, memory format, cuDNN autotuning, compilation.

Each is an option with a safe default. The image, the objective and the
gradient normalisation stay float32 under mixed precision; only the network's
forward (and so its backward) runs in bfloat16/float16.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

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
        compiled = torch.compile(net.forward, mode=options.compile, dynamic=False)
        net.forward = marking_compiled_shapes(compiled, lambda shape: compiled_shape_mark(net, options, shape))
    return net


def compiled_marks_folder() -> Path:
    """Where the input shapes compiled before on this machine are marked: inside torch's compile cache
    (``TORCHINDUCTOR_CACHE_DIR``), so that the marks go when the cache they stand for goes."""
    from torch._inductor.runtime.cache_dir_utils import cache_dir

    return Path(cache_dir()) / "dream-compiled-shapes"


def compiled_shape_mark(net: TapNet, options: SpeedOptions, shape: tuple[int, ...]) -> Path:
    """The mark of ``net``'s forward compiled for inputs of ``shape`` (B, C, H, W) with ``options``."""
    parameters = sum(p.numel() for p in net.parameters())
    name = (f"{type(net).__name__}-{parameters}-{options.precision}-{options.channels_last}-{options.compile}-"
            f"{torch.__version__}-{'x'.join(map(str, shape))}")
    return compiled_marks_folder() / hashlib.sha256(name.encode()).hexdigest()[:32]


def was_compiled(net: TapNet, options: SpeedOptions, shape: tuple[int, ...]) -> bool:
    """Whether a render on this machine compiled ``net`` for ``shape`` (B, C, H, W) and its compile cache is kept:
    then compiling again mostly reads that cache (seconds instead of minutes)."""
    return compiled_shape_mark(net, options, shape).exists()


def running_eager() -> bool:
    """Whether ``torch.compiler.set_stance("force_eager")`` is on (an estimate timing steps uncompiled): such a
    call compiles nothing, so it must not mark its shape."""
    from torch._dynamo import eval_frame

    stance = getattr(eval_frame, "_stance", None)  # torch keeps the stance in a private name; without it, mark
    return getattr(stance, "stance", "default") == "force_eager"


def marking_compiled_shapes(forward: Callable, mark_of: Callable[[tuple[int, ...]], Path]) -> Callable:
    """``forward``, marking each input shape once after its first call (after the compiling it caused)."""
    marked: set[tuple[int, ...]] = set()

    def forward_marking(image: torch.Tensor, *args, **kwargs):
        output = forward(image, *args, **kwargs)
        shape = tuple(image.shape)
        if shape not in marked and not running_eager():
            marked.add(shape)
            mark = mark_of(shape)
            try:
                mark.parent.mkdir(parents=True, exist_ok=True)
                mark.touch()
            except OSError:
                pass  # a read-only cache only makes the next estimate count the compiling again
        return output

    return forward_marking
