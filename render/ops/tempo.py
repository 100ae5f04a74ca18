"""The beat grid: ``tempo.bpm``, ``tempo.offset``, ``tempo.meter`` and ``tempo.changes`` as schedule variables
and as the time base of bar:beat keys.

A ``TempoGrid`` maps seconds to beats: beat 0 is the first downbeat, ``offset`` seconds into the soundtrack
(bar 1 beat 1 as musicians count), and beats follow at ``bpm`` until a change ``{bar: bpm}`` takes over at
that bar's downbeat. The schedules read, in the middle of each frame's span (so that a beat falls on the
frame nearest it, where a key at its time lands too):

- ``beat``: the beat count since the first downbeat (fractional, negative before it);
- ``bar``: the bar count, ``beat / meter``;
- ``beat_phase`` / ``bar_phase``: 0..1 within the beat / the bar (0 on it).

The grid goes on for ever, so an endless render keeps its beat (it does not loop). ``tempo.bpm=auto`` and
``tempo.offset=auto`` read the grid from the soundtrack (``find_tempo``): librosa's beat tracker gives beats
with a quantised tempo; they are snapped to the onsets they sit on and a straight line fitted through
their times, whose slope is the beat period (within 0.1 bpm on a click track) and whose first beat is the
offset. librosa is imported only when a tempo is found.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from dream.errors import UserError
from render.config import TempoConfig
from render.media.audio import AudioTrack, decode_audio
from render.schedule import ScheduleVariables, TimeBase
from render.schedule.expression import cycle_phase, settled
from render.schedule.time_keys import NO_GRID

TEMPO_NAMES = ("beat", "bar", "beat_phase", "bar_phase")
NO_TEMPO = "is a tempo variable, and this render has no tempo: " + NO_GRID


@dataclass(frozen=True)
class TempoGrid:
    """Beats in time: ``bpm`` from ``offset`` seconds (the first downbeat), changing at bars.

    Attributes:
        bpm: beats per minute from bar 1.
        offset: seconds from the start of the soundtrack to bar 1 beat 1.
        meter: beats per bar.
        changes: ``((bar, bpm), ...)``, bars (from 2) ascending: the tempo from that bar's downbeat on.
        found: which of ``bpm`` and ``offset`` were found in the audio (for the record).
    """

    bpm: float
    offset: float = 0.0
    meter: int = 4
    changes: tuple[tuple[int, float], ...] = ()
    found: tuple[str, ...] = field(default=(), compare=False)

    def _segments(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(K,)`` start beats, start seconds and seconds per beat of the constant-tempo stretches."""
        starts = np.array([0.0] + [(bar - 1) * self.meter for bar, _ in self.changes])
        periods = 60.0 / np.array([self.bpm] + [bpm for _, bpm in self.changes])
        seconds = self.offset + np.concatenate([[0.0], np.cumsum(np.diff(starts) * periods[:-1])])
        return starts, seconds, periods

    def seconds_of_beat(self, beats: float | np.ndarray) -> float | np.ndarray:
        """Seconds at ``beats`` beats after the first downbeat (scalar or ``(N,)``)."""
        starts, seconds, periods = self._segments()
        k = np.clip(np.searchsorted(starts, beats, side="right") - 1, 0, None)
        result = seconds[k] + (np.asarray(beats, dtype=np.float64) - starts[k]) * periods[k]
        return float(result) if np.ndim(result) == 0 else result

    def beat_of_seconds(self, times: float | np.ndarray) -> float | np.ndarray:
        """The beat count at ``times`` seconds (scalar or ``(N,)``): 0 at the offset, negative before it."""
        starts, seconds, periods = self._segments()
        k = np.clip(np.searchsorted(seconds, times, side="right") - 1, 0, None)
        result = starts[k] + (np.asarray(times, dtype=np.float64) - seconds[k]) / periods[k]
        return float(result) if np.ndim(result) == 0 else result

    def seconds_of_bar_beat(self, bar: float, beat: float) -> float:
        """Seconds at ``bar``:``beat``, both counted from 1 (1:1 is the offset)."""
        return self.seconds_of_beat((bar - 1) * self.meter + (beat - 1))

    def bar_beat_of_seconds(self, seconds: float) -> tuple[int, float]:
        """``(bar, beat)`` counted from 1 at ``seconds``: the bar is whole, the beat fractional."""
        beats = float(settled(self.beat_of_seconds(seconds)))
        bar = math.floor(beats / self.meter)
        return bar + 1, beats - bar * self.meter + 1

    def record(self) -> dict:
        """What meta.json keeps of the grid."""
        changes = {str(bar): round(bpm, 4) for bar, bpm in self.changes}
        return {"bpm": round(self.bpm, 4), "offset": round(self.offset, 4), "meter": self.meter,
                "changes": changes, "found": list(self.found)}



def frame_middles(frames: np.ndarray, fps: float, shift: int = 0, shown: int | None = None) -> np.ndarray:
    """``(N,)`` seconds at the middle of dreamed frames' spans ``[k/fps, (k+1)/fps)``: a loop's ``shift`` head
    frames show the end of the ``shown`` frames (as its soundtrack does); None: no wrap (an endless render).

    Read at the middle, a count passes a whole number on the frame nearest the time it does so, the frame a
    key at that time lands on: ``hit(beat)`` peaks, and ``beat >= 16`` turns true, where a ``5:1`` key lands.
    """
    frames = np.asarray(frames) - shift
    if shift and shown:
        frames = frames % shown
    return (frames + 0.5) / fps


def tempo_variables(grid: TempoGrid | None, fps: float, frames: int | None = None, shift: int = 0,
                    no_tempo: str = NO_TEMPO) -> ScheduleVariables:
    """``beat``, ``bar``, ``beat_phase`` and ``bar_phase`` as functions of the frame, for any frame however far.

    Args:
        grid: the beat grid; None: the names are missing and say ``no_tempo`` (how to give a tempo).
        fps: the render's frames per second.
        frames: dreamed frames (with a loop's head), None: endless.
        shift: dreamed frame - shown frame (a loop's head).
    """
    if grid is None:
        return ScheduleVariables(missing=dict.fromkeys(TEMPO_NAMES, no_tempo))
    shown = None if frames is None else frames - shift

    def beats(index: np.ndarray) -> np.ndarray:
        return settled(grid.beat_of_seconds(frame_middles(index, fps, shift, shown)))

    functions: dict[str, Callable[[np.ndarray], np.ndarray]] = {
        "beat": beats,
        "bar": lambda index: beats(index) / grid.meter,
        "beat_phase": lambda index: cycle_phase(beats(index)),
        "bar_phase": lambda index: cycle_phase(beats(index) / grid.meter),
    }
    return ScheduleVariables(values=functions)


def grid_lines(grid: TempoGrid, frames: int, fps: float) -> tuple[np.ndarray, np.ndarray]:
    """``(bars, beats)``: the fractional frames of every downbeat and of the other beats in 0..frames-1."""
    first, last = (math.ceil(grid.beat_of_seconds(0.0) - 1e-9), math.floor(grid.beat_of_seconds((frames - 1) / fps)))
    counts = np.arange(first, max(first, last + 1))
    positions = np.asarray(grid.seconds_of_beat(counts.astype(np.float64))) * fps
    downbeat = counts % grid.meter == 0
    return positions[downbeat], positions[~downbeat]


HOP = 64  # 2.9 ms between onset-envelope frames at 22050 Hz: the beat times' resolution
N_FFT = 1024
MIN_BEATS = 4  # fewer beats than this on a steady grid is no tempo
SNAP = 0.25  # a tracked beat takes the onset within this fraction of a beat of it
ON_GRID = 0.1  # an onset within this fraction of a beat of the fitted grid is on a beat (or half-beat)
LEAD_IN = 0.25  # seconds of silence put before the track, so that a beat on its very first sample is an onset


def find_tempo(track: AudioTrack, bpm: float | None = None, fix: str = NO_GRID) -> tuple[float, float]:
    """``(bpm, offset)`` of the steady beat of ``track``; with ``bpm`` given, only the offset is found.

    The offset is the first beat the track plays (taken as bar 1 beat 1).

    Raises:
        UserError: the track is silent or has no steady beat; ``fix`` says how to give the tempo instead.
    """
    import librosa

    rate = track.sample_rate
    samples = np.concatenate([np.zeros(round(LEAD_IN * rate), dtype=np.float32), track.samples])
    envelope = librosa.onset.onset_strength(y=samples, sr=rate, hop_length=HOP, n_fft=N_FFT)
    peaks = librosa.onset.onset_detect(onset_envelope=envelope, sr=rate, hop_length=HOP)
    onsets = librosa.frames_to_time(peaks, sr=rate, hop_length=HOP) - LEAD_IN
    tracked_bpm, beats = librosa.beat.beat_track(onset_envelope=envelope, sr=rate, hop_length=HOP,
                                                 start_bpm=bpm or 120.0, units="time")
    period = 60.0 / (bpm or float(np.atleast_1d(tracked_bpm)[0]) or 120.0)
    snapped = _snapped(np.asarray(beats) - LEAD_IN, onsets, period)
    if len(snapped) < MIN_BEATS:
        raise _no_beat(track, len(onsets), fix)
    start, period = _fit(snapped, _beat_indices(snapped, period), None if bpm is None else period)
    start, period, indices = _refit(onsets, start, period, fixed=bpm is not None)
    return 60.0 / period, start + period * indices.min()


def _snapped(beats: np.ndarray, onsets: np.ndarray, period: float) -> np.ndarray:
    """The onset times ``(M,)`` nearest each tracked beat ``(B,)``, where one lies within ``SNAP`` of a beat."""
    if not len(onsets) or not len(beats):
        return np.zeros(0)
    nearest = np.abs(onsets[None, :] - beats[:, None]).argmin(axis=1)
    close = np.abs(onsets[nearest] - beats) < SNAP * period
    return np.unique(onsets[nearest[close]])


def _beat_indices(times: np.ndarray, period: float) -> np.ndarray:
    """``(M,)`` beat numbers of ascending beat times ``(M,)``: a gap of about k periods is k beats (a missed beat)."""
    steps = np.maximum(1, np.round(np.diff(times) / period))
    return np.concatenate([[0.0], np.cumsum(steps)])


def _fit(times: np.ndarray, indices: np.ndarray, period: float | None) -> tuple[float, float]:
    """``(start, period)`` of the line ``time = start + period * index`` through the beats; ``period`` kept if given."""
    if period is not None:
        return float(np.mean(times - period * indices)), period
    slope, start = np.polyfit(indices, times, 1)
    return float(start), float(slope)


def _refit(onsets: np.ndarray, start: float, period: float, fixed: bool) -> tuple[float, float, np.ndarray]:
    """The line fitted again through every onset that lies on a beat of the grid ``start + period * k``.

    Returns:
        ``(start, period, indices)``: indices ``(M,)`` are the beat numbers of the onsets on the grid.
    """
    position = (onsets - start) / period
    on_beat = np.abs(position - np.round(position)) < ON_GRID
    indices = np.round(position[on_beat])
    start, period = _fit(onsets[on_beat], indices, period if fixed else None)
    return start, period, indices


def _no_beat(track: AudioTrack, onsets: int, fix: str) -> UserError:
    what = "is silent" if onsets == 0 else f"has no steady beat ({onsets} onsets)"
    return UserError(f"No tempo can be found in '{track.path}': the track {what}. Give the tempo instead: {fix}.")


FOUND_FIX = "tempo.bpm=N (beats per minute) and tempo.offset=SECONDS (to the first downbeat)"


@dataclass(frozen=True)
class TempoParts:
    """What a tempo adds to a render's schedules.

    Attributes:
        variables: ``beat bar beat_phase bar_phase`` (missing, with the fix, without a tempo).
        time: the time base of keys in seconds and bar:beat.
        record: ``{"tempo": {...}}`` for meta.json, empty without a tempo.
    """

    variables: ScheduleVariables
    time: TimeBase
    record: Mapping = field(default_factory=dict)

    @property
    def grid(self) -> TempoGrid | None:
        return self.time.grid


def tempo_schedule_parts(tempo: TempoConfig, fps: float, frames: int | None, shift: int = 0,
                         soundtrack: AudioTrack | str | None = None) -> TempoParts:
    """The variables, key time base and meta.json record of the ``tempo`` section.

    Args:
        tempo: the config section.
        fps: the frame rate of the schedules' frames.
        frames: dreamed frames (with a loop's head); None: endless (the grid goes on).
        shift: dreamed frame - shown frame (a loop's head).
        soundtrack: the decoded track or the file that ``auto`` reads (decoded only then).

    Raises:
        UserError: ``auto`` without a soundtrack, or in a track without a steady beat.
    """
    grid = tempo_grid(tempo, soundtrack)
    record = {"tempo": grid.record()} if grid is not None else {}
    return TempoParts(tempo_variables(grid, fps, frames, shift), TimeBase(fps, grid, shift), record)


def tempo_grid(tempo: TempoConfig, soundtrack: AudioTrack | str | None = None,
               fix: str = FOUND_FIX) -> TempoGrid | None:
    """The grid ``tempo`` describes, with ``auto`` values found in ``soundtrack``; None without ``tempo.bpm``."""
    if tempo.bpm is None:
        return None
    found = tuple(key for key, value in (("bpm", tempo.bpm), ("offset", tempo.offset)) if value == "auto")
    if tempo.bpm == "auto" and tempo.offset is None:
        found = ("bpm", "offset")
    bpm, offset = tempo.bpm, tempo.offset or 0.0
    if found:
        if soundtrack is None:
            raise UserError(f"tempo.{found[0]}=auto reads the beat from the soundtrack, and there is none: pass "
                            f"audio=song.mp3, or give {FOUND_FIX}.")
        track = soundtrack if isinstance(soundtrack, AudioTrack) else decode_audio(soundtrack)
        found_bpm, found_offset = find_tempo(track, None if "bpm" in found else float(bpm), fix)
        bpm, offset = (found_bpm if "bpm" in found else bpm), (found_offset if "offset" in found else offset)
    changes = tuple(sorted((int(bar), float(value)) for bar, value in (tempo.changes or {}).items()))
    return TempoGrid(float(bpm), float(offset), int(tempo.meter), changes, found)


def announce_tempo(parts: TempoParts | TimeBase | None, log: Callable[[str], None]) -> dict:
    """Say the tempo found in the audio (nothing when all was given); returns the meta.json record."""
    grid = parts.grid if parts is not None else None
    if not isinstance(grid, TempoGrid):
        return {}
    if grid.found:
        log(f"tempo: {grid.bpm:.2f} bpm, first downbeat at {grid.offset:.3f} s, {grid.meter} beats a bar "
            f"({' and '.join(grid.found)} found in the audio; give tempo.bpm=N tempo.offset=S to change them)")
    return {"tempo": grid.record()}
