"""The calibration's footage and independent corruptions (benchmarks/calibration_*.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from calibration_clips import VARIANTS, shake, split_halves, static_walker
from calibration_corruptions import ALTERNATIVES, lossy_reencode


@pytest.fixture(scope="module")
def clip() -> np.ndarray:
    rng = np.random.default_rng(0)
    texture = rng.integers(0, 256, (40, 56, 3), dtype=np.uint8)
    texture = np.repeat(np.repeat(texture, 4, 0), 4, 1)  # (160, 224, 3): 4 px blocks
    return np.stack([texture[t : t + 72, 2 * t : 2 * t + 96] for t in range(12)])


def test_the_halves_alternate_in_name_order() -> None:
    paths = [Path(name) for name in ("c.mp4", "a.mp4", "d.mp4", "b.mp4", "e.mp4")]
    halves = split_halves(paths)
    assert [p.name for p in halves["tuning"]] == ["a.mp4", "c.mp4", "e.mp4"]
    assert [p.name for p in halves["reporting"]] == ["b.mp4", "d.mp4"]


@pytest.mark.parametrize("name", list(ALTERNATIVES))
def test_independent_corruptions_are_nested_and_zero_is_identity(clip, name) -> None:
    apply = ALTERNATIVES[name]
    assert np.array_equal(apply(clip, 0.0, seed=3), clip)
    changes = [np.abs(apply(clip, s, seed=3).astype(int) - clip).sum() for s in (0.25, 1.0)]
    assert 0 < changes[0] < changes[1]  # the same pattern, larger
    assert apply(clip, 0.5, seed=3).shape == clip.shape


def test_derived_variants_keep_the_clip_shape_and_move(clip) -> None:
    assert set(VARIANTS) == {"orig", "fast", "shake", "static", "pan", "crop"}
    shaken = shake(clip, seed=1)
    assert shaken.shape == clip.shape and not np.array_equal(shaken, clip)
    walker = static_walker(clip, seed=1)
    assert np.array_equal(walker[0], clip[0])  # frame 0 before the walker enters
    assert not np.array_equal(walker[-1], clip[0])  # ... and in, at the end


def test_lossy_reencode_keeps_the_shape_and_loses_detail(clip) -> None:
    out = lossy_reencode(clip)
    assert out.shape == clip.shape
    error = np.abs(out.astype(int) - clip).mean()
    assert 1.0 < error < 60.0
