"""Tests for render.schedule: Deforum keyframe semantics, expressions, interpolation, errors."""

import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from dream.errors import UserError
from render.schedule import ScheduleContext, ScheduleError, ScheduleVariables, TimeBase, merge_variables, parse_schedule

REPO = Path(__file__).resolve().parents[2]


def values(spec, frames, **kwargs):
    return np.array(parse_schedule(spec, frames=frames, **kwargs).values())


# ------------------------------------------------------------------ basics


@pytest.mark.parametrize("spec", [1.5, np.float32(1.5), "1.5", "(1.5)", "0:(1.5)", "0: 1.5", {0: 1.5}, {"0": "1.5"}])
def test_constant_forms(spec):
    assert values(spec, 4).tolist() == [1.5] * 4


def test_schedule_api():
    schedule = parse_schedule("0:(0), 4:(4)", frames=5, name="motion.angle")
    assert schedule.frames == 5 and schedule.name == "motion.angle"
    assert schedule.at(2) == 2.0 and isinstance(schedule.at(2), float)
    assert schedule.values() == [0.0, 1.0, 2.0, 3.0, 4.0]
    with pytest.raises(IndexError):
        schedule.at(5)
    with pytest.raises(IndexError):
        schedule.at(-1)
    with pytest.raises(ValueError):
        schedule.table[0] = 9.0


def test_deforum_zoom_example():
    schedule = parse_schedule("0:(1.04), 120:(1.0)", frames=240)
    assert [schedule.at(f) for f in (0, 60, 120, 200)] == pytest.approx([1.04, 1.02, 1.0, 1.0])


def test_deforum_sin_expression():
    schedule = parse_schedule("0:(1.0025+0.002*sin(1.25*3.14*t/30))", frames=100)
    for t in (0, 7, 30, 99):
        assert schedule.at(t) == pytest.approx(1.0025 + 0.002 * math.sin(1.25 * 3.14 * t / 30), abs=1e-12)


def test_operators_precedence_and_comparisons():
    assert values("0:(-2**2 + 7 % 4 * 2 - 1/4)", 1)[0] == pytest.approx(-4 + 6 - 0.25)
    assert values("0:(2**3**2)", 1)[0] == 512.0
    assert values("0:((t > 1) + (t <= 0)*10 + (t == 2)*100 + (t != 2)*1000)", 3).tolist() == [1010, 1000, 101]
    assert values("0:(pi + e + floor(2.7) + ceil(2.1) + abs(-1) + sqrt(4) + log10(100))", 1)[0] == pytest.approx(
        math.pi + math.e + 2 + 3 + 1 + 2 + 2
    )


def test_max_f_keys_and_variables():
    assert values("0:(0), max_f:(1)", 5).tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert values("0:(0), max_f/2:(1)", 6).tolist() == [0.0, 0.5, 1.0, 1.0, 1.0, 1.0]  # 5/2 truncates to 2
    assert values("0:(max_f)", 3).tolist() == [2.0] * 3


def test_seed_variable():
    assert values("0:(s * 2 + t)", 2, seed=21).tolist() == [42.0, 43.0]


# ------------------------------------------------------- Deforum semantics


def test_duplicate_key_later_wins():
    assert values("0:(1), 2:(5), 2:(3)", 3).tolist() == [1.0, 2.0, 3.0]


def test_out_of_range_keys_ignored():
    assert values("-5:(100), 0:(0), 4:(4), 10:(100)", 5).tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]


def test_unordered_keys():
    assert values("4:(4), 0:(0)", 5).tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]


def test_missing_frame_zero_holds_first_key():
    assert values("2:(5), 4:(7)", 6).tolist() == [5.0, 5.0, 5.0, 6.0, 7.0, 7.0]


def test_expression_segment_is_not_interpolated_toward_next_number():
    # frames 0..9 follow t exactly, then jump to the anchor 100, which is held
    result = values("0:(t), 10:(100)", 15)
    assert result[:10].tolist() == list(range(10))
    assert result[10:].tolist() == [100.0] * 5


def test_number_interpolates_toward_following_expression():
    result = values("0:(0), 10:(2*t)", 15)
    assert result[5] == 10.0  # halfway from 0 to the expression's 20 at frame 10
    assert result[10:].tolist() == [20.0, 22.0, 24.0, 26.0, 28.0]  # trailing expression keeps evaluating


def test_expression_then_expression():
    assert values("0:(t), 3:(-t)", 5).tolist() == [0.0, 1.0, 2.0, -3.0, -4.0]


def test_constant_expression_is_held_not_interpolated():
    # 2*3 is an expression (Deforum evaluates it per frame), not an anchor
    assert values("0:(2*3), 4:(0)", 6).tolist() == [6.0, 6.0, 6.0, 6.0, 0.0, 0.0]


def test_signed_and_scientific_numbers_are_anchors():
    assert values("0:(-1), 2:(1e0)", 3).tolist() == [-1.0, 0.0, 1.0]


def test_yaml_mapping_with_int_and_str_keys():
    result = values({0: 0, "4": 4.0, "max_f": "10 + t"}, 9)
    assert result.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 7.5, 11.0, 14.5, 18.0]


def test_quotes_stripped():
    expected = [1.0, 1.5, 2.0]
    assert values('"0:(1), 2:(2)"', 3).tolist() == expected
    assert values("'0:(1), 2:(2)'", 3).tolist() == expected
    assert values("0:'(1)', \"2\":(2)", 3).tolist() == expected


def test_multiline_string_and_trailing_comma():
    assert values("0: (1),\n  2: (3),\n", 3).tolist() == [1.0, 2.0, 3.0]


def test_comma_inside_function_calls():
    assert values("0:(where(t > 1, 10, max(t, 0.5))), 3:(min(1, 2, t))", 5).tolist() == [0.5, 1.0, 10.0, 1.0, 1.0]


# ------------------------------------------------------------ interpolation


def test_step_interpolation():
    assert values("0:(0), 3:(1)", 5, interpolation="step").tolist() == [0.0, 0.0, 0.0, 1.0, 1.0]


def test_cubic_interpolation_eases_and_does_not_overshoot():
    ease = values("0:(0), 10:(1)", 11, interpolation="cubic")
    assert ease[5] == pytest.approx(0.5) and ease[1] < 0.1 and ease[9] > 0.9
    assert np.all(np.diff(ease) >= 0)
    peak = values("0:(0), 10:(1), 20:(0), 30:(0.5)", 31, interpolation="cubic")
    assert peak.max() == pytest.approx(1.0) and peak.min() >= 0.0
    assert peak[[0, 10, 20, 30]].tolist() == [0.0, 1.0, 0.0, 0.5]
    linear = values("0:(0), 10:(1), 20:(0), 30:(0.5)", 31)
    assert not np.allclose(peak, linear)


def test_interpolation_keeps_expression_frames_exact():
    for method in ("linear", "cubic", "step"):
        result = values("0:(t*t), 5:(1), 9:(0)", 10, interpolation=method)
        assert result[:5].tolist() == [0.0, 1.0, 4.0, 9.0, 16.0]


def test_parse_is_fast_for_long_renders():
    start = time.perf_counter()
    result = values("0:(1.0025+0.002*sin(1.25*3.14*t/30)), 5000:(1.0), 9000:(where(t % 2 > 0, 1, 2))", 10_000)
    assert time.perf_counter() - start < 0.5
    assert result.shape == (10_000,) and np.isfinite(result).all()


# ------------------------------------------------------------------- errors


def test_syntax_error_names_schedule_key_and_points_at_position():
    with pytest.raises(ScheduleError) as info:
        parse_schedule("0:(1.04), 120:(1.0+))", frames=240, name="motion.zoom")
    message = str(info.value)
    assert isinstance(info.value, UserError)
    assert message.startswith("motion.zoom: syntax error in keyframe 120 at column 20: unexpected ')'")
    line, caret = message.splitlines()[1:3]
    assert line.strip() == "0:(1.04), 120:(1.0+))"
    assert caret.index("^") == line.index("0:") + 19


@pytest.mark.parametrize(
    ("spec", "fragment", "column"),
    [
        ("0:(1.04, 120:(1.0)", "never closed", 3),
        ("0:(1), 5 (2)", "missing ':'", 8),
        ("0:(t^0.5)", "write powers as **", 3),  # ^ is numexpr's exclusive or, of whole numbers only
        ("0:(1), max_f+:(2)", "key of keyframe max_f+", 14),
        ("0:(1), 5:()", "unexpected ')'", 11),
        ("0:(sin)", "needs its arguments in parentheses", 4),
        ("0:(where(t, 1))", "takes 3 argument(s), got 2", 4),
        ("0:(t), t:(1)", "Valid names here: max_f, s, pi, e", 8),
    ],
)
def test_error_positions(spec, fragment, column):
    with pytest.raises(ScheduleError) as info:
        parse_schedule(spec, frames=10, name="dream.strength")
    message = str(info.value)
    assert message.startswith("dream.strength: ") and fragment in message
    assert f"column {column}:" in message
    caret = message.splitlines()[2]
    assert caret.index("^") - 2 == column - 1


def test_unknown_function_lists_valid_ones():
    with pytest.raises(ScheduleError) as info:
        parse_schedule("0:(sinn(t))", frames=3)
    message = str(info.value)
    assert "unknown function 'sinn'" in message and "Did you mean sin" in message
    assert "Valid functions: abs, arccos" in message and "where" in message


def test_unknown_variable_lists_valid_ones():
    with pytest.raises(ScheduleError, match="unknown name 'frame'.*Valid names here: t, max_f, s, pi, e"):
        parse_schedule("0:(frame)", frames=3)


@pytest.mark.parametrize(
    ("spec", "frame"), [("0:(1/(t-5))", 5), ("0:(log(t))", 0), ("0:(1), 3:(sqrt(4-t))", 5), ("0:(1e999)", 0)]
)
def test_non_finite_is_an_error_naming_the_frame(spec, frame):
    with pytest.raises(ScheduleError) as info:
        parse_schedule(spec, frames=8, name="motion.zoom")
    assert "non-finite value in keyframe" in str(info.value) and f"at frame {frame}." in str(info.value)


def test_non_finite_after_the_last_frame_or_in_an_unused_branch_is_fine():
    assert values("0:(1/(t-5))", 5)[0] == pytest.approx(-0.2)
    assert values("0:(where(t == 5, 0, 1/(t-5)))", 7)[4:].tolist() == [-1.0, 0.0, 1.0]


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"spec": "", "frames": 3}, "empty"),
        ({"spec": None, "frames": 3}, "expected a number"),
        ({"spec": True, "frames": 3}, "expected a number"),
        ({"spec": [1, 2], "frames": 3}, "expected a number"),
        ({"spec": float("nan"), "frames": 3}, "finite"),
        ({"spec": {0: None}, "frames": 3}, "expected a number or an expression"),
        ({"spec": "50:(1)", "frames": 3}, "outside frames 0..2"),
        ({"spec": "0:(1)", "frames": 0}, "frames must be"),
        ({"spec": "0:(1)", "frames": 3, "interpolation": "quadratic"}, "Valid interpolations: linear, cubic, step"),
    ],
)
def test_bad_arguments(kwargs, fragment):
    with pytest.raises(ScheduleError) as info:
        parse_schedule(**kwargs)
    assert fragment in str(info.value)


def test_mapping_value_error_shows_the_value_string():
    with pytest.raises(ScheduleError) as info:
        parse_schedule({0: 1, 10: "1 +* 2"}, frames=20, name="motion.angle")
    lines = str(info.value).splitlines()
    assert "keyframe 10 at column 4" in lines[0] and lines[1] == "  1 +* 2" and lines[2] == "     ^"


# ----------------------------------------------------------- extra variables


def test_extra_variables_are_read_per_frame_beside_t():
    from render.schedule import ScheduleVariables

    beat = np.array([0.0, 1.0, 0.0, 0.5, 0.0])
    variables = ScheduleVariables(values={"beat": beat})
    assert values("0:(1.0 + 0.04*beat), 3:(t + beat)", 5, variables=variables) == pytest.approx(
        [1.0, 1.04, 1.0, 3.5, 4.0]
    )
    with pytest.raises(ScheduleError, match="unknown name 'beat'"):
        parse_schedule("0:(beat)", frames=5)
    with pytest.raises(ScheduleError, match="'beat' has 5 frames, the schedule needs 6"):
        parse_schedule("0:(beat)", frames=6, variables=variables)
    with pytest.raises(ScheduleError, match="unknown name 'beat'"):  # not in keys: a key is one frame number
        parse_schedule("beat:(1)", frames=5, variables=variables)


def test_missing_variables_fail_with_their_own_sentence():
    from render.schedule import ScheduleVariables

    missing = ScheduleVariables(missing={"loud": "needs audio=song.mp3"})
    with pytest.raises(ScheduleError, match="dream.step_size: .* column 8: 'loud' needs audio=song.mp3"):
        parse_schedule("0:(1.0+loud)", frames=3, name="dream.step_size", variables=missing)


def test_unused_lazy_variables_are_never_read():
    from collections.abc import Mapping

    from render.schedule import ScheduleVariables

    class Untouchable(Mapping):
        def __getitem__(self, name):
            raise AssertionError("read")

        def __iter__(self):
            return iter(["beat"])

        def __len__(self):
            return 1

    assert values("0:(t)", 3, variables=ScheduleVariables(values=Untouchable())).tolist() == [0, 1, 2]


# ------------------------------------------------------------ Deforum parity
#
# ``deforum_values`` re-states Deforum's FrameInterpolater (sd-webui-deforum, animation_key_frames.py):
# the string is split on ',' and each piece on ':'; a key is an int, or numexpr of max_f and s; a value
# is a number keyframe when, stripped of quotes and parentheses, it matches Deforum's check_is_number
# regex, and is then interpolated linearly (ends held); any other value goes to numexpr.evaluate on
# every frame from its key to the next key, with t = frame, max_f = frames - 1, s = seed.
#
# Forms that evaluate there and that this parser rejected or valued differently before:
# - rejected: '//', '&', '|', '^' (exclusive or, not power), '~', '<<', '>>'; arcsinh, arccosh, arctanh,
#   expm1, log1p, log2, round, trunc, sign; max(x) / min(x) of one argument; numbers quoted inside
#   their parentheses, 0:('1.04');
# - valued differently: '1e-3', '1.' and '( 1.04 )' (spaces inside) were interpolation anchors, but
#   Deforum's regex does not call them numbers, so numexpr evaluates them and the value is held to the
#   next key.

DEFORUM_NUMBER = r"^(?=.)([+-]?([0-9]*)(\.([0-9]+))?)$"


def deforum_values(string: str, frames: int, seed: int = 0) -> np.ndarray:
    import re

    numexpr = pytest.importorskip("numexpr")

    def sanitize(value):
        return value.replace("'", "").replace('"', "").replace("(", "").replace(")", "")

    constants = {"max_f": frames - 1, "s": seed}
    keys = {}
    for piece in string.split(","):
        key, value = piece.split(":")[:2]
        if re.match(DEFORUM_NUMBER, sanitize(key.strip())):
            frame = int(sanitize(key))
        else:
            frame = int(numexpr.evaluate(key.strip().strip("'\""), local_dict=constants))
        keys[frame] = value.strip()
    series, is_number = np.full(frames, np.nan), False
    for i in range(frames):
        if i in keys:
            value = keys[i]
            is_number = re.match(DEFORUM_NUMBER, sanitize(value)) is not None
            if is_number:
                series[i] = float(sanitize(value))
        if not is_number:
            series[i] = float(numexpr.evaluate(value, local_dict={**constants, "t": i}))
    known = np.flatnonzero(~np.isnan(series))
    return np.interp(np.arange(frames), known, series[known])


DEFORUM_STRINGS = [
    "0:(1.04), 120:(1.0)",
    "0: (1.0025+0.002*sin(1.25*3.14*t/30))",
    "0:(t%15)",
    "10:(2), 0:(1), 0:(0)",
    "0:(-1), 10:(+1), 20:(.5), 30:(-.25)",
    "0:(0), 30:(10), 60:(t/6)",
    "0:(1), max_f/2:(5), max_f:(0)",
    "0:(s/10), 'max_f-20':(s*2)",
    '"0:(1), 40:(2)"',
    "0:('1.04'), 40:((2))",
    "0:(1e-3), 20:(1), 40:(1E1)",
    "0:( 1.04 ), 20:(1.0)",
    "0:(1.), 20:(2)",
    "0:(t//7 + t%4)",
    "0:((t>10)&(t<20)), 40:((t<45)|(t>60))",
    "0:(~(t>10)), 30:(~t), 50:(t^3)",
    "0:(t<<1), 40:(t>>2)",
    "0:(arcsinh(t/10)+log1p(t)+expm1(t/50)+log2(t+1))",
    "0:(round(t/4)+trunc(-t/3)+sign(t-10)+arctanh(t/100)+arccosh(t+1))",
    "0:(max(t/2)), 30:(min(t)), 60:(abs(sin(t))**0.5)",  # numexpr's one-argument reductions must come last
    "0:(-2**2 + 2**3**2 - -t), 10:(1/(1+t))",
    "0:(exp(-t/20)*cos(t)+tan(t/100)+log(t+1)+log10(t+1)+sqrt(t)+floor(t/3)+ceil(t/3))",
]


@pytest.mark.parametrize("string", DEFORUM_STRINGS)
def test_every_string_deforum_evaluates_gives_its_values(string):
    frames, seed = 80, 7
    assert values(string, frames, seed=seed) == pytest.approx(deforum_values(string, frames, seed), rel=1e-12)


def test_bitwise_operators_refuse_fractions_and_point_at_the_value():
    with pytest.raises(ScheduleError, match=r"whole numbers .* write powers as \*\*"):
        parse_schedule("0:(t ^ 0.5)", frames=3)
    with pytest.raises(ScheduleError, match="whole numbers"):
        parse_schedule("0:(~(t/2))", frames=3)


def test_a_schedule_context_parses_every_schedule_alike():
    context = ScheduleContext(5, seed=7, interpolation="step", variables=ScheduleVariables({"loud": np.arange(5.0)}))
    assert context.parse("0:(1), 4:(2)", "motion.zoom").values() == [1, 1, 1, 1, 2]
    assert context.parse("0:(1), 4:(2)", "x", interpolation="linear").at(2) == pytest.approx(1.5)
    assert context.parse("0:(s + loud)", "dream.step_size").values() == [7, 8, 9, 10, 11]
    with pytest.raises(ScheduleError, match="dream.iterations"):
        context.parse("0:(", "dream.iterations")


# ---------------------------------------------------------------- endless schedules (frames=None)


def test_endless_schedules_hold_the_last_number_past_every_keyframe():
    schedule = parse_schedule("0:(1.04), 120:(1.0)", frames=None)
    assert schedule.at(60) == pytest.approx(1.02)
    assert schedule.at(120) == schedule.at(10**9) == 1.0


def test_endless_schedules_keep_evaluating_the_last_expression():
    schedule = parse_schedule("0:(1.0), 10:(1.0+0.01*sin(t/30))", frames=None)
    assert schedule.at(10) == pytest.approx(1.0 + 0.01 * math.sin(10 / 30))
    assert schedule.at(1_000_000) == pytest.approx(1.0 + 0.01 * math.sin(1_000_000 / 30))


def test_endless_schedules_match_finite_ones_inside_the_keys():
    spec = "0:(1.0), 24:(1.05), 48:(0.99)"
    finite, endless = parse_schedule(spec, frames=100), parse_schedule(spec, frames=None)
    assert [endless.at(i) for i in range(100)] == pytest.approx(finite.values())


def test_max_f_in_an_endless_schedule_says_why_it_has_no_value():
    with pytest.raises(ScheduleError, match=r"max_f.*endless render \(frames=null\)"):
        parse_schedule("0:(t/max_f)", frames=None)
    with pytest.raises(ScheduleError, match="frames=N"):
        parse_schedule("0:(1), max_f:(2)", frames=None)


def test_looping_variables_wrap_around_the_track():
    loud = np.array([0.0, 1.0, 2.0])
    variables = ScheduleVariables({"loud": loud}, loop=True)
    schedule = parse_schedule("0:(loud)", frames=None, variables=variables)
    assert [schedule.at(i) for i in (0, 1, 2, 3, 301)] == [0.0, 1.0, 2.0, 0.0, 1.0]


# ------------------------------------------------------------------ time keys, oscillators, variable sources


@dataclass(frozen=True)
class SteadyGrid:
    """A beat grid of the BeatGrid protocol: ``bpm`` from ``offset`` seconds."""

    bpm: float = 120.0
    offset: float = 0.5
    meter: int = 4

    def seconds_of_beat(self, beats: float) -> float:
        return self.offset + beats * 60.0 / self.bpm


def timed(spec, frames=200, fps=10.0, grid=SteadyGrid(), **kwargs):
    return values(spec, frames, time=TimeBase(fps, grid), **kwargs)


def test_bar_beat_and_seconds_keys_land_on_the_nearest_frame_and_mix_with_frame_keys():
    # 120 bpm from 0.5 s at 10 fps: bar 1 beat 1 is frame 5, a beat 5 frames, a bar 20
    table = timed("0:(0), 1:1:(1), 2:1:(2), 2:2.5:(3), 12.5s:(4), 150:(5)")
    assert table[[0, 5, 25, 33, 125, 150]].tolist() == [0, 1, 2, 3, 4, 5]  # 2:2.5 is 3.25 s, frame 32.5: halves go up
    assert table[15] == 1.5


def test_time_keys_in_a_mapping_and_through_the_context():
    context = ScheduleContext(100, time=TimeBase(24.0, SteadyGrid(bpm=90, offset=0.0, meter=3)))
    assert context.parse({"1:1": 1, "2:1": 2, "1s": 5}, "x").table[[0, 24, 48]].tolist() == [1, 5, 2]
    assert [context.key_frame(key, "x") for key in ("2:1", "1.5s", 7, "7", " 2 : 2 ")] == [48, 36, 7, 7, 64]


def test_a_loops_head_shifts_timed_keys_onto_the_frame_shown_at_that_time():
    assert ScheduleContext(50, time=TimeBase(10.0, shift=4)).key_frame("1s", "x") == 14


@pytest.mark.parametrize(
    ("spec", "detail", "column"),
    [
        ("0:(1), 2:5:(2)", "beat 5 is past the meter: a bar has 4 beats", 10),
        ("0:(1), 0:1:(2)", "bar 0 does not exist: bars and beats count from 1", 8),
        ("0:(1), 3:0:(2)", "beat 0 does not exist", 10),
        ("0:(1), 1.5:1:(2)", "bar 1.5 is not a whole number", 8),
        ("0:(1), x:1:(2)", "a bar:beat key is two numbers", 8),
    ],
)
def test_bad_bar_beat_keys_are_errors_with_a_caret(spec, detail, column):
    with pytest.raises(ScheduleError) as error:
        timed(spec, name="motion.zoom")
    message = str(error.value)
    assert message.startswith("motion.zoom: bad key in keyframe ") and detail in message
    assert message.splitlines()[2].index("^") - 2 == column - 1


def test_bar_beat_keys_without_a_tempo_and_seconds_without_a_frame_rate_say_what_to_give():
    with pytest.raises(ScheduleError, match=r"bar:beat key needs a tempo: give tempo.bpm=N .*tempo.bpm=auto"):
        values("0:(1), 5:1:(2)", 100, time=TimeBase(30.0))
    with pytest.raises(ScheduleError, match="a key in seconds needs the frame rate"):
        values("0:(1), 2s:(2)", 100)
    with pytest.raises(ScheduleError, match="frame rate of keys in seconds must be greater than 0"):
        values("0:(1)", 100, time=TimeBase(0.0))


def test_a_value_after_a_frame_key_with_one_colon_is_still_the_value():
    assert values("0:1, 5:2", 6).tolist() == [1.0, 1.2, 1.4, 1.6, 1.8, 2.0]  # "5:2" is frame 5, value 2


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("saw(t/4)", [0, 0.25, 0.5, 0.75, 0, 0.25, 0.5, 0.75]),
        ("tri(t/4)", [1, 0.5, 0, 0.5, 1, 0.5, 0, 0.5]),
        ("pulse(t/4)", [1, 1, 0, 0, 1, 1, 0, 0]),
        ("pulse(t/4, 0.25)", [1, 0, 0, 0, 1, 0, 0, 0]),
        ("osc(t/4)", [1, 0.5, 0, 0.5, 1, 0.5, 0, 0.5]),
        ("hit(t/4, 0.5)", [1, 0.25, 0, 0, 1, 0.25, 0, 0]),
    ],
)
def test_oscillators_have_period_1_and_peak_on_the_whole_number(expression, expected):
    np.testing.assert_allclose(values(f"0:({expression})", 8), expected, atol=1e-12)


def test_oscillators_read_a_count_a_float_error_below_the_beat_as_on_it():
    assert values("0:(pulse(t*0.1*3 - 0.3*t + 3 - 1e-12, 0.1))", 2).tolist() == [1.0, 1.0]


def test_a_zoom_that_pulses_on_every_beat_is_one_short_expression():
    beat = ScheduleVariables(values={"beat": lambda frames: frames / 5.0})
    table = values("0:(1.0 + 0.03*pulse(beat, 0.1))", 20, variables=beat)
    assert np.flatnonzero(table > 1.0).tolist() == [0, 5, 10, 15]


def test_function_variables_go_on_past_any_table_of_an_endless_schedule():
    count = ScheduleVariables(values={"beat": lambda frames: frames / 2.0})
    schedule = parse_schedule("0:(beat)", frames=None, variables=count)
    assert schedule.at(10**6) == 5 * 10**5


def test_merged_variables_take_a_later_sources_name_keep_loops_and_join_the_reasons_a_name_is_missing():
    audio = ScheduleVariables(values={"beat": np.array([0.0, 1.0]), "loud": np.array([0.5, 0.2])},
                              missing={"bar": "needs audio"}, loop=True)
    grid = ScheduleVariables(values={"beat": lambda frames: frames + 100.0}, missing={"bar": "needs a tempo"})
    merged = merge_variables(audio, grid)
    frames = np.array([0, 1, 2, 3])
    assert merged.at("beat", frames, "x").tolist() == [100, 101, 102, 103]
    assert merged.at("loud", frames, "x").tolist() == [0.5, 0.2, 0.5, 0.2]  # the audio still loops
    assert merged.missing == {"bar": "needs audio; or it needs a tempo"}
    assert merge_variables(grid, ScheduleVariables(values={"bar": [1.0]})).missing == {}


def test_merging_reads_no_value_until_a_schedule_uses_it():
    class Untouchable(dict):
        def __getitem__(self, name):
            raise AssertionError("read")

    merged = merge_variables(ScheduleVariables(values=Untouchable(loud=None)), ScheduleVariables(missing={"x": "?"}),
                             ScheduleVariables(missing={"loud": "needs audio"}))
    assert list(merged.values) == ["loud"] and "loud" in merged.values and merged.missing == {"x": "?"}
    assert values("0:(t)", 3, variables=merged).tolist() == [0, 1, 2]
