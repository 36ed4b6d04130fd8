"""Tests for spacetime.video.frames: the Video record, resizing, natural sort."""

from __future__ import annotations

import numpy as np
import pytest

from spacetime.errors import SpacetimeError
from spacetime.video import (
    Video,
    VideoError,
    natural_key,
    parse_size,
    resize_frame,
    resize_frames,
)


def test_video_properties() -> None:
    video = Video(np.zeros((10, 6, 8, 3), np.uint8), fps=4.0)
    assert (video.num_frames, video.height, video.width) == (10, 6, 8)
    assert video.duration == pytest.approx(2.5)
    assert video.path is None
    assert video == video and video != Video(video.frames, fps=4.0)  # identity, no array `==`


def test_video_rejects_bad_fps_and_frames() -> None:
    with pytest.raises(VideoError, match="fps"):
        Video(np.zeros((1, 2, 2, 3), np.uint8), fps=0.0)
    with pytest.raises(VideoError, match=r"Video\.frames"):
        Video(np.zeros((1, 2, 2), np.uint8), fps=8.0)


def test_parse_size() -> None:
    assert parse_size(None) is None
    assert parse_size(64) == (64, 64)
    assert parse_size((48, 80)) == (48, 80)
    for bad in (0, (10, 0), (1.5, 2), "64", (1, 2, 3), True):
        with pytest.raises(SpacetimeError, match="size"):
            parse_size(bad)  # type: ignore[arg-type]


def test_resize_shrinks_by_area_averaging() -> None:
    # 2x2 blocks of constant colour shrink to exactly their means (no aliasing).
    blocks = np.array([[10, 50], [90, 200]], np.uint8)
    image = np.repeat(np.repeat(blocks, 2, axis=0), 2, axis=1)
    image = np.repeat(image[..., None], 3, axis=2)  # (4, 4, 3)
    small = resize_frame(image, (2, 2))
    np.testing.assert_array_equal(small[..., 0], blocks)
    # A checkerboard averages to flat grey: area filtering, not point sampling.
    checker = (np.indices((8, 8)).sum(axis=0) % 2 * 255).astype(np.uint8)
    grey = resize_frame(np.repeat(checker[..., None], 3, axis=2), (4, 4))
    assert np.all(np.abs(grey.astype(int) - 128) <= 1)


def test_resize_frames_changes_every_frame_to_the_size() -> None:
    frames = np.random.default_rng(0).integers(0, 256, (3, 10, 20, 3), dtype=np.uint8)
    assert resize_frames(frames, (5, 7)).shape == (3, 5, 7, 3)
    assert resize_frames(frames, 16).shape == (3, 16, 16, 3)
    same = resize_frames(frames, (10, 20))
    np.testing.assert_array_equal(same, frames)


def test_natural_sort_orders_numbers_by_value() -> None:
    names = ["frame10.png", "frame2.png", "Frame3.png", "frame1.png", "frame02.png", "a.png"]
    ordered = sorted(names, key=natural_key)
    assert ordered == [
        "a.png",
        "frame1.png",
        "frame02.png",
        "frame2.png",
        "Frame3.png",
        "frame10.png",
    ]
