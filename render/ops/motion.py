"""The camera move of every frame, from the ``motion`` config section's schedules."""

from __future__ import annotations

from dataclasses import dataclass

from render.config import MotionConfig
from render.ops.warp import Motion
from render.schedule import Schedule, ScheduleContext

MOTION_KEYS = ("zoom", "angle", "translation_x", "translation_y", "center_x", "center_y")


@dataclass(frozen=True)
class MotionSchedules:
    """Frame index -> Motion.

    ``rate`` rescales per-frame moves written for another frame rate: zoom is a
    factor per frame, so it rescales as a power (``1.04 ** (30 / fps)``, not
    ``1.04 * (30 / fps)``); angle and translation rescale linearly.
    """

    schedules: dict[str, Schedule]
    rate: float = 1.0

    def at(self, frame: int) -> Motion:
        values = {key: schedule.at(frame) for key, schedule in self.schedules.items()}
        values["zoom"] = values["zoom"] ** self.rate
        for key in ("angle", "translation_x", "translation_y"):
            values[key] *= self.rate
        return Motion(
            zoom=values["zoom"],
            angle=values["angle"],
            translation=(values["translation_x"], values["translation_y"]),
            center=(values["center_x"], values["center_y"]),
        )


def motion_schedules(motion_cfg: MotionConfig, context: ScheduleContext, fps: float) -> MotionSchedules:
    """The ``motion`` section's schedules, parsed through the render's schedule ``context``."""
    schedules = {key: context.parse(getattr(motion_cfg, key), f"motion.{key}") for key in MOTION_KEYS}
    rate = motion_cfg.rate_fps / fps if motion_cfg.rate_fps else 1.0
    return MotionSchedules(schedules, rate)
