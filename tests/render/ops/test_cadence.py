"""Dream cadence: cadence 1 is the plain zoom; in-betweens follow the camera and blend toward the new dream."""

from __future__ import annotations

import pytest
import torch

from dream.errors import UserError
from render.ops.cadence import CadenceState, cadence_frame, check_cadence

SHIFT = torch.tensor([[[1.0, 0.0, 1.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]])  # one pixel to the right
STILL = torch.eye(3)[None]


def resample(frame: torch.Tensor, move: torch.Tensor) -> torch.Tensor:
    """A camera that only shifts by whole pixels, so moves are exact: roll by the matrix's x translation."""
    return torch.roll(frame, int(move[0, 0, 2]), dims=-1)


def brighten(frame: torch.Tensor) -> torch.Tensor:
    """A stand-in dream: a fixed, visible change."""
    return (frame + 0.1).clamp(0, 1)


def run(frames: int, cadence: int, start: torch.Tensor) -> tuple[list[torch.Tensor], list[int]]:
    """Frames made at ``cadence``, and the frame indices that were dreamed."""
    state, shown, dreamed, out = CadenceState(), start, [], []
    for index in range(frames):

        def dream(frame, index=index):
            dreamed.append(index)
            return brighten(frame)

        shown = cadence_frame(state, index, shown, SHIFT if index else STILL, resample, dream, cadence)
        out.append(shown)
    return out, dreamed


@pytest.fixture
def start() -> torch.Tensor:
    return torch.rand((1, 3, 4, 6), generator=torch.Generator().manual_seed(0)) * 0.5


def test_cadence_one_is_the_plain_zoom(start):
    frames, dreamed = run(5, 1, start)
    expected, frame = [], start
    for index in range(5):
        frame = brighten(torch.roll(frame, 1, -1) if index else frame)
        expected.append(frame)
    assert dreamed == [0, 1, 2, 3, 4]
    for got, want in zip(frames, expected):
        torch.testing.assert_close(got, want)


def test_cadence_n_dreams_every_nth_frame(start):
    _, dreamed = run(9, 4, start)
    assert dreamed == [0, 4, 8]


def test_in_betweens_follow_the_camera_and_blend_toward_the_new_dream(start):
    frames, _ = run(8, 4, start)
    first_dream = brighten(start)
    for j in (1, 2, 3):  # before the second dream: the first dream carried along by the camera
        torch.testing.assert_close(frames[j], torch.roll(first_dream, j, dims=-1))
    second_dream = brighten(torch.roll(frames[3], 1, -1))  # dreamed from the last shown frame moved once more
    for j in range(4):  # frames 4..7: from the old picture to the new dream, both moving with the camera
        weight = (j + 1) / 4
        want = torch.lerp(torch.roll(frames[3], j + 1, dims=-1), torch.roll(second_dream, j, dims=-1), weight)
        torch.testing.assert_close(frames[4 + j], want)


def test_each_in_between_is_resampled_once_from_the_dream(start):
    moves = []

    def counting(frame, move):
        moves.append(move.clone())
        return resample(frame, move)

    state = CadenceState()
    cadence_frame(state, 0, start, STILL, counting, brighten, 4)
    for index in (1, 2, 3):
        moves.clear()
        cadence_frame(state, index, start, SHIFT, counting, brighten, 4)
        assert len(moves) == 1 and int(moves[0][0, 0, 2]) == index  # the moves since the dream, composed


def test_state_survives_a_resume_point(start):
    state = CadenceState()
    for index in range(6):
        cadence_frame(state, index, start, SHIFT if index else STILL, resample, brighten, 4)
    restored = CadenceState.restore(state.snapshot(), torch.device("cpu"))
    assert (restored.key_index, restored.cadence) == (state.key_index, state.cadence)
    for name in ("previous", "previous_move", "latest", "latest_move"):
        torch.testing.assert_close(getattr(restored, name), getattr(state, name))


def test_a_snapshot_without_cadence_starts_afresh():
    assert CadenceState.restore({"frame": torch.zeros(1)}, torch.device("cpu")).latest is None


@pytest.mark.parametrize("value", [1, 4, 8])
def test_whole_cadences_are_valid(value):
    assert check_cadence(value, live=False) == value


@pytest.mark.parametrize("value", [0, 9, 2.5, "fast", True])
def test_bad_cadences_name_the_key(value):
    with pytest.raises(UserError, match=r"dream\.cadence"):
        check_cadence(value, live=True)


def test_auto_needs_a_live_stream():
    assert check_cadence("auto", live=True) == "auto"
    with pytest.raises(UserError, match="live.enabled=true"):
        check_cadence("auto", live=False)
