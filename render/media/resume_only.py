"""The file side of a live render that keeps no video (``live.record=false``): resume points only.

The driver writes every shown frame to a sink and marks resume points on it. A live stream
without a record must not grow a video on disk however long it runs, yet Ctrl-C and
``resume=`` must still work; this sink counts the frames and saves the renderer's state at
each mark (``RUN_DIR/chunks``, one state file at a time), and keeps nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch

from render.media.checkpoints import Checkpoints, MarkCounts


class ResumeOnlySink(MarkCounts):
    """Stands where ``VideoSink`` stands in the driver; ``finish`` returns ``result`` (the live playlist).

    Attributes:
        notes: always empty (nothing about a video to say), for meta.json.
    """

    def __init__(self, run_dir: Path, result: Path, chunk_frames: int, resume: bool, encoding: dict):
        self.run_dir, self.result, self.chunk_frames = Path(run_dir), Path(result), chunk_frames
        self.checkpoints = Checkpoints(self.run_dir)
        self.encoding = encoding
        self.notes: list[str] = []
        _, self._state = self.checkpoints.open(resume, encoding)
        self._frames_written = self._frames_at_mark = self.checkpoints.resume_point()[0]

    def write(self, frame: torch.Tensor) -> None:
        """Count one (1, 3, H, W) frame (the live output has it)."""
        self._frames_written += 1

    def mark(self, save_state: Callable[[int], str | None]) -> None:
        """Save the renderer's state as the resume point after the frames written so far."""
        state = save_state(self._frames_written)
        self.checkpoints.record([], self._frames_written, state, self._state, self.encoding)
        self._state, self._frames_at_mark = state, self._frames_written

    def finish(self, audio_from: Path | None = None, fit_audio: bool = False) -> Path:
        """The render is complete: no resume point is needed any more."""
        if self.checkpoints.folder.exists():
            self.checkpoints.remove()
        return self.result

    def record_so_far(self, audio_from: Path | None = None) -> Path | None:
        """No recording is kept (``live.record=false``): None."""
        return None

    def __enter__(self) -> ResumeOnlySink:
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is None:
            self.finish()
        return False
