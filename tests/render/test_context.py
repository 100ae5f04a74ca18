"""The per-render context: frames, source and the schedule context that every schedule is parsed through."""

from render.context import RenderContext


def test_a_context_of_frames_has_no_source_and_schedules_over_those_frames():
    context = RenderContext.of_frames(6, seed=3, interpolation="cubic")
    assert context.source is None and context.frames == context.schedules.frames == 6
    assert (context.schedules.seed, context.schedules.interpolation) == (3, "cubic")
    assert len(context.schedules.parse("0:(1), 5:(2)", "motion.zoom").values()) == 6
