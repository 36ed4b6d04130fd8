"""Tests for spacetime.data.transforms: range mapping and resize + center-crop."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from spacetime.data.transforms import as_hw, resize_center_crop, to_model_range, to_uint8
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


def test_resize_center_crop_keeps_aspect_and_center() -> None:
    # A 40x80 frame whose left/right quarters are red/blue and middle half green: cropping the
    # center 20x20 after scaling to 20x40 keeps only the green part.
    frame = np.zeros((40, 80, 3), np.uint8)
    frame[:, :20, 0] = 255
    frame[:, 20:60, 1] = 255
    frame[:, 60:, 2] = 255
    out = resize_center_crop(frame[None], 20)
    assert out.shape == (1, 20, 20, 3)
    assert (out[..., 1] == 255).all() and (out[..., 0] == 0).all() and (out[..., 2] == 0).all()


def test_resize_to_rectangle_and_upscale() -> None:
    frames = np.random.default_rng(0).integers(0, 256, (3, 10, 12, 3), dtype=np.uint8)
    assert resize_center_crop(frames, (24, 16)).shape == (3, 24, 16, 3)
    assert np.array_equal(resize_center_crop(frames, (10, 12)), frames)


def test_bad_sizes_and_layouts_are_user_errors() -> None:
    assert as_hw(8) == (8, 8) and as_hw((4, 6)) == (4, 6)
    for bad in (0, (3, -1), "64", (1, 2, 3)):
        with pytest.raises(SpacetimeError, match="size"):
            as_hw(bad)  # type: ignore[arg-type]
    with pytest.raises(SpacetimeError, match=r"\(T, H, W, 3\)"):
        resize_center_crop(np.zeros((4, 4, 3), np.uint8), 2)
    with pytest.raises(SpacetimeError, match="uint8"):
        to_model_range(np.zeros((1, 4, 4, 3), np.float32))
