"""Tests for spacetime.contracts.frames: the one uint8 (T, H, W, 3) validator, as video I/O,
the metrics and the oracle call it."""

from __future__ import annotations

import numpy as np
import pytest

from spacetime.contracts.frames import check_frames
from spacetime.errors import SpacetimeError, VideoError
from spacetime.evaluation.metrics.context import check_clip
from spacetime.evaluation.oracle import score_video


@pytest.mark.parametrize(
    ("array", "needle"),
    [
        (np.zeros((2, 4, 4, 3), np.float32), "dtype float32"),
        (np.zeros((4, 4, 3), np.uint8), "(T, H, W, 3)"),
        (np.zeros((2, 3, 4, 4), np.uint8), "(T, H, W, 3)"),
        (np.zeros((0, 4, 4, 3), np.uint8), "T, H, W >= 1"),
    ],
)
def test_check_frames_rejects_wrong_arrays(array: np.ndarray, needle: str) -> None:
    with pytest.raises(VideoError, match="my clip") as info:
        check_frames(array, what="my clip")
    assert needle in str(info.value)
    assert isinstance(info.value, SpacetimeError)


def test_check_frames_returns_valid_arrays_without_copying() -> None:
    array = np.zeros((1, 2, 2, 3), np.uint8)
    assert check_frames(array) is array


def test_minimum_length_and_side_name_what_needs_them() -> None:
    clip = np.zeros((1, 8, 8, 3), np.uint8)
    with pytest.raises(VideoError, match=r"^temporal metrics need at least 2 frames, got 1"):
        check_frames(clip, min_frames=2, needs="temporal metrics")
    with pytest.raises(VideoError, match=r"^clip must have at least 2 frames, got 1"):
        check_frames(clip, what="clip", min_frames=2)
    with pytest.raises(VideoError, match=r"^frames must be at least 16x16 pixels for x, got 8x8"):
        check_frames(clip, min_side=16, needs="x")
    assert check_frames(clip, min_side=8) is clip


def test_lists_of_frames_are_arrays_and_other_types_say_what_they_are() -> None:
    frames = [np.zeros((4, 4, 3), np.uint8)] * 2
    assert check_frames(frames).shape == (2, 4, 4, 3)
    with pytest.raises(VideoError, match=r"got list \(not a numpy array\) of dtype int64"):
        check_frames([[0]])


def test_the_metrics_and_the_oracle_keep_their_minimums() -> None:
    with pytest.raises(SpacetimeError, match="at least 2 frames"):
        check_clip(np.zeros((1, 32, 32, 3), np.uint8))
    with pytest.raises(SpacetimeError, match="16x16"):
        check_clip(np.zeros((4, 8, 8, 3), np.uint8))
    with pytest.raises(SpacetimeError, match=r"score_video frames must be at least 8x8"):
        score_video(np.zeros((4, 4, 4, 3), np.uint8), "a red circle moves left")
