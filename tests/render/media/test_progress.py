"""Console progress: the time left follows the measured pace, a departure is said once, warnings are loud."""

import io

from rich.console import Console

from render.media.progress import Pace, duration, frame_progress, warner


def test_warner_prints_a_warning_line():
    out = io.StringIO()
    warner(Console(file=out, width=200))("fallback model in use")
    assert "WARNING" in out.getvalue() and "fallback model in use" in out.getvalue()


def test_frame_progress_counts_frames():
    out = io.StringIO()
    with frame_progress(Console(file=out, width=200)) as progress:
        task = progress.add_task("dreaming", total=3, rate="1.0", left="about 3 s left")
        progress.advance(task, 3)
    assert "3/3" in out.getvalue()


def paced(planned, seconds_per_step: float, steps: int) -> Pace:
    """A pace of ``steps`` steps each taking ``seconds_per_step``, against ``planned``."""
    pace = Pace(planned, len(planned) if planned else 10)
    for done in range(steps + 1):
        pace.step(done, 100.0 + done * seconds_per_step)
    return pace


def test_before_a_step_the_time_left_is_the_estimates_and_then_follows_the_measured_pace():
    pace = Pace([4.0, 2.0, 2.0, 2.0], 4)
    pace.step(0, 50.0)
    assert pace.left() == 10.0 and pace.left_text() == "about 10 s left"
    pace.step(1, 58.0)  # twice the estimated 4 s
    assert pace.left() == 12.0 and pace.seconds_left_in_step(59.0) == 7.0


def test_without_an_estimate_the_measured_pace_alone_counts():
    pace = paced(None, 3.0, 4)
    assert pace.left() == 18.0 and pace.departure() is None


def test_a_machine_that_got_slower_is_said_once():
    pace = paced([1.0] * 40, 2.0, 8)
    news = pace.departure()
    assert news.startswith("The machine got slower: now about 64 s left") and "2.0x" in news
    pace.step(9, 120.0)
    assert pace.departure() is None


def test_a_pace_within_the_margin_or_too_early_to_judge_says_nothing():
    assert paced([1.0] * 40, 1.4, 10).departure() is None
    assert paced([1.0] * 40, 3.0, 2).departure() is None  # two steps: the one-off costs of the start still weigh
    assert paced([1.0] * 40, 0.5, 30).departure().startswith("The machine got faster")


def test_durations_read_as_people_say_them():
    assert [duration(s) for s in (12, 300, 7200)] == ["12 s", "5 min", "2.0 h"]
