"""Settings that fit the schema but make no sense for this render: refused, or honoured and said, before frame 0.

``validate`` (render/config.py) checks each key on its own; these checks need the render's
frame count or its input file.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PIL import Image, UnidentifiedImageError

from dream.errors import UserError
from render.config import RenderConfig
from render.media.video_source import VideoInfo, announced_frames

if TYPE_CHECKING:
    from render.plan import RenderPlan

TRUNCATED_SHARE = 0.9  # a file decoding fewer of the frames its header announces was cut short


def check_render(plan: RenderPlan, warn: Callable[[str], None]) -> None:
    """Refuse what can't render sensibly (``UserError``); ``warn`` about what is honoured differently than asked.

    The animated keys' ranges are the timeline's (render/timeline.py), checked as it parses them.

    Args:
        plan: the render's frames (a loop's tail and a video's own length included; None: endless) and its
            source video as probed.
    """
    cfg = plan.cfg
    if cfg.dream.first_frame_iterations is not None and cfg.dream.first_frame_iterations < 0:
        raise UserError(f"Config key 'dream.first_frame_iterations' is {cfg.dream.first_frame_iterations}, but must "
                        "be 0 or more (or null: frame 0 takes dream.iterations).")
    if plan.source is not None:  # a video dream's input, probed already
        check_video_input(cfg.input)
        note = truncation_note(cfg.input, cfg.frames, plan.frames, plan.source)
        if note:
            warn(note)
    note = loop_note(cfg)
    if note:
        warn(note)


def check_video_input(path: str) -> None:
    """A still image given to a video dream would make a one-frame clip: refused, naming the presets for stills."""
    try:
        with Image.open(path) as image:
            frames = getattr(image, "n_frames", 1)
    except (UnidentifiedImageError, OSError):
        return  # not an image: the video source reports its own problems
    if frames == 1:
        raise UserError(
            f"input={path} is a still image, but video_dream dreams over a video (it would make a one-frame "
            f"clip). Dream the photo with make render conf=dream_image ARGS=\"input={path}\", or fly into it with "
            f"make render conf=zoom_places ARGS=\"input={path}\"."
        )


def truncation_note(path: str, asked: int | None, frames: int, source: VideoInfo | None = None) -> str | None:
    """A warning when the source video at ``path`` decodes to fewer frames than its header announces (a cut-off
    download).

    Args:
        asked: ``frames``, the most frames the render dreams (None: all of the source's).
        frames: the frames the source decodes to.
        source: the source as the render probed it (read again from ``path`` when None).
    """
    announced = source.announced_frames if source is not None else announced_frames(path)
    wanted = min(announced, asked) if announced and asked else announced
    if not wanted or frames >= TRUNCATED_SHARE * wanted:
        return None
    return (f"The source {path} decodes to {frames} frames, but its header announces {announced}: the file "
            f"looks truncated, so the video will have {frames} frames. Re-export or re-download it to dream all of it.")


def loop_note(cfg: RenderConfig) -> str | None:
    """The loop's crossfade is at most half the frames: say so when ``loop_frames`` asks for more.

    Only zooms loop (``Mode.check`` refused ``loop=true`` elsewhere).
    """
    if not cfg.loop or cfg.loop_frames <= cfg.frames // 2:
        return None
    return (f"loop_frames={cfg.loop_frames} is more than half of frames={cfg.frames}, so the loop crossfades "
            f"{cfg.frames // 2} frames. Give frames={2 * cfg.loop_frames} or more for a {cfg.loop_frames}-frame "
            f"crossfade.")
