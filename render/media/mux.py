"""The mux: chunks joined into one mp4 without re-encoding, with a source's audio or a soundtrack."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import imageio_ffmpeg

from render.media.encoder import LOG_TAIL_CHARS, ffmpeg_error


def concat_chunks(chunks: list[Path], out: Path, audio_from: Path | None, seconds: float,
                  fit_audio: bool = False, listing: Path | None = None, loop_audio: bool = False) -> list[str]:
    """Join mp4 chunks without re-encoding into ``out`` (+faststart), with ``audio_from``'s audio if any.

    ``listing`` is where ffmpeg's list of the chunks is written (default: beside the first chunk).

    The audio is copied unchanged and cut to the video's length (``seconds``); the video
    is never cut to the audio's. Audio that mp4 can't hold as is gets re-encoded to AAC.
    With ``fit_audio`` (a soundtrack) it is always AAC, padded with silence or trimmed
    to exactly the video's length. With ``loop_audio`` (an endless render's track) it repeats instead.

    Returns:
        Notes for meta.json about what was done to the audio (empty when nothing special).
    """
    listing = listing or chunks[0].parent / "concat.txt"
    # ffmpeg resolves the listed paths from the listing's folder; a quote in a name is escaped as '\''
    names = (os.path.relpath(c, listing.parent).replace("'", "'\\''") for c in chunks)
    listing.write_text("".join(f"file '{name}'\n" for name in names))
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-v", "error", "-y", "-f", "concat", "-safe", "0"]
    cmd += ["-i", str(listing)]
    if audio_from is not None:
        cmd += ["-stream_loop", "-1"] if loop_audio else []
        cmd += ["-t", f"{seconds:.6f}", "-i", str(audio_from), "-map", "0:v:0", "-map", "1:a:0?"]
    partial = out.with_name(out.stem + ".partial.mp4")
    tail = ["-movflags", "+faststart", str(partial)]
    if audio_from is not None and fit_audio:
        tail = ["-af", "apad", "-t", f"{seconds:.6f}", *tail]  # apad makes it endless; -t ends both streams
    reencode_audio = ["-c:v", "copy", "-c:a", "aac", "-b:a", "192k"]
    result = subprocess.run([*cmd, *(reencode_audio if fit_audio else ["-c", "copy"]), *tail], capture_output=True,
                            text=True)
    notes = []
    if result.returncode != 0 and audio_from is not None and not fit_audio:  # AAC already failed with fit_audio
        result = subprocess.run([*cmd, *reencode_audio, *tail], capture_output=True, text=True)
        notes.append(f"The audio of {audio_from} can't be stored in mp4 as it is; it was re-encoded to AAC 192k.")
    if result.returncode != 0:
        raise ffmpeg_error(f"joining the chunks into {out.name}", result.stderr[-LOG_TAIL_CHARS:], out.parent)
    os.replace(partial, out)
    return notes
