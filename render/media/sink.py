"""Frames into an mp4: H.264 chunks encoded on a writer thread, resumable, joined losslessly at the end.

A render streams frames into ``VideoSink.write``; a writer thread pipes them into
ffmpeg (render/media/encoder.py), so encoding overlaps the dreaming and no frame is
kept in memory beyond a small bounded queue. A chunk is closed only when the renderer
calls ``mark`` (the renderer owns the checkpoint cadence; ``chunk_frames`` is the
cadence it is asked to keep, see ``mark_due``). At each mark the renderer's state is
saved and the resume point recorded (render/media/checkpoints.py, which owns the
folder's layout), so after Ctrl-C or kill -9 a resumed render redoes exactly the frames
after the last mark. Each encoded frame also goes to the frame observers (preview, PNG
frames: render/media/frame_files.py). ``finish`` joins the chunks (render/media/mux.py)
into ``run_dir/<name>.mp4``, with the audio of a source video if asked::

    with VideoSink(run_dir, "dream", fps, width, height, resume=resume) as out:
        start, state_file = Checkpoints(run_dir).resume_point()
        for i in range(start, frames):
            out.write(frame)                          # (1, 3, H, W) float [0, 1], any device
            if out.mark_due:
                snapshot = take_state(i + 1)          # taken now, on the main thread
                out.mark(lambda n, s=snapshot: save(s, n))
        out.finish(audio_from=source)
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import imageio_ffmpeg
import torch

from dream.errors import UserError
from render.media.checkpoints import Checkpoints, MarkCounts, read_manifest
from render.media.chunk_writer import ChunkWriter
from render.media.encoder import Encoding, even_size_filter, fps_fraction, to_uint8_hwc
from render.media.frame_files import FrameFiles
from render.media.mux import concat_chunks

log = logging.getLogger(__name__)



def _to_host(pixels: torch.Tensor) -> tuple[torch.Tensor, torch.cuda.Event | None]:
    """Start copying (H, W, 3) uint8 to CPU; on CUDA a non-blocking copy into pinned memory plus its event."""
    if pixels.device.type != "cuda":
        return pixels.cpu(), None
    host = torch.empty(pixels.shape, dtype=torch.uint8, pin_memory=True)
    host.copy_(pixels, non_blocking=True)
    copied = torch.cuda.Event()
    copied.record(torch.cuda.current_stream(pixels.device))
    return host, copied


class VideoSink(MarkCounts):
    """Streams frames into ``run_dir/<name>.mp4`` via resumable H.264 chunks, encoding on a writer thread
    (render/media/chunk_writer.py). Used as a context manager, as the module's docstring shows.

    Chunks close only on ``mark``: the renderer decides when a checkpoint is worth it
    (``mark_due`` says when ``chunk_frames`` frames have passed since the last one).
    Leaving the ``with`` block by an exception (Ctrl-C included) completes the marks
    already asked for, drops the frames written after the last one, closes the open chunk
    and leaves the manifest at that last mark, so a resume redoes exactly the unmarked frames.
    Leaving it normally finishes the video (without audio) if ``finish`` wasn't called.

    Attributes:
        notes: what was changed about the video and why (odd size, audio), for meta.json.
        path: the final video, ``run_dir/<name>.mp4``.
    """

    def __init__(
        self,
        run_dir: Path,
        name: str,
        fps: float | Fraction,
        width: int,
        height: int,
        *,
        crf: int = 18,
        preset: str = "medium",
        chunk_frames: int = 48,
        queue_size: int = 8,
        preview_every_s: float = 1.0,
        png_frames: bool = False,
        resume: bool = False,
    ):
        if chunk_frames < 1 or queue_size < 1:
            raise UserError(f"chunk_frames={chunk_frames} and queue_size={queue_size} must be at least 1.")
        self.encoding = Encoding(width, height, fps_fraction(fps), crf, preset)
        self.run_dir = Path(run_dir)
        self.chunk_frames = chunk_frames
        self.path = self.run_dir / f"{name}.mp4"
        self.checkpoints = Checkpoints(self.run_dir)
        self.notes: list[str] = []
        if self.path.exists() and not (resume and read_manifest(self.checkpoints.folder)):
            # with a resume point beside it, the file is an endless render's recording up to its last stop
            raise UserError(f"{self.path} exists: that render is finished. Render into a new run folder.")
        chunks, state = self.checkpoints.open(resume, self.encoding.as_manifest())
        self._frames_written = sum(c["frames"] for c in chunks)
        self.frame_files = FrameFiles(self.run_dir, self._frames_written, preview_every_s, png_frames)
        self._frames_at_mark = self._frames_written
        self._finished = False
        self.notes += size_notes(self.encoding)
        self._writer = ChunkWriter(self.checkpoints, self.encoding, chunks, state, self.frame_files, queue_size, name)

    # ----- main thread: the public API

    def write(self, frame: torch.Tensor) -> None:
        """Queue one frame for encoding; blocks while the queue is full, so memory stays bounded.

        Args:
            frame: (1, 3, H, W) or (3, H, W) float RGB in [0, 1] at the sink's size, on any device.
        """
        self._raise_pending()
        width, height = self.encoding.width, self.encoding.height
        if tuple(frame.shape[-2:]) != (height, width):
            raise ValueError(f"frame is {frame.shape[-1]}x{frame.shape[-2]}, the video is {width}x{height}")
        self._writer.put(("frame", *_to_host(to_uint8_hwc(frame))))
        self._frames_written += 1

    def mark(self, save_state: Callable[[int], str | None]) -> None:
        """Checkpoint: once every frame written so far is encoded, close the chunk and save the state.

        Runs on the writer thread, so the main thread goes on dreaming meanwhile: ``save_state``
        must write a state captured when ``mark`` was called, not read live renderer state.

        Args:
            save_state: called as ``save_state(frames_done)`` after the chunk is closed; writes the
                renderer's state file (a new name per checkpoint, e.g. with ``frames_done`` in it, so a
                crash mid-write never spoils the state the manifest points at) into the chunks folder
                and returns its name there. The previous checkpoint's state file is deleted once the new
                manifest is in place.
        """
        self._raise_pending()
        self._writer.put(("mark", save_state, None))
        self._frames_at_mark = self._frames_written

    def finish(self, audio_from: Path | None = None, fit_audio: bool = False) -> Path:
        """Close the last chunk, join all chunks into ``run_dir/<name>.mp4`` and delete them.

        Args:
            audio_from: a video or audio file whose first audio stream is muxed in, cut to the
                video's length; a file without audio is fine.
            fit_audio: a soundtrack: encode it as AAC, padded with silence or trimmed to the video's length.

        Returns:
            The path of the finished video.
        """
        if self._finished:
            return self.path
        self._raise_pending()
        if self._frames_written == 0:
            raise UserError(f"No frames were rendered for {self.path}; render at least one frame (frames=N).")
        if audio_from is not None and not Path(audio_from).is_file():
            raise UserError(f"Audio source {audio_from} does not exist; pass the input video it should come from.")
        self._writer.stop(drop_frames=False)
        self._raise_pending()
        self._join_chunks(audio_from, fit_audio)
        check_frame_count(self.path, self._frames_written, self.checkpoints.folder)
        self.checkpoints.remove()
        self._finished = True
        return self.path

    def record_so_far(self, audio_from: Path | None = None) -> Path | None:
        """An endless render's recording: the frames up to the last mark as ``run_dir/<name>.mp4``, chunks kept.

        Call it after ``mark`` on a stop: the frames after the mark are dropped, the chunks stay for a resume
        (whose next stop writes the file again, longer). ``audio_from`` is looped under the whole video.

        Returns:
            The recording, or None when nothing was marked yet (or the writer could not be stopped).
        """
        self._writer.stop(drop_frames=True)
        self._raise_pending()
        if self._writer.alive or not self._writer.chunks:
            return None
        self._join_chunks(audio_from, fit_audio=True, loop_audio=True)
        return self.path

    def __enter__(self) -> VideoSink:
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is None:
            self.finish()
        elif not self._finished:
            self._writer.stop(drop_frames=True)
        return False

    # ----- main thread: helpers

    def _join_chunks(self, audio_from: Path | None, fit_audio: bool, loop_audio: bool = False) -> None:
        """The closed chunks joined into ``path``, with ``audio_from``'s sound for as long as their frames last."""
        chunks = [self.checkpoints.folder / c["file"] for c in self._writer.chunks]
        seconds = float(sum(c["frames"] for c in self._writer.chunks) / self.encoding.fps)
        audio = Path(audio_from) if audio_from else None
        self.notes += concat_chunks(chunks, self.path, audio, seconds, fit_audio, loop_audio=loop_audio)

    def _raise_pending(self) -> None:
        if self._writer.error is not None:
            raise self._writer.error


def size_notes(encoding: Encoding) -> list[str]:
    """What the encoder changes about an odd frame size, said once (H.264 wants even sides)."""
    _, note = even_size_filter(encoding.width, encoding.height)
    if note:
        log.warning(note)
    return [note] if note else []


def check_frame_count(video: Path, frames: int, chunks_folder: Path) -> None:
    """The joined ``video`` holds the ``frames`` rendered; a UserError that keeps the chunks otherwise."""
    counted, _ = imageio_ffmpeg.count_frames_and_secs(str(video))
    if counted != frames:
        raise UserError(
            f"{video} holds {counted} frames, but {frames} were rendered; its chunks are kept "
            f"in {chunks_folder}. Please report this with the run folder."
        )
