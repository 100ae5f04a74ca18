import subprocess
from pathlib import Path
from types import SimpleNamespace

import imageio_ffmpeg
import numpy as np
import pytest
from PIL import Image

from dream.errors import UserError
from render.media.web_formats import make_gif, web_outputs


def _output_cfg(**asked) -> SimpleNamespace:
    settings = {"webm": False, "gif": False, "gif_width": 480, "gif_fps": 15.0, "poster": False}
    return SimpleNamespace(**{**settings, **asked})


def _streams(path: Path) -> str:
    """ffmpeg's description of a file's streams (the ``Stream #0:...`` lines)."""
    result = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)],
                            capture_output=True, text=True)
    return "\n".join(line for line in result.stderr.splitlines() if "Stream #" in line)


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    """A 1 s, 12 fps, 64x48 H.264 mp4 with an AAC tone; frame 0 is a flat red (the poster to expect)."""
    path = tmp_path_factory.mktemp("web") / "clip.mp4"
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=64x48:rate=12:d=1",
           "-f", "lavfi", "-i", "sine=frequency=440:d=1", "-filter_complex",
           "[0:v]drawbox=w=iw:h=ih:color=red:t=fill:enable='eq(n,0)'[v]", "-map", "[v]", "-map", "1:a",
           "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(path)]
    subprocess.run(cmd, check=True)
    return path


def test_nothing_asked_nothing_made(clip):
    assert web_outputs(clip, _output_cfg()) == {}
    assert sorted(p.name for p in clip.parent.iterdir()) == ["clip.mp4"]


def test_all_formats_next_to_the_video(clip):
    made = web_outputs(clip, _output_cfg(webm=True, gif=True, gif_width=32, gif_fps=6, poster=True))
    assert made == {"webm": "clip.webm", "gif": "clip.gif", "poster": "clip_poster.jpg"}
    assert not list(clip.parent.glob("*partial*")) and not [p for p in clip.parent.iterdir() if p.is_dir()]

    streams = _streams(clip.parent / "clip.webm")
    assert "Video: vp9" in streams and "yuv420p" in streams and "64x48" in streams
    assert "Audio: opus" in streams
    assert imageio_ffmpeg.count_frames_and_secs(str(clip.parent / "clip.webm"))[0] == 12

    with Image.open(clip.parent / "clip.gif") as gif:
        assert gif.size == (32, 24)  # gif_width, aspect kept
        assert gif.info["loop"] == 0  # loops forever
        assert gif.n_frames == 6  # 1 s at gif_fps

    with Image.open(clip.parent / "clip_poster.jpg") as poster:
        assert poster.format == "JPEG" and poster.size == (64, 48)
        red, green, blue = np.asarray(poster.convert("RGB")).reshape(-1, 3).mean(axis=0)
    assert red > 200 and green < 50 and blue < 50  # the first frame


def test_gif_never_wider_than_the_video(clip, tmp_path):
    gif = make_gif(clip, tmp_path / "wide.gif", width=1000, fps=4)
    with Image.open(gif) as image:
        assert image.size == (64, 48)


def test_webm_without_audio_has_none(tmp_path):
    silent = tmp_path / "silent.mp4"
    writer = imageio_ffmpeg.write_frames(str(silent), (32, 32), fps=10, macro_block_size=1)
    writer.send(None)
    for i in range(5):
        writer.send(np.full((32, 32, 3), 40 * i, np.uint8))
    writer.close()
    web_outputs(silent, _output_cfg(webm=True))
    streams = _streams(tmp_path / "silent.webm")
    assert "Video: vp9" in streams and "Audio" not in streams


def test_ffmpeg_failure_is_a_user_error_with_its_words(tmp_path):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video at all")
    with pytest.raises(UserError, match="ffmpeg failed while making the poster") as info:
        web_outputs(broken, _output_cfg(poster=True))
    assert "Invalid data" in str(info.value)  # ffmpeg's own stderr tail
    assert not (tmp_path / "broken_poster.jpg").exists()


def test_bad_gif_settings(clip, tmp_path):
    with pytest.raises(UserError, match="gif_width"):
        make_gif(clip, tmp_path / "x.gif", width=0, fps=10)
