"""``python -m render.tools.bench_tempo``: how close ``tempo.bpm=auto`` comes on generated click tracks and drum loops.

Prints one table row per track: the true and found bpm and offset, and the offset's error in milliseconds
and in frames at 60 fps. ``--wav out.wav --bpm 120 --seconds 30`` writes a drum loop to render to instead;
``--run RUN_DIR --bpm 120 --offset 0.3`` reads a finished render of such a loop and says how far each peak of
its zoom factor lies from the beat it pulses on (the schedules parsed as the render parsed them).
"""

from __future__ import annotations

import argparse
import json
import time
import wave
from pathlib import Path

import numpy as np

from render.media.audio import ANALYSIS_SAMPLE_RATE, AudioTrack
from render.ops.tempo import find_tempo

EIGHTHS_A_BAR = 8


def click_track(bpm: float, seconds: float, offset: float = 0.0, sample_rate: int = ANALYSIS_SAMPLE_RATE) -> np.ndarray:
    """``(N,)`` float32: a 1 kHz click of 30 ms on every beat from ``offset``, silence between."""
    samples = np.zeros(round(seconds * sample_rate), dtype=np.float32)
    k = np.arange(round(0.03 * sample_rate))
    click = (0.8 * np.sin(2 * np.pi * 1000.0 * k / sample_rate) * np.exp(-k / (0.005 * sample_rate)))
    for start in np.arange(offset, seconds, 60.0 / bpm):
        _add(samples, click, round(start * sample_rate))
    return samples


def drum_loop(bpm: float, seconds: float, offset: float = 0.0, sample_rate: int = ANALYSIS_SAMPLE_RATE,
              seed: int = 0) -> np.ndarray:
    """``(N,)`` float32: a rock beat from ``offset``: kick on 1, 3 and the and of 3, snare on 2 and 4, hats on
    eighths."""
    rng = np.random.default_rng(seed)
    kick_t = np.arange(round(0.25 * sample_rate)) / sample_rate
    kick = 0.9 * np.sin(2 * np.pi * np.cumsum(50 + 100 * np.exp(-kick_t / 0.02)) / sample_rate) * np.exp(-kick_t / 0.12)
    snare_t = np.arange(round(0.2 * sample_rate)) / sample_rate
    snare = 0.5 * rng.standard_normal(len(snare_t)) + 0.3 * np.sin(2 * np.pi * 180 * snare_t)
    snare *= np.exp(-snare_t / 0.05)
    hat_t = np.arange(round(0.05 * sample_rate)) / sample_rate
    hat = 0.15 * np.diff(rng.standard_normal(len(hat_t)), prepend=0.0) * np.exp(-hat_t / 0.01)
    samples = np.zeros(round(seconds * sample_rate), dtype=np.float32)
    for n, start in enumerate(np.arange(offset, seconds, 30.0 / bpm)):
        at, eighth = round(start * sample_rate), n % EIGHTHS_A_BAR
        _add(samples, hat, at)
        if eighth in (0, 4, 5):
            _add(samples, kick, at)
        if eighth in (2, 6):
            _add(samples, snare, at)
    return samples / max(1.0, float(np.abs(samples).max()))


def _add(samples: np.ndarray, sound: np.ndarray, at: int) -> None:
    """Mix ``sound`` into ``samples`` from sample ``at`` on, cut at the end."""
    length = max(0, min(len(sound), len(samples) - at))
    samples[at : at + length] += sound[:length].astype(np.float32)


def write_wav(path: Path, samples: np.ndarray, sample_rate: int = ANALYSIS_SAMPLE_RATE) -> Path:
    """``samples`` ``(N,)`` in -1..1 as a 16-bit mono WAV."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return Path(path)


TRACKS = [("click", 90, 0.2), ("click", 120, 0.137), ("click", 174, 0.05), ("drum loop", 100, 0.3),
          ("drum loop", 120, 0.0), ("drum loop", 128, 0.41)]


def bench(seconds: float = 8.0) -> list[str]:
    """Markdown rows: kind, bpm, offset, found bpm, found offset, error (ms, frames at 60 fps), seconds taken."""
    rows = ["| track | bpm | offset s | found bpm | found offset s | offset error ms | frames at 60 fps | s |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for kind, bpm, offset in TRACKS:
        samples = (click_track if kind == "click" else drum_loop)(bpm, seconds, offset)
        started = time.perf_counter()
        found_bpm, found_offset = find_tempo(AudioTrack(Path(f"{kind}.wav"), samples, ANALYSIS_SAMPLE_RATE))
        error = found_offset - offset
        rows.append(f"| {kind} | {bpm} | {offset} | {found_bpm:.3f} | {found_offset:.4f} | {1000 * error:+.1f} | "
                    f"{60 * error:+.2f} | {time.perf_counter() - started:.2f} |")
    return rows


def zoom_peaks_against_beats(run_dir: Path, bpm: float, offset: float) -> list[str]:
    """Lines: each peak frame of a render's per-frame zoom factor, the nearest true beat, and the distance in frames."""
    from omegaconf import OmegaConf

    from render.media.run_folder import CONFIG_FILE
    from render.plan import plan_render
    from render.run import typed_config

    plan = plan_render(typed_config(OmegaConf.load(Path(run_dir) / CONFIG_FILE)), Path(run_dir))
    cfg = plan.cfg
    zoom = np.array([plan.camera.motion(plan.timeline.at(frame)).zoom for frame in range(plan.frames)])
    peaks = np.flatnonzero((zoom[1:-1] > zoom[:-2]) & (zoom[1:-1] >= zoom[2:])) + 1
    beats = offset + np.arange(0, plan.frames / cfg.fps / (60 / bpm) + 1) * 60 / bpm
    distance = [(peak - cfg.fps * beats[np.abs(beats - peak / cfg.fps).argmin()]) for peak in peaks]
    lines = [f"frame {peak}: zoom {zoom[peak]:.4f}, {d:+.2f} frames from the beat" for peak, d in zip(peaks, distance)]
    lines.append(f"{len(peaks)} peaks for {np.sum(beats < plan.frames / cfg.fps)} beats; largest distance "
                 f"{np.max(np.abs(distance)):.2f} frames at {cfg.fps:g} fps")
    return lines + _pixel_jolts_against_beats(Path(run_dir) / json.loads((Path(run_dir) / "meta.json").read_text())[
        "media"], beats * cfg.fps)


def _pixel_jolts_against_beats(video: Path, beat_frames: np.ndarray) -> list[str]:
    """Lines: where in the video itself the picture changes most (mean absolute difference to the frame before,
    in grey levels) within 5 frames of each beat ``(B,)`` (fractional frames)."""
    import imageio_ffmpeg

    reader = imageio_ffmpeg.read_frames(str(video))
    width, height = next(reader)["size"]
    frames = np.stack([np.frombuffer(f, np.uint8).reshape(height, width, 3).astype(np.float32) for f in reader])
    change = np.concatenate([[0.0], np.abs(np.diff(frames, axis=0)).mean(axis=(1, 2, 3))])
    beat_frames = beat_frames[beat_frames < len(frames) - 1]
    distance = []
    for beat in beat_frames:
        window = np.arange(max(1, int(beat) - 5), min(len(frames), int(beat) + 6))
        distance.append(window[np.argmax(change[window])] - beat)
    on_beat = np.zeros(len(frames), bool)
    on_beat[np.round(beat_frames).astype(int)] = True
    return [f"largest picture change within 5 frames of each of {len(distance)} beats: at "
            f"{', '.join(f'{d:+.2f}' for d in sorted(set(np.round(distance, 2))))} frames from it; mean change "
            f"{change[on_beat].mean():.2f} grey levels on the beat frames, {change[~on_beat][1:].mean():.2f} elsewhere"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m render.tools.bench_tempo", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="length of each generated track")
    parser.add_argument("--wav", type=Path, help="write a drum loop here instead of measuring")
    parser.add_argument("--bpm", type=float, default=120.0, help="the drum loop's tempo (with --wav)")
    parser.add_argument("--offset", type=float, default=0.0, help="the drum loop's first downbeat (with --wav)")
    parser.add_argument("--run", type=Path, help="a render of the loop: its zoom peaks against the beats")
    args = parser.parse_args(argv)
    if args.run:
        print("\n".join(zoom_peaks_against_beats(args.run, args.bpm, args.offset)))
        return 0
    if args.wav:
        write_wav(args.wav, drum_loop(args.bpm, args.seconds, args.offset))
        return 0
    print("\n".join(bench(args.seconds)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
