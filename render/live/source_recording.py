"""A live video dream's source as the dream had it, kept so that ``replay=RUN_DIR`` can dream it again.

A live source is gone once played, and which of its frames the dream took depends on the moment (a
slow dream skips frames, ``dream.cadence=auto`` picks its dreams by the measured speed). So the live
video dream records, in its live folder, each source frame it used, in order and losslessly
(``input.mkv``: RGB H.264 at quantiser 0), and which frames it dreamed rather than carried along the
flow (``dreamed.txt``, a frame index a line). The replay reads that recording in order instead of the
live source (``RecordedInput``) and dreams the same frames, so at the same size and seed it makes the
live recording's frames again; at another size the recorded frames are scaled.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg
import torch

from dream.errors import UserError
from render.media.encoder import to_uint8_hwc
from render.media.video_source import iter_video_frames

SOURCE_FILE = "input.mkv"  # in the live folder
DREAMED_FILE = "dreamed.txt"  # in the live folder: the frames dreamed (the others were carried)


class SourceRecording:
    """Writes the source frames a live video dream uses into ``folder`` (module docstring), from frame 0."""

    def __init__(self, folder: Path, width: int, height: int, fps: float):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / DREAMED_FILE).write_text("")
        self._writer = imageio_ffmpeg.write_frames(
            str(self.folder / SOURCE_FILE), (width, height), fps=fps, codec="libx264rgb", pix_fmt_in="rgb24",
            pix_fmt_out="rgb24", output_params=["-qp", "0", "-preset", "ultrafast"], macro_block_size=1,
            ffmpeg_log_level="error")
        self._writer.send(None)  # starts ffmpeg
        self._index = 0

    def write(self, source: torch.Tensor, dreamed: bool) -> None:
        """Keep ``source`` (1, 3, H, W) in [0, 1], the next frame's, and whether it was dreamed."""
        self._writer.send(to_uint8_hwc(source).cpu().numpy())
        if dreamed:
            with open(self.folder / DREAMED_FILE, "a") as dreamed_file:
                dreamed_file.write(f"{self._index}\n")
        self._index += 1

    def close(self) -> None:
        self._writer.close()


def forget_recording(folder: Path) -> None:
    """Remove a recording that no longer covers the whole performance (a resumed live input starts anew)."""
    for name in (SOURCE_FILE, DREAMED_FILE):
        (Path(folder) / name).unlink(missing_ok=True)


def recorded_source(live_folder: Path, run_dir: Path) -> Path:
    """The recording a replay dreams over; a UserError naming why when the performance has none."""
    path = Path(live_folder) / SOURCE_FILE
    if not path.is_file() or not (Path(live_folder) / DREAMED_FILE).is_file():
        raise UserError(f"replay={run_dir} is a live dream over a live source, and its run folder has no recording "
                        f"of that source (live/{SOURCE_FILE}): it was made before sources were recorded, or it was "
                        f"resumed, which starts the recording anew. Perform it again with make live to replay it.")
    return path


@dataclass
class NothingSkipped:
    """A recording's counts in ``LiveInput.latest``'s terms: every frame is had, none skipped."""

    received: int = 0
    skipped: int = 0


class RecordedInput:
    """Stands in for ``LiveInput`` in a replay: the recorded source frames in order, at (width, height), and the
    frames the performance dreamed (``dreamed``)."""

    reopened = 0

    def __init__(self, path: Path, width: int, height: int, device: torch.device):
        self.frames = iter_video_frames(path, size=(width, height), device=device)
        self.dreamed = {int(line) for line in (Path(path).parent / DREAMED_FILE).read_text().split()}
        self.latest = NothingSkipped()

    def __enter__(self) -> RecordedInput:
        return self

    def next_frame(self, device: torch.device, timeout_s: float = 0.0) -> torch.Tensor | None:
        """(1, 3, H, W) float in [0, 1]: the next recorded frame; None after the last."""
        return next(self.frames, None)

    def close(self) -> None:
        self.frames.close()
