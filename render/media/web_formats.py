"""Web formats beside the mp4: a VP9 WebM, an optimised looping GIF and a poster JPEG per clip.

Browsers without H.264 (Chromium builds without proprietary codecs) play the WebM;
the GIF is for places that take no video; the poster shows before the video starts.
Every file is written under a partial name and renamed, so a reader never sees half of one.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import imageio_ffmpeg

from dream.errors import UserError
from render.config import OutputConfig

STDERR_TAIL_CHARS = 1500
WEBM_CRF = 32  # VP9 constant quality (0-63); ~32 is YouTube's advice for 360p-1080p
WEBM_CPU_USED = 4  # libvpx speed/size trade-off: 0 slowest/smallest .. 8 fastest; 4 is ~5x faster than 0
OPUS_BITRATE = "128k"
JPEG_QUALITY = 3  # ffmpeg's -q:v for mjpeg: 2 best .. 31 worst


def web_outputs(video: Path, output_cfg: OutputConfig) -> dict:
    """Make the web formats ``output_cfg`` asks for next to ``video``.

    Args:
        video: a finished mp4.
        output_cfg: has ``webm``, ``gif``, ``gif_width``, ``gif_fps`` and ``poster`` (``OutputConfig``).

    Returns:
        File names (in ``video``'s folder) of what was made, e.g.
        ``{"webm": "dream.webm", "gif": "dream.gif", "poster": "dream_poster.jpg"}``; only what was made.
    """
    video = Path(video)
    made = {}
    if output_cfg.poster:
        made["poster"] = make_poster(video, video.with_name(video.stem + "_poster.jpg")).name
    if output_cfg.webm:
        made["webm"] = make_webm(video, video.with_suffix(".webm")).name
    if output_cfg.gif:
        gif = make_gif(video, video.with_suffix(".gif"), output_cfg.gif_width, output_cfg.gif_fps)
        made["gif"] = gif.name
    return made


def make_poster(video: Path, out: Path) -> Path:
    """The first frame as a JPEG: the frame playback starts on, so nothing jumps when the video takes over."""
    return _ffmpeg(["-i", str(video), "-frames:v", "1", "-q:v", str(JPEG_QUALITY)], out, "making the poster")


def make_webm(video: Path, out: Path) -> Path:
    """VP9 in constant-quality mode (crf with ``-b:v 0``), yuv420p; audio, if any, re-encoded to Opus."""
    args = ["-i", str(video), "-map", "0:v:0", "-map", "0:a:0?"]
    args += ["-c:v", "libvpx-vp9", "-crf", str(WEBM_CRF), "-b:v", "0", "-row-mt", "1"]
    args += ["-deadline", "good", "-cpu-used", str(WEBM_CPU_USED), "-pix_fmt", "yuv420p"]
    args += ["-c:a", "libopus", "-b:a", OPUS_BITRATE]
    return _ffmpeg(args, out, "encoding the WebM")


def make_gif(video: Path, out: Path, width: int, fps: float) -> Path:
    """An optimised GIF that loops forever: a palette made for this clip, then the clip mapped onto it.

    Two ffmpeg passes rather than one ``split`` filter graph, which would hold every
    frame in memory until the palette is known.

    Args:
        width: the GIF's width in pixels (never wider than the video); the height keeps the aspect.
        fps: the GIF's frame rate; fewer frames keep the file small.
    """
    if width < 1 or not fps > 0:
        raise UserError(f"output.gif_width={width} and output.gif_fps={fps} must be greater than 0 (e.g. 480 and 15).")
    scale = f"fps={fps},scale=w='min({width},iw)':h=-1:flags=lanczos"
    with tempfile.TemporaryDirectory(dir=out.parent) as work:
        palette = Path(work) / "palette.png"
        _ffmpeg(["-i", str(video), "-vf", f"{scale},palettegen=stats_mode=diff"], palette, "making the GIF palette")
        graph = f"[0:v]{scale}[clip];[clip][1:v]paletteuse=dither=bayer:bayer_scale=5:diff_mode=rectangle"
        args = ["-i", str(video), "-i", str(palette), "-lavfi", graph, "-loop", "0"]
        return _ffmpeg(args, out, "encoding the GIF")


def _ffmpeg(args: list[str], out: Path, what: str) -> Path:
    """Run ffmpeg with ``args`` writing ``out`` (via a partial file); a failure becomes a UserError."""
    partial = out.with_name(out.stem + ".partial" + out.suffix)
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-v", "error", "-y", *args, str(partial)]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        partial.unlink(missing_ok=True)
        tail = result.stderr.strip()[-STDERR_TAIL_CHARS:] or "(no ffmpeg output)"
        raise UserError(
            f"ffmpeg failed while {what} for {out.name}. Its last words: {tail} -- Check that {out.parent} is "
            f"writable and has free space, and that the video is intact; the mp4 itself is kept."
        )
    os.replace(partial, out)
    return out
