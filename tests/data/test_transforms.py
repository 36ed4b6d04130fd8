"""Tests for spacetime.data.transforms: resize + center-crop."""

from __future__ import annotations

import numpy as np
import pytest

from spacetime.data.transforms import as_hw, resize_center_crop
from spacetime.errors import SpacetimeError


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
