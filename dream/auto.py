"""``precision=auto`` and ``tile_size=auto``: the fast settings for the hardware, decided once per render.

Precision: bfloat16 autocast where the hardware has bf16 units (CUDA GPUs of
compute capability 8.0 and later; CPUs whose flags list AVX512-BF16 or AMX-BF16),
float32 elsewhere. Without those units bfloat16 is emulated and slower than
float32, so the CPU's own flags decide, never its vendor or model name.

Tiles: one pass over the whole frame is fastest on a GPU and, by measurement
(``make bench``), on a CPU too; frames are tiled only when the forward+backward
of the whole frame would not fit the memory at hand. The memory one pixel costs
is measured on a small probe image with the render's own network, taps and
precision.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from dream.models.base import TapNet
from dream.objectives import layer_l2, total
from dream.step import objective_gradient

AUTO = "auto"
BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")  # /proc/cpuinfo names of native bfloat16 arithmetic
BF16_CUDA_CAPABILITY = (8, 0)  # Ampere and later: bf16 tensor cores
PROBE_SIDE = 256  # probe image side for the bytes-per-pixel measurement
GPU_MEMORY_SHARE = 0.8  # of the free GPU memory: the allocator fragments, cuDNN wants workspace
CPU_MEMORY_SHARE = 0.5  # of the available RAM: the rest belongs to the system and other programs
CPU_PEAK_OVER_SAVED = 1.5  # backward holds gradients beside the tensors saved for it
MIN_TILE = 128  # smaller tiles give deep layers too little context
TILE_STEP = 32  # tile sides are multiples of this (every stride of the models divides it)


@dataclass(frozen=True)
class Decision:
    """One auto setting as decided: the value used, the value asked for and why."""

    value: str | int
    requested: str | int
    reason: str


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> set[str]:
    """The CPU feature flags the kernel reports (empty where there is no /proc/cpuinfo)."""
    try:
        text = cpuinfo.read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            return set(value.split())
    return set()


def decide_precision(requested: str, device: torch.device, flags: Callable[[], set[str]] | None = None) -> Decision:
    """``requested`` unless it is ``auto``; then bfloat16 where the hardware runs it natively.

    Args:
        requested: float32 | bfloat16 | float16 | auto.
        flags: returns the CPU's feature flags (default: ``cpu_flags``; tests pose as other CPUs).
    """
    if requested != AUTO:
        return Decision(requested, requested, "as asked")
    if device.type == "cuda":
        capability = torch.cuda.get_device_capability(device)
        fast = tuple(capability) >= BF16_CUDA_CAPABILITY
        why = f"CUDA compute capability {capability[0]}.{capability[1]} {'has' if fast else 'lacks'} bf16 tensor cores"
        return Decision("bfloat16" if fast else "float32", AUTO, why)
    if device.type == "cpu":
        native = sorted(set(BF16_CPU_FLAGS) & (flags or cpu_flags)())
        if native:
            return Decision("bfloat16", AUTO, f"CPU flags {' '.join(native)}")
        return Decision("float32", AUTO, f"CPU flags lack {' and '.join(BF16_CPU_FLAGS)} (bf16 would be emulated)")
    return Decision("float32", AUTO, f"no bf16 rule for {device.type}")


def probe_bytes_per_pixel(net: TapNet, taps: Sequence[str], device: torch.device) -> float:
    """Memory one image pixel costs in the forward to ``taps`` and the backward to the image.

    Measured on a (1, 3, PROBE_SIDE, PROBE_SIDE) probe with the net's own precision
    and memory format: on a GPU the allocator's peak, on a CPU the tensors autograd
    saves for the backward (times CPU_PEAK_OVER_SAVED for the gradients beside them).
    """
    image_device = next(net.parameters()).device
    image = torch.rand(1, 3, PROBE_SIDE, PROBE_SIDE, device=image_device)
    objective = total([layer_l2(tap) for tap in taps])

    def gradient() -> None:
        objective_gradient(net, image, objective)

    if device.type == "cuda":
        peak = cuda_peak_bytes(gradient, device)
    else:
        peak = CPU_PEAK_OVER_SAVED * saved_tensor_bytes(gradient)
    return peak / PROBE_SIDE**2


def cuda_peak_bytes(fn: Callable[[], None], device: torch.device) -> int:
    """Peak bytes the CUDA allocator holds while ``fn`` runs, above what was held before."""
    torch.cuda.synchronize(device)
    before = torch.cuda.memory_allocated(device)
    torch.cuda.reset_peak_memory_stats(device)
    fn()
    torch.cuda.synchronize(device)
    return torch.cuda.max_memory_allocated(device) - before


def saved_tensor_bytes(fn: Callable[[], None]) -> int:
    """Bytes of the distinct storages autograd saves for the backward while ``fn`` runs."""
    storages: dict[int, int] = {}

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        storage = tensor.untyped_storage()
        storages[storage.data_ptr()] = storage.nbytes()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        fn()
    return sum(storages.values())


def memory_budget(device: torch.device, meminfo: Path = Path("/proc/meminfo")) -> int:
    """Bytes a render may spend on activations: a share of the free GPU memory or of the available RAM."""
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        cached = torch.cuda.memory_reserved(device) - torch.cuda.memory_allocated(device)
        return int(GPU_MEMORY_SHARE * (free + cached))
    return int(CPU_MEMORY_SHARE * available_ram(meminfo))


def available_ram(meminfo: Path = Path("/proc/meminfo")) -> int:
    """MemAvailable (Linux), else the free physical pages the OS reports."""
    try:
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def choose_tile_size(batch: int, height: int, width: int, bytes_per_pixel: float, budget: int) -> tuple[int, str]:
    """0 (one pass over the frame) when it fits ``budget``, else the largest tile side that does.

    The tiler merges a narrow last tile into its neighbour, so a tile can reach
    1.5 sides each way: the side is chosen so that such a tile fits.
    """
    need = batch * height * width * bytes_per_pixel
    summary = f"{batch}x{width}x{height} needs {need / 2**30:.2f} GiB of a {budget / 2**30:.2f} GiB budget"
    if need <= budget:
        return 0, f"untiled: {summary}"
    side = math.sqrt(budget / (batch * bytes_per_pixel)) / 1.5
    tile = max(MIN_TILE, int(side) // TILE_STEP * TILE_STEP)
    return tile, f"tiles of {tile}: {summary}"


def decide_tile_size(requested: str | int, net: TapNet, taps: Sequence[str], shape: tuple[int, int, int],
                     device: torch.device) -> Decision:
    """``requested`` unless it is ``auto``; then untiled when the frame fits in memory, else the largest fitting tile.

    Args:
        requested: a tile side in pixels, 0 (never tile) or ``auto``.
        taps: every tap the render's objectives read (the deepest sets the cost).
        shape: (batch, height, width) of the largest image the render dreams.
    """
    if requested != AUTO:
        return Decision(int(requested), requested, "as asked")
    bytes_per_pixel = probe_bytes_per_pixel(net, taps, device)
    tile, why = choose_tile_size(*shape, bytes_per_pixel, memory_budget(device))
    return Decision(tile, AUTO, f"{why} at {bytes_per_pixel / 1024:.1f} KiB/pixel")
