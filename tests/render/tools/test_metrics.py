"""``python -m render.tools.metrics``: prints the video's and the source's figures; clear errors."""

from __future__ import annotations

import pytest

from render.tools.metrics import main
from tests.render.media.test_video_source import make_clip


def test_command_line_prints_video_and_source_figures(tmp_path, capsys):
    clip = make_clip(tmp_path / "clip.mp4", "64x48", "24", 6, audio=False)
    main([str(clip), "--source", str(clip), "--flow-preset", "ultrafast"])
    out = capsys.readouterr().out
    assert "temporal instability" in out and "ratio video/source: 1.00" in out


def test_command_line_missing_video_exits_2(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([str(tmp_path / "missing.mp4")])
    assert exit_info.value.code == 2
    assert "missing.mp4" in capsys.readouterr().err
