"""Console progress: the warning is loud and names the problem."""

import io

from rich.console import Console

from render.media.progress import frame_progress, warner


def test_warner_prints_a_warning_line():
    out = io.StringIO()
    warner(Console(file=out, width=200))("fallback model in use")
    assert "WARNING" in out.getvalue() and "fallback model in use" in out.getvalue()


def test_frame_progress_counts_frames():
    out = io.StringIO()
    with frame_progress(Console(file=out, width=200)) as progress:
        task = progress.add_task("dreaming", total=3, rate="1.0")
        progress.advance(task, 3)
    assert "3/3" in out.getvalue()
