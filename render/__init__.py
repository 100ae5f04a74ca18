"""The frame loop: schedules, warps, sources, sinks, run folder and CLI."""
