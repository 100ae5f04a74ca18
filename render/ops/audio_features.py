"""Per-frame audio features for schedules: ``loud``, ``beat``, ``low``, ``mid``, ``high``.

Each is a ``(frames,)`` float array at the render's fps, normalised to 0..1 over the
track and lightly smoothed, so schedules such as ``0:(1.0 + 0.04*beat)`` read them
like ``t``:

- ``loud``: RMS loudness;
- ``beat``: onset strength (librosa's spectral-flux onset envelope, the input of its
  beat tracker): high on kicks, snares, clicks and note starts;
- ``low`` / ``mid`` / ``high``: spectral energy below 250 Hz, 250-2000 Hz and above 2000 Hz.

A video frame ``k`` covers ``[k/fps, (k+1)/fps)``; it takes the largest onset and the
mean energy inside that span. Smoothing is an instant attack with an exponential
release of ``smoothing`` seconds: peaks stay on the frame they happen on (a kick moves
the frame it lands on), and fall off smoothly after it.

librosa is imported only here and only when a render uses audio (it costs seconds to load).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np

FEATURE_NAMES = ("loud", "beat", "low", "mid", "high")
BANDS_HZ = {"low": (0.0, 250.0), "mid": (250.0, 2000.0), "high": (2000.0, float("inf"))}
N_FFT = 1024  # 46 ms at 22050 Hz: time resolution finer than a video frame
HOP = 256  # 11.6 ms between analysis frames, several per video frame up to 60 fps
FEATURES_FILE = "audio_features.npz"


def frame_count(duration: float, fps: float) -> int:
    """Video frames that cover ``duration`` seconds at ``fps`` (at least 1)."""
    return max(1, round(duration * fps))


def audio_features(samples: np.ndarray, sample_rate: int, fps: float, smoothing: float) -> dict[str, np.ndarray]:
    """The five features of a track, one value per video frame.

    Args:
        samples: ``(N,)`` float32 mono samples.
        sample_rate: samples per second.
        fps: the render's frames per second.
        smoothing: release time in seconds (0: none).

    Returns:
        name -> ``(frames,)`` float64 in 0..1, frames = ``frame_count(N / sample_rate, fps)``.
    """
    import librosa

    frames = frame_count(len(samples) / sample_rate, fps)
    samples = np.pad(samples, (0, max(0, N_FFT - len(samples))))  # a blip shorter than one window still analyses
    hop_times = librosa.frames_to_time(np.arange(1 + len(samples) // HOP), sr=sample_rate, hop_length=HOP)
    spectrum = np.abs(librosa.stft(samples, n_fft=N_FFT, hop_length=HOP)) ** 2  # (bins, hops)
    frequencies = librosa.fft_frequencies(sr=sample_rate, n_fft=N_FFT)
    series = {
        "loud": librosa.feature.rms(S=np.sqrt(spectrum), frame_length=N_FFT)[0],
        "beat": librosa.onset.onset_strength(S=librosa.power_to_db(_mel(spectrum, sample_rate)), sr=sample_rate),
        **{name: np.sqrt(spectrum[(frequencies >= lo) & (frequencies < hi)].sum(axis=0))
           for name, (lo, hi) in BANDS_HZ.items()},
    }
    release = np.exp(-1.0 / (fps * smoothing)) if smoothing > 0 else 0.0
    return {
        name: normalise(smooth(per_frame(values, hop_times[: len(values)], fps, frames, name == "beat"), release))
        for name, values in series.items()
    }


def _mel(spectrum: np.ndarray, sample_rate: int) -> np.ndarray:
    """``(128, hops)`` mel power from a ``(bins, hops)`` power spectrum."""
    import librosa

    return librosa.feature.melspectrogram(S=spectrum, sr=sample_rate, n_fft=N_FFT)


def per_frame(values: np.ndarray, times: np.ndarray, fps: float, frames: int, peak: bool) -> np.ndarray:
    """``(frames,)``: the max (``peak``) or mean of ``values`` ``(hops,)`` at ``times`` within each frame's span.

    A frame with no analysis time inside its span (fps above ~86) takes the value nearest its start.
    """
    starts = np.arange(frames) / fps
    first = np.searchsorted(times, starts, side="left")
    last = np.searchsorted(times, starts + 1.0 / fps, side="left")
    nearest = np.clip(np.searchsorted(times, starts), 0, len(values) - 1)
    out = values[nearest].astype(np.float64)
    for k in np.flatnonzero(last > first):
        window = values[first[k] : last[k]]
        out[k] = window.max() if peak else window.mean()
    return out


def smooth(values: np.ndarray, release: float) -> np.ndarray:
    """Instant attack, exponential release by factor ``release`` per frame: ``(F,) -> (F,)``."""
    out = values.copy()
    for k in range(1, len(out)):
        out[k] = max(values[k], release * out[k - 1] + (1.0 - release) * values[k])
    return out


def normalise(values: np.ndarray) -> np.ndarray:
    """Scale ``(F,)`` to 0..1 over the track; a flat track is all 0."""
    low, span = values.min(), np.ptp(values)
    return (values - low) / span if span > 0 else np.zeros_like(values)


def fit_to_frames(features: Mapping[str, np.ndarray], frames: int, shift: int = 0) -> dict[str, np.ndarray]:
    """Features laid over a render of ``frames`` dreamed frames, silence (0) past the track's end.

    Args:
        features: name -> ``(F,)`` per-frame values from ``audio_features``.
        frames: dreamed frames the schedules cover.
        shift: output frame = dreamed frame - ``shift``; a loop dreams ``shift`` head frames it
            shows at its end, so those take the audio of the loop's end (wrapped).

    Returns:
        name -> ``(frames,)`` read-only arrays.
    """
    shown = frames - shift
    fitted = {}
    for name, values in features.items():
        track = np.zeros(shown)
        track[: min(shown, len(values))] = values[:shown]
        array = track[(np.arange(frames) - shift) % shown]
        array.flags.writeable = False
        fitted[name] = array
    return fitted


def save_features(run_dir: Path, features: Mapping[str, np.ndarray], info: Mapping) -> Path:
    """Store features and what they were computed from (``info``: source, fps, smoothing) in ``run_dir``."""
    path = Path(run_dir) / FEATURES_FILE
    partial = path.with_name("audio_features.partial.npz")
    np.savez(partial, info=np.array(json.dumps(dict(info), sort_keys=True)), **features)
    partial.replace(path)
    return path


def load_features(run_dir: Path, info: Mapping) -> dict[str, np.ndarray] | None:
    """The features stored in ``run_dir`` if they were computed from ``info``; None otherwise."""
    path = Path(run_dir) / FEATURES_FILE
    if not path.is_file():
        return None
    with np.load(path) as stored:
        if json.loads(str(stored["info"])) != json.loads(json.dumps(dict(info), sort_keys=True)):
            return None
        return {name: stored[name] for name in FEATURE_NAMES}
