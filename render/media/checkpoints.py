"""Resume points of a video render: the one place that knows the layout of ``RUN_DIR/chunks``.

``chunks/`` holds the encoded chunks (``chunk_NNNNN.mp4``), ffmpeg's log, the renderer's
state at the last resume point (``state_NNNNNN.pt``) and ``manifest.json``, which names the
chunks and the state of that resume point. The manifest is replaced atomically, and a state
file is written whole before it gets its name, so after Ctrl-C or kill -9 the folder describes
the last resume point exactly; whatever a crash left after it is deleted on resume.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import torch

from dream.errors import UserError
from render.media.run_folder import CHUNKS_DIR, MANIFEST, resume_command, write_atomic


def read_manifest(chunks_dir: Path) -> dict | None:
    """The last checkpoint of a run, or None when there is none."""
    path = Path(chunks_dir) / MANIFEST
    return json.loads(path.read_text()) if path.is_file() else None


def write_manifest(chunks_dir: Path, manifest: dict) -> None:
    """Replace the manifest atomically: a crash leaves the old one or the new one, never half of one."""
    write_atomic(Path(chunks_dir) / MANIFEST, json.dumps(manifest, indent=2))


class MarkCounts:
    """What the driver asks a sink before a resume point: frames written, and since the last mark.

    Subclasses keep ``_frames_written``, ``_frames_at_mark`` and ``chunk_frames``.
    """

    chunk_frames: int
    _frames_written: int
    _frames_at_mark: int

    @property
    def frames_written(self) -> int:
        """Frames written so far, counting those kept from before a resume."""
        return self._frames_written

    @property
    def frames_since_mark(self) -> int:
        return self._frames_written - self._frames_at_mark

    @property
    def mark_due(self) -> bool:
        """True once ``chunk_frames`` frames have been written since the last mark."""
        return self.frames_since_mark >= self.chunk_frames


class Checkpoints:
    """The chunks and resume points of the video in ``run_dir``."""

    def __init__(self, run_dir: Path):
        self.run_dir = Path(run_dir)
        self.folder = self.run_dir / CHUNKS_DIR

    def chunk(self, number: int) -> Path:
        return self.folder / f"chunk_{number:05d}.mp4"

    @property
    def ffmpeg_log(self) -> Path:
        return self.folder / "ffmpeg.log"

    def resume_point(self) -> tuple[int, str | None]:
        """(frames already in the video, the name of the renderer's state saved with them); (0, None) for a new run."""
        manifest = read_manifest(self.folder)
        return (0, None) if manifest is None else (manifest["frames_done"], manifest["state"])

    def resume_state(self) -> tuple[int, dict[str, torch.Tensor] | None]:
        """(frames already in the video, the renderer's state saved with them, on the CPU); (0, None) for a new run."""
        frames_done, name = self.resume_point()
        if name is None:
            return frames_done, None
        return frames_done, torch.load(self.folder / name, map_location="cpu", weights_only=True)

    def saver(self, snapshot: dict[str, torch.Tensor]) -> Callable[[int], str]:
        """A callable for ``VideoSink.mark`` that saves ``snapshot`` (tensors) as the resume state.

        The file is written whole before it gets its name, so a render killed mid-write leaves the
        previous state in place. A write that fails (a full disk) removes its partial file and is a
        ``UserError`` saying so; the previous resume point stays as it was.
        """

        def save(frames_done: int) -> str:
            name = f"state_{frames_done:06d}.pt"
            partial = self.folder / f"{name}.partial"
            try:
                torch.save(snapshot, partial)
                partial.replace(self.folder / name)
            except (OSError, RuntimeError) as err:  # torch's own writer reports a full disk as a RuntimeError
                partial.unlink(missing_ok=True)
                raise self._save_failed(err) from None
            return name  # the previous state is deleted once the manifest names this one

        return save

    def _save_failed(self, err: BaseException) -> UserError:
        frames_kept, _ = self.resume_point()
        kept = f"the previous one ({frames_kept} frames) is kept" if frames_kept else "no earlier one was written"
        reason = str(err).strip().splitlines()[-1] if str(err).strip() else type(err).__name__
        return UserError(
            f"Writing a resume point into {self.folder} failed ({reason}), so the render stopped; {kept} and "
            f"nothing half-written was left. Free space on that disk (or check the folder is writable), then "
            f"continue with: {resume_command(self.run_dir)}"
        )

    def open(self, resume: bool, encoding: dict) -> tuple[list[dict], str | None]:
        """Refuse to overwrite a run; on resume keep its checkpointed chunks. Returns (chunks, state file).

        Args:
            encoding: what all chunks share (size, rate, encoder settings); a resume must match it.
        """
        manifest = read_manifest(self.folder)
        if manifest is not None and not resume:
            raise UserError(
                f"{self.run_dir} holds an interrupted render ({self.folder / MANIFEST}). Continue it with "
                f"resume, or render into a new run folder; a run is never overwritten."
            )
        if manifest is None:
            manifest = {"chunks": [], "state": None}
        else:
            self._check_matches(manifest, encoding)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._keep_only(manifest["chunks"], manifest["state"])
        return manifest["chunks"], manifest["state"]

    def record(self, chunks: list[dict], frames_done: int, state: str | None, previous_state: str | None,
               encoding: dict) -> None:
        """Make the chunks and ``state`` the resume point, then delete the previous resume point's state."""
        write_manifest(self.folder, {"chunks": chunks, "frames_done": frames_done, "state": state, **encoding})
        if previous_state and previous_state != state:
            (self.folder / previous_state).unlink(missing_ok=True)

    def remove(self) -> None:
        """Delete the chunks and states once the video is whole."""
        shutil.rmtree(self.folder)

    def _keep_only(self, chunks: list[dict], state: str | None) -> None:
        """Delete what a crash left after the last checkpoint (its frames are redone); check the rest is there."""
        keep = {MANIFEST, state} | {c["file"] for c in chunks}
        for path in self.folder.iterdir():
            if path.name in keep:
                continue
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()
        missing = [c["file"] for c in chunks if not (self.folder / c["file"]).is_file()]
        if missing:
            raise UserError(
                f"{self.folder} lacks {', '.join(missing)}, named in its manifest, so the render can't be "
                f"continued. Start a new render in a new run folder."
            )

    def _check_matches(self, manifest: dict, encoding: dict) -> None:
        """Chunks joined without re-encoding must share size, rate and encoder settings."""
        changed = [f"{key} {manifest.get(key)} -> {value}" for key, value in encoding.items()
                   if manifest.get(key) != value]
        if changed:
            raise UserError(
                f"Can't continue the render in {self.run_dir} with other video settings ({'; '.join(changed)}): "
                f"its chunks are joined without re-encoding. Resume with the run's saved config."
            )
