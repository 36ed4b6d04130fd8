"""Tests for spacetime.data.augment: windows, strides, flips and caption mirroring."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from spacetime.data.augment import ClipWindow, TemporalAugment, hflip, mirror_caption
from spacetime.data.clip_dataset import generator
from spacetime.errors import SpacetimeError


@pytest.mark.parametrize(
    ("caption", "mirrored"),
    [
        ("a red circle moves left", "a red circle moves right"),
        ("Left to Right", "Right to Left"),
        ("MOVES LEFTWARDS, then rightward", "MOVES RIGHTWARDS, then leftward"),
        ("the leftmost square, right-handed", "the rightmost square, left-handed"),
        ("spins clockwise", "spins counterclockwise"),
        ("spins counter-clockwise or anticlockwise", "spins clockwise or clockwise"),
        ("leftover copyright brightness", "leftover copyright brightness"),
        ("", ""),
    ],
)
def test_mirror_caption(caption: str, mirrored: str) -> None:
    assert mirror_caption(caption) == mirrored


def test_mirror_caption_is_an_involution_on_left_right() -> None:
    caption = "a ball moves left while a box moves right, leftwards and rightmost"
    assert mirror_caption(mirror_caption(caption)) == caption


def test_hflip_mirrors_width_only() -> None:
    video = torch.arange(2 * 3 * 4 * 5, dtype=torch.float32).reshape(2, 3, 4, 5)
    flipped, caption = hflip(video, "goes left")
    assert caption == "goes right"
    assert torch.equal(flipped[..., 0], video[..., -1])
    assert torch.equal(flipped.flip(-1), video)


def test_window_indices_and_short_policies() -> None:
    window = ClipWindow(start=2, stride=3, frames=4)
    assert window.span == 10
    assert window.indices(20, "skip").tolist() == [2, 5, 8, 11]
    assert window.indices(7, "pad").tolist() == [2, 5, 6, 6]
    assert window.indices(7, "loop").tolist() == [2, 5, 1, 4]


def test_default_window_is_first_frames_at_stride_one() -> None:
    window = TemporalAugment().window(100, 8, generator(0))
    assert window == ClipWindow(0, 1, 8)


def test_window_draws_fit_and_cover_every_start_and_stride() -> None:
    aug = TemporalAugment(jitter=True, strides=(1, 2))
    seen = set()
    for seed in range(400):
        w = aug.window(12, 4, generator(seed))
        assert w.start + w.span <= 12
        seen.add((w.start, w.stride))
    # stride 1: starts 0..8; stride 2 (span 7): starts 0..5
    assert seen == {(s, 1) for s in range(9)} | {(s, 2) for s in range(6)}


def test_window_only_uses_strides_that_fit_and_falls_back_when_none_fits() -> None:
    aug = TemporalAugment(jitter=True, strides=(1, 4))
    assert {aug.window(10, 4, generator(s)).stride for s in range(50)} == {1}  # 4 needs 13
    assert aug.window(3, 4, generator(0)) == ClipWindow(0, 1, 4)
    assert aug.min_frames(4) == 4


def test_draws_are_deterministic_given_the_seed() -> None:
    aug = TemporalAugment.training()
    video = torch.randn(3, 2, 4, 4)
    a = [aug.window(50, 8, generator(7)), aug.maybe_flip(video, "left", generator(7))[1]]
    b = [aug.window(50, 8, generator(7)), aug.maybe_flip(video, "left", generator(7))[1]]
    assert a == b


def test_flip_probability_is_respected() -> None:
    video = torch.zeros(1, 1, 1, 2)
    never = TemporalAugment(flip=0.0)
    always = TemporalAugment(flip=1.0)
    half = TemporalAugment(flip=0.5)
    assert all(never.maybe_flip(video, "left", generator(s))[1] == "left" for s in range(20))
    assert all(always.maybe_flip(video, "left", generator(s))[1] == "right" for s in range(20))
    draws = [half.maybe_flip(video, "left", generator(s))[1] for s in range(400)]
    flips = np.mean([caption == "right" for caption in draws])
    assert 0.4 < flips < 0.6


def test_bad_settings_are_user_errors() -> None:
    with pytest.raises(SpacetimeError, match="strides"):
        TemporalAugment(strides=(0,))
    with pytest.raises(SpacetimeError, match="strides"):
        TemporalAugment(strides=())
    with pytest.raises(SpacetimeError, match="flip"):
        TemporalAugment(flip=1.5)
    with pytest.raises(SpacetimeError, match="frames"):
        TemporalAugment().window(10, 0, generator(0))
