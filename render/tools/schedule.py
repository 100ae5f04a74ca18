"""``python -m render.schedule SPEC --frames N``: print a schedule's value per frame, and plot it.

With ``--audio song.mp3`` the track's features (loud, beat, low, mid, high) become
variables at ``--fps`` and the plot draws the schedule over the audio's envelope, so a
schedule can be tuned before a long render. With ``--bpm N`` (or ``--bpm auto`` with
``--audio``) keys may be bar:beat, the variables bar beat beat_phase bar_phase are the beat
grid's, and the plot draws the grid under the curve: bars as strong lines, beats faint.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from dream.errors import UserError
from render.config import TempoConfig, validate_tempo
from render.media.audio import AudioTrack, decode_audio
from render.ops.audio_features import audio_features, fit_to_frames, frame_count
from render.ops.tempo import grid_lines, tempo_grid, tempo_variables
from render.schedule import (
    INTERPOLATIONS,
    Schedule,
    ScheduleContext,
    ScheduleError,
    ScheduleVariables,
    TimeBase,
    merge_variables,
)
from render.soundtrack import ALIASES, AUDIO_NAMES

NO_TEMPO_HERE = "pass --bpm N (beats per minute), or --bpm auto with --audio song.mp3 to find it"


def write_plot(schedule: Schedule, path: str | Path, *, size: tuple[int, int] = (640, 240),
               backdrop: Mapping[str, np.ndarray] | None = None,
               grid: tuple[np.ndarray, np.ndarray] | None = None) -> None:
    """Write a PNG line plot of the schedule with its name, value range and frame range.

    Args:
        schedule: the schedule to draw.
        path: the PNG to write.
        size: (width, height) in pixels.
        backdrop: 0..1 per-frame curves drawn filled behind the schedule on their own scale, e.g.
            ``{"loud": (frames,), "beat": (frames,)}`` (the audio's envelope), at most two.
        grid: ``(bars, beats)``: fractional frames of the downbeats (strong lines) and the other beats (faint),
            drawn over the backdrop and under the schedule's curve.
    """
    from PIL import Image, ImageDraw

    width, height = size
    left, right, top, bottom = 64, width - 12, 18, height - 20
    values = schedule.table if schedule.frames > 1 else np.repeat(schedule.table, 2)
    xs = left + np.linspace(0.0, 1.0, len(values)) * (right - left)
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    _draw_backdrop(draw, backdrop or {}, xs, top, bottom, schedule.frames > 1)
    if grid is not None:  # over the audio's envelope, under the curve
        _draw_grid(draw, grid, max(schedule.frames - 1, 1), (left, right), (top, bottom))
    low, high = float(values.min()), float(values.max())
    pad = 0.0 if high > low else max(abs(low), 1.0) * 0.1
    ys = bottom - (values - (low - pad)) / (high - low + 2 * pad) * (bottom - top)
    draw.rectangle((left, top, right, bottom), outline=(190, 190, 190))
    draw.line(list(zip(xs.tolist(), ys.tolist(), strict=True)), fill=(20, 70, 200), width=2)
    draw.text((left, 3), schedule.name, fill="black")
    draw.text((4, top - 4), f"{high:.6g}", fill="black")
    draw.text((4, bottom - 8), f"{low:.6g}", fill="black")
    draw.text((left, bottom + 4), "0", fill="black")
    draw.text((right - 40, bottom + 4), f"{schedule.frames - 1}", fill="black")
    image.save(Path(path), format="PNG")


_BACKDROP_COLORS = ((205, 205, 205), (250, 180, 170))  # grey, then light red


def _draw_backdrop(draw, curves: Mapping[str, np.ndarray], xs: np.ndarray, top: float, bottom: float,
                   several_frames: bool) -> None:
    """Fill each 0..1 curve ``(frames,)`` from the bottom of the plot, and name it in the top-right corner."""
    for index, ((label, curve), color) in enumerate(zip(curves.items(), _BACKDROP_COLORS, strict=False)):
        curve = np.clip(np.asarray(curve, dtype=np.float64), 0.0, 1.0)
        curve = curve if several_frames else np.repeat(curve, 2)
        ys = bottom - curve[: len(xs)] * (bottom - top)
        outline = list(zip(xs.tolist(), ys.tolist(), strict=True))
        draw.polygon([(xs[0], bottom), *outline, (xs[-1], bottom)], fill=color)
        draw.text((xs[-1] - 120 + 60 * index, 3), label, fill=tuple(c - 90 for c in color))


_GRID_COLORS = ((120, 120, 120), (222, 222, 222))  # bars, beats


def _draw_grid(draw, grid: tuple[np.ndarray, np.ndarray], last_frame: int, xrange: tuple[float, float],
               yrange: tuple[float, float]) -> None:
    """Vertical lines at the grid's fractional frames ``(bars (K,), beats (M,))``: beats faint, then bars strong."""
    (left, right), (top, bottom) = xrange, yrange
    for positions, color in zip(reversed(grid), reversed(_GRID_COLORS), strict=True):
        for frame in np.asarray(positions).tolist():
            x = left + frame / last_frame * (right - left)
            draw.line([(x, top), (x, bottom)], fill=color, width=1)


def _argument_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m render.schedule",
        description="Print a keyframe schedule, one 'frame<TAB>value' line per frame.",
    )
    parser.add_argument("spec", help='keyframe string, e.g. "0:(1.04), 120:(1.0)", or a number')
    parser.add_argument("--frames", type=int, help="number of frames (default with --audio: the track's length)")
    parser.add_argument("--seed", type=int, default=0, help="the seed, 's' in expressions")
    parser.add_argument("--interpolation", choices=INTERPOLATIONS, default="linear")
    parser.add_argument("--name", default="schedule", help="name shown in messages and on the plot")
    parser.add_argument("--plot", type=Path, help="also write a PNG plot to this path (over the audio's envelope)")
    parser.add_argument("--fps", type=float, default=30.0, help="frames per second the audio is analysed at")
    parser.add_argument("--audio", help="a soundtrack: its features loud beat low mid high become variables")
    parser.add_argument("--audio-smoothing", type=float, default=0.1, help="seconds features fall off after a peak")
    parser.add_argument("--bpm", help="a tempo in beats per minute, or auto (found in --audio): bar:beat keys, "
                                      "the variables bar beat beat_phase bar_phase, and the grid on the plot")
    parser.add_argument("--offset", help="seconds to the first downbeat (bar 1 beat 1), or auto "
                                         "(default: auto with --bpm auto, else 0)")
    parser.add_argument("--meter", type=int, default=4, help="beats per bar (default 4)")
    parser.add_argument("--changes", help="tempo changes BAR=BPM,..., e.g. 17=140,33=120")
    return parser


def _audio_variables(args: argparse.Namespace,
                     track: AudioTrack | None) -> tuple[int, ScheduleVariables, dict[str, np.ndarray]]:
    """(frames, the audio features as variables, the envelope to plot) from ``--audio``/``--frames``/``--fps``.

    The schedule language itself knows nothing of audio: the tool hands it the features as variables.
    """
    if track is None:
        if args.frames is None:
            raise ScheduleError("--frames N is needed (or --audio song.mp3, whose length then sets it).")
        missing = "is an audio feature: pass --audio song.mp3 to use it"
        return args.frames, ScheduleVariables(missing=dict.fromkeys(AUDIO_NAMES, missing)), {}
    if not args.audio_smoothing >= 0:
        raise ScheduleError("--audio-smoothing must be 0 or more.")
    features = audio_features(track.samples, track.sample_rate, args.fps, args.audio_smoothing)
    frames = args.frames or frame_count(track.duration, args.fps)
    fitted = fit_to_frames(features, frames)
    fitted.update({alias: fitted[name] for alias, name in ALIASES.items()})
    return frames, ScheduleVariables(values=fitted), {"loudness": fitted["loud"], "beat": fitted["beat"]}


def _tempo_config(args: argparse.Namespace) -> TempoConfig:
    """``--bpm --offset --meter --changes`` as the config section they stand for, checked."""
    def number_or_auto(flag: str, text: str | None) -> float | str | None:
        if text is None or text == "auto":
            return text
        try:
            return float(text)
        except ValueError:
            raise ScheduleError(f"{flag} is '{text}', but must be a number or auto.") from None

    try:
        changes = {int(bar): float(bpm) for bar, bpm in (item.split("=") for item in (args.changes or "").split(",")
                                                             if item.strip())}
    except ValueError:
        raise ScheduleError(f"--changes is '{args.changes}', but must be BAR=BPM pairs, e.g. 17=140,33=120.") from None
    tempo = TempoConfig(number_or_auto("--bpm", args.bpm), number_or_auto("--offset", args.offset), args.meter,
                        changes or None)
    validate_tempo(tempo, has_sound=bool(args.audio))
    return tempo


def _tempo_parts(args: argparse.Namespace, track: AudioTrack | None,
                 frames: int) -> tuple[ScheduleVariables, TimeBase, tuple[np.ndarray, np.ndarray] | None]:
    """(the grid's variables, the time base of keys, the grid lines to plot) from ``--bpm`` and its flags."""
    grid = tempo_grid(_tempo_config(args), track, fix="--bpm N and --offset SECONDS")
    variables = tempo_variables(grid, args.fps, frames, no_tempo=f"is a tempo variable: {NO_TEMPO_HERE}")
    lines = grid_lines(grid, frames, args.fps) if grid is not None else None
    return variables, TimeBase(args.fps, grid, no_grid=NO_TEMPO_HERE), lines


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (2 for a bad schedule, audio file or plot path)."""
    args = _argument_parser().parse_args(argv)
    try:
        if not args.fps > 0:
            raise ScheduleError("--fps must be greater than 0.")
        track = decode_audio(args.audio) if args.audio else None
        frames, audio, envelope = _audio_variables(args, track)
        tempo, time, grid = _tempo_parts(args, track, frames)
        context = ScheduleContext(frames, args.seed, args.interpolation, merge_variables(audio, tempo), time)
        schedule = context.parse(args.spec, args.name)
        if args.plot is not None:
            write_plot(schedule, args.plot, backdrop=envelope, grid=grid)
    except UserError as error:
        print(error, file=sys.stderr)
        return 2
    except OSError as error:
        print(f"{args.name}: cannot write the plot: {error}. Choose a writable path.", file=sys.stderr)
        return 2
    sys.stdout.write("".join(f"{frame}\t{value:.10g}\n" for frame, value in enumerate(schedule.values())))
    return 0

