"""The video sink's writer thread: frames piped into ffmpeg chunks, closed and recorded at each mark.

``ChunkWriter`` runs on its own thread and owns everything the thread touches: the open chunk's
encoder (render/media/encoder.py), the closed chunks, the frame observers (preview, PNG frames)
and the resume points it records (render/media/checkpoints.py). ``VideoSink`` (render/media/sink.py)
is its face on the render's thread: it queues frames and marks here and reads the chunks once the
thread has ended.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from pathlib import Path

import torch

from dream.errors import UserError
from render.media.checkpoints import Checkpoints
from render.media.encoder import ChunkEncoder, Encoding
from render.media.frame_files import FrameFiles

STOP_TIMEOUT_S = 30.0  # how long an interrupted sink waits for ffmpeg to close its chunk before killing it


class ChunkWriter:
    """Encodes queued frames into chunks on a thread of its own; a mark closes the chunk and records a resume point.

    Args:
        checkpoints: the run folder's chunks and resume points.
        encoding: size, frame rate and quality of every chunk.
        chunks: the chunks already closed (a resumed render's), as the manifest lists them.
        state: the resume point's state file now in the manifest (None before the first).
        frame_files: the observers each encoded frame goes to.
        queue_size: frames waiting at most; ``put`` blocks beyond it, so memory stays bounded.
    """

    def __init__(self, checkpoints: Checkpoints, encoding: Encoding, chunks: list[dict], state: str | None,
                 frame_files: FrameFiles, queue_size: int, name: str):
        self.checkpoints, self.encoding, self.chunks, self.state = checkpoints, encoding, chunks, state
        self.frame_files = frame_files
        self.frames_encoded = sum(c["frames"] for c in chunks)
        self.marks_sent = self.marks_done = 0
        self.error: BaseException | None = None
        self._encoder: ChunkEncoder | None = None
        self._queue: queue.Queue = queue.Queue(maxsize=queue_size)
        self._dropping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"VideoSink-{name}", daemon=True)
        self._thread.start()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def put(self, item: tuple) -> None:
        """Queue ``item`` (kind, payload, event), waiting while the queue is full; never on a thread that is gone."""
        while True:
            if not self._thread.is_alive():
                if self.error is not None:
                    raise self.error
                folder = self.checkpoints.run_dir
                raise RuntimeError(f"the video sink in {folder} is closed; nothing more can be written to it")
            try:
                self._queue.put(item, timeout=0.5)
                if item[0] == "mark":
                    self.marks_sent += 1
                return
            except queue.Full:
                pass

    def stop(self, drop_frames: bool) -> None:
        """End the thread: finish the open chunk, or (interrupts) drop the frames after the last mark."""
        if not self._thread.is_alive():
            return
        if not drop_frames:
            self.put(("stop", None, None))
            self._thread.join()
            return
        self._dropping.set()
        try:
            self._queue.put(("stop", None, None), timeout=STOP_TIMEOUT_S)
        except queue.Full:
            return  # the writer is stuck in ffmpeg; it is a daemon thread, so it can't keep the process alive
        self._thread.join(STOP_TIMEOUT_S + 5)

    # ----- the writer thread

    def _run(self) -> None:
        while True:
            kind, payload, copied = self._queue.get()
            if kind == "stop":
                interrupted = self.error is not None or self._dropping.is_set()
                self._guarded(self._drop_chunk if interrupted else self._close_chunk)
                return
            if self.error is not None or self._past_last_mark():
                continue  # keep draining, so put() never blocks on a writer that has given up
            if kind == "frame":
                self._guarded(self._encode, payload, copied)
            else:
                self._guarded(self._checkpoint, payload)

    def _guarded(self, step: Callable, *args) -> None:
        """Run one step; a failure is kept for the render's thread and the open chunk dropped."""
        try:
            step(*args)
        except BaseException as err:
            self.error = err if isinstance(err, UserError) else _as_user_error(err, self.checkpoints.run_dir)
            self._drop_chunk()

    def _past_last_mark(self) -> bool:
        """After an interrupt, once the last checkpoint asked for is done: the frames still queued are dropped."""
        return self._dropping.is_set() and self.marks_done == self.marks_sent

    def _encode(self, host: torch.Tensor, copied: torch.cuda.Event | None) -> None:
        if copied is not None:
            copied.synchronize()
        pixels = host.numpy()
        if self._encoder is None:
            chunk = self.checkpoints.chunk(len(self.chunks))
            self._encoder = ChunkEncoder(chunk, self.encoding, self.checkpoints.ffmpeg_log)
        self._encoder.write(pixels)
        self.frame_files(pixels)
        self.frames_encoded += 1

    def _close_chunk(self) -> None:
        """Finish the open chunk's file and list it among the chunks the video is made of."""
        encoder, self._encoder = self._encoder, None
        if encoder is not None:
            self.chunks.append({"file": encoder.path.name, "frames": encoder.close()})
            self.frame_files.save_preview()

    def _drop_chunk(self) -> None:
        """Close the open chunk's file without listing it: its frames are redone on resume."""
        encoder, self._encoder = self._encoder, None
        if encoder is not None:
            try:
                encoder.close(STOP_TIMEOUT_S)
            except UserError:
                pass  # the chunk is discarded anyway; the error that got us here is the one to report

    def _checkpoint(self, save_state: Callable[[int], str | None]) -> None:
        self._close_chunk()
        state = save_state(self.frames_encoded)
        self.checkpoints.record(self.chunks, self.frames_encoded, state, self.state, self.encoding.as_manifest())
        self.state = state
        self.marks_done += 1


def _as_user_error(err: BaseException, run_dir: Path) -> BaseException:
    """Disk errors become UserErrors; anything else is a bug and keeps its type and traceback."""
    if isinstance(err, OSError):
        return UserError(
            f"Writing the video into {run_dir} failed: {err}. Check that the folder is writable and "
            f"its disk has free space, then continue the render with resume."
        )
    return err
