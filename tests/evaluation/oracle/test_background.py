"""Background stability and pattern classification."""

from __future__ import annotations

import numpy as np
import pytest

from spacetime.data.shapes import generate
from spacetime.data.shapes.render import background_image
from spacetime.evaluation.oracle import (
    Thresholds,
    background_stability,
    classify_background,
    find_pillar,
)
from spacetime.evaluation.oracle.background import masked_median


def test_masked_median_matches_numpy_on_the_valid_values():
    rng = np.random.default_rng(0)
    values = rng.normal(size=(9, 5, 4))
    valid = rng.random((9, 5, 4)) < 0.6
    valid[:, 0, 0] = False  # a pixel never valid
    got = masked_median(values, valid)
    assert np.isnan(got[0, 0])
    for i in range(5):
        for j in range(4):
            if valid[:, i, j].any():
                assert got[i, j] == pytest.approx(np.median(values[valid[:, i, j], i, j]))


def _static(kind: str, frames: int = 12, size: int = 64) -> np.ndarray:
    img = np.rint(background_image(kind, size)).astype(np.uint8)
    return np.repeat(np.repeat(img[None, :, :, None], 3, axis=3), frames, axis=0)


@pytest.mark.parametrize("kind", ["plain", "stripes", "checkered"])
def test_static_backgrounds_are_stable_and_recognised(kind):
    frames = _static(kind)
    stability, median = background_stability(frames, None, Thresholds.for_video(64))
    assert stability == 1.0 and np.array_equal(median, frames[0])
    assert classify_background(median) == kind


def test_a_moving_pattern_is_unstable():
    frames = _static("checkered")
    frames[6:] = np.roll(frames[6:], 3, axis=2)  # the last half slides 3 px
    stability, _ = background_stability(frames, None, Thresholds.for_video(64))
    assert stability < 0.9


def test_objects_and_pillar_are_not_background():
    clip = generate(0, occluder=True)  # moving object, pillar, patterned background
    pillar = find_pillar(clip.video)
    stability, median = background_stability(clip.video, pillar, Thresholds.for_video(64))
    assert stability > 0.999
    assert classify_background(median) == clip.scene.background
    assert classify_background(np.full((8, 8, 3), np.nan)) is None
