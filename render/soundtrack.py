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
from render.media.audio import AudioTrack, decode_audio
from render.media.video_source import VideoInfo
from render.ops.audio_features import FEATURE_NAMES, audio_features, fit_to_frames, load_features, save_features
from render.schedule import ScheduleVariables

ALIASES = {"onset": "beat"}  # another name of a feature, free when a tempo grid takes "beat"
AUDIO_NAMES = (*FEATURE_NAMES, *ALIASES)
AUDIO_MISSING = (
    "is an audio feature, and this render has no audio: pass audio=song.mp3 (any file ffmpeg reads) so that "
    "schedules can follow the music"
)


def open_soundtrack(audio: str | None) -> AudioTrack | None:
    """Decode ``audio=`` (the file ``audio``) once, before anything renders, so that a missing file, a file without
    sound or an empty track is a clear error at once. None without ``audio=``."""
    return decode_audio(audio) if audio else None


def audio_variables(cfg: RenderConfig, run_dir: Path | None, frames: int | None, shift: int,
                    track: AudioTrack | None = None, video: VideoInfo | None = None) -> ScheduleVariables:
    """The audio features as schedule variables over ``frames`` dreamed frames.

    The soundtrack is ``audio=``, or for a video dream the source's own audio. Features are computed on
    the first read (a render whose schedules use no audio never analyses it), once; a resumed render reads
    them back from its run folder, and ``keep_features`` stores them there once the folder is made.

    Args:
        cfg: the render's config.
        run_dir: the run folder (it may not exist yet; None: no folder).
        frames: dreamed frames the schedules cover; None: endless, the track loops.
        shift: dreamed frame - shown frame (a loop's head length, 0 otherwise).
        track: ``audio=`` decoded by ``open_soundtrack``.
        video: the probed input video of a video dream: its audio is the soundtrack without ``audio=``.
    """
    source = cfg.audio or (cfg.input if video is not None else None)
    if source is None:
        return ScheduleVariables(missing=dict.fromkeys(AUDIO_NAMES, AUDIO_MISSING))
    fps = video.fps if video is not None else cfg.fps
    info = {"audio": str(source), "fps": fps, "smoothing": cfg.audio_smoothing}

    def load() -> dict[str, np.ndarray]:
        return stored_features(Path(source), run_dir, info, track, from_video=not cfg.audio)

    def fit(features: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return features if frames is None else fit_to_frames(features, frames, shift)

    return ScheduleVariables(values=AudioFeatures(load, fit, info), loop=frames is None)


def keep_features(variables: ScheduleVariables, run_dir: Path) -> None:
    """Store the audio features computed before the run folder existed in it (nothing if none were read)."""
    if isinstance(variables.values, AudioFeatures):
        variables.values.keep(run_dir)


def stored_features(source: Path, run_dir: Path | None, info: dict, track: AudioTrack | None,
                    from_video: bool = False) -> dict[str, np.ndarray]:
    """The run folder's features of ``source`` (``info``: source, fps, smoothing), computed (and stored there,
    if the folder exists) the first time."""
    stored = run_dir is not None and Path(run_dir).is_dir()
    features = load_features(run_dir, info) if stored else None
    if features is None:
        try:
            track = track or decode_audio(source)
        except UserError as error:
            if not from_video:
                raise
            raise UserError(f"A schedule reads an audio feature ({', '.join(FEATURE_NAMES)}), but the input "
                            f"video can't give one: {error}") from None
        features = audio_features(track.samples, track.sample_rate, info["fps"], info["smoothing"])
        if stored:
            save_features(run_dir, features, info)
    return features


class AudioFeatures(Mapping):
    """name (or alias) -> ``(frames,)`` feature; ``load`` (the track's features) runs on the first read of any of
    them, and only once; ``fit`` lays them over the render's frames."""

    Features = dict[str, np.ndarray]

    def __init__(self, load: Callable[[], Features], fit: Callable[[Features], Features], info: dict):
        self._load = functools.cache(load)
        self._fitted = functools.cache(lambda: fit(self._load()))
        self.info = info

    def keep(self, run_dir: Path) -> None:
        """Store in ``run_dir`` the features read before it existed; compute nothing that wasn't read."""
        if self._load.cache_info().currsize and load_features(run_dir, self.info) is None:
            save_features(run_dir, self._load(), self.info)

    def __getitem__(self, name: str) -> np.ndarray:
        return self._fitted()[ALIASES.get(name, name)]

    def __iter__(self) -> Iterator[str]:
        return iter(AUDIO_NAMES)

    def __len__(self) -> int:
        return len(AUDIO_NAMES)
