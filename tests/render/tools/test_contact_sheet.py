import imageio_ffmpeg
import numpy as np
import pytest
from PIL import Image

from render.tools.contact_sheet import contact_sheet, main, sampled_frames


def _write_video(path, frames: int, width: int = 32, height: int = 16) -> None:
    """A tiny mp4 whose frame i has brightness 8 * i, so frames can be told apart after decoding."""
    writer = imageio_ffmpeg.write_frames(str(path), (width, height), fps=10, macro_block_size=1)
    writer.send(None)
    for i in range(frames):
        writer.send(np.full((height, width, 3), 8 * i, np.uint8))
    writer.close()


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    path = tmp_path_factory.mktemp("video") / "clip.mp4"
    _write_video(path, 25)
    return path


def test_every_tenth_frame_and_the_last(video):
    thumbs = sampled_frames(video, every=10, width=16)
    assert [index for index, _ in thumbs] == [0, 10, 20, 24]
    assert all(thumb.size == (16, 8) for _, thumb in thumbs)
    brightness = [np.asarray(thumb).mean() for _, thumb in thumbs]
    assert brightness == pytest.approx([0, 80, 160, 192], abs=6)


def test_last_frame_not_repeated_when_on_the_grid(tmp_path):
    path = tmp_path / "21.mp4"
    _write_video(path, 21)
    assert [index for index, _ in sampled_frames(path, every=10, width=16)] == [0, 10, 20]


def test_sheet_lays_out_the_tiles(video, tmp_path):
    out = contact_sheet(video, tmp_path / "sheet.png", every=10, width=48, columns=3)
    with Image.open(out) as sheet:
        assert sheet.size == (3 * 48, 2 * 24)  # 4 tiles in rows of 3
        pixels = np.asarray(sheet.convert("RGB")).astype(int)
    assert abs(pixels[20, 100] - 160).max() <= 6  # frame 20, third tile of the first row, below its label
    assert pixels[24:, 48:].max() == 0  # the unused cells stay black


def test_cli_writes_next_to_the_video(video, capsys):
    main([str(video), "--every", "12", "--width", "16"])
    out = video.with_name("clip_sheet.png")
    assert capsys.readouterr().out.strip() == str(out)
    with Image.open(out) as sheet:
        assert sheet.size == (4 * 16, 8)  # frames 0, 12, 24


def test_cli_missing_video(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        main([str(tmp_path / "missing.mp4")])
    assert info.value.code == 2
    assert "does not exist" in capsys.readouterr().err
