"""The oracle's tolerances follow from ShapesWorld's geometry."""

from __future__ import annotations

import math

import pytest

from spacetime.data.shapes.palette import SHAPE_AREA
from spacetime.evaluation.oracle import Thresholds


@pytest.mark.parametrize("size", [32, 64, 128, 256])
def test_thresholds_scale_with_resolution(size):
    base, lim = Thresholds.for_video(64), Thresholds.for_video(size)
    k = size / 64
    assert lim.r_small == pytest.approx(base.r_small * k)
    assert lim.v_max == pytest.approx(base.v_max * k)
    assert lim.teleport_jump == pytest.approx(base.teleport_jump * k)
    assert lim.size_area_split == pytest.approx(base.size_area_split * k * k)
    assert lim.reappear_tol == pytest.approx(base.reappear_tol * k)


def test_size_split_separates_every_small_shape_from_every_large_one():
    lim = Thresholds.for_video(64)
    small = [SHAPE_AREA[s] * lim.r_small**2 for s in SHAPE_AREA]
    large = [SHAPE_AREA[s] * lim.r_large**2 for s in SHAPE_AREA]
    assert max(small) < lim.size_area_split < min(large)
    assert lim.radius("small") == lim.r_small and lim.radius("large") == lim.r_large


def test_motion_tolerances_bracket_the_world_speeds():
    lim = Thresholds.for_video(64)
    assert (lim.v_min, lim.v_max) == pytest.approx((1.5, 3.0))
    assert lim.still_speed < lim.v_min  # slowest motion is not "still"
    corner_bounce = 2 * math.sqrt(2) * lim.v_max  # largest honest change of displacement
    assert corner_bounce < lim.teleport_jump < 0.25 * 64
    assert lim.accel_tol < lim.v_min  # stopping or reversing always breaks physics
    # Twice the frame rate halves the motion per frame and the motion tolerances.
    fast = Thresholds.for_video(64, fps=16.0)
    assert fast.v_max == pytest.approx(lim.v_max / 2) and fast.still_speed == pytest.approx(
        lim.still_speed / 2
    )
