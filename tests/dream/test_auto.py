import pytest
import torch

from dream import auto
from dream.auto import choose_tile_size, cpu_flags, decide_precision, decide_tile_size, memory_budget

CPU = torch.device("cpu")
CUDA = torch.device("cuda")


def test_cpu_flags_are_read_from_cpuinfo(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: Some CPU\nflags\t\t: fpu avx512f avx512_bf16 amx_tile\n")
    assert cpu_flags(cpuinfo) == {"fpu", "avx512f", "avx512_bf16", "amx_tile"}
    assert cpu_flags(tmp_path / "missing") == set()


@pytest.mark.parametrize(("flags", "expected"), [
    ({"avx512f", "avx512_bf16"}, "bfloat16"),
    ({"avx512f", "amx_tile", "amx_bf16"}, "bfloat16"),
    ({"avx512f", "avx512_vnni", "avx2"}, "float32"),  # AVX-512 without bf16 units emulates it: slower
    (set(), "float32"),
])
def test_auto_precision_on_cpu_follows_the_bf16_flags(flags, expected):
    decision = decide_precision("auto", CPU, flags=lambda: flags)
    assert (decision.value, decision.requested) == (expected, "auto")
    assert ("flags" in decision.reason) and decision.reason


@pytest.mark.parametrize(("capability", "expected"), [((8, 0), "bfloat16"), ((9, 0), "bfloat16"),
                                                      ((7, 5), "float32")])
def test_auto_precision_on_cuda_follows_compute_capability(monkeypatch, capability, expected):
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: capability)
    assert decide_precision("auto", CUDA).value == expected


@pytest.mark.parametrize("precision", ["float32", "bfloat16", "float16"])
def test_explicit_precision_is_kept(precision):
    decision = decide_precision(precision, CPU, flags=lambda: {"avx512_bf16"})
    assert (decision.value, decision.requested) == (precision, precision)


def test_choose_tile_size_keeps_the_frame_whole_when_it_fits():
    tile, reason = choose_tile_size(1, 1080, 1920, bytes_per_pixel=1000.0, budget=4 * 2**30)
    assert tile == 0 and reason.startswith("untiled")


def test_choose_tile_size_picks_the_largest_tile_that_fits():
    budget, bytes_per_pixel = 2**30, 4000.0
    tile, _ = choose_tile_size(1, 2160, 3840, bytes_per_pixel, budget)
    assert tile % auto.TILE_STEP == 0 and tile >= auto.MIN_TILE
    assert (1.5 * tile) ** 2 * bytes_per_pixel <= budget  # a merged last tile reaches 1.5 sides
    assert (1.5 * (tile + auto.TILE_STEP)) ** 2 * bytes_per_pixel > budget
    assert choose_tile_size(4, 2160, 3840, bytes_per_pixel, budget)[0] < tile  # a batch needs smaller tiles


def test_memory_budget_on_cpu_is_a_share_of_available_ram(tmp_path):
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       24000000 kB\nMemFree:  1000 kB\nMemAvailable:   20000000 kB\n")
    assert memory_budget(CPU, meminfo) == int(auto.CPU_MEMORY_SHARE * 20000000 * 1024)


def test_memory_budget_on_cuda_counts_free_and_cached_memory(monkeypatch):
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (10 * 2**30, 24 * 2**30))
    monkeypatch.setattr(torch.cuda, "memory_reserved", lambda device=None: 3 * 2**30)
    monkeypatch.setattr(torch.cuda, "memory_allocated", lambda device=None: 2**30)
    assert memory_budget(CUDA) == int(auto.GPU_MEMORY_SHARE * 12 * 2**30)


def test_cpu_bytes_per_pixel_grows_with_depth_and_shrinks_in_bfloat16(tiny_net):
    shallow = auto.probe_bytes_per_pixel(tiny_net, ["conv1"], CPU)
    deep = auto.probe_bytes_per_pixel(tiny_net, ["conv3"], CPU)
    assert 0 < shallow < deep
    tiny_net.autocast_dtype = torch.bfloat16
    assert auto.probe_bytes_per_pixel(tiny_net, ["conv3"], CPU) < deep


class FakeCudaMemory:
    """torch.cuda's memory queries for a GPU that holds ``held`` bytes and peaks ``peak`` above them."""

    def __init__(self, held: int, peak: int, free: int):
        self.held, self.peak, self.free = held, peak, free

    def install(self, monkeypatch):
        monkeypatch.setattr(torch.cuda, "synchronize", lambda device=None: None)
        monkeypatch.setattr(torch.cuda, "reset_peak_memory_stats", lambda device=None: None)
        monkeypatch.setattr(torch.cuda, "memory_allocated", lambda device=None: self.held)
        monkeypatch.setattr(torch.cuda, "max_memory_allocated", lambda device=None: self.held + self.peak)
        monkeypatch.setattr(torch.cuda, "memory_reserved", lambda device=None: self.held)
        monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (self.free, 24 * 2**30))


def test_cuda_tile_decision_from_measured_peak_and_free_memory(monkeypatch, tiny_net):
    """A 24 GiB GPU: 1080p fits whole; 4K at a large cost per pixel gets tiles that fit."""
    per_pixel = 2000  # bytes
    FakeCudaMemory(held=2**30, peak=per_pixel * auto.PROBE_SIDE**2, free=20 * 2**30).install(monkeypatch)
    hd = decide_tile_size("auto", tiny_net, ["conv3"], (1, 1080, 1920), CUDA)
    assert hd.value == 0 and "KiB/pixel" in hd.reason
    FakeCudaMemory(held=2**30, peak=5 * per_pixel * auto.PROBE_SIDE**2, free=20 * 2**30).install(monkeypatch)
    uhd = decide_tile_size("auto", tiny_net, ["conv3"], (1, 2160, 3840), CUDA)
    assert uhd.value > 0 and (1.5 * uhd.value) ** 2 * 5 * per_pixel <= auto.GPU_MEMORY_SHARE * 20 * 2**30


@pytest.mark.parametrize("requested", [0, 512])
def test_explicit_tile_size_is_kept(tiny_net, requested):
    decision = decide_tile_size(requested, tiny_net, ["conv3"], (1, 2160, 3840), CPU)
    assert (decision.value, decision.requested, decision.reason) == (requested, requested, "as asked")


def test_auto_tiles_on_cpu_when_ram_is_short(monkeypatch, tiny_net):
    monkeypatch.setattr(auto, "available_ram", lambda meminfo=None: 2 * 2**20)
    decision = decide_tile_size("auto", tiny_net, ["conv3"], (1, 2160, 3840), CPU)
    assert decision.value >= auto.MIN_TILE and decision.reason.startswith("tiles of")
    monkeypatch.setattr(auto, "available_ram", lambda meminfo=None: 16 * 2**30)
    assert decide_tile_size("auto", tiny_net, ["conv3"], (1, 360, 640), CPU).value == 0
