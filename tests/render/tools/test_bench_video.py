"""The video bench's clip: the pattern pans at the asked size and length, with a tone."""

import imageio_ffmpeg

from render.media.video_source import probe_video
from render.tools.bench_video import PATTERNS, make_pan_clip


def test_pan_clip_has_the_size_length_and_audio(tmp_path):
    pattern = next(iter(PATTERNS))
    clip = make_pan_clip(tmp_path / "pan.mp4", pattern, 64, 36, 0.5, rate="24")
    info = probe_video(clip)
    assert (info.width, info.height, info.frames) == (64, 36, 12)
    assert imageio_ffmpeg.count_frames_and_secs(str(clip))[0] == 12
    assert info.has_audio
