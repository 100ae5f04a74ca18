from types import SimpleNamespace

import pytest
import torch

from dream.errors import NameChoiceError, UserError
from dream.models.base import Preprocess, Stage, Tap, TapNet
from render.ops.objective_plan import PlanContext, build_plan
from render.ops.tempo import TempoGrid
from render.schedule import TimeBase
from tests.compose import timeline_of

FRAMES = 30


def _dream_cfg(**overrides) -> SimpleNamespace:
    return SimpleNamespace(**({"layer": None, "layers": None, "crossfade": 4, "objective": None} | overrides))


def _context(net: TapNet, guides: list | None = None, interpolation: str = "linear") -> PlanContext:
    def load_guide(layer: str, path: str) -> torch.Tensor:
        if guides is not None:
            guides.append((layer, path))
        return torch.rand(1, net.channels[layer], 4, 4, generator=torch.Generator().manual_seed(0))

    timeline = timeline_of(FRAMES, [f"motion.interpolation={interpolation}"])
    return PlanContext(net, net.resolve, "conv2", timeline, load_guide)


def _weights(plan, frame: int) -> list[float]:
    return list(plan.weights_at(frame))


def test_default_is_l2_of_the_default_layer(tiny_net):
    plan = build_plan(_dream_cfg(), _context(tiny_net))
    assert plan.taps == ("conv2",)
    assert plan.describe() == ["l2(conv2)"]
    assert all(plan.weights_at(frame) == (1.0,) for frame in range(FRAMES))
    assert plan.at(0).taps == ("conv2",)


def test_single_layer_by_alias(tiny_net):
    assert build_plan(_dream_cfg(layer="c2"), _context(tiny_net)).taps == ("conv2",)
    assert build_plan(_dream_cfg(layer="conv3"), _context(tiny_net)).describe() == ["l2(conv3)"]


def test_layer_tour_crossfades_linearly_into_each_key(tiny_net):
    layers = {0: "conv1", "10": "conv2", 20: "conv3"}  # YAML keys may come as ints or strings
    plan = build_plan(_dream_cfg(layers=layers, crossfade=4), _context(tiny_net))
    assert plan.describe() == ["l2(conv1)", "l2(conv2)", "l2(conv3)"]
    for frame in range(FRAMES):
        assert sum(_weights(plan, frame)) == pytest.approx(1.0), frame
    assert _weights(plan, 0) == [1.0, 0.0, 0.0]
    assert _weights(plan, 6) == [1.0, 0.0, 0.0]
    assert _weights(plan, 8) == pytest.approx([0.5, 0.5, 0.0])
    for frame, fade_in in zip(range(6, 11), (0.0, 0.25, 0.5, 0.75, 1.0)):
        assert _weights(plan, frame)[1] == pytest.approx(fade_in)
    assert _weights(plan, 10) == [0.0, 1.0, 0.0]
    assert _weights(plan, 20) == [0.0, 0.0, 1.0]
    assert _weights(plan, FRAMES - 1) == [0.0, 0.0, 1.0]
    assert plan.at(8).taps == ("conv1", "conv2")
    assert plan.at(12).taps == ("conv2",)


def test_layer_tour_keys_may_be_seconds_or_bars(tiny_net):
    timed = timeline_of(FRAMES, time=TimeBase(10.0, TempoGrid(bpm=120, offset=0.0)))  # a bar is 20 frames
    context = PlanContext(tiny_net, tiny_net.resolve, "conv2", timed, None)
    plan = build_plan(_dream_cfg(layers={"0s": "conv1", "1s": "conv2", "2:1": "conv3"}, crossfade=2), context)
    assert _weights(plan, 10) == [0.0, 1.0, 0.0] and _weights(plan, 20) == [0.0, 0.0, 1.0]


def test_layer_tour_with_keys_closer_than_the_crossfade(tiny_net):
    plan = build_plan(_dream_cfg(layers={0: "conv1", 2: "conv3"}, crossfade=8), _context(tiny_net))
    assert _weights(plan, 0) == [1.0, 0.0]
    assert _weights(plan, 1) == pytest.approx([0.5, 0.5])
    assert _weights(plan, 2) == [0.0, 1.0]


def test_terms_with_channel_class_guide_and_weight_schedule(tiny_net):
    guides = []
    objective = [
        {"layer": "conv3", "channel": 7, "weight": "0:(1), 10:(0)"},
        {"class": "Felis tigris", "weight": 0.5},
        {"guide": "cat.png", "layer": "conv1"},
        {},
    ]
    plan = build_plan(_dream_cfg(objective=objective), _context(tiny_net, guides))
    assert plan.describe() == ["channel(conv3, 7)", "class(tiger cat, Felis tigris)", "guide(conv1)", "l2(conv2)"]
    assert guides == [("conv1", "cat.png")]
    assert plan.taps == ("conv3", "logits", "conv1", "conv2")
    assert _weights(plan, 5) == pytest.approx([0.5, 0.5, 1.0, 1.0])
    assert "channel" in plan.at(5).name and "channel" not in plan.at(10).name
    score = plan.at(0)(tiny_net(torch.rand(2, 3, 12, 12), plan.at(0).taps))
    assert score.shape == (2,)


@pytest.mark.parametrize("channel", [8, -1, "3", 2.0, True])
def test_bad_channel_is_a_user_error(tiny_net, channel):
    with pytest.raises(UserError, match=r"channels 0\.\.7"):
        build_plan(_dream_cfg(objective=[{"layer": "conv3", "channel": channel}]), _context(tiny_net))


def test_unknown_key_is_a_user_error(tiny_net):
    with pytest.raises(UserError, match="unknown keys .'chanel'."):
        build_plan(_dream_cfg(objective=[{"layer": "conv3", "chanel": 2}]), _context(tiny_net))


@pytest.mark.parametrize(
    "cfg",
    [
        _dream_cfg(layer="conv4"),
        _dream_cfg(layers={0: "conv1", 10: "conv9"}),
        _dream_cfg(objective=[{"layer": "conv9"}]),
    ],
)
def test_unknown_layer_names_the_choices(tiny_net, cfg):
    with pytest.raises(NameChoiceError, match="Did you mean") as info:
        build_plan(cfg, _context(tiny_net))
    assert "conv3" in str(info.value)


def test_unknown_class_is_a_user_error(tiny_net):
    with pytest.raises(UserError, match="Unknown class 'bananna'. Did you mean: banana"):
        build_plan(_dream_cfg(objective=[{"class": "bananna"}]), _context(tiny_net))


def test_class_needs_a_model_with_labels(tiny_net):
    body = tiny_net.body
    net = TapNet(body, [Stage("conv1", body.conv1)], {"conv1": Tap("conv1", 4)}, Preprocess(1.0, [0] * 3, [1] * 3))
    with pytest.raises(UserError, match="no class labels"):
        ctx = PlanContext(net, net.resolve, "conv1", timeline_of(5), None)
        build_plan(_dream_cfg(objective=[{"class": "banana"}]), ctx)


def test_every_weight_zero_at_a_frame_is_a_user_error(tiny_net):
    plan = build_plan(_dream_cfg(objective=[{"weight": "0:(1), 4:(0)"}]), _context(tiny_net))
    plan.at(3)
    with pytest.raises(UserError, match="At frame 4 every objective weight is 0"):
        plan.at(4)


def test_objective_weights_follow_motion_interpolation_and_a_tour_stays_a_straight_crossfade(tiny_net):
    weights = [{"layer": "conv1", "weight": "0:(0), 10:(1)"}]
    stepped = build_plan(_dream_cfg(objective=weights), _context(tiny_net, interpolation="step"))
    assert _weights(stepped, 5) == [0.0] and _weights(stepped, 10) == [1.0]
    stepped_context = _context(tiny_net, interpolation="step")
    tour = build_plan(_dream_cfg(layers={0: "conv1", 10: "conv2"}, crossfade=4), stepped_context)
    assert _weights(tour, 8) == pytest.approx([0.5, 0.5])
