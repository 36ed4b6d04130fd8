"""Given frames: merging ``image`` into ``given_frames`` and laying them out as pixels."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from spacetime.errors import SpacetimeError
from spacetime.pipelines.given_frames import beyond_window, given_pixels, merge_given


def _frame(value: int, side: int = 8) -> np.ndarray:
    return np.full((side, side, 3), value, np.uint8)


def test_given_pixels_places_each_frame_and_counts_negative_indices_from_the_end() -> None:
    mask, pixels = given_pixels({0: _frame(255), -1: _frame(0)}, 5, (4, 4))
    assert mask.tolist() == [True, False, False, False, True]
    assert pixels.shape == (3, 5, 4, 4)
    assert torch.equal(pixels[:, 0], torch.ones(3, 4, 4))  # 255 -> +1
    assert torch.equal(pixels[:, 4], -torch.ones(3, 4, 4))  # 0 -> -1
    assert not pixels[:, 1:4].any()  # frames not given are zero


def test_given_pixels_resizes_like_training_data() -> None:
    wide = np.zeros((8, 16, 3), np.uint8)
    wide[:, 4:12] = 255  # the centre square is white: a center crop keeps only it
    mask, pixels = given_pixels({2: wide}, 3, (4, 4))
    assert mask.tolist() == [False, False, True]
    assert torch.allclose(pixels[:, 2], torch.ones(3, 4, 4))


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({5: _frame(1)}, "given frame index 5 is outside a 5-frame clip"),
        ({-6: _frame(1)}, "given frame index -6 is outside"),
        ({0: _frame(1).astype(np.float32)}, r"given frame 0 must be uint8 \(H, W, 3\)"),
        ({0: _frame(1)[..., :1]}, r"given frame 0 must be uint8 \(H, W, 3\)"),
    ],
)
def test_given_pixels_rejects_bad_frames(given: dict, message: str) -> None:
    with pytest.raises(SpacetimeError, match=message):
        given_pixels(given, 5, (4, 4))


def test_merge_given_shared_and_per_prompt() -> None:
    a, b, c = _frame(1), _frame(2), _frame(3)
    shared = merge_given(a, {-1: b}, 3)
    assert shared.keys() == {0, -1} and shared[0] is a  # image is frame 0
    rows = merge_given([a, None, c], None, 3)
    assert [sorted(r) for r in rows] == [[0], [], [0]]
    rows = merge_given(a, [{-1: b}, None], 2)  # a shared image joins every row
    assert [sorted(r) for r in rows] == [[-1, 0], [0]]
    with pytest.raises(SpacetimeError, match="image has 2 entries for 3 prompts"):
        merge_given([a, b], None, 3)


def test_beyond_window_offers_the_long_video_path() -> None:
    message = beyond_window(64, 16)
    assert "64 frames is more than the 16" in message and "--long" in message
