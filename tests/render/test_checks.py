"""Settings that fit the schema but not the render: refused or honoured and said, before frame 0."""

import subprocess

import imageio_ffmpeg
import pytest

from dream.errors import UserError
from render.checks import check_video_input, loop_note, truncation_note
from render.plan import plan_render
from render.run import typed_config
from tests.compose import compose_preset


def _check(preset: str, overrides: list[str], frames: int = 6) -> list[str]:
    """The warnings of planning a render (the plan runs ``check_render`` and the timeline's range checks)."""
    warnings = []
    plan_render(typed_config(compose_preset(preset, [*overrides, f"frames={frames}"])), warn=warnings.append)
    return warnings


@pytest.mark.parametrize(
    ("override", "words"),
    [
        ("motion.zoom=0", ["'motion.zoom'", "at frame 0", "grey noise", "motion.zoom=1.04"]),
        ("motion.zoom='0:(1.04), 3:(-1)'", ["at frame 2"]),  # interpolated: below 0 from frame 2
        ("dream.octaves=0", ["'dream.octaves'", "1 or more"]),
        ("dream.iterations=-2", ["'dream.iterations'", "0 or more"]),
        ("dream.first_frame_iterations=-1", ["'dream.first_frame_iterations'"]),
    ],
)
def test_nonsense_values_are_refused_naming_key_frame_and_fix(override, words):
    with pytest.raises(UserError) as error:
        _check("smoke", [override])
    for word in words:
        assert word in str(error.value)


def test_sensible_values_pass_silently():
    assert _check("smoke", ["motion.zoom='0:(1.04), 3:(0.97)'", "dream.iterations=0"]) == []


def test_a_loop_longer_than_half_the_frames_is_said():
    cfg = compose_preset("smoke", ["loop=true", "frames=6", "loop_frames=30"])
    assert "crossfades 3 frames" in loop_note(cfg) and "frames=60" in loop_note(cfg)
    assert loop_note(compose_preset("smoke", ["loop=true", "frames=60", "loop_frames=30"])) is None


def _video(path, seconds: float = 2.0, faststart: bool = False):
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi",
           "-i", f"testsrc2=size=96x64:rate=12:d={seconds}", "-c:v", "libx264", "-pix_fmt", "yuv420p"]
    subprocess.run(cmd + (["-movflags", "+faststart"] if faststart else []) + [str(path)], check=True)
    return path


def test_a_still_image_given_to_a_video_dream_is_refused(tmp_path):
    photo = tmp_path / "photo.jpg"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=64x48",
                    "-frames:v", "1", str(photo)], check=True)
    with pytest.raises(UserError, match="still image.*conf=dream_image"):
        check_video_input(str(photo))
    check_video_input(str(_video(tmp_path / "clip.mp4")))


def test_a_truncated_source_is_said(tmp_path):
    whole = _video(tmp_path / "whole.mp4", faststart=True)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size * 45 // 100])
    note = truncation_note(str(cut), None, 5)
    assert "announces 24" in note and "truncated" in note
    assert truncation_note(str(whole), None, 24) is None
    assert truncation_note(str(cut), 4, 4) is None  # frames=4: the four asked for are there
