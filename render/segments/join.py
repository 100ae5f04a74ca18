"""``python -m render.join SWEEP_DIR``: join the segments of a video dream into one video in the sweep folder.

A sweep such as ``python -m render -m --config-name video_dream input=clip.mp4 segment.count=4
'segment.index=range(4)'`` renders each segment into its own folder under SWEEP_DIR. The join
finds them (any depth, by their saved config), checks that every segment 0..count-1 of one
render is there and finished, and writes ``SWEEP_DIR/<output.name>.mp4`` by stream copy (the
segments' H.264 is never re-encoded; they share every encoder setting), with the source's audio (or
the ``audio`` soundtrack) muxed once over the whole, plus ``SWEEP_DIR/meta.json`` (``finished: true``,
each segment's facts). Only the seams are encoded here: over ``segment.crossfade`` frames each
segment dissolves into the next one's warm-up take of the same frames (render/segments/plan.py).
It refuses, naming the segment and the command that completes it, while one is missing or
unfinished, and never overwrites a joined video.

The sweep's ``SegmentJoin`` callback (render/segments/callback.py) runs it when a multirun ends; run
it by hand for segments that finished at different times, e.g. on a cluster.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import imageio_ffmpeg
import numpy as np
from omegaconf import OmegaConf
from rich.console import Console

from dream.errors import UserError
from render.media.encoder import ChunkEncoder, Encoding
from render.media.mux import concat_chunks
from render.media.run_folder import CONFIG_FILE, SEAM_DIR, package_versions, read_meta, resume_command, write_meta
from render.media.seam_frames import load_seam_frame, missing_seam_frames
from render.ops.crossfade import crossfade_weight
from render.run import typed_config
from render.segments.plan import SegmentSpan

SEGMENT_FACTS = ("model", "fallback", "device", "elapsed_seconds", "loop_seconds", "frames_per_second",
                 "temporal_instability", "scene_cuts", "notes")


def segment_folders(sweep_dir: Path) -> dict[int, list[tuple[Path, dict]]]:
    """Run folders under ``sweep_dir`` that hold a video dream segment, by segment index, with their configs."""
    found: dict[int, list[tuple[Path, dict]]] = {}
    for config_file in sorted(Path(sweep_dir).rglob(str(CONFIG_FILE))):
        run_dir = config_file.parent.parent
        if run_dir == Path(sweep_dir):
            continue
        cfg = OmegaConf.to_container(typed_config(OmegaConf.load(config_file)), resolve=True, enum_to_str=True)
        if cfg["mode"] == "video" and cfg["segment"]["count"] > 1:
            found.setdefault(cfg["segment"]["index"], []).append((run_dir, cfg))
    return found


def render_command(cfg: dict, index: int) -> str:
    """The command that renders segment ``index`` of ``cfg``'s video alone."""
    segment = cfg["segment"]
    return (f"python -m render --config-name {cfg['preset']} input={cfg['input']} segment.count={segment['count']} "
            f"segment.index={index} segment.warmup={segment['warmup']} (plus the sweep's other overrides)")


def complete_segments(sweep_dir: Path) -> list[tuple[Path, dict, dict]]:
    """(run folder, config, meta) of segments 0..count-1 in order; a UserError naming what is missing otherwise."""
    found = segment_folders(sweep_dir)
    if not found:
        raise UserError(f"{sweep_dir} holds no segment of a video dream (a run folder whose .hydra/config.yaml has "
                        f"segment.count > 1). Pass the sweep folder of a render with segment.count=N.")
    any_cfg = next(iter(found.values()))[0][1]
    _check_one_render(found, any_cfg)
    problems, chosen = [], []
    for index in range(any_cfg["segment"]["count"]):
        finished = [(d, c, meta) for d, c in found.get(index, []) if (meta := read_meta(d)).get("finished")]
        if len(finished) > 1:
            problems.append(f"segment {index} is finished twice ({', '.join(str(d) for d, _, _ in finished)}); "
                            f"move one of those folders out of {sweep_dir}")
        elif finished:
            chosen.append(finished[0])
        elif index in found:
            folder = found[index][0][0]
            problems.append(f"segment {index} is unfinished in {folder}: continue it with "
                            f"{resume_command(folder)}")
        else:
            problems.append(f"segment {index} has no run folder: render it with {render_command(any_cfg, index)}")
    if problems:
        raise UserError(f"Can't join the segments in {sweep_dir} yet: " + "; ".join(problems) + ".")
    return chosen


def _check_one_render(found: dict[int, list[tuple[Path, dict]]], reference: dict) -> None:
    """All segments must be pieces of the same render: equal configs but for the segment index and device."""

    def shared(cfg: dict) -> dict:
        return {**cfg, "segment": {**cfg["segment"], "index": None}, "device": None}

    for run_dir, cfg in (entry for entries in found.values() for entry in entries):
        if shared(cfg) != shared(reference):
            differing = sorted(k for k in cfg if shared(cfg)[k] != shared(reference)[k])
            raise UserError(f"The segments under {run_dir.parent} are not all pieces of one render: {run_dir} differs "
                            f"in {', '.join(differing)}. Keep one render's segments per sweep folder.")


def join_segments(sweep_dir: Path) -> dict:
    """Join the finished segments in ``sweep_dir`` into ``<output.name>.mp4`` and write its meta.json."""
    sweep_dir = Path(sweep_dir)
    segments = complete_segments(sweep_dir)
    cfg = segments[0][1]
    out = sweep_dir / f"{cfg['output']['name']}.mp4"
    if out.exists() or read_meta(sweep_dir).get("finished"):
        raise UserError(f"{sweep_dir} holds a joined video already ({out.name}, meta.json); it is kept as it is.")
    _check_seam_frames(segments)
    started = time.perf_counter()
    fps = Fraction(segments[0][2]["fps_exact"])
    frames = sum(meta["frames"] for _, _, meta in segments)
    audio = Path(cfg.get("audio") or cfg["input"])  # the soundtrack, or the source's own audio (if it has any)
    work = sweep_dir / f".{out.stem}.join"
    work.mkdir(exist_ok=True)
    try:
        parts = joined_parts(segments, _encoding(cfg, segments[0][2]), work)
        notes = concat_chunks(parts, out, audio, float(frames / fps), listing=work / "concat.txt")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    _check_frames(out, frames)
    meta = _joined_meta(cfg, segments, sweep_dir, frames, fps, notes, time.perf_counter() - started)
    write_meta(sweep_dir, meta)
    return meta


def joined_parts(segments: list[tuple[Path, dict, dict]], encoding: Encoding, work: Path) -> list[Path]:
    """The mp4 pieces of the joined video in order: each segment between its seams (a stream copy), and the seams.

    A seam is the only part encoded here, from lossless frames: the previous segment's last
    frames dissolving into the next segment's warm-up take of them, then the next segment's first
    frames, so the encoder restarts away from the boundary itself.
    """
    parts = []
    spans = [SegmentSpan.from_meta(meta["segment"]) for _, _, meta in segments]
    for k, ((run_dir, _, meta), span) in enumerate(zip(segments, spans)):
        if span.incoming_seam:
            parts.append(encode_seam(segments[k - 1][0], run_dir, spans[k - 1].outgoing_seam, span.incoming_seam,
                                     encoding, work / f"seam_{k:03d}.mp4"))
        copied = range(span.seam_cut, span.outgoing_seam.start if span.outgoing_seam else span.end)
        if copied:
            parts.append(copy_frames(run_dir / meta["media"], copied.start - span.first, len(copied),
                                     Fraction(meta["fps_exact"]), work / f"part_{k:03d}.mp4"))
    return parts


def copy_frames(video: Path, skip: int, frames: int, fps: Fraction, out: Path) -> Path:
    """Frames ``skip .. skip+frames-1`` of ``video`` by stream copy.

    Exact because the segments are encoded without B-frames (render/media/sink.py), so packets
    are in display order and the first ``frames`` packets are the first ``frames`` frames, and
    because a segment starts a new chunk (a keyframe) at its seam cut, which is where ``skip``
    lands: the input seek goes to the last keyframe at or before half a frame after it.
    """
    seek = ["-ss", f"{float((skip + Fraction(1, 2)) / fps):.6f}"] if skip else []
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-v", "error", "-y", *seek, "-i", str(video),
           "-map", "0:v:0", "-c", "copy", "-frames:v", str(frames), "-avoid_negative_ts", "make_zero", str(out)]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise UserError(f"ffmpeg could not copy frames of {video}: {result.stderr.strip()[-500:]} Check that "
                        f"{out.parent} is writable and its disk has free space, then join again.")
    return out


def encode_seam(before: Path, after: Path, fading: range, incoming: range, encoding: Encoding, out: Path) -> Path:
    """Encode one seam: run folder ``before``'s take of ``fading`` dissolving into ``after``'s, then ``after``'s alone.

    ``incoming`` is the frames of ``after``'s take in the seam: ``fading``, then as many more.
    """
    encoder = ChunkEncoder(out, encoding, out.with_suffix(".log"))
    for j, index in enumerate(incoming):
        pixels = load_seam_frame(after, index)
        if index in fading:
            outgoing = load_seam_frame(before, index).astype(np.float32)
            blend = outgoing + crossfade_weight(j, len(fading)) * (pixels.astype(np.float32) - outgoing)
            pixels = np.rint(blend).astype(np.uint8)
        encoder.write(np.ascontiguousarray(pixels))
    encoder.close()
    return out


def _check_seam_frames(segments: list[tuple[Path, dict, dict]]) -> None:
    """Every seam's frames must be on disk; a UserError naming the segment and the fix otherwise."""
    for run_dir, _, meta in segments:
        span = SegmentSpan.from_meta(meta["segment"])
        for seam in (span.incoming_seam, span.outgoing_seam):
            missing = missing_seam_frames(run_dir, seam)
            if missing:
                raise UserError(
                    f"Segment {span.index} in {run_dir} lacks the seam frames {missing[0]}..{missing[-1]} "
                    f"({SEAM_DIR}/), which the join dissolves from one segment into the next. Render that segment "
                    f"again into a new run folder in the sweep folder (and move the old one out), then join again."
                )


def _encoding(cfg: dict, meta: dict) -> Encoding:
    """The encoder settings the segments' chunks were made with, so the seams join them without re-encoding."""
    output = cfg["output"]
    return Encoding(meta["width"], meta["height"], Fraction(meta["fps_exact"]), output["crf"], output["preset"])


def _check_frames(video: Path, expected: int) -> None:
    frames, _ = imageio_ffmpeg.count_frames_and_secs(str(video))
    if frames != expected:
        video.rename(video.with_name(video.stem + ".bad.mp4"))
        raise UserError(f"The joined video holds {frames} frames, but the segments hold {expected}; it was renamed "
                        f"to {video.stem}.bad.mp4 and the segments are kept. Please report this with the sweep folder.")


def _joined_meta(cfg: dict, segments: list, sweep_dir: Path, frames: int, fps: Fraction, notes: list[str],
                 join_seconds: float) -> dict:
    first_meta = segments[0][2]
    return {
        "finished": True,
        "preset": cfg["preset"],
        "mode": "video",
        "media": f"{cfg['output']['name']}.mp4",
        "frames": frames,
        "fps": float(fps),
        "fps_exact": str(fps),
        "duration": round(frames / float(fps), 4),
        "width": first_meta["width"],
        "height": first_meta["height"],
        "seed": cfg["seed"],
        "input": cfg["input"],
        "source": first_meta["source"],
        "model": first_meta.get("model"),
        "segment_count": len(segments),
        "crossfade_frames": first_meta["segment"].get("crossfade", 0),  # the dissolves below, then as many frames
        "seams": [meta["segment"]["outgoing_seam"] for _, _, meta in segments if meta["segment"].get("outgoing_seam")],
        "segments": [_segment_facts(run_dir, meta, sweep_dir) for run_dir, _, meta in segments],
        "elapsed_seconds": round(sum(meta.get("elapsed_seconds", 0.0) for _, _, meta in segments), 3),
        "join_seconds": round(join_seconds, 3),
        "notes": notes,
        "versions": package_versions(),
    }


def _segment_facts(run_dir: Path, meta: dict, sweep_dir: Path) -> dict:
    facts = {"run_dir": str(run_dir.relative_to(sweep_dir)), "frames": meta["frames"], **meta["segment"]}
    return facts | {key: meta[key] for key in SEGMENT_FACTS if key in meta}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m render.join", description=__doc__.split("\n\n")[0])
    parser.add_argument("sweep_dir", type=Path, help="the sweep folder holding the segments' run folders")
    args = parser.parse_args(argv)
    console = Console(stderr=True)
    try:
        meta = join_segments(args.sweep_dir)
    except UserError as exc:
        console.print(f"[bold red]Error:[/bold red] {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)
    console.print(f"Joined {meta['segment_count']} segments: {args.sweep_dir / meta['media']} ({meta['frames']} "
                  f"frames at {meta['fps_exact']} fps, {meta['duration']} s)", highlight=False, soft_wrap=True)


if __name__ == "__main__":
    main()
