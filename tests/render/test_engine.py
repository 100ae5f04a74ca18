from types import SimpleNamespace

import pytest
import torch

from dream.errors import UserError
from dream.models.base import Preprocess, Stage, Tap, TapNet
from dream.octaves import DreamParams
from render.engine import dream_schedules, fallback_resolver, pick_device
from render.timeline import AnimatedKey
from tests.compose import timeline_of


def test_pick_device_auto():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert pick_device("auto").type == expected
    assert pick_device("cpu") == torch.device("cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
@pytest.mark.parametrize("name", ["cuda", "cuda:1"])
def test_pick_device_cuda_without_a_gpu_is_a_user_error(name):
    with pytest.raises(UserError, match="no CUDA GPU"):
        pick_device(name)


def test_pick_device_bogus_is_a_user_error():
    with pytest.raises(UserError, match="device=bogus is not a device"):
        pick_device("bogus")


def _dream_cfg(**overrides) -> SimpleNamespace:
    values = dict(
        octaves="0:(3), 4:(1)", iterations="0:(2.4), 4:(4.6)", step_size={0: 1.5, 4: 0.5}, octave_scale=1.3,
        jitter=8, first_frame_iterations=None,
    )
    return SimpleNamespace(**(values | overrides))


def _schedules(dream_cfg: SimpleNamespace, frames: int):
    """``dream_schedules`` over a timeline of ``dream_cfg``'s keys (without their range rules)."""
    keys = [AnimatedKey(f"dream.{name}") for name in ("octaves", "iterations", "step_size")]
    timeline = timeline_of(frames)
    cfg = SimpleNamespace(seed=0, fps=30.0, motion=SimpleNamespace(interpolation="linear"), dream=dream_cfg)
    return dream_schedules(dream_cfg, type(timeline)(cfg, frames, keys=keys))


def test_dream_schedules_give_params_per_frame():
    schedules = _schedules(_dream_cfg(), 5)
    assert schedules.at(0) == DreamParams(octaves=3, octave_scale=1.3, iterations=2, step_size=1.5, jitter=8)
    # Schedules are continuous; counts are rounded: octaves 2.5 -> 2 (half to even), iterations 3.5 -> 4.
    middle = schedules.at(2)
    assert (middle.octaves, middle.iterations, middle.step_size) == (2, 4, pytest.approx(1.0))
    assert (schedules.at(4).octaves, schedules.at(4).iterations) == (1, 5)


def test_first_frame_iterations_only_on_frame_zero():
    schedules = _schedules(_dream_cfg(first_frame_iterations=20), 5)
    assert schedules.at(0).iterations == 20
    assert schedules.at(1).iterations == round(2.4 + 2.2 / 4)


def test_counts_never_drop_below_their_minimum():
    cfg = _dream_cfg(octaves=0.2, iterations=-3)
    params = _schedules(cfg, 2).at(1)
    assert (params.octaves, params.iterations) == (1, 0)


def _chain_net(names: list[str]) -> TapNet:
    """A TapNet whose taps are only names in forward order (fallback_resolver reads no weights)."""
    stages = [Stage(name, torch.nn.Identity()) for name in names]
    taps = {name: Tap(name, 3) for name in names}
    return TapNet(torch.nn.Module(), stages, taps, Preprocess(1.0, [0] * 3, [1] * 3), {"first": names[0]})


def test_fallback_resolver_maps_by_relative_depth(tiny_net):
    requested = _chain_net(["a", "b", "c", "d", "e", "f", "g", "h", "i"])
    warnings = []
    resolve = fallback_resolver(requested, tiny_net, warnings.append)  # conv1, conv2, conv3, logits
    assert resolve("a") == "conv1"
    assert resolve("first") == "conv1"  # the requested model's aliases work too
    assert resolve("d") == "conv2"  # 3/8 of the way down 9 taps -> 1.125 of 0..3 -> index 1
    assert resolve("e") == "conv3"  # half-way -> 1.5 -> index 2
    assert resolve("i") == "logits"
    assert len(warnings) == 5 and "'d'" in warnings[2] and "'conv2'" in warnings[2]


def test_fallback_resolver_keeps_names_the_fallback_knows(tiny_net):
    requested = _chain_net(["conv1", "x", "y", "conv3"])
    warnings = []
    resolve = fallback_resolver(requested, tiny_net, warnings.append)
    assert resolve("conv3") == "conv3"
    assert resolve("c2") == "conv2"  # a fallback alias
    assert warnings == []


def test_fallback_resolver_unknown_name_is_a_user_error(tiny_net):
    resolve = fallback_resolver(_chain_net(["a", "b"]), tiny_net, lambda message: None)
    with pytest.raises(UserError, match="Unknown layer 'zz'"):
        resolve("zz")
