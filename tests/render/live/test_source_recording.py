"""The live source's recording: kept losslessly with the frames dreamed, read back in order, replayed exactly."""

import numpy as np
import pytest
import torch
from PIL import Image

from dream.errors import UserError
from render.live.replay import replay_config
from render.live.source_recording import (
    DREAMED_FILE,
    SOURCE_FILE,
    RecordedInput,
    SourceRecording,
    forget_recording,
    recorded_source,
)
from render.run import run
from tests.compose import compose_preset
from tests.render.media.test_video_source import make_clip

CPU = torch.device("cpu")


def test_the_recording_gives_back_every_frame_exactly_and_the_frames_dreamed(tmp_path):
    generator = torch.Generator().manual_seed(0)
    frames = [(torch.rand(1, 3, 18, 30, generator=generator) * 255).round() / 255 for _ in range(4)]
    recording = SourceRecording(tmp_path, 30, 18, 12.0)
    for index, frame in enumerate(frames):
        recording.write(frame, dreamed=index % 2 == 0)
    recording.close()
    source = RecordedInput(recorded_source(tmp_path, tmp_path), 30, 18, CPU)
    back = [source.next_frame(CPU) for _ in range(4)]
    assert source.next_frame(CPU) is None and source.dreamed == {0, 2}
    source.close()
    assert all(torch.equal(a, b) for a, b in zip(frames, back, strict=True))


def test_a_performance_without_its_whole_recording_is_refused_with_the_reason(tmp_path):
    (tmp_path / SOURCE_FILE).write_bytes(b"")
    (tmp_path / DREAMED_FILE).write_text("0\n")
    forget_recording(tmp_path)
    with pytest.raises(UserError, match="no recording of that source.*resumed"):
        recorded_source(tmp_path, tmp_path)


def frames_of(run_dir) -> list[np.ndarray]:
    return [np.asarray(Image.open(path)) for path in sorted((run_dir / "frames").glob("frame_*.png"))]


@pytest.mark.slow
def test_a_live_input_performance_replays_to_the_same_frames(tmp_path, monkeypatch):
    monkeypatch.setattr("render.live.output.LINGER_SECONDS", 0)
    clip = make_clip(tmp_path / "loop.mp4", "96x64", "12", 6, audio=False)
    live = tmp_path / "live_run"
    run(compose_preset("video_dream", [f"live.input={clip}", "live.enabled=true", "live.port=0", "width=96",
                                       "height=64", "dream.octaves=1", "dream.iterations=1", "frames=8",
                                       "dream.cadence=2", "live.record=true", "output.png_frames=true"]), live)
    assert (live / "live" / DREAMED_FILE).read_text().split() == ["0", "2", "4", "6"]
    cfg = replay_config(live, compose_preset("video_dream", []), [])
    assert cfg.live.input == str(live / "live" / SOURCE_FILE) and not cfg.live.enabled
    run(cfg, tmp_path / "replay")
    original, again = frames_of(live), frames_of(tmp_path / "replay")
    assert len(original) == len(again) == 8
    assert all(np.array_equal(a, b) for a, b in zip(original, again, strict=True))
