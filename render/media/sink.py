"""Frames into an mp4: H.264 chunks encoded on a writer thread, resumable, joined losslessly at the end.

A render streams frames into ``VideoSink.write``; a writer thread pipes them into
ffmpeg, so encoding overlaps the dreaming and no frame is kept in memory beyond a
small bounded queue. Frames go into ``run_dir/chunks/chunk_NNNNN.mp4``. A chunk is
closed only when the renderer calls ``mark`` (the renderer owns the checkpoint
cadence; ``chunk_frames`` is the cadence it is asked to keep, see ``mark_due``).
At each mark the renderer's state is saved and ``chunks/manifest.json`` is
replaced atomically, so after Ctrl-C or kill -9 a resumed render redoes exactly the
frames after the last mark. ``finish`` joins the chunks with ffmpeg's concat
demuxer (stream copy, no re-encode) into ``run_dir/<name>.mp4``, with the audio
of a source video if asked.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import imageio.v3 as iio
import imageio_ffmpeg
import numpy as np
import torch

from dream.errors import UserError
from render.media.run_folder import write_atomic

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
X264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")
STOP_TIMEOUT_S = 30.0  # how long an interrupted sink waits for ffmpeg to close its chunk before killing it
LOG_TAIL_CHARS = 1500


def to_uint8_hwc(frame: torch.Tensor) -> torch.Tensor:
    """The one place frames become bytes: float [0, 1] RGB -> uint8, on the frame's device.

    Args:
        frame: (1, 3, H, W) or (3, H, W) float in [0, 1]; values outside are clamped.

    Returns:
        (H, W, 3) uint8, contiguous, on ``frame.device``.
    """
    if frame.dim() == 4 and frame.shape[0] == 1:
        frame = frame[0]
    if frame.dim() != 3 or frame.shape[0] != 3:
        raise ValueError(f"expected a (1, 3, H, W) or (3, H, W) RGB frame, got shape {tuple(frame.shape)}")
    pixels = frame.detach().mul(255).clamp_(0, 255).round_().to(torch.uint8)  # in place: fewest passes
    return pixels.permute(1, 2, 0).contiguous()


def fps_fraction(fps: float | Fraction) -> Fraction:
    """The exact frame rate ffmpeg is given: 29.97002997 -> 30000/1001, 25.0 -> 25."""
    return fps if isinstance(fps, Fraction) else Fraction(fps).limit_denominator(100_000)


def even_size_filter(width: int, height: int) -> tuple[list[str], str | None]:
    """ffmpeg arguments that make an odd size even, and the note saying so.

    yuv420p stores colour per 2x2 block, so H.264 in yuv420p needs even sides, and
    H.264 can only crop whole chroma blocks, so an odd size can't be stored exactly.
    Padding by one repeated column/row keeps every rendered pixel (cropping would drop
    one, scaling would blur all); players show the extra line, which matches its neighbour.

    Returns:
        (output arguments, note) — ``([], None)`` when the size is already even.
    """
    pad_w, pad_h = width % 2, height % 2
    if not (pad_w or pad_h):
        return [], None
    stored_w, stored_h = width + pad_w, height + pad_h
    vf = f"pad={stored_w}:{stored_h}:0:0,fillborders=right={pad_w}:bottom={pad_h}:mode=smear"
    note = (
        f"Video size {width}x{height} has an odd side, and H.264 yuv420p needs even sides: the mp4 is stored "
        f"as {stored_w}x{stored_h}, with the last column/row repeated (no pixel cropped or scaled). "
        f"Use even width and height to avoid this."
    )
    return ["-vf", vf], note


@dataclass(frozen=True)
class Encoding:
    """What all chunks of one video share, so that they join without re-encoding."""

    width: int
    height: int
    fps: Fraction
    crf: int = 18
    preset: str = "medium"

    def __post_init__(self):
        if not self.fps > 0:
            raise UserError(f"fps={self.fps} must be a positive number of frames per second, e.g. 30 or 30000/1001.")
        if self.width < 2 or self.height < 2:
            raise UserError(f"Video size {self.width}x{self.height} is too small; H.264 needs at least 2x2 pixels.")
        if not 0 <= self.crf <= 51:
            raise UserError(f"crf={self.crf} is outside 0..51 (0 lossless, 18 visually lossless, 23 x264's default).")
        if self.preset not in X264_PRESETS:
            raise UserError(f"preset={self.preset} is not an x264 preset; use one of {', '.join(X264_PRESETS)}.")

    def as_manifest(self) -> dict:
        return {
            "fps": float(self.fps),
            "fps_exact": str(self.fps),
            "width": self.width,
            "height": self.height,
            "crf": self.crf,
            "preset": self.preset,
        }


def _log_tail(log_path: Path) -> str:
    if not log_path.is_file():
        return "(no ffmpeg output)"
    text = log_path.read_text(errors="replace").strip()
    return text[-LOG_TAIL_CHARS:] or "(no ffmpeg output)"


def _ffmpeg_error(what: str, stderr_tail: str, where: Path) -> UserError:
    return UserError(
        f"ffmpeg failed while {what}. Its last words: {stderr_tail.strip()} -- Check that {where} is writable and "
        f"its disk has free space, then continue the render with resume (the frames up to the last checkpoint "
        f"are kept)."
    )


class ChunkEncoder:
    """One ffmpeg process: raw RGB frames on its stdin, one H.264 mp4 chunk out.

    The same pipe as ``imageio_ffmpeg.write_frames``, except that ffmpeg's messages go
    into ``log_path`` instead of straight to the console, so that their tail can go into
    the error when ffmpeg fails (a file, not a pipe: a chatty ffmpeg can never block).
    """

    def __init__(self, path: Path, encoding: Encoding, log_path: Path):
        self.path, self.log_path, self.frames = path, log_path, 0
        e = encoding
        even_args, _ = even_size_filter(e.width, e.height)
        cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-v", "error", "-y", "-f", "rawvideo"]
        cmd += ["-pix_fmt", "rgb24", "-s", f"{e.width}x{e.height}", "-r", str(e.fps), "-i", "-", "-an", *even_args]
        # No B-frames: a chunk of 1-2 frames has no reorder delay while longer ones do, and joining
        # chunks of both kinds without re-encoding shifts timestamps (players then repeat frames).
        cmd += ["-c:v", "libx264", "-preset", e.preset, "-crf", str(e.crf), "-bf", "0", "-pix_fmt", "yuv420p"]
        with open(log_path, "ab") as log_file:
            # A session of its own: Ctrl-C reaches Python, not ffmpeg, so the chunk is closed by us, cleanly.
            self._proc = subprocess.Popen(
                [*cmd, str(path)],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=log_file,
                start_new_session=True,
            )

    def write(self, pixels: np.ndarray) -> None:
        """Feed one (H, W, 3) uint8 frame."""
        try:
            self._proc.stdin.write(pixels.data)
        except OSError:
            self._proc.wait()
            raise _ffmpeg_error(f"encoding {self.path.name}", _log_tail(self.log_path), self.path.parent) from None
        self.frames += 1

    def close(self, timeout: float | None = None) -> int:
        """End the stream and wait for ffmpeg to finish the file; returns the frame count."""
        try:
            self._proc.stdin.close()
        except OSError:
            pass  # ffmpeg is gone already; its exit status below says why
        try:
            code = self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            code = self._proc.wait()
        if code != 0:
            raise _ffmpeg_error(f"closing {self.path.name}", _log_tail(self.log_path), self.path.parent)
        return self.frames


def read_manifest(chunks_dir: Path) -> dict | None:
    """The last checkpoint of a run, or None when there is none."""
    path = Path(chunks_dir) / MANIFEST
    return json.loads(path.read_text()) if path.is_file() else None


def write_manifest(chunks_dir: Path, manifest: dict) -> None:
    """Replace the manifest atomically: a crash leaves the old one or the new one, never half of one."""
    write_atomic(Path(chunks_dir) / MANIFEST, json.dumps(manifest, indent=2))


def write_image_atomic(path: Path, pixels: np.ndarray) -> None:
    """Write (H, W, 3) uint8 as an image (format from the suffix); readers never see half a file."""
    partial = path.with_name(path.stem + ".partial" + path.suffix)
    iio.imwrite(partial, pixels)
    os.replace(partial, path)


def state_writer(run_dir: Path, snapshot: dict) -> Callable[[int], str]:
    """A callable for ``VideoSink.mark`` that saves ``snapshot`` (tensors) as the resume state.

    The file is written whole before it gets its name, so a render killed mid-write
    leaves the previous state in place.
    """

    def save(frames_done: int) -> str:
        name = f"state_{frames_done:06d}.pt"
        partial = run_dir / "chunks" / f"{name}.partial"
        torch.save(snapshot, partial)
        partial.replace(run_dir / "chunks" / name)
        return name  # the sink deletes the previous state once the manifest names this one

    return save


def concat_chunks(chunks: list[Path], out: Path, audio_from: Path | None, seconds: float,
                  fit_audio: bool = False, listing: Path | None = None) -> list[str]:
    """Join mp4 chunks without re-encoding into ``out`` (+faststart), with ``audio_from``'s audio if any.

    ``listing`` is where ffmpeg's list of the chunks is written (default: beside the first chunk).

    The audio is copied unchanged and cut to the video's length (``seconds``); the video
    is never cut to the audio's. Audio that mp4 can't hold as is gets re-encoded to AAC.
    With ``fit_audio`` (a soundtrack) it is always AAC, padded with silence or trimmed
    to exactly the video's length.

    Returns:
        Notes for meta.json about what was done to the audio (empty when nothing special).
    """
    listing = listing or chunks[0].parent / "concat.txt"
    # ffmpeg resolves the listed paths from the listing's folder; a quote in a name is escaped as '\''
    names = (os.path.relpath(c, listing.parent).replace("'", "'\\''") for c in chunks)
    listing.write_text("".join(f"file '{name}'\n" for name in names))
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-v", "error", "-y", "-f", "concat", "-safe", "0"]
    cmd += ["-i", str(listing)]
    if audio_from is not None:
        cmd += ["-t", f"{seconds:.6f}", "-i", str(audio_from), "-map", "0:v:0", "-map", "1:a:0?"]
    partial = out.with_name(out.stem + ".partial.mp4")
    tail = ["-movflags", "+faststart", str(partial)]
    if audio_from is not None and fit_audio:
        tail = ["-af", "apad", "-t", f"{seconds:.6f}", *tail]  # apad makes it endless; -t ends both streams
    reencode_audio = ["-c:v", "copy", "-c:a", "aac", "-b:a", "192k"]
    result = subprocess.run([*cmd, *(reencode_audio if fit_audio else ["-c", "copy"]), *tail], capture_output=True,
                            text=True)
    notes = []
    if result.returncode != 0 and audio_from is not None and not fit_audio:  # AAC already failed with fit_audio
        result = subprocess.run([*cmd, *reencode_audio, *tail], capture_output=True, text=True)
        notes.append(f"The audio of {audio_from} can't be stored in mp4 as it is; it was re-encoded to AAC 192k.")
    if result.returncode != 0:
        raise _ffmpeg_error(f"joining the chunks into {out.name}", result.stderr[-LOG_TAIL_CHARS:], out.parent)
    os.replace(partial, out)
    return notes


def _to_host(pixels: torch.Tensor) -> tuple[torch.Tensor, torch.cuda.Event | None]:
    """Start copying (H, W, 3) uint8 to CPU; on CUDA a non-blocking copy into pinned memory plus its event."""
    if pixels.device.type != "cuda":
        return pixels.cpu(), None
    host = torch.empty(pixels.shape, dtype=torch.uint8, pin_memory=True)
    host.copy_(pixels, non_blocking=True)
    copied = torch.cuda.Event()
    copied.record(torch.cuda.current_stream(pixels.device))
    return host, copied


class VideoSink:
    """Streams frames into ``run_dir/<name>.mp4`` via resumable H.264 chunks, encoding on a writer thread.

    Use as a context manager::

        with VideoSink(run_dir, "dream", fps, width, height, resume=resume) as out:
            start, state_file = VideoSink.resume_point(run_dir)
            for i in range(start, frames):
                out.write(frame)                          # (1, 3, H, W) float [0, 1], any device
                if out.mark_due:
                    snapshot = take_state(i + 1)          # taken now, on the main thread
                    out.mark(lambda n, s=snapshot: save(s, n))
            out.finish(audio_from=source)

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
        self.chunk_frames, self.preview_every_s, self.png_frames = chunk_frames, preview_every_s, png_frames
        self.path = self.run_dir / f"{name}.mp4"
        self.chunks_dir = self.run_dir / "chunks"
        self.notes: list[str] = []
        self._chunks, self._state = self._open_chunks_dir(resume)
        self._frames_written = self._frames_encoded = sum(c["frames"] for c in self._chunks)
        self._frames_at_mark = self._frames_written
        self._marks_sent = self._marks_done = 0
        self._encoder: ChunkEncoder | None = None
        self._error: BaseException | None = None
        self._last_preview_at, self._latest = -float("inf"), None
        self._finished = False
        self._announce_size_change()
        self._queue: queue.Queue = queue.Queue(maxsize=queue_size)
        self._dropping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"VideoSink-{name}", daemon=True)
        self._thread.start()

    # ----- main thread: the public API

    @staticmethod
    def resume_point(run_dir: Path) -> tuple[int, str | None]:
        """(frames already in the video, the renderer's state file saved with them) — (0, None) for a new run."""
        manifest = read_manifest(Path(run_dir) / "chunks")
        return (0, None) if manifest is None else (manifest["frames_done"], manifest["state"])

    @property
    def frames_written(self) -> int:
        """Frames in the video so far, counting those kept from before a resume."""
        return self._frames_written

    @property
    def frames_since_mark(self) -> int:
        return self._frames_written - self._frames_at_mark

    @property
    def mark_due(self) -> bool:
        """True once ``chunk_frames`` frames have been written since the last mark."""
        return self._frames_written - self._frames_at_mark >= self.chunk_frames

    def write(self, frame: torch.Tensor) -> None:
        """Queue one frame for encoding; blocks while the queue is full, so memory stays bounded.

        Args:
            frame: (1, 3, H, W) or (3, H, W) float RGB in [0, 1] at the sink's size, on any device.
        """
        self._raise_pending()
        width, height = self.encoding.width, self.encoding.height
        if tuple(frame.shape[-2:]) != (height, width):
            raise ValueError(f"frame is {frame.shape[-1]}x{frame.shape[-2]}, the video is {width}x{height}")
        self._put(("frame", *_to_host(to_uint8_hwc(frame))))
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
        self._put(("mark", save_state, None))
        self._marks_sent += 1
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
        self._stop(drop_frames=False)
        self._raise_pending()
        chunks = [self.chunks_dir / c["file"] for c in self._chunks]
        seconds = float(self._frames_written / self.encoding.fps)
        self.notes += concat_chunks(chunks, self.path, Path(audio_from) if audio_from else None, seconds, fit_audio)
        self._check_frame_count()
        shutil.rmtree(self.chunks_dir)
        self._finished = True
        return self.path

    def __enter__(self) -> VideoSink:
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is None:
            self.finish()
        elif not self._finished:
            self._stop(drop_frames=True)
        return False

    # ----- main thread: helpers

    def _open_chunks_dir(self, resume: bool) -> tuple[list[dict], str | None]:
        """Refuse to overwrite a run; on resume keep its checkpointed chunks. Returns (chunks, state file)."""
        if self.path.exists():
            raise UserError(f"{self.path} exists: that render is finished. Render into a new run folder.")
        manifest = read_manifest(self.chunks_dir)
        if manifest is not None and not resume:
            raise UserError(
                f"{self.run_dir} holds an interrupted render ({self.chunks_dir / MANIFEST}). Continue it with "
                f"resume, or render into a new run folder; a run is never overwritten."
            )
        if manifest is None:
            manifest = {"chunks": [], "state": None}
        else:
            self._check_matches(manifest)
        self.chunks_dir.mkdir(parents=True, exist_ok=True)
        self._keep_only(manifest["chunks"])
        return manifest["chunks"], manifest["state"]

    def _keep_only(self, chunks: list[dict]) -> None:
        """Delete what a crash left after the last checkpoint (its frames are redone); check the rest is there."""
        keep = {MANIFEST} | {c["file"] for c in chunks}
        for path in self.chunks_dir.iterdir():
            if path.name in keep:
                continue
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()
        missing = [c["file"] for c in chunks if not (self.chunks_dir / c["file"]).is_file()]
        if missing:
            raise UserError(
                f"{self.chunks_dir} lacks {', '.join(missing)}, named in its manifest, so the render can't be "
                f"continued. Start a new render in a new run folder."
            )

    def _check_matches(self, manifest: dict) -> None:
        """Chunks joined without re-encoding must share size, rate and encoder settings."""
        now = self.encoding.as_manifest()
        changed = [f"{key} {manifest.get(key)} -> {value}" for key, value in now.items() if manifest.get(key) != value]
        if changed:
            raise UserError(
                f"Can't continue the render in {self.run_dir} with other video settings ({'; '.join(changed)}): "
                f"its chunks are joined without re-encoding. Resume with the run's saved config."
            )

    def _announce_size_change(self) -> None:
        _, note = even_size_filter(self.encoding.width, self.encoding.height)
        if note:
            log.warning(note)
            self.notes.append(note)

    def _put(self, item: tuple) -> None:
        """Queue ``item``, waiting while the queue is full; never waits on a writer thread that is gone."""
        while True:
            if not self._thread.is_alive():
                self._raise_pending()
                raise RuntimeError(f"the video sink for {self.path} is closed; nothing more can be written to it")
            try:
                self._queue.put(item, timeout=0.5)
                return
            except queue.Full:
                pass

    def _raise_pending(self) -> None:
        if self._error is not None:
            raise self._error

    def _stop(self, drop_frames: bool) -> None:
        """End the writer thread: finish the open chunk, or (interrupts) drop the frames after the last mark."""
        if not self._thread.is_alive():
            return
        if not drop_frames:
            self._put(("stop", None, None))
            self._thread.join()
            return
        self._dropping.set()
        try:
            self._queue.put(("stop", None, None), timeout=STOP_TIMEOUT_S)
        except queue.Full:
            return  # the writer is stuck in ffmpeg; it is a daemon thread, so it can't keep the process alive
        self._thread.join(STOP_TIMEOUT_S + 5)

    def _check_frame_count(self) -> None:
        frames, _ = imageio_ffmpeg.count_frames_and_secs(str(self.path))
        if frames != self._frames_written:
            raise UserError(
                f"{self.path} holds {frames} frames, but {self._frames_written} were rendered; its chunks are kept "
                f"in {self.chunks_dir}. Please report this with the run folder."
            )

    # ----- writer thread

    def _run(self) -> None:
        while True:
            kind, payload, copied = self._queue.get()
            if kind == "stop":
                interrupted = self._error is not None or self._dropping.is_set()
                self._guarded(self._drop_chunk if interrupted else self._close_chunk)
                return
            if self._error is not None or self._past_last_mark():
                continue  # keep draining, so write() never blocks on a writer that has given up
            if kind == "frame":
                self._guarded(self._encode, payload, copied)
            else:
                self._guarded(self._checkpoint, payload)

    def _guarded(self, step: Callable, *args) -> None:
        """Run one step; a failure is kept for the main thread's next call and the open chunk dropped."""
        try:
            step(*args)
        except BaseException as err:
            self._error = err if isinstance(err, UserError) else _as_user_error(err, self.run_dir)
            self._drop_chunk()

    def _past_last_mark(self) -> bool:
        """After an interrupt, once the last checkpoint asked for is done: the frames still queued are dropped."""
        return self._dropping.is_set() and self._marks_done == self._marks_sent

    def _encode(self, host: torch.Tensor, copied: torch.cuda.Event | None) -> None:
        if copied is not None:
            copied.synchronize()
        pixels = host.numpy()
        if self._encoder is None:
            name = f"chunk_{len(self._chunks):05d}.mp4"
            self._encoder = ChunkEncoder(self.chunks_dir / name, self.encoding, self.chunks_dir / "ffmpeg.log")
        self._encoder.write(pixels)
        if self.png_frames:
            (self.run_dir / "frames").mkdir(exist_ok=True)
            write_image_atomic(self.run_dir / "frames" / f"frame_{self._frames_encoded:06d}.png", pixels)
        self._frames_encoded += 1
        self._latest = pixels
        if time.monotonic() - self._last_preview_at >= self.preview_every_s:
            self._save_preview()

    def _save_preview(self) -> None:
        if self._latest is not None:
            write_image_atomic(self.run_dir / "preview.jpg", self._latest)
            self._last_preview_at = time.monotonic()

    def _close_chunk(self) -> None:
        """Finish the open chunk's file and list it among the chunks the video is made of."""
        encoder, self._encoder = self._encoder, None
        if encoder is not None:
            self._chunks.append({"file": encoder.path.name, "frames": encoder.close()})
            self._save_preview()

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
        state = save_state(self._frames_encoded)
        write_manifest(
            self.chunks_dir,
            {
                "chunks": self._chunks,
                "frames_done": self._frames_encoded,
                "state": state,
                **self.encoding.as_manifest(),
            },
        )
        if self._state and self._state != state:
            (self.chunks_dir / self._state).unlink(missing_ok=True)
        self._state = state
        self._marks_done += 1


def _as_user_error(err: BaseException, run_dir: Path) -> BaseException:
    """Disk errors become UserErrors; anything else is a bug and keeps its type and traceback."""
    if isinstance(err, OSError):
        return UserError(
            f"Writing the video into {run_dir} failed: {err}. Check that the folder is writable and "
            f"its disk has free space, then continue the render with resume."
        )
    return err
