"""ShapesWorld vocabulary and geometry constants."""

from __future__ import annotations

import math

import pytest

from spacetime.data.shapes import BACKGROUNDS, COLORS, MOTIONS, SHAPES, SIZES, vocabulary
from spacetime.data.shapes.palette import (
    PATTERN_GRAYS,
    PILLAR_GRAY,
    PLAIN_GRAY,
    SHAPE_AREA,
    SHAPE_FILL,
    radius_px,
    speed_range_px,
)


def test_names_and_colours_are_the_contract():
    assert COLORS == {
        "red": (220, 40, 40),
        "green": (40, 180, 60),
        "blue": (40, 80, 220),
        "yellow": (230, 200, 40),
        "purple": (150, 60, 190),
        "cyan": (40, 190, 200),
    }
    assert SHAPES == ("circle", "square", "triangle")
    assert SIZES == ("small", "large")
    assert set(MOTIONS) == {
        "moves left",
        "moves right",
        "moves up",
        "moves down",
        "bounces",
        "stays still",
    }
    assert BACKGROUNDS == ("plain", "stripes", "checkered")
    assert PLAIN_GRAY == 128 and PILLAR_GRAY == (90, 90, 90)


def test_backgrounds_are_light_grays_far_from_pillar():
    for gray in (PLAIN_GRAY, *PATTERN_GRAYS):
        assert gray - PILLAR_GRAY[0] >= 38  # the oracle splits pillar and background at 19


@pytest.mark.parametrize("size", [32, 64, 100, 256])
def test_radius_and_speed_scale_with_resolution(size):
    assert radius_px("small", size) == pytest.approx(0.08 * size)
    assert radius_px("large", size) == pytest.approx(0.14 * size)
    lo, hi = speed_range_px(size, 8.0)
    assert (lo, hi) == pytest.approx((1.5 * size / 64, 3.0 * size / 64))
    # Speeds are quoted per second at 8 fps: twice the frame rate halves the motion per frame.
    assert speed_range_px(size, 16.0) == pytest.approx((lo / 2, hi / 2))


def test_shape_area_and_fill_follow_from_the_box_geometry():
    # Every shape lives in the 2r x 2r box: fill = area / (2r)^2.
    for shape in SHAPES:
        assert SHAPE_FILL[shape] == pytest.approx(SHAPE_AREA[shape] / 4.0)
    assert SHAPE_AREA["circle"] == pytest.approx(math.pi)


def test_vocabulary_covers_every_caption_word():
    words = set(vocabulary())
    assert vocabulary() == sorted(words)
    for name in (*COLORS, *SHAPES, *SIZES, "striped", "checkered", "pillar", "behind", "and"):
        assert name in words
    for motion in MOTIONS:
        assert set(motion.split()) <= words
