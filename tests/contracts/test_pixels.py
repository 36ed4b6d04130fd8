"""Tests for spacetime.contracts.pixels: uint8 pixels <-> [-1, 1] floats."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from spacetime.contracts.pixels import to_model_range, to_uint8
from spacetime.errors import SpacetimeError


def test_uint8_round_trip_is_exact_and_range_is_minus_one_to_one() -> None:
    frames = np.arange(256, dtype=np.uint8).repeat(3).reshape(1, 16, 16, 3)
    video = to_model_range(frames)
    assert video.shape == (3, 1, 16, 16) and video.dtype == torch.float32
    assert video.min().item() == -1.0 and video.max().item() == 1.0
    assert np.array_equal(to_uint8(video), frames)
    batched = to_uint8(torch.stack([video, -video]))
    assert batched.shape == (2, 1, 16, 16, 3)
    assert np.array_equal(batched[1], 255 - frames)


def test_to_uint8_clips_out_of_range_values() -> None:
    video = torch.tensor([-3.0, -1.0, 0.0, 1.0, 2.5]).reshape(1, 1, 1, 5)
    assert to_uint8(video).reshape(-1).tolist() == [0, 0, 128, 255, 255]


def test_only_uint8_frames_are_converted() -> None:
    with pytest.raises(SpacetimeError, match="uint8"):
        to_model_range(np.zeros((1, 4, 4, 3), np.float32))
    with pytest.raises(ValueError, match=r"\(B, C, T, H, W\)"):
        to_uint8(torch.zeros(3, 4, 4))
