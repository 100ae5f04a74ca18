"""Auto cadence: the smallest cadence that holds the frame rate; up at once, down only with margin; says when behind."""

from __future__ import annotations

import pytest

from render.ops.auto_cadence import AutoCadence


def settled(controller: AutoCadence, dream_s: float, tween_s: float, rounds: int = 20) -> int:
    """Feed ``rounds`` stretches of steady measurements; returns the cadence chosen last."""
    for _ in range(rounds):
        controller.observe(dream_s, dreamed=True)
        for _ in range(controller.cadence - 1):
            controller.observe(tween_s, dreamed=False)
        controller.observe(tween_s, dreamed=False)
        cadence = controller.choose()
    return cadence


def test_keeps_cadence_one_when_every_frame_can_be_dreamed():
    assert settled(AutoCadence(fps=12), dream_s=0.05, tween_s=0.005) == 1


def test_picks_the_smallest_cadence_that_holds_the_rate():
    controller = AutoCadence(fps=12)  # budget 0.85 / 12 = 70.8 ms a frame
    # (0.2 + (n - 1) * 0.01) / n: n=3 -> 73 ms (too slow), n=4 -> 57.5 ms
    assert settled(controller, dream_s=0.2, tween_s=0.01) == 4
    assert not controller.behind
    assert "Cadence 4" in controller.describe()


def test_goes_up_at_once_when_the_machine_slows_down():
    controller = AutoCadence(fps=12)
    settled(controller, dream_s=0.05, tween_s=0.005)
    for _ in range(3):  # most of the latest dreams are slow now
        controller.observe(0.5, dreamed=True)
    assert controller.choose() > 1


def test_comes_down_only_with_margin():
    controller = AutoCadence(fps=12, cadence=3)
    controller.dreams.extend([0.135] * 5)  # cadence 2: 67.5 ms a frame, fits 70.8 ms but not 56.7 ms
    assert controller.choose() == 3
    controller.dreams.extend([0.09] * 5)  # cadence 2: 45 ms, well inside
    assert controller.choose() == 2


def test_one_slow_dream_does_not_sway_it():
    controller = AutoCadence(fps=12)
    for seconds in (6.5, 0.05, 0.05):  # a warm-up dream, then the machine's speed
        controller.observe(seconds, dreamed=True)
    assert controller.choose() == 1 and not controller.behind


def test_says_when_even_the_largest_cadence_is_too_slow():
    controller = AutoCadence(fps=30)
    assert settled(controller, dream_s=5.0, tween_s=0.05) == controller.largest
    assert controller.behind
    assert "Falling behind" in controller.describe() and "30 fps" in controller.describe()


def test_waits_for_a_measurement_before_choosing():
    assert AutoCadence(fps=12, cadence=2).choose() == 2


@pytest.mark.parametrize("cadence", [1, 2, 8])
def test_frame_seconds_is_the_stretch_averaged(cadence):
    controller = AutoCadence(fps=12, tween_s=0.02)
    controller.observe(0.4, dreamed=True)
    assert controller.frame_seconds(cadence) == pytest.approx((0.4 + (cadence - 1) * 0.02) / cadence)


def test_a_raised_cadence_is_held_for_a_few_dreams_before_it_comes_down():
    controller = AutoCadence(fps=12, dwell=4)
    for _ in range(5):
        controller.observe(0.5, dreamed=True)
    raised = controller.choose()
    assert raised > 1
    for _ in range(5):  # fast again at once: a shifting load, not yet a faster machine
        controller.observe(0.02, dreamed=True)
    assert [controller.choose() for _ in range(4)] == [raised] * 4
    assert controller.choose() == 1


def test_a_fixed_cadence_is_chosen_as_given_and_says_so():
    from render.ops.auto_cadence import CadenceChoice

    choice = CadenceChoice(3, 30.0, report=lambda line, facts: None)
    assert choice.at_dream(0) == 3 and choice.facts() == {"cadence": 3, "cadence_requested": 3}


def test_auto_reports_each_change_once_measured_and_keeps_it():
    from render.ops.auto_cadence import CadenceChoice

    reports = []
    choice = CadenceChoice("auto", 30.0, report=lambda line, facts: reports.append(facts))
    choice.at_dream(0)
    assert reports == []  # nothing measured yet: nothing to report
    choice.observe(0, 5.0, dreamed=True)  # frame 0 is not a typical dream: not counted
    choice.observe(1, 0.5, dreamed=True)  # a dream of 0.5 s at 30 fps: far behind
    chosen = choice.at_dream(2)
    assert chosen > 1 and reports[-1]["cadence_changes"] == [[2, chosen]]
    assert choice.facts()["cadence"] == chosen and choice.facts()["cadence_requested"] == "auto"
