"""What the schedules hear: ``audio=`` (or a video's own sound) as the variables loud, beat, low, mid, high.

``onset`` is ``beat`` under another name: with a tempo grid (``tempo.bpm``) ``beat`` is the grid's beat
count, and the onset strength is read as ``onset``.

The track is decoded before anything renders, so bad audio is a clear error at once;
its features are computed on the first read, once, and stored in the run folder,
where a resumed render reads them back.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import numpy as np

from dream.errors import UserError
from render.config import RenderConfig
from render.media.audio import AudioTrack, decode_audio, existing_audio
from render.media.video_source import VideoInfo
from render.ops.audio_features import FEATURE_NAMES, audio_features, fit_to_frames, load_features, save_features
from render.schedule import ScheduleVariables

ALIASES = {"onset": "beat"}  # another name of a feature, free when a tempo grid takes "beat"
AUDIO_NAMES = (*FEATURE_NAMES, *ALIASES)
AUDIO_MISSING = (
    "is an audio feature, and this render has no audio: pass audio=song.mp3 (any file ffmpeg reads) so that "
    "schedules can follow the music"
)


def open_soundtrack(cfg: RenderConfig, resume: bool) -> AudioTrack | None:
    """Decode ``audio=`` before anything renders, so that a missing file, a file without sound or an empty
    track is a clear error at once; a resumed render only checks the file is there (its features are stored).

    Returns:
        The decoded track, or None without ``audio=`` or on resume.
    """
    if not cfg.audio:
        return None
    if resume:
        existing_audio(cfg.audio)
        return None
    return decode_audio(cfg.audio)


def audio_variables(cfg: RenderConfig, run_dir: Path, frames: int | None, shift: int,
                    track: AudioTrack | None = None, video: VideoInfo | None = None) -> ScheduleVariables:
    """The audio features as schedule variables over ``frames`` dreamed frames.

    The soundtrack is ``audio=``, or for a video dream the source's own audio. Features are computed on
    the first read (a render whose schedules use no audio never analyses it), once, and stored in the
    run folder, where a resumed render reads them back.

    Args:
        cfg: the render's config.
        run_dir: the run folder.
        frames: dreamed frames the schedules cover; None: endless, the track loops.
        shift: dreamed frame - shown frame (a loop's head length, 0 otherwise).
        track: ``audio=`` already decoded by ``open_soundtrack``, if it was.
        video: the probed input video of a video dream: its audio is the soundtrack without ``audio=``.
    """
    source = cfg.audio or (cfg.input if video is not None else None)
    if source is None:
        return ScheduleVariables(missing=dict.fromkeys(AUDIO_NAMES, AUDIO_MISSING))

    def load() -> dict[str, np.ndarray]:
        fps = video.fps if video is not None else cfg.fps
        features = stored_features(Path(source), Path(run_dir), fps, cfg.audio_smoothing, track,
                                   from_video=not cfg.audio)
        return features if frames is None else fit_to_frames(features, frames, shift)

    return ScheduleVariables(values=_LazyFeatures(load), loop=frames is None)


def stored_features(source: Path, run_dir: Path, fps: float, smoothing: float, track: AudioTrack | None,
                    from_video: bool = False) -> dict[str, np.ndarray]:
    """The run folder's features of ``source`` at ``fps``, computed and stored there the first time."""
    info = {"audio": str(source), "fps": fps, "smoothing": smoothing}
    features = load_features(run_dir, info)
    if features is None:
        try:
            track = track or decode_audio(source)
        except UserError as error:
            if not from_video:
                raise
            raise UserError(f"A schedule reads an audio feature ({', '.join(FEATURE_NAMES)}), but the input "
                            f"video can't give one: {error}") from None
        features = audio_features(track.samples, track.sample_rate, fps, smoothing)
        save_features(run_dir, features, info)
    return features


class _LazyFeatures(Mapping):
    """name (or alias) -> ``(frames,)`` feature; ``load`` runs on the first read of any of them, and only once."""

    def __init__(self, load: Callable[[], dict[str, np.ndarray]]):
        self._load = functools.cache(load)

    def __getitem__(self, name: str) -> np.ndarray:
        return self._load()[ALIASES.get(name, name)]

    def __iter__(self) -> Iterator[str]:
        return iter(AUDIO_NAMES)

    def __len__(self) -> int:
        return len(AUDIO_NAMES)
